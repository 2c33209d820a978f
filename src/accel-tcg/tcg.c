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
 * Time.  The time CSR reads the VM's virtual clock.  In deterministic mode
 * the clock moves only with retired instructions (one nanosecond each) and
 * a hart never runs past the clock's next deadline, so timer interrupts
 * land at the same instruction in every run.
 */
#include <stdlib.h>
#include <string.h>

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

struct tcg_vm {
	struct vmc__rv_shared *shared;
	_Atomic uint64_t flush_generation;
	struct vmc_memory_listener *listener;
};

struct tcg_vcpu {
	struct vmc_vcpu *vcpu;
	struct vmc__rv_hart *hart;
	struct vmc_address_space *as; /* the VM's memory */
	struct vmc_clock *clock;      /* the VM's virtual clock */
	unsigned int flags;           /* the VM's VMC_VM_* flags */
	uint64_t as_generation;       /* layout the TLB was filled under */
	size_t hint;                  /* flat-view lookup hint */
};

/* ------------------------------------------------------------------------
 * The hart's bus: the VM's memory address space
 */

static bool bus_ram_lookup(void *opaque, uint64_t paddr,
			   struct vmc__rv_bus_map *ret)
{
	struct tcg_vcpu *tv = opaque;
	struct vmc__accel_map m;

	if (!vmc__accel_lookup(tv->as, paddr, &tv->hint, &m)) {
		*ret = (struct vmc__rv_bus_map){ 0 };
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
	cfg.shared = tvm->shared;
	cfg.bus = (struct vmc__rv_bus){
		.ram_lookup = bus_ram_lookup,
		.io_read = bus_io_read,
		.io_write = bus_io_write,
		.time_ns = bus_time_ns,
		.opaque = tv,
	};
	r = vmc__rv_hart_new(&cfg, &tv->hart);
	if (r < 0) {
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
		st.watch_kind = write ? VMC_DEBUG_WATCH_WRITE
				      : VMC_DEBUG_WATCH_READ;
	} else if (vmc__rv_get_single_step(h)) {
		st.reason = VMC_DEBUG_STOP_STEP;
	}
	vmc__accel_vcpu(vcpu)->debug_stop = st;
}

static int tcg_vcpu_run(struct vmc_vcpu *vcpu)
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
		vmc__vcpu_guest_error(vcpu, "hart %u: unrecoverable trap at pc "
					    "0x%llx",
				      vmc_vcpu_get_index(vcpu),
				      (unsigned long long)vmc__rv_get_pc(
					      tv->hart));
		return VMC__EXIT_ERROR;
	default:
		return VMC__EXIT_KICKED;
	}
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
	if (reg >= VMC_RISCV_REG_CSR(0) && reg <= VMC_RISCV_REG_CSR(0xfff))
		return vmc__rv_set_csr(h, reg - VMC_RISCV_REG_CSR(0), val);
	return -EINVAL;
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

static int tcg_debug_translate(struct vmc_vcpu *vcpu, uint64_t va,
			       uint64_t *pa)
{
	return vmc__rv_debug_translate(tcg_hart(vcpu),
				       va, pa);
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
