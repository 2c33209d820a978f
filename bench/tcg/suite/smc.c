/* SPDX-License-Identifier: MIT */
/* Code and data in one page, and code patched at run time: the kernel of
 * smc-kernel.S stores its state after every byte (into its own code page,
 * or another page for smc-far), and between passes the driver rewrites an
 * instruction next to it (sw + fence.i) and calls it. */
#include "bench.h"

#ifdef SMC_FAR
const char workload_name[] = "smc-far";
#else
const char workload_name[] = "smc";
#endif

uint32_t smc_kernel(const uint8_t *p, size_t n, const uint32_t *table);
uint64_t smc_patch(uint64_t x);
extern volatile uint32_t smc_state[2];

static uint32_t table[256];
static uint8_t buf[4096];

uint64_t workload(uint32_t iters)
{
	volatile uint32_t *insn = (volatile uint32_t *)(uintptr_t)smc_patch;
	uint64_t sum = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	for (uint32_t it = 0; it < iters; it++) {
		uint32_t imm = (it * 7) & 0x7ff, c;

		c = smc_kernel(buf, sizeof(buf), table);
		/* addi a0, a0, imm */
		*insn = imm << 20 | 10 << 15 | 10 << 7 | 0x13;
		__asm__ volatile("fence.i" ::: "memory");
		sum = mix(sum, c);
		sum = mix(sum, smc_patch(sum) - sum - imm);
		buf[it % sizeof(buf)] ^= (uint8_t)c;
	}
	return mix(sum, smc_state[1]);
}
