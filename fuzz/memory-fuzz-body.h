/* SPDX-License-Identifier: MIT */
/*
 * One run of the memory API fuzz program over @data (see
 * memory-fuzz-body.c).  Aborts on any mismatch with the reference model.
 */
#ifndef VMC_FUZZ_MEMORY_FUZZ_BODY_H
#define VMC_FUZZ_MEMORY_FUZZ_BODY_H

#include <stddef.h>
#include <stdint.h>

int vmc_fuzz_memory(const uint8_t *data, size_t size);

#endif
