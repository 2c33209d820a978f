/* ASID-tagged TLB and sfence.vma (privileged spec, "Supervisor
 * Memory-Management Fence Instruction"), hand-checked.  Two Sv39 address
 * spaces (ASID 1 and 2) map VA differently.  PTEs are changed without a
 * fence where the spec lets a hart keep using the old translation, and the
 * cases check that this hart does keep it (its TLB is tagged: a satp write
 * that changes the ASID alone parks entries instead of flushing them) and
 * that each form of sfence.vma drops exactly what it must.  Every case
 * runs in S-mode on an identity gigapage. */
#include "test.h"

#define V 1
#define R 2
#define W 4
#define X 8
#define G 32
#define A 64
#define D 128
#define RWAD (V | R | W | A | D)

#define SETPTE(table, idx, fl)  \
	srli t0, t0, 12;        \
	slli t0, t0, 10;        \
	ori t0, t0, fl;         \
	sd t0, (idx) * 8(table)

/* satp = Sv39, ASID asid, root in reg. */
#define SATP(asid, root)                \
	li t0, (8 << 60) | ((asid) << 44); \
	srli t1, root, 12;              \
	or t0, t0, t1;                  \
	csrw satp, t0

/* Away from the TLB slots of the code and data pages (direct-mapped). */
#define VA 0x40080000
#define L0 128 /* VA's index in its level-0 table */
#define VA2 0x40200000

/* Store value at page n of buf. */
#define PUT(n, value)                   \
	li t1, (n) * 4096;              \
	add t1, s6, t1;                 \
	li t0, value;                   \
	sd t0, 0(t1)

/* t0 = address of page n of buf. */
#define PAGE(n)                         \
	li t0, (n) * 4096;              \
	add t0, s6, t0

START
	PMP_ALLOW_ALL
	la s0, root1
	la s1, root2
	la s2, l1a
	la s3, l1b
	la s4, l0a
	la s5, l0b
	la s6, buf
	/* Both: identity gigapage at 0x80000000 (global, as a kernel's). */
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
	/* Pages of buf: 0 = 0x1111, 1 = 0x2222, 2 = 0x3333, 3 = 0x4444,
	 * 4 = 0x5555, 5 = 0x6666. */
	PUT(0, 0x1111)
	PUT(1, 0x2222)
	PUT(2, 0x3333)
	PUT(3, 0x4444)
	PUT(4, 0x5555)
	PUT(5, 0x6666)
	/* ASID 1: VA -> 0, VA+1000 -> 2, VA+2000 -> 3 (G).
	 * ASID 2: VA -> 1, VA+2000 -> 3 (G), VA+3000 -> 1. */
	PAGE(0)
	SETPTE(s4, L0 + 0, RWAD)
	PAGE(2)
	SETPTE(s4, L0 + 1, RWAD)
	PAGE(3)
	SETPTE(s4, L0 + 2, RWAD | G)
	PAGE(1)
	SETPTE(s5, L0 + 0, RWAD)
	PAGE(3)
	SETPTE(s5, L0 + 2, RWAD | G)
	PAGE(1)
	SETPTE(s5, L0 + 3, RWAD)
	/* ASID 1, VA2: megapage at 0x80200000. */
	li t0, 0x80200000
	SETPTE(s2, 1, RWAD)
	li t1, 0x80285000
	li t0, 0x7777
	sd t0, 0(t1)
	li t1, 0x80485000
	li t0, 0x8888
	sd t0, 0(t1)

	TO_PRIV(1)
	SATP(1, s0)
	sfence.vma
	li a0, VA
	/* 1-3: each ASID sees its own mapping. */
	TEST(1, a1, 0x1111, ld a1, 0(a0))
	SATP(2, s1)
	TEST(2, a1, 0x2222, ld a1, 0(a0))
	SATP(1, s0)
	TEST(3, a1, 0x1111, ld a1, 0(a0))
	/* 4: VA of ASID 1 -> page 4, no fence; a trip through ASID 2 (on
	 * another TLB slot) and back finds the old translation. */
	PAGE(4)
	SETPTE(s4, L0 + 0, RWAD)
	SATP(2, s1)
	li a2, VA + 0x3000
	TEST(4, a1, 0x2222, ld a1, 0(a2))
	SATP(1, s0)
	TEST(5, a1, 0x1111, ld a1, 0(a0))
	/* 6: a fence of ASID 2 leaves ASID 1's entries. */
	li t2, 2
	sfence.vma zero, t2
	TEST(6, a1, 0x1111, ld a1, 0(a0))
	/* 7: a fence of ASID 1 drops them. */
	li t2, 1
	sfence.vma zero, t2
	TEST(7, a1, 0x5555, ld a1, 0(a0))
	/* 8: a global page survives an ASID fence... */
	li a3, VA + 0x2000
	TEST(8, a1, 0x4444, ld a1, 0(a3))
	PAGE(5)
	SETPTE(s4, L0 + 2, RWAD | G)
	li t2, 1
	sfence.vma zero, t2
	TEST(9, a1, 0x4444, ld a1, 0(a3))
	/* 10: ...and goes with a fence of its address in every ASID. */
	sfence.vma a3, zero
	TEST(10, a1, 0x6666, ld a1, 0(a3))
	/* 11: address + ASID: only that page of that ASID. */
	li a4, VA + 0x1000
	TEST(11, a1, 0x3333, ld a1, 0(a4))
	TEST(11, a1, 0x5555, ld a1, 0(a0))
	PAGE(0)
	SETPTE(s4, L0 + 0, RWAD)
	PAGE(1)
	SETPTE(s4, L0 + 1, RWAD)
	li t2, 1
	sfence.vma a4, t2
	TEST(12, a1, 0x2222, ld a1, 0(a4))
	TEST(13, a1, 0x5555, ld a1, 0(a0))
	li t2, 2
	sfence.vma a0, t2
	TEST(14, a1, 0x5555, ld a1, 0(a0))
	li t2, 1
	sfence.vma a0, t2
	TEST(15, a1, 0x1111, ld a1, 0(a0))
	/* 16: a fence of one address of a megapage drops the entries of
	 * its other 4 KiB pieces too. */
	li a5, VA2 + 0x85000
	TEST(16, a1, 0x7777, ld a1, 0(a5))
	li t0, 0x80400000
	SETPTE(s2, 1, RWAD)
	li a5, VA2 + 0x85000
	TEST(17, a1, 0x7777, ld a1, 0(a5))
	li t3, VA2 + 0x123000
	sfence.vma t3, zero
	TEST(18, a1, 0x8888, ld a1, 0(a5))
	/* 19: a new root under the same ASID is used at once. */
	SATP(1, s1)
	TEST(19, a1, 0x2222, ld a1, 0(a0))
	/* 20: 16 ASID bits (written as all ones, read back). */
	li gp, 20
	li t0, (8 << 60) | (0xffff << 44)
	srli t1, s0, 12
	or t0, t0, t1
	csrw satp, t0
	csrr t1, satp
	bne t0, t1, fail
	csrr t1, satp
	srli t1, t1, 44
	li t2, 0xffff
	and t1, t1, t2
	bne t1, t2, fail
	TO_M
	csrw satp, zero
	sfence.vma
	PASS

	.data
	.align 12
root1: .space 4096
root2: .space 4096
l1a: .space 4096
l1b: .space 4096
l0a: .space 4096
l0b: .space 4096
buf: .space 6 * 4096
