/* CSR rules: misa, WARL fields, views, read-only and missing CSRs,
 * privilege checks, counters and counter enables, satp modes. */
#include "test.h"
START
	PMP_ALLOW_ALL
	TEST(1, a0, 0x800000000014112d, csrr a0, misa)
	TEST(2, a0, 0x800000000014112d, csrw misa, zero; csrr a0, misa)
	TEST(3, a0, 0x8000000a007e79aa, li a1, -1; csrw mstatus, a1; csrr a0, mstatus)
	TEST(4, a0, 0x80000002000c6122, csrr a0, sstatus)
	csrw mstatus, zero
	/* MPP is WARL: the reserved value 2 keeps the old value. */
	TEST(5, a0, 0x800, li a1, 0x800; csrw mstatus, a1; li a1, 0x1000; csrw mstatus, a1; csrr a0, mstatus; li a1, 0x1800; and a0, a0, a1)
	csrw mstatus, zero
	TEST(6, a0, 0xaaa, li a1, -1; csrw mie, a1; csrr a0, mie)
	TEST(7, a0, 0x222, li a1, -1; csrw mideleg, a1; csrr a0, mideleg)
	TEST(8, a0, 0x222, csrr a0, sie)
	TEST(9, a0, 0x888, csrw sie, zero; csrr a0, mie)
	csrw mie, zero
	TEST(10, a0, 0x222, li a1, -1; csrw mip, a1; csrr a0, mip)
	TEST(11, a0, 0x222, csrr a0, sip)
	TEST(12, a0, 0x220, li a1, 2; csrc sip, a1; csrr a0, mip)
	csrw mip, zero
	csrw mideleg, zero
	TEST(13, a0, 0, csrr a0, sip)
	/* mtvec: modes 0 and 1 only. */
	la a2, m_trap
	TEST(14, a0, 0x80000101, li a1, 0x80000101; csrw mtvec, a1; csrr a0, mtvec)
	TEST(15, a0, 0x80000101, li a1, 0x80000202; csrw mtvec, a1; csrr a0, mtvec)
	csrw mtvec, a2
	TEST(16, a0, 0x1234, li a1, 0x1235; csrw mepc, a1; csrr a0, mepc)
	TEST(17, a0, 0x1232, li a1, 0x1233; csrw sepc, a1; csrr a0, sepc)
	/* Read-only CSRs: reads work, writes trap. */
	TEST(18, a0, 0, csrr a0, mvendorid)
	TEST(19, a0, 0, csrr a0, mhartid)
	TEST(20, a0, 0, csrr a0, marchid; csrr a1, mimpid; or a0, a0, a1; csrr a1, mconfigptr; or a0, a0, a1)
	EXPECT_TRAP(21, 2, csrw mvendorid, zero)
	EXPECT_TRAP(22, 2, csrw cycle, zero)
	EXPECT_TRAP(23, 2, csrrs a0, mhartid, a1)
	/* Missing CSRs. */
	EXPECT_TRAP(24, 2, csrr a0, 0x7b0)
	EXPECT_TRAP(25, 2, csrr a0, fcsr)
	EXPECT_TRAP(26, 2, csrr a0, 0x15d) /* stimecmph: RV32 only */
	EXPECT_TRAP(27, 2, csrr a0, 0x3a1)
	EXPECT_TRAP(28, 2, csrr a0, 0x3c0)
	EXPECT_TRAP(29, 2, csrr a0, 0x001)
	/* Counters: instret counts every retired instruction. */
	TEST(30, a0, 1, csrr a1, minstret; csrr a2, minstret; sub a0, a2, a1)
	TEST(31, a0, 3, csrr a1, instret; nop; nop; csrr a2, instret; sub a0, a2, a1)
	TEST(32, a0, 100, li a1, 100; csrw minstret, a1; csrr a0, minstret)
	TEST(33, a0, 0, li a1, 4; csrw mcountinhibit, a1; csrr a1, minstret; nop; csrr a2, minstret; sub a0, a2, a1)
	TEST(34, a0, 4, csrr a0, mcountinhibit)
	csrw mcountinhibit, zero
	TEST(35, a0, 2, csrr a1, mcycle; nop; csrr a2, mcycle; sub a0, a2, a1)
	/* Beyond mhpmcounter18 the counters and events are read-only zero
	 * (counters.S has the rest). */
	TEST(36, a0, 0, csrr a0, hpmcounter31; csrr a1, mhpmcounter31; or a0, a0, a1; li a1, 5; csrw mhpmcounter19, a1; csrw mhpmevent31, a1; csrr a1, mhpmcounter19; or a0, a0, a1; csrr a1, mhpmevent31; or a0, a0, a1)
	/* The time CSR advances. */
	li gp, 37
	csrr a1, time
	li t0, 2000
1:	addi t0, t0, -1
	bnez t0, 1b
	csrr a2, time
	bgeu a1, a2, fail
	/* Counter enables. */
	csrw mcounteren, zero
	csrw scounteren, zero
	TO_PRIV(1)
	EXPECT_TRAP(38, 2, csrr a0, cycle)
	EXPECT_TRAP(39, 2, csrr a0, time)
	TO_M
	li t0, 7
	csrw mcounteren, t0
	TO_PRIV(1)
	li s9, -1
	li gp, 40
	csrr a0, cycle
	csrr a0, time
	csrr a0, instret
	CHECK(s9, -1)
	TO_M
	TO_PRIV(0)
	EXPECT_TRAP(41, 2, csrr a0, instret)
	TO_M
	li t0, 5
	csrw scounteren, t0
	TO_PRIV(0)
	li s9, -1
	li gp, 42
	csrr a0, cycle
	csrr a0, instret
	CHECK(s9, -1)
	EXPECT_TRAP(43, 2, csrr a0, time)
	TO_M
	/* satp: unsupported modes are ignored. */
	TEST(44, a0, 0, li a1, 1 << 60; csrw satp, a1; csrr a0, satp)
	TEST(45, a0, 0, li a1, 10 << 60; csrw satp, a1; csrr a0, satp)
	TEST(46, a0, 0x8000000000012345, li a1, 0x8000000000012345; csrw satp, a1; csrr a0, satp)
	TEST(47, a0, 0x9000000000012345, li a1, 0x9000000000012345; csrw satp, a1; csrr a0, satp)
	csrw satp, zero
	/* Supervisor CSRs from S, machine CSRs not. */
	TO_PRIV(1)
	TEST(48, a0, 0x55, li a1, 0x55; csrw sscratch, a1; csrr a0, sscratch)
	EXPECT_TRAP(49, 2, csrr a0, mscratch)
	EXPECT_TRAP(50, 2, csrr a0, mcycle)
	TO_M
	/* pmpcfg: W without R keeps the old byte; pmpaddr has 54 bits. */
	TEST(51, a0, 0x0d, li a1, 0x0d; csrw pmpcfg0, a1; li a1, 0x0e; csrw pmpcfg0, a1; csrr a0, pmpcfg0)
	csrw pmpcfg0, zero
	TEST(52, a0, 0x3fffffffffffff, li a1, -1; csrw pmpaddr0, a1; csrr a0, pmpaddr0)
	csrw pmpaddr0, zero
	/* menvcfg / senvcfg: FIOM and the cache-block enables (cbo.S), and
	 * menvcfg's PBMTE (svpbmt.S) and STCE (sstc.S). */
	TEST(53, a0, 0xc0000000000000f1, li a1, -1; csrw menvcfg, a1; csrr a0, menvcfg)
	TEST(54, a0, 0xf1, li a1, -1; csrw senvcfg, a1; csrr a0, senvcfg)
	PASS
