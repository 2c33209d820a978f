/* SPDX-License-Identifier: MIT */
/*
 * virtio-net: Ethernet frames between the guest's queues and a backend.
 *
 * Threads and the device lock.  The device lock is the VM lock, or the
 * device mutex with an I/O thread (vmc_virtio_io_lock()); "the loop" is
 * the device's loop: the VM's, or the I/O thread's.  Queue notifications
 * and reset run with the device lock held (notifications on the loop,
 * reset on whichever thread holds the lock).  The work bottom half
 * (transmit, and a frame held over a link change) is a plain bottom half
 * on the loop: it takes the lock itself, so that the backend's send runs
 * without it.  The backend calls vmc_net_backend_receive() and
 * vmc_net_backend_tx_ready() on the loop thread without the lock, after
 * its own read() or poll; they take the lock only for the guest-memory
 * part.  The library's backends move to the device's loop while attached
 * (vmc_net_backend's @move), so their fds are polled on the I/O thread.
 *
 * Receive.  A frame handed over is copied straight into as many receive
 * chains as it needs, and into @held only when it has to wait for more.
 * @rx_elems and @rx_off keep the progress of a frame that ran out of
 * chains half-way (mergeable buffers), so nothing has to be given back to
 * the ring: the rest follows on the next notification, and only then are
 * the chains published, num_buffers written first.  While a frame is
 * held, the backend is stopped (@rx_stopped) and is told to resume
 * (@c rx_ready) once the frame is in.
 *
 * Transmit.  A notification schedules the work bottom half, which takes
 * batches of chains under the lock, sends them without it, and returns
 * them under it; TX_BURST chains per run, then the bottom half again, so
 * the loop stays fair.  Frames the backend cannot take (-EAGAIN) stay in
 * @tx_held, in order, until vmc_net_backend_tx_ready().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-virtio-net.h>

#include "net-internal.h"
#include "virtio-internal.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
/* Transport bit: headers need no descriptor of their own (legacy). */
#define VIRTIO_F_ANY_LAYOUT 27

#define VIRTIO_NET_S_LINK_UP 1u

#define RXQ 0
#define TXQ 1
#define TX_BURST 256
#define TX_BATCH 64
/* Pieces of one frame (a queue of 1024 and an indirect table of 1024). */
#define TX_MAX_PIECES 2048
#define HDR_MAX 12

struct vmc_virtio_net {
	struct vmc_vm *vm;
	struct vmc_iothread *iothread; /* or NULL: the VM's loop */
	int setup_err;
	struct vmc_virtio *vdev;
	struct vmc_net_backend *be;
	struct vmc_bh *work; /* more transmit, or a link change */
	unsigned int queue_size;
	unsigned int mtu;
	uint8_t conf_mac[VMC_NET_MAC_LEN];

	/* Under the VM lock. */
	uint8_t mac[VMC_NET_MAC_LEN];
	bool link_up;

	/* Receive, under the VM lock. */
	uint8_t *held;		       /* VMC_NET_MAX_FRAME bytes */
	const struct vmc_net_iov *src; /* the frame, during receive only */
	unsigned int src_cnt;
	size_t held_len;
	bool has_held;
	bool rx_stopped; /* the backend waits for rx_ready */
	uint8_t rx_hdr[HDR_MAX];
	size_t rx_off; /* bytes of header + frame placed so far */
	struct vmc_virtq_elem **rx_elems;
	uint32_t *rx_lens;
	unsigned int rx_nelem;

	/* Transmit, under the VM lock. */
	struct vmc_virtq_elem *tx_held[TX_BATCH]; /* refused by the backend */
	unsigned int tx_nheld;
	bool tx_waiting; /* for vmc_net_backend_tx_ready() */
	uint32_t resets; /* device resets so far */

	/* Loop thread only. */
	bool tx_busy; /* tx_run() is sending */
	struct vmc_net_iov tx_iov[TX_MAX_PIECES];
};

/*
 * The device lock from the model's own code: the VM lock, or the device
 * mutex with an I/O thread (vmc_virtio_io_lock()).
 */
static void lock(struct vmc_virtio_net *net)
{
	vmc_virtio_io_lock(net->vdev);
}

static void unlock(struct vmc_virtio_net *net)
{
	vmc_virtio_io_unlock(net->vdev);
}

static size_t hdr_len(const struct vmc_virtio_net *net)
{
	uint64_t f = vmc_virtio_get_features(net->vdev);

	if (f &
	    (1ull << VMC_VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MRG_RXBUF))
		return 12;
	return 10;
}

static bool mergeable(const struct vmc_virtio_net *net)
{
	return vmc_virtio_get_features(net->vdev) &
	       (1ull << VIRTIO_NET_F_MRG_RXBUF);
}

static struct vmc_virtq *queue(struct vmc_virtio_net *net, unsigned int i)
{
	return vmc_virtio_get_queue(net->vdev, i);
}

/* ------------------------------------------------------------------------
 * Receive
 */

/*
 * Forget the held frame.  Chains it had taken go back to the driver
 * empty (it counts length errors and reuses them), except on reset, when
 * nothing may be published.
 */
static void rx_drop_held(struct vmc_virtio_net *net, bool give_back)
{
	struct vmc_virtq *vq = queue(net, RXQ);

	for (unsigned int i = 0; i < net->rx_nelem; i++) {
		if (give_back)
			vmc_virtq_push(vq, net->rx_elems[i], 0);
		else
			vmc_virtq_elem_free(vq, net->rx_elems[i]);
	}
	if (give_back && net->rx_nelem)
		vmc_virtq_notify(vq);
	net->rx_nelem = 0;
	net->rx_off = 0;
	net->has_held = false;
}

/*
 * Copy frame bytes [@from, @from + @n) to @e's in buffers at @to: from
 * the backend's pieces while vmc_net_backend_receive() runs (@src), from
 * @held once the frame had to wait.
 */
static void frame_to_in(struct vmc_virtio_net *net, struct vmc_virtq_elem *e,
			size_t to, size_t from, size_t n)
{
	if (!net->src) {
		vmc_virtq_elem_to_in(e, to, net->held + from, n);
		return;
	}
	for (unsigned int i = 0; i < net->src_cnt && n; i++) {
		const struct vmc_net_iov *v = &net->src[i];
		size_t k;

		if (from >= v->len) {
			from -= v->len;
			continue;
		}
		k = v->len - from < n ? v->len - from : n;
		vmc_virtq_elem_to_in(e, to, (const uint8_t *)v->base + from, k);
		to += k;
		n -= k;
		from = 0;
	}
}

/* Copy header + frame bytes [@from, @from + @n) into @e's in buffers. */
static void rx_copy(struct vmc_virtio_net *net, struct vmc_virtq_elem *e,
		    size_t from, size_t n)
{
	size_t hl = hdr_len(net), to = 0;

	if (from < hl) {
		size_t k = hl - from < n ? hl - from : n;

		vmc_virtq_elem_to_in(e, 0, net->rx_hdr + from, k);
		from += k;
		to += k;
		n -= k;
	}
	if (n)
		frame_to_in(net, e, to, from - hl, n);
}

/* A chain the receive queue may use, or NULL (none, or the device broke). */
static struct vmc_virtq_elem *rx_pop(struct vmc_virtio_net *net, bool first)
{
	struct vmc_virtq *vq = queue(net, RXQ);
	struct vmc_virtq_elem *e = NULL;

	if (vmc_virtq_pop(vq, &e) <= 0)
		return NULL;
	if (!e->in_num) {
		vmc_virtq_elem_free(vq, e);
		vmc_virtio_set_needs_reset(net->vdev, "virtio-net: receive "
						      "chain without writable "
						      "buffers");
		return NULL;
	}
	if (first && mergeable(net) && e->in_len < hdr_len(net)) {
		vmc_virtq_elem_free(vq, e);
		vmc_virtio_set_needs_reset(net->vdev, "virtio-net: receive "
						      "header not in the "
						      "first buffer");
		return NULL;
	}
	return e;
}

/*
 * Put the held frame into the guest's buffers.  True when it is gone
 * (delivered or dropped); false when it waits for buffers.
 */
static bool rx_flush(struct vmc_virtio_net *net)
{
	struct vmc_virtq *vq = queue(net, RXQ);
	size_t hl = hdr_len(net), total;
	struct vmc_virtq_elem *e;

	if (!net->has_held)
		return true;
	if (!net->link_up) {
		rx_drop_held(net, true);
		return true;
	}
	if (!vmc_virtq_is_ready(vq))
		return false;
	total = hl + net->held_len;
	if (net->rx_off == 0 && net->rx_nelem == 0)
		memset(net->rx_hdr, 0, sizeof(net->rx_hdr));

	if (!mergeable(net)) {
		e = rx_pop(net, true);
		if (!e)
			return false;
		if (e->in_len < total) {
			/* Too short: the driver sees a length error. */
			vmc_log(VMC_LOG_DEBUG,
				"virtio-net: %zu-byte frame dropped: "
				"receive buffer of %zu bytes",
				net->held_len, e->in_len);
			vmc_virtq_push(vq, e, 0);
		} else {
			if (hl == 12)
				net->rx_hdr[10] = 1; /* num_buffers */
			rx_copy(net, e, 0, total);
			vmc_virtq_push(vq, e, (uint32_t)total);
		}
		vmc_virtq_notify(vq);
		net->has_held = false;
		return true;
	}

	while (net->rx_off < total) {
		size_t n;

		if (net->rx_nelem == net->queue_size) {
			/* More chains than the ring holds: a lying driver. */
			vmc_virtio_set_needs_reset(net->vdev,
						   "virtio-net: receive queue "
						   "returned more chains than "
						   "it has");
			return false;
		}
		e = rx_pop(net, net->rx_nelem == 0);
		if (!e)
			return false;
		n = total - net->rx_off < e->in_len ? total - net->rx_off
						    : e->in_len;
		net->rx_elems[net->rx_nelem] = e;
		net->rx_lens[net->rx_nelem] = (uint32_t)n;
		net->rx_nelem++;
		/* The header goes last: num_buffers is known only then. */
		if (net->rx_off == 0)
			frame_to_in(net, e, hl, 0, n - hl);
		else
			frame_to_in(net, e, 0, net->rx_off - hl, n);
		net->rx_off += n;
	}
	net->rx_hdr[10] = (uint8_t)net->rx_nelem;
	net->rx_hdr[11] = (uint8_t)(net->rx_nelem >> 8);
	vmc_virtq_elem_to_in(net->rx_elems[0], 0, net->rx_hdr, hl);
	for (unsigned int i = 0; i < net->rx_nelem; i++)
		vmc_virtq_push(vq, net->rx_elems[i], net->rx_lens[i]);
	vmc_virtq_notify(vq);
	net->rx_nelem = 0;
	net->rx_off = 0;
	net->has_held = false;
	return true;
}

/* After buffers came (or the frame went): let the backend read again. */
static void rx_resume(struct vmc_virtio_net *net)
{
	if (!rx_flush(net) || !net->rx_stopped)
		return;
	net->rx_stopped = false;
	if (net->be)
		net->be->ops.rx_ready(net->be->opaque);
}

VMC_EXPORT int vmc_net_backend_receive(struct vmc_net_backend *be,
				       const struct vmc_net_iov *iov,
				       unsigned int iovcnt)
{
	struct vmc_virtio_net *net;
	size_t total = 0, off = 0;
	int r = 0;

	VMC_CHECK_RETURN(be && (iov || !iovcnt), -EINVAL);
	for (unsigned int i = 0; i < iovcnt; i++) {
		if (iov[i].len > VMC_NET_MAX_FRAME - total)
			return 0; /* too long: dropped */
		total += iov[i].len;
	}
	net = be->peer;
	if (!net)
		return 0;
	lock(net);
	if (net->has_held || net->rx_stopped) {
		/* The backend should have stopped: this one is lost. */
		r = -EAGAIN;
		goto out;
	}
	if (!net->link_up)
		goto out;
	/* Straight from the backend's pieces; kept only if it must wait. */
	net->src = iov;
	net->src_cnt = iovcnt;
	net->held_len = total;
	net->has_held = true;
	net->rx_off = 0;
	net->rx_nelem = 0;
	if (!rx_flush(net)) {
		for (unsigned int i = 0; i < iovcnt; i++) {
			memcpy(net->held + off, iov[i].base, iov[i].len);
			off += iov[i].len;
		}
		net->rx_stopped = true;
		r = -EAGAIN;
	}
	net->src = NULL;
out:
	unlock(net);
	return r;
}

/* ------------------------------------------------------------------------
 * Transmit
 */

/*
 * Take up to TX_BATCH chains to send: first those a backend refused
 * before, then new ones.  Chains that go nowhere (link down, no backend,
 * too long) are returned at once; a chain without a whole header breaks
 * the device.  VM lock held.
 */
static unsigned int tx_collect(struct vmc_virtio_net *net,
			       struct vmc_virtq_elem **batch, unsigned int max,
			       bool *pushed)
{
	struct vmc_virtq *vq = queue(net, TXQ);
	size_t hl = hdr_len(net);
	unsigned int n = net->tx_nheld, pops = 0;

	memcpy(batch, net->tx_held, n * sizeof(*batch));
	net->tx_nheld = 0;
	while (n < max && pops++ < max) {
		struct vmc_virtq_elem *e;

		if (vmc_virtq_pop(vq, &e) <= 0)
			break;
		if (e->out_len < hl) {
			vmc_virtq_elem_free(vq, e);
			vmc_virtio_set_needs_reset(net->vdev,
						   "virtio-net: transmit chain "
						   "shorter than its header");
			break;
		}
		if (!net->link_up || !net->be ||
		    e->out_len - hl > VMC_NET_MAX_FRAME ||
		    e->out_num > TX_MAX_PIECES) {
			vmc_virtq_push(vq, e, 0);
			*pushed = true;
			continue;
		}
		batch[n++] = e;
	}
	return n;
}

/* The frame of @e, after its @hl-byte header, as pieces in @iov. */
static unsigned int tx_pieces(const struct vmc_virtq_elem *e, size_t hl,
			      struct vmc_net_iov *iov)
{
	unsigned int n = 0;
	size_t skip = hl;

	for (unsigned int i = 0; i < e->out_num; i++) {
		const struct vmc_virtio_buf *b = &e->out[i];

		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		iov[n].base = (const uint8_t *)b->base + skip;
		iov[n].len = b->len - skip;
		skip = 0;
		n++;
	}
	return n;
}

/*
 * Send what the transmit queue holds, TX_BURST chains at most (the work
 * bottom half does the rest).  On the loop thread without the VM lock:
 * chains are taken and returned under the lock, the backend's send runs
 * without it.  A reset meanwhile (@resets changed) cannot reach the
 * batch, which this function owns; the virtqueue layer refuses to publish
 * its stale elements afterwards, so they are only freed.
 */
static void tx_run(struct vmc_virtio_net *net)
{
	struct vmc_virtq *vq = queue(net, TXQ);
	struct vmc_virtq_elem *batch[TX_BATCH];
	unsigned int budget = TX_BURST;

	if (net->tx_busy)
		return; /* tx_ready from inside send: the loop below goes on */
	net->tx_busy = true;
	lock(net);
	while (budget && !net->tx_waiting && vmc_virtq_is_ready(vq)) {
		bool pushed = false;
		size_t hl = hdr_len(net);
		uint32_t resets = net->resets;
		unsigned int n, sent = 0;

		n = tx_collect(net, batch, TX_BATCH, &pushed);
		budget = budget > TX_BATCH ? budget - TX_BATCH : 0;
		if (n) {
			unlock(net);
			for (; sent < n; sent++) {
				unsigned int k =
					tx_pieces(batch[sent], hl, net->tx_iov);

				if (net->be->ops.send(net->be->opaque,
						      net->tx_iov,
						      k) == -EAGAIN)
					break;
			}
			lock(net);
		}
		if (net->resets != resets) {
			for (unsigned int i = 0; i < n; i++)
				vmc_virtq_elem_free(vq, batch[i]);
			continue;
		}
		for (unsigned int i = 0; i < sent; i++)
			vmc_virtq_push(vq, batch[i], 0);
		if (sent < n) {
			/* Kept in order for vmc_net_backend_tx_ready(). */
			memcpy(net->tx_held, batch + sent,
			       (n - sent) * sizeof(*batch));
			net->tx_nheld = n - sent;
			net->tx_waiting = true;
		}
		if (pushed || sent)
			vmc_virtq_notify(vq);
		if (!n && !pushed)
			break;
	}
	if (!budget)
		vmc_bh_schedule(net->work);
	unlock(net);
	net->tx_busy = false;
}

VMC_EXPORT int vmc_net_backend_tx_ready(struct vmc_net_backend *be)
{
	struct vmc_virtio_net *net;

	VMC_CHECK_RETURN(be, -EINVAL);
	net = be->peer;
	if (!net)
		return 0;
	lock(net);
	net->tx_waiting = false;
	unlock(net);
	tx_run(net);
	return 0;
}

/* ------------------------------------------------------------------------
 * The transport's callbacks
 */

static void net_notify(void *opaque, struct vmc_virtq *vq)
{
	struct vmc_virtio_net *net = opaque;

	if (vmc_virtq_get_index(vq) == RXQ)
		rx_resume(net);
	else
		vmc_bh_schedule(net->work); /* sends without the VM lock */
}

/* On the loop thread, without the VM lock. */
static void work_cb(struct vmc_bh *bh, void *userdata)
{
	struct vmc_virtio_net *net = userdata;

	lock(net);
	rx_resume(net);
	unlock(net);
	tx_run(net);
}

static void net_reset(void *opaque)
{
	struct vmc_virtio_net *net = opaque;

	rx_drop_held(net, false);
	for (unsigned int i = 0; i < net->tx_nheld; i++)
		vmc_virtq_elem_free(queue(net, TXQ), net->tx_held[i]);
	net->tx_nheld = 0;
	net->tx_waiting = false;
	net->resets++;
	/* As QEMU: the MAC a legacy driver wrote does not survive. */
	memcpy(net->mac, net->conf_mac, VMC_NET_MAC_LEN);
}

static void config_bytes(struct vmc_virtio_net *net, uint8_t c[12])
{
	uint16_t status = net->link_up ? VIRTIO_NET_S_LINK_UP : 0;

	memcpy(c, net->mac, VMC_NET_MAC_LEN);
	c[6] = (uint8_t)status;
	c[7] = (uint8_t)(status >> 8);
	c[8] = 1; /* max_virtqueue_pairs */
	c[9] = 0;
	c[10] = (uint8_t)net->mtu;
	c[11] = (uint8_t)(net->mtu >> 8);
}

static int net_config_read(void *opaque, uint64_t offset, unsigned int size,
			   uint64_t *value)
{
	uint8_t c[12];

	config_bytes(opaque, c);
	*value = 0;
	for (unsigned int i = 0; i < size && offset + i < sizeof(c); i++)
		*value |= (uint64_t)c[offset + i] << 8 * i;
	return 0;
}

static int net_config_write(void *opaque, uint64_t offset, unsigned int size,
			    uint64_t value)
{
	struct vmc_virtio_net *net = opaque;

	/* Only a legacy driver may set the MAC through config space. */
	if (vmc_virtio_get_features(net->vdev) &
	    (1ull << VMC_VIRTIO_F_VERSION_1))
		return 0;
	for (unsigned int i = 0; i < size; i++)
		if (offset + i < VMC_NET_MAC_LEN)
			net->mac[offset + i] = (uint8_t)(value >> 8 * i);
	return 0;
}

/* ------------------------------------------------------------------------
 * Life
 */

/* The work bottom half, made and freed on the loop (vmc__virtio_run_on()). */
static void work_new(void *opaque)
{
	struct vmc_virtio_net *net = opaque;
	struct vmc_loop *loop = net->iothread
					? vmc_iothread_get_loop(net->iothread)
					: vmc_vm_get_loop(net->vm);

	net->setup_err = vmc_bh_new(loop, work_cb, net, &net->work);
}

static void work_free(void *opaque)
{
	struct vmc_virtio_net *net = opaque;

	vmc_bh_free(net->work);
	net->work = NULL;
}

static void backend_detach(void *opaque)
{
	struct vmc_net_backend *be = opaque;
	struct vmc_virtio_net *net = be->peer;

	lock(net);
	net->be = NULL;
	unlock(net);
}

/* Take the backend to @to's loop (NULL: the VM's), if it can move. */
static int backend_move(struct vmc_net_backend *be, struct vmc_iothread *to)
{
	if (!be || !be->move)
		return 0;
	return be->move(be->opaque, to);
}

VMC_EXPORT void vmc_virtio_net_config_init(struct vmc_virtio_net_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_virtio_net_config){
		.size = sizeof(*c),
		.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
		.mrg_rxbuf = true,
		.queue_size = 256,
	};
}

VMC_EXPORT int vmc_virtio_net_new(const struct vmc_virtio_net_config *config,
				  struct vmc_virtio_net **ret)
{
	static const struct vmc_virtio_ops ops = {
		.struct_size = sizeof(ops),
		.queue_notify = net_notify,
		.reset = net_reset,
		.config_read = net_config_read,
		.config_write = net_config_write,
	};
	struct vmc_virtio_config vc;
	struct vmc_virtio_net *net;
	unsigned int qs;
	int r;

	VMC_CHECK_RETURN(config && ret && config->size >= sizeof(*config),
			 -EINVAL);
	VMC_CHECK_RETURN(config->vm, -EINVAL);
	VMC_CHECK_RETURN(!(config->mac[0] & 1), -EINVAL);
	VMC_CHECK_RETURN(!config->mtu ||
				 (config->mtu >= 68 && config->mtu <= 65535),
			 -EINVAL);
	qs = config->queue_size;
	VMC_CHECK_RETURN(qs >= 8 && qs <= 1024 && !(qs & (qs - 1)), -EINVAL);
	VMC_CHECK_RETURN(!config->backend || !config->backend->peer, -EBUSY);
	if (config->iothread && vmc_iothread_is_current(config->iothread))
		return -EDEADLK;

	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	net->vm = config->vm;
	net->iothread = config->iothread;
	net->be = config->backend;
	net->queue_size = qs;
	net->mtu = config->mtu;
	memcpy(net->conf_mac, config->mac, VMC_NET_MAC_LEN);
	memcpy(net->mac, config->mac, VMC_NET_MAC_LEN);
	net->link_up = !config->link_down;
	net->held = malloc(VMC_NET_MAX_FRAME);
	net->rx_elems = calloc(qs, sizeof(*net->rx_elems));
	net->rx_lens = calloc(qs, sizeof(*net->rx_lens));
	if (!net->held || !net->rx_elems || !net->rx_lens) {
		r = -ENOMEM;
		goto fail;
	}
	vmc__virtio_run_on(net->iothread, work_new, net);
	r = net->setup_err;
	if (r < 0)
		goto fail;

	vmc_virtio_config_init(&vc);
	vc.vm = config->vm;
	vc.irq = config->irq;
	vc.device_id = VIRTIO_ID_NET;
	vc.features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
		      1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC |
		      1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	/*
	 * Headers and frames are read and written at byte offsets across
	 * descriptors, so any layout works; QEMU offers the bit to legacy
	 * drivers too (Linux then puts the header in front of the frame).
	 */
	if (config->legacy)
		vc.features |= 1ull << VIRTIO_F_ANY_LAYOUT;
	if (config->mrg_rxbuf)
		vc.features |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (config->mtu)
		vc.features |= 1ull << VIRTIO_NET_F_MTU;
	vc.num_queues = 2;
	vc.queue_max_size = qs;
	vc.config_size = config->mtu ? 12 : 8;
	vc.legacy = config->legacy;
	vc.name = "virtio-net";
	vc.iothread = net->iothread;
	vc.irq_any_thread = config->irq_any_thread;
	r = vmc_virtio_new(&vc, &ops, net, &net->vdev);
	if (r < 0)
		goto fail;
	/*
	 * The backend's fds go where the device's work runs; @peer is set
	 * first, on the thread its handlers run on until the move.
	 */
	if (net->be)
		net->be->peer = net;
	r = backend_move(net->be, net->iothread);
	if (r < 0) {
		net->be->peer = NULL;
		vmc_virtio_free(net->vdev);
		goto fail;
	}
	*ret = net;
	return 0;
fail:
	vmc__virtio_run_on(net->iothread, work_free, net);
	free(net->held);
	free(net->rx_elems);
	free(net->rx_lens);
	free(net);
	return r;
}

VMC_EXPORT void vmc_virtio_net_free(struct vmc_virtio_net *net)
{
	struct vmc_net_backend *be;

	if (!net)
		return;
	be = net->be;
	/*
	 * The device lets go of the backend on its own thread (no send or
	 * rx_ready runs after that), then the backend comes back to the
	 * VM's loop, where the rest of this runs.
	 */
	if (be)
		vmc__virtio_run_on(net->iothread, backend_detach, be);
	backend_move(be, NULL);
	/* Its last reset returns every element the device holds. */
	vmc_virtio_free(net->vdev);
	vmc__virtio_run_on(net->iothread, work_free, net);
	if (be) {
		/* A backend stopped for us must not stay stopped. */
		if (net->rx_stopped)
			be->ops.rx_ready(be->opaque);
		be->peer = NULL;
	}
	free(net->held);
	free(net->rx_elems);
	free(net->rx_lens);
	free(net);
}

VMC_EXPORT struct vmc_virtio *
vmc_virtio_net_get_virtio(struct vmc_virtio_net *net)
{
	return net ? net->vdev : NULL;
}

VMC_EXPORT struct vmc_region *
vmc_virtio_net_get_region(struct vmc_virtio_net *net)
{
	return net ? vmc_virtio_get_region(net->vdev) : NULL;
}

VMC_EXPORT int vmc_virtio_net_set_link(struct vmc_virtio_net *net, bool up)
{
	VMC_CHECK_RETURN(net, -EINVAL);
	lock(net);
	if (net->link_up != up) {
		__atomic_store_n(&net->link_up, up, __ATOMIC_RELAXED);
		vmc_virtio_config_changed(net->vdev);
		/* A frame held for the guest goes now, on the loop. */
		vmc_bh_schedule(net->work);
	}
	unlock(net);
	return 0;
}

VMC_EXPORT bool vmc_virtio_net_get_link(struct vmc_virtio_net *net)
{
	return net && __atomic_load_n(&net->link_up, __ATOMIC_RELAXED);
}

VMC_EXPORT int vmc_virtio_net_get_mac(struct vmc_virtio_net *net,
				      uint8_t mac[VMC_NET_MAC_LEN])
{
	VMC_CHECK_RETURN(net && mac, -EINVAL);
	lock(net);
	memcpy(mac, net->mac, VMC_NET_MAC_LEN);
	unlock(net);
	return 0;
}

/* ------------------------------------------------------------------------
 * The backend object
 */

VMC_EXPORT int vmc_net_backend_new(const struct vmc_net_backend_ops *ops,
				   void *opaque, struct vmc_net_backend **ret)
{
	struct vmc_net_backend *be;

	VMC_CHECK_RETURN(ops && ret && ops->struct_size >= sizeof(*ops),
			 -EINVAL);
	VMC_CHECK_RETURN(ops->send && ops->rx_ready, -EINVAL);
	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->ops = *ops;
	be->opaque = opaque;
	*ret = be;
	return 0;
}

VMC_EXPORT void vmc_net_backend_free(struct vmc_net_backend *be)
{
	if (!be)
		return;
	/*
	 * Freed before its device: the device drops frames from now on.  On
	 * the device's loop thread, so that no send is running meanwhile.
	 */
	if (be->peer)
		vmc__virtio_run_on(be->peer->iothread, backend_detach, be);
	if (be->ops.release)
		be->ops.release(be->opaque);
	free(be);
}

VMC_EXPORT const char *
vmc_net_backend_get_ifname(const struct vmc_net_backend *be)
{
	return be && be->ifname[0] ? be->ifname : NULL;
}

VMC_EXPORT bool vmc_net_backend_is_connected(const struct vmc_net_backend *be)
{
	if (!be || !be->library)
		return false;
	return be->connected ? be->connected(be->opaque) : true;
}
