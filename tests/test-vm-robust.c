/* SPDX-License-Identifier: MIT */
/*
 * What a careless or hostile host thread can do to a VM (issue 17): flood
 * it with requests, drop its last reference or take its lock where that
 * would deadlock, register many handlers and have them change the lists
 * while they are called, and make memory run out while they are.
 *
 * Linked with -Wl,--wrap=malloc so that a case can make the library's
 * allocations fail.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vm-internal.h"
#include "vmc-test.h"

static struct vmc_loop *loop;

/* ------------------------------------------------------------------------
 * Failing allocations
 */

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
static _Atomic bool fail_malloc;

void *__wrap_malloc(size_t size)
{
	if (atomic_load_explicit(&fail_malloc, memory_order_relaxed))
		return NULL;
	return __real_malloc(size);
}

/* ------------------------------------------------------------------------
 * Helpers
 */

struct log_capture {
	pthread_mutex_t lock;
	int warnings, errors;
	char last[256];
};

static struct log_capture logs = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void capture(enum vmc_log_level level, const char *msg, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&logs.lock);
	if (level == VMC_LOG_WARNING)
		logs.warnings++;
	else if (level == VMC_LOG_ERR)
		logs.errors++;
	snprintf(logs.last, sizeof(logs.last), "%s", msg);
	pthread_mutex_unlock(&logs.lock);
}

static struct vmc_vm *new_vm(unsigned int vcpus)
{
	struct vmc_vm_config c;
	struct vmc_vm *vm;

	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.vcpus = vcpus;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	return vm;
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

/* Run the loop until no vCPU thread is left, or fail after 5 s. */
static void wait_destroyed(void)
{
	int64_t end = vmc_test_now_ns() + 5000000000LL;

	while (count_vcpu_threads()) {
		if (vmc_test_now_ns() > end)
			FAIL("the VM was never destroyed");
		vmc_loop_run_once(loop, false);
		usleep(1000);
	}
}

static unsigned int pending(struct vmc_vm *vm)
{
	unsigned int n;

	pthread_mutex_lock(&vm->req_lock);
	n = vm->req_count;
	pthread_mutex_unlock(&vm->req_lock);
	return n;
}

/* ------------------------------------------------------------------------
 * Item 6: the request queue
 */

struct flood {
	struct vmc_vm *vm;
	long n;
	int errors;
};

static void *flood_pause_resume(void *arg)
{
	struct flood *f = arg;

	for (long i = 0; i < f->n; i++) {
		if (vmc_vm_request_pause(f->vm) < 0)
			f->errors++;
		if (vmc_vm_request_resume(f->vm) < 0)
			f->errors++;
	}
	return NULL;
}

/*
 * 4 million pause/resume requests while the loop does not run: the queue
 * stays at two requests (it grew to 1.7 GB on 0.1), and the drain is one
 * short bottom half (it held the VM lock for over 20 s).
 */
static void test_request_flood(void)
{
	struct flood f = {.vm = new_vm(2), .n = vmc_test_scale(2000000)};
	pthread_t t;
	int64_t t0, dt;
	int r, refused = 0;

	ASSERT_OK(vmc_vm_start(f.vm));
	ASSERT_OK(-pthread_create(&t, NULL, flood_pause_resume, &f));
	ASSERT_OK(-pthread_join(t, NULL));
	ASSERT_EQ(f.errors, 0);
	ASSERT_LE(pending(f.vm), 2);
	t0 = vmc_test_now_ns();
	vmc_loop_run_once(f.vm->loop, false);
	dt = vmc_test_now_ns() - t0;
	fprintf(stderr, "   %ld requests: drain %lld us\n", 2 * f.n,
		(long long)(dt / 1000));
	ASSERT_LT(dt, 500 * 1000000LL);
	ASSERT_EQ(pending(f.vm), 0);
	/* The last request wins: the VM runs. */
	ASSERT_EQ(vmc_vm_get_state(f.vm), VMC_VM_RUNNING);

	/*
	 * Kinds that do not coalesce with each other are bounded: the
	 * queue refuses with -EAGAIN, and takes requests again once the
	 * loop applied them.
	 */
	vmc_set_log_handler(capture, VMC_LOG_WARNING, NULL);
	for (int i = 0; i < 1000; i++) {
		r = i % 2 ? vmc_vm_request_reset(f.vm)
			  : vmc_vm_request_pause(f.vm);
		if (r == -EAGAIN)
			refused++;
		else
			ASSERT_OK(r);
	}
	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
	ASSERT_GT(refused, 0);
	ASSERT_LE(pending(f.vm), 64);
	ASSERT_GT(logs.warnings, 0);
	vmc_loop_run_once(f.vm->loop, false);
	ASSERT_EQ(pending(f.vm), 0);
	ASSERT_EQ(vmc_vm_get_state(f.vm), VMC_VM_PAUSED);
	ASSERT_OK(vmc_vm_request_resume(f.vm));
	vmc_loop_run_once(f.vm->loop, false);
	ASSERT_EQ(vmc_vm_get_state(f.vm), VMC_VM_RUNNING);

	/* A shutdown's status is the first one's, as when applied. */
	ASSERT_OK(vmc_vm_request_shutdown(f.vm, 5));
	ASSERT_OK(vmc_vm_request_shutdown(f.vm, 6));
	ASSERT_EQ(pending(f.vm), 1);
	vmc_loop_run_once(f.vm->loop, false);
	ASSERT_EQ(vmc_vm_get_state(f.vm), VMC_VM_SHUTDOWN);
	ASSERT_EQ(vmc_vm_get_shutdown_status(f.vm), 5);
	vmc_vm_unref(f.vm);
}

/* Queueing a request allocates nothing: out of memory, it still works. */
static void test_request_no_alloc(void)
{
	struct vmc_vm *vm = new_vm(1);

	ASSERT_OK(vmc_vm_start(vm));
	atomic_store(&fail_malloc, true);
	ASSERT_OK(vmc_vm_request_pause(vm));
	ASSERT_OK(vmc_vm_request_reset(vm));
	ASSERT_OK(vmc_vm_request_shutdown(vm, 9));
	atomic_store(&fail_malloc, false);
	ASSERT_EQ(pending(vm), 3);
	vmc_loop_run_once(loop, false);
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_SHUTDOWN);
	ASSERT_EQ(vmc_vm_get_shutdown_status(vm), 9);
	vmc_vm_unref(vm);
}

static _Atomic bool stress_stop;

static void *stress_thread(void *arg)
{
	struct flood *f = arg;

	while (!atomic_load(&stress_stop)) {
		int r1 = vmc_vm_request_pause(f->vm);
		int r2 = vmc_vm_request_resume(f->vm);

		if ((r1 < 0 && r1 != -EAGAIN) || (r2 < 0 && r2 != -EAGAIN))
			f->errors++;
		(void)vmc_vm_get_state(f->vm);
	}
	return NULL;
}

/* Several threads request while the loop applies (for TSan). */
static void test_request_stress(void)
{
	struct flood f = {.vm = new_vm(2)};
	int64_t end = vmc_test_now_ns() + 300 * 1000000LL;
	pthread_t t[3];

	atomic_store(&stress_stop, false);
	ASSERT_OK(vmc_vm_start(f.vm));
	for (int i = 0; i < 3; i++)
		ASSERT_OK(-pthread_create(&t[i], NULL, stress_thread, &f));
	while (vmc_test_now_ns() < end) {
		vmc_loop_run_once(loop, false);
		ASSERT_LE(pending(f.vm), 64);
	}
	atomic_store(&stress_stop, true);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(-pthread_join(t[i], NULL));
	ASSERT_EQ(f.errors, 0);
	ASSERT_OK(vmc_vm_request_resume(f.vm));
	vmc_loop_run_once(loop, false);
	ASSERT_EQ(pending(f.vm), 0);
	ASSERT_EQ(vmc_vm_get_state(f.vm), VMC_VM_RUNNING);
	vmc_vm_unref(f.vm);
}

/* ------------------------------------------------------------------------
 * Item 7: misuse that used to hang
 */

static void unref_on_pause(struct vmc_vm *vm, enum vmc_vm_state old,
			   enum vmc_vm_state new_state, void *userdata)
{
	(void)old;
	(void)userdata;
	if (new_state == VMC_VM_PAUSED)
		vmc_vm_unref(vm);
}

/* The last reference dropped in a state handler (VM lock held). */
static void test_unref_in_state_handler(void)
{
	struct vmc_vm *vm = new_vm(2);

	logs.warnings = 0;
	vmc_set_log_handler(capture, VMC_LOG_WARNING, NULL);
	ASSERT_OK(vmc_vm_add_state_handler(vm, unref_on_pause, 0, NULL, NULL));
	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_OK(vmc_vm_request_pause(vm));
	vmc_loop_run_once(loop, false);
	wait_destroyed();
	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
	ASSERT_EQ(logs.warnings, 1);
	ASSERT_TRUE(strstr(logs.last, "VM lock held") != NULL);
}

/* The last reference dropped by the host between lock and unlock. */
static void test_unref_locked(void)
{
	struct vmc_vm *vm = new_vm(1);

	ASSERT_OK(vmc_vm_start(vm));
	vmc_vm_lock(vm);
	ASSERT_NULL(vmc_vm_unref(vm));
	/* Still there until the loop runs: the unlock is harmless. */
	vmc_vm_unlock(vm);
	wait_destroyed();
}

/* vmc_vm_lock() twice on one thread: counted, not a deadlock. */
static void test_lock_twice(void)
{
	struct vmc_vm *vm = new_vm(1);

	logs.errors = 0;
	vmc_set_log_handler(capture, VMC_LOG_ERR, NULL);
	vmc_vm_lock(vm);
	vmc_vm_lock(vm);
	ASSERT_EQ(logs.errors, 1);
	ASSERT_TRUE(vmc_vm_lock_held(vm));
	vmc_vm_unlock(vm);
	/* The outer holder still holds it. */
	ASSERT_TRUE(vmc_vm_lock_held(vm));
	vmc_vm_unlock(vm);
	ASSERT_FALSE(vmc_vm_lock_held(vm));
	vmc_set_log_handler(NULL, VMC_LOG_DEBUG, NULL);
	/* And the lock works for the library afterwards. */
	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_OK(vmc_vm_pause(vm));
	vmc_vm_unref(vm);
}

static void unref_work(struct vmc_vcpu *vcpu, void *userdata)
{
	(void)vcpu;
	vmc_vm_unref(userdata);
}

/* The last reference dropped in a work item, on a vCPU thread. */
static void test_unref_on_vcpu(void)
{
	struct vmc_vm *vm = new_vm(2);

	ASSERT_OK(vmc_vm_start(vm));
	ASSERT_OK(vmc_vcpu_run_async(vmc_vm_get_vcpu(vm, 1), unref_work, vm));
	wait_destroyed();
}

/* ------------------------------------------------------------------------
 * Item 10: state handlers
 */

#define MANY 200

struct many {
	struct vmc_vm *vm;
	struct vmc_vm_state_handler *h[MANY];
	struct vmc_vm_state_handler *added;
	int order[2 * MANY];
	int n;
	bool churn;
};

static struct many many;

static void many_cb(struct vmc_vm *vm, enum vmc_vm_state old,
		    enum vmc_vm_state new_state, void *userdata)
{
	int id = (int)(intptr_t)userdata;

	(void)old;
	(void)new_state;
	many.order[many.n++] = id;
	if (!many.churn || id != 0)
		return;
	/* Remove two that are still to come (and yourself), add one. */
	vmc_vm_remove_state_handler(vm, many.h[0]);
	vmc_vm_remove_state_handler(vm, many.h[MANY - 1]);
	vmc_vm_remove_state_handler(vm, many.h[1]);
	many.h[0] = many.h[1] = many.h[MANY - 1] = NULL;
	ASSERT_OK(vmc_vm_add_state_handler(vm, many_cb, 5, (void *)-1,
					   &many.added));
}

static void test_many_state_handlers(void)
{
	memset(&many, 0, sizeof(many));
	many.vm = new_vm(1);
	/* Priorities descending, so a start calls them in reverse order. */
	for (int i = 0; i < MANY; i++)
		ASSERT_OK(vmc_vm_add_state_handler(many.vm, many_cb, MANY - i,
						   (void *)(intptr_t)i,
						   &many.h[i]));

	/* Out of memory while they are called: every one still hears. */
	ASSERT_OK(vmc_vm_start(many.vm));
	atomic_store(&fail_malloc, true);
	ASSERT_OK(vmc_vm_pause(many.vm));
	atomic_store(&fail_malloc, false);
	ASSERT_EQ(many.n, 2 * MANY);
	for (int i = 0; i < MANY; i++) {
		ASSERT_EQ(many.order[i], MANY - 1 - i);
		ASSERT_EQ(many.order[MANY + i], i);
	}

	/*
	 * On a stop, handler 0 (the highest priority) is called first: it
	 * removes itself, handler 1 and handler MANY-1 and adds a new one.
	 * The removed ones are not called any more, the new one not yet.
	 */
	many.n = 0;
	ASSERT_OK(vmc_vm_resume(many.vm));
	many.n = 0;
	many.churn = true;
	ASSERT_OK(vmc_vm_pause(many.vm));
	many.churn = false;
	ASSERT_EQ(many.n, MANY - 2);
	ASSERT_EQ(many.order[0], 0);
	for (int i = 1; i < many.n; i++)
		ASSERT_EQ(many.order[i], i + 1);
	/* The next change calls the new one and none of the removed. */
	many.n = 0;
	ASSERT_OK(vmc_vm_resume(many.vm));
	ASSERT_EQ(many.n, MANY - 3 + 1);
	for (int i = 0; i < many.n; i++) {
		ASSERT_NE(many.order[i], 0);
		ASSERT_NE(many.order[i], 1);
		ASSERT_NE(many.order[i], MANY - 1);
	}
	vmc_vm_remove_state_handler(many.vm, many.added);
	vmc_vm_unref(many.vm);
}

int main(void)
{
	ASSERT_OK(vmc_loop_new(&loop));
	RUN(test_request_flood);
	RUN(test_request_no_alloc);
	RUN(test_request_stress);
	RUN(test_unref_in_state_handler);
	RUN(test_unref_locked);
	RUN(test_lock_twice);
	RUN(test_unref_on_vcpu);
	RUN(test_many_state_handlers);
	vmc_loop_unref(loop);
	return 0;
}
