/* SPDX-License-Identifier: MIT */
/* Bottom halves: scheduling, coalescing, cancel, free, cross-thread storms. */
#include <pthread.h>

#include "loop-internal.h"
#include "loop-test-util.h"

struct counter {
	atomic_int runs;
	atomic_int flag;
	struct vmc_bh *self;
	bool reschedule;
	bool free_self;
	bool reschedule_then_free;
	struct vmc__lock *expect_lock;
	bool lock_was_held;
};

static void count_cb(struct vmc_bh *bh, void *userdata)
{
	struct counter *c = userdata;

	ASSERT_PTR_EQ(bh, c->self);
	atomic_fetch_add(&c->runs, 1);
	atomic_store(&c->flag, 1);
	if (c->expect_lock)
		c->lock_was_held = vmc__lock_held(c->expect_lock);
	if (c->reschedule)
		ASSERT_OK(vmc_bh_schedule(bh));
	if (c->reschedule_then_free) {
		ASSERT_OK(vmc_bh_schedule(bh));
		vmc_bh_free(bh);
	} else if (c->free_self) {
		vmc_bh_free(bh);
	}
}

static void test_errors(void)
{
	struct vmc_loop *loop;
	struct vmc_bh *bh;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_ERR(vmc_bh_new(NULL, count_cb, NULL, &bh), -EINVAL);
	ASSERT_ERR(vmc_bh_new(loop, NULL, NULL, &bh), -EINVAL);
	ASSERT_ERR(vmc_bh_new(loop, count_cb, NULL, NULL), -EINVAL);
	ASSERT_ERR(vmc_bh_schedule(NULL), -EINVAL);
	ASSERT_ERR(vmc_bh_cancel(NULL), -EINVAL);
	vmc_bh_free(NULL);
	vmc_loop_unref(loop);
}

static void test_schedule_coalesce(void)
{
	struct counter c = {0};
	struct vmc_loop *loop;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_bh_new(loop, count_cb, &c, &c.self));
	/* Not scheduled: nothing runs. */
	ASSERT_GT(vmc_loop_run_once(loop, false), 0);
	ASSERT_EQ(atomic_load(&c.runs), 0);

	ASSERT_OK(vmc_bh_schedule(c.self));
	ASSERT_OK(vmc_bh_schedule(c.self));
	ASSERT_OK(vmc_bh_schedule(c.self));
	ASSERT_TRUE(run_until(loop, &c.flag, 2000));
	ASSERT_EQ(atomic_load(&c.runs), 1);
	run_for(loop, 20);
	ASSERT_EQ(atomic_load(&c.runs), 1);

	/* Cancel before it runs. */
	ASSERT_OK(vmc_bh_schedule(c.self));
	ASSERT_OK(vmc_bh_cancel(c.self));
	run_for(loop, 20);
	ASSERT_EQ(atomic_load(&c.runs), 1);
	/* Cancel of an idle one is harmless; schedule after cancel runs. */
	ASSERT_OK(vmc_bh_cancel(c.self));
	ASSERT_OK(vmc_bh_schedule(c.self));
	atomic_store(&c.flag, 0);
	ASSERT_TRUE(run_until(loop, &c.flag, 2000));
	ASSERT_EQ(atomic_load(&c.runs), 2);

	vmc_bh_free(c.self);
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);
	vmc_loop_unref(loop);
}

static void test_reschedule_next_iteration(void)
{
	struct counter c = {.reschedule = true};
	struct vmc_loop *loop;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_bh_new(loop, count_cb, &c, &c.self));
	ASSERT_OK(vmc_bh_schedule(c.self));
	/* Each iteration runs it exactly once: no livelock. */
	for (int i = 1; i <= 5; i++) {
		ASSERT_OK(vmc_loop_run_once(loop, true));
		ASSERT_EQ(atomic_load(&c.runs), i);
	}
	c.reschedule = false;
	ASSERT_OK(vmc_loop_run_once(loop, true));
	ASSERT_EQ(atomic_load(&c.runs), 6);
	ASSERT_OK(vmc_loop_run_once(loop, false));
	ASSERT_EQ(atomic_load(&c.runs), 6);
	vmc_bh_free(c.self);
	vmc_loop_unref(loop);
}

static void test_free(void)
{
	struct counter a = {.free_self = true};
	struct counter b = {.reschedule_then_free = true};
	struct counter d = {0};
	struct vmc_loop *loop;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_bh_new(loop, count_cb, &a, &a.self));
	ASSERT_OK(vmc_bh_new(loop, count_cb, &b, &b.self));
	ASSERT_OK(vmc_bh_new(loop, count_cb, &d, &d.self));
	ASSERT_OK(vmc_bh_schedule(a.self));
	ASSERT_OK(vmc_bh_schedule(b.self));
	/* Freed while pending: never runs. */
	ASSERT_OK(vmc_bh_schedule(d.self));
	vmc_bh_free(d.self);
	ASSERT_TRUE(run_until(loop, &b.flag, 2000));
	run_for(loop, 20);
	ASSERT_EQ(atomic_load(&a.runs), 1);
	ASSERT_EQ(atomic_load(&b.runs), 1);
	ASSERT_EQ(atomic_load(&d.runs), 0);
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);

	/* A deleted, still-listed bottom half is freed by the teardown. */
	ASSERT_OK(vmc_bh_new(loop, count_cb, &d, &d.self));
	ASSERT_OK(vmc_bh_schedule(d.self));
	vmc_bh_free(d.self);
	vmc_loop_unref(loop);
	ASSERT_EQ(atomic_load(&d.runs), 0);
}

static void test_lock(void)
{
	struct vmc__lock lock;
	struct counter c = {0};
	struct vmc_loop *loop;

	vmc__lock_init(&lock);
	c.expect_lock = &lock;
	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc__bh_new_locked(loop, &lock, count_cb, &c, &c.self));
	ASSERT_OK(vmc_bh_schedule(c.self));
	ASSERT_TRUE(run_until(loop, &c.flag, 2000));
	ASSERT_TRUE(c.lock_was_held);
	ASSERT_FALSE(vmc__lock_held(&lock));

	/* Scheduled and cancelled under the lock: it does not run. */
	vmc__lock_acquire(&lock);
	ASSERT_OK(vmc_bh_schedule(c.self));
	atomic_store(&c.flag, 0);
	ASSERT_OK(vmc_bh_cancel(c.self));
	vmc__lock_release(&lock);
	run_for(loop, 20);
	ASSERT_EQ(atomic_load(&c.runs), 1);

	/* Already held by the loop thread: taken recursively, no deadlock. */
	vmc__lock_acquire(&lock);
	ASSERT_OK(vmc_bh_schedule(c.self));
	ASSERT_TRUE(run_until(loop, &c.flag, 2000));
	ASSERT_TRUE(c.lock_was_held);
	vmc__lock_release(&lock);

	vmc_bh_free(c.self);
	vmc_loop_unref(loop);
	vmc__lock_destroy(&lock);
}

/* Cross-thread storm: nothing lost, every burst coalesces. */
static void storm_cb(struct vmc_bh *bh, void *userdata)
{
	storm_record(userdata);
}

static int storm_ping(void *bh)
{
	return vmc_bh_schedule(bh);
}

static void test_storm(void)
{
	struct storm s = {.iters = vmc_test_scale(100000),
			  .ping = storm_ping,
			  .what = "schedules"};
	struct vmc_bh *bh;

	ASSERT_OK(vmc_loop_new(&s.loop));
	ASSERT_OK(vmc_bh_new(s.loop, storm_cb, &s, &bh));
	s.target = bh;
	storm_run(&s);
	vmc_bh_free(bh);
	vmc_loop_unref(s.loop);
}

/*
 * Plain (non-atomic) writes made before a schedule are visible to the
 * callback; under the thread sanitizer a missing happens-before would be
 * reported as a race.
 */
struct pingpong {
	struct vmc_bh *bh;
	long payload;
	long expect;
	atomic_long acked;
	atomic_int bad;
};

static void pingpong_cb(struct vmc_bh *bh, void *userdata)
{
	struct pingpong *p = userdata;

	(void)bh;
	if (p->payload != p->expect)
		atomic_store(&p->bad, 1);
	atomic_store_explicit(&p->acked, p->payload, memory_order_release);
}

static void *pingpong_thread(void *arg)
{
	struct pingpong *p = arg;
	long n = vmc_test_scale(10000);

	for (long i = 1; i <= n; i++) {
		p->payload = i;
		p->expect = i;
		vmc_bh_schedule(p->bh);
		while (atomic_load_explicit(&p->acked, memory_order_acquire) !=
		       i)
			;
	}
	return NULL;
}

static void test_visibility(void)
{
	struct pingpong p = {0};
	struct vmc_loop *loop;
	pthread_t t;
	long n = vmc_test_scale(10000);

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_bh_new(loop, pingpong_cb, &p, &p.bh));
	ASSERT_EQ(pthread_create(&t, NULL, pingpong_thread, &p), 0);
	while (atomic_load_explicit(&p.acked, memory_order_acquire) != n)
		ASSERT_OK(vmc_loop_run_once(loop, true));
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(atomic_load(&p.bad), 0);
	vmc_bh_free(p.bh);
	vmc_loop_unref(loop);
}

int main(void)
{
	RUN(test_errors);
	RUN(test_schedule_coalesce);
	RUN(test_reschedule_next_iteration);
	RUN(test_free);
	RUN(test_lock);
	RUN(test_storm);
	RUN(test_visibility);
	return 0;
}
