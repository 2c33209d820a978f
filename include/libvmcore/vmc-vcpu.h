/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-vcpu.h
 * @brief vCPUs: threads, kicks, work items, interrupt lines, unplug.
 *
 * Each vCPU runs on a thread the library creates and joins, named
 * "vcpu/N".  Its life: created -> running <-> idle -> stopped -> unplugged
 * -> joined.
 *
 * A vCPU thread sleeps ("idle") exactly while its predicate holds: it has
 * no stop request and no queued work, and it is stopped (or its VM is not
 * running), or it is halted (the guest executed WFI/HLT) with no interrupt
 * that would wake it.  A kick alone is not a wake reason: it only makes a
 * vCPU leave guest code and re-check the predicate.  To wake a vCPU,
 * change an input: queue work, request a stop, raise an interrupt, resume.
 *
 * Work items run on the vCPU's thread at its event-processing point, in
 * FIFO order per vCPU, with the VM lock held; they run while the VM is
 * paused too, which is how registers are read and translated code is
 * flushed while a debugger holds the VM.
 */
#ifndef LIBVMCORE_VMC_VCPU_H
#define LIBVMCORE_VMC_VCPU_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

/**
 * The vCPU's index in its VM (0-based).
 * @param vcpu the vCPU
 * @thread any
 * @since 0.1
 */
unsigned int vmc_vcpu_get_index(const struct vmc_vcpu *vcpu);

/**
 * The Linux thread id (tid) of the vCPU's thread, as `ps -L`, /proc and
 * QEMU's `query-cpus-fast` show it.
 * @param vcpu the vCPU
 * @retval tid the thread id, > 0
 * @retval -EINVAL @p vcpu is NULL
 * @retval -ESRCH the thread has not started running yet, or has left
 *         (the vCPU was unplugged or its VM is being destroyed)
 * @thread any
 * @since 0.2
 */
int vmc_vcpu_get_thread_id(const struct vmc_vcpu *vcpu);

/**
 * The VM the vCPU belongs to.
 * @param vcpu the vCPU
 * @thread any
 * @since 0.1
 */
struct vmc_vm *vmc_vcpu_get_vm(const struct vmc_vcpu *vcpu);

/**
 * The vCPU whose thread is calling, or NULL on any other thread.
 * @thread any
 * @since 0.1
 */
struct vmc_vcpu *vmc_vcpu_current(void);

/** Observable state of a vCPU (a snapshot). */
enum vmc_vcpu_state {
	VMC_VCPU_RUNNING = 0,	/**< may execute guest code */
	VMC_VCPU_HALTED = 1,	/**< waiting for an interrupt (WFI/HLT) */
	VMC_VCPU_STOPPED = 2,	/**< stopped (paused VM or stop request) */
	VMC_VCPU_UNPLUGGED = 3, /**< its thread has exited */
	_VMC_VCPU_STATE_MAX = 0x7fffffff
};

/**
 * The vCPU's state.
 * @param vcpu the vCPU
 * @thread any (a snapshot; hold the VM lock for a stable answer)
 * @since 0.1
 */
enum vmc_vcpu_state vmc_vcpu_get_state(const struct vmc_vcpu *vcpu);

/**
 * Kick the vCPU: make it leave guest code (or its idle wait) and re-check
 * its predicate.  Not a wake reason by itself.
 * @param vcpu the vCPU
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL
 * @thread any
 * @since 0.1
 */
int vmc_vcpu_kick(struct vmc_vcpu *vcpu);

/**
 * Run @p cb on the vCPU's thread and wait for it.
 *
 * On the vCPU's own thread @p cb runs at once, inline.  From any other
 * non-vCPU thread it is queued (FIFO), the vCPU is kicked, and the call
 * waits until it has run; if the caller holds the VM lock it is released
 * during the wait, as the vCPU needs it.  @p cb runs with the VM lock held.
 *
 * @param vcpu the vCPU
 * @param cb the work to run
 * @param userdata passed to @p cb
 * @retval 0 @p cb ran
 * @retval -EINVAL @p vcpu or @p cb is NULL
 * @retval -EDEADLK called on another vCPU's thread (two vCPUs waiting on
 *         each other would deadlock; use vmc_vcpu_run_async())
 * @retval -ENODEV the vCPU is unplugged, or was unplugged before @p cb
 *         could run (it did not run)
 * @thread any except other vCPU threads
 * @since 0.1
 */
int vmc_vcpu_run_sync(struct vmc_vcpu *vcpu, vmc_work_cb cb, void *userdata);

/**
 * Queue @p cb to run on the vCPU's thread and return at once.  Always
 * queued, also when called on the vCPU's own thread.  @p cb runs with the
 * VM lock held.  Items still queued when the vCPU is unplugged are
 * dropped without running.
 * @param vcpu the vCPU
 * @param cb the work to run
 * @param userdata passed to @p cb
 * @retval 0 queued
 * @retval -EINVAL @p vcpu or @p cb is NULL
 * @retval -ENODEV the vCPU is unplugged
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_vcpu_run_async(struct vmc_vcpu *vcpu, vmc_work_cb cb, void *userdata);

/**
 * Like vmc_vm_run_exclusive(), on this vCPU's thread.
 * @param vcpu the vCPU
 * @param cb the work to run
 * @param userdata passed to @p cb
 * @retval 0 queued
 * @retval -EINVAL @p vcpu or @p cb is NULL
 * @retval -ENODEV the vCPU is unplugged
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_vcpu_run_exclusive(struct vmc_vcpu *vcpu, vmc_work_cb cb,
			   void *userdata);

/**
 * Raise or lower one of the vCPU's interrupt lines.
 *
 * Lines are numbered 0..63 and their meaning is the architecture's: on
 * RISC-V line N is bit N of mip (3 MSIP, 7 MTIP, 11 MEIP, 1 SSIP, 5 STIP,
 * 9 SEIP); on x86 without an in-kernel irqchip line 0 is INTR and line 1 is
 * NMI.  Raising a line wakes a halted vCPU that the line would wake.
 * @param vcpu the vCPU
 * @param line the interrupt line, 0 to 63
 * @param level the new level (true: raised)
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL or @p line > 63
 * @thread any
 * @since 0.1
 */
int vmc_vcpu_set_irq(struct vmc_vcpu *vcpu, unsigned int line, bool level);

/**
 * The levels of all 64 interrupt lines, bit N = line N.
 * @param vcpu the vCPU
 * @thread any
 * @since 0.1
 */
uint64_t vmc_vcpu_get_irqs(const struct vmc_vcpu *vcpu);

/**
 * Halt the vCPU as if the guest executed WFI/HLT: it sleeps until an
 * interrupt it would take arrives.  Boards use it for secondary CPUs that
 * wait to be started.
 * @param vcpu the vCPU
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL
 * @retval -ENODEV the vCPU is unplugged
 * @thread any
 * @since 0.1
 */
int vmc_vcpu_halt(struct vmc_vcpu *vcpu);

/**
 * Unplug the vCPU: stop it, let it finish its queued work, and join its
 * thread.  The other vCPUs keep running.  Work queued afterwards is
 * refused with -ENODEV.
 * @param vcpu the vCPU
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL
 * @retval -EALREADY already unplugged
 * @retval -EDEADLK called on a vCPU thread of the same VM
 * @thread loop, without the VM lock
 * @since 0.1
 */
int vmc_vcpu_unplug(struct vmc_vcpu *vcpu);

/**
 * Read one register of a stopped or running vCPU.  Register numbers are
 * the architecture's (see vmc-riscv.h and vmc-x86.h).  Off the vCPU's own
 * thread this is a vmc_vcpu_run_sync() round trip, unless the vCPU's
 * thread is parked (not started yet, paused, or halted in userspace):
 * then the access happens on the calling thread, under the VM lock.
 * @param vcpu the vCPU
 * @param reg the register number
 * @param[out] ret the value
 * @retval 0 success
 * @retval -EINVAL bad argument or unknown register
 * @retval -EOPNOTSUPP the accelerator has no registers (harness)
 * @retval -EDEADLK called on another vCPU's thread
 * @retval -ENODEV the vCPU is unplugged
 * @thread any except other vCPU threads
 * @since 0.1
 */
int vmc_vcpu_get_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t *ret);

/**
 * Write one register; see vmc_vcpu_get_reg().  An accelerator may keep
 * the value until the vCPU next enters guest code (KVM does, for the
 * general and segment/control registers); a combination the hardware then
 * refuses stops the VM with a guest error.
 * @param vcpu the vCPU
 * @param reg the register number
 * @param value the new value
 * @thread any except other vCPU threads
 * @since 0.1
 */
int vmc_vcpu_set_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t value);

VMC_END_DECLS

#endif
