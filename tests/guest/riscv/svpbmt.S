/* Svpbmt: PBMT in a leaf PTE needs menvcfg.PBMTE (a page fault without
 * it), value 3 and PBMT in a non-leaf PTE are reserved, and the bit is
 * machine-only (senvcfg has none).  ASIDs: sfence.vma of another ASID
 * keeps the current translations (an old mapping stays visible until a
 * fence that covers it), one of the current ASID or of all drops them. */
#include "test.h"

#define V 1
#define R 2
#define W 4
#define X 8
#define A 64
#define D 128
#define PBMTE (1 << 62)
#define NC (1 << 61)
#define IO (2 << 61)
#define PB3 (3 << 61)

/* t0 = PTE for the physical address in reg with flags fl (t2: high bits) */
#define MKPTE(reg, fl)          \
	srli t0, reg, 12;       \
	slli t0, t0, 10;        \
	ori t0, t0, fl

/* Index 0x80 of the direct-mapped TLB, which no code or data page of this
 * test shares, so nothing evicts its entry behind the test's back. */
#define VA 0x40080000
#define L0 (0x80 * 8)

START
	PMP_ALLOW_ALL
	la s0, pt_root
	la s1, pt_l1
	la s2, pt_l0
	la s3, buf_a
	la s4, buf_b
	li t0, 0x1111
	sd t0, 0(s3)
	li t0, 0x2222
	sd t0, 0(s4)
	/* code and tables: an identity gigapage; VA -> l1 -> l0[0x80] -> leaf */
	li t1, 0x80000000
	MKPTE(t1, V | R | W | X | A | D)
	sd t0, 16(s0)
	MKPTE(s1, V)
	sd t0, 8(s0)
	MKPTE(s2, V)
	sd t0, 0(s1)
	/* satp: Sv39, ASID 5 */
	li t0, (8 << 60) | (5 << 44)
	srli t1, s0, 12
	or t0, t0, t1
	csrw satp, t0
	TEST(1, a0, 5, csrr a0, satp; srli a0, a0, 44; andi a0, a0, 0xff)

	/* PBMTE is set at reset (as on Spike); without it PBMT is reserved */
	TEST(14, a0, 1, csrr a0, menvcfg; srli a0, a0, 62)
	csrw menvcfg, zero
	MKPTE(s3, V | R | W | A | D)
	li t1, NC
	or t0, t0, t1
	sd t0, L0(s2)
	TO_PRIV(1)
	li a1, VA
	EXPECT_TRAP(2, 13, ld a0, 0(a1))
	TO_M
	/* PBMTE is menvcfg's alone */
	TEST(3, a0, 1, li a1, PBMTE; csrs menvcfg, a1; csrr a0, menvcfg; srli a0, a0, 62)
	TEST(4, a0, 0, li a1, PBMTE; csrs senvcfg, a1; csrr a0, senvcfg; srli a0, a0, 62)
	/* NC and IO pages work like any other */
	TO_PRIV(1)
	sfence.vma
	li a1, VA
	TEST(5, a0, 0x1111, ld a0, 0(a1))
	TO_M
	MKPTE(s3, V | R | W | A | D)
	li t1, IO
	or t0, t0, t1
	sd t0, L0(s2)
	TO_PRIV(1)
	sfence.vma
	li a1, VA
	TEST(6, a0, 0x1111, ld a0, 0(a1))
	TO_M
	/* PBMT 3 is reserved */
	MKPTE(s3, V | R | W | A | D)
	li t1, PB3
	or t0, t0, t1
	sd t0, L0(s2)
	TO_PRIV(1)
	sfence.vma
	li a1, VA
	EXPECT_TRAP(7, 13, ld a0, 0(a1))
	TO_M
	/* PBMT on a pointer to the next level is reserved */
	MKPTE(s3, V | R | W | A | D)
	sd t0, L0(s2)
	MKPTE(s2, V)
	li t1, NC
	or t0, t0, t1
	sd t0, 0(s1)
	TO_PRIV(1)
	sfence.vma
	li a1, VA
	EXPECT_TRAP(8, 13, ld a0, 0(a1))
	TO_M
	MKPTE(s2, V)
	sd t0, 0(s1)

	/* ASIDs (current: 5).  Fill the TLB with VA -> buf_a. */
	TO_PRIV(1)
	sfence.vma
	li a1, VA
	TEST(9, a0, 0x1111, ld a0, 0(a1))
	/* remap VA -> buf_b in memory only */
	MKPTE(s4, V | R | W | A | D)
	sd t0, L0(s2)
	/* a fence of ASID 6 keeps ASID 5's translation */
	li a2, 6
	sfence.vma zero, a2
	TEST(10, a0, 0x1111, ld a0, 0(a1))
	/* ...and so does one of ASID 6 at that address */
	sfence.vma a1, a2
	TEST(11, a0, 0x1111, ld a0, 0(a1))
	/* one of ASID 5 drops it */
	li a2, 5
	sfence.vma zero, a2
	TEST(12, a0, 0x2222, ld a0, 0(a1))
	/* back to buf_a: a fence of every ASID drops it too */
	MKPTE(s3, V | R | W | A | D)
	sd t0, L0(s2)
	sfence.vma a1, zero
	TEST(13, a0, 0x1111, ld a0, 0(a1))
	TO_M
	PASS

	.data
	.align 12
pt_root: .space 4096
pt_l1: .space 4096
pt_l0: .space 4096
buf_a: .space 4096
buf_b: .space 4096
