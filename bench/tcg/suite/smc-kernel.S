/* The smc workload's kernel: a table CRC that keeps its running state in
 * memory after every byte, and a one-instruction function the driver
 * patches.  Built twice: the state in the kernel's own code page (code and
 * data in one page, as small programs and literal pools have them), and
 * with -DSMC_FAR in .data, another page. */
	.section .text.smc, "ax"
	.balign 4096
	.globl smc_kernel
/* a0 = buffer, a1 = length (> 0), a2 = CRC table; returns the CRC. */
smc_kernel:
	la t3, smc_state
	lw t0, 0(t3)
1:	lbu t1, 0(a0)
	xor t2, t0, t1
	andi t2, t2, 0xff
	slli t2, t2, 2
	add t2, t2, a2
	lwu t2, 0(t2)
	srliw t0, t0, 8
	xor t0, t0, t2
	sw t0, 0(t3)
	lw t4, 4(t3)
	addi t4, t4, 1
	sw t4, 4(t3)
	addi a0, a0, 1
	addi a1, a1, -1
	bnez a1, 1b
	mv a0, t0
	ret

/* a0 += the immediate the driver writes here. */
	.globl smc_patch
	.balign 4
smc_patch:
	.option push
	.option norvc
	addi a0, a0, 1
	.option pop
	ret

#ifdef SMC_FAR
	.data
#endif
	.balign 64
	.globl smc_state
smc_state:
	.word 0, 0
