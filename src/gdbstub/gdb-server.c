/* SPDX-License-Identifier: MIT */
/*
 * The server: the listening socket, the one client, and the public entry
 * points of vmc-gdbstub.h.
 *
 * Everything runs on the loop thread.  Three rules keep a client from
 * hurting the host:
 * - Every write is send(MSG_NOSIGNAL | MSG_DONTWAIT): a peer that went
 *   away is an error code, never SIGPIPE, and a peer that does not read
 *   never blocks the loop.
 * - What the socket does not take waits in a bounded queue, drained by the
 *   fd handler when the socket is writable.  A client whose backlog would
 *   pass VMC__GDB_OUT_MAX is disconnected, with a log line.
 * - A client is dropped from a bottom half, never from deep inside the
 *   packet engine or a VM state handler: the engine marks it (hangup),
 *   stops answering it, and the bottom half detaches and closes.
 *
 * The library unlinks only a Unix socket file that it created itself and
 * that is still the same file (device and inode) when the server stops.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "gdb-priv.h"

/*
 * Connections that may wait to be accepted.  Only one client is served,
 * but a client that reconnects at once (or a second one being refused)
 * must not find the queue full: a dropped SYN costs a 1 s retry.
 */
#define GDB_BACKLOG 16
/* After accept() ran out of fds, try again this much later. */
#define GDB_ACCEPT_RETRY_NS 100000000

/* ------------------------------------------------------------------------
 * The client and its output queue
 */

static void close_client(struct vmc_gdbstub *gs)
{
	if (!gs->connected)
		return;
	vmc__gdb_session_end(gs);
	vmc_bh_cancel(gs->close_bh);
	vmc_fd_handler_free(gs->fd_h);
	gs->fd_h = NULL;
	if (gs->fd >= 0)
		close(gs->fd);
	gs->fd = -1;
	gs->outq.head = gs->outq.tail = 0;
	gs->write_armed = false;
	gs->hangup = false;
}

static void close_bh(struct vmc_bh *bh, void *userdata)
{
	(void)bh;
	close_client(userdata);
}

/* Stop talking to the client at once; it is closed from the bottom half. */
static void drop_client(struct vmc_gdbstub *gs, const char *fmt, ...)
	VMC_PRINTF(2, 3);
static void drop_client(struct vmc_gdbstub *gs, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	if (gs->hangup)
		return;
	gs->hangup = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vmc_log(VMC_LOG_WARNING, "gdbstub: disconnecting the client: %s", why);
	/* Neither callback runs again; the handler goes with the fd. */
	vmc_fd_handler_set(gs->fd_h, NULL, NULL, gs);
	gs->write_armed = false;
	vmc_bh_schedule(gs->close_bh);
}

static void client_read(struct vmc_fd_handler *h, int fd, void *userdata);
static void client_write(struct vmc_fd_handler *h, int fd, void *userdata);

static void arm_write(struct vmc_gdbstub *gs, bool on)
{
	if (gs->write_armed == on || gs->hangup)
		return;
	if (vmc_fd_handler_set(gs->fd_h, client_read, on ? client_write : NULL,
			       gs) < 0) {
		drop_client(gs, "cannot watch the socket");
		return;
	}
	gs->write_armed = on;
}

/* Send what the socket takes; the number of bytes, or -1 (client dropped). */
static ssize_t send_some(struct vmc_gdbstub *gs, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(gs->fd, buf + done, len - done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		drop_client(gs, "send: %s", n < 0 ? strerror(errno) : "EOF");
		return -1;
	}
	return (ssize_t)done;
}

static void flush(struct vmc_gdbstub *gs)
{
	struct gdb_outq *q = &gs->outq;
	ssize_t n = send_some(gs, q->buf + q->head, q->tail - q->head);

	if (n < 0)
		return;
	q->head += (size_t)n;
	if (q->head == q->tail)
		q->head = q->tail = 0;
	arm_write(gs, q->head != q->tail);
}

void vmc__gdb_write(struct vmc_gdbstub *gs, const char *buf, size_t len)
{
	struct gdb_outq *q = &gs->outq;

	if (gs->out) {
		gs->out(buf, len, gs->out_opaque);
		return;
	}
	if (gs->hangup || gs->fd < 0)
		return;
	if (q->head == q->tail) {
		ssize_t n = send_some(gs, buf, len);

		if (n < 0)
			return;
		buf += n;
		len -= (size_t)n;
		if (!len)
			return;
	}
	if (q->tail - q->head + len > VMC__GDB_OUT_MAX) {
		drop_client(gs, "it reads no replies (%zu bytes queued)",
			    q->tail - q->head);
		return;
	}
	if (q->tail + len > VMC__GDB_OUT_MAX) {
		memmove(q->buf, q->buf + q->head, q->tail - q->head);
		q->tail -= q->head;
		q->head = 0;
	}
	memcpy(q->buf + q->tail, buf, len);
	q->tail += len;
	arm_write(gs, true);
}

static void client_write(struct vmc_fd_handler *h, int fd, void *userdata)
{
	(void)h;
	(void)fd;
	flush(userdata);
}

static void client_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_gdbstub *gs = userdata;
	char buf[4096];
	ssize_t n;

	(void)h;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		vmc_log(VMC_LOG_INFO, "gdbstub: client disconnected");
		close_client(gs);
		return;
	}
	vmc__gdbstub_feed(gs, buf, (size_t)n);
}

/* Serve @fd (connected, non-blocking, close-on-exec; now the stub's). */
static int attach_client(struct vmc_gdbstub *gs, int fd)
{
	int r;

	r = vmc_loop_add_fd(gs->loop, fd, client_read, NULL, gs, &gs->fd_h);
	if (r < 0)
		return r;
	gs->fd = fd;
	gs->write_armed = false;
	gs->outq.head = gs->outq.tail = 0;
	vmc__gdb_session_start(gs);
	return 0;
}

/* ------------------------------------------------------------------------
 * The listener
 */

static void listen_read(struct vmc_fd_handler *h, int fd, void *userdata);

static void accept_retry(struct vmc_timer *t, void *userdata)
{
	struct vmc_gdbstub *gs = userdata;

	(void)t;
	vmc_fd_handler_set(gs->listen_h, listen_read, NULL, gs);
}

static void listen_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_gdbstub *gs = userdata;
	int c, r;

	(void)h;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0) {
		int64_t now;

		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		/*
		 * Out of fds or memory: the connection stays queued and the
		 * socket stays readable.  Trying again at once would spin
		 * the loop, so stop watching for a while.
		 */
		vmc_log(VMC_LOG_WARNING, "gdbstub: accept: %s",
			strerror(errno));
		now = vmc_clock_get_ns(
			vmc_loop_get_clock(gs->loop, VMC_CLOCK_REALTIME));
		if (vmc_timer_mod(gs->accept_timer,
				  now + GDB_ACCEPT_RETRY_NS) == 0)
			vmc_fd_handler_set(gs->listen_h, NULL, NULL, gs);
		return;
	}
	if (gs->connected) {
		/* One client at a time: refuse the second cleanly. */
		vmc_log(VMC_LOG_INFO, "gdbstub: refusing a second client");
		close(c);
		return;
	}
	if (!gs->unix_sock) {
		int one = 1;

		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	r = attach_client(gs, c);
	if (r < 0) {
		vmc_log(VMC_LOG_WARNING, "gdbstub: cannot serve a client: %s",
			strerror(-r));
		close(c);
		return;
	}
	vmc_log(VMC_LOG_INFO, "gdbstub: client connected");
}

/*
 * Whether @path is a socket file that nobody listens on (left behind by a
 * process that did not clean up), so that replacing it harms no one.
 */
static bool stale_socket(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	bool stale;
	int fd;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	stale = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 &&
		errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int open_unix(struct vmc_gdbstub *gs, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	struct stat st;
	char *copy;
	int fd, r;

	if (!len || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	/*
	 * bind() creates the file with the socket's mode less the umask, so
	 * it is 0600 (or tighter) from the start: no window in which others
	 * may connect, and no process-wide umask() change racing the host's
	 * other threads.
	 */
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		goto fail;
	}
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno == EADDRINUSE && stale_socket(path, &sa) &&
	    unlink(path) == 0)
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0) {
		/* Whatever is at @path is not ours: leave it alone. */
		r = -errno;
		goto fail;
	}
	gs->unix_sock = true;
	gs->listen_fd = fd;
	/* Remember which file we made, to remove only that one. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		gs->unix_path = copy;
		gs->unix_dev = st.st_dev;
		gs->unix_ino = st.st_ino;
	} else {
		free(copy);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

static int open_tcp(struct vmc_gdbstub *gs, const char *host)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const char *colon = strrchr(host, ':');
	socklen_t sl = sizeof(sa);
	unsigned long port;
	char hbuf[64];
	char *end;
	int fd, r, one = 1;

	if (!colon || (size_t)(colon - host) >= sizeof(hbuf))
		return -EINVAL;
	memcpy(hbuf, host, (size_t)(colon - host));
	hbuf[colon - host] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535 || errno ||
	    !(colon[1] >= '0' && colon[1] <= '9'))
		return -EINVAL;
	sa.sin_port = htons((uint16_t)port);
	if (!hbuf[0] || !strcmp(hbuf, "localhost"))
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, hbuf, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	gs->port = ntohs(sa.sin_port);
	gs->listen_fd = fd;
	return 0;
}

static int open_listener(struct vmc_gdbstub *gs, const char *address)
{
	int r;

	if (!strncmp(address, "unix:", 5))
		r = open_unix(gs, address + 5);
	else if (!strncmp(address, "tcp:", 4))
		r = open_tcp(gs, address + 4);
	else
		r = -EINVAL;
	if (r < 0)
		return r;
	if (listen(gs->listen_fd, GDB_BACKLOG) < 0)
		return -errno;
	return vmc_loop_add_fd(gs->loop, gs->listen_fd, listen_read, NULL, gs,
			       &gs->listen_h);
}

/* Remove the socket file if it is still the one bind() created. */
static void remove_unix_path(struct vmc_gdbstub *gs)
{
	struct stat st;

	if (!gs->unix_path)
		return;
	if (lstat(gs->unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == gs->unix_dev && st.st_ino == gs->unix_ino)
		unlink(gs->unix_path);
	free(gs->unix_path);
	gs->unix_path = NULL;
}

/* ------------------------------------------------------------------------
 * Life cycle
 */

/*
 * Everything a session can need is allocated here, so that serving a
 * client never allocates: a reply cannot be lost to a failed malloc.
 */
static int stub_new(struct vmc_vm *vm, struct vmc_loop *loop, bool sock,
		    struct vmc_gdbstub **ret)
{
	const struct gdb_arch *arch = vmc__gdb_arch_find(vmc_vm_get_arch(vm));
	unsigned int n = vmc_vm_get_vcpu_count(vm);
	struct vmc_gdbstub *gs;
	int r;

	if (!arch)
		return -EOPNOTSUPP;
	gs = calloc(1, sizeof(*gs));
	if (!gs)
		return -ENOMEM;
	gs->vm = vmc_vm_ref(vm);
	gs->loop = loop;
	gs->arch = arch;
	gs->nr_vcpus = n;
	gs->listen_fd = -1;
	gs->fd = -1;
	gs->stepping = calloc(n ? n : 1, sizeof(bool));
	gs->act = calloc(n ? n : 1, 1);
	if (!gs->stepping || !gs->act) {
		r = -ENOMEM;
		goto fail;
	}
	if (sock) {
		gs->outq.buf = malloc(VMC__GDB_OUT_MAX);
		if (!gs->outq.buf) {
			r = -ENOMEM;
			goto fail;
		}
		r = vmc_bh_new(loop, close_bh, gs, &gs->close_bh);
		if (r < 0)
			goto fail;
		r = vmc_timer_new(vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME),
				  accept_retry, gs, &gs->accept_timer);
		if (r < 0)
			goto fail;
	}
	r = vmc_vm_add_state_handler(vm, vmc__gdb_on_state, 0, gs,
				     &gs->state_h);
	if (r < 0)
		goto fail;
	*ret = gs;
	return 0;
fail:
	vmc_gdbstub_stop(gs);
	return r;
}

VMC_EXPORT int vmc_gdbstub_start(struct vmc_vm *vm, struct vmc_loop *loop,
				 const char *address, struct vmc_gdbstub **ret)
{
	struct vmc_gdbstub *gs;
	int r;

	gdb_check_return(vm && loop && address && ret, -EINVAL);
	gdb_check_return(vmc_vm_get_loop(vm) == loop, -EINVAL);
	r = stub_new(vm, loop, true, &gs);
	if (r < 0)
		return r;
	r = open_listener(gs, address);
	if (r < 0) {
		vmc_gdbstub_stop(gs);
		return r;
	}
	*ret = gs;
	return 0;
}

int vmc__gdbstub_new_session(struct vmc_vm *vm, vmc__gdb_out_cb out,
			     void *opaque, bool no_exec,
			     struct vmc_gdbstub **ret)
{
	struct vmc_gdbstub *gs;
	int r;

	r = stub_new(vm, vmc_vm_get_loop(vm), false, &gs);
	if (r < 0)
		return r;
	gs->out = out;
	gs->out_opaque = opaque;
	gs->no_exec = no_exec;
	vmc__gdb_session_start(gs);
	*ret = gs;
	return 0;
}

int vmc__gdbstub_attach_fd(struct vmc_vm *vm, int fd, bool no_exec,
			   struct vmc_gdbstub **ret)
{
	struct vmc_gdbstub *gs;
	int r;

	r = stub_new(vm, vmc_vm_get_loop(vm), true, &gs);
	if (r < 0) {
		close(fd);
		return r;
	}
	gs->no_exec = no_exec;
	gs->unix_sock = true;
	r = attach_client(gs, fd);
	if (r < 0) {
		close(fd);
		vmc_gdbstub_stop(gs);
		return r;
	}
	*ret = gs;
	return 0;
}

VMC_EXPORT void vmc_gdbstub_stop(struct vmc_gdbstub *gs)
{
	if (!gs)
		return;
	close_client(gs);
	vmc_fd_handler_free(gs->listen_h);
	if (gs->listen_fd >= 0)
		close(gs->listen_fd);
	remove_unix_path(gs);
	vmc_timer_free(gs->accept_timer);
	vmc_bh_free(gs->close_bh);
	if (gs->state_h)
		vmc_vm_remove_state_handler(gs->vm, gs->state_h);
	vmc_vm_unref(gs->vm);
	free(gs->outq.buf);
	free(gs->stepping);
	free(gs->act);
	free(gs);
}

VMC_EXPORT bool vmc_gdbstub_is_connected(const struct vmc_gdbstub *gs)
{
	return gs && gs->connected && !gs->hangup;
}

VMC_EXPORT int vmc_gdbstub_get_port(const struct vmc_gdbstub *gs)
{
	gdb_check_return(gs, -EINVAL);
	if (gs->unix_sock)
		return -ENOTSOCK;
	return gs->port;
}
