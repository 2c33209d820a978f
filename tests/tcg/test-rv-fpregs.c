/* SPDX-License-Identifier: MIT */
/*
 * The F and D registers through the public vCPU register API on a tcg VM:
 * f0-f31 (VMC_RISCV_REG_F) and fflags/frm/fcsr read and write back, out of
 * range numbers are refused, mstatus.FS starts Off (as on QEMU's virt) and
 * a register write through the API makes it Dirty with SD, as a write by
 * the hart would once FP is enabled.
 */
#include <errno.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

static void test_fp_regs(void)
{
	struct vmc_loop *loop;
	struct vmc_vm_config c;
	struct vmc_vm *vm;
	struct vmc_vcpu *v;
	uint64_t x;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	v = vmc_vm_get_vcpu(vm, 0);

	/* Reset: FS Off, f registers and fcsr zero; misa has F and D. */
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_CSR(0x300), &x));
	ASSERT_EQ_U64(x & 0x6000, 0);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_CSR(0x301), &x));
	ASSERT_EQ_U64(x & 0x28, 0x28);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_F(31), &x));
	ASSERT_EQ_U64(x, 0);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_FCSR, &x));
	ASSERT_EQ_U64(x, 0);

	for (unsigned int i = 0; i < 32; i++)
		ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_F(i),
					   0x3ff0000000000000ull + i));
	for (unsigned int i = 0; i < 32; i++) {
		ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_F(i), &x));
		ASSERT_EQ_U64(x, 0x3ff0000000000000ull + i);
	}
	ASSERT_EQ(VMC_RISCV_REG_F(0), VMC_RISCV_REG_F0);
	ASSERT_EQ(VMC_RISCV_REG_F(31), VMC_RISCV_REG_F31);
	ASSERT_ERR(vmc_vcpu_get_reg(v, VMC_RISCV_REG_F31 + 1, &x), -EINVAL);
	/* FS stayed Off: the debugger's writes do not enable the FPU. */
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_CSR(0x300), &x));
	ASSERT_EQ_U64(x & 0x6000, 0);

	/* fcsr is frm << 5 | fflags, each field also its own CSR. */
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_FCSR, 0x7a5));
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_FCSR, &x));
	ASSERT_EQ_U64(x, 0xa5);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_FRM, &x));
	ASSERT_EQ_U64(x, 5);
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_FFLAGS, &x));
	ASSERT_EQ_U64(x, 5);

	/* FS Initial, then a write makes it Dirty and sets SD. */
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_CSR(0x300), 0x2000));
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_CSR(0x300), &x));
	ASSERT_EQ_U64(x & (0x6000 | 1ull << 63), 0x2000);
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_F(3), 0));
	ASSERT_OK(vmc_vcpu_get_reg(v, VMC_RISCV_REG_CSR(0x300), &x));
	ASSERT_EQ_U64(x & (0x6000 | 1ull << 63), 0x6000 | 1ull << 63);

	vmc_vm_unref(vm);
	vmc_loop_unref(loop);
}

int main(void)
{
	RUN(test_fp_regs);
	return 0;
}
