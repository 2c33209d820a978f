/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the gdbstub through a real socket pair, with a client
 * that sends, floods, stalls, reads and disconnects as the input says.
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
	gdb_sock_fuzz_one(&f, data, size);
	return 0;
}
