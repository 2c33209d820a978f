/* SPDX-License-Identifier: MIT */
/* Versions and the log handler. */
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
	RUN(test_clock_helpers);
	return 0;
}
