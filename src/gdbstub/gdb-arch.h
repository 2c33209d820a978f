/* SPDX-License-Identifier: MIT */
/*
 * What the stub knows about one guest architecture, in one place: gdb's
 * register numbers, their sizes and the libvmcore registers behind them,
 * the target description gdb reads with qXfer, and which register is the
 * pc.  Each architecture lists its registers once, in an X-macro; the
 * description's XML and the register table are both generated from that
 * list, so the two cannot disagree.
 */
#ifndef VMC_GDB_ARCH_H
#define VMC_GDB_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include <libvmcore/vmc-vm.h>

/* A gdb register with no libvmcore register behind it: reads as zeroes,
 * writes are accepted and dropped. */
#define GDB_REG_NONE UINT32_MAX

/* gdb register -> libvmcore register.  A 16-byte register is two
 * libvmcore registers: @reg holds the low 64 bits, @reg + 1 the high. */
struct gdb_reg {
	uint32_t reg;
	uint8_t size; /* bytes: 4, 8, 10 or 16 */
};

struct gdb_arch {
	enum vmc_arch arch;
	const char *xml; /* the target description (target.xml) */
	size_t xml_len;
	const struct gdb_reg *regs; /* indexed by gdb register number */
	unsigned int nr_regs;
	unsigned int pc; /* gdb number of the program counter */
};

extern const struct gdb_arch vmc__gdb_arch_riscv64;
extern const struct gdb_arch vmc__gdb_arch_x86_64;

/* The description of @arch, or NULL if the stub does not speak it. */
const struct gdb_arch *vmc__gdb_arch_find(enum vmc_arch arch);

/*
 * Helpers for the X-macro lists.  A register line is
 *   R(name, bits, gdb type, group, libvmcore register)
 * with group `none` for no group attribute.
 */
/* clang-format off */
#define GDB_XML_HEAD(arch)                                                   \
	"<?xml version=\"1.0\"?>"                                            \
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">"                       \
	"<target version=\"1.0\"><architecture>" arch "</architecture>"
#define GDB_XML_TAIL "</target>"
#define GDB_XML_REG(name, bits, type, group, reg)                            \
	"<reg name=\"" #name "\" bitsize=\"" #bits "\" type=\"" #type "\"" \
	GDB_XML_GROUP_##group "/>"
#define GDB_XML_GROUP_none ""
#define GDB_XML_GROUP_general " group=\"general\""
#define GDB_XML_GROUP_float " group=\"float\""
#define GDB_XML_GROUP_vector " group=\"vector\""
#define GDB_TABLE_REG(name, bits, type, group, reg) {(reg), (bits) / 8},
#define GDB_ENUM_REG(prefix, name) prefix##name,
/* clang-format on */

#endif
