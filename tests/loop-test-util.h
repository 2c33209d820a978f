/* SPDX-License-Identifier: MIT */
/* Helpers shared by the loop tests: run a loop until a condition holds. */
#ifndef VMC_LOOP_TEST_UTIL_H
#define VMC_LOOP_TEST_UTIL_H

#include <stdatomic.h>
#include <uv.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

/* libuv's process-wide pipe is opened before the fd census by vmc-test.h. */

static void loop_test__tick(struct vmc_timer *t, void *userdata)
{
	vmc_timer_mod(t, vmc_clock_get_ns(vmc_loop_get_clock(
				 (struct vmc_loop *)userdata,
				 VMC_CLOCK_REALTIME)) +
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

#endif
