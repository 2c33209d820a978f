/* SPDX-License-Identifier: MIT */
/*
 * The gdbstub's architecture descriptions agree with themselves: the
 * target XML lists exactly the register table's registers, in order, with
 * the same sizes; the pc is where the table says; a 'g' reply of every
 * register fits one packet.
 */
#include "gdb-arch.h"
#include "gdbstub-internal.h"
#include "vmc-test.h"

#include <string.h>

#include <libvmcore/vmc-riscv.h>
#include <libvmcore/vmc-x86.h>

static void check_arch(enum vmc_arch which, const char *pc_name,
		       uint32_t pc_reg)
{
	const struct gdb_arch *a = vmc__gdb_arch_find(which);
	const char *p;
	unsigned int n = 0;
	size_t g = 0;

	ASSERT_NOT_NULL(a);
	ASSERT_EQ(a->arch, which);
	ASSERT_EQ(strlen(a->xml), a->xml_len);
	for (p = strstr(a->xml, "<reg "); p; p = strstr(p + 1, "<reg ")) {
		char name[32];
		unsigned int bits;

		ASSERT_EQ(sscanf(p, "<reg name=\"%31[^\"]\" bitsize=\"%u\"",
				 name, &bits),
			  2);
		ASSERT_LT(n, a->nr_regs);
		if (a->regs[n].size * 8u != bits)
			FAIL("register %u (%s): %u bits in the XML, %u bytes "
			     "in the table",
			     n, name, bits, a->regs[n].size);
		if (n == a->pc)
			ASSERT_STREQ(name, pc_name);
		g += 2 * a->regs[n].size;
		n++;
	}
	ASSERT_EQ(n, a->nr_regs);
	ASSERT_EQ(a->regs[a->pc].reg, pc_reg);
	ASSERT_LE(g, VMC__GDB_MAX_REPLY);
	/* A transfer of the XML fits with its 'm'/'l' prefix. */
	ASSERT_GT(a->xml_len, 0);
}

static void test_riscv64(void)
{
	const struct gdb_arch *a = vmc__gdb_arch_find(VMC_ARCH_RISCV64);

	check_arch(VMC_ARCH_RISCV64, "pc", VMC_RISCV_REG_PC);
	/* x0-x31, pc, then the fpu feature: f0-f31, fflags, frm, fcsr, then
	 * the csr feature. */
	ASSERT_EQ(a->nr_regs, 68 + 28);
	for (unsigned int i = 0; i < 32; i++) {
		ASSERT_EQ(a->regs[i].reg, VMC_RISCV_REG_X(i));
		ASSERT_EQ(a->regs[33 + i].reg, VMC_RISCV_REG_F(i));
		ASSERT_EQ(a->regs[33 + i].size, 8);
	}
	ASSERT_EQ(a->regs[65].reg, VMC_RISCV_REG_CSR(1));
	ASSERT_EQ(a->regs[66].reg, VMC_RISCV_REG_CSR(2));
	ASSERT_EQ(a->regs[67].reg, VMC_RISCV_REG_CSR(3));
	ASSERT_EQ(a->regs[67].size, 4);
	ASSERT_NOT_NULL(strstr(a->xml, "org.gnu.gdb.riscv.fpu"));
	/* The csr feature follows the fpu's, each 64 bits, named as gdb's
	 * riscv target names them. */
	ASSERT_NOT_NULL(strstr(a->xml, "</feature><feature "
				       "name=\"org.gnu.gdb.riscv.csr\">"));
	for (unsigned int i = 68; i < a->nr_regs; i++) {
		ASSERT_EQ(a->regs[i].size, 8);
		ASSERT_GE(a->regs[i].reg, VMC_RISCV_REG_CSR(0));
		ASSERT_LE(a->regs[i].reg, VMC_RISCV_REG_CSR(0xfff));
	}
	ASSERT_EQ(a->regs[68].reg, VMC_RISCV_REG_CSR(0x100));
	ASSERT_EQ(a->regs[79].reg, VMC_RISCV_REG_CSR(0x300));
	ASSERT_EQ(a->regs[a->nr_regs - 1].reg, VMC_RISCV_REG_CSR(0xf14));
	ASSERT_NOT_NULL(strstr(a->xml, "<reg name=\"mepc\" bitsize=\"64\""));
	ASSERT_NOT_NULL(strstr(a->xml, "<reg name=\"satp\" bitsize=\"64\""));
}

static void test_x86_64(void)
{
	const struct gdb_arch *a = vmc__gdb_arch_find(VMC_ARCH_X86_64);

	check_arch(VMC_ARCH_X86_64, "rip", VMC_X86_RIP);
	ASSERT_EQ(a->nr_regs, 57);
	/* gdb's order is not libvmcore's: rbp before rsp. */
	ASSERT_EQ(a->regs[6].reg, VMC_X86_RBP);
	ASSERT_EQ(a->regs[7].reg, VMC_X86_RSP);
	ASSERT_EQ(a->regs[41].reg, VMC_X86_XMM0_LO + 2);
	ASSERT_EQ(a->regs[41].size, 16);
	ASSERT_EQ(a->regs[24].reg, GDB_REG_NONE);
}

static void test_unknown(void)
{
	ASSERT_NULL(vmc__gdb_arch_find(VMC_ARCH_NONE));
}

int main(void)
{
	RUN(test_riscv64);
	RUN(test_x86_64);
	RUN(test_unknown);
	return 0;
}
