/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-loop.h
 * @brief The event loop: fd handlers, notifiers, clocks, timers and bottom
 * halves, over libuv.
 *
 * A struct vmc_loop wraps a libuv loop, either its own or one the host
 * already runs (vmc_loop_new_from_uv() in vmc-uv.h).  Hosts whose main loop
 * is not libuv poll vmc_loop_get_fd() and call vmc_loop_dispatch() when it
 * is readable or when vmc_loop_get_timeout() has elapsed.
 *
 * Every callback registered here runs on the loop thread: the thread inside
 * vmc_loop_run(), vmc_loop_run_once() or vmc_loop_dispatch().  Only one
 * thread may run a loop at a time.  A device model makes its loop objects
 * through its VM instead (vmc_vm_timer_new() and friends in vmc-vm.h):
 * the same objects, whose callbacks run with the VM lock held.
 *
 * Sources (fd handlers, notifier handlers, timers, bottom halves) hold a
 * reference on their loop, so a loop outlives its sources.  Freeing a source
 * is immediate from the caller's point of view: its callback never runs
 * after the free returns, even when the free happens inside that callback.
 * The memory behind it is released once libuv has closed the underlying
 * handle; the loop's last unref completes those closes, so teardown leaks
 * nothing.
 *
 * Clocks: VMC_CLOCK_REALTIME (host monotonic time) and VMC_CLOCK_HOST (wall
 * clock) always run and belong to the loop.  A virtual clock
 * (VMC_CLOCK_VIRTUAL) is an object of its own, normally owned by a VM: it
 * can be stopped and started (its time freezes while stopped and its timers
 * do not fire), and in deterministic mode it moves only when advanced
 * explicitly.
 */
#ifndef LIBVMCORE_VMC_LOOP_H
#define LIBVMCORE_VMC_LOOP_H

#include <libvmcore/vmc-common.h>

VMC_BEGIN_DECLS

struct vmc_loop;
struct vmc_fd_handler;
struct vmc_notifier;
struct vmc_clock;
struct vmc_timer;
struct vmc_bh;

/* ------------------------------------------------------------------------
 * The loop
 */

/**
 * Create a loop over a new libuv loop of its own.
 *
 * @param[out] ret the new loop, with one reference
 * @retval 0 success
 * @retval -ENOMEM out of memory
 * @retval -errno libuv could not create its loop (for example -EMFILE)
 * @thread any; the thread that first runs it becomes its loop thread
 * @since 0.1
 */
int vmc_loop_new(struct vmc_loop **ret);

/**
 * Take a reference.
 * @param loop the loop
 * @return @p loop; NULL if @p loop is NULL
 * @thread any
 * @since 0.1
 */
struct vmc_loop *vmc_loop_ref(struct vmc_loop *loop);

/**
 * Drop a reference; the last one frees the loop.
 *
 * The loop must not be running when its last reference goes.  A loop of its
 * own is closed completely; an adopted libuv loop is left to the host, with
 * every libvmcore handle on it closed (the host must run its loop once more
 * for libuv to finish those closes; the memory is released then).
 *
 * @param loop the loop
 * @return NULL, so that callers can write `loop = vmc_loop_unref(loop);`
 * @thread loop (or any thread once the loop no longer runs)
 * @since 0.1
 */
struct vmc_loop *vmc_loop_unref(struct vmc_loop *loop);

/**
 * Run the loop until vmc_loop_stop() is called.
 *
 * @param loop the loop
 * @retval 0 stopped by vmc_loop_stop()
 * @retval -EINVAL @p loop is NULL
 * @retval -EBUSY the loop is already running (also when called from inside
 *         one of its own callbacks)
 * @thread the calling thread becomes the loop thread for the duration
 * @since 0.1
 */
int vmc_loop_run(struct vmc_loop *loop);

/**
 * Run one iteration of the loop.
 *
 * @param loop  the loop
 * @param block wait for at least one event (true) or only handle what is
 *              ready now (false)
 * @retval >0 more work is pending (live sources remain)
 * @retval 0 no live source remains
 * @retval -EINVAL @p loop is NULL
 * @retval -EBUSY the loop is already running
 * @thread the calling thread becomes the loop thread for the duration
 * @since 0.1
 */
int vmc_loop_run_once(struct vmc_loop *loop, bool block);

/**
 * Make vmc_loop_run() return after its current iteration.
 *
 * A stop requested while the loop is not running makes the next
 * vmc_loop_run() return after one iteration.
 *
 * @param loop the loop
 * @retval 0 success
 * @retval -EINVAL @p loop is NULL
 * @thread any; async-signal-safe
 * @since 0.1
 */
int vmc_loop_stop(struct vmc_loop *loop);

/**
 * A file descriptor that becomes readable when the loop has work, for hosts
 * that embed the loop in a loop of their own.
 *
 * Poll it for readability and call vmc_loop_dispatch() when it is readable
 * or when vmc_loop_get_timeout() has elapsed.  The fd belongs to the loop:
 * do not close it.
 *
 * @param loop the loop
 * @retval >=0 the fd
 * @retval -EINVAL @p loop is NULL
 * @thread any
 * @since 0.1
 */
int vmc_loop_get_fd(struct vmc_loop *loop);

/**
 * How long an embedding host may wait on vmc_loop_get_fd() before it must
 * call vmc_loop_dispatch(), in milliseconds.
 *
 * @param loop the loop
 * @retval >0 the timeout
 * @retval 0 call vmc_loop_dispatch() now (also for a loop that has not
 *         been dispatched yet)
 * @retval -1 no timer is armed; wait for the fd alone
 * @retval -EINVAL @p loop is NULL (never returned for a valid loop)
 * @thread loop
 * @since 0.1
 */
int vmc_loop_get_timeout(struct vmc_loop *loop);

/**
 * Keep polling for a while after an event instead of sleeping at once.
 *
 * After the loop dispatches an fd handler or a notifier handler, it goes
 * on checking for events without blocking until @p ns nanoseconds of host
 * time have passed since the last one, and only then sleeps in the kernel
 * again.  A burst of events, such as a guest writing to an
 * ioeventfd-backed register at a high rate, is then consumed without the
 * loop thread falling asleep between batches: waking a sleeping thread
 * costs the waker an inter-processor interrupt, which on a virtualized
 * host slows the writing vCPU measurably.  The price is CPU time on the
 * loop thread, up to @p ns of polling after each burst.  This is the idea
 * behind QEMU's `poll-max-ns` for IOThreads, with a fixed window.
 *
 * While the loop polls, vmc_loop_run_once() does not block and
 * vmc_loop_get_timeout() answers 0, so an embedding host polls too.
 *
 * @param loop the loop
 * @param ns the window; 0 (the default) turns polling off
 * @retval 0 success
 * @retval -EINVAL @p loop is NULL, or @p ns is over one second
 * @thread any; takes effect at the next event
 * @since 0.1
 */
int vmc_loop_set_poll_time(struct vmc_loop *loop, uint64_t ns);

/**
 * Handle everything that is ready, without blocking.
 *
 * @param loop the loop
 * @retval 0 success
 * @retval -EINVAL @p loop is NULL
 * @retval -EBUSY the loop is already running
 * @thread the calling thread becomes the loop thread for the duration
 * @since 0.1
 */
int vmc_loop_dispatch(struct vmc_loop *loop);

/* ------------------------------------------------------------------------
 * fd handlers
 */

/**
 * A readiness callback of an fd handler.
 * @param h        the handler
 * @param fd       its fd
 * @param userdata as given when the handler was created or last changed
 */
typedef void (*vmc_fd_cb)(struct vmc_fd_handler *h, int fd, void *userdata);

/**
 * Watch an fd: @p read_cb runs when it is readable, @p write_cb when it is
 * writable.  Either may be NULL (that direction is not watched); both NULL
 * gives an idle handler that vmc_fd_handler_set() can arm later.  An error
 * or hang-up on the fd calls whichever callbacks are set, so that their
 * read() or write() sees it.
 *
 * The fd stays the caller's: libvmcore never closes it.  Free the handler
 * before closing the fd.  libuv switches the fd to non-blocking mode.
 *
 * @param loop     the loop
 * @param fd       the fd to watch
 * @param read_cb  called when @p fd is readable, or NULL
 * @param write_cb called when @p fd is writable, or NULL
 * @param userdata passed to the callbacks
 * @param[out] ret the new handler
 * @retval 0 success
 * @retval -EINVAL @p loop or @p ret is NULL, or @p fd is negative
 * @retval -EEXIST the fd already has a handler on this loop
 * @retval -ENOMEM out of memory
 * @retval -errno the fd cannot be polled (for example -EPERM for a regular
 *         file)
 * @thread loop
 * @since 0.1
 */
int vmc_loop_add_fd(struct vmc_loop *loop, int fd, vmc_fd_cb read_cb,
		    vmc_fd_cb write_cb, void *userdata,
		    struct vmc_fd_handler **ret);

/**
 * Change a handler's callbacks; allowed inside either callback.
 * @param h the handler
 * @param read_cb the new read callback, or NULL
 * @param write_cb the new write callback, or NULL
 * @param userdata passed to the callbacks
 * @retval 0 success
 * @retval -EINVAL @p h is NULL
 * @thread loop
 * @since 0.1
 */
int vmc_fd_handler_set(struct vmc_fd_handler *h, vmc_fd_cb read_cb,
		       vmc_fd_cb write_cb, void *userdata);

/**
 * Stop watching and free the handler; allowed inside its own callbacks.
 * Neither callback runs after this returns.  NULL is ignored.
 * @param h the handler
 * @thread loop
 * @since 0.1
 */
void vmc_fd_handler_free(struct vmc_fd_handler *h);

/* ------------------------------------------------------------------------
 * Notifiers
 */

/**
 * Create a notifier: an eventfd (non-blocking, close-on-exec) that one side
 * signals and the other consumes, by polling its fd, by
 * vmc_notifier_test_and_clear(), or through a handler on a loop.  KVM
 * ioeventfds and irqfds are notifiers.
 *
 * @param[out] ret the new notifier
 * @retval 0 success
 * @retval -EINVAL @p ret is NULL
 * @retval -ENOMEM out of memory
 * @retval -errno eventfd() failed (for example -EMFILE)
 * @thread any
 * @since 0.1
 */
int vmc_notifier_new(struct vmc_notifier **ret);

/**
 * Remove the notifier's handler, if any, and close its fd.  NULL is ignored.
 * Nothing may still be signalling it, and nothing (ioeventfd, irqfd) may
 * still refer to it.
 * @param n the notifier
 * @thread loop if it has a handler; otherwise any
 * @since 0.1
 */
void vmc_notifier_free(struct vmc_notifier *n);

/**
 * Signal the notifier.  Signals coalesce until consumed.
 * @param n the notifier
 * @retval 0 success
 * @retval -EINVAL @p n is NULL
 * @thread any; async-signal-safe
 * @since 0.1
 */
int vmc_notifier_signal(struct vmc_notifier *n);

/**
 * Consume pending signals.
 * @param n the notifier
 * @retval 1 the notifier had been signalled; it is now clear
 * @retval 0 it had not
 * @retval -EINVAL @p n is NULL
 * @thread any
 * @since 0.1
 */
int vmc_notifier_test_and_clear(struct vmc_notifier *n);

/**
 * The notifier's eventfd, for poll() or for passing to the kernel.  It
 * stays owned by the notifier.
 * @param n the notifier
 * @retval >=0 the fd
 * @retval -EINVAL @p n is NULL
 * @thread any
 * @since 0.1
 */
int vmc_notifier_get_fd(const struct vmc_notifier *n);

/**
 * A notifier handler.  The notifier has already been cleared when it runs.
 */
typedef void (*vmc_notifier_cb)(struct vmc_notifier *n, void *userdata);

/**
 * Run @p cb on @p loop whenever the notifier is signalled; @p cb NULL
 * removes the handler.  A notifier has at most one handler; setting one
 * replaces the previous (which may be on another loop).  Allowed inside the
 * handler itself.
 * @param n the notifier
 * @param loop the loop @p cb runs on
 * @param cb the handler, or NULL
 * @param userdata passed to @p cb
 * @retval 0 success
 * @retval -EINVAL @p n is NULL, or @p cb is set without @p loop
 * @retval -ENOMEM out of memory
 * @thread loop (of the new and of the old handler)
 * @since 0.1
 */
int vmc_notifier_set_handler(struct vmc_notifier *n, struct vmc_loop *loop,
			     vmc_notifier_cb cb, void *userdata);

/* ------------------------------------------------------------------------
 * Clocks
 */

/** The kind of a clock. */
enum vmc_clock_type {
	VMC_CLOCK_REALTIME = 0, /**< host CLOCK_MONOTONIC; always runs */
	VMC_CLOCK_HOST = 1,	/**< host CLOCK_REALTIME (wall); always runs */
	VMC_CLOCK_VIRTUAL = 2,	/**< guest time: stops, starts, may be
				     deterministic */
	_VMC_CLOCK_TYPE_MAX = 0x7fffffff
};

/**
 * One of the loop's own clocks.
 * @param loop the loop
 * @param type VMC_CLOCK_REALTIME or VMC_CLOCK_HOST
 * @return the clock, owned by the loop; NULL for a NULL loop or for any
 *         other type (virtual clocks come from vmc_clock_new_virtual())
 * @thread any
 * @since 0.1
 */
struct vmc_clock *vmc_loop_get_clock(struct vmc_loop *loop,
				     enum vmc_clock_type type);

/** Flags of vmc_clock_new_virtual(). */
enum vmc_clock_flags {
	/** Time moves only through vmc_clock_advance()/vmc_clock_step(). */
	VMC_CLOCK_DETERMINISTIC = 1u << 0,
};

/**
 * Create a virtual clock whose timers run on @p loop.  It starts stopped at
 * time 0.  A real-time virtual clock follows host monotonic time while it
 * runs; a deterministic one moves only when advanced.
 *
 * @param loop the loop the clock's timers run on
 * @param flags 0 or VMC_CLOCK_DETERMINISTIC
 * @param[out] ret the new clock, with one reference
 * @retval 0 success
 * @retval -EINVAL bad argument or unknown flag
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.1
 */
int vmc_clock_new_virtual(struct vmc_loop *loop, unsigned int flags,
			  struct vmc_clock **ret);

/**
 * Take a reference on a virtual clock (the loop's own clocks are not
 * refcounted; this returns them unchanged).
 * @param clock the clock
 * @thread any
 * @since 0.1
 */
struct vmc_clock *vmc_clock_ref(struct vmc_clock *clock);

/**
 * Drop a reference on a virtual clock; its timers must be freed first.
 * @param clock the clock
 * @return NULL
 * @thread loop
 * @since 0.1
 */
struct vmc_clock *vmc_clock_unref(struct vmc_clock *clock);

/**
 * The clock's type.
 * @param clock the clock
 * @thread any
 * @since 0.1
 */
enum vmc_clock_type vmc_clock_get_type(const struct vmc_clock *clock);

/**
 * The clock's current time in nanoseconds.  NULL gives 0.
 * @param clock the clock
 * @thread any
 * @since 0.1
 */
int64_t vmc_clock_get_ns(const struct vmc_clock *clock);

/**
 * Start a stopped virtual clock: time moves again from where it froze and
 * due timers fire.
 * @param clock the clock
 * @retval 0 success (also when it was running)
 * @retval -EINVAL @p clock is NULL or not a virtual clock
 * @thread any
 * @since 0.1
 */
int vmc_clock_start(struct vmc_clock *clock);

/**
 * Stop a virtual clock: its time freezes and its timers do not fire until
 * it starts again.  No timer callback of the clock starts after this
 * returns (one already running on the loop thread finishes).
 * @param clock the clock
 * @retval 0 success (also when it was stopped)
 * @retval -EINVAL @p clock is NULL or not a virtual clock
 * @thread any
 * @since 0.1
 */
int vmc_clock_stop(struct vmc_clock *clock);

/**
 * Whether a clock runs; the loop's own clocks always do.
 * @param clock the clock
 * @thread any
 * @since 0.1
 */
bool vmc_clock_is_running(const struct vmc_clock *clock);

/**
 * Move a deterministic virtual clock forward by @p delta_ns.  Timers that
 * fall due run on the loop thread at its next iteration (the loop is woken
 * when called from another thread).  A stopped clock moves too, but its
 * timers wait until it starts.  An accelerator that counts instructions
 * calls this from vCPU threads.
 * @param clock the clock
 * @param delta_ns nanoseconds to move forward
 * @retval 0 success
 * @retval -EINVAL @p clock is NULL, not virtual, or @p delta_ns < 0
 * @retval -EOPNOTSUPP the clock is not deterministic
 * @thread any
 * @since 0.1
 */
int vmc_clock_advance(struct vmc_clock *clock, int64_t delta_ns);

/**
 * Step a deterministic virtual clock forward by @p delta_ns, running every
 * timer that falls due, in deadline order, with the clock reading exactly
 * that timer's deadline while it runs; the clock ends at start +
 * @p delta_ns.  This is how a test drives timer-driven devices
 * deterministically.  It steps even while the clock is stopped.
 * @param clock the clock
 * @param delta_ns nanoseconds to move forward
 * @retval 0 success
 * @retval -EINVAL @p clock is NULL, not virtual, or @p delta_ns < 0
 * @retval -EOPNOTSUPP the clock is not deterministic
 * @retval -EBUSY called from inside one of this clock's timer callbacks
 * @thread loop
 * @since 0.1
 */
int vmc_clock_step(struct vmc_clock *clock, int64_t delta_ns);

/**
 * The earliest deadline among the clock's armed timers.
 * @param clock the clock
 * @retval >=0 the deadline, in the clock's nanoseconds
 * @retval -1 no timer is armed
 * @retval -EINVAL @p clock is NULL
 * @thread any
 * @since 0.1
 */
int64_t vmc_clock_get_next_deadline(const struct vmc_clock *clock);

/* ------------------------------------------------------------------------
 * Timers
 */

/** A timer callback; runs on the loop thread. */
typedef void (*vmc_timer_cb)(struct vmc_timer *t, void *userdata);

/**
 * Create a disarmed timer on @p clock.
 * @param clock the clock the timer runs on
 * @param cb called when the timer expires
 * @param userdata passed to @p cb
 * @param[out] ret the new timer
 * @retval 0 success
 * @retval -EINVAL @p clock, @p cb or @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.1
 */
int vmc_timer_new(struct vmc_clock *clock, vmc_timer_cb cb, void *userdata,
		  struct vmc_timer **ret);

/**
 * Arm (or re-arm) the timer to fire once when its clock reaches
 * @p deadline_ns.  A deadline in the past fires at the next iteration
 * (also when re-armed from its own callback: a timer cannot starve the
 * loop).  Timers with equal deadlines fire in the order they were armed.
 * Host-time clocks fire with millisecond granularity, never early.
 * @param t the timer
 * @param deadline_ns the clock time to fire at, in nanoseconds
 * @retval 0 success
 * @retval -EINVAL @p t is NULL or @p deadline_ns < 0
 * @thread any
 * @since 0.1
 */
int vmc_timer_mod(struct vmc_timer *t, int64_t deadline_ns);

/**
 * Disarm the timer; it will not fire until armed again.
 * @param t the timer
 * @retval 0 success (also when it was not armed)
 * @retval -EINVAL @p t is NULL
 * @thread any
 * @since 0.1
 */
int vmc_timer_del(struct vmc_timer *t);

/**
 * Whether the timer is armed.
 * @param t the timer
 * @thread any
 * @since 0.1
 */
bool vmc_timer_is_pending(const struct vmc_timer *t);

/**
 * The deadline the timer is armed for, or -1.
 * @param t the timer
 * @thread any
 * @since 0.1
 */
int64_t vmc_timer_get_deadline(const struct vmc_timer *t);

/**
 * Disarm and free the timer; allowed inside its own callback.  NULL is
 * ignored.
 * @param t the timer
 * @thread loop
 * @since 0.1
 */
void vmc_timer_free(struct vmc_timer *t);

/* ------------------------------------------------------------------------
 * Bottom halves
 */

/** A bottom-half callback; runs on the loop thread. */
typedef void (*vmc_bh_cb)(struct vmc_bh *bh, void *userdata);

/**
 * Create a bottom half: a callback any thread can schedule to run soon on
 * the loop thread.
 * @param loop the loop whose thread runs @p cb
 * @param cb called on the loop thread when the bottom half runs
 * @param userdata passed to @p cb
 * @param[out] ret the new bottom half
 * @retval 0 success
 * @retval -EINVAL @p loop, @p cb or @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.1
 */
int vmc_bh_new(struct vmc_loop *loop, vmc_bh_cb cb, void *userdata,
	       struct vmc_bh **ret);

/**
 * Schedule the bottom half.  Schedules coalesce: however often it is
 * scheduled before it runs, it runs once.  A schedule from inside its own
 * callback runs it again at the next iteration, never in the same one.
 * Everything the scheduling thread wrote before this call is visible to the
 * callback.
 * @param bh the bottom half
 * @retval 0 success
 * @retval -EINVAL @p bh is NULL
 * @thread any
 * @since 0.1
 */
int vmc_bh_schedule(struct vmc_bh *bh);

/**
 * Cancel a scheduled run that has not started yet.
 * @param bh the bottom half
 * @retval 0 success
 * @retval -EINVAL @p bh is NULL
 * @thread any
 * @since 0.1
 */
int vmc_bh_cancel(struct vmc_bh *bh);

/**
 * Free the bottom half; allowed inside its own callback.  A pending run is
 * cancelled.  NULL is ignored.
 * @param bh the bottom half
 * @thread loop
 * @since 0.1
 */
void vmc_bh_free(struct vmc_bh *bh);

VMC_END_DECLS

#endif
