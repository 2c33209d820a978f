/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-hw-plic.h
 * @brief A RISC-V PLIC (SiFive layout, as QEMU's virt board configures
 * it).
 *
 * The PLIC collects level-triggered interrupt sources 1..num_sources-1 (0
 * is reserved) and routes them to contexts: two per hart, context 2 * h is
 * hart h's M mode (its MEIP line, mip bit 11), context 2 * h + 1 its S mode
 * (SEIP, mip bit 9).  It is one I/O region of 0x200000 + 0x1000 * contexts
 * bytes (QEMU's virt board maps it at 0xc000000), 32-bit registers:
 *
 * | offset                        | register                            |
 * |-------------------------------|-------------------------------------|
 * | 0x000000 + 4 * source         | priority (0..7; 0 never interrupts) |
 * | 0x001000 + 4 * word           | pending bits (read-only)            |
 * | 0x002000 + 0x80 * ctx + 4 * w | enable bits of a context            |
 * | 0x200000 + 0x1000 * ctx       | priority threshold of a context     |
 * | 0x200004 + 0x1000 * ctx       | claim (read) / complete (write)     |
 *
 * A source becomes pending while its input is high and it is not claimed;
 * lowering the input withdraws a pending request that was not claimed
 * yet.  A context's output is high while some source is pending, enabled
 * for it and of priority above its threshold.  Reading claim returns the
 * highest-priority such source (the lowest number among equals), clears
 * its pending bit and gates it until the context writes its number to
 * complete; a source whose input is still high then becomes pending again.
 * Completing a source that is not enabled for the context is ignored.
 *
 * Inputs are struct vmc_irq lines (vmc_plic_get_irq()), so devices wire
 * to the PLIC exactly as to anything else.  Everything runs with the VM
 * lock held.  A VM reset clears priorities, enables, thresholds, pending
 * and claimed state (input levels are kept, and re-sampled).
 */
#ifndef LIBVMCORE_VMC_HW_PLIC_H
#define LIBVMCORE_VMC_HW_PLIC_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_plic;
struct vmc_region;

/** Offset of the priority registers. */
#define VMC_PLIC_PRIORITY 0x0u
/** Offset of the pending bits. */
#define VMC_PLIC_PENDING 0x1000u
/** Offset of context 0's enable bits. */
#define VMC_PLIC_ENABLE 0x2000u
/** Distance between two contexts' enable bits. */
#define VMC_PLIC_ENABLE_STRIDE 0x80u
/** Offset of context 0's threshold register. */
#define VMC_PLIC_CONTEXT 0x200000u
/** Distance between two contexts' threshold registers. */
#define VMC_PLIC_CONTEXT_STRIDE 0x1000u
/** Number of sources of QEMU's virt board (ids 1..95). */
#define VMC_PLIC_VIRT_SOURCES 96u
/** Most sources a PLIC can have (ids 1..1023). */
#define VMC_PLIC_MAX_SOURCES 1024u
/** Most harts (two contexts each) one PLIC serves. */
#define VMC_PLIC_MAX_HARTS 7936u
/** Highest priority level (priorities and thresholds are 3 bits). */
#define VMC_PLIC_MAX_PRIORITY 7u

/** How to build a PLIC; initialise with vmc_plic_config_init(). */
struct vmc_plic_config {
	size_t size;		  /**< sizeof(struct vmc_plic_config) */
	struct vmc_vm *vm;	  /**< the machine */
	unsigned int hart_base;	  /**< vCPU index of the PLIC's hart 0 */
	unsigned int harts;	  /**< number of harts; default 1 */
	unsigned int num_sources; /**< sources incl. reserved 0; default 96 */
	/**
	 * Output lines, one per context (2 * @c harts): [2 * h] is hart h's
	 * M-mode external interrupt, [2 * h + 1] its S-mode one; copied at
	 * creation, owned by the caller and must outlive the PLIC.  NULL
	 * wires them to lines 11 and 9 of vCPUs @c hart_base + h (the PLIC
	 * then owns those lines).
	 */
	struct vmc_irq *const *irqs;
};

/**
 * Fill @p config with defaults: one hart at vCPU 0, 96 sources, outputs
 * wired to the vCPU.
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.1
 */
void vmc_plic_config_init(struct vmc_plic_config *config);

/**
 * Create a PLIC.  Map vmc_plic_get_region() to make it visible.
 * @param config the PLIC's configuration
 * @param[out] ret the new PLIC
 * @retval 0 success
 * @retval -EINVAL no VM, a bad size, @c harts 0 or above
 *         VMC_PLIC_MAX_HARTS, @c num_sources below 2 or above
 *         VMC_PLIC_MAX_SOURCES, or (without @c irqs) a hart without a vCPU
 * @retval -EBUSY (without @c irqs) a hart's MEIP or SEIP line is already
 *         driven, by another PLIC for example (since 0.2)
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.1
 */
int vmc_plic_new(const struct vmc_plic_config *config, struct vmc_plic **ret);

/**
 * Free the PLIC and its input lines.  Its region must have been removed
 * from every container, and no device may still set its inputs.  NULL is
 * ignored.
 * @param plic the PLIC
 * @thread loop, without the VM lock
 * @since 0.1
 */
void vmc_plic_free(struct vmc_plic *plic);

/**
 * Input line of source @p source, owned by the PLIC; give it to a device
 * as its interrupt output.
 * @param plic the PLIC
 * @param source the interrupt source number
 * @return the line; NULL for a NULL @p plic, source 0, or a source
 *         >= num_sources
 * @thread any
 * @since 0.1
 */
struct vmc_irq *vmc_plic_get_irq(struct vmc_plic *plic, unsigned int source);

/**
 * The PLIC's number of sources (reserved source 0 included).
 * @param plic the PLIC
 * @return the count; 0 for NULL
 * @thread any
 * @since 0.1
 */
unsigned int vmc_plic_get_num_sources(const struct vmc_plic *plic);

/**
 * The PLIC's I/O region (0x200000 + 0x1000 per context bytes), owned by
 * the PLIC: map it in the VM's memory address space (QEMU virt:
 * 0xc000000).
 * @param plic the PLIC
 * @return the region; NULL for a NULL @p plic
 * @thread any
 * @since 0.1
 */
struct vmc_region *vmc_plic_get_region(struct vmc_plic *plic);

VMC_END_DECLS

#endif
