/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net fuzz program (fuzz/virtio-net-fuzz-body.c) over
 * pseudo-random inputs, so that every build exercises it without
 * libFuzzer.  Most inputs are plausible rings (transmit chains of a
 * header and a frame, receive buffers of sizes around a header and a
 * frame, some split in two descriptors) with frame lengths near the
 * edges, then damaged at random.  The first argument, if given, is the
 * seed; VMC_TEST_SCALE scales the count.
 */
#include <libvmcore/libvmcore.h>

#include "virtio-net-fuzz-body.h"
#include "vmc-test.h"

#define PREFIX VMC_FUZZ_NET_PREFIX

static void put(uint8_t *ram, size_t off, const void *p, size_t n)
{
	if (off + n <= VMC_FUZZ_NET_RAM_SIZE)
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

static uint32_t some_len(void)
{
	static const uint32_t edges[] = {0,  1,	 9,    10,   11,   12,	13,
					 60, 64, 1514, 1526, 2048, 4096};

	if (vmc_test_rand() % 2)
		return edges[vmc_test_rand() % 13];
	return (uint32_t)(vmc_test_rand() % 0x1800);
}

static size_t make_input(uint8_t *in, size_t cap)
{
	uint8_t *ram = in + PREFIX;
	unsigned int num;

	memset(in, 0, cap);
	in[0] = (uint8_t)(vmc_test_rand() | 0x18); /* mostly 16 entries */
	if (vmc_test_rand() % 4 == 0)
		in[0] &= (uint8_t)~0x18;
	num = 2u << ((in[0] >> 3) & 3);
	for (int i = 1; i < (int)PREFIX; i++) {
		static const uint8_t lens[] = {1, 2, 8, 60, 189, 190, 0xff, 0};

		in[i] = vmc_test_rand() % 2 ? lens[vmc_test_rand() % 8]
					    : (uint8_t)vmc_test_rand();
	}
	for (unsigned int q = 0; q < 2; q++) {
		size_t table = VMC_FUZZ_NET_QUEUE(q);
		size_t avail = table + 16 * num;
		uint16_t idx = 0;

		for (unsigned int d = 0; d + 1 < num; d += 2) {
			uint64_t buf = 0x1000 + 0x1800 * (uint64_t)(d / 2 % 9);
			uint32_t len = some_len();
			uint16_t w = q == 0 ? 2 : 0;
			uint16_t head = (uint16_t)d;

			if (vmc_test_rand() % 3 == 0) {
				/* Split: header, then the rest. */
				desc(ram, table + 16 * d, buf, 12,
				     (uint16_t)(1 | w), (uint16_t)(d + 1));
				desc(ram, table + 16 * (d + 1), buf + 12, len,
				     w, 0);
			} else {
				desc(ram, table + 16 * d, buf, len + 12, w, 0);
			}
			if (q == 1)
				put(ram, buf, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
			put(ram, avail + 4 + 2 * idx, &head, 2);
			idx++;
		}
		if (vmc_test_rand() % 16 == 0)
			idx = (uint16_t)vmc_test_rand();
		put(ram, avail + 2, &idx, 2);
	}
	for (int i = vmc_test_rand() % 4 == 0 ? (int)(vmc_test_rand() % 4) : 0;
	     i > 0; i--)
		in[PREFIX + vmc_test_rand() % (cap - PREFIX)] =
			(uint8_t)vmc_test_rand();
	return cap;
}

static void test_structured(void)
{
	static uint8_t in[PREFIX + 0xf000];
	long n = vmc_test_scale(3000);
	unsigned long sent, received, broken;

	for (long i = 0; i < n; i++)
		vmc_fuzz_virtio_net(in, make_input(in, sizeof(in)));
	vmc_fuzz_virtio_net_stats(&sent, &received, &broken);
	fprintf(stderr,
		"   %ld runs: %lu frames sent, %lu received, %lu runs ended in "
		"NEEDS_RESET\n",
		n, sent, received, broken);
	/* The inputs reach the device's paths, not only its checks. */
	ASSERT_GT(sent, (unsigned long)n);
	ASSERT_GT(received, (unsigned long)n);
	ASSERT_GT(broken, (unsigned long)n / 100);
}

static void test_noise(void)
{
	static uint8_t in[PREFIX + 0x3000];
	long n = vmc_test_scale(500);

	vmc_test_fuzz_noise(vmc_fuzz_virtio_net, in, sizeof(in), n);
}

static void test_fixed_inputs(void)
{
	vmc_test_fuzz_edges(vmc_fuzz_virtio_net);
}

int main(int argc, char **argv)
{
	vmc_test_seed(argc, argv);
	RUN(test_fixed_inputs);
	RUN(test_structured);
	RUN(test_noise);
	vmc_fuzz_virtio_net_cleanup();
	return 0;
}
