/* SPDX-License-Identifier: MIT */
/*
 * Rendering a region tree into a flat view.
 *
 * The rule is QEMU's: walk the tree depth first, children in list order
 * (highest priority first, newest first among equals) before a region's own
 * backing, aliases as a base shift plus a clip; wherever several terminating
 * regions cover an address, the first one reached wins.  Instead of
 * inserting each region into the gaps of a growing sorted array (quadratic
 * when thousands of siblings arrive in the wrong order), the walk only
 * records candidates with their rank, and a sweep over the sorted endpoints
 * keeps the active candidates in a min-heap by rank: O(n log n).
 */
#include <stdlib.h>
#include <string.h>

#include "memory-internal.h"

struct cand {
	vmc__u128 lo, hi; /* [lo, hi) */
	vmc__s128 base;	  /* address of the region's offset 0 */
	struct vmc_region *region;
	bool readonly;
};

struct builder {
	struct cand *c;
	size_t n, cap;
	bool oom;
};

static void add_cand(struct builder *b, vmc__u128 lo, vmc__u128 hi,
		     vmc__s128 base, struct vmc_region *r, bool ro)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct cand *c = realloc(b->c, cap * sizeof(*c));

		if (!c) {
			b->oom = true;
			return;
		}
		b->c = c;
		b->cap = cap;
	}
	b->c[b->n++] = (struct cand){lo, hi, base, r, ro};
}

static void render(struct builder *b, struct vmc_region *mr, vmc__s128 base,
		   vmc__s128 clo, vmc__s128 chi, bool ro)
{
	vmc__s128 lo, hi;

	if (!mr->enabled)
		return;
	ro = ro || mr->readonly || mr->kind == VMC__REGION_ROM;
	lo = base > clo ? base : clo;
	hi = base + (vmc__s128)mr->size;
	if (hi > chi)
		hi = chi;
	if (lo >= hi)
		return;
	if (mr->kind == VMC__REGION_ALIAS) {
		render(b, mr->alias, base - (vmc__s128)mr->alias_offset, lo, hi,
		       ro);
		return;
	}
	for (size_t i = 0; i < mr->nr_children; i++) {
		struct vmc_region *c = mr->children[i];

		render(b, c, base + (vmc__s128)c->offset, lo, hi, ro);
	}
	if (mr->kind == VMC__REGION_CONTAINER)
		return;
	add_cand(b, (vmc__u128)lo, (vmc__u128)hi, base, mr, ro);
}

static int cmp_u128(const void *a, const void *b)
{
	vmc__u128 x = *(const vmc__u128 *)a, y = *(const vmc__u128 *)b;

	return x < y ? -1 : x > y;
}

/* Candidates sorted by lo; ties in any order. */
static int cmp_cand_lo(const void *a, const void *b, void *arg)
{
	const struct cand *base = arg;
	const struct cand *x = &base[*(const size_t *)a];
	const struct cand *y = &base[*(const size_t *)b];

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Min-heap of candidate indices; the index is the rank. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i) {
		size_t p = (i - 1) / 2;

		if (h[p] <= v)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static void heap_pop(size_t *h, size_t *n)
{
	size_t v = h[--(*n)], i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= *n)
			break;
		m = l + 1 < *n && h[l + 1] < h[l] ? l + 1 : l;
		if (h[m] >= v)
			break;
		h[i] = h[m];
		i = m;
	}
	if (*n)
		h[i] = v;
}

static int emit(struct vmc__flat_view *v, size_t *cap, const struct cand *c,
		vmc__u128 x, vmc__u128 y)
{
	uint64_t off = (uint64_t)((vmc__s128)x - c->base);
	bool ro = c->readonly;
	struct vmc__flat_range *p = v->nr ? &v->ranges[v->nr - 1] : NULL;

	if (p && p->region == c->region && p->readonly == ro &&
	    (vmc__u128)p->last + 1 == x &&
	    p->offset + (p->last - p->start + 1) == off) {
		p->last = (uint64_t)(y - 1);
		return 0;
	}
	if (v->nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct vmc__flat_range *r;

		r = realloc(v->ranges, ncap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		v->ranges = r;
		*cap = ncap;
	}
	v->ranges[v->nr++] = (struct vmc__flat_range){
		.start = (uint64_t)x,
		.last = (uint64_t)(y - 1),
		.region = c->region,
		.offset = off,
		.host = c->region->host ? c->region->host + off : NULL,
		.readonly = ro,
		.io = c->region->kind == VMC__REGION_IO,
	};
	return 0;
}

static int sweep(struct builder *b, struct vmc__flat_view *v)
{
	size_t n = b->n, npts = 0, cap = 0, hn = 0, next = 0;
	vmc__u128 *pts = NULL;
	size_t *order = NULL, *heap = NULL;
	int r = -ENOMEM;

	if (!n)
		return 0;
	pts = malloc(2 * n * sizeof(*pts));
	order = malloc(n * sizeof(*order));
	heap = malloc(n * sizeof(*heap));
	if (!pts || !order || !heap)
		goto out;
	for (size_t i = 0; i < n; i++) {
		pts[npts++] = b->c[i].lo;
		pts[npts++] = b->c[i].hi;
		order[i] = i;
	}
	qsort(pts, npts, sizeof(*pts), cmp_u128);
	qsort_r(order, n, sizeof(*order), cmp_cand_lo, b->c);

	for (size_t k = 0; k + 1 < npts; k++) {
		vmc__u128 x = pts[k], y = pts[k + 1];

		if (x == y)
			continue;
		while (next < n && b->c[order[next]].lo <= x)
			heap_push(heap, &hn, order[next++]);
		while (hn && b->c[heap[0]].hi <= x)
			heap_pop(heap, &hn);
		if (!hn)
			continue;
		/* The top is active: lo <= x and hi > x, so hi >= y. */
		if (emit(v, &cap, &b->c[heap[0]], x, y) < 0)
			goto out;
	}
	r = 0;
out:
	free(pts);
	free(order);
	free(heap);
	return r;
}

static void view_free(struct vmc__flat_view *v)
{
	for (size_t i = 0; i < v->nr; i++)
		vmc_region_unref(v->ranges[i].region);
	free(v->ranges);
	free(v->starts);
	if (v->ioeventfd_buf && --v->ioeventfd_buf->refcnt == 0)
		free(v->ioeventfd_buf);
	free(v);
}

int vmc__flat_view_render(struct vmc_region *root, struct vmc__flat_view **ret)
{
	struct builder b = {0};
	struct vmc__flat_view *v;
	int r;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	atomic_init(&v->refcnt, 1);
	render(&b, root, 0, 0, (vmc__s128)1 << 64, false);
	if (b.oom) {
		r = -ENOMEM;
		goto fail;
	}
	r = sweep(&b, v);
	if (r < 0)
		goto fail;
	if (v->nr) {
		v->starts = malloc(v->nr * sizeof(*v->starts));
		if (!v->starts) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (size_t i = 0; i < v->nr; i++) {
		v->starts[i] = v->ranges[i].start;
		v->ranges[i].view = v;
		vmc_region_ref(v->ranges[i].region);
	}
	r = vmc__flat_view_build_ioeventfds(v);
	if (r < 0) {
		view_free(v);
		free(b.c);
		return r;
	}
	free(b.c);
	*ret = v;
	return 0;
fail:
	free(b.c);
	free(v->ranges);
	free(v->starts);
	free(v);
	return r;
}

static void view_free_rcu(struct vmc__rcu_head *h)
{
	view_free(container_of(h, struct vmc__flat_view, rcu));
}

void vmc__flat_view_unref(struct vmc_memory *mem, struct vmc__flat_view *v)
{
	if (!v)
		return;
	if (atomic_fetch_sub_explicit(&v->refcnt, 1, memory_order_acq_rel) == 1)
		vmc__rcu_defer(&mem->rcu, &v->rcu, view_free_rcu);
}

/* ------------------------------------------------------------------------
 * ioeventfds of a view
 */

int vmc__ioeventfd_cmp(uint64_t a_addr, unsigned a_size, bool a_match,
		       uint64_t a_data, const void *a_notifier, uint64_t b_addr,
		       unsigned b_size, bool b_match, uint64_t b_data,
		       const void *b_notifier)
{
	if (a_addr != b_addr)
		return a_addr < b_addr ? -1 : 1;
	if (a_size != b_size)
		return a_size < b_size ? -1 : 1;
	if (a_match != b_match)
		return a_match ? 1 : -1;
	if (a_match && a_data != b_data)
		return a_data < b_data ? -1 : 1;
	if (a_notifier != b_notifier)
		return (uintptr_t)a_notifier < (uintptr_t)b_notifier ? -1 : 1;
	return 0;
}

static int cmp_as_ioeventfd(const void *a, const void *b)
{
	const struct vmc__as_ioeventfd *x = a, *y = b;

	return vmc__ioeventfd_cmp(x->addr, x->size, x->match_data, x->data,
				  x->notifier, y->addr, y->size, y->match_data,
				  y->data, y->notifier);
}

uint64_t vmc__bytes_to_value(const uint8_t *b, unsigned size, enum vmc_endian e)
{
	uint64_t v = 0;

	if (e == VMC_ENDIAN_NATIVE)
		e = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? VMC_ENDIAN_BIG
							   : VMC_ENDIAN_LITTLE;
	for (unsigned i = 0; i < size; i++) {
		unsigned shift =
			e == VMC_ENDIAN_BIG ? 8 * (size - 1 - i) : 8 * i;

		v |= (uint64_t)b[i] << shift;
	}
	return v;
}

void vmc__value_to_bytes(uint64_t v, uint8_t *b, unsigned size,
			 enum vmc_endian e)
{
	if (e == VMC_ENDIAN_NATIVE)
		e = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? VMC_ENDIAN_BIG
							   : VMC_ENDIAN_LITTLE;
	for (unsigned i = 0; i < size; i++) {
		unsigned shift =
			e == VMC_ENDIAN_BIG ? 8 * (size - 1 - i) : 8 * i;

		b[i] = (uint8_t)(v >> shift);
	}
}

/*
 * The records region ioeventfd @e of @fr's region gives the address space
 * through @fr: at most one (the record keeps its own range, not the
 * clipped one).  True when @fr shows any of it.
 */
static bool range_record(const struct vmc__flat_range *fr,
			 const struct vmc__region_ioeventfd *e,
			 struct vmc__as_ioeventfd *ret)
{
	const struct vmc_region *mr = fr->region;
	vmc__u128 rlo = fr->offset;
	vmc__u128 rhi = rlo + ((vmc__u128)fr->last - fr->start + 1);
	vmc__u128 elo = e->offset;
	vmc__u128 ehi = elo + (e->size ? e->size : 1);
	vmc__s128 addr;
	uint8_t bytes[8] = {0};
	uint64_t host = 0;

	if (ehi <= rlo || elo >= rhi)
		return false;
	addr = (vmc__s128)fr->start + (vmc__s128)elo - (vmc__s128)rlo;
	if (addr < 0 || addr > (vmc__s128)UINT64_MAX)
		return false;
	if (e->match_data) {
		vmc__value_to_bytes(e->data, bytes, e->size, mr->ops.endian);
		memcpy(&host, bytes, e->size);
	}
	*ret = (struct vmc__as_ioeventfd){
		.addr = (uint64_t)addr,
		.size = e->size,
		.match_data = e->match_data,
		.data = e->data,
		.data_host = host,
		.notifier = e->notifier,
		.region = fr->region,
	};
	return true;
}

static struct vmc__ioeventfd_buf *buf_new(size_t cap)
{
	struct vmc__ioeventfd_buf *b;

	if (cap < 8)
		cap = 8;
	b = malloc(sizeof(*b) + cap * sizeof(b->e[0]));
	if (!b)
		return NULL;
	b->refcnt = 1;
	b->cap = cap;
	b->used = 0;
	return b;
}

int vmc__flat_view_build_ioeventfds(struct vmc__flat_view *v)
{
	struct vmc__ioeventfd_buf *b = NULL;
	size_t n = 0;
	bool sorted = true;

	for (size_t i = 0; i < v->nr; i++) {
		const struct vmc__flat_range *fr = &v->ranges[i];
		const struct vmc_region *mr = fr->region;
		vmc__u128 rhi = (vmc__u128)fr->offset +
				((vmc__u128)fr->last - fr->start + 1);

		for (size_t k = 0; k < mr->nr_ioeventfds; k++) {
			const struct vmc__region_ioeventfd *e =
				&mr->ioeventfds[k];
			struct vmc__as_ioeventfd rec;

			if (e->offset >= rhi)
				break; /* the region's list is sorted */
			if (!range_record(fr, e, &rec))
				continue;
			if (!b || n == b->cap) {
				/* Room to append as many again later. */
				struct vmc__ioeventfd_buf *nb =
					buf_new(b ? 2 * b->cap : 8);

				if (!nb) {
					free(b);
					return -ENOMEM;
				}
				if (b)
					memcpy(nb->e, b->e,
					       n * sizeof(b->e[0]));
				free(b);
				b = nb;
			}
			b->e[n] = rec;
			if (n && cmp_as_ioeventfd(&b->e[n - 1], &b->e[n]) >= 0)
				sorted = false;
			n++;
		}
	}
	if (!sorted) {
		/* Only records straddling a range boundary get here. */
		size_t w = 0;

		qsort(b->e, n, sizeof(b->e[0]), cmp_as_ioeventfd);
		for (size_t i = 0; i < n; i++)
			if (!w || cmp_as_ioeventfd(&b->e[w - 1], &b->e[i]) != 0)
				b->e[w++] = b->e[i];
		n = w;
	}
	if (b && b->cap < 2 * n) {
		/* Room for as many appends again (see vmc__ioeventfd_buf). */
		struct vmc__ioeventfd_buf *nb =
			realloc(b, sizeof(*b) + 2 * n * sizeof(b->e[0]));

		if (nb) {
			b = nb;
			b->cap = 2 * n;
		}
	}
	if (b)
		b->used = n;
	v->ioeventfd_buf = b;
	v->ioeventfds = b ? b->e : NULL;
	v->nr_ioeventfds = n;
	return 0;
}

int vmc__flat_view_append_ioeventfd(const struct vmc__flat_view *old,
				    const struct vmc_region *mr,
				    const struct vmc__region_ioeventfd *e,
				    struct vmc__flat_view **ret, size_t *added)
{
	struct vmc__ioeventfd_buf *b = old->ioeventfd_buf;
	struct vmc__as_ioeventfd rec[8];
	struct vmc__flat_view *v;
	size_t n = 0;

	*ret = NULL;
	*added = 0;
	for (size_t i = 0; i < old->nr; i++) {
		if (old->ranges[i].region != mr)
			continue;
		/* A region seen through many windows: the general path. */
		if (n == ARRAY_SIZE(rec))
			return -EAGAIN;
		if (range_record(&old->ranges[i], e, &rec[n])) {
			/* In address order, as the ranges are. */
			if (n && cmp_as_ioeventfd(&rec[n - 1], &rec[n]) >= 0)
				return -EAGAIN;
			n++;
		}
	}
	if (!n)
		return 0;
	if (!b || b->used != old->nr_ioeventfds || b->cap - b->used < n ||
	    (old->nr_ioeventfds &&
	     cmp_as_ioeventfd(&b->e[b->used - 1], &rec[0]) >= 0))
		return -EAGAIN;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	atomic_init(&v->refcnt, 1);
	v->nr = old->nr;
	if (v->nr) {
		v->ranges = malloc(v->nr * sizeof(*v->ranges));
		v->starts = malloc(v->nr * sizeof(*v->starts));
		if (!v->ranges || !v->starts) {
			free(v->ranges);
			free(v->starts);
			free(v);
			return -ENOMEM;
		}
		memcpy(v->ranges, old->ranges, v->nr * sizeof(*v->ranges));
		memcpy(v->starts, old->starts, v->nr * sizeof(*v->starts));
	}
	for (size_t i = 0; i < v->nr; i++) {
		v->ranges[i].view = v;
		vmc_region_ref(v->ranges[i].region);
	}
	/* Past every older view's count: no reader looks there. */
	memcpy(&b->e[b->used], rec, n * sizeof(rec[0]));
	b->used += n;
	b->refcnt++;
	v->ioeventfd_buf = b;
	v->ioeventfds = b->e;
	v->nr_ioeventfds = b->used;
	*ret = v;
	*added = n;
	return 0;
}
