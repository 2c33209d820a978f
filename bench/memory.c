/* SPDX-License-Identifier: MIT */
/*
 * Flat-view lookup and commit cost.
 *
 * Lookup: N non-overlapping I/O regions (N = 10, 1,000, 100,000) with gaps,
 * looked up at random addresses (half inside ranges, half in gaps) through
 * vmc__flat_view_lookup(), against a plain binary search over a sorted
 * array of the same ranges in the same run.  The figure is the ratio.
 * Commit: one transaction adding 10,000 regions to an empty address space,
 * and re-rendering that layout after one change.  Machine noise is large
 * on shared hosts: each figure is the best of several rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libvmcore/libvmcore.h>

#include "memory-internal.h"

#define LOOKUPS (1 << 20)
#define ROUNDS 7

struct plain {
	uint64_t start, last;
	void *payload;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const struct plain *plain_lookup(const struct plain *a, size_t n,
					uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && a[lo].start <= addr)
		return &a[lo];
	return NULL;
}

static int dummy_read(void *o, uint64_t off, unsigned size, uint64_t *v)
{
	*v = 0;
	return 0;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct vmc_region *build(struct vmc_memory *mem, size_t n,
				struct vmc_region ***out)
{
	static const struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = dummy_read,
	};
	struct vmc_region *root, **rs = malloc(n * sizeof(*rs));

	vmc_region_new_container(mem, "root", VMC_REGION_SIZE_ALL, &root);
	for (size_t i = 0; i < n; i++) {
		if (vmc_region_new_io(mem, "r", 0x800, &ops, NULL, 0, &rs[i]) <
		    0)
			abort();
	}
	*out = rs;
	return root;
}

static void add_all(struct vmc_region *root, struct vmc_region **rs, size_t n)
{
	/* Added in descending address order: the worst case for a renderer
	 * that inserts into a sorted array. */
	for (size_t i = n; i-- > 0;)
		vmc_region_add_subregion(root, (uint64_t)i * 0x1000, rs[i], 0);
}

static void bench_lookup(size_t n)
{
	struct vmc_memory *mem;
	struct vmc_region *root, **rs;
	struct vmc_address_space *as;
	const struct vmc__flat_view *v;
	struct plain *pl;
	uint64_t *addrs = malloc(LOOKUPS * sizeof(*addrs));
	int64_t best_v = INT64_MAX, best_p = INT64_MAX, best_h = INT64_MAX;
	uintptr_t sink = 0;

	vmc_memory_new(&mem);
	root = build(mem, n, &rs);
	vmc_address_space_new(mem, root, VMC_AS_MEMORY, "bench", &as);
	vmc_memory_begin(mem);
	add_all(root, rs, n);
	vmc_memory_commit(mem);
	v = vmc__as_get_view(as);
	if (v->nr != n)
		abort();
	pl = malloc(n * sizeof(*pl));
	for (size_t i = 0; i < n; i++)
		pl[i] = (struct plain){v->ranges[i].start, v->ranges[i].last,
				       v->ranges[i].region};
	for (size_t i = 0; i < LOOKUPS; i++)
		addrs[i] = rnd() % (n * 0x1000);

	for (int round = 0; round < ROUNDS; round++) {
		int64_t t0, t1, t2, t3;
		size_t hint = 0;

		t0 = now_ns();
		for (size_t i = 0; i < LOOKUPS; i++)
			sink += (uintptr_t)vmc__flat_view_lookup(v, addrs[i],
								 NULL);
		t1 = now_ns();
		for (size_t i = 0; i < LOOKUPS; i++)
			sink += (uintptr_t)plain_lookup(pl, n, addrs[i]);
		t2 = now_ns();
		/* Sequential accesses with a hint, as a TLB refill would. */
		for (size_t i = 0; i < LOOKUPS; i++)
			sink += (uintptr_t)vmc__flat_view_lookup(
				v, (uint64_t)i * 8 % (n * 0x1000), &hint);
		t3 = now_ns();
		if (t1 - t0 < best_v)
			best_v = t1 - t0;
		if (t2 - t1 < best_p)
			best_p = t2 - t1;
		if (t3 - t2 < best_h)
			best_h = t3 - t2;
	}
	printf("lookup n=%-6zu flat view %6.2f ns, plain binary search %6.2f "
	       "ns, ratio %.2fx (target <= 1.5x); sequential with hint %.2f "
	       "ns [sink %lx]\n",
	       n, (double)best_v / LOOKUPS, (double)best_p / LOOKUPS,
	       (double)best_v / (double)best_p, (double)best_h / LOOKUPS,
	       (unsigned long)(sink & 0xf));
	free(pl);
	free(addrs);
	vmc_address_space_free(as);
	for (size_t i = 0; i < n; i++)
		vmc_region_unref(rs[i]);
	free(rs);
	vmc_region_unref(root);
	vmc_memory_free(mem);
}

static void bench_commit(size_t n)
{
	int64_t best_first = INT64_MAX, best_again = INT64_MAX;

	for (int round = 0; round < ROUNDS; round++) {
		struct vmc_memory *mem;
		struct vmc_region *root, **rs;
		struct vmc_address_space *as;
		int64_t t0, t1, t2, t3;

		vmc_memory_new(&mem);
		root = build(mem, n, &rs);
		vmc_address_space_new(mem, root, VMC_AS_MEMORY, "bench", &as);
		vmc_memory_begin(mem);
		add_all(root, rs, n);
		t0 = now_ns();
		vmc_memory_commit(mem);
		t1 = now_ns();
		t2 = now_ns();
		vmc_region_set_enabled(rs[n / 2], false);
		t3 = now_ns();
		if (vmc__as_get_view(as)->nr != n - 1)
			abort();
		if (t1 - t0 < best_first)
			best_first = t1 - t0;
		if (t3 - t2 < best_again)
			best_again = t3 - t2;
		vmc_address_space_free(as);
		for (size_t i = 0; i < n; i++)
			vmc_region_unref(rs[i]);
		free(rs);
		vmc_region_unref(root);
		vmc_memory_free(mem);
	}
	printf("commit n=%zu: first commit %.3f ms, one change %.3f ms "
	       "(target < 10 ms; best of %d, shared-machine noise)\n",
	       n, (double)best_first / 1e6, (double)best_again / 1e6, ROUNDS);
}

int main(void)
{
	bench_lookup(10);
	bench_lookup(1000);
	bench_lookup(100000);
	bench_commit(10000);
	return 0;
}
