/* Self-modifying code: code that was executed (and cached) is rewritten
 * with a store or an AMO, then fence.i; the new code must run.  Stores to
 * data in the same page as cached code leave the code intact, however
 * often they come; a store into the middle of a block, a 2-byte store to
 * one of two compressed instructions sharing a word, and a store to the
 * running block's next instruction are all seen after fence.i.
 * (smc-smp.S: the same across harts.) */
#include "test.h"

#define LI_A0(n) (((n) << 20) | (10 << 7) | 0x13)
#define ADDI_A0_A0(n) (((n) << 20) | (10 << 15) | (10 << 7) | 0x13)
/* c.addi a0, n (0 < n < 32) */
#define C_ADDI_A0(n) (((n) << 2) | (10 << 7) | 1)

START
	li gp, 1
	li s1, 100
1:	call patch_fn
	CHECK(a0, 1)
	addi s1, s1, -1
	bnez s1, 1b
	la t0, patch_fn
	li t1, LI_A0(2)
	sw t1, 0(t0)
	fence.i
	call patch_fn
	li gp, 2
	CHECK(a0, 2)
	/* 3: rewrite with an AMO */
	la t0, patch_fn
	li t1, LI_A0(3)
	amoswap.w t2, t1, (t0)
	fence.i
	call patch_fn
	li gp, 3
	CHECK(a0, 3)
	CHECK(t2, LI_A0(2))
	/* 4: a data store next to the code in the same page leaves the code
	 * intact. */
	la t0, patch_data
	li t1, 77
	sd t1, 0(t0)
	call patch_fn
	li gp, 4
	CHECK(a0, 3)
	/* 5: a loop that patches its own body each iteration */
	li gp, 5
	li s1, 0
	li s2, 10
	la s3, loop_body
2:
	addi t1, s1, 1
	slli t1, t1, 20
	li t0, LI_A0(0)
	or t1, t1, t0
	sw t1, 0(s3)
	fence.i
	.option push
	.option norvc
loop_body:
	addi a0, x0, 0
	.option pop
	addi s1, s1, 1
	bne a0, s1, fail
	blt s1, s2, 2b
	/* 6: the second instruction of a cached block */
	li gp, 6
	call mid_fn
	CHECK(a0, 11)
	la t0, mid_fn_2
	li t1, ADDI_A0_A0(20)
	sw t1, 0(t0)
	fence.i
	call mid_fn
	CHECK(a0, 21)
	/* 7: a 2-byte store to a compressed instruction whose word also
	 * holds another instruction of the block */
	li gp, 7
	call c_fn
	CHECK(a0, 3)
	la t0, c_fn_2
	li t1, C_ADDI_A0(5)
	sh t1, 0(t0)
	fence.i
	call c_fn
	CHECK(a0, 6)
	/* 8: many stores and an AMO to data in the code page: the code
	 * stays, the data is stored */
	li gp, 8
	la t0, patch_data
	li s1, 0
	li s2, 3000
3:	sd s1, 0(t0)
	call patch_fn
	CHECK(a0, 3)
	addi s1, s1, 1
	blt s1, s2, 3b
	la t0, patch_data
	li t1, 5
	amoadd.d t2, t1, (t0)
	CHECK(t2, 2999)
	ld t2, 0(t0)
	CHECK(t2, 3004)
	call mid_fn
	CHECK(a0, 21)
	/* 9: a store to the next instruction of the running block: that
	 * instruction may run old or new, every later pass the new */
	li gp, 9
	li s1, 1
	li s2, 20
	la s3, 5f
4:	slli t1, s1, 20
	li t0, LI_A0(0)
	or t1, t1, t0
	sw t1, 0(s3)
	.option push
	.option norvc
5:	addi a0, x0, 0
	.option pop
	fence.i
	beq a0, s1, 6f
	addi t0, s1, -1
	bne a0, t0, fail
6:	addi s1, s1, 1
	blt s1, s2, 4b
	/* 10: without fence.i, a store to the running block's next
	 * instruction is seen by that instruction (a hart sees its own
	 * stores to code at once, wherever blocks end), also in the first
	 * block of a page that a fast store entry reached before the page
	 * held code; and again on a second pass, from the cache. */
	li gp, 10
	la t0, fresh_data
	sd zero, 0(t0)
	li s1, 1
	li s2, 3
7:	slli t1, s1, 20
	li t0, LI_A0(0)
	or t1, t1, t0
	la t0, fresh_fn_2
	call fresh_fn
	CHECK_REG(a0, s1)
	addi s1, s1, 1
	blt s1, s2, 7b
	PASS

	.align 4
	.option push
	.option norvc
patch_fn:
	addi a0, x0, 1
	ret
	.option pop
	.align 3
patch_data: .dword 0

	.option push
	.option norvc
mid_fn:
	addi a0, x0, 1
mid_fn_2:
	addi a0, a0, 10
	ret
	.option pop

	.align 2
	.option push
	.option rvc
c_fn:
	c.li a0, 1
c_fn_2:
	c.addi a0, 2
	c.jr ra
	.option pop

	/* A page of its own, first written as data, then run. */
	.align 12
	.option push
	.option norvc
fresh_fn:
	sw t1, 0(t0)
fresh_fn_2:
	addi a0, x0, 0
	ret
	.option pop
	.align 3
fresh_data: .dword 0
