/* SPDX-License-Identifier: MIT */
/*
 * VMC_RISCV_REG_EXT_OFF through the public API on a tcg VM: its value is
 * checked and read back, and switching Zbb off makes clz illegal even in
 * code the vCPU already translated with Zbb on (single steps, so each
 * stop is one instruction).
 */
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define RAM 0x80000000u
#define TRAP (RAM + 0x40)

static const uint32_t prog[] = {
	0x60059513, /* clz a0, a1 */
	0x0000006f, /* j . */
};

static struct vmc_loop *loop;

static uint64_t reg(struct vmc_vcpu *v, unsigned int r)
{
	uint64_t val = 0;

	ASSERT_OK(vmc_vcpu_get_reg(v, r, &val));
	return val;
}

static void wait_state(struct vmc_vm *vm, enum vmc_vm_state s)
{
	int64_t end = vmc_test_now_ns() + 10000000000ll;

	while (vmc_vm_get_state(vm) != s) {
		if (vmc_test_now_ns() > end)
			FAIL("VM in state %s, want %s",
			     vmc_vm_state_to_string(vmc_vm_get_state(vm)),
			     vmc_vm_state_to_string(s));
		vmc_loop_run_once(loop, false);
		usleep(100);
	}
}

/* Step one instruction at RAM with a1 = 0. */
static void step_at_ram(struct vmc_vm *vm, struct vmc_vcpu *v, bool first)
{
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_PC, RAM));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_X(10), 7));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_X(11), 0));
	ASSERT_OK(first ? vmc_vm_start(vm) : vmc_vm_resume(vm));
	wait_state(vm, VMC_VM_DEBUG);
}

static void test_ext_off(void)
{
	struct vmc_vm_config c;
	struct vmc_region *ram;
	struct vmc_vcpu *v;
	struct vmc_vm *vm;

	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = 1;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", 0x10000, 0,
				     &ram));
	memcpy(vmc_region_get_ptr(ram), prog, sizeof(prog));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   RAM, ram, 0));
	v = vmc_vm_get_vcpu(vm, 0);

	/* All on at creation; unknown bits are refused and change nothing. */
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_EXT_OFF), 0);
	ASSERT_ERR(vmc_vcpu_set_reg(v, VMC_RISCV_REG_EXT_OFF,
				    VMC_RISCV_EXT_ALL + 1),
		   -EINVAL);
	ASSERT_ERR(vmc_vcpu_set_reg(v, VMC_RISCV_REG_EXT_OFF, 1ull << 32),
		   -EINVAL);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_EXT_OFF), 0);
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_CSR(0x305), TRAP));
	ASSERT_OK(vmc_vcpu_debug_set_step(v, true));

	/* Zbb on: clz of 0 is 64. */
	step_at_ram(vm, v, true);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), RAM + 4);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_X(10)), 64);

	/* Zbb off: the same, already translated, clz is illegal. */
	ASSERT_OK(
		vmc_vcpu_set_reg(v, VMC_RISCV_REG_EXT_OFF, VMC_RISCV_EXT_ZBB));
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_EXT_OFF), VMC_RISCV_EXT_ZBB);
	step_at_ram(vm, v, false);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), TRAP);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_CSR(0x342)), 2);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_CSR(0x343)), prog[0]);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_X(10)), 7);

	/* Back on. */
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_EXT_OFF, 0));
	step_at_ram(vm, v, false);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), RAM + 4);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_X(10)), 64);

	vmc_vm_unref(vm);
	vmc_region_unref(ram);
}

int main(void)
{
	ASSERT_OK(vmc_loop_new(&loop));
	RUN(test_ext_off);
	vmc_loop_unref(loop);
	return 0;
}
