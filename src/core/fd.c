/* SPDX-License-Identifier: MIT */
/*
 * fd handlers: one uv_poll_t each.
 *
 * Freeing stops the poll and starts libuv's asynchronous close at once; the
 * memory goes in the close callback, which libuv runs after the current
 * callback has returned.  So a handler freed inside its own callback is
 * still readable by the wrapper below, which checks `freed` before the
 * second callback and reads nothing else afterwards.
 */
#include <stdlib.h>

#include "loop-internal.h"

struct vmc_fd_handler {
	uv_poll_t poll;
	struct vmc_loop *loop;
	int fd;
	vmc_fd_cb read_cb;
	vmc_fd_cb write_cb;
	void *userdata;
	struct vmc__lock *lock;
	bool freed;
};

static void on_closed(uv_handle_t *h)
{
	free(container_of((uv_poll_t *)h, struct vmc_fd_handler, poll));
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct vmc_fd_handler *h = container_of(p, struct vmc_fd_handler, poll);
	struct vmc_loop *loop = h->loop;
	struct vmc__lock *lk = h->lock;
	bool taken;

	vmc__loop_enter_cb(loop);
	/* An error or hang-up: let both callbacks see it in read()/write(). */
	if (status < 0)
		events = UV_READABLE | UV_WRITABLE;
	taken = vmc__lock_acquire_if_needed(lk);
	if ((events & UV_READABLE) && h->read_cb)
		h->read_cb(h, h->fd, h->userdata);
	if ((events & UV_WRITABLE) && !h->freed && h->write_cb)
		h->write_cb(h, h->fd, h->userdata);
	vmc__lock_release_if(lk, taken);
	vmc__loop_note_event(loop);
	vmc__loop_leave_cb(loop);
}

static int fd_handler_arm(struct vmc_fd_handler *h)
{
	int events = (h->read_cb ? UV_READABLE : 0) |
		     (h->write_cb ? UV_WRITABLE : 0);

	if (!events)
		return uv_poll_stop(&h->poll);
	return uv_poll_start(&h->poll, events, on_poll);
}

int vmc__loop_add_fd_locked(struct vmc_loop *loop, struct vmc__lock *lock,
			    int fd, vmc_fd_cb read_cb, vmc_fd_cb write_cb,
			    void *userdata, struct vmc_fd_handler **ret)
{
	struct vmc_fd_handler *h;
	int r;

	vmc_assert_return(loop, -EINVAL);
	vmc_assert_return(ret, -EINVAL);
	vmc_assert_return(fd >= 0, -EINVAL);

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	r = vmc__loop_claim_fd(loop, fd);
	if (r < 0) {
		free(h);
		return r;
	}
	r = uv_poll_init(loop->uv, &h->poll, fd);
	if (r < 0) {
		vmc__loop_release_fd(loop, fd);
		free(h);
		return r;
	}
	h->loop = vmc_loop_ref(loop);
	h->fd = fd;
	h->read_cb = read_cb;
	h->write_cb = write_cb;
	h->userdata = userdata;
	h->lock = lock;
	r = fd_handler_arm(h);
	if (r < 0) {
		vmc__loop_release_fd(loop, fd);
		uv_close((uv_handle_t *)&h->poll, on_closed);
		vmc_loop_unref(loop);
		return r;
	}
	vmc__loop_source_added(loop);
	*ret = h;
	return 0;
}

VMC_EXPORT int vmc_loop_add_fd(struct vmc_loop *loop, int fd, vmc_fd_cb read_cb,
			       vmc_fd_cb write_cb, void *userdata,
			       struct vmc_fd_handler **ret)
{
	return vmc__loop_add_fd_locked(loop, NULL, fd, read_cb, write_cb,
				       userdata, ret);
}

VMC_EXPORT int vmc_fd_handler_set(struct vmc_fd_handler *h, vmc_fd_cb read_cb,
				  vmc_fd_cb write_cb, void *userdata)
{
	vmc_assert_return(h, -EINVAL);
	vmc_assert_return(!h->freed, -EINVAL);
	h->read_cb = read_cb;
	h->write_cb = write_cb;
	h->userdata = userdata;
	return fd_handler_arm(h);
}

VMC_EXPORT void vmc_fd_handler_free(struct vmc_fd_handler *h)
{
	struct vmc_loop *loop;

	if (!h || h->freed)
		return;
	loop = h->loop;
	h->freed = true;
	h->read_cb = NULL;
	h->write_cb = NULL;
	vmc__loop_release_fd(loop, h->fd);
	uv_close((uv_handle_t *)&h->poll, on_closed);
	vmc__loop_source_removed(loop);
	vmc_loop_unref(loop);
}
