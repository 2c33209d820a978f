/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-virtio-blk.h
 * @brief virtio-blk: a disk on a raw file or block device (virtio device
 * ID 2), as QEMU's virtio-blk-device.
 *
 * The device offers QEMU's feature bits (SEG_MAX, GEOMETRY, BLK_SIZE,
 * FLUSH, TOPOLOGY, DISCARD, WRITE_ZEROES, MQ with more than one queue, RO
 * for a read-only disk, and the ring's INDIRECT_DESC and EVENT_IDX) and
 * QEMU's configuration layout and limits (seg_max = queue size - 2, one
 * discard/write-zeroes segment of up to 4194303 sectors, 512-byte
 * blocks).  Requests: IN, OUT, FLUSH, GET_ID (the serial, 20 bytes padded
 * with zeros), DISCARD and WRITE_ZEROES (with the UNMAP flag).
 *
 * Statuses, as QEMU: a transfer that is not a whole number of sectors or
 * that ends past the capacity, and every write to a read-only disk, is
 * VIRTIO_BLK_S_IOERR (the host file is never accessed out of range); an
 * unknown request type or unknown segment flags are VIRTIO_BLK_S_UNSUPP.
 * A request without a 16-byte device-readable header, or without a
 * device-writable status byte (the last byte of the chain), puts the
 * device in DEVICE_NEEDS_RESET.
 *
 * I/O is asynchronous: with io_uring where the build has liburing and
 * the kernel allows it, otherwise on a small pool of worker threads using
 * preadv/pwritev.  Guest buffers are mapped zero-copy and stay mapped
 * until the request completes; completions come back to the device's
 * loop and are published under the device lock.  A device reset (or
 * vmc_virtio_blk_free()) waits for the requests in flight and returns them
 * to the ring without publishing them.  A snapshot taken with requests in
 * flight waits for them and publishes them first, so the saved rings hold
 * no request half done.
 *
 * Threads: as vmc-virtio.h.  Without @c iothread, queue notifications and
 * completions run on the VM's loop with the VM lock held.  With @c
 * iothread (QEMU's -device virtio-blk-device,iothread=ID), both run on that
 * I/O thread under the device's own mutex: the io_uring completion
 * eventfd, or the worker pool's completion notifier, is watched on the I/O
 * thread's loop, and submission, completion and the in-flight count are
 * touched only under the device lock.  Reset, snapshot save and load and
 * vmc_virtio_blk_free() may come from other threads (VM lock, then the
 * device mutex) while requests are in flight; they wait for them.
 */
#ifndef LIBVMCORE_VMC_VIRTIO_BLK_H
#define LIBVMCORE_VMC_VIRTIO_BLK_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-virtio.h>

VMC_BEGIN_DECLS

struct vmc_virtio_blk;

/** Length of the GET_ID answer (VIRTIO_BLK_ID_BYTES). */
#define VMC_VIRTIO_BLK_ID_BYTES 20

/** How the device does its I/O. */
enum vmc_virtio_blk_aio {
	/** io_uring if available, else worker threads */
	VMC_VIRTIO_BLK_AIO_AUTO = 0,
	VMC_VIRTIO_BLK_AIO_IO_URING = 1, /**< io_uring only */
	VMC_VIRTIO_BLK_AIO_THREADS = 2,	 /**< worker threads only */
	_VMC_VIRTIO_BLK_AIO_MAX = 0x7fffffff
};

/** How to build a virtio-blk; initialise with vmc_virtio_blk_config_init(). */
struct vmc_virtio_blk_config {
	size_t size;	     /**< sizeof(struct vmc_virtio_blk_config) */
	struct vmc_vm *vm;   /**< the machine */
	struct vmc_irq *irq; /**< the transport's interrupt line, or NULL */
	bool legacy;	     /**< virtio-mmio version 1 instead of 2 */
	/**
	 * the backing raw file or block device, open for reading (and
	 * writing unless @c read_only); the device duplicates it
	 */
	int fd;
	bool read_only; /**< offer VIRTIO_BLK_F_RO; writes fail */
	/** the GET_ID answer, up to 20 bytes (copied), or NULL for none */
	const char *serial;
	unsigned int num_queues; /**< 1 (default) to 64 */
	/** entries per queue: a power of 2 from 4 to 1024; default 256 */
	unsigned int queue_size;
	enum vmc_virtio_blk_aio aio; /**< default VMC_VIRTIO_BLK_AIO_AUTO */
	/** worker threads of the fallback; default 4, at most 64 */
	unsigned int threads;
	/**
	 * run the queues and completions on this I/O thread, or NULL for
	 * the VM's loop (since 0.2; see vmc_virtio_config)
	 */
	struct vmc_iothread *iothread;
	/** @c irq may be set from any thread (vmc_virtio_config) */
	bool irq_any_thread;
};

/**
 * Fill @p config with defaults (one queue of 256 entries, no fd, writable,
 * io_uring where available).
 * @param config the configuration to fill; NULL is ignored
 * @thread any
 * @since 0.2
 */
void vmc_virtio_blk_config_init(struct vmc_virtio_blk_config *config);

/**
 * Create a virtio-blk device on a virtio-mmio transport.  Its capacity is
 * the backing file's size rounded down to 512 bytes.  Map
 * vmc_virtio_blk_get_region() to make it visible.
 * @param config the configuration
 * @param[out] ret the new device
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, the struct is too small, no VM,
 *         @c num_queues, @c queue_size or @c threads out of range, or a
 *         serial longer than 20 bytes
 * @retval -EBADF @p fd is not an open fd
 * @retval -EACCES the device is writable but @c fd is open read-only
 * @retval -ENODEV @c fd is neither a regular file nor a block device
 * @retval -EDEADLK called on @c iothread itself
 * @retval -EOPNOTSUPP VMC_VIRTIO_BLK_AIO_IO_URING and io_uring is not
 *         available (not built in, or refused by the kernel)
 * @retval -ENOMEM out of memory
 * @retval -errno creating the transport, a notifier or a thread failed
 * @thread loop, without the VM lock
 * @since 0.2
 */
int vmc_virtio_blk_new(const struct vmc_virtio_blk_config *config,
		       struct vmc_virtio_blk **ret);

/**
 * Free the device: wait for its requests in flight, stop its threads,
 * close its fd.  Remove its region from the memory map first.  NULL is
 * ignored.
 * @param blk the device
 * @thread loop, without the VM lock
 * @since 0.2
 */
void vmc_virtio_blk_free(struct vmc_virtio_blk *blk);

/**
 * The device's transport (owned by the device).
 * @param blk the device
 * @return the transport; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_virtio *vmc_virtio_blk_get_virtio(struct vmc_virtio_blk *blk);

/**
 * The device's I/O region (owned by the device).
 * @param blk the device
 * @return the region; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_region *vmc_virtio_blk_get_region(struct vmc_virtio_blk *blk);

/**
 * Which I/O backend the device uses (never AUTO).
 * @param blk the device
 * @return VMC_VIRTIO_BLK_AIO_IO_URING or VMC_VIRTIO_BLK_AIO_THREADS;
 *         VMC_VIRTIO_BLK_AIO_AUTO for NULL
 * @thread any
 * @since 0.2
 */
enum vmc_virtio_blk_aio
vmc_virtio_blk_get_aio(const struct vmc_virtio_blk *blk);

/**
 * The capacity the device reports, in 512-byte sectors.
 * @param blk the device
 * @return the capacity; 0 for NULL
 * @thread any
 * @since 0.2
 */
uint64_t vmc_virtio_blk_get_capacity(const struct vmc_virtio_blk *blk);

VMC_END_DECLS

#endif
