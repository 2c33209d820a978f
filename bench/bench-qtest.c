/* SPDX-License-Identifier: MIT */
/*
 * A device-model test in harness mode against the same test sent over
 * QEMU's qtest protocol to a paused QEMU, measured in the same run.
 *
 * The test is one fixed sequence of accesses to a virtio-rng device on a
 * modern virtio-mmio transport at 0x10008000 (the last slot of QEMU's virt
 * board) with RAM at 0x80000000: read magic, version and device ID; reset;
 * ACKNOWLEDGE, DRIVER; read the device features, write VERSION_1,
 * FEATURES_OK; set up queue 0 with its descriptor table, available and used
 * rings in guest RAM written by the test; DRIVER_OK; post one 16-byte
 * writable buffer; notify; wait for the used ring; read and acknowledge the
 * interrupt.  Each sequence checks that the used length is 16 and the
 * buffer (cleared first) is not all zero, so neither side can skip work.
 *
 *  harness: libvmcore's harness accelerator, accesses through
 *           vmc_as_read()/vmc_as_write() on the VM's memory address space.
 *  qtest:   qemu-system-riscv64 -M virt -display none -S -qtest unix:PATH
 *           -device virtio-rng-device, one text command per access.
 *
 * The sides alternate in ROUNDS rounds of SEQUENCES sequences each; the
 * figures are medians over the rounds (the ratio: of the per-round ratios).
 * Target: harness >= 100x faster per sequence.  Skips (77) without
 * qemu-system-riscv64 ($QEMU overrides the binary).
 * Usage: bench-qtest [SEQUENCES] (default 100).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#define SKIP 77
#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x100000ull
#define DEV_BASE 0x10008000ull
#define DESC_GPA (RAM_BASE + 0x1000)
#define AVAIL_GPA (RAM_BASE + 0x2000)
#define USED_GPA (RAM_BASE + 0x3000)
#define BUF_GPA (RAM_BASE + 0x4000)
#define QSIZE 8
#define REQ_LEN 16
#define ROUNDS 7

enum {
	R_MAGIC = 0x000,
	R_VERSION = 0x004,
	R_DEVICE_ID = 0x008,
	R_DEV_FEAT = 0x010,
	R_DEV_FEAT_SEL = 0x014,
	R_DRV_FEAT = 0x020,
	R_DRV_FEAT_SEL = 0x024,
	R_QSEL = 0x030,
	R_QNUM_MAX = 0x034,
	R_QNUM = 0x038,
	R_QREADY = 0x044,
	R_NOTIFY = 0x050,
	R_ISR = 0x060,
	R_ACK = 0x064,
	R_STATUS = 0x070,
	R_DESC_LO = 0x080,
	R_DESC_HI = 0x084,
	R_AVAIL_LO = 0x090,
	R_AVAIL_HI = 0x094,
	R_USED_LO = 0x0a0,
	R_USED_HI = 0x0a4,
};

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

/* How the test reaches the machine: the only thing the two sides differ in.
 */
struct bus {
	const char *name;
	uint32_t (*readl)(uint64_t addr);
	void (*writel)(uint64_t addr, uint32_t v);
	void (*read)(uint64_t addr, void *buf, size_t len);
	void (*write)(uint64_t addr, const void *buf, size_t len);
	/* Let the device make progress while the test waits. */
	void (*idle)(void);
	/* Is the interrupt line up?  -1: not observable on this bus. */
	int (*irq_level)(void);
};

static void die(const char *what)
{
	fprintf(stderr, "bench-qtest: %s\n", what);
	exit(1);
}

#define CHECK(bus, cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "bench-qtest: %s: line %d: %s\n",      \
				(bus)->name, __LINE__, #cond);                 \
			exit(1);                                               \
		}                                                              \
	} while (0)

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ------------------------------------------------------------------------
 * The sequence
 */

/* Polls of the used ring, to show how long each side made the test wait. */
static long polls;

static void sequence(const struct bus *b)
{
	uint8_t desc[16], avail[6], used[12], buf[REQ_LEN];
	uint32_t f;
	bool nonzero = false;
	int spins = 0;

	CHECK(b, b->readl(DEV_BASE + R_MAGIC) == 0x74726976);
	CHECK(b, b->readl(DEV_BASE + R_VERSION) == 2);
	CHECK(b, b->readl(DEV_BASE + R_DEVICE_ID) == 4);

	b->writel(DEV_BASE + R_STATUS, 0);
	CHECK(b, b->readl(DEV_BASE + R_STATUS) == 0);
	b->writel(DEV_BASE + R_STATUS, S_ACK);
	b->writel(DEV_BASE + R_STATUS, S_ACK | S_DRIVER);

	b->writel(DEV_BASE + R_DEV_FEAT_SEL, 1);
	f = b->readl(DEV_BASE + R_DEV_FEAT);
	CHECK(b, f & 1); /* VERSION_1 */
	b->writel(DEV_BASE + R_DRV_FEAT_SEL, 0);
	b->writel(DEV_BASE + R_DRV_FEAT, 0);
	b->writel(DEV_BASE + R_DRV_FEAT_SEL, 1);
	b->writel(DEV_BASE + R_DRV_FEAT, 1);
	b->writel(DEV_BASE + R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	CHECK(b, b->readl(DEV_BASE + R_STATUS) ==
			 (S_ACK | S_DRIVER | S_FEATURES_OK));

	/* The rings: one writable descriptor, posted; used ring cleared. */
	put_le(desc, BUF_GPA, 8);
	put_le(desc + 8, REQ_LEN, 4);
	put_le(desc + 12, 2 /* WRITE */, 2);
	put_le(desc + 14, 0, 2);
	b->write(DESC_GPA, desc, sizeof(desc));
	put_le(avail, 0, 2);	 /* flags */
	put_le(avail + 2, 1, 2); /* idx */
	put_le(avail + 4, 0, 2); /* ring[0] = head 0 */
	b->write(AVAIL_GPA, avail, sizeof(avail));
	memset(used, 0, sizeof(used));
	b->write(USED_GPA, used, sizeof(used));
	memset(buf, 0, sizeof(buf));
	b->write(BUF_GPA, buf, sizeof(buf));

	b->writel(DEV_BASE + R_QSEL, 0);
	CHECK(b, b->readl(DEV_BASE + R_QNUM_MAX) >= QSIZE);
	b->writel(DEV_BASE + R_QNUM, QSIZE);
	CHECK(b, b->readl(DEV_BASE + R_QREADY) == 0);
	b->writel(DEV_BASE + R_DESC_LO, (uint32_t)DESC_GPA);
	b->writel(DEV_BASE + R_DESC_HI, (uint32_t)(DESC_GPA >> 32));
	b->writel(DEV_BASE + R_AVAIL_LO, (uint32_t)AVAIL_GPA);
	b->writel(DEV_BASE + R_AVAIL_HI, (uint32_t)(AVAIL_GPA >> 32));
	b->writel(DEV_BASE + R_USED_LO, (uint32_t)USED_GPA);
	b->writel(DEV_BASE + R_USED_HI, (uint32_t)(USED_GPA >> 32));
	b->writel(DEV_BASE + R_QREADY, 1);
	b->writel(DEV_BASE + R_STATUS,
		  S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);

	/* The request: notify, wait for the used ring. */
	b->writel(DEV_BASE + R_NOTIFY, 0);
	for (;;) {
		b->read(USED_GPA, used, 8);
		polls++;
		if (get_le(used + 2, 2) == 1)
			break;
		CHECK(b, ++spins < 1000000);
		b->idle();
	}
	CHECK(b, get_le(used + 4, 4) == 0); /* id: head 0 */
	b->read(USED_GPA + 8, used + 8, 4);
	CHECK(b, get_le(used + 8, 4) == REQ_LEN);
	b->read(BUF_GPA, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		nonzero |= buf[i] != 0;
	CHECK(b, nonzero);

	/* The interrupt: the used-buffer bit, acknowledged. */
	CHECK(b, b->irq_level() != 0);
	CHECK(b, b->readl(DEV_BASE + R_ISR) == 1);
	b->writel(DEV_BASE + R_ACK, 1);
	CHECK(b, b->readl(DEV_BASE + R_ISR) == 0);
	CHECK(b, b->irq_level() <= 0);
}

/* ------------------------------------------------------------------------
 * Harness side
 */

static struct vmc_loop *h_loop;
static struct vmc_address_space *h_as;
static bool h_irq;

static void h_on_irq(void *opaque, unsigned int n, bool level)
{
	h_irq = level;
}

static uint32_t h_readl(uint64_t addr)
{
	uint32_t v = 0xffffffff;

	if (vmc_as_read(h_as, addr, &v, 4) < 0)
		die("harness: read failed");
	return v;
}

static void h_writel(uint64_t addr, uint32_t v)
{
	if (vmc_as_write(h_as, addr, &v, 4) < 0)
		die("harness: write failed");
}

static void h_read(uint64_t addr, void *buf, size_t len)
{
	if (vmc_as_read(h_as, addr, buf, len) < 0)
		die("harness: read failed");
}

static void h_write(uint64_t addr, const void *buf, size_t len)
{
	if (vmc_as_write(h_as, addr, buf, len) < 0)
		die("harness: write failed");
}

static void h_idle(void)
{
	if (vmc_loop_run_once(h_loop, false) < 0)
		die("harness: loop failed");
}

static int h_irq_level(void)
{
	return h_irq;
}

static const struct bus harness_bus = {
	.name = "harness",
	.readl = h_readl,
	.writel = h_writel,
	.read = h_read,
	.write = h_write,
	.idle = h_idle,
	.irq_level = h_irq_level,
};

/* ------------------------------------------------------------------------
 * qtest side: one command line, one answer line, per access
 */

static int q_fd = -1;
static pid_t q_pid = -1;
static char q_sock[108], *q_dir;
static char q_buf[4096];
static size_t q_len;

/* Send @cmd and return the answer line (without "OK "), in a static buf. */
static const char *q_cmd(const char *cmd)
{
	static char line[4096];
	size_t n = strlen(cmd);

	while (n) {
		ssize_t w = write(q_fd, cmd, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("qtest: write failed");
		cmd += w;
		n -= (size_t)w;
	}
	for (;;) {
		char *nl = memchr(q_buf, '\n', q_len);
		ssize_t r;

		if (nl) {
			size_t l = (size_t)(nl - q_buf);

			if (l >= sizeof(line))
				die("qtest: answer too long");
			memcpy(line, q_buf, l);
			line[l] = 0;
			q_len -= l + 1;
			memmove(q_buf, nl + 1, q_len);
			if (strncmp(line, "IRQ", 3) == 0)
				continue; /* asynchronous event, not ours */
			if (strncmp(line, "OK", 2) != 0) {
				fprintf(stderr, "bench-qtest: qtest: %s\n",
					line);
				exit(1);
			}
			return line[2] == ' ' ? line + 3 : line + 2;
		}
		if (q_len == sizeof(q_buf))
			die("qtest: answer too long");
		r = read(q_fd, q_buf + q_len, sizeof(q_buf) - q_len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("qtest: QEMU closed the connection");
		q_len += (size_t)r;
	}
}

static uint32_t q_readl(uint64_t addr)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "readl 0x%" PRIx64 "\n", addr);
	return (uint32_t)strtoull(q_cmd(cmd), NULL, 0);
}

static void q_writel(uint64_t addr, uint32_t v)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "writel 0x%" PRIx64 " 0x%" PRIx32 "\n", addr,
		 v);
	q_cmd(cmd);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void q_read(uint64_t addr, void *buf, size_t len)
{
	char cmd[64];
	const char *a;
	uint8_t *p = buf;

	snprintf(cmd, sizeof(cmd), "read 0x%" PRIx64 " 0x%zx\n", addr, len);
	a = q_cmd(cmd);
	if (strncmp(a, "0x", 2) != 0 || strlen(a) != 2 + 2 * len)
		die("qtest: bad read answer");
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(a[2 + 2 * i]), lo = hexval(a[3 + 2 * i]);

		if (hi < 0 || lo < 0)
			die("qtest: bad read answer");
		p[i] = (uint8_t)(hi << 4 | lo);
	}
}

static void q_write(uint64_t addr, const void *buf, size_t len)
{
	char cmd[128 + 2 * 64];
	const uint8_t *p = buf;
	int n;

	if (len > 64)
		die("qtest: write too long");
	n = snprintf(cmd, sizeof(cmd), "write 0x%" PRIx64 " 0x%zx 0x", addr,
		     len);
	for (size_t i = 0; i < len; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, "%02x", p[i]);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, "\n");
	q_cmd(cmd);
}

/*
 * QEMU's rng backend answers from its main loop, which runs between any two
 * commands; the next poll of the used ring is all the waiting needed.
 * (clock_step needs the qtest accelerator, which distribution builds may
 * lack; the virtio-rng device does not need virtual time to advance.)
 */
static void q_idle(void)
{
}

static int q_irq_level(void)
{
	return -1; /* not intercepted: the ISR register is checked instead */
}

static const struct bus qtest_bus = {
	.name = "qtest",
	.readl = q_readl,
	.writel = q_writel,
	.read = q_read,
	.write = q_write,
	.idle = q_idle,
	.irq_level = q_irq_level,
};

static bool have_qemu(const char *qemu)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(qemu, '/'))
		return access(qemu, X_OK) == 0;
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t l = end ? (size_t)(end - path) : strlen(path);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, path, qemu);
		if (access(buf, X_OK) == 0)
			return true;
		path = end ? end + 1 : NULL;
	}
	return false;
}

/*
 * QEMU's virtio-rng serves no request while the VM is stopped (-S), so the
 * VM runs, with its one vCPU parked: -bios none enters RAM at 0x80000000,
 * where the loader puts `1: wfi; j 1b` (interrupts all disabled, so the
 * vCPU sleeps there for good).  The test's rings start at 0x80001000.
 */
#define PARK_LOADER "loader,addr=0x80000000,data=0xffdff06f10500073,data-len=8"

static void q_stop(void);

static void q_start(const char *qemu, char *dir)
{
	pid_t pid;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char arg[sizeof(sa.sun_path) + 16];
	struct pollfd pfd;
	int lfd;

	if (!mkdtemp(dir))
		die("mkdtemp failed");
	q_dir = dir;
	atexit(q_stop);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qtest.sock", dir);
	snprintf(q_sock, sizeof(q_sock), "%s", sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 1) < 0)
		die("qtest: cannot listen");
	snprintf(arg, sizeof(arg), "unix:%s", sa.sun_path);
	pid = fork();
	if (pid < 0)
		die("fork failed");
	if (pid > 0)
		q_pid = pid;
	if (pid == 0) {
		execlp(qemu, qemu, "-M", "virt", "-display", "none", "-device",
		       PARK_LOADER, "-qtest", arg, "-qtest-log", "/dev/null",
		       "-nodefaults", "-bios", "none", "-global",
		       "virtio-mmio.force-legacy=false", "-device",
		       "virtio-rng-device", (char *)NULL);
		_exit(127);
	}
	pfd = (struct pollfd){.fd = lfd, .events = POLLIN};
	for (int i = 0;; i++) {
		if (poll(&pfd, 1, 100) == 1)
			break;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			q_pid = -1;
			die("qtest: QEMU exited");
		}
		if (i == 300)
			die("qtest: QEMU did not connect");
	}
	q_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (q_fd < 0)
		die("qtest: accept failed");
	close(lfd);
}

/*
 * Stop QEMU before hanging up (it complains about a vanished client); also
 * run at exit, so that a failed check leaves no QEMU behind.
 */
static void q_stop(void)
{
	if (q_pid > 0) {
		kill(q_pid, SIGTERM);
		waitpid(q_pid, NULL, 0);
		q_pid = -1;
	}
	if (q_fd >= 0)
		close(q_fd);
	q_fd = -1;
	if (q_sock[0])
		unlink(q_sock);
	q_sock[0] = 0;
	if (q_dir)
		rmdir(q_dir);
	q_dir = NULL;
}

/* ------------------------------------------------------------------------
 * Timing
 */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

/* Time @n sequences on @b: ns per sequence; adds the polls to @polls_sum. */
static double run(const struct bus *b, int n, long *polls_sum)
{
	double t0, t;

	polls = 0;
	t0 = now_ns();
	for (int i = 0; i < n; i++)
		sequence(b);
	t = (now_ns() - t0) / n;
	*polls_sum += polls;
	return t;
}

int main(int argc, char **argv)
{
	const char *qemu =
		getenv("QEMU") ? getenv("QEMU") : "qemu-system-riscv64";
	int n = argc > 1 ? atoi(argv[1]) : 100;
	char dir[] = "/tmp/bench-qtest.XXXXXX";
	struct vmc_vm_config vc;
	struct vmc_vm *vm;
	struct vmc_region *ram;
	struct vmc_irq *irq;
	struct vmc_virtio_rng_config rc;
	struct vmc_virtio_rng *rng;
	double th[ROUNDS], tq[ROUNDS], ratio[ROUNDS];
	long ph = 0, pq = 0;

	if (n <= 0)
		die("usage: bench-qtest [SEQUENCES]");
	if (!have_qemu(qemu)) {
		printf("bench-qtest: %s not found: skipped\n", qemu);
		return SKIP;
	}

	/* Harness: RAM and a virtio-rng at QEMU's addresses. */
	if (vmc_loop_new(&h_loop) < 0)
		die("loop");
	vmc_vm_config_init(&vc);
	vc.accel = VMC_ACCEL_HARNESS;
	vc.flags = VMC_VM_DETERMINISTIC;
	vc.loop = h_loop;
	if (vmc_vm_new(&vc, &vm) < 0)
		die("harness vm");
	h_as = vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	if (vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", RAM_SIZE, 0,
			       &ram) < 0 ||
	    vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
				     RAM_BASE, ram, 0) < 0)
		die("harness ram");
	if (vmc_irq_new(h_on_irq, NULL, 1, &irq) < 0)
		die("harness irq");
	vmc_virtio_rng_config_init(&rc);
	rc.vm = vm;
	rc.irq = irq;
	if (vmc_virtio_rng_new(&rc, &rng) < 0 ||
	    vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
				     DEV_BASE, vmc_virtio_rng_get_region(rng),
				     0) < 0)
		die("harness rng");
	vmc_vm_start(vm);

	q_start(qemu, dir);

	/* Warm-up, and the check that each side works at all. */
	sequence(&harness_bus);
	sequence(&qtest_bus);
	for (int r = 0; r < ROUNDS; r++) {
		th[r] = run(&harness_bus, n, &ph);
		tq[r] = run(&qtest_bus, n, &pq);
		ratio[r] = tq[r] / th[r];
	}

	q_stop();
	vmc_region_remove_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
				    vmc_virtio_rng_get_region(rng));
	vmc_virtio_rng_free(rng);
	vmc_irq_free(irq);
	vmc_region_remove_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY), ram);
	vmc_region_unref(ram);
	vmc_vm_unref(vm);
	vmc_loop_unref(h_loop);

	printf("bench-qtest: virtio-rng sequence, median of %d rounds of %d "
	       "sequences per side\n",
	       ROUNDS, n);
	printf("  harness: %10.1f us/sequence (%.1f used-ring polls)\n",
	       median(th, ROUNDS) / 1e3, (double)ph / (ROUNDS * n));
	printf("  qtest:   %10.1f us/sequence (%.1f used-ring polls)\n",
	       median(tq, ROUNDS) / 1e3, (double)pq / (ROUNDS * n));
	printf("  ratio:   %10.1fx faster in harness mode (target >= 100x): "
	       "%s\n",
	       median(ratio, ROUNDS),
	       median(ratio, ROUNDS) >= 100 ? "met" : "NOT met");
	return 0;
}
