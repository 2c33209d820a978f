/* SPDX-License-Identifier: MIT */
/*
 * A minimal KVM host with the gdb stub, for the gdb suite: one vCPU in
 * long mode running the x86 test guest's GT_HLT path (report DB_DONE
 * through the doorbell, then hlt), started paused so gdb attaches first.
 *
 *   kvm-gdb-host tcp::PORT
 *
 * Exits 0 once the guest rang DB_DONE (or gdb killed it), 77 without a
 * usable /dev/kvm.
 */
#include "kvm-guest.h"

static void on_done(struct vmc_notifier *n, void *userdata)
{
	struct gvm *g = userdata;

	vmc_notifier_test_and_clear(n);
	vmc_vm_request_shutdown(g->vm, 0);
}

static void on_state(struct vmc_vm *vm, enum vmc_vm_state old,
		     enum vmc_vm_state state, void *userdata)
{
	if (state == VMC_VM_SHUTDOWN || state == VMC_VM_GUEST_ERROR)
		vmc_loop_stop(userdata);
}

int main(int argc, char **argv)
{
	struct vmc_gdbstub *gs;
	struct vmc_loop *loop;
	struct gvm g;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: kvm-gdb-host GDB-ADDRESS\n");
		return 2;
	}
	ASSERT_OK(vmc_loop_new(&loop));
	gvm_init(&g, loop, 1, NULL);
	gvm_setup_long(&g, GT_HLT, 0);
	ASSERT_OK(vmc_notifier_new(&g.done_notifier));
	ASSERT_OK(vmc_notifier_set_handler(g.done_notifier, loop, on_done, &g));
	ASSERT_OK(vmc_vm_add_state_handler(g.vm, on_state, 0, loop, NULL));
	r = vmc_gdbstub_start(g.vm, loop, argv[1], &gs);
	if (r < 0)
		FAIL("gdbstub: %s", strerror(-r));
	vmc_loop_run(loop);
	r = vmc_vm_get_state(g.vm) == VMC_VM_SHUTDOWN ? 0 : 1;
	vmc_gdbstub_stop(gs);
	vmc_vm_pause(g.vm);
	vmc_notifier_set_handler(g.done_notifier, NULL, NULL, NULL);
	gvm_free(&g);
	vmc_notifier_free(g.done_notifier);
	vmc_loop_unref(loop);
	return r;
}
