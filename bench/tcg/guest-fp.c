/* SPDX-License-Identifier: MIT */
/*
 * The FP-heavy bare-metal RV64 guest of bench/tcg: a loop of double and
 * single fmadd, fmul, fadd, fdiv, fsqrt, conversions and moves between the
 * register files (about 70% of its instructions are F/D), ITERS times.
 * Like guest.c it prints a checksum (bit-exact IEEE results, so every CPU
 * prints the same) on the UART at 0x10000000 and ends through the test
 * finisher at 0x100000.
 */
#include <stdint.h>

#ifndef ITERS
#define ITERS 2000000
#endif

#define UART ((volatile uint8_t *)0x10000000)
#define FINISHER ((volatile uint32_t *)0x100000)

void guest_main(void);

static void put_hex(uint64_t v)
{
	for (int i = 60; i >= 0; i -= 4)
		*UART = (uint8_t) "0123456789abcdef"[(v >> i) & 15];
	*UART = '\n';
}

static double dsqrt(double x)
{
	double r;

	__asm__("fsqrt.d %0, %1" : "=f"(r) : "f"(x));
	return r;
}

static double dfma(double a, double b, double c)
{
	double r;

	__asm__("fmadd.d %0, %1, %2, %3" : "=f"(r) : "f"(a), "f"(b), "f"(c));
	return r;
}

void guest_main(void)
{
	double a = 1.0, b = 0.5, c = 0.0, d = 3.0;
	float s = 1.0f, t = 0.25f;
	int64_t n = 0;

	/* mstatus.FS = Initial: the FPU is off at reset. */
	__asm__ volatile("csrs mstatus, %0" : : "r"(1ul << 13));
	for (uint32_t it = 0; it < ITERS; it++) {
		a = dfma(a, 0.999999, 0.25);
		b = dsqrt(a + b) / (d + 1.0);
		c += a * b - (double)(it & 7);
		d = d * 0.5 + (double)(it & 3);
		s = s * 0.75f + t;
		t = (float)b + s / 4.0f;
		n += (int64_t)(c * 16.0);
	}
	{
		union {
			double d;
			uint64_t u;
		} ua = {a}, ub = {b}, uc = {c};

		put_hex(ua.u ^ ub.u ^ uc.u ^ (uint64_t)n ^ (uint64_t)(s * t));
	}
	*FINISHER = 0x5555;
	for (;;)
		;
}
