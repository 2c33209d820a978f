/* SPDX-License-Identifier: MIT */
/*
 * Guest debugging hooks (vmc-debug.h): each call is a work item on the
 * vCPU's thread, where the accelerator may touch its CPU state; the VM
 * lock is held there and the vCPU is outside guest code.
 */
#include "vm-internal.h"

struct debug_call {
	int op;
	unsigned int kind;
	uint64_t addr, len;
	uint64_t out;
	int result;
};

enum { OP_INSERT, OP_REMOVE, OP_STEP, OP_TRANSLATE };

static void debug_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	const struct vmc_accel_ops *ops = vcpu->vm->ops;
	struct debug_call *c = userdata;

	switch (c->op) {
	case OP_INSERT:
		c->result = ops->debug_insert(vcpu, c->kind, c->addr, c->len);
		break;
	case OP_REMOVE:
		c->result = ops->debug_remove(vcpu, c->kind, c->addr, c->len);
		break;
	case OP_STEP:
		c->result = ops->debug_step(vcpu, c->addr != 0);
		break;
	default:
		c->result = ops->debug_translate(vcpu, c->addr, &c->out);
		break;
	}
}

static int debug_call(struct vmc_vcpu *vcpu, struct debug_call *c)
{
	int r = vmc_vcpu_run_sync(vcpu, debug_cb, c);

	return r < 0 ? r : c->result;
}

VMC_EXPORT int vmc_vcpu_debug_insert(struct vmc_vcpu *vcpu,
				     enum vmc_debug_kind kind, uint64_t addr,
				     uint64_t len)
{
	struct debug_call c = {.op = OP_INSERT,
			       .kind = (unsigned int)kind,
			       .addr = addr,
			       .len = len};

	vmc_assert_return(vcpu, -EINVAL);
	vmc_assert_return(kind >= VMC_DEBUG_BREAK_SW &&
				  kind <= VMC_DEBUG_WATCH_ACCESS,
			  -EINVAL);
	vmc_assert_return(kind <= VMC_DEBUG_BREAK_HW || len > 0, -EINVAL);
	if (!vcpu->vm->ops->debug_insert)
		return -EOPNOTSUPP;
	return debug_call(vcpu, &c);
}

VMC_EXPORT int vmc_vcpu_debug_remove(struct vmc_vcpu *vcpu,
				     enum vmc_debug_kind kind, uint64_t addr,
				     uint64_t len)
{
	struct debug_call c = {.op = OP_REMOVE,
			       .kind = (unsigned int)kind,
			       .addr = addr,
			       .len = len};

	vmc_assert_return(vcpu, -EINVAL);
	vmc_assert_return(kind >= VMC_DEBUG_BREAK_SW &&
				  kind <= VMC_DEBUG_WATCH_ACCESS,
			  -EINVAL);
	vmc_assert_return(kind <= VMC_DEBUG_BREAK_HW || len > 0, -EINVAL);
	if (!vcpu->vm->ops->debug_remove)
		return -EOPNOTSUPP;
	return debug_call(vcpu, &c);
}

VMC_EXPORT int vmc_vcpu_debug_set_step(struct vmc_vcpu *vcpu, bool on)
{
	struct debug_call c = {.op = OP_STEP, .addr = on};

	vmc_assert_return(vcpu, -EINVAL);
	if (!vcpu->vm->ops->debug_step)
		return -EOPNOTSUPP;
	return debug_call(vcpu, &c);
}

VMC_EXPORT int vmc_vcpu_debug_translate(struct vmc_vcpu *vcpu, uint64_t vaddr,
					uint64_t *ret)
{
	struct debug_call c = {.op = OP_TRANSLATE, .addr = vaddr};
	int r;

	vmc_assert_return(vcpu && ret, -EINVAL);
	if (!vcpu->vm->ops->debug_translate)
		return -EOPNOTSUPP;
	r = debug_call(vcpu, &c);
	if (r >= 0)
		*ret = c.out;
	return r;
}

VMC_EXPORT int vmc_vcpu_debug_get_stop(struct vmc_vcpu *vcpu,
				       struct vmc_debug_stop *ret)
{
	bool taken;

	vmc_assert_return(vcpu && ret, -EINVAL);
	taken = vmc__lock_acquire_if_needed(&vcpu->vm->lock);
	*ret = vcpu->acc.debug_stop;
	vmc__lock_release_if(&vcpu->vm->lock, taken);
	return 0;
}

VMC_EXPORT int vmc_vcpu_set_hold(struct vmc_vcpu *vcpu, bool hold)
{
	struct vmc_vm *vm;
	bool taken;

	vmc_assert_return(vcpu, -EINVAL);
	vm = vcpu->vm;
	vmc_assert_return(!(vmc__current_vcpu && vmc__current_vcpu->vm == vm),
			  -EDEADLK);
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	vcpu->hold = hold;
	if (vcpu->thread_started && !vcpu->exited && !vcpu->unplug &&
	    atomic_load(&vm->state) == VMC_VM_RUNNING) {
		if (hold) {
			vcpu->stop = true;
		} else {
			vcpu->stop = false;
			vcpu->stopped = false;
		}
		vmc__vcpu_wake(vcpu);
		vmc__vcpu_exit(vcpu);
	}
	vmc__lock_release_if(&vm->lock, taken);
	return 0;
}

VMC_EXPORT bool vmc_vcpu_get_hold(const struct vmc_vcpu *vcpu)
{
	return vcpu && vcpu->hold;
}
