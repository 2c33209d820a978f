/* Sv39 and Sv48: A/D updates, permissions, SUM, MXR, the U bit,
 * superpages, misaligned superpages, reserved encodings, non-canonical
 * addresses. */
#include "test.h"

#define V 1
#define R 2
#define W 4
#define X 8
#define U 16
#define A 64
#define D 128

/* table[idx] = PTE for physical address in reg t0 with flags. */
#define SETPTE(table, idx, fl)  \
	srli t0, t0, 12;        \
	slli t0, t0, 10;        \
	ori t0, t0, fl;         \
	sd t0, (idx) * 8(table)

#define VA 0x40000000

START
	PMP_ALLOW_ALL
	la s0, pt_root
	la s1, pt_l1
	la s2, pt_l0
	la s3, buf
	li t0, 0x80000000
	SETPTE(s0, 2, V | R | W | X | A | D)
	mv t0, s1
	SETPTE(s0, 1, V)
	mv t0, s2
	SETPTE(s1, 0, V)
	li t0, 0x80200000
	SETPTE(s1, 1, V | R | W | A | D)
	li t0, 0x80201000
	SETPTE(s1, 2, V | R | W | A | D)
	mv t0, s3
	SETPTE(s2, 0, V | R | W)
	addi t0, s3, 1024
	addi t0, t0, 1024
	addi t0, t0, 1024
	addi t0, t0, 1024
	SETPTE(s2, 1, V | R | A)
	li t1, 8192
	add t0, s3, t1
	SETPTE(s2, 2, V | R | W | U | A | D)
	li t1, 12288
	add t0, s3, t1
	SETPTE(s2, 3, V | X | A)
	la t0, u_code
	SETPTE(s2, 5, V | R | X | U | A)
	mv t0, s2
	SETPTE(s2, 6, V)
	mv t0, s3
	SETPTE(s2, 7, V | W | A | D)
	/* Known values. */
	li t0, 0x1111
	sd t0, 0(s3)
	li t1, 4096
	add t1, s3, t1
	li t0, 0x2222
	sd t0, 0(t1)
	li t1, 8192
	add t1, s3, t1
	li t0, 0x3333
	sd t0, 0(t1)
	li t1, 12288
	add t1, s3, t1
	li t0, 0x4444
	sd t0, 0(t1)
	li t1, 0x80201234
	li t0, 0x5555
	sd t0, 0(t1)

	li t0, 8 << 60
	srli t1, s0, 12
	or t0, t0, t1
	csrw satp, t0
	sfence.vma

	/* 1: a load sets A, not D. */
	TO_PRIV(1)
	li a0, VA
	TEST(1, a1, 0x1111, ld a1, 0(a0))
	TO_M
	ld t0, 0(s2)
	andi t1, t0, A
	beqz t1, fail
	andi t1, t0, D
	bnez t1, fail
	/* 2: a store sets D. */
	TO_PRIV(1)
	li gp, 2
	li a0, VA
	li a1, 0x1212
	sd a1, 8(a0)
	TO_M
	ld t0, 0(s2)
	andi t1, t0, D
	beqz t1, fail
	ld t0, 8(s3)
	CHECK(t0, 0x1212)
	/* 3: read-only page: store page fault. */
	TO_PRIV(1)
	li a0, VA + 0x1000
	TEST(3, a1, 0x2222, ld a1, 0(a0))
	EXPECT_TRAP(4, 15, sd a1, 0(a0))
	CHECK_REG(s10, a0)
	EXPECT_TRAP(5, 15, amoadd.d a1, a1, (a0))
	/* 6: U page from S without SUM faults, with SUM works, fetch never. */
	li a0, VA + 0x2000
	EXPECT_TRAP(6, 13, ld a1, 0(a0))
	EXPECT_TRAP(7, 15, sd a1, 0(a0))
	li t0, 1 << 18
	csrs sstatus, t0
	TEST(8, a1, 0x3333, ld a1, 0(a0))
	li a0, VA + 0x5000
	SET_RESUME(after9)
	EXPECT_TRAP(9, 12, jalr ra, 0(a0))
after9:
	li t6, 12
	bne s9, t6, fail
	li t0, 1 << 18
	csrc sstatus, t0
	/* 10: execute-only page: loads fault unless MXR. */
	li a0, VA + 0x3000
	EXPECT_TRAP(10, 13, ld a1, 0(a0))
	li t0, 1 << 19
	csrs sstatus, t0
	TEST(11, a1, 0x4444, ld a1, 0(a0))
	li t0, 1 << 19
	csrc sstatus, t0
	/* 12: invalid, non-leaf at level 0, W without R. */
	li a0, VA + 0x4000
	EXPECT_TRAP(12, 13, ld a1, 0(a0))
	EXPECT_TRAP(13, 15, sd a1, 0(a0))
	li a0, VA + 0x6000
	EXPECT_TRAP(14, 13, ld a1, 0(a0))
	li a0, VA + 0x7000
	EXPECT_TRAP(15, 13, ld a1, 0(a0))
	/* 16: megapage, and a misaligned one. */
	li a0, VA + 0x201234
	TEST(16, a1, 0x5555, ld a1, 0(a0))
	li a0, VA + 0x400000
	EXPECT_TRAP(17, 13, ld a1, 0(a0))
	/* 18: non-canonical address. */
	li a0, 0x8000000000
	EXPECT_TRAP(18, 13, ld a1, 0(a0))
	CHECK_REG(s10, a0)
	/* 19: fetch from a page without X. */
	li a0, VA
	SET_RESUME(after19)
	EXPECT_TRAP(19, 12, jalr ra, 0(a0))
after19:
	li t6, 12
	bne s9, t6, fail
	TO_M

	/* 20: U-mode code on a U page. */
	li gp, 20
	li s9, -1
	li t0, 0x1800
	csrc mstatus, t0
	li t0, VA + 0x5000
	csrw mepc, t0
	mret
after_u:
	li gp, 20
	CHECK(a1, 0x3333)
	CHECK(a2, 13)
	CHECK(a3, 15)

	/* 21: Sv48: the same tables one level down, plus a 512 GiB page. */
	la s4, pt_sv48
	mv t0, s0
	SETPTE(s4, 0, V)
	li t0, 0
	SETPTE(s4, 1, V | R | W | A | D)
	li t0, 9 << 60
	srli t1, s4, 12
	or t0, t0, t1
	csrw satp, t0
	sfence.vma
	TO_PRIV(1)
	li a0, VA
	TEST(21, a1, 0x1111, ld a1, 0(a0))
	li a0, 0x8000000000 + 0x80201234
	TEST(22, a1, 0x5555, ld a1, 0(a0))
	li a0, 0x800000000000
	EXPECT_TRAP(23, 13, ld a1, 0(a0))
	li a0, VA + 0x1000
	EXPECT_TRAP(24, 15, sd a1, 0(a0))
	TO_M
	/* 25: MPRV makes M loads use S translation. */
	li t0, (1 << 17) | (1 << 11)
	csrs mstatus, t0
	li a0, VA
	TEST(25, a1, 0x1111, ld a1, 0(a0))
	li t0, (1 << 17) | (1 << 11)
	csrc mstatus, t0
	csrw satp, zero
	sfence.vma
	PASS

	/* Runs in U at VA + 0x5000. */
	.section .text.ucode, "ax"
	.align 12
u_code:
	li a0, VA + 0x2000
	ld a1, 0(a0) /* U page: allowed */
	li s9, -1
	li a0, VA
	ld a2, 0(a0) /* S page: load page fault */
	mv a2, s9
	li s9, -1
	li a0, VA + 0x1000
	sd a0, 0(a0) /* S page: store page fault */
	mv a3, s9
	ld a6, u_lit
	li a7, SYS_TO_M
	ecall
	.align 3
u_lit: .dword after_u
	.align 12

	.data
	.align 12
pt_root: .space 4096
pt_l1: .space 4096
pt_l0: .space 4096
pt_sv48: .space 4096
buf: .space 16384
