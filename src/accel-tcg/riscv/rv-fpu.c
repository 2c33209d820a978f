/* SPDX-License-Identifier: MIT */
/*
 * The F and D extensions of the RV64 hart, on the host's SSE unit.
 *
 * Each arithmetic op runs with the guest's rounding mode and cleared flags
 * loaded into MXCSR (all exceptions masked, no flush-to-zero), and the
 * host's MXCSR is put back afterwards, so the embedding program never sees
 * the guest's mode.  An empty asm that claims to change the operands and
 * the result pins the operation between the two MXCSR accesses (GCC does
 * not order floating-point arithmetic against ldmxcsr by itself).  SSE and
 * RISC-V agree on IEEE 754's results and on tininess after rounding; what
 * differs is fixed up in software:
 *  - a NaN result is RISC-V's canonical NaN, never a propagated payload;
 *  - the fused multiply-adds raise invalid for inf * 0 even when the addend
 *    is a quiet NaN;
 *  - SSE has no round-to-nearest-max-magnitude (RMM): the op runs in RNE,
 *    and only when it was inexact is the exact result recomputed in the
 *    x87's 64-bit significand.  A tie of the target format fits there
 *    exactly, so an exact long double result is rounded by hand in RMM;
 *    an inexact one is no tie, and RNE's result is RMM's;
 *  - min/max, comparisons, sign injection, classification and the
 *    conversions to integers (saturating, NaN to the largest integer) are
 *    written out, with their flags.
 * Singles live NaN-boxed in the 64-bit registers: a single whose upper
 * half is not all ones reads as the canonical NaN.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <fenv.h>

#include "rv-internal.h"

#define FF_NX 0x01u
#define FF_UF 0x02u
#define FF_OF 0x04u
#define FF_DZ 0x08u
#define FF_NV 0x10u

#define CNAN_S 0x7fc00000u
#define CNAN_D 0x7ff8000000000000ull
#define BOX 0xffffffff00000000ull

enum { RM_RNE, RM_RTZ, RM_RDN, RM_RUP, RM_RMM, RM_DYN = 7 };

static inline float f_of(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static inline uint32_t u_of_f(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static inline double d_of(uint64_t u)
{
	double d;

	memcpy(&d, &u, 8);
	return d;
}

static inline uint64_t u_of_d(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

/* A single read from a register: the canonical NaN unless NaN-boxed. */
static inline uint32_t unbox(uint64_t v)
{
	return (v >> 32) == 0xffffffffu ? (uint32_t)v : CNAN_S;
}

static inline bool snan_s(uint32_t u)
{
	return (u & 0x7fc00000u) == 0x7f800000u && (u & 0x003fffffu);
}

static inline bool snan_d(uint64_t u)
{
	return (u & 0x7ff8000000000000ull) == 0x7ff0000000000000ull &&
	       (u & 0x0007ffffffffffffull);
}

static inline bool nan_s(uint32_t u)
{
	return (u & 0x7fffffffu) > 0x7f800000u;
}

static inline bool nan_d(uint64_t u)
{
	return (u & ~(1ull << 63)) > 0x7ff0000000000000ull;
}

/* The host's floating-point environment, around one guest op. */
#if defined(__x86_64__) || defined(__i386__)
struct fpenv {
	uint32_t host;
};

static inline void env_enter(struct fpenv *e, unsigned rm)
{
	/* RC: 0 nearest, 1 down, 2 up, 3 toward zero; RMM runs in RNE. */
	static const uint32_t rc[5] = {0, 3, 1, 2, 0};
	uint32_t c = 0x1f80u | rc[rm] << 13;

	__asm__ volatile("stmxcsr %0" : "=m"(e->host));
	__asm__ volatile("ldmxcsr %0" : : "m"(c));
}

static inline unsigned env_leave(struct fpenv *e)
{
	uint32_t c;
	unsigned f = 0;

	__asm__ volatile("stmxcsr %0" : "=m"(c));
	__asm__ volatile("ldmxcsr %0" : : "m"(e->host));
	if (c & 0x01)
		f |= FF_NV;
	if (c & 0x04)
		f |= FF_DZ;
	if (c & 0x08)
		f |= FF_OF;
	if (c & 0x10)
		f |= FF_UF;
	if (c & 0x20)
		f |= FF_NX;
	return f;
}
#else
struct fpenv {
	fenv_t host;
};

static inline void env_enter(struct fpenv *e, unsigned rm)
{
	static const int modes[5] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD,
				     FE_UPWARD, FE_TONEAREST};

	fegetenv(&e->host);
	fesetround(modes[rm]);
	feclearexcept(FE_ALL_EXCEPT);
}

static inline unsigned env_leave(struct fpenv *e)
{
	int x = fetestexcept(FE_ALL_EXCEPT);
	unsigned f = 0;

	fesetenv(&e->host);
	if (x & FE_INVALID)
		f |= FF_NV;
	if (x & FE_DIVBYZERO)
		f |= FF_DZ;
	if (x & FE_OVERFLOW)
		f |= FF_OF;
	if (x & FE_UNDERFLOW)
		f |= FF_UF;
	if (x & FE_INEXACT)
		f |= FF_NX;
	return f;
}
#endif

/* The operations, in one place for the SSE path and the exact one. */
enum fop { F_ADD, F_SUB, F_MUL, F_DIV, F_SQRT, F_FMA };

/*
 * The fast path: round-to-nearest-even add, sub, mul, div and sqrt on the
 * host's own MXCSR, with no MXCSR access after the op.  Reading the flags
 * right after an op waits for it to complete and an ldmxcsr costs more
 * than the op: the two loads and two stores around each op were over half
 * of an FP-heavy guest's time (perf), and so is even a stmxcsr to check
 * the host's mode (it waits for the ops in flight).  It applies when the
 * host thread's MXCSR, as vmc__rv_run() found it (rv_fpenv_save()), is
 * RNE with every exception masked and no FTZ/DAZ, and the result
 * is finite with a magnitude in [2^-960, 2^1000) (or an exact zero sum):
 * then nothing but inexact can be raised, and inexact is decided exactly
 * by an error-free transformation (TwoSum for sums; the remainder by fma
 * for products, quotients and roots, which is exactly representable in
 * that range).  Singles run in double: products are exact there, and
 * rounding a double result of +, -, *, / or sqrt to single gives the
 * correctly rounded single (53 >= 2 * 24 + 2), so NX is "the double result
 * was inexact or narrowing changed it".  Anything else (other modes, FMA,
 * specials, extremes) takes the MXCSR path below.  The host's sticky flags
 * may collect the fast path's inexact; vmc__rv_run() puts the host's MXCSR
 * back as it found it (rv_fpenv_save/restore), so the host never sees it.
 */
#if defined(__x86_64__) || defined(__i386__)
void rv_fpenv_save(struct vmc__rv_hart *h)
{
	__asm__ volatile("stmxcsr %0" : "=m"(h->host_mxcsr));
	h->host_rne = (h->host_mxcsr & 0xffc0u) == 0x1f80u;
}

void rv_fpenv_restore(struct vmc__rv_hart *h)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(h->host_mxcsr));
}
#else
void rv_fpenv_save(struct vmc__rv_hart *h)
{
	h->host_rne = false;
}

void rv_fpenv_restore(struct vmc__rv_hart *h)
{
	(void)h;
}
#endif

/* *ret = a op b in double, RNE, and *nx whether it was inexact; false
 * when the fast path does not apply (see above). */
static inline bool fast_d(enum fop op, double a, double b, double *ret,
			  bool *nx)
{
	double r, m;

	switch (op) {
	case F_ADD:
	case F_SUB: {
		double bb = op == F_SUB ? -b : b, a1, b1;

		r = a + bb;
		m = fabs(r);
		if (!(m < 0x1p1000) || (m < 0x1p-960 && r != 0) ||
		    !(fabs(a) < 0x1p1000) || !(fabs(b) < 0x1p1000))
			return false;
		a1 = r - bb;
		b1 = r - a1;
		*nx = (a - a1) + (bb - b1) != 0;
		break;
	}
	case F_MUL:
		r = a * b;
		m = fabs(r);
		if (!(m < 0x1p1000) || !(m >= 0x1p-960))
			return false;
		*nx = fma(a, b, -r) != 0;
		break;
	case F_DIV:
		r = a / b;
		m = fabs(r);
		if (!(m < 0x1p1000) || !(m >= 0x1p-960) ||
		    !(fabs(a) >= 0x1p-960) || !(fabs(b) >= 0x1p-1022) ||
		    !(fabs(b) < 0x1p1000))
			return false;
		*nx = fma(-r, b, a) != 0;
		break;
	case F_SQRT:
		if (!(a >= 0x1p-960) || !(a < 0x1p1000))
			return false;
		r = sqrt(a);
		*nx = fma(-r, r, a) != 0;
		break;
	default:
		return false;
	}
	*ret = r;
	return true;
}

/* The x + y = s + e of TwoSum (exact barring overflow). */
static inline double two_sum(double x, double y, double *e)
{
	double s = x + y, x1 = s - y, y1 = s - x1;

	*e = (x - x1) + (y - y1);
	return s;
}

/*
 * The fast path of a double fmadd (RNE): r = fma(a, b, c) is exact iff
 * a*b = r - c.  Both sides as normalized pairs, a*b = p + pe (pe by fma)
 * and r - c = q + qe (TwoSum), are the unique (RN(v), v - RN(v)) of their
 * values, so they are equal iff p == q and pe == qe.  Exact in the range
 * of fast_d (no underflow of pe, no overflow).
 */
static inline bool fast_fma_d(double a, double b, double c, double *ret,
			      bool *nx)
{
	double r = fma(a, b, c), p = a * b, pe, q, qe, m = fabs(r);

	if (!(m < 0x1p1000) || !(m >= 0x1p-960) || !(fabs(p) < 0x1p1000) ||
	    !(fabs(p) >= 0x1p-960) || !(fabs(c) < 0x1p1000))
		return false;
	pe = fma(a, b, -p);
	q = two_sum(r, -c, &qe);
	*nx = !(p == q && pe == qe);
	*ret = r;
	return true;
}

/*
 * A single fmadd (RNE) in double: the product of two singles is exact
 * there, p + c = s + e by TwoSum, and s rounded to odd (its last bit set
 * when e != 0) then to single is the correctly rounded single of p + c
 * (53 >= 24 + 2).  Singles' range keeps it exact; results outside
 * [2^-100, 2^100) take the MXCSR path.
 */
static inline bool fast_fma_s(float a, float b, float c, float *ret, bool *nx)
{
	double p = (double)a * (double)b, e, s;
	uint64_t u;
	float r;

	if (!(fabs(p) < 0x1p200) || !(fabs((double)c) < 0x1p200))
		return false;
	s = two_sum(p, c, &e);
	if (!(fabs(s) < 0x1p100) || !(fabs(s) >= 0x1p-100))
		return false;
	u = u_of_d(s);
	if (e != 0 && !(u & 1))
		u += ((e > 0) == (s > 0)) ? 1 : (uint64_t)-1;
	r = (float)d_of(u);
	*nx = e != 0 || (double)r != s;
	*ret = r;
	return true;
}

/* Keep the compiler from moving arithmetic across env_enter/env_leave. */
#define PIN(v) __asm__ volatile("" : "+x"(v))
#define PINL(v) __asm__ volatile("" : "+m"(v))
#define PINR(v) __asm__ volatile("" : "+r"(v))

static double op_d(enum fop op, double a, double b, double c)
{
	switch (op) {
	case F_ADD:
		return a + b;
	case F_SUB:
		return a - b;
	case F_MUL:
		return a * b;
	case F_DIV:
		return a / b;
	case F_SQRT:
		return sqrt(a);
	default:
		return fma(a, b, c);
	}
}

static float op_s(enum fop op, float a, float b, float c)
{
	switch (op) {
	case F_ADD:
		return a + b;
	case F_SUB:
		return a - b;
	case F_MUL:
		return a * b;
	case F_DIV:
		return a / b;
	case F_SQRT:
		return sqrtf(a);
	default:
		return fmaf(a, b, c);
	}
}

static long double op_ld(enum fop op, long double a, long double b,
			 long double c)
{
	switch (op) {
	case F_ADD:
		return a + b;
	case F_SUB:
		return a - b;
	case F_MUL:
		return a * b;
	case F_DIV:
		return a / b;
	case F_SQRT:
		return sqrtl(a);
	default:
		return fmal(a, b, c);
	}
}

/*
 * Round the finite nonzero v to a format of p significand bits and
 * minimum normal exponent emin, ties away from zero.  Returns the rounded
 * value (exact in the target format, or an infinity) and adds its flags.
 */
static long double round_rmm(long double v, int p, int emin, int emax,
			     unsigned *fl)
{
	int e, keep;
	long double m = frexpl(fabsl(v), &e);
	uint64_t mant = (uint64_t)ldexpl(m, 64), q, rem, half;
	int E = e - 1; /* v = 1.f * 2^E */
	long double r;

	keep = p - (E < emin ? emin - E : 0);
	if (keep > 0) {
		q = mant >> (64 - keep);
		rem = mant & ((1ull << (64 - keep)) - 1);
		half = 1ull << (63 - keep);
		if (rem >= half)
			q++;
	} else {
		/* Below half the smallest subnormal rounds to zero; from
		 * half up (keep == 0: the leading bit is the half) to it. */
		q = keep == 0;
		rem = 1;
	}
	if (rem)
		*fl |= FF_NX;
	r = ldexpl((long double)q, E - keep + 1);
	if (rem) {
		/* Tiny after rounding: below 2^emin even with an unbounded
		 * exponent (only E == emin - 1 can carry into 2^emin). */
		bool tiny = E < emin;

		if (E == emin - 1) {
			uint64_t qu = mant >> (64 - p);

			if ((mant & ((1ull << (64 - p)) - 1)) >=
			    1ull << (63 - p))
				qu++;
			tiny = (qu >> p) == 0; /* no carry into 2^emin */
		}
		if (tiny)
			*fl |= FF_UF;
	}
	if (r >= ldexpl(1.0L, emax + 1)) {
		*fl |= FF_OF | FF_NX;
		r = INFINITY;
	}
	return signbit(v) ? -r : r;
}

/* The exact result of op on the operands when the x87 format holds it. */
static bool exact_ld(enum fop op, long double a, long double b, long double c,
		     long double *r)
{
	fenv_t env;
	long double v;
	bool exact;

	fegetenv(&env);
	fesetround(FE_TONEAREST);
	feclearexcept(FE_ALL_EXCEPT);
	PINL(a);
	PINL(b);
	PINL(c);
	v = op_ld(op, a, b, c);
	PINL(v);
	*r = v;
	exact = !fetestexcept(FE_INEXACT);
	fesetenv(&env);
	return exact && isfinite(v) && v != 0;
}

static uint64_t arith_d(enum fop op, uint64_t ua, uint64_t ub, uint64_t uc,
			unsigned rm, bool fast, unsigned *fl)
{
	double a = d_of(ua), b = d_of(ub), c = d_of(uc), r;
	struct fpenv e;
	unsigned f;
	long double x;
	bool nx;

	if (fast && (op == F_FMA ? fast_fma_d(a, b, c, &r, &nx)
				 : fast_d(op, a, b, &r, &nx))) {
		if (nx)
			*fl |= FF_NX;
		return u_of_d(r);
	}
	env_enter(&e, rm);
	PIN(a);
	PIN(b);
	PIN(c);
	r = op_d(op, a, b, c);
	PIN(r);
	f = env_leave(&e);
	if (op == F_FMA && ((isinf(a) && b == 0) || (a == 0 && isinf(b))))
		f |= FF_NV;
	if (isnan(r)) {
		*fl |= f;
		return CNAN_D;
	}
	if (rm == RM_RMM && (f & FF_NX) && exact_ld(op, a, b, c, &x)) {
		unsigned g = f & ~(FF_NX | FF_UF | FF_OF);

		r = (double)round_rmm(x, 53, -1022, 1023, &g);
		f = g;
	}
	*fl |= f;
	return u_of_d(r);
}

static uint64_t arith_s(enum fop op, uint32_t ua, uint32_t ub, uint32_t uc,
			unsigned rm, bool fast, unsigned *fl)
{
	float a = f_of(ua), b = f_of(ub), c = f_of(uc), r;
	struct fpenv e;
	unsigned f;
	long double x;
	double rd;
	bool nx;

	if (fast && op == F_FMA && fast_fma_s(a, b, c, &r, &nx)) {
		if (nx)
			*fl |= FF_NX;
		return BOX | u_of_f(r);
	}
	if (fast && op != F_FMA && fast_d(op, a, b, &rd, &nx) &&
	    fabs(rd) < 0x1p100 && (fabs(rd) >= 0x1p-100 || rd == 0)) {
		r = (float)rd;
		if (nx || (double)r != rd)
			*fl |= FF_NX;
		return BOX | u_of_f(r);
	}
	env_enter(&e, rm);
	PIN(a);
	PIN(b);
	PIN(c);
	r = op_s(op, a, b, c);
	PIN(r);
	f = env_leave(&e);
	if (op == F_FMA && ((isinf(a) && b == 0) || (a == 0 && isinf(b))))
		f |= FF_NV;
	if (isnan(r)) {
		*fl |= f;
		return BOX | CNAN_S;
	}
	if (rm == RM_RMM && (f & FF_NX) && exact_ld(op, a, b, c, &x)) {
		unsigned g = f & ~(FF_NX | FF_UF | FF_OF);

		r = (float)round_rmm(x, 24, -126, 127, &g);
		f = g;
	}
	*fl |= f;
	return BOX | u_of_f(r);
}

/* Round x to an integral value in rm (no flags). */
static double round_int(double x, unsigned rm)
{
	switch (rm) {
	case RM_RTZ:
		return trunc(x);
	case RM_RDN:
		return floor(x);
	case RM_RUP:
		return ceil(x);
	case RM_RMM:
		return round(x);
	default:
		return roundeven(x);
	}
}

/* fcvt to an integer: kind 0 w, 1 wu, 2 l, 3 lu; x is exact (a single
 * widens exactly).  Saturates and raises invalid out of range; NaN gives
 * the largest integer. */
static uint64_t to_int(double x, bool isnan_, unsigned kind, unsigned rm,
		       unsigned *fl)
{
	static const double lo[4] = {-2147483648.0, 0.0, -9223372036854775808.0,
				     0.0};
	static const double hi_excl[4] = {2147483648.0, 4294967296.0,
					  9223372036854775808.0,
					  18446744073709551616.0};
	static const uint64_t min_v[4] = {0xffffffff80000000ull, 0, 1ull << 63,
					  0};
	static const uint64_t max_v[4] = {0x7fffffffull, ~0ull,
					  (1ull << 63) - 1, ~0ull};
	double r;

	if (isnan_) {
		*fl |= FF_NV;
		return max_v[kind];
	}
	r = round_int(x, rm);
	if (r < lo[kind]) {
		*fl |= FF_NV;
		return min_v[kind];
	}
	if (r >= hi_excl[kind]) {
		*fl |= FF_NV;
		return max_v[kind];
	}
	if (r != x)
		*fl |= FF_NX;
	switch (kind) {
	case 0:
		return (uint64_t)(int64_t)(int32_t)r;
	case 1:
		return (uint64_t)(int64_t)(int32_t)(uint32_t)r;
	case 2:
		return (uint64_t)(int64_t)r;
	default:
		return (uint64_t)r;
	}
}

/* fcvt from an integer: kind 0 w, 1 wu, 2 l, 3 lu. */
static uint64_t from_int(uint64_t v, unsigned kind, bool dbl, unsigned rm,
			 unsigned *fl)
{
	struct fpenv e;
	long double exact;
	double d = 0;
	float s = 0;
	unsigned f;

	switch (kind) {
	case 0:
		exact = (long double)(int32_t)v;
		break;
	case 1:
		exact = (long double)(uint32_t)v;
		break;
	case 2:
		exact = (long double)(int64_t)v;
		break;
	default:
		exact = (long double)v;
		break;
	}
	/* An integer the format holds exactly converts with no flag in
	 * every rounding mode: no MXCSR (see the fast path above). */
	if (fabsl(exact) <= (dbl ? 0x1p53L : 0x1p24L)) {
		if (dbl)
			return u_of_d((double)exact);
		return BOX | u_of_f((float)exact);
	}
	env_enter(&e, rm);
	PINR(v);
	if (dbl) {
		switch (kind) {
		case 0:
			d = (double)(int32_t)v;
			break;
		case 1:
			d = (double)(uint32_t)v;
			break;
		case 2:
			d = (double)(int64_t)v;
			break;
		default:
			d = (double)v;
			break;
		}
		PIN(d);
	} else {
		switch (kind) {
		case 0:
			s = (float)(int32_t)v;
			break;
		case 1:
			s = (float)(uint32_t)v;
			break;
		case 2:
			s = (float)(int64_t)v;
			break;
		default:
			s = (float)v;
			break;
		}
		PIN(s);
	}
	f = env_leave(&e);
	if (rm == RM_RMM && (f & FF_NX)) {
		f = 0;
		if (dbl)
			d = (double)round_rmm(exact, 53, -1022, 1023, &f);
		else
			s = (float)round_rmm(exact, 24, -126, 127, &f);
	}
	*fl |= f;
	return dbl ? u_of_d(d) : BOX | u_of_f(s);
}

static uint64_t cvt_s_d(uint64_t u, unsigned rm, bool fast, unsigned *fl)
{
	double a = d_of(u);
	struct fpenv e;
	float r;
	unsigned f;

	/* A double the single format holds exactly, or (RNE on an RNE
	 * host) one in the normal single range: no MXCSR. */
	if (fabs(a) >= 0x1p-100 && fabs(a) < 0x1p100) {
		r = (float)a;
		if ((double)r == a)
			return BOX | u_of_f(r);
		if (fast) {
			*fl |= FF_NX;
			return BOX | u_of_f(r);
		}
	}
	env_enter(&e, rm);
	PIN(a);
	r = (float)a;
	PIN(r);
	f = env_leave(&e);
	if (isnan(r)) {
		*fl |= f;
		return BOX | CNAN_S;
	}
	if (rm == RM_RMM && (f & FF_NX)) {
		f &= ~(FF_NX | FF_UF | FF_OF);
		r = (float)round_rmm(a, 24, -126, 127, &f);
	}
	*fl |= f;
	return BOX | u_of_f(r);
}

static uint64_t cvt_d_s(uint32_t u, unsigned *fl)
{
	if (nan_s(u)) {
		if (snan_s(u))
			*fl |= FF_NV;
		return CNAN_D;
	}
	return u_of_d((double)f_of(u)); /* exact */
}

/* fclass: one bit per class (see the spec's table). */
static uint64_t classify(bool neg, bool inf, bool nan, bool snan, bool zero,
			 bool sub)
{
	if (nan)
		return snan ? 1u << 8 : 1u << 9;
	if (inf)
		return neg ? 1u << 0 : 1u << 7;
	if (zero)
		return neg ? 1u << 3 : 1u << 4;
	if (sub)
		return neg ? 1u << 2 : 1u << 5;
	return neg ? 1u << 1 : 1u << 6;
}

static uint64_t fclass_s(uint32_t u)
{
	uint32_t ex = (u >> 23) & 0xff, fr = u & 0x7fffff;

	return classify(u >> 31, ex == 0xff && !fr, nan_s(u), snan_s(u),
			!ex && !fr, !ex && fr);
}

static uint64_t fclass_d(uint64_t u)
{
	uint64_t ex = (u >> 52) & 0x7ff, fr = u & ((1ull << 52) - 1);

	return classify(u >> 63, ex == 0x7ff && !fr, nan_d(u), snan_d(u),
			!ex && !fr, !ex && fr);
}

/* fmin/fmax (IEEE 754-2019 minimumNumber/maximumNumber): a NaN operand
 * yields the other, two give the canonical NaN, -0 < +0, and a signalling
 * NaN raises invalid. */
static uint64_t minmax_d(uint64_t a, uint64_t b, bool max, unsigned *fl)
{
	double x = d_of(a), y = d_of(b);

	if (snan_d(a) || snan_d(b))
		*fl |= FF_NV;
	if (nan_d(a) && nan_d(b))
		return CNAN_D;
	if (nan_d(a))
		return b;
	if (nan_d(b))
		return a;
	if (x == y) /* equal, or zeros of either sign */
		return max ? (a & b) : (a | b);
	return (x < y) != max ? a : b;
}

static uint64_t minmax_s(uint32_t a, uint32_t b, bool max, unsigned *fl)
{
	float x = f_of(a), y = f_of(b);

	if (snan_s(a) || snan_s(b))
		*fl |= FF_NV;
	if (nan_s(a) && nan_s(b))
		return BOX | CNAN_S;
	if (nan_s(a))
		return BOX | b;
	if (nan_s(b))
		return BOX | a;
	if (x == y)
		return BOX | (max ? (a & b) : (a | b));
	return BOX | ((x < y) != max ? a : b);
}

/* feq (kind 2), flt (1), fle (0): quiet equality, signalling order. */
static uint64_t cmp(double x, double y, bool anynan, bool anysnan,
		    unsigned kind, unsigned *fl)
{
	if (anynan) {
		if (kind != 2 || anysnan)
			*fl |= FF_NV;
		return 0;
	}
	return kind == 2 ? x == y : kind == 1 ? x < y : x <= y;
}

static int fp_illegal(struct vmc__rv_hart *h, const struct rv_insn *i)
{
	h->exc_cause = EXC_ILLEGAL;
	h->exc_tval = i->raw;
	return -1;
}

int rv_fp_exec(struct vmc__rv_hart *h, const struct rv_insn *i)
{
	unsigned op = i->op, rm = (i->raw >> 12) & 7, fl = 0;
	unsigned rd = i->rd, rs3 = i->raw >> 27;
	uint64_t a = h->f[i->rs1], b = h->f[i->rs2], c = h->f[rs3];
	uint64_t *xd = &h->x[rd], *fd = &h->f[rd & 31];
	uint32_t sa = unbox(a), sb = unbox(b), sc = unbox(c);
	const uint64_t sgn = 1ull << 63;
	const uint32_t ssgn = 1u << 31;
	bool wf = true; /* writes an f register */
	bool fast;

	if (!(h->mstatus & MSTATUS_FS))
		return fp_illegal(h, i);
	if (rm == RM_DYN)
		rm = h->frm;
	switch (op) {
	case VMC__RV_OP_FSGNJ_S:
	case VMC__RV_OP_FSGNJN_S:
	case VMC__RV_OP_FSGNJX_S:
	case VMC__RV_OP_FSGNJ_D:
	case VMC__RV_OP_FSGNJN_D:
	case VMC__RV_OP_FSGNJX_D:
	case VMC__RV_OP_FMIN_S:
	case VMC__RV_OP_FMAX_S:
	case VMC__RV_OP_FMIN_D:
	case VMC__RV_OP_FMAX_D:
	case VMC__RV_OP_FEQ_S:
	case VMC__RV_OP_FLT_S:
	case VMC__RV_OP_FLE_S:
	case VMC__RV_OP_FEQ_D:
	case VMC__RV_OP_FLT_D:
	case VMC__RV_OP_FLE_D:
	case VMC__RV_OP_FMV_X_W:
	case VMC__RV_OP_FMV_X_D:
	case VMC__RV_OP_FCLASS_S:
	case VMC__RV_OP_FCLASS_D:
	case VMC__RV_OP_FMV_W_X:
	case VMC__RV_OP_FMV_D_X:
		break; /* funct3 is no rounding mode */
	default:
		if (rm > RM_RMM)
			return fp_illegal(h, i);
	}
	/* RNE on a host MXCSR in RNE: the MXCSR-free fast paths. */
	fast = rm == RM_RNE && h->host_rne;

	switch (op) {
#define ARITH(name, fop)                                                       \
	case VMC__RV_OP_##name##_S:                                            \
		*fd = arith_s(fop, sa, sb, 0, rm, fast, &fl);                  \
		break;                                                         \
	case VMC__RV_OP_##name##_D:                                            \
		*fd = arith_d(fop, a, b, 0, rm, fast, &fl);                    \
		break;
		ARITH(FADD, F_ADD)
		ARITH(FSUB, F_SUB)
		ARITH(FMUL, F_MUL)
		ARITH(FDIV, F_DIV)
		ARITH(FSQRT, F_SQRT)
#undef ARITH
	case VMC__RV_OP_FMADD_S:
		*fd = arith_s(F_FMA, sa, sb, sc, rm, fast, &fl);
		break;
	case VMC__RV_OP_FMSUB_S:
		*fd = arith_s(F_FMA, sa, sb, sc ^ ssgn, rm, fast, &fl);
		break;
	case VMC__RV_OP_FNMSUB_S:
		*fd = arith_s(F_FMA, sa ^ ssgn, sb, sc, rm, fast, &fl);
		break;
	case VMC__RV_OP_FNMADD_S:
		*fd = arith_s(F_FMA, sa ^ ssgn, sb, sc ^ ssgn, rm, fast, &fl);
		break;
	case VMC__RV_OP_FMADD_D:
		*fd = arith_d(F_FMA, a, b, c, rm, fast, &fl);
		break;
	case VMC__RV_OP_FMSUB_D:
		*fd = arith_d(F_FMA, a, b, c ^ sgn, rm, fast, &fl);
		break;
	case VMC__RV_OP_FNMSUB_D:
		*fd = arith_d(F_FMA, a ^ sgn, b, c, rm, fast, &fl);
		break;
	case VMC__RV_OP_FNMADD_D:
		*fd = arith_d(F_FMA, a ^ sgn, b, c ^ sgn, rm, fast, &fl);
		break;
	case VMC__RV_OP_FSGNJ_S:
	case VMC__RV_OP_FSGNJN_S:
	case VMC__RV_OP_FSGNJX_S: {
		uint32_t s = sb & ssgn;

		if (op == VMC__RV_OP_FSGNJN_S)
			s ^= ssgn;
		else if (op == VMC__RV_OP_FSGNJX_S)
			s ^= sa & ssgn;
		*fd = BOX | (sa & ~ssgn) | s;
		break;
	}
	case VMC__RV_OP_FSGNJ_D:
	case VMC__RV_OP_FSGNJN_D:
	case VMC__RV_OP_FSGNJX_D: {
		uint64_t s = b & sgn;

		if (op == VMC__RV_OP_FSGNJN_D)
			s ^= sgn;
		else if (op == VMC__RV_OP_FSGNJX_D)
			s ^= a & sgn;
		*fd = (a & ~sgn) | s;
		break;
	}
	case VMC__RV_OP_FMIN_S:
	case VMC__RV_OP_FMAX_S:
		*fd = minmax_s(sa, sb, op == VMC__RV_OP_FMAX_S, &fl);
		break;
	case VMC__RV_OP_FMIN_D:
	case VMC__RV_OP_FMAX_D:
		*fd = minmax_d(a, b, op == VMC__RV_OP_FMAX_D, &fl);
		break;
	case VMC__RV_OP_FCVT_S_D:
		*fd = cvt_s_d(a, rm, fast, &fl);
		break;
	case VMC__RV_OP_FCVT_D_S:
		*fd = cvt_d_s(sa, &fl);
		break;
	case VMC__RV_OP_FEQ_S:
	case VMC__RV_OP_FLT_S:
	case VMC__RV_OP_FLE_S:
		*xd = cmp(f_of(sa), f_of(sb), nan_s(sa) || nan_s(sb),
			  snan_s(sa) || snan_s(sb), (i->raw >> 12) & 3, &fl);
		wf = false;
		break;
	case VMC__RV_OP_FEQ_D:
	case VMC__RV_OP_FLT_D:
	case VMC__RV_OP_FLE_D:
		*xd = cmp(d_of(a), d_of(b), nan_d(a) || nan_d(b),
			  snan_d(a) || snan_d(b), (i->raw >> 12) & 3, &fl);
		wf = false;
		break;
	case VMC__RV_OP_FCVT_W_S:
	case VMC__RV_OP_FCVT_WU_S:
	case VMC__RV_OP_FCVT_L_S:
	case VMC__RV_OP_FCVT_LU_S:
		*xd = to_int((double)f_of(sa), nan_s(sa),
			     op - VMC__RV_OP_FCVT_W_S, rm, &fl);
		wf = false;
		break;
	case VMC__RV_OP_FCVT_W_D:
	case VMC__RV_OP_FCVT_WU_D:
	case VMC__RV_OP_FCVT_L_D:
	case VMC__RV_OP_FCVT_LU_D:
		*xd = to_int(d_of(a), nan_d(a), op - VMC__RV_OP_FCVT_W_D, rm,
			     &fl);
		wf = false;
		break;
	case VMC__RV_OP_FCVT_S_W:
	case VMC__RV_OP_FCVT_S_WU:
	case VMC__RV_OP_FCVT_S_L:
	case VMC__RV_OP_FCVT_S_LU:
		*fd = from_int(h->x[i->rs1], op - VMC__RV_OP_FCVT_S_W, false,
			       rm, &fl);
		break;
	case VMC__RV_OP_FCVT_D_W:
	case VMC__RV_OP_FCVT_D_WU:
	case VMC__RV_OP_FCVT_D_L:
	case VMC__RV_OP_FCVT_D_LU:
		*fd = from_int(h->x[i->rs1], op - VMC__RV_OP_FCVT_D_W, true, rm,
			       &fl);
		break;
	case VMC__RV_OP_FMV_X_W:
		*xd = (uint64_t)(int64_t)(int32_t)(uint32_t)a;
		wf = false;
		break;
	case VMC__RV_OP_FMV_X_D:
		*xd = a;
		wf = false;
		break;
	case VMC__RV_OP_FCLASS_S:
		*xd = fclass_s(sa);
		wf = false;
		break;
	case VMC__RV_OP_FCLASS_D:
		*xd = fclass_d(a);
		wf = false;
		break;
	case VMC__RV_OP_FMV_W_X:
		*fd = BOX | (uint32_t)h->x[i->rs1];
		break;
	case VMC__RV_OP_FMV_D_X:
		*fd = h->x[i->rs1];
		break;
	default:
		return fp_illegal(h, i);
	}
	h->x[0] = 0;
	if (wf || (fl & ~h->fflags)) {
		h->fflags |= fl;
		h->mstatus |= MSTATUS_FS | MSTATUS_SD;
	}
	return 0;
}
