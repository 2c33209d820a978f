/* SPDX-License-Identifier: MIT */
/*
 * The fuzz target's body over many pseudo-random inputs: random words,
 * words biased towards valid opcodes (system, AMO, loads/stores, CSR ops),
 * and compressed-only streams.  The test passes when nothing crashes.
 */
#include "../../fuzz/rv-fuzz-body.h"
#include "vmc-test.h"

static uint64_t s = 0x2545f4914f6cdd1dull;

static uint32_t rnd32(void)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 11);
}

int main(void)
{
	static const uint32_t majors[] = {0x73, 0x2f, 0x03, 0x23, 0x33,
					  0x3b, 0x13, 0x1b, 0x63, 0x67,
					  0x6f, 0x0f, 0x37, 0x17};
	static uint8_t buf[1024];
	long n = vmc_test_scale(20000);

	for (long t = 0; t < n; t++) {
		size_t size = 4 + (rnd32() % (sizeof(buf) - 4));
		unsigned mode = (unsigned)t % 3;

		for (size_t i = 0; i + 4 <= size; i += 4) {
			uint32_t w = rnd32();

			if (mode == 1)
				w = (w & ~0x7fu) |
				    majors[rnd32() % (sizeof(majors) /
						      sizeof(majors[0]))];
			else if (mode == 2 && (w & 3) == 3)
				w &= ~1u;
			memcpy(buf + i, &w, 4);
		}
		rv_fuzz_one(buf, size);
	}
	/* Every 32-bit word decodes without crashing; sample the space. */
	for (uint64_t w = 0; w < (1ull << 32); w += 65521) {
		struct vmc__rv_dec d;

		vmc__rv_decode((uint32_t)w, &d);
		ASSERT_TRUE(d.op < VMC__RV_OP__COUNT);
	}
	for (uint32_t w = 0; w < 0x10000; w++) {
		struct vmc__rv_dec d;

		vmc__rv_decode(w, &d);
		ASSERT_TRUE(d.op < VMC__RV_OP__COUNT);
		if ((w & 3) != 3)
			ASSERT_EQ(d.len, 2);
	}
	vmc__rv_hart_free(fuzz_hart);
	printf("%ld inputs ran\n", n);
	return 0;
}
