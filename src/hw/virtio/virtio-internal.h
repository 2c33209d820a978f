/* SPDX-License-Identifier: MIT */
/*
 * What the virtio-mmio transport (virtio-mmio.c) and the split virtqueue
 * code (virtqueue.c) share.  Everything here is protected by the VM lock:
 * register callbacks, notifier handlers and reset handlers all hold it.
 *
 * Contract between the two files:
 * - The transport owns the queue array and the register state; it calls
 *   vmc__virtq_enable() when the driver makes a queue ready (QueueReady
 *   = 1, or a legacy QueuePFN write) and vmc__virtq_reset() on device
 *   reset or QueueReady = 0.
 * - The queue code reports a malformed ring or chain with
 *   vmc__virtio_fail(), which sets DEVICE_NEEDS_RESET; from then on no
 *   queue of the device returns buffers until the driver resets it.
 * - The queue code raises used buffer notifications with
 *   vmc__virtio_raise(dev, VIRTIO_ISR_VRING).
 */
#ifndef VMC_HW_VIRTIO_INTERNAL_H
#define VMC_HW_VIRTIO_INTERNAL_H

#include <stdint.h>

#include <libvmcore/vmc-iothread.h>
#include <libvmcore/vmc-virtio.h>

#include "hw-internal.h"

#define VIRTIO_ISR_VRING 1u
#define VIRTIO_ISR_CONFIG 2u

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* Entries of one indirect table at most (QEMU's VIRTQUEUE_MAX_SIZE). */
#define VIRTQ_MAX_INDIRECT 1024

struct vmc_virtq {
	struct vmc_virtio *dev;
	unsigned int index;
	struct vmc_notifier *kick; /* the QueueNotify ioeventfd */

	/* Set by the driver. */
	unsigned int num; /* QueueNum */
	uint64_t desc_addr, avail_addr, used_addr;
	uint32_t pfn;	/* legacy QueuePFN */
	uint32_t align; /* legacy QueueAlign */
	bool ready;	/* the rings below are mapped */

	/* The rings, mapped with vmc_as_map(). */
	uint8_t *desc;	/* num * 16 bytes */
	uint8_t *avail; /* flags, idx, ring[num], used_event */
	uint8_t *used;	/* flags, idx, ring[num], avail_event */

	uint16_t last_avail;	 /* next avail ring slot to take */
	uint16_t used_idx;	 /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt */
	bool signalled_used_valid;
	unsigned int inuse;  /* elements popped, not yet returned */
	uint32_t generation; /* bumped by every reset */
};

/*
 * Run @fn(@arg) on the thread of a device's loop: @t's, or, without an I/O
 * thread, here (the caller is on the VM's loop thread).  Device models
 * create and free their loop objects through it.
 */
static inline void vmc__virtio_run_on(struct vmc_iothread *t,
				      void (*fn)(void *arg), void *arg)
{
	if (t)
		vmc_iothread_run_sync(t, fn, arg);
	else
		fn(arg);
}

/* The transport's side of the contract. */
struct vmc_address_space *vmc__virtio_as(struct vmc_virtio *dev);
uint64_t vmc__virtio_features(const struct vmc_virtio *dev);
bool vmc__virtio_driver_ok(const struct vmc_virtio *dev);
bool vmc__virtio_broken(const struct vmc_virtio *dev);
void vmc__virtio_fail(struct vmc_virtio *dev, const char *fmt, ...)
	VMC_PRINTF(2, 3);
void vmc__virtio_raise(struct vmc_virtio *dev, uint32_t isr_bits);
const char *vmc__virtio_name(const struct vmc_virtio *dev);

/* The queue code's side. */
int vmc__virtq_enable(struct vmc_virtq *vq, bool legacy, uint32_t page_size);
void vmc__virtq_reset(struct vmc_virtq *vq);

#endif
