/* Interrupts: M timer/software/external, priority, WFI wake-up, delegation
 * to S, the global-enable rules per privilege, and vectored mtvec. */
#include "test.h"

#define WAIT_IRQ            \
	li t6, -1;          \
1:	beq s9, t6, 1b

START
	PMP_ALLOW_ALL
	li s8, CLINT
	li t0, 0x4000
	add s7, s8, t0 /* mtimecmp */
	li t0, 0xbff8
	add s6, s8, t0 /* mtime */

	/* 1: machine timer */
	li gp, 1
	li s9, -1
	ld t0, 0(s6)
	addi t0, t0, 50
	sd t0, 0(s7)
	li t0, 1 << 7
	csrw mie, t0
	csrsi mstatus, 8
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 7)
	csrci mstatus, 8
	li t0, -1
	sd t0, 0(s7)
	/* 2: machine software */
	li gp, 2
	li s9, -1
	li t0, 1
	sw t0, 0(s8)
	li t0, 1 << 3
	csrw mie, t0
	csrsi mstatus, 8
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 3)
	csrci mstatus, 8
	sw zero, 0(s8)
	/* 3: machine external */
	li gp, 3
	li s9, -1
	li t1, IRQLINES
	li t0, 1 << 11
	sd t0, 0(t1)
	csrw mie, t0
	csrsi mstatus, 8
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 11)
	csrci mstatus, 8
	/* 4: priority: MEI > MSI > MTI with all three pending. */
	li gp, 4
	li s9, -1
	li t0, 1
	sw t0, 0(s8)
	sd zero, 0(s7)
	li t0, 0x888
	csrw mie, t0
	csrsi mstatus, 8
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 11)
	li t1, IRQLINES
	sd zero, 0(t1)
	li s9, -1
	li t0, 0x888
	csrw mie, t0
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 3)
	sw zero, 0(s8)
	li s9, -1
	li t0, 0x888
	csrw mie, t0
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 7)
	csrci mstatus, 8
	/* 5: WFI wakes on an enabled pending interrupt even with MIE clear,
	 * and no trap is taken. */
	li gp, 5
	li s9, -1
	ld t0, 0(s6)
	li t1, 100000
	add t0, t0, t1
	sd t0, 0(s7)
	li t0, 1 << 7
	csrw mie, t0
	wfi
	csrr t0, mip
	andi t0, t0, 1 << 7
	beqz t0, fail
	CHECK(s9, -1)
	li t0, -1
	sd t0, 0(s7)
	csrw mie, zero
	/* 6: supervisor timer delegated to S, taken in S with SIE. */
	li gp, 6
	li s9, -1
	la t0, s_trap
	csrw stvec, t0
	li t0, 1 << 5
	csrw mideleg, t0
	csrw mie, t0
	csrs mip, t0
	TO_PRIV(1)
	csrsi sstatus, 2
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 5)
	csrci sstatus, 2
	TO_M
	csrw mip, zero
	/* 7: an S-level interrupt is never taken in M. */
	li gp, 7
	li s9, -1
	li t0, 1 << 1
	csrw mideleg, t0
	csrw mie, t0
	csrs mip, t0
	csrsi mstatus, 8
	nop
	nop
	CHECK(s9, -1)
	/* 8: not delegated, the same interrupt is M-level and taken. */
	csrw mideleg, zero
	csrw mie, t0
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 1)
	csrci mstatus, 8
	csrw mip, zero
	/* 9: M-level interrupts are taken in S even with MIE clear. */
	li gp, 9
	li s9, -1
	li t0, 1 << 3
	csrw mie, t0
	TO_PRIV(1)
	li t0, 1
	sw t0, 0(s8)
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 3)
	sw zero, 0(s8)
	TO_M
	/* 10: S-level interrupts pending in U are taken even with SIE clear. */
	li gp, 10
	li s9, -1
	li t0, 1 << 9
	csrw mideleg, t0
	csrw mie, t0
	TO_PRIV(0)
	li t1, IRQLINES
	li t0, 1 << 9
	sd t0, 0(t1)
	WAIT_IRQ
	CHECK(s9, CAUSE_INT | 9)
	sd zero, 0(t1)
	li a6, 0
	li a7, SYS_TO_M
	ecall
	csrw mideleg, zero
	/* 11: vectored mtvec: the interrupt enters at base + 4 * cause. */
	li gp, 11
	li s9, -1
	la t0, vec
	ori t0, t0, 1
	csrw mtvec, t0
	li t0, 1 << 3
	csrw mie, t0
	li t0, 1
	sw t0, 0(s8)
	csrsi mstatus, 8
	WAIT_IRQ
	CHECK(s9, 0x33)
	csrci mstatus, 8
	sw zero, 0(s8)
	la t0, m_trap
	csrw mtvec, t0
	PASS

	.align 2
s_trap:
	csrr s9, scause
	bgez s9, fail
	csrw sie, zero
	sret

	.align 6
	.option push
	.option norvc
vec:
	j vec_bad
	j vec_bad
	j vec_bad
	j vec_msi
	.option pop
vec_bad:
	j fail
vec_msi:
	li s9, 0x33
	csrw mie, zero
	mret
