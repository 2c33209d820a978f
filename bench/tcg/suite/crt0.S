/* Entry of a suite guest: FP on (mstatus.FS), a stack, then guest_main. */
	.section .text.init
	.globl _start
_start:
	li t0, 1 << 13
	csrs mstatus, t0
	csrwi fcsr, 0
	la sp, _stack_top
	call guest_main
1:	j 1b
