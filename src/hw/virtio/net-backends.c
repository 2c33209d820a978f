/* SPDX-License-Identifier: MIT */
/*
 * The library's network backends: TAP, datagram sockets and stream
 * sockets, all one struct fdnet on the VM's loop.
 *
 * Every fd is non-blocking and close-on-exec.  Its handler is a plain
 * loop fd handler (no VM lock): read()s and accept()s happen without the
 * lock, and vmc_net_backend_receive() takes it only to copy into the
 * guest.  Two switches decide what the handler watches:
 * - @rx_stopped: the device said -EAGAIN; reading stops until its
 *   rx_ready (no busy loop, and the kernel's queue does the buffering);
 * - @tx_blocked: a send hit -EAGAIN (or a stream has bytes left to
 *   write); writability ends it and calls vmc_net_backend_tx_ready().
 * send (without the VM lock) and rx_ready (with it) run on the loop
 * thread and only change the handler (vmc_fd_handler_set(), a loop-thread
 * call), never calling back into the device.
 *
 * Loop.  A backend's loop objects live on the VM's loop, or, while it
 * serves a device with an I/O thread, on that thread's loop (be_move():
 * they are freed on the old loop's thread and made again on the new one's,
 * so every handler runs and changes on one thread at a time).
 *
 * Stream framing, as QEMU's: a 4-byte big-endian length, then the frame.
 * Bytes read but not yet delivered stay in @in; after rx_ready a bottom
 * half delivers what is already there, since poll will not say so again.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-virtio-net.h>

#include "net-internal.h"
#include "virtio-internal.h"

#define READ_BURST 64
#define STREAM_HDR 4
/* Pieces of one frame a backend passes to the kernel (IOV_MAX). */
#define MAX_PIECES 1023

enum kind { K_TAP, K_DGRAM, K_STREAM };

struct fdnet {
	struct vmc_net_backend *be;
	struct vmc_vm *vm;
	struct vmc_loop *loop;
	struct vmc_iothread *iothread; /* @loop is its loop; NULL: the VM's */
	int move_err;
	enum kind kind;
	int fd; /* the data fd; -1 while a stream has no peer */
	struct vmc_fd_handler *h;
	bool rx_stopped, tx_blocked;

	/* Datagram: where frames go (or a connected socket's peer). */
	struct sockaddr_storage dest;
	socklen_t dest_len;
	bool connected;

	/* Stream. */
	bool server;
	int listen_fd;
	struct vmc_fd_handler *lh;
	struct vmc_bh *rx_bh;
	uint8_t *in; /* STREAM_HDR + VMC_NET_MAX_FRAME */
	size_t in_len;
	uint8_t *out; /* the rest of a frame the socket took in part */
	size_t out_len, out_off;

	struct iovec iov[MAX_PIECES + 1];
	char *unlink_path; /* a unix socket we bound */
	uint8_t *frame;	   /* VMC_NET_MAX_FRAME, for TAP and datagrams */
};

static void on_read(struct vmc_fd_handler *h, int fd, void *userdata);
static void on_write(struct vmc_fd_handler *h, int fd, void *userdata);

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* Watch what the switches say. */
static void update(struct fdnet *f)
{
	if (!f->h)
		return;
	vmc_fd_handler_set(f->h, f->rx_stopped ? NULL : on_read,
			   f->tx_blocked ? on_write : NULL, f);
}

/* ------------------------------------------------------------------------
 * Streams: connection life
 */

static void stream_drop_peer(struct fdnet *f)
{
	vmc_fd_handler_free(f->h);
	f->h = NULL;
	if (f->fd >= 0)
		close(f->fd);
	__atomic_store_n(&f->fd, -1, __ATOMIC_RELAXED);
	f->in_len = 0;
	f->out_len = f->out_off = 0;
	if (f->tx_blocked) {
		/* Frames to nowhere are dropped: let the device go on. */
		f->tx_blocked = false;
		vmc_net_backend_tx_ready(f->be);
	}
}

static int stream_attach(struct fdnet *f, int fd)
{
	int one = 1, r;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	__atomic_store_n(&f->fd, fd, __ATOMIC_RELAXED);
	f->in_len = 0;
	r = vmc_loop_add_fd(f->loop, fd, NULL, NULL, f, &f->h);
	if (r < 0) {
		close(fd);
		__atomic_store_n(&f->fd, -1, __ATOMIC_RELAXED);
		return r;
	}
	update(f);
	return 0;
}

static void on_accept(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct fdnet *f = userdata;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (f->fd >= 0) {
		/* One peer at a time, as QEMU's server. */
		close(c);
		return;
	}
	if (stream_attach(f, c) < 0)
		vmc_log(VMC_LOG_WARNING, "netdev stream: cannot watch a peer");
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Deliver the whole frames in @in; false when the connection broke. */
static bool stream_deliver(struct fdnet *f)
{
	size_t off = 0;
	bool ok = true;

	while (!f->rx_stopped && f->in_len - off >= STREAM_HDR) {
		uint32_t len = get_be32(f->in + off);
		struct vmc_net_iov v;

		if (len > VMC_NET_MAX_FRAME) {
			vmc_log(VMC_LOG_WARNING,
				"netdev stream: frame of %u bytes from the "
				"peer; disconnecting",
				len);
			ok = false;
			break;
		}
		if (f->in_len - off - STREAM_HDR < len)
			break;
		v.base = f->in + off + STREAM_HDR;
		v.len = len;
		off += STREAM_HDR + len;
		if (vmc_net_backend_receive(f->be, &v, 1) == -EAGAIN) {
			f->rx_stopped = true;
			update(f);
		}
	}
	memmove(f->in, f->in + off, f->in_len - off);
	f->in_len -= off;
	return ok;
}

static void stream_read(struct fdnet *f)
{
	size_t cap = STREAM_HDR + VMC_NET_MAX_FRAME;

	for (int i = 0; i < READ_BURST && !f->rx_stopped && f->in_len < cap;
	     i++) {
		ssize_t n = read(f->fd, f->in + f->in_len, cap - f->in_len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			stream_drop_peer(f);
			return;
		}
		f->in_len += (size_t)n;
		if (!stream_deliver(f)) {
			stream_drop_peer(f);
			return;
		}
	}
}

static void stream_rx_bh(struct vmc_bh *bh, void *userdata)
{
	struct fdnet *f = userdata;

	if (f->fd >= 0 && !stream_deliver(f))
		stream_drop_peer(f);
}

/* Write what is left of a frame; true when nothing is. */
static bool stream_flush(struct fdnet *f)
{
	while (f->out_off < f->out_len) {
		ssize_t n = send(f->fd, f->out + f->out_off,
				 f->out_len - f->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n < 0) {
			stream_drop_peer(f);
			return true;
		}
		f->out_off += (size_t)n;
	}
	f->out_len = f->out_off = 0;
	return true;
}

/* ------------------------------------------------------------------------
 * The handler
 */

static void dgram_tap_read(struct fdnet *f)
{
	for (int i = 0; i < READ_BURST && !f->rx_stopped; i++) {
		struct vmc_net_iov v;
		ssize_t n;

		if (f->kind == K_TAP)
			n = read(f->fd, f->frame, VMC_NET_MAX_FRAME);
		else
			n = recv(f->fd, f->frame, VMC_NET_MAX_FRAME, MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNREFUSED)
				vmc_log(VMC_LOG_DEBUG, "netdev: read: %s",
					strerror(errno));
			return;
		}
		if ((size_t)n > VMC_NET_MAX_FRAME)
			continue; /* truncated: dropped */
		v.base = f->frame;
		v.len = (size_t)n;
		if (vmc_net_backend_receive(f->be, &v, 1) == -EAGAIN) {
			f->rx_stopped = true;
			update(f);
		}
	}
}

static void on_write(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct fdnet *f = userdata;

	if (!f->tx_blocked)
		return;
	if (f->kind == K_STREAM && !stream_flush(f))
		return;
	if (f->fd < 0)
		return; /* the stream broke (and told the device) */
	f->tx_blocked = false;
	update(f);
	vmc_net_backend_tx_ready(f->be);
}

static void on_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct fdnet *f = userdata;

	if (f->fd < 0 || f->rx_stopped)
		return;
	if (f->kind == K_STREAM)
		stream_read(f);
	else
		dgram_tap_read(f);
}

/* ------------------------------------------------------------------------
 * The backend ops
 */

static int be_send(void *opaque, const struct vmc_net_iov *iov,
		   unsigned int iovcnt)
{
	struct fdnet *f = opaque;
	struct iovec *v = f->iov;
	struct msghdr m = {.msg_iov = v + 1, .msg_iovlen = iovcnt};
	uint8_t hdr[STREAM_HDR];
	size_t total = 0;
	ssize_t n;

	if (f->fd < 0)
		return 0; /* no peer: dropped */
	if (f->tx_blocked)
		return -EAGAIN;
	if (iovcnt > MAX_PIECES)
		return 0; /* more pieces than the kernel takes: dropped */
	for (unsigned int i = 0; i < iovcnt; i++) {
		v[i + 1].iov_base = (void *)iov[i].base;
		v[i + 1].iov_len = iov[i].len;
		total += iov[i].len;
	}
	if (f->kind == K_TAP) {
		n = writev(f->fd, v + 1, (int)iovcnt);
	} else if (f->kind == K_DGRAM) {
		if (!f->dest_len && !f->connected)
			return 0;
		m.msg_name = f->dest_len ? &f->dest : NULL;
		m.msg_namelen = f->dest_len;
		n = sendmsg(f->fd, &m, MSG_NOSIGNAL);
	} else {
		hdr[0] = (uint8_t)(total >> 24);
		hdr[1] = (uint8_t)(total >> 16);
		hdr[2] = (uint8_t)(total >> 8);
		hdr[3] = (uint8_t)total;
		v[0].iov_base = hdr;
		v[0].iov_len = sizeof(hdr);
		m.msg_iov = v;
		m.msg_iovlen = iovcnt + 1;
		total += sizeof(hdr);
		n = sendmsg(f->fd, &m, MSG_NOSIGNAL);
	}
	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
		f->tx_blocked = true;
		update(f);
		return -EAGAIN;
	}
	if (n < 0) {
		vmc_log(VMC_LOG_DEBUG, "netdev: send: %s", strerror(errno));
		if (f->kind == K_STREAM)
			stream_drop_peer(f);
		return 0; /* dropped, as a wire would */
	}
	if (f->kind == K_STREAM && (size_t)n < total) {
		/* Keep the rest of this frame: the stream must stay whole. */
		size_t skip = (size_t)n, at = 0;

		for (unsigned int i = 0; i < iovcnt + 1; i++) {
			size_t l = v[i].iov_len;

			if (skip >= l) {
				skip -= l;
				continue;
			}
			memcpy(f->out + at, (uint8_t *)v[i].iov_base + skip,
			       l - skip);
			at += l - skip;
			skip = 0;
		}
		f->out_len = at;
		f->out_off = 0;
		f->tx_blocked = true;
		update(f);
	}
	return 0;
}

static void be_rx_ready(void *opaque)
{
	struct fdnet *f = opaque;

	if (!f->rx_stopped)
		return;
	f->rx_stopped = false;
	update(f);
	if (f->kind == K_STREAM && f->in_len)
		vmc_bh_schedule(f->rx_bh);
}

/* Free the loop objects, on their loop's thread. */
static void objects_free(void *opaque)
{
	struct fdnet *f = opaque;

	vmc_fd_handler_free(f->h);
	vmc_fd_handler_free(f->lh);
	vmc_bh_free(f->rx_bh);
	f->h = f->lh = NULL;
	f->rx_bh = NULL;
}

/* Make them on @f->loop, on its thread, in the state the switches say. */
static void objects_new(void *opaque)
{
	struct fdnet *f = opaque;
	int r = 0;

	if (f->kind == K_STREAM)
		r = vmc_bh_new(f->loop, stream_rx_bh, f, &f->rx_bh);
	if (r == 0 && f->fd >= 0) {
		r = vmc_loop_add_fd(f->loop, f->fd, NULL, NULL, f, &f->h);
		update(f);
	}
	if (r == 0 && f->listen_fd >= 0)
		r = vmc_loop_add_fd(f->loop, f->listen_fd, on_accept, NULL, f,
				    &f->lh);
	/* Bytes read before the move still wait for delivery. */
	if (r == 0 && f->kind == K_STREAM && f->in_len && !f->rx_stopped)
		vmc_bh_schedule(f->rx_bh);
	f->move_err = r;
}

static int be_move(void *opaque, struct vmc_iothread *to)
{
	struct fdnet *f = opaque;

	if (f->iothread == to)
		return 0;
	vmc__virtio_run_on(f->iothread, objects_free, f);
	f->iothread = to;
	f->loop = to ? vmc_iothread_get_loop(to) : vmc_vm_get_loop(f->vm);
	vmc__virtio_run_on(to, objects_new, f);
	if (f->move_err < 0) {
		vmc__virtio_run_on(to, objects_free, f);
		return f->move_err;
	}
	return 0;
}

static void be_release(void *opaque)
{
	struct fdnet *f = opaque;

	vmc__virtio_run_on(f->iothread, objects_free, f);
	if (f->fd >= 0)
		close(f->fd);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	if (f->unlink_path)
		unlink(f->unlink_path);
	free(f->unlink_path);
	free(f->in);
	free(f->out);
	free(f->frame);
	free(f);
}

static bool be_connected(void *opaque)
{
	/* Any thread: the fd changes on the backend's loop thread. */
	return __atomic_load_n(&((struct fdnet *)opaque)->fd,
			       __ATOMIC_RELAXED) >= 0;
}

static const struct vmc_net_backend_ops fdnet_ops = {
	.struct_size = sizeof(fdnet_ops),
	.send = be_send,
	.rx_ready = be_rx_ready,
	.release = be_release,
};

static struct fdnet *fdnet_new(struct vmc_vm *vm, enum kind kind)
{
	struct fdnet *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->vm = vm;
	f->loop = vmc_vm_get_loop(vm);
	f->kind = kind;
	f->fd = f->listen_fd = -1;
	if (kind == K_STREAM) {
		f->in = malloc(STREAM_HDR + VMC_NET_MAX_FRAME);
		f->out = malloc(STREAM_HDR + VMC_NET_MAX_FRAME);
		if (!f->in || !f->out ||
		    vmc_bh_new(f->loop, stream_rx_bh, f, &f->rx_bh) < 0)
			goto fail;
	} else {
		f->frame = malloc(VMC_NET_MAX_FRAME);
		if (!f->frame)
			goto fail;
	}
	return f;
fail:
	be_release(f);
	return NULL;
}

/* Wrap @f in a backend and watch its fd (if it has one yet). */
static int fdnet_finish(struct fdnet *f, struct vmc_net_backend **ret)
{
	int r;

	if (f->fd >= 0) {
		r = vmc_loop_add_fd(f->loop, f->fd, on_read, NULL, f, &f->h);
		if (r < 0)
			goto fail;
	}
	if (f->listen_fd >= 0) {
		r = vmc_loop_add_fd(f->loop, f->listen_fd, on_accept, NULL, f,
				    &f->lh);
		if (r < 0)
			goto fail;
	}
	r = vmc_net_backend_new(&fdnet_ops, f, &f->be);
	if (r < 0)
		goto fail;
	f->be->library = true;
	f->be->move = be_move;
	if (f->kind == K_STREAM)
		f->be->connected = be_connected;
	*ret = f->be;
	return 0;
fail:
	be_release(f);
	return r;
}

/* ------------------------------------------------------------------------
 * Addresses
 */

static bool addr_ok(const struct vmc_net_addr *a, bool passive)
{
	switch (a->type) {
	case VMC_NET_ADDR_INET:
		return a->port && (passive || a->host);
	case VMC_NET_ADDR_UNIX:
		return a->path &&
		       strlen(a->path) <
			       sizeof(((struct sockaddr_un *)0)->sun_path);
	case VMC_NET_ADDR_FD:
		return a->fd >= 0;
	default:
		return false;
	}
}

/* Resolve an INET or UNIX address into @ss. */
static int resolve(const struct vmc_net_addr *a, int socktype, bool passive,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	if (a->type == VMC_NET_ADDR_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		memset(un, 0, sizeof(*un));
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, a->path);
		*len = sizeof(*un);
		return 0;
	}
	struct addrinfo hints = {
		.ai_socktype = socktype,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	struct addrinfo *ai;
	const char *host = a->host && a->host[0] ? a->host : NULL;
	int r = getaddrinfo(host, a->port, &hints, &ai);

	if (r != 0)
		return r == EAI_SYSTEM ? neg_errno() : -ENOENT;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* A socket of @ss's family, non-blocking and close-on-exec. */
static int new_socket(const struct sockaddr_storage *ss, int type)
{
	int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? neg_errno() : fd;
}

/* Take a socket the host passed: duplicate it, non-blocking. */
static int dup_socket(int fd, int type)
{
	int t = 0, d;
	socklen_t l = sizeof(t);

	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &l) < 0 || t != type)
		return -EINVAL;
	d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d < 0)
		return neg_errno();
	if (fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK) < 0) {
		close(d);
		return -EINVAL;
	}
	return d;
}

static int bind_to(struct fdnet *f, int fd, const struct vmc_net_addr *a,
		   const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1;

	if (a->type == VMC_NET_ADDR_UNIX) {
		/* As QEMU: a stale socket file is replaced. */
		if (unlink(a->path) < 0 && errno != ENOENT)
			return neg_errno();
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0)
		return neg_errno();
	if (a->type == VMC_NET_ADDR_UNIX) {
		f->unlink_path = strdup(a->path);
		if (!f->unlink_path)
			return -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * TAP
 */

VMC_EXPORT void vmc_net_tap_config_init(struct vmc_net_tap_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_net_tap_config){.size = sizeof(*c), .fd = -1};
}

VMC_EXPORT int vmc_net_tap_new(const struct vmc_net_tap_config *config,
			       struct vmc_net_backend **ret)
{
	struct ifreq ifr = {0};
	struct fdnet *f;
	int r;

	VMC_CHECK_RETURN(config && ret && config->size >= sizeof(*config),
			 -EINVAL);
	VMC_CHECK_RETURN(config->vm, -EINVAL);
	VMC_CHECK_RETURN(!config->ifname ||
				 strlen(config->ifname) < sizeof(ifr.ifr_name),
			 -EINVAL);
	VMC_CHECK_RETURN(config->fd < 0 || fcntl(config->fd, F_GETFD) >= 0,
			 -EBADF);
	f = fdnet_new(config->vm, K_TAP);
	if (!f)
		return -ENOMEM;
	if (config->fd >= 0) {
		f->fd = fcntl(config->fd, F_DUPFD_CLOEXEC, 3);
		if (f->fd < 0 ||
		    fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK) <
			    0 ||
		    ioctl(f->fd, TUNGETIFF, &ifr) < 0) {
			r = neg_errno();
			goto fail;
		}
	} else {
		f->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (f->fd < 0) {
			r = neg_errno();
			goto fail;
		}
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		if (config->ifname)
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
				 config->ifname);
		if (ioctl(f->fd, TUNSETIFF, &ifr) < 0) {
			r = neg_errno();
			goto fail;
		}
	}
	r = fdnet_finish(f, ret);
	if (r < 0)
		return r;
	snprintf((*ret)->ifname, sizeof((*ret)->ifname), "%s", ifr.ifr_name);
	return 0;
fail:
	be_release(f);
	return r;
}

/* ------------------------------------------------------------------------
 * Datagrams
 */

VMC_EXPORT void vmc_net_dgram_config_init(struct vmc_net_dgram_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_net_dgram_config){.size = sizeof(*c)};
	c->local.fd = c->remote.fd = -1;
}

static bool is_multicast(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return IN_MULTICAST(ntohl(
			((const struct sockaddr_in *)ss)->sin_addr.s_addr));
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)ss)
			       ->sin6_addr.s6_addr[0] == 0xff;
	return false;
}

VMC_EXPORT int vmc_net_dgram_new(const struct vmc_net_dgram_config *config,
				 struct vmc_net_backend **ret)
{
	const struct vmc_net_addr *lo, *re;
	struct sockaddr_storage ss;
	socklen_t len;
	struct fdnet *f;
	int r;

	VMC_CHECK_RETURN(config && ret && config->size >= sizeof(*config),
			 -EINVAL);
	VMC_CHECK_RETURN(config->vm, -EINVAL);
	lo = &config->local;
	re = &config->remote;
	/* QEMU's combinations (net/dgram.c's checks, described). */
	VMC_CHECK_RETURN(lo->type != VMC_NET_ADDR_NONE ||
				 re->type == VMC_NET_ADDR_INET,
			 -EINVAL);
	VMC_CHECK_RETURN(lo->type == VMC_NET_ADDR_NONE || addr_ok(lo, true),
			 -EINVAL);
	VMC_CHECK_RETURN(re->type == VMC_NET_ADDR_NONE || addr_ok(re, false),
			 -EINVAL);
	VMC_CHECK_RETURN(re->type != VMC_NET_ADDR_FD, -EINVAL);
	VMC_CHECK_RETURN(re->type == VMC_NET_ADDR_NONE ||
				 lo->type == VMC_NET_ADDR_NONE ||
				 lo->type == VMC_NET_ADDR_FD ||
				 lo->type == re->type,
			 -EINVAL);
	VMC_CHECK_RETURN(lo->type != VMC_NET_ADDR_FD ||
				 fcntl(lo->fd, F_GETFD) >= 0,
			 -EBADF);

	f = fdnet_new(config->vm, K_DGRAM);
	if (!f)
		return -ENOMEM;
	if (re->type != VMC_NET_ADDR_NONE) {
		r = resolve(re, SOCK_DGRAM, false, &f->dest, &f->dest_len);
		if (r < 0)
			goto fail;
		if (is_multicast(&f->dest)) {
			r = -EOPNOTSUPP;
			goto fail;
		}
	}
	if (lo->type == VMC_NET_ADDR_FD) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);

		r = dup_socket(lo->fd, SOCK_DGRAM);
		if (r < 0)
			goto fail;
		f->fd = r;
		/* A connected socket (one end of a socketpair) sends to its
		 * peer, as QEMU's does. */
		f->connected =
			getpeername(f->fd, (struct sockaddr *)&peer, &pl) == 0;
	} else if (lo->type != VMC_NET_ADDR_NONE) {
		r = resolve(lo, SOCK_DGRAM, true, &ss, &len);
		if (r < 0)
			goto fail;
		if (f->dest_len && ss.ss_family != f->dest.ss_family) {
			r = -EINVAL;
			goto fail;
		}
		r = new_socket(&ss, SOCK_DGRAM);
		if (r < 0)
			goto fail;
		f->fd = r;
		r = bind_to(f, f->fd, lo, &ss, len);
		if (r < 0)
			goto fail;
	} else {
		r = new_socket(&f->dest, SOCK_DGRAM);
		if (r < 0)
			goto fail;
		f->fd = r;
	}
	return fdnet_finish(f, ret);
fail:
	be_release(f);
	return r;
}

/* ------------------------------------------------------------------------
 * Streams
 */

VMC_EXPORT void vmc_net_stream_config_init(struct vmc_net_stream_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_net_stream_config){.size = sizeof(*c)};
	c->addr.fd = -1;
}

VMC_EXPORT int vmc_net_stream_new(const struct vmc_net_stream_config *config,
				  struct vmc_net_backend **ret)
{
	const struct vmc_net_addr *a;
	struct sockaddr_storage ss;
	socklen_t len;
	struct fdnet *f;
	int fd, r;

	VMC_CHECK_RETURN(config && ret && config->size >= sizeof(*config),
			 -EINVAL);
	VMC_CHECK_RETURN(config->vm, -EINVAL);
	a = &config->addr;
	VMC_CHECK_RETURN(addr_ok(a, config->server), -EINVAL);
	VMC_CHECK_RETURN(!config->server || a->type != VMC_NET_ADDR_FD,
			 -EINVAL);
	VMC_CHECK_RETURN(a->type != VMC_NET_ADDR_FD ||
				 fcntl(a->fd, F_GETFD) >= 0,
			 -EBADF);

	f = fdnet_new(config->vm, K_STREAM);
	if (!f)
		return -ENOMEM;
	f->server = config->server;
	if (a->type == VMC_NET_ADDR_FD) {
		r = dup_socket(a->fd, SOCK_STREAM);
		if (r < 0)
			goto fail;
		f->fd = r;
		return fdnet_finish(f, ret);
	}
	r = resolve(a, SOCK_STREAM, config->server, &ss, &len);
	if (r < 0)
		goto fail;
	if (config->server) {
		r = new_socket(&ss, SOCK_STREAM);
		if (r < 0)
			goto fail;
		f->listen_fd = r;
		r = bind_to(f, f->listen_fd, a, &ss, len);
		if (r < 0)
			goto fail;
		if (listen(f->listen_fd, 1) < 0) {
			r = neg_errno();
			goto fail;
		}
		return fdnet_finish(f, ret);
	}
	/* A client connects now (blocking), then goes non-blocking. */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = neg_errno();
		goto fail;
	}
	f->fd = fd;
	do
		r = connect(fd, (struct sockaddr *)&ss, len);
	while (r < 0 && errno == EINTR);
	if (r < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		r = neg_errno();
		goto fail;
	}
	r = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &r, sizeof(r));
	return fdnet_finish(f, ret);
fail:
	be_release(f);
	return r;
}
