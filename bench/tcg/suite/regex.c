/* SPDX-License-Identifier: MIT */
/* Regular-expression matching: a backtracking matcher (literals, '.',
 * [classes], '*', '+', '?', '^', '$') run over lines of generated text
 * for a set of patterns, counting matches and their positions. */
#include "bench.h"

const char workload_name[] = "regex";

static const char *const patterns[] = {
	"th[aeiou]+s",
	"^[a-z]+ing",
	"q.*z",
	"b[^aeiou]?r",
	"[0-9][0-9]*-[a-z]+$",
	"e.e.e",
	"x+y*x",
	"^the",
	"(none)",
	"[aeiou][aeiou][aeiou]",
	"s$",
	"[a-f]+[0-9]?[g-m]+",
};

/* One item of a pattern: a char, '.', or a class [..]; how many chars of
 * the pattern it spans in *len. */
static int item_match(const char *p, char c, int *len)
{
	if (*p == '[') {
		int neg = 0, hit = 0;
		const char *q = p + 1;

		if (*q == '^') {
			neg = 1;
			q++;
		}
		while (*q && *q != ']') {
			if (q[1] == '-' && q[2] && q[2] != ']') {
				if (c >= q[0] && c <= q[2])
					hit = 1;
				q += 3;
			} else {
				if (c == *q)
					hit = 1;
				q++;
			}
		}
		*len = (int)(q - p) + (*q == ']');
		return c && (hit ^ neg);
	}
	*len = 1;
	return c && (*p == '.' || *p == c);
}

static int match_here(const char *p, const char *s);

static int match_rep(const char *p, int ilen, char op, const char *s)
{
	const char *t = s;
	int l;

	/* Greedy: take as many as possible, then back off. */
	while (*t && item_match(p, *t, &l))
		t++;
	if (op == '+' && t == s)
		return 0;
	do {
		if (match_here(p + ilen + 1, t))
			return 1;
	} while (t-- > s + (op == '+'));
	return 0;
}

static int match_here(const char *p, const char *s)
{
	int l;

	for (;;) {
		if (!*p)
			return 1;
		if (p[0] == '$' && !p[1])
			return !*s;
		item_match(p, 0, &l);
		if (p[l] == '*' || p[l] == '+')
			return match_rep(p, l, p[l], s);
		if (p[l] == '?') {
			if (item_match(p, *s, &l) &&
			    match_here(p + l + 1, s + 1))
				return 1;
			p += l + 1;
			continue;
		}
		if (!item_match(p, *s, &l))
			return 0;
		p += l;
		s++;
	}
}

static int match(const char *p, const char *s)
{
	if (*p == '^')
		return match_here(p + 1, s) ? 1 : 0;
	for (int pos = 1;; s++, pos++) {
		if (match_here(p, s))
			return pos;
		if (!*s)
			return 0;
	}
}

#define LINES 64
#define LINE_LEN 72

static char text[LINES][LINE_LEN + 1];

static const char *const words[] = {
	"the",	    "this",   "thus",	"quiz", "bar",	 "brr",
	"eerie",    "xyyx",   "xx",	"sing", "ring",	 "abc9h",
	"deadbeef", "queue",  "42-abc", "7-z",	"lorem", "ipsum",
	"sequoia",  "bazaar", "fizz",	"buzz", "els",
};

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 7, sum = 0;

	for (int i = 0; i < LINES; i++) {
		int n = 0;

		while (n < LINE_LEN - 10) {
			const char *w = words[rng_next(&seed) % 23];

			while (*w)
				text[i][n++] = *w++;
			text[i][n++] = ' ';
		}
		text[i][n - 1] = 0;
	}
	for (uint32_t it = 0; it < iters; it++) {
		uint64_t s = 0;

		for (int i = 0; i < LINES; i++)
			for (unsigned k = 0; k < 12; k++)
				s = s * 31 +
				    (unsigned)match(patterns[k], text[i]);
		/* Rotate a line so passes differ. */
		{
			char *t = text[it % LINES], c = t[0];
			int n = 0;

			while (t[n + 1])
				n++;
			for (int k = 0; k < n; k++)
				t[k] = t[k + 1];
			t[n] = c;
		}
		sum = mix(sum, s);
	}
	return sum;
}
