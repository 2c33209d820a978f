/* SPDX-License-Identifier: MIT */
/*
 * Notifier handlers: a uv_poll_t on the notifier's eventfd.  The handler
 * clears the notifier before calling back, so that signals sent during the
 * callback wake the loop again instead of being lost.
 *
 * Dropping a handler (also from inside its callback, or by freeing the
 * notifier there) closes its poll at once and frees the memory in libuv's
 * close callback; the wrapper reads nothing from the handler or the
 * notifier after the user callback.
 */
#include <stdlib.h>

#include "loop-internal.h"

struct vmc__notifier_handler {
	uv_poll_t poll;
	struct vmc_loop *loop;
	struct vmc_notifier *notifier;
	vmc_notifier_cb cb;
	void *userdata;
	struct vmc__lock *lock;
};

static void on_closed(uv_handle_t *h)
{
	free(container_of((uv_poll_t *)h, struct vmc__notifier_handler, poll));
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct vmc__notifier_handler *nh =
		container_of(p, struct vmc__notifier_handler, poll);
	struct vmc_notifier *n = nh->notifier;
	struct vmc_loop *loop = nh->loop;
	struct vmc__lock *lk;
	bool taken;

	vmc__loop_enter_cb(loop);
	if (vmc_notifier_test_and_clear(n) <= 0) {
		vmc__loop_leave_cb(loop);
		return;
	}
	lk = nh->lock;
	taken = vmc__lock_acquire_if_needed(lk);
	nh->cb(n, nh->userdata);
	vmc__lock_release_if(lk, taken);
	vmc__loop_note_event(loop);
	vmc__loop_leave_cb(loop);
}

void vmc__notifier_drop_handler(struct vmc_notifier *n)
{
	struct vmc__notifier_handler *nh = n->handler;
	struct vmc_loop *loop;

	if (!nh)
		return;
	loop = nh->loop;
	n->handler = NULL;
	vmc__loop_release_fd(loop, n->fd);
	uv_close((uv_handle_t *)&nh->poll, on_closed);
	vmc__loop_source_removed(loop);
	vmc_loop_unref(loop);
}

int vmc__notifier_set_handler_locked(struct vmc_notifier *n,
				     struct vmc_loop *loop,
				     struct vmc__lock *lock, vmc_notifier_cb cb,
				     void *userdata)
{
	struct vmc__notifier_handler *nh;
	int r;

	vmc_assert_return(n, -EINVAL);
	vmc_assert_return(!cb || loop, -EINVAL);

	if (!cb) {
		vmc__notifier_drop_handler(n);
		return 0;
	}
	nh = n->handler;
	if (nh && nh->loop == loop) {
		/* Same loop: keep the poll, swap the callback. */
		nh->cb = cb;
		nh->userdata = userdata;
		nh->lock = lock;
		return 0;
	}

	nh = calloc(1, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	vmc__notifier_drop_handler(n);
	r = vmc__loop_claim_fd(loop, n->fd);
	if (r < 0) {
		free(nh);
		return r;
	}
	r = uv_poll_init(loop->uv, &nh->poll, n->fd);
	if (r < 0) {
		vmc__loop_release_fd(loop, n->fd);
		free(nh);
		return r;
	}
	nh->loop = vmc_loop_ref(loop);
	nh->notifier = n;
	nh->cb = cb;
	nh->userdata = userdata;
	nh->lock = lock;
	r = uv_poll_start(&nh->poll, UV_READABLE, on_poll);
	if (r < 0) {
		vmc__loop_release_fd(loop, n->fd);
		uv_close((uv_handle_t *)&nh->poll, on_closed);
		vmc_loop_unref(loop);
		return r;
	}
	n->handler = nh;
	vmc__loop_source_added(loop);
	return 0;
}

VMC_EXPORT int vmc_notifier_set_handler(struct vmc_notifier *n,
					struct vmc_loop *loop,
					vmc_notifier_cb cb, void *userdata)
{
	return vmc__notifier_set_handler_locked(n, loop, NULL, cb, userdata);
}
