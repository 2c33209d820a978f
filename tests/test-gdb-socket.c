/* SPDX-License-Identifier: MIT */
/*
 * The gdbstub through real sockets, as a hostile or clumsy client sees it
 * (issue 17): a client that closes before reading its reply, a client
 * that floods and never reads, a path that is not the stub's to delete, a
 * burst of connections, accept() out of fds, and replies that must not
 * depend on malloc.  The test is single-threaded: it plays the client and
 * turns the VM's loop by hand between steps.
 *
 * The executable is linked with --wrap=malloc/calloc (see meson.build) so
 * that allocation can be made to fail, and defines umask() so that a
 * process-wide umask change by the library is seen.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

/* ------------------------------------------------------------------------
 * Interposed libc calls
 */

static atomic_int umask_calls;

mode_t umask(mode_t mask)
{
	atomic_fetch_add(&umask_calls, 1);
	return (mode_t)syscall(SYS_umask, mask);
}

static atomic_bool fail_allocs;
static atomic_int failed_allocs;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);

void *__wrap_malloc(size_t size)
{
	if (atomic_load(&fail_allocs)) {
		atomic_fetch_add(&failed_allocs, 1);
		return NULL;
	}
	return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (atomic_load(&fail_allocs)) {
		atomic_fetch_add(&failed_allocs, 1);
		return NULL;
	}
	return __real_calloc(n, size);
}

/* ------------------------------------------------------------------------
 * Log capture
 */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];

static void log_cb(enum vmc_log_level level, const char *msg, void *ud)
{
	size_t n;

	(void)level;
	(void)ud;
	pthread_mutex_lock(&log_lock);
	n = strlen(log_text);
	if (n + strlen(msg) + 2 < sizeof(log_text))
		snprintf(log_text + n, sizeof(log_text) - n, "%s\n", msg);
	pthread_mutex_unlock(&log_lock);
}

static bool log_has(const char *s)
{
	bool r;

	pthread_mutex_lock(&log_lock);
	r = strstr(log_text, s) != NULL;
	pthread_mutex_unlock(&log_lock);
	return r;
}

static void log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

/* ------------------------------------------------------------------------
 * The machine: a riscv64 tcg VM that never runs, 64 KiB of RAM
 */

static struct vmc_loop *loop;
static struct vmc_vm *vm;
static struct vmc_region *ram;
static char dir[64];

static void machine_up(void)
{
	struct vmc_vm_config c;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = 2;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", 0x10000, 0,
				     &ram));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   0x80000000, ram, 0));
}

static void machine_down(void)
{
	vm = vmc_vm_unref(vm);
	vmc_region_unref(ram);
	loop = vmc_loop_unref(loop);
}

/* Turn the loop without blocking for about @ms milliseconds. */
static void pump(int ms)
{
	int64_t end = vmc_test_now_ns() + (int64_t)ms * 1000000;

	do {
		ASSERT_OK(vmc_loop_run_once(loop, false));
		poll(NULL, 0, 1);
	} while (vmc_test_now_ns() < end);
}

static void path_in_dir(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void addr_unix(char *out, size_t cap, const char *path)
{
	snprintf(out, cap, "unix:%s", path);
}

/* ------------------------------------------------------------------------
 * The client
 */

static int connect_unix(const char *path, bool nonblock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(
		AF_UNIX,
		SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	ASSERT_GE(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int socket_tcp(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ASSERT_GE(fd, 0);
	return fd;
}

/* Start a non-blocking connect to 127.0.0.1:@port. */
static void connect_tcp_start(int fd, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int r;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno != EINPROGRESS)
		FAIL("connect: %s", strerror(errno));
}

static size_t frame(char *out, size_t cap, const char *body)
{
	uint8_t sum = 0;

	for (const char *p = body; *p; p++)
		sum += (uint8_t)*p;
	return (size_t)snprintf(out, cap, "$%s#%02x", body, sum);
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			pump(1);
			continue;
		}
		ASSERT_GT(n, 0);
		buf += n;
		len -= (size_t)n;
	}
}

static void send_pkt(int fd, const char *body)
{
	char buf[512];

	send_all(fd, buf, frame(buf, sizeof(buf), body));
}

/*
 * Read the next packet's payload into @out, skipping acks; turns the loop
 * while waiting.  False on EOF or after @ms.
 */
static bool recv_pkt(int fd, char *out, size_t cap, int ms)
{
	int64_t end = vmc_test_now_ns() + (int64_t)ms * 1000000;
	size_t len = 0;
	bool in = false;
	int hashes = -1;

	while (vmc_test_now_ns() < end) {
		char c;
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0)
			return false;
		if (n < 0) {
			if (errno != EAGAIN)
				return false;
			ASSERT_OK(vmc_loop_run_once(loop, false));
			poll(NULL, 0, 1);
			continue;
		}
		if (!in) {
			in = c == '$';
			continue;
		}
		if (hashes >= 0) {
			if (++hashes == 2) {
				out[len] = '\0';
				return true;
			}
			continue;
		}
		if (c == '#') {
			hashes = 0;
			continue;
		}
		if (len + 1 < cap)
			out[len++] = c;
	}
	return false;
}

/* One request, one answer. */
static void ask(int fd, const char *req, char *out, size_t cap)
{
	send_pkt(fd, req);
	if (!recv_pkt(fd, out, cap, 5000))
		FAIL("no answer to '%s'", req);
}

/* Connect a client to @address's unix path and check that it is served. */
static void check_served(struct vmc_gdbstub *gs, const char *path)
{
	char reply[64];
	int fd = connect_unix(path, false);

	ASSERT_GE(fd, 0);
	ask(fd, "qC", reply, sizeof(reply));
	ASSERT_STREQ(reply, "QC01");
	ASSERT_TRUE(vmc_gdbstub_is_connected(gs));
	close(fd);
	pump(20);
	ASSERT_FALSE(vmc_gdbstub_is_connected(gs));
}

/* ------------------------------------------------------------------------
 * 1. A client that closes before reading its reply (was SIGPIPE)
 */

static void hit_and_run(int fd)
{
	char buf[4096];
	size_t len = 0;

	for (int i = 0; i < 8; i++)
		len += frame(buf + len, sizeof(buf) - len, "m80000000,800");
	send_all(fd, buf, len);
	close(fd);
}

static void test_close_before_reply(void)
{
	char path[128], addr[160];
	struct vmc_gdbstub *gs;
	int port;

	/* Default SIGPIPE disposition: a stray signal fails the test. */
	signal(SIGPIPE, SIG_DFL);
	machine_up();
	path_in_dir(path, sizeof(path), "close.sock");
	addr_unix(addr, sizeof(addr), path);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	for (int i = 0; i < 10; i++) {
		int fd = connect_unix(path, false);

		ASSERT_GE(fd, 0);
		hit_and_run(fd);
		pump(10);
		ASSERT_FALSE(vmc_gdbstub_is_connected(gs));
	}
	check_served(gs, path);
	vmc_gdbstub_stop(gs);

	ASSERT_OK(vmc_gdbstub_start(vm, loop, "tcp::0", &gs));
	port = vmc_gdbstub_get_port(gs);
	ASSERT_GT(port, 0);
	for (int i = 0; i < 10; i++) {
		int fd = socket_tcp();
		struct pollfd p = {.fd = fd, .events = POLLOUT};

		connect_tcp_start(fd, port);
		ASSERT_EQ(poll(&p, 1, 2000), 1);
		hit_and_run(fd);
		pump(10);
	}
	ASSERT_FALSE(vmc_gdbstub_is_connected(gs));
	vmc_gdbstub_stop(gs);
	machine_down();
}

/* ------------------------------------------------------------------------
 * 2. Only the stub's own socket file is ever removed
 */

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void assert_file(const char *path, const char *text)
{
	char buf[64] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		FAIL("%s is gone: %s", path, strerror(errno));
	ASSERT_GE(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	ASSERT_STREQ(buf, text);
}

static void test_unix_path_not_ours(void)
{
	char file[128], link[128], live[128], stale[128], swap[128];
	char addr[160];
	struct vmc_gdbstub *gs, *other;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	machine_up();
	/* A regular file. */
	path_in_dir(file, sizeof(file), "precious.txt");
	write_file(file, "precious");
	addr_unix(addr, sizeof(addr), file);
	ASSERT_ERR(vmc_gdbstub_start(vm, loop, addr, &gs), -EADDRINUSE);
	assert_file(file, "precious");

	/* A symlink (to that file). */
	path_in_dir(link, sizeof(link), "link");
	ASSERT_OK(symlink(file, link));
	addr_unix(addr, sizeof(addr), link);
	ASSERT_ERR(vmc_gdbstub_start(vm, loop, addr, &gs), -EADDRINUSE);
	ASSERT_OK(lstat(link, &st));
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	assert_file(file, "precious");

	/* A socket somebody listens on: refused, and it keeps working. */
	path_in_dir(live, sizeof(live), "live.sock");
	addr_unix(addr, sizeof(addr), live);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &other));
	ASSERT_ERR(vmc_gdbstub_start(vm, loop, addr, &gs), -EADDRINUSE);
	/* (The stale-socket probe was a connection: let it go first.) */
	pump(20);
	check_served(other, live);
	vmc_gdbstub_stop(other);
	ASSERT_TRUE(lstat(live, &st) < 0 && errno == ENOENT);

	/* A socket nobody listens on any more: replaced. */
	path_in_dir(stale, sizeof(stale), "stale.sock");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(fd, 0);
	ASSERT_LT(strlen(stale), sizeof(sa.sun_path));
	memcpy(sa.sun_path, stale, strlen(stale) + 1);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	addr_unix(addr, sizeof(addr), stale);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	check_served(gs, stale);
	vmc_gdbstub_stop(gs);
	ASSERT_TRUE(lstat(stale, &st) < 0 && errno == ENOENT);

	/* Replaced by someone else's file while running: left alone. */
	path_in_dir(swap, sizeof(swap), "swap.sock");
	addr_unix(addr, sizeof(addr), swap);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	ASSERT_OK(unlink(swap));
	write_file(swap, "theirs");
	vmc_gdbstub_stop(gs);
	assert_file(swap, "theirs");

	unlink(swap);
	unlink(link);
	unlink(file);
	machine_down();
}

/* ------------------------------------------------------------------------
 * 3. A client that floods and never reads (was: the loop froze)
 */

static atomic_int ticks;

static void tick(struct vmc_timer *t, void *ud)
{
	(void)ud;
	atomic_fetch_add(&ticks, 1);
	vmc_timer_mod(t, vmc_clock_get_ns(
				 vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME)) +
				 10000000);
}

static void watchdog(int sig)
{
	static const char msg[] =
		"FAIL: the loop is stuck (a client that does not read froze "
		"it)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void test_flood_without_reading(void)
{
	char path[128], addr[160], req[64];
	struct vmc_gdbstub *gs;
	struct vmc_timer *t;
	int64_t start, longest = 0, elapsed;
	size_t rlen;
	int fd, small = 4096;
	bool dropped = false;

	machine_up();
	path_in_dir(path, sizeof(path), "flood.sock");
	addr_unix(addr, sizeof(addr), path);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	ASSERT_OK(vmc_timer_new(vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME),
				tick, NULL, &t));
	ASSERT_OK(vmc_timer_mod(t, 0));
	fd = connect_unix(path, true);
	ASSERT_GE(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	rlen = frame(req, sizeof(req), "m80000000,800");
	log_clear();
	signal(SIGALRM, watchdog);
	alarm(20);
	atomic_store(&ticks, 0);
	start = vmc_test_now_ns();
	while ((elapsed = vmc_test_now_ns() - start) < 10000000000ll) {
		int64_t t0;

		/* Keep the stub's input full; read nothing. */
		for (int i = 0; i < 64; i++)
			if (send(fd, req, rlen, MSG_NOSIGNAL | MSG_DONTWAIT) <
			    0)
				break;
		t0 = vmc_test_now_ns();
		ASSERT_OK(vmc_loop_run_once(loop, false));
		if (vmc_test_now_ns() - t0 > longest)
			longest = vmc_test_now_ns() - t0;
		if (!vmc_gdbstub_is_connected(gs)) {
			dropped = true;
			break;
		}
		poll(NULL, 0, 1);
	}
	alarm(0);
	if (!dropped)
		FAIL("a client that never reads stayed connected %lld ms",
		     (long long)(elapsed / 1000000));
	ASSERT_TRUE(log_has("reads no replies"));
	/* No loop iteration waited on the client. */
	ASSERT_LT(longest, 200000000);
	/* Timers kept firing while the client flooded (every 10 ms). */
	pump(100);
	ASSERT_GE(atomic_load(&ticks),
		  (int)((vmc_test_now_ns() - start) / 10000000 / 4));
	close(fd);
	pump(10);
	check_served(gs, path);
	vmc_timer_free(t);
	vmc_gdbstub_stop(gs);
	machine_down();
}

/* ------------------------------------------------------------------------
 * 4. Connections in a burst (was: backlog 1, a 1 s SYN retry)
 */

#define BURST 8

static void test_connection_burst(void)
{
	char path[128], addr[160], reply[64];
	struct vmc_gdbstub *gs;
	struct pollfd p[BURST];
	int fds[BURST], port, served = 0;

	machine_up();
	path_in_dir(path, sizeof(path), "burst.sock");
	addr_unix(addr, sizeof(addr), path);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	/* The loop does not run: every connection waits in the backlog. */
	for (int i = 0; i < BURST; i++) {
		fds[i] = connect_unix(path, true);
		if (fds[i] < 0)
			FAIL("connection %d of a burst: %s", i,
			     strerror(errno));
	}
	pump(50);
	/* One is served, the others are refused (EOF), none hangs. */
	for (int i = 0; i < BURST; i++) {
		char req[16];
		size_t n = frame(req, sizeof(req), "qC");

		/* A refused one may be closed already: EPIPE is fine. */
		(void)!send(fds[i], req, n, MSG_NOSIGNAL);
		if (recv_pkt(fds[i], reply, sizeof(reply), 200))
			served++;
		close(fds[i]);
		pump(5);
	}
	ASSERT_EQ(served, 1);
	vmc_gdbstub_stop(gs);

	ASSERT_OK(vmc_gdbstub_start(vm, loop, "tcp::0", &gs));
	port = vmc_gdbstub_get_port(gs);
	for (int i = 0; i < BURST; i++) {
		fds[i] = socket_tcp();
		connect_tcp_start(fds[i], port);
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLOUT};
	}
	/* Handshakes complete in the kernel, without a SYN retry. */
	for (int i = 0; i < BURST; i++) {
		int err = -1;
		socklen_t sl = sizeof(err);

		if (poll(&p[i], 1, 300) != 1)
			FAIL("connection %d of a burst waits for a SYN retry",
			     i);
		ASSERT_OK(getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &sl));
		ASSERT_EQ(err, 0);
	}
	for (int i = 0; i < BURST; i++)
		close(fds[i]);
	pump(20);
	vmc_gdbstub_stop(gs);
	machine_down();
}

/* ------------------------------------------------------------------------
 * 5. The socket's mode without a process-wide umask()
 */

static void test_unix_mode_without_umask(void)
{
	char path[128], addr[160];
	struct vmc_gdbstub *gs;
	struct stat st;
	mode_t old = (mode_t)syscall(SYS_umask, 0);
	int calls;

	machine_up();
	path_in_dir(path, sizeof(path), "mode.sock");
	addr_unix(addr, sizeof(addr), path);
	atomic_store(&umask_calls, 0);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	calls = atomic_load(&umask_calls);
	if (calls)
		FAIL("the library called umask() %d times", calls);
	ASSERT_OK(lstat(path, &st));
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_EQ(st.st_mode & 0777, 0600);
	check_served(gs, path);
	vmc_gdbstub_stop(gs);
	ASSERT_EQ((int)syscall(SYS_umask, old), 0);
	machine_down();
}

/* ------------------------------------------------------------------------
 * 6. Replies do not depend on malloc (was: dropped, only logged)
 */

static void test_replies_without_malloc(void)
{
	static const char *const reqs[] = {
		"g",
		"m80000000,800",
		"qfThreadInfo",
		"qXfer:features:read:target.xml:0,ffb",
		"p20",
		"qC",
	};
	char path[128], addr[160];
	char want[sizeof(reqs) / sizeof(reqs[0])][8192], got[8192];
	struct vmc_gdbstub *gs;
	int fd;

	machine_up();
	path_in_dir(path, sizeof(path), "nomem.sock");
	addr_unix(addr, sizeof(addr), path);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	fd = connect_unix(path, false);
	ASSERT_GE(fd, 0);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		ask(fd, reqs[i], want[i], sizeof(want[i]));
	atomic_store(&failed_allocs, 0);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		send_pkt(fd, reqs[i]);
		atomic_store(&fail_allocs, true);
		if (!recv_pkt(fd, got, sizeof(got), 2000)) {
			atomic_store(&fail_allocs, false);
			FAIL("'%s' got no answer while malloc fails", reqs[i]);
		}
		atomic_store(&fail_allocs, false);
		ASSERT_STREQ(got, want[i]);
	}
	ASSERT_EQ(atomic_load(&failed_allocs), 0);
	close(fd);
	pump(10);
	vmc_gdbstub_stop(gs);
	machine_down();
}

/* ------------------------------------------------------------------------
 * 7. accept() out of fds does not spin the loop
 */

static void test_accept_out_of_fds(void)
{
	struct vmc_gdbstub *gs;
	struct vmc_timer *t;
	struct rlimit old, low;
	struct pollfd p;
	int fd, spare, iterations = 0;
	int64_t end;

	machine_up();
	ASSERT_OK(vmc_gdbstub_start(vm, loop, "tcp::0", &gs));
	ASSERT_OK(vmc_timer_new(vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME),
				tick, NULL, &t));
	ASSERT_OK(vmc_timer_mod(t, 0));
	fd = socket_tcp();
	connect_tcp_start(fd, vmc_gdbstub_get_port(gs));
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	ASSERT_EQ(poll(&p, 1, 2000), 1);
	/* No fd left for accept(). */
	spare = dup(0);
	ASSERT_GE(spare, 0);
	close(spare);
	ASSERT_OK(getrlimit(RLIMIT_NOFILE, &old));
	low = old;
	low.rlim_cur = (rlim_t)spare;
	ASSERT_OK(setrlimit(RLIMIT_NOFILE, &low));
	log_clear();
	end = vmc_test_now_ns() + 300000000;
	while (vmc_test_now_ns() < end) {
		ASSERT_OK(vmc_loop_run_once(loop, true));
		iterations++;
	}
	ASSERT_OK(setrlimit(RLIMIT_NOFILE, &old));
	/* A 10 ms timer and a retry every 100 ms: a few dozen wake-ups. */
	if (iterations > 150)
		FAIL("%d loop iterations in 300 ms: accept() spins",
		     iterations);
	ASSERT_TRUE(log_has("accept"));
	/* Once fds are back, the waiting client is served. */
	end = vmc_test_now_ns() + 2000000000;
	while (!vmc_gdbstub_is_connected(gs) && vmc_test_now_ns() < end)
		ASSERT_OK(vmc_loop_run_once(loop, true));
	ASSERT_TRUE(vmc_gdbstub_is_connected(gs));
	close(fd);
	pump(10);
	vmc_timer_free(t);
	vmc_gdbstub_stop(gs);
	machine_down();
}

/* ------------------------------------------------------------------------
 * 8. Addresses that only strtoul() would accept
 */

static void test_bad_addresses(void)
{
	static const char *const bad[] = {
		"tcp::+0", "tcp:: 0", "tcp::-0", "tcp::0x10", "tcp::65536",
		"tcp::",   "tcp:0",   "unix:",	 "udp::0",    "",
	};
	struct vmc_gdbstub *gs;

	machine_up();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = vmc_gdbstub_start(vm, loop, bad[i], &gs);

		if (r != -EINVAL)
			FAIL("'%s' gave %d, want -EINVAL", bad[i], r);
	}
	machine_down();
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vmc-gdb-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	vmc_set_log_handler(log_cb, VMC_LOG_DEBUG, NULL);
	RUN(test_close_before_reply);
	RUN(test_unix_path_not_ours);
	RUN(test_flood_without_reading);
	RUN(test_connection_burst);
	RUN(test_unix_mode_without_umask);
	RUN(test_replies_without_malloc);
	RUN(test_accept_out_of_fds);
	RUN(test_bad_addresses);
	vmc_set_log_handler(NULL, VMC_LOG_ERR, NULL);
	rmdir(dir);
	return 0;
}
