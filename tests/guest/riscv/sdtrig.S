/* Sdtrig, hand-checked against the debug specification 1.0 (no oracle
 * implements it): four triggers of type 2 (mcontrol) or 6 (mcontrol6);
 * tselect/tinfo/tdata1-3 and their WARL legalization; execute, load and
 * store address triggers matching equal, >= and <, firing a breakpoint
 * exception (mtval the matching address, mepc the instruction, which does
 * not execute) only in the modes their m/s/u bits name, and in M-mode
 * only while mstatus.MIE is set.  The trigger CSRs are machine-only. */
#include "test.h"

#define T6 (6 << 60)
#define T2 (2 << 60)
#define LOAD 1
#define STORE 2
#define EXEC 4
#define TU (1 << 3)
#define TS (1 << 4)
#define TM (1 << 6)
#define MGE (2 << 7)
#define MLT (3 << 7)
#define HIT0 (1 << 22)
#define HIT2 (1 << 20)

#define ARM(n, t1, t2reg)               \
	li t0, n;                       \
	csrw tselect, t0;               \
	csrw tdata2, t2reg;             \
	li t0, t1;                      \
	csrw tdata1, t0

START
	PMP_ALLOW_ALL
	/* 1: tselect holds 0..3 and keeps its value for other indices. */
	TEST(1, a0, 3, li a1, 3; csrw tselect, a1; csrr a0, tselect)
	TEST(2, a0, 3, li a1, 4; csrw tselect, a1; csrr a0, tselect)
	TEST(3, a0, 3, li a1, -1; csrw tselect, a1; csrr a0, tselect)
	/* 4: tinfo: types 2, 6, 15, version 1; read-only. */
	TEST(4, a0, 0x1008044, csrr a0, tinfo)
	TEST(5, a0, 0x1008044, li a1, 0; csrw tinfo, a1; csrr a0, tinfo)
	/* 6: reset: mcontrol6 with nothing enabled. */
	TEST(6, a0, T6, csrr a0, tdata1)
	/* 7: legalization of every field. */
	TEST(7, a0, 0x600000000040005f, li a1, 0x6fffffffffffffff; csrw tdata1, a1; csrr a0, tdata1)
	TEST(8, a0, 0x200000000010005f, li a1, 0x2fffffffffffffff; csrw tdata1, a1; csrr a0, tdata1)
	TEST(9, a0, T6 | MGE | TM, li a1, T6 | MGE | TM; csrw tdata1, a1; csrr a0, tdata1)
	TEST(10, a0, T2 | MLT | TU, li a1, T2 | MLT | TU; csrw tdata1, a1; csrr a0, tdata1)
	TEST(11, a0, 0xf000000000000000, li a1, (3 << 60) | TM | EXEC; csrw tdata1, a1; csrr a0, tdata1)
	TEST(12, a0, 0xf000000000000000, csrw tdata1, zero; csrr a0, tdata1)
	TEST(13, a0, 0, li a1, -1; csrw tdata3, a1; csrr a0, tdata3)
	TEST(14, a0, 0x1234, li a1, 0x1234; csrw tdata2, a1; csrr a0, tdata2)

	/* 15: an S execute trigger fires in S, before the instruction. */
	la a2, tfn
	ARM(0, T6 | TS | EXEC, a2)
	TO_PRIV(1)
	li a0, 0
	EXPECT_TRAP(15, 3, jal tfn)
	CHECK(a0, 0)
	CHECK_REG(s10, a2)
	CHECK_REG(s11, a2)
	TO_M
	/* 16: not in U. */
	TO_PRIV(0)
	li a0, 0
	li gp, 16
	li s9, -1
	jal tfn
	CHECK(a0, 1)
	CHECK(s9, -1)
	TO_M
	/* 17: an M execute trigger fires with MIE set, not without. */
	ARM(0, T2 | TM | EXEC, a2)
	csrci mstatus, 8
	li a0, 0
	li gp, 17
	li s9, -1
	jal tfn
	CHECK(a0, 1)
	CHECK(s9, -1)
	csrsi mstatus, 8
	li a0, 0
	EXPECT_TRAP(18, 3, jal tfn)
	CHECK(a0, 0)
	CHECK_REG(s10, a2)
	csrci mstatus, 8
	/* 19: hit is set. */
	TEST(19, a0, T2 | TM | EXEC | HIT2, csrr a0, tdata1)
	csrw tdata1, zero

	li t0, 1 << 13 /* FS: Initial, for fld */
	csrs mstatus, t0
	/* 20: a load trigger on buf + 8 (equal, any byte of the access). */
	la s0, buf
	addi a2, s0, 8
	ARM(1, T6 | TS | LOAD, a2)
	TO_PRIV(1)
	li a1, 0x77
	EXPECT_TRAP(20, 3, ld a1, 8(s0))
	CHECK(a1, 0x77)
	CHECK_REG(s10, a2)
	li s9, -1
	TEST(21, a1, 0x1111, ld a1, 0(s0))
	CHECK(s9, -1)
	addi a3, s0, 6
	EXPECT_TRAP(22, 3, lw a1, 6(s0))
	CHECK_REG(s10, a3)
	li s9, -1
	li a1, 0x2222
	sd a1, 8(s0) /* a store: no trigger */
	CHECK(s9, -1)
	EXPECT_TRAP(23, 3, amoadd.d a1, a1, (a2))
	EXPECT_TRAP(24, 3, fld fa0, 8(s0))
	TO_M
	TEST(25, a0, 0x2222, ld a0, 8(s0)) /* M: not armed */
	TEST(26, a0, T6 | TS | LOAD | HIT0, csrr a0, tdata1)
	csrw tdata1, zero

	/* 27: a store trigger, >= buf + 16: memory is left as it was. */
	addi a2, s0, 16
	ARM(2, T2 | TU | STORE | MGE, a2)
	TO_PRIV(0)
	li a1, 0x3333
	EXPECT_TRAP(27, 3, sd a1, 16(s0))
	CHECK_REG(s10, a2)
	addi a3, s0, 100
	EXPECT_TRAP(28, 3, sb a1, 100(s0))
	CHECK_REG(s10, a3)
	li s9, -1
	sd a1, 8(s0)
	CHECK(s9, -1)
	TO_M
	TEST(29, a0, 0x3333, ld a0, 8(s0))
	TEST(30, a0, 0, ld a0, 16(s0))
	csrw tdata1, zero
	/* 31: < buf. */
	ARM(3, T6 | TU | STORE | MLT, s0)
	TO_PRIV(0)
	li s9, -1
	sd a1, 0(s0)
	CHECK(s9, -1)
	addi a3, s0, -8
	EXPECT_TRAP(31, 3, sd a1, -8(s0))
	CHECK_REG(s10, a3)
	TO_M
	/* 32: disabled triggers leave everything alone. */
	csrw tdata1, zero
	TO_PRIV(1)
	li s9, -1
	li gp, 32
	ld a1, 8(s0)
	sd a1, -8(s0)
	jal tfn
	CHECK(s9, -1)
	/* 33: the trigger CSRs are machine-only. */
	EXPECT_TRAP(33, 2, csrr a0, tselect)
	EXPECT_TRAP(34, 2, csrw tdata1, zero)
	TO_M
	PASS

	/* Called by the execute cases: a0++. */
	.align 2
tfn:	addi a0, a0, 1
	ret
	.data
	.align 3
	.space 64
buf:	.dword 0x1111, 0x2222, 0, 0
	.space 128
