/* Self-modifying code: code that was executed (and cached) is rewritten
 * with a store or an AMO, then fence.i; the new code must run. */
#include "test.h"

#define LI_A0(n) (((n) << 20) | (10 << 7) | 0x13)

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
