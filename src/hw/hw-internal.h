/* SPDX-License-Identifier: MIT */
/*
 * Register access entry points of the device models, with the signatures
 * of I/O region callbacks: what their regions call, and what white-box
 * tests may call directly.  Offsets are relative to the device's region;
 * the VM lock is held.  They always return 0: an access to a hole, or of a
 * width the register does not take, is ignored and reads 0, as on QEMU's
 * models.  Never installed.
 */
#ifndef VMC_HW_INTERNAL_H
#define VMC_HW_INTERNAL_H

#include <stdint.h>

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
