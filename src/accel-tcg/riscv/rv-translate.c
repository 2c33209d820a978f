/* SPDX-License-Identifier: MIT */
/*
 * The translator of the RV64 hart: guest code of one page into a block of
 * pre-decoded slots, each holding the interpreter handler that executes it.
 *
 * Contract.  rv_translate() reads guest code through the host pointer the
 * interpreter got from the fetch TLB and returns a new block that nothing
 * else knows yet; the interpreter inserts it into the cache (rv-block.c).
 * Handlers come from the interpreter's dispatch table (struct rv_dispatch
 * in rv-exec.h), and which forms an op has, whether it writes rd, leaves
 * its result in t_, ends a block and so on come only from rv-ops.h.  What
 * the interpreter may rely on in a block:
 *   - slots run in order; a slot's idx is the number of guest
 *     instructions before it in the block and b->n counts them all, so a
 *     fused slot counts as every instruction it stands for and never
 *     traps;
 *   - a slot's F_ form is chosen only when the previous slot leaves rs1's
 *     value in t_;
 *   - a block that does not end in a terminator ends in an end marker
 *     (op VMC__RV_OP__COUNT, imm the next pc);
 *   - a block with BLK_SINGLE holds one instruction and is never chained;
 *   - link[] starts as &rv_no_link.
 */
#include <stdlib.h>
#include <string.h>

#include "rv-exec.h"

/* Decode for h: an instruction of an extension switched off is illegal. */
static void decode(const struct vmc__rv_hart *h, uint32_t raw,
		   struct vmc__rv_dec *dec)
{
	vmc__rv_decode(raw, dec);
	if (unlikely(h->ext_off) && (vmc__rv_op_ext(dec->op) & h->ext_off))
		dec->op = VMC__RV_OP_ILLEGAL;
}

/* Turn a decoded instruction at pc into its executable form. */
static void prepare(struct rv_insn *in, const struct vmc__rv_dec *dec,
		    uint64_t pc, uint16_t pcoff, const struct rv_dispatch *d)
{
	unsigned op = dec->op;

	in->imm = dec->imm;
	in->raw = dec->raw;
	in->rd = dec->rd;
	in->rs1 = dec->rs1;
	in->rs2 = dec->rs2;
	in->len = dec->len;
	in->pcoff = pcoff;
	in->idx = 0;
	if (op == VMC__RV_OP_ADDI && dec->rs1 == 0)
		op = VMC__RV_OP_LI;
	else if (op == VMC__RV_OP_ADDI && dec->imm == 0)
		op = VMC__RV_OP_MV;
	if (vmc__rv_op_is_pcrel(op))
		in->imm = (int64_t)(pc + (uint64_t)dec->imm);
	if (vmc__rv_op_writes_rd(op) && in->rd == 0)
		in->rd = 32;
	in->op = (uint16_t)op;
	in->h = d->plain[op];
}

/*
 * Fuse instruction c into the one before it, a, when the pair is a common
 * idiom that one handler does in one dispatch: zero-extending a word
 * (slli 32; srli 32), adding it or a shifted register to another one
 * (zext.w or slli, then add), or building a constant (lui or auipc, then
 * addi or addiw).  The pair must write one register that c reads only
 * from a, so skipping c's own write changes nothing.  A fused slot counts
 * as both instructions (the block's n and each slot's idx count guest
 * instructions) and never traps, so no pc inside it is ever reported.
 */
static bool fuse(struct rv_insn *a, const struct rv_insn *c,
		 const struct rv_dispatch *d)
{
	bool fwd = rv_slot_is_fwd(d, a);
	unsigned op, other;

	if (a->rd == 32 || c->rd != a->rd)
		return false;
	if (a->op == VMC__RV_OP_SLLI && a->imm == 32 &&
	    c->op == VMC__RV_OP_SRLI && c->imm == 32 && c->rs1 == a->rd) {
		op = VMC__RV_OP_ZEXT_W;
	} else if ((a->op == VMC__RV_OP_ZEXT_W || a->op == VMC__RV_OP_SLLI) &&
		   c->op == VMC__RV_OP_ADD &&
		   (c->rs1 == a->rd) != (c->rs2 == a->rd)) {
		other = c->rs1 == a->rd ? c->rs2 : c->rs1;
		op = a->op == VMC__RV_OP_SLLI ? VMC__RV_OP_SH_ADD
					      : VMC__RV_OP_ADD_UW;
		a->rs2 = (uint8_t)other;
	} else if ((a->op == VMC__RV_OP_LUI || a->op == VMC__RV_OP_AUIPC) &&
		   (c->op == VMC__RV_OP_ADDI || c->op == VMC__RV_OP_MV ||
		    c->op == VMC__RV_OP_ADDIW) &&
		   c->rs1 == a->rd) {
		uint64_t v = (uint64_t)a->imm +
			     (c->op == VMC__RV_OP_MV ? 0 : (uint64_t)c->imm);

		if (c->op == VMC__RV_OP_ADDIW)
			v = sx32(v);
		a->imm = (int64_t)v;
		op = VMC__RV_OP_LI;
		fwd = false;
	} else {
		return false;
	}
	a->op = (uint16_t)op;
	a->h = fwd ? d->fwd[op] : d->plain[op];
	return true;
}

/*
 * Fuse a loop-closing branch c into the add before it, a, when the branch
 * compares a's result (the loop counter idiom: addi a5, a5, 1; bne a5,
 * a4, loop).  The fused slot keeps a's operands, takes the branch's other
 * register in raw, and its len reaches past the branch, so that the
 * not-taken exit finds the next pc.
 */
static bool fuse_loop(struct rv_insn *a, const struct rv_insn *c,
		      const struct rv_dispatch *d)
{
	unsigned other;

	if (!vmc__rv_op_is_loopadd(a->op) || a->rd == 32 ||
	    c->pcoff + c->len - a->pcoff > 255)
		return false;
	if (c->rs1 == a->rd)
		other = c->rs2;
	else if (c->rs2 == a->rd &&
		 (c->op == VMC__RV_OP_BEQ || c->op == VMC__RV_OP_BNE))
		other = c->rs1;
	else
		return false;
	a->h = d->loopadd[vmc__rv_op_info[a->op].loopadd]
			 [vmc__rv_op_info[c->op].br][rv_slot_is_fwd(d, a)];
	a->raw = other;
	a->len = (uint8_t)(c->pcoff + c->len - a->pcoff);
	a->op = c->op; /* a terminator now; never looked at as an add */
	return true;
}

/*
 * The counter's add often comes a few instructions before the loop's
 * branch.  Move it down to the branch and fuse the two when every slot in
 * between is plain arithmetic (no access, so nothing traps and nothing
 * sees the order) that neither reads nor writes the add's destination and
 * writes none of its sources.  Returns true when the branch was fused.
 */
static bool sink_and_fuse(struct rv_block *b, unsigned n,
			  const struct rv_dispatch *d)
{
	const struct rv_insn *c = &b->insns[n - 1];
	struct rv_insn a;
	unsigned j;

	/* The nearest add writing a register the branch compares. */
	for (j = n - 1; j-- > 0;) {
		const struct rv_insn *k = &b->insns[j];

		if (vmc__rv_op_is_loopadd(k->op) && k->rd != 32 &&
		    (c->rs1 == k->rd ||
		     (c->rs2 == k->rd &&
		      (c->op == VMC__RV_OP_BEQ || c->op == VMC__RV_OP_BNE))))
			break;
	}
	if (j >= n - 1)
		return false;
	if (j == n - 2)
		return fuse_loop(&b->insns[j], c, d);
	a = b->insns[j];
	for (unsigned m = j + 1; m < n - 1; m++) {
		const struct rv_insn *k = &b->insns[m];

		if (!vmc__rv_op_is_plain_arith(k->op))
			return false;
		if (k->rd == a.rd || k->rs1 == a.rd || k->rs2 == a.rd ||
		    k->rd == a.rs1 || k->rd == a.rs2)
			return false;
	}
	memmove(&b->insns[j], &b->insns[j + 1], (n - 2 - j) * sizeof(a));
	/* The slot after the add's old place does not read its rd, so it
	 * keeps its plain form; the add's rs1 now follows slot n - 3. */
	a.h = d->plain[a.op];
	if (vmc__rv_op_sets_t(b->insns[n - 3].op) &&
	    a.rs1 == b->insns[n - 3].rd)
		a.h = d->fwd[a.op];
	b->insns[n - 2] = a;
	return fuse_loop(&b->insns[n - 2], c, d);
}

/*
 * A loop's block is entered again by its closing branch with t_ holding
 * the last value its body wrote (a branch leaves t_ alone; a fused add
 * and branch sets it).  When the first slot reads that register as rs1,
 * re-entry takes the first slot's F_ form (the loop counter then never
 * waits on the register file from one iteration to the next).
 */
static void loop_entry(struct rv_block *b, unsigned n,
		       const struct rv_dispatch *d)
{
	const struct rv_insn *last = &b->insns[n - 1], *first = b->insns;
	unsigned br = (unsigned)vmc__rv_op_info[last->op].br;
	bool fused = last->h != d->loop[br][0] && last->h != d->loop[br][1];
	unsigned rd;

	b->loop_h = first->h;
	/* Only a first slot in its plain form has an F_ form to take. */
	if (n < 2 || rv_slot_is_fwd(d, first) || !vmc__rv_op_has_fwd(first->op))
		return;
	if (fused)
		rd = last->rd;
	else if (vmc__rv_op_sets_t(last[-1].op))
		rd = last[-1].rd;
	else
		return;
	if (first->rs1 == rd && rd != 32)
		b->loop_h = d->fwd[first->op];
}

/*
 * Decode a block at vpc from the page at host (whose physical address is
 * ppage).  Returns NULL when out of memory.
 */
struct rv_block *rv_translate(struct vmc__rv_hart *h, uint64_t vpc,
			      uint64_t ppage, const uint8_t *host,
			      uint32_t flags, const struct rv_dispatch *d)
{
	unsigned max = (flags & BLK_SINGLE) ? 1 : MAX_BLOCK;
	size_t size =
		sizeof(struct rv_block) + (max + 1) * sizeof(struct rv_insn);
	struct rv_block *b = aligned_alloc(64, (size + 63) & ~(size_t)63);
	unsigned off = (unsigned)(vpc & ~RV_PAGE_MASK), n = 0, count = 0;
	struct vmc__rv_dec dec;

	if (!b)
		return NULL;
	b->vpc = vpc;
	b->ppc = ppage | off;
	b->flags = flags;
	b->link[0] = b->link[1] = &rv_no_link;
	b->loop_h = NULL;
	b->jit = NULL;
	b->jit_in = NULL;
	b->cold = 0;
	while (count < max && off + 2 <= RV_PAGE_SIZE) {
		uint16_t lo;
		uint32_t raw;

		memcpy(&lo, host + off, 2);
		raw = lo;
		if ((lo & 3) == 3) {
			if (off + 4 > RV_PAGE_SIZE)
				break; /* straddles: the caller handles it */
			memcpy(&raw, host + off, 4);
		}
		decode(h, raw, &dec);
		prepare(&b->insns[n], &dec, vpc + (off - (vpc & ~RV_PAGE_MASK)),
			(uint16_t)(off - (vpc & ~RV_PAGE_MASK)), d);
		b->insns[n].idx = (uint8_t)count;
		count++;
		off += dec.len;
		if (n > 0 && fuse(&b->insns[n - 1], &b->insns[n], d))
			continue;
		/* Reading the previous instruction's result: take it from
		 * t_ rather than through the register file. */
		if (n > 0 && vmc__rv_op_sets_t(b->insns[n - 1].op) &&
		    b->insns[n].rs1 == b->insns[n - 1].rd &&
		    vmc__rv_op_has_fwd(b->insns[n].op))
			b->insns[n].h = d->fwd[b->insns[n].op];
		if (vmc__rv_op_is_branch(dec.op) && !(flags & BLK_SINGLE)) {
			struct rv_insn *in = &b->insns[n];
			unsigned f = rv_slot_is_fwd(d, in);
			unsigned br = (unsigned)vmc__rv_op_info[in->op].br;

			n++;
			if ((uint64_t)in->imm == vpc) {
				/* Closes a loop: ends the block. */
				in->h = d->loop[br][f];
				if (n > 1 && sink_and_fuse(b, n, d))
					n--;
				loop_entry(b, n, d);
				goto done;
			}
			if (count < max) {
				/* The block goes on with the not-taken path;
				 * taken leaves it (SIDE_BRANCH). */
				in->h = d->side[br][f];
				continue;
			}
			goto done;
		}
		n++;
		if (vmc__rv_op_is_terminator(dec.op))
			goto done;
	}
	/* Falls through to the next pc: an end marker jumps there. */
	b->insns[n] = (struct rv_insn){
		.h = d->end,
		.imm = (int64_t)(vpc + (off - (vpc & ~RV_PAGE_MASK))),
		.pcoff = (uint16_t)(off - (vpc & ~RV_PAGE_MASK)),
		.idx = (uint8_t)count,
		.op = VMC__RV_OP__COUNT,
	};
done:
	b->n = count;
	b->len = off - (unsigned)(vpc & ~RV_PAGE_MASK);
	return b;
}

int rv_translate_straddle(struct vmc__rv_hart *h, uint64_t vpc,
			  union rv_oneoff *o, const struct rv_dispatch *d)
{
	uint16_t lo = 0, hi = 0;
	struct vmc__rv_dec dec;

	if (rv_fetch16(h, vpc, &lo) || rv_fetch16(h, vpc + 2, &hi))
		return -1;
	decode(h, (uint32_t)hi << 16 | lo, &dec);
	o->b.vpc = vpc;
	o->b.ppc = 0;
	o->b.flags = BLK_SINGLE;
	o->b.n = 1;
	o->b.len = 4;
	o->b.link[0] = o->b.link[1] = &rv_no_link;
	o->b.jit = NULL;
	o->b.cold = 0;
	o->b.jit_in = NULL;
	prepare(&o->b.insns[0], &dec, vpc, 0, d);
	o->b.insns[1] = (struct rv_insn){
		.h = d->end,
		.imm = (int64_t)(vpc + 4),
		.pcoff = 4,
		.idx = 1,
		.op = VMC__RV_OP__COUNT,
	};
	return 0;
}
