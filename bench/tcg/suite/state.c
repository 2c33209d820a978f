/* SPDX-License-Identifier: MIT */
/* CoreMark-style state machine: a scanner classifies comma-separated
 * tokens (integer, float, exponent, invalid) through a switch per state;
 * the input is corrupted a little between passes. */
#include "bench.h"

const char workload_name[] = "state";

enum { S_START, S_INVALID, S_S1, S_S2, S_INT, S_FLOAT, S_EXP, S_SCI, S_N };

#define LEN 4096

static char input[LEN + 1];

static const char *const seeds[] = {
	"5012",	    "1234",	"-874",	    "+122",	"35.54400", ".1234500",
	"-110.700", "+0.64400", "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12",
	"T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^",
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int next_state(const char **pp, uint32_t *trans)
{
	const char *p = *pp;
	int state = S_START;

	for (; *p && state != S_INVALID; p++) {
		char c = *p;

		if (c == ',') {
			p++;
			break;
		}
		switch (state) {
		case S_START:
			if (is_digit(c))
				state = S_INT;
			else if (c == '+' || c == '-')
				state = S_S1;
			else if (c == '.')
				state = S_FLOAT;
			else {
				state = S_INVALID;
				trans[S_INVALID]++;
			}
			trans[S_START]++;
			break;
		case S_S1:
			if (is_digit(c)) {
				state = S_INT;
				trans[S_S1]++;
			} else if (c == '.') {
				state = S_FLOAT;
				trans[S_S1]++;
			} else {
				state = S_INVALID;
				trans[S_S1]++;
			}
			break;
		case S_INT:
			if (c == '.') {
				state = S_FLOAT;
				trans[S_INT]++;
			} else if (!is_digit(c)) {
				state = S_INVALID;
				trans[S_INT]++;
			}
			break;
		case S_FLOAT:
			if (c == 'E' || c == 'e') {
				state = S_S2;
				trans[S_FLOAT]++;
			} else if (!is_digit(c)) {
				state = S_INVALID;
				trans[S_FLOAT]++;
			}
			break;
		case S_S2:
			if (c == '+' || c == '-') {
				state = S_EXP;
				trans[S_S2]++;
			} else {
				state = S_INVALID;
				trans[S_S2]++;
			}
			break;
		case S_EXP:
			if (is_digit(c)) {
				state = S_SCI;
				trans[S_EXP]++;
			} else {
				state = S_INVALID;
				trans[S_EXP]++;
			}
			break;
		case S_SCI:
			if (!is_digit(c)) {
				state = S_INVALID;
				trans[S_INVALID]++;
			}
			break;
		default:
			break;
		}
	}
	*pp = p;
	return state;
}

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 42, sum = 0;
	size_t n = 0;

	while (n < LEN - 10) {
		const char *s = seeds[rng_next(&seed) % 16];

		while (*s && n < LEN - 1)
			input[n++] = *s++;
		input[n++] = ',';
	}
	input[n] = 0;
	for (uint32_t it = 0; it < iters; it++) {
		uint32_t final[S_N] = {0}, trans[S_N] = {0};
		const char *p = input;

		while (*p)
			final[next_state(&p, trans)]++;
		for (int s = 0; s < S_N; s++)
			sum = mix(sum, (uint64_t) final[s] << 32 | trans[s]);
		/* Corrupt (then restore) a few characters. */
		for (size_t k = it % 7; k < n; k += 97 + (it & 3))
			input[k] ^= (char)((it & 1) ? 1 : 3);
	}
	return sum;
}
