/* Entry of the gdb test guest: a stack per hart, then C. */
	.section .text.init
	.globl _start
_start:
	la sp, _stack_top
	csrr a0, mhartid
	slli t0, a0, 14
	sub sp, sp, t0
	call hart_main
1:	wfi
	j 1b
