/* SPDX-License-Identifier: MIT */
/*
 * The op table of rv-ops.h: every op states coherent facts, and the facts
 * agree with the decoder.  The decoder is checked against the encoding
 * (major opcode, compressed quadrant and funct3) independently of the
 * table, so a wrong row (a load without LOAD, a jump without TERM, a
 * branch that is not PC-relative) fails here rather than in a guest.
 */
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "rv-ops.h"
#include "vmc-test.h"

static unsigned flags(unsigned op)
{
	return vmc__rv_op_flags(op);
}

/* Every row is complete and coherent with itself. */
static void test_rows(void)
{
	bool br_seen[VMC__RV_BR__COUNT] = {false};
	bool add_seen[VMC__RV_LOOPADD__COUNT] = {false};

	for (unsigned op = 0; op < VMC__RV_OP__COUNT; op++) {
		const struct vmc__rv_op_info *o = &vmc__rv_op_info[op];
		unsigned f = o->flags;

		ASSERT_NOT_NULL(vmc__rv_op_names[op]);
		ASSERT_STREQ(vmc__rv_op_name(op), vmc__rv_op_names[op]);
		for (unsigned k = 0; k < op; k++)
			ASSERT_TRUE(strcmp(vmc__rv_op_names[k],
					   vmc__rv_op_names[op]));
		ASSERT_LE(o->mem, VMC__RV_MEM_AMO);

		/* A conditional branch: both forms, ends a block when it
		 * is last, jumps pc-relative, writes nothing. */
		if (f & VMC__RV_OPF_BRANCH) {
			ASSERT_TRUE(f & VMC__RV_OPF_FWD);
			ASSERT_TRUE(f & VMC__RV_OPF_TERM);
			ASSERT_TRUE(f & VMC__RV_OPF_PCREL);
			ASSERT_FALSE(f & (VMC__RV_OPF_RD | VMC__RV_OPF_SETT));
			ASSERT_EQ(o->mem, VMC__RV_MEM_NONE);
			ASSERT_GE(o->br, 0);
			ASSERT_LT(o->br, VMC__RV_BR__COUNT);
			ASSERT_FALSE(br_seen[o->br]);
			br_seen[o->br] = true;
		} else {
			ASSERT_EQ(o->br, -1);
		}
		/* A loop-counter add: plain arithmetic in both forms. */
		if (f & VMC__RV_OPF_LOOPADD) {
			ASSERT_TRUE(f & VMC__RV_OPF_FWD);
			ASSERT_TRUE(vmc__rv_op_is_plain_arith(op));
			ASSERT_GE(o->loopadd, 0);
			ASSERT_LT(o->loopadd, VMC__RV_LOOPADD__COUNT);
			ASSERT_FALSE(add_seen[o->loopadd]);
			add_seen[o->loopadd] = true;
		} else {
			ASSERT_EQ(o->loopadd, -1);
		}
		/* Only a value written to rd can be forwarded, and only a
		 * slot that goes on to the next one forwards it. */
		if (f & VMC__RV_OPF_SETT) {
			ASSERT_TRUE(f & VMC__RV_OPF_RD);
			ASSERT_FALSE(f & VMC__RV_OPF_TERM);
		}
		/* Loads forward their value (flw and fld write an f
		 * register: no rd, nothing to forward); stores write no
		 * register; AMOs write rd but through a helper, so do not
		 * forward. */
		switch (o->mem) {
		case VMC__RV_MEM_LOAD:
			if (op == VMC__RV_OP_FLW || op == VMC__RV_OP_FLD)
				ASSERT_FALSE(f & (VMC__RV_OPF_SETT |
						  VMC__RV_OPF_RD));
			else
				ASSERT_TRUE(f & VMC__RV_OPF_SETT);
			break;
		case VMC__RV_MEM_STORE:
			ASSERT_FALSE(f & VMC__RV_OPF_RD);
			break;
		case VMC__RV_MEM_AMO:
			ASSERT_TRUE(f & VMC__RV_OPF_RD);
			ASSERT_FALSE(f & (VMC__RV_OPF_SETT | VMC__RV_OPF_FWD));
			break;
		default:
			break;
		}
		/* An F_ form takes rs1 from the previous slot inside a block,
		 * so a terminator that is not a branch has none. */
		if ((f & VMC__RV_OPF_TERM) && !(f & VMC__RV_OPF_BRANCH))
			ASSERT_FALSE(f & VMC__RV_OPF_FWD);
		/* The predicates read the same bits. */
		ASSERT_EQ(vmc__rv_op_is_terminator(op),
			  !!(f & VMC__RV_OPF_TERM));
		ASSERT_EQ(vmc__rv_op_writes_rd(op), !!(f & VMC__RV_OPF_RD));
		ASSERT_EQ(vmc__rv_op_sets_t(op), !!(f & VMC__RV_OPF_SETT));
		ASSERT_EQ(vmc__rv_op_has_fwd(op), !!(f & VMC__RV_OPF_FWD));
		ASSERT_EQ(vmc__rv_op_is_branch(op), !!(f & VMC__RV_OPF_BRANCH));
		ASSERT_EQ(vmc__rv_op_is_pcrel(op), !!(f & VMC__RV_OPF_PCREL));
		ASSERT_EQ(vmc__rv_op_is_loopadd(op),
			  !!(f & VMC__RV_OPF_LOOPADD));
		ASSERT_EQ((unsigned)vmc__rv_op_mem(op), o->mem);
	}
	for (unsigned k = 0; k < VMC__RV_BR__COUNT; k++)
		ASSERT_TRUE(br_seen[k]);
	for (unsigned k = 0; k < VMC__RV_LOOPADD__COUNT; k++)
		ASSERT_TRUE(add_seen[k]);
	/* The ILLEGAL op ends its block (its handler raises the trap). */
	ASSERT_TRUE(vmc__rv_op_is_terminator(VMC__RV_OP_ILLEGAL));
}

static uint64_t s = 0x9e3779b97f4a7c15ull;

static uint32_t rnd32(void)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 11);
}

static bool produced[VMC__RV_OP__COUNT];

/* An F or D op (the table's contiguous block of them). */
static bool is_fp(unsigned op)
{
	return op >= VMC__RV_OP_FLW && op <= VMC__RV_OP_FMV_D_X;
}

/* What the encoding of a 32-bit instruction says, by its major opcode. */
static void check32(uint32_t w)
{
	struct vmc__rv_dec d;
	unsigned major, op;

	w |= 3;
	major = w & 0x7f;
	vmc__rv_decode(w, &d);
	op = d.op;
	ASSERT_LT(op, VMC__RV_OP__COUNT);
	ASSERT_EQ(d.len, 4);
	produced[op] = true;
	ASSERT_FALSE(flags(op) & VMC__RV_OPF_XLATE);
	if (op == VMC__RV_OP_ILLEGAL)
		return;
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_LOAD,
		  major == 0x03 || major == 0x07);
	/* cbo.zero (MISC-MEM) stores zeros over a cache block. */
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_STORE,
		  major == 0x23 || major == 0x27 || op == VMC__RV_OP_CBO_ZERO);
	/* LOAD-FP, STORE-FP, the fused multiply-adds and OP-FP make the
	 * F and D ops, and only they do. */
	ASSERT_EQ(is_fp(op), major == 0x07 || major == 0x27 || major == 0x43 ||
				     major == 0x47 || major == 0x4b ||
				     major == 0x4f || major == 0x53);
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_AMO, major == 0x2f);
	ASSERT_EQ(vmc__rv_op_is_branch(op), major == 0x63);
	/* auipc, jal and the branches add their immediate to the pc. */
	ASSERT_EQ(vmc__rv_op_is_pcrel(op),
		  major == 0x17 || major == 0x6f || major == 0x63);
	/* Jumps, every SYSTEM instruction and fence.i end a block; fence
	 * does not. */
	ASSERT_EQ(vmc__rv_op_is_terminator(op),
		  major == 0x6f || major == 0x67 || major == 0x63 ||
			  major == 0x73 ||
			  (major == 0x0f && ((w >> 12) & 7) == 1));
	/* An op that writes no rd has none in its encoding: the decoder
	 * leaves rd 0, so nothing else can be written by accident (F and
	 * D ops may name an f register there). */
	if (!vmc__rv_op_writes_rd(op) && !is_fp(op))
		ASSERT_EQ(d.rd, 0);
	/* Every I/R/U/J-type op outside SYSTEM writes rd. */
	if (major == 0x03 || major == 0x13 || major == 0x1b || major == 0x33 ||
	    major == 0x3b || major == 0x37 || major == 0x17 || major == 0x6f ||
	    major == 0x67 || major == 0x2f)
		ASSERT_TRUE(vmc__rv_op_writes_rd(op));
}

/* What the quadrant and funct3 of a compressed instruction say. */
static void check16(uint16_t c)
{
	struct vmc__rv_dec d;
	unsigned q = c & 3, f3 = c >> 13, op;
	bool load, store, branch, jump;

	vmc__rv_decode(c, &d);
	op = d.op;
	ASSERT_LT(op, VMC__RV_OP__COUNT);
	ASSERT_EQ(d.len, 2);
	produced[op] = true;
	ASSERT_FALSE(flags(op) & VMC__RV_OPF_XLATE);
	if (op == VMC__RV_OP_ILLEGAL)
		return;
	/* c.lw c.ld / c.lwsp c.ldsp; c.sw c.sd / c.swsp c.sdsp; c.beqz
	 * c.bnez; c.j, and c.jr c.jalr c.ebreak (q2 funct3 4, which also
	 * holds c.mv and c.add). */
	load = (q == 0 || q == 2) && (f3 == 1 || f3 == 2 || f3 == 3);
	store = (q == 0 || q == 2) && (f3 == 5 || f3 == 6 || f3 == 7);
	branch = q == 1 && (f3 == 6 || f3 == 7);
	jump = q == 1 && f3 == 5;
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_LOAD, load);
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_STORE, store);
	ASSERT_EQ(vmc__rv_op_is_branch(op), branch);
	if (jump)
		ASSERT_EQ(op, VMC__RV_OP_JAL);
	if (vmc__rv_op_is_terminator(op))
		ASSERT_TRUE(branch || jump || (q == 2 && f3 == 4));
	if (!vmc__rv_op_writes_rd(op) && !is_fp(op))
		ASSERT_EQ(d.rd, 0);
	/* c.fld c.fsd / c.fldsp c.fsdsp (RV64 has no c.flw). */
	ASSERT_EQ(is_fp(op), (q == 0 || q == 2) && (f3 == 1 || f3 == 5));
}

/* The encodings of Zba, Zbb, Zbc, Zbs, Zicond and Zicbom/Zicboz (from
 * binutils, .insn for Zicond), with rd a0, rs1 a1 (cbo: a0), rs2 a2 or the
 * immediate shown, decode to their ops. */
static const struct {
	uint32_t w;
	unsigned op;
	int64_t imm;
} ext_words[] = {
	{0x08c5853b, VMC__RV_OP_ADD_UW, 0},
	{0x20c5a533, VMC__RV_OP_SH_ADD, 1},
	{0x20c5c53b, VMC__RV_OP_SH_ADD_UW, 2},
	{0x0855951b, VMC__RV_OP_SLLI_UW, 5},
	{0x40c5f533, VMC__RV_OP_ANDN, 0},
	{0x40c5e533, VMC__RV_OP_ORN, 0},
	{0x40c5c533, VMC__RV_OP_XNOR, 0},
	{0x60059513, VMC__RV_OP_CLZ, 0},
	{0x60159513, VMC__RV_OP_CTZ, 0},
	{0x60259513, VMC__RV_OP_CPOP, 0},
	{0x6005951b, VMC__RV_OP_CLZW, 0},
	{0x6015951b, VMC__RV_OP_CTZW, 0},
	{0x6025951b, VMC__RV_OP_CPOPW, 0},
	{0x0ac5e533, VMC__RV_OP_MAX, 0},
	{0x0ac5f533, VMC__RV_OP_MAXU, 0},
	{0x0ac5c533, VMC__RV_OP_MIN, 0},
	{0x0ac5d533, VMC__RV_OP_MINU, 0},
	{0x60459513, VMC__RV_OP_SEXT_B, 0},
	{0x60559513, VMC__RV_OP_SEXT_H, 0},
	{0x0805c53b, VMC__RV_OP_ZEXT_H, 0},
	{0x60c59533, VMC__RV_OP_ROL, 0},
	{0x60c5d533, VMC__RV_OP_ROR, 0},
	{0x6055d513, VMC__RV_OP_RORI, 5},
	{0x60c5953b, VMC__RV_OP_ROLW, 0},
	{0x60c5d53b, VMC__RV_OP_RORW, 0},
	{0x6055d51b, VMC__RV_OP_RORIW, 5},
	{0x2875d513, VMC__RV_OP_ORC_B, 0},
	{0x6b85d513, VMC__RV_OP_REV8, 0},
	{0x48c59533, VMC__RV_OP_BCLR, 0},
	{0x48559513, VMC__RV_OP_BCLRI, 5},
	{0x48c5d533, VMC__RV_OP_BEXT, 0},
	{0x4855d513, VMC__RV_OP_BEXTI, 5},
	{0x68c59533, VMC__RV_OP_BINV, 0},
	{0x68559513, VMC__RV_OP_BINVI, 5},
	{0x28c59533, VMC__RV_OP_BSET, 0},
	{0x28559513, VMC__RV_OP_BSETI, 5},
	{0x0ac59533, VMC__RV_OP_CLMUL, 0},
	{0x0ac5b533, VMC__RV_OP_CLMULH, 0},
	{0x0ac5a533, VMC__RV_OP_CLMULR, 0},
	{0x0ec5d533, VMC__RV_OP_CZERO_EQZ, 0},
	{0x0ec5f533, VMC__RV_OP_CZERO_NEZ, 0},
	{0x0015200f, VMC__RV_OP_CBO_CLEAN, 0},
	{0x0025200f, VMC__RV_OP_CBO_FLUSH, 0},
	{0x0005200f, VMC__RV_OP_CBO_INVAL, 0},
	{0x0045200f, VMC__RV_OP_CBO_ZERO, 0},
};

static void test_ext_decode(void)
{
	for (size_t k = 0; k < sizeof(ext_words) / sizeof(ext_words[0]); k++) {
		struct vmc__rv_dec d;
		uint32_t w = ext_words[k].w;
		bool cbo = (w & 0x7f) == 0x0f;

		vmc__rv_decode(w, &d);
		if (d.op != ext_words[k].op)
			FAIL("%08x decodes as %s", w, vmc__rv_op_name(d.op));
		ASSERT_EQ(d.rd, cbo ? 0 : 10);
		ASSERT_EQ(d.rs1, cbo ? 10 : 11);
		ASSERT_EQ(d.imm, ext_words[k].imm);
		ASSERT_NE(vmc__rv_op_ext(d.op), 0);
		check32(w);
		/* The neighbouring funct7/funct12 encodings stay illegal. */
		vmc__rv_decode(w ^ (1u << 29), &d);
		ASSERT_NE(d.op, ext_words[k].op);
	}
	/* The base ISA belongs to no extension. */
	ASSERT_EQ(vmc__rv_op_ext(VMC__RV_OP_ADD), 0);
	ASSERT_EQ(vmc__rv_op_ext(VMC__RV_OP_ORI), 0);
}

/* Every op the decoder makes is reached, and no translator-only op. */
static void test_decoder_agrees(void)
{
	static const uint32_t system[] = {
		0x00000073, /* ecall */
		0x00100073, /* ebreak */
		0x30200073, /* mret */
		0x10200073, /* sret */
		0x10500073, /* wfi */
		0x12000073, /* sfence.vma */
		0x12b50073, /* sfence.vma a0, a1 */
		0x0000100f, /* fence.i */
		0x0ff0000f, /* fence */
		0x1005a52f, /* lr.w a0, (a1) */
		0x1005b52f, /* lr.d a0, (a1) */
		0xe0050553, /* fmv.x.w a0, fa0 */
		0xe2050553, /* fmv.x.d a0, fa0 */
		0xf0050553, /* fmv.w.x fa0, a0 */
		0xf2050553, /* fmv.d.x fa0, a0 */
		0xe0051553, /* fclass.s a0, fa0 */
		0xe2051553, /* fclass.d a0, fa0 */
		0x40150553, /* fcvt.s.d fa0, fa0 */
		0x42050553, /* fcvt.d.s fa0, fa0 */
	};
	static const uint32_t majors[] = {0x73, 0x2f, 0x03, 0x23, 0x33, 0x3b,
					  0x13, 0x1b, 0x63, 0x67, 0x6f, 0x0f,
					  0x37, 0x17, 0x07, 0x27, 0x43, 0x47,
					  0x4b, 0x4f, 0x53, 0x53, 0x53, 0x53};
	/* Not scaled: decoding is cheap, and the coverage check below
	 * needs the random words to reach every op. */
	long n = 400000;

	for (size_t k = 0; k < sizeof(system) / sizeof(system[0]); k++)
		check32(system[k]);
	for (size_t k = 0; k < sizeof(ext_words) / sizeof(ext_words[0]); k++)
		check32(ext_words[k].w);
	for (long t = 0; t < n; t++) {
		uint32_t w = rnd32();

		if (t & 1)
			w = (w & ~0x7fu) |
			    majors[rnd32() %
				   (sizeof(majors) / sizeof(majors[0]))];
		check32(w);
	}
	for (uint32_t c = 0; c < 0x10000; c++)
		if ((c & 3) != 3)
			check16((uint16_t)c);
	for (unsigned op = 0; op < VMC__RV_OP__COUNT; op++) {
		if (flags(op) & VMC__RV_OPF_XLATE)
			ASSERT_FALSE(produced[op]);
		else if (!produced[op])
			FAIL("the decoder never produced %s",
			     vmc__rv_op_name(op));
	}
}

int main(void)
{
	RUN(test_rows);
	RUN(test_ext_decode);
	RUN(test_decoder_agrees);
	return 0;
}
