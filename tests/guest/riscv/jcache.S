/* The jump cache after indirect jumps (jalr, ret), hand-checked: an entry
 * is only used while the fetch TLB of the regime in force maps its pc to
 * the physical page the block was built from.  VA is mapped to page A or
 * page B of code (each returns a different value at offset 0 and 0x100);
 * after a remap, a call to VA + 0x100 refills the fetch TLB for VA's page,
 * so the entry the jump cache still holds for VA (from A) has a matching
 * TLB tag but another physical page, and must not be entered.  The same
 * with a satp ASID switch (no fence).  Runs translated (each call is a
 * jalr ending a block) and, in the interp setup, interpreted. */
#include "test.h"

#define V 1
#define R 2
#define W 4
#define X 8
#define G 32
#define A 64
#define D 128
#define RWXAD (V | R | W | X | A | D)

#define SETPTE(table, idx, fl)  \
	srli t0, t0, 12;        \
	slli t0, t0, 10;        \
	ori t0, t0, fl;         \
	sd t0, (idx) * 8(table)

#define SATP(asid, root)                   \
	li t0, (8 << 60) | ((asid) << 44); \
	srli t1, root, 12;                 \
	or t0, t0, t1;                     \
	csrw satp, t0

#define VA 0x40080000
#define L0 128 /* VA's index in its level-0 table */

/* a0 = the value the code at VA + off returns. */
#define CALL(off)               \
	li t3, VA + (off);      \
	jalr t3

START
	PMP_ALLOW_ALL
	la s0, root1
	la s1, root2
	la s2, l1a
	la s3, l1b
	la s4, l0a
	la s5, l0b
	/* Both: identity gigapage at 0x80000000 (global). */
	li t0, 0x80000000
	SETPTE(s0, 2, V | R | W | X | G | A | D)
	li t0, 0x80000000
	SETPTE(s1, 2, V | R | W | X | G | A | D)
	mv t0, s2
	SETPTE(s0, 1, V)
	mv t0, s3
	SETPTE(s1, 1, V)
	mv t0, s4
	SETPTE(s2, 0, V)
	mv t0, s5
	SETPTE(s3, 0, V)
	/* ASID 1: VA -> A; ASID 2: VA -> A. */
	la t0, code_a
	SETPTE(s4, L0, RWXAD)
	la t0, code_a
	SETPTE(s5, L0, RWXAD)

	TO_PRIV(1)
	SATP(1, s0)
	sfence.vma
	/* 1-2: A's code at VA and VA + 0x100. */
	TEST(1, a0, 1, CALL(0))
	TEST(2, a0, 11, CALL(0x100))
	/* 3-5: VA -> B in ASID 1, fenced; VA + 0x100 refills the TLB for
	 * the page, then VA must not enter A's cached block. */
	la t0, code_b
	SETPTE(s4, L0, RWXAD)
	li t2, VA
	sfence.vma t2, zero
	TEST(3, a0, 12, CALL(0x100))
	TEST(4, a0, 2, CALL(0))
	TEST(5, a0, 2, CALL(0))
	/* 6-8: ASID 2 (VA -> A), no fence: A again, after B was cached. */
	SATP(2, s1)
	TEST(6, a0, 11, CALL(0x100))
	TEST(7, a0, 1, CALL(0))
	TEST(8, a0, 1, CALL(0))
	/* 9-10: back to ASID 1 (VA -> B). */
	SATP(1, s0)
	TEST(9, a0, 12, CALL(0x100))
	TEST(10, a0, 2, CALL(0))
	/* 11-12: the same in a loop, so each call site and return runs
	 * many times through the cache of each engine. */
	li gp, 11
	li s7, 200
1:	SATP(2, s1)
	CALL(0)
	CHECK(a0, 1)
	CALL(0x100)
	CHECK(a0, 11)
	SATP(1, s0)
	CALL(0)
	CHECK(a0, 2)
	CALL(0x100)
	CHECK(a0, 12)
	addi s7, s7, -1
	bnez s7, 1b
	TO_M
	csrw satp, zero
	sfence.vma
	PASS

	.text
	.align 12
code_a:
	li a0, 1
	ret
	.align 8
	li a0, 11
	ret
	.align 12
code_b:
	li a0, 2
	ret
	.align 8
	li a0, 12
	ret
	.align 12

	.data
	.align 12
root1: .space 4096
root2: .space 4096
l1a: .space 4096
l1b: .space 4096
l0a: .space 4096
l0b: .space 4096
