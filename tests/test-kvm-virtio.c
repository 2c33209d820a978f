/* SPDX-License-Identifier: MIT */
/*
 * virtio on KVM through the whole path: a bare-metal long-mode driver
 * (tests/guest/x86/virtio64.S) kicks a virtio-rng through QueueNotify,
 * the device fills the buffer, and the completion interrupt reaches the
 * guest through an irqfd on a level-triggered I/O APIC pin.
 *
 * What proves the fast paths are used: the transport counts every
 * notification that reached its QueueNotify register (an exit to the VMM
 * that takes the VM lock), and there are none: the kernel matched the
 * ioeventfd.  The device's line is an irqfd line and nothing else is wired
 * to the GSI; its counters show the irqfd signalled and the kernel
 * resampling after each EOI.  The guest leaves its first interrupt
 * unacknowledged, so it arrives only if the level scheme re-asserts the
 * line after the EOI.  Then the same with the device on an I/O thread
 * raising its irqfd line from there.  Skips (77) where /dev/kvm is
 * unusable.
 */
#include "kvm-guest.h"

static struct vmc_loop *loop;

static void setup_guest(struct gvm *g, uint64_t requests)
{
	struct vmc_vcpu *v = vmc_vm_get_vcpu(g->vm, 0);

	gvm_load("virtio64.bin", g->mem + GUEST_LOAD, GUEST_IDT - GUEST_LOAD);
	ASSERT_OK(vmc_x86_vcpu_setup_long_mode(v, g->mem + GUEST_TABLES,
					       GUEST_TABLES, GUEST_LOAD,
					       GUEST_STACK));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RDI, requests));
}

static void test_line_args(void)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc),
				    .flags = VMC_KVM_IRQCHIP};
	struct vmc_kvm_irqfd_line *line;
	struct vmc_iothread *iot;
	struct vmc_vm_config c;
	struct vmc_vm *vm;
	struct gvm g;

	/* Not KVM. */
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_ERR(vmc_kvm_irqfd_line_new(vm, 5, 0, &line), -EOPNOTSUPP);
	vmc_vm_unref(vm);
	/* KVM without the in-kernel irqchip. */
	gvm_init(&g, loop, 1, NULL);
	ASSERT_ERR(vmc_kvm_irqfd_line_new(g.vm, 5, 0, &line), -EOPNOTSUPP);
	gvm_free(&g);

	gvm_init(&g, loop, 1, &kc);
	ASSERT_ERR(vmc_kvm_irqfd_line_new(NULL, 5, 0, &line), -EINVAL);
	ASSERT_ERR(vmc_kvm_irqfd_line_new(g.vm, 5, 0x80, &line), -EINVAL);
	ASSERT_ERR(vmc_kvm_irqfd_line_new(g.vm, 24, 0, &line), -EINVAL);
	ASSERT_ERR(vmc_kvm_irqfd_line_get_counts(NULL, NULL, NULL), -EINVAL);
	ASSERT_NULL(vmc_kvm_irqfd_line_get_irq(NULL));
	ASSERT_OK(vmc_kvm_irqfd_line_new(g.vm, 5, VMC_KVM_IRQFD_LINE_LEVEL,
					 &line));
	ASSERT_NOT_NULL(vmc_kvm_irqfd_line_get_irq(line));
	vmc_kvm_irqfd_line_free(line);
	vmc_kvm_irqfd_line_free(NULL);

	/* Resamples on an I/O thread: edge lines have none to move. */
	ASSERT_OK(vmc_iothread_new("vmc-io-args", &iot));
	ASSERT_ERR(vmc_kvm_irqfd_line_set_iothread(NULL, iot), -EINVAL);
	ASSERT_OK(vmc_kvm_irqfd_line_new(g.vm, 5, 0, &line));
	ASSERT_OK(vmc_kvm_irqfd_line_set_iothread(line, iot));
	vmc_kvm_irqfd_line_free(line);
	/* A level line freed while its resamples are there. */
	ASSERT_OK(vmc_kvm_irqfd_line_new(g.vm, 5, VMC_KVM_IRQFD_LINE_LEVEL,
					 &line));
	ASSERT_OK(vmc_kvm_irqfd_line_set_iothread(line, iot));
	ASSERT_OK(vmc_kvm_irqfd_line_set_iothread(line, iot));
	vmc_kvm_irqfd_line_free(line);
	vmc_iothread_free(iot);
	gvm_free(&g);
}

/*
 * @iothread: the device on an I/O thread, its irqfd line set from there
 * directly (irq_any_thread): no VM lock anywhere between the guest's
 * notification and its interrupt.  @resample_there: the line's resamples
 * on that I/O thread too, and the VM's loop does not run while the guest
 * makes its requests, so the re-assertion of the first interrupt (which
 * the guest waits for) can only come from the I/O thread.
 */
static void rng_guest(bool iothread, bool resample_there)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc),
				    .flags = VMC_KVM_IRQCHIP};
	struct vmc_virtio_stats st = {.size = sizeof(st)};
	struct vmc_virtio_rng_config rc;
	struct vmc_kvm_irqfd_line *line;
	struct vmc_virtio_rng *rng;
	struct vmc_iothread *iot = NULL;
	uint64_t signals, resamples;
	const uint64_t n = 200;
	int64_t t0, t1;
	struct gvm g;
	int r;

	gvm_init(&g, loop, 1, &kc);
	r = vmc_kvm_irqfd_line_new(g.vm, VIO_GSI, VMC_KVM_IRQFD_LINE_LEVEL,
				   &line);
	if (r == -EOPNOTSUPP)
		SKIP("no KVM_CAP_IRQFD_RESAMPLE");
	ASSERT_OK(r);
	vmc_virtio_rng_config_init(&rc);
	rc.vm = g.vm;
	rc.irq = vmc_kvm_irqfd_line_get_irq(line);
	if (iothread) {
		ASSERT_OK(vmc_iothread_new("vmc-io-rng", &iot));
		rc.iothread = iot;
		rc.irq_any_thread = true;
		if (resample_there)
			ASSERT_OK(vmc_kvm_irqfd_line_set_iothread(line, iot));
	}
	ASSERT_OK(vmc_virtio_rng_new(&rc, &rng));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
					   VIO_BASE,
					   vmc_virtio_rng_get_region(rng), 0));
	setup_guest(&g, n);
	ASSERT_OK(vmc_vm_start(g.vm));
	gvm_wait_db(&g, 1);
	ASSERT_EQ(gvm_db(&g, 0), DB_READY);
	t0 = vmc_test_now_ns();
	if (resample_there) {
		while (atomic_load(&g.nr_done) < 1) {
			if (vmc_test_now_ns() - t0 > INT64_C(10000000000))
				FAIL("guest stuck: the first interrupt was "
				     "not re-asserted (%u doorbells)",
				     atomic_load(&g.nr_db));
			usleep(100);
		}
	} else {
		gvm_wait_done(&g, 1);
	}
	t1 = vmc_test_now_ns();
	ASSERT_EQ(atomic_load(&g.nr_db), 4);
	/*
	 * Interrupts: one per request, plus the re-assertion of the first
	 * (without it the guest would still be waiting), plus some the
	 * guest finds with InterruptStatus 0.  Those are legal on a level
	 * line whose resample races the device's next completion (observed:
	 * 1 in 200 quietly, 30 in 200 under ASan with an I/O thread; virtio
	 * drivers ignore them).  The bound catches a storm, not the race.
	 */
	ASSERT_GE(gvm_db(&g, 1), n + 1);
	ASSERT_LE(gvm_db(&g, 1), 2 * n + 1);
	ASSERT_EQ(gvm_db(&g, 2), 1); /* the buffer was filled */

	ASSERT_OK(vmc_virtio_get_stats(vmc_virtio_rng_get_virtio(rng), &st));
	ASSERT_OK(vmc_kvm_irqfd_line_get_counts(line, &signals, &resamples));
	fprintf(stderr,
		"   %llu requests in %.1f us each: %llu notifications "
		"handled, %llu trapped; %llu interrupts raised, %u taken, "
		"%llu irqfd signals, %llu resamples\n",
		(unsigned long long)n, (double)(t1 - t0) / 1e3 / (double)n,
		(unsigned long long)st.notifies,
		(unsigned long long)st.notifies_trapped,
		(unsigned long long)st.interrupts, gvm_db(&g, 1),
		(unsigned long long)signals, (unsigned long long)resamples);
	/* The kernel matched every QueueNotify: no exit reached the VMM. */
	ASSERT_EQ(st.notifies_trapped, 0);
	ASSERT_GE(st.notifies, 1);
	/*
	 * At most one rising edge per request; fewer when the line stayed
	 * high across two requests (seen on the I/O thread: 183-200 of 200,
	 * every request still completed and interrupted).
	 */
	ASSERT_LE(st.interrupts, n);
	ASSERT_GE(st.interrupts, n / 2);
	/* Each raise went through the irqfd; the first one twice.  The
	 * kernel resampled after each EOI. */
	ASSERT_GE(signals, n + 1);
	ASSERT_GE(resamples, n); /* the last may still be on its way */

	ASSERT_OK(vmc_vm_pause(g.vm));
	ASSERT_OK(vmc_region_remove_subregion(
		vmc_vm_get_root(g.vm, VMC_AS_MEMORY),
		vmc_virtio_rng_get_region(rng)));
	vmc_virtio_rng_free(rng);
	/* Back to the VM's loop before the I/O thread goes. */
	if (resample_there)
		ASSERT_OK(vmc_kvm_irqfd_line_set_iothread(line, NULL));
	vmc_iothread_free(iot);
	vmc_kvm_irqfd_line_free(line);
	gvm_free(&g);
}

static void test_rng_guest(void)
{
	rng_guest(false, false);
}

static void test_rng_guest_iothread(void)
{
	rng_guest(true, false);
}

static void test_rng_guest_iothread_resample(void)
{
	rng_guest(true, true);
}

int main(void)
{
	ASSERT_OK(vmc_loop_new(&loop));
	RUN(test_line_args);
	RUN(test_rng_guest);
	RUN(test_rng_guest_iothread);
	RUN(test_rng_guest_iothread_resample);
	vmc_loop_unref(loop);
	return 0;
}
