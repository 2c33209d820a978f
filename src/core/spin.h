/* SPDX-License-Identifier: MIT */
/*
 * Short polling waits for hand-offs between threads that complete within
 * tens of microseconds (a vCPU thread coming up or going away).
 *
 * Waking a thread that sleeps in the kernel costs an inter-processor
 * interrupt and a trip through the scheduler, which on a virtualized host
 * is itself tens of microseconds; a waiter that expects the hand-off that
 * soon polls instead, yielding its CPU between looks (so that on a single
 * CPU the thread it waits for can run), and falls back to sleeping after
 * VMC__SPIN_NS.  Idle vCPUs poll only for the window the host configured
 * (vmc_vm_config.halt_poll_ns); nothing polls guest code or the loop.
 */
#ifndef VMC_CORE_SPIN_H
#define VMC_CORE_SPIN_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define VMC__SPIN_NS 200000

static inline int64_t vmc__spin_clock(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Poll @flag (acquire) for up to VMC__SPIN_NS; whether it became true. */
static inline bool vmc__spin_until(_Atomic bool *flag)
{
	int64_t end;

	if (atomic_load_explicit(flag, memory_order_acquire))
		return true;
	end = vmc__spin_clock() + VMC__SPIN_NS;
	do {
		sched_yield();
		if (atomic_load_explicit(flag, memory_order_acquire))
			return true;
	} while (vmc__spin_clock() < end);
	return false;
}

/*
 * Poll until *@seq differs from @seen (acquire) or @ns have passed;
 * whether it changed.  For halt polling, whose window is configured.
 */
static inline bool vmc__spin_while_same(_Atomic unsigned int *seq,
					unsigned int seen, int64_t ns)
{
	int64_t end = vmc__spin_clock() + ns;

	while (atomic_load_explicit(seq, memory_order_acquire) == seen) {
		if (vmc__spin_clock() >= end)
			return false;
		sched_yield();
	}
	return true;
}

/* pthread_join(), polling first: for a thread already told to exit. */
static inline void vmc__join_thread(pthread_t t)
{
	int64_t end = vmc__spin_clock() + VMC__SPIN_NS;

	do {
		if (pthread_tryjoin_np(t, NULL) == 0)
			return;
		sched_yield();
	} while (vmc__spin_clock() < end);
	pthread_join(t, NULL);
}

#endif
