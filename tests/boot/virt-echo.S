/*
 * For tests/boot/console-input.py: a riscv-virt guest that echoes what
 * the console receives (polling the 16550's LSR), and passes through the
 * finisher when it receives 'q'.
 */
#define UART 0x10000000
#define FINISHER 0x100000

	.section .text.init
	.globl _start
_start:
	li t0, UART
	li t3, 'q'
1:	lbu t1, 5(t0)		/* LSR: data ready? */
	andi t1, t1, 1
	beqz t1, 1b
	lbu t2, 0(t0)		/* RBR */
	beq t2, t3, 3f
2:	lbu t1, 5(t0)		/* LSR: THRE? */
	andi t1, t1, 0x20
	beqz t1, 2b
	sb t2, 0(t0)
	j 1b
3:	li t0, FINISHER
	li t1, 0x5555
	sw t1, 0(t0)
4:	j 4b
