/*
 * For the riscv-virt board: count loop iterations between machine timer
 * interrupts (CLINT, every 500 ticks of the 10 MHz timebase) and print each
 * count in hex on the UART; after 20 interrupts, pass through the finisher.
 * Under -icount the counts are the same in every run.
 */
#define UART 0x10000000
#define MTIME 0x200bff8
#define MTIMECMP 0x2004000
#define FINISHER 0x100000
#define PERIOD 500

	.section .text.init
	.globl _start
_start:
	la sp, _stack_top
	la t0, trap
	csrw mtvec, t0
	li s0, 0
	li s1, 0
	li s2, 20
	li s3, MTIME
	li s4, MTIMECMP
	ld t0, 0(s3)
	addi t0, t0, PERIOD
	sd t0, 0(s4)
	li t0, 0x80
	csrs mie, t0
	csrsi mstatus, 8
loop:
	addi s0, s0, 1
	j loop

	.align 4
trap:
	mv a0, s0
	call puthex
	li s0, 0
	ld t0, 0(s4)
	addi t0, t0, PERIOD
	sd t0, 0(s4)
	addi s1, s1, 1
	beq s1, s2, done
	mret
done:
	li t0, FINISHER
	li t1, 0x5555
	sw t1, 0(t0)
1:	j 1b

/* Print a0 as 16 hex digits and a newline. */
puthex:
	li t1, UART
	li t2, 60
2:	srl t3, a0, t2
	andi t3, t3, 15
	li t4, 10
	blt t3, t4, 3f
	addi t3, t3, 'a' - 10
	j 4f
3:	addi t3, t3, '0'
4:	sb t3, 0(t1)
	addi t2, t2, -4
	bgez t2, 2b
	li t3, '\n'
	sb t3, 0(t1)
	ret
