/* SPDX-License-Identifier: MIT */
/*
 * RV64 memory access: Sv39/Sv48 page walks with hardware A/D updates, PMP,
 * the software TLB's slow paths, atomics, and the code-page set.  The fast
 * paths are inline in rv-interp.c; see rv-internal.h for the design.
 */
#include <stdlib.h>
#include <string.h>

#include "rv-internal.h"

/*
 * Entry flag of dirty tracking (QEMU's TLB_NOTDIRTY idea): the page is RAM
 * the bus logs and, when the entry was filled, it was clean.  Its write tag
 * is slow; the first write reports the page through bus.mark_dirty, then
 * the entry becomes fast.  vmc__rv_tlb_slow_writes() sets it again on
 * every RAM write entry when the log is fetched and cleared.
 */
#define TLBF_NOTDIRTY 32u
/* Flags whose entries write through the slow path. */
#define TLBF_WSLOW                                                             \
	(TLBF_IO | TLBF_PMPCHK | TLBF_WATCH | TLBF_RO | TLBF_CODE |            \
	 TLBF_NOTDIRTY)
_Static_assert(!(TLBF_NOTDIRTY &
		 (TLBF_IO | TLBF_PMPCHK | TLBF_WATCH | TLBF_CODE | TLBF_RO)),
	       "TLBF_NOTDIRTY collides with an entry flag of rv-internal.h");

static void mark_dirty(struct vmc__rv_hart *h, void *host, size_t len)
{
	if (h->bus.mark_dirty)
		h->bus.mark_dirty(h->bus.opaque, host, len);
}

/* Privilege and SUM of a regime. */
static const unsigned regime_priv[TLB_NREG] = {
	VMC__RV_PRIV_U,
	VMC__RV_PRIV_S,
	VMC__RV_PRIV_S,
	VMC__RV_PRIV_M,
};

static unsigned regime_of(struct vmc__rv_hart *h, struct rv_tlbe *tlb)
{
	return (unsigned)((tlb - &h->tlb[0][0]) / TLB_SIZE);
}

static uint64_t fault_cause(unsigned acc, bool page)
{
	static const uint64_t pf[3] = {EXC_LOAD_PAGE, EXC_STORE_PAGE,
				       EXC_INSN_PAGE};
	static const uint64_t af[3] = {EXC_LOAD_ACCESS, EXC_STORE_ACCESS,
				       EXC_INSN_ACCESS};

	return page ? pf[acc] : af[acc];
}

/* PMP: the [lo, hi) range of entry i, or false when it is off. */
static bool pmp_range(struct vmc__rv_hart *h, unsigned i, uint64_t *lo,
		      uint64_t *hi)
{
	unsigned a = (h->pmpcfg[i] >> 3) & 3;
	uint64_t addr = h->pmpaddr[i];

	switch (a) {
	case 1: /* TOR */
		*lo = i ? h->pmpaddr[i - 1] << 2 : 0;
		*hi = addr << 2;
		return *lo < *hi;
	case 2: /* NA4 */
		*lo = addr << 2;
		*hi = *lo + 4;
		return true;
	case 3: { /* NAPOT */
		unsigned k = (unsigned)__builtin_ctzll(~addr);
		uint64_t size = 1ull << (k + 3);

		*lo = (addr << 2) & ~(size - 1);
		*hi = *lo + size;
		return true;
	}
	default:
		return false;
	}
}

static bool pmp_check(struct vmc__rv_hart *h, uint64_t pa, unsigned size,
		      unsigned acc, unsigned priv)
{
	if (!h->pmp_active)
		return priv == VMC__RV_PRIV_M;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t lo, hi;
		uint8_t cfg = h->pmpcfg[i];

		if (!pmp_range(h, i, &lo, &hi))
			continue;
		if (pa >= lo && pa + size <= hi) {
			if (priv == VMC__RV_PRIV_M && !(cfg & 0x80))
				return true;
			return (cfg >> acc) & 1; /* R=bit0 W=bit1 X=bit2 */
		}
		if (pa < hi && pa + size > lo)
			return false;
	}
	return priv == VMC__RV_PRIV_M;
}

/* True when no PMP entry boundary falls inside the page. */
static bool pmp_uniform(struct vmc__rv_hart *h, uint64_t ppage)
{
	if (!h->pmp_active)
		return true;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t lo, hi;

		if (!pmp_range(h, i, &lo, &hi))
			continue;
		if (lo < ppage + RV_PAGE_SIZE && hi > ppage &&
		    !(lo <= ppage && hi >= ppage + RV_PAGE_SIZE))
			return false;
	}
	return true;
}

/*
 * RAM holding [pa, pa + size), or NULL; then *io is the bus's I/O handle
 * for pa (NULL: a hole, or RAM the access does not fit).
 */
static void *ram_ptr(struct vmc__rv_hart *h, uint64_t pa, unsigned size,
		     bool *ro, const void **io)
{
	struct vmc__rv_bus_map m;

	*io = NULL;
	if (!h->bus.ram_lookup(h->bus.opaque, pa, &m))
		return NULL;
	if (!m.host) {
		*io = m.io;
		return NULL;
	}
	if (pa < m.start || pa + size > m.end || pa + size < pa)
		return NULL;
	*ro = m.readonly;
	return m.host + (pa - m.start);
}

/*
 * Walk the page table.  On success *pa is the physical address and *perm
 * the ACC_* bits the leaf grants this privilege (W only once D is set).
 */
/* Bits 63..54 of a PTE: N (no Svnapot) and 60..54 are reserved; PBMT
 * (62..61, Svpbmt) needs menvcfg.PBMTE and is never 3.  The memory types
 * change nothing here: every access is already coherent and in order. */
static bool pte_reserved(const struct vmc__rv_hart *h, uint64_t pte)
{
	unsigned pbmt = (unsigned)(pte >> 61) & 3;

	if ((pte >> 54) & ~(3ull << 7))
		return true;
	return pbmt && (pbmt == 3 || !(h->menvcfg & (1ull << 62)));
}

static int walk(struct vmc__rv_hart *h, uint64_t va, unsigned acc,
		unsigned priv, bool sum, uint64_t *pa, unsigned *perm,
		unsigned *level, bool *global)
{
	unsigned mode = (unsigned)(h->satp >> 60);
	bool mxr = h->mstatus & MSTATUS_MXR;
	unsigned levels, vabits;

	*level = 0;
	*global = true;
	if (priv == VMC__RV_PRIV_M || mode == 0) {
		*pa = va;
		*perm = 7;
		return 0;
	}
	levels = mode == 8 ? 3 : 4;
	vabits = 12 + 9 * levels;
	if ((uint64_t)((int64_t)(va << (64 - vabits)) >> (64 - vabits)) != va)
		return (int)fault_cause(acc, true);
restart:;
	uint64_t a = (h->satp & ((1ull << 44) - 1)) << 12;

	*global = false;

	for (int i = (int)levels - 1; i >= 0; i--) {
		uint64_t pte_pa = a + ((va >> (12 + 9 * i)) & 511) * 8;
		bool ro;
		const void *io;
		_Atomic uint64_t *ptep;
		uint64_t pte;

		if (!pmp_check(h, pte_pa, 8, ACC_R, VMC__RV_PRIV_S))
			return (int)fault_cause(acc, false);
		ptep = ram_ptr(h, pte_pa, 8, &ro, &io);
		if (!ptep)
			return (int)fault_cause(acc, false);
		pte = atomic_load_explicit(ptep, memory_order_acquire);
		if (!(pte & 1) || ((pte & 6) == 4) || pte_reserved(h, pte))
			return (int)fault_cause(acc, true);
		if (pte & 0x20) /* G: global from here down */
			*global = true;
		if (!(pte & 0xa)) {    /* pointer to the next level */
			if (pte >> 61) /* PBMT is for leaves only */
				return (int)fault_cause(acc, true);
			a = ((pte >> 10) & ((1ull << 44) - 1)) << 12;
			continue;
		}
		/* Leaf. */
		bool r = pte & 2, w = pte & 4, x = pte & 8, u = pte & 16;
		uint64_t ppn = (pte >> 10) & ((1ull << 44) - 1);
		unsigned p = 0;

		if (i > 0 && (ppn & ((1ull << (9 * i)) - 1)))
			return (int)fault_cause(acc, true);
		if (priv == VMC__RV_PRIV_U ? !u : (u && !sum)) {
			p = 0;
		} else {
			if (r || (mxr && x))
				p |= 1u << ACC_R;
			if (w)
				p |= 1u << ACC_W;
			if (x && !(priv == VMC__RV_PRIV_S && u))
				p |= 1u << ACC_X;
		}
		if (!(p & (1u << acc)))
			return (int)fault_cause(acc, true);
		uint64_t want = pte | 0x40 | (acc == ACC_W ? 0x80 : 0);

		if (want != pte) {
			if (ro ||
			    !pmp_check(h, pte_pa, 8, ACC_W, VMC__RV_PRIV_S))
				return (int)fault_cause(acc, false);
			/* Logged before the update lands, like any write. */
			mark_dirty(h, (void *)ptep, 8);
			if (!atomic_compare_exchange_strong(ptep, &pte, want))
				goto restart;
			pte = want;
		}
		if (!(pte & 0x80))
			p &= ~(1u << ACC_W);
		*perm = p;
		*level = (unsigned)i;
		*pa = ((ppn & ~((1ull << (9 * i)) - 1)) << 12) |
		      (va & ((1ull << (12 + 9 * i)) - 1));
		return 0;
	}
	return (int)fault_cause(acc, true);
}

static bool watch_overlaps(struct vmc__rv_hart *h, uint64_t va, uint64_t len)
{
	for (unsigned i = 0; i < h->nwatch; i++)
		if (va < h->watch[i].addr + h->watch[i].len &&
		    h->watch[i].addr < va + len)
			return true;
	return false;
}

/* The tags of an entry from its page, permissions and flags. */
static void tlb_set_tags(struct rv_tlbe *e)
{
	uint32_t flags = e->flags;

	for (unsigned k = 0; k < 3; k++) {
		bool slow = flags & (TLBF_IO | TLBF_PMPCHK);

		if (k != ACC_X && (flags & TLBF_WATCH))
			slow = true;
		if (k == ACC_W && (flags & TLBF_WSLOW))
			slow = true;
		e->tag[k] = (e->perm_ok & (1u << k))
				    ? e->vpage | (slow ? TLB_SLOW : 0)
				    : TLB_INVALID;
	}
}

/* Fill the entry for va in a regime's TLB for an access of kind acc. */
static int tlb_fill(struct vmc__rv_hart *h, struct rv_tlbe *tlb, uint64_t va,
		    unsigned acc, struct rv_tlbe **ret)
{
	unsigned reg = regime_of(h, tlb), priv = regime_priv[reg];
	uint64_t vpage = va & RV_PAGE_MASK, pa = 0, ppage;
	struct rv_tlbe *e = &tlb[(va >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];
	unsigned perm = 0, flags = 0, level;
	struct vmc__rv_bus_map m;
	uint8_t *host;
	bool global;
	int r;

	r = walk(h, va, acc, priv, reg == TLB_SSUM, &pa, &perm, &level,
		 &global);
	if (r)
		return r;
	if (global)
		flags |= TLBF_GLOBAL;
	if (level)
		h->tlb_super = true;
	ppage = pa & RV_PAGE_MASK;
	if (pmp_uniform(h, ppage)) {
		for (unsigned k = 0; k < 3; k++)
			if (!pmp_check(h, ppage, 1, k, priv))
				perm &= ~(1u << k);
	} else {
		flags |= TLBF_PMPCHK;
	}
	host = NULL;
	if (h->bus.ram_lookup(h->bus.opaque, ppage, &m))
		host = m.host;
	if (host && m.start <= ppage && m.end - ppage >= RV_PAGE_SIZE) {
		e->addend = (uintptr_t)(host + (ppage - m.start)) - vpage;
		if (m.readonly)
			flags |= TLBF_RO;
		else if (m.notdirty)
			flags |= TLBF_NOTDIRTY;
	} else {
		flags |= TLBF_IO;
		e->addend = 0;
	}
	if ((h->nwatch && watch_overlaps(h, vpage, RV_PAGE_SIZE)) ||
	    (h->trig_ldst && rv_trig_page(h, vpage)))
		flags |= TLBF_WATCH;
	if ((perm & (1u << ACC_W)) && !(flags & TLBF_IO) &&
	    rv_codeset_contains(h->shared, ppage))
		flags |= TLBF_CODE;
	e->ppage = ppage;
	e->flags = flags;
	e->perm_ok = (uint8_t)perm;
	e->vpage = vpage;
	e->level = (uint8_t)level;
	e->asid = (uint16_t)(h->satp >> 44);
	tlb_set_tags(e);
	if (!(perm & (1u << acc)))
		return (int)fault_cause(acc, false);
	*ret = e;
	return 0;
}

/* Translate va for acc through the TLB, filling it on a miss. */
static int tlb_get(struct vmc__rv_hart *h, struct rv_tlbe *tlb, uint64_t va,
		   unsigned acc, struct rv_tlbe **ret)
{
	struct rv_tlbe *e = &tlb[(va >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];

	if ((e->tag[acc] & ~TLB_SLOW) == (va & RV_PAGE_MASK)) {
		*ret = e;
		return 0;
	}
	return tlb_fill(h, tlb, va, acc, ret);
}

/* The slot of ppage in the code-page set while it holds code, or -1. */
static int codeset_slot(struct vmc__rv_shared *sh, uint64_t ppage)
{
	unsigned mask = (1u << CODESET_BITS) - 1;
	unsigned slot = (unsigned)(ppage >> RV_PAGE_SHIFT) * 2654435761u;

	for (unsigned n = 0; n <= mask; n++, slot++) {
		uint64_t v = atomic_load_explicit(&sh->codeset[slot & mask],
						  memory_order_acquire);

		if (!v)
			return -1;
		if ((v & RV_PAGE_MASK) == ppage)
			return (v & 1) ? (int)(slot & mask) : -1;
	}
	return -1;
}

/*
 * A store of size bytes at pa, already made, went through an entry with
 * TLBF_CODE (see rv-internal.h): log the code granules it overwrote, if
 * any; make the entry's writes fast when the page holds no code any more.
 */
static void code_written(struct vmc__rv_hart *h, struct rv_tlbe *e, uint64_t pa,
			 unsigned size)
{
	struct vmc__rv_shared *sh = h->shared;
	uint64_t ppage = e->ppage;
	unsigned lo = (unsigned)(pa & ~RV_PAGE_MASK) >> CODE_GRAN_SHIFT;
	unsigned hi =
		(unsigned)((pa & ~RV_PAGE_MASK) + size - 1) >> CODE_GRAN_SHIFT;
	_Atomic uint64_t *bits;
	bool hit = false, empty = true;
	int slot;

	/* The store before the granules: pairs with block_miss()'s mark
	 * before its compare. */
	atomic_thread_fence(memory_order_seq_cst);
	slot = codeset_slot(sh, ppage);
	if (slot >= 0) {
		bits = atomic_load_explicit(&sh->codebits[slot],
					    memory_order_acquire);
		for (unsigned g = lo; g <= hi && bits; g++)
			if (atomic_load_explicit(&bits[g >> 6],
						 memory_order_relaxed) &
			    (1ull << (g & 63)))
				hit = true;
		if (!hit)
			return; /* data next to code: nothing to drop */
		pthread_mutex_lock(&sh->lock);
		if (atomic_load_explicit(&sh->codeset[slot],
					 memory_order_relaxed) == (ppage | 1)) {
			uint64_t gen = atomic_load_explicit(
				&sh->inval_gen, memory_order_relaxed);

			for (unsigned g = lo; g <= hi; g++)
				atomic_fetch_and_explicit(&bits[g >> 6],
							  ~(1ull << (g & 63)),
							  memory_order_relaxed);
			for (unsigned w = 0; w < CODE_BITMAP_WORDS; w++)
				if (atomic_load_explicit(&bits[w],
							 memory_order_relaxed))
					empty = false;
			if (empty)
				atomic_store_explicit(&sh->codeset[slot], ppage,
						      memory_order_release);
			sh->inval_ring[gen % INVAL_RING] =
				(struct rv_inval){ppage, lo << CODE_GRAN_SHIFT,
						  (hi + 1) << CODE_GRAN_SHIFT};
			atomic_store_explicit(&sh->inval_gen, gen + 1,
					      memory_order_release);
			for (unsigned i = 0; i < sh->nharts; i++)
				rv_kick(sh->harts[i], KICK_INVAL);
		}
		pthread_mutex_unlock(&sh->lock);
		/* The running block may hold the bytes just written: the next
		 * instruction comes from a fresh lookup. */
		h->watch_stop |= STOP_CODE;
		if (!empty)
			return;
	}
	e->flags &= ~TLBF_CODE;
	if (!(e->flags & TLBF_WSLOW) && e->tag[ACC_W] != TLB_INVALID)
		e->tag[ACC_W] &= ~TLB_SLOW;
}

/* The first write to a clean logged page: log it, then let writes through
 * the fast path until the log is next fetched. */
static void dirty_written(struct vmc__rv_hart *h, struct rv_tlbe *e)
{
	uint64_t vpage = e->tag[ACC_W] & RV_PAGE_MASK;

	mark_dirty(h, (void *)(uintptr_t)(vpage + e->addend), RV_PAGE_SIZE);
	e->flags &= ~TLBF_NOTDIRTY;
	if (!(e->flags & TLBF_WSLOW) && e->tag[ACC_W] != TLB_INVALID)
		e->tag[ACC_W] &= ~TLB_SLOW;
}

void vmc__rv_tlb_slow_writes(struct vmc__rv_hart *h)
{
	for (unsigned r = 0; r < TLB_NREG; r++) {
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			struct rv_tlbe *e = &h->tlb[r][i];

			/* Parked entries too: revived, they must log. */
			if (e->vpage == ~0ull ||
			    !(e->perm_ok & (1u << ACC_W)) ||
			    (e->flags & (TLBF_IO | TLBF_RO)))
				continue;
			e->flags |= TLBF_NOTDIRTY;
			if (e->tag[ACC_W] != TLB_INVALID)
				e->tag[ACC_W] |= TLB_SLOW;
		}
	}
}

bool rv_codeset_contains(struct vmc__rv_shared *sh, uint64_t ppage)
{
	unsigned mask = (1u << CODESET_BITS) - 1;
	unsigned slot = (unsigned)(ppage >> RV_PAGE_SHIFT) * 2654435761u;

	for (unsigned n = 0; n <= mask; n++) {
		uint64_t v = atomic_load_explicit(&sh->codeset[slot & mask],
						  memory_order_acquire);

		if (!v)
			return false;
		if ((v & RV_PAGE_MASK) == ppage)
			return v & 1;
		slot++;
	}
	return false;
}

void rv_codeset_add(struct vmc__rv_hart *h, uint64_t ppage)
{
	struct vmc__rv_shared *sh = h->shared;
	unsigned mask = (1u << CODESET_BITS) - 1;
	unsigned slot = (unsigned)(ppage >> RV_PAGE_SHIFT) * 2654435761u;

	if (rv_codeset_contains(sh, ppage))
		return;
	pthread_mutex_lock(&sh->lock);
	if (sh->codeset_used >= (mask + 1) / 4 * 3) {
		/* Full: forget every page and make every hart drop all of
		 * its blocks by moving the log a whole ring ahead. */
		for (unsigned n = 0; n <= mask; n++)
			atomic_store_explicit(&sh->codeset[n], 0,
					      memory_order_relaxed);
		sh->codeset_used = 0;
		atomic_fetch_add(&sh->inval_gen, INVAL_RING + 1);
		for (unsigned i = 0; i < sh->nharts; i++)
			rv_kick(sh->harts[i], KICK_INVAL);
	}
	for (;; slot++) {
		_Atomic uint64_t *s = &sh->codeset[slot & mask];
		uint64_t v = atomic_load_explicit(s, memory_order_relaxed);

		if (!v || (v & RV_PAGE_MASK) == ppage) {
			_Atomic uint64_t *bits =
				atomic_load_explicit(&sh->codebits[slot & mask],
						     memory_order_relaxed);

			if (!bits) {
				bits = calloc(CODE_BITMAP_WORDS, sizeof(*bits));
				if (!bits)
					break; /* rv_codeset_mark() fails */
				atomic_store_explicit(
					&sh->codebits[slot & mask], bits,
					memory_order_release);
			} else if (!v) {
				/* Another page's granules, from before a
				 * reset of the set. */
				for (unsigned w = 0; w < CODE_BITMAP_WORDS; w++)
					atomic_store_explicit(
						&bits[w], 0,
						memory_order_relaxed);
			}
			if (!v)
				sh->codeset_used++;
			atomic_store_explicit(s, ppage | 1,
					      memory_order_seq_cst);
			break;
		}
	}
	for (unsigned i = 0; i < sh->nharts; i++)
		rv_kick(sh->harts[i], KICK_CODE);
	pthread_mutex_unlock(&sh->lock);
}

bool rv_codeset_mark(struct vmc__rv_hart *h, uint64_t ppage, unsigned lo,
		     unsigned hi)
{
	struct vmc__rv_shared *sh = h->shared;
	_Atomic uint64_t *bits;
	int slot = codeset_slot(sh, ppage);

	if (slot < 0) {
		/* The set was reset since the page was added. */
		rv_codeset_add(h, ppage);
		slot = codeset_slot(sh, ppage);
		if (slot < 0)
			return false;
	}
	bits = atomic_load_explicit(&sh->codebits[slot], memory_order_acquire);
	if (!bits)
		return false;
	for (unsigned g = lo >> CODE_GRAN_SHIFT;
	     g <= (hi - 1) >> CODE_GRAN_SHIFT; g++)
		atomic_fetch_or_explicit(&bits[g >> 6], 1ull << (g & 63),
					 memory_order_seq_cst);
	return true;
}

void rv_codeset_free(struct vmc__rv_shared *sh)
{
	for (unsigned n = 0; n < (1u << CODESET_BITS); n++)
		free((void *)atomic_load_explicit(&sh->codebits[n],
						  memory_order_relaxed));
}

/* Dirty tracking rides on KICK_CODE, whose handler (below) runs at the
 * block boundary where the hart takes its kicks. */
void vmc__rv_request_sync_writes(struct vmc__rv_hart *h)
{
	rv_kick(h, KICK_CODE);
}

void rv_tlb_slow_code_pages(struct vmc__rv_hart *h)
{
	if (h->bus.sync_writes)
		h->bus.sync_writes(h->bus.opaque);
	for (unsigned r = 0; r < TLB_NREG; r++) {
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			struct rv_tlbe *e = &h->tlb[r][i];

			if (e->vpage == ~0ull ||
			    !(e->perm_ok & (1u << ACC_W)) ||
			    (e->flags & (TLBF_IO | TLBF_CODE)))
				continue;
			if (rv_codeset_contains(h->shared, e->ppage)) {
				e->flags |= TLBF_CODE;
				if (e->tag[ACC_W] != TLB_INVALID)
					e->tag[ACC_W] |= TLB_SLOW;
			}
		}
	}
}

static unsigned data_priv(struct vmc__rv_hart *h)
{
	return regime_priv[regime_of(h, h->dtlb)];
}

static void watch_check(struct vmc__rv_hart *h, uint64_t va, unsigned size,
			bool write)
{
	for (unsigned i = 0; i < h->nwatch; i++) {
		struct rv_watch *w = &h->watch[i];

		if (va < w->addr + w->len && w->addr < va + size &&
		    (write ? w->w : w->r)) {
			h->watch_hit = true;
			h->watch_stop |= STOP_WATCH;
			h->watch_hit_addr = va;
			h->watch_hit_write = write;
			rv_kick(h, KICK_DEBUG);
			return;
		}
	}
}

/* Access within one page.  val is in/out.  Returns 0 or a cause. */
static int access_page(struct vmc__rv_hart *h, uint64_t va, unsigned size,
		       unsigned acc, uint64_t *val)
{
	struct rv_tlbe *e;
	uint64_t pa;
	int r = tlb_get(h, h->dtlb, va, acc, &e);

	if (r)
		return r;
	pa = e->ppage | (va & ~RV_PAGE_MASK);
	if ((e->flags & TLBF_PMPCHK) &&
	    !pmp_check(h, pa, size, acc, data_priv(h)))
		return (int)fault_cause(acc, false);
	if (e->flags & TLBF_WATCH)
		watch_check(h, va, size, acc == ACC_W);
	if (acc == ACC_W && (e->flags & TLBF_NOTDIRTY))
		dirty_written(h, e);
	if ((e->flags & TLBF_IO) || (acc == ACC_W && (e->flags & TLBF_RO))) {
		bool ro = false;
		const void *io;
		uint8_t *p = ram_ptr(h, pa, size, &ro, &io);

		if (p && !(acc == ACC_W && ro)) {
			if (acc == ACC_W) {
				mark_dirty(h, p, size);
				rv_ram_copy(p, val, size, p);
			} else {
				rv_ram_copy(val, p, size, p);
			}
			return 0;
		}
		/* The range ram_ptr found goes with the access: one lookup. */
		if (acc == ACC_W)
			r = h->bus.io_write(h->bus.opaque, io, pa, size, *val);
		else
			r = h->bus.io_read(h->bus.opaque, io, pa, size, val);
		return r < 0 ? (int)fault_cause(acc, false) : 0;
	}
	if (acc == ACC_W) {
		rv_ram_copy((void *)(va + e->addend), val, size,
			    (void *)(va + e->addend));
		if (e->flags & TLBF_CODE)
			code_written(h, e, pa, size);
	} else
		rv_ram_copy(val, (void *)(va + e->addend), size,
			    (void *)(va + e->addend));
	return 0;
}

static int raise(struct vmc__rv_hart *h, int cause, uint64_t tval)
{
	h->exc_cause = (uint64_t)cause;
	h->exc_tval = tval;
	return -1;
}

int rv_load_slow(struct vmc__rv_hart *h, uint64_t va, unsigned size,
		 uint64_t *val)
{
	uint64_t v = 0;
	int r;

	if (h->trig_ldst && rv_trig_data(h, va, size, true, false))
		return -1;
	if (((va & ~RV_PAGE_MASK) + size) > RV_PAGE_SIZE) {
		/* Crosses a page: byte by byte, low byte first. */
		for (unsigned k = 0; k < size; k++) {
			uint64_t b = 0;

			r = access_page(h, va + k, 1, ACC_R, &b);
			if (r)
				return raise(h, r, va + k);
			v |= b << (8 * k);
		}
	} else {
		r = access_page(h, va, size, ACC_R, &v);
		if (r)
			return raise(h, r, va);
	}
	*val = v;
	return 0;
}

int rv_store_slow(struct vmc__rv_hart *h, uint64_t va, unsigned size,
		  uint64_t val)
{
	int r;

	if (h->trig_ldst && rv_trig_data(h, va, size, false, true))
		return -1;
	if (((va & ~RV_PAGE_MASK) + size) > RV_PAGE_SIZE) {
		struct rv_tlbe *e;
		uint64_t hi = (va + size - 1) & RV_PAGE_MASK;

		/* Translate both pages first so a fault writes nothing. */
		r = tlb_get(h, h->dtlb, va, ACC_W, &e);
		if (r)
			return raise(h, r, va);
		r = tlb_get(h, h->dtlb, hi, ACC_W, &e);
		if (r)
			return raise(h, r, hi);
		for (unsigned k = 0; k < size; k++) {
			uint64_t b = (val >> (8 * k)) & 0xff;

			r = access_page(h, va + k, 1, ACC_W, &b);
			if (r)
				return raise(h, r, va + k);
		}
		return 0;
	}
	r = access_page(h, va, size, ACC_W, &val);
	return r ? raise(h, r, va) : 0;
}

static uint64_t sext32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

static uint64_t amo_compute(unsigned op, uint64_t old, uint64_t src, bool w)
{
	int64_t so = w ? (int32_t)old : (int64_t)old;
	int64_t ss = w ? (int32_t)src : (int64_t)src;
	uint64_t uo = w ? (uint32_t)old : old, us = w ? (uint32_t)src : src;

	switch (op) {
	case VMC__RV_OP_AMOSWAP_W:
		return src;
	case VMC__RV_OP_AMOADD_W:
		return old + src;
	case VMC__RV_OP_AMOXOR_W:
		return old ^ src;
	case VMC__RV_OP_AMOAND_W:
		return old & src;
	case VMC__RV_OP_AMOOR_W:
		return old | src;
	case VMC__RV_OP_AMOMIN_W:
		return so < ss ? old : src;
	case VMC__RV_OP_AMOMAX_W:
		return so > ss ? old : src;
	case VMC__RV_OP_AMOMINU_W:
		return uo < us ? old : src;
	default:
		return uo > us ? old : src;
	}
}

/*
 * LR, SC and the AMOs.  op is a _W or _D op.  *old receives the loaded
 * value (sign-extended for _W) or, for SC, 0 on success and 1 on failure.
 */
int rv_amo(struct vmc__rv_hart *h, unsigned op, uint64_t va, uint64_t src,
	   uint64_t *old)
{
	bool d = op >= VMC__RV_OP_LR_D;
	unsigned base = d ? op - (VMC__RV_OP_LR_D - VMC__RV_OP_LR_W) : op;
	unsigned size = d ? 8 : 4, acc;
	struct rv_tlbe *e;
	uint64_t pa;
	void *host = NULL;
	int r;

	acc = base == VMC__RV_OP_LR_W ? ACC_R : ACC_W;
	/* An AMO loads and stores; LR loads, SC stores. */
	if (h->trig_ldst && rv_trig_data(h, va, size, base != VMC__RV_OP_SC_W,
					 base != VMC__RV_OP_LR_W))
		return -1;
	if (va & (size - 1))
		return raise(h,
			     acc == ACC_R ? EXC_LOAD_MISALIGNED
					  : EXC_STORE_MISALIGNED,
			     va);
	r = tlb_get(h, h->dtlb, va, acc, &e);
	if (r)
		return raise(h, r, va);
	pa = e->ppage | (va & ~RV_PAGE_MASK);
	/* An AMO needs read permission as well (PTEs and PMP entries that
	 * grant W without R are reserved, so this is an access fault). */
	if (acc == ACC_W && !(e->perm_ok & (1u << ACC_R)))
		return raise(h, EXC_STORE_ACCESS, va);
	if ((e->flags & TLBF_PMPCHK) &&
	    (!pmp_check(h, pa, size, acc, data_priv(h)) ||
	     !pmp_check(h, pa, size, ACC_R, data_priv(h))))
		return raise(h, (int)fault_cause(acc, false), va);
	if (e->flags & TLBF_WATCH)
		watch_check(h, va, size, acc == ACC_W);
	if (acc == ACC_W && (e->flags & TLBF_NOTDIRTY))
		dirty_written(h, e);
	if (!(e->flags & TLBF_IO) && !(acc == ACC_W && (e->flags & TLBF_RO)))
		host = (void *)(va + e->addend);

	if (base == VMC__RV_OP_LR_W) {
		uint64_t v = 0;

		if (host) {
			v = d ? atomic_load((_Atomic uint64_t *)host)
			      : atomic_load((_Atomic uint32_t *)host);
		} else if (h->bus.io_read(h->bus.opaque, NULL, pa, size, &v) <
			   0) {
			return raise(h, EXC_LOAD_ACCESS, va);
		}
		h->res_addr = pa;
		h->res_size = size;
		h->res_val = v;
		*old = d ? v : sext32(v);
		return 0;
	}
	if (base == VMC__RV_OP_SC_W) {
		bool ok = false;

		if (host && h->res_addr == pa && h->res_size == size) {
			if (d) {
				uint64_t exp = h->res_val;

				ok = atomic_compare_exchange_strong(
					(_Atomic uint64_t *)host, &exp, src);
			} else {
				uint32_t exp = (uint32_t)h->res_val;

				ok = atomic_compare_exchange_strong(
					(_Atomic uint32_t *)host, &exp,
					(uint32_t)src);
			}
		}
		h->res_addr = ~0ull;
		*old = !ok;
		if (ok && (e->flags & TLBF_CODE))
			code_written(h, e, pa, size);
		return 0;
	}
	if (!host) {
		uint64_t v = 0;

		if (h->bus.io_read(h->bus.opaque, NULL, pa, size, &v) < 0 ||
		    h->bus.io_write(h->bus.opaque, NULL, pa, size,
				    amo_compute(base, v, src, !d)) < 0)
			return raise(h, EXC_STORE_ACCESS, va);
		*old = d ? v : sext32(v);
		return 0;
	}
	if (d) {
		_Atomic uint64_t *p = host;
		uint64_t v = atomic_load_explicit(p, memory_order_relaxed);

		switch (base) {
		case VMC__RV_OP_AMOSWAP_W:
			v = atomic_exchange(p, src);
			break;
		case VMC__RV_OP_AMOADD_W:
			v = atomic_fetch_add(p, src);
			break;
		case VMC__RV_OP_AMOXOR_W:
			v = atomic_fetch_xor(p, src);
			break;
		case VMC__RV_OP_AMOAND_W:
			v = atomic_fetch_and(p, src);
			break;
		case VMC__RV_OP_AMOOR_W:
			v = atomic_fetch_or(p, src);
			break;
		default:
			while (!atomic_compare_exchange_weak(
				p, &v, amo_compute(base, v, src, false)))
				;
		}
		*old = v;
	} else {
		_Atomic uint32_t *p = host;
		uint32_t s = (uint32_t)src;
		uint32_t v = atomic_load_explicit(p, memory_order_relaxed);

		switch (base) {
		case VMC__RV_OP_AMOSWAP_W:
			v = atomic_exchange(p, s);
			break;
		case VMC__RV_OP_AMOADD_W:
			v = atomic_fetch_add(p, s);
			break;
		case VMC__RV_OP_AMOXOR_W:
			v = atomic_fetch_xor(p, s);
			break;
		case VMC__RV_OP_AMOAND_W:
			v = atomic_fetch_and(p, s);
			break;
		case VMC__RV_OP_AMOOR_W:
			v = atomic_fetch_or(p, s);
			break;
		default:
			while (!atomic_compare_exchange_weak(
				p, &v,
				(uint32_t)amo_compute(base, v, src, true)))
				;
		}
		*old = sext32(v);
	}
	if (e->flags & TLBF_CODE)
		code_written(h, e, pa, size);
	return 0;
}

int rv_fetch_page(struct vmc__rv_hart *h, uint64_t va, const uint8_t **host,
		  uint64_t *ppage)
{
	struct rv_tlbe *e;
	int r = tlb_get(h, h->itlb, va, ACC_X, &e);

	if (r)
		return raise(h, r, va);
	if (e->flags & TLBF_IO)
		return raise(h, EXC_INSN_ACCESS, va);
	if ((e->flags & TLBF_PMPCHK) &&
	    !pmp_check(h, e->ppage | (va & ~RV_PAGE_MASK), 2, ACC_X, h->priv))
		return raise(h, EXC_INSN_ACCESS, va);
	*host = (const uint8_t *)((va & RV_PAGE_MASK) + e->addend);
	*ppage = e->ppage;
	return 0;
}

int rv_fetch16(struct vmc__rv_hart *h, uint64_t va, uint16_t *val)
{
	const uint8_t *host;
	uint64_t ppage;

	if (rv_fetch_page(h, va, &host, &ppage))
		return -1;
	memcpy(val, host + (va & ~RV_PAGE_MASK), 2);
	return 0;
}

void rv_tlb_flush(struct vmc__rv_hart *h)
{
	memset(h->tlb, 0xff, sizeof(h->tlb));
	h->tlb_super = false;
}

static void tlb_drop(struct rv_tlbe *e)
{
	memset(e, 0xff, sizeof(*e));
}

/* satp.ASID changed (mode kept): park the other ASIDs' entries, revive
 * the new one's.  M entries are global. */
void rv_tlb_switch_asid(struct vmc__rv_hart *h, uint16_t asid)
{
	for (unsigned r = 0; r < TLB_M; r++) {
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			struct rv_tlbe *e = &h->tlb[r][i];

			if (e->vpage == ~0ull || (e->flags & TLBF_GLOBAL))
				continue;
			if (e->asid == asid) {
				if (e->flags & TLBF_PARKED) {
					e->flags &= ~TLBF_PARKED;
					tlb_set_tags(e);
				}
			} else if (!(e->flags & TLBF_PARKED)) {
				e->flags |= TLBF_PARKED;
				e->tag[0] = e->tag[1] = e->tag[2] = TLB_INVALID;
			}
		}
	}
}

/* Whether the entry maps va: the leaf it came from covers va. */
static bool tlb_covers(const struct rv_tlbe *e, uint64_t va)
{
	unsigned shift = RV_PAGE_SHIFT + 9u * e->level;

	return ((e->vpage ^ va) >> shift) == 0;
}

/*
 * sfence.vma's effect on the TLB (privileged spec, "Supervisor
 * Memory-Management Fence Instruction"): with all_va every address, else
 * the leaf mapping va; with all_asids every entry, global ones included,
 * else only the non-global entries of asid.
 */
void rv_tlb_fence(struct vmc__rv_hart *h, uint64_t va, bool all_va,
		  uint16_t asid, bool all_asids)
{
	if (all_va && all_asids) {
		rv_tlb_flush(h);
		return;
	}
	for (unsigned r = 0; r < TLB_M; r++) {
		unsigned lo = 0, hi = TLB_SIZE;

		/* Without superpage entries, only va's slot can map it. */
		if (!all_va && !h->tlb_super) {
			lo = (unsigned)(va >> RV_PAGE_SHIFT) & (TLB_SIZE - 1);
			hi = lo + 1;
		}
		for (unsigned i = lo; i < hi; i++) {
			struct rv_tlbe *e = &h->tlb[r][i];

			if (e->vpage == ~0ull)
				continue;
			if (!all_asids &&
			    ((e->flags & TLBF_GLOBAL) || e->asid != asid))
				continue;
			if (!all_va && !tlb_covers(e, va))
				continue;
			tlb_drop(e);
		}
	}
}

int vmc__rv_debug_translate(struct vmc__rv_hart *h, uint64_t va, uint64_t *pa)
{
	unsigned mode = (unsigned)(h->satp >> 60);
	unsigned levels, vabits;
	uint64_t a;

	if (h->priv == VMC__RV_PRIV_M || mode == 0) {
		*pa = va;
		return 0;
	}
	levels = mode == 8 ? 3 : 4;
	vabits = 12 + 9 * levels;
	if ((uint64_t)((int64_t)(va << (64 - vabits)) >> (64 - vabits)) != va)
		return -EFAULT;
	a = (h->satp & ((1ull << 44) - 1)) << 12;
	for (int i = (int)levels - 1; i >= 0; i--) {
		uint64_t pte_pa = a + ((va >> (12 + 9 * i)) & 511) * 8;
		_Atomic uint64_t *ptep;
		uint64_t pte, ppn;
		bool ro;
		const void *io;

		ptep = ram_ptr(h, pte_pa, 8, &ro, &io);
		if (!ptep)
			return -EFAULT;
		pte = atomic_load_explicit(ptep, memory_order_acquire);
		if (!(pte & 1) || ((pte & 6) == 4))
			return -EFAULT;
		ppn = (pte >> 10) & ((1ull << 44) - 1);
		if (!(pte & 0xa)) {
			a = ppn << 12;
			continue;
		}
		*pa = ((ppn & ~((1ull << (9 * i)) - 1)) << 12) |
		      (va & ((1ull << (12 + 9 * i)) - 1));
		return 0;
	}
	return -EFAULT;
}
