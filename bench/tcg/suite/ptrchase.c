/* SPDX-License-Identifier: MIT */
/* Pointer chasing and copying: a walk around one random cycle through
 * 512 KiB (Sattolo's shuffle), and memcpy/memmove of blocks of mixed
 * sizes and alignments with a word-at-a-time copy. */
#include "bench.h"

const char workload_name[] = "ptrchase";

#define NIDX (128 * 1024)
#define BUF (64 * 1024)

static uint32_t next_idx[NIDX];
static uint8_t src[BUF], dst[BUF + 64];

static void copy(uint8_t *d, const uint8_t *s, size_t n)
{
	/* Align the destination, then 8 bytes at a time when the source is
	 * aligned too, else bytes (as a small libc does). */
	while (n && ((uintptr_t)d & 7)) {
		*d++ = *s++;
		n--;
	}
	if (!((uintptr_t)s & 7)) {
		uint64_t *dw = (uint64_t *)d;
		const uint64_t *sw = (const uint64_t *)s;

		for (; n >= 32; n -= 32, dw += 4, sw += 4) {
			uint64_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];

			dw[0] = a, dw[1] = b, dw[2] = c, dw[3] = e;
		}
		for (; n >= 8; n -= 8)
			*dw++ = *sw++;
		d = (uint8_t *)dw;
		s = (const uint8_t *)sw;
	}
	while (n--)
		*d++ = *s++;
}

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 5, sum = 0;
	uint32_t p = 0;

	for (uint32_t i = 0; i < NIDX; i++)
		next_idx[i] = i;
	for (uint32_t i = NIDX - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng_next(&seed) % i), t = next_idx[i];

		next_idx[i] = next_idx[j];
		next_idx[j] = t;
	}
	for (uint32_t i = 0; i < BUF; i++)
		src[i] = (uint8_t)(i ^ (i >> 8));
	for (uint32_t it = 0; it < iters; it++) {
		uint64_t s = 0;

		for (int k = 0; k < 40000; k++) {
			p = next_idx[p];
			s += p;
		}
		for (int k = 0; k < 24; k++) {
			uint64_t r = rng_next(&seed);
			size_t n = (size_t)(r % 8192) + 1;
			size_t so = (size_t)((r >> 20) % (BUF - n));
			size_t d = (size_t)((r >> 40) % (BUF - n));

			/* Mostly aligned copies, some not. */
			if (k & 3) {
				so &= ~(size_t)7;
				d &= ~(size_t)7;
			}
			copy(dst + d, src + so, n);
			s += dst[d + n / 2] + dst[d + n - 1];
		}
		copy(src + (it % 512), dst + 64, 4096);
		sum = mix(sum, s);
	}
	return sum;
}
