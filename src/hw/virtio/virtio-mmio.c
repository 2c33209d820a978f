/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport (virtio 1.2 §4.2), version 2 and legacy
 * version 1, written against libvmcore's public headers only.
 *
 * Register accesses arrive through the region callbacks with the VM lock
 * held, on a vCPU thread (or a harness test's thread).  Queue
 * notifications arrive as ioeventfds: one notifier per queue, matched on
 * the queue's index at QueueNotify, whose handler runs on the VM's loop
 * with the VM lock held and calls the device model.  A notification that
 * reaches the region anyway (a write the ioeventfd does not match, such
 * as one of another width) signals the same notifier, so a device model's
 * queue work always runs on the loop.
 *
 * Interrupts: the line is high while InterruptStatus is not zero.  Only
 * update_irq() touches the line; a board passes an irqfd line
 * (vmc_kvm_irqfd_line_new()) where it wants the kernel to take it.
 *
 * I/O threads (vmc-virtio.h): @lock, the device mutex, is taken inside the
 * VM lock by every register access, reset and snapshot section, and alone
 * through vmc_virtio_io_lock() by the kick handler and the device model's
 * own handlers on the I/O thread, which sets @in_io while the model runs.
 * update_irq() with @in_io set and a line that needs the VM lock only
 * records @irq_pending; vmc_virtio_io_unlock() then takes the VM lock and
 * the mutex again (in that order) and sets the line.  Between the
 * snapshot section's quiesce() and resume() the VM lock's holder owns the
 * mutex (@quiesced): dev_lock() and vmc_virtio_io_lock() with the VM lock
 * held then take nothing, and the I/O thread waits in its next
 * vmc_virtio_io_lock().  The I/O thread's own path never reads
 * @quiesced, so the kick path gains no lock or atomic.
 *
 * End of life, as vmc-memory.h describes it: vmc_virtio_free() detaches
 * the callbacks, removes the ioeventfds and the notifier handlers; the
 * notifiers themselves and the transport's memory go in the region's
 * release, when no flat view can refer to them any more.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-iothread.h>
#include <libvmcore/vmc-virtio.h>

#include "../hw-snap.h"
#include "virtio-internal.h"

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_MAX_QUEUES 64
#define VIRTIO_MMIO_CONFIG 0x100

enum {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_GUEST_PAGE_SIZE = 0x028, /* legacy */
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_ALIGN = 0x03c, /* legacy */
	REG_QUEUE_PFN = 0x040,	 /* legacy */
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090,
	REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0,
	REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_SHM_SEL = 0x0ac,
	REG_SHM_LEN_LOW = 0x0b0,
	REG_SHM_LEN_HIGH = 0x0b4,
	REG_SHM_BASE_LOW = 0x0b8,
	REG_SHM_BASE_HIGH = 0x0bc,
	REG_CONFIG_GENERATION = 0x0fc,
};

struct vmc_virtio {
	struct vmc_vm *vm;
	struct vmc_address_space *as;
	struct vmc_region *region;
	struct vmc_irq *irq;
	struct vmc_virtio_ops ops;
	void *opaque;
	struct vmc_vm_reset_handler *reset_handler;
	struct vmc_snapshot_section *section;
	char name[64];

	uint32_t device_id, vendor_id;
	uint64_t host_features;
	unsigned int queue_max;
	size_t config_size;
	bool legacy;

	/* Registers, under the VM lock. */
	uint64_t guest_features;
	uint32_t host_features_sel, guest_features_sel;
	uint32_t queue_sel;
	uint32_t page_size; /* legacy GuestPageSize */
	uint32_t isr;
	uint8_t status;
	bool needs_reset;
	uint32_t config_generation;
	bool irq_level;

	/* I/O thread mode. */
	struct vmc_iothread *iothread;
	bool irq_any_thread;
	pthread_mutex_t lock;
	bool in_io, irq_pending;
	/* @lock is held by the VM lock's holder, between the section's
	 * quiesce() and resume(); read and written under the VM lock. */
	bool quiesced;

	/* vmc_virtio_get_stats(), read from any thread. */
	_Atomic uint64_t st_notifies, st_trapped, st_interrupts;

	unsigned int num_queues;
	struct vmc_virtq vq[];
};

/* ------------------------------------------------------------------------
 * What virtqueue.c uses
 */

struct vmc_address_space *vmc__virtio_as(struct vmc_virtio *dev)
{
	return dev->as;
}

uint64_t vmc__virtio_features(const struct vmc_virtio *dev)
{
	return dev->guest_features;
}

bool vmc__virtio_driver_ok(const struct vmc_virtio *dev)
{
	return dev->status & VMC_VIRTIO_STATUS_DRIVER_OK;
}

bool vmc__virtio_broken(const struct vmc_virtio *dev)
{
	return dev->needs_reset;
}

const char *vmc__virtio_name(const struct vmc_virtio *dev)
{
	return dev->name;
}

/* The one place that drives the interrupt output. */
/* The device mutex, with the VM lock held: already ours if quiesced. */
static void dev_lock(struct vmc_virtio *dev)
{
	if (dev->iothread && !dev->quiesced)
		pthread_mutex_lock(&dev->lock);
}

static void dev_unlock(struct vmc_virtio *dev)
{
	if (dev->iothread && !dev->quiesced)
		pthread_mutex_unlock(&dev->lock);
}

static void update_irq(struct vmc_virtio *dev)
{
	bool level = dev->isr != 0;

	if (dev->in_io && !dev->irq_any_thread) {
		dev->irq_pending = true;
		return;
	}
	if (level && !dev->irq_level)
		atomic_fetch_add_explicit(&dev->st_interrupts, 1,
					  memory_order_relaxed);
	dev->irq_level = level;
	vmc_irq_set(dev->irq, level);
}

void vmc__virtio_raise(struct vmc_virtio *dev, uint32_t isr_bits)
{
	dev->isr |= isr_bits;
	update_irq(dev);
}

static void enter_needs_reset(struct vmc_virtio *dev, const char *why)
{
	if (dev->needs_reset)
		return;
	vmc_log(VMC_LOG_WARNING, "%s: device needs reset: %s", dev->name, why);
	dev->needs_reset = true;
	/* §2.1.2: a driver that is up learns it from a config interrupt. */
	if (dev->status & VMC_VIRTIO_STATUS_DRIVER_OK)
		vmc__virtio_raise(dev, VIRTIO_ISR_CONFIG);
}

void vmc__virtio_fail(struct vmc_virtio *dev, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	enter_needs_reset(dev, why);
}

/* ------------------------------------------------------------------------
 * Reset and status
 */

/*
 * @driver: the driver wrote Status 0, rather than the machine resetting.
 * A legacy driver writes GuestPageSize once, before that reset (Linux does
 * it in probe), so a driver reset keeps it, as QEMU's does.
 */
static void device_reset(struct vmc_virtio *dev, bool driver)
{
	if (dev->ops.reset)
		dev->ops.reset(dev->opaque);
	for (unsigned int i = 0; i < dev->num_queues; i++)
		vmc__virtq_reset(&dev->vq[i]);
	dev->guest_features = 0;
	dev->host_features_sel = dev->guest_features_sel = 0;
	dev->queue_sel = 0;
	if (!driver)
		dev->page_size = 0;
	dev->status = 0;
	dev->needs_reset = false;
	dev->isr = 0;
	update_irq(dev);
}

static void vm_reset_cb(struct vmc_vm *vm, void *userdata)
{
	struct vmc_virtio *dev = userdata;

	dev_lock(dev);
	device_reset(dev, false);
	dev_unlock(dev);
}

/* The features a driver may accept: all offered, and VERSION_1 if modern. */
static bool features_ok(const struct vmc_virtio *dev)
{
	uint64_t f = dev->guest_features;

	if (f & ~dev->host_features)
		return false;
	if (!dev->legacy && !(f & (1ull << VMC_VIRTIO_F_VERSION_1)))
		return false;
	return true;
}

static void set_status(struct vmc_virtio *dev, uint32_t val)
{
	uint8_t old = dev->status, st = (uint8_t)val;

	if (st == 0) {
		device_reset(dev, true);
		if (dev->ops.status_changed)
			dev->ops.status_changed(dev->opaque, 0);
		return;
	}
	/* The device owns NEEDS_RESET; the driver cannot set or clear it. */
	st &= (uint8_t)~VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if ((st & VMC_VIRTIO_STATUS_FEATURES_OK) &&
	    !(old & VMC_VIRTIO_STATUS_FEATURES_OK) && !features_ok(dev)) {
		/* §2.2.2: refuse; the driver reads FEATURES_OK back. */
		vmc_log(VMC_LOG_INFO, "%s: refused features 0x%llx", dev->name,
			(unsigned long long)dev->guest_features);
		st &= (uint8_t)~VMC_VIRTIO_STATUS_FEATURES_OK;
	}
	dev->status = st;
	if (dev->ops.status_changed)
		dev->ops.status_changed(dev->opaque, st);
	/* Buffers made available before DRIVER_OK wait until now. */
	if ((st & VMC_VIRTIO_STATUS_DRIVER_OK) &&
	    !(old & VMC_VIRTIO_STATUS_DRIVER_OK)) {
		for (unsigned int i = 0; i < dev->num_queues; i++)
			if (dev->vq[i].ready)
				vmc_notifier_signal(dev->vq[i].kick);
	}
}

/* ------------------------------------------------------------------------
 * Registers
 */

static struct vmc_virtq *cur_queue(struct vmc_virtio *dev)
{
	return dev->queue_sel < dev->num_queues ? &dev->vq[dev->queue_sel]
						: NULL;
}

static uint32_t reg_read(struct vmc_virtio *dev, uint64_t off)
{
	struct vmc_virtq *vq = cur_queue(dev);
	uint64_t f;

	switch (off) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return dev->legacy ? 1 : 2;
	case REG_DEVICE_ID:
		return dev->device_id;
	case REG_VENDOR_ID:
		return dev->vendor_id;
	case REG_DEVICE_FEATURES:
		f = dev->host_features;
		if (dev->host_features_sel > 1 ||
		    (dev->legacy && dev->host_features_sel))
			return 0;
		return (uint32_t)(f >> (32 * dev->host_features_sel));
	case REG_QUEUE_NUM_MAX:
		return vq ? dev->queue_max : 0;
	case REG_QUEUE_PFN:
		return dev->legacy && vq ? vq->pfn : 0;
	case REG_QUEUE_READY:
		return !dev->legacy && vq ? vq->ready : 0;
	case REG_INTERRUPT_STATUS:
		return dev->isr;
	case REG_STATUS:
		return dev->status |
		       (dev->needs_reset ? VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET
					 : 0);
	case REG_CONFIG_GENERATION:
		return dev->legacy ? 0 : dev->config_generation;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
	case REG_SHM_BASE_LOW:
	case REG_SHM_BASE_HIGH:
		/* §4.2.2: no shared memory regions; length reads as -1. */
		return dev->legacy ? 0 : 0xffffffffu;
	default:
		return 0;
	}
}

/* Queue layout registers are writable only while the queue is off. */
static bool queue_writable(struct vmc_virtio *dev, struct vmc_virtq *vq)
{
	if (!vq)
		return false;
	if (vq->ready) {
		vmc_log(VMC_LOG_DEBUG,
			"%s: queue %u is live; layout write "
			"ignored",
			dev->name, vq->index);
		return false;
	}
	return true;
}

static void set_u64_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffull) | (uint64_t)val << 32;
	else
		*v = (*v & ~0xffffffffull) | val;
}

static void reg_write(struct vmc_virtio *dev, uint64_t off, uint32_t val)
{
	struct vmc_virtq *vq = cur_queue(dev);

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		dev->host_features_sel = val;
		return;
	case REG_DRIVER_FEATURES:
		/* Features are fixed once FEATURES_OK is set (§3.1.1). */
		if (dev->status & (VMC_VIRTIO_STATUS_FEATURES_OK |
				   VMC_VIRTIO_STATUS_DRIVER_OK))
			return;
		if (dev->guest_features_sel > 1 ||
		    (dev->legacy && dev->guest_features_sel))
			return;
		set_u64_half(&dev->guest_features, dev->guest_features_sel,
			     val);
		return;
	case REG_DRIVER_FEATURES_SEL:
		dev->guest_features_sel = val;
		return;
	case REG_GUEST_PAGE_SIZE:
		if (dev->legacy)
			dev->page_size = val;
		return;
	case REG_QUEUE_SEL:
		dev->queue_sel = val;
		return;
	case REG_QUEUE_NUM:
		if (queue_writable(dev, vq)) {
			if (val == 0 || val > dev->queue_max)
				vmc_log(VMC_LOG_DEBUG,
					"%s: QueueNum %u out "
					"of range",
					dev->name, val);
			vq->num = val <= dev->queue_max ? val : 0;
		}
		return;
	case REG_QUEUE_ALIGN:
		if (dev->legacy && queue_writable(dev, vq))
			vq->align = val;
		return;
	case REG_QUEUE_PFN:
		if (!dev->legacy || !vq)
			return;
		if (val == 0) {
			vmc__virtq_reset(vq);
			vq->num = dev->queue_max;
			return;
		}
		if (!queue_writable(dev, vq))
			return;
		vq->pfn = val;
		if (vmc__virtq_enable(vq, true, dev->page_size) < 0)
			vq->pfn = 0;
		return;
	case REG_QUEUE_READY:
		if (dev->legacy || !vq)
			return;
		if (!(val & 1)) {
			uint32_t num = vq->num;

			if (vq->ready)
				vmc__virtq_reset(vq);
			vq->num = num;
			return;
		}
		if (!vq->ready)
			vmc__virtq_enable(vq, false, 0);
		return;
	case REG_QUEUE_NOTIFY:
		/* Not matched by the ioeventfd: hand it to the loop anyway. */
		atomic_fetch_add_explicit(&dev->st_trapped, 1,
					  memory_order_relaxed);
		if (val < dev->num_queues)
			vmc_notifier_signal(dev->vq[val].kick);
		return;
	case REG_INTERRUPT_ACK:
		dev->isr &= ~val;
		update_irq(dev);
		return;
	case REG_STATUS:
		set_status(dev, val);
		return;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if (!dev->legacy && queue_writable(dev, vq))
			set_u64_half(&vq->desc_addr, off == REG_QUEUE_DESC_HIGH,
				     val);
		return;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if (!dev->legacy && queue_writable(dev, vq))
			set_u64_half(&vq->avail_addr,
				     off == REG_QUEUE_DRIVER_HIGH, val);
		return;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (!dev->legacy && queue_writable(dev, vq))
			set_u64_half(&vq->used_addr,
				     off == REG_QUEUE_DEVICE_HIGH, val);
		return;
	default:
		vmc_log(VMC_LOG_DEBUG, "%s: write to register 0x%llx ignored",
			dev->name, (unsigned long long)off);
		return;
	}
}

static int mmio_read(void *opaque, uint64_t off, unsigned int size,
		     uint64_t *value)
{
	struct vmc_virtio *dev = opaque;
	int r = 0;

	*value = 0;
	dev_lock(dev);
	if (off >= VIRTIO_MMIO_CONFIG) {
		off -= VIRTIO_MMIO_CONFIG;
		if (off + size <= dev->config_size && dev->ops.config_read)
			r = dev->ops.config_read(dev->opaque, off, size, value);
	} else if (size == 4 && !(off & 3)) {
		/* §4.2.2.2: registers take aligned 32-bit accesses only. */
		*value = reg_read(dev, off);
	}
	dev_unlock(dev);
	return r;
}

static int mmio_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t value)
{
	struct vmc_virtio *dev = opaque;
	int r = 0;

	dev_lock(dev);
	if (off >= VIRTIO_MMIO_CONFIG) {
		off -= VIRTIO_MMIO_CONFIG;
		if (off + size <= dev->config_size && dev->ops.config_write)
			r = dev->ops.config_write(dev->opaque, off, size,
						  value);
	} else if (size == 4 && !(off & 3)) {
		reg_write(dev, off, (uint32_t)value);
	}
	dev_unlock(dev);
	return r;
}

/* A queue notification, on the loop with the VM lock held. */
static void kick_cb(struct vmc_notifier *n, void *userdata)
{
	struct vmc_virtq *vq = userdata;
	struct vmc_virtio *dev = vq->dev;

	atomic_fetch_add_explicit(&dev->st_notifies, 1, memory_order_relaxed);
	if (!vmc_virtq_is_ready(vq))
		return;
	if (dev->ops.queue_notify)
		dev->ops.queue_notify(dev->opaque, vq);
}

/* A queue notification on the I/O thread: the device mutex only. */
static void kick_io_cb(struct vmc_notifier *n, void *userdata)
{
	struct vmc_virtq *vq = userdata;

	vmc_virtio_io_lock(vq->dev);
	kick_cb(n, vq);
	vmc_virtio_io_unlock(vq->dev);
}

/* Install or remove the kick handlers where they run. */
struct kick_handlers {
	struct vmc_virtio *dev;
	bool on;
	int r;
};

static void set_kick_handlers_here(void *arg)
{
	struct kick_handlers *k = arg;
	struct vmc_virtio *dev = k->dev;

	k->r = 0;
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		struct vmc_virtq *vq = &dev->vq[i];
		int r;

		if (!vq->kick)
			continue;
		if (dev->iothread)
			r = vmc_notifier_set_handler(
				vq->kick, vmc_iothread_get_loop(dev->iothread),
				k->on ? kick_io_cb : NULL, vq);
		else
			r = vmc_vm_notifier_set_handler(
				dev->vm, vq->kick, k->on ? kick_cb : NULL, vq);
		if (r < 0 && k->r == 0)
			k->r = r;
	}
}

static int set_kick_handlers(struct vmc_virtio *dev, bool on)
{
	struct kick_handlers k = {.dev = dev, .on = on};

	if (dev->iothread)
		vmc_iothread_run_sync(dev->iothread, set_kick_handlers_here,
				      &k);
	else
		set_kick_handlers_here(&k);
	return k.r;
}

/* ------------------------------------------------------------------------
 * Life
 */

static void mmio_release(void *opaque)
{
	struct vmc_virtio *dev = opaque;

	for (unsigned int i = 0; i < dev->num_queues; i++)
		vmc_notifier_free(dev->vq[i].kick);
	if (dev->iothread)
		pthread_mutex_destroy(&dev->lock);
	free(dev);
}

/* ------------------------------------------------------------------------
 * Snapshot section "virtio-mmio" (version 1): the transport's registers
 * and every queue's.  Elements a device model held when the snapshot was
 * taken are not saved: their queue's last_avail is saved rewound by the
 * number in use, so after a restore the model (reset first, dropping what
 * it holds now) pops them again; the queue's kick is signalled so that it
 * does.  This needs the elements in use to be the latest popped, which
 * holds for models that complete in order (rng, console); virtio-blk
 * refuses a snapshot while requests are in flight.
 */

struct snap_queue {
	uint32_t num, pfn, align;
	uint64_t desc, avail, used;
	bool ready, signalled_valid;
	uint16_t last_avail, used_idx, signalled;
};

struct snap_dev {
	uint32_t device_id, num_queues;
	uint64_t guest_features;
	uint32_t hsel, gsel, queue_sel, page_size, isr, generation;
	uint8_t status;
	bool needs_reset;
};

static void snap_dev_io(struct hw_snap *s, struct snap_dev *d)
{
	if (s->save) {
		hw_snap_put(s, d->device_id, 4);
		hw_snap_put(s, d->num_queues, 4);
		hw_snap_put(s, d->guest_features, 8);
		hw_snap_put(s, d->hsel, 4);
		hw_snap_put(s, d->gsel, 4);
		hw_snap_put(s, d->queue_sel, 4);
		hw_snap_put(s, d->page_size, 4);
		hw_snap_put(s, d->isr, 4);
		hw_snap_put(s, d->generation, 4);
		hw_snap_put(s, d->status, 1);
		hw_snap_put(s, d->needs_reset, 1);
		return;
	}
	d->device_id = (uint32_t)hw_snap_get(s, 4);
	d->num_queues = (uint32_t)hw_snap_get(s, 4);
	d->guest_features = hw_snap_get(s, 8);
	d->hsel = (uint32_t)hw_snap_get(s, 4);
	d->gsel = (uint32_t)hw_snap_get(s, 4);
	d->queue_sel = (uint32_t)hw_snap_get(s, 4);
	d->page_size = (uint32_t)hw_snap_get(s, 4);
	d->isr = (uint32_t)hw_snap_get(s, 4);
	d->generation = (uint32_t)hw_snap_get(s, 4);
	d->status = (uint8_t)hw_snap_get(s, 1);
	d->needs_reset = hw_snap_get(s, 1) != 0;
}

static void snap_queue_io(struct hw_snap *s, struct snap_queue *q)
{
	if (s->save) {
		hw_snap_put(s, q->num, 4);
		hw_snap_put(s, q->desc, 8);
		hw_snap_put(s, q->avail, 8);
		hw_snap_put(s, q->used, 8);
		hw_snap_put(s, q->pfn, 4);
		hw_snap_put(s, q->align, 4);
		hw_snap_put(s, q->ready, 1);
		hw_snap_put(s, q->last_avail, 2);
		hw_snap_put(s, q->used_idx, 2);
		hw_snap_put(s, q->signalled, 2);
		hw_snap_put(s, q->signalled_valid, 1);
		return;
	}
	q->num = (uint32_t)hw_snap_get(s, 4);
	q->desc = hw_snap_get(s, 8);
	q->avail = hw_snap_get(s, 8);
	q->used = hw_snap_get(s, 8);
	q->pfn = (uint32_t)hw_snap_get(s, 4);
	q->align = (uint32_t)hw_snap_get(s, 4);
	q->ready = hw_snap_get(s, 1) != 0;
	q->last_avail = (uint16_t)hw_snap_get(s, 2);
	q->used_idx = (uint16_t)hw_snap_get(s, 2);
	q->signalled = (uint16_t)hw_snap_get(s, 2);
	q->signalled_valid = hw_snap_get(s, 1) != 0;
}

static int mmio_snap_save_locked(void *opaque, void *buf, size_t size)
{
	struct vmc_virtio *dev = opaque;
	struct hw_snap s = {.save = true, .out = buf, .size = size};
	struct snap_dev d = {
		.device_id = dev->device_id,
		.num_queues = dev->num_queues,
		.guest_features = dev->guest_features,
		.hsel = dev->host_features_sel,
		.gsel = dev->guest_features_sel,
		.queue_sel = dev->queue_sel,
		.page_size = dev->page_size,
		.isr = dev->isr,
		.generation = dev->config_generation,
		.status = dev->status,
		.needs_reset = dev->needs_reset,
	};

	snap_dev_io(&s, &d);
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		const struct vmc_virtq *vq = &dev->vq[i];
		struct snap_queue q = {
			.num = vq->num,
			.pfn = vq->pfn,
			.align = vq->align,
			.desc = vq->desc_addr,
			.avail = vq->avail_addr,
			.used = vq->used_addr,
			.ready = vq->ready,
			.last_avail = (uint16_t)(vq->last_avail - vq->inuse),
			.used_idx = vq->used_idx,
			.signalled = vq->signalled_used,
			.signalled_valid = vq->signalled_used_valid,
		};

		snap_queue_io(&s, &q);
	}
	return hw_snap_result(&s);
}

/* The VM lock is held; the I/O thread may be in a kick: take the mutex. */
static int mmio_snap_save(void *opaque, void *buf, size_t size)
{
	struct vmc_virtio *dev = opaque;
	int r;

	dev_lock(dev);
	r = mmio_snap_save_locked(opaque, buf, size);
	dev_unlock(dev);
	return r;
}

/* Parse and check; @q has dev->num_queues entries. */
static int mmio_snap_parse(struct vmc_virtio *dev, const void *buf, size_t size,
			   uint32_t version, struct snap_dev *d,
			   struct snap_queue *q)
{
	struct hw_snap s = {.in = buf, .size = size};

	if (version != 1)
		return -EINVAL;
	snap_dev_io(&s, d);
	if (s.err || d->device_id != dev->device_id ||
	    d->num_queues != dev->num_queues ||
	    (d->guest_features & ~dev->host_features))
		return -EINVAL;
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		snap_queue_io(&s, &q[i]);
		if (q[i].num > dev->queue_max)
			return -EINVAL;
	}
	return hw_snap_done(&s) ? 0 : -EINVAL;
}

static int mmio_snap_check(void *opaque, const void *buf, size_t size,
			   uint32_t version)
{
	struct vmc_virtio *dev = opaque;
	struct snap_dev d;
	struct snap_queue *q = calloc(dev->num_queues + 1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	r = mmio_snap_parse(dev, buf, size, version, &d, q);
	free(q);
	return r;
}

static int mmio_snap_load(void *opaque, const void *buf, size_t size,
			  uint32_t version)
{
	struct vmc_virtio *dev = opaque;
	struct snap_dev d;
	struct snap_queue *q = calloc(dev->num_queues + 1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	r = mmio_snap_parse(dev, buf, size, version, &d, q);
	if (r < 0)
		goto out;
	dev_lock(dev);
	/* The model drops what it holds; the queues forget their rings. */
	if (dev->ops.reset)
		dev->ops.reset(dev->opaque);
	for (unsigned int i = 0; i < dev->num_queues; i++)
		vmc__virtq_reset(&dev->vq[i]);
	dev->guest_features = d.guest_features;
	dev->host_features_sel = d.hsel;
	dev->guest_features_sel = d.gsel;
	dev->queue_sel = d.queue_sel;
	dev->page_size = d.page_size;
	dev->isr = d.isr;
	dev->config_generation = d.generation;
	dev->status = d.status;
	dev->needs_reset = d.needs_reset;
	for (unsigned int i = 0; i < dev->num_queues; i++) {
		struct vmc_virtq *vq = &dev->vq[i];

		vq->num = q[i].num;
		vq->pfn = q[i].pfn;
		vq->align = q[i].align;
		vq->desc_addr = q[i].desc;
		vq->avail_addr = q[i].avail;
		vq->used_addr = q[i].used;
		/* Same layout as saved: the rings map as they did then (a
		 * failure marks the device as needing a reset). */
		if (q[i].ready &&
		    vmc__virtq_enable(vq, dev->legacy, dev->page_size) < 0)
			continue;
		vq->last_avail = q[i].last_avail;
		vq->used_idx = q[i].used_idx;
		vq->signalled_used = q[i].signalled;
		vq->signalled_used_valid = q[i].signalled_valid;
		if (vq->ready && (dev->status & VMC_VIRTIO_STATUS_DRIVER_OK))
			vmc_notifier_signal(vq->kick);
	}
	update_irq(dev);
	dev_unlock(dev);
out:
	free(q);
	return r;
}

/*
 * A still device for a whole snapshot or restore (vmc-snapshot.h):
 * the device mutex, held from here to resume() by the VM lock's holder.
 * Every piece of work on the I/O thread that touches the device or guest
 * RAM for it (kicks, backend input, completions) runs under that mutex,
 * so none runs between the sections' save and the RAM copy.  Lock order
 * is the usual one (VM lock, then device mutex), and the I/O thread
 * never waits for anything while it holds the mutex (interrupt changes
 * that need the VM lock are deferred until it has let go), so this
 * cannot deadlock; an I/O thread shared with other devices or VMs waits
 * only for as long as the operation lasts.  On the I/O thread itself the
 * mutex may be its own already: refuse.
 */
static int mmio_quiesce(void *opaque)
{
	struct vmc_virtio *dev = opaque;

	if (!dev->iothread)
		return 0;
	if (vmc_iothread_is_current(dev->iothread)) {
		vmc_log(VMC_LOG_ERR,
			"%s: cannot hold the device still from its own I/O "
			"thread",
			dev->name);
		return -EDEADLK;
	}
	pthread_mutex_lock(&dev->lock);
	dev->quiesced = true;
	return 0;
}

static void mmio_resume(void *opaque)
{
	struct vmc_virtio *dev = opaque;

	if (!dev->iothread || !dev->quiesced)
		return;
	dev->quiesced = false;
	pthread_mutex_unlock(&dev->lock);
}

static const struct vmc_snapshot_section_ops mmio_snap_ops = {
	.struct_size = sizeof(mmio_snap_ops),
	.save = mmio_snap_save,
	.check = mmio_snap_check,
	.load = mmio_snap_load,
	.quiesce = mmio_quiesce,
	.resume = mmio_resume,
};

VMC_EXPORT void vmc_virtio_config_init(struct vmc_virtio_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_virtio_config){
		.size = sizeof(*c),
		.vendor_id = VMC_VIRTIO_VENDOR_QEMU,
		.num_queues = 1,
		.queue_max_size = 256,
	};
}

static void remove_kicks(struct vmc_virtio *dev, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		vmc_region_remove_ioeventfd(dev->region, REG_QUEUE_NOTIFY, 4,
					    true, i, dev->vq[i].kick);
	set_kick_handlers(dev, false);
}

VMC_EXPORT int vmc_virtio_new(const struct vmc_virtio_config *config,
			      const struct vmc_virtio_ops *ops, void *opaque,
			      struct vmc_virtio **ret)
{
	static const struct vmc_region_ops rops = {
		.struct_size = sizeof(rops),
		.read = mmio_read,
		.write = mmio_write,
		.release = mmio_release,
		.min_access_size = 1,
		.max_access_size = 4,
		.endian = VMC_ENDIAN_LITTLE,
	};
	struct vmc_virtio_config c;
	struct vmc_virtio *dev;
	unsigned int i, kicks = 0;
	int r;

	VMC_CHECK_RETURN(config && ops && ret, -EINVAL);
	VMC_CHECK_RETURN(config->size >= sizeof(c), -EINVAL);
	VMC_CHECK_RETURN(ops->struct_size >= sizeof(*ops), -EINVAL);
	c = *config;
	VMC_CHECK_RETURN(c.vm, -EINVAL);
	VMC_CHECK_RETURN(c.num_queues >= 1 &&
				 c.num_queues <= VIRTIO_MMIO_MAX_QUEUES,
			 -EINVAL);
	VMC_CHECK_RETURN(c.queue_max_size >= 1 &&
				 c.queue_max_size <= VMC_VIRTQ_MAX_SIZE &&
				 !(c.queue_max_size & (c.queue_max_size - 1)),
			 -EINVAL);
	VMC_CHECK_RETURN(c.config_size <= 0x100, -EINVAL);
	if (c.iothread && vmc_iothread_is_current(c.iothread))
		return -EDEADLK;

	dev = calloc(1, sizeof(*dev) + c.num_queues * sizeof(dev->vq[0]));
	if (!dev)
		return -ENOMEM;
	dev->vm = c.vm;
	dev->as = vmc_vm_get_address_space(c.vm, VMC_AS_MEMORY);
	dev->irq = c.irq;
	dev->ops = *ops;
	dev->opaque = opaque;
	snprintf(dev->name, sizeof(dev->name), "%s",
		 c.name ? c.name : "virtio-mmio");
	dev->device_id = c.device_id;
	dev->vendor_id = c.vendor_id;
	dev->host_features = c.features;
	if (c.legacy)
		dev->host_features &= 0xffffffffull;
	else
		dev->host_features |= 1ull << VMC_VIRTIO_F_VERSION_1;
	dev->queue_max = c.queue_max_size;
	dev->config_size = c.config_size;
	dev->legacy = c.legacy;
	dev->num_queues = c.num_queues;
	dev->iothread = c.iothread;
	dev->irq_any_thread = c.irq_any_thread;
	if (dev->iothread)
		pthread_mutex_init(&dev->lock, NULL);
	for (i = 0; i < c.num_queues; i++) {
		dev->vq[i].dev = dev;
		dev->vq[i].index = i;
		dev->vq[i].num = c.queue_max_size;
		r = vmc_notifier_new(&dev->vq[i].kick);
		if (r < 0)
			goto fail;
	}
	r = set_kick_handlers(dev, true);
	if (r < 0)
		goto fail;
	r = vmc_region_new_io(vmc_vm_get_memory(c.vm), dev->name,
			      VMC_VIRTIO_MMIO_SIZE, &rops, dev, 0,
			      &dev->region);
	if (r < 0)
		goto fail;
	/* From here on the region owns dev: release frees it. */
	for (; kicks < c.num_queues; kicks++) {
		r = vmc_region_add_ioeventfd(dev->region, REG_QUEUE_NOTIFY, 4,
					     true, kicks, dev->vq[kicks].kick);
		if (r < 0)
			goto fail_region;
	}
	r = vmc_vm_add_reset_handler(c.vm, vm_reset_cb, dev,
				     &dev->reset_handler);
	if (r < 0)
		goto fail_region;
	r = vmc_vm_add_snapshot_section(c.vm, "virtio-mmio", 1, &mmio_snap_ops,
					dev, &dev->section);
	if (r < 0) {
		vmc_vm_remove_reset_handler(c.vm, dev->reset_handler);
		goto fail_region;
	}
	*ret = dev;
	return 0;

fail_region:
	vmc_region_detach_ops(dev->region);
	remove_kicks(dev, kicks);
	vmc_region_unref(dev->region);
	return r;
fail:
	set_kick_handlers(dev, false);
	for (i = 0; i < c.num_queues; i++)
		vmc_notifier_free(dev->vq[i].kick);
	if (dev->iothread)
		pthread_mutex_destroy(&dev->lock);
	free(dev);
	return r;
}

VMC_EXPORT void vmc_virtio_free(struct vmc_virtio *dev)
{
	if (!dev)
		return;
	/* No register callback runs from here on (vmc-memory.h). */
	vmc_region_detach_ops(dev->region);
	vmc_vm_remove_reset_handler(dev->vm, dev->reset_handler);
	vmc_vm_remove_snapshot_section(dev->vm, dev->section);
	dev->section = NULL;
	remove_kicks(dev, dev->num_queues);
	/*
	 * A last reset gives the device model the chance to return the
	 * elements it holds; the rings' mappings go now, the notifiers with
	 * the region.
	 */
	vmc_virtio_lock(dev);
	device_reset(dev, false);
	vmc_virtio_unlock(dev);
	vmc_region_unref(dev->region);
}

VMC_EXPORT void vmc_virtio_lock(struct vmc_virtio *dev)
{
	if (!dev)
		return;
	vmc_vm_lock(dev->vm);
	dev_lock(dev);
}

VMC_EXPORT void vmc_virtio_unlock(struct vmc_virtio *dev)
{
	if (!dev)
		return;
	dev_unlock(dev);
	vmc_vm_unlock(dev->vm);
}

/*
 * The device lock for a model's own work (vmc-virtio.h).  With an I/O
 * thread: the mutex alone, and @in_io so that update_irq() defers a line
 * that needs the VM lock; the unlock then takes the VM lock and the mutex
 * again (in that order) just to set it.  A caller already holding the VM
 * lock (snapshot sections, a host inside vmc_virtio_lock()) sets the line
 * itself.
 */
VMC_EXPORT void vmc_virtio_io_lock(struct vmc_virtio *dev)
{
	if (!dev)
		return;
	if (!dev->iothread) {
		vmc_vm_lock(dev->vm);
		return;
	}
	if (vmc_vm_lock_held(dev->vm)) {
		/* Quiesced: the mutex is already this thread's. */
		if (!dev->quiesced)
			pthread_mutex_lock(&dev->lock);
		dev->in_io = false;
		return;
	}
	pthread_mutex_lock(&dev->lock);
	dev->in_io = true;
}

VMC_EXPORT void vmc_virtio_io_unlock(struct vmc_virtio *dev)
{
	bool pending;

	if (!dev)
		return;
	if (!dev->iothread) {
		vmc_vm_unlock(dev->vm);
		return;
	}
	/* Without @in_io the caller holds the VM lock: @quiesced is safe
	 * to read (the I/O thread's path does not look at it). */
	if (!dev->in_io && dev->quiesced)
		return;
	dev->in_io = false;
	pending = dev->irq_pending;
	pthread_mutex_unlock(&dev->lock);
	if (!pending)
		return;
	vmc_vm_lock(dev->vm);
	pthread_mutex_lock(&dev->lock);
	if (dev->irq_pending) {
		dev->irq_pending = false;
		update_irq(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	vmc_vm_unlock(dev->vm);
}

VMC_EXPORT struct vmc_iothread *vmc_virtio_get_iothread(struct vmc_virtio *dev)
{
	return dev ? dev->iothread : NULL;
}

VMC_EXPORT struct vmc_region *vmc_virtio_get_region(struct vmc_virtio *dev)
{
	return dev ? dev->region : NULL;
}

VMC_EXPORT struct vmc_virtq *vmc_virtio_get_queue(struct vmc_virtio *dev,
						  unsigned int index)
{
	if (!dev || index >= dev->num_queues)
		return NULL;
	return &dev->vq[index];
}

VMC_EXPORT uint64_t vmc_virtio_get_features(const struct vmc_virtio *dev)
{
	return dev ? dev->guest_features : 0;
}

VMC_EXPORT uint8_t vmc_virtio_get_status(const struct vmc_virtio *dev)
{
	if (!dev)
		return 0;
	return dev->status |
	       (dev->needs_reset ? VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET : 0);
}

VMC_EXPORT int vmc_virtio_get_stats(struct vmc_virtio *dev,
				    struct vmc_virtio_stats *ret)
{
	VMC_CHECK_RETURN(dev && ret && ret->size >= sizeof(*ret), -EINVAL);
	ret->notifies = atomic_load(&dev->st_notifies);
	ret->notifies_trapped = atomic_load(&dev->st_trapped);
	ret->interrupts = atomic_load(&dev->st_interrupts);
	return 0;
}

VMC_EXPORT int vmc_virtio_config_changed(struct vmc_virtio *dev)
{
	VMC_CHECK_RETURN(dev, -EINVAL);
	dev->config_generation++;
	if (dev->status & VMC_VIRTIO_STATUS_DRIVER_OK)
		vmc__virtio_raise(dev, VIRTIO_ISR_CONFIG);
	return 0;
}

VMC_EXPORT int vmc_virtio_set_needs_reset(struct vmc_virtio *dev,
					  const char *reason)
{
	VMC_CHECK_RETURN(dev && reason, -EINVAL);
	enter_needs_reset(dev, reason);
	return 0;
}
