/* SPDX-License-Identifier: MIT */
/*
 * Self-checking RV64 guest tests.  gp holds the number of the case being
 * run; a failure writes 0x3333 | gp << 16 to the finisher, success 0x5555.
 *
 * The M-mode trap handler installed by START records mcause in s9, mtval in
 * s10 and mepc in s11 (it clobbers those and t5, t6), then resumes at the
 * address in the variable trap_resume if it is set (and clears it), else
 * after the trapping instruction (read through the trapping mode's
 * translation).  An ecall with a7 = SYS_TO_M returns to M-mode after the
 * ecall, or at the address in a6 if it is not zero.  An interrupt clears mie and returns.
 */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#define FINISHER 0x100000
#define IRQLINES 0x100010
#define UART 0x10000000
#define CLINT 0x2000000
#define SYS_TO_M 0x4d

#define CAUSE_INT (1 << 63)

#define START                                                  \
	.section .text.init;                                   \
	.globl _start;                                         \
_start:                                                        \
	la sp, _stack_top;                                     \
	la t0, m_trap;                                         \
	csrw mtvec, t0;                                        \
	li gp, 0;                                              \
	j test_main;                                           \
	.align 2;                                              \
m_trap:                                                        \
	csrr s9, mcause;                                       \
	csrr s10, mtval;                                       \
	csrr s11, mepc;                                        \
	bltz s9, 8f;                                           \
	li t6, 8;                                              \
	beq s9, t6, 5f;                                        \
	li t6, 9;                                              \
	beq s9, t6, 5f;                                        \
6:	la t6, trap_resume;                                    \
	ld t5, 0(t6);                                          \
	beqz t5, 7f;                                           \
	sd zero, 0(t6);                                        \
	csrw mepc, t5;                                         \
	mret;                                                  \
7:	li t6, (1 << 17) | (1 << 18) | (1 << 19);              \
	csrrs t5, mstatus, t6;                                 \
	lhu t6, 0(s11);                                        \
	csrw mstatus, t5;                                      \
	andi t6, t6, 3;                                        \
	addi t5, s11, 2;                                       \
	addi t6, t6, -3;                                       \
	bnez t6, 9f;                                           \
	addi t5, s11, 4;                                       \
9:	csrw mepc, t5;                                         \
	mret;                                                  \
5:	li t6, SYS_TO_M;                                       \
	bne a7, t6, 6b;                                        \
	li t6, 0x1800;                                         \
	csrs mstatus, t6;                                      \
	mv t5, a6;                                             \
	bnez t5, 4f;                                           \
	addi t5, s11, 4;                                       \
4:	csrw mepc, t5;                                         \
	mret;                                                  \
8:	csrw mie, zero;                                        \
	mret;                                                  \
pass:                                                          \
	li t0, 0x5555;                                         \
	li t1, FINISHER;                                       \
	sw t0, 0(t1);                                          \
1:	j 1b;                                                  \
fail:                                                          \
	slli t0, gp, 16;                                       \
	li t1, 0x3333;                                         \
	or t0, t0, t1;                                         \
	li t1, FINISHER;                                       \
	sw t0, 0(t1);                                          \
1:	j 1b;                                                  \
	.data;                                                 \
	.align 3;                                              \
trap_resume: .dword 0;                                         \
	.text;                                                 \
test_main:

#define PASS j pass

/* Run code, then check that reg equals the expected value. */
#define TEST(n, reg, expected, ...)                           \
	li gp, n;                                              \
	__VA_ARGS__;                                           \
	li t6, expected;                                       \
	bne reg, t6, fail

#define CHECK(reg, expected)                                   \
	li t6, expected;                                       \
	bne reg, t6, fail

#define CHECK_REG(reg, reg2) bne reg, reg2, fail

/* Expect the next trap to have this cause (clears s9 first). */
#define EXPECT_TRAP(n, cause, ...)                            \
	li gp, n;                                              \
	li s9, -1;                                             \
	__VA_ARGS__;                                           \
	li t6, cause;                                          \
	bne s9, t6, fail

#define SET_RESUME(label)                                      \
	la t6, label;                                          \
	la t5, trap_resume;                                    \
	sd t6, 0(t5)

/* Drop to priv (0 = U, 1 = S) at the next instruction. */
#define TO_PRIV(priv)                                          \
	li t0, 0x1800;                                         \
	csrc mstatus, t0;                                      \
	li t0, (priv) << 11;                                   \
	csrs mstatus, t0;                                      \
	la t0, 1f;                                             \
	csrw mepc, t0;                                         \
	mret;                                                  \
1:

#define TO_M                                                   \
	li a6, 0;                                              \
	li a7, SYS_TO_M;                                       \
	ecall

/* Allow S and U to access everything through PMP entry 15. */
#define PMP_ALLOW_ALL                                          \
	li t0, -1;                                             \
	csrw pmpaddr15, t0;                                    \
	li t0, (0x1f << 56);                                   \
	csrs pmpcfg2, t0

#endif
