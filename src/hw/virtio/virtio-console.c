/* SPDX-License-Identifier: MIT */
/*
 * virtio-console with one port on host fds.
 *
 * Queue notifications and fd handlers run on the device's loop thread
 * with the device lock held: the VM's loop and the VM lock, or the I/O
 * thread's loop and the device mutex (the loop objects are then plain
 * ones, made on the I/O thread, whose callbacks take the mutex with
 * vmc_virtio_io_lock()).  Reset runs on whichever thread holds the lock.
 * The fd handlers are changed only on the device's loop thread
 * (sync_handlers()), so a reset from another thread schedules a bottom
 * half to do it.
 *
 * Receive: a guest buffer is taken only when input is ready; the read
 * handler is armed while the receive queue may have buffers and stops
 * when it runs dry, until the guest kicks the queue again.  Transmit: a
 * request is written out, without blocking, from @tx_off on; what the fd
 * does not take waits for the write handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-virtio-console.h>

#include "virtio-internal.h"

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define CONSOLE_CONFIG_SIZE 12
#define RXQ 0
#define TXQ 1
#define MAX_IOV 64

struct vmc_virtio_console {
	struct vmc_vm *vm;
	struct vmc_iothread *iothread; /* or NULL: the VM's loop */
	int setup_err;
	struct vmc_virtio *vdev;
	int in_fd, out_fd;
	uint8_t config[CONSOLE_CONFIG_SIZE];
	struct vmc_fd_handler *in_h, *out_h; /* the same when the fds are */
	struct vmc_bh *sync_bh;
	bool rx_want; /* the receive queue may have buffers */
	bool in_eof, out_dead;
	struct vmc_virtq_elem *rx_pending;
	struct vmc_virtq_elem *tx_pending;
	size_t tx_off;
};

static void sync_handlers(struct vmc_virtio_console *c);

/*
 * Write without blocking and without SIGPIPE.  Sockets take MSG_DONTWAIT
 * and MSG_NOSIGNAL.  Anything else may be a blocking fd the host shares
 * with others, so it is written only when poll(2) says it is writable,
 * and at most PIPE_BUF bytes, which a writable pipe takes at once; SIGPIPE
 * is blocked in this thread around the write, and a SIGPIPE the write
 * raised is consumed before it is unblocked.
 */
static ssize_t write_nosig(int fd, struct iovec *iov, int n)
{
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	sigset_t pipe_set, old, pending;
	bool was_pending;
	size_t total = 0;
	ssize_t r;
	int err;

	r = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r >= 0 || errno != ENOTSOCK)
		return r;
	if (poll(&p, 1, 0) < 0)
		return -1;
	if (!(p.revents & (POLLOUT | POLLERR | POLLHUP))) {
		errno = EAGAIN;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (total + iov[i].iov_len > PIPE_BUF) {
			iov[i].iov_len = PIPE_BUF - total;
			n = i + 1;
		}
		total += iov[i].iov_len;
	}
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);

	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	r = writev(fd, iov, n);
	err = errno;
	if (r < 0 && err == EPIPE && !was_pending) {
		static const struct timespec zero = {0, 0};

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return r;
}

/* Write the pending request from tx_off on; true when it is all out. */
static bool tx_flush(struct vmc_virtio_console *c)
{
	struct vmc_virtq_elem *e = c->tx_pending;

	while (c->tx_off < e->out_len && c->out_fd >= 0 && !c->out_dead) {
		struct iovec iov[MAX_IOV];
		size_t skip = c->tx_off;
		int n = 0;
		ssize_t r;

		for (unsigned int i = 0; i < e->out_num && n < MAX_IOV; i++) {
			if (skip >= e->out[i].len) {
				skip -= e->out[i].len;
				continue;
			}
			iov[n].iov_base = (uint8_t *)e->out[i].base + skip;
			iov[n].iov_len = e->out[i].len - skip;
			skip = 0;
			n++;
		}
		r = write_nosig(c->out_fd, iov, n);
		if (r > 0) {
			c->tx_off += (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return false;
		} else {
			vmc_log(VMC_LOG_WARNING,
				"virtio-console: output "
				"failed (%s); discarding output",
				r < 0 ? strerror(errno) : "end of file");
			c->out_dead = true;
		}
	}
	return true;
}

static void tx_process(struct vmc_virtio_console *c)
{
	struct vmc_virtq *vq = vmc_virtio_get_queue(c->vdev, TXQ);
	bool pushed = false;

	for (;;) {
		if (!c->tx_pending) {
			if (vmc_virtq_pop(vq, &c->tx_pending) <= 0) {
				c->tx_pending = NULL;
				break;
			}
			c->tx_off = 0;
		}
		if (!tx_flush(c))
			break;
		vmc_virtq_push(vq, c->tx_pending, 0);
		c->tx_pending = NULL;
		pushed = true;
	}
	if (pushed)
		vmc_virtq_notify(vq);
	sync_handlers(c);
}

static void rx_process(struct vmc_virtio_console *c)
{
	struct vmc_virtq *vq = vmc_virtio_get_queue(c->vdev, RXQ);
	bool pushed = false;

	while (c->in_fd >= 0 && !c->in_eof) {
		struct vmc_virtq_elem *e = c->rx_pending;
		struct iovec iov[MAX_IOV];
		unsigned int n = 0;
		ssize_t r;

		c->rx_pending = NULL;
		if (!e && vmc_virtq_pop(vq, &e) <= 0) {
			c->rx_want = false;
			break;
		}
		for (; n < e->in_num && n < MAX_IOV; n++)
			iov[n] = (struct iovec){e->in[n].base, e->in[n].len};
		do
			r = readv(c->in_fd, iov, (int)n);
		while (r < 0 && errno == EINTR);
		if (r > 0) {
			vmc_virtq_push(vq, e, (uint32_t)r);
			pushed = true;
			continue;
		}
		/* Nothing to read yet: keep the buffer for the next time. */
		c->rx_pending = e;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			c->in_eof = true;
		break;
	}
	if (pushed)
		vmc_virtq_notify(vq);
	sync_handlers(c);
}

/* A loop object's callback: on an I/O thread, take the device mutex. */
static void enter(struct vmc_virtio_console *c)
{
	if (c->iothread)
		vmc_virtio_io_lock(c->vdev);
}

static void leave(struct vmc_virtio_console *c)
{
	if (c->iothread)
		vmc_virtio_io_unlock(c->vdev);
}

static void in_ready(struct vmc_fd_handler *h, int fd, void *userdata)
{
	enter(userdata);
	rx_process(userdata);
	leave(userdata);
}

static void out_ready(struct vmc_fd_handler *h, int fd, void *userdata)
{
	enter(userdata);
	tx_process(userdata);
	leave(userdata);
}

/* Arm what is wanted; on the loop thread only. */
static void sync_handlers(struct vmc_virtio_console *c)
{
	bool want_in = c->in_h && !c->in_eof &&
		       vmc_virtq_is_ready(vmc_virtio_get_queue(c->vdev, RXQ)) &&
		       (c->rx_want || c->rx_pending);
	bool want_out = c->out_h && c->tx_pending && !c->out_dead;

	if (c->in_h && c->in_h == c->out_h) {
		vmc_fd_handler_set(c->in_h, want_in ? in_ready : NULL,
				   want_out ? out_ready : NULL, c);
		return;
	}
	if (c->in_h)
		vmc_fd_handler_set(c->in_h, want_in ? in_ready : NULL, NULL, c);
	if (c->out_h)
		vmc_fd_handler_set(c->out_h, NULL, want_out ? out_ready : NULL,
				   c);
}

static void sync_bh_cb(struct vmc_bh *bh, void *userdata)
{
	enter(userdata);
	sync_handlers(userdata);
	leave(userdata);
}

/*
 * The loop objects, made and freed on the device's loop thread
 * (vmc__virtio_run_on()): the VM's, with the VM lock around callbacks, or
 * the I/O thread's, plain.
 */
static int add_fd(struct vmc_virtio_console *c, int fd,
		  struct vmc_fd_handler **ret)
{
	if (c->iothread)
		return vmc_loop_add_fd(vmc_iothread_get_loop(c->iothread), fd,
				       NULL, NULL, c, ret);
	return vmc_vm_fd_handler_new(c->vm, fd, NULL, NULL, c, ret);
}

static void objects_new(void *opaque)
{
	struct vmc_virtio_console *c = opaque;
	int r;

	if (c->iothread)
		r = vmc_bh_new(vmc_iothread_get_loop(c->iothread), sync_bh_cb,
			       c, &c->sync_bh);
	else
		r = vmc_vm_bh_new(c->vm, sync_bh_cb, c, &c->sync_bh);
	if (r == 0 && c->in_fd >= 0)
		r = add_fd(c, c->in_fd, &c->in_h);
	if (r == 0 && c->out_fd >= 0 && c->out_fd == c->in_fd) {
		c->out_h = c->in_h;
	} else if (r == 0 && c->out_fd >= 0) {
		r = add_fd(c, c->out_fd, &c->out_h);
		/* A regular file takes every write at once. */
		if (r == -EPERM) {
			c->out_h = NULL;
			r = 0;
		}
	}
	c->setup_err = r;
}

/* The device lock only to take the pointers: a reset reads them. */
static void objects_free(void *opaque)
{
	struct vmc_virtio_console *c = opaque;
	struct vmc_fd_handler *in_h, *out_h;
	struct vmc_bh *bh;

	if (c->vdev)
		vmc_virtio_io_lock(c->vdev);
	in_h = c->in_h;
	out_h = c->out_h;
	bh = c->sync_bh;
	c->in_h = c->out_h = NULL;
	c->sync_bh = NULL;
	if (c->vdev)
		vmc_virtio_io_unlock(c->vdev);
	if (out_h != in_h)
		vmc_fd_handler_free(out_h);
	vmc_fd_handler_free(in_h);
	vmc_bh_free(bh);
}

static void con_notify(void *opaque, struct vmc_virtq *vq)
{
	struct vmc_virtio_console *c = opaque;

	if (vmc_virtq_get_index(vq) == RXQ) {
		c->rx_want = true;
		rx_process(c);
	} else if (vmc_virtq_get_index(vq) == TXQ) {
		tx_process(c);
	}
}

static void con_reset(void *opaque)
{
	struct vmc_virtio_console *c = opaque;

	vmc_virtq_elem_free(vmc_virtio_get_queue(c->vdev, RXQ), c->rx_pending);
	vmc_virtq_elem_free(vmc_virtio_get_queue(c->vdev, TXQ), c->tx_pending);
	c->rx_pending = c->tx_pending = NULL;
	c->tx_off = 0;
	c->rx_want = false;
	if (c->sync_bh)
		vmc_bh_schedule(c->sync_bh);
}

static int con_config_read(void *opaque, uint64_t off, unsigned int size,
			   uint64_t *value)
{
	struct vmc_virtio_console *c = opaque;
	uint64_t v = 0;

	memcpy(&v, c->config + off, size); /* little-endian host */
	*value = v;
	return 0;
}

static int con_config_write(void *opaque, uint64_t off, unsigned int size,
			    uint64_t value)
{
	struct vmc_virtio_console *c = opaque;
	uint8_t ch = (uint8_t)value;
	struct iovec iov = {&ch, 1};

	/* emerg_wr: one character out at once, best effort. */
	if (off == 8 && c->out_fd >= 0 && !c->out_dead)
		write_nosig(c->out_fd, &iov, 1);
	return 0;
}

VMC_EXPORT void
vmc_virtio_console_config_init(struct vmc_virtio_console_config *cfg)
{
	if (!cfg)
		return;
	*cfg = (struct vmc_virtio_console_config){
		.size = sizeof(*cfg), .in_fd = -1, .out_fd = -1};
}

VMC_EXPORT int
vmc_virtio_console_new(const struct vmc_virtio_console_config *config,
		       struct vmc_virtio_console **ret)
{
	static const struct vmc_virtio_ops ops = {
		.struct_size = sizeof(ops),
		.queue_notify = con_notify,
		.reset = con_reset,
		.config_read = con_config_read,
		.config_write = con_config_write,
	};
	struct vmc_virtio_config vc;
	struct vmc_virtio_console *c;
	int r;

	VMC_CHECK_RETURN(config && ret && config->size >= sizeof(*config),
			 -EINVAL);
	VMC_CHECK_RETURN(config->vm, -EINVAL);
	VMC_CHECK_RETURN(config->in_fd < 0 ||
				 fcntl(config->in_fd, F_GETFD) >= 0,
			 -EBADF);
	VMC_CHECK_RETURN(config->out_fd < 0 ||
				 fcntl(config->out_fd, F_GETFD) >= 0,
			 -EBADF);
	if (config->iothread && vmc_iothread_is_current(config->iothread))
		return -EDEADLK;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm = config->vm;
	c->iothread = config->iothread;
	c->in_fd = config->in_fd < 0 ? -1 : config->in_fd;
	c->out_fd = config->out_fd < 0 ? -1 : config->out_fd;
	c->config[0] = (uint8_t)config->cols;
	c->config[1] = (uint8_t)(config->cols >> 8);
	c->config[2] = (uint8_t)config->rows;
	c->config[3] = (uint8_t)(config->rows >> 8);
	c->config[4] = 1; /* max_nr_ports */

	vmc_virtio_config_init(&vc);
	vc.vm = c->vm;
	vc.irq = config->irq;
	vc.device_id = VIRTIO_ID_CONSOLE;
	vc.features = 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE |
		      1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC |
		      1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	if (config->cols || config->rows)
		vc.features |= 1ull << VIRTIO_CONSOLE_F_SIZE;
	vc.num_queues = 2;
	vc.queue_max_size = 128; /* QEMU's */
	vc.config_size = CONSOLE_CONFIG_SIZE;
	vc.legacy = config->legacy;
	vc.name = "virtio-console";
	vc.iothread = c->iothread;
	vc.irq_any_thread = config->irq_any_thread;
	r = vmc_virtio_new(&vc, &ops, c, &c->vdev);
	if (r < 0) {
		free(c);
		return r;
	}
	/* Idle until the driver kicks: nothing runs before this returns. */
	vmc__virtio_run_on(c->iothread, objects_new, c);
	r = c->setup_err;
	if (r < 0) {
		vmc__virtio_run_on(c->iothread, objects_free, c);
		vmc_virtio_free(c->vdev);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

VMC_EXPORT void vmc_virtio_console_free(struct vmc_virtio_console *c)
{
	if (!c)
		return;
	/* No fd handler runs from here on; then the last reset returns
	 * the pending requests. */
	vmc__virtio_run_on(c->iothread, objects_free, c);
	vmc_virtio_free(c->vdev);
	free(c);
}

VMC_EXPORT struct vmc_virtio *
vmc_virtio_console_get_virtio(struct vmc_virtio_console *c)
{
	return c ? c->vdev : NULL;
}

VMC_EXPORT struct vmc_region *
vmc_virtio_console_get_region(struct vmc_virtio_console *c)
{
	return c ? vmc_virtio_get_region(c->vdev) : NULL;
}
