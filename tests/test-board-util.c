/* SPDX-License-Identifier: MIT */
/*
 * The example boards' shared argument parsers and placement check
 * (examples/board-util.c): exact values, QEMU's size rules, and every
 * boundary where a number used to wrap.
 */
#include "../examples/board-util.h"
#include "vmc-test.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

static uint64_t size_ok(const char *s, uint64_t unit)
{
	uint64_t v = 0;

	if (board_parse_size(s, unit, &v) < 0)
		FAIL("'%s' refused", s);
	return v;
}

static void test_sizes(void)
{
	uint64_t v;

	ASSERT_EQ_U64(size_ok("0", 1), 0);
	ASSERT_EQ_U64(size_ok("64", MiB), 64 * MiB);
	ASSERT_EQ_U64(size_ok("64b", MiB), 64);
	ASSERT_EQ_U64(size_ok("64K", 1), 64 * 1024);
	ASSERT_EQ_U64(size_ok("64m", 1), 64 * MiB);
	ASSERT_EQ_U64(size_ok("1G", 1), GiB);
	ASSERT_EQ_U64(size_ok("1t", 1), 1024 * GiB);
	ASSERT_EQ_U64(size_ok("1P", 1), UINT64_C(1) << 50);
	ASSERT_EQ_U64(size_ok("15E", 1), UINT64_C(15) << 60);
	ASSERT_EQ_U64(size_ok("1.5G", 1), GiB + GiB / 2);
	ASSERT_EQ_U64(size_ok("0.5K", 1), 512);
	ASSERT_EQ_U64(size_ok("0.0625G", 1), 64 * MiB);
	ASSERT_EQ_U64(size_ok("0x40", 1), 64);
	ASSERT_EQ_U64(size_ok("0x10K", 1), 16 * 1024);
	ASSERT_EQ_U64(size_ok("18446744073709551615", 1), UINT64_MAX);
	ASSERT_EQ_U64(size_ok("010", 1), 10); /* decimal, not octal */

	ASSERT_ERR(board_parse_size("16E", 1, &v), -ERANGE);
	ASSERT_ERR(board_parse_size("17179869186G", 1, &v), -ERANGE);
	ASSERT_ERR(board_parse_size("18446744073709551616", 1, &v), -ERANGE);
	ASSERT_EQ_U64(size_ok("15.5E", 1), (UINT64_C(31) << 59));
	ASSERT_ERR(board_parse_size("64Mjunk", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("64 ", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size(" 64", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("-1", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("+1", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size(".5G", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("1.5", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("1.5B", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("0x", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("0x1.8G", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("1GG", 1, &v), -EINVAL);
	ASSERT_ERR(board_parse_size("1Z", 1, &v), -EINVAL);
}

static void test_mem_and_smp(void)
{
	char msg[BOARD_MSG_SIZE];
	uint64_t v;
	unsigned int n;

	ASSERT_OK(board_parse_mem("64", MiB, 64 * GiB, &v, msg));
	ASSERT_EQ_U64(v, 64 * MiB);
	ASSERT_OK(board_parse_mem("size=2G", MiB, 64 * GiB, &v, msg));
	ASSERT_EQ_U64(v, 2 * GiB);
	/* Rounded up to 8 KiB, as QEMU does. */
	ASSERT_OK(board_parse_mem("2049K", MiB, 64 * GiB, &v, msg));
	ASSERT_EQ_U64(v, 2056 * 1024);
	ASSERT_ERR(board_parse_mem("17592186044416", MiB, 64 * GiB, &v, msg),
		   -ERANGE);
	ASSERT_TRUE(strstr(msg, "too large") != NULL);
	ASSERT_ERR(board_parse_mem("17179869186G", MiB, 64 * GiB, &v, msg),
		   -ERANGE);
	ASSERT_ERR(board_parse_mem("65G", MiB, 64 * GiB, &v, msg), -ERANGE);
	ASSERT_ERR(board_parse_mem("", MiB, 64 * GiB, &v, msg), -EINVAL);
	ASSERT_STREQ(msg, "missing 'size' option value");

	ASSERT_OK(board_parse_smp("8", 8, "virt", &n, msg));
	ASSERT_EQ(n, 8);
	ASSERT_OK(board_parse_smp("cpus=010", 8, "virt", &n, msg));
	ASSERT_EQ(n, 8); /* QEMU reads numbers with base 0 */
	ASSERT_ERR(board_parse_smp("4294967297", 8, "virt", &n, msg), -ERANGE);
	ASSERT_ERR(board_parse_smp("9", 8, "virt", &n, msg), -ERANGE);
	ASSERT_STREQ(msg, "Invalid SMP CPUs 9. The max CPUs supported by "
			  "machine 'virt' is 8");
	ASSERT_ERR(board_parse_smp("2,maxcpus=4", 8, "virt", &n, msg), -EINVAL);
	ASSERT_ERR(board_parse_smp("", 8, "virt", &n, msg), -EINVAL);
}

static void test_layout(void)
{
	struct board_layout l = {.nr_areas = 0};
	char msg[BOARD_MSG_SIZE];

	board_layout_add_area(&l, "RAM", 0x80000000, 0x200000);
	board_layout_add_area(&l, "top", UINT64_MAX - 0xfff, 0x1000);
	ASSERT_OK(board_layout_place(&l, "kernel", 0x80000000, 0x1000, msg));
	ASSERT_ERR(board_layout_place(&l, "dtb", 0x80000fff, 2, msg), -EEXIST);
	ASSERT_STREQ(msg, "the dtb (0x80000fff-0x80001000) overlaps the "
			  "kernel (0x80000000-0x80000fff)");
	ASSERT_OK(board_layout_place(&l, "dtb", 0x80001000, 0x1000, msg));
	/* One byte past RAM, before RAM, and around the top of 2^64. */
	ASSERT_ERR(board_layout_place(&l, "x", 0x801ff000, 0x1001, msg),
		   -ENOSPC);
	ASSERT_ERR(board_layout_place(&l, "x", 0x7fffffff, 2, msg), -ENOSPC);
	ASSERT_ERR(board_layout_place(&l, "x", UINT64_MAX, 2, msg), -ENOSPC);
	ASSERT_OK(board_layout_place(&l, "y", UINT64_MAX - 0xfff, 0x1000, msg));
	/* A range containing an earlier one overlaps it too. */
	ASSERT_ERR(board_layout_place(&l, "z", 0x80000000, 0x200000, msg),
		   -EEXIST);
	ASSERT_OK(board_layout_place(&l, "empty", 0x80000000, 0, msg));
}

int main(void)
{
	RUN(test_sizes);
	RUN(test_mem_and_smp);
	RUN(test_layout);
	return 0;
}
