/* SPDX-License-Identifier: MIT */
/*
 * The F and D registers through the public vCPU register API on a tcg VM:
 * f0-f31 (VMC_RISCV_REG_F) and fflags/frm/fcsr read and write back, out of
 * range numbers are refused, mstatus.FS starts Off (as on QEMU's virt) and
 * a register write through the API makes it Dirty with SD, as a write by
 * the hart would once FP is enabled.
 */
#include <errno.h>
#include <fenv.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#include "rv-board.h"
#include "vmc-test.h"

#define CODE 0x80000000ull

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

/*
 * The guest's rounding modes and flags never leak into the host thread's
 * floating-point environment: a guest that divides by zero, overflows and
 * rounds toward zero, up and to max magnitude leaves the host's rounding
 * mode (set to downward here, as an SSE division shows) and its exception
 * flags (clear) as they were.
 */
static void test_host_env_kept(void)
{
	static const uint32_t prog[] = {
		0x000022b7, /* lui t0, 0x2 (mstatus.FS = Initial) */
		0x3002a073, /* csrs mstatus, t0 */
		0x00100293, /* li t0, 1 */
		0xd20287d3, /* fcvt.d.w fa5, t0 */
		0xf2000753, /* fmv.d.x fa4, zero */
		0x0020d073, /* fsrmi 1 (RTZ) */
		0x1ae7f6d3, /* fdiv.d fa3, fa5, fa4 (dyn): DZ */
		0x1ae7c6d3, /* fdiv.d fa3, fa5, fa4, rmm */
		0x5a07b6d3, /* fsqrt.d fa3, fa5, rup */
		0x0000006f, /* j . */
	};
	struct board b;
	uint64_t retired = 0, fflags = 0, q;
	volatile double one = 1.0, three = 3.0;
	double third;

	ASSERT_OK(board_init(&b, 1 << 20));
	memcpy(b.ram, prog, sizeof(prog));
	ASSERT_OK(vmc__rv_add_breakpoint(b.hart, CODE + 4 * 9));
	vmc__rv_hart_reset(b.hart, CODE);
	ASSERT_EQ(fesetround(FE_DOWNWARD), 0);
	feclearexcept(FE_ALL_EXCEPT);
	vmc__rv_run(b.hart, 1000, &retired);
	ASSERT_EQ(fegetround(), FE_DOWNWARD);
	ASSERT_EQ(fetestexcept(FE_ALL_EXCEPT), 0);
	third = one / three; /* 1/3 rounded down: ...555, up: ...556 */
	memcpy(&q, &third, sizeof(q));
	fesetround(FE_TONEAREST);
	ASSERT_EQ_U64(q, 0x3fd5555555555555ull);
	feclearexcept(FE_ALL_EXCEPT);
	ASSERT_EQ_U64(vmc__rv_get_pc(b.hart), CODE + 4 * 9);
	ASSERT_OK(vmc__rv_get_csr(b.hart, 0x001, &fflags));
	ASSERT_EQ_U64(fflags, 0x08); /* DZ only: 1/0 twice, sqrt(1) exact */
	board_free(&b);
}

int main(void)
{
	RUN(test_fp_regs);
	RUN(test_host_env_kept);
	return 0;
}
