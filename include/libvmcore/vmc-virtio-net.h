/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-virtio-net.h
 * @brief virtio-net (QEMU's virtio-net-device, virtio device ID 1) and the
 * network backends behind it: TAP, datagram sockets (QEMU's
 * `-netdev dgram`) and stream sockets (QEMU's `-netdev stream`), or one
 * the host writes itself.
 *
 * The device.  One receive queue (0) and one transmit queue (1), 256
 * entries each by default, and QEMU's feature bits for what it implements:
 * VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS (link up or down, changed by the
 * host with vmc_virtio_net_set_link(), which raises a configuration change
 * interrupt), VIRTIO_NET_F_MRG_RXBUF (a frame spread over several receive
 * chains, counted in the header's num_buffers), VIRTIO_NET_F_MTU when the
 * host sets one, the ring's INDIRECT_DESC and EVENT_IDX, and for a legacy
 * transport VIRTIO_F_ANY_LAYOUT (headers may share a descriptor with the
 * frame, or span several; the device accepts any layout).  No checksum
 * or segmentation offload is offered, so every frame is a plain Ethernet
 * frame.  The header before each frame is 12 bytes with VIRTIO_F_VERSION_1
 * or MRG_RXBUF, else 10 (a legacy driver without mergeable buffers).  The
 * configuration space is mac[6], status, max_virtqueue_pairs (1) and, with
 * an MTU, mtu.  A legacy driver may write the MAC through it, as on QEMU.
 *
 * Transmit runs from the queue notification (the ioeventfd) on the VM's
 * loop: chains are taken under the VM lock, and each frame, header
 * stripped, goes to the backend without being copied and without the
 * lock held.  While the link is down transmitted frames are dropped (the
 * chains are returned), as on QEMU.
 *
 * Receive: the backend reads frames without the VM lock and hands them to
 * vmc_net_backend_receive(), which takes the lock only to copy the frame
 * into the guest's buffers.  A receive chain too short for a frame, without
 * mergeable buffers, is returned with length 0 and the frame dropped (the
 * driver counts a length error).  When the guest has no buffers (or has
 * no driver yet) the device keeps that one frame and answers -EAGAIN: the
 * backend stops reading until the device calls its @c rx_ready, on the
 * next notification of the receive queue.  The device drops nothing and
 * nothing spins while the guest is slow; frames wait in the backend's
 * kernel queue (which may overflow, as a NIC's FIFO does).
 *
 * Guest input.  A transmit chain without a whole header, a receive chain
 * without device-writable buffers, or (with mergeable buffers) a first
 * receive chain too short for the header puts the device in
 * DEVICE_NEEDS_RESET, as do the malformed chains vmc-virtio.h lists.
 *
 * State.  What a snapshot of the device must hold beyond its transport and
 * queues is the configuration (MAC, MTU, features offered), the link
 * state and the MAC a legacy driver may have written over the configured
 * one.  The first two come back through struct vmc_virtio_net_config and
 * vmc_virtio_net_set_link(); the third has no setter yet.  The library has
 * no device save/load sections yet (vmc-snapshot.h saves RAM and vCPUs
 * only); when it gets them, this device's section is those three things,
 * and a frame held for a full receive queue, or a transmit frame a backend
 * refused, is dropped rather than saved.
 *
 * Threads: as vmc-virtio.h, and as each function says.  "The device's
 * loop" is the VM's loop, or, with @c iothread (a libvmcore extension of
 * -device virtio-net-device: QEMU has no iothread for virtio-net), that
 * I/O thread's loop; "the device lock" is then the device's own mutex
 * (vmc_virtio_io_lock()) instead of the VM lock.  With an I/O thread the
 * library's backends (TAP, dgram, stream, including a stream server's
 * listening socket and the connections it accepts) are moved to the I/O
 * thread's loop while the device has them and back to the VM's loop when
 * it is freed; a host's own backend is called on the I/O thread and makes
 * its vmc_net_backend_receive() and vmc_net_backend_tx_ready() calls
 * there.  Receive backpressure is the same on either loop: a frame the
 * queue has no room for is held, the backend stops reading until @c
 * rx_ready, and the kernel's socket buffer holds the rest.
 */
#ifndef LIBVMCORE_VMC_VIRTIO_NET_H
#define LIBVMCORE_VMC_VIRTIO_NET_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-virtio.h>

VMC_BEGIN_DECLS

struct vmc_virtio_net;
struct vmc_net_backend;

/** Largest frame a backend passes or the device sends (bytes, no header). */
#define VMC_NET_MAX_FRAME 65536u
/** Length of a MAC address. */
#define VMC_NET_MAC_LEN 6

/** One piece of a frame. */
struct vmc_net_iov {
	const void *base; /**< its first byte */
	size_t len;	  /**< its length */
};

/* ------------------------------------------------------------------------
 * Backends
 */

/**
 * What a backend does for the device it is attached to.  The callbacks
 * run on the device's loop thread and must not block: @c send without the
 * device lock, @c rx_ready with it.  Neither may call vmc_net_backend_receive()
 * or vmc_net_backend_tx_ready() from inside.
 */
struct vmc_net_backend_ops {
	/** sizeof(struct vmc_net_backend_ops), so the struct can grow */
	size_t struct_size;
	/**
	 * Send one frame (@p iovcnt pieces, at most VMC_NET_MAX_FRAME bytes
	 * in all).  Return 0 when it was sent or dropped, or -EAGAIN when the
	 * backend cannot take it now: the device keeps the frame and sends it
	 * again after the backend calls vmc_net_backend_tx_ready().  The
	 * pieces point into guest memory: copy what must outlive the call.
	 */
	int (*send)(void *opaque, const struct vmc_net_iov *iov,
		    unsigned int iovcnt);
	/**
	 * The device can take frames again after vmc_net_backend_receive()
	 * answered -EAGAIN: resume reading.
	 */
	void (*rx_ready)(void *opaque);
	/** vmc_net_backend_free() was called: free @p opaque.  Optional. */
	void (*release)(void *opaque);
};

/**
 * Create a backend object around the host's own implementation.  Attach it
 * to a device through struct vmc_virtio_net_config.
 * @param ops the backend's callbacks (copied)
 * @param opaque passed to @p ops
 * @param[out] ret the new backend
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, the struct is too small, or @c send
 *         or @c rx_ready is NULL
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.2
 */
int vmc_net_backend_new(const struct vmc_net_backend_ops *ops, void *opaque,
			struct vmc_net_backend **ret);

/**
 * Free a backend: calls @c release, and for the library's backends closes
 * their sockets or TAP.  Free it after its device; freed first, it is
 * detached and the device drops what it sends.  NULL is ignored.
 * @param be the backend
 * @thread loop
 * @since 0.2
 */
void vmc_net_backend_free(struct vmc_net_backend *be);

/**
 * Hand a frame received from the network to the attached device.  The
 * frame is copied (into the guest's buffers, or kept by the device).
 * @param be the backend
 * @param iov the frame's pieces
 * @param iovcnt how many
 * @retval 0 delivered, or dropped (no device, link down, longer than
 *         VMC_NET_MAX_FRAME, or no room in a receive chain)
 * @retval -EAGAIN the device kept the frame but has no more room: stop
 *         reading until @c rx_ready
 * @retval -EINVAL @p be is NULL, or @p iov is NULL with @p iovcnt > 0
 * @thread the device's loop, without the device lock
 * @since 0.2
 */
int vmc_net_backend_receive(struct vmc_net_backend *be,
			    const struct vmc_net_iov *iov, unsigned int iovcnt);

/**
 * The backend can send again after its @c send answered -EAGAIN: the
 * device resumes transmitting.
 * @param be the backend
 * @retval 0 success
 * @retval -EINVAL @p be is NULL
 * @thread the device's loop, without the device lock
 * @since 0.2
 */
int vmc_net_backend_tx_ready(struct vmc_net_backend *be);

/**
 * The name of a TAP backend's interface ("tap0"), or NULL for another
 * kind of backend.
 * @param be the backend
 * @return the name, owned by @p be; NULL for NULL
 * @thread any
 * @since 0.2
 */
const char *vmc_net_backend_get_ifname(const struct vmc_net_backend *be);

/** Kinds of socket address, as QEMU's SocketAddress. */
enum vmc_net_addr_type {
	VMC_NET_ADDR_NONE = 0, /**< not given */
	VMC_NET_ADDR_INET = 1, /**< @c host and @c port */
	VMC_NET_ADDR_UNIX = 2, /**< @c path */
	VMC_NET_ADDR_FD = 3,   /**< an open socket @c fd (duplicated) */
	_VMC_NET_ADDR_MAX = 0x7fffffff
};

/** A socket address (strings are copied when the backend is made). */
struct vmc_net_addr {
	enum vmc_net_addr_type type; /**< which fields count */
	const char *host;	     /**< INET: name or numeric address */
	const char *port;	     /**< INET: port number or service */
	const char *path;	     /**< UNIX: socket path */
	int fd;			     /**< FD: the socket */
};

/**
 * How to make a TAP backend; initialise with vmc_net_tap_config_init().
 */
struct vmc_net_tap_config {
	size_t size;	   /**< sizeof(struct vmc_net_tap_config) */
	struct vmc_vm *vm; /**< the machine whose loop serves the backend */
	/** the interface to create or attach to, or NULL: the kernel names it
	 */
	const char *ifname;
	/** an open TAP fd (IFF_TAP | IFF_NO_PI) to use, duplicated; or -1 */
	int fd;
};

/**
 * Fill @p config with defaults (no VM, no name, no fd).
 * @param config the configuration; NULL is ignored
 * @thread any
 * @since 0.2
 */
void vmc_net_tap_config_init(struct vmc_net_tap_config *config);

/**
 * Open /dev/net/tun and create (or attach to) a TAP interface with
 * IFF_TAP | IFF_NO_PI, non-blocking and close-on-exec, served on the VM's
 * loop.  The interface is left down; bringing it up and addressing it is
 * the host's business (QEMU's script=no).
 * @param config the configuration
 * @param[out] ret the new backend
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, the struct is too small, no VM, or
 *         @c ifname is too long
 * @retval -EBADF @c fd is not open
 * @retval -EPERM, -EACCES no right to create the interface (CAP_NET_ADMIN)
 * @retval -ENOENT no /dev/net/tun
 * @retval -ENOMEM out of memory
 * @retval -errno opening or configuring the device failed
 * @thread loop
 * @since 0.2
 */
int vmc_net_tap_new(const struct vmc_net_tap_config *config,
		    struct vmc_net_backend **ret);

/**
 * How to make a datagram backend (QEMU's `-netdev dgram`); initialise with
 * vmc_net_dgram_config_init().  One frame per datagram, no framing.
 * Supported: @c local INET with an optional @c remote INET (UDP), @c local
 * UNIX with an optional @c remote UNIX (datagram sockets), @c local FD, and
 * @c remote INET alone (the kernel picks the local port).  Without a
 * remote, frames the guest sends go to a connected FD's peer (one end of
 * a socketpair(), say) or are dropped.  Multicast is not supported.
 */
struct vmc_net_dgram_config {
	size_t size;		   /**< sizeof(struct vmc_net_dgram_config) */
	struct vmc_vm *vm;	   /**< the machine */
	struct vmc_net_addr local; /**< the address to bind */
	/** where frames go */
	struct vmc_net_addr remote;
};

/**
 * Fill @p config with defaults (no addresses).
 * @param config the configuration; NULL is ignored
 * @thread any
 * @since 0.2
 */
void vmc_net_dgram_config_init(struct vmc_net_dgram_config *config);

/**
 * Create a datagram backend.
 * @param config the configuration
 * @param[out] ret the new backend
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, the struct is too small, no VM, or
 *         an address combination QEMU refuses too (no addresses, FD as
 *         remote, mixed families, missing fields)
 * @retval -EOPNOTSUPP a multicast remote
 * @retval -EBADF an FD address is not an open socket
 * @retval -errno resolving, creating or binding the socket failed
 *         (-EADDRINUSE, -ENOENT for an unknown host...)
 * @thread loop
 * @since 0.2
 */
int vmc_net_dgram_new(const struct vmc_net_dgram_config *config,
		      struct vmc_net_backend **ret);

/**
 * How to make a stream backend (QEMU's `-netdev stream`); initialise with
 * vmc_net_stream_config_init().  Each frame travels as a 4-byte big-endian
 * length and the frame, as QEMU's.  A server listens on @c addr and serves
 * one client at a time (it accepts the next once the previous one hangs
 * up); a client connects before vmc_net_stream_new() returns and does not
 * reconnect.  While no peer is connected, frames the guest sends are
 * dropped.
 */
struct vmc_net_stream_config {
	size_t size;		  /**< sizeof(struct vmc_net_stream_config) */
	struct vmc_vm *vm;	  /**< the machine */
	bool server;		  /**< listen instead of connecting */
	struct vmc_net_addr addr; /**< INET, UNIX or (a connected) FD */
};

/**
 * Fill @p config with defaults (a client, no address).
 * @param config the configuration; NULL is ignored
 * @thread any
 * @since 0.2
 */
void vmc_net_stream_config_init(struct vmc_net_stream_config *config);

/**
 * Create a stream backend.
 * @param config the configuration
 * @param[out] ret the new backend
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, the struct is too small, no VM, or
 *         an address with missing fields (or FD for a server)
 * @retval -EBADF an FD address is not an open socket
 * @retval -ECONNREFUSED, -errno connecting, listening or resolving failed
 * @thread loop
 * @since 0.2
 */
int vmc_net_stream_new(const struct vmc_net_stream_config *config,
		       struct vmc_net_backend **ret);

/**
 * Whether a stream backend has a peer now (a server's accepted client, a
 * client's connection until the server hangs up); datagram and TAP
 * backends always do, a host's backend never.
 * @param be the backend
 * @return true when connected
 * @thread any
 * @since 0.2
 */
bool vmc_net_backend_is_connected(const struct vmc_net_backend *be);

/* ------------------------------------------------------------------------
 * The device
 */

/** How to build a virtio-net; initialise with vmc_virtio_net_config_init(). */
struct vmc_virtio_net_config {
	size_t size;	     /**< sizeof(struct vmc_virtio_net_config) */
	struct vmc_vm *vm;   /**< the machine */
	struct vmc_irq *irq; /**< the transport's interrupt line, or NULL */
	bool legacy;	     /**< virtio-mmio version 1 instead of 2 */
	/** the MAC address; default 52:54:00:12:34:56 (QEMU's first) */
	uint8_t mac[VMC_NET_MAC_LEN];
	/** offer VIRTIO_NET_F_MRG_RXBUF (default true, as QEMU) */
	bool mrg_rxbuf;
	/** offer VIRTIO_NET_F_MTU with this MTU (68 to 65535), or 0 */
	unsigned int mtu;
	/** start with the link down */
	bool link_down;
	/** entries per queue: a power of 2 from 8 to 1024; default 256 */
	unsigned int queue_size;
	/**
	 * the backend, or NULL (frames sent are dropped); not owned: free
	 * it after the device.  One device per backend.
	 */
	struct vmc_net_backend *backend;
	/**
	 * run the queues and the backend on this I/O thread, or NULL for
	 * the VM's loop (since 0.2; see vmc_virtio_config)
	 */
	struct vmc_iothread *iothread;
	/** @c irq may be set from any thread (vmc_virtio_config) */
	bool irq_any_thread;
};

/**
 * Fill @p config with defaults (QEMU's first MAC, mergeable buffers, no
 * MTU, link up, 256 entries, no backend, modern transport).
 * @param config the configuration; NULL is ignored
 * @thread any
 * @since 0.2
 */
void vmc_virtio_net_config_init(struct vmc_virtio_net_config *config);

/**
 * Create a virtio-net device on a virtio-mmio transport and attach its
 * backend.  Map vmc_virtio_net_get_region() to make it visible.
 * @param config the configuration
 * @param[out] ret the new device
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, the struct is too small, no VM, a
 *         multicast MAC, @c mtu or @c queue_size out of range
 * @retval -EBUSY the backend serves another device already
 * @retval -EDEADLK called on @c iothread itself
 * @retval -ENOMEM out of memory
 * @retval -errno creating the transport failed
 * @thread loop, without the VM lock
 * @since 0.2
 */
int vmc_virtio_net_new(const struct vmc_virtio_net_config *config,
		       struct vmc_virtio_net **ret);

/**
 * Free the device and detach it from its backend (which stays the
 * caller's).  Remove its region from the memory map first.  NULL is
 * ignored.
 * @param net the device
 * @thread loop, without the VM lock
 * @since 0.2
 */
void vmc_virtio_net_free(struct vmc_virtio_net *net);

/**
 * The device's transport (owned by the device).
 * @param net the device
 * @return the transport; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_virtio *vmc_virtio_net_get_virtio(struct vmc_virtio_net *net);

/**
 * The device's I/O region (owned by the device).
 * @param net the device
 * @return the region; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_region *vmc_virtio_net_get_region(struct vmc_virtio_net *net);

/**
 * Set the link up or down (QEMU's set_link).  A change updates the status
 * field and raises a configuration change interrupt once the driver is up;
 * while down, frames are dropped both ways.
 * @param net the device
 * @param up the new link state
 * @retval 0 success
 * @retval -EINVAL @p net is NULL
 * @thread any, without the VM lock
 * @since 0.2
 */
int vmc_virtio_net_set_link(struct vmc_virtio_net *net, bool up);

/**
 * The link state.
 * @param net the device
 * @return true when up; false for NULL
 * @thread any
 * @since 0.2
 */
bool vmc_virtio_net_get_link(struct vmc_virtio_net *net);

/**
 * The MAC address the device reports now (a legacy driver may have
 * written it).
 * @param net the device
 * @param[out] mac receives VMC_NET_MAC_LEN bytes
 * @retval 0 success
 * @retval -EINVAL an argument is NULL
 * @thread any, without the VM lock
 * @since 0.2
 */
int vmc_virtio_net_get_mac(struct vmc_virtio_net *net,
			   uint8_t mac[VMC_NET_MAC_LEN]);

VMC_END_DECLS

#endif
