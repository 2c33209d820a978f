/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point for the virtio-vsock program (vsock-fuzz-body.c). */
#include "vsock-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return vmc_fuzz_virtio_vsock(data, size);
}
