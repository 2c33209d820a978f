/* SPDX-License-Identifier: MIT */
/*
 * Register access entry points of the device models: what their I/O
 * regions call, and what white-box tests may call directly.  Offsets are
 * relative to the device's region; the VM lock is held.  Never installed.
 */
#ifndef VMC_HW_INTERNAL_H
#define VMC_HW_INTERNAL_H

#include <stdint.h>

/* Marks a definition as part of the ABI; the symbol map must list it. */
#ifndef VMC_EXPORT
#define VMC_EXPORT __attribute__((visibility("default")))
#endif

uint64_t vmc__clint_read(void *opaque, uint64_t offset, unsigned int size);
void vmc__clint_write(void *opaque, uint64_t offset, uint64_t value,
		      unsigned int size);

uint64_t vmc__plic_read(void *opaque, uint64_t offset, unsigned int size);
void vmc__plic_write(void *opaque, uint64_t offset, uint64_t value,
		     unsigned int size);

uint64_t vmc__sifive_test_read(void *opaque, uint64_t offset,
			       unsigned int size);
void vmc__sifive_test_write(void *opaque, uint64_t offset, uint64_t value,
			    unsigned int size);

#endif
