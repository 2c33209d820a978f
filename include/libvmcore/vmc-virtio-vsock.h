/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-virtio-vsock.h
 * @brief virtio-vsock in userspace (virtio device ID 19), bridged to Unix
 * sockets on the host the way sandbox runtimes do it (Firecracker's
 * "hybrid vsock").
 *
 * QEMU has vsock only as vhost-vsock, where the host kernel is the other
 * end.  This device is the other end itself: stream sockets
 * (VIRTIO_VSOCK_TYPE_STREAM) between the guest, whose CID is in the
 * configuration space, and the host (CID 2), each host side a Unix stream
 * socket:
 * - Host to guest: a host program connects to the Unix socket at
 *   @c uds_path, writes `CONNECT <port>\n`, and reads `OK <host port>\n`
 *   once the guest's listener on vsock port @c port accepted; from then on
 *   the Unix socket is a byte stream to the guest's socket.  If the guest
 *   refuses (nothing listens), the Unix socket is closed.
 * - Guest to host: a guest connecting to CID 2, port P reaches a program
 *   listening on the Unix socket `<uds_path>_P`; if nothing listens there,
 *   the guest's connect fails with ECONNRESET.
 *
 * Protocol (virtio 1.2 §5.10): REQUEST, RESPONSE, RST, SHUTDOWN, RW,
 * CREDIT_UPDATE and CREDIT_REQUEST, with credit-based flow control both
 * ways: the device never sends the guest more than the guest's advertised
 * buf_alloc minus what it has not yet consumed (fwd_cnt), and it takes at
 * most @c buf_alloc unforwarded bytes per connection from the guest,
 * buffering what the Unix socket cannot take yet.  A guest that exceeds
 * the credit it was given has its connection reset.
 *
 * Guest input.  Every header field is the guest's.  Packets with a source
 * CID other than the guest's are dropped; a wrong destination CID, a
 * socket type other than stream, an unknown operation, a length that
 * disagrees with the buffer or exceeds 64 KiB, or an operation that does
 * not fit the connection's state is answered with RST (and the
 * connection, if there is one, is closed).  Never RST for RST.  The
 * device keeps at most @c max_connections connections.
 *
 * Save and load.  Connections live in host sockets, which cannot be
 * saved.  vmc_virtio_vsock_save() keeps the device's own state (its CID);
 * vmc_virtio_vsock_load() restores it, closes every connection (the host
 * side sees its Unix socket closed) and posts a
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET event, upon which the guest's driver
 * resets every socket, as Firecracker does after a snapshot restore.
 *
 * Threads.  As vmc-virtio.h: the device's work (queues, the Unix
 * sockets' handlers, credit updates) runs on the VM's loop with the VM
 * lock held, or, with @c iothread (a libvmcore extension), on that I/O
 * thread with the device's own mutex: the listening socket, the hello
 * lines and every connection's socket are then polled on the I/O thread's
 * loop.  A device reset closes every connection (the sockets are closed
 * on the device's loop shortly after, when the reset came from another
 * thread).
 */
#ifndef LIBVMCORE_VMC_VIRTIO_VSOCK_H
#define LIBVMCORE_VMC_VIRTIO_VSOCK_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-virtio.h>

VMC_BEGIN_DECLS

struct vmc_virtio_vsock;

/** The host's CID (VMADDR_CID_HOST), where the guest's connections go. */
#define VMC_VSOCK_CID_HOST 2
/** Longest @c uds_path: room for `_4294967295` in a sockaddr_un. */
#define VMC_VSOCK_UDS_PATH_MAX 96

/**
 * How to build a virtio-vsock; initialise with
 * vmc_virtio_vsock_config_init().
 */
struct vmc_virtio_vsock_config {
	size_t size;	     /**< sizeof(struct vmc_virtio_vsock_config) */
	struct vmc_vm *vm;   /**< the machine */
	struct vmc_irq *irq; /**< the transport's interrupt line, or NULL */
	bool legacy;	     /**< virtio-mmio version 1 instead of 2 */
	/** the guest's CID: 3 to 0xfffffffe */
	uint64_t guest_cid;
	/**
	 * the Unix socket the device listens on (created; it must not
	 * exist, except as a socket file nobody listens on any more, which
	 * is replaced), and the prefix of `<uds_path>_P`; at most
	 * VMC_VSOCK_UDS_PATH_MAX bytes; copied
	 */
	const char *uds_path;
	/** receive buffer per connection, 4 KiB to 16 MiB; default 256 KiB */
	uint32_t buf_alloc;
	/** connections at most, 1 to 65536; default 1024 */
	unsigned int max_connections;
	/** run the device on this I/O thread, or NULL (since 0.2) */
	struct vmc_iothread *iothread;
	/** @c irq may be set from any thread (vmc_virtio_config) */
	bool irq_any_thread;
};

/**
 * Fill @p config with defaults (no CID, no path, 256 KiB buffers, 1024
 * connections, modern transport).
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.2
 */
void vmc_virtio_vsock_config_init(struct vmc_virtio_vsock_config *config);

/**
 * Create a virtio-vsock device on a virtio-mmio transport and start
 * listening on @c uds_path.  Map vmc_virtio_vsock_get_region() to make it
 * visible.
 * @param config the device's configuration
 * @param[out] ret the new device
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, bad size, no VM, a CID out of
 *         range, no path or one too long, @c buf_alloc or
 *         @c max_connections out of range
 * @retval -EADDRINUSE @c uds_path exists (a listening socket or another
 *         file)
 * @retval -EDEADLK called on @c iothread itself
 * @retval -ENOMEM out of memory
 * @retval -errno creating the socket, the transport or a handler failed
 * @thread loop, without the VM lock
 * @since 0.2
 */
int vmc_virtio_vsock_new(const struct vmc_virtio_vsock_config *config,
			 struct vmc_virtio_vsock **ret);

/**
 * Free the device: close every connection and the listening socket, and
 * remove @c uds_path (see vmc_virtio_free()).  NULL is ignored.
 * @param vs the device
 * @thread loop, without the VM lock
 * @since 0.2
 */
void vmc_virtio_vsock_free(struct vmc_virtio_vsock *vs);

/**
 * The device's transport (no reference; it lives as long as the device).
 * @param vs the device
 * @return the transport; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_virtio *vmc_virtio_vsock_get_virtio(struct vmc_virtio_vsock *vs);

/**
 * The device's virtio-mmio region (VMC_VIRTIO_MMIO_SIZE bytes).
 * @param vs the device
 * @return the region; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_region *vmc_virtio_vsock_get_region(struct vmc_virtio_vsock *vs);

/**
 * The number of connections the device holds (connecting, established or
 * closing).
 * @param vs the device
 * @return the count; 0 for NULL
 * @thread with the device lock (vmc_virtio_lock())
 * @since 0.2
 */
unsigned int vmc_virtio_vsock_get_connection_count(struct vmc_virtio_vsock *vs);

/** Bytes vmc_virtio_vsock_save() writes. */
#define VMC_VIRTIO_VSOCK_STATE_SIZE 16

/**
 * Save the device's own state (not its connections, not the transport's)
 * into @p buf.
 * @param vs the device
 * @param buf receives VMC_VIRTIO_VSOCK_STATE_SIZE bytes
 * @param len the size of @p buf
 * @retval VMC_VIRTIO_VSOCK_STATE_SIZE success
 * @retval -EINVAL @p vs or @p buf is NULL
 * @retval -ENOSPC @p len is too small
 * @thread with the device lock (vmc_virtio_lock())
 * @since 0.2
 */
int vmc_virtio_vsock_save(struct vmc_virtio_vsock *vs, void *buf, size_t len);

/**
 * Load state saved by vmc_virtio_vsock_save(): close every connection and
 * tell the guest's driver with a transport reset event (delivered as soon
 * as the driver has an event buffer queued).
 * @param vs the device
 * @param buf the saved state
 * @param len its size
 * @retval 0 success
 * @retval -EINVAL @p vs or @p buf is NULL, or the state is malformed
 *         (wrong size, version or CID); nothing changed
 * @thread with the device lock (vmc_virtio_lock())
 * @since 0.2
 */
int vmc_virtio_vsock_load(struct vmc_virtio_vsock *vs, const void *buf,
			  size_t len);

VMC_END_DECLS

#endif
