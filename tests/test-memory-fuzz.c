/* SPDX-License-Identifier: MIT */
/*
 * The memory fuzz program (fuzz/memory-fuzz-body.c) over pseudo-random
 * inputs, so that every build exercises it without libFuzzer.  The first
 * argument, if given, is the seed; VMC_TEST_SCALE scales the count.
 */
#include <libvmcore/libvmcore.h>

#include "memory-fuzz-body.h"
#include "vmc-test.h"

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Short byte strings: many small programs. */
static void test_short_inputs(void)
{
	long n = vmc_test_scale(20000);
	uint8_t buf[256];

	for (long i = 0; i < n; i++) {
		size_t len = rnd() % sizeof(buf);

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rnd();
		vmc_fuzz_memory(buf, len);
	}
}

/* Edge inputs. */
static void test_fixed_inputs(void)
{
	static const uint8_t zeros[64], ones[64] = {[0 ... 63] = 0xff};

	vmc_fuzz_memory(NULL, 0);
	vmc_fuzz_memory(zeros, sizeof(zeros));
	vmc_fuzz_memory(ones, sizeof(ones));
}

int main(int argc, char **argv)
{
	rng = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x9e3779b97f4a7c15ull;
	if (!rng)
		rng = 1;
	RUN(test_fixed_inputs);
	RUN(test_short_inputs);
	return 0;
}
