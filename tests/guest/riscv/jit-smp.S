/* Four harts (run with -smp 4 on riscv-virt, translated): each round every
 * hart turns its MMU on the way Linux does (S-mode at physical addresses,
 * satp written with a trampoline table that does not map the running pc,
 * so the next fetch must trap to stvec at the virtual address), switches
 * to the full table under another ASID (no trap), works at the virtual
 * addresses, turns the MMU off again (the next fetch faults, stvec holds
 * the physical address) and writes satp with Bare once more (no trap).
 * Between the switches: amoadd, an LR/SC counter and a counter under an
 * amoswap lock shared by all harts; code rewritten by hart 0 (fence.i,
 * then every hart runs it at both its virtual and its physical address);
 * a PTE changed by hart 0 that the others must see after their own
 * sfence.vma (a remote TLB shootdown).  A failure ecalls to M-mode with
 * its case number in a7, the finisher reports it. */
#define FINISHER 0x100000
#define NH 4
#define ROUNDS 24
#define SUB 2
#define NITER 40
#define PA_BASE 0x80000000
#define VA_BASE 0xffffffc000000000
/* Its TLB slot (page number mod 256) is no code or data page's. */
#define VA_DATA 0xffffffc0400ff000
#define DATA_IDX 0xff
#define LI_A0(n) (((n) << 20) | (10 << 7) | 0x13)
#define NO_TRAP 0x77
/* PTE bits */
#define PV 1
#define PRWX 14
#define PRW 6
#define PAD 0xc0
#define SATP_SV39 (8 << 60)

/* Unless a == b, fail with case id (S-mode, either address space). */
#define CHECK_EQ(a, b, id)                                     \
	beq a, b, 99f;                                         \
	li a7, id;                                             \
	j s_fail;                                              \
99:

	.section .text.init
	.globl _start
_start:
	csrr s0, mhartid
	li t0, NH
	bgeu s0, t0, park_m
	la t0, m_trap
	csrw mtvec, t0
	li t0, -1
	csrw pmpaddr0, t0
	li t0, 0x1f
	csrw pmpcfg0, t0
	/* Instruction access and page faults go to S (stvec). */
	li t0, (1 << 1) | (1 << 12)
	csrw medeleg, t0
	csrw mideleg, zero
	csrw mie, zero
	bnez s0, 2f
	call build_tables
	fence rw, rw
	li t0, 1
	la t1, ready
	sw t0, 0(t1)
2:	la t1, ready
	lw t0, 0(t1)
	beqz t0, 2b
	fence rw, rw
	li t0, 0x1800
	csrc mstatus, t0
	li t0, 0x800
	csrs mstatus, t0
	la t0, s_main
	csrw mepc, t0
	mret

park_m:
	wfi
	j park_m

/* ecall from S: a7 = 0 passes, else it is the failing case. */
	.align 2
m_trap:
	csrr t0, mcause
	li t1, 9
	beq t0, t1, 1f
	addi a7, t0, 100
1:	li t1, FINISHER
	bnez a7, 2f
	li t0, 0x5555
	sw t0, 0(t1)
	j park_m
2:	slli t0, a7, 16
	li t2, 0x3333
	or t0, t0, t2
	sw t0, 0(t1)
	j park_m

/* Leaf or pointer PTE for physical address reg at table[idx]. */
#define SETPTE(table, idx, reg, fl)                            \
	srli reg, reg, 12;                                     \
	slli reg, reg, 10;                                     \
	ori reg, reg, fl;                                      \
	li t5, (idx) * 8;                                      \
	add t5, t5, table;                                     \
	sd reg, 0(t5)

build_tables:
	/* Trampoline: one gigapage at VA_BASE (root index 256). */
	la a0, tramp_root
	li t0, PA_BASE
	SETPTE(a0, 256, t0, PV | PRWX | PAD)
	/* Full: 2 MiB pages at VA_BASE, and a data page at VA_DATA. */
	la a0, full_root
	la a1, full_l1
	mv t0, a1
	SETPTE(a0, 256, t0, PV)
	li t1, 0
	li t2, 4
	li t3, PA_BASE
1:	slli t4, t1, 21
	add t0, t3, t4
	srli t0, t0, 12
	slli t0, t0, 10
	ori t0, t0, PV | PRWX | PAD
	slli t4, t1, 3
	add t4, a1, t4
	sd t0, 0(t4)
	addi t1, t1, 1
	blt t1, t2, 1b
	la a1, data_l1
	mv t0, a1
	SETPTE(a0, 257, t0, PV)
	la a2, data_l0
	mv t0, a2
	SETPTE(a1, 0, t0, PV)
	la t0, page_a
	SETPTE(a2, DATA_IDX, t0, PV | PRW | PAD)
	/* The pages' markers. */
	la t0, page_a
	li t1, 0xaaaa
	sd t1, 0(t0)
	la t0, page_b
	li t1, 0xbbbb
	sd t1, 0(t0)
	ret

/* S-mode from here on. */
s_main:
	li s1, 0
	li s2, ROUNDS
	li s3, VA_BASE - PA_BASE
	la t0, tramp_root
	srli t0, t0, 12
	li t1, SATP_SV39 | (1 << 44)
	or s4, t0, t1
	la t0, full_root
	srli t0, t0, 12
	li t1, SATP_SV39 | (2 << 44)
	or s5, t0, t1
	la t0, s_unexpected
	csrw stvec, t0
	/* Cache the physical fall-through of switch first (Bare to Bare). */
	li a0, 0
	li a1, 0
	li a2, NO_TRAP
	call switch

round:
	/* Bare -> trampoline: the fetch after the satp write faults. */
	mv a0, s4
	mv a1, s3
	li a2, 12
	call switch
	/* Trampoline -> full (same mapping of the code): no trap. */
	mv a0, s5
	li a1, 0
	li a2, NO_TRAP
	call switch
	auipc t0, 0
	li t1, VA_BASE
	bgeu t0, t1, 1f
	li a7, 20
	j s_fail
1:
	/* Code rewritten by hart 0, run by all at the virtual address. */
	bnez s0, 2f
	la t0, smc_fn
	addi t1, s1, 1
	slli t1, t1, 20
	li t2, LI_A0(0)
	or t1, t1, t2
	sw t1, 0(t0)
	fence.i
2:	call barrier
	fence.i
	call smc_fn
	addi t0, s1, 1
	CHECK_EQ(a0, t0, 21)

	/* amoadd, LR/SC and a lock on shared counters. */
	li s6, NITER
	la s7, counters
	addi s8, s7, 8
	addi s9, s7, 24
3:	li t0, 1
	amoadd.d zero, t0, (s7)
4:	lr.d t0, (s8)
	addi t0, t0, 1
	sc.d t1, t0, (s8)
	bnez t1, 4b
	li t0, 1
5:	amoswap.w.aq t1, t0, (s9)
	bnez t1, 5b
	ld t0, 16(s7)
	addi t0, t0, 1
	sd t0, 16(s7)
	amoswap.w.rl zero, zero, (s9)
	addi s6, s6, -1
	bnez s6, 3b

	/* A PTE changed by hart 0: seen after each hart's own sfence.vma. */
	li s6, 0
6:	call barrier
	bnez s0, 8f
	/* Page b on odd steps, a on even ones. */
	li t0, SUB
	mul t0, t0, s1
	add t0, t0, s6
	andi t0, t0, 1
	la t1, page_a
	beqz t0, 7f
	la t1, page_b
7:	sub t1, t1, s3
	srli t1, t1, 12
	slli t1, t1, 10
	ori t1, t1, PV | PRW | PAD
	la t2, data_l0
	sd t1, DATA_IDX * 8(t2)
8:	call barrier
	li t0, VA_DATA
	sfence.vma t0, zero
	ld t1, 0(t0)
	li t0, SUB
	mul t0, t0, s1
	add t0, t0, s6
	andi t0, t0, 1
	li t2, 0xaaaa
	beqz t0, 9f
	li t2, 0xbbbb
9:	CHECK_EQ(t1, t2, 22)
	addi s6, s6, 1
	li t0, SUB
	blt s6, t0, 6b

	/* Full -> Bare: the fetch at the virtual address faults. */
	mv a0, zero
	sub a1, zero, s3
	li a2, 1
	call switch
	auipc t0, 0
	li t1, VA_BASE
	bltu t0, t1, 1f
	li a7, 23
	j s_fail
1:	/* The rewritten code at its physical address. */
	call smc_fn
	addi t0, s1, 1
	CHECK_EQ(a0, t0, 24)
	/* Bare -> Bare: no trap. */
	li a0, 0
	li a1, 0
	li a2, NO_TRAP
	call switch
	call barrier
	addi s1, s1, 1
	blt s1, s2, round

	bnez s0, park_s
	la s7, counters
	li t1, NH * NITER * ROUNDS
	ld t0, 0(s7)
	CHECK_EQ(t0, t1, 30)
	ld t0, 8(s7)
	CHECK_EQ(t0, t1, 31)
	ld t0, 16(s7)
	CHECK_EQ(t0, t1, 32)
	li a7, 0
	ecall
park_s:
	wfi
	j park_s

s_fail:
	ecall
	j s_fail

	.align 2
s_unexpected:
	li a7, 90
	j s_fail

/* Sense barrier of the NH harts (either address space). */
barrier:
	la t0, bar_gen
	lw t1, 0(t0)
	fence rw, rw
	la t0, bar_cnt
	li t2, 1
	amoadd.w.aqrl t2, t2, (t0)
	li t0, NH - 1
	bne t2, t0, 2f
	la t0, bar_cnt
	sw zero, 0(t0)
	fence rw, rw
	addi t1, t1, 1
	la t0, bar_gen
	sw t1, 0(t0)
	ret
2:	la t0, bar_gen
	lw t2, 0(t0)
	beq t2, t1, 2b
	fence rw, rw
	ret

	/* The code hart 0 rewrites: amid the code the harts run, so its
	 * page's other blocks lose their chains each time. */
	.align 2
	.option push
	.option norvc
smc_fn:
	addi a0, x0, 0
	ret

/*
 * Write satp = a0 with stvec at the new address of the instruction after
 * the write (its address here plus a1, as Linux's relocate_enable_mmu()
 * does); a2 is the scause expected there (NO_TRAP: none, the fetch goes
 * on in the same space).  Returns with ra moved by a1.
 */
switch:
	la t0, 1f
	add t1, t0, a1
	csrw stvec, t1
	li t2, NO_TRAP
	csrw scause, t2
	csrw sepc, zero
	sfence.vma
	csrw satp, a0
1:	auipc t3, 0
	csrr t4, scause
	CHECK_EQ(t4, a2, 10)
	CHECK_EQ(t3, t1, 11)
	li t2, NO_TRAP
	beq a2, t2, 2f
	csrr t4, sepc
	CHECK_EQ(t4, t0, 12)
2:	la t0, s_unexpected
	csrw stvec, t0
	sfence.vma
	add ra, ra, a1
	ret
	.option pop

	.data
	.align 12
tramp_root:
	.zero 4096
full_root:
	.zero 4096
full_l1:
	.zero 4096
data_l1:
	.zero 4096
data_l0:
	.zero 4096
page_a:
	.zero 4096
page_b:
	.zero 4096
	.align 3
ready:
	.word 0, 0
bar_cnt:
	.word 0, 0
bar_gen:
	.word 0, 0
counters:
	.dword 0, 0, 0, 0
