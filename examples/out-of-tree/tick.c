/* SPDX-License-Identifier: MIT */
/*
 * The countdown device (tick.h).  Its register callbacks run with the VM
 * lock held (the region is not lockless), and so does its timer callback:
 * the timer belongs to the VM (vmc_vm_timer_new), so every callback sees
 * the device's state under the one lock, with no locking here.
 *
 * The end of its life follows vmc-memory.h: detach the region's callbacks,
 * free the timer, drop the region; the state is freed by ops.release, when
 * no thread can be inside a callback any more.
 */
#include <errno.h>
#include <stdlib.h>

#include "tick.h"

struct tick {
	struct vmc_vm *vm;
	struct vmc_irq *irq;
	struct vmc_region *region;
	struct vmc_timer *timer;
	uint32_t status;
	uint32_t fired;
	void (*released)(void *);
	void *released_opaque;
};

static void tick_fire(struct vmc_timer *timer, void *opaque)
{
	struct tick *t = opaque;

	t->status |= 1;
	t->fired++;
	vmc_irq_set(t->irq, true);
}

static int tick_read(void *opaque, uint64_t offset, unsigned size,
		     uint64_t *value)
{
	struct tick *t = opaque;
	int64_t left;

	switch (offset) {
	case TICK_COUNT:
		left = vmc_timer_get_deadline(t->timer);
		if (left >= 0) {
			left -= vmc_clock_get_ns(vmc_vm_get_clock(t->vm));
			left = left > 0 ? (left + 999) / 1000 : 0;
		}
		*value = left > 0 ? (uint64_t)left : 0;
		break;
	case TICK_STATUS:
		*value = t->status;
		break;
	case TICK_FIRED:
		*value = t->fired;
		break;
	default:
		*value = 0;
		break;
	}
	return 0;
}

static int tick_write(void *opaque, uint64_t offset, unsigned size,
		      uint64_t value)
{
	struct tick *t = opaque;
	int64_t now = vmc_clock_get_ns(vmc_vm_get_clock(t->vm));

	switch (offset) {
	case TICK_COUNT:
		if (value)
			vmc_timer_mod(t->timer, now + (int64_t)value * 1000);
		else
			vmc_timer_del(t->timer);
		break;
	case TICK_STATUS:
		if (value & 1) {
			t->status &= ~1u;
			vmc_irq_set(t->irq, false);
		}
		break;
	default:
		vmc_log(VMC_LOG_DEBUG, "tick: write to 0x%x ignored",
			(unsigned)offset);
		break;
	}
	return 0;
}

static void tick_release(void *opaque)
{
	struct tick *t = opaque;

	if (t->released)
		t->released(t->released_opaque);
	free(t);
}

int tick_new(struct vmc_vm *vm, struct vmc_irq *irq, struct tick **ret)
{
	static const struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = tick_read,
		.write = tick_write,
		.release = tick_release,
		.min_access_size = 4,
		.max_access_size = 4,
		.endian = VMC_ENDIAN_LITTLE,
	};
	struct tick *t;
	int r;

	if (!vm || !ret)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vm = vm;
	t->irq = irq;
	r = vmc_vm_timer_new(vm, VMC_CLOCK_VIRTUAL, tick_fire, t, &t->timer);
	if (r < 0) {
		free(t);
		return r;
	}
	r = vmc_region_new_io(vmc_vm_get_memory(vm), "tick", TICK_SIZE, &ops, t,
			      0, &t->region);
	if (r < 0) {
		vmc_timer_free(t->timer);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct vmc_region *tick_get_region(struct tick *t)
{
	return t ? t->region : NULL;
}

void tick_free(struct tick *t, void (*released)(void *), void *opaque)
{
	if (!t)
		return;
	/* 1. No register callback runs from now on. */
	vmc_region_detach_ops(t->region);
	/* 2. So nothing can re-arm the timer: free it. */
	vmc_timer_free(t->timer);
	t->timer = NULL;
	/* 3. The state goes with the region's last reference. */
	t->released = released;
	t->released_opaque = opaque;
	vmc_region_unref(t->region);
}
