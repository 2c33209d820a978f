/* SPDX-License-Identifier: MIT */
/*
 * Clocks and timers.
 *
 * libuv timers follow one clock (its cached monotonic time), but a virtual
 * clock freezes, and a deterministic one moves only when told.  So each
 * clock keeps its own list of armed timers, sorted by deadline (equal
 * deadlines in arming order), and the loop arms a single uv_timer_t for the
 * host-time distance to the earliest deadline that can fire.  The distance
 * is recomputed every time a timer run ends and whenever a list head moves.
 *
 * Every list sits under loop->tlock, a leaf mutex, so any thread may arm
 * and disarm.  A timer is removed from its list before its callback runs
 * and the mutex is dropped around the callback, which may therefore re-arm
 * or free the timer.  A timer with a lock (the VM lock) is taken off the
 * list only once that lock is held: a thread that disarms the timer or
 * stops the clock while holding the lock knows the callback will not run.
 */
#include <stdlib.h>

#include "loop-internal.h"

struct vmc_timer {
	struct vmc_clock *clock;
	vmc_timer_cb cb;
	void *userdata;
	struct vmc__lock *lock;
	/* Under loop->tlock.  deadline is -1 while disarmed. */
	int64_t deadline;
	uint64_t seq;
	struct vmc_timer *next;
	struct vmc_timer **pprev;
};

static inline void tlock(struct vmc_clock *c)
{
	pthread_mutex_lock(&c->loop->tlock);
}

static inline void tunlock(struct vmc_clock *c)
{
	pthread_mutex_unlock(&c->loop->tlock);
}

void vmc__clock_init_loop_clock(struct vmc_loop *loop, struct vmc_clock *c,
				enum vmc_clock_type type)
{
	*c = (struct vmc_clock){
		.type = type,
		.loop = loop,
		.running = true,
	};
}

/* The clock's time; loop->tlock held for a real-time virtual clock. */
static int64_t clock_now_locked(const struct vmc_clock *c)
{
	switch (c->type) {
	case VMC_CLOCK_HOST:
		return vmc__wall_ns();
	case VMC_CLOCK_VIRTUAL:
		if (c->deterministic)
			return atomic_load_explicit(&c->det_ns,
						    memory_order_acquire);
		return c->running ? vmc__monotonic_ns() + c->offset : c->frozen;
	default:
		return vmc__monotonic_ns();
	}
}

/*
 * Host nanoseconds until the clock's first timer is due, or INT64_MAX if
 * none can fire by the passing of host time alone.  loop->tlock held.
 */
static int64_t clock_distance_locked(const struct vmc_clock *c)
{
	int64_t d;

	if (!c->head || !c->running)
		return INT64_MAX;
	if (c->type == VMC_CLOCK_VIRTUAL && c->deterministic)
		return c->head->deadline <= atomic_load(&c->det_ns) ? 0
								    : INT64_MAX;
	d = c->head->deadline - clock_now_locked(c);
	return d > 0 ? d : 0;
}

static void on_uv_timer(uv_timer_t *ut)
{
	struct vmc_loop *loop = ut->data;

	vmc__loop_enter_cb(loop);
	vmc__loop_run_timers(loop);
	vmc__loop_leave_cb(loop);
}

/* Arm the loop's uv timer for the earliest due timer (loop thread). */
static void loop_reprogram(struct vmc_loop *loop)
{
	int64_t min;
	uint64_t ms;

	pthread_mutex_lock(&loop->tlock);
	min = clock_distance_locked(&loop->realtime);
	if (clock_distance_locked(&loop->host) < min)
		min = clock_distance_locked(&loop->host);
	for (struct vmc_clock *c = loop->virtual_clocks; c; c = c->next)
		if (clock_distance_locked(c) < min)
			min = clock_distance_locked(c);
	pthread_mutex_unlock(&loop->tlock);

	if (min == INT64_MAX) {
		uv_timer_stop(&loop->timer);
		return;
	}
	if (min == 0) {
		/*
		 * Due now.  A zero uv timer started from inside a uv timer
		 * callback would run again in the same libuv timer pass, so
		 * a timer re-arming itself in the past would starve the loop;
		 * the doorbell runs it at the next iteration instead.
		 */
		uv_timer_stop(&loop->timer);
		atomic_store_explicit(&loop->timers_dirty, true,
				      memory_order_release);
		vmc__loop_wake(loop);
		return;
	}
	/* Round up: waking early would only re-arm for the remainder. */
	ms = ((uint64_t)min + 999999) / 1000000;
	uv_update_time(loop->uv);
	uv_timer_start(&loop->timer, on_uv_timer, ms, 0);
}

/* A list head moved or a clock changed state: re-arm, or wake the loop. */
static void timers_changed(struct vmc_loop *loop)
{
	if (vmc__loop_in_thread(loop)) {
		if (!loop->in_timer_run)
			loop_reprogram(loop);
		return;
	}
	atomic_store_explicit(&loop->timers_dirty, true, memory_order_release);
	vmc__loop_wake(loop);
}

static void timer_unlink(struct vmc_timer *t)
{
	if (t->deadline < 0)
		return;
	if (t->next)
		t->next->pprev = t->pprev;
	*t->pprev = t->next;
	t->next = NULL;
	t->pprev = NULL;
	t->deadline = -1;
}

static void timer_insert(struct vmc_timer *t, int64_t deadline)
{
	struct vmc_clock *c = t->clock;
	struct vmc_timer **pp = &c->head;

	/* After every timer with the same deadline: those fire first. */
	while (*pp && (*pp)->deadline <= deadline)
		pp = &(*pp)->next;
	t->deadline = deadline;
	t->seq = ++c->arm_seq;
	t->next = *pp;
	t->pprev = pp;
	if (*pp)
		(*pp)->pprev = &t->next;
	*pp = t;
}

static struct vmc_clock *clock_ref_internal(struct vmc_clock *c)
{
	if (c->type == VMC_CLOCK_VIRTUAL)
		atomic_fetch_add_explicit(&c->refcount, 1,
					  memory_order_relaxed);
	return c;
}

/*
 * Run the clock's due timers in deadline order.  Stepping, the limit is
 * @target and the clock reads each deadline in turn; otherwise the limit is
 * the clock's time, and timers armed during this run wait for the next one,
 * so that a callback re-arming itself in the past cannot starve the loop.
 */
static void run_clock(struct vmc_clock *c, bool stepping, int64_t target)
{
	uint64_t seq_limit;

	tlock(c);
	seq_limit = c->arm_seq;
	tunlock(c);

	for (;;) {
		struct vmc__lock *lk;
		struct vmc_timer *t;
		vmc_timer_cb cb;
		void *userdata;
		int64_t limit;
		bool taken;

		tlock(c);
		t = c->head;
		limit = stepping ? target : clock_now_locked(c);
		if (!t || t->deadline > limit || (!stepping && !c->running) ||
		    (!stepping && t->seq > seq_limit)) {
			tunlock(c);
			break;
		}
		lk = t->lock;
		if (lk && !vmc__lock_held(lk)) {
			/* The lock comes first in the lock order: recheck. */
			tunlock(c);
			taken = vmc__lock_acquire_if_needed(lk);
			tlock(c);
			if (c->head != t || t->lock != lk ||
			    (!stepping && !c->running) ||
			    t->deadline >
				    (stepping ? target : clock_now_locked(c))) {
				tunlock(c);
				vmc__lock_release_if(lk, taken);
				continue;
			}
		} else {
			taken = false;
		}
		if (stepping &&
		    t->deadline > atomic_load_explicit(&c->det_ns,
						       memory_order_relaxed))
			atomic_store_explicit(&c->det_ns, t->deadline,
					      memory_order_release);
		timer_unlink(t);
		cb = t->cb;
		userdata = t->userdata;
		c->cb_depth++;
		tunlock(c);

		cb(t, userdata);

		c->cb_depth--;
		vmc__lock_release_if(lk, taken);
	}
}

void vmc__loop_run_timers(struct vmc_loop *loop)
{
	struct vmc_clock *c, *next;

	loop->in_timer_run = true;
	run_clock(&loop->realtime, false, 0);
	run_clock(&loop->host, false, 0);

	/* Callbacks may create or drop clocks: walk holding a reference. */
	pthread_mutex_lock(&loop->tlock);
	c = loop->virtual_clocks;
	if (c)
		clock_ref_internal(c);
	pthread_mutex_unlock(&loop->tlock);
	while (c) {
		run_clock(c, false, 0);
		pthread_mutex_lock(&loop->tlock);
		next = c->next;
		if (next)
			clock_ref_internal(next);
		pthread_mutex_unlock(&loop->tlock);
		vmc_clock_unref(c);
		c = next;
	}
	loop->in_timer_run = false;
	loop_reprogram(loop);
}

/* ------------------------------------------------------------------------
 * Clocks
 */

VMC_EXPORT struct vmc_clock *vmc_loop_get_clock(struct vmc_loop *loop,
						enum vmc_clock_type type)
{
	vmc_assert_return(loop, NULL);
	switch (type) {
	case VMC_CLOCK_REALTIME:
		return &loop->realtime;
	case VMC_CLOCK_HOST:
		return &loop->host;
	default:
		return NULL;
	}
}

VMC_EXPORT int vmc_clock_new_virtual(struct vmc_loop *loop, unsigned int flags,
				     struct vmc_clock **ret)
{
	struct vmc_clock *c;

	vmc_assert_return(loop, -EINVAL);
	vmc_assert_return(ret, -EINVAL);
	vmc_assert_return(!(flags & ~(unsigned int)VMC_CLOCK_DETERMINISTIC),
			  -EINVAL);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->type = VMC_CLOCK_VIRTUAL;
	c->loop = vmc_loop_ref(loop);
	atomic_init(&c->refcount, 1);
	c->deterministic = flags & VMC_CLOCK_DETERMINISTIC;
	atomic_init(&c->det_ns, 0);

	pthread_mutex_lock(&loop->tlock);
	c->next = loop->virtual_clocks;
	loop->virtual_clocks = c;
	pthread_mutex_unlock(&loop->tlock);
	*ret = c;
	return 0;
}

VMC_EXPORT struct vmc_clock *vmc_clock_ref(struct vmc_clock *clock)
{
	if (clock)
		clock_ref_internal(clock);
	return clock;
}

VMC_EXPORT struct vmc_clock *vmc_clock_unref(struct vmc_clock *clock)
{
	struct vmc_loop *loop;

	if (!clock || clock->type != VMC_CLOCK_VIRTUAL)
		return NULL;
	if (atomic_fetch_sub_explicit(&clock->refcount, 1,
				      memory_order_acq_rel) != 1)
		return NULL;
	loop = clock->loop;
	pthread_mutex_lock(&loop->tlock);
	for (struct vmc_clock **p = &loop->virtual_clocks; *p;
	     p = &(*p)->next) {
		if (*p == clock) {
			*p = clock->next;
			break;
		}
	}
	pthread_mutex_unlock(&loop->tlock);
	if (clock->head)
		vmc__err("clock: virtual clock freed with armed timers");
	free(clock);
	vmc_loop_unref(loop);
	return NULL;
}

VMC_EXPORT enum vmc_clock_type vmc_clock_get_type(const struct vmc_clock *clock)
{
	vmc_assert_return(clock, VMC_CLOCK_REALTIME);
	return clock->type;
}

VMC_EXPORT int64_t vmc_clock_get_ns(const struct vmc_clock *clock)
{
	struct vmc_clock *c = (struct vmc_clock *)clock;
	int64_t now;

	if (!c)
		return 0;
	if (c->type != VMC_CLOCK_VIRTUAL || c->deterministic)
		return clock_now_locked(c);
	tlock(c);
	now = clock_now_locked(c);
	tunlock(c);
	return now;
}

VMC_EXPORT int vmc_clock_start(struct vmc_clock *clock)
{
	bool changed = false;

	vmc_assert_return(clock, -EINVAL);
	vmc_assert_return(clock->type == VMC_CLOCK_VIRTUAL, -EINVAL);

	tlock(clock);
	if (!clock->running) {
		if (!clock->deterministic)
			clock->offset = clock->frozen - vmc__monotonic_ns();
		clock->running = true;
		changed = true;
	}
	tunlock(clock);
	if (changed)
		timers_changed(clock->loop);
	return 0;
}

VMC_EXPORT int vmc_clock_stop(struct vmc_clock *clock)
{
	vmc_assert_return(clock, -EINVAL);
	vmc_assert_return(clock->type == VMC_CLOCK_VIRTUAL, -EINVAL);

	/*
	 * A timer run checks the flag under the mutex before each callback,
	 * so none starts after this; the uv timer may still fire once and
	 * find nothing to do.
	 */
	tlock(clock);
	if (clock->running) {
		if (!clock->deterministic)
			clock->frozen = vmc__monotonic_ns() + clock->offset;
		clock->running = false;
	}
	tunlock(clock);
	return 0;
}

VMC_EXPORT bool vmc_clock_is_running(const struct vmc_clock *clock)
{
	struct vmc_clock *c = (struct vmc_clock *)clock;
	bool running;

	if (!c)
		return false;
	tlock(c);
	running = c->running;
	tunlock(c);
	return running;
}

static int check_deterministic(const struct vmc_clock *clock, int64_t delta)
{
	vmc_assert_return(clock, -EINVAL);
	vmc_assert_return(clock->type == VMC_CLOCK_VIRTUAL, -EINVAL);
	vmc_assert_return(delta >= 0, -EINVAL);
	if (!clock->deterministic)
		return -EOPNOTSUPP;
	return 0;
}

VMC_EXPORT int vmc_clock_advance(struct vmc_clock *clock, int64_t delta_ns)
{
	int64_t now;
	bool due;
	int r;

	r = check_deterministic(clock, delta_ns);
	if (r < 0)
		return r;
	tlock(clock);
	now = atomic_load_explicit(&clock->det_ns, memory_order_relaxed) +
	      delta_ns;
	atomic_store_explicit(&clock->det_ns, now, memory_order_release);
	due = clock->running && clock->head && clock->head->deadline <= now;
	tunlock(clock);
	if (due)
		timers_changed(clock->loop);
	return 0;
}

VMC_EXPORT int vmc_clock_step(struct vmc_clock *clock, int64_t delta_ns)
{
	int64_t target;
	int r;

	r = check_deterministic(clock, delta_ns);
	if (r < 0)
		return r;
	if (clock->cb_depth > 0)
		return -EBUSY;

	vmc_clock_ref(clock);
	tlock(clock);
	target = atomic_load_explicit(&clock->det_ns, memory_order_relaxed) +
		 delta_ns;
	tunlock(clock);

	run_clock(clock, true, target);

	tlock(clock);
	if (atomic_load_explicit(&clock->det_ns, memory_order_relaxed) < target)
		atomic_store_explicit(&clock->det_ns, target,
				      memory_order_release);
	tunlock(clock);
	timers_changed(clock->loop);
	vmc_clock_unref(clock);
	return 0;
}

VMC_EXPORT int64_t vmc_clock_get_next_deadline(const struct vmc_clock *clock)
{
	struct vmc_clock *c = (struct vmc_clock *)clock;
	int64_t d;

	vmc_assert_return(c, -EINVAL);
	tlock(c);
	d = c->head ? c->head->deadline : -1;
	tunlock(c);
	return d;
}

void vmc__clock_set_lock(struct vmc_clock *clock, struct vmc__lock *lock)
{
	tlock(clock);
	clock->timer_lock = lock;
	tunlock(clock);
}

void vmc__clock_set_deadline_notify(struct vmc_clock *clock,
				    void (*fn)(void *opaque), void *opaque)
{
	tlock(clock);
	clock->deadline_notify = fn;
	clock->deadline_opaque = opaque;
	tunlock(clock);
}

struct vmc_loop *vmc__clock_get_loop(struct vmc_clock *clock)
{
	return clock ? clock->loop : NULL;
}

/* ------------------------------------------------------------------------
 * Timers
 */

/* @lock_given: @lock, rather than the clock's default, guards @cb. */
static int timer_new(struct vmc_clock *clock, bool lock_given,
		     struct vmc__lock *lock, vmc_timer_cb cb, void *userdata,
		     struct vmc_timer **ret)
{
	struct vmc_timer *t;

	vmc_assert_return(clock, -EINVAL);
	vmc_assert_return(cb, -EINVAL);
	vmc_assert_return(ret, -EINVAL);

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->clock = vmc_clock_ref(clock);
	vmc_loop_ref(clock->loop);
	t->cb = cb;
	t->userdata = userdata;
	t->deadline = -1;
	tlock(clock);
	t->lock = lock_given ? lock : clock->timer_lock;
	tunlock(clock);
	vmc__loop_source_added(clock->loop);
	*ret = t;
	return 0;
}

VMC_EXPORT int vmc_timer_new(struct vmc_clock *clock, vmc_timer_cb cb,
			     void *userdata, struct vmc_timer **ret)
{
	return timer_new(clock, false, NULL, cb, userdata, ret);
}

int vmc__timer_new_locked(struct vmc_clock *clock, struct vmc__lock *lock,
			  vmc_timer_cb cb, void *userdata,
			  struct vmc_timer **ret)
{
	return timer_new(clock, true, lock, cb, userdata, ret);
}

VMC_EXPORT int vmc_timer_mod(struct vmc_timer *t, int64_t deadline_ns)
{
	struct vmc_clock *c;
	void (*notify)(void *opaque) = NULL;
	void *opaque = NULL;
	int64_t old_first;
	bool first;

	vmc_assert_return(t, -EINVAL);
	vmc_assert_return(deadline_ns >= 0, -EINVAL);
	c = t->clock;

	tlock(c);
	old_first = c->head ? c->head->deadline : -1;
	timer_unlink(t);
	timer_insert(t, deadline_ns);
	first = c->head == t;
	if (first && (old_first < 0 || deadline_ns < old_first)) {
		notify = c->deadline_notify;
		opaque = c->deadline_opaque;
	}
	tunlock(c);

	if (first)
		timers_changed(c->loop);
	if (notify)
		notify(opaque);
	return 0;
}

VMC_EXPORT int vmc_timer_del(struct vmc_timer *t)
{
	vmc_assert_return(t, -EINVAL);
	/*
	 * A removed head leaves the uv timer armed early; it then finds
	 * nothing due and re-arms, which is cheaper than waking the loop.
	 */
	tlock(t->clock);
	timer_unlink(t);
	tunlock(t->clock);
	return 0;
}

VMC_EXPORT bool vmc_timer_is_pending(const struct vmc_timer *t)
{
	return vmc_timer_get_deadline(t) >= 0;
}

VMC_EXPORT int64_t vmc_timer_get_deadline(const struct vmc_timer *t)
{
	int64_t d;

	if (!t)
		return -1;
	tlock(t->clock);
	d = t->deadline;
	tunlock(t->clock);
	return d;
}

VMC_EXPORT void vmc_timer_free(struct vmc_timer *t)
{
	struct vmc_clock *c;
	struct vmc_loop *loop;

	if (!t)
		return;
	c = t->clock;
	loop = c->loop;
	vmc_timer_del(t);
	free(t);
	vmc__loop_source_removed(loop);
	vmc_clock_unref(c);
	vmc_loop_unref(loop);
}

/* ------------------------------------------------------------------------
 * Snapshots: a virtual clock set back (or forward) to a saved time
 */

void vmc__clock_set_ns(struct vmc_clock *clock, int64_t ns)
{
	if (!clock || clock->type != VMC_CLOCK_VIRTUAL)
		return;
	tlock(clock);
	if (clock->deterministic)
		atomic_store_explicit(&clock->det_ns, ns, memory_order_release);
	else if (clock->running)
		clock->offset = ns - vmc__monotonic_ns();
	else
		clock->frozen = ns;
	tunlock(clock);
	timers_changed(clock->loop);
}
