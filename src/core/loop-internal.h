/* SPDX-License-Identifier: MIT */
/*
 * Internal view of the loop objects, shared by the loop, the notifier and
 * the VM layer.  Never installed.
 *
 * Threading inside the loop code:
 * - loop->tlock is a leaf mutex: it protects every clock's timer list and
 *   the virtual clocks' state.  It is never held while a user callback runs
 *   or while a struct vmc__lock is taken, so a thread holding the VM lock
 *   may arm timers.
 * - Bottom halves are scheduled without a lock: a flag word per bottom half
 *   and a lock-free list per loop (bh.c).
 * - Everything else (fd handlers, notifier handlers, the uv handles) is
 *   touched on the loop thread only.
 */
#ifndef VMC_CORE_LOOP_INTERNAL_H
#define VMC_CORE_LOOP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include <libvmcore/vmc-loop.h>
#include "lock.h"
#include "util.h"

struct vmc__notifier_handler;

struct vmc_notifier {
	int fd;
	/* The handler on a loop, if any (owned by the loop code). */
	struct vmc__notifier_handler *handler;
};

/* Remove the notifier's loop handler, if it has one. */
void vmc__notifier_drop_handler(struct vmc_notifier *n);

struct vmc_clock {
	enum vmc_clock_type type;
	struct vmc_loop *loop;
	/* Virtual clocks only; the loop's own clocks live inside the loop. */
	atomic_int refcount;
	bool deterministic;
	/* The rest is under loop->tlock. */
	struct vmc_timer *head; /* armed timers, sorted by deadline */
	uint64_t arm_seq;	/* counts arming, to stop a run at new ones */
	struct vmc_clock *next; /* in loop->virtual_clocks */
	bool running;
	/* Real-time virtual clock: time = monotonic + offset while running. */
	int64_t offset;
	int64_t frozen;
	/* Deterministic clock: its time, readable without the lock. */
	_Atomic int64_t det_ns;
	/* Default lock of timers created afterwards. */
	struct vmc__lock *timer_lock;
	void (*deadline_notify)(void *opaque);
	void *deadline_opaque;
	/* Timer callbacks of this clock running now (loop thread only). */
	int cb_depth;
};

struct vmc_loop {
	atomic_int refcount;
	uv_loop_t *uv;
	uv_loop_t own_uv;
	bool own;

	/* The doorbell: bottom halves, timer changes from other threads, stop.
	 */
	uv_async_t async;
	/* Armed for the host-time distance to the earliest timer deadline. */
	uv_timer_t timer;
	/*
	 * Adaptive polling (vmc_loop_set_poll_time): an active idle handle
	 * makes libuv poll without blocking; it stops once poll_until (host
	 * ns, loop thread) has passed without another event.
	 */
	uv_idle_t poll_idle;
	_Atomic uint64_t poll_ns;
	uint64_t poll_until;
	bool polling;
	/* Handles of the loop itself whose close has not completed. */
	int closing;

	atomic_bool stop_requested;
	/* Inside vmc_loop_run/run_once/dispatch. */
	atomic_bool running;
	/* Inside one of our uv callbacks (adopted loops run by the host). */
	atomic_int cb_depth;
	/* The thread that runs the loop, or 0. */
	_Atomic(pthread_t) thread;
	/* Timers changed off the loop thread: recompute at the next wake. */
	atomic_bool timers_dirty;
	bool in_timer_run;

	/* Live sources (fd handlers, notifier handlers, timers, bottom halves).
	 */
	atomic_int nsources;

	/* Bottom halves waiting to be looked at (lock-free push, see bh.c). */
	_Atomic(struct vmc_bh *) bh_head;

	/* fd handlers and notifier handlers, to refuse a second one per fd. */
	struct vmc__fd_slot *fds;

	pthread_mutex_t tlock;
	struct vmc_clock realtime;
	struct vmc_clock host;
	struct vmc_clock *virtual_clocks;
};

/* One watched fd on a loop (loop thread only). */
struct vmc__fd_slot {
	int fd;
	struct vmc__fd_slot *next;
};

/*
 * Constructors for the VM layer (vm-loop.c): the same as the public ones,
 * plus the lock taken around the source's user callback (NULL: none).  A
 * thread that already holds it is not blocked.  The run of a locked source
 * is decided once the lock is held, so a disarm, cancel or stop made under
 * the lock is final.
 */
int vmc__timer_new_locked(struct vmc_clock *clock, struct vmc__lock *lock,
			  vmc_timer_cb cb, void *userdata,
			  struct vmc_timer **ret);
int vmc__bh_new_locked(struct vmc_loop *loop, struct vmc__lock *lock,
		       vmc_bh_cb cb, void *userdata, struct vmc_bh **ret);
int vmc__loop_add_fd_locked(struct vmc_loop *loop, struct vmc__lock *lock,
			    int fd, vmc_fd_cb read_cb, vmc_fd_cb write_cb,
			    void *userdata, struct vmc_fd_handler **ret);
int vmc__notifier_set_handler_locked(struct vmc_notifier *n,
				     struct vmc_loop *loop,
				     struct vmc__lock *lock, vmc_notifier_cb cb,
				     void *userdata);
/* The default lock of timers created on @clock afterwards. */
void vmc__clock_set_lock(struct vmc_clock *clock, struct vmc__lock *lock);

/* True if the caller is the thread running the loop. */
bool vmc__loop_in_thread(struct vmc_loop *loop);
/* An fd or notifier event was dispatched (loop thread): extend polling. */
void vmc__loop_note_event(struct vmc_loop *loop);

/*
 * Call @fn whenever the clock's earliest deadline moves earlier, from the
 * thread that armed the timer, without internal locks held.
 */
void vmc__clock_set_deadline_notify(struct vmc_clock *clock,
				    void (*fn)(void *opaque), void *opaque);

struct vmc_loop *vmc__clock_get_loop(struct vmc_clock *clock);
/* Set a virtual clock's time: a snapshot's restore (timer.c). */
void vmc__clock_set_ns(struct vmc_clock *clock, int64_t ns);

/* Inside the loop code. */
void vmc__loop_enter_cb(struct vmc_loop *loop);
void vmc__loop_leave_cb(struct vmc_loop *loop);
void vmc__loop_source_added(struct vmc_loop *loop);
void vmc__loop_source_removed(struct vmc_loop *loop);
int vmc__loop_claim_fd(struct vmc_loop *loop, int fd);
void vmc__loop_release_fd(struct vmc_loop *loop, int fd);
void vmc__loop_wake(struct vmc_loop *loop);
void vmc__clock_init_loop_clock(struct vmc_loop *loop, struct vmc_clock *c,
				enum vmc_clock_type type);
/* Run due timers of every clock and re-arm the loop's uv timer. */
void vmc__loop_run_timers(struct vmc_loop *loop);
/* Run the bottom halves scheduled so far. */
void vmc__loop_run_bhs(struct vmc_loop *loop);
/* Free bottom halves deleted while pending (teardown). */
void vmc__loop_drain_bhs(struct vmc_loop *loop);

#endif
