/* SPDX-License-Identifier: MIT */
/*
 * Sdtrig (RISC-V Debug Specification 1.0, "Sdtrig"): RV_NTRIG address
 * triggers, each of type 2 (mcontrol) or 6 (mcontrol6), for execute, load
 * and store, matching equal, >= or <, with action 0 (a breakpoint
 * exception, mtval the matching address) in the modes their m/s/u bits
 * name.  No Debug Mode (dmode is read-only 0, action 1 is not offered), no
 * chaining, no data (select) or size matching, no textra (tdata3 reads 0),
 * no tcontrol: as the spec allows in that case, a trigger does not fire in
 * M-mode while mstatus.MIE is clear, so a handler cannot re-enter itself.
 *
 * Writes are legalized field by field (WARL): an unsupported match becomes
 * 0 (equal), action/chain/select/size/timing/vs/vu/uncertain become 0, and
 * a type other than 2 or 6 makes the trigger disabled (type 15).  tinfo
 * lists types 2, 6 and 15 with version 1.
 *
 * Speed.  Nothing is checked while no trigger is armed.  Armed execute
 * triggers make the block lookup check the pc and build one-instruction
 * blocks in the pages they can match (as breakpoints do); armed load/store
 * triggers make the TLB map the pages they can match slow for data, so
 * only accesses there reach rv_trig_data() from the slow path.
 */
#include "rv-internal.h"

#define T_TYPE(v) ((unsigned)((v) >> 60))
#define T_LOAD 1ull
#define T_STORE 2ull
#define T_EXEC 4ull
#define T_U (1ull << 3)
#define T_S (1ull << 4)
#define T_M (1ull << 6)
#define T_MATCH(v) ((unsigned)((v) >> 7) & 15)
#define T_MATCH_MASK (15ull << 7)
#define T2_HIT (1ull << 20)
#define T6_HIT0 (1ull << 22)
#define T_DISABLED (15ull << 60)

#define TINFO_VALUE ((1ull << 24) | (1u << 15) | (1u << 6) | (1u << 2))

static uint64_t tdata1_legalize(uint64_t v)
{
	unsigned type = T_TYPE(v), match = T_MATCH(v);
	uint64_t keep = T_LOAD | T_STORE | T_EXEC | T_U | T_S | T_M;

	if (type != 2 && type != 6)
		return T_DISABLED;
	keep |= type == 2 ? T2_HIT : T6_HIT0;
	if (match != 0 && match != 2 && match != 3)
		match = 0;
	return ((uint64_t)type << 60) | (v & keep) | ((uint64_t)match << 7);
}

/* [lo, hi] (inclusive) of the addresses trigger t matches. */
static void trig_range(const struct rv_trig *t, uint64_t *lo, uint64_t *hi)
{
	switch (T_MATCH(t->tdata1)) {
	case 2: /* >= */
		*lo = t->tdata2;
		*hi = ~0ull;
		break;
	case 3: /* < */
		*lo = 0;
		*hi = t->tdata2 ? t->tdata2 - 1 : 0;
		if (!t->tdata2) /* matches nothing */
			*lo = 1;
		break;
	default:
		*lo = *hi = t->tdata2;
	}
}

/* Trigger t covers some byte of [a, a + len - 1]. */
static bool trig_hits(const struct rv_trig *t, uint64_t a, uint64_t len)
{
	uint64_t lo, hi, last = a + len - 1;

	trig_range(t, &lo, &hi);
	if (lo > hi)
		return false;
	if (last < a) /* wraps: the two halves */
		return hi >= a || lo <= last;
	return lo <= last && hi >= a;
}

static uint32_t armed(const struct vmc__rv_hart *h, uint64_t kind)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < RV_NTRIG; i++) {
		uint64_t v = h->trig[i].tdata1;
		unsigned type = T_TYPE(v);

		if ((type == 2 || type == 6) && (v & kind) &&
		    (v & (T_U | T_S | T_M)))
			m |= 1u << i;
	}
	return m;
}

/* Recompute the armed masks; the TLB and blocks follow the change. */
static void trig_changed(struct vmc__rv_hart *h)
{
	h->trig_x = armed(h, T_EXEC);
	h->trig_ldst = armed(h, T_LOAD | T_STORE);
	rv_tlb_flush(h);
	/* Blocks were built without the one-instruction rule: drop them at
	 * the next block boundary (the CSR write ends its block). */
	rv_kick(h, KICK_TLB);
}

void rv_trig_reset(struct vmc__rv_hart *h)
{
	for (unsigned i = 0; i < RV_NTRIG; i++)
		h->trig[i] = (struct rv_trig){6ull << 60, 0};
	h->tselect = 0;
	h->trig_x = h->trig_ldst = 0;
}

int rv_trig_csr_read(struct vmc__rv_hart *h, unsigned csr, uint64_t *val)
{
	const struct rv_trig *t = &h->trig[h->tselect];

	switch (csr) {
	case 0x7a0:
		*val = h->tselect;
		return 0;
	case 0x7a1:
		*val = t->tdata1;
		return 0;
	case 0x7a2:
		*val = t->tdata2;
		return 0;
	case 0x7a3:
		*val = 0;
		return 0;
	case 0x7a4:
		*val = TINFO_VALUE;
		return 0;
	default:
		return -1;
	}
}

int rv_trig_csr_write(struct vmc__rv_hart *h, unsigned csr, uint64_t v)
{
	struct rv_trig *t = &h->trig[h->tselect];

	switch (csr) {
	case 0x7a0: /* WARL: an index without a trigger keeps the old one */
		if (v < RV_NTRIG)
			h->tselect = (unsigned)v;
		return 0;
	case 0x7a1:
		t->tdata1 = tdata1_legalize(v);
		trig_changed(h);
		return 0;
	case 0x7a2:
		t->tdata2 = v;
		trig_changed(h);
		return 0;
	case 0x7a3: /* textra: only 0 (no context matching) */
	case 0x7a4: /* tinfo: read-only */
		return 0;
	default:
		return -1;
	}
}

/* Mode bits and the M-mode re-entrancy rule. */
static bool trig_mode_ok(const struct vmc__rv_hart *h, uint64_t v)
{
	switch (h->priv) {
	case VMC__RV_PRIV_M:
		return (v & T_M) && (h->mstatus & MSTATUS_MIE);
	case VMC__RV_PRIV_S:
		return v & T_S;
	default:
		return v & T_U;
	}
}

static int fire(struct vmc__rv_hart *h, unsigned i, uint64_t addr)
{
	struct rv_trig *t = &h->trig[i];

	t->tdata1 |= T_TYPE(t->tdata1) == 2 ? T2_HIT : T6_HIT0;
	h->exc_cause = EXC_BREAKPOINT;
	h->exc_tval = addr;
	return -1;
}

int rv_trig_exec(struct vmc__rv_hart *h, uint64_t pc, uint32_t *flags)
{
	uint64_t page = pc & RV_PAGE_MASK;

	for (unsigned i = 0; i < RV_NTRIG; i++) {
		const struct rv_trig *t = &h->trig[i];

		if (!((h->trig_x >> i) & 1))
			continue;
		if (trig_hits(t, page, RV_PAGE_SIZE))
			*flags |= BLK_SINGLE;
		if (trig_mode_ok(h, t->tdata1) && trig_hits(t, pc, 1))
			return fire(h, i, pc);
	}
	return 0;
}

int rv_trig_data(struct vmc__rv_hart *h, uint64_t va, unsigned size, bool load,
		 bool store)
{
	for (unsigned i = 0; i < RV_NTRIG; i++) {
		const struct rv_trig *t = &h->trig[i];
		uint64_t v = t->tdata1;

		if (!((h->trig_ldst >> i) & 1))
			continue;
		if (!((load && (v & T_LOAD)) || (store && (v & T_STORE))))
			continue;
		if (trig_mode_ok(h, v) && trig_hits(t, va, size))
			return fire(h, i, va);
	}
	return 0;
}

bool rv_trig_page(const struct vmc__rv_hart *h, uint64_t vpage)
{
	for (unsigned i = 0; i < RV_NTRIG; i++)
		if (((h->trig_ldst >> i) & 1) &&
		    trig_hits(&h->trig[i], vpage, RV_PAGE_SIZE))
			return true;
	return false;
}
