/*
 * For the riscv-virt board: print a counter in hex, one line each, for
 * ever, waiting for LSR.THRE before every byte as a 16550 driver does.
 * Used with a stdout that stalls (nobody reads) or closes (`| head`).
 */
#define UART 0x10000000
#define LSR 5
#define THRE 0x20

	.section .text.init
	.globl _start
_start:
	li s0, 0
	li s1, UART
1:	mv a0, s0
	call puthex
	addi s0, s0, 1
	j 1b

/* Send the byte in a0 once the transmitter has room. */
putc:
2:	lbu t0, LSR(s1)
	andi t0, t0, THRE
	beqz t0, 2b
	sb a0, 0(s1)
	ret

/* Print a0 as 16 hex digits and a newline. */
puthex:
	mv s2, ra
	mv s3, a0
	li s4, 60
3:	srl t3, s3, s4
	andi t3, t3, 15
	li t4, 10
	blt t3, t4, 4f
	addi a0, t3, 'a' - 10
	j 5f
4:	addi a0, t3, '0'
5:	call putc
	addi s4, s4, -4
	bgez s4, 3b
	li a0, '\n'
	call putc
	mv ra, s2
	ret
