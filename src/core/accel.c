/* SPDX-License-Identifier: MIT */
/*
 * The small services of accel.h that are not part of dispatch: what an
 * accelerator may ask of its VM and vCPUs.  Each is a call rather than a
 * field so that struct vmc_vm and struct vmc_vcpu stay core's own.
 */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loop-internal.h"
#include "vm-internal.h"

bool vmc__accel_vm_is(const struct vmc_vm *vm, const struct vmc_accel_ops *ops)
{
	return vm && vm->ops == ops && vm->acc.state;
}

unsigned int vmc__accel_vm_flags(const struct vmc_vm *vm)
{
	return vm->flags;
}

int vmc__accel_vm_kick_signal(const struct vmc_vm *vm)
{
	return vm->kick_signal;
}

const void *vmc__accel_vm_config(const struct vmc_vm *vm)
{
	return vm->accel_config;
}

void vmc__accel_vm_set_deadline_notify(struct vmc_vm *vm, void (*fn)(void *vm))
{
	vmc__clock_set_deadline_notify(vm->clock, fn, fn ? vm : NULL);
}

/* The executor's reader: a borrower's, or the vCPU thread's. */
static struct vmc__rcu_reader *exec_reader(struct vmc_vcpu *vcpu)
{
	return vcpu->borrow_reader ? vcpu->borrow_reader : &vcpu->rcu_reader;
}

void vmc__accel_vcpu_offline(struct vmc_vcpu *vcpu)
{
	vmc__rcu_thread_offline(exec_reader(vcpu));
}

void vmc__accel_vcpu_online(struct vmc_vcpu *vcpu)
{
	vmc__rcu_thread_online(exec_reader(vcpu));
}

void vmc__accel_vcpu_signal(struct vmc_vcpu *vcpu, int sig)
{
	/*
	 * A borrowed vCPU runs on its borrower's thread.  A kick that reads
	 * the tid just as the borrow ends reaches a thread that blocks the
	 * signal outside KVM_RUN (see vmc__vcpu_borrow): it stays pending
	 * there, and the next entry on that thread eats it.
	 */
	int tid = atomic_load(&vcpu->runner_tid);

	if (tid > 0)
		syscall(SYS_tgkill, getpid(), tid, sig);
	else
		pthread_kill(vcpu->thread, sig);
}

/* ------------------------------------------------------------------------
 * Dirty-page tracking: the public calls, over the accelerator's hooks
 */

#define DIRTY_PAGE 4096u

static bool dirty_region_ok(const struct vmc_vm *vm,
			    const struct vmc_region *region)
{
	return region->mem == vm->memory && (region->kind == VMC__REGION_RAM ||
					     region->kind == VMC__REGION_ROM);
}

VMC_EXPORT int vmc_vm_set_dirty_logging(struct vmc_vm *vm,
					struct vmc_region *region, bool enable)
{
	vmc_assert_return(vm && region, -EINVAL);
	vmc_assert_return(dirty_region_ok(vm, region), -EINVAL);
	if (!vm->ops->dirty_log_set)
		return -EOPNOTSUPP;
	return vm->ops->dirty_log_set(vm, region, enable);
}

VMC_EXPORT int vmc_vm_get_dirty_log(struct vmc_vm *vm,
				    struct vmc_region *region, uint64_t *bitmap,
				    size_t words)
{
	vmc__u128 pages;

	vmc_assert_return(vm && region && bitmap, -EINVAL);
	vmc_assert_return(dirty_region_ok(vm, region), -EINVAL);
	pages = (region->size + DIRTY_PAGE - 1) / DIRTY_PAGE;
	vmc_assert_return((vmc__u128)words >= (pages + 63) / 64, -EINVAL);
	if (!vm->ops->dirty_log_get)
		return -EOPNOTSUPP;
	return vm->ops->dirty_log_get(vm, region, bitmap, words);
}
