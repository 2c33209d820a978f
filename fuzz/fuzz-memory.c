/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point for the memory API program (memory-fuzz-body.c). */
#include "memory-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vmc_fuzz_memory(data, size);
}
