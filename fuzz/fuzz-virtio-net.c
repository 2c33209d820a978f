/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point for the virtio-net program (virtio-net-fuzz-body.c). */
#include "virtio-net-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vmc_fuzz_virtio_net(data, size);
}
