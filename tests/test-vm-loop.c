/* SPDX-License-Identifier: MIT */
/*
 * A VM's loop objects (vmc_vm_timer_new and friends) and the end of a
 * device's life (vmc_region_detach_ops, ops->release): callbacks run with
 * the VM lock, a cancel made under the lock is final, freeing is safe while
 * a run is pending, and a device torn down while other threads hammer its
 * registers is never called after its state is gone.  Public API only.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "loop-test-util.h"
#include "vmc-test.h"

#define BASE 0x10000000

static struct vmc_loop *loop;
static struct vmc_vm *vm;

struct rec {
	atomic_int runs;
	atomic_int flag;
	bool lock_held;
	bool free_self;
};

static void rec_hit(struct rec *r)
{
	r->lock_held = vmc_vm_lock_held(vm);
	atomic_fetch_add(&r->runs, 1);
	atomic_store(&r->flag, 1);
}

static void timer_cb(struct vmc_timer *t, void *userdata)
{
	struct rec *r = userdata;

	rec_hit(r);
	if (r->free_self)
		vmc_timer_free(t);
}

static void bh_cb(struct vmc_bh *bh, void *userdata)
{
	struct rec *r = userdata;

	rec_hit(r);
	if (r->free_self)
		vmc_bh_free(bh);
}

static void test_errors(void)
{
	struct vmc_timer *t;
	struct vmc_bh *bh;
	struct vmc_fd_handler *h;
	struct vmc_region *ram;
	int p[2];

	ASSERT_ERR(
		vmc_vm_timer_new(NULL, VMC_CLOCK_VIRTUAL, timer_cb, NULL, &t),
		-EINVAL);
	ASSERT_ERR(vmc_vm_timer_new(vm, VMC_CLOCK_VIRTUAL, NULL, NULL, &t),
		   -EINVAL);
	ASSERT_ERR(
		vmc_vm_timer_new(vm, VMC_CLOCK_VIRTUAL, timer_cb, NULL, NULL),
		-EINVAL);
	ASSERT_ERR(vmc_vm_timer_new(vm, (enum vmc_clock_type)7, timer_cb, NULL,
				    &t),
		   -EINVAL);
	ASSERT_ERR(vmc_vm_bh_new(NULL, bh_cb, NULL, &bh), -EINVAL);
	ASSERT_ERR(vmc_vm_bh_new(vm, NULL, NULL, &bh), -EINVAL);
	ASSERT_ERR(vmc_vm_bh_new(vm, bh_cb, NULL, NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_fd_handler_new(NULL, 0, NULL, NULL, NULL, &h),
		   -EINVAL);
	ASSERT_ERR(vmc_vm_fd_handler_new(vm, -1, NULL, NULL, NULL, &h),
		   -EINVAL);
	ASSERT_ERR(vmc_vm_fd_handler_new(vm, 0, NULL, NULL, NULL, NULL),
		   -EINVAL);
	/* A closed fd. */
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	close(p[1]);
	ASSERT_ERR(vmc_vm_fd_handler_new(vm, p[0], NULL, NULL, NULL, &h),
		   -EBADF);
	ASSERT_ERR(vmc_vm_notifier_set_handler(NULL, NULL, NULL, NULL),
		   -EINVAL);
	ASSERT_ERR(vmc_vm_notifier_set_handler(vm, NULL, NULL, NULL), -EINVAL);

	ASSERT_ERR(vmc_region_detach_ops(NULL), -EINVAL);
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", 4096, 0,
				     &ram));
	ASSERT_ERR(vmc_region_detach_ops(ram), -EINVAL);
	vmc_region_unref(ram);
}

static void test_timers(void)
{
	struct rec rt = {0}, virt = {0};
	struct vmc_timer *t_rt, *t_virt;
	struct vmc_clock *rclk = vmc_loop_get_clock(loop, VMC_CLOCK_REALTIME);
	struct vmc_clock *vclk = vmc_vm_get_clock(vm);

	ASSERT_OK(
		vmc_vm_timer_new(vm, VMC_CLOCK_REALTIME, timer_cb, &rt, &t_rt));
	ASSERT_OK(vmc_vm_timer_new(vm, VMC_CLOCK_VIRTUAL, timer_cb, &virt,
				   &t_virt));
	ASSERT_OK(vmc_timer_mod(t_rt, vmc_clock_get_ns(rclk)));
	ASSERT_TRUE(run_until(loop, &rt.flag, 2000));
	ASSERT_TRUE(rt.lock_held);
	ASSERT_FALSE(vmc_vm_lock_held(vm));

	/* The VM's clock: deterministic, stepped by the test. */
	ASSERT_OK(vmc_timer_mod(t_virt, vmc_clock_get_ns(vclk) + 1000));
	ASSERT_OK(vmc_clock_step(vclk, 999));
	ASSERT_EQ(atomic_load(&virt.runs), 0);
	ASSERT_OK(vmc_clock_step(vclk, 1));
	ASSERT_EQ(atomic_load(&virt.runs), 1);
	ASSERT_TRUE(virt.lock_held);

	/* Freed inside its own callback. */
	rt.free_self = true;
	atomic_store(&rt.flag, 0);
	ASSERT_OK(vmc_timer_mod(t_rt, 0));
	ASSERT_TRUE(run_until(loop, &rt.flag, 2000));
	ASSERT_EQ(atomic_load(&rt.runs), 2);

	/* Due, then freed before the loop gets to it: never runs. */
	ASSERT_OK(
		vmc_vm_timer_new(vm, VMC_CLOCK_REALTIME, timer_cb, &rt, &t_rt));
	ASSERT_OK(vmc_timer_mod(t_rt, 0));
	vmc_timer_free(t_rt);
	run_for(loop, 20);
	ASSERT_EQ(atomic_load(&rt.runs), 2);
	vmc_timer_free(t_virt);
}

/* A thread that holds the VM lock while the loop wants to run a source. */
struct holder {
	struct vmc_bh *bh;
	struct vmc_timer *t;
	atomic_int armed;
	atomic_int done;
};

static void *hold_and_cancel(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = {0, 50 * 1000000};

	vmc_vm_lock(vm);
	ASSERT_OK(vmc_bh_schedule(h->bh));
	ASSERT_OK(vmc_timer_mod(h->t, 0));
	atomic_store(&h->armed, 1);
	/* The loop thread wakes up and waits for the lock to run them. */
	nanosleep(&ts, NULL);
	ASSERT_OK(vmc_bh_cancel(h->bh));
	ASSERT_OK(vmc_timer_del(h->t));
	vmc_vm_unlock(vm);
	atomic_store(&h->done, 1);
	return NULL;
}

static void test_cancel_under_lock_is_final(void)
{
	struct rec rb = {0}, rt = {0};
	struct holder h = {0};
	pthread_t th;

	ASSERT_OK(vmc_vm_bh_new(vm, bh_cb, &rb, &h.bh));
	ASSERT_OK(
		vmc_vm_timer_new(vm, VMC_CLOCK_REALTIME, timer_cb, &rt, &h.t));
	/* Sanity: scheduled, it runs, with the lock. */
	ASSERT_OK(vmc_bh_schedule(h.bh));
	ASSERT_TRUE(run_until(loop, &rb.flag, 2000));
	ASSERT_TRUE(rb.lock_held);

	for (int i = 0; i < 5; i++) {
		atomic_store(&h.armed, 0);
		atomic_store(&h.done, 0);
		ASSERT_EQ(pthread_create(&th, NULL, hold_and_cancel, &h), 0);
		while (!atomic_load(&h.armed))
			sched_yield();
		ASSERT_TRUE(run_until(loop, &h.done, 2000));
		run_for(loop, 10);
		ASSERT_EQ(pthread_join(th, NULL), 0);
	}
	ASSERT_EQ(atomic_load(&rb.runs), 1);
	ASSERT_EQ(atomic_load(&rt.runs), 0);

	/* Scheduled, then freed before it ran: never runs. */
	ASSERT_OK(vmc_bh_schedule(h.bh));
	vmc_bh_free(h.bh);
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&rb.runs), 1);

	/* Freed inside its own callback. */
	ASSERT_OK(vmc_vm_bh_new(vm, bh_cb, &rb, &h.bh));
	rb.free_self = true;
	atomic_store(&rb.flag, 0);
	ASSERT_OK(vmc_bh_schedule(h.bh));
	ASSERT_TRUE(run_until(loop, &rb.flag, 2000));
	ASSERT_EQ(atomic_load(&rb.runs), 2);
	vmc_timer_free(h.t);
}

struct fdrec {
	struct rec r;
	struct vmc_fd_handler *h;
};

static void fd_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct fdrec *f = userdata;
	char c;

	ASSERT_EQ(read(fd, &c, 1), 1);
	rec_hit(&f->r);
	vmc_fd_handler_free(h);
	f->h = NULL;
}

static void notify_cb(struct vmc_notifier *n, void *userdata)
{
	rec_hit(userdata);
}

static void test_fd_and_notifier(void)
{
	struct fdrec f = {0};
	struct rec rn = {0};
	struct vmc_notifier *n;
	int p[2];

	ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	ASSERT_OK(vmc_vm_fd_handler_new(vm, p[0], fd_read, NULL, &f, &f.h));
	ASSERT_EQ(write(p[1], "x", 1), 1);
	ASSERT_TRUE(run_until(loop, &f.r.flag, 2000));
	ASSERT_TRUE(f.r.lock_held);
	ASSERT_NULL(f.h);
	close(p[0]);
	close(p[1]);

	ASSERT_OK(vmc_notifier_new(&n));
	ASSERT_OK(vmc_vm_notifier_set_handler(vm, n, notify_cb, &rn));
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_TRUE(run_until(loop, &rn.flag, 2000));
	ASSERT_TRUE(rn.lock_held);
	/* A plain handler replaces it, without the lock. */
	ASSERT_OK(vmc_notifier_set_handler(n, loop, notify_cb, &rn));
	atomic_store(&rn.flag, 0);
	ASSERT_OK(vmc_notifier_signal(n));
	ASSERT_TRUE(run_until(loop, &rn.flag, 2000));
	ASSERT_FALSE(rn.lock_held);
	ASSERT_OK(vmc_vm_notifier_set_handler(vm, n, NULL, NULL));
	vmc_notifier_free(n);
}

/* ------------------------------------------------------------------------
 * A small device with the three-step end of life.
 */
#define DEV_MAGIC 0x5eedf00dU

struct dev {
	uint32_t magic;
	uint64_t reg;	  /* VM lock */
	uint64_t ticks;	  /* VM lock */
	bool in_callback; /* VM lock */
	struct vmc_region *region;
	struct vmc_timer *timer;
	struct vmc_bh *bh;
	atomic_int *released;
};

static void dev_check(struct dev *d)
{
	ASSERT_EQ(d->magic, DEV_MAGIC);
	ASSERT_TRUE(vmc_vm_lock_held(vm));
	ASSERT_NOT_NULL(d->timer);
	ASSERT_NOT_NULL(d->bh);
}

static int dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *v)
{
	struct dev *d = opaque;

	dev_check(d);
	*v = d->reg + d->ticks;
	return 0;
}

static int dev_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct dev *d = opaque;

	dev_check(d);
	d->in_callback = true;
	d->reg = v;
	if (v & 1)
		vmc_bh_schedule(d->bh);
	else
		vmc_timer_mod(d->timer, 0);
	if (v == 0xdead)
		vmc_region_detach_ops(d->region); /* itself, from inside */
	d->in_callback = false;
	return 0;
}

static void dev_tick(struct dev *d)
{
	dev_check(d);
	ASSERT_FALSE(d->in_callback);
	d->ticks++;
}

static void dev_timer(struct vmc_timer *t, void *userdata)
{
	dev_tick(userdata);
}

static void dev_bh(struct vmc_bh *bh, void *userdata)
{
	dev_tick(userdata);
}

static void dev_release(void *opaque)
{
	struct dev *d = opaque;

	ASSERT_EQ(d->magic, DEV_MAGIC);
	d->magic = 0;
	atomic_fetch_add(d->released, 1);
	free(d);
}

static struct dev *dev_new(atomic_int *released)
{
	static const struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = dev_read,
		.write = dev_write,
		.release = dev_release,
		.min_access_size = 4,
		.max_access_size = 8,
		.endian = VMC_ENDIAN_LITTLE,
	};
	struct dev *d = calloc(1, sizeof(*d));

	ASSERT_NOT_NULL(d);
	d->magic = DEV_MAGIC;
	d->released = released;
	ASSERT_OK(vmc_vm_timer_new(vm, VMC_CLOCK_REALTIME, dev_timer, d,
				   &d->timer));
	ASSERT_OK(vmc_vm_bh_new(vm, dev_bh, d, &d->bh));
	ASSERT_OK(vmc_region_new_io(vmc_vm_get_memory(vm), "dev", 0x1000, &ops,
				    d, 0, &d->region));
	return d;
}

/* The end of life: detach, free the loop objects, drop the region. */
static void dev_free(struct dev *d)
{
	struct vmc_region *r = d->region;

	ASSERT_OK(vmc_region_detach_ops(r));
	vmc_timer_free(d->timer);
	vmc_bh_free(d->bh);
	/* A callback from now on would find them gone. */
	vmc_vm_lock(vm);
	d->timer = NULL;
	d->bh = NULL;
	vmc_vm_unlock(vm);
	vmc_region_unref(r);
}

static void test_detach(void)
{
	struct vmc_address_space *as =
		vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	struct vmc_region *root = vmc_vm_get_root(vm, VMC_AS_MEMORY);
	atomic_int released = 0;
	struct dev *d = dev_new(&released);
	struct vmc_region *r = d->region;
	uint64_t v = 0;

	ASSERT_OK(vmc_region_add_subregion(root, BASE, r, 0));
	v = 6;
	ASSERT_OK(vmc_as_write(as, BASE, &v, 4));
	ASSERT_OK(vmc_as_read(as, BASE, &v, 4));
	ASSERT_EQ_U64(v, 6);
	ASSERT_EQ_U64(d->reg, 6);

	/* Detaching from inside its own write callback does not deadlock. */
	v = 0xdead;
	ASSERT_OK(vmc_as_write(as, BASE, &v, 4));
	ASSERT_EQ_U64(d->reg, 0xdead);
	v = 7;
	ASSERT_OK(vmc_as_write(as, BASE, &v, 4));
	ASSERT_EQ_U64(d->reg, 0xdead);
	v = ~0ull;
	ASSERT_OK(vmc_as_read(as, BASE, &v, 8));
	ASSERT_EQ_U64(v, 0);
	ASSERT_OK(vmc_region_detach_ops(r)); /* again: fine */

	/* The device's reference goes; the tree's stays: no release yet. */
	dev_free(d);
	ASSERT_EQ(atomic_load(&released), 0);
	v = ~0ull;
	ASSERT_OK(vmc_as_read(as, BASE, &v, 8));
	ASSERT_EQ_U64(v, 0);
	ASSERT_OK(vmc_region_remove_subregion(root, r));
	vmc_memory_reclaim(vmc_vm_get_memory(vm));
	ASSERT_EQ(atomic_load(&released), 1);
}

/*
 * Stress: threads access the devices' registers without pause while the
 * loop thread creates devices, maps them, lets their timers and bottom
 * halves run, and tears them down.  Every callback checks that its device
 * is alive and that it holds the VM lock; ThreadSanitizer checks that the
 * lock orders every access to device state.
 */
#define STRESS_THREADS 3

struct stress {
	atomic_int stop;
	atomic_long accesses;
};

static void *hammer(void *arg)
{
	struct stress *s = arg;
	struct vmc_address_space *as =
		vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	uint64_t v = 0, i = 0;

	while (!atomic_load(&s->stop)) {
		uint64_t addr = BASE + (i % 4) * 0x1000;

		v = i++;
		vmc_as_write(as, addr, &v, 4);
		vmc_as_read(as, addr, &v, 8);
		atomic_fetch_add_explicit(&s->accesses, 1,
					  memory_order_relaxed);
	}
	return NULL;
}

static void test_stress(void)
{
	struct vmc_region *root = vmc_vm_get_root(vm, VMC_AS_MEMORY);
	struct stress s = {0};
	atomic_int released = 0;
	struct dev *devs[4] = {0};
	pthread_t th[STRESS_THREADS];
	long rounds = vmc_test_scale(2000), made = 0;

	for (int i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, hammer, &s), 0);
	for (long n = 0; n < rounds; n++) {
		unsigned int slot = (unsigned int)(n % 4);
		struct dev *d = devs[slot];

		if (d) {
			struct vmc_region *r = d->region;

			/* Half the time the board removes it first. */
			vmc_region_ref(r);
			if (n & 4)
				ASSERT_OK(vmc_region_remove_subregion(root, r));
			dev_free(d);
			if (!(n & 4))
				ASSERT_OK(vmc_region_remove_subregion(root, r));
			vmc_region_unref(r);
		}
		d = devs[slot] = dev_new(&released);
		made++;
		ASSERT_OK(vmc_region_add_subregion(root, BASE + slot * 0x1000,
						   d->region, 0));
		ASSERT_OK(vmc_loop_run_once(loop, false));
	}
	atomic_store(&s.stop, 1);
	for (int i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ(pthread_join(th[i], NULL), 0);
	for (unsigned int slot = 0; slot < 4; slot++) {
		struct vmc_region *r = devs[slot]->region;

		vmc_region_ref(r);
		dev_free(devs[slot]);
		ASSERT_OK(vmc_region_remove_subregion(root, r));
		vmc_region_unref(r);
	}
	vmc_memory_reclaim(vmc_vm_get_memory(vm));
	ASSERT_EQ(atomic_load(&released), made);
	ASSERT_GT(atomic_load(&s.accesses), 0);
	fprintf(stderr, "   %ld devices, %ld accesses\n", made,
		(long)atomic_load(&s.accesses));
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

	RUN(test_errors);
	RUN(test_timers);
	RUN(test_cancel_under_lock_is_final);
	RUN(test_fd_and_notifier);
	RUN(test_detach);
	RUN(test_stress);

	vmc_vm_unref(vm);
	vmc_loop_unref(loop);
	return 0;
}
