/* SPDX-License-Identifier: MIT */
/*
 * The F and D ops of the RV64 translator (rv-jit-fp.c), and the services
 * of the translator (rv-jit.c) they are emitted with.
 *
 * An op is translated inline only where the host's SSE result and flags
 * are exactly the interpreter's (rv-fpu.c); every guard that fails jumps
 * to a slow path that runs the whole op in the interpreter's helper and
 * rejoins.  The contract is written at the top of rv-jit-fp.c.
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_JIT_FP_H
#define VMC_ACCEL_TCG_RISCV_RV_JIT_FP_H

#include "rv-jit-x86.h"
#include "rv-internal.h"

/* What the FP emitter knows of the block being translated (reset for
 * each attempt at it). */
struct rv_jit_fp {
	bool fs_checked; /* an earlier slot checked mstatus.FS != Off */
	bool dirty_set;	 /* an earlier slot set mstatus.FS Dirty */
	bool fma;	 /* the host has FMA3 */
};

/* The translator's state for one block (rv-jit.c). */
struct jc;

void rv_jit_fp_init(struct rv_jit_fp *st);

/* Whether rv_jit_fp_emit() translates in inline (else a helper call). */
bool rv_jit_fp_inlines(const struct rv_jit_fp *st, const struct rv_insn *in);

/* The guest integer registers an op rv_jit_fp_inlines() reads or writes
 * (bit 32 the sink), and in *written those it writes. */
uint64_t rv_jit_fp_xregs(const struct rv_insn *in, uint64_t *written);

/* Translate the F/D op in: false (nothing emitted) when it is left to a
 * helper call. */
bool rv_jit_fp_emit(struct jc *c, struct rv_jit_fp *st,
		    const struct rv_insn *in);

/* Before translated code runs: the host's MXCSR in the mode inline FP
 * assumes (RNE, all exceptions masked, no FTZ/DAZ); vmc__rv_run() puts
 * the host's own back when it returns. */
void rv_jit_fp_enter(struct vmc__rv_hart *h);

/* The translator's services (rv-jit.c).  Emitted code may clobber rax
 * and rcx (scratch) and the xmm registers, no other register. */
struct jx *rv_jit_jx(struct jc *c);
/* The host register holding guest register g for reading / writing. */
unsigned rv_jit_src(struct jc *c, unsigned g);
unsigned rv_jit_def(struct jc *c, unsigned g);
/* A slow path for slot in: begun once its operands are in host
 * registers (the allocation is taken then), given every jump into it,
 * joined where the inline code ends (rax holding x[rd] there for an op
 * that writes an integer register).  It runs the op in the helper. */
void rv_jit_slow_begin(struct jc *c, const struct rv_insn *in);
void rv_jit_slow_fail(struct jc *c, uint8_t *rel);
void rv_jit_slow_join(struct jc *c);

#endif
