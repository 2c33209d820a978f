/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-riscv.h
 * @brief RISC-V register numbers and interrupt lines.
 *
 * Register numbers for vmc_vcpu_get_reg() and vmc_vcpu_set_reg() on a
 * VMC_ARCH_RISCV64 vCPU: the 32 integer registers are 0..31, the program
 * counter is 32, the F and D registers f0..f31 are 33..64 (64 bits each,
 * singles NaN-boxed as the hart holds them; fcsr, frm and fflags are
 * CSRs), a CSR is 0x1000 plus its 12-bit CSR number, and the
 * hart's current privilege level is 0x2000 (values of enum
 * vmc_riscv_priv).  A board sets a hart's reset state with them: pc, a0 =
 * hart id, a1 = device-tree address.
 *
 * Interrupt lines of a RISC-V vCPU (vmc_vcpu_set_irq()) are bit numbers of
 * the mip CSR; the VMC_RISCV_IRQ_* constants name the standard ones.
 * A board switches extensions off (QEMU's -cpu rv64,zba=off) by writing
 * VMC_RISCV_REG_EXT_OFF with vmc_vcpu_set_reg() before the vCPU runs.
 */
#ifndef LIBVMCORE_VMC_RISCV_H
#define LIBVMCORE_VMC_RISCV_H

#include <libvmcore/vmc-common.h>

VMC_BEGIN_DECLS

/** Register numbers of a RISC-V vCPU. */
enum vmc_riscv_reg {
	VMC_RISCV_REG_X0 = 0,	/**< zero; writes are ignored */
	VMC_RISCV_REG_RA = 1,	/**< x1, return address */
	VMC_RISCV_REG_SP = 2,	/**< x2, stack pointer */
	VMC_RISCV_REG_GP = 3,	/**< x3, global pointer */
	VMC_RISCV_REG_TP = 4,	/**< x4, thread pointer */
	VMC_RISCV_REG_A0 = 10,	/**< x10, first argument */
	VMC_RISCV_REG_A1 = 11,	/**< x11, second argument */
	VMC_RISCV_REG_A2 = 12,	/**< x12, third argument */
	VMC_RISCV_REG_X31 = 31, /**< the last integer register */
	VMC_RISCV_REG_PC = 32,	/**< program counter */
	VMC_RISCV_REG_F0 = 33,	/**< f0, the first FP register (@since 0.2) */
	VMC_RISCV_REG_F31 = 64, /**< f31, the last FP register (@since 0.2) */
	VMC_RISCV_REG_FFLAGS = 0x1001,	 /**< CSR fflags (@since 0.2) */
	VMC_RISCV_REG_FRM = 0x1002,	 /**< CSR frm (@since 0.2) */
	VMC_RISCV_REG_FCSR = 0x1003,	 /**< CSR fcsr (@since 0.2) */
	VMC_RISCV_REG_CSR_BASE = 0x1000, /**< CSR n is 0x1000 + n */
	VMC_RISCV_REG_PRIV = 0x2000,	 /**< privilege (vmc_riscv_priv) */
	/** The extensions switched off, a set of enum vmc_riscv_ext bits
	 *  (0, all on, at creation).  A write with a bit outside
	 *  VMC_RISCV_EXT_ALL fails with -EINVAL; a switched-off
	 *  extension's instructions raise illegal instruction (its hints
	 *  stay the base instructions they are encoded as).  Only the
	 *  tcg accelerator has it (@since 0.2). */
	VMC_RISCV_REG_EXT_OFF = 0x2001,
	_VMC_RISCV_REG_MAX = 0x7fffffff
};

/** Register number of integer register x@p n (0..31). */
#define VMC_RISCV_REG_X(n) ((unsigned int)(n))

/** Register number of FP register f@p n (0..31). @since 0.2 */
#define VMC_RISCV_REG_F(n) (33u + (unsigned int)(n))

/** Register number of CSR @p csr (0..0xfff). */
#define VMC_RISCV_REG_CSR(csr) (0x1000u + ((unsigned int)(csr)&0xfffu))

/** Privilege levels, as read and written through VMC_RISCV_REG_PRIV. */
enum vmc_riscv_priv {
	VMC_RISCV_PRIV_U = 0, /**< user */
	VMC_RISCV_PRIV_S = 1, /**< supervisor */
	VMC_RISCV_PRIV_M = 3, /**< machine */
	_VMC_RISCV_PRIV_MAX = 0x7fffffff
};

/** Extensions of the tcg accelerator's RV64 hart that can be switched off
 *  (VMC_RISCV_REG_EXT_OFF), named as in QEMU's -cpu options (@since 0.2). */
enum vmc_riscv_ext {
	VMC_RISCV_EXT_ZBA = 1u << 0,	/**< zba: address generation */
	VMC_RISCV_EXT_ZBB = 1u << 1,	/**< zbb: basic bit manipulation */
	VMC_RISCV_EXT_ZBC = 1u << 2,	/**< zbc: carry-less multiplication */
	VMC_RISCV_EXT_ZBS = 1u << 3,	/**< zbs: single-bit operations */
	VMC_RISCV_EXT_ZICOND = 1u << 4, /**< zicond: czero.eqz/nez */
	VMC_RISCV_EXT_ZICBOM = 1u << 5, /**< zicbom: cbo.clean/flush/inval */
	VMC_RISCV_EXT_ZICBOZ = 1u << 6, /**< zicboz: cbo.zero */
	VMC_RISCV_EXT_SVPBMT = 1u << 7, /**< svpbmt: menvcfg.PBMTE reads 0 */
	VMC_RISCV_EXT_SSTC = 1u << 8,	/**< sstc: stimecmp (@since 0.2) */
	VMC_RISCV_EXT_ALL = 0x1ff,	/**< every bit above */
	_VMC_RISCV_EXT_MAX = 0x7fffffff
};

/** Interrupt lines of a RISC-V vCPU: bit numbers of mip. */
enum vmc_riscv_irq {
	VMC_RISCV_IRQ_SSIP = 1,	 /**< supervisor software interrupt */
	VMC_RISCV_IRQ_MSIP = 3,	 /**< machine software interrupt */
	VMC_RISCV_IRQ_STIP = 5,	 /**< supervisor timer interrupt */
	VMC_RISCV_IRQ_MTIP = 7,	 /**< machine timer interrupt */
	VMC_RISCV_IRQ_SEIP = 9,	 /**< supervisor external interrupt */
	VMC_RISCV_IRQ_MEIP = 11, /**< machine external interrupt */
	_VMC_RISCV_IRQ_MAX = 0x7fffffff
};

VMC_END_DECLS

#endif
