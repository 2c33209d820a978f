/* SPDX-License-Identifier: MIT */
/*
 * The test harness: assertions that print both operands, skipping (exit
 * 77), and an fd-leak check at the end of every test program.
 *
 * A test program is one executable with a main() that calls RUN(fn) for each
 * case.  Every fd that is open at exit but was not open at start is a leak
 * and fails the program, unless the program skipped.
 */
#ifndef VMC_TEST_H
#define VMC_TEST_H

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#define VMC_TEST_SKIP 77
#define VMC_TEST_MAX_FD 4096

static unsigned char vmc_test_fds_at_start[VMC_TEST_MAX_FD / 8];
static bool vmc_test_no_leak_check;

static inline void vmc_test__scan_fds(unsigned char *set)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self;

	memset(set, 0, VMC_TEST_MAX_FD / 8);
	if (!d)
		return;
	self = dirfd(d);
	while ((e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == self || fd < 0 || fd >= VMC_TEST_MAX_FD)
			continue;
		set[fd / 8] |= (unsigned char)(1u << (fd % 8));
	}
	closedir(d);
}

static inline void vmc_test__leak_check(void)
{
	unsigned char now[VMC_TEST_MAX_FD / 8];
	int leaks = 0;

	if (vmc_test_no_leak_check)
		return;
	vmc_test__scan_fds(now);
	for (int fd = 0; fd < VMC_TEST_MAX_FD; fd++) {
		unsigned char bit = (unsigned char)(1u << (fd % 8));
		char path[64], target[256];
		ssize_t n;

		if (!(now[fd / 8] & bit) ||
		    (vmc_test_fds_at_start[fd / 8] & bit))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		/* Sanitizer runtimes open a few files of their own lazily. */
		if (strncmp(target, "/proc/", 6) == 0)
			continue;
		fprintf(stderr, "FAIL: fd %d leaked (%s)\n", fd, target);
		leaks++;
	}
	if (leaks) {
		fflush(stderr);
		_exit(1);
	}
}

__attribute__((constructor)) static void vmc_test__init(void)
{
	uv_loop_t uv;

	/*
	 * libuv opens a process-wide pipe (for signal handling) with its
	 * first loop and keeps it for the life of the process.  Make it exist
	 * before the census so it does not count as a leak.
	 */
	if (uv_loop_init(&uv) == 0)
		uv_loop_close(&uv);
	vmc_test__scan_fds(vmc_test_fds_at_start);
	atexit(vmc_test__leak_check);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Leave the program as skipped: the capability it needs is missing. */
#define SKIP(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "SKIP: " __VA_ARGS__);                         \
		fprintf(stderr, "\n");                                         \
		vmc_test_no_leak_check = true;                                 \
		exit(VMC_TEST_SKIP);                                           \
	} while (0)

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "FAIL: %s:%d: ", __FILE__, __LINE__);          \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		vmc_test_no_leak_check = true;                                 \
		fflush(stderr);                                                \
		abort();                                                       \
	} while (0)

#define ASSERT_TRUE(x)                                                         \
	do {                                                                   \
		if (!(x))                                                      \
			FAIL("expected true: %s", #x);                         \
	} while (0)

#define ASSERT_FALSE(x)                                                        \
	do {                                                                   \
		if (x)                                                         \
			FAIL("expected false: %s", #x);                        \
	} while (0)

#define VMC_TEST__CMP(a, op, b)                                                \
	do {                                                                   \
		long long vmc_a_ = (long long)(a), vmc_b_ = (long long)(b);    \
		if (!(vmc_a_ op vmc_b_))                                       \
			FAIL("expected %s %s %s, got %lld (0x%llx) vs "        \
			     "%lld (0x%llx)",                                  \
			     #a, #op, #b, vmc_a_, (unsigned long long)vmc_a_,  \
			     vmc_b_, (unsigned long long)vmc_b_);              \
	} while (0)

#define ASSERT_EQ(a, b) VMC_TEST__CMP(a, ==, b)
#define ASSERT_NE(a, b) VMC_TEST__CMP(a, !=, b)
#define ASSERT_LT(a, b) VMC_TEST__CMP(a, <, b)
#define ASSERT_LE(a, b) VMC_TEST__CMP(a, <=, b)
#define ASSERT_GT(a, b) VMC_TEST__CMP(a, >, b)
#define ASSERT_GE(a, b) VMC_TEST__CMP(a, >=, b)

/* Unsigned 64-bit comparison, for addresses and register values. */
#define ASSERT_EQ_U64(a, b)                                                    \
	do {                                                                   \
		uint64_t vmc_a_ = (uint64_t)(a), vmc_b_ = (uint64_t)(b);       \
		if (vmc_a_ != vmc_b_)                                          \
			FAIL("expected %s == %s, got 0x%" PRIx64               \
			     " vs 0x%" PRIx64,                                 \
			     #a, #b, vmc_a_, vmc_b_);                          \
	} while (0)

#define ASSERT_PTR_EQ(a, b)                                                    \
	do {                                                                   \
		const void *vmc_a_ = (a), *vmc_b_ = (b);                       \
		if (vmc_a_ != vmc_b_)                                          \
			FAIL("expected %s == %s, got %p vs %p", #a, #b,        \
			     vmc_a_, vmc_b_);                                  \
	} while (0)

#define ASSERT_NULL(a) ASSERT_PTR_EQ(a, NULL)
#define ASSERT_NOT_NULL(a)                                                     \
	do {                                                                   \
		if ((a) == NULL)                                               \
			FAIL("expected %s != NULL", #a);                       \
	} while (0)

#define ASSERT_STREQ(a, b)                                                     \
	do {                                                                   \
		const char *vmc_a_ = (a), *vmc_b_ = (b);                       \
		if (!vmc_a_ || !vmc_b_ || strcmp(vmc_a_, vmc_b_) != 0)         \
			FAIL("expected %s == %s, got \"%s\" vs \"%s\"", #a,    \
			     #b, vmc_a_ ? vmc_a_ : "(null)",                   \
			     vmc_b_ ? vmc_b_ : "(null)");                      \
	} while (0)

/* r is a libvmcore return value: >= 0 success, -errno failure. */
#define ASSERT_OK(r)                                                           \
	do {                                                                   \
		long long vmc_r_ = (long long)(r);                             \
		if (vmc_r_ < 0)                                                \
			FAIL("%s failed: %lld (%s)", #r, vmc_r_,               \
			     strerror((int)-vmc_r_));                          \
	} while (0)

#define ASSERT_ERR(r, err)                                                     \
	do {                                                                   \
		long long vmc_r_ = (long long)(r), vmc_e_ = (long long)(err);  \
		if (vmc_r_ != vmc_e_)                                          \
			FAIL("expected %s to fail with %s (%lld), got %lld"    \
			     " (%s)",                                          \
			     #r, #err, vmc_e_, vmc_r_,                         \
			     vmc_r_ < 0 ? strerror((int)-vmc_r_) : "success"); \
	} while (0)

/*
 * Run one case.  VMC_TEST_ONLY=<case>[,<case>...] in the environment runs
 * only the named cases of a test program (names as RUN() prints them,
 * with or without their "test_" prefix); the others print as skipped.
 */
static inline bool vmc_test__selected(const char *name)
{
	const char *only = getenv("VMC_TEST_ONLY");
	size_t n = strlen(name);

	if (!only || !*only)
		return true;
	for (const char *p = only; *p;) {
		size_t len = strcspn(p, ", ");

		if ((len == n && strncmp(p, name, n) == 0) ||
		    (strncmp(name, "test_", 5) == 0 && len == n - 5 &&
		     strncmp(p, name + 5, len) == 0))
			return true;
		p += len;
		p += strspn(p, ", ");
	}
	return false;
}

#define RUN(fn)                                                                \
	do {                                                                   \
		if (!vmc_test__selected(#fn)) {                                \
			fprintf(stderr, "-- %s (not selected)\n", #fn);        \
			break;                                                 \
		}                                                              \
		fprintf(stderr, "-- %s\n", #fn);                               \
		fn();                                                          \
	} while (0)

/*
 * Randomized tests: one seeded xorshift64 stream per program, seeded from
 * argv[1] when given (so a failing run can be repeated), and the two ways
 * a fuzz body is run on random input in the ordinary suites.
 */
static inline uint64_t *vmc_test__rng(void)
{
	static uint64_t state = 0x9e3779b97f4a7c15ull;

	return &state;
}

static inline void vmc_test_seed(int argc, char **argv)
{
	if (argc > 1)
		*vmc_test__rng() = strtoull(argv[1], NULL, 0);
	if (!*vmc_test__rng())
		*vmc_test__rng() = 1;
}

static inline uint64_t vmc_test_rand(void)
{
	uint64_t *s = vmc_test__rng();

	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A fuzz body on the edge inputs: nothing, 64 zero bytes, 64 0xff. */
static inline void vmc_test_fuzz_edges(int (*body)(const uint8_t *, size_t))
{
	static const uint8_t zeros[64], ones[64] = {[0 ... 63] = 0xff};

	body(NULL, 0);
	body(zeros, sizeof(zeros));
	body(ones, sizeof(ones));
}

/* A fuzz body on @n random byte strings shorter than @size, built in @buf. */
static inline void vmc_test_fuzz_noise(int (*body)(const uint8_t *, size_t),
				       uint8_t *buf, size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		size_t len = vmc_test_rand() % size;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)vmc_test_rand();
		body(buf, len);
	}
}

/* Monotonic time in nanoseconds, for tests that measure. */
static inline int64_t vmc_test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Scale an iteration count: VMC_TEST_SCALE (a percentage) lets the slow
 * sanitizer setups run storms with fewer iterations.
 */
static inline long vmc_test_scale(long n)
{
	const char *s = getenv("VMC_TEST_SCALE");
	long pct = s ? atol(s) : 100;

	if (pct <= 0)
		pct = 100;
	n = n * pct / 100;
	return n > 0 ? n : 1;
}

#endif
