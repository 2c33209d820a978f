/* SPDX-License-Identifier: MIT */
/*
 * Internals of the RV64 hart: state, TLB, blocks, and the protocol that
 * keeps translated code coherent across harts.  The facts about each op are
 * in rv-ops.h; the executor's parts (block cache, translator, interpreter)
 * and their contracts in rv-exec.h.
 *
 * TLB.  Each hart has four direct-mapped TLBs of 256 entries, one per
 * translation regime: U, S, S with mstatus.SUM, and M (identity).  Fetches
 * use the regime of the current privilege; loads and stores that of the
 * effective privilege (MPRV/MPP) and SUM, so neither traps nor MPRV flips
 * flush anything.  Changing satp's mode, MXR, or a PMP register flushes
 * them all.  Entries are tagged with the satp.ASID they were filled under
 * and whether the walk met PTE.G (global: any ASID; also bare and M
 * entries).  A satp write that changes the ASID alone parks every
 * non-global entry of another ASID (its tags become invalid, the rest is
 * kept) and revives the parked entries of the new ASID, in one pass over
 * the entries and without a walk, so the fast path never compares ASIDs;
 * a write that keeps the ASID but changes the root drops that ASID's
 * non-global entries.  sfence.vma drops exactly the entries the privileged
 * spec names (by address, using the leaf's size for superpages; by ASID,
 * sparing global ones); parked entries are dropped alike.
 * An entry holds one tag per access kind (read, write, exec); a tag equals
 * the virtual page address when that access may use the host pointer
 * directly.  A tag with flag bits set (TLB_SLOW) routes the access to the
 * slow path: I/O pages, pages whose PMP permissions are not uniform,
 * watchpoint pages, and writes to pages holding translated code.  The fast
 * path compares the tag with the address masked by (page mask | size - 1),
 * so a misaligned access also takes the slow path, which handles it.
 *
 * Blocks.  A block is the pre-decoded run of instructions starting at a
 * virtual pc, ending at a jump, a conditional branch back to the block's
 * start (a loop), a CSR or system instruction, a page end or 64
 * instructions; it never crosses a page (an instruction that straddles two
 * pages is executed from a one-off block that is not cached).  Other
 * conditional branches do not end a block: taken, they leave it having
 * retired the instructions up to them.  Blocks live in a per-hart hash
 * keyed by (virtual pc, physical pc, flags) and are also listed per
 * physical page.  Direct successors are chained only within one virtual
 * page, so a chain never outlives the translation that reached its first
 * block and invalidating a page unlinks every chain that enters it (all of
 * them start in the same page).  A per-hart jump cache maps a pc to the
 * block last looked up there, for jalr and taken branches inside blocks;
 * it is checked against the fetch TLB at each use and loses blocks as they
 * are freed.
 *
 * Interpreter.  Each slot of a block holds its handler's address (direct
 * threading).  Handlers that write rd also keep the value in a local, and
 * an instruction whose rs1 is the previous slot's rd reads it from there
 * (its F_ form), so dependent instructions do not wait on the register
 * file in memory.  Common pairs are fused at decode into one slot (zext.w,
 * add.uw, shNadd, lui/auipc + addi, a loop counter's add + the loop's
 * branch, the add moved down to the branch past plain arithmetic); a slot
 * records how many guest instructions precede it, so budgets, traps and
 * counters stay exact.  A loop's branch re-enters its block with the
 * forwarded value when the block's first instruction reads it.  The budget of a
 * run is counted in a local while blocks chain; h->retired is brought up to
 * date before anything that may read it.
 *
 * Code coherence across harts.  struct vmc__rv_shared keeps a lock-free
 * readable hash set of guest-physical pages that hold translated code, and
 * for each such page a bitmap of its code granules (CODE_GRAN bytes): a
 * superset of the bytes that some hart's cached block was decoded from.
 * A hart that translates code in a page first adds the page, then kicks
 * every hart (KICK_CODE) so each one turns its fast write TLB entries for
 * code pages into slow ones at its next block boundary.  It decodes from
 * a private copy of the bytes, sets the block's granules (rv_codeset_mark),
 * and only then compares the copy with guest memory, retrying on a
 * difference.  A store that reaches a code page through the slow path is
 * made first, then (after a full fence, the other half of this Dekker
 * pair) tests the granules it wrote: if none is code it is done, at the
 * cost of a hash probe; if some are, it clears them, appends (page, byte
 * range) to the invalidation log (a ring with a generation counter) and
 * kicks every hart (KICK_INVAL); each hart then drops the blocks of the
 * logged ranges at its next block boundary, or all of its blocks if it
 * fell more than a ring behind.  Granules of a dropped block that the
 * store did not touch stay set (a store there later costs one spurious
 * log entry and clears them); a page whose bitmap empties leaves the set,
 * and its write TLB entries turn fast again at their next store.  Thus a
 * store is seen by every hart's next block lookup, which is stronger than
 * what fence.i requires (fence.i only ends the block); the storing hart
 * also ends its running block right after such a store (STOP_CODE), and
 * turns its own write entries slow before it runs the first block of a
 * page new to the set, so it sees its own stores to code at its very next
 * instruction, wherever blocks or budgets end.  One window
 * remains and is allowed by the ISA's fence.i rules: a block already
 * executing on hart A when B first translates a page may still store to
 * that page with A's old fast entry; such a store is observed only if A's
 * code synchronises with B afterwards, and it then has passed a block
 * boundary.
 *
 * Invalidation API (for every kind of block, interpreted or translated to
 * host code).  A store calls no block code: it only logs.  Each hart, on
 * its own thread between blocks, runs rv_blocks_process_inval(), which
 * calls rv_blocks_invalidate_range() for each logged range; that drops
 * every block of the page whose guest bytes [ppc, ppc + len) overlap the
 * range (unhooking each from the hash and the jump cache), and resets the
 * chains of the page's surviving blocks (chains never leave a page, so
 * nothing else can point at a dropped block).  rv_block_release() in
 * rv-block.c is the one place a cached block is freed, by such a drop or
 * by a full flush (vmc__rv_hart_flush_blocks(), which a hart runs when a
 * memory-map change, a codeset overflow or an overrun log asks for it,
 * and which vmc__rv_flush_all_blocks() runs while no hart executes): a
 * block that owns host code releases it there.  A code cache that fills
 * asks for a full flush as exclusive work, as today.
 *
 * Atomics.  AMOs on RAM are host atomics on the host pointer (natural
 * alignment is required, as without Zam).  LR records the physical address,
 * size and loaded value; SC succeeds when its physical address matches and a
 * host compare-and-swap from the recorded value succeeds.  A store by another
 * hart that changes the value therefore breaks the reservation; one that
 * writes back the same value does not (the accepted ABA weakness of this
 * scheme, shared with QEMU).  Traps clear the reservation.
 *
 * Misaligned accesses.  As QEMU's riscv target does, ordinary loads and
 * stores of any alignment are performed (byte by byte in the slow path, after
 * translating every page they touch, so a fault leaves memory unchanged);
 * LR/SC and AMOs must be naturally aligned and raise address-misaligned
 * (load for LR, store/AMO otherwise).
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_INTERNAL_H
#define VMC_ACCEL_TCG_RISCV_RV_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <stddef.h>

#include "accel.h"
#include "rv.h"
#include "rv-ops.h"

#define RV_PAGE_SHIFT 12
#define RV_PAGE_SIZE (1ull << RV_PAGE_SHIFT)
#define RV_PAGE_MASK (~(RV_PAGE_SIZE - 1))

/* mhpmcounter3..18 and their events exist (as on QEMU's virt); 19..31 are
 * read-only zero. */
#define RV_NHPM 16

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
/* Tag flag: take the slow path.  It must be a page-offset bit above the
 * ones an access mask keeps (size - 1 <= 7), so no address matches it. */
#define TLB_SLOW 0x800ull
#define TLB_INVALID (~0ull) /* never matches a masked address */

/* TLB regimes. */
enum { TLB_U, TLB_S, TLB_SSUM, TLB_M, TLB_NREG };

enum { ACC_R = 0, ACC_W = 1, ACC_X = 2 };

/* Entry flags (slow path behaviour). */
#define TLBF_IO 1u     /* not RAM: bus I/O callbacks */
#define TLBF_PMPCHK 2u /* PMP not uniform over the page: check each access */
#define TLBF_WATCH 4u  /* a watchpoint overlaps the page */
#define TLBF_CODE 8u   /* page holds translated code (writes) */
#define TLBF_RO 16u    /* ROM: writes fault */
/* (32 is rv-mmu.c's TLBF_NOTDIRTY) */
#define TLBF_GLOBAL 64u	 /* PTE.G on the walk, bare or M: any ASID */
#define TLBF_PARKED 128u /* another ASID's entry: tags invalid, kept */

struct rv_tlbe {
	uint64_t tag[3];  /* per ACC_*; page address, | TLB_SLOW, or invalid */
	uintptr_t addend; /* host = vaddr + addend (RAM pages) */
	uint64_t ppage;	  /* guest-physical page address */
	uint32_t flags;	  /* TLBF_* */
	uint8_t perm_ok;  /* bit per ACC_* the translation and PMP allow */
	uint8_t level;	  /* leaf level of the walk (0: 4 KiB page) */
	uint16_t asid;	  /* satp.ASID the entry was filled under */
	uint64_t vpage;	  /* virtual page; ~0 when the entry is empty */
	/* A power-of-two size makes the entry address a shift and a mask
	 * of the virtual address in the load/store fast path. */
	uint8_t pad[8];
};
_Static_assert(sizeof(struct rv_tlbe) == 64, "a TLB entry is 64 bytes");

/* Kick bits of hart->kick. */
#define KICK_EXIT 1u   /* the glue wants vmc__rv_run() to return */
#define KICK_IRQ 2u    /* mip or an enable changed: recheck interrupts */
#define KICK_CODE 4u   /* new code pages: slow down write TLB entries */
#define KICK_INVAL 8u  /* code pages invalidated: drop blocks */
#define KICK_TLB 16u   /* memory map changed: flush TLB and blocks */
#define KICK_DEBUG 32u /* watchpoint hit */

/* Why an access ends its block (h->watch_stop): a watchpoint fired, so
 * vmc__rv_run() returns VMC__RV_EXIT_DEBUG right after it; or the access
 * overwrote code that some cached block was decoded from (maybe the rest
 * of the running one), so execution goes on at the next instruction,
 * fetched afresh after the blocks are dropped.  A hart thus sees its own
 * stores to code at the very next instruction, whatever the block
 * boundaries and budgets are: state never depends on where a budget split
 * the run. */
#define STOP_WATCH 1u
#define STOP_CODE 2u

/* Block flags (part of the key). */
#define BLK_SINGLE 1u /* one instruction, no chaining */

/* A pre-decoded instruction. */
struct rv_insn {
	const void *h; /* dispatch label */
	int64_t imm;   /* immediate, or precomputed absolute value */
	uint32_t raw;
	uint8_t rd, rs1, rs2, len;
	uint16_t pcoff; /* offset of this instruction from the block pc */
	uint16_t op;
	uint8_t idx; /* guest instructions before this one in the block */
};

struct rv_block {
	uint64_t vpc, ppc;
	uint32_t flags;
	uint32_t n;   /* instructions (the end marker is not counted) */
	uint32_t len; /* guest bytes decoded, from ppc */
	struct rv_block *hnext;	  /* hash chain */
	struct rv_block *pnext;	  /* per-page list */
	struct rv_block *link[2]; /* chained successors: taken, not taken */
	const void *loop_h; /* first slot's handler when a loop re-enters */
	const void *jit;    /* translated code's entry (rv-jit.c), or NULL */
	/* Runs through the dispatcher left before translation is tried (0:
	 * tried, or never to be).  While not 0 the block is not chained,
	 * not in the jump cache and its loop leaves through the
	 * dispatcher, so every run counts. */
	uint32_t cold;
	struct rv_jit_in *jit_in; /* jumps patched to enter it (rv-jit.c) */
	/* Blocks are 64-byte aligned and slots 32 bytes: no slot straddles
	 * two cache lines. */
	_Alignas(32) struct rv_insn insns[];
};

/*
 * A block is translated on its RV_JIT_HOT-th run by default (h->jit_hot),
 * not its first: code that
 * runs a few times (boot, start-up, a firmware's one-off paths) is cheaper
 * to interpret than to translate, and a hart stalls the shortest time on
 * code it meets the first time (firmware with a window between two
 * stores that another hart polls, such as OpenSBI 1.1's hart start, is
 * not widened by a translation in the middle).
 */
#define RV_JIT_HOT 4

struct rv_cpage {
	uint64_t ppage;
	struct rv_block *blocks;
	struct rv_cpage *next;
};

#define BLK_HASH_BITS 14
#define JC_BITS 10
#define CPAGE_HASH_BITS 10

#define MAX_BREAKPOINTS 64
#define MAX_WATCHPOINTS 16

struct rv_watch {
	uint64_t addr, len;
	bool r, w;
};

/* Sdtrig triggers (rv-trig.c). */
#define RV_NTRIG 4
struct rv_trig {
	uint64_t tdata1, tdata2;
};

/* The code-page set and invalidation log shared by a VM's harts. */
#define CODESET_BITS 16
#define INVAL_RING 64
#define MAX_HARTS 512
/* Code granules: 4 bytes, so a page's bitmap is 16 words. */
#define CODE_GRAN_SHIFT 2
#define CODE_BITMAP_WORDS (RV_PAGE_SIZE >> CODE_GRAN_SHIFT >> 6)

/* A logged invalidation: guest bytes [lo, hi) of a physical page. */
struct rv_inval {
	uint64_t ppage;
	uint32_t lo, hi;
};

struct vmc__rv_shared {
	pthread_mutex_t lock;
	/* Open addressing; a slot holds (ppage | 1) for a code page, ppage
	 * for a page that was code once, 0 when free.  Readers are lock-free.
	 */
	_Atomic uint64_t codeset[1u << CODESET_BITS];
	unsigned codeset_used;
	/* The code granules of each slot's page (CODE_BITMAP_WORDS words),
	 * allocated when the slot is first taken, zeroed when it is taken
	 * again after a reset, freed with the set. */
	_Atomic(_Atomic uint64_t *) codebits[1u << CODESET_BITS];
	_Atomic uint64_t inval_gen;
	struct rv_inval inval_ring[INVAL_RING];
	struct vmc__rv_hart *harts[MAX_HARTS];
	unsigned nharts;
	struct rv_jit_buf *jit; /* the translator's code (rv-jit.c), or NULL */
};

/* An entry of the jump cache: tag is the block's vpc | 1, or 0 when the
 * entry is empty; ppc and jit are the block's, copied so that translated
 * code's lookup (rv-jit.c) reads one entry and not the block. */
struct rv_jce {
	uint64_t tag;
	struct rv_block *blk;
	uint64_t ppc;
	const void *jit;
};

struct vmc__rv_hart {
	/* Hot state first. */
	uint64_t x[33]; /* x[32] is the sink for writes to x0 */
	uint64_t pc;
	struct rv_tlbe *dtlb; /* data regime in force */
	struct rv_tlbe *itlb; /* fetch regime in force */
	_Atomic uint32_t kick;
	unsigned priv;
	uint64_t retired;
	uint64_t left_end;    /* see vmc__rv_run()'s left */
	uint64_t f[32];	      /* F and D registers; singles NaN-boxed */
	uint32_t fflags, frm; /* fcsr's fields */
	uint32_t host_mxcsr;  /* rv_fpenv_save() */
	bool host_rne;	      /* ...found RNE, masked, no FTZ/DAZ: fast paths */

	/* CSRs. */
	uint64_t mstatus;
	uint64_t medeleg, mideleg;
	_Atomic uint64_t mie;	 /* read by vmc__rv_has_work() */
	uint64_t mip_sw;	 /* bits software writes (SSIP, STIP, SEIP) */
	_Atomic uint64_t mip_hw; /* lines raised by devices */
	/* Sstc: -1 while menvcfg.STCE (or Sstc) is off; else the time_ns
	 * from which STIP is set (INT64_MAX: never).  Any thread reads it. */
	_Atomic int64_t stip_at;
	uint64_t stimecmp;
	uint64_t mtvec, mscratch, mepc, mcause, mtval;
	uint64_t stvec, sscratch, sepc, scause, stval;
	uint64_t satp, mcounteren, scounteren, menvcfg, senvcfg;
	uint64_t mcountinhibit;
	uint64_t cycle_off, instret_off; /* counter = retired + off */
	uint64_t cycle_frozen, instret_frozen;
	/* mhpmcounter3..3+RV_NHPM-1: an event of 1 (cycles) or 2 (retired
	 * instructions) counts as retired + hpm_off when not inhibited;
	 * otherwise the counter holds hpm_frozen. */
	uint64_t hpm_off[32], hpm_frozen[32], hpm_event[32];
	uint64_t hartid;
	uint32_t ext_off; /* VMC__RV_EXT_* switched off (fixed at creation) */
	uint8_t pmpcfg[16];
	uint64_t pmpaddr[16];
	bool pmp_active; /* some entry has A != OFF */

	/* LR/SC reservation. */
	uint64_t res_addr; /* physical address; ~0 when none */
	uint64_t res_val;
	unsigned res_size;

	/* Pending trap raised by a helper. */
	uint64_t exc_cause, exc_tval;

	struct vmc__rv_bus bus;
	struct vmc__rv_shared *shared;
	uint64_t inval_seen;
	unsigned consecutive_traps;
	uint64_t trap_retired; /* retired count at the last trap */

	struct rv_tlbe tlb[TLB_NREG][TLB_SIZE];
	bool tlb_super; /* some entry came from a superpage since a flush */

	struct rv_block *blk_hash[1u << BLK_HASH_BITS];
	/* Jump cache: the last block looked up at each hash of its pc, for
	 * jalr and taken side branches. */
	struct rv_jce jc[1u << JC_BITS];
	struct rv_cpage *cpage_hash[1u << CPAGE_HASH_BITS];
	size_t nblocks;

	/* Debug. */
	uint64_t bps[MAX_BREAKPOINTS];
	unsigned nbps;
	uint32_t trig_x; /* armed Sdtrig execute triggers (by index) */
	struct rv_watch watch[MAX_WATCHPOINTS];
	unsigned nwatch;
	bool single_step;
	bool watch_hit;
	/* End the block after this access (STOP_*, both may be set). */
	uint8_t watch_stop;
	bool watch_hit_write;
	uint64_t watch_hit_addr;
	/* Sdtrig: the triggers, tselect, and the armed ones by kind. */
	struct rv_trig trig[RV_NTRIG];
	unsigned tselect;
	uint32_t trig_ldst; /* armed load/store triggers (trig_x: above) */
	bool own_shared;

	/* The translator (rv-jit.c). */
	bool jit_on;		   /* translate this hart's blocks */
	unsigned jit_hot;	   /* on their jit_hot-th run */
	bool jit_flushed;	   /* rv_jit_compile() dropped every block */
	uint64_t jit_limit;	   /* retired count translated code stops at */
	struct rv_block *jit_from; /* the block of a chainable exit */
	uint32_t jit_slot;	   /* RV_JIT_SLOT's slot */
};

/* Exception causes. */
enum {
	EXC_INSN_MISALIGNED = 0,
	EXC_INSN_ACCESS = 1,
	EXC_ILLEGAL = 2,
	EXC_BREAKPOINT = 3,
	EXC_LOAD_MISALIGNED = 4,
	EXC_LOAD_ACCESS = 5,
	EXC_STORE_MISALIGNED = 6,
	EXC_STORE_ACCESS = 7,
	EXC_ECALL_U = 8,
	EXC_ECALL_S = 9,
	EXC_ECALL_M = 11,
	EXC_INSN_PAGE = 12,
	EXC_LOAD_PAGE = 13,
	EXC_STORE_PAGE = 15,
};

#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_SD (1ull << 63)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (3ull << 32)
#define MSTATUS_SXL (3ull << 34)
#define MSTATUS_UXL_64 (2ull << 32)
#define MSTATUS_SXL_64 (2ull << 34)

/* mip as the hart sees it: software bits, device lines and, with Sstc in
 * force, STIP from time >= stimecmp (mip.STIP's written value is then
 * hidden).  Any thread. */
static inline uint64_t rv_mip(struct vmc__rv_hart *h)
{
	uint64_t v = h->mip_sw |
		     atomic_load_explicit(&h->mip_hw, memory_order_acquire);
	int64_t at = atomic_load_explicit(&h->stip_at, memory_order_acquire);

	if (at >= 0) {
		v &= ~(1ull << VMC__RV_IRQ_STI);
		if (at != INT64_MAX && h->bus.time_ns &&
		    h->bus.time_ns(h->bus.opaque) >= at)
			v |= 1ull << VMC__RV_IRQ_STI;
	}
	return v;
}

static inline void rv_kick(struct vmc__rv_hart *h, uint32_t bits)
{
	atomic_fetch_or_explicit(&h->kick, bits, memory_order_release);
}

/* rv-cpu.c */
void rv_update_regimes(struct vmc__rv_hart *h);
void rv_take_trap(struct vmc__rv_hart *h, uint64_t cause, uint64_t tval,
		  bool interrupt);
int rv_pending_irq(struct vmc__rv_hart *h);
/* Returns 0, or sets exc_cause/exc_tval and returns -1. */
int rv_csr_op(struct vmc__rv_hart *h, const struct rv_insn *i);
int rv_mret(struct vmc__rv_hart *h);
int rv_sret(struct vmc__rv_hart *h);
int rv_sfence(struct vmc__rv_hart *h, uint64_t vaddr, bool all, uint64_t asid,
	      bool all_asids);
/* A Zicbom/Zicboz op on the cache block holding va (sets h->exc_*). */
int rv_cbo(struct vmc__rv_hart *h, unsigned op, uint64_t va, uint32_t raw);
void rv_tlb_flush(struct vmc__rv_hart *h);
/* rv-mmu.c: ASID-tagged TLB maintenance (see the TLB notes above). */
void rv_tlb_switch_asid(struct vmc__rv_hart *h, uint16_t asid);
void rv_tlb_fence(struct vmc__rv_hart *h, uint64_t va, bool all_va,
		  uint16_t asid, bool all_asids);
int rv_csr_read(struct vmc__rv_hart *h, unsigned csr, uint64_t *val,
		bool debugger);
int rv_csr_write(struct vmc__rv_hart *h, unsigned csr, uint64_t val,
		 bool debugger);

/* rv-fpu.c: an F or D op other than a load or store.  Returns 0, or sets
 * exc_cause/exc_tval (illegal instruction) and returns -1. */
int rv_fp_exec(struct vmc__rv_hart *h, const struct rv_insn *i);
/* Around vmc__rv_run(): the host thread's FP environment (MXCSR) as it
 * was at entry is put back at exit (see rv-fpu.c's fast path). */
void rv_fpenv_save(struct vmc__rv_hart *h);
void rv_fpenv_restore(struct vmc__rv_hart *h);

/* rv-mmu.c */
int rv_load_slow(struct vmc__rv_hart *h, uint64_t va, unsigned size,
		 uint64_t *val);
int rv_store_slow(struct vmc__rv_hart *h, uint64_t va, unsigned size,
		  uint64_t val);
int rv_amo(struct vmc__rv_hart *h, unsigned op, uint64_t va, uint64_t src,
	   uint64_t *old);
/* Fetch translation for a block: host pointer to the page's code. */
int rv_fetch_page(struct vmc__rv_hart *h, uint64_t va, const uint8_t **host,
		  uint64_t *ppage);
/* Fetch 2 bytes at va (any page), for straddling instructions. */
int rv_fetch16(struct vmc__rv_hart *h, uint64_t va, uint16_t *val);
void rv_tlb_slow_code_pages(struct vmc__rv_hart *h);
bool rv_codeset_contains(struct vmc__rv_shared *sh, uint64_t ppage);
void rv_codeset_add(struct vmc__rv_hart *h, uint64_t ppage);
/* Set the code granules of bytes [lo, hi) of ppage (a seq_cst RMW, so a
 * compare of the code that follows pairs with a store's fence).  False
 * when out of memory. */
bool rv_codeset_mark(struct vmc__rv_hart *h, uint64_t ppage, unsigned lo,
		     unsigned hi);
void rv_codeset_free(struct vmc__rv_shared *sh);

/* rv-trig.c (Sdtrig).  The CSR calls return -1 for a CSR they lack.
 * rv_trig_exec: at a block lookup (trig_x != 0), sets BLK_SINGLE when a
 * trigger may match in pc's page, and fires (exc_* set, -1) when one
 * matches pc.  rv_trig_data: before a load/store (trig_ldst != 0).
 * rv_trig_page: some load/store trigger may match in the page. */
void rv_trig_reset(struct vmc__rv_hart *h);
int rv_trig_csr_read(struct vmc__rv_hart *h, unsigned csr, uint64_t *val);
int rv_trig_csr_write(struct vmc__rv_hart *h, unsigned csr, uint64_t v);
int rv_trig_exec(struct vmc__rv_hart *h, uint64_t pc, uint32_t *flags);
int rv_trig_data(struct vmc__rv_hart *h, uint64_t va, unsigned size, bool load,
		 bool store);
bool rv_trig_page(const struct vmc__rv_hart *h, uint64_t vpage);

/* rv-block.c */
/* Drop the blocks of ppage that overlap bytes [lo, hi) of it. */
void rv_blocks_invalidate_range(struct vmc__rv_hart *h, uint64_t ppage,
				unsigned lo, unsigned hi);

/*
 * Guest RAM is shared with the other harts and the host.  An aligned access
 * is single-copy atomic, as RISC-V requires (relaxed atomics: plain moves on
 * x86, and visible to the thread sanitizer); a misaligned one is performed
 * bytewise, which the ISA allows.
 */
static inline void rv_ram_copy(void *dst, const void *src, unsigned size,
			       const void *ram)
{
	if (((uintptr_t)ram & (size - 1)) == 0) {
		switch (size) {
		case 1: {
			uint8_t v = __atomic_load_n((const uint8_t *)src,
						    __ATOMIC_RELAXED);
			__atomic_store_n((uint8_t *)dst, v, __ATOMIC_RELAXED);
			return;
		}
		case 2: {
			uint16_t v = __atomic_load_n((const uint16_t *)src,
						     __ATOMIC_RELAXED);
			__atomic_store_n((uint16_t *)dst, v, __ATOMIC_RELAXED);
			return;
		}
		case 4: {
			uint32_t v = __atomic_load_n((const uint32_t *)src,
						     __ATOMIC_RELAXED);
			__atomic_store_n((uint32_t *)dst, v, __ATOMIC_RELAXED);
			return;
		}
		case 8: {
			uint64_t v = __atomic_load_n((const uint64_t *)src,
						     __ATOMIC_RELAXED);
			__atomic_store_n((uint64_t *)dst, v, __ATOMIC_RELAXED);
			return;
		}
		}
	}
	memcpy(dst, src, size);
}

#endif
