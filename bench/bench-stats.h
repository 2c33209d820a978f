/* SPDX-License-Identifier: MIT */
/*
 * The statistics the KVM benches share: medians of rounds, and the median
 * of per-round ratios (each round's two sides ran back to back, so load
 * from elsewhere on the host mostly cancels).  Neither reorders its input,
 * so a ratio taken after a median still pairs the same rounds.
 */
#ifndef VMC_BENCH_STATS_H
#define VMC_BENCH_STATS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VMC_BENCH_MAX_ROUNDS 256

static inline int vmc_bench_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int vmc_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort @v in place (for quantiles other than the median). */
static inline void vmc_bench_sort(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), vmc_bench_cmp_i64);
}

static inline int64_t vmc_bench_median(const int64_t *v, int n)
{
	int64_t s[VMC_BENCH_MAX_ROUNDS];

	if (n > VMC_BENCH_MAX_ROUNDS)
		n = VMC_BENCH_MAX_ROUNDS;
	memcpy(s, v, sizeof(*v) * (size_t)n);
	vmc_bench_sort(s, n);
	return s[n / 2];
}

/* The median of a[i] / b[i]. */
static inline double vmc_bench_paired_ratio(const int64_t *a, const int64_t *b,
					    int n)
{
	double r[VMC_BENCH_MAX_ROUNDS];

	if (n > VMC_BENCH_MAX_ROUNDS)
		n = VMC_BENCH_MAX_ROUNDS;
	for (int i = 0; i < n; i++)
		r[i] = (double)a[i] / (double)b[i];
	qsort(r, (size_t)n, sizeof(r[0]), vmc_bench_cmp_double);
	return r[n / 2];
}

#endif
