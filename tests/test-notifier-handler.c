/* SPDX-License-Identifier: MIT */
/* Notifier handlers on a loop: clear-then-call, replace, free, storms. */
#include <pthread.h>

#include "loop-internal.h"
#include "loop-test-util.h"

struct nrec {
	atomic_int runs;
	atomic_int flag;
	int mode;
	struct vmc_notifier *n;
	struct vmc_loop *other;
	struct vmc__lock *expect_lock;
	bool lock_held;
	int cleared;
};

enum { MODE_NOTHING, MODE_REMOVE, MODE_FREE, MODE_MOVE };

static void on_notify(struct vmc_notifier *n, void *userdata)
{
	struct nrec *r = userdata;

	ASSERT_PTR_EQ(n, r->n);
	atomic_fetch_add(&r->runs, 1);
	atomic_store(&r->flag, 1);
	/* Already cleared when the handler runs. */
	r->cleared = vmc_notifier_test_and_clear(n) == 0;
	if (r->expect_lock)
		r->lock_held = vmc__lock_held(r->expect_lock);
	switch (r->mode) {
	case MODE_REMOVE:
		ASSERT_OK(vmc_notifier_set_handler(n, NULL, NULL, NULL));
		break;
	case MODE_FREE:
		vmc_notifier_free(n);
		r->n = NULL;
		break;
	case MODE_MOVE:
		r->mode = MODE_NOTHING;
		ASSERT_OK(vmc_notifier_set_handler(n, r->other, on_notify, r));
		break;
	default:
		break;
	}
}

static void test_errors(void)
{
	struct vmc_loop *loop;
	struct vmc_notifier *n;
	struct nrec r = {0};
	struct vmc_fd_handler *h;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_notifier_new(&n));
	ASSERT_ERR(vmc_notifier_set_handler(NULL, loop, on_notify, &r),
		   -EINVAL);
	ASSERT_ERR(vmc_notifier_set_handler(n, NULL, on_notify, &r), -EINVAL);
	/* Removing a handler that is not there is fine. */
	ASSERT_OK(vmc_notifier_set_handler(n, NULL, NULL, NULL));
	ASSERT_OK(vmc_notifier_set_handler(n, loop, on_notify, &r));
	/* Its fd is taken on that loop. */
	ASSERT_ERR(vmc_loop_add_fd(loop, vmc_notifier_get_fd(n), NULL, NULL,
				   NULL, &h),
		   -EEXIST);
	ASSERT_OK(vmc_notifier_set_handler(n, NULL, NULL, NULL));
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);
	vmc_notifier_free(n);
	vmc_loop_unref(loop);
}

static void test_handler(void)
{
	struct vmc__lock lock;
	struct vmc_loop *loop;
	struct nrec r = {0};

	vmc__lock_init(&lock);
	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_notifier_new(&r.n));
	ASSERT_OK(vmc_notifier_set_handler(r.n, loop, on_notify, &r));
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.runs), 0);
	ASSERT_OK(vmc_notifier_signal(r.n));
	ASSERT_OK(vmc_notifier_signal(r.n));
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.runs), 1);
	ASSERT_TRUE(r.cleared);

	/* With a lock around the callback. */
	ASSERT_OK(vmc__notifier_set_handler_locked(r.n, loop, &lock, on_notify,
						   &r));
	r.expect_lock = &lock;
	atomic_store(&r.flag, 0);
	ASSERT_OK(vmc_notifier_signal(r.n));
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_TRUE(r.lock_held);
	ASSERT_FALSE(vmc__lock_held(&lock));

	/* Replaced on the same loop: the lock goes with the old handler. */
	ASSERT_OK(vmc_notifier_set_handler(r.n, loop, on_notify, &r));
	atomic_store(&r.flag, 0);
	ASSERT_OK(vmc_notifier_signal(r.n));
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_FALSE(r.lock_held);
	r.expect_lock = NULL;

	/* Removed from inside itself: later signals stay pending. */
	r.mode = MODE_REMOVE;
	atomic_store(&r.flag, 0);
	ASSERT_OK(vmc_notifier_signal(r.n));
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_OK(vmc_notifier_signal(r.n));
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.runs), 4);
	ASSERT_EQ(vmc_notifier_test_and_clear(r.n), 1);

	/* Freed from inside its handler. */
	r.mode = MODE_FREE;
	ASSERT_OK(vmc_notifier_set_handler(r.n, loop, on_notify, &r));
	atomic_store(&r.flag, 0);
	ASSERT_OK(vmc_notifier_signal(r.n));
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_NULL(r.n);
	ASSERT_EQ(atomic_load(&r.runs), 5);
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);
	vmc_loop_unref(loop);
	vmc__lock_destroy(&lock);
}

static void test_move_between_loops(void)
{
	struct vmc_loop *a, *b;
	struct nrec r = {0};

	ASSERT_OK(vmc_loop_new(&a));
	ASSERT_OK(vmc_loop_new(&b));
	r.other = b;
	r.mode = MODE_MOVE;
	ASSERT_OK(vmc_notifier_new(&r.n));
	ASSERT_OK(vmc_notifier_set_handler(r.n, a, on_notify, &r));
	ASSERT_OK(vmc_notifier_signal(r.n));
	ASSERT_TRUE(run_until(a, &r.flag, 2000));
	/* Now on b only. */
	ASSERT_EQ(vmc_loop_run_once(a, false), 0);
	atomic_store(&r.flag, 0);
	ASSERT_OK(vmc_notifier_signal(r.n));
	run_for(a, 10);
	ASSERT_EQ(atomic_load(&r.runs), 1);
	ASSERT_TRUE(run_until(b, &r.flag, 2000));
	ASSERT_EQ(atomic_load(&r.runs), 2);
	vmc_notifier_free(r.n);
	vmc_loop_unref(a);
	vmc_loop_unref(b);
}

static void storm_cb(struct vmc_notifier *n, void *userdata)
{
	storm_record(userdata);
}

static int storm_ping(void *n)
{
	return vmc_notifier_signal(n);
}

static void test_storm(void)
{
	struct storm s = {.iters = vmc_test_scale(100000),
			  .ping = storm_ping,
			  .what = "signals"};
	struct vmc_notifier *n;

	ASSERT_OK(vmc_loop_new(&s.loop));
	ASSERT_OK(vmc_notifier_new(&n));
	ASSERT_OK(vmc_notifier_set_handler(n, s.loop, storm_cb, &s));
	s.target = n;
	storm_run(&s);
	vmc_notifier_free(n);
	vmc_loop_unref(s.loop);
}

int main(void)
{
	RUN(test_errors);
	RUN(test_handler);
	RUN(test_move_between_loops);
	RUN(test_storm);
	return 0;
}
