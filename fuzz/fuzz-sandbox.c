/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: guest calls into arbitrary RV64 code, each followed by
 * a reset (fuzz/sandbox-fuzz-body.h).
 */
#include "sandbox-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmc_loop *loop;
	static struct sbf f;

	if (!loop) {
		if (vmc_loop_new(&loop) < 0 || !sbf_init(&f, loop))
			abort();
	}
	sbf_one(&f, data, size);
	return 0;
}
