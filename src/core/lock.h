/* SPDX-License-Identifier: MIT */
/*
 * struct vmc__lock: a mutex that knows whether the calling thread holds it.
 *
 * The VM lock is one of these.  Paths that may be reached both with and
 * without it (memory dispatch from a vCPU thread, or from a device callback
 * that already runs under the lock) ask vmc__lock_held() instead of taking
 * it twice.  Condition waits go through vmc__lock_wait() so the owner stays
 * right across the wait.
 */
#ifndef VMC_CORE_LOCK_H
#define VMC_CORE_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct vmc__lock {
	pthread_mutex_t mutex;
	/* The holder's vmc__thread_id(), or 0; written only by the holder. */
	_Atomic(uintptr_t) owner;
	/*
	 * Refused re-acquisitions by the holder (vmc_vm_lock() misuse) that
	 * its unlocks still have to match; holder only, 0 when released.
	 */
	unsigned int nested;
};

/*
 * A non-zero identity of the calling thread, unique among live threads.
 * The thread pointer where the compiler exposes it: reading it is one
 * instruction, where pthread_self() is a call into the C library, which
 * the exit path (the VM lock around every I/O callback) makes with its
 * branch predictors cold after each KVM_RUN.
 */
static inline uintptr_t vmc__thread_id(void)
{
#if defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer) &&                                 \
	(defined(__x86_64__) || defined(__aarch64__) || defined(__riscv))
	return (uintptr_t)__builtin_thread_pointer();
#define VMC__HAVE_THREAD_POINTER 1
#endif
#endif
#ifndef VMC__HAVE_THREAD_POINTER
	return (uintptr_t)pthread_self();
#endif
}

static inline void vmc__lock_init(struct vmc__lock *l)
{
	pthread_mutex_init(&l->mutex, NULL);
	atomic_init(&l->owner, (uintptr_t)0);
	l->nested = 0;
}

static inline void vmc__lock_destroy(struct vmc__lock *l)
{
	pthread_mutex_destroy(&l->mutex);
}

static inline bool vmc__lock_held(struct vmc__lock *l)
{
	return atomic_load_explicit(&l->owner, memory_order_relaxed) ==
	       vmc__thread_id();
}

static inline void vmc__lock_acquire(struct vmc__lock *l)
{
	pthread_mutex_lock(&l->mutex);
	atomic_store_explicit(&l->owner, vmc__thread_id(),
			      memory_order_relaxed);
}

static inline void vmc__lock_release(struct vmc__lock *l)
{
	l->nested = 0;
	atomic_store_explicit(&l->owner, (uintptr_t)0, memory_order_relaxed);
	pthread_mutex_unlock(&l->mutex);
}

/*
 * Take the lock unless this thread holds it already.  Returns whether it
 * was taken, to pass to vmc__lock_release_if().
 */
static inline bool vmc__lock_acquire_if_needed(struct vmc__lock *l)
{
	if (!l || vmc__lock_held(l))
		return false;
	vmc__lock_acquire(l);
	return true;
}

static inline void vmc__lock_release_if(struct vmc__lock *l, bool taken)
{
	if (taken)
		vmc__lock_release(l);
}

static inline void vmc__lock_wait(struct vmc__lock *l, pthread_cond_t *cond)
{
	unsigned int nested = l->nested;

	l->nested = 0;
	atomic_store_explicit(&l->owner, (uintptr_t)0, memory_order_relaxed);
	pthread_cond_wait(cond, &l->mutex);
	atomic_store_explicit(&l->owner, vmc__thread_id(),
			      memory_order_relaxed);
	l->nested = nested;
}

/* Wait with an absolute CLOCK_MONOTONIC deadline (cond made with it). */
static inline int vmc__lock_timedwait(struct vmc__lock *l, pthread_cond_t *cond,
				      const struct timespec *deadline)
{
	unsigned int nested = l->nested;
	int r;

	l->nested = 0;
	atomic_store_explicit(&l->owner, (uintptr_t)0, memory_order_relaxed);
	r = pthread_cond_timedwait(cond, &l->mutex, deadline);
	atomic_store_explicit(&l->owner, vmc__thread_id(),
			      memory_order_relaxed);
	l->nested = nested;
	return r;
}

#endif
