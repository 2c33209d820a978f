/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-virtio.h
 * @brief The virtio layer: the virtio-mmio transport and split virtqueues,
 * on which every virtio device model stands.
 *
 * Objects.  A struct vmc_virtio is one virtio device on a virtio-mmio
 * transport: a 0x200-byte I/O region (map it where the board wants it),
 * its registers (virtio 1.2 §4.2.2, or the legacy layout of §4.2.4 when
 * created with @c legacy), device status, feature negotiation, the
 * configuration space with its generation counter, and @c num_queues split
 * virtqueues (struct vmc_virtq, virtio 1.2 §2.7).  The device model on top
 * supplies a struct vmc_virtio_ops: it is told when a queue is kicked and
 * when the driver resets the device, and it answers configuration space
 * accesses.
 *
 * Notifications.  Each queue's notification (a 32-bit write of the queue's
 * index to QueueNotify) is an ioeventfd with match data on the region:
 * KVM turns it into an in-kernel KVM_IOEVENTFD, the software dispatch of
 * tcg and harness signals it without calling the region.  Its handler runs
 * on the VM's loop with the VM lock held and calls @c queue_notify.
 * Interrupts go to the struct vmc_irq of the configuration: the line is
 * high while InterruptStatus is not zero (a used buffer notification sets
 * bit 0, a configuration change bit 1; the driver acknowledges them).
 * Interrupt delivery is one function inside the transport, so that an
 * irqfd can replace the line later without changing device models.
 *
 * Guest input.  Everything in a virtqueue is written by the guest.
 * vmc_virtq_pop() validates a descriptor chain completely before it
 * returns it: out-of-range heads and indices, loops and chains longer
 * than the queue, nested indirect tables, zero or wrapping lengths,
 * buffers that overlap, and addresses that are not entirely guest RAM (an
 * address over MMIO or a hole) are refused.  A refused chain puts the
 * device in DEVICE_NEEDS_RESET (status bit 0x40, with a configuration
 * change interrupt once the driver is up), reports the cause through
 * vmc_log(), and stops every queue until the driver resets the device.
 * Buffers are mapped with vmc_as_map(): the device reads and writes guest
 * RAM in place, never outside it.
 *
 * Threads.  Every function here is called with the device lock held
 * (see vmc_virtio_lock(); region callbacks, the VM's loop objects, reset
 * handlers and the callbacks of struct vmc_virtio_ops already run with
 * it), except vmc_virtio_new() and vmc_virtio_free(), which run on the
 * loop thread without it, and the getters marked @thread any.  The
 * device lock is the VM lock, unless the device has an I/O thread.
 *
 * I/O threads.  With @c iothread in the configuration, queue
 * notifications are handled on that thread's loop (vmc-iothread.h), and
 * @c queue_notify runs there with the device's own mutex held instead of
 * the VM lock: a device busy with its queues does not hold the VM lock,
 * so vCPUs and the VM's loop go on.  Register accesses (with the VM lock)
 * take the device mutex too, so the device model sees one lock either
 * way.  The interrupt line is set from the I/O thread directly when the
 * configuration says it may be (@c irq_any_thread: an irqfd line);
 * otherwise the change is deferred until @c queue_notify returns and set
 * with the VM lock taken just for that.  Lock order: VM lock, then device
 * mutex.  A device model's own loop objects (backend fds, completion
 * eventfds, bottom halves) belong on the same thread: it creates them on
 * the I/O thread's loop (through vmc_iothread_run_sync()) and takes the
 * device mutex in their callbacks with vmc_virtio_io_lock(), which defers
 * interrupt changes the same way.  The library's devices (blk, net,
 * console, rng, vsock) all work like this.  Snapshots: the transport's
 * section holds the device mutex from the start of every snapshot,
 * restore, clone, file save or load to its end (its quiesce() and
 * resume(), vmc-snapshot.h), so nothing on the I/O thread (a kick, a
 * frame, console bytes, a vsock packet, a disk completion) touches the
 * device or guest RAM between the device's section and the RAM copy;
 * virtio-blk also waits for its requests in flight and publishes them
 * then.  Backend input that arrives meanwhile waits in its fd.  An I/O
 * thread shared with other devices or VMs waits too, for as long as the
 * operation lasts.  Called on the device's I/O thread, these operations
 * fail with -EDEADLK.  (A VM reset resets each device under its mutex, one
 * after the other, as before.)  A model's own handlers may call
 * vmc_virtio_io_lock() from inside such an operation (with the VM lock
 * held): the mutex is already held for them.
 *
 * Byte order.  Modern devices are little endian.  Legacy devices use the
 * guest's byte order; the transport assumes a little-endian guest
 * (RISC-V, x86).
 */
#ifndef LIBVMCORE_VMC_VIRTIO_H
#define LIBVMCORE_VMC_VIRTIO_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_virtio;
struct vmc_virtq;
struct vmc_region;
struct vmc_iothread;

/** Size of a virtio-mmio transport's register window. */
#define VMC_VIRTIO_MMIO_SIZE 0x200
/** Vendor ID the transport reports by default: QEMU's ("QEMU"). */
#define VMC_VIRTIO_VENDOR_QEMU 0x554d4551u
/** Largest queue size a transport accepts (virtio 1.2 §2.7). */
#define VMC_VIRTQ_MAX_SIZE 32768

/** Device status bits (virtio 1.2 §2.1). */
enum vmc_virtio_status {
	VMC_VIRTIO_STATUS_ACKNOWLEDGE = 1, /**< guest found the device */
	VMC_VIRTIO_STATUS_DRIVER = 2,	   /**< guest has a driver */
	VMC_VIRTIO_STATUS_DRIVER_OK = 4,   /**< driver is ready */
	VMC_VIRTIO_STATUS_FEATURES_OK = 8, /**< features accepted */
	VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET = 64, /**< device broke */
	VMC_VIRTIO_STATUS_FAILED = 128,		   /**< driver gave up */
};

/** Transport and ring feature bits (numbers, virtio 1.2 §6). */
enum vmc_virtio_feature {
	VMC_VIRTIO_F_RING_INDIRECT_DESC = 28, /**< indirect descriptors */
	VMC_VIRTIO_F_RING_EVENT_IDX = 29,     /**< used_event/avail_event */
	VMC_VIRTIO_F_VERSION_1 = 32,	      /**< a modern (1.x) device */
};

/** One guest buffer of a descriptor chain, mapped into the host. */
struct vmc_virtio_buf {
	void *base; /**< host address of the buffer's first byte */
	size_t len; /**< its length in bytes (never 0) */
};

/**
 * A descriptor chain taken from a virtqueue by vmc_virtq_pop(): the
 * device-readable buffers (@c out, in chain order) and the device-writable
 * ones (@c in), mapped.  Owned by the device until vmc_virtq_push() or
 * vmc_virtq_elem_free().
 */
struct vmc_virtq_elem {
	unsigned int head;	    /**< the chain's head descriptor index */
	unsigned int out_num;	    /**< number of device-readable buffers */
	unsigned int in_num;	    /**< number of device-writable buffers */
	size_t out_len;		    /**< total bytes of @c out */
	size_t in_len;		    /**< total bytes of @c in */
	struct vmc_virtio_buf *out; /**< device-readable buffers */
	struct vmc_virtio_buf *in;  /**< device-writable buffers */
};

/**
 * What a device model does on top of the transport.  All callbacks are
 * optional and run with the device lock held: the VM lock, and with an
 * I/O thread the device mutex too (only the mutex for @c queue_notify).
 */
struct vmc_virtio_ops {
	/** sizeof(struct vmc_virtio_ops), so the struct can grow */
	size_t struct_size;
	/**
	 * The driver made buffers available on @p vq (a notification, or
	 * DRIVER_OK set with buffers already queued).  On the VM's loop
	 * thread, or on the I/O thread.
	 */
	void (*queue_notify)(void *opaque, struct vmc_virtq *vq);
	/**
	 * The device is being reset (the driver wrote 0 to Status, or the VM
	 * is reset): give back every element still held with
	 * vmc_virtq_elem_free() and forget the device's runtime state.  On
	 * whichever thread holds the VM lock (a vCPU thread, the loop).
	 */
	void (*reset)(void *opaque);
	/**
	 * Read @p size (1, 2 or 4) bytes of the configuration space at
	 * @p offset; return 0, or a negative errno for the access.
	 * Offsets beyond @c config_size read 0 without a call.
	 */
	int (*config_read)(void *opaque, uint64_t offset, unsigned int size,
			   uint64_t *value);
	/** Write the configuration space; see @c config_read. */
	int (*config_write)(void *opaque, uint64_t offset, unsigned int size,
			    uint64_t value);
	/** The driver changed the device status to @p status. */
	void (*status_changed)(void *opaque, uint8_t status);
};

/**
 * How to build a transport; initialise with vmc_virtio_config_init().
 */
struct vmc_virtio_config {
	size_t size;	     /**< sizeof(struct vmc_virtio_config) */
	struct vmc_vm *vm;   /**< the machine (lock, loop, memory) */
	struct vmc_irq *irq; /**< the interrupt line, or NULL */
	uint32_t device_id;  /**< virtio device ID (4: rng, ...) */
	uint32_t vendor_id;  /**< default VMC_VIRTIO_VENDOR_QEMU */
	/**
	 * Feature bits the device offers, VMC_VIRTIO_F_RING_* included if
	 * it wants them; the transport adds VMC_VIRTIO_F_VERSION_1 unless
	 * @c legacy.  A legacy device offers only bits 0-31.
	 */
	uint64_t features;
	unsigned int num_queues; /**< 1 to 64 */
	/** QueueNumMax: a power of 2, 1 to VMC_VIRTQ_MAX_SIZE; default 256 */
	unsigned int queue_max_size;
	size_t config_size; /**< bytes of config space, up to 0x100 */
	/** the legacy (version 1) register layout instead of version 2 */
	bool legacy;
	/** region name for dumps and logs; default "virtio-mmio" (copied) */
	const char *name;
	/** handle queue notifications on this I/O thread, or NULL (loop) */
	struct vmc_iothread *iothread;
	/**
	 * @c irq may be set from any thread without the VM lock (an irqfd
	 * line, vmc_kvm_irqfd_line_get_irq()); lets an I/O thread raise it
	 * at once
	 */
	bool irq_any_thread;
};

/**
 * Fill @p config with defaults (no VM, 256-entry queues, QEMU's vendor
 * ID, modern layout).
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.2
 */
void vmc_virtio_config_init(struct vmc_virtio_config *config);

/**
 * Create a virtio-mmio transport.  Map vmc_virtio_get_region() to make it
 * visible.  The transport registers a reset handler on the VM and an
 * ioeventfd per queue on its region.
 * @param config the transport's configuration
 * @param ops the device model's callbacks (copied)
 * @param opaque passed to @p ops
 * @param[out] ret the new transport
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, a struct size is too small, no VM,
 *         @c num_queues or @c queue_max_size out of range, or
 *         @c config_size above 0x100
 * @retval -EDEADLK called on @c iothread itself
 * @retval -ENOMEM out of memory
 * @retval -errno creating a notifier failed
 * @thread loop, without the VM lock
 * @since 0.2
 */
int vmc_virtio_new(const struct vmc_virtio_config *config,
		   const struct vmc_virtio_ops *ops, void *opaque,
		   struct vmc_virtio **ret);

/**
 * Take the device lock: the VM lock, and the device's mutex if it has an
 * I/O thread.  For code outside the device's callbacks (a host changing
 * the configuration space, say); callbacks already hold it.
 * @param dev the transport
 * @thread any, without the VM lock
 * @since 0.2
 */
void vmc_virtio_lock(struct vmc_virtio *dev);

/**
 * Release the device lock taken by vmc_virtio_lock().
 * @param dev the transport
 * @thread the thread that took it
 * @since 0.2
 */
void vmc_virtio_unlock(struct vmc_virtio *dev);

/**
 * Take the device lock for a device model's own work outside the
 * transport's callbacks: its fd handlers, bottom halves and completion
 * handlers on the device's loop, and host calls into the model (a link
 * change, say) from any thread.  With an I/O thread it is the device
 * mutex alone: changes of the interrupt line that need the VM lock (see
 * @c irq_any_thread) wait until vmc_virtio_io_unlock(), which takes the
 * VM lock just to make them.  Without an I/O thread it is the VM lock.
 * Not recursive.
 * @param dev the transport
 * @thread any, without the device lock (and, without an I/O thread,
 *         without the VM lock)
 * @since 0.2
 */
void vmc_virtio_io_lock(struct vmc_virtio *dev);

/**
 * Release the lock taken by vmc_virtio_io_lock() and deliver a deferred
 * interrupt change.
 * @param dev the transport
 * @thread the thread that took it
 * @since 0.2
 */
void vmc_virtio_io_unlock(struct vmc_virtio *dev);

/**
 * The I/O thread the transport's queue notifications run on.
 * @param dev the transport
 * @return the I/O thread; NULL for NULL or a transport on the VM's loop
 * @thread any
 * @since 0.2
 */
struct vmc_iothread *vmc_virtio_get_iothread(struct vmc_virtio *dev);

/**
 * Free a transport.  It runs @c ops->reset one last time (with the VM
 * lock), so the device model returns the elements it holds; no callback of
 * @c ops runs once this returns, and the device model frees its own state
 * afterwards.  The region may still be
 * mapped (it then reads 0), but the board should remove it.  NULL is
 * ignored.
 * @param dev the transport
 * @thread loop, without the VM lock
 * @since 0.2
 */
void vmc_virtio_free(struct vmc_virtio *dev);

/**
 * The transport's I/O region (VMC_VIRTIO_MMIO_SIZE bytes), owned by it.
 * @param dev the transport
 * @return the region; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_region *vmc_virtio_get_region(struct vmc_virtio *dev);

/**
 * Queue number @p index of the transport (no reference; it lives as long
 * as the transport).
 * @param dev the transport
 * @param index the queue's index
 * @return the queue; NULL for NULL or an index out of range
 * @thread any
 * @since 0.2
 */
struct vmc_virtq *vmc_virtio_get_queue(struct vmc_virtio *dev,
				       unsigned int index);

/**
 * The features the driver accepted (0 until it wrote them).
 * @param dev the transport
 * @return the driver's feature bits; 0 for NULL
 * @since 0.2
 */
uint64_t vmc_virtio_get_features(const struct vmc_virtio *dev);

/**
 * The device status as the driver reads it (DEVICE_NEEDS_RESET included).
 * @param dev the transport
 * @return the status; 0 for NULL
 * @since 0.2
 */
uint8_t vmc_virtio_get_status(const struct vmc_virtio *dev);

/** Counters of a transport, for hosts and tests (vmc_virtio_get_stats()). */
struct vmc_virtio_stats {
	size_t size; /**< sizeof(struct vmc_virtio_stats), set by the caller */
	/** queue notifications handled (signals coalesce) */
	uint64_t notifies;
	/**
	 * notifications that reached the QueueNotify register instead of
	 * the ioeventfd: each one an exit to the VMM with the VM lock (0 on
	 * KVM, where the kernel matches the ioeventfd)
	 */
	uint64_t notifies_trapped;
	/** rising edges of the interrupt line */
	uint64_t interrupts;
};

/**
 * Read the transport's counters.
 * @param dev the transport
 * @param[out] ret the counters; set @c ret->size first
 * @retval 0 success
 * @retval -EINVAL @p dev or @p ret is NULL, or @c ret->size is too small
 * @thread any
 * @since 0.2
 */
int vmc_virtio_get_stats(struct vmc_virtio *dev, struct vmc_virtio_stats *ret);

/**
 * Tell the driver that the configuration space changed: bump the
 * generation counter and, once the driver is up, raise a configuration
 * change interrupt.
 * @param dev the transport
 * @retval 0 success
 * @retval -EINVAL @p dev is NULL
 * @since 0.2
 */
int vmc_virtio_config_changed(struct vmc_virtio *dev);

/**
 * Put the device into DEVICE_NEEDS_RESET: every queue stops until the
 * driver resets the device, and the driver gets a configuration change
 * interrupt if it is up.  The transport does this itself for malformed
 * rings; a device model calls it for malformed requests.
 * @param dev the transport
 * @param reason why, for the log (copied into the message)
 * @retval 0 success
 * @retval -EINVAL @p dev or @p reason is NULL
 * @since 0.2
 */
int vmc_virtio_set_needs_reset(struct vmc_virtio *dev, const char *reason);

/**
 * The queue's index in its transport.
 * @param vq the queue
 * @return the index; 0 for NULL
 * @thread any
 * @since 0.2
 */
unsigned int vmc_virtq_get_index(const struct vmc_virtq *vq);

/**
 * Whether the driver has set the queue up and the device can use it (the
 * driver is ready and the device does not need a reset).
 * @param vq the queue
 * @return true when vmc_virtq_pop() may return buffers
 * @since 0.2
 */
bool vmc_virtq_is_ready(const struct vmc_virtq *vq);

/**
 * Take the next available descriptor chain, validated and mapped.  A
 * malformed chain or ring puts the device in DEVICE_NEEDS_RESET (see the
 * top of this file).  With VMC_VIRTIO_F_RING_EVENT_IDX, avail_event is
 * moved past the chain so that the driver notifies about the next one.
 * @param vq the queue
 * @param[out] ret the element; give it back with vmc_virtq_push() or
 *             vmc_virtq_elem_free()
 * @retval 1 an element was taken
 * @retval 0 no buffers are available (or the queue is not ready)
 * @retval -EINVAL @p vq or @p ret is NULL
 * @retval -EIO the device needs a reset (now or already)
 * @retval -ENOMEM out of memory (the chain stays available)
 * @since 0.2
 */
int vmc_virtq_pop(struct vmc_virtq *vq, struct vmc_virtq_elem **ret);

/**
 * Return a used element to the driver: write its used ring entry with
 * @p len bytes written (clipped to the element's @c in_len), publish it,
 * unmap its buffers and free it.  Call vmc_virtq_notify() afterwards.
 * @param vq the queue the element came from
 * @param elem the element
 * @param len bytes the device wrote into the @c in buffers
 * @retval 0 success
 * @retval -EINVAL @p vq or @p elem is NULL
 * @retval -EIO the queue was reset or broke meanwhile; the element is
 *         freed without being published
 * @since 0.2
 */
int vmc_virtq_push(struct vmc_virtq *vq, struct vmc_virtq_elem *elem,
		   uint32_t len);

/**
 * Unmap and free an element without returning it to the driver (on reset,
 * or when the device gives up).  NULL is ignored.
 * @param vq the queue the element came from
 * @param elem the element
 * @since 0.2
 */
void vmc_virtq_elem_free(struct vmc_virtq *vq, struct vmc_virtq_elem *elem);

/**
 * Send a used buffer notification if the driver wants one: unless it
 * suppressed them with VIRTQ_AVAIL_F_NO_INTERRUPT, or, with
 * VMC_VIRTIO_F_RING_EVENT_IDX, unless the used index has not passed
 * used_event since the last notification.
 * @param vq the queue
 * @retval 1 the interrupt was raised
 * @retval 0 the driver did not want one (or the queue is not ready)
 * @retval -EINVAL @p vq is NULL
 * @since 0.2
 */
int vmc_virtq_notify(struct vmc_virtq *vq);

/**
 * Copy up to @p len bytes from @p buf into an element's @c in buffers,
 * starting @p offset bytes into them.
 * @param elem the element
 * @param offset where in the @c in buffers to start
 * @param buf the bytes
 * @param len how many
 * @return the number of bytes copied (less when the buffers end)
 * @thread any
 * @since 0.2
 */
size_t vmc_virtq_elem_to_in(struct vmc_virtq_elem *elem, size_t offset,
			    const void *buf, size_t len);

/**
 * Copy up to @p len bytes out of an element's @c out buffers, starting
 * @p offset bytes into them.
 * @param elem the element
 * @param offset where in the @c out buffers to start
 * @param[out] buf receives the bytes
 * @param len how many
 * @return the number of bytes copied (less when the buffers end)
 * @thread any
 * @since 0.2
 */
size_t vmc_virtq_elem_from_out(const struct vmc_virtq_elem *elem, size_t offset,
			       void *buf, size_t len);

VMC_END_DECLS

#endif
