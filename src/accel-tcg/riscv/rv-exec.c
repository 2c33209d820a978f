/* SPDX-License-Identifier: MIT */
/*
 * The RV64 executor: block cache and the threaded interpreter over
 * pre-decoded blocks.  See rv-internal.h for the design.
 */
#include <stdlib.h>
#include <string.h>

#include "rv-internal.h"

#define MAX_BLOCK 64
#define MAX_TRAP_LOOP 4096
/* Offset of the forwarding handlers in the dispatch table. */
#define FWD (VMC__RV_OP__COUNT + 1)
/* Offset of the handlers for a branch back to its own block's start. */
#define LOOP (2 * FWD)
/* Offset of the handlers for conditional branches inside a block. */
#define SIDE (4 * FWD)
/* Offset of the fused add + loop-closing branch handlers (fuse_loop). */
#define ALB (6 * FWD)
/* Cap of the chained budget, so that no_link (n = UINT32_MAX) never fits. */
#define MAX_LEFT (UINT32_MAX - 1ull)

/* The successor of a block not linked yet. */
static struct rv_block no_link = { .n = UINT32_MAX };

static inline unsigned blk_hash(uint64_t vpc)
{
	return (unsigned)((vpc >> 1) ^ (vpc >> (BLK_HASH_BITS + 1))) &
	       ((1u << BLK_HASH_BITS) - 1);
}

static inline unsigned cpage_hash(uint64_t ppage)
{
	return (unsigned)((ppage >> RV_PAGE_SHIFT) * 2654435761u) >>
	       (32 - CPAGE_HASH_BITS);
}

static inline unsigned jc_hash(uint64_t vpc)
{
	return (unsigned)(vpc >> 1) & ((1u << JC_BITS) - 1);
}

static struct rv_block *block_find(struct vmc__rv_hart *h, uint64_t vpc,
				   uint64_t ppc, uint32_t flags)
{
	struct rv_block *b = h->blk_hash[blk_hash(vpc)];

	for (; b; b = b->hnext)
		if (b->vpc == vpc && b->ppc == ppc && b->flags == flags)
			return b;
	return NULL;
}

static bool block_insert(struct vmc__rv_hart *h, struct rv_block *b)
{
	unsigned hv = blk_hash(b->vpc);
	uint64_t ppage = b->ppc & RV_PAGE_MASK;
	struct rv_cpage **pp = &h->cpage_hash[cpage_hash(ppage)], *cp;

	b->hnext = h->blk_hash[hv];
	h->blk_hash[hv] = b;
	for (cp = *pp; cp && cp->ppage != ppage; cp = cp->next)
		;
	if (!cp) {
		cp = calloc(1, sizeof(*cp));
		if (!cp) {
			/* Without a page record the block cannot be found
			 * for invalidation: drop it from the hash again. */
			h->blk_hash[hv] = b->hnext;
			free(b);
			return false;
		}
		cp->ppage = ppage;
		cp->next = *pp;
		*pp = cp;
	}
	b->pnext = cp->blocks;
	cp->blocks = b;
	h->nblocks++;
	return true;
}

void rv_blocks_invalidate_page(struct vmc__rv_hart *h, uint64_t ppage)
{
	struct rv_cpage **pp = &h->cpage_hash[cpage_hash(ppage)], *cp;
	struct rv_block *b, *next;

	for (; *pp && (*pp)->ppage != ppage; pp = &(*pp)->next)
		;
	cp = *pp;
	if (!cp)
		return;
	*pp = cp->next;
	/* Every chain into these blocks starts in the same page, so freeing
	 * them all leaves no dangling link. */
	for (b = cp->blocks; b; b = next) {
		struct rv_block **hp = &h->blk_hash[blk_hash(b->vpc)];

		next = b->pnext;
		if (h->jc_blk[jc_hash(b->vpc)] == b)
			h->jc_tag[jc_hash(b->vpc)] = 0;
		for (; *hp && *hp != b; hp = &(*hp)->hnext)
			;
		if (*hp)
			*hp = b->hnext;
		free(b);
		h->nblocks--;
	}
	free(cp);
}

void vmc__rv_hart_flush_blocks(struct vmc__rv_hart *h)
{
	for (unsigned i = 0; i < (1u << CPAGE_HASH_BITS); i++) {
		struct rv_cpage *cp = h->cpage_hash[i], *ncp;

		for (; cp; cp = ncp) {
			struct rv_block *b = cp->blocks, *nb;

			for (; b; b = nb) {
				nb = b->pnext;
				free(b);
			}
			ncp = cp->next;
			free(cp);
		}
		h->cpage_hash[i] = NULL;
	}
	memset(h->blk_hash, 0, sizeof(h->blk_hash));
	memset(h->jc_tag, 0, sizeof(h->jc_tag));
	h->nblocks = 0;
}

static void process_inval(struct vmc__rv_hart *h)
{
	struct vmc__rv_shared *sh = h->shared;
	uint64_t gen;

	pthread_mutex_lock(&sh->lock);
	gen = atomic_load(&sh->inval_gen);
	if (gen - h->inval_seen > INVAL_RING) {
		pthread_mutex_unlock(&sh->lock);
		vmc__rv_hart_flush_blocks(h);
	} else {
		uint64_t pages[INVAL_RING];
		unsigned n = 0;

		for (uint64_t g = h->inval_seen; g != gen; g++)
			pages[n++] = sh->inval_ring[g % INVAL_RING];
		pthread_mutex_unlock(&sh->lock);
		for (unsigned k = 0; k < n; k++)
			rv_blocks_invalidate_page(h, pages[k]);
	}
	h->inval_seen = gen;
}

static bool is_terminator(unsigned op)
{
	switch (op) {
	case VMC__RV_OP_JAL: case VMC__RV_OP_JALR:
	case VMC__RV_OP_BEQ: case VMC__RV_OP_BNE: case VMC__RV_OP_BLT:
	case VMC__RV_OP_BGE: case VMC__RV_OP_BLTU: case VMC__RV_OP_BGEU:
	case VMC__RV_OP_ECALL: case VMC__RV_OP_EBREAK:
	case VMC__RV_OP_MRET: case VMC__RV_OP_SRET: case VMC__RV_OP_WFI:
	case VMC__RV_OP_FENCE_I: case VMC__RV_OP_SFENCE_VMA:
	case VMC__RV_OP_CSRRW: case VMC__RV_OP_CSRRS: case VMC__RV_OP_CSRRC:
	case VMC__RV_OP_CSRRWI: case VMC__RV_OP_CSRRSI:
	case VMC__RV_OP_CSRRCI: case VMC__RV_OP_ILLEGAL:
		return true;
	default:
		return false;
	}
}

static bool writes_rd(unsigned op)
{
	switch (op) {
	case VMC__RV_OP_BEQ: case VMC__RV_OP_BNE: case VMC__RV_OP_BLT:
	case VMC__RV_OP_BGE: case VMC__RV_OP_BLTU: case VMC__RV_OP_BGEU:
	case VMC__RV_OP_SB: case VMC__RV_OP_SH: case VMC__RV_OP_SW:
	case VMC__RV_OP_SD: case VMC__RV_OP_FENCE: case VMC__RV_OP_FENCE_I:
	case VMC__RV_OP_ECALL: case VMC__RV_OP_EBREAK: case VMC__RV_OP_MRET:
	case VMC__RV_OP_SRET: case VMC__RV_OP_WFI:
	case VMC__RV_OP_SFENCE_VMA: case VMC__RV_OP_ILLEGAL:
		return false;
	default:
		return true;
	}
}

static inline uint64_t sx32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

/* Ops whose handler leaves rd's value in t_ (see SETRD). */
static bool sets_t(unsigned op)
{
	switch (op) {
	case VMC__RV_OP_ADDI:
	case VMC__RV_OP_MV:
	case VMC__RV_OP_SLTI:
	case VMC__RV_OP_SLTIU:
	case VMC__RV_OP_XORI:
	case VMC__RV_OP_ORI:
	case VMC__RV_OP_ANDI:
	case VMC__RV_OP_SLLI:
	case VMC__RV_OP_SRLI:
	case VMC__RV_OP_SRAI:
	case VMC__RV_OP_ADD:
	case VMC__RV_OP_SUB:
	case VMC__RV_OP_SLL:
	case VMC__RV_OP_SLT:
	case VMC__RV_OP_SLTU:
	case VMC__RV_OP_XOR:
	case VMC__RV_OP_SRL:
	case VMC__RV_OP_SRA:
	case VMC__RV_OP_OR:
	case VMC__RV_OP_AND:
	case VMC__RV_OP_ADDIW:
	case VMC__RV_OP_SLLIW:
	case VMC__RV_OP_SRLIW:
	case VMC__RV_OP_SRAIW:
	case VMC__RV_OP_ADDW:
	case VMC__RV_OP_SUBW:
	case VMC__RV_OP_SLLW:
	case VMC__RV_OP_SRLW:
	case VMC__RV_OP_SRAW:
	case VMC__RV_OP_MUL:
	case VMC__RV_OP_MULH:
	case VMC__RV_OP_MULHSU:
	case VMC__RV_OP_MULHU:
	case VMC__RV_OP_DIV:
	case VMC__RV_OP_DIVU:
	case VMC__RV_OP_REM:
	case VMC__RV_OP_REMU:
	case VMC__RV_OP_MULW:
	case VMC__RV_OP_DIVW:
	case VMC__RV_OP_DIVUW:
	case VMC__RV_OP_REMW:
	case VMC__RV_OP_REMUW:
	case VMC__RV_OP_LB:
	case VMC__RV_OP_LH:
	case VMC__RV_OP_LW:
	case VMC__RV_OP_LD:
	case VMC__RV_OP_LBU:
	case VMC__RV_OP_LHU:
	case VMC__RV_OP_LWU:
	case VMC__RV_OP_LUI:
	case VMC__RV_OP_ZEXT_W:
	case VMC__RV_OP_ADD_UW:
	case VMC__RV_OP_SH_ADD:
	case VMC__RV_OP_LI:
	case VMC__RV_OP_AUIPC:
		return true;
	default:
		return false;
	}
}

/* Turn a decoded instruction at pc into its executable form. */
static void prepare(struct rv_insn *in, const struct vmc__rv_dec *d,
		    uint64_t pc, uint16_t pcoff, const void *const *tbl)
{
	unsigned op = d->op;

	in->imm = d->imm;
	in->raw = d->raw;
	in->rd = d->rd;
	in->rs1 = d->rs1;
	in->rs2 = d->rs2;
	in->len = d->len;
	in->pcoff = pcoff;
	in->idx = 0;
	if (op == VMC__RV_OP_ADDI && d->rs1 == 0)
		op = VMC__RV_OP_LI;
	else if (op == VMC__RV_OP_ADDI && d->imm == 0)
		op = VMC__RV_OP_MV;
	switch (op) {
	case VMC__RV_OP_AUIPC: case VMC__RV_OP_JAL:
	case VMC__RV_OP_BEQ: case VMC__RV_OP_BNE: case VMC__RV_OP_BLT:
	case VMC__RV_OP_BGE: case VMC__RV_OP_BLTU: case VMC__RV_OP_BGEU:
		in->imm = (int64_t)(pc + (uint64_t)d->imm);
		break;
	default:
		break;
	}
	if (writes_rd(op) && in->rd == 0)
		in->rd = 32;
	in->op = (uint16_t)op;
	in->h = tbl[op];
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
		 const void *const *tbl)
{
	bool fwd = a->h != tbl[a->op];
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
		op = a->op == VMC__RV_OP_SLLI ? VMC__RV_OP_SH_ADD :
						VMC__RV_OP_ADD_UW;
		a->rs2 = (uint8_t)other;
	} else if ((a->op == VMC__RV_OP_LUI || a->op == VMC__RV_OP_AUIPC) &&
		   (c->op == VMC__RV_OP_ADDI || c->op == VMC__RV_OP_MV ||
		    c->op == VMC__RV_OP_ADDIW) && c->rs1 == a->rd) {
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
	a->h = fwd ? tbl[FWD + op] : tbl[op];
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
		      const void *const *tbl)
{
	static const uint16_t alu[] = { VMC__RV_OP_ADDI, VMC__RV_OP_ADDIW,
					VMC__RV_OP_ADD, VMC__RV_OP_ADDW };
	unsigned k, other;

	for (k = 0; k < 4 && a->op != alu[k]; k++)
		;
	if (k == 4 || a->rd == 32 || c->pcoff + c->len - a->pcoff > 255)
		return false;
	if (c->rs1 == a->rd)
		other = c->rs2;
	else if (c->rs2 == a->rd && (c->op == VMC__RV_OP_BEQ ||
				     c->op == VMC__RV_OP_BNE))
		other = c->rs1;
	else
		return false;
	a->h = tbl[ALB + (k * 6 + (c->op - VMC__RV_OP_BEQ)) * 2 +
		   (a->h == tbl[a->op] ? 0 : 1)];
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
static bool is_add(unsigned op)
{
	return op == VMC__RV_OP_ADDI || op == VMC__RV_OP_ADDIW ||
	       op == VMC__RV_OP_ADD || op == VMC__RV_OP_ADDW;
}

static bool sink_and_fuse(struct rv_block *b, unsigned n,
			  const void *const *tbl)
{
	const struct rv_insn *c = &b->insns[n - 1];
	struct rv_insn a;
	unsigned j;

	/* The nearest add writing a register the branch compares. */
	for (j = n - 1; j-- > 0;) {
		const struct rv_insn *k = &b->insns[j];

		if (is_add(k->op) && k->rd != 32 &&
		    (c->rs1 == k->rd ||
		     (c->rs2 == k->rd && (c->op == VMC__RV_OP_BEQ ||
					  c->op == VMC__RV_OP_BNE))))
			break;
	}
	if (j >= n - 1)
		return false;
	if (j == n - 2)
		return fuse_loop(&b->insns[j], c, tbl);
	a = b->insns[j];
	for (unsigned m = j + 1; m < n - 1; m++) {
		const struct rv_insn *k = &b->insns[m];

		/* Plain arithmetic only: sets_t() less the loads. */
		if (!sets_t(k->op) ||
		    (k->op >= VMC__RV_OP_LB && k->op <= VMC__RV_OP_LWU))
			return false;
		if (k->rd == a.rd || k->rs1 == a.rd || k->rs2 == a.rd ||
		    k->rd == a.rs1 || k->rd == a.rs2)
			return false;
	}
	memmove(&b->insns[j], &b->insns[j + 1], (n - 2 - j) * sizeof(a));
	/* The slot after the add's old place does not read its rd, so it
	 * keeps its plain form; the add's rs1 now follows slot n - 3. */
	a.h = tbl[a.op];
	if (sets_t(b->insns[n - 3].op) && a.rs1 == b->insns[n - 3].rd)
		a.h = tbl[FWD + a.op];
	b->insns[n - 2] = a;
	return fuse_loop(&b->insns[n - 2], c, tbl);
}

/*
 * A loop's block is entered again by its closing branch with t_ holding
 * the last value its body wrote (a branch leaves t_ alone; a fused add
 * and branch sets it).  When the first slot reads that register as rs1,
 * re-entry takes the first slot's F_ form (the loop counter then never
 * waits on the register file from one iteration to the next).
 */
static void loop_entry(struct rv_block *b, unsigned n,
		       const void *const *tbl)
{
	const struct rv_insn *last = &b->insns[n - 1], *first = b->insns;
	bool fused = last->h != tbl[LOOP + last->op] &&
		     last->h != tbl[LOOP + FWD + last->op];
	unsigned rd;

	b->loop_h = first->h;
	/* Only a first slot in its plain form has an F_ form to take. */
	if (n < 2 || first->h != tbl[first->op] || !tbl[FWD + first->op])
		return;
	if (fused)
		rd = last->rd;
	else if (sets_t(last[-1].op))
		rd = last[-1].rd;
	else
		return;
	if (first->rs1 == rd && rd != 32)
		b->loop_h = tbl[FWD + first->op];
}

/*
 * Decode a block at vpc from the page at host (whose physical address is
 * ppage).  Returns NULL when out of memory.
 */
static struct rv_block *block_build(struct vmc__rv_hart *h, uint64_t vpc,
				    uint64_t ppage, const uint8_t *host,
				    uint32_t flags, const void *const *tbl)
{
	unsigned max = (flags & BLK_SINGLE) ? 1 : MAX_BLOCK;
	struct rv_block *b = malloc(sizeof(*b) +
				    (max + 1) * sizeof(struct rv_insn));
	unsigned off = (unsigned)(vpc & ~RV_PAGE_MASK), n = 0, count = 0;
	struct vmc__rv_dec d;

	if (!b)
		return NULL;
	b->vpc = vpc;
	b->ppc = ppage | off;
	b->flags = flags;
	b->link[0] = b->link[1] = &no_link;
	b->loop_h = NULL;
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
		vmc__rv_decode(raw, &d);
		prepare(&b->insns[n], &d, vpc + (off - (vpc & ~RV_PAGE_MASK)),
			(uint16_t)(off - (vpc & ~RV_PAGE_MASK)), tbl);
		b->insns[n].idx = (uint8_t)count;
		count++;
		off += d.len;
		if (n > 0 && fuse(&b->insns[n - 1], &b->insns[n], tbl))
			continue;
		/* Reading the previous instruction's result: take it from
		 * t_ rather than through the register file. */
		if (n > 0 && sets_t(b->insns[n - 1].op) &&
		    b->insns[n].rs1 == b->insns[n - 1].rd &&
		    tbl[FWD + b->insns[n].op])
			b->insns[n].h = tbl[FWD + b->insns[n].op];
		if (d.op >= VMC__RV_OP_BEQ && d.op <= VMC__RV_OP_BGEU &&
		    !(flags & BLK_SINGLE)) {
			struct rv_insn *in = &b->insns[n];
			unsigned f = in->h == tbl[in->op] ? 0 : FWD;

			n++;
			if ((uint64_t)in->imm == vpc) {
				/* Closes a loop: ends the block. */
				in->h = tbl[LOOP + f + in->op];
				if (n > 1 && sink_and_fuse(b, n, tbl))
					n--;
				loop_entry(b, n, tbl);
				goto done;
			}
			if (count < max) {
				/* The block goes on with the not-taken path;
				 * taken leaves it (SIDE_BRANCH). */
				in->h = tbl[SIDE + f + in->op];
				continue;
			}
			goto done;
		}
		n++;
		if (is_terminator(d.op))
			goto done;
	}
	/* Falls through to the next pc: an end marker jumps there. */
	b->insns[n] = (struct rv_insn){
		.h = tbl[VMC__RV_OP__COUNT],
		.imm = (int64_t)(vpc + (off - (vpc & ~RV_PAGE_MASK))),
		.pcoff = (uint16_t)(off - (vpc & ~RV_PAGE_MASK)),
		.idx = (uint8_t)count,
		.op = VMC__RV_OP__COUNT,
	};
done:
	b->n = count;
	return b;
}


/* The M extension's multiply-high and divide semantics. */
static inline uint64_t op_mulh(uint64_t a, uint64_t b)
{
	return (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64);
}

static inline uint64_t op_mulhsu(uint64_t a, uint64_t b)
{
	return (uint64_t)(((__int128)(int64_t)a *
			   (__int128)(unsigned __int128)b) >> 64);
}

static inline uint64_t op_mulhu(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * (unsigned __int128)b) >> 64);
}

static inline uint64_t op_div(uint64_t ua, uint64_t ub)
{
	int64_t a = (int64_t)ua, d = (int64_t)ub;

	return d == 0 ? ~0ull :
	       (a == INT64_MIN && d == -1) ? (uint64_t)a : (uint64_t)(a / d);
}

static inline uint64_t op_divu(uint64_t a, uint64_t d)
{
	return d == 0 ? ~0ull : a / d;
}

static inline uint64_t op_rem(uint64_t ua, uint64_t ub)
{
	int64_t a = (int64_t)ua, d = (int64_t)ub;

	return d == 0 ? (uint64_t)a :
	       (a == INT64_MIN && d == -1) ? 0 : (uint64_t)(a % d);
}

static inline uint64_t op_remu(uint64_t a, uint64_t d)
{
	return d == 0 ? a : a % d;
}

static inline uint64_t op_divw(uint64_t ua, uint64_t ub)
{
	int32_t a = (int32_t)ua, d = (int32_t)ub;

	return d == 0 ? ~0ull :
	       (a == INT32_MIN && d == -1) ? sx32((uint32_t)a) :
	       sx32((uint32_t)(a / d));
}

static inline uint64_t op_divuw(uint64_t ua, uint64_t ub)
{
	uint32_t a = (uint32_t)ua, d = (uint32_t)ub;

	return d == 0 ? ~0ull : sx32(a / d);
}

static inline uint64_t op_remw(uint64_t ua, uint64_t ub)
{
	int32_t a = (int32_t)ua, d = (int32_t)ub;

	return d == 0 ? sx32((uint32_t)a) :
	       (a == INT32_MIN && d == -1) ? 0 : sx32((uint32_t)(a % d));
}

static inline uint64_t op_remuw(uint64_t ua, uint64_t ub)
{
	uint32_t a = (uint32_t)ua, d = (uint32_t)ub;

	return d == 0 ? sx32(a) : sx32(a % d);
}

/* Breakpoint check at a lookup: 1 = stop here, and *flags gets
 * BLK_SINGLE when a breakpoint shares the page. */
static int bp_check(struct vmc__rv_hart *h, uint64_t pc, uint32_t *flags)
{
	for (unsigned k = 0; k < h->nbps; k++) {
		if (h->bps[k] == pc)
			return 1;
		if ((h->bps[k] & RV_PAGE_MASK) == (pc & RV_PAGE_MASK))
			*flags |= BLK_SINGLE;
	}
	return 0;
}

int vmc__rv_run(struct vmc__rv_hart *h, uint64_t max_insns,
		uint64_t *ret_retired)
{
	/* Handlers by op, the end marker, then by op the handlers that
	 * take rs1 from t_ (NULL where there is none); then the same two
	 * sections for the branches that close a loop (LOOP_BRANCH) and
	 * for those inside a block (SIDE_BRANCH); then the fused add and
	 * loop-closing branch in both forms (fuse_loop). */
	static const void *const tbl[ALB + 48] = {
#define VMC__RV_LBL(n) &&L_##n,
		VMC__RV_OPS(VMC__RV_LBL)
#undef VMC__RV_LBL
		&&L_END,
		[ALB + 0] = &&LA_ADDI_BEQ,
		[ALB + 1] = &&LAF_ADDI_BEQ,
		[ALB + 2] = &&LA_ADDI_BNE,
		[ALB + 3] = &&LAF_ADDI_BNE,
		[ALB + 4] = &&LA_ADDI_BLT,
		[ALB + 5] = &&LAF_ADDI_BLT,
		[ALB + 6] = &&LA_ADDI_BGE,
		[ALB + 7] = &&LAF_ADDI_BGE,
		[ALB + 8] = &&LA_ADDI_BLTU,
		[ALB + 9] = &&LAF_ADDI_BLTU,
		[ALB + 10] = &&LA_ADDI_BGEU,
		[ALB + 11] = &&LAF_ADDI_BGEU,
		[ALB + 12] = &&LA_ADDIW_BEQ,
		[ALB + 13] = &&LAF_ADDIW_BEQ,
		[ALB + 14] = &&LA_ADDIW_BNE,
		[ALB + 15] = &&LAF_ADDIW_BNE,
		[ALB + 16] = &&LA_ADDIW_BLT,
		[ALB + 17] = &&LAF_ADDIW_BLT,
		[ALB + 18] = &&LA_ADDIW_BGE,
		[ALB + 19] = &&LAF_ADDIW_BGE,
		[ALB + 20] = &&LA_ADDIW_BLTU,
		[ALB + 21] = &&LAF_ADDIW_BLTU,
		[ALB + 22] = &&LA_ADDIW_BGEU,
		[ALB + 23] = &&LAF_ADDIW_BGEU,
		[ALB + 24] = &&LA_ADD_BEQ,
		[ALB + 25] = &&LAF_ADD_BEQ,
		[ALB + 26] = &&LA_ADD_BNE,
		[ALB + 27] = &&LAF_ADD_BNE,
		[ALB + 28] = &&LA_ADD_BLT,
		[ALB + 29] = &&LAF_ADD_BLT,
		[ALB + 30] = &&LA_ADD_BGE,
		[ALB + 31] = &&LAF_ADD_BGE,
		[ALB + 32] = &&LA_ADD_BLTU,
		[ALB + 33] = &&LAF_ADD_BLTU,
		[ALB + 34] = &&LA_ADD_BGEU,
		[ALB + 35] = &&LAF_ADD_BGEU,
		[ALB + 36] = &&LA_ADDW_BEQ,
		[ALB + 37] = &&LAF_ADDW_BEQ,
		[ALB + 38] = &&LA_ADDW_BNE,
		[ALB + 39] = &&LAF_ADDW_BNE,
		[ALB + 40] = &&LA_ADDW_BLT,
		[ALB + 41] = &&LAF_ADDW_BLT,
		[ALB + 42] = &&LA_ADDW_BGE,
		[ALB + 43] = &&LAF_ADDW_BGE,
		[ALB + 44] = &&LA_ADDW_BLTU,
		[ALB + 45] = &&LAF_ADDW_BLTU,
		[ALB + 46] = &&LA_ADDW_BGEU,
		[ALB + 47] = &&LAF_ADDW_BGEU,
		[SIDE + VMC__RV_OP_BEQ] = &&LS_BEQ,
		[SIDE + FWD + VMC__RV_OP_BEQ] = &&LSF_BEQ,
		[SIDE + VMC__RV_OP_BNE] = &&LS_BNE,
		[SIDE + FWD + VMC__RV_OP_BNE] = &&LSF_BNE,
		[SIDE + VMC__RV_OP_BLT] = &&LS_BLT,
		[SIDE + FWD + VMC__RV_OP_BLT] = &&LSF_BLT,
		[SIDE + VMC__RV_OP_BGE] = &&LS_BGE,
		[SIDE + FWD + VMC__RV_OP_BGE] = &&LSF_BGE,
		[SIDE + VMC__RV_OP_BLTU] = &&LS_BLTU,
		[SIDE + FWD + VMC__RV_OP_BLTU] = &&LSF_BLTU,
		[SIDE + VMC__RV_OP_BGEU] = &&LS_BGEU,
		[SIDE + FWD + VMC__RV_OP_BGEU] = &&LSF_BGEU,
		[LOOP + VMC__RV_OP_BEQ] = &&LL_BEQ,
		[LOOP + FWD + VMC__RV_OP_BEQ] = &&LF_BEQ,
		[LOOP + VMC__RV_OP_BNE] = &&LL_BNE,
		[LOOP + FWD + VMC__RV_OP_BNE] = &&LF_BNE,
		[LOOP + VMC__RV_OP_BLT] = &&LL_BLT,
		[LOOP + FWD + VMC__RV_OP_BLT] = &&LF_BLT,
		[LOOP + VMC__RV_OP_BGE] = &&LL_BGE,
		[LOOP + FWD + VMC__RV_OP_BGE] = &&LF_BGE,
		[LOOP + VMC__RV_OP_BLTU] = &&LL_BLTU,
		[LOOP + FWD + VMC__RV_OP_BLTU] = &&LF_BLTU,
		[LOOP + VMC__RV_OP_BGEU] = &&LL_BGEU,
		[LOOP + FWD + VMC__RV_OP_BGEU] = &&LF_BGEU,
		[FWD + VMC__RV_OP_ADDI] = &&F_ADDI,
		[FWD + VMC__RV_OP_MV] = &&F_MV,
		[FWD + VMC__RV_OP_SLTI] = &&F_SLTI,
		[FWD + VMC__RV_OP_SLTIU] = &&F_SLTIU,
		[FWD + VMC__RV_OP_XORI] = &&F_XORI,
		[FWD + VMC__RV_OP_ORI] = &&F_ORI,
		[FWD + VMC__RV_OP_ANDI] = &&F_ANDI,
		[FWD + VMC__RV_OP_SLLI] = &&F_SLLI,
		[FWD + VMC__RV_OP_ZEXT_W] = &&F_ZEXT_W,
		[FWD + VMC__RV_OP_ADD_UW] = &&F_ADD_UW,
		[FWD + VMC__RV_OP_SH_ADD] = &&F_SH_ADD,
		[FWD + VMC__RV_OP_SRLI] = &&F_SRLI,
		[FWD + VMC__RV_OP_SRAI] = &&F_SRAI,
		[FWD + VMC__RV_OP_ADD] = &&F_ADD,
		[FWD + VMC__RV_OP_SUB] = &&F_SUB,
		[FWD + VMC__RV_OP_SLL] = &&F_SLL,
		[FWD + VMC__RV_OP_SLT] = &&F_SLT,
		[FWD + VMC__RV_OP_SLTU] = &&F_SLTU,
		[FWD + VMC__RV_OP_XOR] = &&F_XOR,
		[FWD + VMC__RV_OP_SRL] = &&F_SRL,
		[FWD + VMC__RV_OP_SRA] = &&F_SRA,
		[FWD + VMC__RV_OP_OR] = &&F_OR,
		[FWD + VMC__RV_OP_AND] = &&F_AND,
		[FWD + VMC__RV_OP_ADDIW] = &&F_ADDIW,
		[FWD + VMC__RV_OP_SLLIW] = &&F_SLLIW,
		[FWD + VMC__RV_OP_SRLIW] = &&F_SRLIW,
		[FWD + VMC__RV_OP_SRAIW] = &&F_SRAIW,
		[FWD + VMC__RV_OP_ADDW] = &&F_ADDW,
		[FWD + VMC__RV_OP_SUBW] = &&F_SUBW,
		[FWD + VMC__RV_OP_SLLW] = &&F_SLLW,
		[FWD + VMC__RV_OP_SRLW] = &&F_SRLW,
		[FWD + VMC__RV_OP_SRAW] = &&F_SRAW,
		[FWD + VMC__RV_OP_MUL] = &&F_MUL,
		[FWD + VMC__RV_OP_MULH] = &&F_MULH,
		[FWD + VMC__RV_OP_MULHSU] = &&F_MULHSU,
		[FWD + VMC__RV_OP_MULHU] = &&F_MULHU,
		[FWD + VMC__RV_OP_DIV] = &&F_DIV,
		[FWD + VMC__RV_OP_DIVU] = &&F_DIVU,
		[FWD + VMC__RV_OP_REM] = &&F_REM,
		[FWD + VMC__RV_OP_REMU] = &&F_REMU,
		[FWD + VMC__RV_OP_MULW] = &&F_MULW,
		[FWD + VMC__RV_OP_DIVW] = &&F_DIVW,
		[FWD + VMC__RV_OP_DIVUW] = &&F_DIVUW,
		[FWD + VMC__RV_OP_REMW] = &&F_REMW,
		[FWD + VMC__RV_OP_REMUW] = &&F_REMUW,
		[FWD + VMC__RV_OP_LB] = &&F_LB,
		[FWD + VMC__RV_OP_LH] = &&F_LH,
		[FWD + VMC__RV_OP_LW] = &&F_LW,
		[FWD + VMC__RV_OP_LD] = &&F_LD,
		[FWD + VMC__RV_OP_LBU] = &&F_LBU,
		[FWD + VMC__RV_OP_LHU] = &&F_LHU,
		[FWD + VMC__RV_OP_LWU] = &&F_LWU,
		[FWD + VMC__RV_OP_SB] = &&F_SB,
		[FWD + VMC__RV_OP_SH] = &&F_SH,
		[FWD + VMC__RV_OP_SW] = &&F_SW,
		[FWD + VMC__RV_OP_SD] = &&F_SD,
		[FWD + VMC__RV_OP_BEQ] = &&F_BEQ,
		[FWD + VMC__RV_OP_BNE] = &&F_BNE,
		[FWD + VMC__RV_OP_BLT] = &&F_BLT,
		[FWD + VMC__RV_OP_BGE] = &&F_BGE,
		[FWD + VMC__RV_OP_BLTU] = &&F_BLTU,
		[FWD + VMC__RV_OP_BGEU] = &&F_BGEU,
	};
	uint64_t t_ = 0;
	/* Instructions left in the budget when the current block started,
	 * at most MAX_LEFT (h->left_end is the retired count at which it
	 * runs out): h->retired is brought up to date from it
	 * (SYNC_RETIRED) only when something may read it. */
	uint64_t left = 0;
	const uint64_t start = h->retired;
	const uint64_t limit = start + max_insns;
	struct rv_block *b = NULL, *prev = NULL;
	unsigned prev_slot = 0;
	const struct rv_insn *i;
	uint64_t *x = h->x;
	uint64_t next_pc;
	unsigned slot_;
	int reason;
	struct {
		struct rv_block b;
		struct rv_insn in[2];
	} oneoff;

	if (max_insns == 0) {
		reason = VMC__RV_EXIT_BUDGET;
		goto out;
	}
	/* The first block always checks interrupts. */
	rv_kick(h, KICK_IRQ);
	for (;;) {
		uint32_t k = atomic_load_explicit(&h->kick,
						  memory_order_relaxed);
		uint32_t flags = 0;
		const uint8_t *host;
		uint64_t ppage;

		if (unlikely(k)) {
			k = atomic_exchange_explicit(&h->kick, 0,
						     memory_order_acquire);
			if (k & KICK_TLB) {
				rv_tlb_flush(h);
				vmc__rv_hart_flush_blocks(h);
				prev = NULL;
			}
			if (k & KICK_INVAL) {
				process_inval(h);
				prev = NULL;
			}
			if (k & KICK_CODE)
				rv_tlb_slow_code_pages(h);
			if (k & KICK_EXIT) {
				/* Keep the interrupt check for the next run. */
				if (k & KICK_IRQ)
					rv_kick(h, KICK_IRQ);
				reason = VMC__RV_EXIT_REQUEST;
				goto out;
			}
			if (k & KICK_DEBUG) {
				reason = VMC__RV_EXIT_DEBUG;
				goto out;
			}
			if (k & KICK_IRQ) {
				int irq = rv_pending_irq(h);

				if (irq >= 0) {
					rv_take_trap(h, (uint64_t)irq, 0, true);
					prev = NULL;
					if (h->single_step) {
						reason = VMC__RV_EXIT_DEBUG;
						goto out;
					}
				}
			}
		}
		if (h->retired >= limit) {
			reason = VMC__RV_EXIT_BUDGET;
			goto out;
		}
		if (h->single_step)
			flags |= BLK_SINGLE;
		else if (unlikely(h->nbps) && bp_check(h, h->pc, &flags)) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
		if (rv_fetch_page(h, h->pc, &host, &ppage)) {
			i = NULL;
			goto trap;
		}
		if (unlikely(h->itlb[(h->pc >> RV_PAGE_SHIFT) &
				     (TLB_SIZE - 1)].flags & TLBF_PMPCHK))
			flags |= BLK_SINGLE;
again:
		b = block_find(h, h->pc, ppage | (h->pc & ~RV_PAGE_MASK),
			       flags);
		if (!b) {
			/* Mark the page before reading it, so a store that
			 * races with the decoding invalidates the block. */
			rv_codeset_add(h, ppage);
			b = block_build(h, h->pc, ppage, host, flags, tbl);
			if (!b) {
				reason = VMC__RV_EXIT_FATAL;
				goto out;
			}
			if (b->n == 0) {
				/* A 32-bit instruction straddles the page. */
				uint16_t lo = 0, hi = 0;
				struct vmc__rv_dec d;

				free(b);
				b = NULL;
				if (rv_fetch16(h, h->pc, &lo) ||
				    rv_fetch16(h, h->pc + 2, &hi)) {
					i = NULL;
					goto trap;
				}
				vmc__rv_decode((uint32_t)hi << 16 | lo, &d);
				oneoff.b.vpc = h->pc;
				oneoff.b.ppc = 0;
				oneoff.b.flags = BLK_SINGLE;
				oneoff.b.n = 1;
				oneoff.b.link[0] = oneoff.b.link[1] = &no_link;
				prepare(&oneoff.b.insns[0], &d, h->pc, 0, tbl);
				oneoff.b.insns[1] = (struct rv_insn){
					.h = tbl[VMC__RV_OP__COUNT],
					.imm = (int64_t)(h->pc + 4),
					.pcoff = 4,
					.idx = 1,
					.op = VMC__RV_OP__COUNT,
				};
				b = &oneoff.b;
				prev = NULL;
			} else if (!block_insert(h, b)) {
				reason = VMC__RV_EXIT_FATAL;
				goto out;
			}
		}
		/* Near the end of the budget, run one instruction at a time
		 * so the count stops exactly at max_insns. */
		left = limit - h->retired;
		if (left > MAX_LEFT)
			left = MAX_LEFT;
		h->left_end = h->retired + left;
		if (b->n > left) {
			flags |= BLK_SINGLE;
			goto again;
		}
		if (prev && !((prev->vpc ^ b->vpc) & RV_PAGE_MASK) &&
		    !((prev->flags | b->flags) & BLK_SINGLE))
			prev->link[prev_slot] = b;
		prev = NULL;
		if (!b->flags && b != &oneoff.b) {
			h->jc_tag[jc_hash(b->vpc)] = b->vpc | 1;
			h->jc_blk[jc_hash(b->vpc)] = b;
		}

		i = b->insns;
		goto *i->h;

/* h->retired as of the current block's start (see left). */
#define SYNC_RETIRED() (h->retired = h->left_end - left)
#define RD x[i->rd]
#define RS1 x[i->rs1]
#define RS2 x[i->rs2]
/* A handler in two forms: L_name reads rs1 from the register file,
 * F_name from t_ (chosen at decode when rs1 is the previous rd). */
#define S1 s1_
#define BRS2 x[i->raw]
#define DEF_ALU_LOOP(name, alu, cond)         \
	LA_##name : {                         \
		const uint64_t s1_ = RS1;     \
		const uint64_t r_ = (alu);    \
		RD = t_ = r_;                 \
		LOOP_BRANCH(cond);            \
	}                                     \
	LAF_##name : {                        \
		const uint64_t s1_ = t_;      \
		const uint64_t r_ = (alu);    \
		RD = t_ = r_;                 \
		LOOP_BRANCH(cond);            \
	}
#define DEF_SIDE_OP(name, ...)                \
	LS_##name : {                         \
		const uint64_t s1_ = RS1;     \
		__VA_ARGS__;                  \
	}                                     \
	LSF_##name : {                        \
		const uint64_t s1_ = t_;      \
		__VA_ARGS__;                  \
	}
#define DEF_LOOP_OP(name, ...)                \
	LL_##name : {                         \
		const uint64_t s1_ = RS1;     \
		__VA_ARGS__;                  \
	}                                     \
	LF_##name : {                         \
		const uint64_t s1_ = t_;      \
		__VA_ARGS__;                  \
	}
#define DEF_OP(name, ...)                     \
	L_##name : {                          \
		const uint64_t s1_ = RS1;     \
		__VA_ARGS__;                  \
		NEXT;                         \
	}                                     \
	F_##name : {                          \
		const uint64_t s1_ = t_;      \
		__VA_ARGS__;                  \
		NEXT;                         \
	}

/* Write rd and keep the value in t_ for a following instruction that
 * reads it as rs1 (its F_ handler), so that one does not wait on the
 * store to the register file. */
#define SETRD(v) (RD = t_ = (v))
#define NEXT          \
	do {          \
		i++;  \
		goto *i->h; \
	} while (0)
#define PC_OF(in) (b->vpc + (in)->pcoff)

#define LOAD(type, size, conv)                                               \
	do {                                                                 \
		uint64_t a_ = S1 + (uint64_t)i->imm;                        \
		struct rv_tlbe *e_ = &h->dtlb[(a_ >> RV_PAGE_SHIFT) &        \
					   (TLB_SIZE - 1)];                  \
		if (likely(e_->tag[ACC_R] ==                                 \
			   (a_ & (RV_PAGE_MASK | (size - 1))))) {            \
			/* Aligned (the tag checks it): single-copy     \
			 * atomic, as RISC-V requires. */              \
			type v_ = __atomic_load_n(                           \
				(type *)(a_ + e_->addend), __ATOMIC_RELAXED); \
			SETRD(conv(v_));                                       \
		} else {                                                     \
			uint64_t v_;                                         \
			SYNC_RETIRED();                                      \
			if (rv_load_slow(h, a_, size, &v_))                  \
				goto exc;                                    \
			SETRD(conv((type)v_));                               \
			if (unlikely(h->watch_stop))                         \
				goto watch_stop;                             \
		}                                                            \
		NEXT;                                                        \
	} while (0)

#define STORE(type, size)                                                    \
	do {                                                                 \
		uint64_t a_ = S1 + (uint64_t)i->imm;                        \
		struct rv_tlbe *e_ = &h->dtlb[(a_ >> RV_PAGE_SHIFT) &        \
					   (TLB_SIZE - 1)];                  \
		type v_ = (type)RS2;                                         \
		if (likely(e_->tag[ACC_W] ==                                 \
			   (a_ & (RV_PAGE_MASK | (size - 1))))) {            \
			__atomic_store_n((type *)(a_ + e_->addend), v_,      \
					 __ATOMIC_RELAXED);                  \
		} else {                                                     \
			SYNC_RETIRED();                                      \
			if (rv_store_slow(h, a_, size, v_))                  \
				goto exc;                                    \
			if (unlikely(h->watch_stop))                         \
				goto watch_stop;                             \
		}                                                            \
		NEXT;                                                        \
	} while (0)

#define S8(v) ((uint64_t)(int64_t)(int8_t)(v))
#define S16(v) ((uint64_t)(int64_t)(int16_t)(v))
#define S32(v) ((uint64_t)(int64_t)(int32_t)(v))
#define U64(v) ((uint64_t)(v))

/*
 * Leave the block through its direct successor in link[slot].  The chained
 * path does only what a block boundary must: count the block, and stop
 * chaining when a kick is pending or the next block would overrun the
 * budget (an absent link is &no_link, which never fits).  The pc is written only when leaving the chain; a block run
 * single-stepped is never linked, so single-stepping needs no check here.
 */
#define CHAIN(slot)                                                          \
	do {                                                                 \
		struct rv_block *nb_ = b->link[slot];                        \
		left -= b->n;                                                \
		if (likely(nb_->n <= left) &&                                \
		    likely(!atomic_load_explicit(&h->kick,                   \
						 memory_order_relaxed))) {   \
			b = nb_;                                             \
			i = b->insns;                                        \
			goto *i->h;                                          \
		}                                                            \
		slot_ = (slot);                                              \
		goto exit_direct;                                            \
	} while (0)

#define BRANCH(cond)              \
	do {                      \
		if (cond)         \
			CHAIN(0); \
		CHAIN(1);         \
	} while (0)

/*
 * Enter the block cached for pc t in the jump cache, when the fetch TLB
 * still maps t's page (the tag of a fast or slow entry, not I/O nor
 * checked by PMP access by access) to the block's physical pc, and the
 * block fits the budget left (already net of the current block).  Only
 * blocks that are not single-stepped nor near breakpoints are cached.
 */
#define JC_ENTER(t)                                                          \
	do {                                                                 \
		unsigned jk_ = jc_hash(t);                                   \
		const struct rv_tlbe *je_ =                                  \
			&h->itlb[((t) >> RV_PAGE_SHIFT) & (TLB_SIZE - 1)];   \
		if (h->jc_tag[jk_] == ((t) | 1) &&                           \
		    (je_->tag[ACC_X] & ~TLB_SLOW) == ((t)&RV_PAGE_MASK) &&   \
		    !(je_->flags & (TLBF_IO | TLBF_PMPCHK)) &&               \
		    (je_->ppage | ((t) & ~RV_PAGE_MASK)) ==                  \
			    h->jc_blk[jk_]->ppc &&                           \
		    h->jc_blk[jk_]->n <= left &&                             \
		    !atomic_load_explicit(&h->kick, memory_order_relaxed)) { \
			b = h->jc_blk[jk_];                                  \
			i = b->insns;                                        \
			goto *i->h;                                          \
		}                                                            \
	} while (0)

/* A conditional branch inside a block: not taken goes on, taken leaves
 * the block having retired up to here, through the jump cache or the
 * lookup (slot 2: no link is recorded for it). */
#define SIDE_BRANCH(cond)                                                \
	do {                                                             \
		if (!(cond))                                             \
			NEXT;                                            \
		left -= (uint64_t)i->idx + 1;                            \
		JC_ENTER((uint64_t)i->imm);                              \
		slot_ = 2;                                               \
		goto exit_direct;                                        \
	} while (0)

/* The branch back to the start of its own block (a loop): when taken,
 * the block runs again without going through link[0]. */
#define LOOP_BRANCH(cond)                                                \
	do {                                                             \
		if (cond) {                                              \
			left -= b->n;                                    \
			if (likely(b->n <= left) &&                      \
			    likely(!atomic_load_explicit(                \
				    &h->kick, memory_order_relaxed))) {  \
				i = b->insns;                            \
				goto *b->loop_h;                         \
			}                                                \
			slot_ = 3;                                       \
			goto exit_direct;                                \
		}                                                        \
		CHAIN(1);                                                \
	} while (0)

L_LUI:
L_LI:
L_AUIPC:
		SETRD((uint64_t)i->imm);
		NEXT;
	/* Operations that read rs1 come in both forms. */
	DEF_OP(ADDI, SETRD(S1 + (uint64_t)i->imm))
	DEF_OP(MV, SETRD(S1))
	DEF_OP(SLTI, SETRD((int64_t)S1 < i->imm))
	DEF_OP(SLTIU, SETRD(S1 < (uint64_t)i->imm))
	DEF_OP(XORI, SETRD(S1 ^ (uint64_t)i->imm))
	DEF_OP(ORI, SETRD(S1 | (uint64_t)i->imm))
	DEF_OP(ANDI, SETRD(S1 & (uint64_t)i->imm))
	DEF_OP(SLLI, SETRD(S1 << i->imm))
	DEF_OP(ZEXT_W, SETRD((uint32_t)S1))
	DEF_OP(ADD_UW, SETRD((uint32_t)S1 + RS2))
	DEF_OP(SH_ADD, SETRD((S1 << i->imm) + RS2))
	DEF_OP(SRLI, SETRD(S1 >> i->imm))
	DEF_OP(SRAI, SETRD((uint64_t)((int64_t)S1 >> i->imm)))
	DEF_OP(ADD, SETRD(S1 + RS2))
	DEF_OP(SUB, SETRD(S1 - RS2))
	DEF_OP(SLL, SETRD(S1 << (RS2 & 63)))
	DEF_OP(SLT, SETRD((int64_t)S1 < (int64_t)RS2))
	DEF_OP(SLTU, SETRD(S1 < RS2))
	DEF_OP(XOR, SETRD(S1 ^ RS2))
	DEF_OP(SRL, SETRD(S1 >> (RS2 & 63)))
	DEF_OP(SRA, SETRD((uint64_t)((int64_t)S1 >> (RS2 & 63))))
	DEF_OP(OR, SETRD(S1 | RS2))
	DEF_OP(AND, SETRD(S1 & RS2))
	DEF_OP(ADDIW, SETRD(S32(S1 + (uint64_t)i->imm)))
	DEF_OP(SLLIW, SETRD(S32((uint32_t)S1 << i->imm)))
	DEF_OP(SRLIW, SETRD(S32((uint32_t)S1 >> i->imm)))
	DEF_OP(SRAIW, SETRD(S32((int32_t)S1 >> i->imm)))
	DEF_OP(ADDW, SETRD(S32(S1 + RS2)))
	DEF_OP(SUBW, SETRD(S32(S1 - RS2)))
	DEF_OP(SLLW, SETRD(S32((uint32_t)S1 << (RS2 & 31))))
	DEF_OP(SRLW, SETRD(S32((uint32_t)S1 >> (RS2 & 31))))
	DEF_OP(SRAW, SETRD(S32((int32_t)S1 >> (RS2 & 31))))
	DEF_OP(MUL, SETRD(S1 * RS2))
	DEF_OP(MULH, SETRD(op_mulh(S1, RS2)))
	DEF_OP(MULHSU, SETRD(op_mulhsu(S1, RS2)))
	DEF_OP(MULHU, SETRD(op_mulhu(S1, RS2)))
	DEF_OP(DIV, SETRD(op_div(S1, RS2)))
	DEF_OP(DIVU, SETRD(op_divu(S1, RS2)))
	DEF_OP(REM, SETRD(op_rem(S1, RS2)))
	DEF_OP(REMU, SETRD(op_remu(S1, RS2)))
	DEF_OP(MULW, SETRD(S32(S1 * RS2)))
	DEF_OP(DIVW, SETRD(op_divw(S1, RS2)))
	DEF_OP(DIVUW, SETRD(op_divuw(S1, RS2)))
	DEF_OP(REMW, SETRD(op_remw(S1, RS2)))
	DEF_OP(REMUW, SETRD(op_remuw(S1, RS2)))
	DEF_OP(LB, LOAD(int8_t, 1, S8))
	DEF_OP(LH, LOAD(int16_t, 2, S16))
	DEF_OP(LW, LOAD(int32_t, 4, S32))
	DEF_OP(LD, LOAD(uint64_t, 8, U64))
	DEF_OP(LBU, LOAD(uint8_t, 1, U64))
	DEF_OP(LHU, LOAD(uint16_t, 2, U64))
	DEF_OP(LWU, LOAD(uint32_t, 4, U64))
	DEF_OP(SB, STORE(uint8_t, 1))
	DEF_OP(SH, STORE(uint16_t, 2))
	DEF_OP(SW, STORE(uint32_t, 4))
	DEF_OP(SD, STORE(uint64_t, 8))
	DEF_OP(BEQ, BRANCH(S1 == RS2))
	DEF_OP(BNE, BRANCH(S1 != RS2))
	DEF_OP(BLT, BRANCH((int64_t)S1 < (int64_t)RS2))
	DEF_OP(BGE, BRANCH((int64_t)S1 >= (int64_t)RS2))
	DEF_OP(BLTU, BRANCH(S1 < RS2))
	DEF_OP(BGEU, BRANCH(S1 >= RS2))
	DEF_LOOP_OP(BEQ, LOOP_BRANCH(S1 == RS2))
	DEF_LOOP_OP(BNE, LOOP_BRANCH(S1 != RS2))
	DEF_LOOP_OP(BLT, LOOP_BRANCH((int64_t)S1 < (int64_t)RS2))
	DEF_LOOP_OP(BGE, LOOP_BRANCH((int64_t)S1 >= (int64_t)RS2))
	DEF_LOOP_OP(BLTU, LOOP_BRANCH(S1 < RS2))
	DEF_LOOP_OP(BGEU, LOOP_BRANCH(S1 >= RS2))
	DEF_ALU_LOOP(ADDI_BEQ, S1 + (uint64_t)i->imm, r_ == BRS2)
	DEF_ALU_LOOP(ADDI_BNE, S1 + (uint64_t)i->imm, r_ != BRS2)
	DEF_ALU_LOOP(ADDI_BLT, S1 + (uint64_t)i->imm, (int64_t)r_ < (int64_t)BRS2)
	DEF_ALU_LOOP(ADDI_BGE, S1 + (uint64_t)i->imm, (int64_t)r_ >= (int64_t)BRS2)
	DEF_ALU_LOOP(ADDI_BLTU, S1 + (uint64_t)i->imm, r_ < BRS2)
	DEF_ALU_LOOP(ADDI_BGEU, S1 + (uint64_t)i->imm, r_ >= BRS2)
	DEF_ALU_LOOP(ADDIW_BEQ, S32(S1 + (uint64_t)i->imm), r_ == BRS2)
	DEF_ALU_LOOP(ADDIW_BNE, S32(S1 + (uint64_t)i->imm), r_ != BRS2)
	DEF_ALU_LOOP(ADDIW_BLT, S32(S1 + (uint64_t)i->imm), (int64_t)r_ < (int64_t)BRS2)
	DEF_ALU_LOOP(ADDIW_BGE, S32(S1 + (uint64_t)i->imm), (int64_t)r_ >= (int64_t)BRS2)
	DEF_ALU_LOOP(ADDIW_BLTU, S32(S1 + (uint64_t)i->imm), r_ < BRS2)
	DEF_ALU_LOOP(ADDIW_BGEU, S32(S1 + (uint64_t)i->imm), r_ >= BRS2)
	DEF_ALU_LOOP(ADD_BEQ, S1 + RS2, r_ == BRS2)
	DEF_ALU_LOOP(ADD_BNE, S1 + RS2, r_ != BRS2)
	DEF_ALU_LOOP(ADD_BLT, S1 + RS2, (int64_t)r_ < (int64_t)BRS2)
	DEF_ALU_LOOP(ADD_BGE, S1 + RS2, (int64_t)r_ >= (int64_t)BRS2)
	DEF_ALU_LOOP(ADD_BLTU, S1 + RS2, r_ < BRS2)
	DEF_ALU_LOOP(ADD_BGEU, S1 + RS2, r_ >= BRS2)
	DEF_ALU_LOOP(ADDW_BEQ, S32(S1 + RS2), r_ == BRS2)
	DEF_ALU_LOOP(ADDW_BNE, S32(S1 + RS2), r_ != BRS2)
	DEF_ALU_LOOP(ADDW_BLT, S32(S1 + RS2), (int64_t)r_ < (int64_t)BRS2)
	DEF_ALU_LOOP(ADDW_BGE, S32(S1 + RS2), (int64_t)r_ >= (int64_t)BRS2)
	DEF_ALU_LOOP(ADDW_BLTU, S32(S1 + RS2), r_ < BRS2)
	DEF_ALU_LOOP(ADDW_BGEU, S32(S1 + RS2), r_ >= BRS2)
	DEF_SIDE_OP(BEQ, SIDE_BRANCH(S1 == RS2))
	DEF_SIDE_OP(BNE, SIDE_BRANCH(S1 != RS2))
	DEF_SIDE_OP(BLT, SIDE_BRANCH((int64_t)S1 < (int64_t)RS2))
	DEF_SIDE_OP(BGE, SIDE_BRANCH((int64_t)S1 >= (int64_t)RS2))
	DEF_SIDE_OP(BLTU, SIDE_BRANCH(S1 < RS2))
	DEF_SIDE_OP(BGEU, SIDE_BRANCH(S1 >= RS2))
L_LR_W: L_SC_W: L_AMOSWAP_W: L_AMOADD_W: L_AMOXOR_W: L_AMOAND_W:
L_AMOOR_W: L_AMOMIN_W: L_AMOMAX_W: L_AMOMINU_W: L_AMOMAXU_W:
L_LR_D: L_SC_D: L_AMOSWAP_D: L_AMOADD_D: L_AMOXOR_D: L_AMOAND_D:
L_AMOOR_D: L_AMOMIN_D: L_AMOMAX_D: L_AMOMINU_D: L_AMOMAXU_D: {
		uint64_t old;

		SYNC_RETIRED();
		if (rv_amo(h, i->op, RS1, RS2, &old))
			goto exc;
		RD = old;
		if (unlikely(h->watch_stop))
			goto watch_stop;
		NEXT;
	}
L_FENCE:
		NEXT;
L_JAL:
		RD = PC_OF(i) + i->len;
		CHAIN(0);
L_JALR: {
		uint64_t t = (RS1 + (uint64_t)i->imm) & ~1ull;

		RD = PC_OF(i) + i->len;
		if (!(b->flags & BLK_SINGLE)) {
			left -= b->n;
			JC_ENTER(t);
			left += b->n;
		}
		next_pc = t;
		goto exit_indirect;
	}
L_END:
		CHAIN(1);
L_ECALL:
		h->exc_cause = EXC_ECALL_U + h->priv;
		h->exc_tval = 0;
		goto exc;
L_EBREAK:
		h->exc_cause = EXC_BREAKPOINT;
		h->exc_tval = PC_OF(i);
		goto exc;
L_ILLEGAL:
		h->exc_cause = EXC_ILLEGAL;
		h->exc_tval = i->raw;
		goto exc;
L_MRET:
		SYNC_RETIRED();
		h->pc = PC_OF(i);
		if (rv_mret(h))
			goto exc;
		h->retired += (uint64_t)i->idx + 1;
		goto exit_done;
L_SRET:
		SYNC_RETIRED();
		h->pc = PC_OF(i);
		if (rv_sret(h))
			goto exc;
		h->retired += (uint64_t)i->idx + 1;
		goto exit_done;
L_CSRRW: L_CSRRS: L_CSRRC: L_CSRRWI: L_CSRRSI: L_CSRRCI: {
		uint64_t idx = i->idx;
		int r;

		SYNC_RETIRED();
		h->retired += idx;
		r = rv_csr_op(h, i);
		h->retired -= idx;
		if (r)
			goto exc;
		next_pc = PC_OF(i) + i->len;
		goto exit_indirect;
	}
L_FENCE_I:
		next_pc = PC_OF(i) + i->len;
		goto exit_indirect;
L_SFENCE_VMA:
		SYNC_RETIRED();
		if (rv_sfence(h, RS1, i->rs1 == 0)) {
			h->exc_tval = i->raw;
			goto exc;
		}
		next_pc = PC_OF(i) + i->len;
		goto exit_indirect;
L_WFI:
		if (h->priv == VMC__RV_PRIV_U ||
		    (h->priv < VMC__RV_PRIV_M && (h->mstatus & MSTATUS_TW))) {
			h->exc_cause = EXC_ILLEGAL;
			h->exc_tval = i->raw;
			goto exc;
		}
		SYNC_RETIRED();
		h->retired += (uint64_t)i->idx + 1;
		h->pc = PC_OF(i) + i->len;
		if (!vmc__rv_has_work(h)) {
			reason = VMC__RV_EXIT_HALTED;
			goto out;
		}
		if (h->single_step) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
		continue;

watch_stop:
		/* A watchpoint fired: stop right after the access. */
		h->watch_stop = false;
		atomic_fetch_and_explicit(&h->kick, ~(uint32_t)KICK_DEBUG,
					  memory_order_relaxed);
		/* Counted like an exception, plus the access that completed. */
		SYNC_RETIRED();
		h->retired += i->idx + 1;
		h->pc = PC_OF(i) + i->len;
		reason = VMC__RV_EXIT_DEBUG;
		goto out;

exit_direct:
		/* The chain stops here: i is the block's last instruction
		 * (or its end marker) and the block is already counted in
		 * left. */
		SYNC_RETIRED();
		if (slot_ == 3)
			h->pc = b->vpc; /* a loop's branch back (LOOP_BRANCH) */
		else if (slot_ != 1 || i->op == VMC__RV_OP__COUNT)
			h->pc = (uint64_t)i->imm;
		else
			h->pc = PC_OF(i) + i->len;
		if (unlikely(h->single_step)) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
		if (!(b->flags & BLK_SINGLE) && slot_ < 2) {
			prev = b;
			prev_slot = slot_;
		}
		continue;
exit_indirect:
		SYNC_RETIRED();
		h->retired += b->n;
		h->pc = next_pc;
exit_done:
		if (unlikely(h->single_step)) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
		continue;
exc:
		SYNC_RETIRED();
		h->retired += i->idx;
		h->pc = PC_OF(i);
trap:
		(void)i;
		rv_take_trap(h, h->exc_cause, h->exc_tval, false);
		prev = NULL;
		/* A trap loop is a run of traps with no instruction retired
		 * in between (so no block boundary has to count progress). */
		if (h->retired != h->trap_retired)
			h->consecutive_traps = 0;
		h->trap_retired = h->retired;
		if (++h->consecutive_traps > MAX_TRAP_LOOP) {
			reason = VMC__RV_EXIT_FATAL;
			goto out;
		}
		if (h->single_step) {
			reason = VMC__RV_EXIT_DEBUG;
			goto out;
		}
	}
out:
	if (ret_retired)
		*ret_retired += h->retired - start;
	return reason;
}
