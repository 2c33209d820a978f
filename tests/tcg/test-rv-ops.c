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
		/* Loads forward their value; stores write no register;
		 * AMOs write rd but through a helper, so do not forward. */
		switch (o->mem) {
		case VMC__RV_MEM_LOAD:
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
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_LOAD, major == 0x03);
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_STORE, major == 0x23);
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
	 * leaves rd 0, so nothing else can be written by accident. */
	if (!vmc__rv_op_writes_rd(op))
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
	load = (q == 0 || q == 2) && (f3 == 2 || f3 == 3);
	store = (q == 0 || q == 2) && (f3 == 6 || f3 == 7);
	branch = q == 1 && (f3 == 6 || f3 == 7);
	jump = q == 1 && f3 == 5;
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_LOAD, load);
	ASSERT_EQ(vmc__rv_op_mem(op) == VMC__RV_MEM_STORE, store);
	ASSERT_EQ(vmc__rv_op_is_branch(op), branch);
	if (jump)
		ASSERT_EQ(op, VMC__RV_OP_JAL);
	if (vmc__rv_op_is_terminator(op))
		ASSERT_TRUE(branch || jump || (q == 2 && f3 == 4));
	if (!vmc__rv_op_writes_rd(op))
		ASSERT_EQ(d.rd, 0);
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
	};
	static const uint32_t majors[] = {0x73, 0x2f, 0x03, 0x23, 0x33,
					  0x3b, 0x13, 0x1b, 0x63, 0x67,
					  0x6f, 0x0f, 0x37, 0x17};
	/* Not scaled: decoding is cheap, and the coverage check below
	 * needs the random words to reach every op. */
	long n = 400000;

	for (size_t k = 0; k < sizeof(system) / sizeof(system[0]); k++)
		check32(system[k]);
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
	RUN(test_decoder_agrees);
	return 0;
}
