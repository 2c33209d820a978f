/* SPDX-License-Identifier: MIT */
/*
 * The memory fuzz program (fuzz/memory-fuzz-body.c) over pseudo-random
 * inputs, so that every build exercises it without libFuzzer.  The first
 * argument, if given, is the seed; VMC_TEST_SCALE scales the count.
 */
#include <libvmcore/libvmcore.h>

#include "memory-fuzz-body.h"
#include "vmc-test.h"

/* Short byte strings: many small programs. */
static void test_short_inputs(void)
{
	long n = vmc_test_scale(20000);
	uint8_t buf[256];

	vmc_test_fuzz_noise(vmc_fuzz_memory, buf, sizeof(buf), n);
}

/* Edge inputs. */
static void test_fixed_inputs(void)
{
	vmc_test_fuzz_edges(vmc_fuzz_memory);
}

int main(int argc, char **argv)
{
	vmc_test_seed(argc, argv);
	RUN(test_fixed_inputs);
	RUN(test_short_inputs);
	return 0;
}
