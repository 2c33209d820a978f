/* SPDX-License-Identifier: MIT */
/*
 * bench/loop: cross-thread wake-up latency of the loop, against bare libuv.
 *
 * Another thread pings the loop and waits for the loop's callback to
 * answer; the round trip is the figure.  Two pairs are compared in the same
 * run, alternating baseline and libvmcore in several rounds:
 *   bottom half     vmc_bh_schedule()         vs uv_async_send()
 *   notifier        vmc_notifier_signal() + handler
 *                                            vs eventfd write + uv_poll_t
 * Each round reports the mean round trip; the result is the ratio of the
 * medians (libvmcore / libuv; 1.00 means equal, lower is better), and, as
 * a check on a noisy machine, the median of the per-round ratios (the two
 * halves of a round run back to back, under the same load).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-uv.h>

#define ROUNDS 31

static atomic_long acked;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Ping @n times through @ping, waiting for each answer; mean ns. */
static double pingpong(void (*ping)(void *), void *arg, long n)
{
	int64_t t0;

	atomic_store(&acked, 0);
	t0 = now_ns();
	for (long i = 1; i <= n; i++) {
		ping(arg);
		while (atomic_load_explicit(&acked, memory_order_acquire) != i)
			cpu_relax();
	}
	return (double)(now_ns() - t0) / (double)n;
}

static void ack(void)
{
	atomic_store_explicit(
		&acked, atomic_load_explicit(&acked, memory_order_relaxed) + 1,
		memory_order_release);
}

/* ---- bare libuv ---- */

struct uvb {
	uv_loop_t loop;
	uv_async_t async;
	uv_async_t stop;
	uv_poll_t poll;
	int efd;
};

static void base_async_cb(uv_async_t *a)
{
	(void)a;
	ack();
}

static void uv_poll_cb_(uv_poll_t *p, int status, int events)
{
	struct uvb *b = p->data;
	uint64_t v;

	(void)status;
	(void)events;
	if (read(b->efd, &v, sizeof(v)) == sizeof(v))
		ack();
}

static void uv_stop_cb(uv_async_t *a)
{
	uv_stop(a->loop);
}

static void *uv_thread(void *arg)
{
	uv_run(&((struct uvb *)arg)->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void ping_uv_async(void *arg)
{
	uv_async_send(&((struct uvb *)arg)->async);
}

static void ping_uv_eventfd(void *arg)
{
	uint64_t one = 1;

	if (write(((struct uvb *)arg)->efd, &one, sizeof(one)) < 0)
		abort();
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

static void uv_setup(struct uvb *bp, pthread_t *t)
{
	uv_loop_init(&bp->loop);
	uv_async_init(&bp->loop, &bp->async, base_async_cb);
	uv_async_init(&bp->loop, &bp->stop, uv_stop_cb);
	bp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uv_poll_init(&bp->loop, &bp->poll, bp->efd);
	bp->poll.data = bp;
	uv_poll_start(&bp->poll, UV_READABLE, uv_poll_cb_);
	pthread_create(t, NULL, uv_thread, bp);
}

static void uv_teardown(struct uvb *bp, pthread_t t)
{
	uv_async_send(&bp->stop);
	pthread_join(t, NULL);
	uv_close((uv_handle_t *)&bp->async, close_cb);
	uv_close((uv_handle_t *)&bp->stop, close_cb);
	uv_close((uv_handle_t *)&bp->poll, close_cb);
	uv_run(&bp->loop, UV_RUN_DEFAULT);
	uv_loop_close(&bp->loop);
	close(bp->efd);
}

/* ---- libvmcore ---- */

struct vmb {
	struct vmc_loop *loop;
	struct vmc_bh *bh;
	struct vmc_notifier *n;
};

static void vmc_bh_cb_(struct vmc_bh *bh, void *userdata)
{
	(void)bh;
	(void)userdata;
	ack();
}

static void vmc_notify_cb(struct vmc_notifier *n, void *userdata)
{
	(void)n;
	(void)userdata;
	ack();
}

static void *vmc_thread(void *arg)
{
	vmc_loop_run(((struct vmb *)arg)->loop);
	return NULL;
}

static void ping_vmc_bh(void *arg)
{
	vmc_bh_schedule(((struct vmb *)arg)->bh);
}

static void ping_vmc_notifier(void *arg)
{
	vmc_notifier_signal(((struct vmb *)arg)->n);
}

static void vmc_setup(struct vmb *bp, pthread_t *t)
{
	if (vmc_loop_new(&bp->loop) < 0 ||
	    vmc_bh_new(bp->loop, vmc_bh_cb_, NULL, &bp->bh) < 0 ||
	    vmc_notifier_new(&bp->n) < 0 ||
	    vmc_notifier_set_handler(bp->n, bp->loop, vmc_notify_cb, NULL) < 0)
		abort();
	pthread_create(t, NULL, vmc_thread, bp);
}

static void vmc_teardown(struct vmb *bp, pthread_t t)
{
	vmc_loop_stop(bp->loop);
	pthread_join(t, NULL);
	vmc_notifier_free(bp->n);
	vmc_bh_free(bp->bh);
	vmc_loop_unref(bp->loop);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double bench(const char *name, bool notifier, long n)
{
	double base[ROUNDS], ours[ROUNDS], paired[ROUNDS], mb, mo, mp;
	struct uvb ub;
	struct vmb vb;
	pthread_t ut, vt;
	void (*ping_base)(void *) = notifier ? ping_uv_eventfd : ping_uv_async;
	void (*ping_ours)(void *) = notifier ? ping_vmc_notifier : ping_vmc_bh;

	/* Both loops live side by side; the idle one sleeps in its poll. */
	uv_setup(&ub, &ut);
	vmc_setup(&vb, &vt);
	pingpong(ping_base, &ub, n / 10); /* warm up */
	pingpong(ping_ours, &vb, n / 10);
	for (int i = 0; i < ROUNDS; i++) {
		/* Alternate which goes first, so drift hits both. */
		if (i % 2) {
			ours[i] = pingpong(ping_ours, &vb, n);
			base[i] = pingpong(ping_base, &ub, n);
		} else {
			base[i] = pingpong(ping_base, &ub, n);
			ours[i] = pingpong(ping_ours, &vb, n);
		}
		paired[i] = ours[i] / base[i];
		printf("  %-12s round %2d: libuv %8.0f ns  libvmcore %8.0f "
		       "ns\n",
		       name, i, base[i], ours[i]);
	}
	vmc_teardown(&vb, vt);
	uv_teardown(&ub, ut);
	mb = median(base, ROUNDS);
	mo = median(ours, ROUNDS);
	mp = median(paired, ROUNDS);
	printf("%-12s round trip (median of %d rounds x %ld): libuv %.0f ns, "
	       "libvmcore %.0f ns, ratio %.3f (median of paired rounds "
	       "%.3f)\n",
	       name, ROUNDS, n, mb, mo, mo / mb, mp);
	return mo / mb;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 3000;
	double r1, r2;

	r1 = bench("bottom-half", false, n);
	r2 = bench("notifier", true, n);
	printf("ratio bottom-half %.3f, notifier %.3f (target <= 1.10)\n", r1,
	       r2);
	return 0;
}
