/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the 16550 UART's registers and its host fds under a
 * guest and a host that act at random (fuzz/uart-fuzz-body.h).
 */
#include "uart-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmc_loop *loop;
	static struct vmc_vm *vm;

	if (!vm) {
		struct vmc_vm_config c;

		if (vmc_loop_new(&loop) < 0)
			abort();
		vmc_vm_config_init(&c);
		c.accel = VMC_ACCEL_HARNESS;
		c.flags = VMC_VM_DETERMINISTIC;
		c.loop = loop;
		if (vmc_vm_new(&c, &vm) < 0)
			abort();
	}
	uart_fuzz_one(loop, vm, data, size);
	return 0;
}
