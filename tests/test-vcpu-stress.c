/* SPDX-License-Identifier: MIT */
/*
 * Lifecycle stress: 4 vCPUs on a simulated accelerator that "runs guest
 * code" (spins, polling exit_request) and halts at random, while host
 * threads and the loop thread pause, resume, reset, kick, raise interrupts,
 * queue sync/async/exclusive work, and unplug a vCPU mid-run.
 *
 * Checked: no deadlock and no lost wake-up (every wait returns; meson's
 * timeout catches hangs), every work item runs exactly once and in FIFO
 * order per vCPU, exclusive work never overlaps guest code, pause returns
 * only with every vCPU stopped.  Run it under the thread sanitizer.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <libvmcore/libvmcore.h>

#include "vm-internal.h"
#include "vmc-test.h"

#define NR_VCPUS 4
#define HOST_THREADS 2

static _Atomic int in_guest;
static _Atomic bool in_exclusive;
static _Atomic long guest_slices;
static _Atomic long exclusive_runs;
static _Atomic long violations;
/* The slowest vmc_vm_pause() seen, in ns (loop thread only). */
static int64_t max_pause_ns;
static long pauses;

/* ---- the simulated accelerator ---------------------------------------- */

static _Thread_local unsigned int rng_state;

static unsigned int rnd(void)
{
	if (!rng_state)
		rng_state = (unsigned int)(uintptr_t)&rng_state | 1;
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static int sim_run(struct vmc_vcpu *vcpu)
{
	atomic_fetch_add(&in_guest, 1);
	atomic_fetch_add(&guest_slices, 1);
	for (int i = 0; i < 2000; i++) {
		if (atomic_load(&in_exclusive))
			atomic_fetch_add(&violations, 1);
		if (atomic_load_explicit(&vcpu->acc.exit_request,
					 memory_order_acquire))
			break;
	}
	atomic_fetch_sub(&in_guest, 1);
	return (rnd() % 8) == 0 ? VMC__EXIT_HALTED : VMC__EXIT_KICKED;
}

static bool sim_has_work(struct vmc_vcpu *vcpu)
{
	return atomic_load(&vcpu->acc.irqs) & 1;
}

static const struct vmc_accel_ops sim_ops = {
	.name = "sim",
	.type = VMC_ACCEL_HARNESS,
	.vcpu_run = sim_run,
	.vcpu_has_work = sim_has_work,
};

/*
 * The same, with its vCPU state built on the creating thread (KVM's way):
 * vmc_vm_new() does not wait for the threads, which count as parked until
 * they first take the VM lock.
 */
static _Atomic int sim_built;

static int sim_create(struct vmc_vcpu *vcpu)
{
	vcpu->acc.state = &sim_built;
	atomic_fetch_add(&sim_built, 1);
	return 0;
}

static int sim_run_built(struct vmc_vcpu *vcpu)
{
	if (vcpu->acc.state != &sim_built)
		atomic_fetch_add(&violations, 1);
	return sim_run(vcpu);
}

static const struct vmc_accel_ops sim_ops_built = {
	.name = "sim-built",
	.type = VMC_ACCEL_HARNESS,
	.vcpu_create = sim_create,
	.vcpu_run = sim_run_built,
	.vcpu_has_work = sim_has_work,
};

/* ---- work items ---------------------------------------------------------- */

struct vcpu_book {
	pthread_mutex_t lock; /* orders queueing with sequence numbers */
	long queued;	      /* async items accepted */
	_Atomic long ran;     /* async items run */
	long next_seq;	      /* next expected sequence (vCPU thread) */
	_Atomic long order_errors;
};

static struct vcpu_book book[NR_VCPUS];

/*
 * Items live on one list until the round ends: an item still queued when
 * its vCPU is unplugged is dropped without running, so its callback cannot
 * be what frees it.
 */
struct item {
	struct item *next;
	int vcpu;
	long seq;
};

static pthread_mutex_t items_lock = PTHREAD_MUTEX_INITIALIZER;
static struct item *items;

static void free_items(void)
{
	pthread_mutex_lock(&items_lock);
	while (items) {
		struct item *it = items;

		items = it->next;
		free(it);
	}
	pthread_mutex_unlock(&items_lock);
}

static void async_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct item *it = userdata;
	struct vcpu_book *b = &book[it->vcpu];

	if ((int)vmc_vcpu_get_index(vcpu) != it->vcpu || it->seq != b->next_seq)
		atomic_fetch_add(&b->order_errors, 1);
	b->next_seq = it->seq + 1;
	atomic_fetch_add(&b->ran, 1);
}

static void sync_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	_Atomic long *count = userdata;

	atomic_fetch_add(count, 1);
}

static void exclusive_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	atomic_store(&in_exclusive, true);
	if (atomic_load(&in_guest) != 0)
		atomic_fetch_add(&violations, 1);
	for (volatile int i = 0; i < 200; i++)
		;
	if (atomic_load(&in_guest) != 0)
		atomic_fetch_add(&violations, 1);
	atomic_store(&in_exclusive, false);
	atomic_fetch_add(&exclusive_runs, 1);
}

static void queue_async(struct vmc_vm *vm, int i)
{
	struct item *it = malloc(sizeof(*it));
	int r;

	ASSERT_NOT_NULL(it);
	pthread_mutex_lock(&items_lock);
	it->next = items;
	items = it;
	pthread_mutex_unlock(&items_lock);
	pthread_mutex_lock(&book[i].lock);
	it->vcpu = i;
	it->seq = book[i].queued;
	r = vmc_vcpu_run_async(vmc_vm_get_vcpu(vm, (unsigned int)i), async_cb,
			       it);
	if (r == 0)
		book[i].queued++;
	pthread_mutex_unlock(&book[i].lock);
	if (r < 0)
		ASSERT_ERR(r, -ENODEV);
}

/* ---- host threads ------------------------------------------------------- */

struct round {
	struct vmc_vm *vm;
	struct vmc_loop *loop;
	long ops;
	_Atomic int workers_left;
	_Atomic long sync_runs;
	long sync_ok;
	pthread_mutex_t sync_lock;
};

static void *host_thread(void *arg)
{
	struct round *rd = arg;
	struct vmc_vm *vm = rd->vm;

	for (long n = 0; n < rd->ops; n++) {
		int i = (int)(rnd() % NR_VCPUS);
		struct vmc_vcpu *v = vmc_vm_get_vcpu(vm, (unsigned int)i);
		int r;

		switch (rnd() % 9) {
		case 0:
		case 1:
		case 2:
			queue_async(vm, i);
			break;
		case 3:
			r = vmc_vcpu_run_sync(v, sync_cb, &rd->sync_runs);
			if (r == 0) {
				pthread_mutex_lock(&rd->sync_lock);
				rd->sync_ok++;
				pthread_mutex_unlock(&rd->sync_lock);
			} else {
				ASSERT_ERR(r, -ENODEV);
			}
			break;
		case 4:
			vmc_vcpu_kick(v);
			break;
		case 5:
			vmc_vcpu_set_irq(v, 0, rnd() & 1);
			break;
		case 6:
			r = vmc_vm_run_exclusive(vm, exclusive_cb, NULL);
			ASSERT_TRUE(r == 0 || r == -ENODEV);
			break;
		case 7:
			ASSERT_OK(vmc_vm_request_pause(vm));
			break;
		case 8:
			ASSERT_OK(vmc_vm_request_resume(vm));
			break;
		}
	}
	if (atomic_fetch_sub(&rd->workers_left, 1) == 1)
		vmc_loop_stop(rd->loop);
	return NULL;
}

/* ---- the loop thread's share -------------------------------------------- */

static void loop_tick(struct vmc_timer *t, void *userdata)
{
	struct round *rd = userdata;
	struct vmc_vm *vm = rd->vm;
	struct vmc_vcpu *v3 = vmc_vm_get_vcpu(vm, 3);

	switch (rnd() % 6) {
	case 0: {
		int64_t t0 = vmc_test_now_ns();

		ASSERT_OK(vmc_vm_pause(vm));
		t0 = vmc_test_now_ns() - t0;
		if (t0 > max_pause_ns)
			max_pause_ns = t0;
		pauses++;
		/* Pause returns only with every vCPU stopped. */
		for (unsigned int i = 0; i < NR_VCPUS; i++) {
			enum vmc_vcpu_state s =
				vmc_vcpu_get_state(vmc_vm_get_vcpu(vm, i));

			ASSERT_TRUE(s == VMC_VCPU_STOPPED ||
				    s == VMC_VCPU_UNPLUGGED);
		}
		ASSERT_EQ(atomic_load(&in_guest), 0);
		break;
	}
	case 1:
		ASSERT_OK(vmc_vm_resume(vm));
		break;
	case 2:
		ASSERT_OK(vmc_vm_reset(vm));
		break;
	case 3:
		if ((rnd() % 16) == 0 &&
		    vmc_vcpu_get_state(v3) != VMC_VCPU_UNPLUGGED)
			ASSERT_OK(vmc_vcpu_unplug(v3));
		break;
	default:
		queue_async(vm, (int)(rnd() % NR_VCPUS));
		break;
	}
	vmc_timer_mod(t, vmc_clock_get_ns(vmc_loop_get_clock(
				 rd->loop, VMC_CLOCK_REALTIME)) +
				 200000);
}

/*
 * Odd rounds: vCPU state built by vcpu_create, and idle vCPUs poll for
 * 20 us before they sleep (config.halt_poll_ns).
 */
static void run_round(struct vmc_loop *loop, long ops, bool variant)
{
	struct vmc_vm_config c;
	struct round rd = {.loop = loop, .ops = ops};
	pthread_t th[HOST_THREADS];
	struct vmc_timer *tick;
	struct vmc_clock *rt = vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME);

	for (int i = 0; i < NR_VCPUS; i++) {
		pthread_mutex_init(&book[i].lock, NULL);
		book[i].queued = 0;
		book[i].next_seq = 0;
		atomic_store(&book[i].ran, 0);
		atomic_store(&book[i].order_errors, 0);
	}
	pthread_mutex_init(&rd.sync_lock, NULL);
	vmc_vm_config_init(&c);
	c.vcpus = NR_VCPUS;
	c.loop = loop;
	c.halt_poll_ns = variant ? 20000 : 0;
	ASSERT_OK(vmc__vm_new_with_ops(&c, variant ? &sim_ops_built : &sim_ops,
				       &rd.vm));
	ASSERT_OK(vmc_vm_start(rd.vm));

	ASSERT_OK(vmc_timer_new(rt, loop_tick, &rd, &tick));
	ASSERT_OK(vmc_timer_mod(tick, vmc_clock_get_ns(rt) + 100000));
	atomic_store(&rd.workers_left, HOST_THREADS);
	for (int i = 0; i < HOST_THREADS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, host_thread, &rd), 0);
	ASSERT_OK(vmc_loop_run(loop));
	for (int i = 0; i < HOST_THREADS; i++)
		ASSERT_EQ(pthread_join(th[i], NULL), 0);
	vmc_timer_free(tick);

	/* Drain: apply pending requests, then flush every plugged vCPU. */
	vmc_loop_run_once(loop, false);
	ASSERT_OK(vmc_vm_resume(rd.vm));

	/* One timed pause per round, with the vCPUs spinning in guest code. */
	{
		int64_t t0;

		usleep(2000);
		t0 = vmc_test_now_ns();
		ASSERT_OK(vmc_vm_pause(rd.vm));
		t0 = vmc_test_now_ns() - t0;
		if (t0 > max_pause_ns)
			max_pause_ns = t0;
		pauses++;
		ASSERT_EQ(atomic_load(&in_guest), 0);
		ASSERT_OK(vmc_vm_resume(rd.vm));
	}
	for (unsigned int i = 0; i < NR_VCPUS; i++) {
		struct vmc_vcpu *v = vmc_vm_get_vcpu(rd.vm, i);
		int r = vmc_vcpu_run_sync(v, sync_cb, &rd.sync_runs);

		if (r == 0)
			rd.sync_ok++;
		else
			ASSERT_ERR(r, -ENODEV);
	}
	/* Every accepted sync item ran exactly once. */
	ASSERT_EQ(atomic_load(&rd.sync_runs), rd.sync_ok);
	for (int i = 0; i < NR_VCPUS; i++) {
		ASSERT_EQ(atomic_load(&book[i].order_errors), 0);
		if (vmc_vcpu_get_state(vmc_vm_get_vcpu(
			    rd.vm, (unsigned int)i)) != VMC_VCPU_UNPLUGGED)
			ASSERT_EQ(atomic_load(&book[i].ran), book[i].queued);
		else
			ASSERT_LE(atomic_load(&book[i].ran), book[i].queued);
	}
	ASSERT_EQ(atomic_load(&violations), 0);
	vmc_vm_unref(rd.vm);
	free_items();
	for (int i = 0; i < NR_VCPUS; i++)
		pthread_mutex_destroy(&book[i].lock);
	pthread_mutex_destroy(&rd.sync_lock);
}

int main(void)
{
	struct vmc_loop *loop;
	long rounds = vmc_test_scale(20);
	long ops = 2000;

	ASSERT_OK(vmc_loop_new(&loop));
	for (long r = 0; r < rounds; r++)
		run_round(loop, ops, r & 1);
	ASSERT_EQ(atomic_load(&sim_built), (int)(rounds / 2) * NR_VCPUS);
	vmc_loop_unref(loop);
	fprintf(stderr,
		"%ld rounds: %ld guest slices, %ld exclusive sections, 0 "
		"violations; %ld pauses, slowest %.3f ms\n",
		rounds, atomic_load(&guest_slices),
		atomic_load(&exclusive_runs), pauses, max_pause_ns / 1e6);
	ASSERT_GT(atomic_load(&exclusive_runs), 0);
	/*
	 * Pausing vCPUs that spin in guest code is a kick and an
	 * acknowledgement away: it must never wait for a time slice to end.
	 * The bound is generous for sanitizer builds on a loaded machine.
	 */
	ASSERT_GT(pauses, 0);
	ASSERT_LT(max_pause_ns, 500000000);
	return 0;
}
