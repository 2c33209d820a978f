/* SPDX-License-Identifier: MIT */
/*
 * A small x86-64 instruction emitter for the RV64 translator (rv-jit.c).
 *
 * Code is written through the writable view of the code buffer (p) and
 * runs from the executable view, rx bytes further on (the two views map
 * the same memory; see rv-jit.c).  Every emit function checks room first
 * and, when the block's space runs out, sets overflow and writes nothing
 * more; the translator then gives the block up.  Registers are numbered
 * as in the instruction encoding (RAX 0 .. R15 15).
 */
#ifndef VMC_ACCEL_TCG_RISCV_RV_JIT_X86_H
#define VMC_ACCEL_TCG_RISCV_RV_JIT_X86_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum {
	RAX,
	RCX,
	RDX,
	RBX,
	RSP,
	RBP,
	RSI,
	RDI,
	R8,
	R9,
	R10,
	R11,
	R12,
	R13,
	R14,
	R15,
};

/* Condition codes (the low nibble of jcc / setcc). */
enum {
	CC_O,
	CC_NO,
	CC_B,
	CC_AE,
	CC_E,
	CC_NE,
	CC_BE,
	CC_A,
	CC_S,
	CC_NS,
	CC_P,
	CC_NP,
	CC_L,
	CC_GE,
	CC_LE,
	CC_G,
};

/* Group-1 ALU operations (the /digit of 81/83, and op = 8 * digit + 1 for
 * the register form). */
enum {
	ALU_ADD = 0,
	ALU_OR = 1,
	ALU_AND = 4,
	ALU_SUB = 5,
	ALU_XOR = 6,
	ALU_CMP = 7
};

/* Group-2 shifts (the /digit of C1/D3). */
enum { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

struct jx {
	uint8_t *p, *end; /* writable view: next byte, end of room */
	intptr_t rx;	  /* executable address - writable address */
	bool overflow;
};

static inline uintptr_t jx_rx(const struct jx *j, const uint8_t *p)
{
	return (uintptr_t)p + (uintptr_t)j->rx;
}

static inline bool jx_room(struct jx *j, unsigned n)
{
	if (j->overflow || (size_t)(j->end - j->p) < n) {
		j->overflow = true;
		return false;
	}
	return true;
}

static inline void jx_b(struct jx *j, uint8_t v)
{
	*j->p++ = v;
}

static inline void jx_d(struct jx *j, uint32_t v)
{
	memcpy(j->p, &v, 4);
	j->p += 4;
}

static inline void jx_q(struct jx *j, uint64_t v)
{
	memcpy(j->p, &v, 8);
	j->p += 8;
}

/* REX prefix: w (64-bit), r (modrm.reg), x (sib.index), b (rm / base);
 * force emits 0x40 even when nothing is set (byte registers sil, dil). */
static inline void jx_rex(struct jx *j, bool w, unsigned r, unsigned x,
			  unsigned b, bool force)
{
	uint8_t v = (uint8_t)(0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 |
			      ((x >> 3) & 1) << 1 | ((b >> 3) & 1));

	if (v != 0x40 || force)
		jx_b(j, v);
}

/* ModRM for a register operand. */
static inline void jx_modrr(struct jx *j, unsigned reg, unsigned rm)
{
	jx_b(j, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* ModRM (and SIB) for [base + disp]. */
static inline void jx_modmem(struct jx *j, unsigned reg, unsigned base,
			     int32_t disp)
{
	unsigned mod = disp == 0 && (base & 7) != RBP ? 0
		       : disp >= -128 && disp <= 127  ? 1
						      : 2;

	jx_b(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
	if ((base & 7) == RSP)
		jx_b(j, 0x24);
	if (mod == 1)
		jx_b(j, (uint8_t)(int8_t)disp);
	else if (mod == 2)
		jx_d(j, (uint32_t)disp);
}

/* op reg, [base + disp] or op [base + disp], reg: one opcode byte (or
 * 0x0f and one), w for 64 bits. */
static inline void jx_mem(struct jx *j, bool w, unsigned op, unsigned reg,
			  unsigned base, int32_t disp, bool force)
{
	if (!jx_room(j, 16))
		return;
	jx_rex(j, w, reg, 0, base, force);
	if (op > 0xff)
		jx_b(j, (uint8_t)(op >> 8));
	jx_b(j, (uint8_t)op);
	jx_modmem(j, reg, base, disp);
}

/* op reg, [base + index + disp] or op [base + index + disp], reg (index
 * not rsp). */
static inline void jx_memx(struct jx *j, bool w, unsigned op, unsigned reg,
			   unsigned base, unsigned index, int32_t disp,
			   bool force)
{
	unsigned mod = disp == 0 && (base & 7) != RBP ? 0
		       : disp >= -128 && disp <= 127  ? 1
						      : 2;

	if (!jx_room(j, 16))
		return;
	jx_rex(j, w, reg, index, base, force);
	if (op > 0xff)
		jx_b(j, (uint8_t)(op >> 8));
	jx_b(j, (uint8_t)op);
	jx_b(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
	jx_b(j, (uint8_t)((index & 7) << 3 | (base & 7)));
	if (mod == 1)
		jx_b(j, (uint8_t)(int8_t)disp);
	else if (mod == 2)
		jx_d(j, (uint32_t)disp);
}

/* op rm, reg in register form. */
static inline void jx_rr(struct jx *j, bool w, unsigned op, unsigned reg,
			 unsigned rm)
{
	if (!jx_room(j, 8))
		return;
	jx_rex(j, w, reg, 0, rm, false);
	if (op > 0xff)
		jx_b(j, (uint8_t)(op >> 8));
	jx_b(j, (uint8_t)op);
	jx_modrr(j, reg, rm);
}

/* mov dst, src (64 bits). */
static inline void jx_mov(struct jx *j, unsigned dst, unsigned src)
{
	if (dst != src)
		jx_rr(j, true, 0x89, src, dst);
}

/* mov dst32, src32 (zero-extends). */
static inline void jx_mov32(struct jx *j, unsigned dst, unsigned src)
{
	jx_rr(j, false, 0x89, src, dst);
}

/* ALU dst, src (64 or 32 bits). */
static inline void jx_alu(struct jx *j, bool w, unsigned alu, unsigned dst,
			  unsigned src)
{
	jx_rr(j, w, alu * 8 + 1, src, dst);
}

/* ALU dst, imm (sign-extended 32 bits). */
static inline void jx_alui(struct jx *j, bool w, unsigned alu, unsigned dst,
			   int32_t imm)
{
	if (!jx_room(j, 8))
		return;
	jx_rex(j, w, 0, 0, dst, false);
	if (imm >= -128 && imm <= 127) {
		jx_b(j, 0x83);
		jx_modrr(j, alu, dst);
		jx_b(j, (uint8_t)(int8_t)imm);
	} else {
		jx_b(j, 0x81);
		jx_modrr(j, alu, dst);
		jx_d(j, (uint32_t)imm);
	}
}

/* ALU qword or dword [base + disp], imm. */
static inline void jx_alumi(struct jx *j, bool w, unsigned alu, unsigned base,
			    int32_t disp, int32_t imm)
{
	bool small = imm >= -128 && imm <= 127;

	jx_mem(j, w, small ? 0x83 : 0x81, alu, base, disp, false);
	if (!jx_room(j, 4))
		return;
	if (small)
		jx_b(j, (uint8_t)(int8_t)imm);
	else
		jx_d(j, (uint32_t)imm);
}

/* mov reg, imm (the shortest form that gives the 64-bit value). */
static inline void jx_movi(struct jx *j, unsigned reg, uint64_t v)
{
	if (!jx_room(j, 10))
		return;
	if (v == 0) {
		jx_rr(j, false, 0x31, reg, reg); /* xor r32, r32 */
	} else if (v <= UINT32_MAX) {
		jx_rex(j, false, 0, 0, reg, false);
		jx_b(j, (uint8_t)(0xb8 + (reg & 7)));
		jx_d(j, (uint32_t)v);
	} else if ((int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX) {
		jx_rex(j, true, 0, 0, reg, false);
		jx_b(j, 0xc7);
		jx_modrr(j, 0, reg);
		jx_d(j, (uint32_t)v);
	} else {
		jx_rex(j, true, 0, 0, reg, false);
		jx_b(j, (uint8_t)(0xb8 + (reg & 7)));
		jx_q(j, v);
	}
}

/* mov reg, qword [base + disp] / mov qword [base + disp], reg. */
static inline void jx_ld(struct jx *j, unsigned reg, unsigned base,
			 int32_t disp)
{
	jx_mem(j, true, 0x8b, reg, base, disp, false);
}

static inline void jx_st(struct jx *j, unsigned reg, unsigned base,
			 int32_t disp)
{
	jx_mem(j, true, 0x89, reg, base, disp, false);
}

/* lea d, [a + (b << sc)] (64 or 32 bits; b not rsp). */
static inline void jx_lea_sc(struct jx *j, bool w, unsigned d, unsigned a,
			     unsigned b, unsigned sc)
{
	bool disp = (a & 7) == RBP;

	if (!jx_room(j, 8))
		return;
	jx_rex(j, w, d, b, a, false);
	jx_b(j, 0x8d);
	jx_b(j, (uint8_t)((disp ? 0x40 : 0) | (d & 7) << 3 | 4));
	jx_b(j, (uint8_t)(sc << 6 | (b & 7) << 3 | (a & 7)));
	if (disp)
		jx_b(j, 0);
}

/* lea d, [a + b] (64 or 32 bits). */
static inline void jx_lea_add(struct jx *j, bool w, unsigned d, unsigned a,
			      unsigned b)
{
	jx_lea_sc(j, w, d, a, b, 0);
}

/* Shift by an immediate or by cl. */
static inline void jx_shi(struct jx *j, bool w, unsigned sh, unsigned reg,
			  unsigned n)
{
	if (!jx_room(j, 8))
		return;
	jx_rex(j, w, 0, 0, reg, false);
	jx_b(j, 0xc1);
	jx_modrr(j, sh, reg);
	jx_b(j, (uint8_t)n);
}

static inline void jx_shcl(struct jx *j, bool w, unsigned sh, unsigned reg)
{
	jx_rr(j, w, 0xd3, sh, reg);
}

/* Group-3 unary ops on a register: 3 neg, 4 mul, 5 imul, 6 div, 7 idiv. */
static inline void jx_grp3(struct jx *j, bool w, unsigned digit, unsigned reg)
{
	jx_rr(j, w, 0xf7, digit, reg);
}

/* movsxd dst, src32. */
static inline void jx_movsxd(struct jx *j, unsigned dst, unsigned src)
{
	jx_rr(j, true, 0x63, dst, src);
}

/* setcc reg8; the caller zero-extends. */
static inline void jx_setcc(struct jx *j, unsigned cc, unsigned reg)
{
	if (!jx_room(j, 8))
		return;
	jx_rex(j, false, 0, 0, reg, reg >= 4);
	jx_b(j, 0x0f);
	jx_b(j, (uint8_t)(0x90 + cc));
	jx_modrr(j, 0, reg);
}

/* movzx dst32, src8. */
static inline void jx_movzxb(struct jx *j, unsigned dst, unsigned src)
{
	if (!jx_room(j, 8))
		return;
	jx_rex(j, false, dst, 0, src, src >= 4);
	jx_b(j, 0x0f);
	jx_b(j, 0xb6);
	jx_modrr(j, dst, src);
}

/* jcc / jmp rel32 to a known target (writable-view address). */
static inline void jx_jcc_to(struct jx *j, unsigned cc, const uint8_t *to)
{
	if (!jx_room(j, 6))
		return;
	jx_b(j, 0x0f);
	jx_b(j, (uint8_t)(0x80 + cc));
	jx_d(j, (uint32_t)(int32_t)(to - (j->p + 4)));
}

static inline void jx_jmp_to(struct jx *j, const uint8_t *to)
{
	if (!jx_room(j, 5))
		return;
	jx_b(j, 0xe9);
	jx_d(j, (uint32_t)(int32_t)(to - (j->p + 4)));
}

/* jcc / jmp rel32 forward: returns where the rel32 is, for jx_patch(). */
static inline uint8_t *jx_jcc_fwd(struct jx *j, unsigned cc)
{
	if (!jx_room(j, 6))
		return NULL;
	jx_b(j, 0x0f);
	jx_b(j, (uint8_t)(0x80 + cc));
	jx_d(j, 0);
	return j->p - 4;
}

static inline uint8_t *jx_jmp_fwd(struct jx *j)
{
	if (!jx_room(j, 5))
		return NULL;
	jx_b(j, 0xe9);
	jx_d(j, 0);
	return j->p - 4;
}

/* Point the rel32 at rel to here. */
static inline void jx_patch_here(struct jx *j, uint8_t *rel)
{
	int32_t d;

	if (!rel || j->overflow)
		return;
	d = (int32_t)(j->p - (rel + 4));
	memcpy(rel, &d, 4);
}

/* call the absolute address fn (through rax). */
static inline void jx_call(struct jx *j, const void *fn)
{
	jx_movi(j, RAX, (uint64_t)(uintptr_t)fn);
	if (!jx_room(j, 2))
		return;
	jx_b(j, 0xff);
	jx_b(j, 0xd0);
}

#endif
