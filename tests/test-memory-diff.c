/* SPDX-License-Identifier: MIT */
/*
 * Randomized differential test of flattening, ioeventfds and listener
 * streams: thousands of random trees (priorities, aliases, enable/disable,
 * moves, read-only, ioeventfds, nested transactions) rendered by the library
 * and by a "paint every byte" reference (fuzz/memory-fuzz-body.c).  Each
 * program is biased towards building deep, overlapping trees before it
 * mutates them.
 */
#include <libvmcore/libvmcore.h>

#include "memory-fuzz-body.h"
#include "vmc-test.h"

static uint64_t rng = 0x243f6a8885a308d3ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Emit one operation of the fuzz program's byte code. */
static size_t op(uint8_t *p, unsigned code)
{
	size_t n = 0;

	p[n++] = (uint8_t)code;
	for (int i = 0; i < 8; i++)
		p[n++] = (uint8_t)rnd(256);
	return n;
}

static void test_random_trees(void)
{
	long trees = vmc_test_scale(5000);
	static uint8_t prog[4096];

	for (long t = 0; t < trees; t++) {
		size_t n = 0;
		unsigned nodes = 4 + rnd(16), muts = 10 + rnd(60);

		/* Build: create, add (mostly), eventfds. */
		for (unsigned i = 0; i < nodes; i++) {
			n += op(prog + n, rnd(2));     /* create */
			n += op(prog + n, 2 + rnd(3)); /* add */
			n += op(prog + n, 2 + rnd(3)); /* add */
			if (rnd(3) == 0)
				n += op(prog + n, 8); /* eventfd */
		}
		/* Mutate, sometimes inside transactions; access. */
		for (unsigned i = 0; i < muts && n + 16 < sizeof(prog); i++)
			n += op(prog + n, rnd(16));
		vmc_fuzz_memory(prog, n);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rng = strtoull(argv[1], NULL, 0) | 1;
	RUN(test_random_trees);
	return 0;
}
