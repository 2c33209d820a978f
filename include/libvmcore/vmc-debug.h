/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-debug.h
 * @brief Guest debugging: breakpoints, watchpoints, single-step, debug
 * stops, debugger memory access, and holding single vCPUs.
 *
 * These are the hooks a debugger front end (libvmcore's own gdbstub, or a
 * host's) builds on.  They follow QEMU's model:
 *
 * - Breakpoints and watchpoints belong to one vCPU.  A debugger that wants
 *   them everywhere inserts them on every vCPU.  Addresses are guest-virtual
 *   (the vCPU's current translation).  On tcg a change drops the translated
 *   code of every vCPU as exclusive work, queued before this call returns,
 *   so it is in force before any vCPU runs guest code again.
 * - When a vCPU hits a breakpoint or watchpoint or completes a step, it
 *   stops at once, and the loop then stops the whole VM (all-stop): the
 *   run state becomes VMC_VM_DEBUG, after every vCPU has stopped, and the
 *   state handlers are told.  vmc_vm_get_debug_vcpu() names the vCPU that
 *   caused it and vmc_vcpu_debug_get_stop() says why.  vmc_vm_resume()
 *   continues.
 * - A held vCPU (vmc_vcpu_set_hold()) stays stopped while its VM runs, as
 *   QEMU leaves the threads a gdb vCont does not resume.
 */
#ifndef LIBVMCORE_VMC_DEBUG_H
#define LIBVMCORE_VMC_DEBUG_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

/** Kinds of debug points; the numbers are gdb's Z packet types. */
enum vmc_debug_kind {
	VMC_DEBUG_BREAK_SW = 0,	    /**< software breakpoint */
	VMC_DEBUG_BREAK_HW = 1,	    /**< hardware breakpoint */
	VMC_DEBUG_WATCH_WRITE = 2,  /**< stop after a write */
	VMC_DEBUG_WATCH_READ = 3,   /**< stop after a read */
	VMC_DEBUG_WATCH_ACCESS = 4, /**< stop after a read or a write */
	_VMC_DEBUG_KIND_MAX = 0x7fffffff
};

/** Why a vCPU made a debug stop. */
enum vmc_debug_reason {
	VMC_DEBUG_STOP_NONE = 0,  /**< no debug stop recorded */
	VMC_DEBUG_STOP_BREAK = 1, /**< a breakpoint, before the insn */
	VMC_DEBUG_STOP_STEP = 2,  /**< a single step completed */
	VMC_DEBUG_STOP_WATCH = 3, /**< a watchpoint, after the access */
	_VMC_DEBUG_REASON_MAX = 0x7fffffff
};

/** A vCPU's last debug stop, from vmc_vcpu_debug_get_stop(). */
struct vmc_debug_stop {
	enum vmc_debug_reason reason; /**< why */
	/** VMC_DEBUG_STOP_WATCH: the kind of the watchpoint that fired. */
	enum vmc_debug_kind watch_kind;
	/** VMC_DEBUG_STOP_WATCH: the accessed (or watched) address. */
	uint64_t watch_addr;
};

/**
 * Insert a breakpoint or watchpoint on one vCPU.
 *
 * tcg: any number of software or hardware breakpoints (they are the same
 * there) up to 64, and up to 16 watchpoints of any length.  KVM (x86):
 * breakpoints and watchpoints share the four debug registers; software
 * breakpoints use them too where int3 is not reported reliably
 * (vmc_kvm_probe_sw_breakpoints()); a watchpoint's @p len must be 1, 2, 4
 * or 8 and @p addr aligned to it; read-only watchpoints are not available
 * (the hardware has none).
 *
 * @param vcpu the vCPU
 * @param kind what to insert
 * @param addr guest-virtual address
 * @param len the watched length (watchpoints), or gdb's breakpoint
 *        "kind" (ignored)
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL, an unknown kind, or a zero length
 * @retval -EEXIST already inserted
 * @retval -ENOSPC no slot left
 * @retval -EOPNOTSUPP the accelerator cannot do this kind (harness: none)
 * @retval -ENODEV the vCPU is unplugged
 * @retval -EDEADLK called on another vCPU's thread
 * @thread any except other vCPU threads
 * @since 0.1
 */
int vmc_vcpu_debug_insert(struct vmc_vcpu *vcpu, enum vmc_debug_kind kind,
			  uint64_t addr, uint64_t len);

/**
 * Remove what vmc_vcpu_debug_insert() inserted (same arguments).
 * @param vcpu the vCPU
 * @param kind what was inserted
 * @param addr guest-virtual address, as inserted
 * @param len the length, as inserted
 * @retval 0 success
 * @retval -ENOENT no such debug point
 * @retval -EINVAL, -EOPNOTSUPP, -ENODEV, -EDEADLK as for insert
 * @thread any except other vCPU threads
 * @since 0.1
 */
int vmc_vcpu_debug_remove(struct vmc_vcpu *vcpu, enum vmc_debug_kind kind,
			  uint64_t addr, uint64_t len);

/**
 * Turn single-stepping on or off.  While on, the vCPU makes a debug stop
 * after each instruction.  Breakpoints at the pc do not fire on the
 * stepped instruction (stepping off a breakpoint works).  A pending
 * interrupt is taken, not skipped: the step then stops at the first
 * instruction of the handler.
 * @param vcpu the vCPU
 * @param on true to step, false to stop stepping
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL
 * @retval -EOPNOTSUPP the accelerator cannot step (harness)
 * @retval -ENODEV the vCPU is unplugged
 * @retval -EDEADLK called on another vCPU's thread
 * @thread any except other vCPU threads
 * @since 0.1
 */
int vmc_vcpu_debug_set_step(struct vmc_vcpu *vcpu, bool on);

/**
 * Why the vCPU last made a debug stop.  Valid while it stays stopped.
 * @param vcpu the vCPU
 * @param[out] ret the stop; reason VMC_DEBUG_STOP_NONE if none was made
 * @retval 0 success
 * @retval -EINVAL an argument is NULL
 * @thread any
 * @since 0.1
 */
int vmc_vcpu_debug_get_stop(struct vmc_vcpu *vcpu, struct vmc_debug_stop *ret);

/**
 * Translate a guest-virtual address with the vCPU's current translation,
 * as a debugger's memory access would (no accessed/dirty bits are set, no
 * fault is raised).
 * @param vcpu the vCPU
 * @param vaddr the guest-virtual address
 * @param[out] ret the guest-physical address
 * @retval 0 success
 * @retval -EINVAL an argument is NULL
 * @retval -EFAULT not mapped
 * @retval -EOPNOTSUPP the accelerator has no translation (harness)
 * @retval -ENODEV the vCPU is unplugged
 * @retval -EDEADLK called on another vCPU's thread
 * @thread any except other vCPU threads
 * @since 0.1
 */
int vmc_vcpu_debug_translate(struct vmc_vcpu *vcpu, uint64_t vaddr,
			     uint64_t *ret);

/**
 * Hold a vCPU stopped while its VM runs, or let it run again.  Holding a
 * running vCPU stops it (asynchronously); releasing a held vCPU of a
 * running VM resumes it.  Holds survive pauses and resumes of the VM.
 * @param vcpu the vCPU
 * @param hold true to hold the vCPU, false to release it
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL
 * @thread any except vCPU threads of the same VM
 * @since 0.1
 */
int vmc_vcpu_set_hold(struct vmc_vcpu *vcpu, bool hold);

/**
 * Whether the vCPU is held (vmc_vcpu_set_hold()).
 * @param vcpu the vCPU
 * @thread any
 * @since 0.1
 */
bool vmc_vcpu_get_hold(const struct vmc_vcpu *vcpu);

/**
 * The vCPU whose debug stop put the VM in VMC_VM_DEBUG.
 * @param vm the VM
 * @retval vcpu the vCPU
 * @retval NULL @p vm is NULL or not in VMC_VM_DEBUG
 * @thread any
 * @since 0.1
 */
struct vmc_vcpu *vmc_vm_get_debug_vcpu(const struct vmc_vm *vm);

VMC_END_DECLS

#endif
