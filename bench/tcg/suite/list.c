/* SPDX-License-Identifier: MIT */
/* CoreMark-style list work: a linked list of records is searched,
 * reversed and merge-sorted by two keys; a CRC-16 covers the results. */
#include "bench.h"

const char workload_name[] = "list";

#define NODES 600

struct node {
	struct node *next;
	int16_t data;
	uint16_t idx;
};

static struct node pool[NODES];

static uint16_t crc16(uint16_t crc, uint16_t v)
{
	for (int i = 0; i < 16; i++) {
		unsigned x = (crc ^ v) & 1;

		v >>= 1;
		crc = (uint16_t)(x ? (crc >> 1) ^ 0xa001 : crc >> 1);
	}
	return crc;
}

static struct node *reverse(struct node *l)
{
	struct node *r = NULL;

	while (l) {
		struct node *n = l->next;

		l->next = r;
		r = l;
		l = n;
	}
	return r;
}

static struct node *find(struct node *l, int16_t data)
{
	while (l && l->data != data)
		l = l->next;
	return l;
}

static int cmp_data(const struct node *a, const struct node *b)
{
	if (a->data != b->data)
		return a->data - b->data;
	return a->idx - b->idx;
}

static int cmp_idx(const struct node *a, const struct node *b)
{
	return a->idx - b->idx;
}

/* Bottom-up merge sort of a list (as CoreMark's core_list_mergesort). */
static struct node *msort(struct node *list,
			  int (*cmp)(const struct node *, const struct node *))
{
	int insize = 1;

	for (;;) {
		struct node *p = list, *tail = NULL;
		int nmerges = 0;

		list = NULL;
		while (p) {
			struct node *q = p;
			int psize = 0, qsize = insize;

			nmerges++;
			for (int i = 0; i < insize && q; i++) {
				psize++;
				q = q->next;
			}
			while (psize > 0 || (qsize > 0 && q)) {
				struct node *e;

				if (psize == 0) {
					e = q;
					q = q->next;
					qsize--;
				} else if (qsize == 0 || !q || cmp(p, q) <= 0) {
					e = p;
					p = p->next;
					psize--;
				} else {
					e = q;
					q = q->next;
					qsize--;
				}
				if (tail)
					tail->next = e;
				else
					list = e;
				tail = e;
			}
			p = q;
		}
		tail->next = NULL;
		if (nmerges <= 1)
			return list;
		insize *= 2;
	}
}

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 0x1234567, sum = 0;
	struct node *l = NULL;
	uint16_t crc = 0;

	for (int i = NODES - 1; i >= 0; i--) {
		pool[i].idx = (uint16_t)i;
		pool[i].data = (int16_t)(rng_next(&seed) & 0x7fff);
		pool[i].next = l;
		l = &pool[i];
	}
	for (uint32_t it = 0; it < iters; it++) {
		int found = 0, missed = 0;

		for (int k = 0; k < 40; k++) {
			int16_t want =
				(int16_t)(k & 1 ? pool[(k * 37 + it) % NODES]
							  .data
						: (int16_t)(it + k));
			struct node *n = find(l, want);

			if (n) {
				found++;
				crc = crc16(crc, n->idx);
			} else {
				missed++;
			}
			l = reverse(l);
		}
		l = msort(l, cmp_data);
		for (struct node *n = l; n; n = n->next)
			crc = crc16(crc, (uint16_t)n->data);
		/* Change the data a little so each pass sorts anew. */
		for (struct node *n = l; n; n = n->next)
			n->data =
				(int16_t)((n->data * 3 + n->idx + it) & 0x7fff);
		l = msort(l, cmp_idx);
		sum = mix(sum,
			  (uint64_t)found << 32 | (uint64_t)missed << 16 | crc);
	}
	return sum;
}
