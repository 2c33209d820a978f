/* Sdtrig with no triggers: the trigger CSRs exist in M-mode (firmware and
 * debuggers probe them), tselect keeps 0 whatever is written, tdata1 says
 * "no trigger" (type 0) even after a trigger is written to it, tinfo is 1,
 * and they stay machine-only. */
#include "test.h"

START
	li gp, 1
	li s9, -1
	csrw tselect, zero
	csrr a0, tselect
	CHECK(s9, -1)
	CHECK(a0, 0)
	TEST(2, a0, 0, li a1, 1; csrw tselect, a1; csrr a0, tselect)
	TEST(3, a0, 0, li a1, -1; csrw tselect, a1; csrr a0, tselect)
	TEST(4, a0, 0, csrr a0, tdata1)
	/* an mcontrol (type 2) execute trigger on this address: absent */
	TEST(5, a0, 0, li a1, (2 << 60) | (1 << 6) | 4; csrw tdata1, a1; csrr a0, tdata1)
	TEST(6, a0, 0, la a1, 1f; csrw tdata2, a1; csrr a0, tdata2)
1:	TEST(7, a0, 0, li a1, -1; csrw tdata3, a1; csrr a0, tdata3)
	TEST(8, a0, 1, csrr a0, tinfo)
	TEST(9, a0, 1, li a1, 0x1f; csrw tinfo, a1; csrr a0, tinfo)
	CHECK(s9, -1)
	PMP_ALLOW_ALL
	TO_PRIV(1)
	EXPECT_TRAP(10, 2, csrr a0, tselect)
	EXPECT_TRAP(11, 2, csrw tdata1, zero)
	TO_M
	PASS
