/* SPDX-License-Identifier: MIT */
/*
 * The RV64 integer operations whose semantics are more than one C
 * operator (M's high products and divisions with RISC-V's rules for
 * division by zero and overflow; Zbb and Zbc), shared by the interpreter
 * (rv-interp.c) and the translator's helpers (rv-jit.c).
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_ALU_H
#define VMC_ACCEL_TCG_RISCV_RV_ALU_H

#include <stdint.h>

#include "rv-exec.h"

/* The M extension's multiply-high and divide semantics. */
static inline uint64_t op_mulh(uint64_t a, uint64_t b)
{
	return (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64);
}

static inline uint64_t op_mulhsu(uint64_t a, uint64_t b)
{
	return (uint64_t)(((__int128)(int64_t)a *
			   (__int128)(unsigned __int128)b) >>
			  64);
}

static inline uint64_t op_mulhu(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * (unsigned __int128)b) >> 64);
}

static inline uint64_t op_div(uint64_t ua, uint64_t ub)
{
	int64_t a = (int64_t)ua, d = (int64_t)ub;

	return d == 0			     ? ~0ull
	       : (a == INT64_MIN && d == -1) ? (uint64_t)a
					     : (uint64_t)(a / d);
}

static inline uint64_t op_divu(uint64_t a, uint64_t d)
{
	return d == 0 ? ~0ull : a / d;
}

static inline uint64_t op_rem(uint64_t ua, uint64_t ub)
{
	int64_t a = (int64_t)ua, d = (int64_t)ub;

	return d == 0			     ? (uint64_t)a
	       : (a == INT64_MIN && d == -1) ? 0
					     : (uint64_t)(a % d);
}

static inline uint64_t op_remu(uint64_t a, uint64_t d)
{
	return d == 0 ? a : a % d;
}

static inline uint64_t op_divw(uint64_t ua, uint64_t ub)
{
	int32_t a = (int32_t)ua, d = (int32_t)ub;

	return d == 0			     ? ~0ull
	       : (a == INT32_MIN && d == -1) ? sx32((uint32_t)a)
					     : sx32((uint32_t)(a / d));
}

static inline uint64_t op_divuw(uint64_t ua, uint64_t ub)
{
	uint32_t a = (uint32_t)ua, d = (uint32_t)ub;

	return d == 0 ? ~0ull : sx32(a / d);
}

static inline uint64_t op_remw(uint64_t ua, uint64_t ub)
{
	int32_t a = (int32_t)ua, d = (int32_t)ub;

	return d == 0			     ? sx32((uint32_t)a)
	       : (a == INT32_MIN && d == -1) ? 0
					     : sx32((uint32_t)(a % d));
}

static inline uint64_t op_remuw(uint64_t ua, uint64_t ub)
{
	uint32_t a = (uint32_t)ua, d = (uint32_t)ub;

	return d == 0 ? sx32(a) : sx32(a % d);
}

/* Zbb and Zbc. */
static inline uint64_t op_clz(uint64_t a)
{
	return a ? (uint64_t)__builtin_clzll(a) : 64;
}

static inline uint64_t op_ctz(uint64_t a)
{
	return a ? (uint64_t)__builtin_ctzll(a) : 64;
}

static inline uint64_t op_clzw(uint64_t a)
{
	return (uint32_t)a ? (uint64_t)__builtin_clz((uint32_t)a) : 32;
}

static inline uint64_t op_ctzw(uint64_t a)
{
	return (uint32_t)a ? (uint64_t)__builtin_ctz((uint32_t)a) : 32;
}

static inline uint64_t op_rol(uint64_t a, unsigned s)
{
	s &= 63;
	return s ? (a << s) | (a >> (64 - s)) : a;
}

static inline uint64_t op_rolw(uint64_t a, unsigned s)
{
	uint32_t w = (uint32_t)a;

	s &= 31;
	return sx32(s ? (w << s) | (w >> (32 - s)) : w);
}

static inline uint64_t op_orc_b(uint64_t a)
{
	uint64_t r = 0;

	for (unsigned k = 0; k < 64; k += 8)
		if ((a >> k) & 0xff)
			r |= 0xffull << k;
	return r;
}

/* Carry-less product: lo gets bits 63..0 of the 127-bit product, hi bits
 * 127..64 (clmulh); clmulr is bits 126..63. */
static inline uint64_t op_clmul(uint64_t a, uint64_t b, unsigned part)
{
	uint64_t lo = 0, hi = 0;

	for (unsigned k = 0; k < 64; k++) {
		if (!((b >> k) & 1))
			continue;
		lo ^= a << k;
		if (k)
			hi ^= a >> (64 - k);
	}
	return part == 0 ? lo : part == 1 ? hi : (hi << 1) | (lo >> 63);
}

#endif
