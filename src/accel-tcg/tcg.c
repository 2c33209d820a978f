/* SPDX-License-Identifier: MIT */
/*
 * The tcg accelerator: runs each vCPU's RISC-V hart (riscv/rv.h) on the
 * vCPU's thread and connects it to the VM's memory and clock.
 *
 * Memory.  The hart's TLB caches host pointers into RAM that it got from
 * the current flat view on a miss.  Those pointers stay valid while the
 * vCPU thread has not announced a quiescent state (it does so only at its
 * event-processing point, outside vcpu_run).  Every vcpu_run starts by
 * comparing the address space's generation with the one the TLB was filled
 * under; if the layout changed, the hart flushes its TLB before its first
 * block.  The generation is stored before the grace period that could free
 * the old view's RAM begins, so a thread that has passed that quiescent
 * point is certain to see the new generation.  A commit also kicks every
 * vCPU (the VM's memory listener), so a running hart picks the new layout
 * up promptly.
 *
 * Dirty tracking.  A logged RAM region has a bitmap here, found by host
 * address (so every mapping of the region, aliases included, feeds it).
 * A TLB fill of a clean logged page marks the entry notdirty, so its first
 * write takes the hart's slow path, which sets the bit (atomic OR) before
 * the write lands; later writes to the page go through the fast path.
 * Fetch-and-clear exchanges every word with zero, THEN makes every hart
 * demote its fast write entries before it writes again (dirty_sync).  A
 * write through an old fast entry lands before dirty_sync returns, on a
 * page whose bit was set before the exchange (the entry became fast only
 * after setting it): it is reported by this fetch.  A write after
 * dirty_sync returns goes through a demoted or new entry, hence the slow
 * path: it is reported by the next fetch.  Nothing is lost.
 *
 * dirty_sync: the harts' vcpu_run entry publishes in_run, then reads the
 * VM's dirty epoch and demotes its write entries when the epoch moved
 * (both seq_cst).  The syncing thread bumps the epoch, then, for each vCPU
 * still in vcpu_run under an older epoch, asks its hart to do the same at
 * its next block boundary (vmc__rv_request_sync_writes(), which does not
 * end the slice) and waits until it has, or has left vcpu_run.  A paused
 * VM has no vCPU in vcpu_run, so a sync costs nothing there.  The
 * same wait makes it safe to free a stopped log: no hart holds it after.
 * While vCPUs run, the dirty calls must not hold the VM lock (a hart
 * waiting for it in an I/O callback could not reach its event point).
 *
 * Time.  The time CSR reads the VM's virtual clock.  In deterministic mode
 * the clock moves only with retired instructions (one nanosecond each) and
 * a hart never runs past the clock's next deadline, so timer interrupts
 * land at the same instruction in every run.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvmcore/vmc-riscv.h>

#include "accel.h"
#include "riscv/rv.h"

/* Where QEMU's virt boards start every hart: the mask ROM's reset vector. */
#define TCG_RESET_VECTOR 0x1000
/* Instructions per slice when no deadline bounds it: long enough that
 * slicing costs nothing, short enough to reach a quiescent point often. */
#define TCG_SLICE_INSNS (1u << 24)
/* Deterministic mode: virtual nanoseconds per retired instruction. */
#define TCG_NS_PER_INSN 1

/* At most this many regions are logged at once (-ENOSPC beyond). */
#define TCG_DIRTY_LOGS 16
#define TCG_DIRTY_PAGE 4096u

/* The dirty log of one region: immutable but for its bits. */
struct tcg_dirty_log {
	uint8_t *host;
	uint64_t size;
	struct vmc_region *region; /* a reference */
	size_t words;
	_Atomic uint64_t bits[];
};

struct tcg_vm {
	struct vmc__rv_shared *shared;
	_Atomic uint64_t flush_generation;
	struct vmc_memory_listener *listener;
	/* Dirty tracking: logs published with release, read with acquire. */
	_Atomic(struct tcg_dirty_log *) logs[TCG_DIRTY_LOGS];
	_Atomic unsigned int nr_logs;
	_Atomic uint64_t dirty_epoch;
};

struct tcg_vcpu {
	struct vmc_vcpu *vcpu;
	struct vmc__rv_hart *hart;
	struct vmc_address_space *as; /* the VM's memory */
	struct vmc_clock *clock;      /* the VM's virtual clock */
	unsigned int flags;	      /* the VM's VMC_VM_* flags */
	uint64_t as_generation;	      /* layout the TLB was filled under */
	size_t hint;		      /* flat-view lookup hint */
	struct tcg_vm *tvm;
	/* Dirty tracking (see the top): inside vcpu_run; the dirty epoch
	 * the hart's write entries were demoted under. */
	_Atomic bool in_run;
	_Atomic uint64_t dirty_seen;
	/* Sstc: armed for the instant time reaches stimecmp (bus_set_timer). */
	struct vmc_timer *stimer;
};

/* ------------------------------------------------------------------------
 * Dirty tracking
 */

/* The log holding host address @p, or NULL.  Hart thread, in vcpu_run. */
static struct tcg_dirty_log *dirty_find(struct tcg_vm *tvm, const uint8_t *p)
{
	if (!atomic_load_explicit(&tvm->nr_logs, memory_order_acquire))
		return NULL;
	for (unsigned int i = 0; i < TCG_DIRTY_LOGS; i++) {
		struct tcg_dirty_log *l = atomic_load_explicit(
			&tvm->logs[i], memory_order_acquire);

		if (l && p >= l->host && (uint64_t)(p - l->host) < l->size)
			return l;
	}
	return NULL;
}

static bool dirty_test(struct tcg_dirty_log *l, const uint8_t *p)
{
	uint64_t page = (uint64_t)(p - l->host) / TCG_DIRTY_PAGE;

	return atomic_load_explicit(&l->bits[page / 64], memory_order_relaxed) &
	       (UINT64_C(1) << (page % 64));
}

/* The bus's mark_dirty: set the bits of every logged page in the range. */
static void bus_mark_dirty(void *opaque, void *host, size_t len)
{
	struct tcg_vcpu *tv = opaque;
	uint8_t *p = host;
	struct tcg_dirty_log *l = dirty_find(tv->tvm, p);
	uint64_t first, last;

	if (!l || !len)
		return;
	first = (uint64_t)(p - l->host) / TCG_DIRTY_PAGE;
	last = (uint64_t)(p - l->host) + len - 1;
	if (last >= l->size)
		last = l->size - 1;
	last /= TCG_DIRTY_PAGE;
	for (uint64_t pg = first; pg <= last; pg++) {
		uint64_t bit = UINT64_C(1) << (pg % 64);

		if (!(atomic_load_explicit(&l->bits[pg / 64],
					   memory_order_relaxed) &
		      bit))
			atomic_fetch_or_explicit(&l->bits[pg / 64], bit,
						 memory_order_relaxed);
	}
	/* A range crossing into another region is rare (an unaligned RAM
	 * region); report the rest too. */
	if ((uint64_t)(p - l->host) + len > l->size) {
		size_t done = (size_t)(l->size - (uint64_t)(p - l->host));

		bus_mark_dirty(opaque, p + done, len - done);
	}
}

/* The hart's side of a sync, on its thread at a block boundary or as
 * vcpu_run starts: demote, then publish the epoch it demoted under. */
static void bus_sync_writes(void *opaque)
{
	struct tcg_vcpu *tv = opaque;
	uint64_t e = atomic_load(&tv->tvm->dirty_epoch);

	if (e != atomic_load_explicit(&tv->dirty_seen, memory_order_relaxed)) {
		vmc__rv_tlb_slow_writes(tv->hart);
		atomic_store(&tv->dirty_seen, e);
	}
}

/* See the top of the file.  Any thread but a vCPU's; not under the VM
 * lock while vCPUs run. */
static void dirty_sync(struct vmc_vm *vm)
{
	struct tcg_vm *tvm = vmc__accel_vm(vm)->state;
	unsigned int n = vmc_vm_get_vcpu_count(vm);
	uint64_t e = atomic_fetch_add(&tvm->dirty_epoch, 1) + 1;

	for (unsigned int i = 0; i < n; i++) {
		struct vmc_vcpu *vcpu = vmc_vm_get_vcpu(vm, i);
		struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;
		unsigned int spins = 0;

		if (!tv)
			continue;
		while (atomic_load(&tv->in_run) &&
		       atomic_load(&tv->dirty_seen) < e) {
			if (!spins)
				vmc__rv_request_sync_writes(tv->hart);
			/* The hart needs a CPU to answer: yield, then
			 * sleep, rather than spin against it. */
			if (++spins < 64)
				sched_yield();
			else
				nanosleep(&(struct timespec){.tv_nsec = 20000},
					  NULL);
		}
	}
}

static int tcg_dirty_log_set(struct vmc_vm *vm, struct vmc_region *region,
			     bool on)
{
	struct tcg_vm *tvm = vmc__accel_vm(vm)->state;
	struct tcg_dirty_log *l = NULL;
	unsigned int i, slot = TCG_DIRTY_LOGS;
	uint64_t size = vmc_region_get_size(region);
	size_t words;

	for (i = 0; i < TCG_DIRTY_LOGS; i++) {
		struct tcg_dirty_log *x = atomic_load(&tvm->logs[i]);

		if (x && x->region == region)
			l = x, slot = i;
		else if (!x && slot == TCG_DIRTY_LOGS && on)
			slot = i;
	}
	if (on == !!l)
		return 0;
	if (!on) {
		atomic_store(&tvm->logs[slot], NULL);
		atomic_fetch_sub(&tvm->nr_logs, 1);
		/* After the sync no hart holds @l. */
		dirty_sync(vm);
		vmc_region_unref(l->region);
		free(l);
		return 0;
	}
	if (slot == TCG_DIRTY_LOGS)
		return -ENOSPC;
	if (!vmc_region_get_ptr(region))
		return -EINVAL;
	words = (size_t)((size / TCG_DIRTY_PAGE + 64) / 64);
	l = calloc(1, sizeof(*l) + words * sizeof(l->bits[0]));
	if (!l)
		return -ENOMEM;
	l->host = vmc_region_get_ptr(region);
	l->size = size;
	l->words = words;
	l->region = vmc_region_ref(region);
	atomic_fetch_add(&tvm->nr_logs, 1);
	atomic_store(&tvm->logs[slot], l);
	/* Pages written before now must not stay fast-writable. */
	dirty_sync(vm);
	return 0;
}

static int tcg_dirty_log_get(struct vmc_vm *vm, struct vmc_region *region,
			     uint64_t *bitmap, size_t words)
{
	struct tcg_vm *tvm = vmc__accel_vm(vm)->state;
	struct tcg_dirty_log *l = NULL;

	for (unsigned int i = 0; i < TCG_DIRTY_LOGS && !l; i++) {
		struct tcg_dirty_log *x = atomic_load(&tvm->logs[i]);

		if (x && x->region == region)
			l = x;
	}
	if (!l)
		return -ENOENT;
	if (words > l->words)
		words = l->words;
	for (size_t w = 0; w < words; w++)
		if (atomic_load_explicit(&l->bits[w], memory_order_relaxed))
			bitmap[w] |= atomic_exchange(&l->bits[w], 0);
	dirty_sync(vm);
	return 0;
}

static void dirty_free_all(struct tcg_vm *tvm)
{
	for (unsigned int i = 0; i < TCG_DIRTY_LOGS; i++) {
		struct tcg_dirty_log *l = atomic_load(&tvm->logs[i]);

		if (l) {
			vmc_region_unref(l->region);
			free(l);
		}
	}
}

/* ------------------------------------------------------------------------
 * The hart's bus: the VM's memory address space
 */

static bool bus_ram_lookup(void *opaque, uint64_t paddr,
			   struct vmc__rv_bus_map *ret)
{
	struct tcg_vcpu *tv = opaque;
	struct vmc__accel_map m;

	if (!vmc__accel_lookup(tv->as, paddr, &tv->hint, &m)) {
		*ret = (struct vmc__rv_bus_map){0};
		return false;
	}
	*ret = (struct vmc__rv_bus_map){
		.start = m.start,
		/* [start, end) must not wrap for a range reaching the top. */
		.end = m.last == UINT64_MAX ? UINT64_MAX : m.last + 1,
		.host = m.host,
		.readonly = m.readonly,
		.io = m.host ? NULL : m.range,
	};
	if (m.host && !m.readonly) {
		uint8_t *p = m.host + (paddr - m.start);
		struct tcg_dirty_log *l = dirty_find(tv->tvm, p);

		ret->notdirty = l && !dirty_test(l, p);
	}
	return true;
}

/* The hart found the range: core dispatches it without a second lookup. */
static int bus_io_read(void *opaque, const void *io, uint64_t paddr,
		       unsigned size, uint64_t *val)
{
	struct tcg_vcpu *tv = opaque;
	uint64_t v = 0;
	int r;

	/* RISC-V is little-endian, like every host libvmcore runs on. */
	r = vmc__accel_io(tv->as, io, NULL, paddr, &v, size, false);
	*val = v;
	return r;
}

static int bus_io_write(void *opaque, const void *io, uint64_t paddr,
			unsigned size, uint64_t val)
{
	struct tcg_vcpu *tv = opaque;

	return vmc__accel_io(tv->as, io, NULL, paddr, &val, size, true);
}

static int64_t bus_time_ns(void *opaque)
{
	struct tcg_vcpu *tv = opaque;

	return vmc_clock_get_ns(tv->clock);
}

/*
 * Sstc: the hart wants to hear when the VM clock reaches stimecmp.  The
 * timer is the VM's (callback on the loop thread, VM lock held): it makes
 * the hart recheck its interrupts and wakes the vCPU if it sleeps in WFI
 * (has_work then sees STIP).  On the VM clock, so deterministic runs
 * stop their slice there and take the interrupt at the same instruction.
 */
static void bus_set_timer(void *opaque, int64_t deadline_ns)
{
	struct tcg_vcpu *tv = opaque;

	if (deadline_ns < 0)
		vmc_timer_del(tv->stimer);
	else
		vmc_timer_mod(tv->stimer, deadline_ns);
}

static void stimer_cb(struct vmc_timer *t, void *userdata)
{
	struct tcg_vcpu *tv = userdata;

	(void)t;
	if (!tv->hart)
		return;
	vmc__rv_timer_expired(tv->hart);
	vmc_vcpu_kick(tv->vcpu);
}

/* ------------------------------------------------------------------------
 * VM and vCPU life
 */

static int tcg_probe(enum vmc_arch arch)
{
	return arch == VMC_ARCH_RISCV64 ? 0 : -EINVAL;
}

/*
 * Every vCPU to its event point, for two reasons.  A memory commit: the
 * harts pick up the new layout before their next block.  Deterministic
 * mode, a timer armed earlier than the current slice's end (by the guest
 * itself, through a device): the slice must end so the timer fires at its
 * instruction; the hart stops at the end of the block that armed it, which
 * is the same block in every run.
 */
static void tcg_kick_all(void *opaque)
{
	struct vmc_vm *vm = opaque;
	unsigned int n = vmc_vm_get_vcpu_count(vm);

	for (unsigned int i = 0; i < n; i++)
		vmc__vcpu_exit(vmc_vm_get_vcpu(vm, i));
}

static const struct vmc_memory_listener_ops tcg_listener_ops = {
	.struct_size = sizeof(tcg_listener_ops),
	.commit = tcg_kick_all,
};

/* After the accelerators' (KVM's) 10: the harts hear last. */
#define TCG_LISTENER_PRIORITY 10

static int tcg_vm_init(struct vmc_vm *vm)
{
	struct vmc_address_space *as;
	struct tcg_vm *tvm;
	int r;

	tvm = calloc(1, sizeof(*tvm));
	if (!tvm)
		return -ENOMEM;
	r = vmc__rv_shared_new(&tvm->shared);
	if (r < 0) {
		free(tvm);
		return r;
	}
	/* Holes and bus errors are access faults, as on real RISC-V. */
	as = vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	vmc_address_space_set_unassigned_policy(as, VMC_UNASSIGNED_ERROR);
	r = vmc_memory_listener_new(as, &tcg_listener_ops,
				    TCG_LISTENER_PRIORITY, vm, &tvm->listener);
	if (r < 0) {
		vmc__rv_shared_free(tvm->shared);
		free(tvm);
		return r;
	}
	if (vmc__accel_vm_flags(vm) & VMC_VM_DETERMINISTIC)
		vmc__accel_vm_set_deadline_notify(vm, tcg_kick_all);
	vmc__accel_vm(vm)->state = tvm;
	return 0;
}

static void tcg_vm_destroy(struct vmc_vm *vm)
{
	struct tcg_vm *tvm = vmc__accel_vm(vm)->state;

	vmc_memory_listener_free(tvm->listener);
	vmc__accel_vm_set_deadline_notify(vm, NULL);
	dirty_free_all(tvm);
	vmc__rv_shared_free(tvm->shared);
	free(tvm);
	vmc__accel_vm(vm)->state = NULL;
}

static int tcg_vcpu_init(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vmc_vcpu_get_vm(vcpu);
	struct tcg_vm *tvm = vmc__accel_vm(vm)->state;
	struct tcg_vcpu *tv;
	struct vmc__rv_config cfg = {.hartid = vmc_vcpu_get_index(vcpu)};
	int r;

	tv = calloc(1, sizeof(*tv));
	if (!tv)
		return -ENOMEM;
	tv->vcpu = vcpu;
	tv->as = vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	tv->clock = vmc_vm_get_clock(vm);
	tv->flags = vmc__accel_vm_flags(vm);
	tv->tvm = tvm;
	r = vmc_vm_timer_new(vm, VMC_CLOCK_VIRTUAL, stimer_cb, tv, &tv->stimer);
	if (r < 0) {
		free(tv);
		return r;
	}
	cfg.shared = tvm->shared;
	cfg.bus = (struct vmc__rv_bus){
		.ram_lookup = bus_ram_lookup,
		.io_read = bus_io_read,
		.io_write = bus_io_write,
		.time_ns = bus_time_ns,
		.mark_dirty = bus_mark_dirty,
		.sync_writes = bus_sync_writes,
		.set_timer = bus_set_timer,
		.opaque = tv,
	};
	r = vmc__rv_hart_new(&cfg, &tv->hart);
	if (r < 0) {
		vmc_timer_free(tv->stimer);
		free(tv);
		return r;
	}
	/* QEMU's virt boards start every hart at the reset vector. */
	vmc__rv_hart_reset(tv->hart, TCG_RESET_VECTOR);
	vmc__accel_vcpu(vcpu)->state = tv;
	return 0;
}

static void tcg_vcpu_destroy(struct vmc_vcpu *vcpu)
{
	struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;

	/* VM lock held: the timer's callback cannot run after this. */
	vmc_timer_free(tv->stimer);
	vmc__rv_hart_free(tv->hart);
	free(tv);
	vmc__accel_vcpu(vcpu)->state = NULL;
}

/* ------------------------------------------------------------------------
 * Running
 */

static struct vmc__rv_hart *tcg_hart(struct vmc_vcpu *vcpu)
{
	return ((struct tcg_vcpu *)vmc__accel_vcpu(vcpu)->state)->hart;
}

static uint64_t slice_budget(struct tcg_vcpu *tv)
{
	struct vmc_vm *vm = vmc_vcpu_get_vm(tv->vcpu);
	int64_t now, deadline;

	if (!(tv->flags & VMC_VM_DETERMINISTIC))
		return TCG_SLICE_INSNS;
	/*
	 * Never run past the next timer: it must fire at its instruction.
	 * The loop takes a due VM-clock timer off its list only with the VM
	 * lock held and runs its callback before dropping it; reading the
	 * deadline under the lock means we see the timer either still
	 * pending or fully run (its interrupt raised), never in between.
	 */
	vmc_vm_lock(vm);
	deadline = vmc_clock_get_next_deadline(tv->clock);
	now = vmc_clock_get_ns(tv->clock);
	vmc_vm_unlock(vm);
	if (deadline < 0)
		return TCG_SLICE_INSNS;
	if (deadline <= now)
		return 0;
	if ((uint64_t)(deadline - now) / TCG_NS_PER_INSN < TCG_SLICE_INSNS)
		return (uint64_t)(deadline - now) / TCG_NS_PER_INSN;
	return TCG_SLICE_INSNS;
}

static void record_debug_stop(struct vmc_vcpu *vcpu, struct vmc__rv_hart *h)
{
	struct vmc_debug_stop st = {.reason = VMC_DEBUG_STOP_BREAK};
	uint64_t addr;
	bool write;

	if (vmc__rv_get_watch_hit(h, &addr, &write)) {
		vmc__rv_clear_watch_hit(h);
		st.reason = VMC_DEBUG_STOP_WATCH;
		st.watch_addr = addr;
		st.watch_kind =
			write ? VMC_DEBUG_WATCH_WRITE : VMC_DEBUG_WATCH_READ;
	} else if (vmc__rv_get_single_step(h)) {
		st.reason = VMC_DEBUG_STOP_STEP;
	}
	vmc__accel_vcpu(vcpu)->debug_stop = st;
}

static int tcg_vcpu_run_slice(struct vmc_vcpu *vcpu)
{
	struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;
	uint64_t gen, budget, retired = 0;
	int r;

	gen = vmc__accel_as_generation(tv->as);
	if (gen != tv->as_generation) {
		tv->as_generation = gen;
		tv->hint = 0;
		vmc__rv_request_tlb_flush(tv->hart);
	}

	budget = slice_budget(tv);
	if (budget == 0) {
		/* A timer is due: let the loop run it before going on. */
		return VMC__EXIT_KICKED;
	}
	r = vmc__rv_run(tv->hart, budget, &retired);
	/* The translated code filled its buffer: drop every hart's blocks
	 * while none runs, which empties it. */
	if (vmc__rv_jit_take_flush_request(tv->tvm->shared))
		vmc__tcg_flush_all(vmc_vcpu_get_vm(vcpu));
	if (tv->flags & VMC_VM_DETERMINISTIC)
		vmc_clock_advance(tv->clock,
				  (int64_t)(retired * TCG_NS_PER_INSN));

	switch (r) {
	case VMC__RV_EXIT_HALTED:
		/*
		 * Deterministic time does not pass while the hart waits:
		 * jump the clock to the next deadline, so the timer that
		 * ends the wait fires (QEMU's icount "sleep=off" warp).
		 */
		if ((tv->flags & VMC_VM_DETERMINISTIC) &&
		    !vmc__rv_has_work(tv->hart)) {
			int64_t d = vmc_clock_get_next_deadline(tv->clock);
			int64_t now = vmc_clock_get_ns(tv->clock);

			if (d > now)
				vmc_clock_advance(tv->clock, d - now);
		}
		return VMC__EXIT_HALTED;
	case VMC__RV_EXIT_DEBUG:
		record_debug_stop(vcpu, tv->hart);
		return VMC__EXIT_DEBUG;
	case VMC__RV_EXIT_FATAL:
		vmc__vcpu_guest_error(
			vcpu,
			"hart %u: unrecoverable trap at pc "
			"0x%llx",
			vmc_vcpu_get_index(vcpu),
			(unsigned long long)vmc__rv_get_pc(tv->hart));
		return VMC__EXIT_ERROR;
	default:
		return VMC__EXIT_KICKED;
	}
}

/* The dirty-tracking brackets (see the top) around one slice. */
static int tcg_vcpu_run(struct vmc_vcpu *vcpu)
{
	struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;
	int r;

	atomic_store(&tv->in_run, true);
	bus_sync_writes(tv);
	r = tcg_vcpu_run_slice(vcpu);
	atomic_store_explicit(&tv->in_run, false, memory_order_release);
	return r;
}

static void tcg_vcpu_kick(struct vmc_vcpu *vcpu)
{
	struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;

	if (tv)
		vmc__rv_request_exit(tv->hart);
}

static bool tcg_vcpu_has_work(struct vmc_vcpu *vcpu)
{
	struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;

	return tv && vmc__rv_has_work(tv->hart);
}

static void tcg_vcpu_reset(struct vmc_vcpu *vcpu)
{
	struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;

	vmc__rv_hart_reset(tv->hart, TCG_RESET_VECTOR);
	/* Lines driven by devices keep their levels across the reset. */
	for (unsigned int line = 0; line < 64; line++)
		if (atomic_load(&vmc__accel_vcpu(vcpu)->irqs) &
		    (UINT64_C(1) << line))
			vmc__rv_set_irq(tv->hart, line, true);
}

static void tcg_vcpu_irq(struct vmc_vcpu *vcpu, unsigned int line, bool level)
{
	struct tcg_vcpu *tv = vmc__accel_vcpu(vcpu)->state;

	/* Only the mip bits a device can drive are wired to the hart. */
	if (tv && line < 16)
		vmc__rv_set_irq(tv->hart, line, level);
}

_Static_assert(
	(unsigned)VMC_RISCV_EXT_ZBA == (unsigned)VMC__RV_EXT_ZBA &&
		(unsigned)VMC_RISCV_EXT_ZBB == (unsigned)VMC__RV_EXT_ZBB &&
		(unsigned)VMC_RISCV_EXT_ZBC == (unsigned)VMC__RV_EXT_ZBC &&
		(unsigned)VMC_RISCV_EXT_ZBS == (unsigned)VMC__RV_EXT_ZBS &&
		(unsigned)VMC_RISCV_EXT_ZICOND ==
			(unsigned)VMC__RV_EXT_ZICOND &&
		(unsigned)VMC_RISCV_EXT_ZICBOM ==
			(unsigned)VMC__RV_EXT_ZICBOM &&
		(unsigned)VMC_RISCV_EXT_ZICBOZ ==
			(unsigned)VMC__RV_EXT_ZICBOZ &&
		(unsigned)VMC_RISCV_EXT_SVPBMT ==
			(unsigned)VMC__RV_EXT_SVPBMT &&
		(unsigned)VMC_RISCV_EXT_SSTC == (unsigned)VMC__RV_EXT_SSTC &&
		(unsigned)VMC_RISCV_EXT_ALL == (unsigned)VMC__RV_EXT_ALL,
	"the public extension bits are the hart's");

static int tcg_get_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t *val)
{
	struct vmc__rv_hart *h = tcg_hart(vcpu);

	if (reg < 32) {
		*val = vmc__rv_get_gpr(h, reg);
		return 0;
	}
	if (reg == VMC_RISCV_REG_PC) {
		*val = vmc__rv_get_pc(h);
		return 0;
	}
	if (reg >= VMC_RISCV_REG_F0 && reg <= VMC_RISCV_REG_F31)
		return vmc__rv_get_fpr(h, reg - VMC_RISCV_REG_F0, val);
	if (reg == VMC_RISCV_REG_PRIV) {
		*val = vmc__rv_get_priv(h);
		return 0;
	}
	if (reg == VMC_RISCV_REG_EXT_OFF) {
		*val = vmc__rv_get_ext_off(h);
		return 0;
	}
	if (reg >= VMC_RISCV_REG_CSR(0) && reg <= VMC_RISCV_REG_CSR(0xfff))
		return vmc__rv_get_csr(h, reg - VMC_RISCV_REG_CSR(0), val);
	return -EINVAL;
}

static int tcg_set_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t val)
{
	struct vmc__rv_hart *h = tcg_hart(vcpu);

	if (reg < 32) {
		vmc__rv_set_gpr(h, reg, val);
		return 0;
	}
	if (reg == VMC_RISCV_REG_PC) {
		vmc__rv_set_pc(h, val);
		return 0;
	}
	if (reg >= VMC_RISCV_REG_F0 && reg <= VMC_RISCV_REG_F31)
		return vmc__rv_set_fpr(h, reg - VMC_RISCV_REG_F0, val);
	if (reg == VMC_RISCV_REG_PRIV) {
		if (val != VMC__RV_PRIV_U && val != VMC__RV_PRIV_S &&
		    val != VMC__RV_PRIV_M)
			return -EINVAL;
		vmc__rv_set_priv(h, (unsigned int)val);
		return 0;
	}
	if (reg == VMC_RISCV_REG_EXT_OFF)
		return val > UINT32_MAX ? -EINVAL
					: vmc__rv_set_ext_off(h, (uint32_t)val);
	if (reg >= VMC_RISCV_REG_CSR(0) && reg <= VMC_RISCV_REG_CSR(0xfff))
		return vmc__rv_set_csr(h, reg - VMC_RISCV_REG_CSR(0), val);
	return -EINVAL;
}

/* ------------------------------------------------------------------------
 * Snapshots: every GPR and FPR, pc, privilege and the CSRs of the list
 * below (the trigger CSRs hold no state: Sdtrig without triggers).  Not
 * in the blob: device-driven mip lines (their devices restore them), an
 * LR reservation (dropped, as a trap would) and translated code (dropped).
 */

#define TCG_STATE_MAGIC 0x32767274u /* "trv2" */

/* Saved and loaded in this order: PMP before what paging checks, satp
 * and fcsr before mstatus (whose FS a write of fcsr would mark dirty),
 * the counters last. */
static const uint16_t tcg_state_csrs[] = {
	0x3a0, 0x3a2, 0x3b0, 0x3b1, 0x3b2, 0x3b3, 0x3b4, 0x3b5, 0x3b6,
	0x3b7, 0x3b8, 0x3b9, 0x3ba, 0x3bb, 0x3bc, 0x3bd, 0x3be, 0x3bf,
	0x302, 0x303, 0x304, 0x305, 0x306, 0x30a, 0x320, 0x340, 0x341,
	0x342, 0x343, 0x344, 0x105, 0x106, 0x10a, 0x140, 0x141, 0x142,
	0x143, 0x180, 0x003, 0x300, 0xb00, 0xb02, 0x14d,
};
#define TCG_STATE_NCSR (sizeof(tcg_state_csrs) / sizeof(tcg_state_csrs[0]))

struct tcg_state {
	uint32_t magic;
	uint32_t ncsr;
	uint64_t present; /* bit i: CSR i of the list exists on this hart */
	uint64_t gpr[32];
	uint64_t fpr[32];
	uint64_t pc, priv;
	uint64_t csr[TCG_STATE_NCSR];
};
_Static_assert(TCG_STATE_NCSR <= 64, "present is one word");

static int tcg_vcpu_save(struct vmc_vcpu *vcpu, void *buf, size_t size)
{
	struct vmc__rv_hart *h = tcg_hart(vcpu);
	struct tcg_state st = {.magic = TCG_STATE_MAGIC,
			       .ncsr = TCG_STATE_NCSR};

	if (!buf)
		return (int)sizeof(st);
	if (size < sizeof(st))
		return -EINVAL;
	for (unsigned int i = 0; i < 32; i++) {
		st.gpr[i] = vmc__rv_get_gpr(h, i);
		(void)vmc__rv_get_fpr(h, i, &st.fpr[i]);
	}
	st.pc = vmc__rv_get_pc(h);
	st.priv = vmc__rv_get_priv(h);
	for (unsigned int i = 0; i < TCG_STATE_NCSR; i++)
		if (vmc__rv_get_csr(h, tcg_state_csrs[i], &st.csr[i]) == 0)
			st.present |= UINT64_C(1) << i;
	memcpy(buf, &st, sizeof(st));
	return (int)sizeof(st);
}

static int tcg_vcpu_load(struct vmc_vcpu *vcpu, const void *buf, size_t size)
{
	struct vmc__rv_hart *h = tcg_hart(vcpu);
	struct tcg_state st;

	if (size != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.magic != TCG_STATE_MAGIC || st.ncsr != TCG_STATE_NCSR ||
	    (st.priv != VMC__RV_PRIV_U && st.priv != VMC__RV_PRIV_S &&
	     st.priv != VMC__RV_PRIV_M))
		return -EINVAL;
	for (unsigned int i = 0; i < TCG_STATE_NCSR; i++)
		if (st.present & (UINT64_C(1) << i))
			(void)vmc__rv_set_csr(h, tcg_state_csrs[i], st.csr[i]);
	for (unsigned int i = 1; i < 32; i++)
		vmc__rv_set_gpr(h, i, st.gpr[i]);
	for (unsigned int i = 0; i < 32; i++)
		(void)vmc__rv_set_fpr(h, i, st.fpr[i]);
	vmc__rv_set_pc(h, st.pc);
	vmc__rv_set_priv(h, (unsigned int)st.priv);
	/* RAM under translated code may have been rewritten: TLB and blocks
	 * go before the next block. */
	vmc__rv_request_tlb_flush(h);
	return 0;
}

/* ------------------------------------------------------------------------
 * Debugging: the hart's breakpoint list, then a flush of every vCPU's
 * translated code as exclusive work, queued before the debugger resumes
 * anything (QEMU's breakpoint insertion path).
 */

static int tcg_debug_change(struct vmc_vcpu *vcpu, unsigned int kind,
			    uint64_t addr, uint64_t len, bool insert)
{
	struct vmc__rv_hart *h = tcg_hart(vcpu);
	int r;

	switch (kind) {
	case VMC_DEBUG_BREAK_SW:
	case VMC_DEBUG_BREAK_HW:
		r = insert ? vmc__rv_add_breakpoint(h, addr)
			   : vmc__rv_remove_breakpoint(h, addr);
		if (r < 0)
			return r;
		return vmc__tcg_flush_all(vmc_vcpu_get_vm(vcpu)) < 0 ? -ENODEV
								     : 0;
	case VMC_DEBUG_WATCH_WRITE:
	case VMC_DEBUG_WATCH_READ:
	case VMC_DEBUG_WATCH_ACCESS:
		if (!insert)
			return vmc__rv_remove_watchpoint(h, addr, len);
		return vmc__rv_add_watchpoint(h, addr, len,
					      kind != VMC_DEBUG_WATCH_WRITE,
					      kind != VMC_DEBUG_WATCH_READ);
	default:
		return -EINVAL;
	}
}

static int tcg_debug_insert(struct vmc_vcpu *vcpu, unsigned int kind,
			    uint64_t addr, uint64_t len)
{
	return tcg_debug_change(vcpu, kind, addr, len, true);
}

static int tcg_debug_remove(struct vmc_vcpu *vcpu, unsigned int kind,
			    uint64_t addr, uint64_t len)
{
	return tcg_debug_change(vcpu, kind, addr, len, false);
}

static int tcg_debug_step(struct vmc_vcpu *vcpu, bool on)
{
	vmc__rv_set_single_step(tcg_hart(vcpu), on);
	return 0;
}

static int tcg_debug_translate(struct vmc_vcpu *vcpu, uint64_t va, uint64_t *pa)
{
	return vmc__rv_debug_translate(tcg_hart(vcpu), va, pa);
}

const struct vmc_accel_ops vmc__accel_tcg = {
	.name = "tcg",
	.type = VMC_ACCEL_TCG,
	.probe = tcg_probe,
	.vm_init = tcg_vm_init,
	.vm_destroy = tcg_vm_destroy,
	.vcpu_init = tcg_vcpu_init,
	.vcpu_destroy = tcg_vcpu_destroy,
	.vcpu_run = tcg_vcpu_run,
	.vcpu_kick = tcg_vcpu_kick,
	.vcpu_has_work = tcg_vcpu_has_work,
	.vcpu_reset = tcg_vcpu_reset,
	.vcpu_irq = tcg_vcpu_irq,
	.get_reg = tcg_get_reg,
	.set_reg = tcg_set_reg,
	.debug_insert = tcg_debug_insert,
	.debug_remove = tcg_debug_remove,
	.debug_step = tcg_debug_step,
	.debug_translate = tcg_debug_translate,
	.dirty_log_set = tcg_dirty_log_set,
	.dirty_log_get = tcg_dirty_log_get,
	.vcpu_save = tcg_vcpu_save,
	.vcpu_load = tcg_vcpu_load,
};

/* ------------------------------------------------------------------------
 * Flushing translated code (the gdbstub's path after a breakpoint change)
 */

static void flush_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct tcg_vm *tvm = vmc__accel_vm(vmc_vcpu_get_vm(vcpu))->state;
	uint64_t gen = (uint64_t)(uintptr_t)userdata;

	/* Several queued flushes collapse into the first one. */
	if (atomic_compare_exchange_strong(&tvm->flush_generation, &gen,
					   gen + 1))
		vmc__rv_flush_all_blocks(tvm->shared);
}

int vmc__tcg_flush_all(struct vmc_vm *vm)
{
	struct tcg_vm *tvm;

	if (!vmc__accel_vm_is(vm, &vmc__accel_tcg))
		return -EOPNOTSUPP;
	tvm = vmc__accel_vm(vm)->state;
	return vmc_vm_run_exclusive(
		vm, flush_cb,
		(void *)(uintptr_t)atomic_load(&tvm->flush_generation));
}
