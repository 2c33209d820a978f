/* SPDX-License-Identifier: MIT */
/*
 * riscv64 (tcg): gdb's org.gnu.gdb.riscv.cpu feature, x0..x31 under their
 * ABI names, then pc; org.gnu.gdb.riscv.fpu, f0..f31 under their ABI names
 * (as a single/double union, as gdb's own description has them), then
 * fflags, frm and fcsr; org.gnu.gdb.riscv.csr, the machine and supervisor
 * CSRs below (read and written through VMC_RISCV_REG_CSR, as the guest's
 * csrr/csrw would in M-mode, without a trap).
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

#define F(n) VMC_RISCV_REG_F(n)

#define RISCV_FPU_REGS(R)                                                      \
	R(ft0, 64, riscv_double, float, F(0))                                  \
	R(ft1, 64, riscv_double, float, F(1))                                  \
	R(ft2, 64, riscv_double, float, F(2))                                  \
	R(ft3, 64, riscv_double, float, F(3))                                  \
	R(ft4, 64, riscv_double, float, F(4))                                  \
	R(ft5, 64, riscv_double, float, F(5))                                  \
	R(ft6, 64, riscv_double, float, F(6))                                  \
	R(ft7, 64, riscv_double, float, F(7))                                  \
	R(fs0, 64, riscv_double, float, F(8))                                  \
	R(fs1, 64, riscv_double, float, F(9))                                  \
	R(fa0, 64, riscv_double, float, F(10))                                 \
	R(fa1, 64, riscv_double, float, F(11))                                 \
	R(fa2, 64, riscv_double, float, F(12))                                 \
	R(fa3, 64, riscv_double, float, F(13))                                 \
	R(fa4, 64, riscv_double, float, F(14))                                 \
	R(fa5, 64, riscv_double, float, F(15))                                 \
	R(fa6, 64, riscv_double, float, F(16))                                 \
	R(fa7, 64, riscv_double, float, F(17))                                 \
	R(fs2, 64, riscv_double, float, F(18))                                 \
	R(fs3, 64, riscv_double, float, F(19))                                 \
	R(fs4, 64, riscv_double, float, F(20))                                 \
	R(fs5, 64, riscv_double, float, F(21))                                 \
	R(fs6, 64, riscv_double, float, F(22))                                 \
	R(fs7, 64, riscv_double, float, F(23))                                 \
	R(fs8, 64, riscv_double, float, F(24))                                 \
	R(fs9, 64, riscv_double, float, F(25))                                 \
	R(fs10, 64, riscv_double, float, F(26))                                \
	R(fs11, 64, riscv_double, float, F(27))                                \
	R(ft8, 64, riscv_double, float, F(28))                                 \
	R(ft9, 64, riscv_double, float, F(29))                                 \
	R(ft10, 64, riscv_double, float, F(30))                                \
	R(ft11, 64, riscv_double, float, F(31))                                \
	R(fflags, 32, int, float, VMC_RISCV_REG_FFLAGS)                        \
	R(frm, 32, int, float, VMC_RISCV_REG_FRM)                              \
	R(fcsr, 32, int, float, VMC_RISCV_REG_FCSR)

#define CSR(n) VMC_RISCV_REG_CSR(n)

/*
 * The machine and supervisor CSRs firmware and kernel developers look at.
 * gdb matches them by name and numbers them internally 65 + the CSR
 * number; on the wire they follow fcsr (68, 69, ...), as the description
 * gives no regnum.  Every one here must read without error on every hart,
 * or the 'g' reply fails: stimecmp is there because the tcg hart always
 * has Sstc.
 */
#define RISCV_CSR_REGS(R)                                                      \
	R(sstatus, 64, int, none, CSR(0x100))                                  \
	R(sie, 64, int, none, CSR(0x104))                                      \
	R(stvec, 64, int, none, CSR(0x105))                                    \
	R(scounteren, 64, int, none, CSR(0x106))                               \
	R(sscratch, 64, int, none, CSR(0x140))                                 \
	R(sepc, 64, int, none, CSR(0x141))                                     \
	R(scause, 64, int, none, CSR(0x142))                                   \
	R(stval, 64, int, none, CSR(0x143))                                    \
	R(sip, 64, int, none, CSR(0x144))                                      \
	R(stimecmp, 64, int, none, CSR(0x14d))                                 \
	R(satp, 64, int, none, CSR(0x180))                                     \
	R(mstatus, 64, int, none, CSR(0x300))                                  \
	R(misa, 64, int, none, CSR(0x301))                                     \
	R(medeleg, 64, int, none, CSR(0x302))                                  \
	R(mideleg, 64, int, none, CSR(0x303))                                  \
	R(mie, 64, int, none, CSR(0x304))                                      \
	R(mtvec, 64, int, none, CSR(0x305))                                    \
	R(mcounteren, 64, int, none, CSR(0x306))                               \
	R(menvcfg, 64, int, none, CSR(0x30a))                                  \
	R(mscratch, 64, int, none, CSR(0x340))                                 \
	R(mepc, 64, int, none, CSR(0x341))                                     \
	R(mcause, 64, int, none, CSR(0x342))                                   \
	R(mtval, 64, int, none, CSR(0x343))                                    \
	R(mip, 64, int, none, CSR(0x344))                                      \
	R(cycle, 64, int, none, CSR(0xc00))                                    \
	R(time, 64, int, none, CSR(0xc01))                                     \
	R(instret, 64, int, none, CSR(0xc02))                                  \
	R(mhartid, 64, int, none, CSR(0xf14))

#define RISCV_ENUM(name, bits, type, group, reg) GDB_ENUM_REG(RV_, name)
enum {
	RISCV_CPU_REGS(RISCV_ENUM) RISCV_FPU_REGS(RISCV_ENUM)
		RISCV_CSR_REGS(RISCV_ENUM) RV_NR_REGS
};

/* clang-format off */
static const char xml[] =
	GDB_XML_HEAD("riscv:rv64")
	"<feature name=\"org.gnu.gdb.riscv.cpu\">"
	RISCV_CPU_REGS(GDB_XML_REG)
	"</feature>"
	"<feature name=\"org.gnu.gdb.riscv.fpu\">"
	"<union id=\"riscv_double\">"
	"<field name=\"float\" type=\"ieee_single\"/>"
	"<field name=\"double\" type=\"ieee_double\"/>"
	"</union>"
	RISCV_FPU_REGS(GDB_XML_REG)
	"</feature>"
	"<feature name=\"org.gnu.gdb.riscv.csr\">"
	RISCV_CSR_REGS(GDB_XML_REG)
	"</feature>"
	GDB_XML_TAIL;
/* clang-format on */

static const struct gdb_reg regs[] = {
	RISCV_CPU_REGS(GDB_TABLE_REG) RISCV_FPU_REGS(GDB_TABLE_REG)
		RISCV_CSR_REGS(GDB_TABLE_REG)};

const struct gdb_arch vmc__gdb_arch_riscv64 = {
	.arch = VMC_ARCH_RISCV64,
	.xml = xml,
	.xml_len = sizeof(xml) - 1,
	.regs = regs,
	.nr_regs = RV_NR_REGS,
	.pc = RV_pc,
};
