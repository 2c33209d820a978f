/* SPDX-License-Identifier: MIT */
/*
 * The F and D ops of the RV64 translator, inline on the host's SSE unit.
 *
 * The F registers stay in the hart (h->f[]): each op reads its operands
 * from there and writes its result back, so helpers and exits never need
 * to be told about them.  Translated code runs with the host's MXCSR in
 * round-to-nearest-even, every exception masked and no FTZ/DAZ
 * (rv_jit_fp_enter()); the sticky flags it gathers there are never read.
 *
 * Flags without reading MXCSR.  An inline op is exact when it can raise
 * no flag that fflags does not already hold.  The only flag a common op
 * raises is inexact, so an op that can be inexact runs inline only once
 * fflags.NX is set (a guest's first inexact op takes the helper, which
 * sets it; nothing but a CSR write, which ends the block, clears it).  The
 * other flags come with results that are checked after the op:
 *  - invalid: the result is a NaN (an sNaN operand, inf - inf, 0 * inf,
 *    0 / 0, sqrt of a negative, an fma's inf * 0); comparisons with a
 *    NaN operand (unordered); conversions to integers out of range or of
 *    a NaN (x86's "integer indefinite" result);
 *  - divide by zero and overflow: the result is an infinity;
 *  - underflow (tiny after rounding, as on x86 and RISC-V alike, and
 *    inexact): the result is below the smallest normal or is that
 *    normal itself.  A sum or difference is exact whenever it is that
 *    small, so add, sub and sqrt only check for a NaN or an infinity;
 *    mul, div, fma and the narrowing conversion want a result of
 *    magnitude at least twice the smallest normal.
 * A failed check (and a NaN result, so RISC-V's canonical NaN is never
 * x86's propagated payload) jumps to a slow path that runs the whole op
 * in rv_fp_exec(), the interpreter's own, and rejoins; the inline code
 * has written nothing by then.  So has a single operand that is not
 * NaN-boxed, a rounding mode other than RNE (static, or dynamic with frm
 * not RNE: the ops that round check h->frm), and mstatus.FS Off (checked
 * by the block's first F/D slot: nothing in a block can turn it off).
 * The first slot that writes an F register sets FS Dirty as the
 * interpreter does (its slow path sets it itself); ops that write only
 * an integer register and raise nothing leave mstatus alone, as there.
 *
 * Inline: fadd, fsub, fmul, fdiv, fsqrt; fmadd, fmsub, fnmsub, fnmadd when
 * the host has FMA3 (one rounding, the fused result); fsgnj*, fmin/fmax
 * of ordered operands; feq, flt, fle; fmv between the files; fcvt
 * between the formats and from integers (an unsigned 64-bit one below
 * 2^63), and to integers in RNE or RTZ; flw, fld, fsw, fsd with the TLB
 * fast path.  The rest (fclass, other rounding modes) call the helper as
 * before.
 */
#include "rv-jit-fp.h"

#include <stddef.h>

#define OFF(f) ((int32_t)offsetof(struct vmc__rv_hart, f))
#define OFF_F(r) ((int32_t)(offsetof(struct vmc__rv_hart, f) + 8 * (r)))

enum { XMM0, XMM1 };
enum { RM_RNE, RM_RTZ, RM_RDN, RM_RUP, RM_RMM, RM_DYN = 7 };
/* What an op's checks need: a rounding mode that is RNE (or, for
 * conversions to integers, RTZ) and fflags.NX already set. */
enum { NEED_RM = 1, NEED_NX = 2 };

void rv_jit_fp_init(struct rv_jit_fp *st)
{
	*st = (struct rv_jit_fp){0};
#if defined(__x86_64__)
	__builtin_cpu_init();
	st->fma = __builtin_cpu_supports("fma");
#endif
}

void rv_jit_fp_enter(struct vmc__rv_hart *h)
{
#if defined(__x86_64__)
	uint32_t c = 0x1f80u;

	if (h->host_rne)
		return;
	__asm__ volatile("ldmxcsr %0" : : "m"(c));
	/* The interpreter's fast paths hold in this mode too. */
	h->host_rne = true;
#else
	(void)h;
#endif
}

static bool is_single(unsigned op)
{
	switch (op) {
	case VMC__RV_OP_FMADD_S:
	case VMC__RV_OP_FMSUB_S:
	case VMC__RV_OP_FNMSUB_S:
	case VMC__RV_OP_FNMADD_S:
	case VMC__RV_OP_FADD_S:
	case VMC__RV_OP_FSUB_S:
	case VMC__RV_OP_FMUL_S:
	case VMC__RV_OP_FDIV_S:
	case VMC__RV_OP_FSQRT_S:
	case VMC__RV_OP_FSGNJ_S:
	case VMC__RV_OP_FSGNJN_S:
	case VMC__RV_OP_FSGNJX_S:
	case VMC__RV_OP_FMIN_S:
	case VMC__RV_OP_FMAX_S:
	case VMC__RV_OP_FEQ_S:
	case VMC__RV_OP_FLT_S:
	case VMC__RV_OP_FLE_S:
	case VMC__RV_OP_FCVT_W_S:
	case VMC__RV_OP_FCVT_WU_S:
	case VMC__RV_OP_FCVT_L_S:
	case VMC__RV_OP_FCVT_LU_S:
	case VMC__RV_OP_FCVT_S_W:
	case VMC__RV_OP_FCVT_S_WU:
	case VMC__RV_OP_FCVT_S_L:
	case VMC__RV_OP_FCVT_S_LU:
	case VMC__RV_OP_FCVT_D_S:
		return true;
	default:
		return false;
	}
}

/* The checks op needs (NEED_*), or -1 when it is not translated inline.
 * rm is the instruction's rounding-mode field. */
static int needs(const struct rv_jit_fp *st, unsigned op, unsigned rm)
{
	switch (op) {
	case VMC__RV_OP_FLW:
	case VMC__RV_OP_FLD:
	case VMC__RV_OP_FSW:
	case VMC__RV_OP_FSD:
	case VMC__RV_OP_FSGNJ_S:
	case VMC__RV_OP_FSGNJN_S:
	case VMC__RV_OP_FSGNJX_S:
	case VMC__RV_OP_FSGNJ_D:
	case VMC__RV_OP_FSGNJN_D:
	case VMC__RV_OP_FSGNJX_D:
	case VMC__RV_OP_FMIN_S:
	case VMC__RV_OP_FMAX_S:
	case VMC__RV_OP_FMIN_D:
	case VMC__RV_OP_FMAX_D:
	case VMC__RV_OP_FEQ_S:
	case VMC__RV_OP_FLT_S:
	case VMC__RV_OP_FLE_S:
	case VMC__RV_OP_FEQ_D:
	case VMC__RV_OP_FLT_D:
	case VMC__RV_OP_FLE_D:
	case VMC__RV_OP_FMV_X_W:
	case VMC__RV_OP_FMV_X_D:
	case VMC__RV_OP_FMV_W_X:
	case VMC__RV_OP_FMV_D_X:
		return 0; /* funct3 is no rounding mode */
	default:
		break;
	}
	/* A reserved static mode is illegal: the helper says so. */
	if (rm == 5 || rm == 6)
		return -1;
	switch (op) {
	case VMC__RV_OP_FMADD_S:
	case VMC__RV_OP_FMSUB_S:
	case VMC__RV_OP_FNMSUB_S:
	case VMC__RV_OP_FNMADD_S:
	case VMC__RV_OP_FMADD_D:
	case VMC__RV_OP_FMSUB_D:
	case VMC__RV_OP_FNMSUB_D:
	case VMC__RV_OP_FNMADD_D:
		if (!st->fma)
			return -1;
		/* fall through */
	case VMC__RV_OP_FADD_S:
	case VMC__RV_OP_FSUB_S:
	case VMC__RV_OP_FMUL_S:
	case VMC__RV_OP_FDIV_S:
	case VMC__RV_OP_FSQRT_S:
	case VMC__RV_OP_FADD_D:
	case VMC__RV_OP_FSUB_D:
	case VMC__RV_OP_FMUL_D:
	case VMC__RV_OP_FDIV_D:
	case VMC__RV_OP_FSQRT_D:
	case VMC__RV_OP_FCVT_S_D:
	case VMC__RV_OP_FCVT_S_W:
	case VMC__RV_OP_FCVT_S_WU:
	case VMC__RV_OP_FCVT_S_L:
	case VMC__RV_OP_FCVT_S_LU:
	case VMC__RV_OP_FCVT_D_L:
	case VMC__RV_OP_FCVT_D_LU:
		if (rm != RM_RNE && rm != RM_DYN)
			return -1;
		return NEED_RM | NEED_NX;
	case VMC__RV_OP_FCVT_W_S:
	case VMC__RV_OP_FCVT_WU_S:
	case VMC__RV_OP_FCVT_L_S:
	case VMC__RV_OP_FCVT_LU_S:
	case VMC__RV_OP_FCVT_W_D:
	case VMC__RV_OP_FCVT_WU_D:
	case VMC__RV_OP_FCVT_L_D:
	case VMC__RV_OP_FCVT_LU_D:
		/* RTZ (C's casts) as cvtt*, RNE on MXCSR's mode. */
		if (rm != RM_RNE && rm != RM_RTZ && rm != RM_DYN)
			return -1;
		return NEED_RM | NEED_NX;
	case VMC__RV_OP_FCVT_D_W:
	case VMC__RV_OP_FCVT_D_WU:
	case VMC__RV_OP_FCVT_D_S:
		/* Exact in every mode; a dynamic one must still be valid,
		 * so it is held to RNE as the others. */
		return rm == RM_DYN ? NEED_RM : 0;
	default:
		return -1;
	}
}

bool rv_jit_fp_inlines(const struct rv_jit_fp *st, const struct rv_insn *in)
{
#if defined(__x86_64__)
	return needs(st, in->op, (in->raw >> 12) & 7) >= 0;
#else
	(void)st;
	(void)in;
	return false;
#endif
}

uint64_t rv_jit_fp_xregs(const struct rv_insn *in, uint64_t *written)
{
	uint64_t m = 0;

	*written = 0;
	switch (in->op) {
	case VMC__RV_OP_FLW:
	case VMC__RV_OP_FLD:
	case VMC__RV_OP_FSW:
	case VMC__RV_OP_FSD:
	case VMC__RV_OP_FCVT_S_W:
	case VMC__RV_OP_FCVT_S_WU:
	case VMC__RV_OP_FCVT_S_L:
	case VMC__RV_OP_FCVT_S_LU:
	case VMC__RV_OP_FCVT_D_W:
	case VMC__RV_OP_FCVT_D_WU:
	case VMC__RV_OP_FCVT_D_L:
	case VMC__RV_OP_FCVT_D_LU:
	case VMC__RV_OP_FMV_W_X:
	case VMC__RV_OP_FMV_D_X:
		m = 1ull << in->rs1;
		break;
	default:
		break;
	}
	if (vmc__rv_op_writes_rd(in->op)) {
		m |= 1ull << in->rd;
		*written = 1ull << in->rd;
	}
	return m;
}

/* ------------------------------------------------------------------------
 * SSE encodings
 */

/* pfx 0f op with xmm (or a general register) reg and [rbp + disp]. */
static void sse_m(struct jx *j, uint8_t pfx, bool w, uint8_t op, unsigned reg,
		  int32_t disp)
{
	if (!jx_room(j, 16))
		return;
	if (pfx)
		jx_b(j, pfx);
	jx_rex(j, w, reg, 0, RBP, false);
	jx_b(j, 0x0f);
	jx_b(j, op);
	jx_modmem(j, reg, RBP, disp);
}

/* pfx 0f op reg, rm in register form. */
static void sse_r(struct jx *j, uint8_t pfx, bool w, uint8_t op, unsigned reg,
		  unsigned rm)
{
	if (!jx_room(j, 16))
		return;
	if (pfx)
		jx_b(j, pfx);
	jx_rex(j, w, reg, 0, rm, false);
	jx_b(j, 0x0f);
	jx_b(j, op);
	jx_modrr(j, reg, rm);
}

/* vfm*231s[sd] xmm0, xmm1, [rbp + disp]: VEX.LIG.66.0F38.W(d) op. */
static void vfma_m(struct jx *j, bool dbl, uint8_t op, int32_t disp)
{
	if (!jx_room(j, 16))
		return;
	jx_b(j, 0xc4);
	jx_b(j, 0xe2); /* R X B set (xmm0, no index, rbp), map 0F38 */
	jx_b(j, (uint8_t)((dbl ? 0x80 : 0) | (~XMM1 & 15) << 3 | 1));
	jx_b(j, op);
	jx_modmem(j, XMM0, RBP, disp);
}

/* ------------------------------------------------------------------------
 * Checks
 */

struct fpe {
	struct jc *c;
	struct jx *j;
	struct rv_jit_fp *st;
	const struct rv_insn *in;
};

static void fail(struct fpe *e, unsigned cc)
{
	rv_jit_slow_fail(e->c, jx_jcc_fwd(e->j, cc));
}

/* cmp dword [rbp + disp], imm8; fail on cc. */
static void fail_cmp_mem(struct fpe *e, int32_t disp, int8_t imm, unsigned cc)
{
	jx_mem(e->j, false, 0x83, 7, RBP, disp, false);
	if (jx_room(e->j, 1))
		jx_b(e->j, (uint8_t)imm);
	fail(e, cc);
}

/* A single operand that is not NaN-boxed reads as the canonical NaN: the
 * helper's case. */
static void check_box(struct fpe *e, unsigned f)
{
	fail_cmp_mem(e, OFF_F(f) + 4, -1, CC_NE);
}

/* The result's biased exponent in eax from xmm0 (clobbers rax). */
static void exponent(struct fpe *e, bool dbl)
{
	struct jx *j = e->j;

	if (dbl) {
		sse_r(j, 0x66, true, 0x7e, XMM0, RAX); /* movq rax, xmm0 */
		jx_alu(j, true, ALU_ADD, RAX, RAX);
		jx_shi(j, true, SH_SHR, RAX, 53);
	} else {
		sse_r(j, 0x66, false, 0x7e, XMM0, RAX); /* movd eax, xmm0 */
		jx_alu(j, false, ALU_ADD, RAX, RAX);
		jx_shi(j, false, SH_SHR, RAX, 24);
	}
}

/* Fail unless xmm0 is finite (no NaN, no infinity). */
static void check_finite(struct fpe *e, bool dbl)
{
	exponent(e, dbl);
	jx_alui(e->j, false, ALU_CMP, RAX, dbl ? 0x7ff : 0xff);
	fail(e, CC_E);
}

/* Fail unless xmm0 is finite with a magnitude of at least twice the
 * smallest normal: then it was neither tiny nor overflowed. */
static void check_normal(struct fpe *e, bool dbl)
{
	exponent(e, dbl);
	jx_alui(e->j, false, ALU_SUB, RAX, 2);
	jx_alui(e->j, false, ALU_CMP, RAX, dbl ? 0x7ff - 2 : 0xff - 2);
	fail(e, CC_AE);
}

/* For a product: fail unless xmm0 passes check_normal() or is a zero
 * with a zero operand (exact: no underflow). */
static void check_product(struct fpe *e, bool dbl)
{
	struct jx *j = e->j;
	uint8_t *ok1, *ok2;

	exponent(e, dbl);
	jx_alui(j, false, ALU_SUB, RAX, 2);
	jx_alui(j, false, ALU_CMP, RAX, dbl ? 0x7ff - 2 : 0xff - 2);
	ok1 = jx_jcc_fwd(j, CC_B);
	/* A zero result (all bits but the sign clear)... */
	sse_r(j, 0x66, dbl, 0x7e, XMM0, RAX); /* movq rax / movd eax */
	jx_alu(j, dbl, ALU_ADD, RAX, RAX);
	fail(e, CC_NE);
	/* ...from a zero operand. */
	jx_mem(j, dbl, 0x8b, RAX, RBP, OFF_F(e->in->rs1), false);
	jx_alu(j, dbl, ALU_ADD, RAX, RAX);
	ok2 = jx_jcc_fwd(j, CC_E);
	jx_mem(j, dbl, 0x8b, RAX, RBP, OFF_F(e->in->rs2), false);
	jx_alu(j, dbl, ALU_ADD, RAX, RAX);
	fail(e, CC_NE);
	jx_patch_here(j, ok1);
	jx_patch_here(j, ok2);
}

/* Store xmm0 to f[rd] (a single's box is in its upper half already). */
static void store_f(struct fpe *e)
{
	sse_m(e->j, 0x66, false, 0xd6, XMM0, OFF_F(e->in->rd & 31));
}

/* The first slot of the block that writes an F register sets FS Dirty
 * (and SD); the slow path's helper does it itself. */
static void set_dirty(struct fpe *e)
{
	if (e->st->dirty_set)
		return;
	jx_movi(e->j, RAX, MSTATUS_FS | MSTATUS_SD);
	jx_mem(e->j, true, 0x09, RAX, RBP, OFF(mstatus), false); /* or */
	e->st->dirty_set = true;
}

/* The checks before the op: FS, the rounding mode, fflags.NX. */
static void prologue(struct fpe *e, int need)
{
	struct jx *j = e->j;
	unsigned rm = (e->in->raw >> 12) & 7;

	if (!e->st->fs_checked) {
		/* test dword [rbp + mstatus], FS */
		jx_mem(j, false, 0xf7, 0, RBP, OFF(mstatus), false);
		if (jx_room(j, 4))
			jx_d(j, (uint32_t)MSTATUS_FS);
		fail(e, CC_E);
		e->st->fs_checked = true;
	}
	if ((need & NEED_RM) && rm == RM_DYN)
		fail_cmp_mem(e, OFF(frm), 0, CC_NE);
	if (need & NEED_NX) {
		/* test byte [rbp + fflags], NX */
		jx_mem(j, false, 0xf6, 0, RBP, OFF(fflags), false);
		if (jx_room(j, 1))
			jx_b(j, 1);
		fail(e, CC_E);
	}
}

/* ------------------------------------------------------------------------
 * The ops
 */

static void arith(struct fpe *e, uint8_t sseop, bool dbl, bool normal)
{
	struct jx *j = e->j;
	const struct rv_insn *in = e->in;

	if (!dbl) {
		check_box(e, in->rs1);
		if (sseop != 0x51)
			check_box(e, in->rs2);
	}
	if (sseop == 0x51) {
		if (dbl) {
			sse_m(j, 0xf2, false, 0x51, XMM0, OFF_F(in->rs1));
		} else {
			/* The box: all ones above the single. */
			sse_r(j, 0x66, false, 0x76, XMM0, XMM0);
			sse_m(j, 0xf3, false, 0x51, XMM0, OFF_F(in->rs1));
		}
	} else {
		/* movsd / movq (keeps the box) xmm0, rs1; op xmm0, rs2 */
		sse_m(j, 0xf3, false, 0x7e, XMM0, OFF_F(in->rs1));
		sse_m(j, dbl ? 0xf2 : 0xf3, false, sseop, XMM0, OFF_F(in->rs2));
	}
	if (sseop == 0x59)
		check_product(e, dbl);
	else if (normal)
		check_normal(e, dbl);
	else
		check_finite(e, dbl);
	store_f(e);
	set_dirty(e);
}

static void fused(struct fpe *e, bool dbl)
{
	struct jx *j = e->j;
	const struct rv_insn *in = e->in;
	unsigned rs3 = in->raw >> 27, k;
	/* RISC-V's fnmsub is -(a * b) + c, x86's vfnmadd; fnmadd is x86's
	 * vfnmsub.  231: xmm0 = xmm1 * mem + xmm0. */
	static const uint8_t ops[4] = {0xb9, 0xbb, 0xbd, 0xbf};

	k = in->op - (dbl ? VMC__RV_OP_FMADD_D : VMC__RV_OP_FMADD_S);
	if (!dbl) {
		check_box(e, in->rs1);
		check_box(e, in->rs2);
		check_box(e, rs3);
	}
	sse_m(j, 0xf3, false, 0x7e, XMM0, OFF_F(rs3)); /* movq: the box */
	sse_m(j, 0xf3, false, 0x7e, XMM1, OFF_F(in->rs1));
	vfma_m(j, dbl, ops[k], OFF_F(in->rs2));
	check_normal(e, dbl);
	store_f(e);
	set_dirty(e);
}

static void sgnj(struct fpe *e, unsigned kind, bool dbl)
{
	struct jx *j = e->j;
	const struct rv_insn *in = e->in;
	unsigned bit = dbl ? 63 : 31;

	if (!dbl) {
		check_box(e, in->rs1);
		if (in->rs2 != in->rs1)
			check_box(e, in->rs2);
	}
	jx_ld(j, RAX, RBP, OFF_F(in->rs1));
	if (in->rs1 == in->rs2) {
		/* fmv, fneg, fabs */
		if (kind && jx_room(j, 8)) {
			jx_rex(j, true, 0, 0, RAX, false);
			jx_b(j, 0x0f);
			jx_b(j, 0xba);
			jx_modrr(j, kind == 1 ? 7 : 6, RAX); /* btc / btr */
			jx_b(j, (uint8_t)bit);
		}
	} else {
		jx_ld(j, RCX, RBP, OFF_F(in->rs2));
		if (kind == 2)
			jx_alu(j, true, ALU_XOR, RCX, RAX);
		else if (kind == 1)
			jx_grp3(j, true, 2, RCX); /* not */
		if (jx_room(j, 8)) {
			jx_rex(j, true, 0, 0, RAX, false);
			jx_b(j, 0x0f);
			jx_b(j, 0xba);
			jx_modrr(j, 6, RAX); /* btr rax, bit */
			jx_b(j, (uint8_t)bit);
		}
		if (dbl) {
			jx_shi(j, true, SH_SHR, RCX, 63);
			jx_shi(j, true, SH_SHL, RCX, 63);
		} else {
			jx_alui(j, false, ALU_AND, RCX, (int32_t)0x80000000u);
		}
		jx_alu(j, true, ALU_OR, RAX, RCX);
	}
	jx_st(j, RAX, RBP, OFF_F(in->rd & 31));
	set_dirty(e);
}

/* Load xmm0 with rs1 (and xmm1 with rs2 when both_regs): a compare's
 * single as movss, a double as movsd; min/max's as movq, the box with
 * them. */
static void load2(struct fpe *e, bool dbl, bool both_regs)
{
	struct jx *j = e->j;
	const struct rv_insn *in = e->in;
	uint8_t pfx = dbl ? 0xf2 : 0xf3;

	if (!dbl) {
		check_box(e, in->rs1);
		check_box(e, in->rs2);
	}
	if (!both_regs) {
		sse_m(j, pfx, false, 0x10, XMM0, OFF_F(in->rs1));
		return;
	}
	sse_m(j, 0xf3, false, 0x7e, XMM0, OFF_F(in->rs1)); /* movq */
	sse_m(j, 0xf3, false, 0x7e, XMM1, OFF_F(in->rs2));
}

static void minmax(struct fpe *e, bool max, bool dbl)
{
	struct jx *j = e->j;

	uint8_t *ne, *done;

	load2(e, dbl, true);
	/* ucomis[sd] xmm0, xmm1: unordered is the helper's case (a NaN
	 * operand); equal ones (or zeros of either sign) give the AND of
	 * the two for max, the OR for min (-0 < +0), boxes and all; else
	 * min/max is the one that is less. */
	sse_r(j, dbl ? 0x66 : 0, false, 0x2e, XMM0, XMM1);
	fail(e, CC_P);
	ne = jx_jcc_fwd(j, CC_NE);
	sse_r(j, 0x66, false, max ? 0xdb : 0xeb, XMM0, XMM1); /* pand/por */
	done = jx_jmp_fwd(j);
	jx_patch_here(j, ne);
	sse_r(j, dbl ? 0xf2 : 0xf3, false, max ? 0x5f : 0x5d, XMM0, XMM1);
	jx_patch_here(j, done);
	store_f(e);
	set_dirty(e);
}

/* feq (kind 2), flt (1), fle (0): the result in rax. */
static void compare(struct fpe *e, unsigned kind, bool dbl)
{
	struct jx *j = e->j;
	static const unsigned cc[3] = {CC_BE, CC_B, CC_E};

	load2(e, dbl, false);
	jx_movi(j, RAX, 0);
	sse_m(j, dbl ? 0x66 : 0, false, 0x2e, XMM0, OFF_F(e->in->rs2));
	fail(e, CC_P); /* a NaN: flags by the helper */
	jx_setcc(j, cc[kind], RAX);
}

/* fcvt.{w,wu,l,lu}.[sd] (kind 0-3) in RNE or RTZ: the result in rax. */
static void to_int(struct fpe *e, bool dbl, unsigned kind)
{
	struct jx *j = e->j;
	unsigned rm = (e->in->raw >> 12) & 7;

	if (!dbl)
		check_box(e, e->in->rs1);
	/* cvt[t]s[sd]2si: x86's integer indefinite (the most negative)
	 * for a NaN or out of range, the helper's case; the unsigned ones
	 * convert to 64 bits and fail outside their range. */
	sse_m(j, dbl ? 0xf2 : 0xf3, kind != 0, rm == RM_RTZ ? 0x2c : 0x2d, RAX,
	      OFF_F(e->in->rs1));
	switch (kind) {
	case 0:
	case 2:
		/* cmp rax, 1 overflows for the most negative only */
		jx_alui(j, kind == 2, ALU_CMP, RAX, 1);
		fail(e, CC_O);
		break;
	case 1:
		jx_mov(j, RCX, RAX);
		jx_shi(j, true, SH_SHR, RCX, 32);
		fail(e, CC_NE);
		break;
	default:
		jx_rr(j, true, 0x85, RAX, RAX); /* test rax, rax */
		fail(e, CC_S);
		break;
	}
	if (kind < 2)
		jx_movsxd(j, RAX, RAX);
}

/* fcvt.[sd].{w,wu,l,lu} (kind 0-3) from x register a; lu only below
 * 2^63. */
static void from_int(struct fpe *e, unsigned a, unsigned kind, bool dbl)
{
	struct jx *j = e->j;

	if (kind == 3) {
		jx_rr(j, true, 0x85, a, a); /* test a, a */
		fail(e, CC_S);
		kind = 2;
	}
	if (!dbl)
		sse_r(j, 0x66, false, 0x76, XMM0, XMM0); /* the box */
	if (kind == 1) {
		jx_mov32(j, RAX, a);
		a = RAX;
	}
	sse_r(j, dbl ? 0xf2 : 0xf3, kind != 0, 0x2a, XMM0, a);
	store_f(e);
	set_dirty(e);
}

/* The TLB fast path of an F load or store at a + imm, as the
 * interpreter's: the entry's tag for the access must equal the address's
 * page with the low bits of a misaligned one.  Leaves the host address
 * in rax (rcx clobbered); fails to the slow path otherwise. */
static void tlb(struct fpe *e, unsigned a, unsigned size, bool store)
{
	struct jx *j = e->j;

	_Static_assert(sizeof(struct rv_tlbe) == 64, "TLB entry size");
	/* lea rax, [a + imm]; ecx = ((va >> 12) & (TLB_SIZE - 1)) * 64 */
	jx_mem(j, true, 0x8d, RAX, a, (int32_t)e->in->imm, false);
	jx_mov32(j, RCX, RAX);
	jx_shi(j, false, SH_SHR, RCX, RV_PAGE_SHIFT - 6);
	jx_alui(j, false, ALU_AND, RCX, (TLB_SIZE - 1) << 6);
	jx_mem(j, true, 0x03, RCX, RBP, OFF(dtlb), false); /* add rcx, [] */
	/* The tag against va's page and misaligned low bits. */
	jx_alui(j, true, ALU_AND, RAX, (int32_t)(RV_PAGE_MASK | (size - 1)));
	jx_mem(j, true, 0x3b, RAX, RCX,
	       (int32_t)(offsetof(struct rv_tlbe, tag) +
			 8 * (store ? ACC_W : ACC_R)),
	       false);
	fail(e, CC_NE);
	/* Hit: va again, plus the entry's addend. */
	jx_mem(j, true, 0x8d, RAX, a, (int32_t)e->in->imm, false);
	jx_mem(j, true, 0x03, RAX, RCX,
	       (int32_t)offsetof(struct rv_tlbe, addend), false);
}

static void mem(struct fpe *e, unsigned a)
{
	struct jx *j = e->j;
	const struct rv_insn *in = e->in;
	unsigned op = in->op;
	bool store = op == VMC__RV_OP_FSW || op == VMC__RV_OP_FSD;
	bool word = op == VMC__RV_OP_FLW || op == VMC__RV_OP_FSW;

	tlb(e, a, word ? 4 : 8, store);
	if (store) {
		jx_mem(j, !word, 0x8b, RCX, RBP, OFF_F(in->rs2), false);
		jx_mem(j, !word, 0x89, RCX, RAX, 0, false);
		return;
	}
	jx_mem(j, !word, 0x8b, RAX, RAX, 0, false);
	if (word) {
		jx_movi(j, RCX, 0xffffffff00000000ull);
		jx_alu(j, true, ALU_OR, RAX, RCX);
	}
	jx_st(j, RAX, RBP, OFF_F(in->rd & 31));
	set_dirty(e);
}

bool rv_jit_fp_emit(struct jc *c, struct rv_jit_fp *st,
		    const struct rv_insn *in)
{
	struct fpe e = {c, rv_jit_jx(c), st, in};
	struct jx *j = e.j;
	unsigned op = in->op, a = 0;
	int need;
	bool dbl, wx = vmc__rv_op_writes_rd(op);

	if (!rv_jit_fp_inlines(st, in))
		return false;
	need = needs(st, op, (in->raw >> 12) & 7);
	dbl = !is_single(op);
	/* The integer operand first: the slow path's allocation is the one
	 * after it. */
	if (rv_jit_fp_xregs(in, &(uint64_t){0}) & (1ull << in->rs1))
		a = rv_jit_src(c, in->rs1);
	rv_jit_slow_begin(c, in);
	prologue(&e, need);
	switch (op) {
	case VMC__RV_OP_FLW:
	case VMC__RV_OP_FLD:
	case VMC__RV_OP_FSW:
	case VMC__RV_OP_FSD:
		mem(&e, a);
		break;
	case VMC__RV_OP_FADD_S:
	case VMC__RV_OP_FADD_D:
		arith(&e, 0x58, dbl, false);
		break;
	case VMC__RV_OP_FSUB_S:
	case VMC__RV_OP_FSUB_D:
		arith(&e, 0x5c, dbl, false);
		break;
	case VMC__RV_OP_FMUL_S:
	case VMC__RV_OP_FMUL_D:
		arith(&e, 0x59, dbl, true);
		break;
	case VMC__RV_OP_FDIV_S:
	case VMC__RV_OP_FDIV_D:
		arith(&e, 0x5e, dbl, true);
		break;
	case VMC__RV_OP_FSQRT_S:
	case VMC__RV_OP_FSQRT_D:
		arith(&e, 0x51, dbl, false);
		break;
	case VMC__RV_OP_FMADD_S:
	case VMC__RV_OP_FMSUB_S:
	case VMC__RV_OP_FNMSUB_S:
	case VMC__RV_OP_FNMADD_S:
	case VMC__RV_OP_FMADD_D:
	case VMC__RV_OP_FMSUB_D:
	case VMC__RV_OP_FNMSUB_D:
	case VMC__RV_OP_FNMADD_D:
		fused(&e, dbl);
		break;
	case VMC__RV_OP_FSGNJ_S:
	case VMC__RV_OP_FSGNJN_S:
	case VMC__RV_OP_FSGNJX_S:
		sgnj(&e, op - VMC__RV_OP_FSGNJ_S, false);
		break;
	case VMC__RV_OP_FSGNJ_D:
	case VMC__RV_OP_FSGNJN_D:
	case VMC__RV_OP_FSGNJX_D:
		sgnj(&e, op - VMC__RV_OP_FSGNJ_D, true);
		break;
	case VMC__RV_OP_FMIN_S:
	case VMC__RV_OP_FMAX_S:
		minmax(&e, op == VMC__RV_OP_FMAX_S, false);
		break;
	case VMC__RV_OP_FMIN_D:
	case VMC__RV_OP_FMAX_D:
		minmax(&e, op == VMC__RV_OP_FMAX_D, true);
		break;
	case VMC__RV_OP_FEQ_S:
	case VMC__RV_OP_FLT_S:
	case VMC__RV_OP_FLE_S:
	case VMC__RV_OP_FEQ_D:
	case VMC__RV_OP_FLT_D:
	case VMC__RV_OP_FLE_D:
		compare(&e, (in->raw >> 12) & 3, dbl);
		break;
	case VMC__RV_OP_FCVT_W_S:
	case VMC__RV_OP_FCVT_WU_S:
	case VMC__RV_OP_FCVT_L_S:
	case VMC__RV_OP_FCVT_LU_S:
		to_int(&e, false, op - VMC__RV_OP_FCVT_W_S);
		break;
	case VMC__RV_OP_FCVT_W_D:
	case VMC__RV_OP_FCVT_WU_D:
	case VMC__RV_OP_FCVT_L_D:
	case VMC__RV_OP_FCVT_LU_D:
		to_int(&e, true, op - VMC__RV_OP_FCVT_W_D);
		break;
	case VMC__RV_OP_FCVT_S_W:
	case VMC__RV_OP_FCVT_S_WU:
	case VMC__RV_OP_FCVT_S_L:
	case VMC__RV_OP_FCVT_S_LU:
		from_int(&e, a, op - VMC__RV_OP_FCVT_S_W, false);
		break;
	case VMC__RV_OP_FCVT_D_W:
	case VMC__RV_OP_FCVT_D_WU:
	case VMC__RV_OP_FCVT_D_L:
	case VMC__RV_OP_FCVT_D_LU:
		from_int(&e, a, op - VMC__RV_OP_FCVT_D_W, true);
		break;
	case VMC__RV_OP_FCVT_S_D:
		sse_r(j, 0x66, false, 0x76, XMM0, XMM0); /* the box */
		sse_m(j, 0xf2, false, 0x5a, XMM0, OFF_F(in->rs1));
		check_normal(&e, false);
		store_f(&e);
		set_dirty(&e);
		break;
	case VMC__RV_OP_FCVT_D_S:
		check_box(&e, in->rs1);
		sse_m(j, 0xf3, false, 0x5a, XMM0, OFF_F(in->rs1));
		check_finite(&e, true);
		store_f(&e);
		set_dirty(&e);
		break;
	case VMC__RV_OP_FMV_X_W:
		jx_mem(j, true, 0x63, RAX, RBP, OFF_F(in->rs1), false);
		break;
	case VMC__RV_OP_FMV_X_D:
		jx_ld(j, RAX, RBP, OFF_F(in->rs1));
		break;
	case VMC__RV_OP_FMV_W_X:
		jx_mov32(j, RAX, a);
		jx_movi(j, RCX, 0xffffffff00000000ull);
		jx_alu(j, true, ALU_OR, RAX, RCX);
		jx_st(j, RAX, RBP, OFF_F(in->rd & 31));
		set_dirty(&e);
		break;
	case VMC__RV_OP_FMV_D_X:
		jx_st(j, a, RBP, OFF_F(in->rd & 31));
		set_dirty(&e);
		break;
	default:
		break;
	}
	rv_jit_slow_join(c);
	if (wx)
		jx_mov(j, rv_jit_def(c, in->rd), RAX);
	return true;
}
