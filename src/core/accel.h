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
 *                 exists.  Creates the accelerator's VM state (view's state)
 *                 and registers its memory listeners.  On failure nothing
 *                 may be left behind.
 *   vm_destroy    Loop thread, after every vCPU thread has been joined.
 *   vcpu_create   Loop thread, inside vmc_vm_new(), before the vCPU's
 *                 thread starts, with the signal mask that thread starts
 *                 with.  Creates the vCPU's state, for accelerators that can
 *                 build it off the vCPU thread: vmc_vm_new() then returns
 *                 without waiting for the threads to come up (each counts
 *                 as parked until it first takes the VM lock).  An error
 *                 fails vmc_vm_new().  Use this or vcpu_init, not both.
 *   vcpu_init     On the new vCPU's own thread, VM lock held, before the
 *                 thread reports itself created.  Creates the vCPU's state.
 *                 An error fails vmc_vm_new().
 *   vcpu_destroy  On the vCPU's own thread as it exits, VM lock held.
 *   vcpu_run      On the vCPU thread, VM lock NOT held, between the
 *                 exclusive-section brackets.  Runs guest code until
 *                 something needs core's attention and returns a
 *                 VMC__EXIT_* code.  It must return promptly once
 *                 the view's exit_request is set (check it at every block
 *                 boundary, or rely on vcpu_kick).  Guest I/O is dispatched
 *                 from inside through vmc__accel_io(), which takes the VM
 *                 lock per region callback.  Guest errors are reported with
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
 *                 @level (the view's irqs already updated).  The accelerator
 *                 forwards it (KVM_INTERRUPT, mip).  NULL: nothing to do.
 *   get_reg/set_reg  VM lock held, the vCPU outside guest code: on the
 *                 vCPU thread, or on any thread while the vCPU thread is
 *                 parked in its idle wait (the lock keeps it there).  -EINVAL
 * for an unknown register. debug_insert/debug_remove  On the vCPU thread, VM
 * lock held, the vCPU outside guest code: add or remove a breakpoint or
 *                 watchpoint (enum vmc_debug_kind).  NULL: -EOPNOTSUPP.
 *   debug_step    Same context: single-step on or off.
 *   debug_translate  Same context: guest-virtual to guest-physical for a
 *                 debugger, without side effects.
 *                 Before returning VMC__EXIT_DEBUG, vcpu_run fills
 *                 vmc__accel_vcpu(vcpu)->debug_stop.
 *   dirty_log_set Loop thread (the memory's writer side), VM lock held or
 *                 not: start (@on) or stop logging guest writes to
 *                 @region, a RAM or ROM region of this VM (core checked
 *                 that).  Starting clears what was logged before; the
 *                 accelerator keeps logging the region wherever the layout
 *                 maps it, across commits, until stopped.  0, -ENOMEM, or
 *                 the error of the mechanism.  NULL: dirty tracking is not
 *                 available (-EOPNOTSUPP to the caller).
 *   dirty_log_get Same context: OR into @bitmap (@words 64-bit words,
 *                 enough for the region, core checked) bit i for every
 *                 page i of @region (4 KiB pages from the region's start)
 *                 written since logging started or since the last call,
 *                 and forget them.  -ENOENT when the region is not logged.
 *                 An accelerator without a kernel log (tcg) feeds its own
 *                 bitmap from its store slow path: a range under logging
 *                 is mapped write-slow in its TLB, and the first write to
 *                 each page marks it.
 *   vcpu_save     VM lock held, the VM not running and the vCPU parked
 *                 (as get_reg, from any thread): the vCPU's architectural
 *                 state as an opaque, versioned blob.  @buf NULL: return
 *                 the blob's size; otherwise write it (@size at least
 *                 that) and return its size.  -errno on failure.  NULL:
 *                 snapshots are not available (-EOPNOTSUPP).
 *   vcpu_load     Same context: make the vCPU's state the blob @buf of
 *                 @size bytes that vcpu_save of a vCPU of the same
 *                 accelerator wrote.  -EINVAL for a blob of another
 *                 version, size or architecture, checked before anything
 *                 changes.  Translated code and TLBs are the
 *                 accelerator's to drop (RAM may have been rewritten).
 *
 * The services below are what core offers accelerators in return.  They
 * are the only core interface an accelerator uses besides the public
 * headers; none of them takes the VM lock unless it says so.
 */
#ifndef VMC_CORE_ACCEL_H
#define VMC_CORE_ACCEL_H

#include <stdatomic.h>

#include "vmc-config.h"
#include <libvmcore/vmc-debug.h>
#include <libvmcore/vmc-memory.h>
#include <libvmcore/vmc-vcpu.h>
#include <libvmcore/vmc-vm.h>

/* likely/unlikely, container_of, ARRAY_SIZE, vmc_assert_return, vmc__log. */
#include "util.h"

struct vmc_vm;
struct vmc_vcpu;
struct vmc_vm_config;
struct vmc_region;
struct vmc_address_space;

/* What vcpu_run reports. */
enum vmc__exit {
	VMC__EXIT_KICKED = 0,	/* exit_request or kick: re-check events */
	VMC__EXIT_HALTED = 1,	/* guest WFI/HLT: sleep until has_work */
	VMC__EXIT_DEBUG = 2,	/* breakpoint, watchpoint or step completed */
	VMC__EXIT_ERROR = 3,	/* guest error already reported; stop */
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
	int (*dirty_log_set)(struct vmc_vm *vm, struct vmc_region *region,
			     bool on);
	int (*dirty_log_get)(struct vmc_vm *vm, struct vmc_region *region,
			     uint64_t *bitmap, size_t words);
	int (*vcpu_save)(struct vmc_vcpu *vcpu, void *buf, size_t size);
	int (*vcpu_load)(struct vmc_vcpu *vcpu, const void *buf, size_t size);
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

/* ------------------------------------------------------------------------
 * Services core offers accelerators
 *
 * State.  struct vmc_vm and struct vmc_vcpu stay opaque; each begins with
 * the small view below, which is all of them an accelerator reads or writes
 * directly (the hot paths need these without a call).  Everything else
 * goes through the public accessors (vmc_vcpu_get_vm(), vmc_vcpu_get_index(),
 * vmc_vm_get_vcpu_count(), vmc_vm_get_vcpu(), vmc_vm_get_clock(),
 * vmc_vm_get_address_space(), vmc_vm_lock()...) or the functions here.
 */

/* The accelerator's view of a VM: the first member of struct vmc_vm. */
struct vmc__accel_vm {
	/* The accelerator's VM state: set by vm_init, cleared by vm_destroy. */
	void *state;
};

/* The accelerator's view of a vCPU: the first member of struct vmc_vcpu. */
struct vmc__accel_vcpu {
	/* The accelerator's vCPU state: set by vcpu_create or vcpu_init,
	 * cleared by vcpu_destroy (or vm_destroy, if it outlives the thread).
	 */
	void *state;
	/*
	 * "Reach your event-processing point": core stores true with release
	 * before it calls vcpu_kick; vcpu_run polls it with acquire (every
	 * block boundary, or before each KVM_RUN) and returns when set.
	 * Only core clears it.
	 */
	_Atomic bool exit_request;
	/* Interrupt line levels, bit N = line N: written by core under the
	 * VM lock before vcpu_irq, readable from any thread. */
	_Atomic uint64_t irqs;
	/* Written by vcpu_run before it returns VMC__EXIT_DEBUG. */
	struct vmc_debug_stop debug_stop;
	/*
	 * Set by the executor's own I/O callback (a guest call's doorbell,
	 * sandbox.c) together with exit_request: leave vcpu_run right after
	 * this exit, without entering guest mode again just to finish the
	 * instruction (KVM completes a port write at its next KVM_RUN), since
	 * the caller loads new registers before the vCPU runs again.  The
	 * accelerator clears it when it acts on it; an accelerator that
	 * leaves at block boundaries anyway may ignore it.  Executor only.
	 */
	bool exit_now;
};

static inline struct vmc__accel_vm *vmc__accel_vm(struct vmc_vm *vm)
{
	return (struct vmc__accel_vm *)(void *)vm;
}

static inline struct vmc__accel_vcpu *vmc__accel_vcpu(struct vmc_vcpu *vcpu)
{
	return (struct vmc__accel_vcpu *)(void *)vcpu;
}

/* Whether @vm runs on @ops and its accelerator state exists.  Any thread. */
bool vmc__accel_vm_is(const struct vmc_vm *vm, const struct vmc_accel_ops *ops);
/* The VM's VMC_VM_* configuration flags.  Any thread; fixed at creation. */
unsigned int vmc__accel_vm_flags(const struct vmc_vm *vm);
/* The kick signal of the VM's configuration.  Any thread. */
int vmc__accel_vm_kick_signal(const struct vmc_vm *vm);
/* vmc_vm_config.accel_config: during vm_init only, NULL otherwise. */
const void *vmc__accel_vm_config(const struct vmc_vm *vm);

/*
 * Deterministic clocks: @fn(@vm) runs when the earliest deadline of the
 * VM's virtual clock moves earlier (any thread, possibly with the VM lock
 * held; it must only kick).  NULL removes it.  Loop thread, vm_init and
 * vm_destroy.
 */
void vmc__accel_vm_set_deadline_notify(struct vmc_vm *vm, void (*fn)(void *vm));

/* The calling vCPU thread holds no pointer from a lookup (below) while
 * offline; reclamation of old flat views does not wait for it.  vCPU
 * thread, inside vcpu_run, around a long wait in guest code (KVM_RUN). */
void vmc__accel_vcpu_offline(struct vmc_vcpu *vcpu);
void vmc__accel_vcpu_online(struct vmc_vcpu *vcpu);

/* Send @sig to the vCPU's thread.  Any thread, from vcpu_kick only (the
 * thread exists while vcpu_kick may be called). */
void vmc__accel_vcpu_signal(struct vmc_vcpu *vcpu, int sig);

/* Set the vCPU's exit_request (release) and kick it: "come to your event
 * point" (core's loop then runs its events and quiescent point before the
 * next vcpu_run).  Any thread, any locks. */
void vmc__vcpu_exit(struct vmc_vcpu *vcpu);

/* Report a guest error from a vCPU thread and stop that vCPU (vcpu_run
 * then returns VMC__EXIT_ERROR).  VM lock not held. */
void vmc__vcpu_guest_error(struct vmc_vcpu *vcpu, const char *fmt, ...)
	VMC_PRINTF(2, 3);

/*
 * Memory commits.  An accelerator hears of them the way a host does: a
 * struct vmc_memory_listener (vmc-memory.h) registered in vm_init on the
 * VM's address spaces (vmc_vm_get_address_space()) and freed in vm_destroy.
 * Its commit callback runs on the writer side after every layout change
 * is published, so a vCPU kicked from there sees the new view.
 *
 * Flat-view lookups.  A vCPU thread is an online reader of its VM's
 * memory between the vcpu_run brackets: what a lookup returns stays valid
 * until vcpu_run returns (or vmc__accel_vcpu_offline()).  A layout change
 * moves the address space's generation; an accelerator that caches what a
 * lookup returned (a TLB) compares generations before it trusts the cache.
 */

/* One range of an address space's flat view, opaque: a handle for
 * vmc__accel_io(). */
struct vmc__accel_range;

/* What a lookup found at an address. */
struct vmc__accel_map {
	uint64_t start;
	uint64_t last; /* inclusive, so a range may end at 2^64 - 1 */
	uint8_t *host; /* RAM/ROM: host address of @start; NULL for I/O */
	bool readonly; /* guest writes are refused */
	bool io;       /* I/O: dispatch through vmc__accel_io() */
	const struct vmc__accel_range *range;
};

/*
 * Look @addr up in @as's published view.  @hint (may be NULL) is the
 * caller's memory between calls: repeated and nearby lookups cost O(1).
 * Fills @ret and returns true, or false for a hole.  vCPU thread, online.
 */
bool vmc__accel_lookup(struct vmc_address_space *as, uint64_t addr,
		       size_t *hint, struct vmc__accel_map *ret);

/* Changes on every publish of a new view of @as (acquire).  Any thread. */
uint64_t vmc__accel_as_generation(struct vmc_address_space *as);

/*
 * The one I/O entry of both accelerators: a guest access of @size bytes
 * (1, 2, 4 or 8; @buf in address order) at @addr.  @range is what a lookup
 * of @addr returned in this online period, or NULL to let core look @addr
 * up (with @hint, may be NULL).  An access that the I/O range holds
 * entirely goes straight to the region: its access rules, the dispatch
 * lock (the VM lock, taken unless lockless or already held) and, for
 * writes, the first matching ioeventfd of the range's view, which is
 * signalled instead (where core matches them: see
 * vmc__accel_as_set_soft_ioeventfds()).  Anything else (RAM, a hole, an
 * access crossing ranges) takes the general path of vmc_as_read() and
 * vmc_as_write().  vCPU thread, online, VM lock not required.
 * 0, or a negative errno: the access failed (a read leaves @buf
 * undefined); -EFAULT or -EACCES where the address space's policy is
 * VMC_UNASSIGNED_ERROR, the region callback's error otherwise.
 */
int vmc__accel_io(struct vmc_address_space *as,
		  const struct vmc__accel_range *range, size_t *hint,
		  uint64_t addr, void *buf, unsigned size, bool write);

/*
 * Whether vmc__accel_io() matches writes against ioeventfds itself
 * (default on).  An accelerator whose ioeventfds are matched elsewhere
 * (KVM: the kernel, through its listener) turns it off in vm_init.
 */
void vmc__accel_as_set_soft_ioeventfds(struct vmc_address_space *as, bool on);

#endif
