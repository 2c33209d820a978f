/* SPDX-License-Identifier: MIT */
/* Clocks and timers: ordering on every clock, virtual and deterministic. */
#include <pthread.h>

#include "loop-internal.h"
#include "loop-test-util.h"

#define MS 1000000LL

struct rec {
	int order[16];
	int64_t clock_at[16];
	atomic_int n;
	atomic_int flag;
	struct vmc_clock *clock;
	struct vmc_timer *timers[16];
	int rearm; /* re-arm this many times, period 1 ms */
	bool free_self;
	bool try_step;
	int step_result;
	struct vmc__lock *expect_lock;
	bool lock_held;
};

static void rec_cb(struct vmc_timer *t, void *userdata)
{
	struct rec *r = userdata;
	int i, n = atomic_load(&r->n);

	for (i = 0; i < 16; i++)
		if (r->timers[i] == t)
			break;
	ASSERT_LT(i, 16);
	ASSERT_FALSE(vmc_timer_is_pending(t));
	ASSERT_EQ(vmc_timer_get_deadline(t), -1);
	if (n < 16) {
		r->order[n] = i;
		r->clock_at[n] = vmc_clock_get_ns(r->clock);
	}
	atomic_store(&r->n, n + 1);
	atomic_store(&r->flag, 1);
	if (r->expect_lock)
		r->lock_held = vmc__lock_held(r->expect_lock);
	if (r->try_step)
		r->step_result = vmc_clock_step(r->clock, 1);
	if (r->rearm > 0) {
		r->rearm--;
		ASSERT_OK(vmc_timer_mod(t, vmc_clock_get_ns(r->clock) + MS));
	}
	if (r->free_self) {
		vmc_timer_free(t);
		r->timers[i] = NULL;
	}
}

static void test_errors(void)
{
	struct vmc_loop *loop;
	struct vmc_clock *rt, *v, *d;
	struct vmc_timer *t;

	ASSERT_OK(vmc_loop_new(&loop));
	rt = vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME);
	ASSERT_NOT_NULL(rt);
	ASSERT_NULL(vmc_loop_get_clock(NULL, VMC_CLOCK_REALTIME));
	ASSERT_NULL(vmc_loop_get_clock(loop, VMC_CLOCK_VIRTUAL));
	ASSERT_NULL(vmc_loop_get_clock(loop, (enum vmc_clock_type)7));

	ASSERT_ERR(vmc_clock_new_virtual(NULL, 0, &v), -EINVAL);
	ASSERT_ERR(vmc_clock_new_virtual(loop, 0, NULL), -EINVAL);
	ASSERT_ERR(vmc_clock_new_virtual(loop, 2, &v), -EINVAL);
	ASSERT_OK(vmc_clock_new_virtual(loop, 0, &v));
	ASSERT_OK(vmc_clock_new_virtual(loop, VMC_CLOCK_DETERMINISTIC, &d));

	ASSERT_ERR(vmc_timer_new(NULL, rec_cb, NULL, &t), -EINVAL);
	ASSERT_ERR(vmc_timer_new(rt, NULL, NULL, &t), -EINVAL);
	ASSERT_ERR(vmc_timer_new(rt, rec_cb, NULL, NULL), -EINVAL);
	ASSERT_OK(vmc_timer_new(rt, rec_cb, NULL, &t));
	ASSERT_ERR(vmc_timer_mod(NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_timer_mod(t, -1), -EINVAL);
	ASSERT_ERR(vmc_timer_del(NULL), -EINVAL);
	ASSERT_OK(vmc_timer_del(t));
	ASSERT_FALSE(vmc_timer_is_pending(NULL));
	ASSERT_EQ(vmc_timer_get_deadline(NULL), -1);
	ASSERT_OK(vmc_timer_mod(t, 1000));
	ASSERT_TRUE(vmc_timer_is_pending(t));
	ASSERT_EQ(vmc_timer_get_deadline(t), 1000);
	ASSERT_EQ(vmc_clock_get_next_deadline(rt), 1000);
	ASSERT_OK(vmc_timer_del(t));
	ASSERT_FALSE(vmc_timer_is_pending(t));
	ASSERT_EQ(vmc_clock_get_next_deadline(rt), -1);
	ASSERT_ERR(vmc_clock_get_next_deadline(NULL), -EINVAL);
	vmc_timer_free(t);
	vmc_timer_free(NULL);

	ASSERT_ERR(vmc_clock_start(NULL), -EINVAL);
	ASSERT_ERR(vmc_clock_stop(NULL), -EINVAL);
	ASSERT_ERR(vmc_clock_start(rt), -EINVAL);
	ASSERT_ERR(vmc_clock_stop(rt), -EINVAL);
	ASSERT_ERR(vmc_clock_advance(NULL, 1), -EINVAL);
	ASSERT_ERR(vmc_clock_advance(rt, 1), -EINVAL);
	ASSERT_ERR(vmc_clock_advance(v, 1), -EOPNOTSUPP);
	ASSERT_ERR(vmc_clock_advance(d, -1), -EINVAL);
	ASSERT_ERR(vmc_clock_step(NULL, 1), -EINVAL);
	ASSERT_ERR(vmc_clock_step(rt, 1), -EINVAL);
	ASSERT_ERR(vmc_clock_step(v, 1), -EOPNOTSUPP);
	ASSERT_ERR(vmc_clock_step(d, -1), -EINVAL);

	ASSERT_EQ(vmc_clock_get_type(rt), VMC_CLOCK_REALTIME);
	ASSERT_EQ(vmc_clock_get_type(vmc_loop_get_clock(loop, VMC_CLOCK_HOST)),
		  VMC_CLOCK_HOST);
	ASSERT_EQ(vmc_clock_get_type(v), VMC_CLOCK_VIRTUAL);
	ASSERT_EQ(vmc_clock_get_ns(NULL), 0);
	ASSERT_FALSE(vmc_clock_is_running(NULL));
	ASSERT_TRUE(vmc_clock_is_running(rt));
	ASSERT_FALSE(vmc_clock_is_running(v));
	ASSERT_PTR_EQ(vmc_clock_ref(rt), rt);
	ASSERT_NULL(vmc_clock_unref(rt));
	ASSERT_NULL(vmc_clock_ref(NULL));
	ASSERT_NULL(vmc_clock_unref(NULL));
	ASSERT_PTR_EQ(vmc_clock_ref(v), v);
	ASSERT_NULL(vmc_clock_unref(v));
	ASSERT_PTR_EQ(vmc__clock_get_loop(v), loop);

	vmc_clock_unref(v);
	vmc_clock_unref(d);
	vmc_loop_unref(loop);
}

/* Five timers, deadlines +30, +10, +20, +10, +0 ms: order 4, 1, 3, 2, 0. */
static void check_order(struct vmc_loop *loop, struct vmc_clock *c)
{
	static const int64_t off[5] = {30, 10, 20, 10, 0};
	static const int expect[5] = {4, 1, 3, 2, 0};
	struct rec r = {.clock = c};
	int64_t now = vmc_clock_get_ns(c);

	for (int i = 0; i < 5; i++) {
		ASSERT_OK(vmc_timer_new(c, rec_cb, &r, &r.timers[i]));
		ASSERT_OK(vmc_timer_mod(r.timers[i], now + off[i] * MS));
	}
	ASSERT_EQ(vmc_clock_get_next_deadline(c), now);
	for (int i = 0; i < 100 && atomic_load(&r.n) < 5; i++)
		run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.n), 5);
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(r.order[i], expect[i]);
		/* Never early. */
		ASSERT_GE(r.clock_at[i], now + off[expect[i]] * MS);
	}
	for (int i = 0; i < 5; i++)
		vmc_timer_free(r.timers[i]);
}

static void test_order(void)
{
	struct vmc_loop *loop;
	struct vmc_clock *v;

	ASSERT_OK(vmc_loop_new(&loop));
	check_order(loop, vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME));
	check_order(loop, vmc_loop_get_clock(loop, VMC_CLOCK_HOST));
	ASSERT_OK(vmc_clock_new_virtual(loop, 0, &v));
	ASSERT_OK(vmc_clock_start(v));
	check_order(loop, v);
	vmc_clock_unref(v);
	vmc_loop_unref(loop);
}

static void test_rearm_and_free_in_callback(void)
{
	struct vmc_loop *loop;
	struct vmc_clock *rt;
	struct rec r = {.rearm = 3}, f = {.free_self = true};

	ASSERT_OK(vmc_loop_new(&loop));
	rt = vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME);
	r.clock = f.clock = rt;
	ASSERT_OK(vmc_timer_new(rt, rec_cb, &r, &r.timers[0]));
	ASSERT_OK(vmc_timer_mod(r.timers[0], vmc_clock_get_ns(rt) + MS));
	ASSERT_OK(vmc_timer_new(rt, rec_cb, &f, &f.timers[0]));
	ASSERT_OK(vmc_timer_mod(f.timers[0], 0));
	for (int i = 0; i < 100 && atomic_load(&r.n) < 4; i++)
		run_for(loop, 5);
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.n), 4);
	ASSERT_FALSE(vmc_timer_is_pending(r.timers[0]));
	ASSERT_EQ(atomic_load(&f.n), 1);
	ASSERT_NULL(f.timers[0]);
	vmc_timer_free(r.timers[0]);
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);
	vmc_loop_unref(loop);
}

/* A re-arm in the past from the callback waits for the next iteration. */
static void past_cb(struct vmc_timer *t, void *userdata)
{
	atomic_int *n = userdata;

	if (atomic_fetch_add(n, 1) < 1000)
		vmc_timer_mod(t, 0);
}

static void test_rearm_in_past_no_livelock(void)
{
	struct vmc_loop *loop;
	struct vmc_timer *t;
	atomic_int n = 0;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_timer_new(vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME),
				past_cb, &n, &t));
	ASSERT_OK(vmc_timer_mod(t, 0));
	ASSERT_OK(vmc_loop_run_once(loop, false));
	ASSERT_EQ(atomic_load(&n), 1);
	ASSERT_OK(vmc_loop_run_once(loop, false));
	ASSERT_EQ(atomic_load(&n), 2);
	vmc_timer_free(t);
	vmc_loop_unref(loop);
}

static void test_virtual_stop_start(void)
{
	struct vmc_loop *loop;
	struct vmc_clock *v;
	struct rec r = {0};
	int64_t t0, t1;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_clock_new_virtual(loop, 0, &v));
	r.clock = v;
	/* Starts stopped at 0, and stays there. */
	ASSERT_FALSE(vmc_clock_is_running(v));
	ASSERT_EQ(vmc_clock_get_ns(v), 0);
	ASSERT_OK(vmc_timer_new(v, rec_cb, &r, &r.timers[0]));
	ASSERT_OK(vmc_timer_mod(r.timers[0], 2 * MS));
	run_for(loop, 30);
	ASSERT_EQ(vmc_clock_get_ns(v), 0);
	ASSERT_EQ(atomic_load(&r.n), 0);
	ASSERT_OK(vmc_clock_stop(v)); /* already stopped: fine */

	ASSERT_OK(vmc_clock_start(v));
	ASSERT_OK(vmc_clock_start(v));
	ASSERT_TRUE(vmc_clock_is_running(v));
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_EQ(atomic_load(&r.n), 1);
	ASSERT_GE(r.clock_at[0], 2 * MS);

	/* Stopped again: time freezes, an armed timer does not fire. */
	ASSERT_OK(vmc_timer_mod(r.timers[0], vmc_clock_get_ns(v) + 3 * MS));
	ASSERT_OK(vmc_clock_stop(v));
	t0 = vmc_clock_get_ns(v);
	run_for(loop, 30);
	t1 = vmc_clock_get_ns(v);
	ASSERT_EQ(t0, t1);
	ASSERT_EQ(atomic_load(&r.n), 1);
	/* Resumes from where it froze. */
	ASSERT_OK(vmc_clock_start(v));
	ASSERT_LT(vmc_clock_get_ns(v) - t0, 20 * MS);
	atomic_store(&r.flag, 0);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_EQ(atomic_load(&r.n), 2);
	vmc_timer_free(r.timers[0]);
	vmc_clock_unref(v);
	vmc_loop_unref(loop);
}

static void test_step(void)
{
	static const int64_t dl[5] = {30, 10, 20, 20, 40};
	struct vmc_loop *loop;
	struct vmc_clock *d;
	struct rec r = {0};

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_clock_new_virtual(loop, VMC_CLOCK_DETERMINISTIC, &d));
	r.clock = d;
	for (int i = 0; i < 5; i++) {
		ASSERT_OK(vmc_timer_new(d, rec_cb, &r, &r.timers[i]));
		ASSERT_OK(vmc_timer_mod(r.timers[i], dl[i]));
	}
	/* Steps even while stopped; time moves only when told. */
	run_for(loop, 10);
	ASSERT_EQ(vmc_clock_get_ns(d), 0);
	ASSERT_OK(vmc_clock_step(d, 25));
	ASSERT_EQ(vmc_clock_get_ns(d), 25);
	ASSERT_EQ(atomic_load(&r.n), 3);
	ASSERT_EQ(r.order[0], 1);
	ASSERT_EQ(r.order[1], 2);
	ASSERT_EQ(r.order[2], 3);
	ASSERT_EQ(r.clock_at[0], 10);
	ASSERT_EQ(r.clock_at[1], 20);
	ASSERT_EQ(r.clock_at[2], 20);

	/* A callback re-arming within the step runs again in the step. */
	r.rearm = 1;
	ASSERT_OK(vmc_timer_mod(r.timers[0], 26));
	ASSERT_OK(vmc_clock_step(d, 2 * MS));
	ASSERT_EQ(atomic_load(&r.n), 6);
	ASSERT_EQ(r.order[3], 0);
	ASSERT_EQ(r.clock_at[3], 26);
	ASSERT_EQ(r.order[4], 4);
	ASSERT_EQ(r.clock_at[4], 40);
	ASSERT_EQ(r.order[5], 0);
	ASSERT_EQ(r.clock_at[5], 26 + MS);
	ASSERT_EQ(vmc_clock_get_ns(d), 25 + 2 * MS);

	/* Stepping from inside one of its callbacks is refused. */
	r.try_step = true;
	ASSERT_OK(vmc_timer_mod(r.timers[1], vmc_clock_get_ns(d)));
	ASSERT_OK(vmc_clock_step(d, 0));
	ASSERT_ERR(r.step_result, -EBUSY);
	ASSERT_EQ(atomic_load(&r.n), 7);
	for (int i = 0; i < 5; i++)
		vmc_timer_free(r.timers[i]);
	vmc_clock_unref(d);
	vmc_loop_unref(loop);
}

struct adv {
	struct vmc_clock *clock;
	int64_t delta;
};

static void *advance_thread(void *arg)
{
	struct adv *a = arg;

	return (void *)(intptr_t)vmc_clock_advance(a->clock, a->delta);
}

static void test_advance(void)
{
	struct vmc_loop *loop;
	struct vmc_clock *d;
	struct rec r = {0};
	struct adv a;
	pthread_t t;
	void *res;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_clock_new_virtual(loop, VMC_CLOCK_DETERMINISTIC, &d));
	r.clock = d;
	ASSERT_OK(vmc_timer_new(d, rec_cb, &r, &r.timers[0]));
	ASSERT_OK(vmc_timer_mod(r.timers[0], 100));
	ASSERT_OK(vmc_clock_start(d));
	ASSERT_OK(vmc_clock_advance(d, 99));
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.n), 0);
	ASSERT_EQ(vmc_clock_get_ns(d), 99);

	/* From another thread: the loop wakes and runs it. */
	a = (struct adv){.clock = d, .delta = 1};
	ASSERT_EQ(pthread_create(&t, NULL, advance_thread, &a), 0);
	ASSERT_EQ(pthread_join(t, &res), 0);
	ASSERT_PTR_EQ(res, NULL);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_EQ(r.clock_at[0], 100);

	/* Advanced while stopped: fires only once started. */
	ASSERT_OK(vmc_timer_mod(r.timers[0], 150));
	ASSERT_OK(vmc_clock_stop(d));
	ASSERT_OK(vmc_clock_advance(d, 100));
	ASSERT_EQ(vmc_clock_get_ns(d), 200);
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.n), 1);
	ASSERT_OK(vmc_clock_start(d));
	atomic_store(&r.flag, 0);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_EQ(atomic_load(&r.n), 2);
	vmc_timer_free(r.timers[0]);
	vmc_clock_unref(d);
	vmc_loop_unref(loop);
}

static atomic_int notified;

static void on_deadline(void *opaque)
{
	ASSERT_PTR_EQ(opaque, &notified);
	atomic_fetch_add(&notified, 1);
}

static void test_hooks(void)
{
	struct vmc__lock lock;
	struct vmc_loop *loop;
	struct vmc_clock *d;
	struct rec r = {0};
	struct vmc_timer *other;

	vmc__lock_init(&lock);
	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_clock_new_virtual(loop, VMC_CLOCK_DETERMINISTIC, &d));
	r.clock = d;
	r.expect_lock = &lock;
	vmc__clock_set_deadline_notify(d, on_deadline, &notified);
	vmc__clock_set_lock(d, &lock);
	ASSERT_OK(vmc_timer_new(d, rec_cb, &r, &r.timers[0]));
	ASSERT_OK(vmc__timer_new_locked(d, NULL, rec_cb, &r, &other));
	ASSERT_OK(vmc_timer_mod(r.timers[0], 50));
	ASSERT_EQ(atomic_load(&notified), 1);
	ASSERT_OK(vmc_timer_mod(other, 60)); /* later: no notification */
	ASSERT_EQ(atomic_load(&notified), 1);
	ASSERT_OK(vmc_timer_mod(r.timers[0], 40)); /* head moves earlier */
	ASSERT_EQ(atomic_load(&notified), 2);
	ASSERT_OK(vmc_timer_del(other));
	ASSERT_OK(vmc_clock_step(d, 45));
	ASSERT_EQ(atomic_load(&r.n), 1);
	ASSERT_TRUE(r.lock_held);
	ASSERT_FALSE(vmc__lock_held(&lock));

	/* Stopped before the loop gets to a due timer: it does not run. */
	ASSERT_OK(vmc_clock_start(d));
	ASSERT_OK(vmc_timer_mod(r.timers[0], 50));
	vmc__lock_acquire(&lock);
	ASSERT_OK(vmc_clock_advance(d, 10));
	ASSERT_OK(vmc_clock_stop(d));
	vmc__lock_release(&lock);
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.n), 1);
	vmc_timer_free(other);
	vmc_timer_free(r.timers[0]);
	vmc_clock_unref(d);
	vmc_loop_unref(loop);
	vmc__lock_destroy(&lock);
}

struct cross {
	struct vmc_timer *t;
	struct vmc_clock *clock;
};

static void *mod_thread(void *arg)
{
	struct cross *c = arg;

	return (void *)(intptr_t)vmc_timer_mod(c->t,
					       vmc_clock_get_ns(c->clock));
}

static void *loop_thread(void *arg)
{
	return (void *)(intptr_t)vmc_loop_run(arg);
}

static void stop_cb(struct vmc_timer *t, void *userdata)
{
	(void)t;
	vmc_loop_stop(userdata);
}

/* Armed from another thread while the loop sleeps: it wakes. */
static void test_cross_thread_mod(void)
{
	struct vmc_loop *loop;
	struct cross c;
	pthread_t lt, mt;
	int64_t start;
	void *res;

	ASSERT_OK(vmc_loop_new(&loop));
	c.clock = vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME);
	ASSERT_OK(vmc_timer_new(c.clock, stop_cb, loop, &c.t));
	ASSERT_EQ(pthread_create(&lt, NULL, loop_thread, loop), 0);
	usleep(20000);
	start = vmc_test_now_ns();
	ASSERT_EQ(pthread_create(&mt, NULL, mod_thread, &c), 0);
	ASSERT_EQ(pthread_join(mt, &res), 0);
	ASSERT_PTR_EQ(res, NULL);
	ASSERT_EQ(pthread_join(lt, &res), 0);
	ASSERT_PTR_EQ(res, NULL);
	ASSERT_LT(vmc_test_now_ns() - start, 5000 * MS);
	vmc_timer_free(c.t);
	vmc_loop_unref(loop);
}

int main(void)
{
	RUN(test_errors);
	RUN(test_order);
	RUN(test_rearm_and_free_in_callback);
	RUN(test_rearm_in_past_no_livelock);
	RUN(test_virtual_stop_start);
	RUN(test_step);
	RUN(test_advance);
	RUN(test_hooks);
	RUN(test_cross_thread_mod);
	return 0;
}
