/* Loads, stores, control transfers, AMOs, LR/SC and compressed forms. */
#include "test.h"
START
	la s0, buf
	li t0, 0x8081828384858687
	sd t0, 0(s0)
	TEST(1, a0, 0xffffffffffffff87, lb a0, 0(s0))
	TEST(2, a0, 0x87, lbu a0, 0(s0))
	TEST(3, a0, 0xffffffffffff8687, lh a0, 0(s0))
	TEST(4, a0, 0x8687, lhu a0, 0(s0))
	TEST(5, a0, 0xffffffff84858687, lw a0, 0(s0))
	TEST(6, a0, 0x84858687, lwu a0, 0(s0))
	TEST(7, a0, 0x8081828384858687, ld a0, 0(s0))
	TEST(8, a0, 0x7f, li a1, 0x7f; sb a1, 8(s0); lb a0, 8(s0))
	TEST(9, a0, 0x1234, li a1, 0xabcd1234; sh a1, 10(s0); lhu a0, 10(s0))
	TEST(10, a0, 0x12345678, li a1, 0x12345678; sw a1, 12(s0); lw a0, 12(s0))
	TEST(11, a0, 0x1234567812341234, ld a0, 8(s0); li t0, 0xffffffffffff0000; and a0, a0, t0; li t0, 0x1234; or a0, a0, t0)
	TEST(12, a0, 0x7f, lbu a0, -8+16(s0))
	/* jal / jalr links and targets */
	li gp, 13
	jal ra, 1f
1:	la t0, 1b
	bne ra, t0, fail
	la t1, 2f
	jalr ra, 1(t1) /* bit 0 of the target is cleared */
	j fail
2:	la t0, 2b
	li gp, 14
	addi t0, t0, -4
	bne ra, t0, fail
	/* rd = rs1 in jalr */
	la t1, 3f
	jalr t1, 0(t1)
3:	la t0, 3b
	bne t1, t0, fail
	/* auipc */
	li gp, 15
4:	auipc a0, 1
	la t0, 4b
	li t1, 4096
	add t0, t0, t1
	bne a0, t0, fail
	/* branches taken and not taken, signed and unsigned */
	li gp, 16
	li a1, -1
	li a2, 1
	beq a1, a2, fail
	bne a1, a1, fail
	blt a2, a1, fail
	bge a1, a2, fail
	bltu a1, a2, fail
	bgeu a2, a1, fail
	beq a1, a1, 5f
	j fail
5:	blt a1, a2, 5f
	j fail
5:	bltu a2, a1, 5f
	j fail
5:	bge a2, a1, 5f
	j fail
5:	bgeu a1, a2, 5f
	j fail
5:	bge a1, a1, 5f
	j fail
5:
	/* AMOs, 32 and 64 bits, signed and unsigned min/max */
	li t0, 0x80000001
	sw t0, 16(s0)
	addi a1, s0, 16
	TEST(20, a0, 0xffffffff80000001, li a2, 1; amoadd.w a0, a2, (a1))
	TEST(21, a0, 0xffffffff80000002, lw a0, 0(a1))
	TEST(22, a0, 0xffffffff80000002, li a2, 5; amomin.w a0, a2, (a1); lw a0, 0(a1))
	TEST(23, a0, 5, li a2, 5; amomax.w a0, a2, (a1); lw a0, 0(a1))
	TEST(24, a0, 0xffffffff80000000, li a2, 0x80000000; amomaxu.w a0, a2, (a1); lw a0, 0(a1))
	TEST(25, a0, 7, li a2, 0xffffffff00000007; amominu.w a0, a2, (a1); lw a0, 0(a1))
	TEST(26, a0, 7, li a2, 0x0f0; amoswap.w a0, a2, (a1))
	TEST(27, a0, 0xf0, li a2, 0xff; amoand.w a0, a2, (a1); lw a0, 0(a1))
	TEST(28, a0, 0xff, li a2, 0x0f; amoor.w a0, a2, (a1); lw a0, 0(a1))
	TEST(29, a0, 0xf0, li a2, 0x0f; amoxor.w a0, a2, (a1); lw a0, 0(a1))
	li t0, -5
	sd t0, 24(s0)
	addi a1, s0, 24
	TEST(30, a0, -5, li a2, 3; amomin.d a0, a2, (a1); ld a0, 0(a1))
	TEST(31, a0, 3, li a2, 3; amomax.d a0, a2, (a1); ld a0, 0(a1))
	TEST(32, a0, -5, li a2, -5; amomaxu.d a0, a2, (a1); ld a0, 0(a1))
	TEST(33, a0, 3, li a2, 3; amominu.d a0, a2, (a1); ld a0, 0(a1))
	TEST(34, a0, 3, li a2, 10; amoadd.d a0, a2, (a1))
	TEST(35, a0, 13, li a2, 99; amoswap.d a0, a2, (a1))
	TEST(36, a0, 99, li a2, 0; amoor.d a0, a2, (a1))
	/* amo with rd = rs2 */
	TEST(37, a2, 99, li a2, 1; amoadd.d a2, a2, (a1))
	TEST(38, a0, 100, ld a0, 0(a1))
	/* LR/SC */
	TEST(40, a0, 0, lr.d a3, (a1); li a2, 7; sc.d a0, a2, (a1))
	TEST(41, a0, 7, ld a0, 0(a1))
	TEST(42, a0, 1, li a2, 8; sc.d a0, a2, (a1)) /* no reservation */
	TEST(43, a0, 7, ld a0, 0(a1))
	/* a store of another value to the granule breaks the reservation */
	TEST(44, a0, 1, lr.d a3, (a1); li t0, 55; sd t0, 0(a1); li a2, 9; sc.d a0, a2, (a1))
	TEST(45, a0, 55, ld a0, 0(a1))
	/* sc to another address fails */
	TEST(46, a0, 1, lr.w a3, (a1); addi a4, a1, 4; sc.w a0, a2, (a4))
	/* a trap clears the reservation */
	TEST(47, a0, 1, lr.d a3, (a1); ecall; sc.d a0, a2, (a1))
	TEST(48, a0, 0xffffffff80000000, li t0, 0x80000000; sw t0, 0(a1); lr.w a0, (a1))
	TEST(49, a0, 0, sc.w a0, a2, (a1))
	/* Compressed forms (assembled explicitly). */
	TEST(50, a0, 31, c.li a0, 31)
	TEST(51, a0, -32, c.li a0, -32)
	TEST(52, a0, 0x1f000, c.lui a0, 0x1f)
	TEST(53, a0, 0xfffffffffffe0000, c.lui a0, 0xfffe0)
	TEST(54, a0, 10, li a0, 5; c.addi a0, 5)
	TEST(55, a0, 0xffffffff80000000, li a0, 0x7fffffff; c.addiw a0, 1)
	TEST(56, a0, 8, li a0, 1; c.slli a0, 3)
	TEST(57, s1, 0x0fffffffffffffff, li s1, -1; c.srli s1, 4)
	TEST(58, s1, -1, li s1, -1; c.srai s1, 4)
	TEST(59, s1, 0x10, li s1, 0x1f; c.andi s1, 0x10)
	TEST(60, s1, 3, li s1, 5; li a5, 2; c.sub s1, a5)
	TEST(61, s1, 7, li s1, 5; li a5, 2; c.xor s1, a5)
	TEST(62, s1, 7, li s1, 5; li a5, 3; c.or s1, a5)
	TEST(63, s1, 1, li s1, 5; li a5, 3; c.and s1, a5)
	TEST(64, s1, 0xffffffff80000000, li s1, 0x7fffffff; li a5, 1; c.addw s1, a5)
	TEST(65, s1, 0xffffffff80000000, li s1, 0; li a5, 0x80000000; c.subw s1, a5)
	TEST(66, a0, 42, li a1, 42; c.mv a0, a1)
	TEST(67, a0, 44, li a0, 2; li a1, 42; c.add a0, a1)
	mv s1, s0
	TEST(68, a0, 0x12345678, li a5, 0x12345678; c.sw a5, 32(s1); c.lw a0, 32(s1))
	TEST(69, a0, 0x123456789, li a5, 0x123456789; c.sd a5, 40(s1); c.ld a0, 40(s1))
	mv t2, sp
	mv sp, s0
	TEST(70, a0, 0x55, li a5, 0x55; c.swsp a5, 48(sp); c.lwsp a0, 48(sp))
	TEST(71, a0, 0x66, li a5, 0x66; c.sdsp a5, 56(sp); c.ldsp a0, 56(sp))
	TEST(72, s1, 64, c.addi4spn s1, sp, 64; sub s1, s1, s0)
	TEST(73, a0, 32, c.addi16sp sp, 32; sub a0, sp, s0)
	mv sp, t2
	li gp, 74
	li s1, 0
	c.beqz s1, 6f
	j fail
6:	c.bnez s1, fail
	c.j 6f
	j fail
6:	la a0, 7f
	c.jalr a0
	j 8f
7:	c.jr ra
8:	li gp, 75
	fence
	fence.i
	fence rw, rw
	PASS
	.data
	.align 4
buf: .space 256
