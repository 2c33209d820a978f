/* Zicntr/Zihpm: mhpmcounter3..18 hold what is written (as OpenSBI's probe
 * needs) and count cycles (event 1) or retired instructions (event 2),
 * mcountinhibit freezes each one, 19..31 are read-only zero, and
 * hpmcounterN reads from S and U follow mcounteren and scounteren. */
#include "test.h"

START
	/* Written values are held while no event is selected. */
	TEST(1, a0, 1, li a1, 1; csrw mhpmcounter3, a1; csrr a0, mhpmcounter3)
	TEST(2, a0, -1, li a1, -1; csrw mhpmcounter18, a1; csrr a0, mhpmcounter18)
	TEST(3, a0, 0, li a1, 1; csrw mhpmcounter19, a1; csrr a0, mhpmcounter19)
	TEST(4, a0, 0, csrr a1, mhpmcounter3; nop; csrr a2, mhpmcounter3; sub a0, a2, a1)
	/* Events are WARL values that read back; 19..31 have none. */
	TEST(5, a0, 0x1234, li a1, 0x1234; csrw mhpmevent10, a1; csrr a0, mhpmevent10)
	TEST(6, a0, 0, li a1, 2; csrw mhpmevent19, a1; csrr a0, mhpmevent19)
	csrw mhpmevent10, zero
	/* Event 2 counts retired instructions, going on from the value. */
	li t0, 100
	csrw mhpmcounter4, t0
	li t0, 2
	csrw mhpmevent4, t0
	TEST(7, a0, 3, csrr a1, mhpmcounter4; nop; nop; csrr a2, mhpmcounter4; sub a0, a2, a1)
	/* A write replaces the writing instruction's own increment. */
	li gp, 8
	csrw mhpmcounter4, zero
	csrr a0, mhpmcounter4
	CHECK(a0, 0)
	/* Event 1 counts cycles (one per instruction here). */
	li t0, 1
	csrw mhpmevent5, t0
	TEST(9, a0, 2, csrr a1, mhpmcounter5; nop; csrr a2, mhpmcounter5; sub a0, a2, a1)
	/* mcountinhibit freezes counter 4 alone, and releases it where it
	 * stopped. */
	li t0, 1 << 4
	csrw mcountinhibit, t0
	TEST(10, a0, 0, csrr a1, mhpmcounter4; nop; nop; csrr a2, mhpmcounter4; sub a0, a2, a1)
	TEST(11, a0, 2, csrr a1, mhpmcounter5; nop; csrr a2, mhpmcounter5; sub a0, a2, a1)
	li gp, 12
	csrr a3, mhpmcounter4
	csrw mcountinhibit, zero
	csrr a4, mhpmcounter4
	sub a0, a4, a3
	CHECK(a0, 1)
	/* The inhibit bits of absent counters are zero; TM is zero. */
	TEST(13, a0, 0x7fffd, li a1, -1; csrw mcountinhibit, a1; csrr a0, mcountinhibit)
	csrw mcountinhibit, zero

	/* hpmcounter4 from S needs mcounteren bit 4, from U scounteren's
	 * too; the value is mhpmcounter4's. */
	PMP_ALLOW_ALL
	csrw mcounteren, zero
	csrw scounteren, zero
	TO_PRIV(1)
	EXPECT_TRAP(14, 2, csrr a0, hpmcounter4)
	EXPECT_TRAP(15, 2, csrr a0, hpmcounter31)
	TO_M
	li t0, 1 << 4
	csrw mcounteren, t0
	TO_PRIV(1)
	li gp, 16
	li s9, -1
	csrr a1, hpmcounter4
	nop
	csrr a2, hpmcounter4
	CHECK(s9, -1)
	sub a0, a2, a1
	CHECK(a0, 2)
	EXPECT_TRAP(17, 2, csrr a0, hpmcounter5)
	EXPECT_TRAP(18, 2, csrr a0, cycle)
	TO_M
	TO_PRIV(0)
	EXPECT_TRAP(19, 2, csrr a0, hpmcounter4)
	TO_M
	li t0, 1 << 4
	csrw scounteren, t0
	TO_PRIV(0)
	li gp, 20
	li s9, -1
	csrr a0, hpmcounter4
	CHECK(s9, -1)
	EXPECT_TRAP(21, 2, csrr a0, instret)
	/* hpmcounters are read-only everywhere */
	EXPECT_TRAP(22, 2, csrw hpmcounter4, zero)
	TO_M
	EXPECT_TRAP(23, 2, csrw hpmcounter4, zero)
	PASS
