/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-vm.h
 * @brief Virtual machines: accelerator, vCPUs, run state, the VM lock.
 *
 * A struct vmc_vm is one machine.  It owns an accelerator instance, its
 * vCPUs (each on a thread of its own, see vmc-vcpu.h), its address spaces,
 * a virtual clock, and the VM lock.
 *
 * The VM lock is QEMU's "big lock", one per VM so that many VMs in one
 * process scale and never interfere.  It protects device state, the run
 * state and the vCPUs' sleep predicate.  Region callbacks run with it held
 * (unless the region is lockless); timers on the VM's virtual clock run
 * with it held; state and reset handlers run with it held; so do the
 * callbacks of the VM's own loop objects (vmc_vm_timer_new(),
 * vmc_vm_bh_new(), vmc_vm_fd_handler_new(), vmc_vm_notifier_set_handler()),
 * which is how a device does its loop-side work without taking the lock
 * itself.  Other loop callbacks that touch device state take it with
 * vmc_vm_lock().
 *
 * Run states: a VM is created in VMC_VM_CREATED with its vCPU threads
 * started but stopped.  vmc_vm_start() makes it VMC_VM_RUNNING.
 * vmc_vm_pause()/vmc_vm_resume() move between RUNNING and PAUSED; while a VM
 * is not running no guest code runs and its virtual clock is frozen.  The
 * guest can end in VMC_VM_SHUTDOWN (it asked to power off) or
 * VMC_VM_GUEST_ERROR (triple fault, internal error: vmc_vm_get_error() says
 * why); a reset brings either back to PAUSED.  A vCPU that hits a
 * breakpoint or watchpoint or completes a single step (vmc-debug.h) stops
 * the whole VM in VMC_VM_DEBUG; vmc_vm_resume() continues from there as
 * from PAUSED.  Any thread can *request* a
 * transition (vmc_vm_request_*); requests are applied in order on the loop
 * thread, and every change is reported to the state handlers there.
 * Pending requests are coalesced where the outcome is the same (see
 * vmc_vm_request_pause()) and bounded, so no thread can make the queue
 * grow without end.
 */
#ifndef LIBVMCORE_VMC_VM_H
#define LIBVMCORE_VMC_VM_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-loop.h>
#include <libvmcore/vmc-memory.h>

VMC_BEGIN_DECLS

struct vmc_vm;
struct vmc_vcpu;
struct vmc_vm_state_handler;
struct vmc_vm_reset_handler;

/** Which engine runs guest code. */
enum vmc_accel {
	VMC_ACCEL_AUTO = 0,    /**< KVM where usable, else tcg for its arch */
	VMC_ACCEL_KVM = 1,     /**< Linux KVM (x86-64 guests on x86-64) */
	VMC_ACCEL_TCG = 2,     /**< the built-in RISC-V RV64 CPU */
	VMC_ACCEL_HARNESS = 3, /**< no CPU: a test drives the devices */
	_VMC_ACCEL_MAX = 0x7fffffff
};

/** The guest architecture. */
enum vmc_arch {
	VMC_ARCH_NONE = 0,    /**< harness only: no CPU architecture */
	VMC_ARCH_X86_64 = 1,  /**< x86-64 (KVM) */
	VMC_ARCH_RISCV64 = 2, /**< RV64 (tcg) */
	_VMC_ARCH_MAX = 0x7fffffff
};

/** Run state of a VM. */
enum vmc_vm_state {
	VMC_VM_CREATED = 0,	/**< built, never started */
	VMC_VM_RUNNING = 1,	/**< vCPUs run guest code */
	VMC_VM_PAUSED = 2,	/**< stopped by the host */
	VMC_VM_SHUTDOWN = 3,	/**< the guest asked to power off */
	VMC_VM_GUEST_ERROR = 4, /**< the guest broke the machine */
	/** stopped for a debugger: a vCPU hit a breakpoint or watchpoint or
	 *  completed a step (vmc-debug.h); vmc_vm_resume() continues */
	VMC_VM_DEBUG = 5,
	_VMC_VM_STATE_MAX = 0x7fffffff
};

/** Flags of struct vmc_vm_config. */
enum vmc_vm_flags {
	/**
	 * Deterministic time: the virtual clock moves only with executed
	 * instructions (tcg) or when advanced explicitly (harness).
	 */
	VMC_VM_DETERMINISTIC = 1u << 0,
};

/**
 * How to build a VM.  Initialise with vmc_vm_config_init(), then set what
 * you need; fields may be appended in later versions (the size field tells
 * the library which ones the caller knows).
 */
struct vmc_vm_config {
	size_t size;	       /**< sizeof(struct vmc_vm_config) */
	enum vmc_accel accel;  /**< default VMC_ACCEL_AUTO */
	enum vmc_arch arch;    /**< default VMC_ARCH_NONE (harness) */
	unsigned int vcpus;    /**< number of vCPUs, 1..256; default 1 */
	unsigned int flags;    /**< enum vmc_vm_flags */
	struct vmc_loop *loop; /**< the loop the VM's callbacks run on */
	/**
	 * Real-time signal the KVM accelerator uses to kick vCPU threads out
	 * of the kernel; 0 picks SIGRTMIN + 6.  The handler is installed with
	 * sigaction() and does nothing but interrupt KVM_RUN.
	 */
	int kick_signal;
	/**
	 * Accelerator-specific options, read during vmc_vm_new() only; NULL
	 * for the defaults.  For VMC_ACCEL_KVM a struct vmc_kvm_config
	 * (vmc-kvm.h); other accelerators ignore it.
	 */
	const void *accel_config;
	/**
	 * How long an idle vCPU thread (halted, stopped, or not started yet)
	 * polls for a reason to run before it sleeps, in nanoseconds; 0 (the
	 * default) sleeps at once.  Like KVM's halt polling: waking a
	 * sleeping thread costs tens of microseconds on a virtualized host,
	 * so a vCPU that is started, resumed, interrupted or destroyed soon
	 * after it went idle reacts faster, at the price of up to this much
	 * CPU time each time it goes idle.  At most one second.
	 */
	uint64_t halt_poll_ns;
};

/**
 * Fill @p config with defaults.
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.1
 */
void vmc_vm_config_init(struct vmc_vm_config *config);

/**
 * Create a VM and start its vCPU threads (stopped).
 *
 * @param config   what to build; the loop in it gains a reference
 * @param[out] ret the VM, with one reference, in VMC_VM_CREATED
 * @retval 0 success
 * @retval -EINVAL bad configuration (no loop, vcpus out of range, unknown
 *         flag, architecture the accelerator cannot run)
 * @retval -ENODEV the requested accelerator is not usable here (no
 *         /dev/kvm, or libvmcore built without it); with VMC_ACCEL_AUTO, no
 *         accelerator can run the architecture
 * @retval -EOPNOTSUPP the accelerator lacks a capability the VM needs
 * @retval -ENOMEM out of memory
 * @retval -errno thread creation or accelerator set-up failed
 * @thread loop
 * @since 0.1
 */
int vmc_vm_new(const struct vmc_vm_config *config, struct vmc_vm **ret);

/**
 * Take a reference.
 * @param vm the VM
 * @return @p vm
 * @thread any
 * @since 0.1
 */
struct vmc_vm *vmc_vm_ref(struct vmc_vm *vm);

/**
 * Drop a reference.  The last one stops every vCPU, joins their threads,
 * runs no further handlers, and frees everything the VM owns.
 *
 * Where that would deadlock, the VM is destroyed later instead: when the
 * last reference is dropped by a thread that holds the VM lock (in a state
 * or reset handler, a region callback, a VM-clock timer, or between
 * vmc_vm_lock() and vmc_vm_unlock()) or on one of the VM's own vCPU
 * threads (a work item), the VM applies no further requests and runs no
 * further handlers from then on, and is destroyed on its loop thread the
 * next time the loop runs bottom halves; a warning is logged.  The loop
 * must run once more for that (or the VM and the loop's reference leak).
 * @param vm the VM
 * @return NULL
 * @thread loop, without the VM lock (see above for the other cases)
 * @since 0.1
 */
struct vmc_vm *vmc_vm_unref(struct vmc_vm *vm);

/**
 * The accelerator the VM runs on (never VMC_ACCEL_AUTO).
 * @param vm the VM
 * @thread any
 * @since 0.1
 */
enum vmc_accel vmc_vm_get_accel(const struct vmc_vm *vm);

/**
 * The guest architecture.
 * @param vm the VM
 * @thread any
 * @since 0.1
 */
enum vmc_arch vmc_vm_get_arch(const struct vmc_vm *vm);

/**
 * The VM's loop (no new reference).
 * @param vm the VM
 * @thread any
 * @since 0.1
 */
struct vmc_loop *vmc_vm_get_loop(const struct vmc_vm *vm);

/**
 * The VM's virtual clock (no new reference).  It runs only while the VM is
 * running; timers on it run with the VM lock held.
 * @param vm the VM
 * @thread any
 * @since 0.1
 */
struct vmc_clock *vmc_vm_get_clock(const struct vmc_vm *vm);

/**
 * The VM's memory context: create its regions in it, and group layout
 * changes with vmc_memory_begin()/vmc_memory_commit() on it.
 * @param vm the VM
 * @return the context (owned by the VM); NULL for a NULL @p vm
 * @thread any
 * @since 0.1
 */
struct vmc_memory *vmc_vm_get_memory(const struct vmc_vm *vm);

/**
 * One of the VM's address spaces: VMC_AS_MEMORY (RAM and MMIO; what vCPUs
 * see) or VMC_AS_IO (x86 port I/O, 64 KiB).  Guest-like accesses through
 * vmc_as_read()/vmc_as_write() on it dispatch exactly as a vCPU's would,
 * which is how harness tests drive devices.
 * @param vm the VM
 * @param kind VMC_AS_MEMORY, or VMC_AS_IO (x86)
 * @return the address space (owned by the VM); NULL for a NULL @p vm or
 *         an unknown kind
 * @thread any
 * @since 0.1
 */
struct vmc_address_space *vmc_vm_get_address_space(const struct vmc_vm *vm,
						   enum vmc_as_kind kind);

/**
 * The root container of one of the VM's address spaces: the board adds
 * its RAM, ROM and device regions to it with vmc_region_add_subregion().
 * @param vm the VM
 * @param kind VMC_AS_MEMORY, or VMC_AS_IO (x86)
 * @return the container (owned by the VM); NULL for a NULL @p vm or an
 *         unknown kind
 * @thread any
 * @since 0.1
 */
struct vmc_region *vmc_vm_get_root(const struct vmc_vm *vm,
				   enum vmc_as_kind kind);

/**
 * Take the VM lock.  Not recursive: a thread that holds it must not take it
 * again (region callbacks, VM-clock timers and state handlers already run
 * with it).  If it does anyway, the call logs an error and returns without
 * taking the lock a second time; the nesting is counted, so the matching
 * vmc_vm_unlock() leaves the lock held for the outer holder.
 * @param vm the VM
 * @thread any
 * @since 0.1
 */
void vmc_vm_lock(struct vmc_vm *vm);

/**
 * Release the VM lock.
 * @param vm the VM
 * @thread the thread holding it
 * @since 0.1
 */
void vmc_vm_unlock(struct vmc_vm *vm);

/**
 * Whether the calling thread holds the VM lock.
 * @param vm the VM
 * @thread any
 * @since 0.1
 */
bool vmc_vm_lock_held(const struct vmc_vm *vm);

/**
 * The current run state.
 * @param vm the VM
 * @thread any (a snapshot; hold the VM lock for a stable answer)
 * @since 0.1
 */
enum vmc_vm_state vmc_vm_get_state(const struct vmc_vm *vm);

/**
 * Name of a run state ("running", ...); "unknown" for other values.
 * @param state the run state
 * @thread any
 * @since 0.1
 */
const char *vmc_vm_state_to_string(enum vmc_vm_state state);

/**
 * Why the VM entered VMC_VM_GUEST_ERROR, as text (for example
 * "vcpu 0: triple fault").
 * @param vm the VM
 * @return the reason, valid until the next reset or the VM's end; NULL when
 *         the VM is not in the guest-error state
 * @thread loop, or with the VM lock
 * @since 0.1
 */
const char *vmc_vm_get_error(const struct vmc_vm *vm);

/**
 * The status the guest gave when it asked to shut down (for example the
 * code written to a test finisher).
 * @param vm the VM
 * @retval status the status; 0 when the VM is not in VMC_VM_SHUTDOWN
 * @thread loop, or with the VM lock
 * @since 0.1
 */
int vmc_vm_get_shutdown_status(const struct vmc_vm *vm);

/**
 * Start a created VM, or resume a paused one (VMC_VM_PAUSED or
 * VMC_VM_DEBUG): the virtual clock runs again and every vCPU may run,
 * except those held with vmc_vcpu_set_hold().  Returns without waiting for
 * the vCPUs.
 * @param vm the VM
 * @retval 0 success (also when already running)
 * @retval -EINVAL @p vm is NULL
 * @retval -EBUSY the VM is shut down or in the guest-error state (reset it
 *         first)
 * @thread loop
 * @since 0.1
 */
int vmc_vm_resume(struct vmc_vm *vm);

/**
 * Same as vmc_vm_resume(); reads better for the first start.
 * @param vm the VM
 * @thread loop
 * @since 0.1
 */
int vmc_vm_start(struct vmc_vm *vm);

/**
 * Pause the VM: the run state becomes PAUSED, the virtual clock freezes and
 * its timers stop, and every vCPU is asked to stop.  Returns only when every
 * vCPU has stopped: no guest code runs after this returns.
 * @param vm the VM
 * @retval 0 success (also when not running; then nothing changes)
 * @retval -EINVAL @p vm is NULL
 * @retval -EDEADLK called on one of the VM's vCPU threads (use
 *         vmc_vm_request_pause())
 * @thread loop
 * @since 0.1
 */
int vmc_vm_pause(struct vmc_vm *vm);

/**
 * Reset the VM now: stop its vCPUs, reset every vCPU to its power-on
 * state, then run the reset handlers in registration order (so that a
 * board's handler can reload images, set entry registers or halt
 * secondary CPUs), clear a shutdown or guest error, and resume if it was
 * running (otherwise it stays or becomes PAUSED; a VM never started stays
 * CREATED).  The VM's interrupt lines keep their levels: devices reset
 * theirs in their own handlers.
 * @param vm the VM
 * @retval 0 success
 * @retval -EINVAL @p vm is NULL
 * @retval -EDEADLK called on one of the VM's vCPU threads
 * @thread loop
 * @since 0.1
 */
int vmc_vm_reset(struct vmc_vm *vm);

/**
 * Ask for a pause, resume, reset or shutdown from any thread.  Requests are
 * applied in order on the loop thread.  A vCPU thread that asks for a
 * pause, reset or shutdown stops itself at once; the others follow when
 * the loop applies the request.
 *
 * Pending requests are coalesced where the outcome is the same from every
 * run state: a request of the same kind as the last pending one is
 * dropped (a second pause, resume or reset in a row changes nothing more;
 * of two shutdowns or guest errors the first one's status or reason
 * counts, as when they are applied), and in a run of pauses and resumes
 * only the last two remain (pause, resume, pause ends where resume, pause
 * ends).  State handlers then do not hear of the states in between, as
 * with QEMU, where a start cancels a pending stop request.  At most 64
 * requests are pending; beyond that a thread that is not one of the VM's
 * vCPUs gets -EAGAIN (a vCPU's stopping requests are always taken: the
 * vCPU stops until the loop applied them, so it cannot flood).
 * @param vm the VM
 * @retval 0 queued (or coalesced with a pending request)
 * @retval -EINVAL @p vm is NULL
 * @retval -EAGAIN 64 requests are pending: the loop is not applying them
 *         (not running, or blocked); retry after it ran
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_vm_request_pause(struct vmc_vm *vm);

/** @copydoc vmc_vm_request_pause */
int vmc_vm_request_resume(struct vmc_vm *vm);

/** @copydoc vmc_vm_request_pause */
int vmc_vm_request_reset(struct vmc_vm *vm);

/**
 * Ask for a shutdown with a status the host can read back with
 * vmc_vm_get_shutdown_status() (devices: a power-off register, a test
 * finisher).  See vmc_vm_request_pause().
 * @param vm the VM
 * @param status the shutdown status
 * @thread any
 * @since 0.1
 */
int vmc_vm_request_shutdown(struct vmc_vm *vm, int status);

/**
 * Put the VM in VMC_VM_GUEST_ERROR with a reason (devices and accelerators
 * use it when the guest breaks the machine).  See vmc_vm_request_pause().
 * @param vm the VM
 * @param reason text, copied (truncated to 255 bytes)
 * @thread any
 * @since 0.1
 */
int vmc_vm_request_guest_error(struct vmc_vm *vm, const char *reason);

/**
 * A state handler: called on the loop thread, VM lock held, after the run
 * state changed from @p old_state to @p new_state.
 */
typedef void (*vmc_vm_state_cb)(struct vmc_vm *vm, enum vmc_vm_state old_state,
				enum vmc_vm_state new_state, void *userdata);

/**
 * Register a state handler.  When the VM starts running, handlers run in
 * ascending @p priority; when it stops, in descending priority (devices
 * that feed the VM start last and stop first).  Equal priorities keep
 * registration order.  A handler registered while handlers are being
 * called hears only of later changes; one removed meanwhile is not called
 * any more.  Calling the handlers allocates nothing, so a change of state
 * always reaches every handler.
 * @param vm the VM
 * @param cb called after each change of the run state
 * @param priority the handler's place in the order above
 * @param userdata passed to @p cb
 * @param[out] ret handle for vmc_vm_remove_state_handler(); may be NULL
 * @retval 0 success
 * @retval -EINVAL @p vm or @p cb is NULL
 * @retval -ENOMEM out of memory
 * @thread loop, or with the VM lock
 * @since 0.1
 */
int vmc_vm_add_state_handler(struct vmc_vm *vm, vmc_vm_state_cb cb,
			     int priority, void *userdata,
			     struct vmc_vm_state_handler **ret);

/**
 * Unregister and free a state handler (also from inside a handler).
 * @param vm the VM
 * @param h the handle from vmc_vm_add_state_handler()
 * @thread loop, or with the VM lock
 * @since 0.1
 */
void vmc_vm_remove_state_handler(struct vmc_vm *vm,
				 struct vmc_vm_state_handler *h);

/** A reset handler: on the loop thread, VM lock held, VM paused. */
typedef void (*vmc_vm_reset_cb)(struct vmc_vm *vm, void *userdata);

/**
 * Register a reset handler; handlers run in registration order on every
 * reset, after the vCPUs have been reset.
 * @param vm the VM
 * @param cb called on every reset
 * @param userdata passed to @p cb
 * @param[out] ret handle for vmc_vm_remove_reset_handler(); may be NULL
 * @retval 0 success
 * @retval -EINVAL @p vm or @p cb is NULL
 * @retval -ENOMEM out of memory
 * @thread loop, or with the VM lock
 * @since 0.1
 */
int vmc_vm_add_reset_handler(struct vmc_vm *vm, vmc_vm_reset_cb cb,
			     void *userdata, struct vmc_vm_reset_handler **ret);

/**
 * Unregister and free a reset handler.
 * @param vm the VM
 * @param h the handle from vmc_vm_add_reset_handler()
 * @thread loop, or with the VM lock
 * @since 0.1
 */
void vmc_vm_remove_reset_handler(struct vmc_vm *vm,
				 struct vmc_vm_reset_handler *h);

/**
 * Number of vCPUs the VM was created with (unplugged ones included).
 * @param vm the VM
 * @thread any
 * @since 0.1
 */
unsigned int vmc_vm_get_vcpu_count(const struct vmc_vm *vm);

/**
 * vCPU number @p index (no new reference; it lives as long as the VM, also
 * after it is unplugged).
 * @param vm the VM
 * @param index the vCPU's index
 * @return the vCPU; NULL when @p index is out of range
 * @thread any
 * @since 0.1
 */
struct vmc_vcpu *vmc_vm_get_vcpu(const struct vmc_vm *vm, unsigned int index);

/** A work item (see vmc-vcpu.h). */
typedef void (*vmc_work_cb)(struct vmc_vcpu *vcpu, void *userdata);

/**
 * Run @p cb while no vCPU of the VM executes guest code: the tool for
 * flushing translated code or changing state every vCPU reads without
 * locks.  Asynchronous: @p cb is queued as exclusive work on the first vCPU
 * that is still plugged and runs on its thread, *without* the VM lock (so
 * that vCPUs blocked on the lock can leave guest code), once every other
 * vCPU is outside guest code.  Other vCPUs may be idle, paused or waiting
 * to enter guest code meanwhile.  It runs even while the VM is paused.
 * @param vm the VM
 * @param cb the work to run
 * @param userdata passed to @p cb
 * @retval 0 queued
 * @retval -EINVAL @p vm or @p cb is NULL
 * @retval -ENODEV every vCPU is unplugged
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_vm_run_exclusive(struct vmc_vm *vm, vmc_work_cb cb, void *userdata);

/* ------------------------------------------------------------------------
 * Loop objects of a VM
 *
 * Timers, bottom halves, fd handlers and notifier handlers that belong to
 * a VM: their callbacks run on the VM's loop thread with the VM lock held.
 * The library takes the lock around each callback (a loop thread that
 * already holds it is not blocked), so a device's loop-side callbacks see
 * its state under the same lock as its region callbacks, with no locking
 * of their own; QEMU runs its device timers and bottom halves under its
 * big lock the same way.
 *
 * They are the ordinary objects of vmc-loop.h: arm, schedule, change and
 * free them with vmc_timer_mod(), vmc_bh_schedule(), vmc_fd_handler_set(),
 * vmc_timer_free() and the rest, with the threading those document.  What
 * the lock adds:
 * - Whether a callback runs is decided once the lock is held: a
 *   vmc_timer_del(), vmc_bh_cancel() or vmc_clock_stop() made by a thread
 *   holding the VM lock (a vCPU in a region callback, say) is final, even
 *   when the callback was due and the loop thread waits for the lock to run
 *   it.
 * - Freeing happens on the loop thread, which is the thread that runs the
 *   callbacks: no callback runs after the free returns, also when the free
 *   happens inside the object's own callback or while its run is pending.
 * - A callback must not take the VM lock (it is not recursive) and must
 *   not block waiting for a vCPU to run.
 * Free a VM's loop objects before its last reference goes: they use its
 * lock.  A device frees them after vmc_region_detach_ops() (so no region
 * callback can still schedule or arm them) and before it drops its region
 * (vmc-memory.h, "The end of a device").
 */

/**
 * Create a disarmed timer whose callback runs with the VM lock held.
 * @param vm the VM
 * @param type VMC_CLOCK_VIRTUAL for the VM's virtual clock (stops while
 *        the VM is paused), VMC_CLOCK_REALTIME or VMC_CLOCK_HOST for the
 *        loop's own clocks
 * @param cb called on the loop thread, VM lock held, when the timer expires
 * @param userdata passed to @p cb
 * @param[out] ret the new timer; free it with vmc_timer_free()
 * @retval 0 success
 * @retval -EINVAL @p vm, @p cb or @p ret is NULL, or @p type is unknown
 * @retval -ENOMEM out of memory
 * @thread loop, or with the VM lock
 * @since 0.2
 */
int vmc_vm_timer_new(struct vmc_vm *vm, enum vmc_clock_type type,
		     vmc_timer_cb cb, void *userdata, struct vmc_timer **ret);

/**
 * Create a bottom half whose callback runs with the VM lock held.
 * Schedule it from any thread, also from a region callback.
 * @param vm the VM
 * @param cb called on the loop thread, VM lock held
 * @param userdata passed to @p cb
 * @param[out] ret the new bottom half; free it with vmc_bh_free()
 * @retval 0 success
 * @retval -EINVAL @p vm, @p cb or @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread loop, or with the VM lock
 * @since 0.2
 */
int vmc_vm_bh_new(struct vmc_vm *vm, vmc_bh_cb cb, void *userdata,
		  struct vmc_bh **ret);

/**
 * Watch an fd on the VM's loop, as vmc_loop_add_fd() does, with the
 * callbacks running with the VM lock held.  vmc_fd_handler_set() keeps the
 * lock; the fd stays the caller's.
 * @param vm the VM
 * @param fd the fd to watch
 * @param read_cb called when @p fd is readable, or NULL
 * @param write_cb called when @p fd is writable, or NULL
 * @param userdata passed to the callbacks
 * @param[out] ret the new handler; free it with vmc_fd_handler_free()
 * @retval 0 success
 * @retval -EINVAL @p vm or @p ret is NULL, or @p fd is negative
 * @retval -EEXIST the fd already has a handler on this loop
 * @retval -ENOMEM out of memory
 * @retval -errno the fd cannot be polled (-EBADF: not open, -EPERM: a
 *         regular file)
 * @thread loop
 * @since 0.2
 */
int vmc_vm_fd_handler_new(struct vmc_vm *vm, int fd, vmc_fd_cb read_cb,
			  vmc_fd_cb write_cb, void *userdata,
			  struct vmc_fd_handler **ret);

/**
 * Run @p cb on the VM's loop, with the VM lock held, whenever the notifier
 * is signalled (an ioeventfd's guest write, say), as
 * vmc_notifier_set_handler() does; @p cb NULL removes the handler.  A
 * later vmc_notifier_set_handler() on the same notifier replaces the
 * handler and drops the lock.
 * @param vm the VM
 * @param n the notifier
 * @param cb the handler, or NULL
 * @param userdata passed to @p cb
 * @retval 0 success
 * @retval -EINVAL @p vm or @p n is NULL
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.2
 */
int vmc_vm_notifier_set_handler(struct vmc_vm *vm, struct vmc_notifier *n,
				vmc_notifier_cb cb, void *userdata);

/**
 * Start or stop logging which pages of @p region the guest writes (dirty
 * tracking, for live migration, snapshots and sandbox resets).  Logging
 * starts with a clean log and follows the region through layout changes
 * (wherever the region is mapped, and while it is not) until it is
 * stopped.  Starting logging that is on, or stopping logging that is off,
 * does nothing.  The accelerator provides the log: KVM's kernel dirty log;
 * VMs on an accelerator without one answer -EOPNOTSUPP.
 * @param vm the VM
 * @param region a RAM or ROM region of @p vm's memory
 * @param enable true to start logging, false to stop
 * @retval 0 success
 * @retval -EINVAL @p vm or @p region is NULL, @p region belongs to another
 *         VM's memory, or it is not RAM or ROM (I/O, container, alias)
 * @retval -EOPNOTSUPP the VM's accelerator has no dirty tracking
 * @retval -ENOMEM out of memory
 * @retval -errno the accelerator's mechanism refused (KVM: a memslot)
 * @thread loop (the memory's writer side), VM lock held or VM paused
 * @since 0.2
 */
int vmc_vm_set_dirty_logging(struct vmc_vm *vm, struct vmc_region *region,
			     bool enable);

/**
 * Fetch and clear the dirty log of @p region: bit i (bit i % 64 of 64-bit
 * word i / 64) is set when the guest wrote page i (4 KiB, counted from the
 * region's start) since logging started or since the last call.  Pages no
 * guest mapping reaches are reported clean.  Bits are ORed into
 * @p bitmap, which the caller clears first.
 * @param vm the VM
 * @param region a region being logged (vmc_vm_set_dirty_logging())
 * @param bitmap at least (region size / 4096 + 63) / 64 words
 * @param words the number of words at @p bitmap
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p words is too small, or
 *         @p region is not a RAM or ROM region of @p vm
 * @retval -EOPNOTSUPP the VM's accelerator has no dirty tracking
 * @retval -ENOENT logging is not on for @p region
 * @retval -errno the accelerator's mechanism failed
 * @thread the memory's writer side (loop), or any thread while no layout
 *         change runs; a page a vCPU writes during the call shows up in
 *         this call or the next
 * @since 0.2
 */
int vmc_vm_get_dirty_log(struct vmc_vm *vm, struct vmc_region *region,
			 uint64_t *bitmap, size_t words);

VMC_END_DECLS

#endif
