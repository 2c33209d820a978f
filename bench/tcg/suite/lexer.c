/* SPDX-License-Identifier: MIT */
/* Table-driven state machines: a DFA lexer (character classes, a
 * transition table) over generated C-like source, counting tokens by kind,
 * and a table-driven CRC-32 of the text. */
#include "bench.h"

const char workload_name[] = "lexer";

enum {
	C_OTHER,
	C_ALPHA,
	C_DIGIT,
	C_SPACE,
	C_PUNCT,
	C_QUOTE,
	C_SLASH,
	C_STAR,
	C_NL,
	C_DOT,
	C_N
};
enum {
	T_START,
	T_IDENT,
	T_NUM,
	T_FLOAT,
	T_STR,
	T_STR_END,
	T_PUNCT,
	T_SLASH,
	T_COMMENT,
	T_COMMENT_STAR,
	T_COMMENT_END,
	T_LINE,
	T_SPACE,
	T_N
};

static uint8_t cls[256];
static uint8_t next[T_N][C_N];
static uint32_t crc_table[256];

#define SRC 8192
static char src[SRC];

static const char *const frags[] = {
	"int ",	      "x",	   "y1",  " = ", "42",	"3.14",
	";\n",	      "(",	   ")",	  "{\n", "}\n", "\"str ing\"",
	"/* note */", "// line\n", "a_b", " + ", "0.5", "return ",
	"while ",     "if ",	   " < ", "foo", "[i]", "*p",
};

static void init_tables(void)
{
	for (int c = 0; c < 256; c++) {
		uint8_t k = C_OTHER;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_')
			k = C_ALPHA;
		else if (c >= '0' && c <= '9')
			k = C_DIGIT;
		else if (c == ' ' || c == '\t')
			k = C_SPACE;
		else if (c == '\n')
			k = C_NL;
		else if (c == '"')
			k = C_QUOTE;
		else if (c == '/')
			k = C_SLASH;
		else if (c == '*')
			k = C_STAR;
		else if (c == '.')
			k = C_DOT;
		else if (c > 32 && c < 127)
			k = C_PUNCT;
		cls[c] = k;
	}
	/* T_START means "token ended; restart on this char". */
	for (int s = 0; s < T_N; s++)
		for (int c = 0; c < C_N; c++)
			next[s][c] = T_START;
	for (int c = 0; c < C_N; c++) {
		next[T_STR][c] = T_STR;
		next[T_COMMENT][c] = T_COMMENT;
		next[T_COMMENT_STAR][c] = T_COMMENT;
		next[T_LINE][c] = T_LINE;
	}
	next[T_START][C_ALPHA] = T_IDENT;
	next[T_START][C_DIGIT] = T_NUM;
	next[T_START][C_SPACE] = T_SPACE;
	next[T_START][C_NL] = T_SPACE;
	next[T_START][C_PUNCT] = T_PUNCT;
	next[T_START][C_STAR] = T_PUNCT;
	next[T_START][C_DOT] = T_PUNCT;
	next[T_START][C_OTHER] = T_PUNCT;
	next[T_START][C_QUOTE] = T_STR;
	next[T_START][C_SLASH] = T_SLASH;
	next[T_IDENT][C_ALPHA] = T_IDENT;
	next[T_IDENT][C_DIGIT] = T_IDENT;
	next[T_NUM][C_DIGIT] = T_NUM;
	next[T_NUM][C_DOT] = T_FLOAT;
	next[T_FLOAT][C_DIGIT] = T_FLOAT;
	next[T_SPACE][C_SPACE] = T_SPACE;
	next[T_SPACE][C_NL] = T_SPACE;
	next[T_STR][C_QUOTE] = T_STR_END;
	next[T_SLASH][C_STAR] = T_COMMENT;
	next[T_SLASH][C_SLASH] = T_LINE;
	next[T_COMMENT][C_STAR] = T_COMMENT_STAR;
	next[T_COMMENT_STAR][C_STAR] = T_COMMENT_STAR;
	next[T_COMMENT_STAR][C_SLASH] = T_COMMENT_END;
	next[T_LINE][C_NL] = T_START;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint64_t lex(const char *p, size_t n)
{
	uint32_t count[T_N] = {0};
	uint64_t h = 0;
	unsigned s = T_START;

	for (size_t i = 0; i < n; i++) {
		unsigned c = cls[(uint8_t)p[i]];
		unsigned t = next[s][c];

		if (t == T_START) {
			count[s]++;
			t = next[T_START][c];
		}
		s = t;
	}
	count[s]++;
	for (int k = 0; k < T_N; k++)
		h = h * 1000003 + count[k];
	return h;
}

static uint32_t crc32(const char *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--)
		c = crc_table[(c ^ (uint8_t)*p++) & 0xff] ^ (c >> 8);
	return ~c;
}

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 11, sum = 0;
	size_t n = 0;

	init_tables();
	while (n < SRC - 16) {
		const char *f = frags[rng_next(&seed) % 24];

		while (*f && n < SRC)
			src[n++] = *f++;
	}
	for (uint32_t it = 0; it < iters; it++) {
		sum = mix(sum, lex(src, n));
		sum = mix(sum, crc32(src, n));
		src[(it * 131) % n] ^= 0x20;
	}
	return sum;
}
