/* F and D state, by hand: mstatus.FS Off/Initial/Clean/Dirty with SD and
 * FS=Off trapping, fcsr/frm/fflags, reserved rounding modes, NaN-boxing,
 * FP loads and stores (also compressed) and moves.  The arithmetic is in
 * isa-fpu.S (gen-fpu.py). */
#include "test.h"
#define FS_MASK 0x6000
#define SD_BIT (1 << 63)
START
	/* Reset: FS Off, so every FP instruction and FP CSR is illegal. */
	TEST(1, a0, 0, csrr a0, mstatus; li t0, FS_MASK; and a0, a0, t0)
	EXPECT_TRAP(2, 2, fadd.d fa0, fa1, fa2)
	CHECK(s10, 0x02c5f553)
	EXPECT_TRAP(3, 2, fld fa0, 0(sp))
	EXPECT_TRAP(4, 2, fsd fa0, 0(sp))
	EXPECT_TRAP(5, 2, c.fldsp fa0, 0(sp))
	EXPECT_TRAP(6, 2, csrr a0, fcsr)
	EXPECT_TRAP(7, 2, csrw frm, zero)
	EXPECT_TRAP(8, 2, fmv.x.d a0, fa0)
	EXPECT_TRAP(9, 2, flw fa0, 0(sp))
	/* Initial: usable, not yet dirty; SD clear. */
	li t0, 0x2000
	csrs mstatus, t0
	TEST(10, a0, 0x2000, csrr a0, mstatus; li t0, FS_MASK; and a0, a0, t0)
	TEST(11, a0, 0, csrr a0, mstatus; srli a0, a0, 63)
	/* Moves to integer registers leave FS alone. */
	TEST(12, a0, 0x2000, fmv.x.d a1, fa0; csrr a0, mstatus; li t0, FS_MASK; and a0, a0, t0)
	/* Writing an f register makes FS Dirty and sets SD. */
	TEST(13, a0, 0x6000, fmv.d.x fa0, zero; csrr a0, mstatus; li t0, FS_MASK; and a0, a0, t0)
	TEST(14, a0, 1, csrr a0, mstatus; srli a0, a0, 63)
	TEST(15, a0, 1, csrr a0, sstatus; srli a0, a0, 63)
	/* Clean, then an FP load makes it Dirty again. */
	li t0, 0x4000
	csrc mstatus, t0
	TEST(16, a0, 0x2000, csrr a0, mstatus; li t0, FS_MASK; and a0, a0, t0)
	TEST(17, a0, 0, csrr a0, mstatus; srli a0, a0, 63)
	TEST(18, a0, 0x6000, fld fa1, 0(sp); csrr a0, mstatus; li t0, FS_MASK; and a0, a0, t0)
	/* A CSR write to fflags makes it Dirty too. */
	li t0, 0x4000
	csrc mstatus, t0
	TEST(19, a0, 0x6000, csrw fflags, zero; csrr a0, mstatus; li t0, FS_MASK; and a0, a0, t0)
	/* FS is writable through sstatus. */
	TEST(20, a0, 0x4000, li t0, FS_MASK; csrc sstatus, t0; li t0, 0x4000; csrs sstatus, t0; csrr a0, mstatus; li t1, FS_MASK; and a0, a0, t1)

	/* fcsr = frm << 5 | fflags; the fields are WARL-free of the rest. */
	TEST(21, a0, 0xff, li t0, -1; csrw fcsr, t0; csrr a0, fcsr)
	TEST(22, a0, 7, csrr a0, frm)
	TEST(23, a0, 0x1f, csrr a0, fflags)
	TEST(24, a0, 0x45, li t0, 0x2; csrw frm, t0; li t0, 5; csrw fflags, t0; csrr a0, fcsr)
	TEST(25, a0, 0x45, li t0, 0x7a5; csrrw a0, fcsr, t0)
	TEST(26, a0, 0xa5, csrr a0, fcsr)
	TEST(27, a0, 0x5, csrr a0, frm)
	fscsr zero

	/* A reserved static rounding mode (5, 6) is illegal; so is the
	 * dynamic one when frm holds 5, 6 or 7. */
	EXPECT_TRAP(28, 2, .word 0x02c5d553) /* fadd.d fa0, fa1, fa2, rm 5 */
	EXPECT_TRAP(29, 2, .word 0x02c5e553) /* rm 6 */
	EXPECT_TRAP(35, 2, .word 0x02c5e543) /* fmadd.d rm 6 */
	li t0, 5
	fsrm t0
	EXPECT_TRAP(30, 2, fadd.d fa0, fa1, fa2, dyn)
	li t0, 7
	fsrm t0
	EXPECT_TRAP(31, 2, fsqrt.s fa0, fa1)
	EXPECT_TRAP(32, 2, fcvt.w.d a0, fa1)
	/* ... but ops without a rounding mode run. */
	EXPECT_TRAP(33, -1, fsgnj.d fa0, fa1, fa1; fmin.d fa0, fa1, fa1; feq.d a0, fa1, fa1; fmv.x.d a0, fa1)
	/* fcvt.d.s is exact but still has a rounding-mode field. */
	EXPECT_TRAP(34, 2, .word 0x4205f553) /* fcvt.d.s fa0, fa1, dyn */
	fsrm zero

	/* NaN-boxing: a single whose upper half is not all ones reads as
	 * the canonical NaN; single results are boxed. */
	li t0, 0x000000003f800000 /* 1.0f, unboxed */
	fmv.d.x fa1, t0
	li t0, 0xffffffff3f800000 /* 1.0f, boxed */
	fmv.d.x fa2, t0
	TEST(40, a0, 0xffffffff7fc00000, fadd.s fa0, fa1, fa2; fmv.x.d a0, fa0)
	TEST(41, a0, 0xffffffff40000000, fadd.s fa0, fa2, fa2; fmv.x.d a0, fa0)
	TEST(42, a0, 1 << 9, fclass.s a0, fa1)
	TEST(43, a0, 0xffffffff7fc00000, fsgnj.s fa0, fa1, fa2; fmv.x.d a0, fa0)
	TEST(44, a0, 0xffffffff3f800000, fmin.s fa0, fa1, fa2; fmv.x.d a0, fa0)
	TEST(45, a0, 0x7ff8000000000000, fcvt.d.s fa0, fa1; fmv.x.d a0, fa0)
	li t0, 0xffff0000ffffffff /* boxed? no: upper half not all ones */
	fmv.d.x fa3, t0
	TEST(46, a0, 0x7ff8000000000000, fcvt.d.s fa0, fa3; fmv.x.d a0, fa0)
	/* fmv.x.w and fsw take the low 32 bits as they are. */
	TEST(47, a0, 0x3f800000, fmv.x.w a0, fa1)
	TEST(48, a0, 0xffffffff80000001, li t0, 0x1234567880000001; fmv.d.x fa0, t0; fmv.x.w a0, fa0)
	TEST(49, a0, 0xffffffff89abcdef, li t0, 0x89abcdef; fmv.w.x fa0, t0; fmv.x.d a0, fa0)

	/* Loads and stores. */
	la s0, buf
	li t0, 0x0123456789abcdef
	sd t0, 0(s0)
	TEST(50, a0, 0x0123456789abcdef, fld fa0, 0(s0); fmv.x.d a0, fa0)
	TEST(51, a0, 0xffffffff89abcdef, flw fa0, 0(s0); fmv.x.d a0, fa0)
	TEST(52, a0, 0xffffffff01234567, flw fa0, 4(s0); fmv.x.d a0, fa0)
	li t0, 0xfedcba9876543210
	fmv.d.x fa1, t0
	TEST(53, a0, 0xfedcba9876543210, fsd fa1, 8(s0); ld a0, 8(s0))
	TEST(54, a0, 0x76543210, fsw fa1, 16(s0); lwu a0, 16(s0))
	/* The compressed forms (c.fld, c.fsd: 8-byte scaled offsets). */
	TEST(55, a0, 0x0123456789abcdef, c.fld fa2, 0(s0); fmv.x.d a0, fa2)
	TEST(56, a0, 0xfedcba9876543210, c.fsd fa1, 24(s0); ld a0, 24(s0))
	addi sp, sp, -64
	sd t0, 40(sp)
	TEST(57, a0, 0xfedcba9876543210, c.fldsp fa5, 40(sp); fmv.x.d a0, fa5)
	TEST(58, a0, 0xfedcba9876543210, c.fsdsp fa5, 48(sp); ld a0, 48(sp))
	addi sp, sp, 64
	/* Misaligned FP accesses are performed, as integer ones are. */
	TEST(59, a0, 0x89abcdef01234567, li t0, 0x89abcdef01234567; fmv.d.x fa0, t0; fsd fa0, 33(s0); fld fa1, 33(s0); fmv.x.d a0, fa1)

	/* Flags accrue until cleared. */
	fsflags zero
	li t0, 0x3ff0000000000000 /* 1.0 */
	fmv.d.x fa1, t0
	fmv.d.x fa2, zero
	TEST(60, a0, 0x08, fdiv.d fa0, fa1, fa2; frflags a0)
	TEST(61, a0, 0x18, fdiv.d fa0, fa2, fa2; frflags a0)
	TEST(62, a0, 0x18, fadd.d fa0, fa1, fa1; frflags a0)
	TEST(63, a0, 0x18, fsflags a0, zero)
	TEST(64, a0, 0, frflags a0)
	/* Integer destination x0 is not written. */
	TEST(65, a0, 0, fclass.d zero, fa1; mv a0, zero)
	PASS

	.data
	.align 3
buf:	.space 64
