/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk fuzz program (fuzz/virtio-blk-fuzz-body.c) over
 * pseudo-random inputs, so that every build exercises it without
 * libFuzzer.  Most inputs are plausible requests (a 16-byte header, data,
 * a status byte, chained) with types and sectors chosen near the edges,
 * then damaged at random.  The first argument, if given, is the seed;
 * VMC_TEST_SCALE scales the count.
 */
#include <libvmcore/libvmcore.h>

#include "virtio-blk-fuzz-body.h"
#include "vmc-test.h"

static void put(uint8_t *ram, size_t off, const void *p, size_t n)
{
	if (off + n <= VMC_FUZZ_BLK_RAM_SIZE)
		memcpy(ram + off, p, n);
}

static void desc(uint8_t *ram, size_t off, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	put(ram, off, &addr, 8);
	put(ram, off + 8, &len, 4);
	put(ram, off + 12, &flags, 2);
	put(ram, off + 14, &next, 2);
}

/* Request r of queue q: descriptors 3r..3r+2 (when they fit). */
static void make_request(uint8_t *ram, unsigned int q, unsigned int num,
			 unsigned int r)
{
	static const uint32_t types[] = {0, 1, 4, 8, 11, 13, 99};
	size_t table = VMC_FUZZ_BLK_QUEUE(q);
	uint64_t hdr = 0x1000 + 0x20 * (16 * q + r);
	uint64_t seg = 0x1800 + 0x20 * (16 * q + r);
	uint64_t data = 0x2000 + 0x1000 * (uint64_t)(8 * q + r % 8);
	uint64_t st = 0xf00 + 16 * q + r;
	uint32_t type = types[vmc_test_rand() % 7];
	uint64_t sector = vmc_test_rand() % 4
				  ? vmc_test_rand() % (VMC_FUZZ_BLK_SECTORS + 2)
				  : vmc_test_rand();
	uint32_t len = vmc_test_rand() % 4
			       ? 512 * (uint32_t)(vmc_test_rand() % 5)
			       : (uint32_t)(vmc_test_rand() % 0x1000);
	uint16_t w = type == 0 || type == 8 ? 2 : 0;
	unsigned int d = 3 * r;

	if (d + 2 >= num)
		return;
	put(ram, hdr, &type, 4);
	put(ram, hdr + 8, &sector, 8);
	if (type == 11 || type == 13) {
		uint32_t nsec = (uint32_t)(vmc_test_rand() % 8),
			 flags = vmc_test_rand() % 3;

		put(ram, seg, &sector, 8);
		put(ram, seg + 8, &nsec, 4);
		put(ram, seg + 12, &flags, 4);
		data = seg;
		len = 16;
	}
	if (!len)
		len = 1;
	desc(ram, table + 16 * d, hdr, 16, 1, (uint16_t)(d + 1));
	desc(ram, table + 16 * (d + 1), data, len, (uint16_t)(1 | w),
	     (uint16_t)(d + 2));
	desc(ram, table + 16 * (d + 2), st, 1, 2, 0);
	if (vmc_test_rand() % 16 == 0) /* a malformed shape */
		desc(ram, table + 16 * (d + vmc_test_rand() % 3),
		     vmc_test_rand() % 0x3000, (uint32_t)(vmc_test_rand() % 20),
		     (uint16_t)(vmc_test_rand() % 4),
		     (uint16_t)(vmc_test_rand() % num));
}

static size_t make_input(uint8_t *in, size_t cap)
{
	uint8_t *ram = in + 1;
	unsigned int num;

	memset(in, 0, cap);
	in[0] = (uint8_t)(vmc_test_rand() | 0x18); /* mostly 16-entry queues */
	if (vmc_test_rand() % 4 == 0)
		in[0] &= (uint8_t)~0x18;
	num = 2u << ((in[0] >> 3) & 3);
	for (unsigned int q = 0; q < 2; q++) {
		size_t avail = VMC_FUZZ_BLK_QUEUE(q) + 16 * num;
		unsigned int reqs = num / 3;
		uint16_t idx = (uint16_t)(vmc_test_rand() % (reqs + 1));

		for (unsigned int r = 0; r < reqs; r++) {
			uint16_t h = (uint16_t)(3 * r);

			make_request(ram, q, num, r);
			put(ram, avail + 4 + 2 * r, &h, 2);
		}
		if (vmc_test_rand() % 16 == 0)
			idx = (uint16_t)vmc_test_rand();
		put(ram, avail + 2, &idx, 2);
	}
	for (int i = vmc_test_rand() % 4 == 0 ? (int)(vmc_test_rand() % 4) : 0;
	     i > 0; i--)
		in[vmc_test_rand() % cap] = (uint8_t)vmc_test_rand();
	return cap;
}

static void test_structured(void)
{
	static uint8_t in[1 + 0xa000];
	long n = vmc_test_scale(3000);
	unsigned long used, broken;

	for (long i = 0; i < n; i++)
		vmc_fuzz_virtio_blk(in, make_input(in, sizeof(in)));
	vmc_fuzz_virtio_blk_stats(&used, &broken);
	fprintf(stderr,
		"   %ld runs: %lu requests completed, %lu runs ended in "
		"NEEDS_RESET\n",
		n, used, broken);
	ASSERT_GT(used, (unsigned long)n);
	ASSERT_GT(broken, (unsigned long)n / 50);
}

static void test_noise(void)
{
	static uint8_t in[1 + 0x3000];
	long n = vmc_test_scale(500);

	vmc_test_fuzz_noise(vmc_fuzz_virtio_blk, in, sizeof(in), n);
}

static void test_fixed_inputs(void)
{
	vmc_test_fuzz_edges(vmc_fuzz_virtio_blk);
}

int main(int argc, char **argv)
{
	vmc_test_seed(argc, argv);
	RUN(test_fixed_inputs);
	RUN(test_structured);
	RUN(test_noise);
	vmc_fuzz_virtio_blk_cleanup();
	return 0;
}
