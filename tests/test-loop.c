/* SPDX-License-Identifier: MIT */
/* The loop itself: run/stop, re-entrancy, foreign embedding, adoption. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <libvmcore/vmc-uv.h>

#include "loop-internal.h"
#include "loop-test-util.h"

static void test_errors(void)
{
	struct vmc_loop *loop;

	ASSERT_ERR(vmc_loop_new(NULL), -EINVAL);
	ASSERT_ERR(vmc_loop_new_from_uv(NULL, &loop), -EINVAL);
	ASSERT_ERR(vmc_loop_new_from_uv(uv_default_loop(), NULL), -EINVAL);
	ASSERT_ERR(vmc_loop_run(NULL), -EINVAL);
	ASSERT_ERR(vmc_loop_run_once(NULL, false), -EINVAL);
	ASSERT_ERR(vmc_loop_stop(NULL), -EINVAL);
	ASSERT_ERR(vmc_loop_get_fd(NULL), -EINVAL);
	ASSERT_ERR(vmc_loop_get_timeout(NULL), -EINVAL);
	ASSERT_ERR(vmc_loop_dispatch(NULL), -EINVAL);
	ASSERT_ERR(vmc_loop_set_poll_time(NULL, 0), -EINVAL);
	ASSERT_NULL(vmc_loop_get_uv(NULL));
	ASSERT_NULL(vmc_loop_ref(NULL));
	ASSERT_NULL(vmc_loop_unref(NULL));
	ASSERT_FALSE(vmc__loop_in_thread(NULL));
	uv_loop_close(uv_default_loop());
}

static void flag_timer(struct vmc_timer *t, void *userdata)
{
	(void)t;
	atomic_store((atomic_int *)userdata, 1);
}

static void flag_notifier(struct vmc_notifier *n, void *userdata)
{
	(void)n;
	(void)userdata;
}

static void test_ref_fd_timeout(void)
{
	struct vmc_loop *loop;
	struct vmc_clock *rt;
	struct vmc_timer *t;
	int fd, to;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_PTR_EQ(vmc_loop_ref(loop), loop);
	ASSERT_NULL(vmc_loop_unref(loop));
	ASSERT_NOT_NULL(vmc_loop_get_uv(loop));
	fd = vmc_loop_get_fd(loop);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/*
	 * A new loop has watchers to register: dispatch now.  Then, with no
	 * source, there is nothing to wait for and nothing alive.
	 */
	ASSERT_GE(vmc_loop_get_timeout(loop), -1);
	ASSERT_OK(vmc_loop_dispatch(loop));
	ASSERT_EQ(vmc_loop_get_timeout(loop), -1);
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);

	rt = vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME);
	ASSERT_OK(vmc_timer_new(rt, flag_timer, NULL, &t));
	ASSERT_OK(vmc_timer_mod(t, vmc_clock_get_ns(rt) + 200000000));
	/* Armed off the loop thread: the next iteration programs it. */
	ASSERT_GT(vmc_loop_run_once(loop, false), 0);
	to = vmc_loop_get_timeout(loop);
	ASSERT_GT(to, 100);
	ASSERT_LE(to, 200);
	vmc_timer_free(t);
	vmc_loop_unref(loop);
}

struct ctx {
	struct vmc_loop *loop;
	atomic_int flag;
	int busy_run, busy_once, busy_dispatch;
	bool in_thread;
	struct vmc_bh *bh;
};

static void busy_cb(struct vmc_bh *bh, void *userdata)
{
	struct ctx *c = userdata;

	(void)bh;
	c->busy_run = vmc_loop_run(c->loop);
	c->busy_once = vmc_loop_run_once(c->loop, false);
	c->busy_dispatch = vmc_loop_dispatch(c->loop);
	c->in_thread = vmc__loop_in_thread(c->loop);
	atomic_store(&c->flag, 1);
}

static void test_reentrant_busy(void)
{
	struct ctx c = {0};

	ASSERT_OK(vmc_loop_new(&c.loop));
	ASSERT_FALSE(vmc__loop_in_thread(c.loop));
	ASSERT_OK(vmc_bh_new(c.loop, busy_cb, &c, &c.bh));
	ASSERT_OK(vmc_bh_schedule(c.bh));
	ASSERT_TRUE(run_until(c.loop, &c.flag, 2000));
	ASSERT_ERR(c.busy_run, -EBUSY);
	ASSERT_ERR(c.busy_once, -EBUSY);
	ASSERT_ERR(c.busy_dispatch, -EBUSY);
	ASSERT_TRUE(c.in_thread);
	ASSERT_FALSE(vmc__loop_in_thread(c.loop));
	vmc_bh_free(c.bh);
	vmc_loop_unref(c.loop);
}

static void *run_thread(void *arg)
{
	return (void *)(intptr_t)vmc_loop_run(arg);
}

static void test_run_stop(void)
{
	struct vmc_loop *loop;
	pthread_t t;
	void *res;

	ASSERT_OK(vmc_loop_new(&loop));
	/* A stop before the run: the run returns after one iteration. */
	ASSERT_OK(vmc_loop_stop(loop));
	ASSERT_OK(vmc_loop_run(loop));

	/* Stop from another thread, while another run is refused. */
	ASSERT_EQ(pthread_create(&t, NULL, run_thread, loop), 0);
	/* Wait for the thread to claim the loop (a loaded host may not run
	 * it for a while): only then is a second run refused rather than
	 * run. */
	for (int i = 0; i < 10000 && !atomic_load(&loop->running); i++)
		usleep(1000);
	ASSERT_TRUE(atomic_load(&loop->running));
	ASSERT_ERR(vmc_loop_run(loop), -EBUSY);
	ASSERT_ERR(vmc_loop_run_once(loop, false), -EBUSY);
	ASSERT_ERR(vmc_loop_dispatch(loop), -EBUSY);
	usleep(10000);
	ASSERT_OK(vmc_loop_stop(loop));
	ASSERT_EQ(pthread_join(t, &res), 0);
	ASSERT_PTR_EQ(res, NULL);
	vmc_loop_unref(loop);
}

static struct vmc_loop *sig_loop;

static void on_alarm(int sig)
{
	(void)sig;
	vmc_loop_stop(sig_loop);
}

static void test_stop_from_signal_handler(void)
{
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct itimerval it = {.it_value = {.tv_usec = 20000}};

	ASSERT_OK(vmc_loop_new(&sig_loop));
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(sigaction(SIGALRM, &sa, &old), 0);
	ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	ASSERT_OK(vmc_loop_run(sig_loop));
	sigaction(SIGALRM, &old, NULL);
	vmc_loop_unref(sig_loop);
}

static void flag_bh(struct vmc_bh *bh, void *userdata)
{
	struct ctx *c = userdata;

	(void)bh;
	c->in_thread = vmc__loop_in_thread(c->loop);
	atomic_store(&c->flag, 1);
}

static void *schedule_thread(void *arg)
{
	struct ctx *c = arg;

	usleep(10000);
	return (void *)(intptr_t)vmc_bh_schedule(c->bh);
}

/* A host with a poll loop of its own: get_fd + get_timeout + dispatch. */
static void test_foreign_embedding(void)
{
	struct ctx c = {0};
	struct vmc_clock *rt;
	struct vmc_timer *t;
	atomic_int fired = 0;
	struct pollfd pfd;
	pthread_t th;
	int64_t start;

	ASSERT_OK(vmc_loop_new(&c.loop));
	ASSERT_OK(vmc_bh_new(c.loop, flag_bh, &c, &c.bh));
	ASSERT_EQ(pthread_create(&th, NULL, schedule_thread, &c), 0);
	pfd = (struct pollfd){.fd = vmc_loop_get_fd(c.loop), .events = POLLIN};
	while (!atomic_load(&c.flag)) {
		ASSERT_GE(poll(&pfd, 1, vmc_loop_get_timeout(c.loop)), 0);
		ASSERT_OK(vmc_loop_dispatch(c.loop));
	}
	ASSERT_EQ(pthread_join(th, NULL), 0);
	ASSERT_TRUE(c.in_thread);

	/* A timer, waited for through get_timeout alone. */
	rt = vmc_loop_get_clock(c.loop, VMC_CLOCK_REALTIME);
	ASSERT_OK(vmc_timer_new(rt, flag_timer, &fired, &t));
	ASSERT_OK(vmc_loop_dispatch(c.loop));
	start = vmc_test_now_ns();
	ASSERT_OK(vmc_timer_mod(t, vmc_clock_get_ns(rt) + 20000000));
	ASSERT_OK(vmc_loop_dispatch(c.loop));
	while (!atomic_load(&fired)) {
		int to = vmc_loop_get_timeout(c.loop);

		ASSERT_GE(to, 0);
		ASSERT_GE(poll(&pfd, 1, to), 0);
		ASSERT_OK(vmc_loop_dispatch(c.loop));
	}
	ASSERT_GE(vmc_test_now_ns() - start, 20000000);
	vmc_timer_free(t);
	vmc_bh_free(c.bh);
	vmc_loop_unref(c.loop);
}

/* A host's libuv loop: adoption, host-driven runs, and teardown. */
static void test_adopted(void)
{
	uv_loop_t host;
	struct ctx c = {0};
	struct vmc_clock *rt;
	struct vmc_timer *t;
	struct vmc_fd_handler *h;
	struct vmc_notifier *n;
	atomic_int fired = 0;
	int p[2];

	ASSERT_EQ(uv_loop_init(&host), 0);
	ASSERT_OK(vmc_loop_new_from_uv(&host, &c.loop));
	ASSERT_PTR_EQ(vmc_loop_get_uv(c.loop), &host);
	/* Nothing of ours keeps the host's loop alive while idle. */
	ASSERT_EQ(uv_run(&host, UV_RUN_DEFAULT), 0);

	ASSERT_OK(vmc_bh_new(c.loop, flag_bh, &c, &c.bh));
	ASSERT_OK(vmc_bh_schedule(c.bh));
	rt = vmc_loop_get_clock(c.loop, VMC_CLOCK_REALTIME);
	ASSERT_OK(vmc_timer_new(rt, flag_timer, &fired, &t));
	ASSERT_OK(vmc_timer_mod(t, vmc_clock_get_ns(rt) + 5000000));
	/* The host drives it with plain uv_run. */
	while (!atomic_load(&c.flag) || !atomic_load(&fired))
		uv_run(&host, UV_RUN_ONCE);
	ASSERT_TRUE(c.in_thread);
	/* Our own entry points work on it too. */
	atomic_store(&c.flag, 0);
	ASSERT_OK(vmc_bh_schedule(c.bh));
	ASSERT_TRUE(run_until(c.loop, &c.flag, 2000));

	/* Sources whose closes are pending at teardown. */
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	ASSERT_OK(vmc_loop_add_fd(c.loop, p[0], NULL, NULL, NULL, &h));
	ASSERT_OK(vmc_notifier_new(&n));
	ASSERT_OK(vmc_notifier_set_handler(n, c.loop, flag_notifier, NULL));
	vmc_loop_unref(c.loop);
	vmc_fd_handler_free(h);
	vmc_notifier_free(n);
	vmc_timer_free(t);
	vmc_bh_free(c.bh);
	/* The last source is gone: the host's next run completes closes. */
	ASSERT_EQ(uv_run(&host, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(uv_loop_close(&host), 0);
	close(p[0]);
	close(p[1]);
}

/* An own loop freed with closes still pending completes them itself. */
static void count_notifier(struct vmc_notifier *n, void *userdata)
{
	(void)n;
	atomic_fetch_add((atomic_int *)userdata, 1);
}

/*
 * Adaptive polling: after a notifier event the loop does not block (a
 * blocking iteration returns at once, the embedding timeout is 0) until
 * the window has passed without another event; then it sleeps again.
 * Events that arrive while it polls are handled.
 */
static void test_poll_time(void)
{
	struct vmc_loop *loop;
	struct vmc_notifier *n;
	atomic_int hits = 0;
	int64_t t0;

	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_ERR(vmc_loop_set_poll_time(loop, 2000000000ull), -EINVAL);
	ASSERT_OK(vmc_notifier_new(&n));
	ASSERT_OK(vmc_notifier_set_handler(n, loop, count_notifier, &hits));
	ASSERT_OK(vmc_loop_dispatch(loop));
	/* Off: nothing to wait for but the notifier. */
	ASSERT_EQ(vmc_loop_get_timeout(loop), -1);

	ASSERT_OK(vmc_loop_set_poll_time(loop, 100 * 1000 * 1000));
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_GT(vmc_loop_run_once(loop, true), 0);
	ASSERT_EQ(atomic_load(&hits), 1);
	/* Polling: neither a blocking iteration nor the host waits. */
	ASSERT_EQ(vmc_loop_get_timeout(loop), 0);
	t0 = vmc_test_now_ns();
	for (int i = 0; i < 10; i++)
		ASSERT_GT(vmc_loop_run_once(loop, true), 0);
	ASSERT_LT(vmc_test_now_ns() - t0, 90 * 1000 * 1000);
	/* An event while polling is handled and extends the window. */
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_GT(vmc_loop_run_once(loop, true), 0);
	ASSERT_EQ(atomic_load(&hits), 2);

	/* A short window ends: the loop blocks again. */
	ASSERT_OK(vmc_loop_set_poll_time(loop, 1000 * 1000));
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_GT(vmc_loop_run_once(loop, true), 0);
	ASSERT_EQ(atomic_load(&hits), 3);
	t0 = vmc_test_now_ns();
	while (vmc_loop_get_timeout(loop) == 0) {
		ASSERT_GT(vmc_loop_run_once(loop, false), 0);
		ASSERT_LT(vmc_test_now_ns() - t0, 5000 * 1000 * 1000ll);
	}
	ASSERT_EQ(vmc_loop_get_timeout(loop), -1);

	/* Turned off, an event no longer starts polling. */
	ASSERT_OK(vmc_loop_set_poll_time(loop, 0));
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_GT(vmc_loop_run_once(loop, true), 0);
	ASSERT_EQ(atomic_load(&hits), 4);
	ASSERT_EQ(vmc_loop_get_timeout(loop), -1);

	ASSERT_OK(vmc_notifier_set_handler(n, loop, NULL, NULL));
	vmc_notifier_free(n);
	/* Teardown with the idle handle closed too. */
	vmc_loop_unref(loop);
}

static void test_own_teardown_pending_closes(void)
{
	struct vmc_loop *loop;
	struct vmc_fd_handler *h;
	int p[2];

	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_loop_add_fd(loop, p[0], NULL, NULL, NULL, &h));
	vmc_loop_unref(loop); /* the handler keeps it */
	ASSERT_EQ(vmc_loop_run_once(loop, false), 1);
	vmc_fd_handler_free(h); /* the last reference */
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	RUN(test_errors);
	RUN(test_ref_fd_timeout);
	RUN(test_reentrant_busy);
	RUN(test_run_stop);
	RUN(test_stop_from_signal_handler);
	RUN(test_foreign_embedding);
	RUN(test_adopted);
	RUN(test_own_teardown_pending_closes);
	RUN(test_poll_time);
	return 0;
}
