/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock in userspace, bridged to Unix sockets (vmc-virtio-vsock.h).
 *
 * Queues: 0 rx (device to driver), 1 tx (driver to device), 2 event.
 *
 * A connection (struct conn) pairs a guest port with a host port and a
 * Unix stream socket.  States:
 * - HELLO: a host client accepted on the listening socket; we read its
 *   `CONNECT <port>\n` one byte at a time (so no stream byte is taken).
 * - CONNECTING: we sent REQUEST to the guest and wait for RESPONSE/RST.
 * - ESTABLISHED: bytes flow both ways.
 * A closed connection moves to the graveyard: its socket and fd handler
 * are released by @reap on the loop (a reset may come from a vCPU thread,
 * where fd handlers cannot be changed).
 *
 * Flow control, guest to host: @rx_cnt counts the payload bytes the guest
 * sent, @fwd_cnt the bytes written to the socket; the difference is
 * buffered in @out and never exceeds our buf_alloc (a guest that sends
 * more is reset).  A CREDIT_UPDATE goes out whenever fwd_cnt moved a
 * quarter of buf_alloc past what the guest last heard: a guest that ran
 * out of credit has at least buf_alloc bytes outstanding, so it always
 * hears once we drained them.  Host to guest: @tx_cnt counts the bytes
 * sent; we read from the socket only while the guest's credit
 * (peer_buf_alloc - (tx_cnt - peer_fwd_cnt)) is positive, and ask with
 * CREDIT_REQUEST when it runs out.
 *
 * Packets to the guest: control packets wait on @ctrl (bounded); data is
 * read from a socket straight after popping an rx buffer, and a buffer
 * popped for a socket that turned out empty is kept as @rx_spare.
 *
 * Everything runs with the device lock held (the VM lock, or the device
 * mutex with an I/O thread); everything but reset and the host's save and
 * load on the device's loop (the VM's, or the I/O thread's).  With an I/O
 * thread the listening socket's and the connections' fd handlers and the
 * reaper are plain loop objects on the I/O thread's loop, whose callbacks
 * take the mutex with vmc_virtio_io_lock().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-virtio-vsock.h>

#include "virtio-internal.h"

#define VIRTIO_ID_VSOCK 19

#define Q_RX 0
#define Q_TX 1
#define Q_EVENT 2

#define HDR_SIZE 44
#define MAX_PKT 65536u /* VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */
#define MAX_CTRL 4096u /* queued control packets */
#define HELLO_MAX 32u  /* "CONNECT 4294967295\n" and some */
#define FIRST_HOST_PORT (1u << 30)

#define TYPE_STREAM 1

enum {
	OP_REQUEST = 1,
	OP_RESPONSE = 2,
	OP_RST = 3,
	OP_SHUTDOWN = 4,
	OP_RW = 5,
	OP_CREDIT_UPDATE = 6,
	OP_CREDIT_REQUEST = 7,
};

#define SHUT_F_RCV 1u
#define SHUT_F_SEND 2u

#define EVENT_TRANSPORT_RESET 0

#define STATE_MAGIC 0x6b736f76u /* "vosk" */
#define STATE_VERSION 1u

struct pkt_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

enum conn_state { C_HELLO, C_CONNECTING, C_ESTABLISHED };

struct conn {
	struct vmc_virtio_vsock *vs;
	struct conn *next;
	enum conn_state state;
	int fd;
	struct vmc_fd_handler *fdh;
	bool poll_rd, poll_wr; /* what fdh watches now */
	bool readable;	       /* the socket may have data for the guest */
	bool host_eof;	       /* the host side ended its stream */
	bool guest_shut_rcv;   /* the guest receives no more */
	bool guest_shut_send;  /* the guest sends no more */
	bool credit_requested;
	bool dead; /* in the graveyard */
	uint32_t host_port, guest_port;

	char hello[HELLO_MAX];
	unsigned int hello_len;

	/* Guest to host. */
	uint32_t rx_cnt, fwd_cnt, fwd_cnt_told;
	uint8_t *out; /* buf_alloc bytes, allocated when first needed */
	size_t out_head, out_len;
	size_t out_skip; /* leading bytes of @out outside the stream */

	/* Host to guest. */
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
};

struct ctrl {
	struct ctrl *next;
	struct pkt_hdr h;
};

struct vmc_virtio_vsock {
	struct vmc_vm *vm;
	struct vmc_iothread *iothread; /* or NULL: the VM's loop */
	int setup_err;
	bool closing; /* being freed: no new fd handlers */
	struct vmc_virtio *vdev;
	uint64_t guest_cid;
	uint32_t buf_alloc;
	unsigned int max_conns;
	char path[VMC_VSOCK_UDS_PATH_MAX + 1];
	int listen_fd;
	struct vmc_fd_handler *listen_h;
	struct vmc_bh *reap;

	struct conn *conns;
	unsigned int nr_conns;
	struct conn *graveyard;
	uint32_t next_port;

	struct ctrl *ctrl_head, **ctrl_tail;
	unsigned int nr_ctrl;
	struct vmc_virtq_elem *rx_spare;
	bool event_pending;
	uint8_t bounce[MAX_PKT];
};

/* ------------------------------------------------------------------------
 * Headers
 */

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void hdr_encode(const struct pkt_hdr *h, uint8_t *p)
{
	put_le(p, h->src_cid, 8);
	put_le(p + 8, h->dst_cid, 8);
	put_le(p + 16, h->src_port, 4);
	put_le(p + 20, h->dst_port, 4);
	put_le(p + 24, h->len, 4);
	put_le(p + 28, h->type, 2);
	put_le(p + 30, h->op, 2);
	put_le(p + 32, h->flags, 4);
	put_le(p + 36, h->buf_alloc, 4);
	put_le(p + 40, h->fwd_cnt, 4);
}

static void hdr_decode(const uint8_t *p, struct pkt_hdr *h)
{
	h->src_cid = get_le(p, 8);
	h->dst_cid = get_le(p + 8, 8);
	h->src_port = (uint32_t)get_le(p + 16, 4);
	h->dst_port = (uint32_t)get_le(p + 20, 4);
	h->len = (uint32_t)get_le(p + 24, 4);
	h->type = (uint16_t)get_le(p + 28, 2);
	h->op = (uint16_t)get_le(p + 30, 2);
	h->flags = (uint32_t)get_le(p + 32, 4);
	h->buf_alloc = (uint32_t)get_le(p + 36, 4);
	h->fwd_cnt = (uint32_t)get_le(p + 40, 4);
}

/* A header from the host side of @c to the guest. */
static struct pkt_hdr conn_hdr(struct conn *c, uint16_t op)
{
	struct vmc_virtio_vsock *vs = c->vs;

	c->fwd_cnt_told = c->fwd_cnt;
	return (struct pkt_hdr){
		.src_cid = VMC_VSOCK_CID_HOST,
		.dst_cid = vs->guest_cid,
		.src_port = c->host_port,
		.dst_port = c->guest_port,
		.type = TYPE_STREAM,
		.op = op,
		.buf_alloc = vs->buf_alloc,
		.fwd_cnt = c->fwd_cnt,
	};
}

/* ------------------------------------------------------------------------
 * Packets to the guest
 */

static void rx_flush(struct vmc_virtio_vsock *vs);

static void ctrl_push(struct vmc_virtio_vsock *vs, const struct pkt_hdr *h)
{
	struct ctrl *q;

	if (vs->nr_ctrl >= MAX_CTRL) {
		vmc_log(VMC_LOG_DEBUG,
			"virtio-vsock: control queue full, op %u dropped",
			h->op);
		return;
	}
	q = malloc(sizeof(*q));
	if (!q)
		return;
	q->next = NULL;
	q->h = *h;
	*vs->ctrl_tail = q;
	vs->ctrl_tail = &q->next;
	vs->nr_ctrl++;
}

static void ctrl_clear(struct vmc_virtio_vsock *vs)
{
	struct ctrl *q;

	while ((q = vs->ctrl_head)) {
		vs->ctrl_head = q->next;
		free(q);
	}
	vs->ctrl_tail = &vs->ctrl_head;
	vs->nr_ctrl = 0;
}

static void send_ctrl(struct conn *c, uint16_t op, uint32_t flags)
{
	struct pkt_hdr h = conn_hdr(c, op);

	h.flags = flags;
	ctrl_push(c->vs, &h);
}

/* RST for a packet that has no connection (or a bad one). */
static void send_rst_for(struct vmc_virtio_vsock *vs, const struct pkt_hdr *in)
{
	struct pkt_hdr h = {
		.src_cid = VMC_VSOCK_CID_HOST,
		.dst_cid = vs->guest_cid,
		.src_port = in->dst_port,
		.dst_port = in->src_port,
		.type = TYPE_STREAM,
		.op = OP_RST,
	};

	if (in->op != OP_RST)
		ctrl_push(vs, &h);
}

/* ------------------------------------------------------------------------
 * Connections
 */

static void conn_poll(struct conn *c);

static struct conn *conn_find(struct vmc_virtio_vsock *vs, uint32_t host_port,
			      uint32_t guest_port)
{
	for (struct conn *c = vs->conns; c; c = c->next)
		if (c->state != C_HELLO && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	return NULL;
}

static bool host_port_used(struct vmc_virtio_vsock *vs, uint32_t port)
{
	for (struct conn *c = vs->conns; c; c = c->next)
		if (c->state != C_HELLO && c->host_port == port)
			return true;
	return false;
}

static struct conn *conn_new(struct vmc_virtio_vsock *vs, int fd)
{
	struct conn *c;

	if (vs->nr_conns >= vs->max_conns) {
		vmc_log(VMC_LOG_DEBUG, "virtio-vsock: too many connections");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->vs = vs;
	c->fd = fd;
	c->next = vs->conns;
	vs->conns = c;
	vs->nr_conns++;
	return c;
}

/* Unlink @c and leave its socket to the reaper. */
static void conn_close(struct conn *c)
{
	struct vmc_virtio_vsock *vs = c->vs;
	struct conn **pp;

	if (c->dead)
		return;
	c->dead = true;
	for (pp = &vs->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	vs->nr_conns--;
	c->next = vs->graveyard;
	vs->graveyard = c;
	if (vs->reap)
		vmc_bh_schedule(vs->reap);
}

static void conn_reset(struct conn *c)
{
	if (c->state != C_HELLO)
		send_ctrl(c, OP_RST, 0);
	conn_close(c);
}

static void conn_release(struct conn *c)
{
	vmc_fd_handler_free(c->fdh);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c);
}

static void reap_all(struct vmc_virtio_vsock *vs)
{
	struct conn *c;

	while ((c = vs->graveyard)) {
		vs->graveyard = c->next;
		conn_release(c);
	}
}

/* A loop object's callback: on an I/O thread, take the device mutex. */
static void enter(struct vmc_virtio_vsock *vs)
{
	if (vs->iothread)
		vmc_virtio_io_lock(vs->vdev);
}

static void leave(struct vmc_virtio_vsock *vs)
{
	if (vs->iothread)
		vmc_virtio_io_unlock(vs->vdev);
}

/* An fd handler on the device's loop, made on its thread. */
static int add_fd(struct vmc_virtio_vsock *vs, int fd, vmc_fd_cb read_cb,
		  void *userdata, struct vmc_fd_handler **ret)
{
	if (vs->iothread)
		return vmc_loop_add_fd(vmc_iothread_get_loop(vs->iothread), fd,
				       read_cb, NULL, userdata, ret);
	return vmc_vm_fd_handler_new(vs->vm, fd, read_cb, NULL, userdata, ret);
}

static void reap_cb(struct vmc_bh *bh, void *userdata)
{
	enter(userdata);
	reap_all(userdata);
	leave(userdata);
}

/* Bytes the guest may still take on @c. */
static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0
					      : c->peer_buf_alloc - in_flight;
}

static void conn_update_peer(struct conn *c, const struct pkt_hdr *h)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	if (peer_credit(c))
		c->credit_requested = false;
}

/* Write what @out holds to the socket; false when the socket broke. */
static bool conn_drain(struct conn *c)
{
	struct vmc_virtio_vsock *vs = c->vs;

	while (c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_head, c->out_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		size_t skip = (size_t)n < c->out_skip ? (size_t)n : c->out_skip;

		c->out_head += (size_t)n;
		c->out_len -= (size_t)n;
		c->out_skip -= skip;
		c->fwd_cnt += (uint32_t)((size_t)n - skip);
	}
	if (!c->out_len)
		c->out_head = 0;
	if (c->state == C_ESTABLISHED &&
	    c->fwd_cnt - c->fwd_cnt_told >= vs->buf_alloc / 4)
		send_ctrl(c, OP_CREDIT_UPDATE, 0);
	if (!c->out_len && c->guest_shut_send)
		shutdown(c->fd, SHUT_WR);
	return true;
}

/* Queue @len bytes for the socket; false when they do not fit. */
static bool conn_queue_out(struct conn *c, const void *p, size_t len)
{
	size_t cap = c->vs->buf_alloc;

	if (!c->out) {
		c->out = malloc(cap);
		if (!c->out)
			return false;
	}
	if (c->out_len + len > cap)
		return false;
	if (c->out_head + c->out_len + len > cap) {
		memmove(c->out, c->out + c->out_head, c->out_len);
		c->out_head = 0;
	}
	memcpy(c->out + c->out_head + c->out_len, p, len);
	c->out_len += len;
	return true;
}

static void conn_read_cb(struct vmc_fd_handler *h, int fd, void *userdata);
static void conn_write_cb(struct vmc_fd_handler *h, int fd, void *userdata);

/* Watch what @c waits for.  On the loop thread. */
static void conn_poll(struct conn *c)
{
	bool rd, wr;

	if (!c->fdh)
		return;
	rd = c->state == C_HELLO ||
	     (c->state == C_ESTABLISHED && !c->readable && !c->host_eof &&
	      !c->guest_shut_rcv);
	wr = c->out_len != 0;
	if (rd == c->poll_rd && wr == c->poll_wr)
		return;
	vmc_fd_handler_set(c->fdh, rd ? conn_read_cb : NULL,
			   wr ? conn_write_cb : NULL, c);
	c->poll_rd = rd;
	c->poll_wr = wr;
}

static bool conn_attach(struct conn *c)
{
	if (c->vs->closing || add_fd(c->vs, c->fd, NULL, c, &c->fdh) < 0)
		return false;
	conn_poll(c);
	return true;
}

/* ------------------------------------------------------------------------
 * The host side: the listening socket, the hello line, the sockets
 */

static bool parse_hello(const char *s, uint32_t *port)
{
	unsigned long long v = 0;
	const char *p;

	if (strncmp(s, "CONNECT ", 8))
		return false;
	p = s + 8;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 0xffffffffull)
			return false;
	}
	if (*p)
		return false;
	*port = (uint32_t)v;
	return true;
}

static uint32_t alloc_host_port(struct vmc_virtio_vsock *vs)
{
	for (;;) {
		uint32_t p = vs->next_port++;

		if (vs->next_port == 0xffffffffu)
			vs->next_port = FIRST_HOST_PORT;
		if (!host_port_used(vs, p))
			return p;
	}
}

/* Read the hello line byte by byte; the stream's bytes stay unread. */
static void conn_hello(struct conn *c)
{
	for (;;) {
		char ch;
		ssize_t n = recv(c->fd, &ch, 1, MSG_DONTWAIT);
		uint32_t port;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		if (ch != '\n') {
			if (c->hello_len + 1 >= HELLO_MAX) {
				conn_close(c);
				return;
			}
			c->hello[c->hello_len++] = ch;
			continue;
		}
		c->hello[c->hello_len] = 0;
		if (!parse_hello(c->hello, &port)) {
			vmc_log(VMC_LOG_DEBUG, "virtio-vsock: bad hello line");
			conn_close(c);
			return;
		}
		c->guest_port = port;
		c->host_port = alloc_host_port(c->vs);
		c->state = C_CONNECTING;
		send_ctrl(c, OP_REQUEST, 0);
		conn_poll(c);
		rx_flush(c->vs);
		return;
	}
}

static void conn_read(struct vmc_fd_handler *h, struct conn *c)
{
	if (c->dead) {
		vmc_fd_handler_set(h, NULL, NULL, c);
		return;
	}
	if (c->state == C_HELLO) {
		conn_hello(c);
		return;
	}
	c->readable = true;
	conn_poll(c);
	rx_flush(c->vs);
}

static void conn_write(struct vmc_fd_handler *h, struct conn *c)
{
	if (c->dead) {
		vmc_fd_handler_set(h, NULL, NULL, c);
		return;
	}
	if (!conn_drain(c)) {
		conn_reset(c);
		rx_flush(c->vs);
		return;
	}
	conn_poll(c);
	rx_flush(c->vs);
}

static void conn_read_cb(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct conn *c = userdata;
	struct vmc_virtio_vsock *vs = c->vs;

	enter(vs);
	conn_read(h, c);
	leave(vs);
}

static void conn_write_cb(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct conn *c = userdata;
	struct vmc_virtio_vsock *vs = c->vs;

	enter(vs);
	conn_write(h, c);
	leave(vs);
}

static void host_accept(struct vmc_virtio_vsock *vs, int fd)
{
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (cfd < 0)
			return;
		c = conn_new(vs, cfd);
		if (!c) {
			close(cfd);
			continue;
		}
		c->state = C_HELLO;
		if (!conn_attach(c))
			conn_close(c);
	}
}

static void listen_cb(struct vmc_fd_handler *h, int fd, void *userdata)
{
	enter(userdata);
	host_accept(userdata, fd);
	leave(userdata);
}

/* ------------------------------------------------------------------------
 * rx: control packets first, then data from readable sockets
 */

static int rx_elem(struct vmc_virtio_vsock *vs, struct vmc_virtq *vq,
		   struct vmc_virtq_elem **e)
{
	if (vs->rx_spare) {
		*e = vs->rx_spare;
		vs->rx_spare = NULL;
		return 1;
	}
	return vmc_virtq_pop(vq, e);
}

/* Fill rx element @e with @h and @len bytes of @data; push it. */
static void rx_put(struct vmc_virtq *vq, struct vmc_virtq_elem *e,
		   struct pkt_hdr *h, const void *data, uint32_t len)
{
	uint8_t raw[HDR_SIZE];
	size_t n;

	h->len = len;
	hdr_encode(h, raw);
	n = vmc_virtq_elem_to_in(e, 0, raw, HDR_SIZE);
	if (len)
		n += vmc_virtq_elem_to_in(e, HDR_SIZE, data, len);
	vmc_virtq_push(vq, e, (uint32_t)n);
}

/* Send data of @c into @e; true if @e was used. */
static bool rx_data(struct conn *c, struct vmc_virtq *vq,
		    struct vmc_virtq_elem *e)
{
	struct vmc_virtio_vsock *vs = c->vs;
	size_t room = e->in_len - HDR_SIZE, want = peer_credit(c);
	struct pkt_hdr h;
	ssize_t n;

	if (!room) {
		/* Only a header fits: spend it on a credit update. */
		h = conn_hdr(c, OP_CREDIT_UPDATE);
		rx_put(vq, e, &h, NULL, 0);
		return true;
	}
	if (want > room)
		want = room;
	if (want > sizeof(vs->bounce))
		want = sizeof(vs->bounce);
	do
		n = recv(c->fd, vs->bounce, want, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->readable = false;
		conn_poll(c);
		return false;
	}
	if (n <= 0) {
		/* The host side is done: tell the guest, which answers RST. */
		c->readable = false;
		c->host_eof = true;
		conn_poll(c);
		h = conn_hdr(c, OP_SHUTDOWN);
		h.flags = SHUT_F_RCV | SHUT_F_SEND;
		rx_put(vq, e, &h, NULL, 0);
		return true;
	}
	h = conn_hdr(c, OP_RW);
	c->tx_cnt += (uint32_t)n;
	rx_put(vq, e, &h, vs->bounce, (uint32_t)n);
	return true;
}

/* A connection with data to send and credit for it, or NULL. */
static struct conn *rx_next_data(struct vmc_virtio_vsock *vs)
{
	for (struct conn *c = vs->conns; c; c = c->next) {
		if (c->state != C_ESTABLISHED || !c->readable)
			continue;
		if (peer_credit(c))
			return c;
		if (!c->credit_requested) {
			c->credit_requested = true;
			send_ctrl(c, OP_CREDIT_REQUEST, 0);
			return NULL; /* the request goes first */
		}
	}
	return NULL;
}

static void rx_flush(struct vmc_virtio_vsock *vs)
{
	struct vmc_virtq *vq = vmc_virtio_get_queue(vs->vdev, Q_RX);
	bool pushed = false;

	if (!vmc_virtq_is_ready(vq))
		return;
	for (;;) {
		struct vmc_virtq_elem *e;
		struct conn *c = NULL;

		if (!vs->ctrl_head && !(c = rx_next_data(vs)) && !vs->ctrl_head)
			break;
		if (rx_elem(vs, vq, &e) <= 0)
			break;
		if (e->in_len < HDR_SIZE || e->out_num) {
			vmc_virtq_elem_free(vq, e);
			vmc_virtio_set_needs_reset(vs->vdev,
						   "virtio-vsock: rx buffer "
						   "too small or readable");
			return;
		}
		if (vs->ctrl_head) {
			struct ctrl *q = vs->ctrl_head;

			vs->ctrl_head = q->next;
			if (!vs->ctrl_head)
				vs->ctrl_tail = &vs->ctrl_head;
			vs->nr_ctrl--;
			rx_put(vq, e, &q->h, NULL, 0);
			free(q);
			pushed = true;
			continue;
		}
		if (rx_data(c, vq, e))
			pushed = true;
		else
			vs->rx_spare = e;
	}
	if (pushed)
		vmc_virtq_notify(vq);
}

/* ------------------------------------------------------------------------
 * tx: packets from the guest
 */

static void guest_request(struct vmc_virtio_vsock *vs, const struct pkt_hdr *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct conn *c;
	int fd;

	if (vs->nr_conns >= vs->max_conns) {
		vmc_log(VMC_LOG_DEBUG, "virtio-vsock: too many connections");
		send_rst_for(vs, h);
		return;
	}
	if (conn_find(vs, h->dst_port, h->src_port)) {
		send_rst_for(vs, h);
		return;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%" PRIu32, vs->path,
		 h->dst_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		send_rst_for(vs, h);
		return;
	}
	/* A Unix connect either succeeds or fails at once (EAGAIN: full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		vmc_log(VMC_LOG_DEBUG, "virtio-vsock: connect %s: %s",
			sa.sun_path, strerror(errno));
		close(fd);
		send_rst_for(vs, h);
		return;
	}
	c = conn_new(vs, fd);
	if (!c) {
		close(fd);
		send_rst_for(vs, h);
		return;
	}
	c->state = C_ESTABLISHED;
	c->host_port = h->dst_port;
	c->guest_port = h->src_port;
	conn_update_peer(c, h);
	if (!conn_attach(c)) {
		conn_reset(c);
		return;
	}
	send_ctrl(c, OP_RESPONSE, 0);
}

static void conn_packet(struct conn *c, const struct pkt_hdr *h,
			const struct vmc_virtq_elem *e)
{
	struct vmc_virtio_vsock *vs = c->vs;
	char ok[32];
	int n;

	conn_update_peer(c, h);
	switch (h->op) {
	case OP_RESPONSE:
		if (c->state != C_CONNECTING) {
			conn_reset(c);
			return;
		}
		c->state = C_ESTABLISHED;
		n = snprintf(ok, sizeof(ok), "OK %" PRIu32 "\n", c->host_port);
		/* The OK line is not part of the stream's byte count. */
		if (!conn_queue_out(c, ok, (size_t)n)) {
			conn_reset(c);
			return;
		}
		c->out_skip = (size_t)n;
		if (!conn_drain(c)) {
			conn_reset(c);
			return;
		}
		break;
	case OP_RST:
		conn_close(c);
		return;
	case OP_SHUTDOWN:
		if (c->state != C_ESTABLISHED) {
			conn_reset(c);
			return;
		}
		if (h->flags & SHUT_F_RCV)
			c->guest_shut_rcv = true;
		if (h->flags & SHUT_F_SEND)
			c->guest_shut_send = true;
		if (c->guest_shut_rcv && c->guest_shut_send) {
			conn_reset(c);
			return;
		}
		if (c->guest_shut_send && !c->out_len)
			shutdown(c->fd, SHUT_WR);
		break;
	case OP_RW:
		if (c->state != C_ESTABLISHED || c->guest_shut_send) {
			conn_reset(c);
			return;
		}
		if (h->len) {
			/* Credit: never more than buf_alloc unforwarded. */
			if (c->rx_cnt - c->fwd_cnt + h->len > vs->buf_alloc) {
				vmc_log(VMC_LOG_DEBUG,
					"virtio-vsock: port %" PRIu32
					" exceeded its credit",
					c->guest_port);
				conn_reset(c);
				return;
			}
			vmc_virtq_elem_from_out(e, HDR_SIZE, vs->bounce,
						h->len);
			c->rx_cnt += h->len;
			if (!conn_queue_out(c, vs->bounce, h->len) ||
			    !conn_drain(c)) {
				conn_reset(c);
				return;
			}
		}
		break;
	case OP_CREDIT_UPDATE:
		if (c->state != C_ESTABLISHED) {
			conn_reset(c);
			return;
		}
		break;
	case OP_CREDIT_REQUEST:
		if (c->state != C_ESTABLISHED) {
			conn_reset(c);
			return;
		}
		send_ctrl(c, OP_CREDIT_UPDATE, 0);
		break;
	default: /* OP_REQUEST on a live connection */
		conn_reset(c);
		return;
	}
	conn_poll(c);
}

static void tx_packet(struct vmc_virtio_vsock *vs, struct vmc_virtq_elem *e)
{
	uint8_t raw[HDR_SIZE];
	struct pkt_hdr h;
	struct conn *c;

	if (vmc_virtq_elem_from_out(e, 0, raw, HDR_SIZE) < HDR_SIZE) {
		vmc_log(VMC_LOG_DEBUG, "virtio-vsock: short tx packet dropped");
		return;
	}
	hdr_decode(raw, &h);
	if (h.src_cid != vs->guest_cid) {
		vmc_log(VMC_LOG_DEBUG,
			"virtio-vsock: packet from CID %" PRIu64 " dropped",
			h.src_cid);
		return;
	}
	c = conn_find(vs, h.dst_port, h.src_port);
	if (h.dst_cid != VMC_VSOCK_CID_HOST || h.type != TYPE_STREAM ||
	    h.len > MAX_PKT || h.len > e->out_len - HDR_SIZE ||
	    (h.op != OP_RW && h.len) || h.op < OP_REQUEST ||
	    h.op > OP_CREDIT_REQUEST) {
		vmc_log(VMC_LOG_DEBUG,
			"virtio-vsock: bad packet (op %u type %u len %" PRIu32
			")",
			h.op, h.type, h.len);
		if (c)
			conn_reset(c);
		else
			send_rst_for(vs, &h);
		return;
	}
	if (c) {
		conn_packet(c, &h, e);
		return;
	}
	if (h.op == OP_REQUEST)
		guest_request(vs, &h);
	else
		send_rst_for(vs, &h);
}

static void tx_process(struct vmc_virtio_vsock *vs, struct vmc_virtq *vq)
{
	struct vmc_virtq_elem *e;
	bool pushed = false;

	while (vmc_virtq_pop(vq, &e) > 0) {
		tx_packet(vs, e);
		vmc_virtq_push(vq, e, 0);
		pushed = true;
	}
	if (pushed)
		vmc_virtq_notify(vq);
}

/* ------------------------------------------------------------------------
 * Events, the transport's callbacks
 */

static void event_flush(struct vmc_virtio_vsock *vs)
{
	struct vmc_virtq *vq = vmc_virtio_get_queue(vs->vdev, Q_EVENT);
	struct vmc_virtq_elem *e;
	uint8_t ev[4];

	if (!vs->event_pending || vmc_virtq_pop(vq, &e) <= 0)
		return;
	put_le(ev, EVENT_TRANSPORT_RESET, 4);
	vmc_virtq_push(vq, e, (uint32_t)vmc_virtq_elem_to_in(e, 0, ev, 4));
	vmc_virtq_notify(vq);
	vs->event_pending = false;
}

static void vsock_notify(void *opaque, struct vmc_virtq *vq)
{
	struct vmc_virtio_vsock *vs = opaque;

	switch (vmc_virtq_get_index(vq)) {
	case Q_TX:
		tx_process(vs, vq);
		break;
	case Q_EVENT:
		event_flush(vs);
		return;
	default:
		break;
	}
	rx_flush(vs);
}

/* Close every connection but the host clients still saying hello. */
static void close_all(struct vmc_virtio_vsock *vs)
{
	struct conn *c = vs->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->state != C_HELLO)
			conn_close(c);
	}
}

static void vsock_reset(void *opaque)
{
	struct vmc_virtio_vsock *vs = opaque;

	close_all(vs);
	ctrl_clear(vs);
	if (vs->rx_spare)
		vmc_virtq_elem_free(vmc_virtio_get_queue(vs->vdev, Q_RX),
				    vs->rx_spare);
	vs->rx_spare = NULL;
	vs->event_pending = false;
}

static int vsock_config_read(void *opaque, uint64_t off, unsigned int size,
			     uint64_t *value)
{
	struct vmc_virtio_vsock *vs = opaque;
	uint8_t cfg[8];

	put_le(cfg, vs->guest_cid, 8);
	*value = get_le(cfg + off, size);
	return 0;
}

/* ------------------------------------------------------------------------
 * Life
 */

VMC_EXPORT void vmc_virtio_vsock_config_init(struct vmc_virtio_vsock_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_virtio_vsock_config){
		.size = sizeof(*c),
		.buf_alloc = 256 * 1024,
		.max_connections = 1024,
	};
}

static bool cid_ok(uint64_t cid)
{
	return cid >= 3 && cid < 0xffffffffull;
}

/*
 * A socket file nobody listens on is what a process that died leaves
 * behind; a live listener, or any other file, stays.
 */
static bool stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	r = r < 0 && errno == ECONNREFUSED;
	close(fd);
	return r;
}

/*
 * The reaper and the listening socket's handler, made and freed on the
 * device's loop thread (vmc__virtio_run_on()).  Freeing also silences
 * every connection's handler, under the device lock, since a reset on
 * another thread moves connections meanwhile.
 */
static void objects_new(void *opaque)
{
	struct vmc_virtio_vsock *vs = opaque;
	int r;

	if (vs->iothread)
		r = vmc_bh_new(vmc_iothread_get_loop(vs->iothread), reap_cb, vs,
			       &vs->reap);
	else
		r = vmc_vm_bh_new(vs->vm, reap_cb, vs, &vs->reap);
	if (r == 0)
		r = add_fd(vs, vs->listen_fd, listen_cb, vs, &vs->listen_h);
	vs->setup_err = r;
}

static void conns_silence(struct conn *c)
{
	for (; c; c = c->next) {
		vmc_fd_handler_free(c->fdh);
		c->fdh = NULL;
	}
}

static void objects_free(void *opaque)
{
	struct vmc_virtio_vsock *vs = opaque;

	vmc_virtio_io_lock(vs->vdev);
	vs->closing = true;
	vmc_fd_handler_free(vs->listen_h);
	vs->listen_h = NULL;
	conns_silence(vs->conns);
	conns_silence(vs->graveyard);
	reap_all(vs);
	vmc_bh_free(vs->reap);
	vs->reap = NULL;
	vmc_virtio_io_unlock(vs->vdev);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno == EADDRINUSE && stale_socket(&sa)) {
		unlink(sa.sun_path);
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

VMC_EXPORT int vmc_virtio_vsock_new(const struct vmc_virtio_vsock_config *cfg,
				    struct vmc_virtio_vsock **ret)
{
	static const struct vmc_virtio_ops ops = {
		.struct_size = sizeof(ops),
		.queue_notify = vsock_notify,
		.reset = vsock_reset,
		.config_read = vsock_config_read,
	};
	struct vmc_virtio_config vc;
	struct vmc_virtio_vsock *vs;
	int r;

	VMC_CHECK_RETURN(cfg && ret && cfg->size >= sizeof(*cfg), -EINVAL);
	VMC_CHECK_RETURN(cfg->vm && cid_ok(cfg->guest_cid), -EINVAL);
	VMC_CHECK_RETURN(cfg->uds_path && cfg->uds_path[0] &&
				 strlen(cfg->uds_path) <=
					 VMC_VSOCK_UDS_PATH_MAX,
			 -EINVAL);
	VMC_CHECK_RETURN(cfg->buf_alloc >= 4096 &&
				 cfg->buf_alloc <= 16 * 1024 * 1024,
			 -EINVAL);
	VMC_CHECK_RETURN(cfg->max_connections >= 1 &&
				 cfg->max_connections <= 65536,
			 -EINVAL);
	if (cfg->iothread && vmc_iothread_is_current(cfg->iothread))
		return -EDEADLK;
	vs = calloc(1, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	vs->vm = cfg->vm;
	vs->iothread = cfg->iothread;
	vs->guest_cid = cfg->guest_cid;
	vs->buf_alloc = cfg->buf_alloc;
	vs->max_conns = cfg->max_connections;
	vs->next_port = FIRST_HOST_PORT;
	vs->ctrl_tail = &vs->ctrl_head;
	snprintf(vs->path, sizeof(vs->path), "%s", cfg->uds_path);
	vs->listen_fd = listen_on(vs->path);
	if (vs->listen_fd < 0) {
		r = vs->listen_fd;
		free(vs);
		return r;
	}
	vmc_virtio_config_init(&vc);
	vc.vm = cfg->vm;
	vc.irq = cfg->irq;
	vc.device_id = VIRTIO_ID_VSOCK;
	vc.features = 1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC |
		      1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	vc.num_queues = 3;
	vc.queue_max_size = 128; /* Linux's rx ring fill */
	vc.config_size = 8;
	vc.legacy = cfg->legacy;
	vc.name = "virtio-vsock";
	vc.iothread = vs->iothread;
	vc.irq_any_thread = cfg->irq_any_thread;
	r = vmc_virtio_new(&vc, &ops, vs, &vs->vdev);
	if (r < 0)
		goto fail;
	vmc__virtio_run_on(vs->iothread, objects_new, vs);
	r = vs->setup_err;
	if (r < 0) {
		vmc__virtio_run_on(vs->iothread, objects_free, vs);
		vmc_virtio_free(vs->vdev);
		goto fail;
	}
	*ret = vs;
	return 0;
fail:
	close(vs->listen_fd);
	unlink(vs->path);
	free(vs);
	return r;
}

VMC_EXPORT void vmc_virtio_vsock_free(struct vmc_virtio_vsock *vs)
{
	struct conn *c;

	if (!vs)
		return;
	/* No socket's handler runs from here on. */
	vmc__virtio_run_on(vs->iothread, objects_free, vs);
	/* Its last reset closes every connection but the hellos. */
	vmc_virtio_free(vs->vdev);
	while ((c = vs->conns)) {
		vs->conns = c->next;
		conn_release(c);
	}
	reap_all(vs);
	close(vs->listen_fd);
	unlink(vs->path);
	free(vs);
}

VMC_EXPORT struct vmc_virtio *
vmc_virtio_vsock_get_virtio(struct vmc_virtio_vsock *vs)
{
	return vs ? vs->vdev : NULL;
}

VMC_EXPORT struct vmc_region *
vmc_virtio_vsock_get_region(struct vmc_virtio_vsock *vs)
{
	return vs ? vmc_virtio_get_region(vs->vdev) : NULL;
}

VMC_EXPORT unsigned int
vmc_virtio_vsock_get_connection_count(struct vmc_virtio_vsock *vs)
{
	unsigned int n = 0;

	if (!vs)
		return 0;
	for (struct conn *c = vs->conns; c; c = c->next)
		n += c->state != C_HELLO;
	return n;
}

VMC_EXPORT int vmc_virtio_vsock_save(struct vmc_virtio_vsock *vs, void *buf,
				     size_t len)
{
	uint8_t *p = buf;

	VMC_CHECK_RETURN(vs && buf, -EINVAL);
	if (len < VMC_VIRTIO_VSOCK_STATE_SIZE)
		return -ENOSPC;
	put_le(p, STATE_MAGIC, 4);
	put_le(p + 4, STATE_VERSION, 4);
	put_le(p + 8, vs->guest_cid, 8);
	return VMC_VIRTIO_VSOCK_STATE_SIZE;
}

VMC_EXPORT int vmc_virtio_vsock_load(struct vmc_virtio_vsock *vs,
				     const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t cid;

	VMC_CHECK_RETURN(vs && buf && len == VMC_VIRTIO_VSOCK_STATE_SIZE,
			 -EINVAL);
	cid = get_le(p + 8, 8);
	VMC_CHECK_RETURN(get_le(p, 4) == STATE_MAGIC &&
				 get_le(p + 4, 4) == STATE_VERSION &&
				 cid_ok(cid),
			 -EINVAL);
	vs->guest_cid = cid;
	/* Sockets cannot be saved: the guest resets every connection. */
	close_all(vs);
	ctrl_clear(vs);
	vs->event_pending = true;
	event_flush(vs);
	return 0;
}
