/* SPDX-License-Identifier: MIT */
/*
 * The KVM accelerator with real guests: real, protected and long mode, PIO
 * and MMIO round trips, ioeventfds, irqfds and userspace interrupts,
 * memslot swaps under running vCPUs, dirty logging, pause/resume/kick,
 * SMP, guest errors, registers and guest debugging.  Skips (77) where
 * /dev/kvm is missing or unusable.
 */
#include <signal.h>

#include "kvm-guest.h"
#include "kvm-internal.h"

static struct vmc_loop *loop;

/* ------------------------------------------------------------------------
 * A device that records writes and answers reads with a fixed pattern.
 */
#define PATTERN UINT64_C(0x8899aabbccddeeff)

struct echo {
	pthread_mutex_t lock;
	unsigned int n;
	unsigned int size[16];
	uint64_t value[16];
};

static int echo_read(void *opaque, uint64_t offset, unsigned size,
		     uint64_t *value)
{
	*value = size == 8 ? PATTERN
			   : PATTERN & ((UINT64_C(1) << (size * 8)) - 1);
	return 0;
}

static int echo_write(void *opaque, uint64_t offset, unsigned size,
		      uint64_t value)
{
	struct echo *e = opaque;

	pthread_mutex_lock(&e->lock);
	if (e->n < 16) {
		e->size[e->n] = size;
		e->value[e->n] = value;
	}
	e->n++;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static const struct vmc_region_ops echo_ops = {
	.struct_size = sizeof(struct vmc_region_ops),
	.read = echo_read,
	.write = echo_write,
	.min_access_size = 1,
	.max_access_size = 8,
	.flags = VMC_REGION_OPS_UNALIGNED,
};

static struct vmc_region *add_echo(struct gvm *g, enum vmc_as_kind kind,
				   uint64_t addr, uint64_t size, struct echo *e)
{
	struct vmc_region *r;

	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
	ASSERT_OK(vmc_region_new_io(vmc_vm_get_memory(g->vm), "echo", size,
				    &echo_ops, e, 0, &r));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g->vm, kind), addr,
					   r, 0));
	return r;
}

static uint64_t eventfd_count(struct vmc_notifier *n)
{
	uint64_t v = 0;
	int fd = vmc_notifier_get_fd(n);
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	fcntl(fd, F_SETFL, fl);
	return v;
}

/* ------------------------------------------------------------------------
 * Tests
 */

static void test_real_and_protected_mode(void)
{
	struct gvm g;
	struct vmc_vcpu *v;

	gvm_init(&g, loop, 1, NULL);
	v = vmc_vm_get_vcpu(g.vm, 0);
	gvm_load("real16.bin", g.mem + GUEST_LOAD, 4096);
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_CS, 0));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_CS_BASE, 0));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RIP, GUEST_LOAD));
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	ASSERT_EQ(gvm_db(&g, 0), DB_REAL);
	ASSERT_EQ(gvm_db(&g, 1), DB_PROT);
	gvm_free(&g);
}

/*
 * The access-size guests write 0x11, 0x2233 and 0x44556677 with 1-, 2- and
 * 4-byte stores, then read the echo device back at the same sizes and
 * report each value on the doorbell.
 */
static void check_writes_1_2_4(const struct echo *e)
{
	ASSERT_EQ(e->size[0], 1);
	ASSERT_EQ_U64(e->value[0], 0x11);
	ASSERT_EQ(e->size[1], 2);
	ASSERT_EQ_U64(e->value[1], 0x2233);
	ASSERT_EQ(e->size[2], 4);
	ASSERT_EQ_U64(e->value[2], 0x44556677);
}

static void check_reads_1_2_4(struct gvm *g)
{
	ASSERT_EQ(gvm_db(g, 0), 0xff);
	ASSERT_EQ(gvm_db(g, 1), 0xeeff);
	ASSERT_EQ(gvm_db(g, 2), 0xccddeeff);
}

static void test_pio(void)
{
	struct gvm g;
	struct echo e;
	struct vmc_region *r;

	gvm_init(&g, loop, 1, NULL);
	r = add_echo(&g, VMC_AS_IO, ECHO_PORT, 4, &e);
	gvm_setup_long(&g, GT_PIO, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	ASSERT_EQ(e.n, 3);
	check_writes_1_2_4(&e);
	check_reads_1_2_4(&g);
	ASSERT_EQ(gvm_db(&g, 3), DB_DONE);
	gvm_free(&g);
	vmc_region_unref(r);
}

static int fail_read(void *opaque, uint64_t offset, unsigned size,
		     uint64_t *value)
{
	return -EIO;
}

static const struct vmc_region_ops fail_ops = {
	.struct_size = sizeof(struct vmc_region_ops),
	.read = fail_read,
	.min_access_size = 1,
	.max_access_size = 4,
};

/* Exits that the fast path does not take: see t_pio_edge. */
static void test_pio_edges(void)
{
	static const uint32_t want[] = {0xff,	    0xffff,	0xffffffff,
					0xffffffff, 0xeeffeeff, 0xffffffff,
					DB_DONE};
	struct vmc_region *r, *f;
	struct gvm g;
	struct echo e;

	gvm_init(&g, loop, 1, NULL);
	r = add_echo(&g, VMC_AS_IO, ECHO_PORT, 4, &e);
	ASSERT_OK(vmc_region_new_io(vmc_vm_get_memory(g.vm), "fail", 4,
				    &fail_ops, NULL, 0, &f));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_IO),
					   FAIL_PORT, f, 0));
	gvm_setup_long(&g, GT_PIO_EDGE, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	for (unsigned int i = 0; i < 7; i++)
		ASSERT_EQ_U64(gvm_db(&g, i), want[i]);
	/* rep outsb: three 1-byte writes; the straddling outw: its byte 0. */
	ASSERT_EQ(e.n, 4);
	for (unsigned int i = 0; i < 3; i++) {
		ASSERT_EQ(e.size[i], 1);
		ASSERT_EQ_U64(e.value[i], i + 1);
	}
	ASSERT_EQ(e.size[3], 1);
	ASSERT_EQ_U64(e.value[3], 0xbb);
	gvm_free(&g);
	vmc_region_unref(r);
	vmc_region_unref(f);
}

static void test_mmio_and_wide_datamatch(void)
{
	struct gvm g;
	struct echo e;
	struct vmc_region *r;
	struct vmc_notifier *n;

	gvm_init(&g, loop, 1, NULL);
	r = add_echo(&g, VMC_AS_MEMORY, MMIO_BASE, 8, &e);
	/*
	 * The guest writes PATTERN as 8 bytes.  This datamatch equals it in
	 * the low 32 bits only: a glue that truncated the value would match.
	 */
	ASSERT_OK(vmc_notifier_new(&n));
	ASSERT_OK(vmc_region_add_ioeventfd(r, 0, 8, true, PATTERN & 0xffffffffu,
					   n));
	gvm_setup_long(&g, GT_MMIO, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	ASSERT_EQ_U64(eventfd_count(n), 0);
	ASSERT_EQ(e.n, 4);
	check_writes_1_2_4(&e);
	ASSERT_EQ(e.size[3], 8);
	ASSERT_EQ_U64(e.value[3], PATTERN);
	check_reads_1_2_4(&g);
	ASSERT_EQ(gvm_db(&g, 3), 0xccddeeff);
	ASSERT_EQ(gvm_db(&g, 4), 0x8899aabb);
	gvm_free(&g);
	vmc_region_unref(r);
	vmc_notifier_free(n);
}

static void test_ioeventfd(void)
{
	struct gvm g;
	struct echo em, ep;
	struct vmc_region *rm, *rp;
	struct vmc_notifier *nm, *np, *nwide;

	gvm_init(&g, loop, 1, NULL);
	rm = add_echo(&g, VMC_AS_MEMORY, IOEVENT_MMIO, 8, &em);
	rp = add_echo(&g, VMC_AS_IO, IOEVENT_PORT, 2, &ep);
	ASSERT_OK(vmc_notifier_new(&nm));
	ASSERT_OK(vmc_notifier_new(&np));
	ASSERT_OK(vmc_notifier_new(&nwide));
	/* MMIO with datamatch; PIO of any length without. */
	ASSERT_OK(vmc_region_add_ioeventfd(rm, 0, 4, true, IOEVENT_MATCH, nm));
	ASSERT_OK(vmc_region_add_ioeventfd(rp, 0, 0, false, 0, np));
	/* A datamatch above 32 bits that the guest never writes. */
	ASSERT_OK(vmc_region_add_ioeventfd(
		rm, 0, 8, true, UINT64_C(0x100000000) | IOEVENT_MATCH, nwide));
	gvm_setup_long(&g, GT_IOEVENTFD, 5);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	ASSERT_EQ_U64(eventfd_count(nm), 5);
	ASSERT_EQ_U64(eventfd_count(np), 1);
	ASSERT_EQ_U64(eventfd_count(nwide), 0);
	/* The wrong value reached the device, the matches did not. */
	ASSERT_EQ(em.n, 1);
	ASSERT_EQ_U64(em.value[0], IOEVENT_WRONG);
	ASSERT_EQ(ep.n, 0);

	/* Removing an ioeventfd lets the writes through again. */
	ASSERT_OK(
		vmc_region_remove_ioeventfd(rm, 0, 4, true, IOEVENT_MATCH, nm));
	gvm_free(&g);
	vmc_region_unref(rm);
	vmc_region_unref(rp);
	vmc_notifier_free(nm);
	vmc_notifier_free(np);
	vmc_notifier_free(nwide);
}

static bool has_irq_db(struct gvm *g, void *arg)
{
	unsigned int want = (unsigned int)(uintptr_t)arg, seen = 0;

	for (unsigned int i = 0; i < atomic_load(&g->nr_db); i++)
		seen += gvm_db(g, i) == DB_IRQ;
	return seen >= want;
}

static void test_irqfd(void)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc),
				    .flags = VMC_KVM_IRQCHIP | VMC_KVM_PIT};
	struct vmc_notifier *n, *n2;
	struct gvm g, plain;

	gvm_init(&g, loop, 1, &kc);
	ASSERT_EQ(vmc_kvm_has_irqchip(g.vm), 1);
	ASSERT_OK(vmc_notifier_new(&n));
	ASSERT_OK(vmc_notifier_new(&n2));
	ASSERT_OK(vmc_kvm_irqfd_add(g.vm, n, 5, NULL));
	ASSERT_ERR(vmc_kvm_irqfd_add(g.vm, n, 5, NULL), -EEXIST);
	ASSERT_ERR(vmc_kvm_irqfd_remove(g.vm, n2, 5), -ENOENT);
	ASSERT_ERR(vmc_kvm_irqfd_add(NULL, n, 5, NULL), -EINVAL);
	/* A GSI the irqchip does not route reaches nothing: refused (0.1
	 * answered 0 and the interrupt vanished). */
	ASSERT_ERR(vmc_kvm_set_irq_line(g.vm, 9999, true), -EINVAL);
	ASSERT_ERR(vmc_kvm_set_irq_line(g.vm, 24, true), -EINVAL);
	ASSERT_OK(vmc_kvm_set_irq_line(g.vm, 23, false));
	ASSERT_ERR(vmc_kvm_irqfd_add(g.vm, n2, 9999, NULL), -EINVAL);

	gvm_setup_long(&g, GT_IRQ, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_db(&g, 1);
	ASSERT_EQ(gvm_db(&g, 0), DB_READY);
	ASSERT_OK(vmc_notifier_signal(n));
	if (!gvm_spin(&g, has_irq_db, (void *)1, 10000))
		FAIL("irqfd interrupt not delivered (state %s)",
		     vmc_vm_state_to_string(vmc_vm_get_state(g.vm)));
	/* The same GSI through KVM_IRQ_LINE, as an edge. */
	ASSERT_OK(vmc_kvm_set_irq_line(g.vm, 5, true));
	ASSERT_OK(vmc_kvm_set_irq_line(g.vm, 5, false));
	if (!gvm_spin(&g, has_irq_db, (void *)2, 10000))
		FAIL("KVM_IRQ_LINE interrupt not delivered");
	ASSERT_OK(vmc_kvm_irqfd_remove(g.vm, n, 5));
	gvm_free(&g);

	/* Without the in-kernel irqchip these are refused. */
	gvm_init(&plain, loop, 1, NULL);
	ASSERT_EQ(vmc_kvm_has_irqchip(plain.vm), 0);
	ASSERT_ERR(vmc_kvm_irqfd_add(plain.vm, n, 5, NULL), -EOPNOTSUPP);
	ASSERT_ERR(vmc_kvm_set_irq_line(plain.vm, 5, true), -EOPNOTSUPP);
	gvm_free(&plain);
	vmc_notifier_free(n);
	vmc_notifier_free(n2);
}

static _Atomic int intacks;

static int intack(struct vmc_vcpu *vcpu, void *opaque)
{
	atomic_fetch_add(&intacks, 1);
	/* Like a PIC: acknowledging lowers INTR. */
	vmc_vcpu_set_irq(vcpu, VMC_KVM_LINE_INTR, false);
	return IRQ_VECTOR;
}

static void test_userspace_intr(void)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc), .intack = intack};
	struct gvm g;

	gvm_init(&g, loop, 1, &kc);
	gvm_setup_long(&g, GT_IRQ, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_db(&g, 1);
	ASSERT_EQ(gvm_db(&g, 0), DB_READY);
	ASSERT_OK(vmc_vcpu_set_irq(vmc_vm_get_vcpu(g.vm, 0), VMC_KVM_LINE_INTR,
				   true));
	if (!gvm_spin(&g, has_irq_db, (void *)1, 10000))
		FAIL("INTR not delivered");
	ASSERT_EQ(atomic_load(&intacks), 1);
	gvm_free(&g);
}

static uint64_t counter(struct gvm *g)
{
	return __atomic_load_n((uint64_t *)(g->mem + GUEST_COUNTER),
			       __ATOMIC_RELAXED);
}

static bool counter_above(struct gvm *g, void *arg)
{
	return counter(g) > *(uint64_t *)arg;
}

static void test_pause_resume_kick(void)
{
	struct gvm g;
	struct vmc_vcpu *v;
	uint64_t c0, c1, rip;

	gvm_init(&g, loop, 1, NULL);
	v = vmc_vm_get_vcpu(g.vm, 0);
	gvm_setup_long(&g, GT_SPIN, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	c0 = 1000;
	ASSERT_TRUE(gvm_spin(&g, counter_above, &c0, 10000));
	for (int i = 0; i < 20; i++)
		ASSERT_OK(vmc_vcpu_kick(v));
	c0 = counter(&g);
	ASSERT_TRUE(gvm_spin(&g, counter_above, &c0, 10000));

	ASSERT_OK(vmc_vm_pause(g.vm));
	ASSERT_EQ(vmc_vcpu_get_state(v), VMC_VCPU_STOPPED);
	c0 = counter(&g);
	usleep(20000);
	c1 = counter(&g);
	ASSERT_EQ_U64(c0, c1);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_RIP, &rip));
	ASSERT_TRUE(rip >= GUEST_LOAD && rip < GUEST_LOAD + 4096);

	ASSERT_OK(vmc_vm_resume(g.vm));
	ASSERT_TRUE(gvm_spin(&g, counter_above, &c1, 10000));
	gvm_free(&g);
}

static void test_smp(unsigned int n)
{
	struct gvm g;
	unsigned int seen = 0;

	gvm_init(&g, loop, n, NULL);
	gvm_setup_long(&g, GT_SMP, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, n);
	ASSERT_EQ_U64(counter(&g), n);
	for (unsigned int i = 0; i < 2 * n; i++) {
		uint32_t d = gvm_db(&g, i);

		if (d < n)
			seen |= 1u << d;
	}
	ASSERT_EQ(seen, (1u << n) - 1);
	gvm_free(&g);
}

static void test_smp_2(void)
{
	test_smp(2);
}

static void test_smp_4(void)
{
	test_smp(4);
}

static void test_memslot_swap(void)
{
	struct vmc_region *a, *b, *root;
	struct vmc_memory *mem;
	struct gvm g;
	uint64_t c;
	int rounds = (int)vmc_test_scale(200);

	gvm_init(&g, loop, 2, NULL);
	mem = vmc_vm_get_memory(g.vm);
	root = vmc_vm_get_root(g.vm, VMC_AS_MEMORY);
	ASSERT_OK(vmc_region_new_ram(mem, "a", 4096, 0, &a));
	ASSERT_OK(vmc_region_new_ram(mem, "b", 4096, 0, &b));
	*(uint32_t *)vmc_region_get_ptr(a) = 1;
	*(uint32_t *)vmc_region_get_ptr(b) = 2;
	ASSERT_OK(vmc_region_add_subregion(root, GUEST_SWAP, a, 1));
	gvm_setup_long(&g, GT_SWAP, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	c = 100;
	ASSERT_TRUE(gvm_spin(&g, counter_above, &c, 10000));

	for (int i = 0; i < rounds; i++) {
		struct vmc_region *out = i & 1 ? b : a, *in = i & 1 ? a : b;

		ASSERT_OK(vmc_memory_begin(mem));
		ASSERT_OK(vmc_region_remove_subregion(root, out));
		ASSERT_OK(vmc_region_add_subregion(root, GUEST_SWAP, in, 1));
		ASSERT_OK(vmc_memory_commit(mem));
		vmc_loop_run_once(loop, false);
	}
	c = counter(&g);
	ASSERT_TRUE(gvm_spin(&g, counter_above, &c, 10000));
	/* A guest that saw a hole reports it and stops. */
	ASSERT_EQ(atomic_load(&g.nr_db), 0);
	ASSERT_EQ(vmc_vm_get_state(g.vm), VMC_VM_RUNNING);
	gvm_free(&g);
	vmc_region_unref(a);
	vmc_region_unref(b);
}

static void test_dirty_log(void)
{
	struct vmc_region *d;
	struct gvm g;
	uint64_t bm[1] = {0};

	gvm_init(&g, loop, 1, NULL);
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(g.vm), "dirty", 0x4000,
				     0, &d));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
					   GUEST_DIRTY, d, 1));
	ASSERT_ERR(vmc_kvm_get_dirty_log(g.vm, d, bm, 1), -ENOENT);
	ASSERT_OK(vmc_kvm_set_dirty_logging(g.vm, d, true));
	ASSERT_ERR(vmc_kvm_get_dirty_log(g.vm, d, bm, 0), -EINVAL);
	ASSERT_ERR(vmc_kvm_set_dirty_logging(NULL, d, true), -EINVAL);
	gvm_setup_long(&g, GT_DIRTY, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	ASSERT_OK(vmc_kvm_get_dirty_log(g.vm, d, bm, 1));
	ASSERT_EQ_U64(bm[0], 0x5);
	bm[0] = 0;
	ASSERT_OK(vmc_kvm_get_dirty_log(g.vm, d, bm, 1));
	ASSERT_EQ_U64(bm[0], 0);
	ASSERT_OK(vmc_kvm_set_dirty_logging(g.vm, d, false));
	ASSERT_ERR(vmc_kvm_get_dirty_log(g.vm, d, bm, 1), -ENOENT);
	gvm_free(&g);
	vmc_region_unref(d);
}

/* The accelerator-neutral dirty log of vmc-vm.h, on KVM's kernel log. */
static void test_dirty_log_generic(void)
{
	struct vmc_region *d, *io, *other_ram;
	struct vmc_vm *other;
	struct vmc_vm_config c;
	struct echo e;
	struct gvm g;
	uint64_t bm[2] = {0};

	gvm_init(&g, loop, 1, NULL);
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(g.vm), "dirty", 0x4000,
				     0, &d));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
					   GUEST_DIRTY, d, 1));
	/* Only RAM and ROM of this VM can be logged (an I/O region or a
	 * container answered 0 in 0.1 and logged nothing). */
	io = add_echo(&g, VMC_AS_MEMORY, 0xd0000000, 0x1000, &e);
	ASSERT_ERR(vmc_vm_set_dirty_logging(g.vm, io, true), -EINVAL);
	ASSERT_ERR(vmc_kvm_set_dirty_logging(g.vm, io, true), -EINVAL);
	ASSERT_ERR(vmc_vm_get_dirty_log(g.vm, io, bm, 2), -EINVAL);
	ASSERT_ERR(vmc_vm_set_dirty_logging(
			   g.vm, vmc_vm_get_root(g.vm, VMC_AS_MEMORY), true),
		   -EINVAL);
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_HARNESS;
	ASSERT_OK(vmc_vm_new(&c, &other));
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(other), "o", 0x1000, 0,
				     &other_ram));
	ASSERT_ERR(vmc_vm_set_dirty_logging(g.vm, other_ram, true), -EINVAL);
	ASSERT_ERR(vmc_vm_set_dirty_logging(NULL, d, true), -EINVAL);
	ASSERT_ERR(vmc_vm_set_dirty_logging(g.vm, NULL, true), -EINVAL);
	ASSERT_ERR(vmc_vm_get_dirty_log(g.vm, d, NULL, 1), -EINVAL);

	ASSERT_ERR(vmc_vm_get_dirty_log(g.vm, d, bm, 1), -ENOENT);
	ASSERT_OK(vmc_vm_set_dirty_logging(g.vm, d, true));
	ASSERT_OK(vmc_vm_set_dirty_logging(g.vm, d, true)); /* no-op */
	ASSERT_ERR(vmc_vm_get_dirty_log(g.vm, d, bm, 0), -EINVAL);
	gvm_setup_long(&g, GT_DIRTY, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	ASSERT_OK(vmc_vm_get_dirty_log(g.vm, d, bm, 2));
	ASSERT_EQ_U64(bm[0], 0x5);
	ASSERT_EQ_U64(bm[1], 0);
	bm[0] = 0;
	ASSERT_OK(vmc_vm_get_dirty_log(g.vm, d, bm, 1));
	ASSERT_EQ_U64(bm[0], 0);
	ASSERT_OK(vmc_vm_set_dirty_logging(g.vm, d, false));
	ASSERT_ERR(vmc_vm_get_dirty_log(g.vm, d, bm, 1), -ENOENT);
	gvm_free(&g);
	vmc_region_unref(d);
	vmc_region_unref(io);
	vmc_region_unref(other_ram);
	vmc_vm_unref(other);
}

static void test_triple_fault(void)
{
	struct gvm g;

	gvm_init(&g, loop, 1, NULL);
	gvm_setup_long(&g, GT_TRIPLE, 0);
	ASSERT_OK(vmc_vm_start(g.vm));
	if (!gvm_spin(&g, gvm_cond_state, (void *)(uintptr_t)VMC_VM_GUEST_ERROR,
		      10000))
		FAIL("no guest error after a triple fault");
	fprintf(stderr, "   reported: %s\n", vmc_vm_get_error(g.vm));
	ASSERT_NOT_NULL(strstr(vmc_vm_get_error(g.vm), "triple fault"));
	gvm_free(&g);
}

static void test_bad_state(void)
{
	struct gvm g;
	struct vmc_vcpu *v;

	gvm_init(&g, loop, 1, NULL);
	v = vmc_vm_get_vcpu(g.vm, 0);
	gvm_setup_long(&g, GT_HLT, 0);
	/* Code where no memory is: the CPU cannot fetch it. */
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RIP, MMIO_BASE + 0x100000));
	ASSERT_OK(vmc_vm_start(g.vm));
	if (!gvm_spin(&g, gvm_cond_state, (void *)(uintptr_t)VMC_VM_GUEST_ERROR,
		      10000))
		FAIL("no guest error for code outside RAM (state %s)",
		     vmc_vm_state_to_string(vmc_vm_get_state(g.vm)));
	ASSERT_TRUE(strlen(vmc_vm_get_error(g.vm)) > 0);
	fprintf(stderr, "   reported: %s\n", vmc_vm_get_error(g.vm));
	gvm_free(&g);
}

static void test_registers(void)
{
	struct vmc_x86_cpuid_entry e;
	struct gvm g;
	struct vmc_vcpu *v;
	uint64_t val;

	gvm_init(&g, loop, 1, NULL);
	v = vmc_vm_get_vcpu(g.vm, 0);
	gvm_setup_long(&g, GT_HLT, 0);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_EFER, &val));
	ASSERT_EQ_U64(val & 0x500, 0x500);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_CR3, &val));
	ASSERT_EQ_U64(val, GUEST_TABLES);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_CS_ATTR, &val));
	ASSERT_EQ_U64(val & (1u << 13), 1u << 13); /* L */
	for (unsigned int r = VMC_X86_RAX; r <= VMC_X86_R15; r++) {
		if (r == VMC_X86_RSP)
			continue;
		ASSERT_OK(vmc_vcpu_set_reg(v, r, 0x1000 + r));
	}
	for (unsigned int r = VMC_X86_RAX; r <= VMC_X86_R15; r++) {
		if (r == VMC_X86_RSP)
			continue;
		ASSERT_OK(vmc_vcpu_get_reg(v, r, &val));
		ASSERT_EQ_U64(val, 0x1000 + r);
	}
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_XMM0_HI + 6, 0x1122334455667788));
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_XMM0_HI + 6, &val));
	ASSERT_EQ_U64(val, 0x1122334455667788);
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_DR0, 0x4000));
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_DR0, &val));
	ASSERT_EQ_U64(val, 0x4000);
	ASSERT_ERR(vmc_vcpu_get_reg(v, 0x1000, &val), -EINVAL);

	/* IA32_SYSENTER_CS */
	ASSERT_OK(vmc_x86_vcpu_set_msr(v, 0x174, 0x10));
	ASSERT_OK(vmc_x86_vcpu_get_msr(v, 0x174, &val));
	ASSERT_EQ_U64(val, 0x10);
	ASSERT_ERR(vmc_x86_vcpu_get_msr(v, 0xdeadbeef, &val), -ENOENT);
	ASSERT_ERR(vmc_x86_vcpu_get_msr(v, 0x174, NULL), -EINVAL);

	ASSERT_OK(vmc_x86_vcpu_get_cpuid(v, 0, 0, &e));
	ASSERT_GT(e.eax, 0);
	ASSERT_OK(vmc_x86_vcpu_get_cpuid(v, 1, 0, &e));
	ASSERT_EQ(e.ebx >> 24, 0); /* APIC ID of vCPU 0 */
	ASSERT_ERR(vmc_x86_vcpu_get_cpuid(v, 0x4fffffff, 0, &e), -ENOENT);
	ASSERT_ERR(vmc_x86_vcpu_set_cpuid(v, NULL, 1), -EINVAL);
	ASSERT_ERR(
		vmc_x86_vcpu_setup_long_mode(v, g.mem + 1, GUEST_TABLES, 0, 0),
		-EINVAL);
	gvm_free(&g);
}

/*
 * Register access to a parked vCPU happens on the calling thread through a
 * cache: values written before a run reach the guest, values read after a
 * run are the guest's, and other vCPU calls see pending writes.
 */
static void test_register_cache(void)
{
	struct gvm g;
	struct vmc_vcpu *v;
	uint64_t val, rip;

	gvm_init(&g, loop, 1, NULL);
	v = vmc_vm_get_vcpu(g.vm, 0);
	gvm_setup_long(&g, GT_HLT, 0);
	/* Cached before the run; written back at its start. */
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_RIP, &rip));
	ASSERT_EQ_U64(rip, GUEST_LOAD);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_done(&g, 1);
	while (vmc_vcpu_get_state(v) != VMC_VCPU_HALTED)
		usleep(100);
	/* The guest moved on: no stale cached RIP. */
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_RIP, &rip));
	ASSERT_NE(rip, GUEST_LOAD);
	ASSERT_GT(rip, GUEST_LOAD);
	ASSERT_LT(rip, GUEST_IDT);
	ASSERT_OK(vmc_vm_pause(g.vm));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RBX, 0x5a5a));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_DS_BASE, 0));
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_RBX, &val));
	ASSERT_EQ_U64(val, 0x5a5a);
	/* An MSR call writes pending registers back first... */
	ASSERT_OK(vmc_x86_vcpu_get_msr(v, 0x174, &val));
	/* ...so this read comes from the kernel. */
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_RBX, &val));
	ASSERT_EQ_U64(val, 0x5a5a);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_X86_RIP, &val));
	ASSERT_EQ_U64(val, rip);
	ASSERT_OK(vmc_vm_resume(g.vm));
	gvm_free(&g);
}

/*
 * A vCPU is built in the kernel when it first runs, or when a call needs
 * state only the kernel has.  Before that its registers are the power-on
 * state the kernel gives a new vCPU, writes and resets work on them, and
 * the first run or kernel call sees exactly what was written.
 */
static void test_lazy_vcpu(void)
{
	static const unsigned int regs[] = {
		VMC_X86_RIP,	   VMC_X86_RFLAGS,     VMC_X86_RDX,
		VMC_X86_CS,	   VMC_X86_CS_BASE,    VMC_X86_CS_LIMIT,
		VMC_X86_CS_ATTR,   VMC_X86_SS_ATTR,    VMC_X86_TR_ATTR,
		VMC_X86_CR0,	   VMC_X86_CR4,	       VMC_X86_EFER,
		VMC_X86_APIC_BASE, VMC_X86_IDTR_LIMIT, VMC_X86_GDTR_LIMIT};
	uint64_t before[2][15], val;
	struct vmc_vcpu *v[2];
	struct gvm g;

	_Static_assert(sizeof(regs) / sizeof(regs[0]) == 15, "regs");

	gvm_init(&g, loop, 2, NULL);
	for (unsigned int i = 0; i < 2; i++) {
		v[i] = vmc_vm_get_vcpu(g.vm, i);
		for (size_t k = 0; k < 15; k++)
			ASSERT_OK(
				vmc_vcpu_get_reg(v[i], regs[k], &before[i][k]));
	}
	/* The reset vector, real mode. */
	ASSERT_EQ_U64(before[0][0], 0xfff0);
	ASSERT_EQ_U64(before[0][1], 2);
	ASSERT_EQ_U64(before[0][3], 0xf000);
	ASSERT_EQ_U64(before[0][4], 0xffff0000);
	ASSERT_EQ_U64(before[0][9] & 1, 0); /* CR0.PE */
	/* Only vCPU 0 is the bootstrap processor. */
	ASSERT_EQ_U64(before[0][12] & 0x100, 0x100);
	ASSERT_EQ_U64(before[1][12] & 0x100, 0);
	ASSERT_EQ_U64(before[0][12] & ~UINT64_C(0x100),
		      before[1][12] & ~UINT64_C(0x100));

	/* A write, then a reset, before the vCPU ever existed. */
	ASSERT_OK(vmc_vcpu_set_reg(v[1], VMC_X86_RIP, 0x1234));
	ASSERT_OK(vmc_vcpu_set_reg(v[1], VMC_X86_CS_BASE, 0x50000));
	ASSERT_OK(vmc_vm_reset(g.vm));
	ASSERT_OK(vmc_vcpu_get_reg(v[1], VMC_X86_RIP, &val));
	ASSERT_EQ_U64(val, 0xfff0);
	ASSERT_OK(vmc_vcpu_get_reg(v[1], VMC_X86_CS_BASE, &val));
	ASSERT_EQ_U64(val, 0xffff0000);

	/*
	 * A kernel call builds the vCPU, with pending writes: afterwards
	 * the registers come from the kernel and match what was cached.
	 */
	ASSERT_OK(vmc_vcpu_set_reg(v[0], VMC_X86_RBX, 0x77));
	ASSERT_OK(vmc_x86_vcpu_get_msr(v[0], 0x174, &val));
	ASSERT_OK(vmc_x86_vcpu_get_msr(v[1], 0x174, &val));
	for (unsigned int i = 0; i < 2; i++)
		for (size_t k = 0; k < 15; k++) {
			ASSERT_OK(vmc_vcpu_get_reg(v[i], regs[k], &val));
			ASSERT_EQ_U64(val, before[i][k]);
		}
	ASSERT_OK(vmc_vcpu_get_reg(v[0], VMC_X86_RBX, &val));
	ASSERT_EQ_U64(val, 0x77);

	/* The FPU's power-on state, and after a reset. */
	ASSERT_OK(vmc_vcpu_get_reg(v[0], VMC_X86_FCW, &val));
	ASSERT_EQ_U64(val, 0x37f);
	ASSERT_OK(vmc_vcpu_set_reg(v[0], VMC_X86_FCW, 0x27f));
	ASSERT_OK(vmc_vcpu_get_reg(v[0], VMC_X86_FCW, &val));
	ASSERT_EQ_U64(val, 0x27f);
	ASSERT_OK(vmc_vm_reset(g.vm));
	ASSERT_OK(vmc_vcpu_get_reg(v[0], VMC_X86_FCW, &val));
	ASSERT_EQ_U64(val, 0x37f);
	gvm_free(&g);

	/* A vCPU halted before it ever ran sleeps until an interrupt. */
	gvm_init(&g, loop, 1, NULL);
	v[0] = vmc_vm_get_vcpu(g.vm, 0);
	gvm_setup_long(&g, GT_HLT, 0);
	ASSERT_OK(vmc_vcpu_halt(v[0]));
	ASSERT_OK(vmc_vm_start(g.vm));
	usleep(20000);
	ASSERT_EQ(atomic_load(&g.nr_db), 0);
	ASSERT_EQ((int)vmc_vcpu_get_state(v[0]), (int)VMC_VCPU_HALTED);
	gvm_free(&g);
}

struct dbg_seen {
	_Atomic int hits;
	uint64_t pc;
	uint32_t exception;
};

static void on_debug(struct vmc_vcpu *vcpu,
		     const struct vmc_kvm_debug_exit *info, void *opaque)
{
	struct dbg_seen *s = opaque;

	s->pc = info->pc;
	s->exception = info->exception;
	atomic_fetch_add(&s->hits, 1);
}

static bool debug_hit(struct gvm *g, void *arg)
{
	return atomic_load(&((struct dbg_seen *)arg)->hits) > 0;
}

static void test_guest_debug(void)
{
	struct vmc_kvm_guest_debug d = {.size = sizeof(d)};
	struct dbg_seen seen = {0};
	struct vmc_vcpu *v;
	struct gvm g;
	int sw;

	gvm_init(&g, loop, 1, NULL);
	v = vmc_vm_get_vcpu(g.vm, 0);
	gvm_setup_long(&g, GT_HLT, 0);
	ASSERT_OK(vmc_kvm_set_debug_handler(g.vm, on_debug, &seen));

	/* A hardware breakpoint on the entry point. */
	d.flags = VMC_KVM_DEBUG_HW_BP;
	d.hw[0].type = VMC_KVM_HW_BP_EXEC;
	d.hw[0].addr = GUEST_LOAD;
	ASSERT_OK(vmc_kvm_vcpu_set_guest_debug(v, &d));
	ASSERT_OK(vmc_vm_start(g.vm));
	ASSERT_TRUE(gvm_spin(&g, debug_hit, &seen, 10000));
	ASSERT_EQ_U64(seen.pc, GUEST_LOAD);
	ASSERT_EQ(seen.exception, 1);

	/* Then single steps: each stop is one instruction further. */
	ASSERT_OK(vmc_vm_pause(g.vm));
	d.flags = VMC_KVM_DEBUG_SINGLESTEP;
	ASSERT_OK(vmc_kvm_vcpu_set_guest_debug(v, &d));
	atomic_store(&seen.hits, 0);
	ASSERT_OK(vmc_vm_resume(g.vm));
	ASSERT_TRUE(gvm_spin(&g, debug_hit, &seen, 10000));
	ASSERT_GT(seen.pc, GUEST_LOAD);
	ASSERT_LT(seen.pc, GUEST_LOAD + 16);

	d.flags = 0x100;
	ASSERT_ERR(vmc_kvm_vcpu_set_guest_debug(v, &d), -EINVAL);

	sw = vmc_kvm_probe_sw_breakpoints();
	ASSERT_TRUE(sw == 0 || sw == 1);
	fprintf(stderr, "   software breakpoints in long mode: %s\n",
		sw ? "work" : "broken (hardware fallback)");
	d.flags = VMC_KVM_DEBUG_SW_BP;
	if (sw)
		ASSERT_OK(vmc_kvm_vcpu_set_guest_debug(v, &d));
	else
		ASSERT_ERR(vmc_kvm_vcpu_set_guest_debug(v, &d), -EOPNOTSUPP);
	gvm_free(&g);
}

/*
 * A software breakpoint is a debugger's store to guest memory: it patches
 * RAM and ROM, and on a device's registers it fails without reading or
 * writing them.
 */
#define BP_DEV 0xd0000000u
#define BP_ROM 0xd0010000u

static void test_sw_breakpoint_targets(void)
{
	struct vmc_region *dev, *rom;
	struct vmc_vcpu *v;
	struct echo e;
	uint8_t *rp, saved;
	struct gvm g;
	int sw = vmc_kvm_probe_sw_breakpoints();

	/*
	 * Where int3 exits are unreliable, breakpoints use the debug
	 * registers; patching memory works the same either way, and
	 * nothing here runs the guest.
	 */
	vmc__kvm_sw_bp_override(1);
	gvm_init(&g, loop, 1, NULL);
	v = vmc_vm_get_vcpu(g.vm, 0);
	dev = add_echo(&g, VMC_AS_MEMORY, BP_DEV, 0x1000, &e);
	ASSERT_OK(vmc_region_new_rom(vmc_vm_get_memory(g.vm), "rom", 0x1000,
				     &rom));
	rp = vmc_region_get_ptr(rom);
	rp[0x10] = 0x90;
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
					   BP_ROM, rom, 0));
	/* Paging on: the long-mode tables map the low 4 GiB 1:1. */
	gvm_setup_long(&g, GT_HLT, 0);

	/* RAM: patched, then restored. */
	saved = g.mem[GUEST_LOAD];
	ASSERT_OK(vmc_vcpu_debug_insert(v, VMC_DEBUG_BREAK_SW, GUEST_LOAD, 1));
	ASSERT_EQ(g.mem[GUEST_LOAD], 0xcc);
	ASSERT_OK(vmc_vcpu_debug_remove(v, VMC_DEBUG_BREAK_SW, GUEST_LOAD, 1));
	ASSERT_EQ(g.mem[GUEST_LOAD], saved);

	/* ROM, which the guest cannot store to: patched too. */
	ASSERT_OK(
		vmc_vcpu_debug_insert(v, VMC_DEBUG_BREAK_SW, BP_ROM + 0x10, 1));
	ASSERT_EQ(rp[0x10], 0xcc);
	ASSERT_OK(
		vmc_vcpu_debug_remove(v, VMC_DEBUG_BREAK_SW, BP_ROM + 0x10, 1));
	ASSERT_EQ(rp[0x10], 0x90);

	/* A device's registers: refused, and the device saw nothing. */
	ASSERT_ERR(vmc_vcpu_debug_insert(v, VMC_DEBUG_BREAK_SW, BP_DEV + 4, 1),
		   -EFAULT);
	ASSERT_EQ(e.n, 0);
	ASSERT_ERR(vmc_vcpu_debug_remove(v, VMC_DEBUG_BREAK_SW, BP_DEV + 4, 1),
		   -ENOENT);
	ASSERT_EQ(e.n, 0);

	gvm_free(&g);
	vmc_region_unref(dev);
	vmc_region_unref(rom);
	vmc__kvm_sw_bp_override(sw);
}

static void test_config_and_errors(void)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc), .flags = VMC_KVM_PIT};
	struct vmc_vm_config c;
	struct vmc_vm *vm;

	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_KVM;
	c.arch = VMC_ARCH_RISCV64;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	c.arch = VMC_ARCH_X86_64;
	c.accel_config = &kc; /* PIT without irqchip */
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);

	/* AUTO picks KVM for x86-64 where it works. */
	c.accel = VMC_ACCEL_AUTO;
	c.accel_config = NULL;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_EQ(vmc_vm_get_accel(vm), VMC_ACCEL_KVM);
	vmc_vm_unref(vm);

	/* KVM-only calls on another accelerator. */
	c.accel = VMC_ACCEL_HARNESS;
	c.arch = VMC_ARCH_NONE;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_ERR(vmc_kvm_has_irqchip(vm), -EOPNOTSUPP);
	ASSERT_ERR(vmc_kvm_set_debug_handler(vm, NULL, NULL), -EOPNOTSUPP);
	ASSERT_ERR(vmc_kvm_set_dirty_logging(vm, vmc_vm_get_root(vm, 0), true),
		   -EOPNOTSUPP);
	ASSERT_ERR(vmc_x86_vcpu_set_msr(vmc_vm_get_vcpu(vm, 0), 0x174, 0),
		   -EOPNOTSUPP);
	vmc_vm_unref(vm);
}

int main(void)
{
	struct gvm probe;
	int r;

	ASSERT_OK(vmc_loop_new(&loop));
	/* libuv keeps a process-wide pipe from its first loop on. */
	vmc_test__scan_fds(vmc_test_fds_at_start);
	r = gvm_init_cfg(&probe, loop, 1, NULL);
	if (r == -ENODEV || r == -EOPNOTSUPP)
		SKIP("KVM is not usable here (%s)", strerror(-r));
	ASSERT_OK(r);
	gvm_free(&probe);

	RUN(test_config_and_errors);
	RUN(test_real_and_protected_mode);
	RUN(test_pio);
	RUN(test_pio_edges);
	RUN(test_mmio_and_wide_datamatch);
	RUN(test_ioeventfd);
	RUN(test_userspace_intr);
	RUN(test_irqfd);
	RUN(test_pause_resume_kick);
	RUN(test_smp_2);
	RUN(test_smp_4);
	RUN(test_memslot_swap);
	RUN(test_dirty_log);
	RUN(test_dirty_log_generic);
	RUN(test_triple_fault);
	RUN(test_bad_state);
	RUN(test_registers);
	RUN(test_register_cache);
	RUN(test_lazy_vcpu);
	RUN(test_guest_debug);
	RUN(test_sw_breakpoint_targets);
	vmc_loop_unref(loop);
	return 0;
}
