/*
 * For tests/boot/virt-net.py: a bare-metal virtio-net driver on
 * riscv-virt's first NIC (legacy virtio-mmio in the last slot,
 * 0x10008000, as QEMU's virt).  It negotiates MAC, MRG_RXBUF and STATUS,
 * posts one receive buffer, sends one frame (broadcast, source = the MAC
 * in config space, EtherType 0x88b5, "vmc-net-ping"), waits for the
 * transmit to be used and for a frame back whose payload starts with
 * "vmc-net-pong", then passes through the finisher.  Any check that fails
 * writes the finisher's fail code with the check's number in bits 16+.
 */
#define NIC 0x10008000
#define FINISHER 0x100000
#define RXQ_BASE 0x80100000 /* desc, avail; used at +4096 */
#define TXQ_BASE 0x80104000
#define RXBUF 0x80110000
#define TXBUF 0x80111000
#define QNUM 8
/* Waits are on the CLINT's mtime (10 MHz), not instruction counts, so
 * they last as long on the translator as on the interpreter: 50 s. */
#define MTIME 0x200bff8
#define WAIT_TICKS 500000000

#define FAIL(n) li a0, n; j fail

	.section .text.init
	.globl _start
_start:
	li s0, NIC
	lw t0, 0x000(s0)		/* magic "virt" */
	li t1, 0x74726976
	beq t0, t1, 1f
	FAIL(1)
1:	lw t0, 0x004(s0)		/* legacy transport */
	li t1, 1
	beq t0, t1, 1f
	FAIL(2)
1:	lw t0, 0x008(s0)		/* network card */
	li t1, 1
	beq t0, t1, 1f
	FAIL(3)
1:	sw zero, 0x070(s0)		/* reset */
	li t0, 1
	sw t0, 0x070(s0)		/* ACKNOWLEDGE */
	li t0, 3
	sw t0, 0x070(s0)		/* DRIVER */
	sw zero, 0x014(s0)
	lw t0, 0x010(s0)		/* device features */
	li t1, (1 << 5) | (1 << 15) | (1 << 16)
	and t2, t0, t1
	beq t2, t1, 1f
	FAIL(4)
1:	sw zero, 0x024(s0)
	sw t1, 0x020(s0)		/* MAC, MRG_RXBUF, STATUS */
	li t0, 4096
	sw t0, 0x028(s0)		/* GuestPageSize */

	li a0, 0
	li a1, RXQ_BASE
	call setup_queue
	li a0, 1
	li a1, TXQ_BASE
	call setup_queue
	li t0, 7
	sw t0, 0x070(s0)		/* DRIVER_OK */
	lhu t0, 0x106(s0)		/* status: link up */
	andi t0, t0, 1
	bnez t0, 1f
	FAIL(5)

	/* One 2 KiB receive buffer. */
1:	li a1, RXQ_BASE
	li t0, RXBUF
	sd t0, 0(a1)
	li t0, 2048
	sw t0, 8(a1)
	li t0, 2			/* VIRTQ_DESC_F_WRITE */
	sh t0, 12(a1)
	sh zero, 4+128(a1)		/* avail ring[0] = 0 */
	fence
	li t0, 1
	sh t0, 2+128(a1)		/* avail idx = 1 */
	fence
	sw zero, 0x050(s0)		/* notify queue 0 */

	/* The frame: 12-byte header, then 64 bytes of Ethernet. */
	li a2, TXBUF
	li t0, 12
1:	addi t0, t0, -1
	add t1, a2, t0
	sb zero, 0(t1)
	bnez t0, 1b
	addi a3, a2, 12
	li t0, 0xff
	li t1, 6
1:	sb t0, 0(a3)			/* broadcast destination */
	addi a3, a3, 1
	addi t1, t1, -1
	bnez t1, 1b
	li t1, 0
1:	add t2, s0, t1
	lbu t0, 0x100(t2)		/* source: the MAC in config space */
	sb t0, 0(a3)
	addi a3, a3, 1
	addi t1, t1, 1
	li t2, 6
	bne t1, t2, 1b
	li t0, 0x88
	sb t0, 0(a3)
	li t0, 0xb5
	sb t0, 1(a3)
	addi a3, a3, 2
	la t1, ping
	li t2, 50			/* the payload, zero padded */
1:	lbu t0, 0(t1)
	sb t0, 0(a3)
	addi a3, a3, 1
	addi t1, t1, 1
	addi t2, t2, -1
	bnez t2, 1b

	li a1, TXQ_BASE
	sd a2, 0(a1)
	li t0, 12 + 64
	sw t0, 8(a1)
	sh zero, 12(a1)
	sh zero, 4+128(a1)
	fence
	li t0, 1
	sh t0, 2+128(a1)
	fence
	li t0, 1
	sw t0, 0x050(s0)		/* notify queue 1 */

	/* The transmit comes back used, with an interrupt. */
	li a1, TXQ_BASE + 4096
	li t5, MTIME
	ld t3, 0(t5)
	li t4, WAIT_TICKS
	add t3, t3, t4			/* deadline in mtime ticks */
1:	ld t4, 0(t5)
	bltu t4, t3, 2f
	FAIL(6)
2:	fence
	lhu t0, 2(a1)
	beqz t0, 1b
	lw t0, 0x060(s0)		/* InterruptStatus: used buffer */
	andi t1, t0, 1
	bnez t1, 1f
	FAIL(7)
1:	sw t0, 0x064(s0)		/* acknowledge */

	/* The answer. */
	li a1, RXQ_BASE + 4096
	li t5, MTIME
	ld t3, 0(t5)
	li t4, WAIT_TICKS
	add t3, t3, t4
1:	ld t4, 0(t5)
	bltu t4, t3, 2f
	FAIL(8)
2:	fence
	lhu t0, 2(a1)
	beqz t0, 1b
	lw t0, 8(a1)			/* used len: header + frame */
	li t1, 12 + 64
	beq t0, t1, 1f
	FAIL(9)
1:	li a2, RXBUF
	lhu t0, 10(a2)			/* num_buffers */
	li t1, 1
	beq t0, t1, 1f
	FAIL(10)
1:	addi a2, a2, 12 + 14
	la t1, pong
	li t2, 12
1:	lbu t0, 0(a2)
	lbu t4, 0(t1)
	beq t0, t4, 2f
	FAIL(11)
2:	addi a2, a2, 1
	addi t1, t1, 1
	addi t2, t2, -1
	bnez t2, 1b

	li t0, FINISHER
	li t1, 0x5555
	sw t1, 0(t0)
1:	j 1b

/* Queue a0 at a1 (legacy: QueueNum, QueueAlign, QueuePFN). */
setup_queue:
	sw a0, 0x030(s0)
	lw t0, 0x034(s0)		/* QueueNumMax */
	li t1, QNUM
	bgeu t0, t1, 1f
	FAIL(12)
1:	sw t1, 0x038(s0)
	li t0, 4096
	sw t0, 0x03c(s0)
	li t0, 8192			/* zero the rings */
	add t1, a1, t0
2:	addi t1, t1, -8
	sd zero, 0(t1)
	bne t1, a1, 2b
	srli t0, a1, 12
	sw t0, 0x040(s0)
	ret

fail:
	slli a0, a0, 16
	li t0, 0x3333
	or a0, a0, t0
	li t0, FINISHER
	sw a0, 0(t0)
1:	j 1b

	.section .rodata
ping:	.ascii "vmc-net-ping"
	.zero 38
pong:	.ascii "vmc-net-pong"
