/* SPDX-License-Identifier: MIT */
/*
 * The gdbstub fuzz bodies (fuzz/gdb-fuzz-body.h): the socketless one on
 * fixed malformed inputs, whose protocol answers are checked, and on
 * pseudo-random packets, bytes, truncations, oversized packets and bad
 * checksums; the socket one on pseudo-random client programs (send,
 * flood, stall, read, disconnect).  The first argument, if given, is the
 * seed; VMC_TEST_SCALE scales the count.
 */
#include <signal.h>
#include <stdatomic.h>

#include "gdb-fuzz-body.h"
#include "vmc-test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static struct gdb_fuzz f;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Frame @body as a packet (with a correct checksum unless @bad). */
static size_t frame(char *out, size_t cap, const char *body, size_t n, bool bad)
{
	uint8_t sum = 0;
	size_t len;

	for (size_t i = 0; i < n; i++)
		sum += (uint8_t)body[i];
	if (bad)
		sum ^= 0x5a;
	if (n + 4 > cap)
		n = cap - 4;
	out[0] = '$';
	memcpy(out + 1, body, n);
	len = n + 1;
	len += (size_t)snprintf(out + len, cap - len, "#%02x", sum);
	return len;
}

static void send_one(const char *body, bool bad)
{
	char buf[256];
	size_t n = frame(buf, sizeof(buf), body, strlen(body), bad);

	gdb_fuzz_one(&f, (const uint8_t *)buf, n);
}

/* Each malformed packet gets the protocol's answer. */
static void test_error_replies(void)
{
	static const char *const errs[] = {
		"m",
		"m80000000",
		"mzz,4",
		"m1,",
		"M80000000,4:zz",
		"M80000000,4:0011",
		"X80000000,2:a",
		"p",
		"p999",
		"P1",
		"P1=zz",
		"Hx1",
		"Hg99",
		"T0",
		"Z0",
		"Z0,1",
		"z0,80000000,2",
		"vCont;x",
		"vCont;c:99",
		"qXfer:features:read:foo.xml:0,10",
		"qXfer:features:read:target.xml:zz",
		"mffffffffffffffff,8",
		"G0011",
		"Gxxxx",
		"P1=xxxxxxxxxxxxxxxx",
	};
	static const char *const empty[] = {
		"vMustReplyEmpty", "qTStatus", "Z7,0,1", "!",
		"qOffsets",	   "Qfoo",
	};

	for (size_t i = 0; i < N_OF(errs); i++) {
		send_one(errs[i], false);
		ASSERT_EQ(f.acks, 1);
		ASSERT_EQ(f.packets, 1);
		if (f.last[0] != 'E')
			FAIL("'%s' answered '%s', want an error", errs[i],
			     f.last);
	}
	for (size_t i = 0; i < N_OF(empty); i++) {
		send_one(empty[i], false);
		ASSERT_EQ(f.packets, 1);
		if (f.last[0])
			FAIL("'%s' answered '%s', want empty", empty[i],
			     f.last);
	}
	/* A bad checksum is NAKed and not executed. */
	send_one("qC", true);
	ASSERT_EQ(f.naks, 1);
	ASSERT_EQ(f.packets, 0);
	/* Non-hex checksum digits too. */
	gdb_fuzz_one(&f, (const uint8_t *)"$qC#zz", 6);
	ASSERT_EQ(f.naks, 1);
	ASSERT_EQ(f.packets, 0);
	/* A truncated packet gets nothing. */
	gdb_fuzz_one(&f, (const uint8_t *)"$qC#b", 5);
	ASSERT_EQ(f.acks + f.naks + f.packets, 0);
	/* Good ones answer. */
	send_one("qC", false);
	ASSERT_EQ(f.acks, 1);
	ASSERT_STREQ(f.last, "QC01");
	send_one("qfThreadInfo", false);
	ASSERT_STREQ(f.last, "m01,02");
	send_one("m80000000,4", false);
	ASSERT_STREQ(f.last, "00000000");
	/* no_exec: continue answers with a stop reply at once. */
	send_one("c", false);
	ASSERT_EQ(f.last[0], 'T');
}

/* A packet larger than the advertised size is refused, not overflowed. */
static void test_oversized(void)
{
	size_t n = VMC__GDB_MAX_PACKET * 3;
	char *body = malloc(n + 1), *buf = malloc(n + 8);
	size_t len;

	ASSERT_NOT_NULL(body);
	ASSERT_NOT_NULL(buf);
	memset(body, 'a', n);
	body[0] = 'm';
	len = frame(buf, n + 8, body, n, false);
	gdb_fuzz_one(&f, (const uint8_t *)buf, len);
	ASSERT_EQ(f.packets, 1);
	ASSERT_EQ(f.last[0], 'E');
	free(body);
	free(buf);
}

static const char *const dict[] = {
	"?",
	"g",
	"G",
	"p",
	"P",
	"m",
	"M",
	"X",
	"c",
	"s",
	"C05",
	"S05",
	"vCont;",
	"vCont?",
	"vCont;c",
	"vCont;s:1;c",
	"vCont;t:2",
	"Z0,",
	"z0,",
	"Z1,",
	"Z2,",
	"Z3,",
	"Z4,",
	"z4,",
	"qSupported:",
	"qC",
	"qfThreadInfo",
	"qsThreadInfo",
	"qAttached",
	"qXfer:features:read:",
	"target.xml:",
	"qThreadExtraInfo,",
	"H",
	"Hg",
	"Hc",
	"T",
	"D",
	"k",
	"QStartNoAckMode",
	"80000000",
	",",
	":",
	";",
	"=",
	"-1",
	"p1.",
	"ff",
	"10",
	"}",
	"*",
	"#",
	"$",
	"\x03",
};

static void test_random(void)
{
	long n = vmc_test_scale(3000);
	char body[512], buf[600];

	for (long i = 0; i < n; i++) {
		size_t len = 0, k = 1 + rnd() % 8, out;
		unsigned int mode = (unsigned int)(rnd() % 8);

		for (size_t j = 0; j < k; j++) {
			const char *w = dict[rnd() % N_OF(dict)];
			size_t wl = strlen(w);

			if (rnd() % 4 == 0) {
				char hex[20];

				wl = (size_t)snprintf(
					hex, sizeof(hex), "%llx",
					(unsigned long long)(rnd() >>
							     (rnd() % 64)));
				if (len + wl < sizeof(body))
					memcpy(body + len, hex, wl);
			} else if (len + wl < sizeof(body)) {
				memcpy(body + len, w, wl);
			}
			if (len + wl < sizeof(body))
				len += wl;
		}
		if (mode == 0) {
			/* Raw random bytes. */
			for (size_t j = 0; j < len; j++)
				body[j] = (char)rnd();
			gdb_fuzz_one(&f, (const uint8_t *)body, len);
			continue;
		}
		out = frame(buf, sizeof(buf), body, len, mode == 1);
		if (mode == 2)
			out = rnd() % (out + 1); /* truncated */
		gdb_fuzz_one(&f, (const uint8_t *)buf, out);
	}
}

static atomic_int drops;

static void count_drops(enum vmc_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	if (strstr(msg, "reads no replies"))
		atomic_fetch_add(&drops, 1);
}

/* Client programs over a real socket pair; SIGPIPE left deadly. */
static void test_socket_random(void)
{
	long n = vmc_test_scale(300);
	uint8_t prog[256];

	signal(SIGPIPE, SIG_DFL);
	vmc_set_log_handler(count_drops, VMC_LOG_WARNING, NULL);
	f.sock_packets = 0;
	for (long i = 0; i < n; i++) {
		size_t len = 1 + rnd() % sizeof(prog);

		for (size_t j = 0; j < len; j++)
			prog[j] = (uint8_t)rnd();
		gdb_sock_fuzz_one(&f, prog, len);
	}
	vmc_set_log_handler(NULL, VMC_LOG_ERR, NULL);
	printf("   %ld programs: %lu packets read, %d stalled clients "
	       "dropped\n",
	       n, f.sock_packets, atomic_load(&drops));
	/* The programs reach both the answers and the bound. */
	ASSERT_GT(f.sock_packets, 0);
	if (n >= 100)
		ASSERT_GT(atomic_load(&drops), 0);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rng = strtoull(argv[1], NULL, 0) | 1;
	ASSERT_OK(gdb_fuzz_init(&f));
	RUN(test_error_replies);
	RUN(test_oversized);
	RUN(test_random);
	RUN(test_socket_random);
	gdb_fuzz_fini(&f);
	return 0;
}
