/* SPDX-License-Identifier: MIT */
/*
 * The KVM accelerator's process-wide answers (capabilities, run-area size,
 * supported CPUID, power-on registers) are read once, by the first VM of
 * the process.  Here that first VM is created by several threads at once,
 * each then running a guest to its HLT on its own VM, so that the
 * thread sanitizer sees the one-time read race against every user.
 * Skips (77) where /dev/kvm is missing or unusable.
 *
 * The VMs go one at a time, after all of them ran: the thread sanitizer
 * does not see the fds KVM's ioctls create, so a number closed on one
 * thread and handed out again by KVM_CREATE_VM on another would look like
 * a race on the fd.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define THREADS 4
#define RAM 0x10000
#define ENTRY 0x1000

static pthread_barrier_t go;
static pthread_mutex_t teardown = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int skipped;

struct life {
	struct vmc_vm *vm;
	struct vmc_region *ram;
};

/*
 * Create a VM on @loop (the calling thread's own) and run "hlt" in real
 * mode; -errno if the VM is refused.
 */
static int life_run(struct vmc_loop *loop, struct life *l)
{
	struct vmc_vm_config c;
	struct vmc_vcpu *v;
	int64_t end;
	uint8_t *mem;
	int r;

	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_KVM;
	c.arch = VMC_ARCH_X86_64;
	c.loop = loop;
	r = vmc_vm_new(&c, &l->vm);
	if (r < 0)
		return r;
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(l->vm), "ram", RAM, 0,
				     &l->ram));
	mem = vmc_region_get_ptr(l->ram);
	mem[ENTRY] = 0xf4; /* hlt */
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(l->vm, VMC_AS_MEMORY), 0, l->ram, 0));
	v = vmc_vm_get_vcpu(l->vm, 0);
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_CS, 0));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_CS_BASE, 0));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RIP, ENTRY));
	ASSERT_OK(vmc_vm_start(l->vm));
	end = vmc_test_now_ns() + 10000000000ll;
	while (vmc_vcpu_get_state(v) != VMC_VCPU_HALTED) {
		ASSERT_EQ(vmc_vm_get_state(l->vm), VMC_VM_RUNNING);
		ASSERT_LT(vmc_test_now_ns(), end);
		sched_yield();
	}
	return 0;
}

static void life_end(struct life *l)
{
	pthread_mutex_lock(&teardown);
	vmc_vm_unref(l->vm);
	vmc_region_unref(l->ram);
	pthread_mutex_unlock(&teardown);
}

/* @arg: the barrier to meet the other threads at, or NULL. */
static void *worker(void *arg)
{
	struct vmc_loop *loop;
	struct life l;
	int r;

	ASSERT_OK(vmc_loop_new(&loop));
	if (arg)
		pthread_barrier_wait(arg);
	r = life_run(loop, &l);
	if (arg)
		pthread_barrier_wait(arg);
	if (r == 0)
		life_end(&l);
	if (arg)
		pthread_barrier_wait(arg);
	vmc_loop_unref(loop);
	if (r == -ENODEV || r == -EOPNOTSUPP)
		atomic_store(&skipped, 1);
	else
		ASSERT_OK(r);
	return NULL;
}

static void test_first_vms_at_once(void)
{
	pthread_t t[THREADS];

	pthread_barrier_init(&go, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		ASSERT_OK(pthread_create(&t[i], NULL, worker, &go));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	if (atomic_load(&skipped))
		SKIP("KVM is not usable here");
	/* And once more, from the answers already read. */
	worker(NULL);
}

int main(void)
{
	struct vmc_loop *loop;

	/* libuv keeps a process-wide pipe from its first loop on. */
	ASSERT_OK(vmc_loop_new(&loop));
	vmc_loop_unref(loop);
	vmc_test__scan_fds(vmc_test_fds_at_start);
	RUN(test_first_vms_at_once);
	return 0;
}
