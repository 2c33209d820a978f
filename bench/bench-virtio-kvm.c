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
 *         irqfd line directly (irq_any_thread);
 *   raw:  a bare KVM VM with KVM_CREATE_IRQCHIP, KVM_IOEVENTFD on
 *         QueueNotify, KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE, a host
 *         thread poll()ing the ioeventfd and the resamplefd that writes
 *         the used entry and signals the irqfd, and the vCPU thread's
 *         KVM_RUN loop emulating the handful of registers the guest
 *         reads (the same MMIO exits as on the vmc side).
 *
 * Each side times the guest from its DB_READY doorbell to its DB_DONE,
 * so VM setup stays out.  The figure is the median over ROUNDS rounds of
 * time per request, the sides back to back in alternating order; the
 * ratio is the median of the per-round ratios.  Target: <= 1.1.  Skips
 * (77) without a usable /dev/kvm or without KVM_CAP_IRQFD_RESAMPLE.
 */
#include <linux/kvm.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "../tests/kvm-guest.h"
#include "bench-stats.h"

#define VQ_AVAIL 0x31000
#define VQ_USED 0x32000
#define VQ_NUM 8

static struct vmc_loop *loop;

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
static int64_t vmc_side(uint64_t n, struct vmc_iothread *iot)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc),
				    .flags = VMC_KVM_IRQCHIP};
	struct vmc_kvm_irqfd_line *line;
	struct vmc_virtio_config vc;
	struct vmc_virtio *dev;
	bool done = false;
	struct gvm g;
	int64_t t;
	int r;

	gvm_init(&g, loop, 1, &kc);
	r = vmc_kvm_irqfd_line_new(g.vm, VIO_GSI, VMC_KVM_IRQFD_LINE_LEVEL,
				   &line);
	if (r == -EOPNOTSUPP)
		SKIP("no KVM_CAP_IRQFD_RESAMPLE");
	ASSERT_OK(r);
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
	ASSERT_OK(vmc_vm_start(g.vm));
	while (!done)
		vmc_loop_run_once(loop, true);
	ASSERT_EQ(atomic_load(&g.nr_db), 4);
	ASSERT_EQ(gvm_db(&g, 0), DB_READY);
	ASSERT_GE(gvm_db(&g, 1), n + 1);
	t = g.db_ns[3] - g.db_ns[0];

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
	irq.flags = KVM_IRQFD_FLAG_RESAMPLE;
	irq.resamplefd = (uint32_t)r->resample;
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
	struct kvm_segment code = {.limit = 0xffffffff,
				   .selector = 8,
				   .type = 11,
				   .present = 1,
				   .s = 1,
				   .l = 1,
				   .g = 1};
	struct kvm_segment data = {.limit = 0xffffffff,
				   .selector = 0x10,
				   .type = 3,
				   .present = 1,
				   .s = 1,
				   .db = 1,
				   .g = 1};
	struct kvm_regs regs = {.rip = GUEST_LOAD,
				.rsp = GUEST_STACK,
				.rflags = 2,
				.rdi = requests};
	uint64_t *t = (uint64_t *)(r->mem + GUEST_TABLES);
	struct kvm_cpuid2 *c;
	struct kvm_sregs s;

	c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	c->nent = 256;
	ioctl(r->sys, KVM_GET_SUPPORTED_CPUID, c);
	ioctl(r->cpu, KVM_SET_CPUID2, c);
	free(c);
	t[0] = (GUEST_TABLES + 0x1000) | 3;
	for (uint64_t i = 0; i < 4; i++) {
		t[512 + i] = (GUEST_TABLES + 0x2000 + 0x1000 * i) | 3;
		for (uint64_t j = 0; j < 512; j++)
			t[1024 + 512 * i + j] = (i << 30 | j << 21) | 0x83;
	}
	/* A GDT for interrupt delivery and iretq, as the library's. */
	t[6 * 512 + 1] = UINT64_C(0x00af9a000000ffff);
	t[6 * 512 + 2] = UINT64_C(0x00cf92000000ffff);
	gvm_load("virtio64.bin", r->mem + GUEST_LOAD, GUEST_IDT - GUEST_LOAD);
	ioctl(r->cpu, KVM_GET_SREGS, &s);
	s.gdt.base = GUEST_TABLES + 6 * 4096;
	s.gdt.limit = 3 * 8 - 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = 0x80010033;
	s.cr3 = GUEST_TABLES;
	s.cr4 = 0x620;
	s.efer = 0x500;
	ioctl(r->cpu, KVM_SET_SREGS, &s);
	ioctl(r->cpu, KVM_SET_REGS, &regs);
}

static void raw_raise(struct raw *r)
{
	uint64_t one = 1;

	if (write(r->irqfd, &one, sizeof(one)) != sizeof(one))
		FAIL("raw irqfd write");
}

/* The device: answer each notification, re-assert on resample. */
static void *raw_device(void *opaque)
{
	struct raw *r = opaque;
	struct pollfd p[3] = {{.fd = r->ioev, .events = POLLIN},
			      {.fd = r->resample, .events = POLLIN},
			      {.fd = r->stop, .events = POLLIN}};
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
		if (p[0].revents && read(r->ioev, &v, sizeof(v)) > 0) {
			_Atomic uint16_t *aidx =
				(_Atomic uint16_t *)(r->mem + VQ_AVAIL + 2);
			_Atomic uint16_t *uidx =
				(_Atomic uint16_t *)(r->mem + VQ_USED + 2);
			uint16_t avail = atomic_load_explicit(
				aidx, memory_order_acquire);
			uint32_t *ring = (uint32_t *)(r->mem + VQ_USED + 4);
			uint16_t *aring = (uint16_t *)(r->mem + VQ_AVAIL + 4);

			if (avail != last) {
				for (; last != avail; last++) {
					ring[2 * (last % VQ_NUM)] =
						aring[last % VQ_NUM];
					ring[2 * (last % VQ_NUM) + 1] = 0;
				}
				atomic_store_explicit(uidx, last,
						      memory_order_release);
				atomic_fetch_or(&r->isr, 1);
				raw_raise(r);
			}
		}
		if (p[1].revents && read(r->resample, &v, sizeof(v)) > 0 &&
		    atomic_load(&r->isr))
			raw_raise(r);
	}
}

/* The registers virtio64.S touches besides QueueNotify. */
static void raw_mmio(struct raw *r)
{
	uint64_t off = r->run->mmio.phys_addr - VIO_BASE;
	uint32_t v = 0;

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

static int64_t raw_side(uint64_t n)
{
	int64_t t_ready = 0, t_done = 0;
	uint32_t db[4];
	unsigned int ndb = 0;
	uint64_t one = 1;
	struct raw r;

	raw_open(&r);
	raw_long_mode(&r, n);
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
	if (write(r.stop, &one, sizeof(one)) != sizeof(one))
		FAIL("raw stop");
	pthread_join(r.thread, NULL);
	ASSERT_EQ(ndb, 4);
	ASSERT_EQ(db[0], DB_READY);
	ASSERT_GE(db[1], n + 1);
	raw_close(&r);
	return t_done - t_ready;
}

int main(void)
{
	enum { ROUNDS = 21 };
	int64_t a[ROUNDS], b[ROUNDS], c[ROUNDS];
	const uint64_t n = 2000;
	struct vmc_iothread *iot;
	struct gvm probe;
	int r;

	ASSERT_OK(vmc_loop_new(&loop));
	r = gvm_init_cfg(&probe, loop, 1, NULL);
	if (r == -ENODEV || r == -EOPNOTSUPP)
		SKIP("KVM is not usable here");
	gvm_free(&probe);
	ASSERT_OK(vmc_iothread_new("vmc-bench-io", &iot));

	/* Warm up all three. */
	vmc_side(200, NULL);
	vmc_side(200, iot);
	raw_side(200);
	for (int i = 0; i < ROUNDS; i++) {
		if (i & 1) {
			b[i] = raw_side(n);
			a[i] = vmc_side(n, NULL);
			c[i] = vmc_side(n, iot);
		} else {
			c[i] = vmc_side(n, iot);
			a[i] = vmc_side(n, NULL);
			b[i] = raw_side(n);
		}
	}
	printf("virtio notify->completion round trip, %llu empty requests x "
	       "%d rounds (median per request)\n",
	       (unsigned long long)n, ROUNDS);
	printf("  raw KVM (ioeventfd + host thread + resample irqfd): "
	       "%.2f us\n",
	       (double)vmc_bench_median(b, ROUNDS) / 1e3 / (double)n);
	printf("  vmc, device on the loop thread:                     "
	       "%.2f us  ratio %.3f\n",
	       (double)vmc_bench_median(a, ROUNDS) / 1e3 / (double)n,
	       vmc_bench_paired_ratio(a, b, ROUNDS));
	printf("  vmc, device on an I/O thread (irq_any_thread):      "
	       "%.2f us  ratio %.3f (target <= 1.1)\n",
	       (double)vmc_bench_median(c, ROUNDS) / 1e3 / (double)n,
	       vmc_bench_paired_ratio(c, b, ROUNDS));
	vmc_iothread_free(iot);
	vmc_loop_unref(loop);
	return 0;
}
