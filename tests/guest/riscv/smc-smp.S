/* Code rewritten by another hart (run with -smp 2 on riscv-virt): hart 0
 * calls fn, which it has cached; hart 1 rewrites it and stores data into
 * the same page as the code hart 0 runs; after the handshake and fence.i
 * hart 0 must run the new fn.  Every round moves fn's result on by one. */
#define FINISHER 0x100000
#define ROUNDS 200
#define LI_A0(n) (((n) << 20) | (10 << 7) | 0x13)

	.section .text.init
	.globl _start
_start:
	csrr t0, mhartid
	bnez t0, hart1
	li gp, 1
	li s1, 0
	li s2, ROUNDS
	la s3, flag
1:	call fn
	addi t0, s1, 100
	bne a0, t0, fail
	/* Ask hart 1 for round s1 + 1 and wait for its answer. */
	addi s1, s1, 1
	fence rw, rw
	sw s1, 0(s3)
2:	lw t0, 4(s3)
	bne t0, s1, 2b
	fence rw, rw
	fence.i
	blt s1, s2, 1b
	call fn
	li gp, 2
	li t0, 100 + ROUNDS
	bne a0, t0, fail
	/* hart 1's data stores next to the code arrived */
	li gp, 3
	ld t0, 8(s3)
	li t1, ROUNDS * (ROUNDS + 1) / 2
	bne t0, t1, fail
	li t0, 0x5555
	li t1, FINISHER
	sw t0, 0(t1)
3:	j 3b
fail:
	slli t0, gp, 16
	li t1, 0x3333
	or t0, t0, t1
	li t1, FINISHER
	sw t0, 0(t1)
4:	j 4b

hart1:
	/* Only hart 1 serves; any other parks. */
	csrr t0, mhartid
	li t1, 1
	bne t0, t1, 5f
	la s3, flag
	la s4, fn
	li s1, 0
6:	lw t0, 0(s3)
	beq t0, s1, 6b
	mv s1, t0
	li t1, LI_A0(100)
	slli t2, s1, 20
	add t1, t1, t2
	sw t1, 0(s4)
	ld t0, 8(s3)
	add t0, t0, s1
	sd t0, 8(s3)
	fence rw, rw
	sw s1, 4(s3)
	j 6b
5:	wfi
	j 5b

	.align 4
	.option push
	.option norvc
fn:
	addi a0, x0, 100
	ret
	.option pop
	.align 3
flag:	.word 0, 0
sum:	.dword 0
