/* SPDX-License-Identifier: MIT */
/* Branchy sorting: an introsort-like quicksort (median of three,
 * insertion sort below 16) and a heap sort of pseudo-random integers,
 * then binary searches in the result. */
#include "bench.h"

const char workload_name[] = "sort";

#define N 8192

static int32_t a[N], b[N];

static void insertion(int32_t *v, int n)
{
	for (int i = 1; i < n; i++) {
		int32_t x = v[i];
		int j = i - 1;

		while (j >= 0 && v[j] > x) {
			v[j + 1] = v[j];
			j--;
		}
		v[j + 1] = x;
	}
}

static void quick(int32_t *v, int n)
{
	while (n > 16) {
		int32_t x = v[0], y = v[n / 2], z = v[n - 1], piv;
		int i = 0, j = n - 1;

		piv = x < y ? (y < z ? y : (x < z ? z : x))
			    : (x < z ? x : (y < z ? z : y));
		for (;;) {
			while (v[i] < piv)
				i++;
			while (v[j] > piv)
				j--;
			if (i >= j)
				break;
			int32_t t = v[i];

			v[i] = v[j];
			v[j] = t;
			i++;
			j--;
		}
		/* Recurse into the smaller part. */
		if (j + 1 < n - j - 1) {
			quick(v, j + 1);
			v += j + 1;
			n -= j + 1;
		} else {
			quick(v + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	insertion(v, n);
}

static void heapsort(int32_t *v, int n)
{
	for (int start = n / 2 - 1, end = n; end > 1;) {
		int root;

		if (start >= 0) {
			root = start--;
		} else {
			int32_t t = v[0];

			v[0] = v[--end];
			v[end] = t;
			root = 0;
		}
		for (;;) {
			int c = 2 * root + 1;

			if (c >= end)
				break;
			if (c + 1 < end && v[c + 1] > v[c])
				c++;
			if (v[root] >= v[c])
				break;
			int32_t t = v[root];

			v[root] = v[c];
			v[c] = t;
			root = c;
		}
	}
}

static int search(const int32_t *v, int n, int32_t x)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 17, sum = 0;

	for (uint32_t it = 0; it < iters; it++) {
		uint64_t s = 0;
		int bad = 0;

		for (int i = 0; i < N; i++) {
			a[i] = (int32_t)(rng_next(&seed) >> 40) - (1 << 22);
			b[i] = a[i] % 1000;
		}
		quick(a, N);
		heapsort(b, N);
		for (int i = 1; i < N; i++)
			bad += (a[i - 1] > a[i]) + (b[i - 1] > b[i]);
		for (int k = 0; k < 2000; k++)
			s += (uint64_t)search(a, N,
					      (int32_t)(k * 4099 - (1 << 22)));
		sum = mix(sum, s ^ (uint64_t)bad << 48 ^ (uint32_t)a[N / 3] ^
				       (uint64_t)(uint32_t)b[N / 2] << 20);
	}
	return sum;
}
