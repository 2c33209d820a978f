/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk: a disk on a raw file or block device.
 *
 * Threads.  Queue notifications, completions and reset run with the
 * device lock held (the VM lock, or the device mutex with an I/O thread):
 * notifications and completions on the device's loop (the VM's, or the I/O
 * thread's), reset on whichever thread holds the lock.  With an I/O thread
 * the completion notifier's handler takes the device mutex itself
 * (vmc_virtio_io_lock()).  A notification pops each request,
 * validates it, and either completes it at once (bad range, read-only,
 * GET_ID, unsupported) or submits it to the backend with the guest's
 * buffers mapped in place:
 * - io_uring: submitted and reaped only under the device lock; the ring's
 *   eventfd is @done, whose handler reaps completions on the device's loop.
 * - threads: @pending is a list the workers take requests from; they do
 *   the I/O without the VM lock, put the request on @finished (under
 *   @mtx) and signal @done.
 * Reset waits until nothing is in flight (reaping io_uring completions
 * itself, or waiting on @cond for the workers) and frees the elements
 * without publishing them, so a reset queue's used ring is never written.
 * A snapshot waits the same way but publishes them (blk_snap_save()).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-virtio-blk.h>

#include "../hw-snap.h"
#include "virtio-internal.h"
#include "vmc-config.h"

#if VMC_HAVE_LIBURING
#include <liburing.h>
#endif

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_BARRIER 0x80000000u

#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define SECTOR 512u
/* QEMU's BDRV_REQUEST_MAX_SECTORS: INT_MAX bytes in sectors. */
#define MAX_DWZ_SECTORS (0x7fffffffu / SECTOR)
#define CONFIG_SIZE 60

struct blk_req {
	struct vmc_virtio_blk *blk;
	struct vmc_virtq *vq;
	struct vmc_virtq_elem *elem;
	uint8_t *status;
	uint32_t type;
	uint32_t flags;
	uint32_t generation; /* the queue's, when the request was taken */
	uint64_t offset;
	uint64_t len;
	int iovcnt;
	int result; /* 0 or -errno */
	struct blk_req *next;
	struct iovec iov[];
};

struct vmc_virtio_blk {
	struct vmc_vm *vm;
	struct vmc_virtio *vdev;
	int fd;
	bool ro;
	uint64_t capacity; /* sectors */
	unsigned int num_queues, queue_size;
	char serial[VMC_VIRTIO_BLK_ID_BYTES];
	enum vmc_virtio_blk_aio aio;
	struct vmc_notifier *done;
	struct vmc_iothread *iothread; /* or NULL: the VM's loop */
	bool done_handler;	       /* @done's handler is installed */
	unsigned int inflight; /* submitted, not yet completed; device lock */
	struct vmc_snapshot_section *section;

#if VMC_HAVE_LIBURING
	struct io_uring ring;
	bool ring_up;
#endif

	/* The thread pool. */
	pthread_mutex_t mtx;
	pthread_cond_t cond;	  /* work on @pending, or @quit */
	pthread_cond_t idle_cond; /* @busy reached 0 */
	struct blk_req *pending, **pending_tail;
	struct blk_req *finished;
	unsigned int busy; /* on @pending or being worked on */
	bool quit;
	unsigned int nthreads;
	pthread_t *threads;
};

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* ------------------------------------------------------------------------
 * Doing one request synchronously (the worker threads)
 */

static int rw_all(int fd, struct iovec *iov, int cnt, uint64_t off, bool write)
{
	while (cnt > 0) {
		ssize_t n = write ? pwritev(fd, iov, cnt, (off_t)off)
				  : preadv(fd, iov, cnt, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		off += (uint64_t)n;
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int write_zeroes_slow(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[65536];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		struct iovec v = {.iov_base = (void *)zero, .iov_len = n};
		int r = rw_all(fd, &v, 1, off, true);

		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

static int do_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	int r;

	do
		r = fallocate(fd, mode, (off_t)off, (off_t)len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int do_request(int fd, struct blk_req *q)
{
	int r;

	switch (q->type) {
	case VIRTIO_BLK_T_IN:
		return rw_all(fd, q->iov, q->iovcnt, q->offset, false);
	case VIRTIO_BLK_T_OUT:
		return rw_all(fd, q->iov, q->iovcnt, q->offset, true);
	case VIRTIO_BLK_T_FLUSH:
		return fdatasync(fd) < 0 ? -errno : 0;
	case VIRTIO_BLK_T_DISCARD:
		r = do_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 q->offset, q->len);
		/* Discard is a hint: a file system without holes ignores it. */
		return r == -EOPNOTSUPP ? 0 : r;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		r = -EOPNOTSUPP;
		if (q->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			r = do_fallocate(
				fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				q->offset, q->len);
		if (r == -EOPNOTSUPP)
			r = do_fallocate(
				fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				q->offset, q->len);
		if (r == -EOPNOTSUPP || r == -EINVAL)
			r = write_zeroes_slow(fd, q->offset, q->len);
		return r;
	}
	return -EINVAL;
}

static void *worker(void *opaque)
{
	struct vmc_virtio_blk *blk = opaque;

	pthread_mutex_lock(&blk->mtx);
	for (;;) {
		struct blk_req *q;

		while (!blk->pending && !blk->quit)
			pthread_cond_wait(&blk->cond, &blk->mtx);
		if (!blk->pending)
			break;
		q = blk->pending;
		blk->pending = q->next;
		if (!blk->pending)
			blk->pending_tail = &blk->pending;
		pthread_mutex_unlock(&blk->mtx);

		q->result = do_request(blk->fd, q);

		pthread_mutex_lock(&blk->mtx);
		q->next = blk->finished;
		blk->finished = q;
		if (--blk->busy == 0)
			pthread_cond_broadcast(&blk->idle_cond);
		pthread_mutex_unlock(&blk->mtx);
		vmc_notifier_signal(blk->done);
		pthread_mutex_lock(&blk->mtx);
	}
	pthread_mutex_unlock(&blk->mtx);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Completion, with the VM lock
 */

static void req_free(struct blk_req *q)
{
	free(q);
}

/*
 * Write the status and publish (or, on reset, drop) the element.  Returns
 * the queue to notify, or NULL.
 */
static struct vmc_virtq *req_finish(struct blk_req *q, uint8_t status,
				    bool publish)
{
	struct vmc_virtq *vq = q->vq;

	/*
	 * The driver may have reset this one queue (QueueReady = 0) without
	 * resetting the device: its buffers are no longer ours to write.
	 */
	if (publish && vq->generation == q->generation) {
		*q->status = status;
		vmc_virtq_push(vq, q->elem, (uint32_t)q->elem->in_len);
	} else {
		vmc_virtq_elem_free(vq, q->elem);
		vq = NULL;
	}
	req_free(q);
	return vq;
}

static uint8_t result_status(const struct blk_req *q)
{
	if (q->result < 0) {
		vmc_log(VMC_LOG_DEBUG, "virtio-blk: request %u at %llu: %s",
			q->type, (unsigned long long)q->offset,
			strerror(-q->result));
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Complete a list of finished requests; notify each queue once. */
static void complete_list(struct vmc_virtio_blk *blk, struct blk_req *list,
			  bool publish)
{
	struct vmc_virtq *last = NULL;
	uint64_t touched = 0;

	while (list) {
		struct blk_req *q = list;
		struct vmc_virtq *vq;

		list = q->next;
		blk->inflight--;
		vq = req_finish(q, result_status(q), publish);
		if (vq) {
			touched |= 1ull << vmc_virtq_get_index(vq);
			last = vq;
		}
	}
	if (!last)
		return;
	for (unsigned int i = 0; i < blk->num_queues; i++)
		if (touched & 1ull << i)
			vmc_virtq_notify(vmc_virtio_get_queue(blk->vdev, i));
}

static struct blk_req *take_finished(struct vmc_virtio_blk *blk)
{
	struct blk_req *list, *rev = NULL;

	pthread_mutex_lock(&blk->mtx);
	list = blk->finished;
	blk->finished = NULL;
	pthread_mutex_unlock(&blk->mtx);
	/* Oldest first. */
	while (list) {
		struct blk_req *q = list;

		list = q->next;
		q->next = rev;
		rev = q;
	}
	return rev;
}

#if VMC_HAVE_LIBURING
/* Reap io_uring completions; with @wait, until nothing is in flight. */
static struct blk_req *uring_reap(struct vmc_virtio_blk *blk, bool wait)
{
	struct blk_req *list = NULL, **tail = &list;
	unsigned int submitted = blk->inflight;

	for (;;) {
		struct io_uring_cqe *cqe;
		int r;

		if (wait && submitted) {
			r = io_uring_wait_cqe(&blk->ring, &cqe);
			if (r == -EINTR)
				continue;
		} else {
			r = io_uring_peek_cqe(&blk->ring, &cqe);
		}
		if (r < 0)
			break;
		struct blk_req *q = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&blk->ring, cqe);
		if (!q)
			continue;
		if (q->type == VIRTIO_BLK_T_DISCARD && res == -EOPNOTSUPP)
			res = 0;
		/*
		 * A file system without ZERO_RANGE or holes (tmpfs): write
		 * the zeros here, synchronously, as the threads would.
		 */
		if (q->type == VIRTIO_BLK_T_WRITE_ZEROES &&
		    (res == -EOPNOTSUPP || res == -EINVAL))
			res = do_request(blk->fd, q);
		if ((q->type == VIRTIO_BLK_T_IN ||
		     q->type == VIRTIO_BLK_T_OUT) &&
		    res >= 0 && (uint64_t)res != q->len)
			res = -EIO; /* a short transfer: the file shrank */
		q->result = res < 0 ? res : 0;
		q->next = NULL;
		*tail = q;
		tail = &q->next;
		submitted--;
	}
	return list;
}
#endif

/* With the device lock. */
static void reap(struct vmc_virtio_blk *blk, bool publish)
{
#if VMC_HAVE_LIBURING
	if (blk->aio == VMC_VIRTIO_BLK_AIO_IO_URING) {
		complete_list(blk, uring_reap(blk, false), publish);
		return;
	}
#endif
	complete_list(blk, take_finished(blk), publish);
}

/* On the VM's loop, with the VM lock. */
static void on_done(struct vmc_notifier *n, void *opaque)
{
	vmc_notifier_test_and_clear(n);
	reap(opaque, true);
}

/* On the I/O thread: the device mutex only. */
static void on_done_io(struct vmc_notifier *n, void *opaque)
{
	struct vmc_virtio_blk *blk = opaque;

	vmc_notifier_test_and_clear(n);
	vmc_virtio_io_lock(blk->vdev);
	reap(blk, true);
	vmc_virtio_io_unlock(blk->vdev);
}

/* ------------------------------------------------------------------------
 * Submission, with the VM lock
 */

static int submit(struct vmc_virtio_blk *blk, struct blk_req *q)
{
#if VMC_HAVE_LIBURING
	if (blk->aio == VMC_VIRTIO_BLK_AIO_IO_URING) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&blk->ring);
		int mode;

		if (!sqe) {
			io_uring_submit(&blk->ring);
			sqe = io_uring_get_sqe(&blk->ring);
			if (!sqe)
				return -EBUSY;
		}
		switch (q->type) {
		case VIRTIO_BLK_T_IN:
			io_uring_prep_readv(sqe, blk->fd, q->iov,
					    (unsigned int)q->iovcnt, q->offset);
			break;
		case VIRTIO_BLK_T_OUT:
			io_uring_prep_writev(sqe, blk->fd, q->iov,
					     (unsigned int)q->iovcnt,
					     q->offset);
			break;
		case VIRTIO_BLK_T_FLUSH:
			io_uring_prep_fsync(sqe, blk->fd,
					    IORING_FSYNC_DATASYNC);
			break;
		default:
			mode = FALLOC_FL_KEEP_SIZE;
			if (q->type == VIRTIO_BLK_T_DISCARD ||
			    q->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
				mode |= FALLOC_FL_PUNCH_HOLE;
			else
				mode |= FALLOC_FL_ZERO_RANGE;
			io_uring_prep_fallocate(sqe, blk->fd, mode,
						(off_t)q->offset,
						(off_t)q->len);
			break;
		}
		io_uring_sqe_set_data(sqe, q);
		blk->inflight++;
		return 0;
	}
#endif
	q->next = NULL;
	pthread_mutex_lock(&blk->mtx);
	*blk->pending_tail = q;
	blk->pending_tail = &q->next;
	blk->busy++;
	pthread_cond_signal(&blk->cond);
	pthread_mutex_unlock(&blk->mtx);
	blk->inflight++;
	return 0;
}

static bool range_ok(const struct vmc_virtio_blk *blk, uint64_t sector,
		     uint64_t bytes)
{
	uint64_t n;

	if (bytes % SECTOR)
		return false;
	n = bytes / SECTOR;
	return sector <= blk->capacity && n <= blk->capacity - sector;
}

/*
 * Build the request for @e; NULL with *status set for one completed at
 * once, NULL with *status 0xff for a malformed one.
 */
static struct blk_req *parse(struct vmc_virtio_blk *blk, struct vmc_virtq *vq,
			     struct vmc_virtq_elem *e, uint8_t *status,
			     uint8_t **status_byte)
{
	uint8_t hdr[16], seg[16];
	struct vmc_virtio_buf *last;
	struct blk_req *q;
	uint32_t type;
	uint64_t sector;
	unsigned int n;

	*status = 0xff;
	if (e->out_num < 1 || e->in_num < 1) {
		vmc_virtio_set_needs_reset(blk->vdev,
					   "virtio-blk: missing headers");
		return NULL;
	}
	if (vmc_virtq_elem_from_out(e, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		vmc_virtio_set_needs_reset(
			blk->vdev, "virtio-blk: request header too short");
		return NULL;
	}
	last = &e->in[e->in_num - 1];
	*status_byte = (uint8_t *)last->base + last->len - 1;
	type = get_le32(hdr) & ~VIRTIO_BLK_T_BARRIER;
	sector = get_le64(hdr + 8);

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool out = type == VIRTIO_BLK_T_OUT;
		unsigned int nb = out ? e->out_num : e->in_num;
		size_t skip = out ? sizeof(hdr) : 0;
		uint64_t bytes = out ? e->out_len - sizeof(hdr) : e->in_len - 1;
		struct vmc_virtio_buf *b = out ? e->out : e->in;

		if (out && blk->ro) {
			*status = VIRTIO_BLK_S_IOERR;
			return NULL;
		}
		if (!range_ok(blk, sector, bytes)) {
			*status = VIRTIO_BLK_S_IOERR;
			return NULL;
		}
		q = calloc(1, sizeof(*q) + nb * sizeof(struct iovec));
		if (!q)
			return NULL;
		n = 0;
		for (unsigned int i = 0; i < nb; i++) {
			size_t len = b[i].len, off = 0;

			if (skip) {
				off = skip < len ? skip : len;
				skip -= off;
			}
			if (!out && i == nb - 1)
				len--; /* the status byte */
			if (len <= off)
				continue;
			q->iov[n].iov_base = (uint8_t *)b[i].base + off;
			q->iov[n].iov_len = len - off;
			n++;
		}
		q->iovcnt = (int)n;
		q->offset = sector * SECTOR;
		q->len = bytes;
		if (!bytes) {
			free(q);
			*status = VIRTIO_BLK_S_OK;
			return NULL;
		}
		break;
	}
	case VIRTIO_BLK_T_FLUSH:
		q = calloc(1, sizeof(*q));
		if (!q)
			return NULL;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		size_t room = e->in_len - 1;

		if (room > sizeof(blk->serial))
			room = sizeof(blk->serial);
		vmc_virtq_elem_to_in(e, 0, blk->serial, room);
		*status = VIRTIO_BLK_S_OK;
		return NULL;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		uint64_t s;
		uint32_t num, flags;
		bool wz = type == VIRTIO_BLK_T_WRITE_ZEROES;

		if (vmc_virtq_elem_from_out(e, sizeof(hdr), seg, sizeof(seg)) !=
		    sizeof(seg)) {
			vmc_virtio_set_needs_reset(
				blk->vdev, "virtio-blk: discard/write_zeroes "
					   "header too short");
			return NULL;
		}
		s = get_le64(seg);
		num = get_le32(seg + 8);
		flags = get_le32(seg + 12);
		if (flags & ~(wz ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0u)) {
			*status = VIRTIO_BLK_S_UNSUPP;
			return NULL;
		}
		if (blk->ro || num > MAX_DWZ_SECTORS ||
		    !range_ok(blk, s, (uint64_t)num * SECTOR)) {
			*status = VIRTIO_BLK_S_IOERR;
			return NULL;
		}
		if (!num) {
			*status = VIRTIO_BLK_S_OK;
			return NULL;
		}
		q = calloc(1, sizeof(*q));
		if (!q)
			return NULL;
		q->offset = s * SECTOR;
		q->len = (uint64_t)num * SECTOR;
		q->flags = flags;
		break;
	}
	default:
		*status = VIRTIO_BLK_S_UNSUPP;
		return NULL;
	}
	q->blk = blk;
	q->vq = vq;
	q->elem = e;
	q->type = type;
	q->status = *status_byte;
	q->generation = vq->generation;
	return q;
}

static void blk_notify(void *opaque, struct vmc_virtq *vq)
{
	struct vmc_virtio_blk *blk = opaque;
	struct vmc_virtq_elem *e;
	bool pushed = false, queued = false;

	while (vmc_virtq_pop(vq, &e) > 0) {
		uint8_t status, *sb = NULL;
		struct blk_req *q = parse(blk, vq, e, &status, &sb);

		if (!q && status == 0xff) {
			vmc_virtq_elem_free(vq, e);
			if (vmc__virtio_broken(blk->vdev))
				break;
			/* Out of memory: try again on the next kick. */
			vmc_log(VMC_LOG_WARNING, "virtio-blk: out of memory");
			break;
		}
		if (!q) {
			*sb = status;
			vmc_virtq_push(vq, e, (uint32_t)e->in_len);
			pushed = true;
			continue;
		}
		if (submit(blk, q) < 0) {
			*sb = VIRTIO_BLK_S_IOERR;
			vmc_virtq_push(vq, e, (uint32_t)e->in_len);
			free(q);
			pushed = true;
			continue;
		}
		queued = true;
	}
#if VMC_HAVE_LIBURING
	if (queued && blk->aio == VMC_VIRTIO_BLK_AIO_IO_URING)
		io_uring_submit(&blk->ring);
#else
	(void)queued;
#endif
	if (pushed)
		vmc_virtq_notify(vq);
}

/*
 * Wait for everything in flight, with the device lock; drop it
 * unpublished (reset), or publish it (a snapshot).  The completion
 * handler, if it runs afterwards, finds nothing.
 */
static void blk_drain(struct vmc_virtio_blk *blk, bool publish)
{
#if VMC_HAVE_LIBURING
	if (blk->aio == VMC_VIRTIO_BLK_AIO_IO_URING) {
		while (blk->inflight)
			complete_list(blk, uring_reap(blk, true), publish);
		return;
	}
#endif
	pthread_mutex_lock(&blk->mtx);
	while (blk->busy)
		pthread_cond_wait(&blk->idle_cond, &blk->mtx);
	pthread_mutex_unlock(&blk->mtx);
	complete_list(blk, take_finished(blk), publish);
}

static void blk_reset(void *opaque)
{
	blk_drain(opaque, false);
}

static int blk_config_read(void *opaque, uint64_t offset, unsigned int size,
			   uint64_t *value)
{
	struct vmc_virtio_blk *blk = opaque;
	uint8_t c[CONFIG_SIZE] = {0};
	uint64_t cyls = blk->capacity / (16 * 63);
	uint64_t v = 0;

	put_le32(c, (uint32_t)blk->capacity);
	put_le32(c + 4, (uint32_t)(blk->capacity >> 32));
	/* size_max (8) stays 0, as QEMU's. */
	put_le32(c + 12, blk->queue_size - 2); /* seg_max */
	put_le16(c + 16, (uint16_t)(cyls < 2	   ? 2
				    : cyls > 16383 ? 16383
						   : cyls));
	c[18] = 16;		  /* heads */
	c[19] = 63;		  /* sectors */
	put_le32(c + 20, SECTOR); /* blk_size */
	/* topology (24-31): exponent 0, alignment 0, min/opt io 0 */
	c[32] = 1; /* writeback */
	put_le16(c + 34, (uint16_t)blk->num_queues);
	put_le32(c + 36, MAX_DWZ_SECTORS); /* max_discard_sectors */
	put_le32(c + 40, 1);		   /* max_discard_seg */
	put_le32(c + 44, 1);		   /* discard alignment */
	put_le32(c + 48, MAX_DWZ_SECTORS); /* max_write_zeroes_sectors */
	put_le32(c + 52, 1);		   /* max_write_zeroes_seg */
	c[56] = 1;			   /* write_zeroes_may_unmap */
	if (offset + size > sizeof(c))
		return -EINVAL;
	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)c[offset + i] << 8 * i;
	*value = v;
	return 0;
}

static int blk_config_write(void *opaque, uint64_t offset, unsigned int size,
			    uint64_t value)
{
	/* Without VIRTIO_BLK_F_CONFIG_WCE the configuration is read-only. */
	return 0;
}

/* ------------------------------------------------------------------------
 * Life cycle
 */

VMC_EXPORT void vmc_virtio_blk_config_init(struct vmc_virtio_blk_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_virtio_blk_config){
		.size = sizeof(*c),
		.fd = -1,
		.num_queues = 1,
		.queue_size = 256,
		.threads = 4,
	};
}

static int backing_size(int fd, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*ret = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
	return -ENODEV;
}

#if VMC_HAVE_LIBURING
/* Whether the kernel's io_uring has every operation the device uses. */
static bool uring_has_ops(struct io_uring *ring)
{
	static const int ops[] = {IORING_OP_READV, IORING_OP_WRITEV,
				  IORING_OP_FSYNC, IORING_OP_FALLOCATE};
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	bool ok = p != NULL;

	for (size_t i = 0; ok && i < sizeof(ops) / sizeof(ops[0]); i++)
		ok = io_uring_opcode_supported(p, ops[i]);
	io_uring_free_probe(p);
	return ok;
}
#endif

static void stop_threads(struct vmc_virtio_blk *blk)
{
	pthread_mutex_lock(&blk->mtx);
	blk->quit = true;
	pthread_cond_broadcast(&blk->cond);
	pthread_mutex_unlock(&blk->mtx);
	for (unsigned int i = 0; i < blk->nthreads; i++)
		pthread_join(blk->threads[i], NULL);
	blk->nthreads = 0;
	free(blk->threads);
	blk->threads = NULL;
}

static int start_backend(struct vmc_virtio_blk *blk,
			 const struct vmc_virtio_blk_config *config)
{
	int r;

	r = vmc_notifier_new(&blk->done);
	if (r < 0)
		return r;
#if VMC_HAVE_LIBURING
	if (config->aio != VMC_VIRTIO_BLK_AIO_THREADS) {
		unsigned int entries = blk->queue_size * blk->num_queues;

		r = io_uring_queue_init(entries > 4096 ? 4096 : entries,
					&blk->ring, 0);
		if (r == 0 && !uring_has_ops(&blk->ring)) {
			io_uring_queue_exit(&blk->ring);
			r = -EOPNOTSUPP;
		}
		if (r == 0) {
			r = io_uring_register_eventfd(
				&blk->ring, vmc_notifier_get_fd(blk->done));
			if (r < 0)
				io_uring_queue_exit(&blk->ring);
		}
		if (r == 0) {
			blk->ring_up = true;
			blk->aio = VMC_VIRTIO_BLK_AIO_IO_URING;
			return 0;
		}
		if (config->aio == VMC_VIRTIO_BLK_AIO_IO_URING)
			return -EOPNOTSUPP;
		vmc_log(VMC_LOG_INFO,
			"virtio-blk: io_uring unavailable (%s), using threads",
			strerror(-r));
	}
#else
	if (config->aio == VMC_VIRTIO_BLK_AIO_IO_URING)
		return -EOPNOTSUPP;
#endif
	blk->aio = VMC_VIRTIO_BLK_AIO_THREADS;
	blk->threads = calloc(config->threads, sizeof(pthread_t));
	if (!blk->threads)
		return -ENOMEM;
	for (unsigned int i = 0; i < config->threads; i++) {
		r = pthread_create(&blk->threads[i], NULL, worker, blk);
		if (r) {
			stop_threads(blk);
			return -r;
		}
		blk->nthreads++;
	}
	return 0;
}

/* @done's handler, on the device's loop thread (vmc__virtio_run_on()). */
static void done_handler_here(void *opaque)
{
	struct vmc_virtio_blk *blk = opaque;
	int r;

	if (blk->done_handler) {
		if (blk->iothread)
			vmc_notifier_set_handler(blk->done, NULL, NULL, NULL);
		else
			vmc_vm_notifier_set_handler(blk->vm, blk->done, NULL,
						    NULL);
		blk->done_handler = false;
		return;
	}
	if (blk->iothread)
		r = vmc_notifier_set_handler(
			blk->done, vmc_iothread_get_loop(blk->iothread),
			on_done_io, blk);
	else
		r = vmc_vm_notifier_set_handler(blk->vm, blk->done, on_done,
						blk);
	blk->done_handler = r == 0;
}

static void destroy(struct vmc_virtio_blk *blk)
{
	/* A completion handler running now finishes first. */
	if (blk->done_handler)
		vmc__virtio_run_on(blk->iothread, done_handler_here, blk);
	stop_threads(blk);
#if VMC_HAVE_LIBURING
	if (blk->ring_up)
		io_uring_queue_exit(&blk->ring);
#endif
	vmc_notifier_free(blk->done);
	if (blk->fd >= 0)
		close(blk->fd);
	pthread_cond_destroy(&blk->idle_cond);
	pthread_cond_destroy(&blk->cond);
	pthread_mutex_destroy(&blk->mtx);
	free(blk);
}

/* ------------------------------------------------------------------------
 * Snapshot section "virtio-blk" (version 1): the disk's capacity and
 * read-only flag, so that a snapshot is not restored over another disk.
 * The queues are the transport's section.  Requests in flight are waited
 * for and published here, before the transport saves its rings and the
 * snapshot copies RAM: this section is registered before the transport's,
 * and sections are saved in registration order before RAM.  The disk's
 * contents are the host's: a snapshot does not copy them.
 */

static int blk_snap_save(void *opaque, void *buf, size_t size)
{
	struct vmc_virtio_blk *blk = opaque;
	struct hw_snap s = {.save = true, .out = buf, .size = size};

	/* The VM lock is held: with an I/O thread, take its mutex too. */
	if (blk->iothread)
		vmc_virtio_io_lock(blk->vdev);
	if (blk->vdev)
		blk_drain(blk, true);
	if (blk->iothread)
		vmc_virtio_io_unlock(blk->vdev);
	hw_snap_put(&s, blk->capacity, 8);
	hw_snap_put(&s, blk->ro, 1);
	return hw_snap_result(&s);
}

static int blk_snap_check(void *opaque, const void *buf, size_t size,
			  uint32_t version)
{
	struct vmc_virtio_blk *blk = opaque;
	struct hw_snap s = {.in = buf, .size = size};
	uint64_t capacity = hw_snap_get(&s, 8);
	bool ro = hw_snap_get(&s, 1) != 0;

	if (version != 1 || !hw_snap_done(&s) || capacity != blk->capacity ||
	    ro != blk->ro)
		return -EINVAL;
	return 0;
}

/*
 * Quiesced after the transport (vmc-snapshot.h: reverse registration
 * order), so no new request can start: wait for the ones in flight and
 * publish them, so that no worker or io_uring writes guest RAM while a
 * restore rewrites it, or after a snapshot copied it.
 */
static int blk_snap_quiesce(void *opaque)
{
	struct vmc_virtio_blk *blk = opaque;

	if (!blk->vdev)
		return 0;
	if (blk->iothread)
		vmc_virtio_io_lock(blk->vdev);
	blk_drain(blk, true);
	if (blk->iothread)
		vmc_virtio_io_unlock(blk->vdev);
	return 0;
}

static const struct vmc_snapshot_section_ops blk_snap_ops = {
	.struct_size = sizeof(blk_snap_ops),
	.save = blk_snap_save,
	.check = blk_snap_check,
	.load = blk_snap_check,
	.quiesce = blk_snap_quiesce,
};

VMC_EXPORT int vmc_virtio_blk_new(const struct vmc_virtio_blk_config *config,
				  struct vmc_virtio_blk **ret)
{
	static const struct vmc_virtio_ops ops = {
		.struct_size = sizeof(ops),
		.queue_notify = blk_notify,
		.reset = blk_reset,
		.config_read = blk_config_read,
		.config_write = blk_config_write,
	};
	struct vmc_virtio_config vc;
	struct vmc_virtio_blk *blk;
	uint64_t bytes;
	int r, fl;

	VMC_CHECK_RETURN(config && ret && config->size >= sizeof(*config),
			 -EINVAL);
	VMC_CHECK_RETURN(config->vm, -EINVAL);
	VMC_CHECK_RETURN(config->num_queues >= 1 && config->num_queues <= 64,
			 -EINVAL);
	VMC_CHECK_RETURN(
		config->queue_size >= 4 && config->queue_size <= 1024 &&
			!(config->queue_size & (config->queue_size - 1)),
		-EINVAL);
	VMC_CHECK_RETURN(config->threads >= 1 && config->threads <= 64,
			 -EINVAL);
	VMC_CHECK_RETURN(config->aio <= VMC_VIRTIO_BLK_AIO_THREADS, -EINVAL);
	VMC_CHECK_RETURN(!config->serial || strlen(config->serial) <=
						    VMC_VIRTIO_BLK_ID_BYTES,
			 -EINVAL);
	VMC_CHECK_RETURN(config->fd >= 0, -EBADF);
	if (config->iothread && vmc_iothread_is_current(config->iothread))
		return -EDEADLK;
	fl = fcntl(config->fd, F_GETFL);
	VMC_CHECK_RETURN(fl >= 0, -EBADF);
	VMC_CHECK_RETURN(config->read_only || (fl & O_ACCMODE) != O_RDONLY,
			 -EACCES);
	r = backing_size(config->fd, &bytes);
	if (r < 0)
		return r;

	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	blk->vm = config->vm;
	blk->iothread = config->iothread;
	blk->ro = config->read_only;
	blk->capacity = bytes / SECTOR;
	blk->num_queues = config->num_queues;
	blk->queue_size = config->queue_size;
	if (config->serial)
		memcpy(blk->serial, config->serial, strlen(config->serial));
	pthread_mutex_init(&blk->mtx, NULL);
	pthread_cond_init(&blk->cond, NULL);
	pthread_cond_init(&blk->idle_cond, NULL);
	blk->pending_tail = &blk->pending;
	blk->fd = fcntl(config->fd, F_DUPFD_CLOEXEC, 0);
	if (blk->fd < 0) {
		r = -errno;
		goto fail;
	}
	r = start_backend(blk, config);
	if (r < 0)
		goto fail;

	vmc_virtio_config_init(&vc);
	vc.vm = config->vm;
	vc.irq = config->irq;
	vc.device_id = VIRTIO_ID_BLOCK;
	vc.features =
		1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC |
		1ull << VMC_VIRTIO_F_RING_EVENT_IDX |
		1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_GEOMETRY |
		1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
		1ull << VIRTIO_BLK_F_TOPOLOGY | 1ull << VIRTIO_BLK_F_DISCARD |
		1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (blk->ro)
		vc.features |= 1ull << VIRTIO_BLK_F_RO;
	if (blk->num_queues > 1)
		vc.features |= 1ull << VIRTIO_BLK_F_MQ;
	vc.num_queues = blk->num_queues;
	vc.queue_max_size = blk->queue_size;
	vc.config_size = CONFIG_SIZE;
	vc.legacy = config->legacy;
	vc.name = "virtio-blk";
	vc.iothread = blk->iothread;
	vc.irq_any_thread = config->irq_any_thread;
	/* Before the transport's section: see blk_snap_save(). */
	r = vmc_vm_add_snapshot_section(blk->vm, "virtio-blk", 1, &blk_snap_ops,
					blk, &blk->section);
	if (r < 0)
		goto fail;
	r = vmc_virtio_new(&vc, &ops, blk, &blk->vdev);
	if (r < 0) {
		vmc_vm_remove_snapshot_section(blk->vm, blk->section);
		goto fail;
	}
	vmc__virtio_run_on(blk->iothread, done_handler_here, blk);
	if (!blk->done_handler) {
		r = -ENOMEM;
		vmc_vm_remove_snapshot_section(blk->vm, blk->section);
		vmc_virtio_free(blk->vdev);
		goto fail;
	}
	*ret = blk;
	return 0;
fail:
	destroy(blk);
	return r;
}

VMC_EXPORT void vmc_virtio_blk_free(struct vmc_virtio_blk *blk)
{
	if (!blk)
		return;
	vmc_vm_remove_snapshot_section(blk->vm, blk->section);
	blk->section = NULL;
	/* No completion handler may run once the transport is gone. */
	if (blk->done_handler)
		vmc__virtio_run_on(blk->iothread, done_handler_here, blk);
	/* Its last reset waits for the requests in flight. */
	vmc_virtio_free(blk->vdev);
	destroy(blk);
}

VMC_EXPORT struct vmc_virtio *
vmc_virtio_blk_get_virtio(struct vmc_virtio_blk *blk)
{
	return blk ? blk->vdev : NULL;
}

VMC_EXPORT struct vmc_region *
vmc_virtio_blk_get_region(struct vmc_virtio_blk *blk)
{
	return blk ? vmc_virtio_get_region(blk->vdev) : NULL;
}

VMC_EXPORT enum vmc_virtio_blk_aio
vmc_virtio_blk_get_aio(const struct vmc_virtio_blk *blk)
{
	return blk ? blk->aio : VMC_VIRTIO_BLK_AIO_AUTO;
}

VMC_EXPORT uint64_t
vmc_virtio_blk_get_capacity(const struct vmc_virtio_blk *blk)
{
	return blk ? blk->capacity : 0;
}
