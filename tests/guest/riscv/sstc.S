/* Sstc, hand-checked against the Sstc specification (no oracle implements
 * it): stimecmp, menvcfg.STCE, STIP = (time >= stimecmp) and read-only
 * while STCE is set, the S-mode access rules (mcounteren.TM, STCE), and a
 * supervisor timer interrupt taken both in a busy loop and out of WFI.
 * With Sstc switched off, case 1 fails (stimecmp is illegal). */
#include "test.h"

#define STIP (1 << 5)
#define STCE (1 << 63)

START
	PMP_ALLOW_ALL
	/* 1: stimecmp exists; it reads back what M writes. */
	li gp, 1
	li s9, -1
	li t0, 0x123456789
	csrw stimecmp, t0
	csrr t1, stimecmp
	li t6, -1
	bne s9, t6, fail
	bne t0, t1, fail
	/* 2: STCE off: mip.STIP is M's to write. */
	li gp, 2
	csrw stimecmp, zero
	csrr t0, mip
	andi t0, t0, STIP
	bnez t0, fail
	li t0, STIP
	csrs mip, t0
	csrr t0, mip
	andi t0, t0, STIP
	beqz t0, fail
	li t0, STIP
	csrc mip, t0
	/* 3: STCE is writable. */
	li gp, 3
	li t0, STCE
	csrs menvcfg, t0
	csrr t1, menvcfg
	and t1, t1, t0
	beqz t1, fail
	/* 4: stimecmp = 0 <= time: STIP is set. */
	li gp, 4
	csrw stimecmp, zero
	csrr t0, mip
	andi t0, t0, STIP
	beqz t0, fail
	/* 5: stimecmp far ahead: STIP clear, and a write does not set it. */
	li gp, 5
	li t0, -1
	csrw stimecmp, t0
	csrr t0, mip
	andi t0, t0, STIP
	bnez t0, fail
	li t0, STIP
	csrs mip, t0
	csrr t0, mip
	andi t0, t0, STIP
	bnez t0, fail
	/* 6: S-mode: illegal without mcounteren.TM... */
	csrw mcounteren, zero
	TO_PRIV(1)
	EXPECT_TRAP(6, 2, csrr a0, stimecmp)
	TO_M
	/* 7: ...legal with TM and STCE... */
	li t0, 2
	csrw mcounteren, t0
	TO_PRIV(1)
	li gp, 7
	li s9, -1
	csrr a0, stimecmp
	li t6, -1
	bne s9, t6, fail
	bne a0, t6, fail
	TO_M
	/* 8: ...illegal again with STCE clear, and absent from U. */
	li t0, STCE
	csrc menvcfg, t0
	TO_PRIV(1)
	EXPECT_TRAP(8, 2, csrr a0, stimecmp)
	TO_M
	TO_PRIV(0)
	EXPECT_TRAP(9, 2, csrr a0, stimecmp)
	TO_M
	li t0, STCE
	csrs menvcfg, t0

	/* 10: the timer interrupt, delegated to S, in a busy loop. */
	li gp, 10
	li t0, STIP
	csrw mideleg, t0
	la t0, s_trap
	csrw stvec, t0
	li s8, 0
	TO_PRIV(1)
	li gp, 10
	li t0, STIP
	csrs sie, t0
	csrsi sstatus, 2
	rdtime t0
	addi t0, t0, 200
	csrw stimecmp, t0
	li t1, 100000000
1:	bnez s8, 2f
	addi t1, t1, -1
	bnez t1, 1b
	j fail_s
2:	li t0, (1 << 63) | 5
	bne s8, t0, fail_s
	/* The handler moved stimecmp to the end of time: STIP is clear. */
	csrr t0, sip
	andi t0, t0, STIP
	bnez t0, fail_s
	/* 11: out of WFI. */
	li gp, 11
	li s8, 0
	li t0, STIP
	csrs sie, t0
	csrci sstatus, 2
	rdtime t0
	addi t0, t0, 500
	csrw stimecmp, t0
3:	wfi
	csrr t0, sip
	andi t0, t0, STIP
	beqz t0, 3b
	csrsi sstatus, 2
4:	beqz s8, 4b
	li t0, (1 << 63) | 5
	bne s8, t0, fail_s
	TO_M
	PASS

fail_s:
	TO_M
	j fail

	.align 2
s_trap:
	csrr s8, scause
	li t6, -1
	csrw stimecmp, t6
	sret
