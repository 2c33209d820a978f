/* SPDX-License-Identifier: MIT */
/*
 * Floating point through the C library: built twice, as a static glibc
 * program for the RISC-V guest (riscv64-linux-gnu-gcc -static, rv64gc,
 * lp64d) and for the host; the linux test suite runs both and compares
 * their output line by line.  It covers double and float arithmetic and
 * libm, the four fenv rounding modes (which glibc's printf honours too),
 * the exception flags, setjmp/longjmp with live floating-point values, and
 * printf("%.17g").  Built with -ffp-contract=off so that neither compiler
 * fuses a multiply and an add the other does not, and -frounding-math so
 * that neither assumes round-to-nearest (GCC otherwise inlines rint()
 * with a trick that is right only in that mode).
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep values opaque to the compiler: computed at run time, in the mode
 * that is current. */
static volatile double vd[] = {1.0, 3.0, 2.0, -1.0, 0.1, 1e308, 1e-310, 0.0};
static volatile float vf[] = {1.0f, 3.0f, 2.0f, 16777217.0f, 0.1f};

static void flags(const char *what)
{
	int f = fetestexcept(FE_ALL_EXCEPT);

	printf("%s flags:%s%s%s%s%s\n", what, f & FE_INVALID ? " invalid" : "",
	       f & FE_DIVBYZERO ? " divbyzero" : "",
	       f & FE_OVERFLOW ? " overflow" : "",
	       f & FE_UNDERFLOW ? " underflow" : "",
	       f & FE_INEXACT ? " inexact" : "");
	feclearexcept(FE_ALL_EXCEPT);
}

static void rounding(void)
{
	static const struct {
		int mode;
		const char *name;
	} modes[] = {{FE_TONEAREST, "nearest"},
		     {FE_UPWARD, "upward"},
		     {FE_DOWNWARD, "downward"},
		     {FE_TOWARDZERO, "towardzero"}};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		volatile double third, neg, s, big, fm;
		volatile float ft, fs;
		volatile int64_t big_int = INT64_C(0x1fffffffffffffff);
		volatile int32_t odd = 16777217;

		if (fesetround(modes[i].mode) != 0) {
			printf("fesetround %s failed\n", modes[i].name);
			continue;
		}
		printf("mode %s get=%s\n", modes[i].name,
		       fegetround() == modes[i].mode ? "same" : "other");
		third = vd[0] / vd[1];
		neg = vd[3] / vd[1];
		s = sqrt(vd[2]);
		big = vd[5] * 10.0;
		fm = fma(vd[4], vd[1], vd[0]);
		ft = vf[0] / vf[1];
		fs = sqrtf(vf[2]);
		printf("  1/3 %.17g -1/3 %.17g sqrt2 %.17g\n", third, neg, s);
		printf("  1e308*10 %.17g fma %.17g\n", big, fm);
		printf("  f1/3 %.9g fsqrt2 %.9g (float)1/3 %.9g\n", (double)ft,
		       (double)fs, (double)(float)third);
		printf("  i64->d %.17g i32->f %.9g\n", (double)big_int,
		       (double)(float)odd);
		printf("  rint(2.5) %.17g rint(-2.5) %.17g lrint(3.5) %ld "
		       "nearbyint(-0.5) %.17g\n",
		       rint(2.5 * vd[0]), rint(-2.5 * vd[0]),
		       lrint(3.5 * vd[0]), nearbyint(-0.5 * vd[0]));
		printf("  printf 0.1 %.20f 2/3 %.3f\n", vd[4], vd[2] / vd[1]);
		feclearexcept(FE_ALL_EXCEPT);
	}
	fesetround(FE_TONEAREST);
}

static void exceptions(void)
{
	volatile double r;
	volatile float rf;
	volatile long l;

	feclearexcept(FE_ALL_EXCEPT);
	flags("none");
	r = vd[0] / vd[7];
	printf("1/0 %.17g\n", r);
	flags("1/0");
	r = vd[7] / vd[7];
	printf("0/0 %s\n", isnan(r) ? "nan" : "number");
	flags("0/0");
	r = vd[5] * vd[5];
	printf("1e308^2 %.17g\n", r);
	flags("overflow");
	r = DBL_MIN * vd[4];
	printf("DBL_MIN*0.1 %.17g\n", r);
	flags("underflow");
	r = vd[0] / vd[1];
	flags("1/3");
	r = vd[2] / vd[0];
	flags("2/1");
	r = sqrt(vd[3]);
	printf("sqrt(-1) %s\n", isnan(r) ? "nan" : "number");
	flags("sqrt(-1)");
	rf = (float)vd[5];
	printf("(float)1e308 %.9g\n", (double)rf);
	flags("(float)1e308");
	l = lrint(vd[5]);
	(void)l;
	flags("lrint(1e308)");
	/* Raise and test flags by hand. */
	feraiseexcept(FE_INEXACT | FE_UNDERFLOW);
	flags("raised inexact+underflow");
	{
		fexcept_t saved;

		r = vd[0] / vd[7];
		fegetexceptflag(&saved, FE_ALL_EXCEPT);
		feclearexcept(FE_ALL_EXCEPT);
		fesetexceptflag(&saved, FE_DIVBYZERO);
		flags("restored divbyzero");
	}
}

static void maths(void)
{
	static const double xs[] = {0.5, 1.0, 2.0, 3.14159, 10.0, 100.5, 1e-5};

	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		volatile double x = xs[i];

		printf("x=%.17g sqrt %.17g exp %.17g log %.17g sin %.17g "
		       "cos %.17g atan %.17g pow %.17g\n",
		       x, sqrt(x), exp(x), log(x), sin(x), cos(x), atan(x),
		       pow(x, 1.5));
		printf("  float sqrt %.9g exp %.9g log %.9g floor %.9g "
		       "ceil %.9g fmod %.17g\n",
		       (double)sqrtf((float)x), (double)expf((float)x),
		       (double)logf((float)x), floor(x * 3.3), ceil(x * 3.3),
		       fmod(x * 7.0, 3.0));
	}
	{
		volatile double a = 0.1, b = 0.2, nz = -0.0;
		volatile float fa = 0.1f, fb = 0.2f;

		printf("0.1+0.2 %.17g 0.1*3 %.17g\n", a + b, a * 3.0);
		printf("f0.1+f0.2 %.9g\n", (double)(fa + fb));
		printf("fmin(-1,nan) %g fmax(nan,2) %g copysign %g\n",
		       fmin(-1.0, nan("")), fmax(nan(""), 2.0),
		       copysign(3.0, nz));
		/* C leaves the sign of fmin/fmax of two zeros open (x86
		 * glibc answers +0 for both); RISC-V's fmin.d/fmax.d order
		 * -0 below +0, so the host prints what the spec says. */
#ifdef __riscv
		printf("fmin(-0,0) %g fmax(-0,0) %g fminf %g\n", fmin(nz, 0.0),
		       fmax(nz, 0.0), (double)fminf((float)nz, 0.0f));
#else
		printf("fmin(-0,0) -0 fmax(-0,0) 0 fminf -0\n");
#endif
		printf("fma(0.1,10,-1) %.17g (0.1*10-1) %.17g\n",
		       fma(a, 10.0, -1.0), a * 10.0 - 1.0);
		printf("DBL_MAX %.17g DBL_MIN %.17g denorm %.17g FLT_MAX "
		       "%.9g\n",
		       DBL_MAX, DBL_MIN, vd[6], (double)FLT_MAX);
		printf("strtod %.17g %.17g\n",
		       strtod("2.718281828459045235", 0), strtod("1e-320", 0));
		printf("(int)-3.7 %d (unsigned)3.9 %u (long)1e18 %ld\n",
		       (int)(-3.7 * vd[0]), (unsigned)(3.9 * vd[0]),
		       (long)(1e18 * vd[0]));
	}
}

static jmp_buf env;
static void jump(volatile double *acc, int depth);
/* Through a pointer, so that the compiler sees no endless recursion. */
static void (*volatile jump_next)(volatile double *, int) = jump;

static void __attribute__((noinline)) jump(volatile double *acc, int depth)
{
	*acc = *acc * 1.5 + depth;
	if (depth < 3)
		jump_next(acc, depth + 1);
	else
		longjmp(env, depth);
}

static void jumps(void)
{
	volatile double acc = 1.0;
	/* Values live in callee-saved FP registers across setjmp. */
	double keep = vd[4] * 7.0, keep2 = vd[1] / 7.0;
	int r = setjmp(env);

	if (r == 0) {
		jump(&acc, 0);
		printf("longjmp did not jump\n");
	}
	printf("setjmp returned %d acc %.17g keep %.17g %.17g\n", r, acc, keep,
	       keep2);
	{
		volatile float f = vf[4] * 3.0f;
		int r2 = setjmp(env);

		if (r2 < 2)
			longjmp(env, r2 + 1);
		printf("second setjmp %d f %.9g\n", r2, (double)f);
	}
}

int main(void)
{
	printf("fptest start\n");
	rounding();
	exceptions();
	maths();
	jumps();
	printf("fptest end\n");
	return 0;
}
