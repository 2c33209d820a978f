/* SPDX-License-Identifier: MIT */
/*
 * x86-64 (KVM): gdb's org.gnu.gdb.i386.core and .sse features.  The x87
 * data registers and the FPU pointer registers have no libvmcore register:
 * they read as zero.
 */
#include <libvmcore/vmc-x86.h>

#include "gdb-arch.h"

#define NONE GDB_REG_NONE
#define XMM(n) (VMC_X86_XMM0_LO + 2 * (n))

#define X86_CORE_REGS(R)                                                       \
	R(rax, 64, int64, none, VMC_X86_RAX)                                   \
	R(rbx, 64, int64, none, VMC_X86_RBX)                                   \
	R(rcx, 64, int64, none, VMC_X86_RCX)                                   \
	R(rdx, 64, int64, none, VMC_X86_RDX)                                   \
	R(rsi, 64, int64, none, VMC_X86_RSI)                                   \
	R(rdi, 64, int64, none, VMC_X86_RDI)                                   \
	R(rbp, 64, data_ptr, none, VMC_X86_RBP)                                \
	R(rsp, 64, data_ptr, none, VMC_X86_RSP)                                \
	R(r8, 64, int64, none, VMC_X86_R8)                                     \
	R(r9, 64, int64, none, VMC_X86_R9)                                     \
	R(r10, 64, int64, none, VMC_X86_R10)                                   \
	R(r11, 64, int64, none, VMC_X86_R11)                                   \
	R(r12, 64, int64, none, VMC_X86_R12)                                   \
	R(r13, 64, int64, none, VMC_X86_R13)                                   \
	R(r14, 64, int64, none, VMC_X86_R14)                                   \
	R(r15, 64, int64, none, VMC_X86_R15)                                   \
	R(rip, 64, code_ptr, none, VMC_X86_RIP)                                \
	R(eflags, 32, int32, general, VMC_X86_RFLAGS)                          \
	R(cs, 32, int32, general, VMC_X86_CS)                                  \
	R(ss, 32, int32, general, VMC_X86_SS)                                  \
	R(ds, 32, int32, general, VMC_X86_DS)                                  \
	R(es, 32, int32, general, VMC_X86_ES)                                  \
	R(fs, 32, int32, general, VMC_X86_FS)                                  \
	R(gs, 32, int32, general, VMC_X86_GS)                                  \
	R(st0, 80, i387_ext, none, NONE)                                       \
	R(st1, 80, i387_ext, none, NONE)                                       \
	R(st2, 80, i387_ext, none, NONE)                                       \
	R(st3, 80, i387_ext, none, NONE)                                       \
	R(st4, 80, i387_ext, none, NONE)                                       \
	R(st5, 80, i387_ext, none, NONE)                                       \
	R(st6, 80, i387_ext, none, NONE)                                       \
	R(st7, 80, i387_ext, none, NONE)                                       \
	R(fctrl, 32, int32, float, VMC_X86_FCW)                                \
	R(fstat, 32, int32, float, VMC_X86_FSW)                                \
	R(ftag, 32, int32, float, VMC_X86_FTW)                                 \
	R(fiseg, 32, int32, float, NONE)                                       \
	R(fioff, 32, int32, float, NONE)                                       \
	R(foseg, 32, int32, float, NONE)                                       \
	R(fooff, 32, int32, float, NONE)                                       \
	R(fop, 32, int32, float, NONE)

#define X86_SSE_REGS(R)                                                        \
	R(xmm0, 128, vec128, none, XMM(0))                                     \
	R(xmm1, 128, vec128, none, XMM(1))                                     \
	R(xmm2, 128, vec128, none, XMM(2))                                     \
	R(xmm3, 128, vec128, none, XMM(3))                                     \
	R(xmm4, 128, vec128, none, XMM(4))                                     \
	R(xmm5, 128, vec128, none, XMM(5))                                     \
	R(xmm6, 128, vec128, none, XMM(6))                                     \
	R(xmm7, 128, vec128, none, XMM(7))                                     \
	R(xmm8, 128, vec128, none, XMM(8))                                     \
	R(xmm9, 128, vec128, none, XMM(9))                                     \
	R(xmm10, 128, vec128, none, XMM(10))                                   \
	R(xmm11, 128, vec128, none, XMM(11))                                   \
	R(xmm12, 128, vec128, none, XMM(12))                                   \
	R(xmm13, 128, vec128, none, XMM(13))                                   \
	R(xmm14, 128, vec128, none, XMM(14))                                   \
	R(xmm15, 128, vec128, none, XMM(15))                                   \
	R(mxcsr, 32, int32, vector, VMC_X86_MXCSR)

#define X86_ENUM(name, bits, type, group, reg) GDB_ENUM_REG(X86_, name)
enum { X86_CORE_REGS(X86_ENUM) X86_SSE_REGS(X86_ENUM) X86_NR_REGS };

/* clang-format off */
static const char xml[] =
	GDB_XML_HEAD("i386:x86-64")
	"<feature name=\"org.gnu.gdb.i386.core\">"
	X86_CORE_REGS(GDB_XML_REG)
	"</feature><feature name=\"org.gnu.gdb.i386.sse\">"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/></union>"
	X86_SSE_REGS(GDB_XML_REG)
	"</feature>"
	GDB_XML_TAIL;
/* clang-format on */

static const struct gdb_reg regs[] = {X86_CORE_REGS(GDB_TABLE_REG)
					      X86_SSE_REGS(GDB_TABLE_REG)};

const struct gdb_arch vmc__gdb_arch_x86_64 = {
	.arch = VMC_ARCH_X86_64,
	.xml = xml,
	.xml_len = sizeof(xml) - 1,
	.regs = regs,
	.nr_regs = X86_NR_REGS,
	.pc = X86_rip,
};
