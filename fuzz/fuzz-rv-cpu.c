/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the RV64 decoder and executor on arbitrary code. */
#include <stddef.h>
#include <stdint.h>

#include "rv-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return rv_fuzz_one(data, size);
}
