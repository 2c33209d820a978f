/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-hw-clint.h
 * @brief A RISC-V CLINT (SiFive layout): software interrupts and the
 * machine timer.
 *
 * The CLINT is one I/O region of 0x10000 bytes that the board maps (QEMU's
 * virt board: 0x2000000).  Its layout is SiFive's, which the ACLINT
 * specification keeps:
 *
 * | offset              | register        | access          |
 * |---------------------|-----------------|-----------------|
 * | 0x0000 + 4 * hart   | msip[hart]      | 4 bytes, bit 0  |
 * | 0x4000 + 8 * hart   | mtimecmp[hart]  | 4 or 8 bytes    |
 * | 0xbff8              | mtime           | 4 or 8 bytes    |
 *
 * 64-bit registers can be accessed whole or as two 32-bit halves.  msip
 * drives the hart's MSIP line (mip bit 3); mtimecmp drives MTIP (mip bit
 * 7), which is high exactly while mtime >= mtimecmp.
 *
 * mtime counts at @c timebase_hz (10 MHz by default, as QEMU's virt board)
 * and is derived from the VM's virtual clock, so it stops while the VM is
 * paused and is deterministic when the clock is (vmc_clock_step() moves
 * it).  A compare value in the future arms a timer on the virtual clock
 * for the exact nanosecond at which mtime reaches it.  Writing mtime moves
 * the counter; every compare is re-evaluated.
 *
 * On VM reset mtime returns to 0, every msip is cleared and every mtimecmp
 * becomes UINT64_MAX (the specification leaves them unknown; this value
 * raises nothing).  Register accesses run with the VM lock held.
 */
#ifndef LIBVMCORE_VMC_HW_CLINT_H
#define LIBVMCORE_VMC_HW_CLINT_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_clint;
struct vmc_region;

/** Size of the CLINT's region. */
#define VMC_CLINT_SIZE 0x10000u
/** Offset of msip[0]. */
#define VMC_CLINT_MSIP 0x0000u
/** Offset of mtimecmp[0]. */
#define VMC_CLINT_MTIMECMP 0x4000u
/** Offset of mtime. */
#define VMC_CLINT_MTIME 0xbff8u
/** Most harts one CLINT serves (the mtimecmp array ends at mtime). */
#define VMC_CLINT_MAX_HARTS 4095u

/** How to build a CLINT; initialise with vmc_clint_config_init(). */
struct vmc_clint_config {
	size_t size;		/**< sizeof(struct vmc_clint_config) */
	struct vmc_vm *vm;	/**< the machine (lock, clock, vCPUs) */
	unsigned int hart_base; /**< vCPU index of the CLINT's hart 0 */
	unsigned int harts;	/**< number of harts; default 1 */
	uint32_t timebase_hz;	/**< mtime frequency; default 10000000 */
	/**
	 * Output lines, 2 * @c harts of them: [2 * i] is hart i's MSIP,
	 * [2 * i + 1] its MTIP; copied at creation, owned by the caller and
	 * must outlive the CLINT.  NULL wires them to lines 3 and 7 of vCPUs
	 * @c hart_base + i (the CLINT then owns those lines).
	 */
	struct vmc_irq *const *irqs;
};

/**
 * Fill @p config with defaults: one hart at vCPU 0, 10 MHz, outputs wired
 * to the vCPU.
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.1
 */
void vmc_clint_config_init(struct vmc_clint_config *config);

/**
 * Create a CLINT.  Map vmc_clint_get_region() to make it visible.
 * @param config the CLINT's configuration
 * @param[out] ret the new CLINT
 * @retval 0 success
 * @retval -EINVAL no VM, a bad size, @c harts 0 or above
 *         VMC_CLINT_MAX_HARTS, @c timebase_hz 0, or (without @c irqs) a
 *         hart without a vCPU
 * @retval -EBUSY (without @c irqs) a hart's MSIP or MTIP line is already
 *         driven, by another CLINT for example (since 0.2)
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.1
 */
int vmc_clint_new(const struct vmc_clint_config *config,
		  struct vmc_clint **ret);

/**
 * Free the CLINT.  Its region must have been removed from every container
 * first.  NULL is ignored.
 * @param clint the CLINT
 * @thread loop, without the VM lock
 * @since 0.1
 */
void vmc_clint_free(struct vmc_clint *clint);

/**
 * The current value of mtime.
 * @param clint the CLINT
 * @return the count; 0 for NULL
 * @thread any (with the VM lock for a value consistent with the
 *         registers)
 * @since 0.1
 */
uint64_t vmc_clint_get_mtime(const struct vmc_clint *clint);

/**
 * The CLINT's I/O region (VMC_CLINT_SIZE bytes), owned by the CLINT: map it
 * in the VM's memory address space (QEMU virt: 0x2000000).
 * @param clint the CLINT
 * @return the region; NULL for a NULL @p clint
 * @thread any
 * @since 0.1
 */
struct vmc_region *vmc_clint_get_region(struct vmc_clint *clint);

VMC_END_DECLS

#endif
