/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-virtio-rng.h
 * @brief virtio-rng (QEMU's virtio-rng-device): entropy for the guest.
 *
 * Device ID 4, one request queue, no configuration space; it offers
 * VIRTIO_F_RING_INDIRECT_DESC and VIRTIO_F_RING_EVENT_IDX (and
 * VIRTIO_F_VERSION_1 unless legacy), as QEMU does.  Each device-writable
 * buffer the driver queues is filled from the host source: getrandom(2)
 * by default, or a file descriptor the host passes (read without
 * blocking: only when poll(2) finds it readable, waiting for that on the
 * device's loop; a request gets what one read gave).
 *
 * Threads: as vmc-virtio.h.  The device's work runs on the VM's loop
 * with the VM lock held, or, with @c iothread, on that I/O thread with
 * the device's own lock; the source fd is then polled on the I/O thread's
 * loop.
 */
#ifndef LIBVMCORE_VMC_VIRTIO_RNG_H
#define LIBVMCORE_VMC_VIRTIO_RNG_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-virtio.h>

VMC_BEGIN_DECLS

struct vmc_virtio_rng;

/** How to build a virtio-rng; initialise with vmc_virtio_rng_config_init(). */
struct vmc_virtio_rng_config {
	size_t size;	     /**< sizeof(struct vmc_virtio_rng_config) */
	struct vmc_vm *vm;   /**< the machine */
	struct vmc_irq *irq; /**< the transport's interrupt line, or NULL */
	bool legacy;	     /**< virtio-mmio version 1 instead of 2 */
	/**
	 * the entropy source: -1 (default) for getrandom(2), or an fd the
	 * caller keeps open for the device's life
	 */
	int fd;
	/** serve requests on this I/O thread, or NULL */
	struct vmc_iothread *iothread;
	/** @c irq may be set from any thread (see vmc_virtio_config) */
	bool irq_any_thread;
};

/**
 * Fill @p config with defaults (getrandom, modern transport).
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.2
 */
void vmc_virtio_rng_config_init(struct vmc_virtio_rng_config *config);

/**
 * Create a virtio-rng device on a virtio-mmio transport.  Map
 * vmc_virtio_rng_get_region() to make it visible.
 * @param config the device's configuration
 * @param[out] ret the new device
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, bad size, or no VM
 * @retval -EBADF @c fd is set but not open
 * @retval -EDEADLK called on @c iothread itself
 * @retval -ENOMEM out of memory
 * @retval -errno the transport or the fd's handler could not be set up
 * @thread loop, without the VM lock
 * @since 0.2
 */
int vmc_virtio_rng_new(const struct vmc_virtio_rng_config *config,
		       struct vmc_virtio_rng **ret);

/**
 * Free the device (see vmc_virtio_free()).  NULL is ignored.
 * @param rng the device
 * @thread loop, without the VM lock
 * @since 0.2
 */
void vmc_virtio_rng_free(struct vmc_virtio_rng *rng);

/**
 * The device's transport (no reference; it lives as long as the device).
 * @param rng the device
 * @return the transport; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_virtio *vmc_virtio_rng_get_virtio(struct vmc_virtio_rng *rng);

/**
 * The device's virtio-mmio region (VMC_VIRTIO_MMIO_SIZE bytes).
 * @param rng the device
 * @return the region; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_region *vmc_virtio_rng_get_region(struct vmc_virtio_rng *rng);

VMC_END_DECLS

#endif
