/* SPDX-License-Identifier: MIT */
/*
 * The interpreter of the RV64 hart: vmc__rv_run() and its handlers.
 *
 * Contract.  vmc__rv_run() is the only entry; it runs on the hart's own
 * thread.  Between blocks it looks the next block up in the cache
 * (rv-block.c), asks the translator (rv-translate.c) for a missing one and
 * inserts it, and links a block's direct successor to it.  Within a block
 * and along chains it never returns to that lookup: the handlers jump from
 * slot to slot and block to block (direct threading), and leave the hot
 * loop only through the exits at the end of this file.  Everything rare
 * between blocks (kicks: exit requests, interrupts, TLB and block flushes,
 * code-page changes, debug stops; breakpoints; traps; a block not yet
 * translated) is done by non-inlined functions outside the loop (SLOW_PATH).
 * The dispatch table is built here, from rv-ops.h's columns, because handler
 * addresses exist only inside vmc__rv_run(); the translator gets it as a struct
 * rv_dispatch.
 */
#include <stdlib.h>
#include <string.h>

#include "rv-alu.h"
#include "rv-jit.h"

#define MAX_TRAP_LOOP 4096
/* Cap of the chained budget, so that rv_no_link (n = UINT32_MAX) never
 * fits. */
#define MAX_LEFT (UINT32_MAX - 1ull)
/* What happens between blocks only now and then stays out of the hot loop's
 * code (kept small for the instruction cache and the register allocator). */
#define SLOW_PATH __attribute__((noinline))

/* Breakpoint check at a lookup: 1 = stop here, and *flags gets
 * BLK_SINGLE when a breakpoint shares the page. */
static SLOW_PATH int bp_check(struct vmc__rv_hart *h, uint64_t pc,
			      uint32_t *flags)
{
	for (unsigned k = 0; k < h->nbps; k++) {
		if (h->bps[k] == pc)
			return 1;
		if ((h->bps[k] & RV_PAGE_MASK) == (pc & RV_PAGE_MASK))
			*flags |= BLK_SINGLE;
	}
	return 0;
}

/* Breakpoints (not while single-stepping) and Sdtrig execute triggers at
 * a block lookup: 1 = debug stop, -1 = a trigger fired (h->exc_* set). */
static SLOW_PATH int pc_check(struct vmc__rv_hart *h, uint64_t pc,
			      uint32_t *flags)
{
	if (h->nbps && !h->single_step && bp_check(h, pc, flags))
		return 1;
	if (h->trig_x && rv_trig_exec(h, pc, flags))
		return -1;
	return 0;
}

/* between_blocks() went on after dropping blocks or moving the pc: the
 * previous block must not be linked to the next one. */
#define CHAIN_BROKEN (-2)

/*
 * Between blocks, a kick is pending: flush what was asked, deliver an
 * interrupt.  Returns an exit reason, or -1 (or CHAIN_BROKEN) to go on to
 * the next block.  Not inlined: the hot loop only tests h->kick.
 */
static SLOW_PATH int between_blocks(struct vmc__rv_hart *h)
{
	uint32_t k =
		atomic_exchange_explicit(&h->kick, 0, memory_order_acquire);
	int r = -1;

	if (k & KICK_TLB) {
		rv_tlb_flush(h);
		vmc__rv_hart_flush_blocks(h);
		r = CHAIN_BROKEN;
	}
	if (k & KICK_INVAL) {
		rv_blocks_process_inval(h);
		r = CHAIN_BROKEN;
	}
	if (k & KICK_CODE)
		rv_tlb_slow_code_pages(h);
	if (k & KICK_EXIT) {
		/* Keep the interrupt check for the next run. */
		if (k & KICK_IRQ)
			rv_kick(h, KICK_IRQ);
		return VMC__RV_EXIT_REQUEST;
	}
	if (k & KICK_DEBUG)
		return VMC__RV_EXIT_DEBUG;
	if (k & KICK_IRQ) {
		int irq = rv_pending_irq(h);

		if (irq >= 0) {
			rv_take_trap(h, (uint64_t)irq, 0, true);
			if (h->single_step)
				return VMC__RV_EXIT_DEBUG;
			r = CHAIN_BROKEN;
		}
	}
	return r;
}

/*
 * Take the exception recorded in h->exc_cause/exc_tval (h->pc and
 * h->retired already at the faulting instruction).  Returns an exit
 * reason, or -1 to go on at the handler.
 */
static SLOW_PATH int trap_between_blocks(struct vmc__rv_hart *h)
{
	rv_take_trap(h, h->exc_cause, h->exc_tval, false);
	/* A trap loop is a run of traps with no instruction retired in
	 * between (so no block boundary has to count progress). */
	if (h->retired != h->trap_retired)
		h->consecutive_traps = 0;
	h->trap_retired = h->retired;
	if (++h->consecutive_traps > MAX_TRAP_LOOP)
		return VMC__RV_EXIT_FATAL;
	if (h->single_step)
		return VMC__RV_EXIT_DEBUG;
	return -1;
}

/* Whether guest code [off, off + len) at host still equals the copy. */
static bool code_unchanged(const uint8_t *copy, const uint8_t *host,
			   unsigned off, unsigned len)
{
	for (unsigned k = off; k < off + len; k += 2) {
		uint16_t v = __atomic_load_n((const uint16_t *)(host + k),
					     __ATOMIC_RELAXED);

		if (memcmp(copy + k, &v, 2))
			return false;
	}
	return true;
}

/*
 * The block at h->pc (fetched from host, physical page ppage) is not in
 * the cache: translate and insert it.  A straddling instruction gets the
 * caller's one-off block.  Returns the block, or NULL with *reason an exit
 * reason, or -1 when a fetch trapped (h->exc_* set).  Out of line like
 * the other slow paths: inlined, it costs the hot loop about 7% (the bench
 * guest's CPU time, with the same instruction count: the loop's code and
 * registers suffer), for 1.2% fewer host instructions on a guest that
 * mostly translates.
 */
static SLOW_PATH struct rv_block *
block_miss(struct vmc__rv_hart *h, uint64_t ppage, const uint8_t *host,
	   uint32_t flags, const struct rv_dispatch *d, union rv_oneoff *oneoff,
	   int *reason)
{
	unsigned off = (unsigned)(h->pc & ~RV_PAGE_MASK), len;
	uint8_t copy[RV_PAGE_SIZE];
	struct rv_block *b;

	/* Put the page in the code set before reading it, so that other
	 * harts' stores to it take the slow path from their next block on. */
	rv_codeset_add(h, ppage);
	/* And this hart's own write entries for it turn slow now, not at its
	 * next block boundary: the block about to run may store into itself
	 * through an entry filled while the page held no code (STOP_CODE). */
	if (atomic_load_explicit(&h->kick, memory_order_relaxed) & KICK_CODE) {
		atomic_fetch_and_explicit(&h->kick, ~(uint32_t)KICK_CODE,
					  memory_order_relaxed);
		rv_tlb_slow_code_pages(h);
	}
	for (;;) {
		/* Decode from a copy, mark the granules decoded, then check
		 * that the copy still matches: a store to them that the
		 * marking did not see (the two are ordered by a Dekker
		 * pair, see rv-internal.h) has changed the bytes, so the
		 * block is decoded again. */
		len = RV_PAGE_SIZE - off;
		if (len > MAX_BLOCK * 4)
			len = MAX_BLOCK * 4;
		for (unsigned k = off; k < off + len; k += 2) {
			/* Other harts may store meanwhile: relaxed atomic
			 * reads, parcel by parcel (pc and len are even). */
			uint16_t v = __atomic_load_n(
				(const uint16_t *)(host + k), __ATOMIC_RELAXED);

			memcpy(copy + k, &v, 2);
		}
		b = rv_translate(h, h->pc, ppage, copy, flags, d);
		if (!b) {
			*reason = VMC__RV_EXIT_FATAL;
			return NULL;
		}
		if (b->n == 0)
			break;
		if (!rv_codeset_mark(h, ppage, off, off + b->len)) {
			free(b);
			*reason = VMC__RV_EXIT_FATAL;
			return NULL;
		}
		atomic_thread_fence(memory_order_seq_cst);
		if (code_unchanged(copy, host, off, b->len))
			break;
		free(b);
	}
	if (b->n == 0) {
		/* A 32-bit instruction straddles the page. */
		free(b);
		if (rv_translate_straddle(h, h->pc, oneoff, d)) {
			*reason = -1;
			return NULL;
		}
		return &oneoff->b;
	}
	/* Host code for it once it is hot (the dispatch loop counts). */
	if (h->jit_on && !flags)
		b->cold = h->jit_hot;
	if (!rv_block_insert(h, b)) {
		*reason = VMC__RV_EXIT_FATAL;
		return NULL;
	}
	return b;
}

/*
 * The dispatch table's entries, generated from rv-ops.h: a plain handler
 * L_op for every op, F_op for the FWD ones, LL_/LF_ (closing a loop) and
 * LS_/LSF_ (inside a block) for each branch, and LA_/LAF_add_branch for
 * every loop-counter add with every branch.  An entry whose handler is
 * missing does not compile, nor (-Wunused-label) a handler no entry names.
 */
#define TBL_PLAIN(n, ...) [VMC__RV_OP_##n] = &&L_##n,
#define TBL_FWD(n, forms, ...) TBL_FWD_##forms(n)
#define TBL_FWD_FWD(n) [VMC__RV_OP_##n] = &&F_##n,
#define TBL_FWD__(n)
#define TBL_LOOP(n, forms, branch, ...) TBL_LOOP_##branch(n)
#define TBL_LOOP_BR(n) [VMC__RV_BR_##n] = {&&LL_##n, &&LF_##n},
#define TBL_LOOP__(n)
#define TBL_SIDE(n, forms, branch, ...) TBL_SIDE_##branch(n)
#define TBL_SIDE_BR(n) [VMC__RV_BR_##n] = {&&LS_##n, &&LSF_##n},
#define TBL_SIDE__(n)
#define TBL_LOOPADD(n, forms, branch, ends, rd, t, pc, loop, ...)              \
	TBL_LOOPADD_##loop(n)
#define TBL_LOOPADD_LOOP(n)                                                    \
	[VMC__RV_LOOPADD_##n] = {FOR_BRANCHES(TBL_LOOPADD_BR, n)},
#define TBL_LOOPADD__(n)
#define TBL_LOOPADD_BR(a, br)                                                  \
	[VMC__RV_BR_##br] = {&&LA_##a##_##br, &&LAF_##a##_##br},
/* The branches once more, for the add-by-branch product (an X-macro
 * cannot expand itself); the VMC__RV_BR_ names and the count check it. */
#define FOR_BRANCHES(Y, a)                                                     \
	Y(a, BEQ) Y(a, BNE) Y(a, BLT) Y(a, BGE) Y(a, BLTU) Y(a, BGEU)
_Static_assert(VMC__RV_BR__COUNT == 6, "FOR_BRANCHES names every branch");

int vmc__rv_run(struct vmc__rv_hart *h, uint64_t max_insns,
		uint64_t *ret_retired)
{
	/* The handlers by form (struct rv_dispatch), every entry made from
	 * rv-ops.h's columns. */
	static const struct rv_dispatch dispatch = {
		.plain = {VMC__RV_OPS(TBL_PLAIN)},
		.fwd = {VMC__RV_OPS(TBL_FWD)},
		.end = &&L_END,
		.loop = {VMC__RV_OPS(TBL_LOOP)},
		.side = {VMC__RV_OPS(TBL_SIDE)},
		.loopadd = {VMC__RV_OPS(TBL_LOOPADD)},
	};
	uint64_t t_ = 0;
	/* Instructions left in the budget when the current block started,
	 * at most MAX_LEFT (h->left_end is the retired count at which it
	 * runs out): h->retired is brought up to date from it
	 * (SYNC_RETIRED) only when something may read it. */
	uint64_t left = 0;
	const uint64_t start = h->retired;
	const uint64_t limit = start + max_insns;
	struct rv_block *b = NULL, *prev = NULL;
	unsigned prev_slot = 0;
	/* A chainable exit of translated code (rv-jit.h), or 0. */
	uintptr_t jit_exit = 0;
	const struct rv_insn *i;
	uint64_t *x = h->x;
	uint64_t next_pc;
	unsigned slot_;
	int reason;
	union rv_oneoff oneoff;

	rv_fpenv_save(h);
	if (max_insns == 0) {
		reason = VMC__RV_EXIT_BUDGET;
		goto out;
	}
	/* The first block always checks interrupts. */
	rv_kick(h, KICK_IRQ);
	h->jit_limit = limit;
	for (;;) {
		uint32_t k =
			atomic_load_explicit(&h->kick, memory_order_relaxed);
		uint32_t flags = 0;
		const uint8_t *host;
		uint64_t ppage;

		if (unlikely(k)) {
			reason = between_blocks(h);
			if (reason >= 0)
				goto out;
			if (reason == CHAIN_BROKEN) {
				prev = NULL;
				jit_exit = 0;
			}
		}
		if (h->retired >= limit) {
			reason = VMC__RV_EXIT_BUDGET;
			goto out;
		}
		if (h->single_step)
			flags |= BLK_SINGLE;
		if (unlikely(h->nbps | h->trig_x)) {
			int r = pc_check(h, h->pc, &flags);

			if (r > 0) {
				reason = VMC__RV_EXIT_DEBUG;
				goto out;
			}
			if (r < 0) {
				i = NULL;
				goto trap;
			}
		}
		if (rv_fetch_page(h, h->pc, &host, &ppage)) {
			i = NULL;
			goto trap;
		}
		if (unlikely(h->itlb[(h->pc >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)]
				     .flags &
			     TLBF_PMPCHK))
			flags |= BLK_SINGLE;
	again:
		b = rv_block_find(h, h->pc, ppage | (h->pc & ~RV_PAGE_MASK),
				  flags);
		if (unlikely(!b)) {
			b = block_miss(h, ppage, host, flags, &dispatch,
				       &oneoff, &reason);
			if (!b) {
				if (reason < 0) {
					i = NULL;
					goto trap;
				}
				goto out;
			}
			if (b == &oneoff.b)
				prev = NULL;
		}
		/* Near the end of the budget, run one instruction at a time
		 * so the count stops exactly at max_insns. */
		left = limit - h->retired;
		if (left > MAX_LEFT)
			left = MAX_LEFT;
		h->left_end = h->retired + left;
		if (b->n > left) {
			flags |= BLK_SINGLE;
			goto again;
		}
		if (unlikely(b->cold) && --b->cold == 0) {
			/* Hot: host code for it.  A full code buffer may
			 * have dropped every block, this one included. */
			rv_jit_compile(h, b, &dispatch);
			if (unlikely(h->jit_flushed)) {
				h->jit_flushed = false;
				prev = NULL;
				jit_exit = 0;
				continue;
			}
		}
		/* Interpreted blocks chain only to interpreted ones, so
		 * translated code runs wherever there is some; blocks not
		 * yet hot are entered only from here. */
		if (prev && !b->jit && !b->cold &&
		    !((prev->vpc ^ b->vpc) & RV_PAGE_MASK) &&
		    !((prev->flags | b->flags) & BLK_SINGLE))
			prev->link[prev_slot] = b;
		prev = NULL;
		if (!b->flags && b != &oneoff.b && !b->cold)
			rv_jc_remember(h, b);
		if (b->jit) {
			uintptr_t r;

			if (jit_exit)
				rv_jit_link(h, jit_exit, b);
			r = rv_jit_run(h, b);
			jit_exit = 0;
			if (r == RV_JIT_EXC) {
				i = NULL;
				goto trap;
			}
			if (r == RV_JIT_WATCH &&
			    !(h->watch_stop & STOP_WATCH)) {
				/* Only cached code overwritten: go on at
				 * h->pc, after the access. */
				h->watch_stop = 0;
				continue;
			}
			if (r == RV_JIT_WATCH) {
				h->watch_stop = 0;
				atomic_fetch_and_explicit(&h->kick,
							  ~(uint32_t)KICK_DEBUG,
							  memory_order_relaxed);
				reason = VMC__RV_EXIT_DEBUG;
				goto out;
			}
			if (r == RV_JIT_SLOT) {
				/* On in the same block, from the slot the
				 * translated code left to us. */
				b = h->jit_from;
				left = limit - h->retired;
				if (left > MAX_LEFT)
					left = MAX_LEFT;
				h->left_end = h->retired + left;
				i = &b->insns[h->jit_slot];
				goto * i->h;
			}
			if (r != RV_JIT_OUT)
				jit_exit = r;
			continue;
		}
		jit_exit = 0;

		i = b->insns;
		goto * i->h;

/* h->retired as of the current block's start (see left). */
#define SYNC_RETIRED() (h->retired = h->left_end - left)
#define RD x[i->rd]
#define RS1 x[i->rs1]
#define RS2 x[i->rs2]
/* A handler in two forms: L_name reads rs1 from the register file,
 * F_name from t_ (chosen at decode when rs1 is the previous rd). */
#define S1 s1_
#define BRS2 x[i->raw]
#define DEF_ALU_LOOP(name, alu, cond)                                          \
	LA_##name:                                                             \
	{                                                                      \
		const uint64_t s1_ = RS1;                                      \
		const uint64_t r_ = (alu);                                     \
		RD = t_ = r_;                                                  \
		LOOP_BRANCH(cond);                                             \
	}                                                                      \
	LAF_##name:                                                            \
	{                                                                      \
		const uint64_t s1_ = t_;                                       \
		const uint64_t r_ = (alu);                                     \
		RD = t_ = r_;                                                  \
		LOOP_BRANCH(cond);                                             \
	}
#define DEF_SIDE_OP(name, ...)                                                 \
	LS_##name:                                                             \
	{                                                                      \
		const uint64_t s1_ = RS1;                                      \
		__VA_ARGS__;                                                   \
	}                                                                      \
	LSF_##name:                                                            \
	{                                                                      \
		const uint64_t s1_ = t_;                                       \
		__VA_ARGS__;                                                   \
	}
#define DEF_LOOP_OP(name, ...)                                                 \
	LL_##name:                                                             \
	{                                                                      \
		const uint64_t s1_ = RS1;                                      \
		__VA_ARGS__;                                                   \
	}                                                                      \
	LF_##name:                                                             \
	{                                                                      \
		const uint64_t s1_ = t_;                                       \
		__VA_ARGS__;                                                   \
	}
#define DEF_OP(name, ...)                                                      \
	L_##name:                                                              \
	{                                                                      \
		const uint64_t s1_ = RS1;                                      \
		__VA_ARGS__;                                                   \
		NEXT;                                                          \
	}                                                                      \
	F_##name:                                                              \
	{                                                                      \
		const uint64_t s1_ = t_;                                       \
		__VA_ARGS__;                                                   \
		NEXT;                                                          \
	}

/* Write rd and keep the value in t_ for a following instruction that
 * reads it as rs1 (its F_ handler), so that one does not wait on the
 * store to the register file. */
#define SETRD(v) (RD = t_ = (v))
#define NEXT                                                                   \
	do {                                                                   \
		i++;                                                           \
		goto * i->h;                                                   \
	} while (0)
#define PC_OF(in) (b->vpc + (in)->pcoff)

#define LOAD(type, size, conv)                                                 \
	do {                                                                   \
		uint64_t a_ = S1 + (uint64_t)i->imm;                           \
		struct rv_tlbe *e_ =                                           \
			&h->dtlb[(a_ >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];      \
		if (likely(e_->tag[ACC_R] ==                                   \
			   (a_ & (RV_PAGE_MASK | (size - 1))))) {              \
			/* Aligned (the tag checks it): single-copy            \
			 * atomic, as RISC-V requires. */                      \
			type v_ = __atomic_load_n((type *)(a_ + e_->addend),   \
						  __ATOMIC_RELAXED);           \
			SETRD(conv(v_));                                       \
		} else {                                                       \
			uint64_t v_;                                           \
			SYNC_RETIRED();                                        \
			if (rv_load_slow(h, a_, size, &v_))                    \
				goto exc;                                      \
			SETRD(conv((type)v_));                                 \
			if (unlikely(h->watch_stop))                           \
				goto watch_stop;                               \
		}                                                              \
		NEXT;                                                          \
	} while (0)

#define STORE(type, size)                                                      \
	do {                                                                   \
		uint64_t a_ = S1 + (uint64_t)i->imm;                           \
		struct rv_tlbe *e_ =                                           \
			&h->dtlb[(a_ >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];      \
		type v_ = (type)RS2;                                           \
		if (likely(e_->tag[ACC_W] ==                                   \
			   (a_ & (RV_PAGE_MASK | (size - 1))))) {              \
			__atomic_store_n((type *)(a_ + e_->addend), v_,        \
					 __ATOMIC_RELAXED);                    \
		} else {                                                       \
			SYNC_RETIRED();                                        \
			if (rv_store_slow(h, a_, size, v_))                    \
				goto exc;                                      \
			if (unlikely(h->watch_stop))                           \
				goto watch_stop;                               \
		}                                                              \
		NEXT;                                                          \
	} while (0)

/* F and D loads and stores: FS=Off makes them illegal; a load writes an
 * f register (a single NaN-boxed) and so makes FS Dirty. */
#define FP_ON()                                                                \
	do {                                                                   \
		if (unlikely(!(h->mstatus & MSTATUS_FS)))                      \
			goto fp_off;                                           \
	} while (0)
#define FLOAD(type, size, box)                                                 \
	do {                                                                   \
		uint64_t a_ = S1 + (uint64_t)i->imm;                           \
		struct rv_tlbe *e_ =                                           \
			&h->dtlb[(a_ >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];      \
		FP_ON();                                                       \
		if (likely(e_->tag[ACC_R] ==                                   \
			   (a_ & (RV_PAGE_MASK | (size - 1))))) {              \
			type v_ = __atomic_load_n((type *)(a_ + e_->addend),   \
						  __ATOMIC_RELAXED);           \
			h->f[i->rd] = (box) | v_;                              \
		} else {                                                       \
			uint64_t v_;                                           \
			SYNC_RETIRED();                                        \
			if (rv_load_slow(h, a_, size, &v_))                    \
				goto exc;                                      \
			h->f[i->rd] = (box) | (type)v_;                        \
			if (unlikely(h->watch_stop)) {                         \
				h->mstatus |= MSTATUS_FS | MSTATUS_SD;         \
				goto watch_stop;                               \
			}                                                      \
		}                                                              \
		h->mstatus |= MSTATUS_FS | MSTATUS_SD;                         \
		NEXT;                                                          \
	} while (0)
#define FSTORE(type, size)                                                     \
	do {                                                                   \
		uint64_t a_ = S1 + (uint64_t)i->imm;                           \
		struct rv_tlbe *e_ =                                           \
			&h->dtlb[(a_ >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];      \
		type v_ = (type)h->f[i->rs2];                                  \
		FP_ON();                                                       \
		if (likely(e_->tag[ACC_W] ==                                   \
			   (a_ & (RV_PAGE_MASK | (size - 1))))) {              \
			__atomic_store_n((type *)(a_ + e_->addend), v_,        \
					 __ATOMIC_RELAXED);                    \
		} else {                                                       \
			SYNC_RETIRED();                                        \
			if (rv_store_slow(h, a_, size, v_))                    \
				goto exc;                                      \
			if (unlikely(h->watch_stop))                           \
				goto watch_stop;                               \
		}                                                              \
		NEXT;                                                          \
	} while (0)

#define S8(v) ((uint64_t)(int64_t)(int8_t)(v))
#define S16(v) ((uint64_t)(int64_t)(int16_t)(v))
#define S32(v) ((uint64_t)(int64_t)(int32_t)(v))
#define U64(v) ((uint64_t)(v))

/*
 * Leave the block through its direct successor in link[slot].  The chained
 * path does only what a block boundary must: count the block, and stop
 * chaining when a kick is pending or the next block would overrun the
 * budget (an absent link is &rv_no_link, which never fits).  The pc is
 * written only when leaving the chain; a block run single-stepped is never
 * linked, so single-stepping needs no check here.
 */
#define CHAIN(slot)                                                            \
	do {                                                                   \
		struct rv_block *nb_ = b->link[slot];                          \
		left -= b->n;                                                  \
		if (likely(nb_->n <= left) &&                                  \
		    likely(!atomic_load_explicit(&h->kick,                     \
						 memory_order_relaxed))) {     \
			b = nb_;                                               \
			i = b->insns;                                          \
			goto * i->h;                                           \
		}                                                              \
		slot_ = (slot);                                                \
		goto exit_direct;                                              \
	} while (0)

#define BRANCH(cond)                                                           \
	do {                                                                   \
		if (cond)                                                      \
			CHAIN(0);                                              \
		CHAIN(1);                                                      \
	} while (0)

/*
 * Enter the block cached for pc t in the jump cache, when the fetch TLB
 * still maps t's page (the tag of a fast or slow entry, not I/O nor
 * checked by PMP access by access) to the block's physical pc, and the
 * block fits the budget left (already net of the current block).  Only
 * blocks that are not single-stepped nor near breakpoints are cached.
 */
#define JC_ENTER(t)                                                            \
	do {                                                                   \
		unsigned jk_ = rv_jc_hash(t);                                  \
		const struct rv_tlbe *je_ =                                    \
			&h->itlb[((t) >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];     \
		if (h->jc[jk_].tag == ((t) | 1) &&                             \
		    (je_->tag[ACC_X] & ~TLB_SLOW) == ((t)&RV_PAGE_MASK) &&     \
		    !(je_->flags & (TLBF_IO | TLBF_PMPCHK)) &&                 \
		    (je_->ppage | ((t) & ~RV_PAGE_MASK)) == h->jc[jk_].ppc &&  \
		    h->jc[jk_].blk->n <= left &&                               \
		    !atomic_load_explicit(&h->kick, memory_order_relaxed)) {   \
			b = h->jc[jk_].blk;                                    \
			i = b->insns;                                          \
			goto * i->h;                                           \
		}                                                              \
	} while (0)

/* A conditional branch inside a block: not taken goes on, taken leaves
 * the block having retired up to here, through the jump cache or the
 * lookup (slot 2: no link is recorded for it). */
#define SIDE_BRANCH(cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			NEXT;                                                  \
		left -= (uint64_t)i->idx + 1;                                  \
		JC_ENTER((uint64_t)i->imm);                                    \
		slot_ = 2;                                                     \
		goto exit_direct;                                              \
	} while (0)

/* The branch back to the start of its own block (a loop): when taken,
 * the block runs again without going through link[0]. */
#define LOOP_BRANCH(cond)                                                      \
	do {                                                                   \
		if (cond) {                                                    \
			left -= b->n;                                          \
			if (likely(b->n <= left) && likely(!b->cold) &&        \
			    likely(!atomic_load_explicit(                      \
				    &h->kick, memory_order_relaxed))) {        \
				i = b->insns;                                  \
				goto * b->loop_h;                              \
			}                                                      \
			slot_ = 3;                                             \
			goto exit_direct;                                      \
		}                                                              \
		CHAIN(1);                                                      \
	} while (0)

	L_LUI:
	L_LI:
	L_AUIPC:
		SETRD((uint64_t)i->imm);
		NEXT;
		/* Operations that read rs1 come in both forms. */
		DEF_OP(ADDI, SETRD(S1 + (uint64_t)i->imm))
		DEF_OP(MV, SETRD(S1))
		DEF_OP(SLTI, SETRD((int64_t)S1 < i->imm))
		DEF_OP(SLTIU, SETRD(S1 < (uint64_t)i->imm))
		DEF_OP(XORI, SETRD(S1 ^ (uint64_t)i->imm))
		DEF_OP(ORI, SETRD(S1 | (uint64_t)i->imm))
		DEF_OP(ANDI, SETRD(S1 & (uint64_t)i->imm))
		DEF_OP(SLLI, SETRD(S1 << i->imm))
		DEF_OP(ZEXT_W, SETRD((uint32_t)S1))
		DEF_OP(ADD_UW, SETRD((uint32_t)S1 + RS2))
		DEF_OP(SH_ADD, SETRD((S1 << i->imm) + RS2))
		/* Zba, Zbb, Zbc, Zbs, Zicond. */
		DEF_OP(SH_ADD_UW,
		       SETRD(((uint64_t)(uint32_t)S1 << i->imm) + RS2))
		DEF_OP(SLLI_UW, SETRD((uint64_t)(uint32_t)S1 << i->imm))
		DEF_OP(ANDN, SETRD(S1 & ~RS2))
		DEF_OP(ORN, SETRD(S1 | ~RS2))
		DEF_OP(XNOR, SETRD(~(S1 ^ RS2)))
		DEF_OP(CLZ, SETRD(op_clz(S1)))
		DEF_OP(CTZ, SETRD(op_ctz(S1)))
		DEF_OP(CPOP, SETRD((uint64_t)__builtin_popcountll(S1)))
		DEF_OP(CLZW, SETRD(op_clzw(S1)))
		DEF_OP(CTZW, SETRD(op_ctzw(S1)))
		DEF_OP(CPOPW, SETRD((uint64_t)__builtin_popcount((uint32_t)S1)))
		DEF_OP(MAX, SETRD((int64_t)S1 < (int64_t)RS2 ? RS2 : S1))
		DEF_OP(MAXU, SETRD(S1 < RS2 ? RS2 : S1))
		DEF_OP(MIN, SETRD((int64_t)S1 < (int64_t)RS2 ? S1 : RS2))
		DEF_OP(MINU, SETRD(S1 < RS2 ? S1 : RS2))
		DEF_OP(SEXT_B, SETRD(S8(S1)))
		DEF_OP(SEXT_H, SETRD(S16(S1)))
		DEF_OP(ZEXT_H, SETRD((uint16_t)S1))
		DEF_OP(ROL, SETRD(op_rol(S1, (unsigned)RS2)))
		DEF_OP(ROR, SETRD(op_rol(S1, 64 - ((unsigned)RS2 & 63))))
		DEF_OP(RORI, SETRD(op_rol(S1, 64 - (unsigned)i->imm)))
		DEF_OP(ROLW, SETRD(op_rolw(S1, (unsigned)RS2)))
		DEF_OP(RORW, SETRD(op_rolw(S1, 32 - ((unsigned)RS2 & 31))))
		DEF_OP(RORIW, SETRD(op_rolw(S1, 32 - (unsigned)i->imm)))
		DEF_OP(ORC_B, SETRD(op_orc_b(S1)))
		DEF_OP(REV8, SETRD(__builtin_bswap64(S1)))
		DEF_OP(BCLR, SETRD(S1 & ~(1ull << (RS2 & 63))))
		DEF_OP(BCLRI, SETRD(S1 & ~(1ull << i->imm)))
		DEF_OP(BEXT, SETRD((S1 >> (RS2 & 63)) & 1))
		DEF_OP(BEXTI, SETRD((S1 >> i->imm) & 1))
		DEF_OP(BINV, SETRD(S1 ^ (1ull << (RS2 & 63))))
		DEF_OP(BINVI, SETRD(S1 ^ (1ull << i->imm)))
		DEF_OP(BSET, SETRD(S1 | (1ull << (RS2 & 63))))
		DEF_OP(BSETI, SETRD(S1 | (1ull << i->imm)))
		DEF_OP(CLMUL, SETRD(op_clmul(S1, RS2, 0)))
		DEF_OP(CLMULH, SETRD(op_clmul(S1, RS2, 1)))
		DEF_OP(CLMULR, SETRD(op_clmul(S1, RS2, 2)))
		DEF_OP(CZERO_EQZ, SETRD(RS2 ? S1 : 0))
		DEF_OP(CZERO_NEZ, SETRD(RS2 ? 0 : S1))
		DEF_OP(SRLI, SETRD(S1 >> i->imm))
		DEF_OP(SRAI, SETRD((uint64_t)((int64_t)S1 >> i->imm)))
		DEF_OP(ADD, SETRD(S1 + RS2))
		DEF_OP(SUB, SETRD(S1 - RS2))
		DEF_OP(SLL, SETRD(S1 << (RS2 & 63)))
		DEF_OP(SLT, SETRD((int64_t)S1 < (int64_t)RS2))
		DEF_OP(SLTU, SETRD(S1 < RS2))
		DEF_OP(XOR, SETRD(S1 ^ RS2))
		DEF_OP(SRL, SETRD(S1 >> (RS2 & 63)))
		DEF_OP(SRA, SETRD((uint64_t)((int64_t)S1 >> (RS2 & 63))))
		DEF_OP(OR, SETRD(S1 | RS2))
		DEF_OP(AND, SETRD(S1 & RS2))
		DEF_OP(ADDIW, SETRD(S32(S1 + (uint64_t)i->imm)))
		DEF_OP(SLLIW, SETRD(S32((uint32_t)S1 << i->imm)))
		DEF_OP(SRLIW, SETRD(S32((uint32_t)S1 >> i->imm)))
		DEF_OP(SRAIW, SETRD(S32((int32_t)S1 >> i->imm)))
		DEF_OP(ADDW, SETRD(S32(S1 + RS2)))
		DEF_OP(SUBW, SETRD(S32(S1 - RS2)))
		DEF_OP(SLLW, SETRD(S32((uint32_t)S1 << (RS2 & 31))))
		DEF_OP(SRLW, SETRD(S32((uint32_t)S1 >> (RS2 & 31))))
		DEF_OP(SRAW, SETRD(S32((int32_t)S1 >> (RS2 & 31))))
		DEF_OP(MUL, SETRD(S1 * RS2))
		DEF_OP(MULH, SETRD(op_mulh(S1, RS2)))
		DEF_OP(MULHSU, SETRD(op_mulhsu(S1, RS2)))
		DEF_OP(MULHU, SETRD(op_mulhu(S1, RS2)))
		DEF_OP(DIV, SETRD(op_div(S1, RS2)))
		DEF_OP(DIVU, SETRD(op_divu(S1, RS2)))
		DEF_OP(REM, SETRD(op_rem(S1, RS2)))
		DEF_OP(REMU, SETRD(op_remu(S1, RS2)))
		DEF_OP(MULW, SETRD(S32(S1 * RS2)))
		DEF_OP(DIVW, SETRD(op_divw(S1, RS2)))
		DEF_OP(DIVUW, SETRD(op_divuw(S1, RS2)))
		DEF_OP(REMW, SETRD(op_remw(S1, RS2)))
		DEF_OP(REMUW, SETRD(op_remuw(S1, RS2)))
		DEF_OP(LB, LOAD(int8_t, 1, S8))
		DEF_OP(LH, LOAD(int16_t, 2, S16))
		DEF_OP(LW, LOAD(int32_t, 4, S32))
		DEF_OP(LD, LOAD(uint64_t, 8, U64))
		DEF_OP(LBU, LOAD(uint8_t, 1, U64))
		DEF_OP(LHU, LOAD(uint16_t, 2, U64))
		DEF_OP(LWU, LOAD(uint32_t, 4, U64))
		DEF_OP(SB, STORE(uint8_t, 1))
		DEF_OP(SH, STORE(uint16_t, 2))
		DEF_OP(SW, STORE(uint32_t, 4))
		DEF_OP(SD, STORE(uint64_t, 8))
		DEF_OP(BEQ, BRANCH(S1 == RS2))
		DEF_OP(BNE, BRANCH(S1 != RS2))
		DEF_OP(BLT, BRANCH((int64_t)S1 < (int64_t)RS2))
		DEF_OP(BGE, BRANCH((int64_t)S1 >= (int64_t)RS2))
		DEF_OP(BLTU, BRANCH(S1 < RS2))
		DEF_OP(BGEU, BRANCH(S1 >= RS2))
		DEF_LOOP_OP(BEQ, LOOP_BRANCH(S1 == RS2))
		DEF_LOOP_OP(BNE, LOOP_BRANCH(S1 != RS2))
		DEF_LOOP_OP(BLT, LOOP_BRANCH((int64_t)S1 < (int64_t)RS2))
		DEF_LOOP_OP(BGE, LOOP_BRANCH((int64_t)S1 >= (int64_t)RS2))
		DEF_LOOP_OP(BLTU, LOOP_BRANCH(S1 < RS2))
		DEF_LOOP_OP(BGEU, LOOP_BRANCH(S1 >= RS2))
		DEF_ALU_LOOP(ADDI_BEQ, S1 + (uint64_t)i->imm, r_ == BRS2)
		DEF_ALU_LOOP(ADDI_BNE, S1 + (uint64_t)i->imm, r_ != BRS2)
		DEF_ALU_LOOP(ADDI_BLT, S1 + (uint64_t)i->imm,
			     (int64_t)r_ < (int64_t)BRS2)
		DEF_ALU_LOOP(ADDI_BGE, S1 + (uint64_t)i->imm,
			     (int64_t)r_ >= (int64_t)BRS2)
		DEF_ALU_LOOP(ADDI_BLTU, S1 + (uint64_t)i->imm, r_ < BRS2)
		DEF_ALU_LOOP(ADDI_BGEU, S1 + (uint64_t)i->imm, r_ >= BRS2)
		DEF_ALU_LOOP(ADDIW_BEQ, S32(S1 + (uint64_t)i->imm), r_ == BRS2)
		DEF_ALU_LOOP(ADDIW_BNE, S32(S1 + (uint64_t)i->imm), r_ != BRS2)
		DEF_ALU_LOOP(ADDIW_BLT, S32(S1 + (uint64_t)i->imm),
			     (int64_t)r_ < (int64_t)BRS2)
		DEF_ALU_LOOP(ADDIW_BGE, S32(S1 + (uint64_t)i->imm),
			     (int64_t)r_ >= (int64_t)BRS2)
		DEF_ALU_LOOP(ADDIW_BLTU, S32(S1 + (uint64_t)i->imm), r_ < BRS2)
		DEF_ALU_LOOP(ADDIW_BGEU, S32(S1 + (uint64_t)i->imm), r_ >= BRS2)
		DEF_ALU_LOOP(ADD_BEQ, S1 + RS2, r_ == BRS2)
		DEF_ALU_LOOP(ADD_BNE, S1 + RS2, r_ != BRS2)
		DEF_ALU_LOOP(ADD_BLT, S1 + RS2, (int64_t)r_ < (int64_t)BRS2)
		DEF_ALU_LOOP(ADD_BGE, S1 + RS2, (int64_t)r_ >= (int64_t)BRS2)
		DEF_ALU_LOOP(ADD_BLTU, S1 + RS2, r_ < BRS2)
		DEF_ALU_LOOP(ADD_BGEU, S1 + RS2, r_ >= BRS2)
		DEF_ALU_LOOP(ADDW_BEQ, S32(S1 + RS2), r_ == BRS2)
		DEF_ALU_LOOP(ADDW_BNE, S32(S1 + RS2), r_ != BRS2)
		DEF_ALU_LOOP(ADDW_BLT, S32(S1 + RS2),
			     (int64_t)r_ < (int64_t)BRS2)
		DEF_ALU_LOOP(ADDW_BGE, S32(S1 + RS2),
			     (int64_t)r_ >= (int64_t)BRS2)
		DEF_ALU_LOOP(ADDW_BLTU, S32(S1 + RS2), r_ < BRS2)
		DEF_ALU_LOOP(ADDW_BGEU, S32(S1 + RS2), r_ >= BRS2)
		DEF_SIDE_OP(BEQ, SIDE_BRANCH(S1 == RS2))
		DEF_SIDE_OP(BNE, SIDE_BRANCH(S1 != RS2))
		DEF_SIDE_OP(BLT, SIDE_BRANCH((int64_t)S1 < (int64_t)RS2))
		DEF_SIDE_OP(BGE, SIDE_BRANCH((int64_t)S1 >= (int64_t)RS2))
		DEF_SIDE_OP(BLTU, SIDE_BRANCH(S1 < RS2))
		DEF_SIDE_OP(BGEU, SIDE_BRANCH(S1 >= RS2))
	L_LR_W:
	L_SC_W:
	L_AMOSWAP_W:
	L_AMOADD_W:
	L_AMOXOR_W:
	L_AMOAND_W:
	L_AMOOR_W:
	L_AMOMIN_W:
	L_AMOMAX_W:
	L_AMOMINU_W:
	L_AMOMAXU_W:
	L_LR_D:
	L_SC_D:
	L_AMOSWAP_D:
	L_AMOADD_D:
	L_AMOXOR_D:
	L_AMOAND_D:
	L_AMOOR_D:
	L_AMOMIN_D:
	L_AMOMAX_D:
	L_AMOMINU_D:
	L_AMOMAXU_D : {
		uint64_t old;

		SYNC_RETIRED();
		if (rv_amo(h, i->op, RS1, RS2, &old))
			goto exc;
		RD = old;
		if (unlikely(h->watch_stop))
			goto watch_stop;
		NEXT;
	}
		DEF_OP(FLW, FLOAD(uint32_t, 4, 0xffffffff00000000ull))
		DEF_OP(FLD, FLOAD(uint64_t, 8, 0))
		DEF_OP(FSW, FSTORE(uint32_t, 4))
		DEF_OP(FSD, FSTORE(uint64_t, 8))
		/* The other F and D ops, out of line (rv-fpu.c). */
	L_FMADD_S:
	L_FMSUB_S:
	L_FNMSUB_S:
	L_FNMADD_S:
	L_FMADD_D:
	L_FMSUB_D:
	L_FNMSUB_D:
	L_FNMADD_D:
	L_FADD_S:
	L_FSUB_S:
	L_FMUL_S:
	L_FDIV_S:
	L_FSQRT_S:
	L_FSGNJ_S:
	L_FSGNJN_S:
	L_FSGNJX_S:
	L_FMIN_S:
	L_FMAX_S:
	L_FEQ_S:
	L_FLT_S:
	L_FLE_S:
	L_FCLASS_S:
	L_FCVT_W_S:
	L_FCVT_WU_S:
	L_FCVT_L_S:
	L_FCVT_LU_S:
	L_FCVT_S_W:
	L_FCVT_S_WU:
	L_FCVT_S_L:
	L_FCVT_S_LU:
	L_FADD_D:
	L_FSUB_D:
	L_FMUL_D:
	L_FDIV_D:
	L_FSQRT_D:
	L_FSGNJ_D:
	L_FSGNJN_D:
	L_FSGNJX_D:
	L_FMIN_D:
	L_FMAX_D:
	L_FEQ_D:
	L_FLT_D:
	L_FLE_D:
	L_FCLASS_D:
	L_FCVT_W_D:
	L_FCVT_WU_D:
	L_FCVT_L_D:
	L_FCVT_LU_D:
	L_FCVT_D_W:
	L_FCVT_D_WU:
	L_FCVT_D_L:
	L_FCVT_D_LU:
	L_FCVT_S_D:
	L_FCVT_D_S:
		if (rv_fp_exec(h, i))
			goto exc;
		NEXT;
		/* The moves between register files, inline: compiled FP code
		 * is full of them (about a third of bench/tcg's FP loop). */
	L_FMV_X_W:
		if (unlikely(!(h->mstatus & MSTATUS_FS)))
			goto fp_off;
		RD = sx32((uint32_t)h->f[i->rs1]);
		NEXT;
	L_FMV_X_D:
		if (unlikely(!(h->mstatus & MSTATUS_FS)))
			goto fp_off;
		RD = h->f[i->rs1];
		NEXT;
	L_FMV_W_X:
		if (unlikely(!(h->mstatus & MSTATUS_FS)))
			goto fp_off;
		h->f[i->rd & 31] = 0xffffffff00000000ull | (uint32_t)RS1;
		h->mstatus |= MSTATUS_FS | MSTATUS_SD;
		NEXT;
	L_FMV_D_X:
		if (unlikely(!(h->mstatus & MSTATUS_FS)))
			goto fp_off;
		h->f[i->rd & 31] = RS1;
		h->mstatus |= MSTATUS_FS | MSTATUS_SD;
		NEXT;
	fp_off:
		h->exc_cause = EXC_ILLEGAL;
		h->exc_tval = i->raw;
		goto exc;
	L_FENCE:
		NEXT;
	L_CBO_CLEAN:
	L_CBO_FLUSH:
	L_CBO_INVAL:
	L_CBO_ZERO:
		SYNC_RETIRED();
		if (rv_cbo(h, i->op, RS1, i->raw))
			goto exc;
		if (unlikely(h->watch_stop))
			goto watch_stop;
		NEXT;
	L_JAL:
		RD = PC_OF(i) + i->len;
		CHAIN(0);
	L_JALR : {
		uint64_t t = (RS1 + (uint64_t)i->imm) & ~1ull;

		RD = PC_OF(i) + i->len;
		if (!(b->flags & BLK_SINGLE)) {
			left -= b->n;
			JC_ENTER(t);
			left += b->n;
		}
		next_pc = t;
		goto exit_indirect;
	}
	L_END:
		CHAIN(1);
	L_ECALL:
		h->exc_cause = EXC_ECALL_U + h->priv;
		h->exc_tval = 0;
		goto exc;
	L_EBREAK:
		h->exc_cause = EXC_BREAKPOINT;
		h->exc_tval = PC_OF(i);
		goto exc;
	L_ILLEGAL:
		h->exc_cause = EXC_ILLEGAL;
		h->exc_tval = i->raw;
		goto exc;
	L_MRET:
		SYNC_RETIRED();
		h->pc = PC_OF(i);
		if (rv_mret(h))
			goto exc;
		h->retired += (uint64_t)i->idx + 1;
		goto exit_done;
	L_SRET:
		SYNC_RETIRED();
		h->pc = PC_OF(i);
		if (rv_sret(h))
			goto exc;
		h->retired += (uint64_t)i->idx + 1;
		goto exit_done;
	L_CSRRW:
	L_CSRRS:
	L_CSRRC:
	L_CSRRWI:
	L_CSRRSI:
	L_CSRRCI : {
		uint64_t idx = i->idx;
		int r;

		SYNC_RETIRED();
		h->retired += idx;
		r = rv_csr_op(h, i);
		h->retired -= idx;
		if (r)
			goto exc;
		next_pc = PC_OF(i) + i->len;
		goto exit_indirect;
	}
	L_FENCE_I:
		next_pc = PC_OF(i) + i->len;
		goto exit_indirect;
	L_SFENCE_VMA:
		SYNC_RETIRED();
		if (rv_sfence(h, RS1, i->rs1 == 0, RS2, i->rs2 == 0)) {
			h->exc_tval = i->raw;
			goto exc;
		}
		next_pc = PC_OF(i) + i->len;
		goto exit_indirect;
	L_WFI:
		if (h->priv == VMC__RV_PRIV_U ||
		    (h->priv < VMC__RV_PRIV_M && (h->mstatus & MSTATUS_TW))) {
			h->exc_cause = EXC_ILLEGAL;
			h->exc_tval = i->raw;
			goto exc;
		}
		SYNC_RETIRED();
		h->retired += (uint64_t)i->idx + 1;
		h->pc = PC_OF(i) + i->len;
		if (!vmc__rv_has_work(h)) {
			reason = VMC__RV_EXIT_HALTED;
			goto out;
		}
		if (h->single_step) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
		continue;

	watch_stop:
		/* A watchpoint fired, or the access overwrote cached code
		 * (STOP_*): the block ends right after the access, counted
		 * like an exception, plus the access that completed. */
		SYNC_RETIRED();
		h->retired += i->idx + 1;
		h->pc = PC_OF(i) + i->len;
		if (!(h->watch_stop & STOP_WATCH)) {
			h->watch_stop = 0;
			goto exit_done;
		}
		h->watch_stop = 0;
		atomic_fetch_and_explicit(&h->kick, ~(uint32_t)KICK_DEBUG,
					  memory_order_relaxed);
		reason = VMC__RV_EXIT_DEBUG;
		goto out;

	exit_direct:
		/* The chain stops here: i is the block's last instruction
		 * (or its end marker) and the block is already counted in
		 * left. */
		SYNC_RETIRED();
		if (slot_ == 3)
			h->pc = b->vpc; /* a loop's branch back (LOOP_BRANCH) */
		else if (slot_ != 1 || i->op == VMC__RV_OP__COUNT)
			h->pc = (uint64_t)i->imm;
		else
			h->pc = PC_OF(i) + i->len;
		if (unlikely(h->single_step)) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
		if (!(b->flags & BLK_SINGLE) && slot_ < 2) {
			prev = b;
			prev_slot = slot_;
		}
		continue;
	exit_indirect:
		SYNC_RETIRED();
		h->retired += b->n;
		h->pc = next_pc;
	exit_done:
		if (unlikely(h->single_step)) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
		continue;
	exc:
		SYNC_RETIRED();
		h->retired += i->idx;
		h->pc = PC_OF(i);
	trap:
		(void)i;
		prev = NULL;
		jit_exit = 0;
		reason = trap_between_blocks(h);
		if (reason >= 0)
			goto out;
	}
out:
	rv_fpenv_restore(h);
	if (ret_retired)
		*ret_retired += h->retired - start;
	return reason;
}
