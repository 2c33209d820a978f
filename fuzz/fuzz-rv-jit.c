/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the translator against the interpreter on arbitrary
 * code; a difference is a crash. */
#include <stddef.h>
#include <stdint.h>

#include "rv-jit-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (rv_jit_diff_one(data, size))
		__builtin_trap();
	return 0;
}
