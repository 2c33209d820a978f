/* SPDX-License-Identifier: MIT */
/*
 * Interrupt lines: a level and a handler.  A vCPU's input line has at most
 * one driver: two would overwrite each other's level (two interrupt
 * controllers wired to the same harts), so the second is refused.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-vcpu.h>

#include "vm-internal.h"

struct vmc_irq {
	vmc_irq_handler handler;
	void *opaque;
	unsigned int n;
	_Atomic bool level;
	struct vmc_vcpu *vcpu; /* the vCPU whose line it drives, or NULL */
};

VMC_EXPORT int vmc_irq_new(vmc_irq_handler handler, void *opaque,
			   unsigned int n, struct vmc_irq **ret)
{
	struct vmc_irq *irq;

	vmc_assert_return(handler && ret, -EINVAL);
	irq = calloc(1, sizeof(*irq));
	if (!irq)
		return -ENOMEM;
	irq->handler = handler;
	irq->opaque = opaque;
	irq->n = n;
	*ret = irq;
	return 0;
}

static void vcpu_line(void *opaque, unsigned int n, bool level)
{
	vmc_vcpu_set_irq(opaque, n, level);
}

VMC_EXPORT int vmc_irq_new_vcpu(struct vmc_vcpu *vcpu, unsigned int line,
				struct vmc_irq **ret)
{
	uint64_t bit = (uint64_t)1 << (line & 63);
	int r;

	vmc_assert_return(vcpu && line < 64 && ret, -EINVAL);
	if (atomic_fetch_or_explicit(&vcpu->irq_drivers, bit,
				     memory_order_relaxed) &
	    bit) {
		vmc__debug("vcpu %u: line %u already has a driver", vcpu->index,
			   line);
		return -EBUSY;
	}
	r = vmc_irq_new(vcpu_line, vcpu, line, ret);
	if (r < 0) {
		atomic_fetch_and_explicit(&vcpu->irq_drivers, ~bit,
					  memory_order_relaxed);
		return r;
	}
	(*ret)->vcpu = vcpu;
	return 0;
}

VMC_EXPORT void vmc_irq_free(struct vmc_irq *irq)
{
	if (irq && irq->vcpu)
		atomic_fetch_and_explicit(&irq->vcpu->irq_drivers,
					  ~((uint64_t)1 << irq->n),
					  memory_order_relaxed);
	free(irq);
}

VMC_EXPORT void vmc_irq_set(struct vmc_irq *irq, bool level)
{
	if (!irq)
		return;
	atomic_store_explicit(&irq->level, level, memory_order_relaxed);
	irq->handler(irq->opaque, irq->n, level);
}

VMC_EXPORT void vmc_irq_pulse(struct vmc_irq *irq)
{
	vmc_irq_set(irq, true);
	vmc_irq_set(irq, false);
}

VMC_EXPORT bool vmc_irq_get_level(const struct vmc_irq *irq)
{
	return irq && atomic_load_explicit(&irq->level, memory_order_relaxed);
}
