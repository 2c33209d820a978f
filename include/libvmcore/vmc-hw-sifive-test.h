/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-hw-sifive-test.h
 * @brief The SiFive test finisher: how a guest powers off, fails or
 * reboots.
 *
 * One I/O region of 0x1000 bytes (QEMU's virt board: 0x100000) with one
 * register at offset 0, written with 2- or 4-byte accesses:
 *
 * | value                 | effect                                      |
 * |-----------------------|---------------------------------------------|
 * | 0x5555                | vmc_vm_request_shutdown(vm, 0): pass        |
 * | 0x3333 | code << 16   | vmc_vm_request_shutdown(vm, code): fail     |
 * | 0x7777                | vmc_vm_request_reset(vm)                    |
 *
 * Other values are ignored; reads return 0.
 * A host that mirrors QEMU exits with vmc_vm_get_shutdown_status().  Linux
 * and U-Boot use it through the "syscon-poweroff" and "syscon-reboot"
 * device-tree nodes (see vmc_sifive_test_fdt_add() in vmc-fdt.h).
 */
#ifndef LIBVMCORE_VMC_HW_SIFIVE_TEST_H
#define LIBVMCORE_VMC_HW_SIFIVE_TEST_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_sifive_test;
struct vmc_region;

/** Size of the finisher's region. */
#define VMC_SIFIVE_TEST_SIZE 0x1000u
/** Written value (low 16 bits): the guest failed; code in bits 31..16. */
#define VMC_SIFIVE_TEST_FAIL 0x3333u
/** Written value: the guest passed; power off. */
#define VMC_SIFIVE_TEST_PASS 0x5555u
/** Written value: reset the machine. */
#define VMC_SIFIVE_TEST_RESET 0x7777u

/** How to build a finisher; initialise with vmc_sifive_test_config_init(). */
struct vmc_sifive_test_config {
	size_t size;	   /**< sizeof(struct vmc_sifive_test_config) */
	struct vmc_vm *vm; /**< the machine it shuts down or resets */
};

/**
 * Fill @p config with defaults.
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.1
 */
void vmc_sifive_test_config_init(struct vmc_sifive_test_config *config);

/**
 * Create a test finisher.  Map vmc_sifive_test_get_region() to make it
 * visible.
 * @param config the finisher's configuration
 * @param[out] ret the new finisher
 * @retval 0 success
 * @retval -EINVAL no VM or a bad size
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.1
 */
int vmc_sifive_test_new(const struct vmc_sifive_test_config *config,
			struct vmc_sifive_test **ret);

/**
 * Free the finisher.  Its region must have been removed from every
 * container first.  NULL is ignored.
 * @param test the finisher
 * @thread loop, without the VM lock
 * @since 0.1
 */
void vmc_sifive_test_free(struct vmc_sifive_test *test);

/**
 * The finisher's I/O region (VMC_SIFIVE_TEST_SIZE bytes), owned by the
 * device: map it in the VM's memory address space (QEMU virt: 0x100000).
 * @param test the finisher
 * @return the region; NULL for a NULL @p test
 * @thread any
 * @since 0.1
 */
struct vmc_region *vmc_sifive_test_get_region(struct vmc_sifive_test *test);

VMC_END_DECLS

#endif
