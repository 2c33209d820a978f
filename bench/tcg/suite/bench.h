/* SPDX-License-Identifier: MIT */
/*
 * The bench/tcg suite's guest side: each workload is one bare-metal RV64
 * program (crt0.S + main.c + its own file) that runs workload(ITERS), times
 * itself with rdtime (10 MHz on both virt boards) and prints
 *   <name> <checksum> <ticks> <iters>
 * on the UART at 0x10000000, then ends through the test finisher at
 * 0x100000.  run-suite.py checks the checksum, so a CPU that computes
 * wrongly cannot score.
 */
#ifndef BENCH_TCG_SUITE_BENCH_H
#define BENCH_TCG_SUITE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifndef ITERS
#define ITERS 1
#endif

extern const char workload_name[];
/* Runs the workload iters times; returns its checksum. */
uint64_t workload(uint32_t iters);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* A small deterministic generator (xorshift64*). */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ull;
}

/* Mixes v into a running checksum. */
static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

#endif
