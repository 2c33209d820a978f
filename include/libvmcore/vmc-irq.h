/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-irq.h
 * @brief Interrupt lines between devices, interrupt controllers and vCPUs.
 *
 * A struct vmc_irq is one input of something that takes interrupts: an
 * interrupt controller's pin, a vCPU's line, or a test's probe.  A device
 * holds the vmc_irq it was wired to and sets its level; the receiver's
 * handler runs at once, in the caller's context.  Devices set their lines
 * with the VM lock held (their callbacks already run with it), so handlers
 * run with the VM lock held.
 */
#ifndef LIBVMCORE_VMC_IRQ_H
#define LIBVMCORE_VMC_IRQ_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_irq;

/**
 * The receiving side of a line: input @p n of whatever @p opaque is now
 * at @p level.  Called on every vmc_irq_set(), also when the level did not
 * change (a receiver that counts edges compares with its own state).
 */
typedef void (*vmc_irq_handler)(void *opaque, unsigned int n, bool level);

/**
 * Create a line delivering to @p handler as input @p n of @p opaque.
 * @param handler called with each new level of the line
 * @param opaque passed to @p handler
 * @param n the input number passed to @p handler
 * @param[out] ret the new line, at level low
 * @retval 0 success
 * @retval -EINVAL @p handler or @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_irq_new(vmc_irq_handler handler, void *opaque, unsigned int n,
		struct vmc_irq **ret);

/**
 * Create a line that drives interrupt line @p line of @p vcpu (see
 * vmc_vcpu_set_irq()).  A vCPU line has at most one such driver at a time,
 * so that two interrupt controllers cannot be wired to the same harts by
 * mistake; vmc_irq_free() releases it.
 * @param vcpu the vCPU the line interrupts
 * @param line the vCPU's interrupt line, 0 to 63
 * @param[out] ret the new line
 * @retval 0 success
 * @retval -EINVAL @p vcpu or @p ret is NULL, or @p line > 63
 * @retval -EBUSY the vCPU's line already has a driver (since 0.2)
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_irq_new_vcpu(struct vmc_vcpu *vcpu, unsigned int line,
		     struct vmc_irq **ret);

/**
 * Free a line.  NULL is ignored.  Nothing may set it any more.
 * @param irq the line
 * @thread any
 * @since 0.1
 */
void vmc_irq_free(struct vmc_irq *irq);

/**
 * Set the line's level and call its handler.  NULL is ignored, so that a
 * device whose line is not wired can set it unconditionally.
 * @param irq the line
 * @param level the new level (true: raised)
 * @thread the device's context (normally with the VM lock held)
 * @since 0.1
 */
void vmc_irq_set(struct vmc_irq *irq, bool level);

/**
 * Raise and lower the line: an edge for edge-triggered receivers.
 * @param irq the line
 * @thread as vmc_irq_set()
 * @since 0.1
 */
void vmc_irq_pulse(struct vmc_irq *irq);

/**
 * The line's last level; false for NULL.
 * @param irq the line
 * @thread any
 * @since 0.1
 */
bool vmc_irq_get_level(const struct vmc_irq *irq);

VMC_END_DECLS

#endif
