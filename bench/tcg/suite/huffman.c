/* SPDX-License-Identifier: MIT */
/* Huffman coding: count symbol frequencies of skewed text, build the tree
 * with a binary heap, encode to a bit stream, decode by walking the tree
 * and compare. */
#include "bench.h"

const char workload_name[] = "huffman";

#define TEXT 8192
#define NSYM 256

static uint8_t text[TEXT], out[TEXT];
static uint8_t bits[TEXT * 2];

struct hnode {
	uint32_t freq;
	int16_t left, right; /* -1 for a leaf */
	uint16_t sym;
};

static struct hnode nodes[2 * NSYM];
static int16_t heap[2 * NSYM];
static uint32_t code[NSYM];
static uint8_t code_len[NSYM];

static int less(int a, int b)
{
	if (nodes[a].freq != nodes[b].freq)
		return nodes[a].freq < nodes[b].freq;
	return a < b;
}

static void sift_down(int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, m = i;

		if (l < n && less(heap[l], heap[m]))
			m = l;
		if (l + 1 < n && less(heap[l + 1], heap[m]))
			m = l + 1;
		if (m == i)
			return;
		int16_t t = heap[i];

		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

static void sift_up(int i)
{
	while (i > 0 && less(heap[i], heap[(i - 1) / 2])) {
		int16_t t = heap[i];

		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static void assign(int n, uint32_t c, int len)
{
	if (nodes[n].left < 0) {
		code[nodes[n].sym] = c;
		code_len[nodes[n].sym] = (uint8_t)(len ? len : 1);
		return;
	}
	assign(nodes[n].left, c << 1, len + 1);
	assign(nodes[n].right, c << 1 | 1, len + 1);
}

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 3, sum = 0;

	for (uint32_t it = 0; it < iters; it++) {
		uint32_t freq[NSYM] = {0};
		int nn = 0, hn = 0, root;
		size_t nbits = 0, pos = 0;
		uint64_t s = 0;

		/* Skewed text: a geometric-ish symbol distribution. */
		for (int i = 0; i < TEXT; i++) {
			uint64_t r = rng_next(&seed);
			unsigned z = 0, sym;

			while (z < 40 && !((r >> z) & 1))
				z++;
			sym = z * 5 + (unsigned)((r >> 48) % 5);

			text[i] = (uint8_t)(sym + (it & 63));
		}
		for (int i = 0; i < TEXT; i++)
			freq[text[i]]++;
		for (int c = 0; c < NSYM; c++)
			if (freq[c]) {
				nodes[nn] = (struct hnode){freq[c], -1, -1,
							   (uint16_t)c};
				heap[hn++] = (int16_t)nn++;
			}
		for (int i = hn / 2 - 1; i >= 0; i--)
			sift_down(hn, i);
		while (hn > 1) {
			int a = heap[0], b;

			heap[0] = heap[--hn];
			sift_down(hn, 0);
			b = heap[0];
			nodes[nn] =
				(struct hnode){nodes[a].freq + nodes[b].freq,
					       (int16_t)a, (int16_t)b, 0};
			heap[0] = (int16_t)nn++;
			sift_down(hn, 0);
			(void)sift_up;
		}
		root = heap[0];
		assign(root, 0, 0);
		memset(bits, 0, sizeof(bits));
		for (int i = 0; i < TEXT; i++) {
			uint32_t c = code[text[i]];

			for (int k = code_len[text[i]] - 1; k >= 0;
			     k--, nbits++)
				if ((c >> k) & 1)
					bits[nbits >> 3] |=
						(uint8_t)(1 << (nbits & 7));
		}
		for (int i = 0; i < TEXT; i++) {
			int n = root;

			while (nodes[n].left >= 0) {
				int b = (bits[pos >> 3] >> (pos & 7)) & 1;

				pos++;
				n = b ? nodes[n].right : nodes[n].left;
			}
			if (nodes[root].left < 0)
				pos++;
			out[i] = (uint8_t)nodes[n].sym;
		}
		for (int i = 0; i < TEXT; i++)
			s = s * 3 + (out[i] == text[i] ? out[i] : 0xdead);
		sum = mix(sum, s ^ nbits << 32 ^ pos);
	}
	return sum;
}
