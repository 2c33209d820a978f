/* SPDX-License-Identifier: MIT */
/*
 * The translator of the RV64 hart to x86-64 host code.
 *
 * Input.  The block the decoder built for the interpreter (rv-translate.c):
 * its slots, their ops, operands, idx (guest instructions before the slot)
 * and fused forms.  The interpreter's dispatch table tells which form a
 * branch slot is in (inside a block, closing a loop, or fused with the
 * loop counter's add).  A translated block keeps its interpreter slots, so
 * the interpreter can always run it instead.
 *
 * Code buffer (W^X).  One memfd per VM, mapped twice: read-write for the
 * emitter, read-execute for the harts; no mapping is ever both writable
 * and executable.  It starts with the trampoline (rv_jit_run(): saves the
 * callee-saved registers, puts the hart in rbp, jumps to the block), its
 * epilogue, which every exit jumps to with its RV_JIT_* in rax, and the
 * jump cache's lookup stub.
 * Blocks are appended under the buffer's lock and never freed one by one:
 * the space comes back when every block of every hart is flushed, which
 * happens when the buffer fills (exclusive work through the glue, or at
 * once for a lone hart).
 *
 * Host registers.  rbp holds the hart for the whole run; r15 the budget
 * left (h->jit_limit - h->retired, so counting a block is a sub on a
 * register, and the epilogue and each helper call's set-up write
 * h->retired back); rax and rcx are scratch (shifts by a register, the
 * TLB walk); the other eleven hold guest registers, rdx last, as division
 * and the high multiplications empty it first.
 *
 * A block's code:
 *   entry:  the kick and budget check (h->kick != 0, or fewer than n
 *           instructions left: leave with pc = the block's pc), so a chain
 *           or a loop of chained blocks stops at every block boundary;
 *   body:   one piece per slot.  Guest registers live in host registers
 *           within the block (struct ra: loaded on first use, written back
 *           when evicted, at every exit and before a helper call that
 *           reads them or may trap; a slot's operands are pinned first and
 *           evictions take the register named furthest ahead, clean before
 *           dirty; a 32-bit op's result is sign-extended only when read
 *           in full or written back).  The integer ALU, M (division
 *           inline, with RISC-V's rules for zero and overflow), branches,
 *           jumps, loads and stores (the TLB fast path inline) are host
 *           code; the other ops that do not end a block (A, Zb*, Zicbo*,
 *           F/D but for the ops that rv-jit-fp.c translates inline) call
 *           jit_exec(), the ops' C semantics, with every register written
 *           back; the ops that end
 *           a block otherwise (CSR and system) end the translated code
 *           before them, and the interpreter runs that slot of the same block
 *           (RV_JIT_SLOT), so it never decodes the code again;
 *   loop:   a block that branches or jumps back to its own start, calls no
 *           helper and uses at most eleven guest registers loads them all
 *           once, then each iteration re-checks the kick and counts itself
 *           at the head, staying in host registers; only its exits write
 *           back;
 *   cold:   after the body, the slow paths of loads and stores (write back,
 *           call rv_load_slow()/rv_store_slow(), reload the caller-saved
 *           registers, rejoin) and the taken exits of branches inside the
 *           block;
 *   exits:  a direct exit within the page counts its instructions and jumps
 *           through a patchable jmp, first to a stub that stores the next
 *           pc and returns the jmp's address to the loop, which patches it
 *           to the next block's entry (rv_jit_link(); the target keeps the
 *           list of jumps into it and rv_jit_block_free() points them back
 *           at their stubs).  Chains never cross a page, as the
 *           interpreter's, so a remapped page is never entered through a
 *           stale chain.  An indirect jump or a direct one out of the page
 *           stores the pc and calls the lookup stub (emit_lookup(): the
 *           jump cache, checked against the fetch TLB like the
 *           interpreter's JC_ENTER) for the block to jump to, then jumps
 *           there from its own indirect jmp, or returns to the loop.
 * Exceptions are precise: a faulting access leaves with every guest
 * register written back, pc at the instruction and h->retired counting
 * the instructions before it.  h->retired is the count at the block's
 * start while it runs (what the interpreter's SYNC_RETIRED gives the slow
 * paths), so instret and -icount are as the interpreter's.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rv-alu.h"
#include "rv-jit.h"
#include "rv-jit-fp.h"
#include "rv-jit-x86.h"

#if defined(__x86_64__) && defined(__linux__)
#define RV_JIT_HOST 1
#else
#define RV_JIT_HOST 0
#endif

#define JIT_BUF_SIZE (64u << 20)
/* Offsets in the hart (rbp). */
#define OFF_X(r) ((int32_t)(offsetof(struct vmc__rv_hart, x) + 8 * (r)))
#define OFF(f) ((int32_t)offsetof(struct vmc__rv_hart, f))
/* Field f of the jump cache's entry at rbp + rcx. */
#define JCE(f)                                                                 \
	((int32_t)(offsetof(struct vmc__rv_hart, jc) +                         \
		   offsetof(struct rv_jce, f)))
/* Room a block may need at most: more than 64 slots at their largest. */
#define JIT_BLOCK_ROOM (96u << 10)

struct rv_jit_buf {
	pthread_mutex_t lock;
	uint8_t *rw, *rx;
	size_t size, used, start;
	const uint8_t *epilogue; /* writable-view address */
	const uint8_t *lookup;	 /* emit_lookup()'s stub, likewise */
	_Atomic bool want_flush;
};

unsigned rv_jit_hot_default(void)
{
	const char *e = getenv("VMC_TCG_JIT_HOT");
	unsigned long n;
	char *end;

	if (!e || !*e)
		return RV_JIT_HOT;
	n = strtoul(e, &end, 10);
	return *end || n < 1 || n > 1000000 ? RV_JIT_HOT : (unsigned)n;
}

bool rv_jit_wanted(int cfg_jit)
{
	const char *e;

	if (!RV_JIT_HOST || cfg_jit < 0)
		return false;
	e = getenv("VMC_TCG_JIT");
	if (e && e[0] == '0')
		return false;
	return true;
}

/* ------------------------------------------------------------------------
 * The code buffer
 */

/*
 * The lookup of the jump cache that translated code calls after an
 * indirect jump or a direct one out of the page, with the pc in rax (and
 * h->pc): returns the block's code in rax, or 0 (RV_JIT_OUT) to go back
 * to the loop.  Every guest register has been written back, so the
 * caller-saved registers are scratch.  The entry is checked as the
 * interpreter's JC_ENTER checks it: its tag, then the fetch TLB of the
 * regime in force (h->itlb) mapping the pc's page, not I/O nor checked by
 * PMP access by access, to the block's physical pc.  A dropped block
 * leaves the cache (rv_block_drop(), and a flush clears it), and the
 * block entered checks the kick and the budget first.
 */
static void emit_lookup(struct jx *j)
{
	uint8_t *miss[4];
	unsigned n = 0;

	/* rcx = rv_jc_hash(pc) * 32, the entry's offset; is its tag pc | 1? */
	_Static_assert(sizeof(struct rv_jce) == 32, "the entry's offset");
	jx_mov32(j, RCX, RAX);
	jx_alui(j, false, ALU_AND, RCX, ((1 << JC_BITS) - 1) << 1);
	jx_shi(j, false, SH_SHL, RCX, 4);
	jx_mov(j, RDX, RAX);
	jx_alui(j, true, ALU_OR, RDX, 1);
	jx_memx(j, true, 0x3b, RDX, RBP, RCX, JCE(tag), false); /* cmp */
	miss[n++] = jx_jcc_fwd(j, CC_NE);
	/* rdx = the fetch TLB entry of the pc's page. */
	_Static_assert(sizeof(struct rv_tlbe) == 64 && RV_PAGE_SHIFT == 12,
		       "the TLB index below");
	jx_mov32(j, RDX, RAX);
	jx_shi(j, false, SH_SHR, RDX, RV_PAGE_SHIFT - 6);
	jx_alui(j, false, ALU_AND, RDX, (int32_t)((TLB_SIZE - 1) << 6));
	jx_mem(j, true, 0x03, RDX, RBP, OFF(itlb), false); /* add */
	jx_mem(j, true, 0x8b, RDI, RDX,
	       (int32_t)(offsetof(struct rv_tlbe, tag) + 8 * ACC_X), false);
	jx_alui(j, true, ALU_AND, RDI, (int32_t)~TLB_SLOW);
	jx_mov(j, RSI, RAX);
	jx_alui(j, true, ALU_AND, RSI, (int32_t)RV_PAGE_MASK);
	jx_alu(j, true, ALU_CMP, RDI, RSI);
	miss[n++] = jx_jcc_fwd(j, CC_NE);
	jx_mem(j, false, 0x8b, RSI, RDX,
	       (int32_t)offsetof(struct rv_tlbe, flags), false);
	jx_alui(j, false, ALU_AND, RSI, (int32_t)(TLBF_IO | TLBF_PMPCHK));
	miss[n++] = jx_jcc_fwd(j, CC_NE);
	jx_mov32(j, RDI, RAX);
	jx_alui(j, false, ALU_AND, RDI, (int32_t)~RV_PAGE_MASK);
	jx_mem(j, true, 0x0b, RDI, RDX,
	       (int32_t)offsetof(struct rv_tlbe, ppage), false); /* or */
	jx_memx(j, true, 0x3b, RDI, RBP, RCX, JCE(ppc), false);	 /* cmp */
	miss[n++] = jx_jcc_fwd(j, CC_NE);
	jx_memx(j, true, 0x8b, RAX, RBP, RCX, JCE(jit), false);
	jx_b(j, 0xc3); /* ret */
	for (unsigned k = 0; k < n; k++)
		jx_patch_here(j, miss[k]);
	jx_movi(j, RAX, RV_JIT_OUT);
	jx_b(j, 0xc3); /* ret */
}

static void emit_trampoline(struct rv_jit_buf *buf)
{
	struct jx j = {buf->rw, buf->rw + buf->size, buf->rx - buf->rw, false};
	static const uint8_t pro[] = {
		0x55,			/* push rbp */
		0x53,			/* push rbx */
		0x41, 0x54,		/* push r12 */
		0x41, 0x55,		/* push r13 */
		0x41, 0x56,		/* push r14 */
		0x41, 0x57,		/* push r15 */
		0x48, 0x83, 0xec, 0x08, /* sub rsp, 8 */
		0x48, 0x89, 0xfd,	/* mov rbp, rdi */
	};
	static const uint8_t epi[] = {
		0x48, 0x83, 0xc4, 0x08, /* add rsp, 8 */
		0x41, 0x5f,		/* pop r15 */
		0x41, 0x5e,		/* pop r14 */
		0x41, 0x5d,		/* pop r13 */
		0x41, 0x5c,		/* pop r12 */
		0x5b,			/* pop rbx */
		0x5d,			/* pop rbp */
		0xc3,			/* ret */
	};

	memcpy(j.p, pro, sizeof(pro));
	j.p += sizeof(pro);
	/* r15: the instructions left to the budget's end. */
	jx_ld(&j, R15, RBP, OFF(jit_limit));
	jx_mem(&j, true, 0x2b, R15, RBP, OFF(retired), false); /* sub */
	if (jx_room(&j, 3)) {
		jx_b(&j, 0xff); /* jmp rsi */
		jx_b(&j, 0xe6);
	}
	/* Epilogue: h->retired = h->jit_limit - r15, then return. */
	buf->epilogue = j.p;
	jx_ld(&j, RCX, RBP, OFF(jit_limit));
	jx_alu(&j, true, ALU_SUB, RCX, R15);
	jx_st(&j, RCX, RBP, OFF(retired));
	memcpy(j.p, epi, sizeof(epi));
	j.p += sizeof(epi);
	buf->lookup = j.p;
	emit_lookup(&j);
	buf->start = ((size_t)(j.p - buf->rw) + 63) & ~(size_t)63;
	buf->used = buf->start;
}

int rv_jit_buf_new(size_t size, struct rv_jit_buf **ret)
{
	struct rv_jit_buf *buf = calloc(1, sizeof(*buf));
	int fd;

	if (!buf)
		return -ENOMEM;
	buf->size = size ? (size + 4095) & ~(size_t)4095 : JIT_BUF_SIZE;
	fd = memfd_create("vmc-tcg-code", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)buf->size) < 0)
		goto fail;
	buf->rw = mmap(NULL, buf->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       0);
	if (buf->rw == MAP_FAILED)
		goto fail;
	buf->rx =
		mmap(NULL, buf->size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	if (buf->rx == MAP_FAILED) {
		munmap(buf->rw, buf->size);
		goto fail;
	}
	close(fd);
	pthread_mutex_init(&buf->lock, NULL);
	emit_trampoline(buf);
	*ret = buf;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -ENOMEM;
}

void rv_jit_buf_free(struct rv_jit_buf *buf)
{
	if (!buf)
		return;
	munmap(buf->rw, buf->size);
	munmap(buf->rx, buf->size);
	pthread_mutex_destroy(&buf->lock);
	free(buf);
}

void rv_jit_buf_reset(struct rv_jit_buf *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&buf->lock);
	buf->used = buf->start;
	atomic_store(&buf->want_flush, false);
	pthread_mutex_unlock(&buf->lock);
}

bool vmc__rv_jit_take_flush_request(struct vmc__rv_shared *sh)
{
	return sh->jit && atomic_exchange(&sh->jit->want_flush, false);
}

uintptr_t rv_jit_run(struct vmc__rv_hart *h, struct rv_block *b)
{
	uintptr_t (*enter)(struct vmc__rv_hart *, const void *);
	const uint8_t *rx = h->shared->jit->rx;

	memcpy(&enter, &rx, sizeof(enter));
	rv_jit_fp_enter(h);
	return enter(h, b->jit);
}

/* A jump patched to enter a block: the writable address of its rel32. */
struct rv_jit_in {
	uint8_t *rel;
	struct rv_jit_in *next;
};

void rv_jit_link(struct vmc__rv_hart *h, uintptr_t ex, struct rv_block *to)
{
	struct rv_jit_buf *buf = h->shared->jit;
	const struct rv_block *from = h->jit_from;
	struct rv_jit_in *in;
	int32_t d;

	if (!to->jit || to->flags || ((from->vpc ^ to->vpc) & RV_PAGE_MASK) ||
	    ((from->ppc ^ to->ppc) & RV_PAGE_MASK))
		return;
	/* Remembered, so that dropping to alone unlinks it. */
	in = malloc(sizeof(*in));
	if (!in)
		return;
	in->rel = buf->rw + (ex - (uintptr_t)buf->rx);
	in->next = to->jit_in;
	to->jit_in = in;
	d = (int32_t)((intptr_t)to->jit - (intptr_t)(ex + 4));
	memcpy(in->rel, &d, 4);
}

void rv_jit_block_free(struct rv_block *b)
{
	struct rv_jit_in *in = b->jit_in, *next;
	const int32_t stub = 0; /* the stub follows the jump */

	for (; in; in = next) {
		next = in->next;
		memcpy(in->rel, &stub, 4);
		free(in);
	}
	b->jit_in = NULL;
}

/* ------------------------------------------------------------------------
 * Helpers the code calls
 */

struct jit_ret {
	uint64_t val, st; /* rax, rdx */
};

static uint64_t load_conv(unsigned op, uint64_t v)
{
	switch (op) {
	case VMC__RV_OP_LB:
		return (uint64_t)(int64_t)(int8_t)v;
	case VMC__RV_OP_LH:
		return (uint64_t)(int64_t)(int16_t)v;
	case VMC__RV_OP_LW:
		return sx32(v);
	case VMC__RV_OP_LBU:
		return (uint8_t)v;
	case VMC__RV_OP_LHU:
		return (uint16_t)v;
	case VMC__RV_OP_LWU:
		return (uint32_t)v;
	default:
		return v;
	}
}

static unsigned mem_size(unsigned op)
{
	switch (op) {
	case VMC__RV_OP_LB:
	case VMC__RV_OP_LBU:
	case VMC__RV_OP_SB:
		return 1;
	case VMC__RV_OP_LH:
	case VMC__RV_OP_LHU:
	case VMC__RV_OP_SH:
		return 2;
	case VMC__RV_OP_LW:
	case VMC__RV_OP_LWU:
	case VMC__RV_OP_SW:
		return 4;
	default:
		return 8;
	}
}

/* A load's slow path: st 0, RV_JIT_EXC or RV_JIT_WATCH. */
static struct jit_ret jit_load(struct vmc__rv_hart *h, uint64_t va, uint64_t op)
{
	uint64_t v;

	if (rv_load_slow(h, va, mem_size((unsigned)op), &v))
		return (struct jit_ret){0, RV_JIT_EXC};
	return (struct jit_ret){load_conv((unsigned)op, v),
				h->watch_stop ? RV_JIT_WATCH : 0};
}

static uint64_t jit_store(struct vmc__rv_hart *h, uint64_t va, uint64_t val,
			  uint64_t op)
{
	if (rv_store_slow(h, va, mem_size((unsigned)op), val))
		return RV_JIT_EXC;
	return h->watch_stop ? RV_JIT_WATCH : 0;
}

/* The ops the code calls out for, as the interpreter runs them: 0,
 * RV_JIT_EXC (h->exc_* set) or RV_JIT_WATCH (done, then a watchpoint). */
static uint64_t jit_exec(struct vmc__rv_hart *h, const struct rv_insn *i)
{
	uint64_t *x = h->x, s1 = x[i->rs1], s2 = x[i->rs2], v;
	uint64_t imm = (uint64_t)i->imm;
	unsigned op = i->op;

	switch (op) {
	case VMC__RV_OP_SH_ADD_UW:
		v = ((uint64_t)(uint32_t)s1 << imm) + s2;
		break;
	case VMC__RV_OP_SLLI_UW:
		v = (uint64_t)(uint32_t)s1 << imm;
		break;
	case VMC__RV_OP_ANDN:
		v = s1 & ~s2;
		break;
	case VMC__RV_OP_ORN:
		v = s1 | ~s2;
		break;
	case VMC__RV_OP_XNOR:
		v = ~(s1 ^ s2);
		break;
	case VMC__RV_OP_CLZ:
		v = op_clz(s1);
		break;
	case VMC__RV_OP_CTZ:
		v = op_ctz(s1);
		break;
	case VMC__RV_OP_CPOP:
		v = (uint64_t)__builtin_popcountll(s1);
		break;
	case VMC__RV_OP_CLZW:
		v = op_clzw(s1);
		break;
	case VMC__RV_OP_CTZW:
		v = op_ctzw(s1);
		break;
	case VMC__RV_OP_CPOPW:
		v = (uint64_t)__builtin_popcount((uint32_t)s1);
		break;
	case VMC__RV_OP_MAX:
		v = (int64_t)s1 < (int64_t)s2 ? s2 : s1;
		break;
	case VMC__RV_OP_MAXU:
		v = s1 < s2 ? s2 : s1;
		break;
	case VMC__RV_OP_MIN:
		v = (int64_t)s1 < (int64_t)s2 ? s1 : s2;
		break;
	case VMC__RV_OP_MINU:
		v = s1 < s2 ? s1 : s2;
		break;
	case VMC__RV_OP_SEXT_B:
		v = (uint64_t)(int64_t)(int8_t)s1;
		break;
	case VMC__RV_OP_SEXT_H:
		v = (uint64_t)(int64_t)(int16_t)s1;
		break;
	case VMC__RV_OP_ZEXT_H:
		v = (uint16_t)s1;
		break;
	case VMC__RV_OP_ROL:
		v = op_rol(s1, (unsigned)s2);
		break;
	case VMC__RV_OP_ROR:
		v = op_rol(s1, 64 - ((unsigned)s2 & 63));
		break;
	case VMC__RV_OP_RORI:
		v = op_rol(s1, 64 - (unsigned)imm);
		break;
	case VMC__RV_OP_ROLW:
		v = op_rolw(s1, (unsigned)s2);
		break;
	case VMC__RV_OP_RORW:
		v = op_rolw(s1, 32 - ((unsigned)s2 & 31));
		break;
	case VMC__RV_OP_RORIW:
		v = op_rolw(s1, 32 - (unsigned)imm);
		break;
	case VMC__RV_OP_ORC_B:
		v = op_orc_b(s1);
		break;
	case VMC__RV_OP_REV8:
		v = __builtin_bswap64(s1);
		break;
	case VMC__RV_OP_BCLR:
		v = s1 & ~(1ull << (s2 & 63));
		break;
	case VMC__RV_OP_BCLRI:
		v = s1 & ~(1ull << imm);
		break;
	case VMC__RV_OP_BEXT:
		v = (s1 >> (s2 & 63)) & 1;
		break;
	case VMC__RV_OP_BEXTI:
		v = (s1 >> imm) & 1;
		break;
	case VMC__RV_OP_BINV:
		v = s1 ^ (1ull << (s2 & 63));
		break;
	case VMC__RV_OP_BINVI:
		v = s1 ^ (1ull << imm);
		break;
	case VMC__RV_OP_BSET:
		v = s1 | (1ull << (s2 & 63));
		break;
	case VMC__RV_OP_BSETI:
		v = s1 | (1ull << imm);
		break;
	case VMC__RV_OP_CLMUL:
		v = op_clmul(s1, s2, 0);
		break;
	case VMC__RV_OP_CLMULH:
		v = op_clmul(s1, s2, 1);
		break;
	case VMC__RV_OP_CLMULR:
		v = op_clmul(s1, s2, 2);
		break;
	case VMC__RV_OP_CZERO_EQZ:
		v = s2 ? s1 : 0;
		break;
	case VMC__RV_OP_CZERO_NEZ:
		v = s2 ? 0 : s1;
		break;
	case VMC__RV_OP_CBO_CLEAN:
	case VMC__RV_OP_CBO_FLUSH:
	case VMC__RV_OP_CBO_INVAL:
	case VMC__RV_OP_CBO_ZERO:
		if (rv_cbo(h, op, s1, i->raw))
			return RV_JIT_EXC;
		return h->watch_stop ? RV_JIT_WATCH : 0;
	case VMC__RV_OP_FLW:
	case VMC__RV_OP_FLD:
	case VMC__RV_OP_FSW:
	case VMC__RV_OP_FSD: {
		unsigned size =
			op == VMC__RV_OP_FLW || op == VMC__RV_OP_FSW ? 4 : 8;

		if (!(h->mstatus & MSTATUS_FS)) {
			h->exc_cause = EXC_ILLEGAL;
			h->exc_tval = i->raw;
			return RV_JIT_EXC;
		}
		if (op == VMC__RV_OP_FLW || op == VMC__RV_OP_FLD) {
			if (rv_load_slow(h, s1 + imm, size, &v))
				return RV_JIT_EXC;
			h->f[i->rd] =
				size == 4 ? 0xffffffff00000000ull | (uint32_t)v
					  : v;
			h->mstatus |= MSTATUS_FS | MSTATUS_SD;
		} else if (rv_store_slow(h, s1 + imm, size,
					 size == 4 ? (uint32_t)h->f[i->rs2]
						   : h->f[i->rs2])) {
			return RV_JIT_EXC;
		}
		return h->watch_stop ? RV_JIT_WATCH : 0;
	}
	default:
		if (vmc__rv_op_mem(op) == VMC__RV_MEM_AMO) {
			if (rv_amo(h, op, s1, s2, &v))
				return RV_JIT_EXC;
			x[i->rd] = v;
			return h->watch_stop ? RV_JIT_WATCH : 0;
		}
		/* The other F and D ops. */
		return rv_fp_exec(h, i) ? RV_JIT_EXC : 0;
	}
	x[i->rd] = v;
	return 0;
}

/* An F/D op's slow path (rv-jit-fp.c): the op as the interpreter runs
 * it; val is x[rd] after it, for the ops that write an integer register. */
static struct jit_ret jit_fp_slow(struct vmc__rv_hart *h,
				  const struct rv_insn *i)
{
	uint64_t st = jit_exec(h, i);

	return (struct jit_ret){h->x[i->rd], st};
}

/* The kinds of op the translator knows. */
enum { K_STOP, K_INLINE, K_CALL, K_NOP };

static unsigned op_kind(unsigned op)
{
	if (op >= VMC__RV_OP_FLW && op <= VMC__RV_OP_FMV_D_X)
		return K_CALL;
	if (vmc__rv_op_mem(op) == VMC__RV_MEM_AMO)
		return K_CALL;
	if (op >= VMC__RV_OP_SH_ADD_UW && op <= VMC__RV_OP_CBO_ZERO)
		return K_CALL;
	switch (op) {
	case VMC__RV_OP_FENCE:
		return K_NOP;
	case VMC__RV_OP_ILLEGAL:
	case VMC__RV_OP_FENCE_I:
	case VMC__RV_OP_ECALL:
	case VMC__RV_OP_EBREAK:
	case VMC__RV_OP_MRET:
	case VMC__RV_OP_SRET:
	case VMC__RV_OP_WFI:
	case VMC__RV_OP_SFENCE_VMA:
	case VMC__RV_OP_CSRRW:
	case VMC__RV_OP_CSRRS:
	case VMC__RV_OP_CSRRC:
	case VMC__RV_OP_CSRRWI:
	case VMC__RV_OP_CSRRSI:
	case VMC__RV_OP_CSRRCI:
		return K_STOP;
	default:
		return K_INLINE;
	}
}

/* ------------------------------------------------------------------------
 * Guest registers in host registers
 */

#define NGREG 33

/* Callee-saved first: they survive the slow paths' calls; rdx last, as
 * division and the high multiplications take it (ra_free()). */
static const uint8_t pool[] = {RBX, R12, R13, R14, RSI, RDI,
			       R8,  R9,	 R10, R11, RDX};
#define CALLER_SAVED                                                           \
	((1u << RSI) | (1u << RDI) | (1u << R8) | (1u << R9) | (1u << R10) |   \
	 (1u << R11) | (1u << RDX))

struct ra {
	int8_t g2h[NGREG]; /* host register of a guest one, or -1 */
	int8_t h2g[16];	   /* guest register in a host one, or -1 */
	uint16_t dirty;	   /* host registers newer than the hart's x[] */
	uint16_t lock;	   /* in use by the current slot */
	/* Lazy sign extension: a 32-bit op's result is left with its upper
	 * half stale (lazy: the guest value is the sign extension of the low
	 * 32 bits), extended in place only when something reads all 64 bits
	 * (src()) or writes it back; sx marks registers known to hold a
	 * sign-extended 32-bit value, whose and/or/xor stay lazy. */
	uint16_t lazy, sx;
	uint32_t stamp[16], clock;
};

enum { SP_LOAD, SP_STORE, SP_SIDE, SP_CALL, SP_FP, SP_GROUP };

struct slow {
	uint8_t kind;
	uint8_t vreg;	 /* the value's host register (a load's rd) */
	uint8_t base;	 /* a load's or store's address register */
	uint8_t *jrel;	 /* the jcc into it */
	uint8_t *join;	 /* where it goes back to */
	uint64_t target; /* side exit: the taken pc */
	const struct rv_insn *in;
	struct ra ra;	  /* the allocation at the jcc */
	uint8_t *fail[8]; /* SP_FP: the jumps into it */
	unsigned nfail;
	/* SP_GROUP: the range check's jump, the group's slots and the
	 * allocation at its end. */
	uint8_t *jrel2;
	unsigned first, end;
	struct ra ra_end;
};

struct jc {
	struct jx j;
	struct ra ra;
	struct vmc__rv_hart *h;
	struct rv_block *b;
	const uint8_t *epilogue, *lookup;
	struct slow sp[2 * (MAX_BLOCK + 1)];
	unsigned nsp;
	/* A group of accesses through one TLB check (group_scan()): the
	 * slot after its last while it is being emitted (the accesses then
	 * use the addend in rax), whether groups are off (a retry), whether
	 * the slow copy's allocation came out different. */
	unsigned grp_end, grp_sp;
	bool grp_on, grp_off, grp_differs;
	/* Rotations (try_rotate()): per slot, ROT_SKIP (the second shift,
	 * folded into the first) or ROT_COPY (the or: rd = rot[] holding the
	 * rotation). */
	uint8_t rot[MAX_BLOCK + 1], rot_src[MAX_BLOCK + 1];
	/* A loop kept in host registers (see loop_regs()): where each
	 * iteration starts, the allocation there, and the instructions r15
	 * is ahead by within the body (the iteration is counted first). */
	uint8_t *loop_head;
	struct ra head_ra;
	unsigned bias;
	bool head_differs; /* the allocation at the branch back is not
			      head_ra's: translate without the loop form */
	/* The guest registers each slot names, and the slot being
	 * translated: evictions pick the register needed last. */
	uint64_t uses[MAX_BLOCK + 1];
	unsigned nslots, cur;
	struct rv_jit_fp fp; /* the F/D slots' state (rv-jit-fp.c) */
};

static void ra_init(struct ra *ra)
{
	memset(ra->g2h, -1, sizeof(ra->g2h));
	memset(ra->h2g, -1, sizeof(ra->h2g));
	ra->dirty = ra->lock = ra->lazy = ra->sx = 0;
	ra->clock = 0;
}

/* Store a dirty host register to its guest register (a lazy one
 * extended in place first, which leaves it valid in either state). */
static void ra_store(struct jx *j, const struct ra *ra, unsigned hr)
{
	int g = ra->h2g[hr];

	if (g > 0 && g < 32) {
		if (ra->lazy & (1u << hr))
			jx_movsxd(j, hr, hr);
		jx_st(j, hr, RBP, OFF_X(g));
	}
}

static void ra_unmap(struct ra *ra, unsigned hr)
{
	if (ra->h2g[hr] >= 0)
		ra->g2h[ra->h2g[hr]] = -1;
	ra->h2g[hr] = -1;
	ra->dirty &= (uint16_t) ~(1u << hr);
	ra->lazy &= (uint16_t) ~(1u << hr);
	ra->sx &= (uint16_t) ~(1u << hr);
}

/* Write every dirty register back (the state stays as it is). */
static void ra_writeback(struct jx *j, const struct ra *ra)
{
	for (unsigned hr = 0; hr < 16; hr++)
		if (ra->dirty & (1u << hr))
			ra_store(j, ra, hr);
}

static unsigned ra_alloc(struct jc *c)
{
	struct ra *ra = &c->ra;
	int best = -1;

	unsigned best_next = 0;

	for (unsigned k = 0; k < sizeof(pool); k++) {
		unsigned hr = pool[k], next;

		if (ra->lock & (1u << hr))
			continue;
		if (ra->h2g[hr] < 0)
			return hr;
		/* The slot that names it next (Belady), then clean before
		 * dirty, then the least recently used. */
		for (next = c->cur + 1; next < c->nslots; next++)
			if (c->uses[next] & (1ull << ra->h2g[hr]))
				break;
		if (best >= 0) {
			bool bd = ra->dirty & (1u << best),
			     hd = ra->dirty & (1u << hr);

			if (next < best_next)
				continue;
			if (next == best_next &&
			    (hd > bd ||
			     (hd == bd && ra->stamp[hr] >= ra->stamp[best])))
				continue;
		}
		best = (int)hr;
		best_next = next;
	}
	/* At most three registers are locked at once. */
	if (ra->dirty & (1u << best))
		ra_store(&c->j, ra, (unsigned)best);
	ra_unmap(ra, (unsigned)best);
	return (unsigned)best;
}

static void ra_touch(struct ra *ra, unsigned hr)
{
	ra->stamp[hr] = ++ra->clock;
	ra->lock |= (uint16_t)(1u << hr);
}

/* The host register holding guest register g, for reading its low 32
 * bits only (it may be lazy). */
static unsigned src32(struct jc *c, unsigned g)
{
	int hr = c->ra.g2h[g];

	if (hr < 0) {
		hr = (int)ra_alloc(c);
		if (g == 0) /* x0: never written, zeroed rather than loaded */
			jx_rr(&c->j, false, 0x31, (unsigned)hr, (unsigned)hr);
		else
			jx_ld(&c->j, (unsigned)hr, RBP, OFF_X(g));
		c->ra.g2h[g] = (int8_t)hr;
		c->ra.h2g[hr] = (int8_t)g;
	}
	ra_touch(&c->ra, (unsigned)hr);
	return (unsigned)hr;
}

/* Extend a lazy host register in place. */
static void ra_settle(struct jc *c, unsigned hr)
{
	if (c->ra.lazy & (1u << hr)) {
		jx_movsxd(&c->j, hr, hr);
		c->ra.lazy &= (uint16_t) ~(1u << hr);
		c->ra.sx |= (uint16_t)(1u << hr);
	}
}

/* The host register holding guest register g, for reading. */
static unsigned src(struct jc *c, unsigned g)
{
	unsigned hr = src32(c, g);

	ra_settle(c, hr);
	return hr;
}

/* Whether guest register g's value is a sign-extended 32-bit one
 * (lazy or not). */
static bool is_sx(const struct jc *c, unsigned g)
{
	int hr = c->ra.g2h[g];

	return g == 0 || (hr >= 0 && ((c->ra.lazy | c->ra.sx) & (1u << hr)));
}

/* Extend every lazy register (before a jump to code that expects none). */
static void ra_settle_all(struct jc *c)
{
	for (unsigned hr = 0; hr < 16; hr++)
		ra_settle(c, hr);
}

/* The host register to write guest register g to (marked dirty, not
 * lazy: a 32-bit op's emitter calls set_w() after). */
static unsigned def(struct jc *c, unsigned g)
{
	int hr = c->ra.g2h[g];

	if (hr < 0) {
		hr = (int)ra_alloc(c);
		c->ra.g2h[g] = (int8_t)hr;
		c->ra.h2g[hr] = (int8_t)g;
	}
	ra_touch(&c->ra, (unsigned)hr);
	c->ra.dirty |= (uint16_t)(1u << hr);
	c->ra.lazy &= (uint16_t) ~(1u << hr);
	c->ra.sx &= (uint16_t) ~(1u << hr);
	return (unsigned)hr;
}

/* hr's low 32 bits hold a 32-bit result: lazy, or (ext) already
 * sign-extended. */
static void set_w(struct jc *c, unsigned hr, bool ext)
{
	if (ext)
		c->ra.sx |= (uint16_t)(1u << hr);
	else
		c->ra.lazy |= (uint16_t)(1u << hr);
}

/* Empty host register hr (written back if dirty) for an instruction that
 * needs it, and keep it from the operands (locked until the slot's end:
 * the result may take it). */
static void ra_free(struct jc *c, unsigned hr)
{
	if (c->ra.h2g[hr] >= 0) {
		if (c->ra.dirty & (1u << hr))
			ra_store(&c->j, &c->ra, hr);
		ra_unmap(&c->ra, hr);
	}
	c->ra.lock |= (uint16_t)(1u << hr);
}

static void ra_unlock(struct jc *c, unsigned hr)
{
	c->ra.lock &= (uint16_t) ~(1u << hr);
}

/* Reload the caller-saved registers of ra after a call. */
static void ra_reload(struct jx *j, const struct ra *ra)
{
	for (unsigned hr = 0; hr < 16; hr++)
		if ((CALLER_SAVED & (1u << hr)) && ra->h2g[hr] >= 0)
			jx_ld(j, hr, RBP, OFF_X(ra->h2g[hr]));
}

/* ------------------------------------------------------------------------
 * Exits
 */

static uint64_t pc_of(const struct jc *c, const struct rv_insn *in)
{
	return c->b->vpc + in->pcoff;
}

/* h->retired as of the block's start, for a helper (clobbers rcx). */
static void sync_retired(struct jc *c)
{
	struct jx *j = &c->j;

	jx_ld(j, RCX, RBP, OFF(jit_limit));
	jx_alu(j, true, ALU_SUB, RCX, R15);
	if (c->bias)
		jx_alui(j, true, ALU_SUB, RCX, (int32_t)c->bias);
	jx_st(j, RCX, RBP, OFF(retired));
}

/* r15 -= count, less what the loop form counted ahead. */
static void count_insns(struct jc *c, unsigned count)
{
	if (count != c->bias)
		jx_alui(&c->j, true, ALU_SUB, R15,
			(int32_t)count - (int32_t)c->bias);
}

/* Go on at h->pc (stored, and counted; also in rax) through the jump
 * cache (emit_lookup()'s stub: the block's code in rax, or 0), or leave
 * to the loop.  Each site has its own indirect jmp, for the host's
 * predictor; the stub's ret is predicted by the host's return stack. */
static void exit_lookup(struct jc *c)
{
	struct jx *j = &c->j;

	if (jx_room(j, 5)) {
		jx_b(j, 0xe8); /* call lookup */
		jx_d(j, (uint32_t)(int32_t)(c->lookup - (j->p + 4)));
	}
	jx_rr(j, true, 0x85, RAX, RAX);
	jx_jcc_to(j, CC_E, c->epilogue); /* rax is RV_JIT_OUT */
	if (jx_room(j, 2)) {
		jx_b(j, 0xff); /* jmp rax */
		jx_b(j, 0xe0);
	}
}

/* Leave to the loop with pc, count more instructions retired, and code. */
static void exit_out(struct jc *c, uint64_t pc, unsigned count, unsigned code)
{
	jx_movi(&c->j, RAX, pc);
	jx_st(&c->j, RAX, RBP, OFF(pc));
	count_insns(c, count);
	jx_movi(&c->j, RAX, code);
	jx_jmp_to(&c->j, c->epilogue);
}

/* A direct exit to target having retired count (registers written back
 * by the caller): a patchable jump when the target is in the page. */
static void exit_chain(struct jc *c, uint64_t target, unsigned count)
{
	struct jx *j = &c->j;
	uint8_t *rel;

	if ((target ^ c->b->vpc) & RV_PAGE_MASK) {
		jx_movi(j, RAX, target);
		jx_st(j, RAX, RBP, OFF(pc));
		count_insns(c, count);
		exit_lookup(c);
		return;
	}
	count_insns(c, count);
	rel = jx_jmp_fwd(j);
	jx_patch_here(j, rel);
	jx_movi(j, RAX, target);
	jx_st(j, RAX, RBP, OFF(pc));
	jx_movi(j, RAX, (uint64_t)(uintptr_t)c->b);
	jx_st(j, RAX, RBP, OFF(jit_from));
	jx_movi(j, RAX, rel ? jx_rx(j, rel) : 0);
	jx_jmp_to(j, c->epilogue);
}

/* ------------------------------------------------------------------------
 * Slots
 */

static const unsigned br_cc[VMC__RV_BR__COUNT] = {
	[VMC__RV_BR_BEQ] = CC_E,  [VMC__RV_BR_BNE] = CC_NE,
	[VMC__RV_BR_BLT] = CC_L,  [VMC__RV_BR_BGE] = CC_GE,
	[VMC__RV_BR_BLTU] = CC_B, [VMC__RV_BR_BGEU] = CC_AE,
};

/* The add of each loop-counter fusion (VMC__RV_LOOPADD_*). */
#define LOOPADD_OP(n, forms, branch, ends, rd, t, pc, loop, ...)               \
	LOOPADD_OP_##loop(n)
#define LOOPADD_OP_LOOP(n) VMC__RV_OP_##n,
#define LOOPADD_OP__(n)
static const uint16_t loopadd_op[VMC__RV_LOOPADD__COUNT] = {
	VMC__RV_OPS(LOOPADD_OP)};

static bool is_lazy(const struct jc *c, unsigned g)
{
	int hr = c->ra.g2h[g];

	return hr >= 0 && (c->ra.lazy & (1u << hr));
}

/* rd = rs, keeping what is known of its upper half. */
static void copy_reg(struct jc *c, unsigned rd, unsigned rs)
{
	bool lazy = is_lazy(c, rs), sx = is_sx(c, rs);
	unsigned a = src32(c, rs), d = def(c, rd);

	jx_mov(&c->j, d, a);
	if (sx)
		set_w(c, d, !lazy);
}

/* d = a op b for a group-1 ALU op or imul (alu < 0), 64 or 32 bits.  The
 * 32-bit ops leave d lazy; and, or and xor of sign-extended values too. */
static void binop(struct jc *c, const struct rv_insn *in, int alu, bool w)
{
	struct jx *j = &c->j;
	unsigned a, b, d;
	bool comm = alu != ALU_SUB;
	bool narrow =
		!w || ((alu == ALU_AND || alu == ALU_OR || alu == ALU_XOR) &&
		       is_sx(c, in->rs1) && is_sx(c, in->rs2));
	bool lazy = !w || is_lazy(c, in->rs1) || is_lazy(c, in->rs2);

	if (w && (alu == ALU_ADD || alu == ALU_OR || alu == ALU_XOR) &&
	    (in->rs1 == 0 || in->rs2 == 0)) {
		/* With x0: a move (c.mv is add rd, x0, rs2). */
		copy_reg(c, in->rd, in->rs1 ? in->rs1 : in->rs2);
		return;
	}
	a = narrow ? src32(c, in->rs1) : src(c, in->rs1);
	b = narrow ? src32(c, in->rs2) : src(c, in->rs2);
	d = def(c, in->rd);
	if (narrow)
		set_w(c, d, !lazy);
	if (alu == ALU_ADD && d != a && d != b) {
		jx_lea_add(j, w, d, a, b);
		return;
	}
#define OP(dst, s)                                                             \
	(alu < 0 ? jx_rr(j, w, 0x0faf, dst, s)                                 \
		 : jx_alu(j, w, (unsigned)alu, dst, s))
	if (d == a) {
		OP(d, b);
	} else if (d == b) {
		if (comm) {
			OP(d, a);
		} else {
			jx_mov(j, RAX, a);
			OP(RAX, b);
			jx_mov(j, d, RAX);
		}
	} else {
		jx_mov(j, d, a);
		OP(d, b);
	}
#undef OP
}

/* Shift by register: d = a sh (b & mask). */
static void shift_reg(struct jc *c, const struct rv_insn *in, unsigned sh,
		      bool w)
{
	struct jx *j = &c->j;
	unsigned a = w ? src(c, in->rs1) : src32(c, in->rs1);
	unsigned b = src32(c, in->rs2), d;

	jx_mov32(j, RCX, b);
	d = def(c, in->rd);
	jx_mov(j, d, a);
	jx_shcl(j, w, sh, d);
	if (!w)
		set_w(c, d, false);
}

static void shift_imm(struct jc *c, const struct rv_insn *in, unsigned sh,
		      bool w)
{
	struct jx *j = &c->j;
	unsigned n = (unsigned)in->imm & (w ? 63 : 31);
	unsigned a = w ? src(c, in->rs1) : src32(c, in->rs1);
	unsigned d = def(c, in->rd);

	jx_mov(j, d, a);
	jx_shi(j, w, sh, d, n);
	/* A 32-bit logical right shift by 1 or more clears bit 31: its
	 * zero extension is the sign extension. */
	if (!w)
		set_w(c, d, sh == SH_SHR && n);
}

/* andi, ori, xori: of a sign-extended value (and the sign-extended
 * immediate), lazy when it is. */
static void aluimm(struct jc *c, const struct rv_insn *in, unsigned alu)
{
	struct jx *j = &c->j;
	bool sx = is_sx(c, in->rs1), lazy = is_lazy(c, in->rs1);
	unsigned a = sx ? src32(c, in->rs1) : src(c, in->rs1);
	unsigned d = def(c, in->rd);

	jx_mov(j, d, a);
	jx_alui(j, true, alu, d, (int32_t)in->imm);
	if (sx)
		set_w(c, d, !lazy);
}

/* addi, and addiw (lazy; sext.w, addiw with 0, is at most a move). */
static void addi(struct jc *c, const struct rv_insn *in)
{
	struct jx *j = &c->j;
	bool w = in->op == VMC__RV_OP_ADDI;
	bool sx = is_sx(c, in->rs1), lazy = is_lazy(c, in->rs1);
	unsigned a = w ? src(c, in->rs1) : src32(c, in->rs1);
	unsigned d = def(c, in->rd);

	if (!w && in->imm == 0) {
		jx_mov(j, d, a);
		set_w(c, d, sx && !lazy);
		return;
	}
	jx_mem(j, w, 0x8d, d, a, (int32_t)in->imm, false);
	if (!w)
		set_w(c, d, false);
}

/* The condition that holds for (b, a) when cc holds for (a, b). */
static unsigned cc_swap(unsigned cc)
{
	switch (cc) {
	case CC_L:
		return CC_G;
	case CC_G:
		return CC_L;
	case CC_GE:
		return CC_LE;
	case CC_LE:
		return CC_GE;
	case CC_B:
		return CC_A;
	case CC_A:
		return CC_B;
	case CC_AE:
		return CC_BE;
	case CC_BE:
		return CC_AE;
	default:
		return cc; /* E, NE */
	}
}

/* Compare guest registers g1 and g2 for condition cc, returning the
 * condition to test: in 32 bits when both are sign-extended 32-bit
 * values (which orders them as the 64-bit values, signed and unsigned),
 * against x0 with a test (cmp a, 0 sets the flags test a, a does; 0 cmp
 * b is b cmp 0 with the condition swapped). */
static unsigned cmp_regs(struct jc *c, unsigned g1, unsigned g2, unsigned cc)
{
	bool narrow = is_sx(c, g1) && is_sx(c, g2);
	unsigned a, b;

	if ((g1 == 0) != (g2 == 0)) {
		unsigned g = g1 ? g1 : g2;

		a = narrow ? src32(c, g) : src(c, g);
		jx_rr(&c->j, !narrow, 0x85, a, a);
		return g1 ? cc : cc_swap(cc);
	}
	a = narrow ? src32(c, g1) : src(c, g1);
	b = narrow ? src32(c, g2) : src(c, g2);
	jx_alu(&c->j, !narrow, ALU_CMP, a, b);
	return cc;
}

/* set d to (a cc b) or (a cc imm). */
static void setcmp(struct jc *c, const struct rv_insn *in, unsigned cc,
		   bool imm)
{
	struct jx *j = &c->j;
	unsigned a, d;

	jx_movi(j, RAX, 0);
	if (imm) {
		bool narrow = is_sx(c, in->rs1);

		a = narrow ? src32(c, in->rs1) : src(c, in->rs1);
		jx_alui(j, !narrow, ALU_CMP, a, (int32_t)in->imm);
	} else {
		cc = cmp_regs(c, in->rs1, in->rs2, cc);
	}
	jx_setcc(j, cc, RAX);
	d = def(c, in->rd);
	jx_mov(j, d, RAX);
	set_w(c, d, true);
}

/* High products: the result is rdx after mul/imul. */
static void mulhigh(struct jc *c, const struct rv_insn *in, unsigned op)
{
	struct jx *j = &c->j;
	unsigned a, b, d;

	ra_free(c, RDX);
	a = src(c, in->rs1);
	b = src(c, in->rs2);

	jx_mov(j, RAX, a);
	jx_grp3(j, true, op == VMC__RV_OP_MULH ? 5 : 4, b);
	if (op == VMC__RV_OP_MULHSU) {
		/* mulhu - (a < 0 ? b : 0) */
		jx_mov(j, RAX, a);
		jx_shi(j, true, SH_SAR, RAX, 63);
		jx_alu(j, true, ALU_AND, RAX, b);
		jx_alu(j, true, ALU_SUB, RDX, RAX);
	}
	ra_unlock(c, RDX);
	d = def(c, in->rd);
	jx_mov(j, d, RDX);
}

/* Division with RISC-V's results for a zero divisor and for overflow. */
static void divide(struct jc *c, const struct rv_insn *in, unsigned op)
{
	struct jx *j = &c->j;
	bool w32 = op >= VMC__RV_OP_DIVW, w = !w32, sgn, rem;
	unsigned a, b, d;
	uint8_t *jz, *jm1 = NULL, *done1, *done2 = NULL;

	ra_free(c, RDX);
	a = w32 ? src32(c, in->rs1) : src(c, in->rs1);
	b = w32 ? src32(c, in->rs2) : src(c, in->rs2);

	switch (op) {
	case VMC__RV_OP_DIV:
	case VMC__RV_OP_DIVW:
		sgn = true, rem = false;
		break;
	case VMC__RV_OP_REM:
	case VMC__RV_OP_REMW:
		sgn = true, rem = true;
		break;
	case VMC__RV_OP_DIVU:
	case VMC__RV_OP_DIVUW:
		sgn = false, rem = false;
		break;
	default:
		sgn = false, rem = true;
		break;
	}
	if (w32)
		jx_mov32(j, RAX, a);
	else
		jx_mov(j, RAX, a);
	jx_rr(j, w, 0x85, b, b); /* test b, b */
	jz = jx_jcc_fwd(j, CC_E);
	if (sgn) {
		jx_alui(j, w, ALU_CMP, b, -1);
		jm1 = jx_jcc_fwd(j, CC_E);
		if (jx_room(j, 2)) {
			if (w32)
				jx_b(j, 0x99); /* cdq */
			else
				jx_b(j, 0x48), jx_b(j, 0x99); /* cqo */
		}
		jx_grp3(j, w, 7, b);
	} else {
		jx_movi(j, RDX, 0);
		jx_grp3(j, w, 6, b);
	}
	done1 = jx_jmp_fwd(j);
	/* Divisor zero: quotient all ones, remainder the dividend. */
	jx_patch_here(j, jz);
	if (rem)
		jx_mov(j, RDX, RAX);
	else
		jx_alui(j, true, ALU_OR, RAX, -1);
	if (sgn) {
		/* Divisor -1: quotient -a (wrapping), remainder 0. */
		done2 = jx_jmp_fwd(j);
		jx_patch_here(j, jm1);
		if (rem)
			jx_movi(j, RDX, 0);
		else
			jx_grp3(j, w, 3, RAX);
	}
	jx_patch_here(j, done1);
	jx_patch_here(j, done2);
	ra_unlock(c, RDX);
	d = def(c, in->rd);
	if (w32) {
		jx_movsxd(j, d, rem ? RDX : RAX);
		set_w(c, d, true);
	} else {
		jx_mov(j, d, rem ? RDX : RAX);
	}
}

/* The TLB entry check for an access of the op's size at a + imm
 * through tag acc, leaving the entry's addend in rax: returns the jne to
 * the slow path.  The access itself addresses [rax + a + imm], so the
 * address is never kept in a register of its own; only rax and rcx are
 * used. */
static uint8_t *tlb_check(struct jc *c, const struct rv_insn *in, unsigned a,
			  unsigned acc)
{
	struct jx *j = &c->j;
	unsigned size = mem_size(in->op);
	uint8_t *jne;

	/* lea rax, [a + imm] */
	jx_mem(j, true, 0x8d, RAX, a, (int32_t)in->imm, false);
	/* ecx = ((va >> 12) & 255) * 64 */
	jx_mov32(j, RCX, RAX);
	jx_shi(j, false, SH_SHR, RCX, RV_PAGE_SHIFT - 6);
	jx_alui(j, false, ALU_AND, RCX, (TLB_SIZE - 1) << 6);
	_Static_assert(sizeof(struct rv_tlbe) == 64, "TLB entry size");
	jx_mem(j, true, 0x03, RCX, RBP, OFF(dtlb), false); /* add rcx, [] */
	jx_alui(j, true, ALU_AND, RAX, (int32_t)(RV_PAGE_MASK | (size - 1)));
	jx_mem(j, true, 0x3b, RAX, RCX,
	       (int32_t)(offsetof(struct rv_tlbe, tag) + 8 * acc), false);
	jne = jx_jcc_fwd(j, CC_NE);
	jx_ld(j, RAX, RCX, (int32_t)offsetof(struct rv_tlbe, addend));
	return jne;
}

/* A load, straight into rd's host register.  The slow path's allocation
 * is the one before rd is defined (rd keeps its value when the access
 * traps); it moves the value to rd's register and rejoins after the
 * load. */
static void emit_load(struct jc *c, const struct rv_insn *in)
{
	struct jx *j = &c->j;
	unsigned a = src(c, in->rs1), d;
	int32_t imm = (int32_t)in->imm;
	struct slow *sp = &c->sp[c->nsp++];

	if (c->grp_on) {
		c->nsp--; /* checked with the group: no slow path */
		d = def(c, in->rd);
	} else {
		sp->kind = SP_LOAD;
		sp->in = in;
		sp->base = (uint8_t)a;
		sp->ra = c->ra;
		d = def(c, in->rd);
		sp->vreg = (uint8_t)d;
		sp->jrel = tlb_check(c, in, a, ACC_R);
	}
	switch (in->op) {
	case VMC__RV_OP_LB:
		jx_memx(j, true, 0x0fbe, d, RAX, a, imm, false);
		break;
	case VMC__RV_OP_LBU:
		jx_memx(j, false, 0x0fb6, d, RAX, a, imm, false);
		break;
	case VMC__RV_OP_LH:
		jx_memx(j, true, 0x0fbf, d, RAX, a, imm, false);
		break;
	case VMC__RV_OP_LHU:
		jx_memx(j, false, 0x0fb7, d, RAX, a, imm, false);
		break;
	case VMC__RV_OP_LW:
		jx_memx(j, true, 0x63, d, RAX, a, imm, false);
		break;
	case VMC__RV_OP_LWU:
		jx_memx(j, false, 0x8b, d, RAX, a, imm, false);
		break;
	default:
		jx_memx(j, true, 0x8b, d, RAX, a, imm, false);
		break;
	}
	if (!c->grp_on)
		sp->join = j->p;
	if (in->op != VMC__RV_OP_LD && in->op != VMC__RV_OP_LWU)
		set_w(c, d, true);
}

static void emit_store(struct jc *c, const struct rv_insn *in)
{
	struct jx *j = &c->j;
	unsigned a = src(c, in->rs1), v = RCX;
	int32_t imm = (int32_t)in->imm;
	struct slow *sp = &c->sp[c->nsp++];

	/* x0 is stored from rcx, zeroed once the tag is checked (rcx
	 * stands for zero in the slow path too). */
	if (in->rs2)
		v = in->op == VMC__RV_OP_SD ? src(c, in->rs2)
					    : src32(c, in->rs2);
	if (c->grp_on) {
		c->nsp--; /* checked with the group: no slow path */
	} else {
		sp->kind = SP_STORE;
		sp->in = in;
		sp->vreg = (uint8_t)v;
		sp->base = (uint8_t)a;
		sp->ra = c->ra;
		sp->jrel = tlb_check(c, in, a, ACC_W);
	}
	if (v == RCX)
		jx_rr(j, false, 0x31, RCX, RCX);
	switch (in->op) {
	case VMC__RV_OP_SB:
		jx_memx(j, false, 0x88, v, RAX, a, imm, true);
		break;
	case VMC__RV_OP_SH:
		if (jx_room(j, 1))
			jx_b(j, 0x66);
		jx_memx(j, false, 0x89, v, RAX, a, imm, false);
		break;
	case VMC__RV_OP_SW:
		jx_memx(j, false, 0x89, v, RAX, a, imm, false);
		break;
	default:
		jx_memx(j, true, 0x89, v, RAX, a, imm, false);
		break;
	}
	if (!c->grp_on)
		sp->join = j->p;
}

/*
 * Accesses in a row through one base register share one TLB check: slot
 * k and those right after it that are the same kind of access (loads or
 * stores) through the same base register, which none of them but the
 * last changes, each aligned when the lowest address is aligned to the
 * largest size.  Returns the slot after the group (k + 1: no group) and
 * its lowest offset, extent and largest size.
 */
static unsigned group_scan(const struct jc *c, unsigned k, int32_t *lo,
			   uint32_t *span, unsigned *maxsz)
{
	const struct rv_insn *first = &c->b->insns[k];
	enum vmc__rv_mem mem;
	unsigned m, base = first->rs1;
	int64_t l = first->imm, h = first->imm + mem_size(first->op);
	unsigned sz;

	if (first->op == VMC__RV_OP__COUNT) /* the end marker */
		return k + 1;
	mem = vmc__rv_op_mem(first->op);
	sz = mem_size(first->op);
	if ((mem != VMC__RV_MEM_LOAD && mem != VMC__RV_MEM_STORE) || !base ||
	    op_kind(first->op) != K_INLINE)
		return k + 1;
	for (m = k; m < c->nslots; m++) {
		const struct rv_insn *in = &c->b->insns[m];
		int64_t nl, nh;
		unsigned nsz;
		bool ok = true;

		if (in->op == VMC__RV_OP__COUNT ||
		    vmc__rv_op_mem(in->op) != mem || in->rs1 != base ||
		    op_kind(in->op) != K_INLINE)
			break;
		nl = in->imm < l ? in->imm : l;
		nh = in->imm + mem_size(in->op) > h
			     ? in->imm + (int64_t)mem_size(in->op)
			     : h;
		nsz = mem_size(in->op) > sz ? mem_size(in->op) : sz;
		for (unsigned s = k; s <= m; s++) {
			const struct rv_insn *t = &c->b->insns[s];

			if ((t->imm - nl) % mem_size(t->op))
				ok = false;
		}
		if (!ok || nh - nl > 1024)
			break;
		l = nl, h = nh, sz = nsz;
		if (mem == VMC__RV_MEM_LOAD && in->rd == base) {
			m++;
			break;
		}
	}
	*lo = (int32_t)l;
	*span = (uint32_t)(h - l);
	*maxsz = sz;
	return m > k ? m : k + 1;
}

/* Check the TLB once for the group of slots k .. end - 1 (base register
 * a): the lowest address aligned to the largest size, the whole extent
 * in its page; then rax holds the addend for every access of the group.
 * A miss runs the group's slow copy (emit_cold()). */
static void group_check(struct jc *c, unsigned k, unsigned end, unsigned a,
			int32_t lo, uint32_t span, unsigned sz)
{
	struct jx *j = &c->j;
	unsigned acc = vmc__rv_op_mem(c->b->insns[k].op) == VMC__RV_MEM_LOAD
			       ? ACC_R
			       : ACC_W;
	struct slow *sp = &c->sp[c->nsp++];

	c->grp_sp = c->nsp - 1;
	sp->kind = SP_GROUP;
	sp->in = &c->b->insns[k];
	sp->first = k;
	sp->end = end;
	sp->ra = c->ra;
	jx_mem(j, true, 0x8d, RAX, a, lo, false); /* lea rax, [a + lo] */
	jx_mov32(j, RCX, RAX);
	jx_shi(j, false, SH_SHR, RCX, RV_PAGE_SHIFT - 6);
	jx_alui(j, false, ALU_AND, RCX, (TLB_SIZE - 1) << 6);
	jx_mem(j, true, 0x03, RCX, RBP, OFF(dtlb), false); /* add rcx, [] */
	jx_alui(j, true, ALU_AND, RAX, (int32_t)(RV_PAGE_MASK | (sz - 1)));
	jx_mem(j, true, 0x3b, RAX, RCX,
	       (int32_t)(offsetof(struct rv_tlbe, tag) + 8 * acc), false);
	sp->jrel = jx_jcc_fwd(j, CC_NE);
	sp->jrel2 = NULL;
	if (span > sz) {
		/* (a + lo) & 0xfff must leave room for the span. */
		jx_mem(j, false, 0x8d, RAX, a, lo, false);
		jx_alui(j, false, ALU_AND, RAX, (int32_t)~RV_PAGE_MASK);
		jx_alui(j, false, ALU_CMP, RAX,
			(int32_t)(((uint32_t)~RV_PAGE_MASK + 1) - span));
		sp->jrel2 = jx_jcc_fwd(j, CC_A);
	}
	jx_ld(j, RAX, RCX, (int32_t)offsetof(struct rv_tlbe, addend));
}

static bool reads_rs2(unsigned op);

enum { ROT_NONE, ROT_SKIP, ROT_COPY };

/* Whether slot s is an ALU op that cannot leave the block or trap. */
static bool plain_alu(const struct jc *c, unsigned s)
{
	unsigned op = c->b->insns[s].op;

	return op != VMC__RV_OP__COUNT && vmc__rv_op_info[op].br < 0 &&
	       vmc__rv_op_mem(op) == VMC__RV_MEM_NONE &&
	       op_kind(op) == K_INLINE && op != VMC__RV_OP_JAL &&
	       op != VMC__RV_OP_JALR && !vmc__rv_op_is_terminator(op);
}

/* Whether guest register g's value after slot k is never read: a later
 * slot of the block overwrites it without reading it, and nothing between
 * can leave the block or trap (which would show it). */
static bool dead_after(const struct jc *c, unsigned g, unsigned k)
{
	for (unsigned s = k + 1; s < c->nslots; s++) {
		const struct rv_insn *in = &c->b->insns[s];
		unsigned op = in->op;

		if (!plain_alu(c, s))
			return false;
		if (!(c->uses[s] & (1ull << g)))
			continue;
		/* Named: dead when the slot writes g without reading it. */
		if (in->rd != g || !vmc__rv_op_writes_rd(op))
			return false;
		if (op == VMC__RV_OP_LUI || op == VMC__RV_OP_LI ||
		    op == VMC__RV_OP_AUIPC)
			return true;
		return in->rs1 != g && !(reads_rs2(op) && in->rs2 == g);
	}
	return false;
}

/*
 * A rotation written as two shifts and an or: slli t, x, n at slot k,
 * then srli u, x, 64 - n, then or d, t, u (or the 32-bit slliw/srliw, or
 * the right shift first), other ALU ops between, none of which names t,
 * names u after its shift, or writes x before the second shift, and t
 * and u dead after the or (dead_after()).  Then slot k puts the rotation
 * (one rol) in t, the second shift is skipped and the or copies t to d.
 * Nothing between can leave the block or trap, so the interim values of
 * t and u are never seen.  The or of the 32-bit forms' sign-extended
 * halves is the sign extension of the 32-bit rotation.
 */
static bool try_rotate(struct jc *c, unsigned k)
{
	const struct rv_insn *a = &c->b->insns[k], *b = NULL, *o = NULL;
	unsigned x = a->rs1, t = a->rd, u, n, kb, ko, xs, ts, ws;
	bool w32, left;

	switch (a->op) {
	case VMC__RV_OP_SLLIW:
	case VMC__RV_OP_SRLIW:
		w32 = true;
		break;
	case VMC__RV_OP_SLLI:
	case VMC__RV_OP_SRLI:
		w32 = false;
		break;
	default:
		return false;
	}
	left = a->op == VMC__RV_OP_SLLIW || a->op == VMC__RV_OP_SLLI;
	ws = w32 ? 32 : 64;
	if (x == 0 || t == x || t >= 32 || (a->imm & 63) == 0 ||
	    (uint64_t)a->imm >= ws)
		return false;
	for (kb = k + 1; kb < c->nslots && kb <= k + 8; kb++) {
		const struct rv_insn *in = &c->b->insns[kb];

		if (!plain_alu(c, kb) || (c->uses[kb] & (1ull << t)))
			return false;
		if (in->op ==
			    (w32 ? (left ? VMC__RV_OP_SRLIW : VMC__RV_OP_SLLIW)
				 : (left ? VMC__RV_OP_SRLI
					 : VMC__RV_OP_SLLI)) &&
		    in->rs1 == x && (uint64_t)(a->imm + in->imm) == ws) {
			b = in;
			break;
		}
		if (in->rd == x && vmc__rv_op_writes_rd(in->op))
			return false;
	}
	if (!b)
		return false;
	u = b->rd;
	if (u == t || u >= 32)
		return false;
	for (ko = kb + 1; ko < c->nslots && ko <= kb + 8; ko++) {
		const struct rv_insn *in = &c->b->insns[ko];

		if (!plain_alu(c, ko))
			return false;
		if (in->op == VMC__RV_OP_OR &&
		    ((in->rs1 == t && in->rs2 == u) ||
		     (in->rs1 == u && in->rs2 == t))) {
			o = in;
			break;
		}
		if (c->uses[ko] & (1ull << t | 1ull << u))
			return false;
	}
	if (!o || o->rd >= 32 || ko > MAX_BLOCK ||
	    (t != o->rd && !dead_after(c, t, ko)) ||
	    (u != o->rd && !dead_after(c, u, ko)))
		return false;
	n = (unsigned)(left ? a->imm : b->imm);
	xs = w32 ? src32(c, x) : src(c, x);
	ts = def(c, t);
	jx_mov(&c->j, ts, xs);
	jx_shi(&c->j, !w32, SH_ROL, ts, n);
	if (w32)
		set_w(c, ts, false);
	c->rot[kb] = ROT_SKIP;
	c->rot[ko] = ROT_COPY;
	c->rot_src[ko] = (uint8_t)t;
	return true;
}

/* The locks of slot k's operands already in host registers. */
static void slot_locks(struct jc *c, unsigned k)
{
	c->ra.lock = 0;
	for (unsigned hr = 0; hr < 16; hr++)
		if (c->ra.h2g[hr] >= 0 && k < c->nslots &&
		    (c->uses[k] & (1ull << c->ra.h2g[hr])))
			c->ra.lock |= (uint16_t)(1u << hr);
	c->cur = k;
}

/* Call jit_exec() for the slot: everything written back, the caller-saved
 * registers and rd forgotten. */
static void emit_call(struct jc *c, const struct rv_insn *in)
{
	struct jx *j = &c->j;
	struct slow *sp;

	ra_writeback(j, &c->ra);
	c->ra.dirty = 0;
	c->ra.sx |= c->ra.lazy; /* extended by the write-back */
	c->ra.lazy = 0;
	for (unsigned hr = 0; hr < 16; hr++)
		if (CALLER_SAVED & (1u << hr))
			ra_unmap(&c->ra, hr);
	if (vmc__rv_op_writes_rd(in->op) && c->ra.g2h[in->rd] >= 0)
		ra_unmap(&c->ra, (unsigned)c->ra.g2h[in->rd]);
	sync_retired(c);
	jx_mov(j, RDI, RBP);
	jx_movi(j, RSI, (uint64_t)(uintptr_t)in);
	jx_call(j, (const void *)jit_exec);
	jx_rr(j, false, 0x85, RAX, RAX);
	sp = &c->sp[c->nsp++];
	sp->kind = SP_CALL;
	sp->in = in;
	sp->jrel = jx_jcc_fwd(j, CC_NE);
}

/* A conditional branch: cmp, then the exits (count for both ways). */
static void emit_branch_end(struct jc *c, unsigned cc, uint64_t taken,
			    uint64_t fall, unsigned count)
{
	struct jx *j = &c->j;
	uint8_t *jt;

	if (c->loop_head && taken == c->b->vpc) {
		/* Round the loop in host registers. */
		if (memcmp(c->ra.h2g, c->head_ra.h2g, sizeof(c->ra.h2g)))
			c->head_differs = true;
		ra_settle_all(c); /* movsxd keeps the flags */
		jx_jcc_to(j, cc, c->loop_head);
		ra_writeback(j, &c->ra);
		exit_chain(c, fall, count);
		return;
	}
	ra_writeback(j, &c->ra); /* moves only: the flags live on */
	jt = jx_jcc_fwd(j, cc);
	exit_chain(c, fall, count);
	jx_patch_here(j, jt);
	exit_chain(c, taken, count);
}

/* The slow paths and side exits, after the body. */
static void emit_cold(struct jc *c)
{
	struct jx *j = &c->j;

	for (unsigned k = 0; k < c->nsp; k++) {
		struct slow *sp = &c->sp[k];
		const struct rv_insn *in = sp->in;
		uint64_t pc = pc_of(c, in);
		uint8_t *jf, *jw;

		jx_patch_here(j, sp->jrel);
		for (unsigned f = 0; sp->kind == SP_FP && f < sp->nfail; f++)
			jx_patch_here(j, sp->fail[f]);
		switch (sp->kind) {
		case SP_GROUP:
			/* The group access by access, each with its own TLB
			 * check and slow path, from and to the same
			 * allocation as the fast copy. */
			jx_patch_here(j, sp->jrel2);
			c->ra = sp->ra;
			for (unsigned s = sp->first; s < sp->end; s++) {
				slot_locks(c, s);
				if (vmc__rv_op_mem(c->b->insns[s].op) ==
				    VMC__RV_MEM_LOAD)
					emit_load(c, &c->b->insns[s]);
				else
					emit_store(c, &c->b->insns[s]);
			}
			if (memcmp(c->ra.g2h, sp->ra_end.g2h,
				   sizeof(c->ra.g2h)) ||
			    c->ra.dirty != sp->ra_end.dirty ||
			    c->ra.lazy != sp->ra_end.lazy ||
			    c->ra.sx != sp->ra_end.sx)
				c->grp_differs = true;
			jx_jmp_to(j, sp->join);
			continue;
		case SP_SIDE:
			ra_writeback(j, &sp->ra);
			exit_chain(c, sp->target, in->idx + 1u);
			continue;
		case SP_CALL:
			/* Registers are in the hart already. */
			jx_alui(j, false, ALU_CMP, RAX, RV_JIT_EXC);
			jw = jx_jcc_fwd(j, CC_NE);
			exit_out(c, pc, in->idx, RV_JIT_EXC);
			jx_patch_here(j, jw);
			exit_out(c, pc + in->len, in->idx + 1u, RV_JIT_WATCH);
			continue;
		case SP_LOAD:
			/* The base may be rdi or rdx: the address first. */
			ra_writeback(j, &sp->ra);
			sync_retired(c);
			jx_mem(j, true, 0x8d, RSI, sp->base, (int32_t)in->imm,
			       false); /* lea rsi, [base + imm] */
			jx_mov(j, RDI, RBP);
			jx_movi(j, RDX, in->op);
			jx_call(j, (const void *)jit_load);
			jx_rr(j, false, 0x85, RDX, RDX);
			break;
		case SP_FP:
			/* The whole op in the helper, then as a load's. */
			ra_writeback(j, &sp->ra);
			sync_retired(c);
			jx_mov(j, RDI, RBP);
			jx_movi(j, RSI, (uint64_t)(uintptr_t)in);
			jx_call(j, (const void *)jit_fp_slow);
			jx_rr(j, false, 0x85, RDX, RDX);
			break;
		default:
			ra_writeback(j, &sp->ra);
			sync_retired(c);
			/* The base and the value may be any of rsi, rdi and
			 * rdx: the address goes through rcx. */
			jx_mem(j, true, 0x8d, RCX, sp->base, (int32_t)in->imm,
			       false); /* lea rcx, [base + imm] */
			if (sp->vreg == RCX)
				jx_movi(j, RDX, 0);
			else
				jx_mov(j, RDX, sp->vreg);
			jx_mov(j, RSI, RCX);
			jx_mov(j, RDI, RBP);
			jx_movi(j, RCX, in->op);
			jx_call(j, (const void *)jit_store);
			jx_mov(j, RDX, RAX);
			jx_rr(j, false, 0x85, RDX, RDX);
			break;
		}
		jf = jx_jcc_fwd(j, CC_NE);
		ra_reload(j, &sp->ra);
		if (sp->kind == SP_LOAD)
			jx_mov(j, sp->vreg, RAX);
		jx_jmp_to(j, sp->join);
		jx_patch_here(j, jf);
		jx_alui(j, false, ALU_CMP, RDX, RV_JIT_EXC);
		jw = jx_jcc_fwd(j, CC_NE);
		exit_out(c, pc, in->idx, RV_JIT_EXC);
		jx_patch_here(j, jw);
		/* The access is done: a load's value goes to rd. */
		if (sp->kind == SP_LOAD)
			jx_st(j, RAX, RBP, OFF_X(in->rd));
		exit_out(c, pc + in->len, in->idx + 1u, RV_JIT_WATCH);
	}
}

/* Emit one slot; false when the translation ends before it. */
static bool emit_slot(struct jc *c, const struct rv_insn *in,
		      const struct rv_dispatch *d, bool *ended)
{
	struct jx *j = &c->j;
	unsigned op = in->op, a, b, dr;
	int br;

	*ended = false;
	if (op == VMC__RV_OP__COUNT) {
		ra_writeback(j, &c->ra);
		exit_chain(c, (uint64_t)in->imm, c->b->n);
		*ended = true;
		return true;
	}
	br = vmc__rv_op_info[op].br;
	if (br >= 0) {
		unsigned cc = br_cc[br];
		uint64_t fall = pc_of(c, in) + in->len;

		for (unsigned k = 0; k < VMC__RV_LOOPADD__COUNT; k++) {
			if (in->h != d->loopadd[k][br][0] &&
			    in->h != d->loopadd[k][br][1])
				continue;
			/* The loop counter's add, then the loop's branch
			 * comparing its result with x[raw]. */
			struct rv_insn add = *in;

			add.op = loopadd_op[k];
			if (add.op == VMC__RV_OP_ADDI ||
			    add.op == VMC__RV_OP_ADDIW)
				addi(c, &add);
			else
				binop(c, &add, ALU_ADD,
				      add.op == VMC__RV_OP_ADD);
			cc = cmp_regs(c, add.rd, in->raw, cc);
			emit_branch_end(c, cc, c->b->vpc, fall, c->b->n);
			*ended = true;
			return true;
		}
		cc = cmp_regs(c, in->rs1, in->rs2, cc);
		if (in->h == d->side[br][0] || in->h == d->side[br][1]) {
			struct slow *sp = &c->sp[c->nsp++];

			sp->kind = SP_SIDE;
			sp->in = in;
			sp->target = (uint64_t)in->imm;
			sp->ra = c->ra;
			sp->jrel = jx_jcc_fwd(j, cc);
			return true;
		}
		emit_branch_end(c, cc, (uint64_t)in->imm, fall, c->b->n);
		*ended = true;
		return true;
	}
	switch (op_kind(op)) {
	case K_STOP:
		return false;
	case K_NOP:
		return true;
	case K_CALL:
		if (!rv_jit_fp_emit(c, &c->fp, in))
			emit_call(c, in);
		return true;
	default:
		break;
	}
	switch (op) {
	case VMC__RV_OP_LUI:
	case VMC__RV_OP_LI:
	case VMC__RV_OP_AUIPC:
		dr = def(c, in->rd);
		jx_movi(j, dr, (uint64_t)in->imm);
		if (in->imm == (int32_t)in->imm)
			set_w(c, dr, true);
		break;
	case VMC__RV_OP_MV:
		copy_reg(c, in->rd, in->rs1);
		break;
	case VMC__RV_OP_ZEXT_W:
		a = src32(c, in->rs1);
		jx_mov32(j, def(c, in->rd), a);
		break;
	case VMC__RV_OP_ADD_UW:
		a = src32(c, in->rs1);
		jx_mov32(j, RAX, a);
		jx_alu(j, true, ALU_ADD, RAX, src(c, in->rs2));
		jx_mov(j, def(c, in->rd), RAX);
		break;
	case VMC__RV_OP_SH_ADD:
		/* rd = (rs1 << imm) + rs2: one lea up to a shift by 3. */
		a = src(c, in->rs1);
		b = src(c, in->rs2);
		dr = def(c, in->rd);
		if ((in->imm & 63) <= 3) {
			jx_lea_sc(j, true, dr, b, a, (unsigned)in->imm & 3);
			break;
		}
		jx_mov(j, RAX, a);
		jx_shi(j, true, SH_SHL, RAX, (unsigned)in->imm & 63);
		jx_alu(j, true, ALU_ADD, RAX, b);
		jx_mov(j, dr, RAX);
		break;
	case VMC__RV_OP_ADDI:
	case VMC__RV_OP_ADDIW:
		addi(c, in);
		break;
	case VMC__RV_OP_SLTI:
		setcmp(c, in, CC_L, true);
		break;
	case VMC__RV_OP_SLTIU:
		setcmp(c, in, CC_B, true);
		break;
	case VMC__RV_OP_SLT:
		setcmp(c, in, CC_L, false);
		break;
	case VMC__RV_OP_SLTU:
		setcmp(c, in, CC_B, false);
		break;
	case VMC__RV_OP_XORI:
		aluimm(c, in, ALU_XOR);
		break;
	case VMC__RV_OP_ORI:
		aluimm(c, in, ALU_OR);
		break;
	case VMC__RV_OP_ANDI:
		aluimm(c, in, ALU_AND);
		break;
	case VMC__RV_OP_SLLI:
		shift_imm(c, in, SH_SHL, true);
		break;
	case VMC__RV_OP_SRLI:
		shift_imm(c, in, SH_SHR, true);
		break;
	case VMC__RV_OP_SRAI:
		shift_imm(c, in, SH_SAR, true);
		break;
	case VMC__RV_OP_SLLIW:
		shift_imm(c, in, SH_SHL, false);
		break;
	case VMC__RV_OP_SRLIW:
		shift_imm(c, in, SH_SHR, false);
		break;
	case VMC__RV_OP_SRAIW:
		shift_imm(c, in, SH_SAR, false);
		break;
	case VMC__RV_OP_ADD:
		binop(c, in, ALU_ADD, true);
		break;
	case VMC__RV_OP_SUB:
		binop(c, in, ALU_SUB, true);
		break;
	case VMC__RV_OP_XOR:
		binop(c, in, ALU_XOR, true);
		break;
	case VMC__RV_OP_OR:
		binop(c, in, ALU_OR, true);
		break;
	case VMC__RV_OP_AND:
		binop(c, in, ALU_AND, true);
		break;
	case VMC__RV_OP_ADDW:
		binop(c, in, ALU_ADD, false);
		break;
	case VMC__RV_OP_SUBW:
		binop(c, in, ALU_SUB, false);
		break;
	case VMC__RV_OP_MUL:
		binop(c, in, -1, true);
		break;
	case VMC__RV_OP_MULW:
		binop(c, in, -1, false);
		break;
	case VMC__RV_OP_SLL:
		shift_reg(c, in, SH_SHL, true);
		break;
	case VMC__RV_OP_SRL:
		shift_reg(c, in, SH_SHR, true);
		break;
	case VMC__RV_OP_SRA:
		shift_reg(c, in, SH_SAR, true);
		break;
	case VMC__RV_OP_SLLW:
		shift_reg(c, in, SH_SHL, false);
		break;
	case VMC__RV_OP_SRLW:
		shift_reg(c, in, SH_SHR, false);
		break;
	case VMC__RV_OP_SRAW:
		shift_reg(c, in, SH_SAR, false);
		break;
	case VMC__RV_OP_MULH:
	case VMC__RV_OP_MULHU:
	case VMC__RV_OP_MULHSU:
		mulhigh(c, in, op);
		break;
	case VMC__RV_OP_DIV:
	case VMC__RV_OP_DIVU:
	case VMC__RV_OP_REM:
	case VMC__RV_OP_REMU:
	case VMC__RV_OP_DIVW:
	case VMC__RV_OP_DIVUW:
	case VMC__RV_OP_REMW:
	case VMC__RV_OP_REMUW:
		divide(c, in, op);
		break;
	case VMC__RV_OP_LB:
	case VMC__RV_OP_LH:
	case VMC__RV_OP_LW:
	case VMC__RV_OP_LD:
	case VMC__RV_OP_LBU:
	case VMC__RV_OP_LHU:
	case VMC__RV_OP_LWU:
		emit_load(c, in);
		break;
	case VMC__RV_OP_SB:
	case VMC__RV_OP_SH:
	case VMC__RV_OP_SW:
	case VMC__RV_OP_SD:
		emit_store(c, in);
		break;
	case VMC__RV_OP_JAL:
		jx_movi(j, def(c, in->rd), pc_of(c, in) + in->len);
		if (c->loop_head && (uint64_t)in->imm == c->b->vpc) {
			if (memcmp(c->ra.h2g, c->head_ra.h2g,
				   sizeof(c->ra.h2g)))
				c->head_differs = true;
			ra_settle_all(c);
			jx_jmp_to(j, c->loop_head);
			*ended = true;
			break;
		}
		ra_writeback(j, &c->ra);
		exit_chain(c, (uint64_t)in->imm, c->b->n);
		*ended = true;
		break;
	case VMC__RV_OP_JALR:
		a = src(c, in->rs1);
		jx_mem(j, true, 0x8d, RAX, a, (int32_t)in->imm, false);
		jx_alui(j, true, ALU_AND, RAX, -2);
		jx_st(j, RAX, RBP, OFF(pc));
		jx_movi(j, def(c, in->rd), pc_of(c, in) + in->len);
		ra_writeback(j, &c->ra);
		count_insns(c, c->b->n);
		exit_lookup(c);
		*ended = true;
		break;
	default:
		return false;
	}
	return true;
}

/* Reads rs2 (the others' rs2 field is not a register). */
static bool reads_rs2(unsigned op)
{
	if (vmc__rv_op_is_branch(op) || vmc__rv_op_mem(op) == VMC__RV_MEM_STORE)
		return true;
	return (op >= VMC__RV_OP_ADD && op <= VMC__RV_OP_AND) ||
	       (op >= VMC__RV_OP_ADDW && op <= VMC__RV_OP_SRAW) ||
	       (op >= VMC__RV_OP_MUL && op <= VMC__RV_OP_REMUW) ||
	       op == VMC__RV_OP_ADD_UW || op == VMC__RV_OP_SH_ADD;
}

/*
 * A block that branches (or jumps) back to its start, with no helper
 * call, may keep every guest register it uses in a host register from
 * one iteration to the next: returns them as a mask (bit 32 the sink),
 * *written those it writes, or 0 when the block is not such a loop or
 * uses more registers than there are.
 */
static uint64_t loop_regs(const struct jc *c, const struct rv_dispatch *d,
			  uint64_t *written)
{
	const struct rv_block *b = c->b;
	uint64_t m = 0, w = 0;

	for (unsigned k = 0;; k++) {
		const struct rv_insn *in = &b->insns[k];
		unsigned op = in->op;
		int br;

		if (op == VMC__RV_OP__COUNT || op == VMC__RV_OP_JALR)
			return 0;
		br = vmc__rv_op_info[op].br;
		if (br >= 0) {
			m |= 1ull << in->rs1 | 1ull << in->rs2;
			for (unsigned a = 0; a < VMC__RV_LOOPADD__COUNT; a++) {
				if (in->h != d->loopadd[a][br][0] &&
				    in->h != d->loopadd[a][br][1])
					continue;
				if (loopadd_op[a] == VMC__RV_OP_ADDI ||
				    loopadd_op[a] == VMC__RV_OP_ADDIW)
					m &= ~(1ull << in->rs2);
				m |= 1ull << in->raw | 1ull << in->rd;
				w |= 1ull << in->rd;
				goto loop;
			}
			if (in->h == d->side[br][0] || in->h == d->side[br][1])
				continue;
			if ((uint64_t)in->imm != b->vpc)
				return 0;
			goto loop;
		}
		if (op_kind(op) == K_NOP)
			continue;
		if (op_kind(op) == K_CALL && rv_jit_fp_inlines(&c->fp, in)) {
			uint64_t fw;

			m |= rv_jit_fp_xregs(in, &fw);
			w |= fw;
			continue;
		}
		if (op_kind(op) != K_INLINE)
			return 0;
		if (op != VMC__RV_OP_LUI && op != VMC__RV_OP_LI &&
		    op != VMC__RV_OP_AUIPC && op != VMC__RV_OP_JAL)
			m |= 1ull << in->rs1;
		if (reads_rs2(op))
			m |= 1ull << in->rs2;
		if (vmc__rv_op_writes_rd(op)) {
			m |= 1ull << in->rd;
			w |= 1ull << in->rd;
		}
		if (op == VMC__RV_OP_JAL) {
			if ((uint64_t)in->imm != b->vpc)
				return 0;
			goto loop;
		}
	}
loop:
	if (__builtin_popcountll(m) > (int)sizeof(pool))
		return 0;
	*written = w;
	return m;
}

static int compile(struct jc *c, struct rv_block *b,
		   const struct rv_dispatch *d, bool loop)
{
	struct jx *j = &c->j;
	uint8_t *entry = j->p, *jk, *jb;
	uint64_t regs = 0, written = 0;
	unsigned k;
	bool ended = false;

	c->nslots = 0;
	memset(c->rot, ROT_NONE, sizeof(c->rot));
	for (unsigned s = 0; s <= MAX_BLOCK; s++) {
		const struct rv_insn *in = &b->insns[s];
		uint64_t m = 1ull << in->rs1 | 1ull << in->rs2 | 1ull << in->rd;

		if (in->op == VMC__RV_OP__COUNT) {
			c->uses[c->nslots++] = 0;
			break;
		}
		if (vmc__rv_op_info[in->op].br >= 0)
			m |= 1ull << (in->raw & 31);
		else if (!reads_rs2(in->op))
			m &= ~(1ull << in->rs2) | 1ull << in->rd;
		c->uses[c->nslots++] = m;
		/* A branch is a terminator unless the block goes on past
		 * it (a side exit). */
		if (vmc__rv_op_is_branch(in->op)) {
			int br = vmc__rv_op_info[in->op].br;

			if (in->h != d->side[br][0] && in->h != d->side[br][1])
				break;
		} else if (vmc__rv_op_is_terminator(in->op)) {
			break;
		}
	}
	if (loop)
		regs = loop_regs(c, d, &written);
	if (regs) {
		/* Every register the loop uses, then each iteration counts
		 * itself first. */
		for (unsigned g = 0; g < NGREG; g++)
			if (regs & (1ull << g))
				src(c, g);
		for (unsigned g = 0; g < NGREG; g++)
			if (written & (1ull << g))
				c->ra.dirty |= (uint16_t)(1u << c->ra.g2h[g]);
		c->ra.lock = 0;
		c->head_ra = c->ra;
		c->loop_head = j->p;
		jx_alumi(j, false, ALU_CMP, RBP, OFF(kick), 0);
		jk = jx_jcc_fwd(j, CC_NE);
		jx_alui(j, true, ALU_SUB, R15, (int32_t)b->n);
		jb = jx_jcc_fwd(j, CC_B);
		c->bias = b->n;
	} else {
		/* Kick and budget. */
		jx_alumi(j, false, ALU_CMP, RBP, OFF(kick), 0);
		jk = jx_jcc_fwd(j, CC_NE);
		jx_alui(j, true, ALU_CMP, R15, (int32_t)b->n);
		jb = jx_jcc_fwd(j, CC_B);
	}
	for (k = 0; !ended; k++) {
		const struct rv_insn *in = &b->insns[k];

		/* The slot's operands already in host registers stay there
		 * while it takes others. */
		slot_locks(c, k);
		if (!c->grp_off && k >= c->grp_end && k < c->nslots) {
			int32_t lo;
			uint32_t span;
			unsigned sz, end = group_scan(c, k, &lo, &span, &sz);

			if (end > k + 1) {
				group_check(c, k, end, src(c, in->rs1), lo,
					    span, sz);
				c->grp_end = end;
				c->grp_on = true;
			}
		}
		if (c->rot[k] == ROT_SKIP)
			continue;
		if (c->rot[k] == ROT_COPY) {
			copy_reg(c, in->rd, c->rot_src[k]);
			continue;
		}
		if (!c->grp_on && try_rotate(c, k))
			continue;
		if (!emit_slot(c, in, d, &ended)) {
			if (k == 0)
				return -ENOTSUP;
			/* The interpreter goes on from this slot of this
			 * block, which is its last. */
			ra_writeback(j, &c->ra);
			jx_movi(j, RAX, (uint64_t)(uintptr_t)b);
			jx_st(j, RAX, RBP, OFF(jit_from));
			jx_movi(j, RAX, k);
			jx_mem(j, false, 0x89, RAX, RBP, OFF(jit_slot), false);
			jx_movi(j, RAX, RV_JIT_SLOT);
			jx_jmp_to(j, c->epilogue);
			break;
		}
		if (c->grp_on && k + 1 == c->grp_end) {
			c->sp[c->grp_sp].join = j->p;
			c->sp[c->grp_sp].ra_end = c->ra;
			c->grp_on = false;
		}
	}
	if (c->head_differs)
		return -EAGAIN;
	c->grp_on = false;
	if (regs) {
		/* Leaving at the head: undo the iteration's count. */
		jx_patch_here(j, jb);
		jx_alui(j, true, ALU_ADD, R15, (int32_t)b->n);
		jx_patch_here(j, jk);
		ra_writeback(j, &c->head_ra);
		jx_movi(j, RAX, b->vpc);
		jx_st(j, RAX, RBP, OFF(pc));
		jx_movi(j, RAX, RV_JIT_OUT);
		jx_jmp_to(j, c->epilogue);
	} else {
		jx_patch_here(j, jk);
		jx_patch_here(j, jb);
		exit_out(c, b->vpc, 0, RV_JIT_OUT);
	}
	emit_cold(c);
	if (c->grp_differs)
		return -EAGAIN;
	if (j->overflow)
		return -ENOSPC;
	b->jit = (const void *)jx_rx(j, entry);
	return 0;
}

/*
 * A developer's view of the code: with VMC_TCG_JIT_DUMP=PATH set, every
 * translated block appends its host code to PATH.bin and a line "vpc n
 * offset length binoffset" (hex; offset in the code buffer, as perf shows
 * addresses in the memfd) to PATH.  bench/tcg/jit-dump.py disassembles
 * them.  Called under the buffer's lock.
 */
static void jit_dump(const struct rv_block *b, const uint8_t *rw, size_t off,
		     size_t len)
{
	static int state; /* 0 unknown, 1 on, -1 off */
	static char idx[512], bin[520];
	const char *e;
	char line[128];
	int fi, fb, n;
	off_t at;

	if (state == 0) {
		e = getenv("VMC_TCG_JIT_DUMP");
		state = e && e[0] && strlen(e) < sizeof(idx) ? 1 : -1;
		if (state > 0) {
			snprintf(idx, sizeof(idx), "%s", e);
			snprintf(bin, sizeof(bin), "%s.bin", e);
		}
	}
	if (state < 0)
		return;
	fi = open(idx, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	fb = open(bin, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fi >= 0 && fb >= 0) {
		at = lseek(fb, 0, SEEK_END);
		if (at >= 0 && write(fb, rw + off, len) == (ssize_t)len) {
			n = snprintf(line, sizeof(line),
				     "%" PRIx64 " %x %zx %zx %jx\n", b->vpc,
				     (unsigned)b->n, off, len, (intmax_t)at);
			if (write(fi, line, (size_t)n) != n)
				state = -1;
		}
	}
	if (fi >= 0)
		close(fi);
	if (fb >= 0)
		close(fb);
}

int rv_jit_compile(struct vmc__rv_hart *h, struct rv_block *b,
		   const struct rv_dispatch *d)
{
	struct rv_jit_buf *buf = h->shared->jit;
	struct jc *c;
	int r;

	b->jit = NULL;
	if (!buf || b->flags)
		return -ENOTSUP;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOTSUP;
	pthread_mutex_lock(&buf->lock);
	for (int loop = 1, grp_off = 0; loop >= 0; loop--) {
		c->j = (struct jx){buf->rw + buf->used, buf->rw + buf->size,
				   buf->rx - buf->rw, false};
		c->h = h;
		c->b = b;
		c->epilogue = buf->epilogue;
		c->lookup = buf->lookup;
		c->nsp = 0;
		c->loop_head = NULL;
		c->bias = 0;
		c->head_differs = false;
		rv_jit_fp_init(&c->fp);
		c->grp_end = 0;
		c->grp_on = c->grp_differs = false;
		c->grp_off = grp_off;
		ra_init(&c->ra);
		r = compile(c, b, d, loop);
		if (r == -EAGAIN && c->grp_differs && !grp_off) {
			/* Again without groups, in the same form. */
			grp_off = 1;
			loop++;
			continue;
		}
		if (r != -EAGAIN)
			break;
	}
	if (r == 0) {
		size_t off = (size_t)((const uint8_t *)b->jit - buf->rx);

		jit_dump(b, buf->rw, off, (size_t)(c->j.p - buf->rw) - off);
		buf->used = ((size_t)(c->j.p - buf->rw) + 15) & ~(size_t)15;
	} else if (r == -ENOSPC && buf->size - buf->used > JIT_BLOCK_ROOM)
		r = -ENOTSUP; /* a block that big: interpret it */
	pthread_mutex_unlock(&buf->lock);
	free(c);
	if (r != -ENOSPC)
		return r;
	/* Full. */
	pthread_mutex_lock(&h->shared->lock);
	if (h->shared->nharts == 1) {
		pthread_mutex_unlock(&h->shared->lock);
		/* b goes with the others; its pc is decoded again and
		 * becomes hot again. */
		vmc__rv_hart_flush_blocks(h);
		rv_jit_buf_reset(buf);
		h->jit_flushed = true;
		return r;
	}
	pthread_mutex_unlock(&h->shared->lock);
	atomic_store(&buf->want_flush, true);
	return r;
}

/* ------------------------------------------------------------------------
 * Services for the F/D emitter (rv-jit-fp.h)
 */

struct jx *rv_jit_jx(struct jc *c)
{
	return &c->j;
}

unsigned rv_jit_src(struct jc *c, unsigned g)
{
	return src(c, g);
}

unsigned rv_jit_def(struct jc *c, unsigned g)
{
	return def(c, g);
}

void rv_jit_slow_begin(struct jc *c, const struct rv_insn *in)
{
	struct slow *sp = &c->sp[c->nsp++];

	sp->kind = SP_FP;
	sp->in = in;
	sp->jrel = NULL;
	sp->nfail = 0;
	sp->ra = c->ra;
}

void rv_jit_slow_fail(struct jc *c, uint8_t *rel)
{
	struct slow *sp = &c->sp[c->nsp - 1];

	/* No op has more checks (rv-jit-fp.c: seven at most). */
	assert(sp->nfail < sizeof(sp->fail) / sizeof(sp->fail[0]));
	sp->fail[sp->nfail++] = rel;
}

void rv_jit_slow_join(struct jc *c)
{
	struct slow *sp = &c->sp[c->nsp - 1];

	sp->join = c->j.p;
	if (!sp->nfail)
		c->nsp--; /* nothing jumps there */
}
