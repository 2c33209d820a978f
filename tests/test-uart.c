/* SPDX-License-Identifier: MIT */
/*
 * The 16550 UART: host fds with flow control, MMIO with a register stride,
 * modem status in loopback, and argument errors.  (The register model's
 * main paths are covered by examples/device-harness.)  Output to a host fd
 * that stalls (a pipe nobody reads) or closes (EPIPE): the host never
 * blocks, the guest sees THRE, no byte is lost, a closed reader is
 * reported once and never becomes SIGPIPE; the host's fd flags stay.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>

#include <libvmcore/libvmcore.h>

#include "uart-fuzz-body.h"
#include "vmc-test.h"

#define BASE 0x10000000
#define THR BASE
#define IER (BASE + 1)
#define IIR (BASE + 2)
#define LSR (BASE + 5)
#define SCR (BASE + 7)
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static struct vmc_loop *loop;
static struct vmc_vm *vm;
static struct vmc_address_space *mem;

static void w8(uint64_t addr, uint8_t v)
{
	ASSERT_OK(vmc_as_write(mem, addr, &v, 1));
}

static uint8_t r8(uint64_t addr)
{
	uint8_t v;

	ASSERT_OK(vmc_as_read(mem, addr, &v, 1));
	return v;
}

static void test_errors(void)
{
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;

	vmc_uart16550_config_init(&c);
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL); /* no VM */
	c.vm = vm;
	ASSERT_ERR(vmc_uart16550_new(NULL, &u), -EINVAL);
	ASSERT_ERR(vmc_uart16550_new(&c, NULL), -EINVAL);
	c.reg_shift = 4;
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL);
	c.reg_shift = 0;
	c.clock_hz = 0;
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL);
	c.clock_hz = 1843200;
	c.size = 8;
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL);
	c.size = sizeof(c);
	/* An fd that is not open is refused, for input and for output. */
	{
		int p[2];

		ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
		close(p[0]);
		close(p[1]);
		c.in_fd = p[0];
		ASSERT_ERR(vmc_uart16550_new(&c, &u), -EBADF);
		c.in_fd = -1;
		c.out_fd = p[1];
		ASSERT_ERR(vmc_uart16550_new(&c, &u), -EBADF);
		c.out_fd = -1;
	}
	ASSERT_ERR(vmc_uart16550_receive(NULL, "x", 1), -EINVAL);
	ASSERT_NULL(vmc_uart16550_get_region(NULL));
	vmc_uart16550_free(NULL);
}

static void test_fds_and_stride(void)
{
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;
	int in[2], out[2];
	char buf[32];
	const unsigned int s = 4; /* reg_shift 2 */

	ASSERT_EQ(pipe2(in, O_CLOEXEC | O_NONBLOCK), 0);
	ASSERT_EQ(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	vmc_uart16550_config_init(&c);
	c.vm = vm;
	c.reg_shift = 2;
	c.in_fd = in[0];
	c.out_fd = out[1];
	ASSERT_OK(vmc_uart16550_new(&c, &u));
	ASSERT_EQ(vmc_region_get_size(vmc_uart16550_get_region(u)), 32);
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   BASE, vmc_uart16550_get_region(u),
					   0));

	/* Registers sit 4 bytes apart; the rest of each slot reads 0. */
	w8(BASE + 7 * s, 0x42);
	ASSERT_EQ(r8(BASE + 7 * s), 0x42);
	ASSERT_EQ(r8(BASE + 7 * s + 1), 0);
	w8(BASE + 2 * s, 0x01); /* FIFO on */

	/* Transmit to the host fd. */
	w8(BASE, 'o');
	w8(BASE, 'k');
	ASSERT_EQ(read(out[0], buf, sizeof(buf)), 2);
	ASSERT_TRUE(memcmp(buf, "ok", 2) == 0);

	/* 20 bytes arrive; the FIFO takes 16 and the fd is held back. */
	ASSERT_EQ(write(in[1], "ABCDEFGHIJKLMNOPQRST", 20), 20);
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	for (int i = 0; i < 16; i++) {
		ASSERT_TRUE(r8(BASE + 5 * s) & 0x01);
		ASSERT_EQ(r8(BASE), 'A' + i);
	}
	ASSERT_FALSE(r8(BASE + 5 * s) & 0x01);
	ASSERT_FALSE(r8(BASE + 5 * s) & 0x02); /* no overrun: flow control */
	/* Draining re-arms the fd on the loop; the rest comes in. */
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	for (int i = 16; i < 20; i++)
		ASSERT_EQ(r8(BASE), 'A' + i);

	/* Loopback wires modem outputs to inputs, with delta bits. */
	(void)r8(BASE + 6 * s);
	w8(BASE + 4 * s, 0x10 | 0x01); /* LOOP | DTR */
	/* CTS and DCD drop (deltas), DSR stays up (no delta). */
	ASSERT_EQ(r8(BASE + 6 * s), 0x20 | 0x01 | 0x08);
	ASSERT_EQ(r8(BASE + 6 * s), 0x20); /* deltas clear on read */
	w8(BASE + 4 * s, 0x00);

	ASSERT_OK(
		vmc_region_remove_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					    vmc_uart16550_get_region(u)));
	vmc_uart16550_free(u);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

/* ---- Output to host fds that stall or close ---------------------------- */

static atomic_int irq_level;

static void irq_handler(void *opaque, unsigned int n, bool level)
{
	atomic_store(&irq_level, level);
}

static struct vmc_uart16550 *uart_on(int out_fd, struct vmc_irq *irq,
				     vmc_uart16550_closed_cb closed_cb,
				     void *userdata)
{
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;

	vmc_uart16550_config_init(&c);
	c.vm = vm;
	c.irq = irq;
	c.out_fd = out_fd;
	c.closed_cb = closed_cb;
	c.userdata = userdata;
	ASSERT_OK(vmc_uart16550_new(&c, &u));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   BASE, vmc_uart16550_get_region(u),
					   0));
	return u;
}

static void uart_off(struct vmc_uart16550 *u)
{
	ASSERT_OK(
		vmc_region_remove_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					    vmc_uart16550_get_region(u)));
	vmc_uart16550_free(u);
}

static uint8_t pattern(unsigned int i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/* A guest that prints `total` bytes, waiting for THRE as drivers do. */
struct guest {
	pthread_t thread;
	unsigned int total;
	atomic_uint sent;
	atomic_uint busy_polls; /* LSR reads that found THRE clear */
	atomic_bool timed_out;
};

static void *guest_main(void *arg)
{
	struct guest *g = arg;
	int64_t deadline = vmc_test_now_ns() + 20000000000ll;

	for (unsigned int i = 0; i < g->total; i++) {
		while (!(r8(LSR) & LSR_THRE)) {
			atomic_fetch_add(&g->busy_polls, 1);
			if (vmc_test_now_ns() > deadline) {
				atomic_store(&g->timed_out, true);
				return NULL;
			}
			sched_yield();
		}
		w8(THR, pattern(i));
		atomic_store(&g->sent, i + 1);
	}
	return NULL;
}

/* Takes the VM lock on a thread of its own, so a hang is a failure. */
struct lock_probe {
	atomic_bool done;
};

static void *lock_probe_main(void *arg)
{
	struct lock_probe *p = arg;

	vmc_vm_lock(vm);
	vmc_vm_unlock(vm);
	atomic_store(&p->done, true);
	return NULL;
}

static void timer_fired(struct vmc_timer *t, void *userdata)
{
	atomic_store((atomic_bool *)userdata, true);
}

/* Read what the pipe holds into got[], checking every byte's value. */
static unsigned int drain_some(int fd, unsigned int got, unsigned int total)
{
	uint8_t buf[4096];
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	if (poll(&p, 1, 10) != 1)
		return got;
	n = read(fd, buf, sizeof(buf));
	ASSERT_GT(n, 0);
	for (ssize_t i = 0; i < n; i++, got++) {
		ASSERT_LT(got, total);
		if (buf[i] != pattern(got)) {
			fprintf(stderr, "byte %u: %#x, want %#x\n", got, buf[i],
				pattern(got));
			ASSERT_TRUE(false);
		}
	}
	return got;
}

/*
 * A pipe nobody reads: the guest's THR writes fill it and the UART's
 * buffer, then LSR says the transmitter is busy and the guest waits; the
 * VM lock, the loop and the other registers stay available; once the
 * reader drains, every byte arrives in order.  (0.1 blocked the guest in
 * write() with the VM lock held.)
 */
static void test_stalled_pipe(void)
{
	struct guest g = {.total = 40000};
	struct lock_probe probe = {0};
	atomic_bool fired = false;
	struct vmc_uart16550 *u;
	struct vmc_timer *timer;
	struct vmc_irq *irq;
	pthread_t probe_thread;
	unsigned int got = 0, busy, sent;
	int64_t t0, deadline;
	int out[2], flags;

	/* Blocking, as the host's stdout would be; as small as it goes. */
	ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
	ASSERT_GE(fcntl(out[1], F_SETPIPE_SZ, 4096), 4096);
	flags = fcntl(out[1], F_GETFL);
	ASSERT_OK(vmc_irq_new(irq_handler, NULL, 1, &irq));
	u = uart_on(out[1], irq, NULL, NULL);
	/* The host's fd keeps its flags. */
	ASSERT_EQ(fcntl(out[1], F_GETFL), flags);

	ASSERT_EQ(pthread_create(&g.thread, NULL, guest_main, &g), 0);
	/* The guest finds the transmitter busy: pipe and buffer are full. */
	deadline = vmc_test_now_ns() + 5000000000ll;
	while (!atomic_load(&g.busy_polls) && vmc_test_now_ns() < deadline)
		usleep(1000);
	busy = atomic_load(&g.busy_polls);
	sent = atomic_load(&g.sent);
	ASSERT_GT(busy, 0); /* LSR showed the transmitter busy */
	ASSERT_LT(sent, g.total);

	/* Meanwhile the VM lock is free within a bound... */
	t0 = vmc_test_now_ns();
	ASSERT_EQ(pthread_create(&probe_thread, NULL, lock_probe_main, &probe),
		  0);
	while (!atomic_load(&probe.done) &&
	       vmc_test_now_ns() - t0 < 2000000000ll)
		usleep(1000);
	ASSERT_TRUE((bool)atomic_load(&probe.done)); /* the VM lock is free */
	ASSERT_EQ(pthread_join(probe_thread, NULL), 0);
	fprintf(stderr, "VM lock taken in %lld us while the pipe is full\n",
		(long long)((vmc_test_now_ns() - t0) / 1000));
	/* ...the other registers answer, THRE and TEMT are clear... */
	w8(SCR, 0x5a);
	ASSERT_EQ(r8(SCR), 0x5a);
	ASSERT_EQ(r8(LSR) & (LSR_THRE | LSR_TEMT), 0);
	/* ...and the loop runs the VM's timers. */
	ASSERT_OK(vmc_vm_timer_new(vm, VMC_CLOCK_REALTIME, timer_fired, &fired,
				   &timer));
	vmc_timer_mod(timer, vmc_clock_get_ns(vmc_loop_get_clock(
				     loop, VMC_CLOCK_REALTIME)) +
				     10000000);
	t0 = vmc_test_now_ns();
	while (!atomic_load(&fired) && vmc_test_now_ns() - t0 < 2000000000ll)
		vmc_loop_run_once(loop, true);
	ASSERT_TRUE(atomic_load(&fired));
	vmc_timer_free(timer);

	/* The reader drains: every byte comes, in order, none twice. */
	deadline = vmc_test_now_ns() + 20000000000ll;
	while (got < g.total && vmc_test_now_ns() < deadline) {
		vmc_loop_run_once(loop, false);
		got = drain_some(out[0], got, g.total);
	}
	ASSERT_EQ(pthread_join(g.thread, NULL), 0);
	ASSERT_FALSE(atomic_load(&g.timed_out));
	ASSERT_EQ(got, g.total);
	ASSERT_EQ(r8(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
	fprintf(stderr, "%u bytes through a stalled pipe, %u busy LSR polls\n",
		got, atomic_load(&g.busy_polls));

	/*
	 * THRE's return raises the THR-empty interrupt: fill until busy,
	 * enable THRI (no interrupt while busy), drain, and it comes.
	 */
	got = 0;
	for (unsigned int i = 0; r8(LSR) & LSR_THRE; i++)
		w8(THR, pattern(i));
	w8(IER, 0x02);
	ASSERT_FALSE(atomic_load(&irq_level));
	ASSERT_EQ(r8(IIR) & 0x0f, 0x01);
	deadline = vmc_test_now_ns() + 5000000000ll;
	while (!atomic_load(&irq_level) && vmc_test_now_ns() < deadline) {
		vmc_loop_run_once(loop, false);
		got = drain_some(out[0], got, ~0u);
	}
	ASSERT_TRUE(atomic_load(&irq_level));
	ASSERT_EQ(r8(IIR) & 0x0f, 0x02);
	ASSERT_FALSE(atomic_load(&irq_level)); /* reading IIR acknowledged */
	w8(IER, 0);
	while (r8(LSR) != (LSR_THRE | LSR_TEMT)) {
		vmc_loop_run_once(loop, false);
		got = drain_some(out[0], got, ~0u);
	}
	uart_off(u);
	vmc_irq_free(irq);
	close(out[0]);
	close(out[1]);
}

struct closed_seen {
	int calls;
	int error;
};

static void on_closed(void *userdata, int error)
{
	struct closed_seen *c = userdata;

	c->calls++;
	c->error = error;
}

static atomic_int uart_log_lines;

static void count_log(enum vmc_log_level level, const char *message,
		      void *userdata)
{
	if (strstr(message, "uart16550")) {
		atomic_fetch_add(&uart_log_lines, 1);
		fprintf(stderr, "log: %s\n", message);
	}
}

/*
 * The reader went away: EPIPE, never SIGPIPE (the default action would
 * end this process), one log line, the closed callback once on the loop,
 * and the guest keeps running with THRE set while its bytes are dropped.
 * (0.1 dropped EPIPE silently, byte by byte.)
 */
static void test_closed_reader(void)
{
	struct closed_seen seen = {0};
	struct vmc_uart16550 *u;
	sigset_t pending;
	int out[2];

	ASSERT_TRUE(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
	atomic_store(&uart_log_lines, 0);
	vmc_set_log_handler(count_log, VMC_LOG_WARNING, NULL);
	u = uart_on(out[1], NULL, on_closed, &seen);
	w8(THR, 'a');
	close(out[0]);
	for (int i = 0; i < 1000; i++) {
		ASSERT_TRUE(r8(LSR) & LSR_THRE);
		w8(THR, 'b');
	}
	ASSERT_EQ(seen.calls, 0); /* the callback runs on the loop */
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	ASSERT_EQ(seen.calls, 1);
	ASSERT_EQ(seen.error, -EPIPE);
	ASSERT_EQ(atomic_load(&uart_log_lines), 1);
	for (int i = 0; i < 100; i++)
		w8(THR, 'c');
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	ASSERT_EQ(seen.calls, 1);
	ASSERT_EQ(atomic_load(&uart_log_lines), 1);
	ASSERT_EQ(r8(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
	ASSERT_EQ(sigpending(&pending), 0);
	ASSERT_FALSE(sigismember(&pending, SIGPIPE));
	uart_off(u);
	vmc_set_log_handler(NULL, VMC_LOG_WARNING, NULL);
	close(out[1]);
}

/*
 * A socket that nobody reads: send(MSG_DONTWAIT), so the host's fd stays
 * blocking; THRE clears, and the bytes arrive once the peer reads.  A
 * peer that goes away is EPIPE through MSG_NOSIGNAL.  The input fd keeps
 * its flags too (libuv makes a polled fd O_NONBLOCK: on a terminal that
 * would reach the host's stdout).
 */
static void test_socket_and_flags(void)
{
	struct closed_seen seen = {0};
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;
	unsigned int sent = 0, got = 0;
	int sv[2], in[2], fl_out, fl_in;
	int64_t deadline;

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
	fl_out = fcntl(sv[0], F_GETFL);
	fl_in = fcntl(in[0], F_GETFL);
	vmc_uart16550_config_init(&c);
	c.vm = vm;
	c.in_fd = in[0];
	c.out_fd = sv[0];
	c.closed_cb = on_closed;
	c.userdata = &seen;
	ASSERT_OK(vmc_uart16550_new(&c, &u));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   BASE, vmc_uart16550_get_region(u),
					   0));
	ASSERT_EQ(fcntl(sv[0], F_GETFL), fl_out);
	ASSERT_EQ(fcntl(in[0], F_GETFL), fl_in);

	/* Input still works through the blocking fd. */
	w8(BASE + 2, 0x01); /* FIFO on */
	ASSERT_EQ(write(in[1], "hi", 2), 2);
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	ASSERT_EQ(r8(BASE), 'h');
	ASSERT_EQ(r8(BASE), 'i');

	while (r8(LSR) & LSR_THRE) {
		w8(THR, pattern(sent++));
		ASSERT_LT(sent, 16u << 20);
	}
	ASSERT_EQ(r8(LSR) & LSR_TEMT, 0);
	deadline = vmc_test_now_ns() + 10000000000ll;
	while (got < sent && vmc_test_now_ns() < deadline) {
		vmc_loop_run_once(loop, false);
		got = drain_some(sv[1], got, sent);
	}
	ASSERT_EQ(got, sent);
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	ASSERT_EQ(r8(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);

	ASSERT_TRUE(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	close(sv[1]);
	w8(THR, 'x');
	w8(THR, 'y');
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	ASSERT_EQ(seen.calls, 1);
	ASSERT_TRUE(seen.error == -EPIPE || seen.error == -ECONNRESET);
	uart_off(u);
	close(sv[0]);
	close(in[0]);
	close(in[1]);
}

/*
 * A terminal (a pty's slave, and its master): output arrives, and the
 * host's fd is not left O_NONBLOCK.
 */
static void test_terminal(void)
{
	struct vmc_uart16550 *u;
	struct termios tio;
	int master, slave, fl;
	char buf[64];
	int64_t deadline;
	size_t got = 0;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0) {
		fprintf(stderr, "no pty: skipped\n");
		return;
	}
	ASSERT_OK(grantpt(master));
	ASSERT_OK(unlockpt(master));
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_GE(slave, 0);
	/* Raw: bytes as written, in both directions. */
	ASSERT_OK(tcgetattr(slave, &tio));
	cfmakeraw(&tio);
	ASSERT_OK(tcsetattr(slave, TCSANOW, &tio));
	fl = fcntl(slave, F_GETFL);
	u = uart_on(slave, NULL, NULL, NULL);
	ASSERT_EQ(fcntl(slave, F_GETFL), fl);
	w8(THR, 'o');
	w8(THR, 'k');
	deadline = vmc_test_now_ns() + 5000000000ll;
	while (got < 2 && vmc_test_now_ns() < deadline) {
		struct pollfd p = {master, POLLIN, 0};
		ssize_t n;

		vmc_loop_run_once(loop, false);
		if (poll(&p, 1, 10) != 1)
			continue;
		n = read(master, buf + got, sizeof(buf) - got);
		ASSERT_GT(n, 0);
		got += (size_t)n;
	}
	ASSERT_EQ(got, 2);
	ASSERT_TRUE(memcmp(buf, "ok", 2) == 0);
	uart_off(u);

	/*
	 * The master end: never reopened (that would make a new pty), so
	 * written after poll(), a byte at a time.  The slave reads nothing:
	 * its input fills, THRE clears; then it reads, and all arrive.
	 */
	fl = fcntl(master, F_GETFL);
	u = uart_on(master, NULL, NULL, NULL);
	ASSERT_EQ(fcntl(master, F_GETFL), fl);
	{
		unsigned int sent = 0, rcvd = 0;

		while (r8(LSR) & LSR_THRE) {
			w8(THR, pattern(sent++));
			ASSERT_LT(sent, 16u << 20);
		}
		ASSERT_EQ(r8(LSR) & LSR_TEMT, 0);
		deadline = vmc_test_now_ns() + 10000000000ll;
		while (rcvd < sent && vmc_test_now_ns() < deadline) {
			vmc_loop_run_once(loop, false);
			rcvd = drain_some(slave, rcvd, sent);
		}
		ASSERT_EQ(rcvd, sent);
		fprintf(stderr, "%u bytes through a stalled pty master\n",
			sent);
	}
	uart_off(u);
	close(slave);
	close(master);
}

/* A reader that starts late: waits, then reads the pipe to its end. */
struct late_reader {
	int fd;
	unsigned int got;
};

static void *late_reader_main(void *arg)
{
	struct late_reader *r = arg;
	uint8_t buf[4096];
	ssize_t n;

	usleep(200000);
	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++, r->got++)
			if (buf[i] != pattern(r->got))
				return NULL;
	}
	return NULL;
}

/*
 * vmc_uart16550_free() with bytes still buffered: a reader that reads
 * gets them all; one that never reads costs a second and a log line.
 */
static void test_free_drains(void)
{
	struct late_reader reader = {0};
	struct vmc_uart16550 *u;
	pthread_t thread;
	unsigned int sent = 0;
	int64_t t0;
	int out[2];

	ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
	ASSERT_GE(fcntl(out[1], F_SETPIPE_SZ, 4096), 4096);
	u = uart_on(out[1], NULL, NULL, NULL);
	while (r8(LSR) & LSR_THRE)
		w8(THR, pattern(sent++));
	reader.fd = out[0];
	ASSERT_EQ(pthread_create(&thread, NULL, late_reader_main, &reader), 0);
	uart_off(u);
	close(out[1]);
	ASSERT_EQ(pthread_join(thread, NULL), 0);
	ASSERT_EQ(reader.got, sent);
	close(out[0]);

	ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
	ASSERT_GE(fcntl(out[1], F_SETPIPE_SZ, 4096), 4096);
	atomic_store(&uart_log_lines, 0);
	vmc_set_log_handler(count_log, VMC_LOG_WARNING, NULL);
	u = uart_on(out[1], NULL, NULL, NULL);
	while (r8(LSR) & LSR_THRE)
		w8(THR, 'x');
	t0 = vmc_test_now_ns();
	uart_off(u);
	ASSERT_LT(vmc_test_now_ns() - t0, 3000000000ll);
	ASSERT_EQ(atomic_load(&uart_log_lines), 1);
	vmc_set_log_handler(NULL, VMC_LOG_WARNING, NULL);
	close(out[0]);
	close(out[1]);
}

/* The fuzz target's body on pseudo-random inputs. */
static void test_fuzz_random(void)
{
	unsigned int seed = 17;
	long runs = vmc_test_scale(400);
	uint8_t buf[1024];

	for (long r = 0; r < runs; r++) {
		size_t n = (size_t)rand_r(&seed) % sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		uart_fuzz_one(loop, vm, buf, n);
	}
}

int main(void)
{
	struct vmc_vm_config c;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.flags = VMC_VM_DETERMINISTIC;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	mem = vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	RUN(test_errors);
	RUN(test_fds_and_stride);
	RUN(test_stalled_pipe);
	RUN(test_closed_reader);
	RUN(test_socket_and_flags);
	RUN(test_terminal);
	RUN(test_free_drains);
	RUN(test_fuzz_random);
	vmc_vm_unref(vm);
	/* The UART's memory is released with the last flat view. */
	vmc_loop_unref(loop);
	return 0;
}
