/* SPDX-License-Identifier: MIT */
/*
 * The virtqueue fuzz program (fuzz/virtqueue-fuzz-body.c) over
 * pseudo-random inputs, so that every build exercises it without
 * libFuzzer.  Pure noise rarely forms a chain in RAM, so most inputs are
 * built from plausible parts: descriptors with small addresses and
 * lengths, chained or indirect, and ring indices near their counters,
 * then damaged at random.  The first argument, if given, is the seed;
 * VMC_TEST_SCALE scales the count; VMC_FUZZ_WRITE_SEEDS=DIR writes the
 * first structured inputs to DIR as a libFuzzer corpus.
 */
#include <libvmcore/libvmcore.h>

#include "virtqueue-fuzz-body.h"
#include "vmc-test.h"

/* Mostly sane descriptors, each with a buffer of its own; some not. */
static void make_desc(uint8_t *ram, size_t off, unsigned int num,
		      unsigned int slot)
{
	uint64_t addr = 0x1000 + 0x100 * (uint64_t)(slot % 112);
	uint32_t len = (uint32_t)(1 + vmc_test_rand() % 0x100);
	uint16_t flags = (uint16_t)((vmc_test_rand() % 3 == 0 ? 1 : 0) |
				    (vmc_test_rand() % 2 ? 2 : 0));
	uint16_t next = (uint16_t)(vmc_test_rand() % num);

	if (vmc_test_rand() % 8 == 0) { /* an indirect table of 1-4 entries */
		flags = 4;
		len = 16 * (uint32_t)(1 + vmc_test_rand() % 4);
		addr = 0xa00 + 0x80 * (vmc_test_rand() % 8);
	}
	if (vmc_test_rand() % 40 == 0) { /* something wrong */
		switch (vmc_test_rand() % 6) {
		case 0:
			addr = vmc_test_rand();
			break;
		case 1:
			addr = VMC_FUZZ_VQ_RAM_SIZE - vmc_test_rand() % 64;
			break;
		case 2:
			addr = 0x10000000 + vmc_test_rand() % 0x2000;
			break;
		case 3:
			len = (uint32_t)vmc_test_rand();
			break;
		case 4:
			flags = (uint16_t)vmc_test_rand();
			break;
		default:
			next = (uint16_t)vmc_test_rand();
			break;
		}
	}
	if (off + 16 > VMC_FUZZ_VQ_RAM_SIZE)
		return;
	memcpy(ram + off, &addr, 8);
	memcpy(ram + off + 8, &len, 4);
	memcpy(ram + off + 12, &flags, 2);
	memcpy(ram + off + 14, &next, 2);
}

static void put(uint8_t *ram, size_t off, const void *p, size_t n)
{
	if (off + n <= VMC_FUZZ_VQ_RAM_SIZE)
		memcpy(ram + off, p, n);
}

/* A structured input: rings for both queues and some indirect tables. */
static size_t make_input(uint8_t *in, size_t cap)
{
	uint8_t *ram = in + 2;
	unsigned int num;

	memset(in, 0, cap);
	in[0] = (uint8_t)vmc_test_rand();
	in[1] = (uint8_t)(vmc_test_rand() % 4 ? 0 : vmc_test_rand() % 20);
	num = 2u << ((in[0] >> 3) & 3);
	for (unsigned int q = 0; q < 2; q++) {
		size_t desc = VMC_FUZZ_VQ_QUEUE(q);
		size_t avail = desc + 16 * num;
		uint16_t idx = (uint16_t)(vmc_test_rand() % 4
						  ? vmc_test_rand() % (num + 1)
						  : vmc_test_rand());

		for (unsigned int i = 0; i < num; i++)
			make_desc(ram, desc + 16 * i, num, 16 * q + i);
		put(ram, avail + 2, &idx, 2);
		for (unsigned int i = 0; i < num + 1; i++) {
			uint16_t h = (uint16_t)(vmc_test_rand() % 8
							? vmc_test_rand() % num
							: vmc_test_rand());

			put(ram, avail + 4 + 2 * i, &h, 2);
		}
	}
	for (unsigned int t = 0; t < 8; t++)
		for (unsigned int i = 0; i < 4; i++)
			make_desc(ram, 0xa00 + 0x80 * t + 16 * i, 4,
				  32 + 4 * t + i);
	/* Damage a few bytes anywhere. */
	for (int i = vmc_test_rand() % 4 == 0 ? (int)(vmc_test_rand() % 4) : 0;
	     i > 0; i--)
		in[vmc_test_rand() % cap] = (uint8_t)vmc_test_rand();
	return cap;
}

static void test_structured(void)
{
	static uint8_t in[2 + 0xe00];
	long n = vmc_test_scale(20000);

	unsigned long pushed, broken;

	const char *seeds = getenv("VMC_FUZZ_WRITE_SEEDS");

	for (long i = 0; i < n; i++) {
		size_t len = make_input(in, sizeof(in));

		vmc_fuzz_virtqueue(in, len);
		/* The libFuzzer corpus in fuzz/corpus/virtqueue was made so. */
		if (seeds && i < 16) {
			char path[512];
			FILE *f;

			snprintf(path, sizeof(path), "%s/seed-%02ld", seeds, i);
			f = fopen(path, "wb");
			ASSERT_NOT_NULL(f);
			ASSERT_EQ(fwrite(in, 1, len, f), len);
			fclose(f);
		}
	}
	/* The inputs reach both outcomes, many times. */
	vmc_fuzz_virtqueue_stats(&pushed, &broken);
	fprintf(stderr,
		"   %ld runs: %lu chains served, %lu runs ended in "
		"NEEDS_RESET\n",
		n, pushed, broken);
	ASSERT_GT(pushed, n / 10);
	ASSERT_GT(broken, n / 10);
}

static void test_noise(void)
{
	static uint8_t in[2 + 0x4000];
	long n = vmc_test_scale(2000);

	vmc_test_fuzz_noise(vmc_fuzz_virtqueue, in, sizeof(in), n);
}

static void test_fixed_inputs(void)
{
	vmc_test_fuzz_edges(vmc_fuzz_virtqueue);
}

int main(int argc, char **argv)
{
	vmc_test_seed(argc, argv);
	RUN(test_fixed_inputs);
	RUN(test_structured);
	RUN(test_noise);
	vmc_fuzz_virtqueue_cleanup();
	return 0;
}
