/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the gdbstub's packet engine and command handlers.
 */
#include "gdb-fuzz-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gdb_fuzz f;
	static bool ready;

	if (!ready) {
		if (gdb_fuzz_init(&f) < 0)
			abort();
		ready = true;
	}
	gdb_fuzz_one(&f, data, size);
	return 0;
}
