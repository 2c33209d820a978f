/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point for the virtio-blk program (virtio-blk-fuzz-body.c). */
#include "virtio-blk-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vmc_fuzz_virtio_blk(data, size);
}
