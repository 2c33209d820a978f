/* SPDX-License-Identifier: MIT */
/*
 * The body shared by the translator's libFuzzer target and its
 * differential test: run the input as guest code on two harts from the
 * same state, one translating to host code and one interpreting, and
 * compare everything architectural afterwards (pc, privilege, integer and
 * f registers, the trap CSRs, fcsr and mstatus, instret, and RAM).  The F
 * registers, fcsr and mstatus.FS start from values the input picks.  The
 * translating hart runs in budgets of varying sizes taken from the input, so
 * chained blocks must stop exactly where the budget ends.  The first two bytes
 * of the input choose those budgets; the rest is the code, which also
 * holds the trap vectors (traps re-enter it) and the data that the
 * registers point at.
 */
#ifndef VMC_FUZZ_RV_JIT_FUZZ_BODY_H
#define VMC_FUZZ_RV_JIT_FUZZ_BODY_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rv.h"

#define JF_RAM_BASE 0x80000000ull
#define JF_RAM_SIZE 0x4000ull
#define JF_INSNS 3000

struct jf_side {
	uint8_t ram[JF_RAM_SIZE];
	struct vmc__rv_hart *h;
};

static struct jf_side jf_sides[2]; /* 0 translates, 1 interprets */

/* The translating hart's code buffer size (0: the default). */
static size_t jf_code_size;

/* What differed in the last mismatch, for the test's message. */
static char jf_why[128];

static bool jf_ram_lookup(void *opaque, uint64_t pa,
			  struct vmc__rv_bus_map *ret)
{
	struct jf_side *s = opaque;

	*ret = (struct vmc__rv_bus_map){0};
	if (pa < JF_RAM_BASE || pa - JF_RAM_BASE >= JF_RAM_SIZE) {
		/* A device page above RAM, holes elsewhere. */
		if (pa >> 12 == (JF_RAM_BASE + JF_RAM_SIZE) >> 12) {
			ret->start = pa & ~0xfffull;
			ret->end = ret->start + 0x1000;
			return true;
		}
		return false;
	}
	ret->start = JF_RAM_BASE;
	ret->end = JF_RAM_BASE + JF_RAM_SIZE;
	ret->host = s->ram;
	return true;
}

static int jf_io_read(void *opaque, const void *io, uint64_t pa, unsigned size,
		      uint64_t *val)
{
	(void)opaque;
	(void)io;
	*val = pa * 0x9e3779b97f4a7c15ull;
	if (size < 8)
		*val &= (1ull << (8 * size)) - 1;
	return (pa & 0x100) ? -1 : 0;
}

static int jf_io_write(void *opaque, const void *io, uint64_t pa, unsigned size,
		       uint64_t val)
{
	(void)opaque;
	(void)io;
	(void)size;
	(void)val;
	return (pa & 0x100) ? -1 : 0;
}

static int64_t jf_time(void *opaque)
{
	(void)opaque;
	return 12345;
}

/* F and D operands worth trying: doubles, NaN-boxed singles and two
 * singles that are not boxed. */
static const uint64_t jf_fspecial[] = {
	0,
	1ull << 63,
	0x3ff0000000000000ull,
	0xbff8000000000000ull,
	0x7ff0000000000000ull,
	0xfff0000000000000ull,
	0x7ff8000000000000ull,
	0x7ff4000000000001ull,
	0xfff8000000000123ull,
	1,
	0x000fffffffffffffull,
	0x0010000000000000ull,
	0x0020000000000000ull,
	0x001fffffffffffffull,
	0x7fefffffffffffffull,
	0x3fd5555555555555ull,
	0x4340000000000000ull,
	0x43e0000000000000ull,
	0xc1e0000000000000ull,
	0x41dfffffffc00000ull,
	0x3ff0000000000001ull,
	0x5fe0000000000000ull,
	0x2000000000000000ull,
	0x41effffffffffffeull,
	0xc3e0000000000001ull,
	/* singles */
	0xffffffff00000000ull,
	0xffffffff80000000ull,
	0xffffffff3f800000ull,
	0xffffffffbfc00000ull,
	0xffffffff7f800000ull,
	0xffffffffff800000ull,
	0xffffffff7fc00000ull,
	0xffffffff7fa00001ull,
	0xffffffff00000001ull,
	0xffffffff007fffffull,
	0xffffffff00800000ull,
	0xffffffff01000000ull,
	0xffffffff7f7fffffull,
	0xffffffff3eaaaaabull,
	0xffffffff4f000000ull,
	0xffffffffcf000000ull,
	0xffffffff5f000000ull,
	0xffffffff1f800000ull,
	0xffffffff5f800000ull,
	0x000000003f800000ull,
	0x7fffffff3f800000ull,
};
#define JF_NFSPECIAL (sizeof(jf_fspecial) / sizeof(jf_fspecial[0]))

/* The F registers, fcsr and mstatus.FS from the input: special values or
 * ordinary ones (mostly inexact in arithmetic), the rounding mode mostly
 * RNE, the flags and FS (Off, Initial, Clean or Dirty) as they come. */
static void jf_setup_fp(struct vmc__rv_hart *h, const uint8_t *code,
			size_t size)
{
	uint8_t b = size ? code[(size - 1) % size] : 0;
	uint8_t fs = size > 4 ? code[4] : 3;
	unsigned frm = (b & 0x80) ? (b >> 5) & 7 : 0;

	for (unsigned i = 0; i < 32; i++) {
		uint8_t k = size ? code[(i * 7 + 3) % size] : 0;
		uint64_t m = (size ? code[(i * 13 + 5) % size] : 0) *
			     0x9e3779b97f4a7c15ull;
		uint64_t v;

		if (k % 64 < JF_NFSPECIAL)
			v = jf_fspecial[k % 64];
		else if (k & 1)
			v = (uint64_t)(0x3f0 + (k >> 3)) << 52 | (m >> 12);
		else
			v = 0xffffffff00000000ull |
			    (uint64_t)(0x78 + (k >> 4)) << 23 | (m >> 41);
		if (k & 0x40 && v >> 32 != 0xffffffffu)
			v ^= 1ull << 63;
		vmc__rv_set_fpr(h, i, v);
	}
	/* Last: writing the others makes FS Dirty. */
	vmc__rv_set_csr(h, 0x003, frm << 5 | (b & 0x1f));
	vmc__rv_set_csr(h, 0x300, (uint64_t)((fs & 7) < 3 ? fs & 7 : 3) << 13);
}

static int jf_setup(struct jf_side *s, int jit, const uint8_t *code,
		    size_t size)
{
	if (!s->h) {
		struct vmc__rv_config cfg = {
			.bus =
				{
					.ram_lookup = jf_ram_lookup,
					.io_read = jf_io_read,
					.io_write = jf_io_write,
					.time_ns = jf_time,
					.opaque = s,
				},
			.jit = jit,
			.jit_code_size = jf_code_size,
			.jit_hot = 1, /* every block translated at once */
		};

		if (vmc__rv_hart_new(&cfg, &s->h) < 0)
			return -1;
	}
	memset(s->ram, 0, sizeof(s->ram));
	if (size)
		memcpy(s->ram, code, size < JF_RAM_SIZE ? size : JF_RAM_SIZE);
	vmc__rv_hart_flush_blocks(s->h);
	vmc__rv_hart_reset(s->h, JF_RAM_BASE);
	/* Traps re-enter the code half way. */
	vmc__rv_set_csr(s->h, 0x305, JF_RAM_BASE + ((size / 2) & 0xffc));
	jf_setup_fp(s->h, code, size);
	vmc__rv_set_csr(s->h, 0x3b0, ~0ull);
	vmc__rv_set_csr(s->h, 0x3a0, 0x1f);
	for (unsigned i = 1; i < 32; i++) {
		uint64_t v = JF_RAM_BASE + i * 0x100 + (size > i ? code[i] : 0);

		/* Some special values for the ALU and divisions. */
		if (i == 5)
			v = 0;
		else if (i == 6)
			v = ~0ull;
		else if (i == 7)
			v = 1ull << 63;
		else if (i == 28)
			v = 0x80000000ull;
		else if (i == 29)
			v = JF_RAM_BASE + JF_RAM_SIZE + 0x80; /* the device */
		vmc__rv_set_gpr(s->h, i, v);
	}
	return 0;
}

/* Run to JF_INSNS retired, in budgets of 1..64 from sel when it is not 0. */
static uint64_t jf_run(struct jf_side *s, uint16_t sel)
{
	uint64_t n = 0;

	while (n < JF_INSNS) {
		uint64_t budget = JF_INSNS - n, before = n;
		int r;

		if (sel) {
			uint64_t b = 1 + (sel & 63);

			sel = (uint16_t)(sel >> 1 | (sel & 1) << 15);
			if (b < budget)
				budget = b;
		}
		r = vmc__rv_run(s->h, budget, &n);
		if (r != VMC__RV_EXIT_BUDGET || n == before)
			break;
	}
	return n;
}

#define JF_CHECK(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond)) {                                                 \
			snprintf(jf_why, sizeof(jf_why), __VA_ARGS__);         \
			return -1;                                             \
		}                                                              \
	} while (0)

/* 0 when both harts agree, -1 (jf_why says how not) otherwise. */
static int rv_jit_diff_one(const uint8_t *data, size_t size)
{
	static const unsigned csrs[] = {0x300, 0x341, 0x342, 0x343,
					0x141, 0x142, 0x143, 0x003};
	uint16_t sel = 0;
	uint64_t n[2];

	if (size >= 2) {
		sel = (uint16_t)(data[0] | data[1] << 8);
		data += 2;
		size -= 2;
	}
	for (int k = 0; k < 2; k++) {
		if (jf_setup(&jf_sides[k], k ? VMC__RV_JIT_OFF : VMC__RV_JIT_ON,
			     data, size) < 0)
			return 0;
		n[k] = jf_run(&jf_sides[k], k ? 0 : sel);
	}
	struct vmc__rv_hart *a = jf_sides[0].h, *b = jf_sides[1].h;

	JF_CHECK(n[0] == n[1], "retired %llu vs %llu", (unsigned long long)n[0],
		 (unsigned long long)n[1]);
	JF_CHECK(vmc__rv_get_pc(a) == vmc__rv_get_pc(b), "pc %llx vs %llx",
		 (unsigned long long)vmc__rv_get_pc(a),
		 (unsigned long long)vmc__rv_get_pc(b));
	JF_CHECK(vmc__rv_get_priv(a) == vmc__rv_get_priv(b), "priv");
	for (unsigned i = 1; i < 32; i++)
		JF_CHECK(vmc__rv_get_gpr(a, i) == vmc__rv_get_gpr(b, i),
			 "x%u %llx vs %llx", i,
			 (unsigned long long)vmc__rv_get_gpr(a, i),
			 (unsigned long long)vmc__rv_get_gpr(b, i));
	for (unsigned i = 0; i < 32; i++) {
		uint64_t fa = 0, fb = 0;

		vmc__rv_get_fpr(a, i, &fa);
		vmc__rv_get_fpr(b, i, &fb);
		JF_CHECK(fa == fb, "f%u", i);
	}
	for (unsigned i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++) {
		uint64_t ca = 0, cb = 0;

		vmc__rv_get_csr(a, csrs[i], &ca);
		vmc__rv_get_csr(b, csrs[i], &cb);
		JF_CHECK(ca == cb, "csr %#x %llx vs %llx", csrs[i],
			 (unsigned long long)ca, (unsigned long long)cb);
	}
	JF_CHECK(!memcmp(jf_sides[0].ram, jf_sides[1].ram, JF_RAM_SIZE), "RAM");
	return 0;
}

#endif
