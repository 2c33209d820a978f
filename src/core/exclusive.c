/* SPDX-License-Identifier: MIT */
/*
 * Exclusive sections: run code while no vCPU of the VM executes guest code.
 *
 * Every vCPU brackets guest execution with vmc__exec_start()/exec_end(),
 * which set its `running` flag.  An exclusive section, always opened on a
 * vCPU thread outside its own bracket, counts the vCPUs it finds running,
 * kicks them, and waits until each has passed exec_end.  vCPUs that try to
 * enter guest code meanwhile wait in exec_start until the section ends.
 *
 * `pending_cpus` is 0 when no section exists; while one is starting it is
 * 1 + the number of vCPUs still to leave; while it runs it is 1.
 *
 * The race between a vCPU entering guest code and a section starting is a
 * Dekker pair: the starter stores pending_cpus, then loads each `running`;
 * the vCPU stores `running`, then loads pending_cpus.
 * At least one of them sees the other's store:
 *  - the starter sees running: it counts the vCPU (has_waiter) and the
 *    vCPU, seeing pending_cpus, knows it was counted and runs on until the
 *    kick brings it to exec_end, which decrements the count;
 *  - the starter does not see running: the vCPU sees pending_cpus, finds
 *    has_waiter clear, backs out of `running` and waits for the end.
 * Both sides use sequentially consistent stores and loads for this pair
 * (on x86 the store is an xchg, a full barrier); weakening either allows
 * both sides to miss each other and guest code to run inside the section.
 */
#include "vm-internal.h"

void vmc__exec_start(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vcpu->vm;

	atomic_store(&vcpu->running, true);
	if (unlikely(atomic_load(&vm->pending_cpus))) {
		pthread_mutex_lock(&vm->excl_lock);
		if (!vcpu->has_waiter) {
			/* Not counted: stay out until the section ends. */
			atomic_store_explicit(&vcpu->running, false,
					      memory_order_relaxed);
			while (atomic_load(&vm->pending_cpus))
				pthread_cond_wait(&vm->excl_resume,
						  &vm->excl_lock);
			atomic_store_explicit(&vcpu->running, true,
					      memory_order_relaxed);
		}
		pthread_mutex_unlock(&vm->excl_lock);
	}
}

void vmc__exec_end(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vcpu->vm;

	atomic_store(&vcpu->running, false);
	if (unlikely(atomic_load(&vm->pending_cpus))) {
		pthread_mutex_lock(&vm->excl_lock);
		if (vcpu->has_waiter) {
			vcpu->has_waiter = false;
			if (atomic_fetch_sub(&vm->pending_cpus, 1) == 2)
				pthread_cond_broadcast(&vm->excl_cond);
		}
		pthread_mutex_unlock(&vm->excl_lock);
	}
}

void vmc__exclusive_start(struct vmc_vcpu *self)
{
	struct vmc_vm *vm = self->vm;
	int waiting = 0;

	if (self->exclusive_depth++ > 0)
		return;

	pthread_mutex_lock(&vm->excl_lock);
	while (atomic_load(&vm->pending_cpus))
		pthread_cond_wait(&vm->excl_resume, &vm->excl_lock);

	atomic_store(&vm->pending_cpus, 1);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (c == self || !atomic_load(&c->running))
			continue;
		c->has_waiter = true;
		waiting++;
		vmc__vcpu_exit(c);
	}
	atomic_store(&vm->pending_cpus, waiting + 1);
	while (atomic_load(&vm->pending_cpus) > 1)
		pthread_cond_wait(&vm->excl_cond, &vm->excl_lock);
	pthread_mutex_unlock(&vm->excl_lock);
}

void vmc__exclusive_end(struct vmc_vcpu *self)
{
	struct vmc_vm *vm = self->vm;

	if (--self->exclusive_depth > 0)
		return;
	pthread_mutex_lock(&vm->excl_lock);
	atomic_store(&vm->pending_cpus, 0);
	pthread_cond_broadcast(&vm->excl_resume);
	pthread_mutex_unlock(&vm->excl_lock);
}
