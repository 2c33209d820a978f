/* SPDX-License-Identifier: MIT */
/*
 * riscv64 (tcg): gdb's org.gnu.gdb.riscv.cpu feature, x0..x31 under their
 * ABI names, then pc.
 */
#include <libvmcore/vmc-riscv.h>

#include "gdb-arch.h"

#define X(n) VMC_RISCV_REG_X(n)

#define RISCV_CPU_REGS(R)                                                      \
	R(zero, 64, int, none, X(0))                                           \
	R(ra, 64, code_ptr, none, X(1))                                        \
	R(sp, 64, data_ptr, none, X(2))                                        \
	R(gp, 64, data_ptr, none, X(3))                                        \
	R(tp, 64, data_ptr, none, X(4))                                        \
	R(t0, 64, int, none, X(5))                                             \
	R(t1, 64, int, none, X(6))                                             \
	R(t2, 64, int, none, X(7))                                             \
	R(fp, 64, data_ptr, none, X(8))                                        \
	R(s1, 64, int, none, X(9))                                             \
	R(a0, 64, int, none, X(10))                                            \
	R(a1, 64, int, none, X(11))                                            \
	R(a2, 64, int, none, X(12))                                            \
	R(a3, 64, int, none, X(13))                                            \
	R(a4, 64, int, none, X(14))                                            \
	R(a5, 64, int, none, X(15))                                            \
	R(a6, 64, int, none, X(16))                                            \
	R(a7, 64, int, none, X(17))                                            \
	R(s2, 64, int, none, X(18))                                            \
	R(s3, 64, int, none, X(19))                                            \
	R(s4, 64, int, none, X(20))                                            \
	R(s5, 64, int, none, X(21))                                            \
	R(s6, 64, int, none, X(22))                                            \
	R(s7, 64, int, none, X(23))                                            \
	R(s8, 64, int, none, X(24))                                            \
	R(s9, 64, int, none, X(25))                                            \
	R(s10, 64, int, none, X(26))                                           \
	R(s11, 64, int, none, X(27))                                           \
	R(t3, 64, int, none, X(28))                                            \
	R(t4, 64, int, none, X(29))                                            \
	R(t5, 64, int, none, X(30))                                            \
	R(t6, 64, int, none, X(31))                                            \
	R(pc, 64, code_ptr, none, VMC_RISCV_REG_PC)

#define RISCV_ENUM(name, bits, type, group, reg) GDB_ENUM_REG(RV_, name)
enum { RISCV_CPU_REGS(RISCV_ENUM) RV_NR_REGS };

/* clang-format off */
static const char xml[] =
	GDB_XML_HEAD("riscv:rv64")
	"<feature name=\"org.gnu.gdb.riscv.cpu\">"
	RISCV_CPU_REGS(GDB_XML_REG)
	"</feature>"
	GDB_XML_TAIL;
/* clang-format on */

static const struct gdb_reg regs[] = {RISCV_CPU_REGS(GDB_TABLE_REG)};

const struct gdb_arch vmc__gdb_arch_riscv64 = {
	.arch = VMC_ARCH_RISCV64,
	.xml = xml,
	.xml_len = sizeof(xml) - 1,
	.regs = regs,
	.nr_regs = RV_NR_REGS,
	.pc = RV_pc,
};
