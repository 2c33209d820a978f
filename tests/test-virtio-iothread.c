/* SPDX-License-Identifier: MIT */
/*
 * Virtio devices on I/O threads (vmc-iothread.h, vmc_virtio_config's
 * @c iothread) on the harness accelerator.
 *
 * An echo device (each request's readable bytes copied into its writable
 * buffer) checks the contract from inside: @c queue_notify runs on the I/O
 * thread without the VM lock, and the interrupt line, which needs the VM
 * lock here, is set with it.  The stress case has two driver threads (one
 * queue each) pushing requests through the ioeventfd while a third
 * thread reads and acknowledges InterruptStatus and the main thread takes
 * the VM lock and runs the VM's loop, then resets the device with
 * requests in flight.  Meant to be run under ThreadSanitizer (the tsan
 * setup) as well.  Also virtio-rng on an I/O thread.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <stdatomic.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

/* This test drives the rings itself; some helpers stay unused. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "virtio-driver.h"
#pragma GCC diagnostic pop

static struct vmc_iothread *iot;
static _Atomic unsigned int line_raises, line_unlocked;

/* The interrupt line: must be set with the VM lock (it is not any-thread). */
static void on_line(void *opaque, unsigned int n, bool level)
{
	if (!vmc_vm_lock_held(vm))
		atomic_fetch_add(&line_unlocked, 1);
	if (level)
		atomic_fetch_add(&line_raises, 1);
}

struct echo {
	struct vmc_virtio *vdev;
	_Atomic unsigned int calls, wrong_thread;
};

static void echo_notify(void *opaque, struct vmc_virtq *vq)
{
	struct echo *e = opaque;
	struct vmc_virtq_elem *el;
	uint8_t buf[256];
	bool pushed = false;

	atomic_fetch_add(&e->calls, 1);
	if (vmc_vm_lock_held(vm) || !vmc_iothread_is_current(iot))
		atomic_fetch_add(&e->wrong_thread, 1);
	while (vmc_virtq_pop(vq, &el) > 0) {
		size_t n = vmc_virtq_elem_from_out(el, 0, buf, sizeof(buf));

		n = vmc_virtq_elem_to_in(el, 0, buf, n);
		vmc_virtq_push(vq, el, (uint32_t)n);
		pushed = true;
	}
	if (pushed)
		vmc_virtq_notify(vq);
}

static struct echo *echo_up(struct vmc_irq *line, unsigned int nq)
{
	static const struct vmc_virtio_ops ops = {
		.struct_size = sizeof(ops),
		.queue_notify = echo_notify,
	};
	struct vmc_virtio_config c;
	struct echo *e = calloc(1, sizeof(*e));

	ASSERT_NOT_NULL(e);
	vmc_virtio_config_init(&c);
	c.vm = vm;
	c.irq = line;
	c.device_id = 0x7f;
	c.features = 1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	c.num_queues = nq;
	c.queue_max_size = 64;
	c.iothread = iot;
	c.name = "echo";
	ASSERT_OK(vmc_virtio_new(&c, &ops, e, &e->vdev));
	map_dev(vmc_virtio_get_region(e->vdev));
	return e;
}

static void echo_down(struct echo *e)
{
	unmap_dev(vmc_virtio_get_region(e->vdev));
	vmc_virtio_free(e->vdev);
	free(e);
}

/* Ring access with the orderings a real driver uses. */
static void avail_publish(unsigned int qi, uint16_t head)
{
	struct drv *d = &q[qi];

	put16(d->avail + 4 + 2 * (d->avail_idx % d->num), head);
	d->avail_idx++;
	__atomic_store_n((uint16_t *)gpa(d->avail + 2), d->avail_idx,
			 __ATOMIC_SEQ_CST);
}

static uint16_t used_load(unsigned int qi)
{
	return __atomic_load_n((uint16_t *)gpa(q[qi].used + 2),
			       __ATOMIC_ACQUIRE);
}

/* Request @i on queue @qi: 16 readable bytes, 16 writable; descs 2s.. */
static void submit(unsigned int qi, unsigned int i)
{
	unsigned int slot = i % (q[qi].num / 2);
	uint64_t buf = BUF_GPA + 0x10000 * qi + 0x40 * slot;
	uint16_t d = (uint16_t)(2 * slot);

	for (int k = 0; k < 16; k++)
		*gpa(buf + (uint64_t)k) = (uint8_t)(i + (unsigned)k + qi);
	memset(gpa(buf + 0x20), 0, 16);
	set_desc(q[qi].desc, d, buf, 16, D_NEXT, (uint16_t)(d + 1));
	set_desc(q[qi].desc, d + 1u, buf + 0x20, 16, D_WRITE, 0);
	avail_publish(qi, d);
	wr(R_NOTIFY, qi);
}

static bool wait_used(unsigned int qi, uint16_t want)
{
	int64_t end = vmc_test_now_ns() + 5000000000ll;

	while (used_load(qi) != want)
		if (vmc_test_now_ns() > end)
			return false;
	return true;
}

static bool check_reply(unsigned int qi, unsigned int i)
{
	unsigned int slot = i % (q[qi].num / 2);
	uint64_t buf = BUF_GPA + 0x10000 * qi + 0x40 * slot;

	for (int k = 0; k < 16; k++)
		if (*gpa(buf + 0x20 + (uint64_t)k) !=
		    (uint8_t)(i + (unsigned)k + qi))
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */

static void job(void *arg)
{
	*(bool *)arg = vmc_iothread_is_current(iot);
}

static void test_iothread(void)
{
	struct vmc_iothread *t;
	bool on = false;

	ASSERT_ERR(vmc_iothread_new("x", NULL), -EINVAL);
	ASSERT_OK(vmc_iothread_new("vmc-io0", &iot));
	ASSERT_NOT_NULL(vmc_iothread_get_loop(iot));
	ASSERT_FALSE(vmc_iothread_is_current(iot));
	ASSERT_OK(vmc_iothread_run_sync(iot, job, &on));
	ASSERT_TRUE(on);
	ASSERT_ERR(vmc_iothread_run_sync(iot, NULL, NULL), -EINVAL);
	ASSERT_ERR(vmc_iothread_run_sync(NULL, job, &on), -EINVAL);
	ASSERT_NULL(vmc_iothread_get_loop(NULL));
	vmc_iothread_free(iot);
	vmc_iothread_free(NULL);
	/* Many in a row. */
	for (int i = 0; i < 20; i++) {
		ASSERT_OK(vmc_iothread_new(NULL, &t));
		vmc_iothread_free(t);
	}
	iot = NULL;
}

static void test_echo(void)
{
	struct vmc_virtio_stats st = {.size = sizeof(st)};
	struct vmc_irq *line;
	struct echo *e;

	vm_up();
	ASSERT_OK(vmc_iothread_new("vmc-io0", &iot));
	ASSERT_OK(vmc_irq_new(on_line, NULL, 0, &line));
	atomic_store(&line_raises, 0);
	atomic_store(&line_unlocked, 0);
	e = echo_up(line, 1);
	drv_init(false, F_VERSION_1, 1, 16);
	for (unsigned int i = 0; i < 10; i++) {
		submit(0, i);
		ASSERT_TRUE(wait_used(0, (uint16_t)(i + 1)));
		ASSERT_TRUE(check_reply(0, i));
		ASSERT_EQ(used_len(0, (uint16_t)i), 16);
		/*
		 * The deferred line is set on the I/O thread just after;
		 * wait for the line itself, not InterruptStatus: an ACK
		 * between the two would make the raise unnecessary (and
		 * uncounted).
		 */
		for (int k = 0; k < 50000 && atomic_load(&line_raises) < i + 1;
		     k++)
			usleep(100);
		ASSERT_EQ(rd(R_ISR), 1);
		wr(R_ACK, 1);
	}
	ASSERT_GE(atomic_load(&e->calls), 10);
	ASSERT_EQ(atomic_load(&e->wrong_thread), 0);
	ASSERT_GE(atomic_load(&line_raises), 10);
	ASSERT_EQ(atomic_load(&line_unlocked), 0);
	ASSERT_OK(vmc_virtio_get_stats(e->vdev, &st));
	ASSERT_EQ(st.notifies_trapped, 0);
	ack_irq();
	/* The host's lock: VM lock and the device mutex. */
	vmc_virtio_lock(e->vdev);
	ASSERT_TRUE(vmc_vm_lock_held(vm));
	ASSERT_OK(vmc_virtio_config_changed(e->vdev));
	vmc_virtio_unlock(e->vdev);
	ASSERT_FALSE(vmc_vm_lock_held(vm));
	echo_down(e);
	vmc_irq_free(line);
	vmc_iothread_free(iot);
	iot = NULL;
	vm_down();
}

/* ------------------------------------------------------------------------
 * Stress
 */

#define STRESS_REQS 3000

static _Atomic bool stop_isr;
static _Atomic unsigned int driver_failures;

static void *driver_thread(void *arg)
{
	unsigned int qi = (unsigned int)(uintptr_t)arg;
	long n = vmc_test_scale(STRESS_REQS);

	for (unsigned int i = 0; i < (unsigned int)n; i++) {
		submit(qi, i);
		if (!wait_used(qi, (uint16_t)(i + 1)) || !check_reply(qi, i)) {
			atomic_fetch_add(&driver_failures, 1);
			break;
		}
	}
	return NULL;
}

static void *isr_thread(void *arg)
{
	uint64_t cfg;

	while (!atomic_load(&stop_isr)) {
		uint32_t isr = rd(R_ISR);

		if (isr)
			wr(R_ACK, isr);
		(void)rd(R_STATUS);
		vmc_as_read(as, DEV_BASE + R_CONFIG, &cfg, 4);
	}
	return NULL;
}

static void test_stress(void)
{
	pthread_t drivers[2], isr;
	struct vmc_irq *line;
	struct echo *e;
	int64_t t0, t1;
	long n = vmc_test_scale(STRESS_REQS);

	vm_up();
	ASSERT_OK(vmc_iothread_new("vmc-io0", &iot));
	ASSERT_OK(vmc_irq_new(on_line, NULL, 0, &line));
	atomic_store(&line_unlocked, 0);
	e = echo_up(line, 2);
	drv_init(false, F_VERSION_1 | F_EVENT_IDX, 2, 64);
	atomic_store(&stop_isr, false);
	t0 = vmc_test_now_ns();
	ASSERT_EQ(pthread_create(&isr, NULL, isr_thread, NULL), 0);
	for (uintptr_t i = 0; i < 2; i++)
		ASSERT_EQ(pthread_create(&drivers[i], NULL, driver_thread,
					 (void *)i),
			  0);
	/* The VM's loop and other VM-lock users go on meanwhile. */
	for (int i = 0; i < 2000; i++) {
		vmc_vm_lock(vm);
		vmc_vm_unlock(vm);
		vmc_loop_run_once(loop, false);
		if (used_load(0) == (uint16_t)n && used_load(1) == (uint16_t)n)
			break;
		usleep(200);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(drivers[i], NULL);
	t1 = vmc_test_now_ns();
	fprintf(stderr, "   %ld requests on each of 2 queues: %.1f us each\n",
		n, (double)(t1 - t0) / 1e3 / (double)(2 * n));
	ASSERT_EQ(atomic_load(&driver_failures), 0);
	ASSERT_EQ(atomic_load(&e->wrong_thread), 0);
	ASSERT_EQ(atomic_load(&line_unlocked), 0);

	/* A reset with requests in flight: nothing published after it. */
	for (unsigned int i = 0; i < 8; i++)
		submit(0, (unsigned int)n + i);
	wr(R_STATUS, 0);
	{
		uint16_t u = used_load(0);

		usleep(20000);
		ASSERT_EQ(used_load(0), u);
	}
	atomic_store(&stop_isr, true);
	pthread_join(isr, NULL);
	echo_down(e);
	vmc_irq_free(line);
	vmc_iothread_free(iot);
	iot = NULL;
	vm_down();
}

static void test_rng(void)
{
	struct vmc_virtio_rng_config c;
	struct vmc_virtio_rng *rng;
	struct vmc_irq *line;
	int pfd[2];

	vm_up();
	ASSERT_OK(vmc_iothread_new("vmc-io0", &iot));
	ASSERT_OK(vmc_irq_new(on_line, NULL, 0, &line));
	atomic_store(&line_unlocked, 0);
	vmc_virtio_rng_config_init(&c);
	c.vm = vm;
	c.irq = line;
	c.iothread = iot;
	ASSERT_OK(vmc_virtio_rng_new(&c, &rng));
	map_dev(vmc_virtio_rng_get_region(rng));
	drv_init(false, F_VERSION_1, 1, 8);
	memset(gpa(BUF_GPA), 0, 64);
	set_desc(q[0].desc, 0, BUF_GPA, 64, D_WRITE, 0);
	avail_publish(0, 0);
	wr(R_NOTIFY, 0);
	ASSERT_TRUE(wait_used(0, 1));
	ASSERT_EQ(used_len(0, 0), 64);
	ASSERT_EQ(atomic_load(&line_unlocked), 0);
	unmap_dev(vmc_virtio_rng_get_region(rng));
	vmc_virtio_rng_free(rng);

	/*
	 * A pipe as the source: the request waits, with the pipe's handler
	 * armed on the I/O thread's loop (the VM's loop never runs here),
	 * until bytes come.
	 */
	ASSERT_OK(pipe2(pfd, O_CLOEXEC | O_NONBLOCK));
	c.fd = pfd[0];
	ASSERT_OK(vmc_virtio_rng_new(&c, &rng));
	map_dev(vmc_virtio_rng_get_region(rng));
	drv_init(false, F_VERSION_1, 1, 8);
	set_desc(q[0].desc, 0, BUF_GPA, 64, D_WRITE, 0);
	avail_publish(0, 0);
	wr(R_NOTIFY, 0);
	usleep(20000);
	ASSERT_EQ(used_load(0), 0);
	ASSERT_EQ(write(pfd[1], "0123456789", 10), 10);
	ASSERT_TRUE(wait_used(0, 1));
	ASSERT_EQ(used_len(0, 0), 10);
	ASSERT_EQ(memcmp(gpa(BUF_GPA), "0123456789", 10), 0);
	/* Freed with a request waiting on the pipe. */
	set_desc(q[0].desc, 1, BUF_GPA, 64, D_WRITE, 0);
	avail_publish(0, 1);
	wr(R_NOTIFY, 0);
	usleep(5000);
	ASSERT_EQ(atomic_load(&line_unlocked), 0);
	unmap_dev(vmc_virtio_rng_get_region(rng));
	vmc_virtio_rng_free(rng);
	close(pfd[0]);
	close(pfd[1]);
	vmc_irq_free(line);
	vmc_iothread_free(iot);
	iot = NULL;
	vm_down();
}

int main(void)
{
	RUN(test_iothread);
	RUN(test_echo);
	RUN(test_stress);
	RUN(test_rng);
	return 0;
}
