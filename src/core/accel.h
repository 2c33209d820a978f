/* SPDX-License-Identifier: MIT */
/*
 * struct vmc_accel_ops: the one interface through which src/core knows an
 * accelerator.  Never installed.
 *
 * An accelerator fills in this table and core calls it; core never includes
 * kernel headers or CPU internals.  The rules for each hook:
 *
 *   probe         Any thread.  0 if the accelerator can run @arch here,
 *                 -ENODEV if it cannot run at all, -EINVAL for a wrong
 *                 architecture.  VMC_ACCEL_AUTO tries KVM, then tcg.
 *   vm_init       Loop thread, during vmc_vm_new(), before any vCPU thread
 *                 exists.  Creates the accelerator's VM state (vm->accel)
 *                 and registers its memory listeners.  On failure nothing
 *                 may be left behind.
 *   vm_destroy    Loop thread, after every vCPU thread has been joined.
 *   vcpu_create   Loop thread, inside vmc_vm_new(), before the vCPU's
 *                 thread starts, with the signal mask that thread starts
 *                 with.  Creates vcpu->accel, for accelerators that can
 *                 build it off the vCPU thread: vmc_vm_new() then returns
 *                 without waiting for the threads to come up (each counts
 *                 as parked until it first takes the VM lock).  An error
 *                 fails vmc_vm_new().  Use this or vcpu_init, not both.
 *   vcpu_init     On the new vCPU's own thread, VM lock held, before the
 *                 thread reports itself created.  Creates vcpu->accel.
 *                 An error fails vmc_vm_new().
 *   vcpu_destroy  On the vCPU's own thread as it exits, VM lock held.
 *   vcpu_run      On the vCPU thread, VM lock NOT held, between the
 *                 exclusive-section brackets.  Runs guest code until
 *                 something needs core's attention and returns a
 *                 VMC__EXIT_* code.  It must return promptly once
 *                 vcpu->exit_request is set (check it at every block
 *                 boundary, or rely on vcpu_kick).  Guest I/O is dispatched
 *                 from inside (the memory API takes the VM lock per region
 *                 callback).  Guest errors are reported with
 *                 vmc__vcpu_guest_error() and VMC__EXIT_ERROR, never by
 *                 aborting.
 *   vcpu_kick     Any thread, no locks assumed.  Make a concurrent or the
 *                 next vcpu_run return soon (KVM: immediate_exit + signal;
 *                 tcg: nothing beyond exit_request, which core has set).
 *   vcpu_has_work VM lock held.  Whether a halted vCPU has a reason to run
 *                 (an interrupt that would end its WFI/HLT).  NULL: never
 *                 (the harness has no CPU to consume interrupts).
 *   vcpu_idle     VM lock held.  Optional veto of the idle wait: false
 *                 means "do not sleep in userspace" (KVM with the halt in
 *                 the kernel).  NULL: sleep.
 *   vcpu_reset    On the vCPU thread, VM lock held, VM paused: back to the
 *                 power-on state.
 *   vcpu_irq      VM lock held, any thread: line @line of @vcpu changed to
 *                 @level (vcpu->irqs already updated).  The accelerator
 *                 forwards it (KVM_INTERRUPT, mip).  NULL: nothing to do.
 *   get_reg/set_reg  VM lock held, the vCPU outside guest code: on the
 *                 vCPU thread, or on any thread while the vCPU thread is
 *                 parked in its idle wait (vcpu->parked; the lock keeps
 *                 it there).  -EINVAL for an unknown register.
 *   debug_insert/debug_remove  On the vCPU thread, VM lock held, the
 *                 vCPU outside guest code: add or remove a breakpoint or
 *                 watchpoint (enum vmc_debug_kind).  NULL: -EOPNOTSUPP.
 *   debug_step    Same context: single-step on or off.
 *   debug_translate  Same context: guest-virtual to guest-physical for a
 *                 debugger, without side effects.
 *                 Before returning VMC__EXIT_DEBUG, vcpu_run fills
 *                 vcpu->debug_stop.
 */
#ifndef VMC_CORE_ACCEL_H
#define VMC_CORE_ACCEL_H

#include "vmc-config.h"
#include <libvmcore/vmc-vm.h>
#include "util.h"


struct vmc_vm;
struct vmc_vcpu;
struct vmc_vm_config;

/* What vcpu_run reports. */
enum vmc__exit {
	VMC__EXIT_KICKED = 0, /* exit_request or kick: re-check events */
	VMC__EXIT_HALTED = 1, /* guest WFI/HLT: sleep until has_work */
	VMC__EXIT_DEBUG = 2,  /* breakpoint, watchpoint or step completed */
	VMC__EXIT_ERROR = 3,  /* guest error already reported; stop */
	VMC__EXIT_SHUTDOWN = 4, /* request already queued; stop */
};

struct vmc_accel_ops {
	const char *name;
	enum vmc_accel type;

	int (*probe)(enum vmc_arch arch);
	int (*vm_init)(struct vmc_vm *vm);
	void (*vm_destroy)(struct vmc_vm *vm);

	int (*vcpu_create)(struct vmc_vcpu *vcpu);
	int (*vcpu_init)(struct vmc_vcpu *vcpu);
	void (*vcpu_destroy)(struct vmc_vcpu *vcpu);
	int (*vcpu_run)(struct vmc_vcpu *vcpu);
	void (*vcpu_kick)(struct vmc_vcpu *vcpu);
	bool (*vcpu_has_work)(struct vmc_vcpu *vcpu);
	bool (*vcpu_idle)(struct vmc_vcpu *vcpu);
	void (*vcpu_reset)(struct vmc_vcpu *vcpu);
	void (*vcpu_irq)(struct vmc_vcpu *vcpu, unsigned int line, bool level);
	int (*get_reg)(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t *val);
	int (*set_reg)(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t val);
	int (*debug_insert)(struct vmc_vcpu *vcpu, unsigned int kind,
			    uint64_t addr, uint64_t len);
	int (*debug_remove)(struct vmc_vcpu *vcpu, unsigned int kind,
			    uint64_t addr, uint64_t len);
	int (*debug_step)(struct vmc_vcpu *vcpu, bool on);
	int (*debug_translate)(struct vmc_vcpu *vcpu, uint64_t va,
			       uint64_t *pa);
};

extern const struct vmc_accel_ops vmc__accel_harness;
#if VMC_HAVE_KVM_ACCEL
extern const struct vmc_accel_ops vmc__accel_kvm;
#endif
#if VMC_HAVE_TCG_ACCEL
extern const struct vmc_accel_ops vmc__accel_tcg;
/* Drop all translated code of a tcg VM, as exclusive work (any thread);
 * duplicates queued before the first runs collapse into it. */
int vmc__tcg_flush_all(struct vmc_vm *vm);
#endif

#endif
