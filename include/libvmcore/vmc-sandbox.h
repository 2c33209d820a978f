/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-sandbox.h
 * Guest calls: run a guest function with arguments and get its result,
 * with host callbacks, a deadline, cancellation and poisoning.
 *
 * A struct vmc_sandbox drives one vCPU of a VM that does not run on its
 * own (created and never started, or paused).  vmc_sandbox_call() sets the
 * vCPU's registers to the call (entry point, stack, arguments), runs guest
 * code until the guest signals completion, and returns the result
 * register.  Between calls the vCPU keeps its state: memory and registers
 * change only through calls and through vmc_sandbox_reset(), which puts
 * the VM back to an in-memory snapshot (vmc-snapshot.h).
 *
 * Calling convention.  x86-64 (KVM): arguments in rdi, rsi, rdx, rcx, r8,
 * r9 (SysV), the result in rax; the call pushes @c return_address (when
 * not 0) below @c stack, as a `call` instruction would.  RV64 (tcg):
 * arguments in a0..a7, the result in a0, @c return_address in ra, @c stack
 * in sp.  Other registers keep the values they had.
 *
 * Completion and host calls ("the doorbell").
 *  - x86: `hlt` completes the call, the result in rax (HLT exits to the
 *    host only without an in-kernel irqchip).  A 4-byte `out` of value 0 to
 *    the doorbell port also completes it, with the result in rdi (rax holds
 *    the 0); RIP then stays on the `out` until the vCPU runs again (KVM
 *    finishes the instruction at its next entry, after the next call's
 *    registers, or a restored snapshot's, are loaded).  A 4-byte `out` of n
 * (1..VMC_SANDBOX_MAX_HOST_CALLS) to the port calls host callback n with rdi,
 * rsi, rdx, rcx, r8, r9 and puts its result in rax; the guest goes on after the
 * `out`.
 *  - RV64: `wfi` completes the call, the result in a0.  An 8-byte store of
 *    value 0 to the doorbell address completes it too, the result in a0
 *    (instructions up to the end of the translation block may still run:
 *    follow the store with `j .`).  A store of n calls host callback n with
 *    a0..a7 and puts its result in a0, which the next instruction sees.
 *  Anything else the guest does that stops the vCPU (a fault the guest
 *  cannot handle: triple fault, a trap loop, an internal error) ends the
 *  call with -EFAULT.
 *
 * Poisoning.  A call that was cancelled, ran past its deadline, faulted,
 * or whose host callback failed, leaves the guest in an unknown state
 * mid-function: the sandbox is poisoned and refuses calls with -EIO until
 * vmc_sandbox_reset() puts it back to a snapshot.
 *
 * Executors.  By default a call runs on the vCPU's own thread: the caller
 * hands it over and waits (one thread hand-off each way).  With
 * VMC_SANDBOX_CALLER_THREAD the call borrows the vCPU and runs its guest
 * code on the calling thread, with no hand-off; the vCPU's thread sleeps
 * meanwhile.  On KVM the kernel then binds the vCPU to that thread: the
 * first call from another thread pays a kernel RCU grace period
 * (milliseconds), so call from one thread.  The first caller-thread call
 * on a thread blocks the VM's kick signal on it (vmc_vm_config), as on
 * vCPU threads, and leaves it blocked.
 *
 * Threads.  One call at a time per sandbox (-EBUSY otherwise), from any
 * thread that is not a vCPU thread.  vmc_sandbox_cancel() and
 * vmc_sandbox_is_poisoned() from any thread.  vmc_sandbox_reset() from
 * any thread that is not a vCPU thread, while no call runs and nothing
 * changes the VM's memory layout.  Host callbacks run on the executor
 * (the caller's or the vCPU's thread) without the VM lock; they may read
 * and write guest memory (vmc_as_read(), vmc_as_write()) but must not
 * call, reset or free their sandbox.  While a call runs, work items and
 * register accesses aimed at the vCPU from other threads wait for it (a
 * borrowing caller runs them between guest exits), and vmc_vm_resume()
 * must not be called.
 */
#ifndef LIBVMCORE_VMC_SANDBOX_H
#define LIBVMCORE_VMC_SANDBOX_H

#include <libvmcore/vmc-common.h>

VMC_BEGIN_DECLS

struct vmc_vm;
struct vmc_snapshot;
struct vmc_sandbox;

/** Host callbacks are numbered 1 to this. */
#define VMC_SANDBOX_MAX_HOST_CALLS 64
/** The doorbell port an x86 sandbox uses unless configured otherwise. */
#define VMC_SANDBOX_X86_DOORBELL_PORT 0xec

/** Flags of struct vmc_sandbox_config. */
enum vmc_sandbox_flags {
	/** Run calls on the caller's thread (see the file comment). */
	VMC_SANDBOX_CALLER_THREAD = 1u << 0,
};

/** How a sandbox is set up; fill with vmc_sandbox_config_init(). */
struct vmc_sandbox_config {
	/** sizeof(struct vmc_sandbox_config), so the struct can grow */
	size_t struct_size;
	/** VMC_SANDBOX_* flags */
	unsigned int flags;
	/** the vCPU the calls run on (default 0) */
	unsigned int vcpu;
	/**
	 * x86: the doorbell port (default VMC_SANDBOX_X86_DOORBELL_PORT).
	 * RV64: the guest-physical address of the 8-byte doorbell, which
	 * must not overlap RAM or another region (it is added with
	 * priority 0, as a region of the host's); 0 (the default) means no
	 * doorbell.
	 */
	uint64_t doorbell;
};

/**
 * Fill @p config with the defaults.
 * @param config the configuration
 * @thread any
 * @since 0.2
 */
void vmc_sandbox_config_init(struct vmc_sandbox_config *config);

/**
 * Create a sandbox on @p vm, which must stay not running (never started,
 * or paused) while the sandbox is used.  The sandbox maps its doorbell
 * into the VM's memory (x86: the I/O address space) and holds a reference
 * on the VM.
 * @param vm the VM (x86-64 on KVM, or RV64)
 * @param config the configuration, or NULL for the defaults
 * @param[out] ret the sandbox, written only on success
 * @retval 0 success
 * @retval -EINVAL an argument is NULL or invalid (vCPU index, struct_size,
 *         an unknown flag, an x86 port above 0xfffc)
 * @retval -EOPNOTSUPP the VM's accelerator runs no guest code (harness)
 * @retval -ENOMEM out of memory
 * @thread loop (the memory's writer side)
 * @since 0.2
 */
int vmc_sandbox_new(struct vmc_vm *vm, const struct vmc_sandbox_config *config,
		    struct vmc_sandbox **ret);

/**
 * Remove the doorbell, free the sandbox and drop its VM reference.  No
 * call may be running.  NULL is a no-op.
 * @param sb the sandbox, or NULL
 * @thread loop (the memory's writer side)
 * @since 0.2
 */
void vmc_sandbox_free(struct vmc_sandbox *sb);

/** The VM of @p sb. @param sb the sandbox @thread any @since 0.2 */
struct vmc_vm *vmc_sandbox_get_vm(const struct vmc_sandbox *sb);

/**
 * A host callback: @p args are the guest's argument registers (x86: rdi,
 * rsi, rdx, rcx, r8, r9; RV64: a0..a7), @p ret the value to hand back.
 * Return 0 to let the guest go on, or a negative errno to end the call
 * with it (the sandbox is then poisoned).
 */
typedef int (*vmc_sandbox_host_cb)(struct vmc_sandbox *sb,
				   const uint64_t args[8], uint64_t *ret,
				   void *userdata);

/**
 * Register (or, with @p cb NULL, remove) host callback @p nr.  A guest
 * call of a number without a callback gets -ENOSYS (as an unsigned
 * 64-bit value) as its result.
 * @param sb the sandbox
 * @param nr 1 to VMC_SANDBOX_MAX_HOST_CALLS
 * @param cb the callback, or NULL
 * @param userdata passed to @p cb
 * @retval 0 success
 * @retval -EINVAL @p sb is NULL or @p nr out of range
 * @retval -EBUSY a call is running
 * @thread any, while no call runs
 * @since 0.2
 */
int vmc_sandbox_set_host_call(struct vmc_sandbox *sb, unsigned int nr,
			      vmc_sandbox_host_cb cb, void *userdata);

/** One guest call; fill with vmc_sandbox_call_init(). */
struct vmc_sandbox_call {
	/** sizeof(struct vmc_sandbox_call), so the struct can grow */
	size_t struct_size;
	/** guest-virtual address of the function */
	uint64_t entry;
	/** the stack pointer at the call (x86: 16-byte aligned) */
	uint64_t stack;
	/** where the function returns to (a trampoline that completes the
	 * call), or 0: nothing pushed (x86) or ra unchanged (RV64) */
	uint64_t return_address;
	/** the arguments; x86 uses the first 6 */
	uint64_t args[8];
	/** how many of @c args to load (x86: at most 6) */
	unsigned int nr_args;
	/** the deadline, in nanoseconds from the call's start; 0: none */
	uint64_t timeout_ns;
	/** out: the result register, on success */
	uint64_t result;
};

/**
 * Fill @p call with zeros and its struct_size.
 * @param call the call
 * @thread any
 * @since 0.2
 */
void vmc_sandbox_call_init(struct vmc_sandbox_call *call);

/**
 * Run the guest function @p call describes and wait for its completion.
 * @param sb the sandbox
 * @param call the call; @c result is written on success
 * @retval 0 the guest completed the call
 * @retval -EINVAL an argument is NULL or invalid (struct_size, nr_args)
 * @retval -EIO the sandbox is poisoned: reset it
 * @retval -EBUSY another call or a reset is in progress, the VM is
 *         running, or the vCPU is not parked
 * @retval -ECANCELED vmc_sandbox_cancel() stopped it (now poisoned)
 * @retval -ETIMEDOUT it ran past its deadline (now poisoned)
 * @retval -EFAULT the guest faulted or stopped the vCPU otherwise (now
 *         poisoned); the reason went to the log
 * @retval -EDEADLK called on a vCPU thread
 * @retval -ENODEV the vCPU is unplugged
 * @retval -errno a host callback's error (now poisoned), or setting the
 *         registers failed
 * @thread any but a vCPU thread; see the file comment
 * @since 0.2
 */
int vmc_sandbox_call(struct vmc_sandbox *sb, struct vmc_sandbox_call *call);

/**
 * Stop the call in progress, if any: it returns -ECANCELED and the
 * sandbox is poisoned.  A kick: the guest leaves at its next exit or
 * block boundary, at once if it loops.
 * @param sb the sandbox
 * @retval 1 a call was running and is being cancelled
 * @retval 0 no call was running (nothing happens)
 * @retval -EINVAL @p sb is NULL
 * @thread any
 * @since 0.2
 */
int vmc_sandbox_cancel(struct vmc_sandbox *sb);

/**
 * Whether @p sb refuses calls until reset.
 * @param sb the sandbox
 * @thread any
 * @since 0.2
 */
bool vmc_sandbox_is_poisoned(const struct vmc_sandbox *sb);

/**
 * Put the VM back to @p snap (vmc_snapshot_restore(): the pages written
 * since, and every vCPU's registers) and clear the poison.
 * @param sb the sandbox
 * @param snap a snapshot of the sandbox's VM
 * @return the number of pages copied (>= 0), or a negative errno
 * @retval -EINVAL an argument is NULL, or vmc_snapshot_restore() refused
 *         @p snap
 * @retval -EBUSY a call is running
 * @retval -errno what vmc_snapshot_restore() returned; the sandbox stays
 *         poisoned
 * @thread any but a vCPU thread, while no call runs and the memory
 *         layout does not change
 * @since 0.2
 */
int vmc_sandbox_reset(struct vmc_sandbox *sb, struct vmc_snapshot *snap);

VMC_END_DECLS

#endif
