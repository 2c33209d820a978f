/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the snapshot file reader (fuzz/snapshot-fuzz-body.h).
 */
#include "snapshot-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmc_loop *loop;
	static struct snapshot_fuzz f;

	if (!loop) {
		if (vmc_loop_new(&loop) < 0)
			abort();
		snapshot_fuzz_init(&f, loop);
	}
	snapshot_fuzz_one(&f, data, size);
	return 0;
}
