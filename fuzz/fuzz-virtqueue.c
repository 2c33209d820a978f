/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point for the virtqueue program (virtqueue-fuzz-body.c). */
#include "virtqueue-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vmc_fuzz_virtqueue(data, size);
}
