/* SPDX-License-Identifier: MIT */
/*
 * What the device models share besides the public headers: the export
 * marker, an argument check, and the register access entry points of the
 * RISC-V devices, with the signatures of I/O region callbacks: what their
 * regions call, and what white-box tests may call directly.  Offsets are
 * relative to the device's region; the VM lock is held.  They always
 * return 0: an access to a hole, or of a width the register does not take,
 * is ignored and reads 0, as on QEMU's models.  Never installed.
 *
 * The devices are built with only include/ and this folder on their
 * include path: anything else a device needs is public API (vmc-memory.h
 * for the end of a device's life, vmc-vm.h for loop objects under the VM
 * lock, vmc-common.h for logging), so that a device written outside the
 * tree is written exactly like these.
 */
#ifndef VMC_HW_INTERNAL_H
#define VMC_HW_INTERNAL_H

#include <stdint.h>

#include <libvmcore/vmc-common.h>

/* Marks a definition as part of the ABI; the symbol map must list it. */
#ifndef VMC_EXPORT
#define VMC_EXPORT __attribute__((visibility("default")))
#endif

int vmc__clint_read(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t *value);
int vmc__clint_write(void *opaque, uint64_t offset, unsigned int size,
		     uint64_t value);

int vmc__plic_read(void *opaque, uint64_t offset, unsigned int size,
		   uint64_t *value);
int vmc__plic_write(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t value);

int vmc__sifive_test_read(void *opaque, uint64_t offset, unsigned int size,
			  uint64_t *value);
int vmc__sifive_test_write(void *opaque, uint64_t offset, unsigned int size,
			   uint64_t value);

#endif
