/* Entry of the bench guest: a stack, then guest_main. */
	.section .text.init
	.globl _start
_start:
	la sp, _stack_top
	call guest_main
1:	j 1b
