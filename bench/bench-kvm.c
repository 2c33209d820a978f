/* SPDX-License-Identifier: MIT */
/*
 * The KVM accelerator against raw ioctls on the same guests, in one run:
 *
 *   1. PIO exit round trip: libvmcore's dispatch vs a bare KVM_RUN loop
 *      (ratio of time per exit; target <= 1.03), for a region under the
 *      VM lock and for a lockless one.  Both sides time the same window,
 *      from the guest's first `out` to its last, so that VM setup and the
 *      first touches of guest pages (milliseconds each on nested hosts)
 *      stay out of it.
 *   2. ioeventfd-backed writes consumed by a loop handler vs the same
 *      guest under a bare KVM_RUN loop whose eventfd a second thread
 *      consumes with blocking read()s (ratio of rates; target >= 0.97).
 *      libvmcore runs with 50 us of adaptive loop polling
 *      (vmc_loop_set_poll_time) and without; a bare epoll consumer thread
 *      shows what any event loop costs the writer.  All time the guest
 *      from its DB_READY to its DB_DONE doorbell.
 *   3. create a VM with one vCPU and 64 KiB of RAM, run to the first HLT,
 *      destroy: libvmcore (with 50 us of halt polling, and without) vs the
 *      raw ioctl sequence (target <= 1.2), also with the KVM_SET_CPUID2
 *      that gives the raw vCPU the CPUID libvmcore's vCPUs have, and vs
 *      launching qemu-system-x86_64 on the same guest.  Both sides use
 *      anonymous memory for the RAM.
 *
 * Each figure is the median of the per-round ratios of 21 rounds (201 for
 * the lifecycle, whose rounds are short and whose spread on a loaded
 * nested host is wide), the two sides back to back, in alternating order,
 * so that drift on a noisy host hits both alike.  VMC_BENCH_ONLY=pio,
 * ioeventfd or life runs one part.
 */
#include <linux/kvm.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>

#include "../tests/kvm-guest.h"
#include "bench-stats.h"
#include "bench-raw-kvm.h"

static struct vmc_loop *loop;

/* ------------------------------------------------------------------------
 * The raw side: the same guest under bare ioctls.
 */
struct raw {
	int sys, vm, cpu;
	struct kvm_run *run;
	int run_size;
	uint8_t *mem;
	size_t mem_size;
};

static void raw_open(struct raw *r, size_t mem_size)
{
	struct kvm_userspace_memory_region m = {0};

	r->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	r->vm = ioctl(r->sys, KVM_CREATE_VM, 0);
	ioctl(r->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	r->mem_size = mem_size;
	r->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	m.memory_size = mem_size;
	m.userspace_addr = (uintptr_t)r->mem;
	if (r->vm < 0 || ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		FAIL("raw VM setup");
	r->cpu = ioctl(r->vm, KVM_CREATE_VCPU, 0);
	r->run_size = ioctl(r->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	r->run = mmap(NULL, (size_t)r->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, r->cpu, 0);
	if (r->cpu < 0 || r->run == MAP_FAILED)
		FAIL("raw vCPU setup");
}

static void raw_close(struct raw *r)
{
	munmap(r->run, (size_t)r->run_size);
	munmap(r->mem, r->mem_size);
	close(r->cpu);
	close(r->vm);
	close(r->sys);
}

/* Long mode by hand: the same tables and registers as the library's. */
static void raw_long_mode(struct raw *r, uint64_t test, uint64_t arg)
{
	struct kvm_regs regs = {.rip = GUEST_LOAD,
				.rsp = GUEST_STACK,
				.rflags = 2,
				.rdi = test,
				.rsi = arg};

	vmc_bench_raw_long_mode(r->sys, r->cpu, r->mem, "long64.bin", false,
				&regs);
}

/*
 * KVM_RUN until the guest rings DB_DONE (or halts); counts PIO exits.  If
 * @t is set: t[0] and t[1] get the times of the first and the last
 * ECHO_PORT exit, t[2] and t[3] those of DB_READY and DB_DONE.
 */
static long raw_run(struct raw *r, int64_t *t)
{
	long exits = 0;

	for (;;) {
		uint32_t v;

		if (ioctl(r->cpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			FAIL("raw KVM_RUN: %s", strerror(errno));
		}
		switch (r->run->exit_reason) {
		case KVM_EXIT_IO:
			exits++;
			v = *(uint32_t *)((uint8_t *)r->run +
					  r->run->io.data_offset);
			if (r->run->io.port == ECHO_PORT && t) {
				t[1] = vmc_test_now_ns();
				if (!t[0])
					t[0] = t[1];
			}
			if (r->run->io.port != DOORBELL_PORT)
				break;
			if (v == DB_READY && t)
				t[2] = vmc_test_now_ns();
			if (v == DB_DONE) {
				if (t)
					t[3] = vmc_test_now_ns();
				return exits;
			}
			break;
		case KVM_EXIT_HLT:
			return exits;
		default:
			FAIL("raw: exit %u", r->run->exit_reason);
		}
	}
}

/* ------------------------------------------------------------------------
 * 1. PIO round trip
 */
struct sink {
	uint64_t count;
	int64_t first, last;
};

static int sink_write(void *opaque, uint64_t offset, unsigned size,
		      uint64_t value)
{
	struct sink *s = opaque;

	s->last = vmc_test_now_ns();
	if (!s->count++)
		s->first = s->last;
	return 0;
}

static const struct vmc_region_ops sink_ops = {
	.struct_size = sizeof(struct vmc_region_ops),
	.write = sink_write,
	.min_access_size = 1,
	.max_access_size = 4,
};

struct consumer {
	uint64_t wakeups;
	bool done;
};

static void on_done(struct vmc_notifier *n, void *userdata)
{
	((struct consumer *)userdata)->done = true;
}

/*
 * Time from the first to the last of @n exits.  @flags: 0 (the callback
 * runs under the VM lock) or VMC_REGION_LOCKLESS (for device state that
 * only the vCPU thread touches, like this counter).
 */
static int64_t vmc_pio(long n, unsigned int flags)
{
	struct vmc_region *r;
	struct consumer c = {0};
	struct sink sink = {0};
	struct gvm g;

	gvm_init(&g, loop, 1, NULL);
	ASSERT_OK(vmc_region_new_io(vmc_vm_get_memory(g.vm), "sink", 4,
				    &sink_ops, &sink, flags, &r));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_IO),
					   ECHO_PORT, r, 0));
	ASSERT_OK(vmc_notifier_new(&g.done_notifier));
	ASSERT_OK(vmc_notifier_set_handler(g.done_notifier, loop, on_done, &c));
	gvm_setup_long(&g, GT_PIO_LOOP, (uint64_t)n);
	ASSERT_OK(vmc_vm_start(g.vm));
	while (!c.done)
		vmc_loop_run_once(loop, true);
	vmc_notifier_set_handler(g.done_notifier, loop, NULL, NULL);
	vmc_notifier_free(g.done_notifier);
	ASSERT_EQ_U64(sink.count, (uint64_t)n);
	gvm_free(&g);
	vmc_region_unref(r);
	return sink.last - sink.first;
}

static int64_t raw_pio(long n)
{
	int64_t t[4] = {0};
	struct raw r;
	long exits;

	raw_open(&r, GVM_RAM_SIZE);
	raw_long_mode(&r, GT_PIO_LOOP, (uint64_t)n);
	exits = raw_run(&r, t);
	ASSERT_EQ(exits, n + 1);
	raw_close(&r);
	return t[1] - t[0];
}

/* ------------------------------------------------------------------------
 * 2. ioeventfd writes
 */
static void on_notify(struct vmc_notifier *n, void *userdata)
{
	struct consumer *c = userdata;

	/* The loop has already consumed the eventfd's count for us. */
	c->wakeups++;
}

/* Time from DB_READY to DB_DONE; *wakeups: consumer wake-ups. */
static int64_t vmc_ioeventfd(long n, uint64_t *wakeups)
{
	struct vmc_region *r;
	struct vmc_notifier *nt;
	struct consumer c = {0};
	struct sink sink = {0};
	struct gvm g;

	gvm_init(&g, loop, 1, NULL);
	ASSERT_OK(vmc_region_new_io(vmc_vm_get_memory(g.vm), "ioev", 4,
				    &sink_ops, &sink, 0, &r));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
					   IOEVENT_MMIO, r, 0));
	ASSERT_OK(vmc_notifier_new(&nt));
	ASSERT_OK(vmc_notifier_set_handler(nt, loop, on_notify, &c));
	ASSERT_OK(vmc_region_add_ioeventfd(r, 0, 4, true, IOEVENT_MATCH, nt));
	ASSERT_OK(vmc_notifier_new(&g.done_notifier));
	ASSERT_OK(vmc_notifier_set_handler(g.done_notifier, loop, on_done, &c));
	gvm_setup_long(&g, GT_IOEVENT_LOOP, (uint64_t)n);
	ASSERT_OK(vmc_vm_start(g.vm));
	/* The loop sleeps, and consumes while the guest writes. */
	while (!c.done)
		vmc_loop_run_once(loop, true);
	vmc_notifier_set_handler(g.done_notifier, loop, NULL, NULL);
	vmc_notifier_free(g.done_notifier);
	ASSERT_EQ_U64(sink.count, 0);
	ASSERT_GT(c.wakeups, 0);
	ASSERT_EQ(atomic_load(&g.nr_db), 2);
	ASSERT_EQ(g.db[0], DB_READY);
	vmc_notifier_set_handler(nt, loop, NULL, NULL);
	gvm_free(&g);
	vmc_region_unref(r);
	vmc_notifier_free(nt);
	*wakeups = c.wakeups;
	return g.db_ns[1] - g.db_ns[0];
}

struct raw_consumer {
	int efd;
	bool epoll;
	uint64_t want, got, wakeups;
};

/*
 * The raw side's consumer: blocking reads until every write is seen, or
 * (c->epoll) an epoll_wait() + read() loop, which is what any event loop
 * does and costs the writer more: the epoll entry stays on the eventfd's
 * wait queue, so every guest write runs the epoll callback.
 */
static void *raw_consume(void *arg)
{
	struct raw_consumer *c = arg;
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = -1;

	if (c->epoll) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->efd, &ev) < 0)
			FAIL("raw consumer: epoll: %s", strerror(errno));
	}
	while (c->got < c->want) {
		uint64_t v;

		if (ep >= 0 && epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			FAIL("raw consumer: epoll_wait: %s", strerror(errno));
		}
		if (read(c->efd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
			if (errno == EINTR)
				continue;
			FAIL("raw consumer: %s", strerror(errno));
		}
		c->got += v;
		c->wakeups++;
	}
	if (ep >= 0)
		close(ep);
	return NULL;
}

static int64_t raw_ioeventfd(long n, bool epoll, uint64_t *wakeups)
{
	struct kvm_ioeventfd io = {.datamatch = IOEVENT_MATCH,
				   .addr = IOEVENT_MMIO,
				   .len = 4,
				   .flags = KVM_IOEVENTFD_FLAG_DATAMATCH};
	/* The guest's warm-up write, then @n. */
	struct raw_consumer c = {.want = (uint64_t)n + 1, .epoll = epoll};
	int64_t t[4] = {0};
	pthread_t th;
	struct raw r;

	raw_open(&r, GVM_RAM_SIZE);
	c.efd = eventfd(0, EFD_CLOEXEC);
	/* epoll_wait() can report a count a blocking read() then waits on
	 * only if another reader took it; there is none. */
	io.fd = c.efd;
	if (ioctl(r.vm, KVM_IOEVENTFD, &io) < 0)
		FAIL("raw KVM_IOEVENTFD");
	raw_long_mode(&r, GT_IOEVENT_LOOP, (uint64_t)n);
	ASSERT_OK(pthread_create(&th, NULL, raw_consume, &c));
	raw_run(&r, t);
	pthread_join(th, NULL);
	ASSERT_EQ_U64(c.got, (uint64_t)n + 1);
	close(c.efd);
	raw_close(&r);
	*wakeups = c.wakeups;
	return t[3] - t[2];
}

/* ------------------------------------------------------------------------
 * 3. Create, run to the first HLT, destroy
 */
#define LIFE_RAM 0x10000

static int64_t vmc_life(uint64_t halt_poll_ns)
{
	struct vmc_vm_config c;
	struct vmc_region *ram;
	struct vmc_vcpu *v;
	struct vmc_vm *vm;
	int64_t t0 = vmc_test_now_ns();
	uint8_t *mem;

	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_KVM;
	c.arch = VMC_ARCH_X86_64;
	c.loop = loop;
	c.halt_poll_ns = halt_poll_ns;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	/* The same anonymous memory as the raw side's. */
	mem = mmap(NULL, LIFE_RAM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_TRUE(mem != MAP_FAILED);
	ASSERT_OK(vmc_region_new_ram_ptr(vmc_vm_get_memory(vm), "ram", LIFE_RAM,
					 mem, 0, &ram));
	mem[GUEST_LOAD] = 0xf4; /* hlt */
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   0, ram, 0));
	v = vmc_vm_get_vcpu(vm, 0);
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_CS, 0));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_CS_BASE, 0));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RIP, GUEST_LOAD));
	ASSERT_OK(vmc_vm_start(vm));
	while (vmc_vcpu_get_state(v) != VMC_VCPU_HALTED)
		sched_yield();
	vmc_vm_unref(vm);
	vmc_region_unref(ram);
	munmap(mem, LIFE_RAM);
	return vmc_test_now_ns() - t0;
}

/*
 * The raw sequence.  With @cpuid it also gives the vCPU the host's
 * supported CPUID (fetched once per process, as libvmcore does), which
 * every VMM that runs a real guest does and libvmcore always does;
 * without it the vCPU reports no CPUID features at all.
 */
static struct kvm_cpuid2 *raw_cpuid;

static int64_t raw_life(bool cpuid)
{
	int64_t t0 = vmc_test_now_ns();
	struct kvm_regs regs;
	struct kvm_sregs s;
	struct raw r;

	raw_open(&r, LIFE_RAM);
	if (cpuid && ioctl(r.cpu, KVM_SET_CPUID2, raw_cpuid) < 0)
		FAIL("raw KVM_SET_CPUID2");
	r.mem[GUEST_LOAD] = 0xf4;
	ioctl(r.cpu, KVM_GET_SREGS, &s);
	s.cs.selector = 0;
	s.cs.base = 0;
	ioctl(r.cpu, KVM_SET_SREGS, &s);
	ioctl(r.cpu, KVM_GET_REGS, &regs);
	regs.rip = GUEST_LOAD;
	ioctl(r.cpu, KVM_SET_REGS, &regs);
	raw_run(&r, NULL);
	raw_close(&r);
	return vmc_test_now_ns() - t0;
}

static void raw_cpuid_init(void)
{
	int sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	raw_cpuid = calloc(1, sizeof(*raw_cpuid) +
				      256 * sizeof(raw_cpuid->entries[0]));
	raw_cpuid->nent = 256;
	if (sys < 0 || ioctl(sys, KVM_GET_SUPPORTED_CPUID, raw_cpuid) < 0)
		FAIL("KVM_GET_SUPPORTED_CPUID");
	close(sys);
}

/* A 64 KiB BIOS: at the reset vector, isa-debug-exit with 0, then hlt. */
static const char *write_bios(void)
{
	static char path[] = "/tmp/vmc-bench-bios-XXXXXX";
	static uint8_t bios[0x10000];
	/* mov $0x501, %dx; xor %al, %al; out %al, %dx; hlt */
	static const uint8_t code[] = {0xba, 0x01, 0x05, 0x30,
				       0xc0, 0xee, 0xf4};
	int fd = mkstemp(path);

	memset(bios, 0xf4, sizeof(bios));
	memcpy(bios + sizeof(bios) - 16, code, sizeof(code));
	if (fd < 0 || write(fd, bios, sizeof(bios)) != sizeof(bios))
		FAIL("cannot write %s", path);
	close(fd);
	return path;
}

static int64_t qemu_life(const char *bios)
{
	int64_t t0 = vmc_test_now_ns();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execlp("qemu-system-x86_64", "qemu-system-x86_64",
		       "-enable-kvm", "-machine", "pc", "-m", "1", "-bios",
		       bios, "-display", "none", "-nodefaults", "-device",
		       "isa-debug-exit,iobase=0x501", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return -1;
	return vmc_test_now_ns() - t0;
}

static bool want(const char *part)
{
	const char *only = getenv("VMC_BENCH_ONLY");

	return !only || !strcmp(only, part);
}

int main(void)
{
	enum { ROUNDS = 21, LROUNDS = 201, QROUNDS = 5 };
	int64_t a[LROUNDS], b[LROUNDS], q[QROUNDS];
	uint64_t wa[ROUNDS], wb[ROUNDS];
	long n_pio = 20000, n_ioev = 200000;
	int64_t mv, mr, mq = -1;
	double ratio;
	const char *bios;
	struct gvm probe;
	int r;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_test__scan_fds(vmc_test_fds_at_start);
	r = gvm_init_cfg(&probe, loop, 1, NULL);
	if (r == -ENODEV || r == -EOPNOTSUPP)
		SKIP("KVM is not usable here");
	gvm_free(&probe);

	if (want("pio")) {
		int64_t c[ROUNDS], d[ROUNDS];
		double ratio_l;

		/* Warm up both paths. */
		vmc_pio(1000, 0);
		raw_pio(1000);
		/* Odd rounds run the raw side first, against order effects. */
		for (int i = 0; i < ROUNDS; i++) {
			if (i & 1) {
				b[i] = raw_pio(n_pio);
				a[i] = vmc_pio(n_pio, 0);
				d[i] = raw_pio(n_pio);
				c[i] = vmc_pio(n_pio, VMC_REGION_LOCKLESS);
			} else {
				a[i] = vmc_pio(n_pio, 0);
				b[i] = raw_pio(n_pio);
				c[i] = vmc_pio(n_pio, VMC_REGION_LOCKLESS);
				d[i] = raw_pio(n_pio);
			}
		}
		ratio = vmc_bench_paired_ratio(a, b, ROUNDS);
		ratio_l = vmc_bench_paired_ratio(c, d, ROUNDS);
		mv = vmc_bench_median(a, ROUNDS);
		mr = vmc_bench_median(b, ROUNDS);
		printf("pio round trip: libvmcore %.3f us/exit, raw KVM_RUN "
		       "%.3f us/exit (medians), ratio %.3f (target <= 1.03)\n",
		       mv / 1e3 / (n_pio - 1), mr / 1e3 / (n_pio - 1), ratio);
		printf("  lockless region: libvmcore %.3f us/exit, raw %.3f "
		       "us/exit, ratio %.3f\n",
		       vmc_bench_median(c, ROUNDS) / 1e3 / (n_pio - 1),
		       vmc_bench_median(d, ROUNDS) / 1e3 / (n_pio - 1),
		       ratio_l);
	}

	if (want("ioeventfd")) {
		int64_t c[ROUNDS], d[ROUNDS];
		uint64_t wc[ROUNDS], wd[ROUNDS];

		/*
		 * libvmcore's loop handler, with adaptive polling (50 us)
		 * and without; the raw kernel rate with a blocking read()
		 * thread, and with a bare epoll loop thread.
		 */
		for (int i = 0; i < ROUNDS; i++) {
			if (i & 1) {
				b[i] = raw_ioeventfd(n_ioev, false, &wb[i]);
				d[i] = raw_ioeventfd(n_ioev, true, &wd[i]);
			}
			vmc_loop_set_poll_time(loop, 50000);
			a[i] = vmc_ioeventfd(n_ioev, &wa[i]);
			vmc_loop_set_poll_time(loop, 0);
			c[i] = vmc_ioeventfd(n_ioev, &wc[i]);
			if (!(i & 1)) {
				b[i] = raw_ioeventfd(n_ioev, false, &wb[i]);
				d[i] = raw_ioeventfd(n_ioev, true, &wd[i]);
			}
		}
		ratio = vmc_bench_paired_ratio(b, a, ROUNDS);
		mv = vmc_bench_median(a, ROUNDS);
		mr = vmc_bench_median(b, ROUNDS);
		printf("ioeventfd writes, consumed: libvmcore %.3f Mwrites/s "
		       "(loop handler, polling 50 us, %.1f writes/wake-up), "
		       "raw %.3f Mwrites/s (read() thread, %.1f "
		       "writes/wake-up), ratio %.3f (target >= 0.97)\n",
		       n_ioev / (mv / 1e3), (double)n_ioev / (double)wa[0],
		       n_ioev / (mr / 1e3), (double)n_ioev / (double)wb[0],
		       ratio);
		printf("  without polling: libvmcore %.3f Mwrites/s (%.1f "
		       "writes/wake-up), ratio %.3f to the read() thread; a "
		       "bare epoll thread %.3f Mwrites/s (%.1f "
		       "writes/wake-up), "
		       "ratio %.3f to the read() thread, libvmcore/epoll "
		       "%.3f\n",
		       n_ioev / (vmc_bench_median(c, ROUNDS) / 1e3),
		       (double)n_ioev / (double)wc[0],
		       vmc_bench_paired_ratio(b, c, ROUNDS),
		       n_ioev / (vmc_bench_median(d, ROUNDS) / 1e3),
		       (double)n_ioev / (double)wd[0],
		       vmc_bench_paired_ratio(b, d, ROUNDS),
		       vmc_bench_paired_ratio(d, c, ROUNDS));
	}

	if (want("life")) {
		int64_t c[LROUNDS], e[LROUNDS];
		double ratio_c, ratio_e, ratio_ec;

		/*
		 * libvmcore with 50 us of halt polling (the vCPU thread
		 * notices the start and the teardown without being woken)
		 * and with the default, none.
		 */
		raw_cpuid_init();
		vmc_life(50000);
		vmc_life(0);
		raw_life(false);
		raw_life(true);
		for (int i = 0; i < LROUNDS; i++) {
			if (i & 1) {
				b[i] = raw_life(false);
				c[i] = raw_life(true);
				e[i] = vmc_life(0);
				a[i] = vmc_life(50000);
			} else {
				a[i] = vmc_life(50000);
				e[i] = vmc_life(0);
				b[i] = raw_life(false);
				c[i] = raw_life(true);
			}
		}
		ratio = vmc_bench_paired_ratio(a, b, LROUNDS);
		ratio_c = vmc_bench_paired_ratio(a, c, LROUNDS);
		ratio_e = vmc_bench_paired_ratio(e, b, LROUNDS);
		ratio_ec = vmc_bench_paired_ratio(e, c, LROUNDS);
		mv = vmc_bench_median(a, LROUNDS);
		mr = vmc_bench_median(b, LROUNDS);
		bios = write_bios();
		for (int i = 0; i < QROUNDS; i++)
			q[i] = qemu_life(bios);
		unlink(bios);
		if (q[0] >= 0)
			mq = vmc_bench_median(q, QROUNDS);
		printf("create/run to HLT/destroy: libvmcore %.3f ms (halt "
		       "polling 50 us), raw %.3f ms (medians), ratio %.3f "
		       "(target <= 1.2)\n",
		       mv / 1e6, mr / 1e6, ratio);
		printf("  raw with KVM_SET_CPUID2 (libvmcore's vCPU setup): "
		       "%.3f ms, ratio %.3f\n",
		       vmc_bench_median(c, LROUNDS) / 1e6, ratio_c);
		printf("  without halt polling: libvmcore %.3f ms, ratio %.3f, "
		       "%.3f with KVM_SET_CPUID2\n",
		       vmc_bench_median(e, LROUNDS) / 1e6, ratio_e, ratio_ec);
		/*
		 * The kernel's share (SRCU grace periods at memslot changes
		 * and VM teardown) swings by milliseconds with the host's
		 * load; the fastest tenth of each side shows what a quiet
		 * host costs.
		 */
		vmc_bench_sort(a, LROUNDS);
		vmc_bench_sort(b, LROUNDS);
		vmc_bench_sort(c, LROUNDS);
		vmc_bench_sort(e, LROUNDS);
		printf("  fastest tenth of rounds: libvmcore %.3f ms (%.3f "
		       "without halt polling), raw %.3f ms (%.3f with "
		       "KVM_SET_CPUID2), ratio %.3f\n",
		       a[LROUNDS / 10] / 1e6, e[LROUNDS / 10] / 1e6,
		       b[LROUNDS / 10] / 1e6, c[LROUNDS / 10] / 1e6,
		       (double)a[LROUNDS / 10] / (double)c[LROUNDS / 10]);
		if (mq >= 0)
			printf("  qemu-system-x86_64 launch on the same guest: "
			       "%.1f ms, libvmcore/qemu %.4f\n",
			       mq / 1e6, (double)mv / (double)mq);
		else
			printf("  qemu-system-x86_64 not runnable here\n");
		free(raw_cpuid);
	}
	vmc_loop_unref(loop);
	return 0;
}
