/* SPDX-License-Identifier: MIT */
/*
 * Device interrupt lines routed through KVM irqfds (vmc-kvm.h), written on
 * the public API: a struct vmc_irq whose handler signals an irqfd, and for
 * level lines a resample notifier on the VM's loop.
 *
 * Level lines keep one word of state, changed only by compare-and-swap:
 * LEVEL (the device's level, from vmc_irq_set() on any thread) and
 * ASSERTED (we signalled the irqfd and the kernel has not resampled since,
 * so the GSI is asserted or its interrupt is in service).
 * - A setter raising LEVEL while ASSERTED is clear sets ASSERTED and
 *   signals; while ASSERTED is set it only records LEVEL, because the
 *   pending EOI will come and the resample handler will look at it.
 * - The resample handler (the kernel has just de-asserted the GSI) clears
 *   ASSERTED, and if LEVEL is set sets it again and signals.
 * So at most one assertion is outstanding (no second, spurious delivery of
 * an interrupt the guest already handled), and a level that is high at
 * any EOI, or rises after one, is always asserted again.  Edge lines
 * signal on every rising LEVEL.
 *
 * The resample handler runs on the VM's loop, or on an I/O thread
 * (vmc_kvm_irqfd_line_set_iothread()) when the device sets the line from
 * there: the same compare-and-swap protocol, one thread fewer per EOI.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <libvmcore/vmc-iothread.h>
#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-kvm.h>
#include <libvmcore/vmc-loop.h>

#include "kvm-internal.h"

struct vmc_kvm_irqfd_line {
	struct vmc_vm *vm;
	unsigned int gsi;
	bool level_mode;
	struct vmc_irq *irq;
	struct vmc_notifier *irqfd, *resample;
	struct vmc_iothread *iothread; /* resamples there, else the VM's loop */
	_Atomic unsigned int state;    /* LEVEL | ASSERTED */
	_Atomic uint64_t signals, resamples;
};

#define LEVEL 1u
#define ASSERTED 2u

static void line_signal(struct vmc_kvm_irqfd_line *l)
{
	atomic_fetch_add_explicit(&l->signals, 1, memory_order_relaxed);
	vmc_notifier_signal(l->irqfd);
}

static void line_set(void *opaque, unsigned int n, bool level)
{
	struct vmc_kvm_irqfd_line *l = opaque;
	unsigned int old = atomic_load(&l->state), new;

	do {
		new = level ? old | LEVEL : old & ~LEVEL;
		if (level && l->level_mode)
			new |= ASSERTED;
	} while (!atomic_compare_exchange_weak(&l->state, &old, new));
	if (level && (l->level_mode ? !(old & ASSERTED) : !(old & LEVEL)))
		line_signal(l);
}

/* On the VM's loop: the guest ended the interrupt, the GSI is low. */
static void line_resample(struct vmc_notifier *n, void *userdata)
{
	struct vmc_kvm_irqfd_line *l = userdata;
	unsigned int old = atomic_load(&l->state), new;

	atomic_fetch_add_explicit(&l->resamples, 1, memory_order_relaxed);
	do
		new = old &LEVEL ? old | ASSERTED : old & ~ASSERTED;
	while (!atomic_compare_exchange_weak(&l->state, &old, new));
	if (old & LEVEL)
		line_signal(l);
}

VMC_EXPORT int vmc_kvm_irqfd_line_new(struct vmc_vm *vm, unsigned int gsi,
				      unsigned int flags,
				      struct vmc_kvm_irqfd_line **ret)
{
	struct vmc_kvm_irqfd_line *l;
	int r;

	vmc_assert_return(vm && ret, -EINVAL);
	vmc_assert_return(!(flags & ~(unsigned int)VMC_KVM_IRQFD_LINE_LEVEL),
			  -EINVAL);
	r = vmc_kvm_has_irqchip(vm);
	if (r < 0)
		return r;
	if (!r)
		return -EOPNOTSUPP;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->vm = vm;
	l->gsi = gsi;
	l->level_mode = flags & VMC_KVM_IRQFD_LINE_LEVEL;
	r = vmc_notifier_new(&l->irqfd);
	if (r < 0)
		goto fail;
	if (l->level_mode) {
		r = vmc_notifier_new(&l->resample);
		if (r < 0)
			goto fail;
	}
	r = vmc_irq_new(line_set, l, gsi, &l->irq);
	if (r < 0)
		goto fail;
	r = vmc_kvm_irqfd_add(vm, l->irqfd, gsi, l->resample);
	if (r < 0)
		goto fail;
	if (l->resample) {
		r = vmc_notifier_set_handler(l->resample, vmc_vm_get_loop(vm),
					     line_resample, l);
		if (r < 0) {
			vmc_kvm_irqfd_remove(vm, l->irqfd, gsi);
			goto fail;
		}
	}
	*ret = l;
	return 0;
fail:
	vmc_irq_free(l->irq);
	vmc_notifier_free(l->resample);
	vmc_notifier_free(l->irqfd);
	free(l);
	return r;
}

/* Install or remove the resample handler on @iothread's loop or the VM's. */
struct resample_move {
	struct vmc_kvm_irqfd_line *line;
	struct vmc_iothread *iothread;
	bool on;
	int r;
};

static void resample_move_here(void *arg)
{
	struct resample_move *m = arg;
	struct vmc_kvm_irqfd_line *l = m->line;
	struct vmc_loop *loop = m->iothread ? vmc_iothread_get_loop(m->iothread)
					    : vmc_vm_get_loop(l->vm);

	m->r = vmc_notifier_set_handler(l->resample, loop,
					m->on ? line_resample : NULL, l);
}

static int resample_handler(struct vmc_kvm_irqfd_line *l,
			    struct vmc_iothread *iothread, bool on)
{
	struct resample_move m = {.line = l, .iothread = iothread, .on = on};
	int r;

	if (!iothread) {
		resample_move_here(&m);
		return m.r;
	}
	r = vmc_iothread_run_sync(iothread, resample_move_here, &m);
	return r < 0 ? r : m.r;
}

VMC_EXPORT int vmc_kvm_irqfd_line_set_iothread(struct vmc_kvm_irqfd_line *line,
					       struct vmc_iothread *iothread)
{
	int r;

	vmc_assert_return(line, -EINVAL);
	if (!line->resample || iothread == line->iothread)
		return 0;
	/* Each loop's handlers change on that loop's thread: off, then on. */
	r = resample_handler(line, line->iothread, false);
	if (r < 0)
		return r;
	r = resample_handler(line, iothread, true);
	if (r < 0) {
		resample_handler(line, line->iothread, true);
		return r;
	}
	line->iothread = iothread;
	return 0;
}

VMC_EXPORT struct vmc_irq *
vmc_kvm_irqfd_line_get_irq(struct vmc_kvm_irqfd_line *line)
{
	return line ? line->irq : NULL;
}

VMC_EXPORT int vmc_kvm_irqfd_line_get_counts(struct vmc_kvm_irqfd_line *line,
					     uint64_t *ret_signals,
					     uint64_t *ret_resamples)
{
	vmc_assert_return(line, -EINVAL);
	if (ret_signals)
		*ret_signals = atomic_load(&line->signals);
	if (ret_resamples)
		*ret_resamples = atomic_load(&line->resamples);
	return 0;
}

VMC_EXPORT void vmc_kvm_irqfd_line_free(struct vmc_kvm_irqfd_line *line)
{
	if (!line)
		return;
	vmc_kvm_irqfd_remove(line->vm, line->irqfd, line->gsi);
	if (line->iothread)
		resample_handler(line, line->iothread, false);
	vmc_notifier_free(line->resample);
	vmc_notifier_free(line->irqfd);
	vmc_irq_free(line->irq);
	free(line);
}
