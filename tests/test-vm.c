/* SPDX-License-Identifier: MIT */
/*
 * VMs and vCPUs on the harness accelerator: creation errors, the run state
 * machine, handlers, work items, unplug, interrupt lines, the virtual clock.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

static struct vmc_loop *loop;

static struct vmc_vm *new_vm(unsigned int vcpus, unsigned int flags)
{
	struct vmc_vm_config c;
	struct vmc_vm *vm;

	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.vcpus = vcpus;
	c.flags = flags;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	return vm;
}

/* Run the loop until cond(arg) holds or 5 s pass. */
static bool spin_until(bool (*cond)(void *), void *arg)
{
	int64_t end = vmc_test_now_ns() + 5000000000LL;

	while (!cond(arg)) {
		if (vmc_test_now_ns() > end)
			return false;
		vmc_loop_run_once(loop, false);
		usleep(200);
	}
	return true;
}

struct vcpu_wait {
	struct vmc_vcpu *vcpu;
	enum vmc_vcpu_state state;
};

static bool vcpu_in_state(void *arg)
{
	struct vcpu_wait *w = arg;

	return vmc_vcpu_get_state(w->vcpu) == w->state;
}

static void wait_vcpu(struct vmc_vcpu *vcpu, enum vmc_vcpu_state s)
{
	struct vcpu_wait w = {vcpu, s};

	if (!spin_until(vcpu_in_state, &w))
		FAIL("vcpu %u stuck in state %d, want %d",
		     vmc_vcpu_get_index(vcpu), vmc_vcpu_get_state(vcpu), s);
}

static void test_config_errors(void)
{
	struct vmc_vm_config c;
	struct vmc_vm *vm = NULL;

	ASSERT_ERR(vmc_vm_new(NULL, &vm), -EINVAL);
	vmc_vm_config_init(&c);
	ASSERT_ERR(vmc_vm_new(&c, NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL); /* no loop */
	c.loop = loop;
	c.accel = VMC_ACCEL_HARNESS;
	c.vcpus = 0;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	c.vcpus = 257;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	c.vcpus = 1;
	c.flags = 0x80;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	c.flags = 0;
	c.kick_signal = SIGUSR1;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	c.kick_signal = 0;
	c.halt_poll_ns = 1000000001;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	c.halt_poll_ns = 0;
	c.size = 4;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	c.size = sizeof(c);
	c.accel = (enum vmc_accel)42;
	ASSERT_ERR(vmc_vm_new(&c, &vm), -EINVAL);
	ASSERT_NULL(vm);
}

static int count_vcpu_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	ASSERT_NOT_NULL(d);
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    strncmp(comm, "vcpu/", 5) == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void test_create_destroy(void)
{
	struct vmc_vm *vm = new_vm(3, 0);

	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_CREATED);
	ASSERT_EQ(vmc_vm_get_accel(vm), VMC_ACCEL_HARNESS);
	ASSERT_EQ(vmc_vm_get_arch(vm), VMC_ARCH_NONE);
	ASSERT_PTR_EQ(vmc_vm_get_loop(vm), loop);
	ASSERT_NOT_NULL(vmc_vm_get_clock(vm));
	ASSERT_EQ(vmc_vm_get_vcpu_count(vm), 3);
	ASSERT_NULL(vmc_vm_get_vcpu(vm, 3));
	for (unsigned int i = 0; i < 3; i++) {
		struct vmc_vcpu *v = vmc_vm_get_vcpu(vm, i);

		ASSERT_EQ(vmc_vcpu_get_index(v), i);
		ASSERT_PTR_EQ(vmc_vcpu_get_vm(v), vm);
		ASSERT_EQ(vmc_vcpu_get_state(v), VMC_VCPU_STOPPED);
	}
	ASSERT_EQ(count_vcpu_threads(), 3);
	ASSERT_NULL(vmc_vcpu_current());
	ASSERT_STREQ(vmc_vm_state_to_string(VMC_VM_GUEST_ERROR), "guest-error");
	ASSERT_STREQ(vmc_vm_state_to_string((enum vmc_vm_state)99), "unknown");

	/* The harness has no dirty tracking: said so, not faked. */
	{
		struct vmc_region *ram;
		uint64_t bm[1] = {0};

		ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(vm), "ram",
					     0x1000, 0, &ram));
		ASSERT_ERR(vmc_vm_set_dirty_logging(vm, ram, true),
			   -EOPNOTSUPP);
		ASSERT_ERR(vmc_vm_get_dirty_log(vm, ram, bm, 1), -EOPNOTSUPP);
		ASSERT_ERR(
			vmc_vm_set_dirty_logging(
				vm, vmc_vm_get_root(vm, VMC_AS_MEMORY), true),
			-EINVAL);
		vmc_region_unref(ram);
	}

	ASSERT_PTR_EQ(vmc_vm_ref(vm), vm);
	ASSERT_NULL(vmc_vm_unref(vm));
	ASSERT_EQ(count_vcpu_threads(), 3);
	ASSERT_NULL(vmc_vm_unref(vm));
	ASSERT_EQ(count_vcpu_threads(), 0);
}

struct sync_probe {
	struct vmc_vcpu *expect;
	bool on_right_thread;
	bool lock_held;
	int runs;
};

static void probe_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct sync_probe *p = userdata;

	p->on_right_thread =
		vmc_vcpu_current() == p->expect && vcpu == p->expect;
	p->lock_held = vmc_vm_lock_held(vmc_vcpu_get_vm(vcpu));
	p->runs++;
}

static void test_run_sync(void)
{
	struct vmc_vm *vm = new_vm(2, 0);
	struct vmc_vcpu *v1 = vmc_vm_get_vcpu(vm, 1);
	struct sync_probe p = {.expect = v1};

	/* Work runs while the VM has never started... */
	ASSERT_OK(vmc_vcpu_run_sync(v1, probe_cb, &p));
	ASSERT_EQ(p.runs, 1);
	ASSERT_TRUE(p.on_right_thread);
	ASSERT_TRUE(p.lock_held);

	/* ...while it runs (the harness vCPU sleeps halted)... */
	ASSERT_OK(vmc_vm_start(vm));
	wait_vcpu(v1, VMC_VCPU_HALTED);
	ASSERT_OK(vmc_vcpu_run_sync(v1, probe_cb, &p));
	ASSERT_EQ(p.runs, 2);

	/* ...while it is paused, and with the caller holding the VM lock. */
	ASSERT_OK(vmc_vm_pause(vm));
	vmc_vm_lock(vm);
	ASSERT_OK(vmc_vcpu_run_sync(v1, probe_cb, &p));
	ASSERT_TRUE(vmc_vm_lock_held(vm));
	vmc_vm_unlock(vm);
	ASSERT_EQ(p.runs, 3);
	ASSERT_FALSE(vmc_vm_lock_held(vm));

	ASSERT_ERR(vmc_vcpu_run_sync(NULL, probe_cb, &p), -EINVAL);
	ASSERT_ERR(vmc_vcpu_run_sync(v1, NULL, &p), -EINVAL);
	ASSERT_ERR(vmc_vcpu_run_async(NULL, probe_cb, &p), -EINVAL);
	ASSERT_ERR(vmc_vcpu_run_async(v1, NULL, &p), -EINVAL);
	ASSERT_ERR(vmc_vcpu_run_exclusive(v1, NULL, &p), -EINVAL);
	ASSERT_ERR(vmc_vm_run_exclusive(NULL, probe_cb, &p), -EINVAL);
	vmc_vm_unref(vm);
}

struct cross {
	struct vmc_vm *vm;
	int sync_to_other;
	int sync_to_self;
	bool inline_ran;
	bool done;
};

static void inline_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct cross *c = userdata;

	c->inline_ran = true;
}

static void cross_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct cross *c = userdata;

	c->sync_to_other =
		vmc_vcpu_run_sync(vmc_vm_get_vcpu(c->vm, 1), inline_cb, c);
	/* On its own thread it runs inline, at once. */
	c->sync_to_self = vmc_vcpu_run_sync(vcpu, inline_cb, c);
	c->done = true;
}

static void test_run_sync_deadlock(void)
{
	struct cross c = {0};
	struct sync_probe p = {0};

	c.vm = new_vm(2, 0);
	ASSERT_OK(vmc_vcpu_run_async(vmc_vm_get_vcpu(c.vm, 0), cross_cb, &c));
	/* run_sync acts as a barrier: the async item ran before it. */
	p.expect = vmc_vm_get_vcpu(c.vm, 0);
	ASSERT_OK(vmc_vcpu_run_sync(p.expect, probe_cb, &p));
	ASSERT_TRUE(c.done);
	ASSERT_ERR(c.sync_to_other, -EDEADLK);
	ASSERT_OK(c.sync_to_self);
	ASSERT_TRUE(c.inline_ran);
	vmc_vm_unref(c.vm);
}

#define FIFO_ITEMS 2000

struct fifo {
	int next;
	int errors;
};

struct fifo_item {
	struct fifo *f;
	int seq;
};

static void fifo_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct fifo_item *it = userdata;

	if (it->seq != it->f->next)
		it->f->errors++;
	it->f->next = it->seq + 1;
}

static void test_fifo(void)
{
	struct vmc_vm *vm = new_vm(1, 0);
	struct vmc_vcpu *v = vmc_vm_get_vcpu(vm, 0);
	static struct fifo_item items[FIFO_ITEMS];
	struct fifo f = {0};
	struct sync_probe p = {.expect = v};

	ASSERT_OK(vmc_vm_start(vm));
	for (int i = 0; i < FIFO_ITEMS; i++) {
		items[i] = (struct fifo_item){&f, i};
		ASSERT_OK(vmc_vcpu_run_async(v, fifo_cb, &items[i]));
		if (i == FIFO_ITEMS / 2)
			ASSERT_OK(vmc_vm_pause(vm));
	}
	ASSERT_OK(vmc_vcpu_run_sync(v, probe_cb, &p));
	ASSERT_EQ(f.next, FIFO_ITEMS);
	ASSERT_EQ(f.errors, 0);
	vmc_vm_unref(vm);
}

struct excl {
	bool lock_held;
	bool on_vcpu;
	int runs;
};

static void excl_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct excl *e = userdata;

	e->lock_held = vmc_vm_lock_held(vmc_vcpu_get_vm(vcpu));
	e->on_vcpu = vmc_vcpu_current() == vcpu;
	e->runs++;
}

static void test_exclusive(void)
{
	struct vmc_vm *vm = new_vm(2, 0);
	struct sync_probe p = {.expect = vmc_vm_get_vcpu(vm, 0)};
	struct excl e = {0};

	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_OK(vmc_vm_run_exclusive(vm, excl_cb, &e));
	ASSERT_OK(vmc_vcpu_run_sync(p.expect, probe_cb, &p));
	ASSERT_EQ(e.runs, 1);
	ASSERT_TRUE(e.on_vcpu);
	ASSERT_FALSE(e.lock_held);

	/* With vCPU 0 gone, the next plugged vCPU takes exclusive work. */
	ASSERT_OK(vmc_vcpu_unplug(vmc_vm_get_vcpu(vm, 0)));
	ASSERT_OK(vmc_vm_run_exclusive(vm, excl_cb, &e));
	p.expect = vmc_vm_get_vcpu(vm, 1);
	ASSERT_OK(vmc_vcpu_run_sync(p.expect, probe_cb, &p));
	ASSERT_EQ(e.runs, 2);
	ASSERT_OK(vmc_vcpu_unplug(vmc_vm_get_vcpu(vm, 1)));
	ASSERT_ERR(vmc_vm_run_exclusive(vm, excl_cb, &e), -ENODEV);
	vmc_vm_unref(vm);
}

#define MAX_EVENTS 32

struct state_log {
	int n;
	int who[MAX_EVENTS];
	enum vmc_vm_state old_s[MAX_EVENTS], new_s[MAX_EVENTS];
};

static struct state_log slog;

static void log_state(struct vmc_vm *vm, int who, enum vmc_vm_state o,
		      enum vmc_vm_state n)
{
	ASSERT_TRUE(vmc_vm_lock_held(vm));
	if (slog.n < MAX_EVENTS) {
		slog.who[slog.n] = who;
		slog.old_s[slog.n] = o;
		slog.new_s[slog.n] = n;
		slog.n++;
	}
}

static void state_a(struct vmc_vm *vm, enum vmc_vm_state o, enum vmc_vm_state n,
		    void *ud)
{
	log_state(vm, 1, o, n);
}

static void state_b(struct vmc_vm *vm, enum vmc_vm_state o, enum vmc_vm_state n,
		    void *ud)
{
	log_state(vm, 2, o, n);
}

static bool vm_in_state(void *arg)
{
	struct vmc_vm *vm = arg;

	return vmc_vm_get_state(vm) != VMC_VM_RUNNING;
}

static void test_state_machine(void)
{
	struct vmc_vm *vm = new_vm(2, 0);
	struct vmc_vm_state_handler *hb;

	memset(&slog, 0, sizeof(slog));
	ASSERT_ERR(vmc_vm_add_state_handler(vm, NULL, 0, NULL, NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_add_state_handler(NULL, state_a, 0, NULL, NULL),
		   -EINVAL);
	/* b has the higher priority: it starts last and stops first. */
	ASSERT_OK(vmc_vm_add_state_handler(vm, state_b, 10, NULL, &hb));
	ASSERT_OK(vmc_vm_add_state_handler(vm, state_a, 0, NULL, NULL));

	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_RUNNING);
	ASSERT_OK(vmc_vm_start(vm)); /* already running: nothing */
	ASSERT_EQ(slog.n, 2);
	ASSERT_EQ(slog.who[0], 1);
	ASSERT_EQ(slog.who[1], 2);
	ASSERT_EQ(slog.old_s[0], VMC_VM_CREATED);
	ASSERT_EQ(slog.new_s[0], VMC_VM_RUNNING);

	ASSERT_OK(vmc_vm_pause(vm));
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_PAUSED);
	for (unsigned int i = 0; i < 2; i++)
		ASSERT_EQ(vmc_vcpu_get_state(vmc_vm_get_vcpu(vm, i)),
			  VMC_VCPU_STOPPED);
	ASSERT_EQ(slog.n, 4);
	ASSERT_EQ(slog.who[2], 2);
	ASSERT_EQ(slog.who[3], 1);
	ASSERT_OK(vmc_vm_pause(vm)); /* paused: nothing */
	ASSERT_EQ(slog.n, 4);

	/*
	 * Requests are applied on the loop, in order, coalesced: resume,
	 * pause, resume ends where pause, resume ends, and the paused VM
	 * resumes once, without reporting the intermediate states.
	 */
	ASSERT_OK(vmc_vm_request_resume(vm));
	ASSERT_OK(vmc_vm_request_pause(vm));
	ASSERT_OK(vmc_vm_request_resume(vm));
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_PAUSED);
	vmc_loop_run_once(loop, false);
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_RUNNING);
	ASSERT_EQ(slog.n, 6);
	ASSERT_EQ(slog.old_s[4], VMC_VM_PAUSED);
	ASSERT_EQ(slog.new_s[4], VMC_VM_RUNNING);
	/* Not coalesced: pause, reset, resume. */
	ASSERT_OK(vmc_vm_request_pause(vm));
	ASSERT_OK(vmc_vm_request_reset(vm));
	ASSERT_OK(vmc_vm_request_resume(vm));
	vmc_loop_run_once(loop, false);
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_RUNNING);
	ASSERT_EQ(slog.n, 10);
	ASSERT_EQ(slog.new_s[6], VMC_VM_PAUSED);

	/* Shutdown with a status; resume refused until a reset. */
	vmc_vm_remove_state_handler(vm, hb);
	ASSERT_OK(vmc_vm_request_shutdown(vm, 7));
	ASSERT_TRUE(spin_until(vm_in_state, vm));
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_SHUTDOWN);
	ASSERT_EQ(vmc_vm_get_shutdown_status(vm), 7);
	ASSERT_NULL(vmc_vm_get_error(vm));
	ASSERT_ERR(vmc_vm_resume(vm), -EBUSY);
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_PAUSED);
	ASSERT_EQ(vmc_vm_get_shutdown_status(vm), 0);
	ASSERT_OK(vmc_vm_resume(vm));

	/* Guest error with a reason. */
	ASSERT_OK(vmc_vm_request_guest_error(vm, "triple fault"));
	ASSERT_TRUE(spin_until(vm_in_state, vm));
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_GUEST_ERROR);
	ASSERT_STREQ(vmc_vm_get_error(vm), "triple fault");
	ASSERT_EQ(slog.new_s[slog.n - 1], VMC_VM_GUEST_ERROR);
	ASSERT_EQ(slog.who[slog.n - 1], 1); /* b was removed */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_NULL(vmc_vm_get_error(vm));

	ASSERT_ERR(vmc_vm_pause(NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_resume(NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_reset(NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_request_pause(NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_request_resume(NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_request_reset(NULL), -EINVAL);
	ASSERT_ERR(vmc_vm_request_shutdown(NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_vm_request_guest_error(NULL, "x"), -EINVAL);
	vmc_vm_unref(vm);
}

struct shutdown_from_vcpu {
	struct vmc_vm *vm;
	int r;
};

static void ask_shutdown(struct vmc_vcpu *vcpu, void *userdata)
{
	struct shutdown_from_vcpu *s = userdata;

	s->r = vmc_vm_request_shutdown(s->vm, 3);
	/* A vCPU cannot pause its own VM synchronously. */
	if (vmc_vm_pause(s->vm) != -EDEADLK)
		s->r = -1;
}

static void test_request_from_vcpu(void)
{
	struct shutdown_from_vcpu s = {.vm = new_vm(2, 0), .r = -1};

	ASSERT_OK(vmc_vm_start(s.vm));
	ASSERT_OK(
		vmc_vcpu_run_async(vmc_vm_get_vcpu(s.vm, 1), ask_shutdown, &s));
	ASSERT_TRUE(spin_until(vm_in_state, s.vm));
	ASSERT_OK(s.r);
	ASSERT_EQ(vmc_vm_get_state(s.vm), VMC_VM_SHUTDOWN);
	ASSERT_EQ(vmc_vm_get_shutdown_status(s.vm), 3);
	vmc_vm_unref(s.vm);
}

static int reset_order[8], reset_n;

static void reset_a(struct vmc_vm *vm, void *ud)
{
	ASSERT_TRUE(vmc_vm_lock_held(vm));
	reset_order[reset_n++] = 1;
}

static void reset_b(struct vmc_vm *vm, void *ud)
{
	reset_order[reset_n++] = 2;
}

static void test_reset_handlers(void)
{
	struct vmc_vm *vm = new_vm(1, 0);
	struct vmc_vm_reset_handler *ha;

	ASSERT_ERR(vmc_vm_add_reset_handler(vm, NULL, NULL, NULL), -EINVAL);
	ASSERT_OK(vmc_vm_add_reset_handler(vm, reset_a, NULL, &ha));
	ASSERT_OK(vmc_vm_add_reset_handler(vm, reset_b, NULL, NULL));
	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_OK(vmc_vm_request_reset(vm));
	vmc_loop_run_once(loop, false);
	ASSERT_EQ(reset_n, 2);
	ASSERT_EQ(reset_order[0], 1);
	ASSERT_EQ(reset_order[1], 2);
	/* A reset of a running VM leaves it running. */
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_RUNNING);
	vmc_vm_remove_reset_handler(vm, ha);
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_EQ(reset_n, 3);
	ASSERT_EQ(reset_order[2], 2);
	vmc_vm_unref(vm);
}

static void test_unplug(void)
{
	struct vmc_vm *vm = new_vm(3, 0);
	struct vmc_vcpu *v1 = vmc_vm_get_vcpu(vm, 1);
	struct sync_probe p = {.expect = vmc_vm_get_vcpu(vm, 0)};

	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_OK(vmc_vcpu_unplug(v1));
	ASSERT_EQ(vmc_vcpu_get_state(v1), VMC_VCPU_UNPLUGGED);
	ASSERT_ERR(vmc_vcpu_unplug(v1), -EALREADY);
	ASSERT_ERR(vmc_vcpu_unplug(NULL), -EINVAL);
	ASSERT_ERR(vmc_vcpu_run_async(v1, probe_cb, &p), -ENODEV);
	ASSERT_ERR(vmc_vcpu_run_sync(v1, probe_cb, &p), -ENODEV);
	ASSERT_ERR(vmc_vcpu_halt(v1), -ENODEV);
	/*
	 * The thread is joined; the kernel may list a thread that has exited
	 * in /proc/self/task for a moment after its joiner woke up.
	 */
	for (int i = 0; i < 1000 && count_vcpu_threads() != 2; i++)
		usleep(1000);
	ASSERT_EQ(count_vcpu_threads(), 2);

	/* The others keep working, pause and resume without it. */
	ASSERT_OK(vmc_vcpu_run_sync(p.expect, probe_cb, &p));
	ASSERT_OK(vmc_vm_pause(vm));
	ASSERT_OK(vmc_vm_resume(vm));
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_EQ(vmc_vcpu_get_state(v1), VMC_VCPU_UNPLUGGED);
	vmc_vm_unref(vm);
}

static void test_irqs_and_regs(void)
{
	struct vmc_vm *vm = new_vm(1, 0);
	struct vmc_vcpu *v = vmc_vm_get_vcpu(vm, 0);
	uint64_t val;

	ASSERT_OK(vmc_vm_start(vm));
	wait_vcpu(v, VMC_VCPU_HALTED);
	ASSERT_OK(vmc_vcpu_set_irq(v, 3, true));
	ASSERT_OK(vmc_vcpu_set_irq(v, 63, true));
	ASSERT_EQ_U64(vmc_vcpu_get_irqs(v), (1ULL << 63) | 8);
	ASSERT_OK(vmc_vcpu_set_irq(v, 3, false));
	ASSERT_EQ_U64(vmc_vcpu_get_irqs(v), 1ULL << 63);
	ASSERT_ERR(vmc_vcpu_set_irq(v, 64, true), -EINVAL);
	ASSERT_ERR(vmc_vcpu_set_irq(NULL, 1, true), -EINVAL);
	/* The harness has no CPU: an interrupt does not make it run. */
	ASSERT_EQ(vmc_vcpu_get_state(v), VMC_VCPU_HALTED);

	ASSERT_ERR(vmc_vcpu_get_reg(v, 0, &val), -EOPNOTSUPP);
	ASSERT_ERR(vmc_vcpu_set_reg(v, 0, 1), -EOPNOTSUPP);
	ASSERT_ERR(vmc_vcpu_get_reg(v, 0, NULL), -EINVAL);
	ASSERT_ERR(vmc_vcpu_kick(NULL), -EINVAL);
	ASSERT_OK(vmc_vcpu_kick(v));
	ASSERT_OK(vmc_vcpu_halt(v));
	vmc_vm_unref(vm);
}

static int timer_fired;

static void vm_timer_cb(struct vmc_timer *t, void *ud)
{
	struct vmc_vm *vm = ud;

	ASSERT_TRUE(vmc_vm_lock_held(vm));
	timer_fired++;
}

static void test_virtual_clock(void)
{
	struct vmc_vm *vm = new_vm(1, 0);
	struct vmc_clock *clk = vmc_vm_get_clock(vm);
	struct vmc_timer *t;
	int64_t a, b;

	/* Frozen before the start... */
	a = vmc_clock_get_ns(clk);
	usleep(20000);
	ASSERT_EQ(vmc_clock_get_ns(clk), a);
	ASSERT_FALSE(vmc_clock_is_running(clk));

	/* ...runs while the VM runs... */
	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_TRUE(vmc_clock_is_running(clk));
	usleep(20000);
	b = vmc_clock_get_ns(clk);
	ASSERT_GE(b - a, 15000000);

	/* ...and freezes while paused, its timers held back. */
	ASSERT_OK(vmc_timer_new(clk, vm_timer_cb, vm, &t));
	ASSERT_OK(vmc_vm_pause(vm));
	b = vmc_clock_get_ns(clk);
	ASSERT_OK(vmc_timer_mod(t, b + 1000000));
	usleep(20000);
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	ASSERT_EQ(vmc_clock_get_ns(clk), b);
	ASSERT_EQ(timer_fired, 0);

	ASSERT_OK(vmc_vm_resume(vm));
	for (int i = 0; i < 50 && !timer_fired; i++) {
		usleep(2000);
		vmc_loop_run_once(loop, false);
	}
	ASSERT_EQ(timer_fired, 1);
	vmc_timer_free(t);
	vmc_vm_unref(vm);
}

static int det_fired;
static int64_t det_seen;

static void det_cb(struct vmc_timer *t, void *ud)
{
	struct vmc_vm *vm = ud;

	det_fired++;
	det_seen = vmc_clock_get_ns(vmc_vm_get_clock(vm));
}

static void test_deterministic_clock(void)
{
	struct vmc_vm *vm = new_vm(1, VMC_VM_DETERMINISTIC);
	struct vmc_clock *clk = vmc_vm_get_clock(vm);
	struct vmc_timer *t;

	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_OK(vmc_timer_new(clk, det_cb, vm, &t));
	ASSERT_OK(vmc_timer_mod(t, 1500));
	usleep(10000);
	vmc_loop_run_once(loop, false);
	ASSERT_EQ(vmc_clock_get_ns(clk), 0);
	ASSERT_EQ(det_fired, 0);
	ASSERT_OK(vmc_clock_step(clk, 1000));
	ASSERT_EQ(det_fired, 0);
	ASSERT_OK(vmc_clock_step(clk, 1000));
	ASSERT_EQ(det_fired, 1);
	ASSERT_EQ(det_seen, 1500);
	ASSERT_EQ(vmc_clock_get_ns(clk), 2000);
	vmc_timer_free(t);
	vmc_vm_unref(vm);
}

int main(void)
{
	ASSERT_OK(vmc_loop_new(&loop));
	RUN(test_config_errors);
	RUN(test_create_destroy);
	RUN(test_run_sync);
	RUN(test_run_sync_deadlock);
	RUN(test_fifo);
	RUN(test_exclusive);
	RUN(test_state_machine);
	RUN(test_request_from_vcpu);
	RUN(test_reset_handlers);
	RUN(test_unplug);
	RUN(test_irqs_and_regs);
	RUN(test_virtual_clock);
	RUN(test_deterministic_clock);
	vmc_loop_unref(loop);
	return 0;
}
