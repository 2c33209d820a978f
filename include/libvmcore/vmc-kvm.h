/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-kvm.h
 * @brief Features only the KVM accelerator has: the in-kernel interrupt
 * controllers, irqfds and interrupt lines, dirty-page logging and guest
 * debugging.
 *
 * A VM runs on KVM when vmc_vm_new() picked VMC_ACCEL_KVM (asked for, or
 * chosen by VMC_ACCEL_AUTO where /dev/kvm works).  Options that must be
 * settled before the vCPUs exist go in a struct vmc_kvm_config that
 * vmc_vm_config.accel_config points at.  Every function here answers
 * -EOPNOTSUPP on a VM that runs on another accelerator.
 *
 * Interrupts.  With VMC_KVM_IRQCHIP the kernel emulates the local APICs,
 * the I/O APIC and the two 8259 PICs; devices raise global system
 * interrupts (GSIs) with vmc_kvm_set_irq_line() or, without any userspace
 * hop, with an irqfd (a vmc_notifier bound to a GSI).  The vCPUs then halt
 * in the kernel.  Without it, the host's interrupt controller drives the
 * vCPU's lines (vmc_vcpu_set_irq()): line VMC_KVM_LINE_INTR is the INTR pin
 * (while it is high and the guest can take an interrupt, the library asks
 * the config's intack callback for the vector and injects it), line
 * VMC_KVM_LINE_NMI the NMI pin (each rising edge injects one NMI).
 *
 * vCPUs.  Each vCPU is built in the kernel by its own thread when it first
 * runs, or earlier by the first call that needs state only the kernel
 * holds (FPU and debug registers, MSRs, CPUID, guest debugging).  Until
 * then vmc_vcpu_get_reg() and vmc_vcpu_set_reg() work on the power-on
 * state the kernel gives a new vCPU, and writes reach the kernel before
 * the first instruction runs.  Building the vCPU where it runs, after the
 * host has laid out guest memory, is what makes a VM quick to create.  If
 * the kernel refuses a vCPU at that point, the VM enters
 * VMC_VM_GUEST_ERROR with the reason.
 */
#ifndef LIBVMCORE_VMC_KVM_H
#define LIBVMCORE_VMC_KVM_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_notifier;
struct vmc_region;

/** vCPU interrupt lines of a KVM vCPU without the in-kernel irqchip. */
enum vmc_kvm_line {
	VMC_KVM_LINE_INTR = 0, /**< maskable interrupt request (level) */
	VMC_KVM_LINE_NMI = 1,  /**< non-maskable interrupt (rising edge) */
};

/** Flags of struct vmc_kvm_config. */
enum vmc_kvm_flags {
	/** Emulate the LAPICs, the I/O APIC and the PICs in the kernel. */
	VMC_KVM_IRQCHIP = 1u << 0,
	/** Emulate the 8254 PIT in the kernel (needs VMC_KVM_IRQCHIP). */
	VMC_KVM_PIT = 1u << 1,
};

/**
 * Interrupt acknowledge: INTR is high and the guest can take an
 * interrupt; return the vector to inject (0..255), or a negative value if
 * the request went away (nothing is injected).  Called on the vCPU's
 * thread with the VM lock held.
 */
typedef int (*vmc_kvm_intack_cb)(struct vmc_vcpu *vcpu, void *opaque);

/** KVM options, pointed at by vmc_vm_config.accel_config. */
struct vmc_kvm_config {
	size_t size;		  /**< sizeof(struct vmc_kvm_config) */
	unsigned int flags;	  /**< enum vmc_kvm_flags */
	vmc_kvm_intack_cb intack; /**< NULL: inject vector 0x20 + 0 */
	void *intack_opaque;	  /**< passed to @c intack */
};

/**
 * Whether the VM has the in-kernel irqchip.
 * @param vm the VM
 * @retval 1 yes
 * @retval 0 no
 * @retval -EINVAL @p vm is NULL
 * @retval -EOPNOTSUPP not a KVM VM
 * @thread any
 * @since 0.1
 */
int vmc_kvm_has_irqchip(struct vmc_vm *vm);

/**
 * Set the level of a GSI of the in-kernel irqchip (KVM_IRQ_LINE).  Edge
 * interrupts are a raise followed by a lower.
 * @param vm the VM
 * @param gsi the GSI
 * @param level the new level (true: raised)
 * @retval 0 success
 * @retval -EINVAL @p vm is NULL, or @p gsi is not one the irqchip routes
 *         (0-23: the I/O APIC's pins, of which 0-15 are also the PICs')
 * @retval -EOPNOTSUPP not a KVM VM, or no in-kernel irqchip
 * @retval -errno the kernel refused
 * @thread any
 * @since 0.1
 */
int vmc_kvm_set_irq_line(struct vmc_vm *vm, unsigned int gsi, bool level);

/**
 * Bind a notifier to a GSI: signalling @p n raises the interrupt in the
 * kernel without a trip through userspace (KVM_IRQFD).
 *
 * With @p resample the GSI is level-triggered: signalling @p n asserts it,
 * and when the guest acknowledges it (EOI) the kernel de-asserts it and
 * signals @p resample, so the device can check whether it should assert
 * again.  Without it, each signal is an edge.  Both notifiers must stay
 * alive until vmc_kvm_irqfd_remove() or the VM's end; the VM does not own
 * them.
 *
 * @param vm the VM
 * @param n the notifier that raises the GSI
 * @param gsi the GSI of the in-kernel irqchip
 * @param resample NULL, or the notifier the kernel signals on EOI
 * @retval 0 success
 * @retval -EINVAL @p vm or @p n is NULL, or @p gsi is not one the irqchip
 *         routes (0-23)
 * @retval -EOPNOTSUPP not a KVM VM, no in-kernel irqchip, or (with
 *         @p resample) the kernel lacks KVM_CAP_IRQFD_RESAMPLE
 * @retval -EEXIST @p n is already bound
 * @retval -errno the kernel refused
 * @thread any
 * @since 0.1
 */
int vmc_kvm_irqfd_add(struct vmc_vm *vm, struct vmc_notifier *n,
		      unsigned int gsi, struct vmc_notifier *resample);

/**
 * Unbind a notifier bound with vmc_kvm_irqfd_add().
 * @param vm the VM
 * @param n the notifier
 * @param gsi the GSI it is bound to
 * @retval 0 success
 * @retval -EINVAL @p vm or @p n is NULL
 * @retval -EOPNOTSUPP not a KVM VM
 * @retval -ENOENT @p n is not bound to @p gsi
 * @thread any
 * @since 0.1
 */
int vmc_kvm_irqfd_remove(struct vmc_vm *vm, struct vmc_notifier *n,
			 unsigned int gsi);

/** Flags of vmc_kvm_irqfd_line_new(). */
enum vmc_kvm_irqfd_line_flags {
	/**
	 * The GSI is level-triggered (program its I/O APIC pin so): the
	 * line is re-asserted after each EOI for as long as the device
	 * holds it high.  Without it, each rising edge is one interrupt.
	 */
	VMC_KVM_IRQFD_LINE_LEVEL = 1u << 0,
};

/**
 * A device interrupt line routed to a GSI of the in-kernel irqchip
 * through an irqfd, so that raising it costs one eventfd write and no
 * ioctl, lock or exit.  A board creates it and wires the device to
 * vmc_kvm_irqfd_line_get_irq() instead of an interrupt controller's pin;
 * the device sets its level as it sets any struct vmc_irq.
 *
 * Level lines (virtio-mmio's interrupt is level: high while
 * InterruptStatus is not zero) use KVM's resampling irqfd.  A rising
 * level signals the irqfd, which asserts the GSI; when the guest ends the
 * interrupt (EOI) the kernel de-asserts the GSI and signals the resample
 * notifier, whose handler, on the VM's loop and without the VM lock,
 * signals the irqfd again if the level is still high.  So a line that
 * stays high keeps interrupting after each EOI, as a level line must, and
 * a line lowered before the EOI is simply not re-asserted.  The price:
 * a line raised and lowered again before the guest took the interrupt
 * still delivers it once (a spurious interrupt the guest's handler sees
 * with InterruptStatus 0), since userspace cannot retract an irqfd
 * assertion.  Lowering a line costs nothing.
 */
struct vmc_kvm_irqfd_line;

/**
 * Create an irqfd line to @p gsi.  The line is low.
 * @param vm the VM (KVM with VMC_KVM_IRQCHIP)
 * @param gsi the GSI, 0-23
 * @param flags enum vmc_kvm_irqfd_line_flags
 * @param[out] ret the new line
 * @retval 0 success
 * @retval -EINVAL @p vm or @p ret is NULL, an unknown flag, or a bad GSI
 * @retval -EOPNOTSUPP not a KVM VM, no in-kernel irqchip, or (level) no
 *         KVM_CAP_IRQFD_RESAMPLE
 * @retval -ENOMEM out of memory
 * @retval -errno a notifier or the irqfd could not be set up
 * @thread the VM's loop
 * @since 0.2
 */
int vmc_kvm_irqfd_line_new(struct vmc_vm *vm, unsigned int gsi,
			   unsigned int flags, struct vmc_kvm_irqfd_line **ret);

/**
 * The line's struct vmc_irq, owned by the line.  vmc_irq_set() on it may
 * be called from any thread, with or without the VM lock.
 * @param line the line
 * @return the irq; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_irq *vmc_kvm_irqfd_line_get_irq(struct vmc_kvm_irqfd_line *line);

/**
 * How often the line signalled its irqfd (rising levels, and re-assertions
 * after an EOI) and how often the kernel signalled its resample notifier.
 * @param line the line
 * @param[out] ret_signals the irqfd signals, or NULL
 * @param[out] ret_resamples the resample notifications, or NULL
 * @retval 0 success
 * @retval -EINVAL @p line is NULL
 * @thread any
 * @since 0.2
 */
int vmc_kvm_irqfd_line_get_counts(struct vmc_kvm_irqfd_line *line,
				  uint64_t *ret_signals,
				  uint64_t *ret_resamples);

struct vmc_iothread;

/**
 * Handle a level line's resample notifications on an I/O thread instead
 * of the VM's loop: the thread of a device that sets the line there (a
 * virtio transport with @c iothread and @c irq_any_thread).  Each EOI's
 * re-assertion check then wakes that thread rather than a second one,
 * and the VM's loop is not on the interrupt's path at all.  NULL moves
 * the handling back to the VM's loop.  An edge line has no resample
 * notifications: nothing to move.  A resample that arrives during the
 * move waits in its notifier and is handled once the move is done.
 *
 * The I/O thread must outlive this setting: move the line back (or free
 * it) before vmc_iothread_free().
 * @param line the line
 * @param iothread the I/O thread, or NULL for the VM's loop
 * @retval 0 success (also for an edge line, and for no change)
 * @retval -EINVAL @p line is NULL
 * @retval -errno the handler could not be installed there; it stays where
 *         it was
 * @thread the VM's loop
 * @since 0.2
 */
int vmc_kvm_irqfd_line_set_iothread(struct vmc_kvm_irqfd_line *line,
				    struct vmc_iothread *iothread);

/**
 * Unbind and free the line.  Nothing may set its irq any more.  NULL is
 * ignored.  A line whose resamples are on an I/O thread
 * (vmc_kvm_irqfd_line_set_iothread()) takes them off it first.
 * @param line the line
 * @thread the VM's loop
 * @since 0.2
 */
void vmc_kvm_irqfd_line_free(struct vmc_kvm_irqfd_line *line);

/**
 * Start or stop dirty-page logging of every memslot that maps @p region
 * (RAM or ROM).  Logging starts with a clean bitmap; the setting follows
 * the region through layout changes.  The KVM-only form of
 * vmc_vm_set_dirty_logging().
 * @param vm the VM
 * @param region the RAM region
 * @param enable true to start logging, false to stop
 * @retval 0 success
 * @retval -EINVAL @p vm or @p region is NULL, or @p region is not a RAM or
 *         ROM region of @p vm (since 0.2; 0.1 answered 0)
 * @retval -EOPNOTSUPP not a KVM VM
 * @retval -ENOMEM out of memory
 * @retval -errno the kernel refused to change a slot
 * @thread loop (the memory writer side), VM lock held or VM paused
 * @since 0.1
 */
int vmc_kvm_set_dirty_logging(struct vmc_vm *vm, struct vmc_region *region,
			      bool enable);

/**
 * Fetch and clear the dirty bitmap of @p region: bit i (bit i % 64 of
 * 64-bit word i / 64) is set when the guest wrote page i (4 KiB) of the
 * region since logging started or the last call.  Pages of the region that
 * no memslot maps are reported clean.  Bits are ORed into @p bitmap, which
 * the caller clears first.  The KVM-only form of vmc_vm_get_dirty_log().
 * @param vm the VM
 * @param region the RAM region being logged
 * @param bitmap at least (region size / 4096 + 63) / 64 words
 * @param words the number of words at @p bitmap
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, or @p words is too small
 * @retval -EOPNOTSUPP not a KVM VM
 * @retval -ENOENT logging is not on for @p region
 * @retval -errno KVM_GET_DIRTY_LOG failed
 * @thread any; the bitmap of a page a vCPU is writing at that moment may
 *         show up in this call or the next
 * @since 0.1
 */
int vmc_kvm_get_dirty_log(struct vmc_vm *vm, struct vmc_region *region,
			  uint64_t *bitmap, size_t words);

/** Flags of struct vmc_kvm_guest_debug. */
enum vmc_kvm_debug_flags {
	/** Stop after every instruction. */
	VMC_KVM_DEBUG_SINGLESTEP = 1u << 0,
	/** Report int3 as a debug exit instead of delivering `#BP`. */
	VMC_KVM_DEBUG_SW_BP = 1u << 1,
	/** Arm the hardware breakpoints in @c hw. */
	VMC_KVM_DEBUG_HW_BP = 1u << 2,
	/** Keep interrupts off while single-stepping. */
	VMC_KVM_DEBUG_BLOCKIRQ = 1u << 3,
};

/** Kinds of a hardware breakpoint slot. */
enum vmc_kvm_hw_bp_type {
	VMC_KVM_HW_BP_NONE = 0,	 /**< slot unused */
	VMC_KVM_HW_BP_EXEC = 1,	 /**< instruction fetch */
	VMC_KVM_HW_BP_WRITE = 2, /**< data write */
	VMC_KVM_HW_BP_RW = 3,	 /**< data read or write */
};

/** One hardware breakpoint (x86 debug register) slot. */
struct vmc_kvm_hw_bp {
	uint64_t addr;		      /**< guest-virtual address */
	enum vmc_kvm_hw_bp_type type; /**< kind, or NONE */
	unsigned int len;	      /**< 1, 2, 4 or 8 (EXEC: 1) */
};

/** Guest debugging controls for vmc_kvm_vcpu_set_guest_debug(). */
struct vmc_kvm_guest_debug {
	size_t size;		    /**< sizeof(struct vmc_kvm_guest_debug) */
	unsigned int flags;	    /**< enum vmc_kvm_debug_flags; 0 = off */
	struct vmc_kvm_hw_bp hw[4]; /**< with VMC_KVM_DEBUG_HW_BP */
};

/** What a debug exit reports to the debug handler. */
struct vmc_kvm_debug_exit {
	uint32_t
		exception; /**< 1 (`#DB`: step or hw breakpoint) or 3 (`#BP`) */
	uint64_t pc;	   /**< RIP of the breakpoint or the next insn */
	uint64_t dr6;	   /**< which condition hit (`#DB`) */
	uint64_t dr7;	   /**< the debug control register at the exit */
};

/**
 * Debug handler: a vCPU stopped for guest debugging.  Runs on the vCPU's
 * thread with the VM lock held; the vCPU then stays stopped until the VM
 * is resumed.
 */
typedef void (*vmc_kvm_debug_cb)(struct vmc_vcpu *vcpu,
				 const struct vmc_kvm_debug_exit *info,
				 void *opaque);

/**
 * Install the debug handler (one per VM; NULL removes it).  Debug exits
 * stop the vCPU whether or not a handler is set.
 * @param vm the VM
 * @param cb the handler, or NULL
 * @param opaque passed to @p cb
 * @retval 0 success
 * @retval -EINVAL @p vm is NULL
 * @retval -EOPNOTSUPP not a KVM VM
 * @thread any
 * @since 0.1
 */
int vmc_kvm_set_debug_handler(struct vmc_vm *vm, vmc_kvm_debug_cb cb,
			      void *opaque);

/**
 * Set a vCPU's guest-debug controls (KVM_SET_GUEST_DEBUG).  Hardware
 * breakpoints take the debug registers from the guest while armed.
 * @param vcpu the vCPU
 * @param dbg the debugging controls
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p dbg->size is too small, an
 *         unknown flag, or a bad hardware slot
 * @retval -EOPNOTSUPP not a KVM VM, or VMC_KVM_DEBUG_SW_BP where
 *         vmc_kvm_probe_sw_breakpoints() found it broken (use an EXEC
 *         hardware slot instead)
 * @retval -ENODEV the vCPU was unplugged
 * @retval -EDEADLK called from another vCPU's thread
 * @thread any except another vCPU thread
 * @since 0.1
 */
int vmc_kvm_vcpu_set_guest_debug(struct vmc_vcpu *vcpu,
				 const struct vmc_kvm_guest_debug *dbg);

/**
 * Find out whether software breakpoints (int3 reported as a debug exit)
 * work in 64-bit mode on this host.  Some nested hosts end such a guest
 * with an internal error; there, use hardware EXEC breakpoints.  The first
 * call runs a two-page scratch guest (a few milliseconds); the answer is
 * then remembered for the process.
 * @retval 1 they work
 * @retval 0 they do not
 * @retval -ENODEV /dev/kvm is not usable
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_kvm_probe_sw_breakpoints(void);

VMC_END_DECLS

#endif
