/* SPDX-License-Identifier: MIT */
/*
 * virtio notify -> completion round trip on KVM against raw ioctls, in
 * one run.  Both sides run the same bare-metal long-mode driver
 * (tests/guest/x86/virtio64.S): per request, one QueueNotify write that
 * the kernel matches to an ioeventfd, a used ring entry written by a host
 * thread, and the completion interrupt through an irqfd on a
 * level-triggered I/O APIC pin (resamplefd re-asserts the line while
 * InterruptStatus is still set), whose handler reads and acknowledges
 * InterruptStatus (one MMIO exit each) and EOIs.
 *
 *   vmc:  a vmc_virtio transport (device ID 4) whose queue_notify pops
 *         the chain and pushes it back with 0 bytes written (an empty
 *         request), on the loop thread, and on an I/O thread raising its
 *         irqfd line directly (irq_any_thread) and handling the line's
 *         resamples (vmc_kvm_irqfd_line_set_iothread());
 *   raw:  a bare KVM VM with KVM_CREATE_IRQCHIP, KVM_IOEVENTFD on
 *         QueueNotify, KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE, a host
 *         thread poll()ing the ioeventfd and the resamplefd that writes
 *         the used entry and signals the irqfd (once per interrupt: it
 *         tracks the assertion as the library's line does), and the vCPU
 *         thread's KVM_RUN loop emulating the handful of registers the
 *         guest reads (the same MMIO exits as on the vmc side).
 *
 * Both sides: two threads busy (vCPU, device; the I/O thread side's VM
 * loop stays asleep), same guest, same level interrupt with resampling,
 * same syscalls per request (two reads, one irqfd write, two
 * poll/epoll_wait, two KVM_RUN).  The bench prints each side's counts
 * per request so that this can be checked.
 *
 * Two figures per side and round: the wall clock from the guest's
 * DB_READY doorbell to its DB_DONE over the requests (VM setup stays
 * out), and the guest's own median round trip (TSC, from just before
 * QueueNotify to the end of its wait, virtio64.S).  On a loaded host the
 * wall clock is dominated by the requests that wait for a CPU; the median
 * round trip is what a request costs when it does not.  The sides run
 * back to back in rotating order; each ratio is the median (with p10 and
 * p90) of the per-round ratios.  Target: <= 1.1.  Skips (77) without a
 * usable /dev/kvm or without KVM_CAP_IRQFD_RESAMPLE.
 *
 * Options: --rounds N, --requests N, --only raw|loop|io (one side alone,
 * for perf stat or strace -f -c), --edge (both sides with the pin
 * edge-triggered and irqfds without resampling: no resample wakeup per
 * request; the figure is the level one).
 */
#include <dirent.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include "../tests/kvm-guest.h"
#include "bench-stats.h"
#include "bench-raw-kvm.h"

#define VQ_AVAIL 0x31000
#define VQ_USED 0x32000
#define VQ_NUM 8

static struct vmc_loop *loop;
/* --edge: the pin edge-triggered, irqfds without resampling, both sides. */
static bool edge;

/*
 * What one side did, for checking that both do the same work: context
 * switches of every thread of the process (the sides run one at a time),
 * and the side's own wakeup and signal counts.  Totals over the run,
 * VM setup included (a few dozen, against thousands of requests).
 */
struct side_counts {
	uint64_t vcsw, ivcsw;
	uint64_t wakeups;   /* notifications handled (ioeventfd reads) */
	uint64_t irq_sigs;  /* irqfd writes */
	uint64_t resamples; /* resamplefd signals handled */
	uint64_t mmio;	    /* MMIO exits to userspace */
	uint64_t irqs;	    /* interrupts the guest took */
	int64_t cpu_ns;	    /* CPU time of the process, kernel included */
	/* the guest's own per-request round trips, TSC ticks */
	int64_t lat_p10, lat_med, lat_p90;
};

/* The guest's round trips (virtio64.S, VIO_LAT) into @c. */
static void read_latencies(struct side_counts *c, const uint8_t *mem,
			   uint64_t n)
{
	static int64_t v[VIO_LAT_MAX];
	int k = n < VIO_LAT_MAX ? (int)n : VIO_LAT_MAX;

	for (int i = 0; i < k; i++) {
		uint32_t t;

		memcpy(&t, mem + VIO_LAT + 4 * (size_t)i, 4);
		v[i] = t;
	}
	vmc_bench_sort(v, k);
	c->lat_p10 = v[k / 10];
	c->lat_med = v[k / 2];
	c->lat_p90 = v[k - 1 - k / 10];
}

static int64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void ctxsw_read(uint64_t *vol, uint64_t *invol)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	*vol = *invol = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], line[128];
		unsigned long long v;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) ==
			    1)
				*vol += v;
			else if (sscanf(line,
					"nonvoluntary_ctxt_switches: %llu",
					&v) == 1)
				*invol += v;
		}
		fclose(f);
	}
	closedir(d);
}

static void ctxsw_begin(struct side_counts *c)
{
	ctxsw_read(&c->vcsw, &c->ivcsw);
	c->cpu_ns = cpu_now_ns();
}

static void ctxsw_end(struct side_counts *c)
{
	uint64_t v, i;

	c->cpu_ns = cpu_now_ns() - c->cpu_ns;
	ctxsw_read(&v, &i);
	c->vcsw = v - c->vcsw;
	c->ivcsw = i - c->ivcsw;
}

/* ------------------------------------------------------------------------
 * The vmc side.
 */
static void empty_notify(void *opaque, struct vmc_virtq *vq)
{
	struct vmc_virtq_elem *e;

	while (vmc_virtq_pop(vq, &e) == 1)
		vmc_virtq_push(vq, e, 0);
	vmc_virtq_notify(vq);
}

static const struct vmc_virtio_ops empty_ops = {
	.struct_size = sizeof(struct vmc_virtio_ops),
	.queue_notify = empty_notify,
};

static void on_done(struct vmc_notifier *n, void *userdata)
{
	*(bool *)userdata = true;
}

static void setup_guest(struct vmc_vcpu *v, uint8_t *mem, uint64_t requests)
{
	gvm_load("virtio64.bin", mem + GUEST_LOAD, GUEST_IDT - GUEST_LOAD);
	ASSERT_OK(vmc_x86_vcpu_setup_long_mode(
		v, mem + GUEST_TABLES, GUEST_TABLES, GUEST_LOAD, GUEST_STACK));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RDI, requests));
}

/* Nanoseconds from DB_READY to DB_DONE for @n requests. */
static int64_t vmc_side(uint64_t n, struct vmc_iothread *iot,
			struct side_counts *cnt)
{
	struct vmc_virtio_stats st = {.size = sizeof(st)};
	struct vmc_kvm_config kc = {.size = sizeof(kc),
				    .flags = VMC_KVM_IRQCHIP};
	struct vmc_kvm_irqfd_line *line;
	struct vmc_virtio_config vc;
	struct vmc_virtio *dev;
	bool done = false;
	struct gvm g;
	int64_t t;
	int r;

	memset(cnt, 0, sizeof(*cnt));
	ctxsw_begin(cnt);
	gvm_init(&g, loop, 1, &kc);
	r = vmc_kvm_irqfd_line_new(g.vm, VIO_GSI,
				   edge ? 0 : VMC_KVM_IRQFD_LINE_LEVEL, &line);
	if (r == -EOPNOTSUPP)
		SKIP("no KVM_CAP_IRQFD_RESAMPLE");
	ASSERT_OK(r);
	/* The device's thread handles the line's resamples too. */
	if (iot)
		ASSERT_OK(vmc_kvm_irqfd_line_set_iothread(line, iot));
	vmc_virtio_config_init(&vc);
	vc.vm = g.vm;
	vc.irq = vmc_kvm_irqfd_line_get_irq(line);
	vc.device_id = 4;
	vc.num_queues = 1;
	vc.iothread = iot;
	vc.irq_any_thread = iot != NULL;
	ASSERT_OK(vmc_virtio_new(&vc, &empty_ops, NULL, &dev));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
					   VIO_BASE, vmc_virtio_get_region(dev),
					   0));
	ASSERT_OK(vmc_notifier_new(&g.done_notifier));
	ASSERT_OK(vmc_notifier_set_handler(g.done_notifier, loop, on_done,
					   &done));
	setup_guest(vmc_vm_get_vcpu(g.vm, 0), g.mem, n);
	if (edge)
		*(uint64_t *)(g.mem + VIO_MODE) = VIO_MODE_EDGE;
	ASSERT_OK(vmc_vm_start(g.vm));
	while (!done)
		vmc_loop_run_once(loop, true);
	ASSERT_EQ(atomic_load(&g.nr_db), 4);
	ASSERT_EQ(gvm_db(&g, 0), DB_READY);
	ASSERT_GE(gvm_db(&g, 1), n + !edge);
	t = g.db_ns[3] - g.db_ns[0];
	ctxsw_end(cnt);
	cnt->irqs = gvm_db(&g, 1);
	ASSERT_OK(vmc_virtio_get_stats(dev, &st));
	ASSERT_OK(vmc_kvm_irqfd_line_get_counts(line, &cnt->irq_sigs,
						&cnt->resamples));
	cnt->wakeups = st.notifies;
	read_latencies(cnt, g.mem, n);

	ASSERT_OK(vmc_vm_pause(g.vm));
	vmc_notifier_set_handler(g.done_notifier, loop, NULL, NULL);
	vmc_notifier_free(g.done_notifier);
	ASSERT_OK(vmc_region_remove_subregion(
		vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
		vmc_virtio_get_region(dev)));
	vmc_virtio_free(dev);
	vmc_kvm_irqfd_line_free(line);
	gvm_free(&g);
	return t;
}

/* ------------------------------------------------------------------------
 * The raw side.
 */
struct raw {
	int sys, vm, cpu;
	struct kvm_run *run;
	int run_size;
	uint8_t *mem;
	int ioev, irqfd, resample, stop;
	_Atomic uint32_t isr;
	uint32_t status;
	pthread_t thread;
	/* side_counts, device thread and vCPU thread */
	_Atomic uint64_t wakeups, irq_sigs, resamples;
	uint64_t mmio;
};

static void raw_open(struct raw *r)
{
	struct kvm_userspace_memory_region m = {0};
	struct kvm_ioeventfd io = {0};
	struct kvm_irqfd irq = {0};

	memset(r, 0, sizeof(*r));
	r->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	r->vm = ioctl(r->sys, KVM_CREATE_VM, 0);
	if (r->vm < 0 || ioctl(r->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0 ||
	    ioctl(r->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		FAIL("raw VM setup: %s", strerror(errno));
	r->mem = mmap(NULL, GVM_RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	m.memory_size = GVM_RAM_SIZE;
	m.userspace_addr = (uintptr_t)r->mem;
	if (ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		FAIL("raw memory: %s", strerror(errno));
	r->cpu = ioctl(r->vm, KVM_CREATE_VCPU, 0);
	r->run_size = ioctl(r->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	r->run = mmap(NULL, (size_t)r->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, r->cpu, 0);
	if (r->cpu < 0 || r->run == MAP_FAILED)
		FAIL("raw vCPU setup");

	r->ioev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->irqfd = eventfd(0, EFD_CLOEXEC);
	r->resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->stop = eventfd(0, EFD_CLOEXEC);
	io.addr = VIO_BASE + 0x50;
	io.len = 4;
	io.datamatch = 0;
	io.fd = r->ioev;
	io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (ioctl(r->vm, KVM_IOEVENTFD, &io) < 0)
		FAIL("raw KVM_IOEVENTFD: %s", strerror(errno));
	irq.fd = (uint32_t)r->irqfd;
	irq.gsi = VIO_GSI;
	if (!edge) {
		irq.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irq.resamplefd = (uint32_t)r->resample;
	}
	if (ioctl(r->vm, KVM_IRQFD, &irq) < 0)
		FAIL("raw KVM_IRQFD: %s", strerror(errno));
}

static void raw_close(struct raw *r)
{
	munmap(r->run, (size_t)r->run_size);
	munmap(r->mem, GVM_RAM_SIZE);
	close(r->cpu);
	close(r->vm);
	close(r->sys);
	close(r->ioev);
	close(r->irqfd);
	close(r->resample);
	close(r->stop);
}

static void raw_long_mode(struct raw *r, uint64_t requests)
{
	struct kvm_regs regs = {.rip = GUEST_LOAD,
				.rsp = GUEST_STACK,
				.rflags = 2,
				.rdi = requests};

	vmc_bench_raw_long_mode(r->sys, r->cpu, r->mem, "virtio64.bin", true,
				&regs);
}

static void raw_raise(struct raw *r)
{
	uint64_t one = 1;

	atomic_fetch_add_explicit(&r->irq_sigs, 1, memory_order_relaxed);
	if (write(r->irqfd, &one, sizeof(one)) != sizeof(one))
		FAIL("raw irqfd write");
}

/*
 * The device: answer each notification, re-assert on resample.  Like the
 * library's irqfd line it keeps the line's assertion state, so it signals
 * the irqfd once per interrupt: a resample (the kernel de-asserted the GSI
 * at the guest's EOI) is handled before a notification that arrived with
 * it, and a notification while the GSI is still asserted only sets the
 * status the EOI's resample will look at.
 */
static void *raw_device(void *opaque)
{
	struct raw *r = opaque;
	struct pollfd p[3] = {{.fd = r->ioev, .events = POLLIN},
			      {.fd = edge ? -1 : r->resample, .events = POLLIN},
			      {.fd = r->stop, .events = POLLIN}};
	bool asserted = false;
	uint16_t last = 0;
	uint64_t v;

	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			FAIL("raw poll: %s", strerror(errno));
		}
		if (p[2].revents)
			return NULL;
		if (p[1].revents && read(r->resample, &v, sizeof(v)) > 0) {
			atomic_fetch_add_explicit(&r->resamples, 1,
						  memory_order_relaxed);
			asserted = atomic_load(&r->isr) != 0;
			if (asserted)
				raw_raise(r);
		}
		if (p[0].revents && read(r->ioev, &v, sizeof(v)) > 0) {
			_Atomic uint16_t *aidx =
				(_Atomic uint16_t *)(r->mem + VQ_AVAIL + 2);
			_Atomic uint16_t *uidx =
				(_Atomic uint16_t *)(r->mem + VQ_USED + 2);
			uint16_t avail = atomic_load_explicit(
				aidx, memory_order_acquire);
			uint32_t *ring = (uint32_t *)(r->mem + VQ_USED + 4);
			uint16_t *aring = (uint16_t *)(r->mem + VQ_AVAIL + 4);

			atomic_fetch_add_explicit(&r->wakeups, 1,
						  memory_order_relaxed);
			if (avail != last) {
				for (; last != avail; last++) {
					ring[2 * (last % VQ_NUM)] =
						aring[last % VQ_NUM];
					ring[2 * (last % VQ_NUM) + 1] = 0;
				}
				atomic_store_explicit(uidx, last,
						      memory_order_release);
				/* Edge: each rising InterruptStatus. */
				if (!atomic_fetch_or(&r->isr, 1) && edge)
					raw_raise(r);
				else if (!edge && !asserted) {
					asserted = true;
					raw_raise(r);
				}
			}
		}
	}
}

/* The registers virtio64.S touches besides QueueNotify. */
static void raw_mmio(struct raw *r)
{
	uint64_t off = r->run->mmio.phys_addr - VIO_BASE;
	uint32_t v = 0;

	r->mmio++;
	if (r->run->mmio.is_write) {
		memcpy(&v, r->run->mmio.data, 4);
		if (off == 0x70)
			r->status = v;
		else if (off == 0x64)
			atomic_fetch_and(&r->isr, ~v);
		return;
	}
	switch (off) {
	case 0x00:
		v = 0x74726976;
		break;
	case 0x04:
		v = 2;
		break;
	case 0x08:
		v = 4;
		break;
	case 0x34:
		v = 256;
		break;
	case 0x60:
		v = atomic_load(&r->isr);
		break;
	case 0x70:
		v = r->status;
		break;
	}
	memcpy(r->run->mmio.data, &v, 4);
}

static int64_t raw_side(uint64_t n, struct side_counts *cnt)
{
	int64_t t_ready = 0, t_done = 0;
	uint32_t db[4];
	unsigned int ndb = 0;
	uint64_t one = 1;
	struct raw r;

	memset(cnt, 0, sizeof(*cnt));
	ctxsw_begin(cnt);
	raw_open(&r);
	raw_long_mode(&r, n);
	if (edge)
		*(uint64_t *)(r.mem + VIO_MODE) = VIO_MODE_EDGE;
	if (pthread_create(&r.thread, NULL, raw_device, &r))
		FAIL("pthread_create");
	for (;;) {
		uint32_t v;

		if (ioctl(r.cpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			FAIL("raw KVM_RUN: %s", strerror(errno));
		}
		if (r.run->exit_reason == KVM_EXIT_MMIO) {
			raw_mmio(&r);
			continue;
		}
		if (r.run->exit_reason != KVM_EXIT_IO ||
		    r.run->io.port != DOORBELL_PORT)
			FAIL("raw: exit %u", r.run->exit_reason);
		v = *(uint32_t *)((uint8_t *)r.run + r.run->io.data_offset);
		if (ndb < 4)
			db[ndb] = v;
		ndb++;
		if (v == DB_READY)
			t_ready = vmc_test_now_ns();
		if (v == DB_DONE) {
			t_done = vmc_test_now_ns();
			break;
		}
	}
	/* Before the device thread exits and takes its counts along. */
	ctxsw_end(cnt);
	if (write(r.stop, &one, sizeof(one)) != sizeof(one))
		FAIL("raw stop");
	pthread_join(r.thread, NULL);
	cnt->irqs = db[1];
	cnt->wakeups = atomic_load(&r.wakeups);
	cnt->irq_sigs = atomic_load(&r.irq_sigs);
	cnt->resamples = atomic_load(&r.resamples);
	cnt->mmio = r.mmio;
	read_latencies(cnt, r.mem, n);
	ASSERT_EQ(ndb, 4);
	ASSERT_EQ(db[0], DB_READY);
	ASSERT_GE(db[1], n + !edge);
	raw_close(&r);
	return t_done - t_ready;
}

/* p10, median and p90 of the per-round ratios a[i] / b[i]. */
static void print_ratios(const char *what, const int64_t *a, const int64_t *b,
			 int n)
{
	int64_t r[VMC_BENCH_MAX_ROUNDS];

	for (int i = 0; i < n; i++)
		r[i] = a[i] * 1000 / b[i];
	vmc_bench_sort(r, n);
	printf("    %-34s p10 %.3f  median %.3f  p90 %.3f\n", what,
	       (double)r[n / 10] / 1e3, vmc_bench_paired_ratio(a, b, n),
	       (double)r[n - 1 - n / 10] / 1e3);
}

static void print_counts(const char *what, const struct side_counts *c,
			 uint64_t n)
{
	double d = (double)n;

	printf("    %-5s %.1f us CPU, %.2f+%.2f ctx switches (vol+invol), "
	       "%.2f notifications, %.2f irqfd writes, %.2f resamples, %.3f "
	       "interrupts",
	       what, (double)c->cpu_ns / 1e3 / d, (double)c->vcsw / d,
	       (double)c->ivcsw / d, (double)c->wakeups / d,
	       (double)c->irq_sigs / d, (double)c->resamples / d,
	       (double)c->irqs / d);
	if (c->mmio)
		printf(", %.2f MMIO exits", (double)c->mmio / d);
	printf("\n");
}

/* Host TSC ticks per microsecond (the guest's TSC runs at the same rate). */
static double tsc_per_us(int64_t ns0, uint64_t tsc0)
{
	int64_t ns = vmc_test_now_ns() - ns0;

	return ns > 0 ? (double)(__rdtsc() - tsc0) * 1e3 / (double)ns : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-virtio-kvm [--rounds N] [--requests N] "
			"[--only raw|loop|io] [--edge]\n");
	exit(2);
}

enum { RAW, LOOP, IO, SIDES };
static const char *const side_name[SIDES] = {"raw", "loop", "io"};

static int64_t run_side(int side, uint64_t n, struct vmc_iothread *iot,
			struct side_counts *c)
{
	switch (side) {
	case RAW:
		return raw_side(n, c);
	case LOOP:
		return vmc_side(n, NULL, c);
	default:
		return vmc_side(n, iot, c);
	}
}

static struct side_counts cnt[SIDES][VMC_BENCH_MAX_ROUNDS];
static int64_t wall[SIDES][VMC_BENCH_MAX_ROUNDS],
	lat[SIDES][VMC_BENCH_MAX_ROUNDS];

int main(int argc, char **argv)
{
	int rounds = 21, only = -1;
	uint64_t n = 2000, tsc0;
	struct vmc_iothread *iot;
	struct side_counts x;
	struct gvm probe;
	double tpu;
	int64_t ns0;
	int r;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc && strcmp(argv[i], "--edge"))
			usage();
		if (!strcmp(argv[i], "--rounds")) {
			rounds = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--requests")) {
			n = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--edge")) {
			edge = true;
		} else if (!strcmp(argv[i], "--only")) {
			i++;
			for (int s = 0; s < SIDES; s++)
				if (!strcmp(argv[i], side_name[s]))
					only = s;
			if (only < 0)
				usage();
		} else {
			usage();
		}
	}
	if (rounds < 1 || rounds > VMC_BENCH_MAX_ROUNDS || n < 1)
		usage();

	ASSERT_OK(vmc_loop_new(&loop));
	r = gvm_init_cfg(&probe, loop, 1, NULL);
	if (r == -ENODEV || r == -EOPNOTSUPP)
		SKIP("KVM is not usable here");
	gvm_free(&probe);
	ASSERT_OK(vmc_iothread_new("vmc-bench-io", &iot));
	ns0 = vmc_test_now_ns();
	tsc0 = __rdtsc();

	if (only >= 0) {
		/* One side alone, for perf stat / strace -f -c. */
		for (int i = 0; i < rounds; i++)
			wall[only][i] = run_side(only, n, iot, &cnt[only][i]);
		tpu = tsc_per_us(ns0, tsc0);
		printf("%s: %.2f us per request (median of %d rounds), guest "
		       "round trip median %.2f us\n",
		       side_name[only],
		       (double)vmc_bench_median(wall[only], rounds) / 1e3 /
			       (double)n,
		       rounds, (double)cnt[only][rounds - 1].lat_med / tpu);
		print_counts(side_name[only], &cnt[only][rounds - 1], n);
		vmc_iothread_free(iot);
		vmc_loop_unref(loop);
		return 0;
	}

	/* Warm up all three. */
	for (int s = 0; s < SIDES; s++)
		run_side(s, 200, iot, &x);
	/* Each round runs the three sides back to back, in rotating order. */
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < SIDES; k++) {
			int s = (i + k) % SIDES;

			wall[s][i] = run_side(s, n, iot, &cnt[s][i]);
			lat[s][i] = cnt[s][i].lat_med;
		}
	}
	tpu = tsc_per_us(ns0, tsc0);

	printf("virtio notify->completion round trip, %llu empty requests x "
	       "%d rounds, %s interrupt\n",
	       (unsigned long long)n, rounds,
	       edge ? "edge (irqfd without resample)"
		    : "level (irqfd with resample)");
	printf("  per request, median over rounds: wall clock (run time / "
	       "requests) | guest's median round trip [p10 p90 of the last "
	       "round]\n");
	for (int s = 0; s < SIDES; s++) {
		const struct side_counts *c = &cnt[s][rounds - 1];

		printf("    %-5s %8.2f us | %7.2f us [%.2f %.2f]\n",
		       side_name[s],
		       (double)vmc_bench_median(wall[s], rounds) / 1e3 /
			       (double)n,
		       (double)vmc_bench_median(lat[s], rounds) / tpu,
		       (double)c->lat_p10 / tpu, (double)c->lat_p90 / tpu);
	}
	printf("  per-round ratios against raw (target <= 1.1):\n");
	print_ratios("loop, wall clock", wall[LOOP], wall[RAW], rounds);
	print_ratios("loop, guest's median round trip", lat[LOOP], lat[RAW],
		     rounds);
	print_ratios("io, wall clock", wall[IO], wall[RAW], rounds);
	print_ratios("io, guest's median round trip", lat[IO], lat[RAW],
		     rounds);
	printf("  per request, last round:\n");
	for (int s = 0; s < SIDES; s++)
		print_counts(side_name[s], &cnt[s][rounds - 1], n);
	vmc_iothread_free(iot);
	vmc_loop_unref(loop);
	return 0;
}
