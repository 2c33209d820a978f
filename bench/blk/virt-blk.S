/*
 * For bench/blk/run.py: a bare-metal virtio-blk driver that reads NREQ
 * random 4 KiB blocks, one request in flight, polling the used ring (the
 * avail ring asks for no interrupts).  Runs unchanged on riscv-virt and
 * on qemu-system-riscv64 -M virt -bios none: it finds the block device by
 * scanning the eight virtio-mmio slots (0x10001000-0x10008000, legacy
 * transport), checks that each block read starts with its own number
 * (run.py writes the image so), times the reads with rdtime (10 MHz) and
 * prints "blk: NREQ reads TICKS ticks IOPS iops" on the UART, then passes
 * through the finisher.  Any failed check writes the finisher's fail code
 * with the check's number in bits 16+.
 */
#define UART 0x10000000
#define FINISHER 0x100000
#define SLOT0 0x10001000
#define VQ 0x80100000	/* desc, avail; used at +4096 */
#define HDR 0x80110000	/* request header (16 bytes), status at +16 */
#define BUF 0x80111000	/* 4 KiB data */
#define QNUM 8
#define TIMEBASE 10000000
#ifndef NREQ
#define NREQ 20000
#endif
#define BLOCKS 16384	/* 64 MiB of 4 KiB blocks */

#define FAIL(n) li a0, n; j fail

	.section .text.init
	.globl _start
_start:
	la sp, _stack_top
	/* Find the virtio-blk transport. */
	li s0, SLOT0
	li t3, SLOT0 + 8 * 0x1000
	li t1, 0x74726976
1:	lw t0, 0x000(s0)
	bne t0, t1, 2f
	lw t0, 0x008(s0)
	li t2, 2
	beq t0, t2, 3f
2:	li t0, 0x1000
	add s0, s0, t0
	bltu s0, t3, 1b
	FAIL(1)
3:	lw t0, 0x004(s0)		/* legacy transport */
	li t1, 1
	beq t0, t1, 1f
	FAIL(2)
1:	sw zero, 0x070(s0)		/* reset */
	li t0, 1
	sw t0, 0x070(s0)		/* ACKNOWLEDGE */
	li t0, 3
	sw t0, 0x070(s0)		/* DRIVER */
	sw zero, 0x024(s0)
	sw zero, 0x020(s0)		/* no features */
	li t0, 4096
	sw t0, 0x028(s0)		/* GuestPageSize */
	sw zero, 0x030(s0)		/* QueueSel 0 */
	lw t0, 0x034(s0)		/* QueueNumMax */
	li t1, QNUM
	bgeu t0, t1, 1f
	FAIL(3)
1:	sw t1, 0x038(s0)
	li t0, 4096
	sw t0, 0x03c(s0)		/* QueueAlign */
	li a1, VQ
	li t0, 8192			/* zero the rings */
	add t1, a1, t0
2:	addi t1, t1, -8
	sd zero, 0(t1)
	bne t1, a1, 2b
	srli t0, a1, 12
	sw t0, 0x040(s0)		/* QueuePFN */
	li t0, 7
	sw t0, 0x070(s0)		/* DRIVER_OK */
	lw t0, 0x100(s0)		/* capacity (512-byte sectors), low */
	li t1, BLOCKS * 8
	bgeu t0, t1, 1f
	FAIL(4)

	/* Three descriptors, the same for every request. */
1:	li a1, VQ
	li t0, HDR
	sd t0, 0(a1)
	li t0, 16
	sw t0, 8(a1)
	li t0, 1			/* NEXT */
	sh t0, 12(a1)
	li t0, 1
	sh t0, 14(a1)
	li t0, BUF
	sd t0, 16(a1)
	li t0, 4096
	sw t0, 24(a1)
	li t0, 3			/* NEXT | WRITE */
	sh t0, 28(a1)
	li t0, 2
	sh t0, 30(a1)
	li t0, HDR + 16
	sd t0, 32(a1)
	li t0, 1
	sw t0, 40(a1)
	li t0, 2			/* WRITE */
	sh t0, 44(a1)
	sh zero, 46(a1)
	li t0, 1			/* VIRTQ_AVAIL_F_NO_INTERRUPT */
	sh t0, 128(a1)
	li t0, HDR
	sw zero, 0(t0)			/* VIRTIO_BLK_T_IN */
	sw zero, 4(t0)

	li s1, 0			/* requests done (= avail idx) */
	li s2, NREQ
	li s3, 0x2545f4914f6cdd1d	/* xorshift64 state */
	li s4, VQ + 4096		/* used ring */
	li s5, HDR
	li s6, BUF
	li s7, BLOCKS - 1
	rdtime s8
next:
	/* block = xorshift64() % BLOCKS */
	slli t0, s3, 13
	xor s3, s3, t0
	srli t0, s3, 7
	xor s3, s3, t0
	slli t0, s3, 17
	xor s3, s3, t0
	and s9, s3, s7
	slli t0, s9, 3
	sd t0, 8(s5)			/* sector */
	li t0, 0xff
	sb t0, 16(s5)			/* status, overwritten by the device */
	sd zero, 0(s6)
	andi t0, s1, QNUM - 1
	slli t0, t0, 1
	add t0, t0, a1
	sh zero, 132(t0)		/* avail ring[idx % QNUM] = head 0 */
	addi s1, s1, 1
	fence
	sh s1, 130(a1)			/* avail idx */
	fence
	sw zero, 0x050(s0)		/* notify queue 0 */
	slli t2, s1, 48
	srli t2, t2, 48
1:	fence
	lhu t0, 2(s4)			/* used idx */
	bne t0, t2, 1b
	fence
	lbu t0, 16(s5)
	beqz t0, 1f
	FAIL(5)
1:	ld t0, 0(s6)
	beq t0, s9, 1f
	FAIL(6)
1:	bltu s1, s2, next
	rdtime s9
	sub s9, s9, s8			/* ticks */

	la a0, s_blk
	call puts
	mv a0, s2
	call putdec
	la a0, s_reads
	call puts
	mv a0, s9
	call putdec
	la a0, s_ticks
	call puts
	li t0, TIMEBASE
	mul a0, s2, t0
	divu a0, a0, s9
	call putdec
	la a0, s_iops
	call puts
	li t0, FINISHER
	li t1, 0x5555
	sw t1, 0(t0)
1:	j 1b

/* The UART: one byte a0. */
putc:
	li t0, UART
1:	lbu t1, 5(t0)
	andi t1, t1, 0x20
	beqz t1, 1b
	sb a0, 0(t0)
	ret

puts:
	addi sp, sp, -16
	sd ra, 0(sp)
	sd s10, 8(sp)
	mv s10, a0
1:	lbu a0, 0(s10)
	beqz a0, 2f
	call putc
	addi s10, s10, 1
	j 1b
2:	ld ra, 0(sp)
	ld s10, 8(sp)
	addi sp, sp, 16
	ret

/* a0 in decimal. */
putdec:
	addi sp, sp, -48
	sd ra, 40(sp)
	addi t3, sp, 32
	sb zero, 0(t3)
	li t4, 10
1:	remu t5, a0, t4
	divu a0, a0, t4
	addi t5, t5, '0'
	addi t3, t3, -1
	sb t5, 0(t3)
	bnez a0, 1b
	mv a0, t3
	call puts
	ld ra, 40(sp)
	addi sp, sp, 48
	ret

fail:
	slli a0, a0, 16
	li t0, 0x3333
	or a0, a0, t0
	li t0, FINISHER
	sw a0, 0(t0)
1:	j 1b

	.section .rodata
s_blk:	.asciz "blk: "
s_reads: .asciz " reads "
s_ticks: .asciz " ticks "
s_iops:	.asciz " iops\n"
