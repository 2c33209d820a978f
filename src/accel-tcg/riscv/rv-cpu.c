/* SPDX-License-Identifier: MIT */
/*
 * RV64 hart: CSRs (privileged spec 1.12), traps, interrupts, xRET, and the
 * hart object itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rv-internal.h"
#include "rv-jit.h"

#define MISA_VALUE                                                             \
	((2ull << 62) | (1u << ('A' - 'A')) | (1u << ('C' - 'A')) |            \
	 (1u << ('D' - 'A')) | (1u << ('F' - 'A')) | (1u << ('I' - 'A')) |     \
	 (1u << ('M' - 'A')) | (1u << ('S' - 'A')) | (1u << ('U' - 'A')))

#define IRQ_S_MASK                                                             \
	((1u << VMC__RV_IRQ_SSI) | (1u << VMC__RV_IRQ_STI) |                   \
	 (1u << VMC__RV_IRQ_SEI))
#define MIE_MASK 0xaaaull
#define MEDELEG_MASK                                                           \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |           \
	 (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 9) |           \
	 (1u << 12) | (1u << 13) | (1u << 15))
#define MSTATUS_WMASK                                                          \
	(MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE |             \
	 MSTATUS_SPP | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM |              \
	 MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_FS)
#define SSTATUS_MASK                                                           \
	(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM |              \
	 MSTATUS_MXR | MSTATUS_UXL | MSTATUS_FS | MSTATUS_SD)

void rv_update_regimes(struct vmc__rv_hart *h)
{
	static const unsigned fetch_reg[4] = {TLB_U, TLB_S, TLB_S, TLB_M};
	unsigned eff = h->priv;

	if (h->mstatus & MSTATUS_MPRV)
		eff = (unsigned)((h->mstatus >> 11) & 3);
	h->itlb = h->tlb[fetch_reg[h->priv]];
	if (eff == VMC__RV_PRIV_M)
		h->dtlb = h->tlb[TLB_M];
	else if (eff == VMC__RV_PRIV_S)
		h->dtlb = h->tlb[(h->mstatus & MSTATUS_SUM) ? TLB_SSUM : TLB_S];
	else
		h->dtlb = h->tlb[TLB_U];
}

void rv_take_trap(struct vmc__rv_hart *h, uint64_t cause, uint64_t tval,
		  bool interrupt)
{
	uint64_t deleg = interrupt ? h->mideleg : h->medeleg;
	uint64_t code = cause | (interrupt ? 1ull << 63 : 0);
	uint64_t s = h->mstatus;

	h->res_addr = ~0ull;
	if (h->priv <= VMC__RV_PRIV_S && ((deleg >> cause) & 1)) {
		h->scause = code;
		h->sepc = h->pc;
		h->stval = tval;
		s &= ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
		if (h->priv == VMC__RV_PRIV_S)
			s |= MSTATUS_SPP;
		if (h->mstatus & MSTATUS_SIE)
			s |= MSTATUS_SPIE;
		h->priv = VMC__RV_PRIV_S;
		h->pc = (h->stvec & ~3ull) +
			((interrupt && (h->stvec & 1)) ? 4 * cause : 0);
	} else {
		h->mcause = code;
		h->mepc = h->pc;
		h->mtval = tval;
		s &= ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
		s |= (uint64_t)h->priv << 11;
		if (h->mstatus & MSTATUS_MIE)
			s |= MSTATUS_MPIE;
		h->priv = VMC__RV_PRIV_M;
		h->pc = (h->mtvec & ~3ull) +
			((interrupt && (h->mtvec & 1)) ? 4 * cause : 0);
	}
	h->mstatus = s;
	rv_update_regimes(h);
}

/* The interrupt to take now, by the spec's priority, or -1. */
int rv_pending_irq(struct vmc__rv_hart *h)
{
	static const int prio[] = {
		VMC__RV_IRQ_MEI, VMC__RV_IRQ_MSI, VMC__RV_IRQ_MTI,
		VMC__RV_IRQ_SEI, VMC__RV_IRQ_SSI, VMC__RV_IRQ_STI,
	};
	uint64_t pending =
		rv_mip(h) & atomic_load_explicit(&h->mie, memory_order_relaxed);
	uint64_t m, s, take = 0;

	if (!pending)
		return -1;
	m = pending & ~h->mideleg;
	s = pending & h->mideleg;
	if (h->priv < VMC__RV_PRIV_M || (h->mstatus & MSTATUS_MIE))
		take = m;
	if (!take && (h->priv < VMC__RV_PRIV_S || (h->priv == VMC__RV_PRIV_S &&
						   (h->mstatus & MSTATUS_SIE))))
		take = s;
	for (unsigned i = 0; i < ARRAY_SIZE(prio); i++)
		if (take & (1ull << prio[i]))
			return prio[i];
	return -1;
}

static int illegal(struct vmc__rv_hart *h, uint32_t raw)
{
	h->exc_cause = EXC_ILLEGAL;
	h->exc_tval = raw;
	return -1;
}

int rv_mret(struct vmc__rv_hart *h)
{
	uint64_t s = h->mstatus;
	unsigned mpp = (unsigned)((s >> 11) & 3);

	if (h->priv != VMC__RV_PRIV_M)
		return illegal(h, 0x30200073);
	s &= ~(MSTATUS_MIE | MSTATUS_MPP);
	if (s & MSTATUS_MPIE)
		s |= MSTATUS_MIE;
	s |= MSTATUS_MPIE;
	if (mpp != VMC__RV_PRIV_M)
		s &= ~MSTATUS_MPRV;
	h->mstatus = s;
	h->priv = mpp;
	h->pc = h->mepc;
	rv_update_regimes(h);
	rv_kick(h, KICK_IRQ);
	return 0;
}

int rv_sret(struct vmc__rv_hart *h)
{
	uint64_t s = h->mstatus;

	if (h->priv < VMC__RV_PRIV_S ||
	    (h->priv == VMC__RV_PRIV_S && (s & MSTATUS_TSR)))
		return illegal(h, 0x10200073);
	h->priv = (s & MSTATUS_SPP) ? VMC__RV_PRIV_S : VMC__RV_PRIV_U;
	s &= ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
	if (s & MSTATUS_SPIE)
		s |= MSTATUS_SIE;
	s |= MSTATUS_SPIE;
	h->mstatus = s;
	h->pc = h->sepc;
	rv_update_regimes(h);
	rv_kick(h, KICK_IRQ);
	return 0;
}

/* menvcfg/senvcfg fields of the cache-block ops (Zicbom, Zicboz). */
#define ENVCFG_FIOM 1ull
#define ENVCFG_CBIE (3ull << 4)
#define ENVCFG_CBCFE (1ull << 6)
#define ENVCFG_CBZE (1ull << 7)
#define SENVCFG_MASK (ENVCFG_FIOM | ENVCFG_CBIE | ENVCFG_CBCFE | ENVCFG_CBZE)
#define ENVCFG_PBMTE (1ull << 62) /* Svpbmt (rv-mmu.c's walk) */
#define ENVCFG_STCE (1ull << 63)  /* Sstc: stimecmp drives STIP */

/* menvcfg's writable bits: those of the extensions switched on. */
static uint64_t menvcfg_mask(const struct vmc__rv_hart *h)
{
	uint64_t m = SENVCFG_MASK;

	if (!(h->ext_off & VMC__RV_EXT_SVPBMT))
		m |= ENVCFG_PBMTE;
	if (!(h->ext_off & VMC__RV_EXT_SSTC))
		m |= ENVCFG_STCE;
	return m;
}

/*
 * Sstc.  With menvcfg.STCE set, STIP is time >= stimecmp (time is
 * time_ns / 100, so STIP rises at time_ns = stimecmp * 100) and mip.STIP
 * is not writable; rv_mip() computes it from stip_at.  The glue's timer
 * (bus.set_timer) wakes a hart waiting in WFI at that instant, and kicks
 * a running one into checking its interrupts.
 */
static void sstc_update(struct vmc__rv_hart *h)
{
	int64_t at = -1;

	if (!(h->ext_off & VMC__RV_EXT_SSTC) && (h->menvcfg & ENVCFG_STCE))
		at = h->stimecmp > (uint64_t)INT64_MAX / 100
			     ? INT64_MAX
			     : (int64_t)(h->stimecmp * 100);
	atomic_store_explicit(&h->stip_at, at, memory_order_release);
	if (h->bus.set_timer)
		h->bus.set_timer(h->bus.opaque,
				 at >= 0 && at != INT64_MAX ? at : -1);
	rv_kick(h, KICK_IRQ);
}

void vmc__rv_timer_expired(struct vmc__rv_hart *h)
{
	rv_kick(h, KICK_IRQ);
}

/* A WARL write of menvcfg/senvcfg: CBIE's reserved value 2 keeps the old
 * field. */
static uint64_t envcfg_write(uint64_t old, uint64_t v, uint64_t mask)
{
	v &= mask;
	if ((v & ENVCFG_CBIE) == (2ull << 4))
		v = (v & ~ENVCFG_CBIE) | (old & ENVCFG_CBIE);
	return v;
}

/*
 * cbo.clean/flush/inval have nothing to do on a hart without caches; the
 * enables in menvcfg (below M) and senvcfg (in U) decide whether they are
 * illegal.  cbo.zero writes zeros over the 64-byte block through the MMU
 * with store permission; a fault reports va as the spec asks.
 */
int rv_cbo(struct vmc__rv_hart *h, unsigned op, uint64_t va, uint32_t raw)
{
	uint64_t need = op == VMC__RV_OP_CBO_ZERO    ? ENVCFG_CBZE
			: op == VMC__RV_OP_CBO_INVAL ? ENVCFG_CBIE
						     : ENVCFG_CBCFE;

	if (h->priv < VMC__RV_PRIV_M && !(h->menvcfg & need))
		return illegal(h, raw);
	if (h->priv < VMC__RV_PRIV_S && !(h->senvcfg & need))
		return illegal(h, raw);
	if (op != VMC__RV_OP_CBO_ZERO)
		return 0;
	/* The block lies in one page: the first store translates it and
	 * checks the permission, so a fault leaves the block untouched. */
	for (uint64_t a = va & ~63ull; a < (va & ~63ull) + 64; a += 8) {
		if (rv_store_slow(h, a, 8, 0)) {
			h->exc_tval = va;
			return -1;
		}
	}
	return 0;
}

int rv_sfence(struct vmc__rv_hart *h, uint64_t vaddr, bool all, uint64_t asid,
	      bool all_asids)
{
	if (h->priv == VMC__RV_PRIV_U ||
	    (h->priv == VMC__RV_PRIV_S && (h->mstatus & MSTATUS_TVM)))
		return illegal(h, 0);
	rv_tlb_fence(h, vaddr, all, (uint16_t)asid, all_asids);
	return 0;
}

static uint64_t counter_now(struct vmc__rv_hart *h, bool instret)
{
	unsigned bit = instret ? 2 : 0;

	if (h->mcountinhibit & (1u << bit))
		return instret ? h->instret_frozen : h->cycle_frozen;
	return h->retired + (instret ? h->instret_off : h->cycle_off);
}

static void counter_write(struct vmc__rv_hart *h, bool instret, uint64_t v,
			  bool debugger)
{
	unsigned bit = instret ? 2 : 0;
	/* A CSR instruction's write replaces its own increment. */
	uint64_t base = h->retired + (debugger ? 0 : 1);

	if (h->mcountinhibit & (1u << bit)) {
		if (instret)
			h->instret_frozen = v;
		else
			h->cycle_frozen = v;
	} else if (instret) {
		h->instret_off = v - base;
	} else {
		h->cycle_off = v - base;
	}
}

/* The Zihpm counters (see struct vmc__rv_hart's hpm_*). */
#define HPM_EVENT_CYCLES 1
#define HPM_EVENT_INSTRET 2
#define MCOUNTINHIBIT_MASK (0x5ull | (((1ull << RV_NHPM) - 1) << 3))

static bool hpm_exists(unsigned n)
{
	return n >= 3 && n < 3 + RV_NHPM;
}

static bool hpm_counting(const struct vmc__rv_hart *h, unsigned n)
{
	return (h->hpm_event[n] == HPM_EVENT_CYCLES ||
		h->hpm_event[n] == HPM_EVENT_INSTRET) &&
	       !((h->mcountinhibit >> n) & 1);
}

static uint64_t hpm_now(const struct vmc__rv_hart *h, unsigned n)
{
	if (!hpm_exists(n))
		return 0;
	return hpm_counting(h, n) ? h->retired + h->hpm_off[n]
				  : h->hpm_frozen[n];
}

static void hpm_write(struct vmc__rv_hart *h, unsigned n, uint64_t v,
		      bool debugger)
{
	if (!hpm_exists(n))
		return;
	/* As counter_write(): a CSR instruction's write replaces its own
	 * increment. */
	if (hpm_counting(h, n))
		h->hpm_off[n] = v - (h->retired + (debugger ? 0 : 1));
	else
		h->hpm_frozen[n] = v;
}

/* Change an event or the inhibit bits: counters go on from their values. */
static void hpm_reconfigure(struct vmc__rv_hart *h, uint64_t inhibit,
			    unsigned event_n, uint64_t event)
{
	uint64_t cur[32];

	for (unsigned n = 3; n < 3 + RV_NHPM; n++)
		cur[n] = hpm_now(h, n);
	h->mcountinhibit = (h->mcountinhibit & 7) | (inhibit & ~7ull);
	if (hpm_exists(event_n))
		h->hpm_event[event_n] = event;
	for (unsigned n = 3; n < 3 + RV_NHPM; n++)
		hpm_write(h, n, cur[n], true);
}

static bool counter_allowed(struct vmc__rv_hart *h, unsigned idx)
{
	if (h->priv < VMC__RV_PRIV_M && !((h->mcounteren >> idx) & 1))
		return false;
	if (h->priv < VMC__RV_PRIV_S && !((h->scounteren >> idx) & 1))
		return false;
	return true;
}

/* Read a CSR; debugger reads skip the privilege and counter-enable rules.
 * Returns 0, or -1 for "illegal instruction". */
int rv_csr_read(struct vmc__rv_hart *h, unsigned csr, uint64_t *val,
		bool debugger)
{
	uint64_t v;

	if (!debugger && ((csr >> 8) & 3) > h->priv)
		return -1;
	if (csr >= 0xc00 && csr <= 0xc1f) {
		if (!debugger && !counter_allowed(h, csr - 0xc00))
			return -1;
		if (csr == 0xc01) {
			if (!h->bus.time_ns)
				return -1;
			*val = (uint64_t)(h->bus.time_ns(h->bus.opaque) / 100);
			return 0;
		}
		*val = csr == 0xc00   ? counter_now(h, false)
		       : csr == 0xc02 ? counter_now(h, true)
				      : hpm_now(h, csr - 0xc00);
		return 0;
	}
	if (csr >= 0xb03 && csr <= 0xb1f) { /* mhpmcounter3..31 */
		*val = hpm_now(h, csr - 0xb00);
		return 0;
	}
	if (csr >= 0x323 && csr <= 0x33f) { /* mhpmevent3..31 */
		*val = h->hpm_event[csr - 0x320];
		return 0;
	}
	if (csr >= 0x3b0 && csr <= 0x3bf) {
		*val = h->pmpaddr[csr - 0x3b0];
		return 0;
	}
	if (csr >= 0x001 && csr <= 0x003) { /* fflags, frm, fcsr */
		if (!debugger && !(h->mstatus & MSTATUS_FS))
			return -1;
		*val = csr == 1	  ? h->fflags
		       : csr == 2 ? h->frm
				  : (h->frm << 5 | h->fflags);
		return 0;
	}
	switch (csr) {
	case 0x100:
		v = h->mstatus & SSTATUS_MASK;
		break;
	case 0x104:
		v = atomic_load(&h->mie) & h->mideleg;
		break;
	case 0x105:
		v = h->stvec;
		break;
	case 0x106:
		v = h->scounteren;
		break;
	case 0x10a:
		v = h->senvcfg;
		break;
	case 0x140:
		v = h->sscratch;
		break;
	case 0x141:
		v = h->sepc;
		break;
	case 0x142:
		v = h->scause;
		break;
	case 0x143:
		v = h->stval;
		break;
	case 0x144:
		v = rv_mip(h) & h->mideleg;
		break;
	case 0x14d: /* stimecmp: S needs mcounteren.TM and menvcfg.STCE */
		if (h->ext_off & VMC__RV_EXT_SSTC)
			return -1;
		if (!debugger && h->priv < VMC__RV_PRIV_M &&
		    (!(h->mcounteren & 2) || !(h->menvcfg & ENVCFG_STCE)))
			return -1;
		v = h->stimecmp;
		break;
	case 0x180:
		if (!debugger && h->priv == VMC__RV_PRIV_S &&
		    (h->mstatus & MSTATUS_TVM))
			return -1;
		v = h->satp;
		break;
	case 0xf11:
	case 0xf12:
	case 0xf13:
	case 0xf15:
		v = 0;
		break;
	case 0xf14:
		v = h->hartid;
		break;
	case 0x300:
		v = h->mstatus;
		break;
	case 0x301:
		v = MISA_VALUE;
		break;
	case 0x302:
		v = h->medeleg;
		break;
	case 0x303:
		v = h->mideleg;
		break;
	case 0x304:
		v = atomic_load(&h->mie);
		break;
	case 0x305:
		v = h->mtvec;
		break;
	case 0x306:
		v = h->mcounteren;
		break;
	case 0x30a:
		v = h->menvcfg;
		break;
	case 0x320:
		v = h->mcountinhibit;
		break;
	case 0x340:
		v = h->mscratch;
		break;
	case 0x341:
		v = h->mepc;
		break;
	case 0x342:
		v = h->mcause;
		break;
	case 0x343:
		v = h->mtval;
		break;
	case 0x344:
		v = rv_mip(h);
		break;
	case 0x3a0:
	case 0x3a2: {
		unsigned base = csr == 0x3a0 ? 0 : 8;

		v = 0;
		for (unsigned i = 0; i < 8; i++)
			v |= (uint64_t)h->pmpcfg[base + i] << (8 * i);
		break;
	}
	case 0xb00:
		v = counter_now(h, false);
		break;
	case 0xb02:
		v = counter_now(h, true);
		break;
	case 0x7a0: /* Sdtrig (rv-trig.c) */
	case 0x7a1:
	case 0x7a2:
	case 0x7a3:
	case 0x7a4:
		return rv_trig_csr_read(h, csr, val);
	default:
		return -1;
	}
	*val = v;
	return 0;
}

static void pmp_changed(struct vmc__rv_hart *h)
{
	h->pmp_active = false;
	for (unsigned i = 0; i < 16; i++)
		if (h->pmpcfg[i] & 0x18)
			h->pmp_active = true;
	rv_tlb_flush(h);
	/* Blocks were built knowing whether PMP was uniform over their page:
	 * drop them at the next block boundary (not now: the block that
	 * wrote the CSR is still executing). */
	rv_kick(h, KICK_TLB);
}

static void pmpcfg_write(struct vmc__rv_hart *h, unsigned base, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i)) & 0x9f;

		if (h->pmpcfg[base + i] & 0x80)
			continue; /* locked */
		if ((b & 3) == 2) /* W without R is reserved: keep the old */
			continue;
		h->pmpcfg[base + i] = b;
	}
	pmp_changed(h);
}

static void pmpaddr_write(struct vmc__rv_hart *h, unsigned i, uint64_t v)
{
	if (h->pmpcfg[i] & 0x80)
		return;
	if (i < 15 && (h->pmpcfg[i + 1] & 0x80) &&
	    ((h->pmpcfg[i + 1] >> 3) & 3) == 1)
		return; /* the address is the locked TOR entry's bottom */
	h->pmpaddr[i] = v & ((1ull << 54) - 1);
	pmp_changed(h);
}

static void mstatus_write(struct vmc__rv_hart *h, uint64_t v, uint64_t mask)
{
	uint64_t old = h->mstatus;
	uint64_t s = (old & ~mask) | (v & mask);

	/* MPP is WARL over U, S, M: the reserved value 2 keeps the old. */
	if (((s >> 11) & 3) == 2)
		s = (s & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
	h->mstatus = (s & MSTATUS_WMASK) | MSTATUS_UXL_64 | MSTATUS_SXL_64;
	/* SD summarises FS (there is no XS or VS state). */
	if ((h->mstatus & MSTATUS_FS) == MSTATUS_FS)
		h->mstatus |= MSTATUS_SD;
	if ((old ^ h->mstatus) & MSTATUS_MXR)
		rv_tlb_flush(h);
	rv_update_regimes(h);
}

/* Write a CSR (privilege already checked for instructions).  Returns 0, or
 * -1 for "illegal instruction". */
int rv_csr_write(struct vmc__rv_hart *h, unsigned csr, uint64_t v,
		 bool debugger)
{
	if (csr >= 0xb03 && csr <= 0xb1f) {
		hpm_write(h, csr - 0xb00, v, debugger);
		return 0;
	}
	if (csr >= 0x323 && csr <= 0x33f) {
		/* WARL: any value is kept; 1 and 2 count (see hpm_now). */
		hpm_reconfigure(h, h->mcountinhibit, csr - 0x320, v);
		return 0;
	}
	if (csr >= 0x3b0 && csr <= 0x3bf) {
		pmpaddr_write(h, csr - 0x3b0, v);
		return 0;
	}
	if (csr >= 0x001 && csr <= 0x003) {
		if (!debugger && !(h->mstatus & MSTATUS_FS))
			return -1;
		if (csr == 1)
			h->fflags = v & 0x1f;
		else if (csr == 2)
			h->frm = v & 7;
		else {
			h->fflags = v & 0x1f;
			h->frm = (v >> 5) & 7;
		}
		if (h->mstatus & MSTATUS_FS)
			h->mstatus |= MSTATUS_FS | MSTATUS_SD;
		return 0;
	}
	switch (csr) {
	case 0x100:
		mstatus_write(h, v, SSTATUS_MASK & ~MSTATUS_UXL & ~MSTATUS_SD);
		break;
	case 0x104: {
		uint64_t m = h->mideleg & MIE_MASK;

		atomic_store(&h->mie, (atomic_load(&h->mie) & ~m) | (v & m));
		break;
	}
	case 0x105:
		if ((v & 3) < 2)
			h->stvec = v;
		break;
	case 0x106:
		h->scounteren = v & 0xffffffffu;
		break;
	case 0x10a:
		h->senvcfg = envcfg_write(h->senvcfg, v, SENVCFG_MASK);
		break;
	case 0x140:
		h->sscratch = v;
		break;
	case 0x141:
		h->sepc = v & ~1ull;
		break;
	case 0x142:
		h->scause = v;
		break;
	case 0x143:
		h->stval = v;
		break;
	case 0x144:
		if (h->mideleg & (1u << VMC__RV_IRQ_SSI))
			h->mip_sw = (h->mip_sw & ~(1ull << VMC__RV_IRQ_SSI)) |
				    (v & (1ull << VMC__RV_IRQ_SSI));
		break;
	case 0x14d:
		h->stimecmp = v;
		sstc_update(h);
		break;
	case 0x180: {
		unsigned mode = (unsigned)(v >> 60);
		uint64_t old;

		if (!debugger && h->priv == VMC__RV_PRIV_S &&
		    (h->mstatus & MSTATUS_TVM))
			return -1;
		if (mode != 0 && mode != 8 && mode != 9)
			break; /* unsupported mode: the write has no effect */
		v &= (15ull << 60) | (0xffffull << 44) | ((1ull << 44) - 1);
		old = h->satp;
		h->satp = v;
		if ((old ^ v) >> 60) /* a new mode: nothing cached holds */
			rv_tlb_flush(h);
		else if ((old ^ v) & (0xffffull << 44))
			rv_tlb_switch_asid(h, (uint16_t)(v >> 44));
		else if (old != v) /* a new root under the same ASID */
			rv_tlb_fence(h, 0, true, (uint16_t)(v >> 44), false);
		break;
	}
	case 0x300:
		mstatus_write(h, v, MSTATUS_WMASK);
		break;
	case 0x301:
		break; /* misa: WARL, fixed */
	case 0x302:
		h->medeleg = v & MEDELEG_MASK;
		break;
	case 0x303:
		h->mideleg = v & IRQ_S_MASK;
		break;
	case 0x304:
		atomic_store(&h->mie, v & MIE_MASK);
		break;
	case 0x305:
		if ((v & 3) < 2)
			h->mtvec = v;
		break;
	case 0x306:
		h->mcounteren = v & 0xffffffffu;
		break;
	case 0x30a:
		h->menvcfg = envcfg_write(h->menvcfg, v, menvcfg_mask(h));
		sstc_update(h);
		break;
	case 0x320: {
		uint64_t old = h->mcountinhibit, nv = v & MCOUNTINHIBIT_MASK;

		for (unsigned bit = 0; bit <= 2; bit += 2) {
			bool ir = bit == 2;
			uint64_t cur = counter_now(h, ir);

			h->mcountinhibit = (h->mcountinhibit & ~(1ull << bit)) |
					   (nv & (1ull << bit));
			if ((old ^ nv) & (1ull << bit))
				counter_write(h, ir, cur, true);
		}
		hpm_reconfigure(h, nv, 0, 0);
		h->mcountinhibit = nv;
		break;
	}
	case 0x340:
		h->mscratch = v;
		break;
	case 0x341:
		h->mepc = v & ~1ull;
		break;
	case 0x342:
		h->mcause = v;
		break;
	case 0x343:
		h->mtval = v;
		break;
	case 0x344: {
		uint64_t m = IRQ_S_MASK;

		if (atomic_load(&h->stip_at) >= 0) /* STIP is stimecmp's */
			m &= ~(1ull << VMC__RV_IRQ_STI);
		h->mip_sw = (h->mip_sw & ~m) | (v & m);
		break;
	}
	case 0x3a0:
		pmpcfg_write(h, 0, v);
		break;
	case 0x3a2:
		pmpcfg_write(h, 8, v);
		break;
	case 0xb00:
		counter_write(h, false, v, debugger);
		break;
	case 0xb02:
		counter_write(h, true, v, debugger);
		break;
	case 0x7a0:
	case 0x7a1:
	case 0x7a2:
	case 0x7a3:
	case 0x7a4:
		return rv_trig_csr_write(h, csr, v);
	default:
		return -1;
	}
	rv_kick(h, KICK_IRQ);
	return 0;
}

int rv_csr_op(struct vmc__rv_hart *h, const struct rv_insn *i)
{
	unsigned csr = (unsigned)i->imm, op = i->op;
	unsigned rd = (i->raw >> 7) & 31, rs1 = (i->raw >> 15) & 31;
	bool imm = op >= VMC__RV_OP_CSRRWI;
	uint64_t src = imm ? rs1 : h->x[rs1];
	bool is_rw = op == VMC__RV_OP_CSRRW || op == VMC__RV_OP_CSRRWI;
	bool write = is_rw || rs1 != 0;
	uint64_t old = 0, nv;

	if (((csr >> 8) & 3) > h->priv)
		return illegal(h, i->raw);
	if (write && (csr >> 10) == 3)
		return illegal(h, i->raw);
	if (!(is_rw && rd == 0) || !write) {
		if (rv_csr_read(h, csr, &old, false))
			return illegal(h, i->raw);
	} else {
		/* csrw: the CSR must still exist and be accessible. */
		uint64_t dummy;

		if (rv_csr_read(h, csr, &dummy, false))
			return illegal(h, i->raw);
	}
	if (write) {
		uint64_t base = old;

		/* Read-modify-write of mip uses the software-written bits,
		 * not the device lines, as the spec says for SEIP. */
		if (csr == 0x344)
			base = h->mip_sw;
		else if (csr == 0x144)
			base = h->mip_sw & h->mideleg;
		if (is_rw)
			nv = src;
		else if (op == VMC__RV_OP_CSRRS || op == VMC__RV_OP_CSRRSI)
			nv = base | src;
		else
			nv = base & ~src;
		if (rv_csr_write(h, csr, nv, false))
			return illegal(h, i->raw);
	}
	h->x[rd] = old;
	h->x[0] = 0;
	return 0;
}

/* Hart object. */

int vmc__rv_shared_new(struct vmc__rv_shared **ret)
{
	struct vmc__rv_shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return -ENOMEM;
	pthread_mutex_init(&sh->lock, NULL);
	*ret = sh;
	return 0;
}

void vmc__rv_shared_free(struct vmc__rv_shared *sh)
{
	if (!sh)
		return;
	rv_codeset_free(sh);
	rv_jit_buf_free(sh->jit);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

int vmc__rv_hart_new(const struct vmc__rv_config *cfg,
		     struct vmc__rv_hart **ret)
{
	struct vmc__rv_hart *h;
	struct vmc__rv_shared *sh = cfg->shared;
	int r;

	if (!cfg->bus.ram_lookup || !cfg->bus.io_read || !cfg->bus.io_write)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (!sh) {
		r = vmc__rv_shared_new(&sh);
		if (r < 0) {
			free(h);
			return r;
		}
		h->own_shared = true;
	}
	pthread_mutex_lock(&sh->lock);
	if (sh->nharts == MAX_HARTS) {
		pthread_mutex_unlock(&sh->lock);
		if (h->own_shared)
			vmc__rv_shared_free(sh);
		free(h);
		return -ENOSPC;
	}
	h->jit_on = rv_jit_wanted(cfg->jit);
	h->jit_hot = cfg->jit_hot ? cfg->jit_hot : rv_jit_hot_default();
	/* The code buffer comes with the first hart that translates; a
	 * hart goes on interpreting without one. */
	if (h->jit_on && !sh->jit &&
	    rv_jit_buf_new(cfg->jit_code_size, &sh->jit) < 0)
		h->jit_on = false;
	sh->harts[sh->nharts++] = h;
	h->inval_seen = atomic_load(&sh->inval_gen);
	pthread_mutex_unlock(&sh->lock);
	h->shared = sh;
	h->bus = cfg->bus;
	h->hartid = cfg->hartid;
	h->ext_off = cfg->ext_off & VMC__RV_EXT_ALL;
	atomic_init(&h->stip_at, -1);
	vmc__rv_hart_reset(h, 0);
	*ret = h;
	return 0;
}

void vmc__rv_hart_free(struct vmc__rv_hart *h)
{
	struct vmc__rv_shared *sh;

	if (!h)
		return;
	sh = h->shared;
	vmc__rv_hart_flush_blocks(h);
	pthread_mutex_lock(&sh->lock);
	for (unsigned i = 0; i < sh->nharts; i++) {
		if (sh->harts[i] == h) {
			sh->harts[i] = sh->harts[--sh->nharts];
			break;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	if (h->own_shared)
		vmc__rv_shared_free(sh);
	free(h);
}

void vmc__rv_hart_reset(struct vmc__rv_hart *h, uint64_t pc)
{
	memset(h->x, 0, sizeof(h->x));
	/* As QEMU's virt: FS Off, f registers and fcsr zero. */
	memset(h->f, 0, sizeof(h->f));
	h->fflags = h->frm = 0;
	h->pc = pc;
	h->priv = VMC__RV_PRIV_M;
	h->mstatus = MSTATUS_UXL_64 | MSTATUS_SXL_64;
	h->medeleg = h->mideleg = 0;
	atomic_store(&h->mie, 0);
	h->mip_sw = 0;
	h->mtvec = h->mscratch = h->mepc = h->mcause = h->mtval = 0;
	h->stvec = h->sscratch = h->sepc = h->scause = h->stval = 0;
	h->satp = h->mcounteren = h->scounteren = 0;
	h->menvcfg = h->senvcfg = h->mcountinhibit = 0;
	/* As Spike does: with Svpbmt, PBMTE starts set, so a kernel told
	 * of Svpbmt by the device tree can use it under firmware that does
	 * not know the bit. */
	if (!(h->ext_off & VMC__RV_EXT_SVPBMT))
		h->menvcfg = ENVCFG_PBMTE;
	h->stimecmp = ~0ull;
	sstc_update(h);
	h->cycle_off = h->instret_off = 0 - h->retired;
	memset(h->hpm_event, 0, sizeof(h->hpm_event));
	memset(h->hpm_frozen, 0, sizeof(h->hpm_frozen));
	memset(h->pmpcfg, 0, sizeof(h->pmpcfg));
	memset(h->pmpaddr, 0, sizeof(h->pmpaddr));
	h->pmp_active = false;
	h->res_addr = ~0ull;
	rv_trig_reset(h);
	h->consecutive_traps = 0;
	h->trap_retired = ~0ull;
	rv_tlb_flush(h);
	vmc__rv_hart_flush_blocks(h);
	rv_update_regimes(h);
}

void vmc__rv_request_exit(struct vmc__rv_hart *h)
{
	rv_kick(h, KICK_EXIT);
}

void vmc__rv_set_irq(struct vmc__rv_hart *h, unsigned bit, bool level)
{
	if (bit >= 64)
		return;
	if (level)
		atomic_fetch_or(&h->mip_hw, 1ull << bit);
	else
		atomic_fetch_and(&h->mip_hw, ~(1ull << bit));
	rv_kick(h, KICK_IRQ);
}

bool vmc__rv_has_work(struct vmc__rv_hart *h)
{
	return (rv_mip(h) & atomic_load(&h->mie)) != 0;
}

void vmc__rv_request_tlb_flush(struct vmc__rv_hart *h)
{
	rv_kick(h, KICK_TLB);
}

void vmc__rv_memory_map_changed(struct vmc__rv_shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	for (unsigned i = 0; i < sh->nharts; i++)
		rv_kick(sh->harts[i], KICK_TLB);
	pthread_mutex_unlock(&sh->lock);
}

void vmc__rv_flush_all_blocks(struct vmc__rv_shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	for (unsigned i = 0; i < sh->nharts; i++) {
		vmc__rv_hart_flush_blocks(sh->harts[i]);
		rv_tlb_flush(sh->harts[i]);
	}
	for (unsigned n = 0; n < (1u << CODESET_BITS); n++)
		atomic_store_explicit(&sh->codeset[n], 0, memory_order_relaxed);
	sh->codeset_used = 0;
	/* No block is left to run the translated code. */
	rv_jit_buf_reset(sh->jit);
	pthread_mutex_unlock(&sh->lock);
}

bool vmc__rv_jit_enabled(struct vmc__rv_hart *h)
{
	return h->jit_on;
}

uint32_t vmc__rv_get_ext_off(struct vmc__rv_hart *h)
{
	return h->ext_off;
}

int vmc__rv_set_ext_off(struct vmc__rv_hart *h, uint32_t off)
{
	if (off & ~(uint32_t)VMC__RV_EXT_ALL)
		return -EINVAL;
	if (off != h->ext_off) {
		/* Blocks were decoded for the old set. */
		h->ext_off = off;
		if (off & VMC__RV_EXT_SVPBMT)
			h->menvcfg &= ~ENVCFG_PBMTE;
		if (off & VMC__RV_EXT_SSTC)
			h->menvcfg &= ~ENVCFG_STCE;
		sstc_update(h);
		vmc__rv_hart_flush_blocks(h);
	}
	return 0;
}

uint64_t vmc__rv_get_gpr(struct vmc__rv_hart *h, unsigned n)
{
	return n < 32 ? h->x[n] : 0;
}

void vmc__rv_set_gpr(struct vmc__rv_hart *h, unsigned n, uint64_t v)
{
	if (n && n < 32)
		h->x[n] = v;
}

int vmc__rv_get_fpr(struct vmc__rv_hart *h, unsigned n, uint64_t *val)
{
	if (n >= 32)
		return -EINVAL;
	*val = h->f[n];
	return 0;
}

int vmc__rv_set_fpr(struct vmc__rv_hart *h, unsigned n, uint64_t val)
{
	if (n >= 32)
		return -EINVAL;
	h->f[n] = val;
	if (h->mstatus & MSTATUS_FS)
		h->mstatus |= MSTATUS_FS | MSTATUS_SD;
	return 0;
}

uint64_t vmc__rv_get_pc(struct vmc__rv_hart *h)
{
	return h->pc;
}

void vmc__rv_set_pc(struct vmc__rv_hart *h, uint64_t pc)
{
	h->pc = pc & ~1ull;
}

unsigned vmc__rv_get_priv(struct vmc__rv_hart *h)
{
	return h->priv;
}

void vmc__rv_set_priv(struct vmc__rv_hart *h, unsigned priv)
{
	if (priv == VMC__RV_PRIV_U || priv == VMC__RV_PRIV_S ||
	    priv == VMC__RV_PRIV_M) {
		h->priv = priv;
		rv_update_regimes(h);
	}
}

int vmc__rv_get_csr(struct vmc__rv_hart *h, unsigned csr, uint64_t *val)
{
	if (csr > 0xfff || rv_csr_read(h, csr, val, true))
		return -EINVAL;
	return 0;
}

int vmc__rv_set_csr(struct vmc__rv_hart *h, unsigned csr, uint64_t val)
{
	uint64_t dummy;

	if (csr > 0xfff || (csr >> 10) == 3 ||
	    rv_csr_read(h, csr, &dummy, true) ||
	    rv_csr_write(h, csr, val, true))
		return -EINVAL;
	return 0;
}

uint64_t vmc__rv_get_retired(struct vmc__rv_hart *h)
{
	return h->retired;
}

int vmc__rv_add_breakpoint(struct vmc__rv_hart *h, uint64_t pc)
{
	for (unsigned i = 0; i < h->nbps; i++)
		if (h->bps[i] == pc)
			return -EEXIST;
	if (h->nbps == MAX_BREAKPOINTS)
		return -ENOSPC;
	h->bps[h->nbps++] = pc;
	/* Chains may run through the page: drop them. */
	vmc__rv_hart_flush_blocks(h);
	return 0;
}

int vmc__rv_remove_breakpoint(struct vmc__rv_hart *h, uint64_t pc)
{
	for (unsigned i = 0; i < h->nbps; i++) {
		if (h->bps[i] == pc) {
			h->bps[i] = h->bps[--h->nbps];
			vmc__rv_hart_flush_blocks(h);
			return 0;
		}
	}
	return -ENOENT;
}

void vmc__rv_set_single_step(struct vmc__rv_hart *h, bool on)
{
	h->single_step = on;
}

int vmc__rv_add_watchpoint(struct vmc__rv_hart *h, uint64_t addr, uint64_t len,
			   bool on_read, bool on_write)
{
	if (!len || (!on_read && !on_write))
		return -EINVAL;
	if (h->nwatch == MAX_WATCHPOINTS)
		return -ENOSPC;
	h->watch[h->nwatch++] = (struct rv_watch){addr, len, on_read, on_write};
	rv_tlb_flush(h);
	return 0;
}

int vmc__rv_remove_watchpoint(struct vmc__rv_hart *h, uint64_t addr,
			      uint64_t len)
{
	for (unsigned i = 0; i < h->nwatch; i++) {
		if (h->watch[i].addr == addr && h->watch[i].len == len) {
			h->watch[i] = h->watch[--h->nwatch];
			rv_tlb_flush(h);
			return 0;
		}
	}
	return -ENOENT;
}

bool vmc__rv_get_watch_hit(struct vmc__rv_hart *h, uint64_t *addr,
			   bool *is_write)
{
	if (!h->watch_hit)
		return false;
	*addr = h->watch_hit_addr;
	*is_write = h->watch_hit_write;
	return true;
}

void vmc__rv_clear_watch_hit(struct vmc__rv_hart *h)
{
	h->watch_hit = false;
}

bool vmc__rv_get_single_step(struct vmc__rv_hart *h)
{
	return h->single_step;
}
