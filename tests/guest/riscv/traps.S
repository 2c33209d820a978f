/* Every synchronous exception cause, with mcause/mtval/mepc, in M, S and U,
 * plus the TW/TVM/TSR traps and delegation to S-mode. */
#include "test.h"
START
	PMP_ALLOW_ALL

	/* 1: illegal 32-bit instruction: mtval holds its bits. */
	EXPECT_TRAP(1, 2, ill1: .word 0xffffffff)
	CHECK(s10, 0xffffffff)
	la t0, ill1
	CHECK_REG(s11, t0)
	/* 2: the all-zero 16-bit instruction is illegal. */
	EXPECT_TRAP(2, 2, .half 0)
	CHECK(s10, 0)
	/* 3: ebreak: mtval is the pc. */
	EXPECT_TRAP(3, 3, brk: ebreak)
	la t0, brk
	CHECK_REG(s10, t0)
	CHECK_REG(s11, t0)
	/* 4: c.ebreak */
	EXPECT_TRAP(4, 3, .half 0x9002)
	/* 5: ecall from M */
	li a7, 0
	EXPECT_TRAP(5, 11, ecall)
	CHECK(s10, 0)
	/* 6: misaligned AMO: store/AMO address misaligned. */
	la a0, buf
	addi a1, a0, 1
	EXPECT_TRAP(6, 6, amoadd.w a2, a2, (a1))
	CHECK_REG(s10, a1)
	/* 7: misaligned LR: load address misaligned. */
	addi a1, a0, 4
	EXPECT_TRAP(7, 4, lr.d a2, (a1))
	CHECK_REG(s10, a1)
	/* 8: misaligned SC */
	addi a1, a0, 2
	EXPECT_TRAP(8, 6, sc.w a2, a2, (a1))
	/* 9: load access fault (nothing at 0x1000) */
	li a1, 0x1000
	EXPECT_TRAP(9, 5, ld a2, 0(a1))
	CHECK(s10, 0x1000)
	/* 10: store access fault */
	EXPECT_TRAP(10, 7, sw a2, 8(a1))
	CHECK(s10, 0x1008)
	/* 11: AMO access fault */
	EXPECT_TRAP(11, 7, amoswap.d a2, a2, (a1))
	/* 12: instruction access fault */
	SET_RESUME(after12)
	EXPECT_TRAP(12, 1, jalr ra, 0(a1))
after12:
	li t6, 1
	bne s9, t6, fail
	CHECK(s10, 0x1000)
	CHECK(s11, 0x1000)
	/* 13: misaligned loads and stores are performed, within and
	 * across pages. */
	li gp, 13
	li s9, -1
	la a0, buf
	li t0, 0x1122334455667788
	sd t0, 1(a0)
	ld t1, 1(a0)
	bne t0, t1, fail
	lbu t1, 1(a0)
	CHECK(t1, 0x88)
	lw t1, 3(a0)
	CHECK(t1, 0x33445566)
	la a0, buf + 4096 - 3
	sd t0, 0(a0)
	ld t1, 0(a0)
	bne t0, t1, fail
	lhu t1, 2(a0)
	CHECK(t1, 0x5566)
	li t6, -1
	bne s9, t6, fail
	/* 14: ecall from S */
	TO_PRIV(1)
	li a7, 0
	EXPECT_TRAP(14, 9, ecall)
	/* 15: mret from S is illegal */
	EXPECT_TRAP(15, 2, mret)
	CHECK(s10, 0x30200073)
	/* 16: M CSR from S is illegal */
	EXPECT_TRAP(16, 2, csrr a0, mstatus)
	/* 17: sret from S is allowed with TSR clear; do it via a S->S. */
	TO_M
	/* 18: ecall from U, then U-mode illegal operations. */
	TO_PRIV(0)
	li a7, 0
	EXPECT_TRAP(18, 8, ecall)
	EXPECT_TRAP(19, 2, wfi)
	EXPECT_TRAP(20, 2, sret)
	EXPECT_TRAP(21, 2, csrr a0, sstatus)
	EXPECT_TRAP(22, 2, sfence.vma)
	TO_M
	/* 23: TW: wfi in S traps. */
	li t0, 1 << 21
	csrs mstatus, t0
	TO_PRIV(1)
	EXPECT_TRAP(23, 2, wfi)
	TO_M
	li t0, 1 << 21
	csrc mstatus, t0
	/* 24: TVM: satp and sfence.vma in S trap. */
	li t0, 1 << 20
	csrs mstatus, t0
	TO_PRIV(1)
	EXPECT_TRAP(24, 2, csrr a0, satp)
	EXPECT_TRAP(25, 2, sfence.vma)
	TO_M
	li t0, 1 << 20
	csrc mstatus, t0
	/* 26: TSR: sret in S traps. */
	li t0, 1 << 22
	csrs mstatus, t0
	TO_PRIV(1)
	EXPECT_TRAP(26, 2, sret)
	TO_M
	li t0, 1 << 22
	csrc mstatus, t0
	/* 27: delegation: illegal instruction and breakpoint go to S. */
	la t0, s_trap
	csrw stvec, t0
	li t0, (1 << 2) | (1 << 3) | (1 << 8)
	csrw medeleg, t0
	TO_PRIV(1)
	EXPECT_TRAP(27, 2, s_ill: .word 0xffffffff)
	la t0, s_ill
	CHECK_REG(s11, t0)
	ld t0, s_sstatus
	andi t0, t0, 1 << 8 /* SPP = S at the trap */
	beqz t0, fail
	/* 28: from U, delegated ecall lands in S with SPP = U. */
	li t0, 1 << 8
	csrc sstatus, t0
	li t0, 1 << 8
	csrs sstatus, t0
	la t0, in_u
	csrw sepc, t0
	li t0, 1 << 8
	csrc sstatus, t0
	sret
in_u:
	li a7, 0
	EXPECT_TRAP(28, 8, ecall)
	la t0, s_sstatus /* U-mode may read its own data */
	ld t0, 0(t0)
	andi t0, t0, 1 << 8 /* SPP = U at the trap */
	bnez t0, fail
	/* back in U; an M-level trap (not delegated) goes to M */
	li a1, 0x1000
	EXPECT_TRAP(29, 5, ld a2, 0(a1))
	TO_M /* delegated: s_trap returns to S */
	TO_M
	csrr t0, scause
	CHECK(t0, 8)
	/* 30: medeleg does not delegate ecall from M (bit 11 reads 0). */
	li t0, -1
	csrw medeleg, t0
	csrr t0, medeleg
	li gp, 30
	CHECK(t0, 0xb3ff)
	csrw medeleg, zero
	PASS

	.align 2
s_trap:
	csrr s9, scause
	csrr s10, stval
	csrr s11, sepc
	csrr t6, sstatus
	la t5, s_sstatus
	sd t6, 0(t5)
	li t6, 8
	bne s9, t6, 2f
	li t6, SYS_TO_M
	bne a7, t6, 2f
	li t6, 1 << 8 /* an ecall to leave U: return to S */
	csrs sstatus, t6
2:	lhu t6, 0(s11)
	andi t6, t6, 3
	addi t5, s11, 2
	addi t6, t6, -3
	bnez t6, 1f
	addi t5, s11, 4
1:	csrw sepc, t5
	sret

	.data
	.align 3
s_sstatus: .dword 0
	.align 12
buf:	.space 8192
