/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng: fills the driver's buffers with host entropy.
 *
 * Everything runs with the device lock held (the VM lock, or the device
 * mutex with an I/O thread): queue notifications and the source fd's
 * handler on the device's loop thread (the VM's, or the I/O thread's,
 * where the handler is a plain one taking the mutex through
 * vmc_virtio_io_lock()), reset on whichever thread holds the lock.  A request
 * that the source cannot serve yet (an fd with no data) stays as @pending, and
 * the fd handler, armed on the loop, serves it when the fd becomes readable.
 * Since fd handlers change only on the loop thread, a reset from a vCPU thread
 * leaves the handler armed; a spurious wake-up then finds nothing to do and
 * disarms it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-virtio-rng.h>

#include "virtio-internal.h"

#define VIRTIO_ID_RNG 4

struct vmc_virtio_rng {
	struct vmc_vm *vm;
	struct vmc_iothread *iothread; /* or NULL: the VM's loop */
	int setup_err;
	struct vmc_virtio *vdev;
	int fd;
	struct vmc_fd_handler *fdh;
	bool armed, eof;
	struct vmc_virtq *pending_vq;
	struct vmc_virtq_elem *pending;
};

/* Fill @e's writable buffers; the bytes given, 0 to wait, -1 at the end. */
static ssize_t fill(struct vmc_virtio_rng *rng, struct vmc_virtq_elem *e)
{
	size_t done = 0;

	for (unsigned int i = 0; i < e->in_num; i++) {
		struct vmc_virtio_buf *b = &e->in[i];
		ssize_t n;

		if (rng->fd < 0) {
			size_t got = 0;

			while (got < b->len) {
				n = getrandom((uint8_t *)b->base + got,
					      b->len - got, 0);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					return done ? (ssize_t)done : -1;
				got += (size_t)n;
			}
			done += got;
			continue;
		}
		/* One read per request from a host fd, without blocking. */
		struct pollfd p = {.fd = rng->fd, .events = POLLIN};

		if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
			return (ssize_t)done;
		do
			n = read(rng->fd, b->base, b->len);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			return (ssize_t)(done + (size_t)n);
		if (n == 0 || errno != EAGAIN)
			return done ? (ssize_t)done : -1;
		return (ssize_t)done;
	}
	return (ssize_t)done;
}

static void arm(struct vmc_virtio_rng *rng, bool on);

static void process(struct vmc_virtio_rng *rng, struct vmc_virtq *vq)
{
	bool pushed = false;

	for (;;) {
		struct vmc_virtq_elem *e = rng->pending;
		ssize_t n;

		rng->pending = NULL;
		if (!e && (rng->eof || vmc_virtq_pop(vq, &e) <= 0))
			break;
		n = fill(rng, e);
		if (n == 0 && e->in_len) {
			rng->pending = e;
			rng->pending_vq = vq;
			break;
		}
		if (n < 0) {
			if (!rng->eof)
				vmc_log(VMC_LOG_WARNING, "virtio-rng: entropy "
							 "source ended");
			rng->eof = true;
			rng->pending = e;
			rng->pending_vq = vq;
			break;
		}
		vmc_virtq_push(vq, e, (uint32_t)n);
		pushed = true;
	}
	if (pushed)
		vmc_virtq_notify(vq);
	arm(rng, rng->pending && !rng->eof);
}

static void fd_readable(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_virtio_rng *rng = userdata;

	if (rng->iothread)
		vmc_virtio_io_lock(rng->vdev);
	if (rng->pending && vmc_virtq_is_ready(rng->pending_vq))
		process(rng, rng->pending_vq);
	else
		arm(rng, false);
	if (rng->iothread)
		vmc_virtio_io_unlock(rng->vdev);
}

/* The source fd's handler, on the device's loop thread. */
static void fdh_new(void *opaque)
{
	struct vmc_virtio_rng *rng = opaque;
	int r;

	if (rng->iothread)
		r = vmc_loop_add_fd(vmc_iothread_get_loop(rng->iothread),
				    rng->fd, NULL, NULL, rng, &rng->fdh);
	else
		r = vmc_vm_fd_handler_new(rng->vm, rng->fd, NULL, NULL, rng,
					  &rng->fdh);
	/* A regular file cannot be polled, and never blocks. */
	if (r == -EPERM) {
		rng->fdh = NULL;
		r = 0;
	}
	rng->setup_err = r;
}

static void fdh_free(void *opaque)
{
	struct vmc_virtio_rng *rng = opaque;

	vmc_virtio_io_lock(rng->vdev);
	vmc_fd_handler_free(rng->fdh);
	rng->fdh = NULL;
	vmc_virtio_io_unlock(rng->vdev);
}

/* On the loop thread only. */
static void arm(struct vmc_virtio_rng *rng, bool on)
{
	if (!rng->fdh || rng->armed == on)
		return;
	vmc_fd_handler_set(rng->fdh, on ? fd_readable : NULL, NULL, rng);
	rng->armed = on;
}

static void rng_notify(void *opaque, struct vmc_virtq *vq)
{
	process(opaque, vq);
}

static void rng_reset(void *opaque)
{
	struct vmc_virtio_rng *rng = opaque;

	vmc_virtq_elem_free(rng->pending_vq, rng->pending);
	rng->pending = NULL;
	rng->pending_vq = NULL;
}

VMC_EXPORT void vmc_virtio_rng_config_init(struct vmc_virtio_rng_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_virtio_rng_config){.size = sizeof(*c), .fd = -1};
}

VMC_EXPORT int vmc_virtio_rng_new(const struct vmc_virtio_rng_config *config,
				  struct vmc_virtio_rng **ret)
{
	static const struct vmc_virtio_ops ops = {
		.struct_size = sizeof(ops),
		.queue_notify = rng_notify,
		.reset = rng_reset,
	};
	struct vmc_virtio_config vc;
	struct vmc_virtio_rng *rng;
	int r;

	VMC_CHECK_RETURN(config && ret && config->size >= sizeof(*config),
			 -EINVAL);
	VMC_CHECK_RETURN(config->vm, -EINVAL);
	VMC_CHECK_RETURN(config->fd < 0 || fcntl(config->fd, F_GETFD) >= 0,
			 -EBADF);
	if (config->iothread && vmc_iothread_is_current(config->iothread))
		return -EDEADLK;
	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	rng->vm = config->vm;
	rng->iothread = config->iothread;
	rng->fd = config->fd < 0 ? -1 : config->fd;
	vmc_virtio_config_init(&vc);
	vc.vm = config->vm;
	vc.irq = config->irq;
	vc.device_id = VIRTIO_ID_RNG;
	vc.features = 1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC |
		      1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	vc.num_queues = 1;
	vc.queue_max_size = 8; /* QEMU's */
	vc.legacy = config->legacy;
	vc.name = "virtio-rng";
	vc.iothread = config->iothread;
	vc.irq_any_thread = config->irq_any_thread;
	r = vmc_virtio_new(&vc, &ops, rng, &rng->vdev);
	if (r < 0)
		goto fail;
	if (rng->fd >= 0) {
		vmc__virtio_run_on(rng->iothread, fdh_new, rng);
		r = rng->setup_err;
		if (r < 0) {
			vmc_virtio_free(rng->vdev);
			goto fail;
		}
	}
	*ret = rng;
	return 0;
fail:
	free(rng);
	return r;
}

VMC_EXPORT void vmc_virtio_rng_free(struct vmc_virtio_rng *rng)
{
	if (!rng)
		return;
	/* The handler goes first; the last reset returns the request. */
	if (rng->fdh)
		vmc__virtio_run_on(rng->iothread, fdh_free, rng);
	vmc_virtio_free(rng->vdev);
	free(rng);
}

VMC_EXPORT struct vmc_virtio *
vmc_virtio_rng_get_virtio(struct vmc_virtio_rng *rng)
{
	return rng ? rng->vdev : NULL;
}

VMC_EXPORT struct vmc_region *
vmc_virtio_rng_get_region(struct vmc_virtio_rng *rng)
{
	return rng ? vmc_virtio_get_region(rng->vdev) : NULL;
}
