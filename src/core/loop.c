/* SPDX-License-Identifier: MIT */
/*
 * The loop: a libuv loop (own or adopted), one uv_async_t doorbell and one
 * uv_timer_t for every clock's timers.
 *
 * Lifetime: every source holds a reference, so the last unref happens when
 * no source is left.  Sources close their uv handles when they are freed
 * and release their memory in the close callback, which never touches the
 * loop.  The last unref closes the loop's own two handles; an own libuv
 * loop is then run until every pending close has completed and closed, an
 * adopted one is left to the host, whose next uv_run() completes the
 * closes and frees the struct.
 */
#include <assert.h>
#include <stdlib.h>

#include <libvmcore/vmc-uv.h>

#include "loop-internal.h"

static void loop_free(struct vmc_loop *loop)
{
	pthread_mutex_destroy(&loop->tlock);
	free(loop);
}

static void on_own_handle_closed(uv_handle_t *h)
{
	struct vmc_loop *loop = h->data;

	if (--loop->closing == 0 && !loop->own)
		loop_free(loop);
}

/*
 * Around every libuv callback of ours.  The reference keeps the loop alive
 * when the callback frees the last source that held one.
 */
void vmc__loop_enter_cb(struct vmc_loop *loop)
{
	vmc_loop_ref(loop);
	atomic_fetch_add_explicit(&loop->cb_depth, 1, memory_order_relaxed);
	atomic_store_explicit(&loop->thread, pthread_self(),
			      memory_order_relaxed);
}

void vmc__loop_leave_cb(struct vmc_loop *loop)
{
	atomic_fetch_sub_explicit(&loop->cb_depth, 1, memory_order_relaxed);
	vmc_loop_unref(loop);
}

bool vmc__loop_in_thread(struct vmc_loop *loop)
{
	pthread_t t;

	if (!loop)
		return false;
	t = atomic_load_explicit(&loop->thread, memory_order_relaxed);
	return t && pthread_equal(t, pthread_self());
}

/*
 * The doorbell keeps a loop of its own alive only while it has sources or
 * while vmc_loop_run() waits, so that a host running an adopted loop with
 * uv_run(UV_RUN_DEFAULT) still sees it finish when libvmcore has nothing
 * left on it.
 */
static void loop_update_ref(struct vmc_loop *loop)
{
	if (atomic_load_explicit(&loop->nsources, memory_order_relaxed) > 0 ||
	    atomic_load_explicit(&loop->running, memory_order_relaxed))
		uv_ref((uv_handle_t *)&loop->async);
	else
		uv_unref((uv_handle_t *)&loop->async);
}

void vmc__loop_source_added(struct vmc_loop *loop)
{
	if (atomic_fetch_add(&loop->nsources, 1) == 0)
		loop_update_ref(loop);
}

void vmc__loop_source_removed(struct vmc_loop *loop)
{
	if (atomic_fetch_sub(&loop->nsources, 1) == 1)
		loop_update_ref(loop);
}

int vmc__loop_claim_fd(struct vmc_loop *loop, int fd)
{
	struct vmc__fd_slot *s;

	for (s = loop->fds; s; s = s->next)
		if (s->fd == fd)
			return -EEXIST;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct vmc__fd_slot){.fd = fd, .next = loop->fds};
	loop->fds = s;
	return 0;
}

void vmc__loop_release_fd(struct vmc_loop *loop, int fd)
{
	for (struct vmc__fd_slot **p = &loop->fds; *p; p = &(*p)->next) {
		if ((*p)->fd == fd) {
			struct vmc__fd_slot *s = *p;

			*p = s->next;
			free(s);
			return;
		}
	}
}

void vmc__loop_wake(struct vmc_loop *loop)
{
	uv_async_send(&loop->async);
}

static void on_poll_idle(uv_idle_t *h)
{
	struct vmc_loop *loop = h->data;

	if (uv_hrtime() >= loop->poll_until) {
		uv_idle_stop(h);
		loop->polling = false;
	}
}

void vmc__loop_note_event(struct vmc_loop *loop)
{
	uint64_t ns =
		atomic_load_explicit(&loop->poll_ns, memory_order_relaxed);

	if (!ns)
		return;
	loop->poll_until = uv_hrtime() + ns;
	if (!loop->polling) {
		uv_idle_start(&loop->poll_idle, on_poll_idle);
		loop->polling = true;
	}
}

VMC_EXPORT int vmc_loop_set_poll_time(struct vmc_loop *loop, uint64_t ns)
{
	vmc_assert_return(loop && ns <= 1000000000u, -EINVAL);
	atomic_store_explicit(&loop->poll_ns, ns, memory_order_relaxed);
	return 0;
}

static void on_async(uv_async_t *a)
{
	struct vmc_loop *loop = a->data;

	vmc__loop_enter_cb(loop);
	vmc__loop_run_bhs(loop);
	if (atomic_exchange_explicit(&loop->timers_dirty, false,
				     memory_order_acquire))
		vmc__loop_run_timers(loop);
	vmc__loop_leave_cb(loop);
}

static int loop_setup(struct vmc_loop *loop)
{
	int r;

	r = uv_async_init(loop->uv, &loop->async, on_async);
	if (r < 0)
		return r;
	loop->async.data = loop;
	/* libuv's uv_timer_init() only links the handle; it cannot fail. */
	r = uv_timer_init(loop->uv, &loop->timer);
	assert(r == 0);
	loop->timer.data = loop;
	/* Neither can uv_idle_init(). */
	r = uv_idle_init(loop->uv, &loop->poll_idle);
	assert(r == 0);
	loop->poll_idle.data = loop;
	/* The sources keep the loop alive, not its internal handles. */
	uv_unref((uv_handle_t *)&loop->poll_idle);
	uv_unref((uv_handle_t *)&loop->timer);
	uv_unref((uv_handle_t *)&loop->async);

	atomic_init(&loop->refcount, 1);
	pthread_mutex_init(&loop->tlock, NULL);
	vmc__clock_init_loop_clock(loop, &loop->realtime, VMC_CLOCK_REALTIME);
	vmc__clock_init_loop_clock(loop, &loop->host, VMC_CLOCK_HOST);
	return 0;
}

VMC_EXPORT int vmc_loop_new(struct vmc_loop **ret)
{
	struct vmc_loop *loop;
	int r;

	vmc_assert_return(ret, -EINVAL);

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	r = uv_loop_init(&loop->own_uv);
	if (r < 0) {
		free(loop);
		return r;
	}
	loop->uv = &loop->own_uv;
	loop->own = true;
	r = loop_setup(loop);
	if (r < 0) {
		uv_loop_close(loop->uv);
		free(loop);
		return r;
	}
	*ret = loop;
	return 0;
}

VMC_EXPORT int vmc_loop_new_from_uv(uv_loop_t *uv, struct vmc_loop **ret)
{
	struct vmc_loop *loop;
	int r;

	vmc_assert_return(uv, -EINVAL);
	vmc_assert_return(ret, -EINVAL);

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->uv = uv;
	r = loop_setup(loop);
	if (r < 0) {
		free(loop);
		return r;
	}
	*ret = loop;
	return 0;
}

VMC_EXPORT uv_loop_t *vmc_loop_get_uv(struct vmc_loop *loop)
{
	vmc_assert_return(loop, NULL);
	return loop->uv;
}

VMC_EXPORT struct vmc_loop *vmc_loop_ref(struct vmc_loop *loop)
{
	if (loop)
		atomic_fetch_add_explicit(&loop->refcount, 1,
					  memory_order_relaxed);
	return loop;
}

static void loop_destroy(struct vmc_loop *loop)
{
	int r;

	vmc__loop_drain_bhs(loop);
	uv_timer_stop(&loop->timer);
	uv_idle_stop(&loop->poll_idle);
	loop->closing = 3;
	uv_close((uv_handle_t *)&loop->async, on_own_handle_closed);
	uv_close((uv_handle_t *)&loop->timer, on_own_handle_closed);
	uv_close((uv_handle_t *)&loop->poll_idle, on_own_handle_closed);
	if (!loop->own)
		return;
	/* Completes our closes and those of sources freed before. */
	uv_run(loop->uv, UV_RUN_DEFAULT);
	r = uv_loop_close(loop->uv);
	if (r < 0)
		vmc__err("loop: libuv loop still busy at teardown: %s",
			 uv_strerror(r));
	loop_free(loop);
}

VMC_EXPORT struct vmc_loop *vmc_loop_unref(struct vmc_loop *loop)
{
	if (!loop)
		return NULL;
	if (atomic_fetch_sub_explicit(&loop->refcount, 1,
				      memory_order_acq_rel) == 1)
		loop_destroy(loop);
	return NULL;
}

/*
 * Claim the loop for the calling thread.  The loop also keeps a reference
 * of its own while it runs, so a callback may drop the last user reference
 * to a source (and so to the loop) without freeing the loop under libuv.
 */
static int loop_begin(struct vmc_loop *loop)
{
	if (atomic_exchange(&loop->running, true))
		return -EBUSY;
	if (atomic_load_explicit(&loop->cb_depth, memory_order_relaxed) > 0) {
		atomic_store(&loop->running, false);
		return -EBUSY;
	}
	vmc_loop_ref(loop);
	atomic_store_explicit(&loop->thread, pthread_self(),
			      memory_order_relaxed);
	/* Makes libuv iterate (and, blocking, wait) even with no source. */
	uv_ref((uv_handle_t *)&loop->async);
	return 0;
}

static void loop_end(struct vmc_loop *loop)
{
	atomic_store_explicit(&loop->thread, (pthread_t)0,
			      memory_order_relaxed);
	atomic_store(&loop->running, false);
	loop_update_ref(loop);
	vmc_loop_unref(loop);
}

VMC_EXPORT int vmc_loop_run(struct vmc_loop *loop)
{
	int r;

	vmc_assert_return(loop, -EINVAL);
	r = loop_begin(loop);
	if (r < 0)
		return r;
	for (;;) {
		uv_run(loop->uv, UV_RUN_ONCE);
		if (atomic_exchange(&loop->stop_requested, false))
			break;
	}
	loop_end(loop);
	return 0;
}

VMC_EXPORT int vmc_loop_run_once(struct vmc_loop *loop, bool block)
{
	int r;

	vmc_assert_return(loop, -EINVAL);
	r = loop_begin(loop);
	if (r < 0)
		return r;
	uv_run(loop->uv, block ? UV_RUN_ONCE : UV_RUN_NOWAIT);
	r = atomic_load(&loop->nsources) > 0;
	loop_end(loop);
	return r;
}

VMC_EXPORT int vmc_loop_dispatch(struct vmc_loop *loop)
{
	int r;

	vmc_assert_return(loop, -EINVAL);
	r = loop_begin(loop);
	if (r < 0)
		return r;
	uv_run(loop->uv, UV_RUN_NOWAIT);
	loop_end(loop);
	return 0;
}

VMC_EXPORT int vmc_loop_stop(struct vmc_loop *loop)
{
	vmc_assert_return(loop, -EINVAL);
	atomic_store(&loop->stop_requested, true);
	/* Async-signal-safe, and wakes a loop blocked in its poll. */
	uv_async_send(&loop->async);
	return 0;
}

VMC_EXPORT int vmc_loop_get_fd(struct vmc_loop *loop)
{
	vmc_assert_return(loop, -EINVAL);
	return uv_backend_fd(loop->uv);
}

VMC_EXPORT int vmc_loop_get_timeout(struct vmc_loop *loop)
{
	int r;

	vmc_assert_return(loop, -EINVAL);
	/*
	 * libuv measures its timers from the time it cached at its last
	 * iteration; refresh it so the host does not oversleep.  Our doorbell
	 * counts as active meanwhile: libuv answers 0 for a loop without
	 * active handles, which would make the host spin.
	 */
	uv_update_time(loop->uv);
	uv_ref((uv_handle_t *)&loop->async);
	r = uv_backend_timeout(loop->uv);
	loop_update_ref(loop);
	return r;
}
