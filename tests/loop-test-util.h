/* SPDX-License-Identifier: MIT */
/* Helpers shared by the loop tests: run a loop until a condition holds. */
#ifndef VMC_LOOP_TEST_UTIL_H
#define VMC_LOOP_TEST_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

/* libuv's process-wide pipe is opened before the fd census by vmc-test.h. */

static void loop_test__tick(struct vmc_timer *t, void *userdata)
{
	vmc_timer_mod(
		t, vmc_clock_get_ns(vmc_loop_get_clock(
			   (struct vmc_loop *)userdata, VMC_CLOCK_REALTIME)) +
			   5000000);
}

/*
 * Run blocking iterations until *flag is non-zero or @ms elapse; a 5 ms
 * ticking timer bounds every wait.  Returns whether the flag got set.
 */
static inline bool run_until(struct vmc_loop *loop, atomic_int *flag, int ms)
{
	struct vmc_clock *rt = vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME);
	int64_t end = vmc_test_now_ns() + (int64_t)ms * 1000000;
	struct vmc_timer *tick;

	ASSERT_OK(vmc_timer_new(rt, loop_test__tick, loop, &tick));
	ASSERT_OK(vmc_timer_mod(tick, vmc_clock_get_ns(rt) + 5000000));
	while (!atomic_load(flag) && vmc_test_now_ns() < end)
		ASSERT_OK(vmc_loop_run_once(loop, true));
	vmc_timer_free(tick);
	return atomic_load(flag) != 0;
}

/* Run blocking iterations for @ms milliseconds. */
static inline void run_for(struct vmc_loop *loop, int ms)
{
	atomic_int never = 0;

	run_until(loop, &never, ms);
}

/*
 * A cross-thread storm: STORM_THREADS threads each count an increment and
 * then "ping" (schedule a bottom half, signal a notifier) iters times; the
 * callback records how many increments it saw.  Pings coalesce, so the
 * callback runs between once and once per ping, and a final ping made
 * after every thread finished must observe every increment: nothing lost.
 */
#define STORM_THREADS 4

struct storm {
	struct vmc_loop *loop;
	int (*ping)(void *target);
	void *target;
	const char *what;
	long iters;
	atomic_long increments;
	atomic_long runs;
	atomic_long seen;
	atomic_int final;
};

/*
 * Call from the bottom half's or the handler's callback.  `final` is read
 * before the increments: a run that sees it set also sees every increment
 * (all made before it was set), and only such a run stops the loop.  A
 * run already past that read when the final ping lands does not stop it,
 * so the run the final ping causes still happens.
 */
static inline void storm_record(struct storm *s)
{
	bool last = atomic_load(&s->final);

	atomic_fetch_add(&s->runs, 1);
	atomic_store(&s->seen, atomic_load(&s->increments));
	if (last)
		vmc_loop_stop(s->loop);
}

static inline void *storm__thread(void *arg)
{
	struct storm *s = arg;

	for (long i = 0; i < s->iters; i++) {
		atomic_fetch_add_explicit(&s->increments, 1,
					  memory_order_relaxed);
		if (s->ping(s->target) < 0)
			return (void *)1;
	}
	return NULL;
}

static inline void *storm__loop(void *arg)
{
	struct storm *s = arg;

	return (void *)(intptr_t)vmc_loop_run(s->loop);
}

/* Run the storm on s->loop (set up, with the callback wired, by the caller). */
static inline void storm_run(struct storm *s)
{
	pthread_t t[STORM_THREADS], lt;
	void *res;

	ASSERT_EQ(pthread_create(&lt, NULL, storm__loop, s), 0);
	for (int i = 0; i < STORM_THREADS; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, storm__thread, s), 0);
	for (int i = 0; i < STORM_THREADS; i++) {
		ASSERT_EQ(pthread_join(t[i], &res), 0);
		ASSERT_PTR_EQ(res, NULL);
	}
	/* A final ping must observe every increment. */
	atomic_store(&s->final, 1);
	ASSERT_OK(s->ping(s->target));
	ASSERT_EQ(pthread_join(lt, &res), 0);
	ASSERT_PTR_EQ(res, NULL);
	ASSERT_EQ(atomic_load(&s->seen), STORM_THREADS * s->iters);
	ASSERT_GE(atomic_load(&s->runs), 1);
	ASSERT_LE(atomic_load(&s->runs), STORM_THREADS * s->iters + 1);
	fprintf(stderr, "   %ld %s ran the callback %ld times\n",
		STORM_THREADS * s->iters + 1, s->what, atomic_load(&s->runs));
}

#endif
