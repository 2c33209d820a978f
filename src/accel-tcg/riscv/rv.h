/* SPDX-License-Identifier: MIT */
/*
 * The RISC-V RV64 software CPU behind the tcg accelerator: an RV64IMAC +
 * Zicsr + Zifencei hart with M, S and U modes, Sv39/Sv48 paging, PMP and the
 * machine and supervisor interrupt architecture (privileged spec 1.12).
 *
 * Object model.  A struct vmc__rv_shared belongs to one VM and holds what
 * the harts of that VM share: the set of guest-physical pages that contain
 * translated code, the log of invalidated code pages, and the list of its
 * harts.  A struct vmc__rv_hart is one CPU; it owns its registers, CSRs, TLB
 * and block cache and is run by exactly one thread at a time through
 * vmc__rv_run().
 *
 * Threads.  Everything that takes a hart is called on the thread that runs
 * the hart (or while it does not run), except the calls marked "any thread":
 * vmc__rv_set_irq(), vmc__rv_request_exit(), vmc__rv_request_tlb_flush() and
 * vmc__rv_has_work().  vmc__rv_flush_all_blocks() must run while no hart of
 * the VM executes (the glue runs it as exclusive work).
 *
 * Memory.  Guest-physical RAM is reached through host pointers obtained
 * from the bus on a TLB miss; every other address goes to the bus's I/O
 * callbacks.  See doc comments in rv-internal.h for the TLB, block cache
 * and code-invalidation protocol.
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_H
#define VMC_ACCEL_TCG_RISCV_RV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmc__rv_hart;
struct vmc__rv_shared;

/* What the bus has at a guest-physical address (see ram_lookup). */
struct vmc__rv_bus_map {
	uint64_t start, end; /* [start, end): the guest range this holds for */
	uint8_t *host;	     /* RAM: host address of start; NULL otherwise */
	bool readonly;	     /* RAM the guest may not write (ROM) */
	/* Not RAM: the bus's handle for io_read/io_write at addresses of
	 * [start, end), or NULL (a hole, or the bus keeps none). */
	const void *io;
	/* RAM whose writes the bus logs (dirty tracking), page clean: the
	 * hart maps the page write-slow and reports its first write through
	 * mark_dirty before the write lands. */
	bool notdirty;
};

/* The guest-physical bus a hart accesses.  All callbacks are mandatory
 * except time_ns (without it the time CSR raises illegal-instruction, as a
 * hart without a time source does). */
struct vmc__rv_bus {
	/*
	 * What lies at paddr: fills *ret (RAM: host and readonly; otherwise
	 * host NULL and io, the handle the I/O callbacks take, so that the
	 * bus finds each address once) and returns true, or false for a
	 * hole (*ret then holds zeros).  Called on TLB misses and before
	 * each I/O access.  What it returns stays valid until vmc__rv_run()
	 * returns.
	 */
	bool (*ram_lookup)(void *opaque, uint64_t paddr,
			   struct vmc__rv_bus_map *ret);
	/*
	 * I/O access of 1, 2, 4 or 8 bytes; < 0 means access fault.  io is
	 * the handle ram_lookup gave for paddr in this vmc__rv_run(), or
	 * NULL (the bus then finds paddr itself).
	 */
	int (*io_read)(void *opaque, const void *io, uint64_t paddr,
		       unsigned size, uint64_t *val);
	int (*io_write)(void *opaque, const void *io, uint64_t paddr,
			unsigned size, uint64_t val);
	/* Nanoseconds of the clock behind the time CSR (10 MHz timebase). */
	int64_t (*time_ns)(void *opaque);
	/*
	 * Optional (dirty tracking): the hart is about to write guest RAM at
	 * host [host, host + len) through its slow path: a page that
	 * ram_lookup reported notdirty, a page-table A/D update, or RAM
	 * reached without a TLB entry.  Hart thread.
	 */
	void (*mark_dirty)(void *opaque, void *host, size_t len);
	/*
	 * Optional (dirty tracking): called at the block boundary where the
	 * hart handles vmc__rv_request_sync_writes(), on its thread; the
	 * glue calls vmc__rv_tlb_slow_writes() there if its log needs it.
	 */
	void (*sync_writes)(void *opaque);
	/*
	 * Optional (Sstc): have vmc__rv_timer_expired() called once the
	 * clock behind time_ns reaches deadline_ns, replacing any earlier
	 * request; -1 cancels.  Hart thread.  Without it, a hart waiting in
	 * WFI for stimecmp is woken only by the glue's own timers.
	 */
	void (*set_timer)(void *opaque, int64_t deadline_ns);
	void *opaque;
};

/* Extensions beyond RV64IMAC_Zicsr_Zifencei that can be switched off
 * (struct vmc__rv_config's ext_off); the hints (Zicbop, Zihintpause) stay
 * their base instructions either way. */
enum {
	VMC__RV_EXT_ZBA = 1u << 0,
	VMC__RV_EXT_ZBB = 1u << 1,
	VMC__RV_EXT_ZBC = 1u << 2,
	VMC__RV_EXT_ZBS = 1u << 3,
	VMC__RV_EXT_ZICOND = 1u << 4,
	VMC__RV_EXT_ZICBOM = 1u << 5,
	VMC__RV_EXT_ZICBOZ = 1u << 6,
	VMC__RV_EXT_SVPBMT = 1u << 7, /* menvcfg.PBMTE is read-only 0 */
	VMC__RV_EXT_SSTC = 1u << 8,   /* stimecmp, menvcfg.STCE */
	VMC__RV_EXT_ALL = 0x1ff,
};

struct vmc__rv_config {
	uint64_t hartid;
	/* VMC__RV_EXT_* switched off: their instructions are illegal. */
	uint32_t ext_off;
	struct vmc__rv_bus bus;
	/* The VM's shared object; may be NULL for a lone hart. */
	struct vmc__rv_shared *shared;
	/* Translation to host code: VMC__RV_JIT_*. */
	int jit;
	/* Bytes of the code buffer the VM's first translating hart makes
	 * (0: 64 MiB); tests make it small to fill it. */
	size_t jit_code_size;
	/* Translate a block on its jit_hot-th run (0: VMC_TCG_JIT_HOT from
	 * the environment, else RV_JIT_HOT); 1 translates on the first run,
	 * as the translator's differential tests want. */
	unsigned jit_hot;
};

/* vmc__rv_config.jit: by default blocks are translated to host code on
 * x86-64 hosts unless the environment has VMC_TCG_JIT=0; OFF keeps the
 * interpreter (the differential tests' oracle). */
enum { VMC__RV_JIT_DEFAULT = 0, VMC__RV_JIT_ON = 1, VMC__RV_JIT_OFF = -1 };

/* Whether a hart's translator found the shared code buffer full since the
 * last call (any thread): the glue then flushes every hart's blocks as
 * exclusive work (vmc__rv_flush_all_blocks()), which empties it. */
bool vmc__rv_jit_take_flush_request(struct vmc__rv_shared *sh);
/* Whether the hart runs translated code. */
bool vmc__rv_jit_enabled(struct vmc__rv_hart *h);

/* Why vmc__rv_run() returned. */
enum vmc__rv_exit {
	VMC__RV_EXIT_REQUEST = 0, /* vmc__rv_request_exit() was called */
	VMC__RV_EXIT_HALTED = 1,  /* WFI with no enabled pending interrupt */
	VMC__RV_EXIT_BUDGET = 2,  /* max_insns instructions retired */
	VMC__RV_EXIT_DEBUG = 3,	  /* breakpoint, watchpoint or single step */
	VMC__RV_EXIT_FATAL = 4,	  /* unrecoverable guest state (trap loop) */
};

/* Interrupt bit numbers in mip/mie. */
enum {
	VMC__RV_IRQ_SSI = 1,
	VMC__RV_IRQ_MSI = 3,
	VMC__RV_IRQ_STI = 5,
	VMC__RV_IRQ_MTI = 7,
	VMC__RV_IRQ_SEI = 9,
	VMC__RV_IRQ_MEI = 11,
};

/* Privilege levels. */
enum { VMC__RV_PRIV_U = 0, VMC__RV_PRIV_S = 1, VMC__RV_PRIV_M = 3 };

int vmc__rv_shared_new(struct vmc__rv_shared **ret);
/* All harts using it must have been freed. */
void vmc__rv_shared_free(struct vmc__rv_shared *sh);

int vmc__rv_hart_new(const struct vmc__rv_config *cfg,
		     struct vmc__rv_hart **ret);
void vmc__rv_hart_free(struct vmc__rv_hart *h);
/* Reset state: M-mode, pc, mstatus/mie/mip cleared, TLB and blocks flushed. */
void vmc__rv_hart_reset(struct vmc__rv_hart *h, uint64_t pc);

/*
 * Run until an exit reason.  At most max_insns instructions retire; the
 * number that did is added to *ret_retired when it is non-NULL (exact, so a
 * deterministic clock can be driven from it).  Returns an enum vmc__rv_exit.
 */
int vmc__rv_run(struct vmc__rv_hart *h, uint64_t max_insns,
		uint64_t *ret_retired);

/* Kick (any thread): vmc__rv_run() returns VMC__RV_EXIT_REQUEST at the
 * next block boundary, or at once if it is called later. */
void vmc__rv_request_exit(struct vmc__rv_hart *h);
/* The deadline given to bus.set_timer has passed (any thread): the hart
 * re-evaluates its interrupts (Sstc's STIP) at its next block boundary. */
void vmc__rv_timer_expired(struct vmc__rv_hart *h);
/* Raise or lower an interrupt line (any thread): bit is a mip bit number. */
void vmc__rv_set_irq(struct vmc__rv_hart *h, unsigned bit, bool level);
/* WFI wake-up condition (any thread): an enabled pending interrupt,
 * ignoring the global enables and delegation. */
bool vmc__rv_has_work(struct vmc__rv_hart *h);
/* Flush the TLB and blocks before the next block (any thread): the guest
 * memory map changed. */
void vmc__rv_request_tlb_flush(struct vmc__rv_hart *h);
/* Turn every fast RAM write TLB entry into a logged one: the next write to
 * each page goes through mark_dirty again (dirty tracking, after the log
 * was fetched and cleared).  The hart's thread, or while it does not run. */
void vmc__rv_tlb_slow_writes(struct vmc__rv_hart *h);
/* Have the hart call bus.sync_writes at its next block boundary, without
 * leaving vmc__rv_run() (any thread); at once on its next run if it does
 * not run now. */
void vmc__rv_request_sync_writes(struct vmc__rv_hart *h);
/* Same for every hart of the VM (any thread). */
void vmc__rv_memory_map_changed(struct vmc__rv_shared *sh);
/* Drop every translated block of every hart of the VM and forget all code
 * pages.  No hart of the VM may be executing. */
void vmc__rv_flush_all_blocks(struct vmc__rv_shared *sh);
/* Drop this hart's translated blocks. */
void vmc__rv_hart_flush_blocks(struct vmc__rv_hart *h);

/* Register access for the glue and the debugger. */
uint64_t vmc__rv_get_gpr(struct vmc__rv_hart *h, unsigned n);
void vmc__rv_set_gpr(struct vmc__rv_hart *h, unsigned n, uint64_t v);
/* f registers as stored (singles NaN-boxed); -EINVAL for n >= 32.  A set
 * makes mstatus.FS Dirty unless it is Off, as a write by the hart would. */
int vmc__rv_get_fpr(struct vmc__rv_hart *h, unsigned n, uint64_t *val);
int vmc__rv_set_fpr(struct vmc__rv_hart *h, unsigned n, uint64_t val);
uint64_t vmc__rv_get_pc(struct vmc__rv_hart *h);
void vmc__rv_set_pc(struct vmc__rv_hart *h, uint64_t pc);
unsigned vmc__rv_get_priv(struct vmc__rv_hart *h);
void vmc__rv_set_priv(struct vmc__rv_hart *h, unsigned priv);
/* CSR by number, as M-mode would see it; -EINVAL for a CSR this hart lacks
 * or (set) a read-only one. */
int vmc__rv_get_csr(struct vmc__rv_hart *h, unsigned csr, uint64_t *val);
int vmc__rv_set_csr(struct vmc__rv_hart *h, unsigned csr, uint64_t val);
/* Retired instructions since creation (independent of minstret writes). */
uint64_t vmc__rv_get_retired(struct vmc__rv_hart *h);

/* Debug hooks.  Breakpoints are virtual pcs; a hit returns
 * VMC__RV_EXIT_DEBUG before the instruction executes.  In single-step mode
 * each vmc__rv_run() executes one instruction (or delivers one pending
 * interrupt and stops at the handler) and returns VMC__RV_EXIT_DEBUG. */
int vmc__rv_add_breakpoint(struct vmc__rv_hart *h, uint64_t pc);
int vmc__rv_remove_breakpoint(struct vmc__rv_hart *h, uint64_t pc);
void vmc__rv_set_single_step(struct vmc__rv_hart *h, bool on);
/* Watchpoints on virtual data addresses: a matching load or store completes,
 * then vmc__rv_run() returns VMC__RV_EXIT_DEBUG and
 * vmc__rv_get_watch_hit() tells which address. */
int vmc__rv_add_watchpoint(struct vmc__rv_hart *h, uint64_t addr, uint64_t len,
			   bool on_read, bool on_write);
int vmc__rv_remove_watchpoint(struct vmc__rv_hart *h, uint64_t addr,
			      uint64_t len);
bool vmc__rv_get_watch_hit(struct vmc__rv_hart *h, uint64_t *addr,
			   bool *is_write);
/* Forget the last watchpoint hit (before running on after a stop). */
void vmc__rv_clear_watch_hit(struct vmc__rv_hart *h);
bool vmc__rv_get_single_step(struct vmc__rv_hart *h);
/* A debugger's view of a virtual address: translate with the current
 * privilege and satp, without permission checks or A/D updates.  0, or
 * -EFAULT when unmapped. */
int vmc__rv_debug_translate(struct vmc__rv_hart *h, uint64_t va, uint64_t *pa);

/* Decoder, exposed for the fuzzer and tests. */
struct vmc__rv_dec {
	uint16_t op; /* enum vmc__rv_op */
	uint8_t rd, rs1, rs2;
	uint8_t len; /* 2 or 4 */
	int64_t imm;
	uint32_t raw;
};
/* Decode the instruction whose low 16 bits (or all 32) are in raw.
 * Always succeeds: unknown encodings decode as VMC__RV_OP_ILLEGAL. */
void vmc__rv_decode(uint32_t raw, struct vmc__rv_dec *d);
/* The extensions switched off; setting them drops the hart's blocks.
 * -EINVAL for a bit outside VMC__RV_EXT_ALL. */
uint32_t vmc__rv_get_ext_off(struct vmc__rv_hart *h);
int vmc__rv_set_ext_off(struct vmc__rv_hart *h, uint32_t off);
/* The VMC__RV_EXT_* an op belongs to, or 0 for the base ISA. */
unsigned vmc__rv_op_ext(unsigned op);
/* Mnemonic of an op, for diagnostics. */
const char *vmc__rv_op_name(unsigned op);

#endif
