/* SPDX-License-Identifier: MIT */
/*
 * The QMP server against real sockets, on a harness VM: greeting and
 * negotiation, every built-in command, errors and ids, run-state events,
 * host commands and events, several clients and monitors, reconnecting
 * clients, clients that close mid-reply or never read, and malformed,
 * partial and oversized input.
 *
 * The test is its own client on the loop's thread: it writes requests
 * with plain send() (they are small) and reads replies while pumping the
 * loop without blocking, so the server and the client take turns.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <json-c/json.h>

#include <libvmcore/libvmcore.h>

#include "vmc-config.h"
#include "vmc-test.h"

static struct vmc_loop *loop;
static struct vmc_vm *vm;
static struct vmc_qmp *qmp;
static char sock_path[108];
static int powerdowns, quits;

struct tc {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static void on_powerdown(struct vmc_qmp *q, void *userdata)
{
	powerdowns++;
}

static void on_quit(struct vmc_qmp *q, void *userdata)
{
	quits++;
}

static void pump(void)
{
	vmc_loop_run_once(loop, false);
}

static void setup_cfg(unsigned int vcpus, struct vmc_qmp_config *cfg)
{
	struct vmc_vm_config c;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.vcpus = vcpus;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_OK(vmc_qmp_new(vm, cfg, &qmp));
	snprintf(sock_path, sizeof(sock_path), "/tmp/vmc-qmp-test-%d.sock",
		 (int)getpid());
}

static void setup(void)
{
	struct vmc_qmp_config cfg;

	vmc_qmp_config_init(&cfg);
	cfg.name = "vm112";
	cfg.ram_size = 64 << 20;
	cfg.powerdown = on_powerdown;
	cfg.quit = on_quit;
	powerdowns = quits = 0;
	setup_cfg(2, &cfg);
}

static void teardown(void)
{
	vmc_qmp_free(qmp);
	qmp = NULL;
	vmc_vm_unref(vm);
	vmc_loop_unref(loop);
	unlink(sock_path);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_GE(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno
								      : 0);
	return fd;
}

static void tc_init(struct tc *t, int fd)
{
	t->fd = fd;
	t->len = 0;
}

static void tc_send(struct tc *t, const char *s)
{
	size_t n = strlen(s);

	ASSERT_EQ(send(t->fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* The next CRLF-terminated line, pumping the loop; 5 s at most. */
static bool tc_try_line(struct tc *t, char *line, size_t cap, int64_t ns)
{
	int64_t end = vmc_test_now_ns() + ns;

	for (;;) {
		char *nl = memmem(t->buf, t->len, "\r\n", 2);
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - t->buf);

			ASSERT_LT(l, cap);
			memcpy(line, t->buf, l);
			line[l] = '\0';
			memmove(t->buf, nl + 2, t->len - l - 2);
			t->len -= l + 2;
			return true;
		}
		if (vmc_test_now_ns() > end)
			return false;
		n = recv(t->fd, t->buf + t->len, sizeof(t->buf) - t->len,
			 MSG_DONTWAIT);
		if (n > 0) {
			t->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return false;
		pump();
		usleep(200);
	}
}

static json_object *tc_msg(struct tc *t)
{
	static char line[1 << 16];
	json_object *o;

	if (!tc_try_line(t, line, sizeof(line), 5000000000LL))
		FAIL("no message from the server");
	o = json_tokener_parse(line);
	if (!o)
		FAIL("not JSON: %s", line);
	return o;
}

/* The next message, as compact text. */
static char *tc_text(struct tc *t)
{
	json_object *o = tc_msg(t);
	char *s = strdup(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

#define EXPECT(t, want)                                                        \
	do {                                                                   \
		char *got_ = tc_text(t);                                       \
		ASSERT_STREQ(got_, want);                                      \
		free(got_);                                                    \
	} while (0)

/* The next message contains @part. */
#define EXPECT_HAS(t, part)                                                    \
	do {                                                                   \
		char *got_ = tc_text(t);                                       \
		if (!strstr(got_, part))                                       \
			FAIL("expected %s in %s", part, got_);                 \
		free(got_);                                                    \
	} while (0)

/* Nothing more arrives within @ms. */
static void tc_quiet(struct tc *t, int ms)
{
	char line[4096];

	if (tc_try_line(t, line, sizeof(line), (int64_t)ms * 1000000))
		FAIL("unexpected message: %s", line);
}

static const char *event_name(json_object *o)
{
	json_object *e;

	return json_object_object_get_ex(o, "event", &e)
		       ? json_object_get_string(e)
		       : NULL;
}

/* The next message is event @name; its data as text ("" without). */
static void expect_event(struct tc *t, const char *name, const char *data)
{
	json_object *o = tc_msg(t), *d, *ts, *s, *us;

	ASSERT_STREQ(event_name(o), name);
	ASSERT_TRUE(json_object_object_get_ex(o, "timestamp", &ts));
	ASSERT_TRUE(json_object_object_get_ex(ts, "seconds", &s));
	ASSERT_TRUE(json_object_object_get_ex(ts, "microseconds", &us));
	ASSERT_GT(json_object_get_int64(s), 1600000000);
	ASSERT_LT(json_object_get_int64(us), 1000000);
	if (json_object_object_get_ex(o, "data", &d))
		ASSERT_STREQ(json_object_to_json_string_ext(
				     d, JSON_C_TO_STRING_PLAIN),
			     data);
	else
		ASSERT_STREQ("", data);
	json_object_put(o);
}

static void tc_close(struct tc *t)
{
	close(t->fd);
	t->fd = -1;
}

/* Connect to sock_path, check the greeting, negotiate. */
static void tc_open(struct tc *t)
{
	tc_init(t, unix_connect(sock_path));
	EXPECT(t, "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":2,"
		  "\"major\":0},\"package\":\"\"},\"capabilities\":[]}}");
	tc_send(t, "{\"execute\":\"qmp_capabilities\"}");
	EXPECT(t, "{\"return\":{}}");
}

static void listen_unix(void)
{
	char spec[160];

	snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", sock_path);
	ASSERT_OK(vmc_qmp_add_monitor(qmp, spec, NULL));
}

/* ------------------------------------------------------------------------ */

static void test_greeting_and_negotiation(void)
{
	struct tc t;
	struct stat st;

	setup();
	listen_unix();
	ASSERT_OK(stat(sock_path, &st));
	ASSERT_EQ(st.st_mode & 0777, 0600);
	tc_init(&t, unix_connect(sock_path));
	EXPECT(&t, "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":2,"
		   "\"major\":0},\"package\":\"\"},\"capabilities\":[]}}");
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 1);

	/* Negotiation mode: nothing but qmp_capabilities, no events. */
	tc_send(&t, "{\"execute\":\"query-status\",\"id\":1}");
	EXPECT(&t, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
		   "\"Expecting capabilities negotiation with "
		   "'qmp_capabilities'\"},\"id\":1}");
	tc_send(&t, "{\"execute\":\"no-such\"}");
	EXPECT(&t, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
		   "\"Expecting capabilities negotiation with "
		   "'qmp_capabilities'\"}}");
	ASSERT_OK(vmc_qmp_send_event(qmp, "X", NULL));
	tc_send(&t, "{\"execute\":\"qmp_capabilities\",\"arguments\":"
		    "{\"enable\":[\"oob\"]}}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"Capability 'oob' not available\"}}");
	tc_send(&t, "{\"execute\":\"qmp_capabilities\",\"arguments\":"
		    "{\"enable\":[\"x\"]}}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"Parameter 'null' does not accept value 'x'\"}}");
	tc_send(&t, "{\"execute\":\"qmp_capabilities\",\"arguments\":"
		    "{\"enable\":[]}}");
	EXPECT(&t, "{\"return\":{}}");
	tc_send(&t, "{\"execute\":\"qmp_capabilities\"}");
	EXPECT(&t, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
		   "\"Capabilities negotiation is already complete, command "
		   "ignored\"}}");
	ASSERT_OK(vmc_qmp_send_event(qmp, "X", NULL));
	expect_event(&t, "X", "");
	tc_close(&t);
	teardown();
}

static void test_ids(void)
{
	static const char *const ids[] = {
		"1",
		"\"abc\"",
		"{\"a\":[1,2]}",
		"[true,null]",
		"null",
		"18446744073709551615",
		"-9223372036854775808",
		"1.5",
	};
	struct tc t;
	char req[256], want[256];

	setup();
	listen_unix();
	tc_open(&t);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(req, sizeof(req),
			 "{\"id\":%s,\"execute\":\"query-name\"}", ids[i]);
		tc_send(&t, req);
		snprintf(want, sizeof(want),
			 "{\"return\":{\"name\":\"vm112\"},\"id\":%s}", ids[i]);
		EXPECT(&t, want);
		/* On errors too. */
		snprintf(req, sizeof(req), "{\"id\":%s,\"execute\":\"nope\"}",
			 ids[i]);
		tc_send(&t, req);
		snprintf(want, sizeof(want),
			 "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
			 "\"The command nope has not been found\"},\"id\":%s}",
			 ids[i]);
		EXPECT(&t, want);
	}
	/* Output is ASCII: a non-ASCII id comes back \u-escaped. */
	tc_send(&t, "{\"execute\":\"query-name\",\"id\":"
		    "\"\xc3\xa9\xf0\x9f\x98\x80\"}");
	{
		char line[256];

		ASSERT_TRUE(tc_try_line(&t, line, sizeof(line), 5000000000LL));
		ASSERT_NOT_NULL(strstr(line, "\\u00e9\\ud83d\\ude00"));
		for (char *p = line; *p; p++)
			ASSERT_LT((unsigned char)*p, 0x80);
	}
	tc_close(&t);
	teardown();
}

static void test_request_errors(void)
{
	static const char *const cases[][2] = {
		{"[1]", "QMP input must be a JSON object"},
		{"3 ", "QMP input must be a JSON object"},
		{"{\"execute\":3}",
		 "QMP input member 'execute' must be a string"},
		{"{\"execute\":\"stop\",\"arguments\":[]}",
		 "QMP input member 'arguments' must be an object"},
		{"{\"execute\":\"stop\",\"foo\":1}",
		 "QMP input member 'foo' is unexpected"},
		{"{\"exec-oob\":\"stop\"}",
		 "QMP input member 'exec-oob' is unexpected"},
		{"{\"arguments\":{}}", "QMP input lacks member 'execute'"},
		{"{\"execute\":\"stop\",\"arguments\":{\"x\":1}}",
		 "Parameter 'x' is unexpected"},
		{"{\"execute\":\"human-monitor-command\"}",
		 "Parameter 'command-line' is missing"},
		{"{\"execute\":\"human-monitor-command\",\"arguments\":"
		 "{\"command-line\":1}}",
		 "Invalid parameter type for 'command-line', expected: "
		 "string"},
		{"{\"execute\":\"human-monitor-command\",\"arguments\":"
		 "{\"command-line\":\"info status\",\"cpu-index\":9}}",
		 "Parameter 'cpu-index' expects a CPU number"},
	};
	struct tc t;
	char want[512];

	setup();
	listen_unix();
	tc_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tc_send(&t, cases[i][0]);
		snprintf(want, sizeof(want),
			 "{\"error\":{\"class\":\"GenericError\",\"desc\":"
			 "\"%s\"}}",
			 cases[i][1]);
		EXPECT(&t, want);
	}
	tc_send(&t, "{\"execute\":\"nope\"}");
	EXPECT(&t, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
		   "\"The command nope has not been found\"}}");
	tc_close(&t);
	teardown();
}

static void hmp(struct tc *t, const char *line)
{
	char req[256];

	snprintf(req, sizeof(req),
		 "{\"execute\":\"human-monitor-command\",\"arguments\":"
		 "{\"command-line\":\"%s\"}}",
		 line);
	tc_send(t, req);
}

static void test_queries(void)
{
	struct tc t;
	json_object *o, *ret, *e, *v;
	char want[256];

	setup();
	listen_unix();
	tc_open(&t);
	tc_send(&t, "{\"execute\":\"query-version\"}");
	EXPECT(&t, "{\"return\":{\"qemu\":{\"micro\":0,\"minor\":2,"
		   "\"major\":0},\"package\":\"\"}}");
	tc_send(&t, "{\"execute\":\"query-name\"}");
	EXPECT(&t, "{\"return\":{\"name\":\"vm112\"}}");
	tc_send(&t, "{\"execute\":\"query-status\"}");
	EXPECT(&t, "{\"return\":{\"running\":false,\"singlestep\":false,"
		   "\"status\":\"prelaunch\"}}");
	tc_send(&t, "{\"execute\":\"query-kvm\"}");
	snprintf(want, sizeof(want),
		 "{\"return\":{\"enabled\":false,\"present\":%s}}",
		 VMC_HAVE_KVM_ACCEL ? "true" : "false");
	EXPECT(&t, want);
	tc_send(&t, "{\"execute\":\"query-memory-size-summary\"}");
	EXPECT(&t, "{\"return\":{\"base-memory\":67108864}}");

	tc_send(&t, "{\"execute\":\"query-commands\"}");
	o = tc_msg(&t);
	ASSERT_TRUE(json_object_object_get_ex(o, "return", &ret));
	ASSERT_EQ(json_object_array_length(ret), 14);
	{
		static const char *const names[] = {
			"qmp_capabilities",
			"query-version",
			"query-commands",
			"query-name",
			"query-status",
			"stop",
			"cont",
			"system_reset",
			"system_powerdown",
			"quit",
			"query-cpus-fast",
			"query-kvm",
			"query-memory-size-summary",
			"human-monitor-command",
		};

		for (size_t i = 0; i < 14; i++) {
			e = json_object_array_get_idx(ret, i);
			ASSERT_TRUE(json_object_object_get_ex(e, "name", &v));
			ASSERT_STREQ(json_object_get_string(v), names[i]);
		}
	}
	json_object_put(o);

	/* Real thread ids: the vCPU threads of this process. */
	tc_send(&t, "{\"execute\":\"query-cpus-fast\"}");
	o = tc_msg(&t);
	ASSERT_TRUE(json_object_object_get_ex(o, "return", &ret));
	ASSERT_EQ(json_object_array_length(ret), 2);
	for (unsigned int i = 0; i < 2; i++) {
		int tid = vmc_vcpu_get_thread_id(vmc_vm_get_vcpu(vm, i));
		char path[64];

		ASSERT_GT(tid, 0);
		ASSERT_NE(tid, getpid());
		snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
		ASSERT_OK(access(path, F_OK));
		e = json_object_array_get_idx(ret, i);
		ASSERT_TRUE(json_object_object_get_ex(e, "cpu-index", &v));
		ASSERT_EQ(json_object_get_int(v), i);
		ASSERT_TRUE(json_object_object_get_ex(e, "thread-id", &v));
		ASSERT_EQ(json_object_get_int(v), tid);
		ASSERT_TRUE(json_object_object_get_ex(e, "qom-path", &v));
		ASSERT_TRUE(json_object_object_get_ex(e, "props", &v));
		ASSERT_TRUE(json_object_object_get_ex(e, "target", &v));
		ASSERT_STREQ(json_object_get_string(v), "none");
	}
	json_object_put(o);
	ASSERT_ERR(vmc_vcpu_get_thread_id(NULL), -EINVAL);

	/* The human monitor. */
	tc_send(&t, "{\"execute\":\"human-monitor-command\",\"arguments\":"
		    "{\"command-line\":\"info status\"}}");
	EXPECT(&t, "{\"return\":\"VM status: paused (prelaunch)\\r\\n\"}");
	tc_send(&t, "{\"execute\":\"human-monitor-command\",\"arguments\":"
		    "{\"command-line\":\"info name\"}}");
	EXPECT(&t, "{\"return\":\"vm112\\r\\n\"}");
	tc_send(&t, "{\"execute\":\"human-monitor-command\",\"arguments\":"
		    "{\"command-line\":\"info version\"}}");
	EXPECT(&t, "{\"return\":\"0.2.0\\r\\n\"}");
	hmp(&t, "info mtree -f");
	EXPECT_HAS(&t, "FlatView #0\\r\\n AS \\\"memory\\\", root: ");
	hmp(&t, "info registers");
	EXPECT(&t,
	       "{\"return\":\"Error: CPU #0 has no registers to show\\r\\n\"}");
	hmp(&t, "info kvm");
	snprintf(want, sizeof(want), "{\"return\":\"kvm support: %s\\r\\n\"}",
		 VMC_HAVE_KVM_ACCEL ? "disabled" : "not compiled");
	EXPECT(&t, want);
	tc_send(&t, "{\"execute\":\"human-monitor-command\",\"arguments\":"
		    "{\"command-line\":\"frobnicate\"}}");
	EXPECT(&t, "{\"return\":\"unknown command: 'frobnicate'\\r\\n\"}");
	tc_send(&t, "{\"execute\":\"human-monitor-command\",\"arguments\":"
		    "{\"command-line\":\"\"}}");
	EXPECT(&t, "{\"return\":\"\"}");
	tc_send(&t, "{\"execute\":\"human-monitor-command\",\"arguments\":"
		    "{\"command-line\":\"info cpus\",\"cpu-index\":1}}");
	snprintf(want, sizeof(want),
		 "{\"return\":\"  CPU #0: thread_id=%d\\r\\n* CPU #1: "
		 "thread_id=%d\\r\\n\"}",
		 vmc_vcpu_get_thread_id(vmc_vm_get_vcpu(vm, 0)),
		 vmc_vcpu_get_thread_id(vmc_vm_get_vcpu(vm, 1)));
	EXPECT(&t, want);
	tc_close(&t);
	teardown();
}

static void status_is(struct tc *t, const char *running, const char *status)
{
	char want[256];

	tc_send(t, "{\"execute\":\"query-status\"}");
	snprintf(want, sizeof(want),
		 "{\"return\":{\"running\":%s,\"singlestep\":false,"
		 "\"status\":\"%s\"}}",
		 running, status);
	EXPECT(t, want);
}

static bool state_is(enum vmc_vm_state s)
{
	int64_t end = vmc_test_now_ns() + 5000000000LL;

	while (vmc_vm_get_state(vm) != s && vmc_test_now_ns() < end)
		pump();
	return vmc_vm_get_state(vm) == s;
}

static void test_run_state_events(void)
{
	struct tc t;

	setup();
	listen_unix();
	tc_open(&t);

	/* cont from prelaunch; stop; cont again; stop twice. */
	tc_send(&t, "{\"execute\":\"cont\"}");
	expect_event(&t, "RESUME", "");
	EXPECT(&t, "{\"return\":{}}");
	status_is(&t, "true", "running");
	tc_send(&t, "{\"execute\":\"cont\"}"); /* already running */
	EXPECT(&t, "{\"return\":{}}");
	tc_send(&t, "{\"execute\":\"stop\"}");
	expect_event(&t, "STOP", "");
	EXPECT(&t, "{\"return\":{}}");
	status_is(&t, "false", "paused");
	hmp(&t, "info status");
	EXPECT(&t, "{\"return\":\"VM status: paused\\r\\n\"}");
	tc_send(&t, "{\"execute\":\"stop\"}");
	EXPECT(&t, "{\"return\":{}}");
	hmp(&t, "c");
	expect_event(&t, "RESUME", "");
	EXPECT(&t, "{\"return\":\"\"}");
	hmp(&t, "info status");
	EXPECT(&t, "{\"return\":\"VM status: running\\r\\n\"}");

	/* system_reset while running: RESET by the host, still running. */
	tc_send(&t, "{\"execute\":\"system_reset\"}");
	expect_event(&t, "RESET",
		     "{\"guest\":false,\"reason\":\"host-qmp-system-reset\"}");
	EXPECT(&t, "{\"return\":{}}");
	status_is(&t, "true", "running");

	/* A reset the guest asks for. */
	ASSERT_OK(vmc_vm_request_reset(vm));
	expect_event(&t, "RESET",
		     "{\"guest\":true,\"reason\":\"guest-reset\"}");

	/* The guest powers off: SHUTDOWN then STOP; the VM stays. */
	ASSERT_OK(vmc_vm_request_shutdown(vm, 0));
	expect_event(&t, "SHUTDOWN",
		     "{\"guest\":true,\"reason\":\"guest-shutdown\"}");
	expect_event(&t, "STOP", "");
	status_is(&t, "false", "shutdown");
	hmp(&t, "info status");
	EXPECT(&t, "{\"return\":\"VM status: paused (shutdown)\\r\\n\"}");
	tc_send(&t, "{\"execute\":\"cont\",\"id\":7}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"Resetting the Virtual Machine is required\"},\"id\":7}");
	hmp(&t, "cont");
	EXPECT(&t, "{\"return\":\"Error: Resetting the Virtual Machine is "
		   "required\\r\\n\"}");
	/* Reset out of shutdown: prelaunch, as QEMU; cont runs again. */
	tc_send(&t, "{\"execute\":\"system_reset\"}");
	expect_event(&t, "RESET",
		     "{\"guest\":false,\"reason\":\"host-qmp-system-reset\"}");
	EXPECT(&t, "{\"return\":{}}");
	status_is(&t, "false", "prelaunch");
	tc_send(&t, "{\"execute\":\"cont\"}");
	expect_event(&t, "RESUME", "");
	EXPECT(&t, "{\"return\":{}}");

	/* A guest error: internal-error. */
	ASSERT_OK(vmc_vm_request_guest_error(vm, "test"));
	expect_event(&t, "STOP", "");
	status_is(&t, "false", "internal-error");
	hmp(&t, "system_reset");
	expect_event(&t, "RESET",
		     "{\"guest\":false,\"reason\":\"host-qmp-system-reset\"}");
	EXPECT(&t, "{\"return\":\"\"}");
	status_is(&t, "false", "prelaunch");

	/* system_powerdown: POWERDOWN, the reply, then the button. */
	tc_send(&t, "{\"execute\":\"system_powerdown\"}");
	expect_event(&t, "POWERDOWN", "");
	ASSERT_EQ(powerdowns, 0);
	EXPECT(&t, "{\"return\":{}}");
	pump();
	ASSERT_EQ(powerdowns, 1);

	/* quit: SHUTDOWN by the host, the reply, then the host's callback. */
	tc_send(&t, "{\"execute\":\"quit\"}");
	expect_event(&t, "SHUTDOWN",
		     "{\"guest\":false,\"reason\":\"host-qmp-quit\"}");
	EXPECT(&t, "{\"return\":{}}");
	pump();
	ASSERT_EQ(quits, 1);
	ASSERT_TRUE(state_is(VMC_VM_PAUSED));
	tc_close(&t);
	teardown();
}

static void test_optional_commands(void)
{
	struct vmc_qmp_config cfg;
	struct tc t;

	/* Without a power button or a quit handler: no such commands. */
	vmc_qmp_config_init(&cfg);
	cfg.version_major = 7;
	cfg.version_minor = 2;
	cfg.version_micro = 5;
	cfg.package = "pve";
	setup_cfg(1, &cfg);
	listen_unix();
	tc_init(&t, unix_connect(sock_path));
	EXPECT(&t, "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":5,\"minor\":2,"
		   "\"major\":7},\"package\":\"pve\"},\"capabilities\":[]}}");
	tc_send(&t, "{\"execute\":\"qmp_capabilities\"}");
	EXPECT(&t, "{\"return\":{}}");
	tc_send(&t, "{\"execute\":\"system_powerdown\"}");
	EXPECT(&t, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
		   "\"The command system_powerdown has not been found\"}}");
	tc_send(&t, "{\"execute\":\"quit\"}");
	EXPECT(&t, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
		   "\"The command quit has not been found\"}}");
	tc_send(&t, "{\"execute\":\"query-name\"}");
	EXPECT(&t, "{\"return\":{}}");
	hmp(&t, "info status");
	EXPECT(&t, "{\"return\":\"VM status: paused (prelaunch)\\r\\n\"}");
	tc_close(&t);
	teardown();
}

/* A host command: adds two integers, echoes a string, fails on demand. */
static void cmd_add(struct vmc_qmp_request *req, void *userdata)
{
	struct vmc_qmp_value *ret, *arr;
	int64_t a, b;
	double d = 0;
	bool fail = false;
	const struct vmc_qmp_value *f = vmc_qmp_request_get_arg(req, "fail");

	ASSERT_PTR_EQ(vmc_qmp_request_get_qmp(req), qmp);
	ASSERT_PTR_EQ(userdata, &powerdowns);
	ASSERT_OK(vmc_qmp_value_get_int(vmc_qmp_request_get_arg(req, "a"), &a));
	ASSERT_OK(vmc_qmp_value_get_int(vmc_qmp_request_get_arg(req, "b"), &b));
	if (f)
		ASSERT_OK(vmc_qmp_value_get_bool(f, &fail));
	if (fail) {
		ASSERT_OK(vmc_qmp_request_error(req, VMC_QMP_DEVICE_NOT_FOUND,
						"Device '%s' not found", "x"));
		ASSERT_ERR(vmc_qmp_request_return(req, NULL), -EALREADY);
		return;
	}
	vmc_qmp_value_get_number(vmc_qmp_request_get_arg(req, "scale"), &d);
	ASSERT_OK(vmc_qmp_value_new_object(&ret));
	ASSERT_OK(vmc_qmp_object_set_int(ret, "sum", a + b));
	ASSERT_OK(
		vmc_qmp_object_set_number(ret, "scaled", (double)(a + b) * d));
	ASSERT_OK(vmc_qmp_value_new_array(&arr));
	ASSERT_OK(vmc_qmp_array_append_string(
		arr,
		vmc_qmp_value_get_string(vmc_qmp_request_get_arg(req, "tag"))));
	ASSERT_OK(vmc_qmp_object_set_value(ret, "tags", arr));
	ASSERT_OK(vmc_qmp_request_return(req, ret));
	ASSERT_ERR(vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR, "x"),
		   -EALREADY);
}

static void test_host_commands_and_events(void)
{
	static const struct vmc_qmp_arg args[] = {
		{"a", VMC_QMP_INT, false},	 {"b", VMC_QMP_INT, false},
		{"scale", VMC_QMP_NUMBER, true}, {"tag", VMC_QMP_STRING, false},
		{"fail", VMC_QMP_BOOL, true},	 {NULL, 0, false},
	};
	static const struct vmc_qmp_arg dup[] = {
		{"a", VMC_QMP_INT, false},
		{"a", VMC_QMP_INT, false},
		{NULL, 0, false},
	};
	static const struct vmc_qmp_arg bad[] = {
		{"a", (enum vmc_qmp_type)99, false},
		{NULL, 0, false},
	};
	struct vmc_qmp_value *data;
	struct tc t;

	setup();
	ASSERT_ERR(vmc_qmp_add_command(qmp, "x-add", args, NULL, NULL),
		   -EINVAL);
	ASSERT_ERR(vmc_qmp_add_command(qmp, "", args, cmd_add, NULL), -EINVAL);
	ASSERT_ERR(vmc_qmp_add_command(qmp, "x-add", dup, cmd_add, NULL),
		   -EINVAL);
	ASSERT_ERR(vmc_qmp_add_command(qmp, "x-add", bad, cmd_add, NULL),
		   -EINVAL);
	ASSERT_OK(
		vmc_qmp_add_command(qmp, "x-add", args, cmd_add, &powerdowns));
	ASSERT_ERR(vmc_qmp_add_command(qmp, "x-add", args, cmd_add, NULL),
		   -EEXIST);
	ASSERT_ERR(vmc_qmp_remove_command(qmp, "x-none"), -ENOENT);
	/* A host replaces a built-in command. */
	ASSERT_OK(vmc_qmp_remove_command(qmp, "query-name"));
	ASSERT_OK(vmc_qmp_add_command(qmp, "query-name", NULL, cmd_add,
				      &powerdowns));
	ASSERT_OK(vmc_qmp_remove_command(qmp, "query-name"));
	listen_unix();
	tc_open(&t);
	tc_send(&t, "{\"execute\":\"x-add\",\"arguments\":{\"a\":2,\"b\":40,"
		    "\"scale\":1,\"tag\":\"t\"},\"id\":\"q\"}");
	EXPECT(&t, "{\"return\":{\"sum\":42,\"scaled\":42.0,\"tags\":[\"t\"]},"
		   "\"id\":\"q\"}");
	tc_send(&t, "{\"execute\":\"x-add\",\"arguments\":{\"a\":2,\"b\":1,"
		    "\"tag\":\"t\",\"fail\":true}}");
	EXPECT(&t, "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":"
		   "\"Device 'x' not found\"}}");
	tc_send(&t, "{\"execute\":\"x-add\",\"arguments\":{\"a\":2,\"b\":1.5,"
		    "\"tag\":\"t\"}}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"Invalid parameter type for 'b', expected: integer\"}}");
	tc_send(&t, "{\"execute\":\"x-add\",\"arguments\":{\"a\":2,\"b\":1,"
		    "\"tag\":\"t\",\"scale\":\"x\"}}");
	EXPECT(&t,
	       "{\"error\":{\"class\":\"GenericError\",\"desc\":"
	       "\"Invalid parameter type for 'scale', expected: number\"}}");
	tc_send(&t, "{\"execute\":\"x-add\",\"arguments\":{\"a\":2,\"b\":1,"
		    "\"tag\":\"t\",\"fail\":null}}");
	EXPECT(&t,
	       "{\"error\":{\"class\":\"GenericError\",\"desc\":"
	       "\"Invalid parameter type for 'fail', expected: boolean\"}}");
	tc_send(&t, "{\"execute\":\"query-name\"}");
	EXPECT(&t, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":"
		   "\"The command query-name has not been found\"}}");

	/* Host events. */
	ASSERT_OK(vmc_qmp_value_new_object(&data));
	ASSERT_OK(vmc_qmp_object_set_string(data, "device", "disk0"));
	ASSERT_OK(vmc_qmp_object_set_uint(data, "len", UINT64_MAX));
	ASSERT_OK(vmc_qmp_send_event(qmp, "BLOCK_JOB_COMPLETED", data));
	expect_event(&t, "BLOCK_JOB_COMPLETED",
		     "{\"device\":\"disk0\",\"len\":18446744073709551615}");
	ASSERT_OK(vmc_qmp_value_new_array(&data));
	ASSERT_ERR(vmc_qmp_send_event(qmp, "X", data), -EINVAL);
	ASSERT_ERR(vmc_qmp_send_event(qmp, NULL, NULL), -EINVAL);
	ASSERT_ERR(vmc_qmp_send_event(NULL, "X", NULL), -EINVAL);
	tc_close(&t);
	teardown();
}

static void cmd_hangup(struct vmc_qmp_request *req, void *userdata)
{
	vmc_qmp_remove_monitor(userdata);
}

/* A command may close the monitor it came from: no reply, no crash. */
static void test_remove_monitor_in_command(void)
{
	struct vmc_qmp_monitor *mon;
	struct tc t;
	char spec[160], c;
	struct stat st;
	int64_t end;
	ssize_t n;

	setup();
	snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", sock_path);
	ASSERT_OK(vmc_qmp_add_monitor(qmp, spec, &mon));
	ASSERT_OK(vmc_qmp_add_command(qmp, "x-hangup", NULL, cmd_hangup, mon));
	tc_open(&t);
	tc_send(&t, "{\"execute\":\"x-hangup\"}{\"execute\":\"stop\"}");
	end = vmc_test_now_ns() + 5000000000LL;
	while ((n = recv(t.fd, &c, 1, MSG_DONTWAIT)) < 0 && errno == EAGAIN &&
	       vmc_test_now_ns() < end)
		pump();
	ASSERT_EQ(n, 0);
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 0);
	ASSERT_ERR(stat(sock_path, &st), -1);
	pump();
	tc_close(&t);
	teardown();
}

static void test_values(void)
{
	struct vmc_qmp_value *v, *o, *a;
	const struct vmc_qmp_value *m;
	int64_t i;
	uint64_t u;
	double d;
	bool b;
	char *s;

	ASSERT_OK(vmc_qmp_value_parse(
		"{\"i\":-5,\"u\":18446744073709551615,"
		"\"d\":2.5,\"b\":true,\"s\":\"x\","
		"\"a\":[1,null],\"n\":null} ",
		strlen("{\"i\":-5,\"u\":18446744073709551615,"
		       "\"d\":2.5,\"b\":true,\"s\":\"x\","
		       "\"a\":[1,null],\"n\":null} "),
		&v));
	ASSERT_EQ(vmc_qmp_value_get_type(v), VMC_QMP_OBJECT);
	ASSERT_EQ(vmc_qmp_value_get_length(v), 7);
	m = vmc_qmp_value_get_member(v, "i");
	ASSERT_EQ(vmc_qmp_value_get_type(m), VMC_QMP_INT);
	ASSERT_OK(vmc_qmp_value_get_int(m, &i));
	ASSERT_EQ(i, -5);
	ASSERT_ERR(vmc_qmp_value_get_uint(m, &u), -ERANGE);
	m = vmc_qmp_value_get_member(v, "u");
	ASSERT_OK(vmc_qmp_value_get_uint(m, &u));
	ASSERT_EQ_U64(u, UINT64_MAX);
	ASSERT_ERR(vmc_qmp_value_get_int(m, &i), -ERANGE);
	ASSERT_OK(vmc_qmp_value_get_number(m, &d));
	ASSERT_TRUE(d > 1.8e19);
	m = vmc_qmp_value_get_member(v, "d");
	ASSERT_EQ(vmc_qmp_value_get_type(m), VMC_QMP_NUMBER);
	ASSERT_ERR(vmc_qmp_value_get_int(m, &i), -EINVAL);
	ASSERT_OK(vmc_qmp_value_get_number(m, &d));
	ASSERT_TRUE(d == 2.5);
	m = vmc_qmp_value_get_member(v, "b");
	ASSERT_OK(vmc_qmp_value_get_bool(m, &b));
	ASSERT_TRUE(b);
	ASSERT_ERR(vmc_qmp_value_get_bool(vmc_qmp_value_get_member(v, "s"), &b),
		   -EINVAL);
	ASSERT_STREQ(vmc_qmp_value_get_string(vmc_qmp_value_get_member(v, "s")),
		     "x");
	ASSERT_NULL(vmc_qmp_value_get_string(m));
	m = vmc_qmp_value_get_member(v, "a");
	ASSERT_EQ(vmc_qmp_value_get_length(m), 2);
	ASSERT_EQ(vmc_qmp_value_get_type(vmc_qmp_value_get_element(m, 0)),
		  VMC_QMP_INT);
	ASSERT_NULL(vmc_qmp_value_get_element(m, 1));
	ASSERT_NULL(vmc_qmp_value_get_element(m, 2));
	ASSERT_NULL(vmc_qmp_value_get_member(v, "n"));
	ASSERT_NULL(vmc_qmp_value_get_member(v, "none"));
	ASSERT_NULL(vmc_qmp_value_get_member(m, "x"));
	ASSERT_EQ(vmc_qmp_value_get_type(NULL), VMC_QMP_NULL);
	ASSERT_ERR(vmc_qmp_value_get_int(m, NULL), -EINVAL);
	vmc_qmp_value_free(v);

	/* Strict parsing. */
	ASSERT_ERR(vmc_qmp_value_parse("{\"a\":1,}", 8, &v), -EINVAL);
	ASSERT_ERR(vmc_qmp_value_parse("{} {}", 5, &v), -EINVAL);
	ASSERT_ERR(vmc_qmp_value_parse("\"\xff\"", 3, &v), -EINVAL);
	ASSERT_ERR(vmc_qmp_value_parse("[1,]", 4, &v), -EINVAL);
	ASSERT_ERR(vmc_qmp_value_parse(NULL, 0, &v), -EINVAL);
	ASSERT_OK(vmc_qmp_value_parse("null", 4, &v));
	ASSERT_NULL(v);
	ASSERT_OK(vmc_qmp_value_parse("42", 2, &v));
	ASSERT_OK(vmc_qmp_value_get_int(v, &i));
	ASSERT_EQ(i, 42);
	vmc_qmp_value_free(v);

	/* Building. */
	ASSERT_OK(vmc_qmp_value_new_object(&o));
	ASSERT_OK(vmc_qmp_value_new_array(&a));
	ASSERT_OK(vmc_qmp_array_append_int(a, -1));
	ASSERT_OK(vmc_qmp_array_append_value(a, NULL));
	ASSERT_ERR(vmc_qmp_array_append_value(a, a), -EINVAL);
	ASSERT_ERR(vmc_qmp_array_append_string(o, "x"), -EINVAL);
	ASSERT_OK(vmc_qmp_object_set_value(o, "a", a));
	ASSERT_OK(vmc_qmp_object_set_bool(o, "b", false));
	ASSERT_OK(vmc_qmp_object_set_string(o, "s", "q\"\n"));
	ASSERT_OK(vmc_qmp_object_set_string(o, "s", "r"));
	ASSERT_ERR(vmc_qmp_object_set_number(o, "d", 1.0 / 0.0), -EINVAL);
	ASSERT_ERR(vmc_qmp_object_set_int(a, "x", 1), -EINVAL);
	ASSERT_ERR(vmc_qmp_object_set_string(o, NULL, "x"), -EINVAL);
	ASSERT_ERR(vmc_qmp_object_set_value(o, "self", o), -EINVAL);
	ASSERT_OK(vmc_qmp_value_to_json(o, &s));
	ASSERT_STREQ(s, "{\"a\":[-1,null],\"b\":false,\"s\":\"r\"}");
	free(s);
	ASSERT_OK(vmc_qmp_value_to_json(NULL, &s));
	ASSERT_STREQ(s, "null");
	free(s);
	vmc_qmp_value_free(o);
	vmc_qmp_value_free(NULL);
}

static void test_several_clients(void)
{
	struct vmc_qmp_monitor *tcp, *fdmon;
	struct tc t[4], idle;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int sp[2], port;

	setup();
	listen_unix();
	ASSERT_OK(vmc_qmp_add_monitor(qmp, "tcp:127.0.0.1:0,server=on,wait=off",
				      &tcp));
	port = vmc_qmp_monitor_get_port(tcp);
	ASSERT_GT(port, 0);
	tc_open(&t[0]);
	tc_open(&t[1]);
	/* The TCP client. */
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(0x7f000001);
	tc_init(&t[2], socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	ASSERT_OK(connect(t[2].fd, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_HAS(&t[2], "\"QMP\"");
	tc_send(&t[2], "{\"execute\":\"qmp_capabilities\"}");
	EXPECT(&t[2], "{\"return\":{}}");
	/* A socket the host had. */
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp));
	ASSERT_OK(vmc_qmp_add_fd(qmp, sp[0], &fdmon));
	close(sp[0]);
	tc_init(&t[3], sp[1]);
	EXPECT_HAS(&t[3], "\"QMP\"");
	tc_send(&t[3], "{\"execute\":\"qmp_capabilities\"}");
	EXPECT(&t[3], "{\"return\":{}}");
	ASSERT_ERR(vmc_qmp_monitor_get_port(fdmon), -ENOTSOCK);
	/* One that never negotiates gets no events. */
	tc_init(&idle, unix_connect(sock_path));
	EXPECT_HAS(&idle, "\"QMP\"");
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 5);

	/* t[0] stops the VM: every negotiated client sees STOP. */
	ASSERT_OK(vmc_vm_start(vm));
	for (int i = 0; i < 4; i++)
		expect_event(&t[i], "RESUME", "");
	tc_send(&t[0], "{\"execute\":\"stop\"}");
	for (int i = 0; i < 4; i++)
		expect_event(&t[i], "STOP", "");
	EXPECT(&t[0], "{\"return\":{}}");
	tc_quiet(&idle, 50);

	/* One goes away; the others carry on. */
	tc_close(&t[1]);
	tc_send(&t[2], "{\"execute\":\"cont\"}");
	expect_event(&t[2], "RESUME", "");
	EXPECT(&t[2], "{\"return\":{}}");
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 4);
	/* The fd monitor ends with its connection. */
	tc_close(&t[3]);
	tc_send(&t[0], "{\"execute\":\"stop\"}");
	expect_event(&t[0], "RESUME", "");
	expect_event(&t[0], "STOP", "");
	EXPECT(&t[0], "{\"return\":{}}");
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 3);
	/* Removing a monitor disconnects its clients. */
	vmc_qmp_remove_monitor(tcp);
	pump();
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 2);
	{
		char buf[16];
		int64_t end = vmc_test_now_ns() + 5000000000LL;
		ssize_t n;

		while ((n = recv(t[2].fd, buf, sizeof(buf), MSG_DONTWAIT)) >
			       0 ||
		       (n < 0 && errno == EAGAIN && vmc_test_now_ns() < end))
			pump();
		ASSERT_EQ(n, 0);
	}
	tc_close(&t[2]);
	tc_close(&t[0]);
	tc_close(&idle);
	teardown();
}

static void test_close_mid_reply(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL}, old;
	struct tc t, other;

	/* SIGPIPE at its default would kill the process. */
	sigaction(SIGPIPE, &sa, &old);
	setup();
	listen_unix();
	tc_open(&other);
	for (int i = 0; i < 20; i++) {
		tc_open(&t);
		/* Requests, then gone before the replies are written. */
		for (int k = 0; k < 10; k++)
			tc_send(&t, "{\"execute\":\"query-commands\"}");
		tc_close(&t);
		for (int k = 0; k < 20; k++)
			pump();
	}
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 1);
	tc_send(&other, "{\"execute\":\"query-name\"}");
	EXPECT(&other, "{\"return\":{\"name\":\"vm112\"}}");
	tc_close(&other);
	teardown();
	sigaction(SIGPIPE, &old, NULL);
}

static void test_client_never_reads(void)
{
	struct vmc_qmp_config cfg;
	struct vmc_qmp_value *data;
	struct tc t, stuck;
	char big[1024], want[1100];
	int rcv = 4096;
	int i;

	vmc_qmp_config_init(&cfg);
	cfg.max_output = 64 << 10;
	cfg.name = "vm112";
	setup_cfg(1, &cfg);
	listen_unix();
	tc_open(&stuck);
	setsockopt(stuck.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	tc_open(&t);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(want, sizeof(want), "{\"pad\":\"%s\"}", big);
	/* The reading client drains its events as they come. */
	for (i = 0; i < 4000 && vmc_qmp_get_client_count(qmp) == 2; i++) {
		ASSERT_OK(vmc_qmp_value_new_object(&data));
		ASSERT_OK(vmc_qmp_object_set_string(data, "pad", big));
		ASSERT_OK(vmc_qmp_send_event(qmp, "X", data));
		expect_event(&t, "X", want);
	}
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 1);
	ASSERT_LT(i, 4000);
	/* The loop and the other client carry on. */
	tc_send(&t, "{\"execute\":\"query-name\"}");
	EXPECT(&t, "{\"return\":{\"name\":\"vm112\"}}");
	tc_close(&stuck);
	tc_close(&t);
	teardown();
}

static void test_framing_and_garbage(void)
{
	struct vmc_qmp_config cfg;
	struct tc t;
	char *req, *huge;
	const char *one = "{\"execute\":\"query-name\",\"id\":1}";

	vmc_qmp_config_init(&cfg);
	cfg.name = "n";
	cfg.max_message = 4096;
	setup_cfg(1, &cfg);
	listen_unix();
	tc_open(&t);

	/* Byte by byte. */
	for (const char *p = one; *p; p++) {
		char c[2] = {*p, 0};

		tc_send(&t, c);
		pump();
	}
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":1}");
	/* Two in one write, with whitespace and CRLF. */
	tc_send(&t, " \r\n{\"execute\":\"query-name\",\"id\":2}\r\n"
		    "{\"execute\":\"query-name\",\"id\":3}");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":2}");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":3}");

	/* Bad JSON: an error, then the next request works. */
	tc_send(&t, "{\"execute\": }{\"execute\":\"query-name\",\"id\":4}");
	{
		json_object *o = tc_msg(&t), *e, *d;

		ASSERT_TRUE(json_object_object_get_ex(o, "error", &e));
		ASSERT_TRUE(json_object_object_get_ex(e, "desc", &d));
		ASSERT_EQ(strncmp(json_object_get_string(d),
				  "JSON parse error, ", 18),
			  0);
		ASSERT_TRUE(json_object_object_get_ex(e, "class", &d));
		ASSERT_STREQ(json_object_get_string(d), "GenericError");
		json_object_put(o);
	}
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":4}");
	/* A truncated request, then a control character resynchronises. */
	tc_send(&t, "{\"execute\":\"query-na");
	tc_send(&t, "\x01");
	EXPECT_HAS(&t, "JSON parse error");
	tc_send(&t, "{\"execute\":\"query-name\",\"id\":5}");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":5}");
	/* Garbage between requests, single quotes, invalid UTF-8. */
	tc_send(&t, "xyz{\"execute\":\"query-name\",\"id\":6}");
	EXPECT_HAS(&t, "JSON parse error");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":6}");
	tc_send(&t, "{'execute':'query-name'}");
	EXPECT_HAS(&t, "JSON parse error");
	tc_send(&t, "{\"execute\":\"query-name\",\"id\":\"\xff\xfe\"}");
	EXPECT_HAS(&t, "JSON parse error");
	tc_send(&t, "{\"execute\":\"query-name\",\"id\":7}");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":7}");
	/* One error per broken message, as QEMU: skipped to its end. */
	tc_send(&t,
		"{\"a\":1 \"b\":{\"c\":[2]}}[1 2] }} "
		"{\"x\":\"}\\\"{\" 1}{\"execute\":\"query-name\",\"id\":10}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"JSON parse error, expected separator in dict\"}}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"JSON parse error, expected separator in list\"}}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"JSON parse error, expecting value\"}}");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"JSON parse error, expected separator in dict\"}}");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":10}");
	/* Too deep. */
	huge = malloc(300);
	memset(huge, '[', 200);
	huge[200] = '\0';
	tc_send(&t, huge);
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"JSON nesting depth limit exceeded\"}}");
	free(huge);
	/* The brackets never close: as in QEMU, a control character resets. */
	tc_send(&t, "{\"execute\":\"query-name\",\"id\":7.5}\x01");
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"JSON parse error, stray '\\u0001'\"}}");
	tc_send(&t, "{\"execute\":\"query-name\",\"id\":8}");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":8}");
	/* Too big: refused, skipped, and the stream goes on. */
	req = malloc(20000);
	strcpy(req, "{\"execute\":\"query-name\",\"id\":\"");
	memset(req + strlen(req), 'a', 10000);
	strcpy(req + 10030, "\"}");
	tc_send(&t, req);
	EXPECT(&t, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
		   "\"JSON token size limit exceeded\"}}");
	free(req);
	tc_send(&t, "{\"execute\":\"query-name\",\"id\":9}");
	EXPECT(&t, "{\"return\":{\"name\":\"n\"},\"id\":9}");
	tc_quiet(&t, 50);
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 1);
	tc_close(&t);
	teardown();
}

/* A listener of the test's own, for client monitors. */
static int test_listener(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_OK(listen(fd, 4));
	return fd;
}

static int accept_pumping(int lfd, int64_t ns)
{
	int64_t end = vmc_test_now_ns() + ns;

	while (vmc_test_now_ns() < end) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0)
			return fd;
		pump();
		usleep(1000);
	}
	return -1;
}

static void test_client_monitor_reconnects(void)
{
	char spec[160], path[120];
	struct tc t;
	int lfd, fd;

	setup();
	snprintf(path, sizeof(path), "/tmp/vmc-qmp-ev-%d.sock", (int)getpid());
	unlink(path);
	/* Without reconnect, no listener is an error. */
	snprintf(spec, sizeof(spec), "unix:%s", path);
	ASSERT_ERR(vmc_qmp_add_monitor(qmp, spec, NULL), -ENOENT);
	/* With it, the monitor keeps trying. */
	snprintf(spec, sizeof(spec), "unix:%s,reconnect=1", path);
	ASSERT_OK(vmc_qmp_add_monitor(qmp, spec, NULL));
	lfd = test_listener(path);
	fd = accept_pumping(lfd, 3000000000LL);
	ASSERT_GE(fd, 0);
	tc_init(&t, fd);
	EXPECT_HAS(&t, "\"QMP\"");
	tc_send(&t, "{\"execute\":\"qmp_capabilities\"}");
	EXPECT(&t, "{\"return\":{}}");
	ASSERT_OK(vmc_vm_start(vm));
	expect_event(&t, "RESUME", "");
	/* The peer restarts: the monitor comes back within a second. */
	tc_close(&t);
	close(lfd);
	lfd = test_listener(path);
	fd = accept_pumping(lfd, 3000000000LL);
	ASSERT_GE(fd, 0);
	tc_init(&t, fd);
	EXPECT_HAS(&t, "\"QMP\"");
	tc_close(&t);
	close(lfd);
	unlink(path);
	teardown();
}

static void *connect_later(void *arg)
{
	usleep(100000);
	return (void *)(intptr_t)unix_connect(arg);
}

static void test_monitor_specs(void)
{
	static const char *const bad[] = {
		"unix:",
		"tcp:1.2.3.4",
		"tcp::",
		"udp:x",
		"unix:/x,server=maybe",
		"unix:/x,bogus=on",
		"unix:/x,reconnect=x",
		"unix:/x,server=on,reconnect=1",
		"",
	};
	struct tc t;
	pthread_t th;
	void *fd;
	char spec[160];
	struct vmc_qmp_config cfg;
	struct vmc_qmp *q2;

	setup();
	vmc_qmp_config_init(&cfg);
	cfg.size = 8;
	ASSERT_ERR(vmc_qmp_new(vm, &cfg, &q2), -EINVAL);
	cfg.size = sizeof(cfg);
	ASSERT_ERR(vmc_qmp_new(NULL, &cfg, &q2), -EINVAL);
	ASSERT_ERR(vmc_qmp_new(vm, &cfg, NULL), -EINVAL);
	/* A second server on the same VM, with the defaults. */
	ASSERT_OK(vmc_qmp_new(vm, NULL, &q2));
	vmc_qmp_free(q2);
	vmc_qmp_free(NULL);
	ASSERT_EQ(vmc_qmp_get_client_count(NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_ERR(vmc_qmp_add_monitor(qmp, bad[i], NULL), -EINVAL);
	ASSERT_ERR(vmc_qmp_add_monitor(NULL, "unix:/x", NULL), -EINVAL);
	ASSERT_ERR(vmc_qmp_add_fd(qmp, -1, NULL), -EINVAL);
	ASSERT_ERR(vmc_qmp_monitor_get_port(NULL), -EINVAL);
	/* wait=on (QEMU's default for servers): blocks for a client. */
	ASSERT_OK(pthread_create(&th, NULL, connect_later, sock_path));
	snprintf(spec, sizeof(spec), "unix:%s,server", sock_path);
	ASSERT_OK(vmc_qmp_add_monitor(qmp, spec, NULL));
	ASSERT_EQ(vmc_qmp_get_client_count(qmp), 1);
	ASSERT_OK(pthread_join(th, &fd));
	tc_init(&t, (int)(intptr_t)fd);
	EXPECT_HAS(&t, "\"QMP\"");
	tc_close(&t);
	teardown();
}

int main(void)
{
	RUN(test_values);
	RUN(test_greeting_and_negotiation);
	RUN(test_ids);
	RUN(test_request_errors);
	RUN(test_queries);
	RUN(test_run_state_events);
	RUN(test_optional_commands);
	RUN(test_host_commands_and_events);
	RUN(test_several_clients);
	RUN(test_remove_monitor_in_command);
	RUN(test_close_mid_reply);
	RUN(test_client_never_reads);
	RUN(test_framing_and_garbage);
	RUN(test_client_monitor_reconnects);
	RUN(test_monitor_specs);
	return 0;
}
