/* SPDX-License-Identifier: MIT */
/*
 * The executor's three parts and what each promises the others (the design
 * is in rv-internal.h; the facts about each op in rv-ops.h).
 *
 *   rv-block.c      The block cache.  Owns every struct rv_block once it
 *                   is inserted: the per-hart hash, the per-page lists,
 *                   the jump cache, and dropping blocks (all of them, or
 *                   those overlapping the byte ranges the shared
 *                   invalidation log names).  Dropping frees blocks, so
 *                   no one may hold a block across a call that can drop
 *                   one (the interpreter only does so between blocks).
 *   rv-translate.c  The translator and fuser.  Decodes the guest code of
 *                   one page into a new block, picks each slot's handler
 *                   from the interpreter's dispatch table, and fuses
 *                   idioms; it never executes anything and never touches
 *                   the cache.  A block it returns is the caller's until
 *                   inserted.
 *   rv-interp.c     The interpreter: vmc__rv_run().  Owns the dispatch
 *                   table (handler addresses exist only inside its
 *                   function), looks blocks up and inserts what the
 *                   translator builds, chains blocks, and leaves its hot
 *                   loop for everything that happens between blocks
 *                   rarely (kicks, interrupts, flushes, debug stops,
 *                   traps, cache misses).
 *   rv-jit.c        The translator to x86-64 host code: turns a block of
 *                   slots into host code before it is inserted (b->jit),
 *                   which the interpreter's loop runs instead of the
 *                   slots; see rv-jit.h.
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_EXEC_H
#define VMC_ACCEL_TCG_RISCV_RV_EXEC_H

#include "rv-internal.h"

#define MAX_BLOCK 64

/*
 * The interpreter's handlers, by form.  Each slot of a block holds one of
 * these addresses; the translator chooses which.  A NULL entry is a form
 * the op does not have (rv-ops.h's columns say which ones exist).
 */
struct rv_dispatch {
	const void *plain[VMC__RV_OP__COUNT];	/* rs1 from the registers */
	const void *fwd[VMC__RV_OP__COUNT];	/* rs1 from t_ (F_ forms) */
	const void *end;			/* a block's end marker */
	const void *loop[VMC__RV_BR__COUNT][2]; /* [br][fwd]: closes a loop */
	const void *side[VMC__RV_BR__COUNT][2]; /* [br][fwd]: inside a block */
	/* [add][br][fwd]: a loop counter's add fused with the loop's branch */
	const void *loopadd[VMC__RV_LOOPADD__COUNT][VMC__RV_BR__COUNT][2];
};

static inline uint64_t sx32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

/* A block's slot is in its F_ form (takes rs1 from t_). */
static inline bool rv_slot_is_fwd(const struct rv_dispatch *d,
				  const struct rv_insn *in)
{
	return in->h != d->plain[in->op];
}

/* The successor of a block not linked yet: its n never fits a budget. */
extern struct rv_block rv_no_link;

/* Room for a block of one instruction that straddles two pages, which is
 * never cached: the instruction and the end marker. */
union rv_oneoff {
	struct rv_block b;
	char room[sizeof(struct rv_block) + 2 * sizeof(struct rv_insn)];
};

/* rv-block.c */
static inline unsigned rv_blk_hash(uint64_t vpc)
{
	return (unsigned)((vpc >> 1) ^ (vpc >> (BLK_HASH_BITS + 1))) &
	       ((1u << BLK_HASH_BITS) - 1);
}

static inline unsigned rv_jc_hash(uint64_t vpc)
{
	return (unsigned)(vpc >> 1) & ((1u << JC_BITS) - 1);
}

/* The cached block for (vpc, ppc, flags), or NULL. */
static inline struct rv_block *rv_block_find(struct vmc__rv_hart *h,
					     uint64_t vpc, uint64_t ppc,
					     uint32_t flags)
{
	struct rv_block *b = h->blk_hash[rv_blk_hash(vpc)];

	for (; b; b = b->hnext)
		if (b->vpc == vpc && b->ppc == ppc && b->flags == flags)
			return b;
	return NULL;
}

/* Remember b as the block at its pc for jalr and taken side branches. */
static inline void rv_jc_remember(struct vmc__rv_hart *h, struct rv_block *b)
{
	struct rv_jce *e = &h->jc[rv_jc_hash(b->vpc)];

	e->tag = b->vpc | 1;
	e->blk = b;
	e->ppc = b->ppc;
	e->jit = b->jit;
}

/* Insert a block built by rv_translate(): true, or false (and b freed)
 * when out of memory. */
bool rv_block_insert(struct vmc__rv_hart *h, struct rv_block *b);
/* Drop the blocks overlapping the ranges invalidated since this hart last
 * looked (KICK_INVAL), or all of them if it fell more than a ring behind. */
void rv_blocks_process_inval(struct vmc__rv_hart *h);

/* rv-translate.c */
/* Decode a block at vpc from the page at host (physical page ppage).
 * NULL when out of memory; a block with n == 0 when the first instruction
 * straddles the page end (free it and use rv_translate_straddle()). */
struct rv_block *rv_translate(struct vmc__rv_hart *h, uint64_t vpc,
			      uint64_t ppage, const uint8_t *host,
			      uint32_t flags, const struct rv_dispatch *d);
/* Fill o with the one instruction at vpc that straddles a page end.
 * 0, or -1 with h->exc_cause/exc_tval set when a fetch faults. */
int rv_translate_straddle(struct vmc__rv_hart *h, uint64_t vpc,
			  union rv_oneoff *o, const struct rv_dispatch *d);

#endif
