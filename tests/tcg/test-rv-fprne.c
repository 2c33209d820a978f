/* SPDX-License-Identifier: MIT */
/*
 * Round-to-nearest-even F and D ops, one at a time on the hart, against
 * the host's own IEEE arithmetic (the reference: plain C under fenv, its
 * flags read with fetestexcept): the result and every flag, NX above all,
 * for add, sub, mul, div, sqrt, the fused multiply-adds, fcvt.s.d and
 * fcvt.d.l, singles and doubles, on random operands that mix every class,
 * exactly representable results, and magnitudes near the limits of the
 * hart's fast path (rv-fpu.c).  NaN results are compared as NaNs (the hart
 * gives the canonical one).  Seed: argv[1].
 */
#include <fenv.h>
#include <math.h>
#include <string.h>

#include "rv-board.h"
#include "vmc-test.h"

#define CODE 0x80000000ull
#define N 200000

enum { ADD, SUB, MUL, DIV, SQRT, FMA, CVT_SD, CVT_DL, NOPS };

static double d_of(uint64_t u)
{
	double d;

	memcpy(&d, &u, 8);
	return d;
}

static uint64_t u_of_d(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

static float f_of(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static uint32_t u_of_f(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

/* A random double: any bits, a short significand (exact results), or a
 * magnitude near 1, 2^+-960, 2^+-1000 or the single limits. */
static double rnd_d(void)
{
	static const int exps[] = {0,	0,   0,	   1,	 -1,  20,   -20,
				   959, 961, -959, -961, 999, 1001, -1021,
				   99,	101, -99,  -101, 126, -126, -149};
	uint64_t r = vmc_test_rand();
	double m;

	switch (r % 4) {
	case 0:
		return d_of(vmc_test_rand());
	case 1: /* a few significant bits */
		m = (double)(int64_t)(vmc_test_rand() % 4096) - 2048;
		return ldexp(m, (int)(vmc_test_rand() % 40) - 20);
	default:
		m = 1.0 + (double)(vmc_test_rand() >> 12) * 0x1p-52;
		if (r & 0x100)
			m = -m;
		return ldexp(
			m, exps[(r >> 16) % (sizeof(exps) / sizeof(exps[0]))] +
				   (int)((r >> 32) % 3) - 1);
	}
}

static unsigned host_flags(void)
{
	int x = fetestexcept(FE_ALL_EXCEPT);

	return ((x & FE_INVALID) ? 16 : 0) | ((x & FE_DIVBYZERO) ? 8 : 0) |
	       ((x & FE_OVERFLOW) ? 4 : 0) | ((x & FE_UNDERFLOW) ? 2 : 0) |
	       ((x & FE_INEXACT) ? 1 : 0);
}

static uint32_t encode(unsigned op, bool dbl)
{
	uint32_t fmt = dbl ? 1 : 0;
	uint32_t r = (3u << 7) | (1u << 15) | (2u << 20) | 0x53; /* rm 0 */

	switch (op) {
	case ADD:
		return r | (fmt << 25);
	case SUB:
		return r | ((4 | fmt) << 25);
	case MUL:
		return r | ((8 | fmt) << 25);
	case DIV:
		return r | ((12 | fmt) << 25);
	case SQRT:
		return (r & ~(31u << 20)) | ((44 | fmt) << 25);
	case FMA: /* fmadd f3, f1, f2, f4 */
		return (3u << 7) | (1u << 15) | (2u << 20) | (fmt << 25) |
		       (4u << 27) | 0x43;
	case CVT_SD: /* fcvt.s.d f3, f1 */
		return (3u << 7) | (1u << 15) | (1u << 20) | (0x20u << 25) |
		       0x53;
	default: /* fcvt.d.l f3, x1 */
		return (3u << 7) | (1u << 15) | (2u << 20) | (0x69u << 25) |
		       0x53;
	}
}

int main(int argc, char **argv)
{
	struct board b;
	unsigned fails = 0;

	vmc_test_seed(argc, argv);
	ASSERT_OK(board_init(&b, 1 << 20));
	ASSERT_EQ_U64(fegetround(), FE_TONEAREST);
	for (long t = 0; t < N; t++) {
		unsigned op = (unsigned)(vmc_test_rand() % NOPS);
		bool dbl = (vmc_test_rand() & 1) || op >= CVT_SD;
		double a = rnd_d(), c = rnd_d(), bb = rnd_d();
		uint32_t insn = encode(op, dbl);
		uint64_t want, got, fl, x1 = vmc_test_rand();
		unsigned wfl;
		volatile double va = a, vb = bb, vc = c, vr;
		volatile float sa = (float)a, sb = (float)bb, sc = (float)c, sr;
		uint64_t n;
		bool nan;

		if (op == SQRT && (vmc_test_rand() & 1)) {
			va = fabs(a);
			sa = fabsf((float)a);
		}
		if (op == CVT_DL)
			x1 >>= vmc_test_rand() % 64;
		feclearexcept(FE_ALL_EXCEPT);
		if (!dbl) {
			switch (op) {
			case ADD:
				sr = sa + sb;
				break;
			case SUB:
				sr = sa - sb;
				break;
			case MUL:
				sr = sa * sb;
				break;
			case DIV:
				sr = sa / sb;
				break;
			case SQRT:
				sr = sqrtf(sa);
				break;
			default:
				sr = fmaf(sa, sb, sc);
				break;
			}
			want = 0xffffffff00000000ull | u_of_f(sr);
			nan = isnan(sr);
		} else {
			switch (op) {
			case ADD:
				vr = va + vb;
				break;
			case SUB:
				vr = va - vb;
				break;
			case MUL:
				vr = va * vb;
				break;
			case DIV:
				vr = va / vb;
				break;
			case SQRT:
				vr = sqrt(va);
				break;
			case FMA:
				vr = fma(va, vb, vc);
				break;
			case CVT_SD:
				sr = (float)va;
				break;
			default:
				vr = (double)(int64_t)x1;
				break;
			}
			if (op == CVT_SD) {
				want = 0xffffffff00000000ull | u_of_f(sr);
				nan = isnan(sr);
			} else {
				want = u_of_d(vr);
				nan = isnan(vr);
			}
		}
		wfl = host_flags();
		/* The hart: f1, f2, f4 (and x1) set, one instruction. */
		memcpy(b.ram, &insn, 4);
		vmc__rv_hart_reset(b.hart, CODE);
		ASSERT_OK(vmc__rv_set_csr(b.hart, 0x300, 1u << 13));
		ASSERT_OK(vmc__rv_set_fpr(
			b.hart, 1,
			dbl ? u_of_d(va) : 0xffffffff00000000ull | u_of_f(sa)));
		ASSERT_OK(vmc__rv_set_fpr(
			b.hart, 2,
			dbl ? u_of_d(vb) : 0xffffffff00000000ull | u_of_f(sb)));
		ASSERT_OK(vmc__rv_set_fpr(
			b.hart, 4,
			dbl ? u_of_d(vc) : 0xffffffff00000000ull | u_of_f(sc)));
		vmc__rv_set_gpr(b.hart, 1, x1);
		n = 0;
		vmc__rv_run(b.hart, 1, &n);
		ASSERT_EQ_U64(n, 1);
		ASSERT_OK(vmc__rv_get_fpr(b.hart, 3, &got));
		ASSERT_OK(vmc__rv_get_csr(b.hart, 0x001, &fl));
		if (nan ? !isnan(dbl && op != CVT_SD ? d_of(got)
						     : f_of((uint32_t)got))
			: got != want) {
			fprintf(stderr,
				"op %u dbl %d a %a b %a c %a: got %llx want "
				"%llx\n",
				op, dbl, va, vb, vc, (unsigned long long)got,
				(unsigned long long)want);
			fails++;
		}
		if (fl != wfl) {
			fprintf(stderr,
				"op %u dbl %d a %a b %a c %a: flags %llx want "
				"%x\n",
				op, dbl, va, vb, vc, (unsigned long long)fl,
				wfl);
			fails++;
		}
		if (fails > 20)
			break;
	}
	board_free(&b);
	ASSERT_EQ_U64(fails, 0);
	printf("%d RNE ops agree with the host\n", N);
	return 0;
}
