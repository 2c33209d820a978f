/* SPDX-License-Identifier: MIT */
/*
 * The translator of RV64 blocks to x86-64 host code (rv-jit.c): what the
 * interpreter's loop (rv-interp.c) and the hart's life cycle (rv-cpu.c)
 * call.  The layout of the code and its contract are described at the
 * top of rv-jit.c.
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_JIT_H
#define VMC_ACCEL_TCG_RISCV_RV_JIT_H

#include "rv-exec.h"

/* What translated code returns to the interpreter's loop (any other value
 * is a chainable exit: see rv_jit_link()). */
enum {
	RV_JIT_OUT = 0,	  /* h->pc and h->retired are up to date */
	RV_JIT_EXC = 1,	  /* trap h->exc_* at h->pc, h->retired before it */
	RV_JIT_WATCH = 2, /* h->watch_stop: pc, retired past the access */
	/* Interpret slot h->jit_slot of block h->jit_from (an op the
	 * translator leaves to the interpreter), h->retired at the block's
	 * start: the same decoded slot, as if the block had been interpreted
	 * all along. */
	RV_JIT_SLOT = 3,
};

/* Whether this host translates, and whether the hart should: cfg_jit is
 * the config's VMC__RV_JIT_* and the VMC_TCG_JIT environment variable
 * ("0" or "1") overrides the default. */
bool rv_jit_wanted(int cfg_jit);
/* The run on which a block is translated: VMC_TCG_JIT_HOT=N (N >= 1) or
 * RV_JIT_HOT. */
unsigned rv_jit_hot_default(void);

/* The shared code buffer: made with the first translating hart, freed
 * with the shared object; emptied only with every hart's blocks
 * (vmc__rv_flush_all_blocks(), exclusive work, or one hart alone). */
struct rv_jit_buf;
int rv_jit_buf_new(size_t size, struct rv_jit_buf **ret);
void rv_jit_buf_free(struct rv_jit_buf *buf);
void rv_jit_buf_reset(struct rv_jit_buf *buf);

/* Translate b (a block of the interpreter's form, in h's cache, hot) for
 * hart h: 0 and b->jit set, -ENOTSUP (the block stays interpreted), or
 * -ENOSPC when the code buffer is full (then, with one hart, every block
 * of h, b included, is flushed here and h->jit_flushed set; with more, a
 * full flush is requested from the glue:
 * vmc__rv_jit_take_flush_request()). */
int rv_jit_compile(struct vmc__rv_hart *h, struct rv_block *b,
		   const struct rv_dispatch *d);

/* Run translated code from block b until it leaves; returns RV_JIT_* or
 * a chainable exit.  h->jit_limit is the retired count not to pass. */
uintptr_t rv_jit_run(struct vmc__rv_hart *h, struct rv_block *b);

/* The chainable exit ex (from rv_jit_run()) of block h->jit_from leads to
 * block to: patch it to jump there directly when both are in one page. */
void rv_jit_link(struct vmc__rv_hart *h, uintptr_t ex, struct rv_block *to);

/* b is being freed: point every jump patched to enter it back at its
 * exit stub, and forget them.  Every free of a block calls it. */
void rv_jit_block_free(struct rv_block *b);

#endif
