/* SPDX-License-Identifier: MIT */
/* Notifiers without a loop: signal, coalesce, test-and-clear, fds. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

static void test_basic(void)
{
	struct vmc_notifier *n;
	int fd;

	ASSERT_ERR(vmc_notifier_new(NULL), -EINVAL);
	ASSERT_OK(vmc_notifier_new(&n));
	fd = vmc_notifier_get_fd(n);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);

	ASSERT_EQ(vmc_notifier_test_and_clear(n), 0);
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_EQ(vmc_notifier_test_and_clear(n), 1);
	ASSERT_EQ(vmc_notifier_test_and_clear(n), 0);

	ASSERT_ERR(vmc_notifier_get_fd(NULL), -EINVAL);
	ASSERT_ERR(vmc_notifier_test_and_clear(NULL), -EINVAL);
	vmc_notifier_free(NULL);
	vmc_notifier_free(n);
}

static struct vmc_notifier *sig_notifier;

static void on_signal(int sig)
{
	(void)sig;
	vmc_notifier_signal(sig_notifier);
}

static void test_signal_handler_context(void)
{
	struct sigaction sa = {.sa_handler = on_signal}, old;
	struct pollfd pfd;

	ASSERT_OK(vmc_notifier_new(&sig_notifier));
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(sigaction(SIGUSR2, &sa, &old), 0);
	raise(SIGUSR2);
	pfd = (struct pollfd){.fd = vmc_notifier_get_fd(sig_notifier),
			      .events = POLLIN};
	ASSERT_EQ(poll(&pfd, 1, 1000), 1);
	ASSERT_EQ(vmc_notifier_test_and_clear(sig_notifier), 1);
	sigaction(SIGUSR2, &old, NULL);
	vmc_notifier_free(sig_notifier);
}

#define THREADS 4

static void *signaller(void *arg)
{
	struct vmc_notifier *n = arg;
	long iters = vmc_test_scale(100000);

	for (long i = 0; i < iters; i++)
		if (vmc_notifier_signal(n) < 0)
			return (void *)1;
	return NULL;
}

static void test_cross_thread(void)
{
	struct vmc_notifier *n;
	pthread_t t[THREADS];
	long seen = 0;
	void *res;

	ASSERT_OK(vmc_notifier_new(&n));
	for (int i = 0; i < THREADS; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, signaller, n), 0);
	for (int i = 0; i < THREADS; i++) {
		ASSERT_EQ(pthread_join(t[i], &res), 0);
		ASSERT_PTR_EQ(res, NULL);
	}
	/* Every signal coalesced into a single pending state. */
	seen = vmc_notifier_test_and_clear(n);
	ASSERT_EQ(seen, 1);
	ASSERT_EQ(vmc_notifier_test_and_clear(n), 0);
	vmc_notifier_free(n);
}

int main(void)
{
	RUN(test_basic);
	RUN(test_signal_handler_context);
	RUN(test_cross_thread);
	return 0;
}
