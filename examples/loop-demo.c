/* SPDX-License-Identifier: MIT */
/*
 * loop-demo: the libvmcore event loop in one page.
 *
 * A timer ticks on the loop's monotonic clock, a worker thread schedules a
 * bottom half and signals a notifier, and a virtual clock shows that its
 * timers wait while it is stopped and fire once it runs.  Everything is
 * printed as it happens; the program exits 0 when all of it was seen.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#define MS 1000000LL

struct demo {
	struct vmc_loop *loop;
	struct vmc_clock *rt;
	struct vmc_clock *vclock;
	struct vmc_timer *tick;
	struct vmc_timer *vtimer;
	struct vmc_bh *bh;
	struct vmc_notifier *notifier;
	int64_t start;
	int ticks;
	bool bh_ran, notified, vfired;
};

static double since(struct demo *d)
{
	return (double)(vmc_clock_get_ns(d->rt) - d->start) / 1e6;
}

static void maybe_done(struct demo *d)
{
	if (d->ticks >= 3 && d->bh_ran && d->notified && d->vfired)
		vmc_loop_stop(d->loop);
}

static void on_tick(struct vmc_timer *t, void *userdata)
{
	struct demo *d = userdata;

	d->ticks++;
	printf("%7.2f ms  timer: tick %d\n", since(d), d->ticks);
	if (d->ticks == 2) {
		/* The virtual clock has been stopped all along: start it. */
		printf("%7.2f ms  virtual clock at %" PRId64
		       " ns while stopped; starting it\n",
		       since(d), vmc_clock_get_ns(d->vclock));
		vmc_clock_start(d->vclock);
	}
	if (d->ticks < 3)
		vmc_timer_mod(t, vmc_clock_get_ns(d->rt) + 20 * MS);
	maybe_done(d);
}

static void on_virtual(struct vmc_timer *t, void *userdata)
{
	struct demo *d = userdata;

	(void)t;
	d->vfired = true;
	printf("%7.2f ms  virtual timer fired at virtual %" PRId64 " ns\n",
	       since(d), vmc_clock_get_ns(d->vclock));
	maybe_done(d);
}

static void on_bh(struct vmc_bh *bh, void *userdata)
{
	struct demo *d = userdata;

	(void)bh;
	d->bh_ran = true;
	printf("%7.2f ms  bottom half scheduled by the worker ran on the "
	       "loop thread\n",
	       since(d));
	maybe_done(d);
}

static void on_notify(struct vmc_notifier *n, void *userdata)
{
	struct demo *d = userdata;

	(void)n;
	d->notified = true;
	printf("%7.2f ms  notifier handler: the worker signalled\n", since(d));
	maybe_done(d);
}

static void *worker(void *arg)
{
	struct demo *d = arg;

	usleep(5000);
	/* Both are safe from any thread. */
	vmc_bh_schedule(d->bh);
	vmc_bh_schedule(d->bh); /* coalesces with the first */
	usleep(5000);
	vmc_notifier_signal(d->notifier);
	return NULL;
}

int main(void)
{
	struct demo d = {0};
	pthread_t thread;
	int r;

	r = vmc_loop_new(&d.loop);
	if (r < 0) {
		fprintf(stderr, "vmc_loop_new: %d\n", r);
		return 1;
	}
	d.rt = vmc_loop_get_clock(d.loop, VMC_CLOCK_REALTIME);
	d.start = vmc_clock_get_ns(d.rt);
	if (vmc_clock_new_virtual(d.loop, 0, &d.vclock) < 0 ||
	    vmc_timer_new(d.rt, on_tick, &d, &d.tick) < 0 ||
	    vmc_timer_new(d.vclock, on_virtual, &d, &d.vtimer) < 0 ||
	    vmc_bh_new(d.loop, on_bh, &d, &d.bh) < 0 ||
	    vmc_notifier_new(&d.notifier) < 0 ||
	    vmc_notifier_set_handler(d.notifier, d.loop, on_notify, &d) < 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	vmc_timer_mod(d.tick, d.start + 20 * MS);
	/* Virtual time 5 ms: due only once the clock has run that long. */
	vmc_timer_mod(d.vtimer, 5 * MS);
	printf("   0.00 ms  virtual clock stopped; its timer waits for 5 ms "
	       "of virtual time\n");

	pthread_create(&thread, NULL, worker, &d);
	r = vmc_loop_run(d.loop);
	pthread_join(thread, NULL);
	printf("%7.2f ms  loop stopped (%d)\n", since(&d), r);

	vmc_timer_free(d.tick);
	vmc_timer_free(d.vtimer);
	vmc_bh_free(d.bh);
	vmc_notifier_free(d.notifier);
	vmc_clock_unref(d.vclock);
	vmc_loop_unref(d.loop);
	return r == 0 && d.ticks == 3 && d.bh_ran && d.notified && d.vfired ? 0
									    : 1;
}
