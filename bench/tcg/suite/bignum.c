/* SPDX-License-Identifier: MIT */
/* Multiprecision arithmetic: 1024-bit modular exponentiation by
 * Montgomery multiplication (32-bit limbs, 64-bit products), and a
 * schoolbook 2048-bit product, as RSA code does. */
#include "bench.h"

const char workload_name[] = "bignum";

#define L 32 /* limbs of 32 bits: 1024 bits */

static uint32_t mod[L], r2[L];

/* r = a * b * 2^-1024 mod m (CIOS); r may alias a or b. */
static void mont_mul(uint32_t *r, const uint32_t *a, const uint32_t *b,
		     uint32_t minv)
{
	uint32_t t[L + 2] = {0};

	for (int i = 0; i < L; i++) {
		uint64_t c = 0;
		uint32_t m;

		for (int j = 0; j < L; j++) {
			c += (uint64_t)t[j] + (uint64_t)a[j] * b[i];
			t[j] = (uint32_t)c;
			c >>= 32;
		}
		c += t[L];
		t[L] = (uint32_t)c;
		t[L + 1] = (uint32_t)(c >> 32);
		m = t[0] * minv;
		c = ((uint64_t)m * mod[0] + t[0]) >> 32;
		for (int j = 1; j < L; j++) {
			c += (uint64_t)t[j] + (uint64_t)m * mod[j];
			t[j - 1] = (uint32_t)c;
			c >>= 32;
		}
		c += t[L];
		t[L - 1] = (uint32_t)c;
		t[L] = t[L + 1] + (uint32_t)(c >> 32);
	}
	/* Subtract m if t >= m. */
	{
		int ge = t[L] != 0;

		if (!ge) {
			ge = 1;
			for (int j = L - 1; j >= 0; j--)
				if (t[j] != mod[j]) {
					ge = t[j] > mod[j];
					break;
				}
		}
		if (ge) {
			int64_t br = 0;

			for (int j = 0; j < L; j++) {
				br += (int64_t)t[j] - mod[j];
				t[j] = (uint32_t)br;
				br >>= 32;
			}
		}
	}
	for (int j = 0; j < L; j++)
		r[j] = t[j];
}

static void modexp(uint32_t *r, const uint32_t *base, const uint32_t *exp,
		   uint32_t minv)
{
	uint32_t x[L], one[L] = {1}, acc[L];

	mont_mul(x, base, r2, minv); /* to Montgomery form */
	mont_mul(acc, one, r2, minv);
	for (int i = L * 32 - 1; i >= 0; i--) {
		mont_mul(acc, acc, acc, minv);
		if ((exp[i / 32] >> (i % 32)) & 1)
			mont_mul(acc, acc, x, minv);
	}
	mont_mul(r, acc, one, minv); /* back */
}

static void mul_full(uint32_t *r, const uint32_t *a, const uint32_t *b)
{
	for (int i = 0; i < 2 * L; i++)
		r[i] = 0;
	for (int i = 0; i < L; i++) {
		uint64_t c = 0;

		for (int j = 0; j < L; j++) {
			c += (uint64_t)r[i + j] + (uint64_t)a[j] * b[i];
			r[i + j] = (uint32_t)c;
			c >>= 32;
		}
		r[i + L] = (uint32_t)c;
	}
}

uint64_t workload(uint32_t iters)
{
	uint64_t seed = 99, sum = 0;
	uint32_t base[L], exp[L], res[L], prod[2 * L], minv = 1;

	for (int i = 0; i < L; i++) {
		mod[i] = (uint32_t)rng_next(&seed);
		base[i] = (uint32_t)rng_next(&seed);
		exp[i] = (uint32_t)rng_next(&seed);
	}
	mod[0] |= 1;
	mod[L - 1] |= 0x80000000u;
	base[L - 1] &= 0x7fffffff;
	/* minv = -mod^-1 mod 2^32 (Newton). */
	for (int i = 0; i < 5; i++)
		minv *= 2 - mod[0] * minv;
	minv = -minv;
	/* r2 = 2^2048 mod m, by doubling 1 2048 times. */
	for (int i = 0; i < L; i++)
		r2[i] = 0;
	r2[0] = 1;
	for (int k = 0; k < 2 * L * 32; k++) {
		uint32_t carry = 0;
		int ge = 1;

		for (int j = 0; j < L; j++) {
			uint32_t v = r2[j];

			r2[j] = v << 1 | carry;
			carry = v >> 31;
		}
		if (!carry)
			for (int j = L - 1; j >= 0; j--)
				if (r2[j] != mod[j]) {
					ge = r2[j] > mod[j];
					break;
				}
		if (carry || ge) {
			int64_t br = 0;

			for (int j = 0; j < L; j++) {
				br += (int64_t)r2[j] - mod[j];
				r2[j] = (uint32_t)br;
				br >>= 32;
			}
		}
	}
	for (uint32_t it = 0; it < iters; it++) {
		modexp(res, base, exp, minv);
		mul_full(prod, res, base);
		for (int i = 0; i < L; i++) {
			sum = mix(sum, res[i]);
			base[i] = prod[i + 3] & (i == L - 1 ? 0x7fffffff : ~0u);
		}
		exp[it % L] ^= res[0];
	}
	return sum;
}
