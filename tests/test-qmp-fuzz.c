/* SPDX-License-Identifier: MIT */
/*
 * The QMP fuzz body (fuzz/fuzz-qmp.c) on pseudo-random input: requests
 * assembled from QMP fragments, then mutated (bytes flipped, cut,
 * duplicated, control characters and invalid UTF-8 spliced in).  After
 * every batch a fresh client must still get the greeting and correct
 * answers: the server survives anything a client sends.  The first
 * argument, if given, is the seed; VMC_TEST_SCALE scales the count.
 */
#include "fuzz-qmp.c"

#include "vmc-test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const frags[] = {
	"{\"execute\":\"qmp_capabilities\"}",
	"{\"execute\":\"query-status\",\"id\":",
	"{\"execute\":\"x-echo\",\"arguments\":{\"v\":",
	"{\"execute\":\"human-monitor-command\",\"arguments\":"
	"{\"command-line\":\"info ",
	"{\"execute\":\"stop\"}",
	"{\"execute\":\"cont\"}",
	"{\"execute\":\"system_reset\"}",
	"{\"execute\":\"query-cpus-fast\"}",
	"{\"execute\":\"query-commands\"}",
	"{\"execute\":\"qmp_capabilities\","
	"\"arguments\":{\"enable\":[\"oob\",1]}}",
	"18446744073709551616",
	"-9223372036854775809",
	"1e999",
	"[",
	"]",
	"{",
	"}",
	"\"",
	",",
	":",
	"null",
	"true",
	"\"\\ud800\"",
	"\"\\u0000\"",
	"\xff",
	"\xc3\xa9",
	"\x01",
	"\r\n",
	"'",
	"status\"}}",
	"cpus\"}}",
	"\"n\":\"x\"",
	"{\"exec-oob\":\"stop\"}",
	"{\"execute\":1}",
};

static size_t build(char *buf, size_t cap)
{
	size_t len = 0, n = 1 + rnd() % 12;

	for (size_t i = 0; i < n; i++) {
		const char *f = frags[rnd() % N_OF(frags)];
		size_t l = strlen(f);

		if (len + l > cap)
			break;
		memcpy(buf + len, f, l);
		len += l;
	}
	/* Mutations. */
	for (size_t m = rnd() % 4; m && len; m--) {
		size_t at = rnd() % len;

		switch (rnd() % 3) {
		case 0:
			buf[at] = (char)rnd();
			break;
		case 1:
			len = at;
			break;
		default:
			if (len * 2 <= cap) {
				memcpy(buf + len, buf, len);
				len *= 2;
			}
			break;
		}
	}
	return len;
}

/* A new client: greeting, negotiation and a query answer correctly. */
static void check_healthy(void)
{
	static const char req[] = "{\"execute\":\"qmp_capabilities\"}"
				  "{\"execute\":\"query-name\",\"id\":9}";
	char buf[4096];
	size_t len = 0;
	int sp[2];
	int64_t end = vmc_test_now_ns() + 5000000000LL;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	ASSERT_OK(vmc_qmp_add_fd(qmp_fuzz_state.qmp, sp[0], NULL));
	close(sp[0]);
	ASSERT_EQ(send(sp[1], req, strlen(req), 0), (ssize_t)strlen(req));
	while (!strstr(buf, "\"id\":9}\r\n") && vmc_test_now_ns() < end) {
		ssize_t n = recv(sp[1], buf + len, sizeof(buf) - 1 - len,
				 MSG_DONTWAIT);

		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		vmc_loop_run_once(qmp_fuzz_state.loop, false);
	}
	ASSERT_NOT_NULL(strstr(buf, "{\"QMP\":"));
	ASSERT_NOT_NULL(strstr(buf, "{\"return\":{}}\r\n"));
	ASSERT_NOT_NULL(
		strstr(buf, "{\"return\":{\"name\":\"fuzz\"},\"id\":9}\r\n"));
	close(sp[1]);
	while (vmc_qmp_get_client_count(qmp_fuzz_state.qmp))
		vmc_loop_run_once(qmp_fuzz_state.loop, false);
}

int main(int argc, char **argv)
{
	static char buf[16384];
	long n = vmc_test_scale(3000);

	if (argc > 1)
		rng = strtoull(argv[1], NULL, 0) | 1;
	fprintf(stderr, "seed 0x%llx, %ld inputs\n", (unsigned long long)rng,
		n);
	ASSERT_OK(qmp_fuzz_init(&qmp_fuzz_state));
	check_healthy();
	for (long i = 0; i < n; i++) {
		size_t len = build(buf, sizeof(buf));

		qmp_fuzz_one(&qmp_fuzz_state, (const uint8_t *)buf, len);
		if (i % 500 == 0)
			check_healthy();
	}
	/* Pure noise, and one oversized message. */
	for (long i = 0; i < n / 10; i++) {
		size_t len = rnd() % sizeof(buf);

		for (size_t k = 0; k < len; k++)
			buf[k] = (char)rnd();
		qmp_fuzz_one(&qmp_fuzz_state, (const uint8_t *)buf, len);
	}
	buf[0] = '{';
	memset(buf + 1, ' ', sizeof(buf) - 1);
	qmp_fuzz_one(&qmp_fuzz_state, (const uint8_t *)buf, sizeof(buf));
	check_healthy();
	qmp_fuzz_fini(&qmp_fuzz_state);
	return 0;
}
