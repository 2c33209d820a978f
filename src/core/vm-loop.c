/* SPDX-License-Identifier: MIT */
/*
 * Loop objects of a VM: the loop's timers, bottom halves, fd handlers and
 * notifier handlers, made with the VM lock as the lock around their user
 * callbacks.  The mechanism (taking the lock, deciding the run under it)
 * lives with each object in timer.c, bh.c, fd.c and notifier-handler.c.
 */
#include "loop-internal.h"
#include "vm-internal.h"

VMC_EXPORT int vmc_vm_timer_new(struct vmc_vm *vm, enum vmc_clock_type type,
				vmc_timer_cb cb, void *userdata,
				struct vmc_timer **ret)
{
	struct vmc_clock *clock;

	vmc_assert_return(vm && cb && ret, -EINVAL);
	if (type == VMC_CLOCK_VIRTUAL)
		clock = vm->clock;
	else
		clock = vmc_loop_get_clock(vm->loop, type);
	vmc_assert_return(clock, -EINVAL);
	return vmc__timer_new_locked(clock, &vm->lock, cb, userdata, ret);
}

VMC_EXPORT int vmc_vm_bh_new(struct vmc_vm *vm, vmc_bh_cb cb, void *userdata,
			     struct vmc_bh **ret)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__bh_new_locked(vm->loop, &vm->lock, cb, userdata, ret);
}

VMC_EXPORT int vmc_vm_fd_handler_new(struct vmc_vm *vm, int fd,
				     vmc_fd_cb read_cb, vmc_fd_cb write_cb,
				     void *userdata,
				     struct vmc_fd_handler **ret)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__loop_add_fd_locked(vm->loop, &vm->lock, fd, read_cb,
				       write_cb, userdata, ret);
}

VMC_EXPORT int vmc_vm_notifier_set_handler(struct vmc_vm *vm,
					   struct vmc_notifier *n,
					   vmc_notifier_cb cb, void *userdata)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__notifier_set_handler_locked(n, vm->loop, &vm->lock, cb,
						userdata);
}
