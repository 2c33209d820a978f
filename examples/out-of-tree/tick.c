/* SPDX-License-Identifier: MIT */
/*
 * The countdown device (tick.h).  Its register callbacks run with the VM
 * lock held (the region is not lockless), and so does its timer callback:
 * the timer belongs to the VM (vmc_vm_timer_new), so every callback sees
 * the device's state under the one lock, with no locking here.
 *
 * It takes part in snapshots through a section ("tick", version 1): its
 * status, count of firings and the timer's deadline, which the restored
 * virtual clock makes meaningful again.
 *
 * The end of its life follows vmc-memory.h: detach the region's callbacks,
 * remove the snapshot section, free the timer, drop the region; the state
 * is freed by ops.release, when no thread can be inside a callback any
 * more.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tick.h"

struct tick {
	struct vmc_vm *vm;
	struct vmc_irq *irq;
	struct vmc_region *region;
	struct vmc_timer *timer;
	struct vmc_snapshot_section *section;
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

/* The section's state: three little-endian fields. */
struct tick_state {
	uint8_t status[4], fired[4], deadline[8];
};

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int tick_save(void *opaque, void *buf, size_t size)
{
	struct tick *t = opaque;
	struct tick_state st;

	if (buf) {
		put(st.status, t->status, 4);
		put(st.fired, t->fired, 4);
		put(st.deadline, (uint64_t)vmc_timer_get_deadline(t->timer), 8);
		memcpy(buf, &st, sizeof(st));
	}
	return (int)sizeof(st);
}

/* Input may come from a file: checked whole before anything changes. */
static int tick_check(void *opaque, const void *buf, size_t size,
		      uint32_t version)
{
	struct tick_state st;

	if (version != 1 || size != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (get(st.status, 4) > 1 || (int64_t)get(st.deadline, 8) < -1)
		return -EINVAL;
	return 0;
}

static int tick_load(void *opaque, const void *buf, size_t size,
		     uint32_t version)
{
	struct tick *t = opaque;
	struct tick_state st;
	int64_t deadline;

	if (tick_check(opaque, buf, size, version) < 0)
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	t->status = (uint32_t)get(st.status, 4);
	t->fired = (uint32_t)get(st.fired, 4);
	deadline = (int64_t)get(st.deadline, 8);
	if (deadline >= 0)
		vmc_timer_mod(t->timer, deadline);
	else
		vmc_timer_del(t->timer);
	vmc_irq_set(t->irq, t->status & 1);
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
	static const struct vmc_snapshot_section_ops snap_ops = {
		.struct_size = sizeof(snap_ops),
		.save = tick_save,
		.check = tick_check,
		.load = tick_load,
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
	r = vmc_vm_add_snapshot_section(vm, "tick", 1, &snap_ops, t,
					&t->section);
	if (r < 0) {
		vmc_timer_free(t->timer);
		free(t);
		return r;
	}
	r = vmc_region_new_io(vmc_vm_get_memory(vm), "tick", TICK_SIZE, &ops, t,
			      0, &t->region);
	if (r < 0) {
		vmc_vm_remove_snapshot_section(vm, t->section);
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
	/* 1. No register callback runs from now on, nor a snapshot's. */
	vmc_region_detach_ops(t->region);
	vmc_vm_remove_snapshot_section(t->vm, t->section);
	/* 2. So nothing can re-arm the timer: free it. */
	vmc_timer_free(t->timer);
	t->timer = NULL;
	/* 3. The state goes with the region's last reference. */
	t->released = released;
	t->released_opaque = opaque;
	vmc_region_unref(t->region);
}
