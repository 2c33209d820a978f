/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-x86.h
 * @brief x86-64 vCPU state: register numbers, MSRs, CPUID, and a helper that
 * puts a vCPU straight into 64-bit mode.
 *
 * Register numbers (enum vmc_x86_reg) are what vmc_vcpu_get_reg() and
 * vmc_vcpu_set_reg() take on an x86-64 VM.  Segment registers are reached
 * field by field (selector, base, limit, attributes); the attributes use
 * the layout of the descriptor's access byte and flags: bits 0-7 the access
 * byte (type, S, DPL, P), bit 12 AVL, bit 13 L, bit 14 D/B, bit 15 G, bit 16
 * "unusable".
 *
 * All functions here run the access on the vCPU's own thread (like
 * vmc_vcpu_get_reg()): call them from the loop thread, another non-vCPU
 * thread, or the vCPU's own thread, never from another vCPU thread.  Only
 * VMs on the KVM accelerator have x86 vCPUs; others answer -EOPNOTSUPP.
 */
#ifndef LIBVMCORE_VMC_X86_H
#define LIBVMCORE_VMC_X86_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

/** x86-64 register numbers for vmc_vcpu_get_reg() / vmc_vcpu_set_reg(). */
enum vmc_x86_reg {
	VMC_X86_RAX = 0,
	VMC_X86_RBX,
	VMC_X86_RCX,
	VMC_X86_RDX,
	VMC_X86_RSI,
	VMC_X86_RDI,
	VMC_X86_RSP,
	VMC_X86_RBP,
	VMC_X86_R8,
	VMC_X86_R9,
	VMC_X86_R10,
	VMC_X86_R11,
	VMC_X86_R12,
	VMC_X86_R13,
	VMC_X86_R14,
	VMC_X86_R15,
	VMC_X86_RIP,
	VMC_X86_RFLAGS, /**< 17 */

	/** Segment selectors: CS, DS, ES, FS, GS, SS, TR, LDTR in order. */
	VMC_X86_CS = 0x20,
	VMC_X86_DS,
	VMC_X86_ES,
	VMC_X86_FS,
	VMC_X86_GS,
	VMC_X86_SS,
	VMC_X86_TR,
	VMC_X86_LDTR,
	/** Segment bases, same order. */
	VMC_X86_CS_BASE = 0x28,
	VMC_X86_DS_BASE,
	VMC_X86_ES_BASE,
	VMC_X86_FS_BASE,
	VMC_X86_GS_BASE,
	VMC_X86_SS_BASE,
	VMC_X86_TR_BASE,
	VMC_X86_LDTR_BASE,
	/** Segment limits, same order. */
	VMC_X86_CS_LIMIT = 0x30,
	VMC_X86_DS_LIMIT,
	VMC_X86_ES_LIMIT,
	VMC_X86_FS_LIMIT,
	VMC_X86_GS_LIMIT,
	VMC_X86_SS_LIMIT,
	VMC_X86_TR_LIMIT,
	VMC_X86_LDTR_LIMIT,
	/** Segment attributes (see the file comment), same order. */
	VMC_X86_CS_ATTR = 0x38,
	VMC_X86_DS_ATTR,
	VMC_X86_ES_ATTR,
	VMC_X86_FS_ATTR,
	VMC_X86_GS_ATTR,
	VMC_X86_SS_ATTR,
	VMC_X86_TR_ATTR,
	VMC_X86_LDTR_ATTR,

	VMC_X86_CR0 = 0x40,
	VMC_X86_CR2,
	VMC_X86_CR3,
	VMC_X86_CR4,
	VMC_X86_CR8,
	VMC_X86_EFER,
	VMC_X86_APIC_BASE,
	VMC_X86_GDTR_BASE,
	VMC_X86_GDTR_LIMIT,
	VMC_X86_IDTR_BASE,
	VMC_X86_IDTR_LIMIT,

	/** x87/SSE state: control, status and abridged tag words, MXCSR. */
	VMC_X86_FCW = 0x60,
	VMC_X86_FSW,
	VMC_X86_FTW,
	VMC_X86_MXCSR,
	/** XMM0..XMM15, low and high 64 bits: XMMn_LO = 0x80 + 2n. */
	VMC_X86_XMM0_LO = 0x80,
	VMC_X86_XMM0_HI = 0x81,
	VMC_X86_XMM15_HI = 0x9f,

	/** Debug registers DR0..DR3, DR6, DR7 (guest view). */
	VMC_X86_DR0 = 0xa0,
	VMC_X86_DR1,
	VMC_X86_DR2,
	VMC_X86_DR3,
	VMC_X86_DR6,
	VMC_X86_DR7,
	_VMC_X86_REG_MAX = 0x7fffffff
};

/**
 * Read a model-specific register of the vCPU.
 * @param vcpu the vCPU
 * @param index the MSR number (ECX of rdmsr)
 * @param[out] ret the value
 * @retval 0 success
 * @retval -EINVAL @p vcpu or @p ret is NULL
 * @retval -EOPNOTSUPP not an x86 vCPU
 * @retval -ENOENT the accelerator does not know this MSR
 * @retval -ENODEV the vCPU was unplugged
 * @retval -EDEADLK called from another vCPU's thread
 * @thread any except another vCPU thread
 * @since 0.1
 */
int vmc_x86_vcpu_get_msr(struct vmc_vcpu *vcpu, uint32_t index, uint64_t *ret);

/**
 * Write a model-specific register of the vCPU.
 * @param vcpu the vCPU
 * @param index the MSR number (ECX of wrmsr)
 * @param value the new value
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL
 * @retval -EOPNOTSUPP not an x86 vCPU
 * @retval -ENOENT the MSR or the value was refused
 * @retval -ENODEV the vCPU was unplugged
 * @retval -EDEADLK called from another vCPU's thread
 * @thread any except another vCPU thread
 * @since 0.1
 */
int vmc_x86_vcpu_set_msr(struct vmc_vcpu *vcpu, uint32_t index, uint64_t value);

/** One CPUID leaf (function/index) and the values the guest reads. */
struct vmc_x86_cpuid_entry {
	uint32_t function;	     /**< EAX input */
	uint32_t index;		     /**< ECX input, for leaves that use it */
	uint32_t eax, ebx, ecx, edx; /**< EDX output */
};

/** @var vmc_x86_cpuid_entry::eax
 * EAX output */
/** @var vmc_x86_cpuid_entry::ebx
 * EBX output */
/** @var vmc_x86_cpuid_entry::ecx
 * ECX output */

/**
 * Replace the vCPU's CPUID table.  A new vCPU starts with everything the
 * host supports (KVM_GET_SUPPORTED_CPUID).  Must be called before the vCPU
 * first runs (KVM refuses changes afterwards on recent kernels).
 * @param vcpu the vCPU
 * @param entries @p n entries, copied
 * @param n the number of entries
 * @retval 0 success
 * @retval -EINVAL @p vcpu is NULL, @p entries is NULL with @p n > 0, or
 *         @p n exceeds 4096
 * @retval -EOPNOTSUPP not an x86 vCPU
 * @retval -EBUSY the kernel refused (the vCPU already ran)
 * @retval -ENOMEM out of memory
 * @thread any except another vCPU thread
 * @since 0.1
 */
int vmc_x86_vcpu_set_cpuid(struct vmc_vcpu *vcpu,
			   const struct vmc_x86_cpuid_entry *entries, size_t n);

/**
 * Read one entry of the vCPU's CPUID table.
 * @param vcpu the vCPU
 * @param function the leaf (EAX input)
 * @param index the subleaf (ECX input), for leaves that use it
 * @param[out] ret filled in (function and index as asked)
 * @retval 0 success
 * @retval -EINVAL an argument is NULL
 * @retval -EOPNOTSUPP not an x86 vCPU
 * @retval -ENOENT no such leaf in the table
 * @thread any except another vCPU thread
 * @since 0.1
 */
int vmc_x86_vcpu_get_cpuid(struct vmc_vcpu *vcpu, uint32_t function,
			   uint32_t index, struct vmc_x86_cpuid_entry *ret);

/** Bytes of guest RAM vmc_x86_vcpu_setup_long_mode() writes page tables to. */
#define VMC_X86_LONG_MODE_TABLES_SIZE (7 * 4096)

/**
 * Put a vCPU straight into 64-bit mode, for sandbox guests that need no
 * firmware.
 *
 * Writes page tables that identity-map the low 4 GiB with 2 MiB pages
 * (writable, executable, supervisor) to VMC_X86_LONG_MODE_TABLES_SIZE
 * bytes of guest RAM at guest-physical @p tables_gpa, whose host mapping
 * the caller gives as @p tables (for example vmc_region_get_ptr() of the
 * RAM region plus the offset).  Then sets CR0 (PE, MP, ET, NE, WP, PG), CR3,
 * CR4 (PAE, OSFXSR, OSXMMEXCPT), EFER (LME, LMA), flat 64-bit code (selector
 * 0x08) and data (0x10) segments described by a GDT in the last page of the
 * area (so interrupt delivery and iretq find them), RIP = @p entry, RSP =
 * @p stack, RFLAGS = 0x2, the other general registers 0.  No IDT is set
 * up: a guest that takes interrupts loads its own.
 *
 * @param vcpu the vCPU
 * @param tables host address of the tables, 4 KiB-aligned
 * @param tables_gpa guest-physical address, 4 KiB-aligned
 * @param entry the RIP to start at
 * @param stack the initial RSP
 * @retval 0 success
 * @retval -EINVAL @p vcpu or @p tables is NULL, or an address is not
 *         aligned
 * @retval -EOPNOTSUPP not an x86 vCPU
 * @retval -ENODEV the vCPU was unplugged
 * @retval -EDEADLK called from another vCPU's thread
 * @thread any except another vCPU thread; best with the VM not running
 * @since 0.1
 */
int vmc_x86_vcpu_setup_long_mode(struct vmc_vcpu *vcpu, void *tables,
				 uint64_t tables_gpa, uint64_t entry,
				 uint64_t stack);

VMC_END_DECLS

#endif
