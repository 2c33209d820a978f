/* SPDX-License-Identifier: MIT */
/* Versions and the log handler. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "util.h"
#include "vmc-test.h"

static void test_version(void)
{
	char expect[32];

	ASSERT_EQ(vmc_version(), VMC_VERSION_HEX);
	snprintf(expect, sizeof(expect), "%d.%d.%d", VMC_VERSION_MAJOR,
		 VMC_VERSION_MINOR, VMC_VERSION_MICRO);
	ASSERT_STREQ(vmc_version_string(), expect);
	ASSERT_TRUE(VMC_VERSION_AT_LEAST(0, 0, 1));
	ASSERT_FALSE(VMC_VERSION_AT_LEAST(VMC_VERSION_MAJOR + 1, 0, 0));
}

struct log_capture {
	int count;
	enum vmc_log_level level;
	char last[128];
};

static void capture(enum vmc_log_level level, const char *msg, void *ud)
{
	struct log_capture *c = ud;

	c->count++;
	c->level = level;
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

static void test_log_handler(void)
{
	struct log_capture c = {0};

	/* No handler: nothing is formatted or delivered. */
	vmc__err("dropped %d", 1);
	ASSERT_FALSE(vmc__log_enabled(VMC_LOG_ERR));

	vmc_set_log_handler(capture, VMC_LOG_INFO, &c);
	ASSERT_TRUE(vmc__log_enabled(VMC_LOG_INFO));
	ASSERT_FALSE(vmc__log_enabled(VMC_LOG_DEBUG));
	vmc__err("error %d", 42);
	ASSERT_EQ(c.count, 1);
	ASSERT_EQ(c.level, VMC_LOG_ERR);
	ASSERT_STREQ(c.last, "error 42");
	vmc__debug("filtered out");
	ASSERT_EQ(c.count, 1);
	vmc__info("info");
	ASSERT_EQ(c.count, 2);

	/* A bad public argument logs at debug level and returns -EINVAL. */
	vmc_set_log_handler(capture, VMC_LOG_DEBUG, &c);
	ASSERT_ERR(vmc_notifier_signal(NULL), -EINVAL);
	ASSERT_EQ(c.count, 3);
	ASSERT_TRUE(strstr(c.last, "vmc_notifier_signal") != NULL);

	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
	vmc__err("dropped again");
	ASSERT_EQ(c.count, 3);
}

/* The public entry points: what a device model outside the tree calls. */
static void test_public_log(void)
{
	struct log_capture c = {0};
	char longer[700];

	vmc_log(VMC_LOG_ERR, "dropped %d", 1);
	ASSERT_FALSE(vmc_log_enabled(VMC_LOG_ERR));

	vmc_set_log_handler(capture, VMC_LOG_WARNING, &c);
	ASSERT_TRUE(vmc_log_enabled(VMC_LOG_ERR));
	ASSERT_TRUE(vmc_log_enabled(VMC_LOG_WARNING));
	ASSERT_FALSE(vmc_log_enabled(VMC_LOG_INFO));
	vmc_log(VMC_LOG_WARNING, "uart%d: %s", 0, "overrun");
	ASSERT_EQ(c.count, 1);
	ASSERT_EQ(c.level, VMC_LOG_WARNING);
	ASSERT_STREQ(c.last, "uart0: overrun");
	vmc_log(VMC_LOG_INFO, "filtered out");
	ASSERT_EQ(c.count, 1);
	vmc_log(VMC_LOG_ERR, NULL);
	ASSERT_EQ(c.count, 1);

	/* Long messages are cut, not overrun. */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	vmc_log(VMC_LOG_ERR, "%s", longer);
	ASSERT_EQ(c.count, 2);
	ASSERT_EQ(strlen(c.last), sizeof(c.last) - 1);

	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
	vmc_log(VMC_LOG_ERR, "dropped again");
	ASSERT_EQ(c.count, 2);
}

/*
 * The handler runs with no lock held (issue 17, item 10): a handler that
 * logs or replaces the handler does not deadlock, a slow handler on one
 * thread does not hold up another thread's message, and a replacement
 * returns only once the old handler is no longer running elsewhere.
 */
struct slow_log {
	_Atomic int entered, left, calls;
};

static void reentrant(enum vmc_log_level level, const char *msg, void *ud)
{
	struct log_capture *c = ud;

	capture(level, msg, ud);
	/* Dropped, not delivered recursively, and no deadlock. */
	vmc_log(VMC_LOG_ERR, "from inside %d", c->count);
	vmc__err("internal from inside");
	if (!strcmp(msg, "replace"))
		vmc_set_log_handler(capture, VMC_LOG_DEBUG, ud);
}

static void slow(enum vmc_log_level level, const char *msg, void *ud)
{
	struct slow_log *s = ud;

	(void)level;
	atomic_fetch_add(&s->calls, 1);
	if (strcmp(msg, "slow"))
		return;
	atomic_store(&s->entered, 1);
	usleep(300 * 1000);
	atomic_store(&s->left, 1);
}

static void *log_slow_thread(void *arg)
{
	(void)arg;
	vmc_log(VMC_LOG_ERR, "slow");
	return NULL;
}

static void wait_entered(struct slow_log *s)
{
	int64_t end = vmc_test_now_ns() + 5000000000LL;

	while (!atomic_load(&s->entered))
		if (vmc_test_now_ns() > end)
			FAIL("the slow handler never ran");
}

static _Atomic int swaps;

static void swapper(enum vmc_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)msg;
	atomic_fetch_add(&swaps, 1);
	vmc_set_log_handler(swapper, VMC_LOG_DEBUG, ud);
}

static void *swap_thread(void *arg)
{
	for (int i = 0; i < 2000; i++)
		vmc_log(VMC_LOG_ERR, "swap %d", i);
	return arg;
}

/* Handlers on two threads replacing the handler at once: no deadlock. */
static void test_log_handler_swaps(void)
{
	pthread_t t[2];

	vmc_set_log_handler(swapper, VMC_LOG_DEBUG, NULL);
	for (int i = 0; i < 2; i++)
		ASSERT_OK(-pthread_create(&t[i], NULL, swap_thread, NULL));
	for (int i = 0; i < 500; i++)
		vmc_set_log_handler(swapper, VMC_LOG_DEBUG, NULL);
	for (int i = 0; i < 2; i++)
		ASSERT_OK(-pthread_join(t[i], NULL));
	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
	ASSERT_EQ(atomic_load(&swaps), 4000);
}

static void test_log_handler_unlocked(void)
{
	struct log_capture c = {0};
	struct slow_log s = {0};
	pthread_t t;
	int64_t t0, dt;

	vmc_set_log_handler(reentrant, VMC_LOG_DEBUG, &c);
	vmc_log(VMC_LOG_ERR, "outer");
	ASSERT_EQ(c.count, 1);
	ASSERT_STREQ(c.last, "outer");
	/* The handler replaces itself: no deadlock, the new one is live. */
	vmc_log(VMC_LOG_ERR, "replace");
	ASSERT_EQ(c.count, 2);
	vmc_log(VMC_LOG_ERR, "after");
	ASSERT_EQ(c.count, 3);
	ASSERT_STREQ(c.last, "after");

	/* A slow handler on one thread; this thread's message is not late. */
	vmc_set_log_handler(slow, VMC_LOG_DEBUG, &s);
	ASSERT_OK(-pthread_create(&t, NULL, log_slow_thread, NULL));
	wait_entered(&s);
	t0 = vmc_test_now_ns();
	vmc_log(VMC_LOG_ERR, "fast");
	dt = vmc_test_now_ns() - t0;
	ASSERT_LT(dt, 150 * 1000000LL);
	ASSERT_EQ(atomic_load(&s.left), 0);
	/* Replacing waits for the call in flight to finish. */
	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
	ASSERT_EQ(atomic_load(&s.left), 1);
	ASSERT_EQ(atomic_load(&s.calls), 2);
	ASSERT_OK(-pthread_join(t, NULL));
	vmc_log(VMC_LOG_ERR, "nobody listens");
	ASSERT_EQ(atomic_load(&s.calls), 2);
}

/* What a device outside the tree writes at the top of its functions. */
static int checked(const void *p, int v)
{
	VMC_CHECK_RETURN(p, -EINVAL);
	VMC_CHECK_RETURN(v >= 0 && v < 10, -ERANGE);
	return v;
}

static void test_check_return(void)
{
	struct log_capture c = {0};

	vmc_set_log_handler(capture, VMC_LOG_DEBUG, &c);
	ASSERT_EQ(checked(&c, 3), 3);
	ASSERT_EQ(c.count, 0);
	ASSERT_ERR(checked(NULL, 3), -EINVAL);
	ASSERT_EQ(c.count, 1);
	ASSERT_EQ(c.level, VMC_LOG_DEBUG);
	ASSERT_STREQ(c.last, "checked: check 'p' failed");
	ASSERT_ERR(checked(&c, 12), -ERANGE);
	ASSERT_STREQ(c.last, "checked: check 'v >= 0 && v < 10' failed");
	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
}

static void test_clock_helpers(void)
{
	int64_t a = vmc__monotonic_ns(), b = vmc__monotonic_ns();

	ASSERT_LE(a, b);
	ASSERT_GT(vmc__wall_ns(), 1600000000LL * 1000000000LL);
}

int main(void)
{
	RUN(test_version);
	RUN(test_log_handler);
	RUN(test_public_log);
	RUN(test_check_return);
	RUN(test_log_handler_unlocked);
	RUN(test_log_handler_swaps);
	RUN(test_clock_helpers);
	return 0;
}
