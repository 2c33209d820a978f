/* PMP: NAPOT, NA4 and TOR entries for S-mode, partial matches, no match,
 * execute permission, M-mode exemption and locked entries. */
#include "test.h"

#define B 0x80100000

START
	li t0, (0x80000000 >> 2) | 0x1ffff
	csrw pmpaddr0, t0
	li t0, B >> 2
	csrw pmpaddr1, t0
	li t0, (B + 64) >> 2
	csrw pmpaddr2, t0
	li t0, (B + 128) >> 2
	csrw pmpaddr3, t0
	li t0, ((B + 0x1000) >> 2) | 0x1ff
	csrw pmpaddr4, t0
	li t0, (B + 0x2000) >> 2
	csrw pmpaddr5, t0
	li t0, 0x00001d0800111f
	csrw pmpcfg0, t0
	TEST(1, a0, 0x00001d0800111f, csrr a0, pmpcfg0)
	li s0, B
	li t0, 0x1234
	sw t0, 0(s0)
	li t0, 0x00008067 /* ret */
	li t1, B + 0x1000
	sw t0, 0(t1)
	fence.i

	TO_PRIV(1)
	/* NA4, read-only */
	TEST(2, a0, 0x1234, lw a0, 0(s0))
	EXPECT_TRAP(3, 7, sw a0, 0(s0))
	CHECK_REG(s10, s0)
	EXPECT_TRAP(4, 5, lw a0, 2(s0)) /* partly outside the NA4 entry */
	/* no entry matches */
	EXPECT_TRAP(5, 5, lw a0, 8(s0))
	li a1, B + 0x3000
	EXPECT_TRAP(6, 5, ld a0, 0(a1))
	/* TOR without permissions, and an access straddling its bottom */
	EXPECT_TRAP(7, 5, ld a0, 64(s0))
	EXPECT_TRAP(8, 7, sd a0, 120(s0))
	EXPECT_TRAP(9, 5, ld a0, 60(s0))
	/* execute from an R+X entry */
	li gp, 10
	li s9, -1
	li a1, B + 0x1000
	jalr ra, 0(a1)
	CHECK(s9, -1)
	TO_M
	/* drop X from entry 4: fetching faults */
	li t0, 0x1d << 32
	csrc pmpcfg0, t0
	li t0, 0x19 << 32
	csrs pmpcfg0, t0
	TO_PRIV(1)
	li a1, B + 0x1000
	SET_RESUME(after11)
	EXPECT_TRAP(11, 1, jalr ra, 0(a1))
after11:
	li t6, 1
	bne s9, t6, fail
	CHECK(s10, B + 0x1000)
	TO_M
	/* M-mode ignores unlocked entries. */
	li gp, 12
	li s9, -1
	ld a0, 64(s0)
	sd a0, 64(s0)
	lw a0, 8(s0)
	CHECK(s9, -1)
	/* Locked NA4 without permissions applies to M as well. */
	li t0, 0x90 << 40
	csrs pmpcfg0, t0
	li a1, B + 0x2000
	EXPECT_TRAP(13, 5, lw a0, 0(a1))
	EXPECT_TRAP(14, 7, sw a0, 0(a1))
	/* A locked entry ignores writes to its cfg and address. */
	li t0, 0x1f << 40
	csrs pmpcfg0, t0
	csrr a0, pmpcfg0
	srli a0, a0, 40
	andi a0, a0, 0xff
	li gp, 15
	CHECK(a0, 0x90)
	TEST(16, a0, (B + 0x2000) >> 2, csrw pmpaddr5, zero; csrr a0, pmpaddr5)
	PASS
