/*
 * For the riscv-virt board with -device vmc-vsock-device: a polling
 * virtio-vsock driver for the first device slot (0x10008000, legacy
 * virtio-mmio as QEMU's virt board has it), run with -bios none -kernel.
 *
 * 1. It accepts whatever connection the host opens (REQUEST ->
 *    RESPONSE), echoes every byte back (RW -> RW), and when the host
 *    closes (SHUTDOWN) answers RST.
 * 2. Then it connects from port 777 to the host's port 5000 (CID 2),
 *    sends GUEST_MSG, closes (SHUTDOWN, both directions) and, at the
 *    host's RST, ends the machine through the test finisher (0x5555:
 *    exit status 0).  Anything unexpected ends it with 0x3333 (status 1).
 */
#define VIO 0x10008000
#define FINISHER 0x100000
#define PASS 0x5555
#define FAIL 0x13333

#define RXQ 0x80100000
#define TXQ 0x80110000
#define EVQ 0x80120000
#define RXBUF 0x80200000 /* 4 buffers of 4 KiB */
#define TXBUF 0x80300000
#define NUM 8
#define GUEST_MSG_LEN 21 /* "hello from the guest\n" */
#define AVAIL_OFF (16 * NUM)
#define USED_OFF 4096

#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7

	.section .text.init
	.globl _start
_start:
	li s0, VIO
	lw t0, 0(s0)
	li t1, 0x74726976
	bne t0, t1, fail
	lw t0, 4(s0)
	li t1, 1
	bne t0, t1, fail
	lw t0, 8(s0)
	li t1, 19
	bne t0, t1, fail
	sw zero, 0x70(s0)
	li t0, 1
	sw t0, 0x70(s0)
	li t0, 3
	sw t0, 0x70(s0)
	sw zero, 0x24(s0)
	sw zero, 0x20(s0)		/* no features */
	li t0, 4096
	sw t0, 0x28(s0)			/* GuestPageSize */
	li a0, 0
	li a1, RXQ
	call setup_queue
	li a0, 1
	li a1, TXQ
	call setup_queue
	li a0, 2
	li a1, EVQ
	call setup_queue
	li t0, 7
	sw t0, 0x70(s0)			/* DRIVER_OK */
	lwu s1, 0x100(s0)		/* our CID (low half) */

	/* Four rx buffers, descriptors 0..3. */
	li s2, 0			/* rx used entries seen */
	li s3, 0			/* tx avail idx */
	li s4, 0			/* bytes received (fwd_cnt) */
	li s5, 0			/* phase */
	li s8, 0
1:	mv a0, s8
	call rx_post
	addi s8, s8, 1
	li t3, 4
	blt s8, t3, 1b
	sw zero, 0x50(s0)		/* notify rx */

loop:
	li t0, RXQ + USED_OFF
	lhu t1, 2(t0)
	fence r, r
	beq t1, s2, loop
	/* entry s2 % NUM: descriptor id, which is the buffer */
	andi t2, s2, NUM - 1
	slli t2, t2, 3
	add t2, t2, t0
	lwu s6, 4(t2)			/* id */
	addi s2, s2, 1
	li t3, RXBUF
	slli t4, s6, 12
	add s7, t3, t4			/* the packet */
	lhu t5, 30(s7)			/* op */
	li t6, OP_REQUEST
	beq t5, t6, on_request
	li t6, OP_RW
	beq t5, t6, on_rw
	li t6, OP_SHUTDOWN
	beq t5, t6, on_shutdown
	li t6, OP_RESPONSE
	beq t5, t6, on_response
	li t6, OP_RST
	beq t5, t6, on_rst
	li t6, OP_CREDIT_REQUEST
	beq t5, t6, on_credit_request
	j repost

on_request:
	bnez s5, fail
	li a0, OP_RESPONSE
	call reply
	j repost

on_rw:
	lwu a4, 24(s7)			/* len */
	add s4, s4, a4
	li a0, OP_RW
	addi a3, s7, 44
	call reply_data
	j repost

on_credit_request:
	li a0, OP_CREDIT_UPDATE
	call reply
	j repost

on_shutdown:
	bnez s5, fail
	li a0, OP_RST
	call reply
	/* Phase 1: our own connection to the host's port 5000. */
	li s5, 1
	li s4, 0
	li a0, OP_REQUEST
	li a1, 777
	li a2, 5000
	li a4, 0
	li a5, 0
	call send
	j repost

on_response:
	li t6, 1
	bne s5, t6, fail
	li a0, OP_RW
	li a1, 777
	li a2, 5000
	la a3, guest_msg
	li a4, GUEST_MSG_LEN
	li a5, 0
	call send
	li a0, OP_SHUTDOWN
	li a1, 777
	li a2, 5000
	li a4, 0
	li a5, 3
	call send
	li s5, 2
	j repost

on_rst:
	li t6, 2
	bne s5, t6, fail
	li t0, FINISHER
	li t1, PASS
	sw t1, 0(t0)
1:	j 1b

repost:
	mv a0, s6
	call rx_post
	sw zero, 0x50(s0)
	j loop

fail:
	li t0, FINISHER
	li t1, FAIL
	sw t1, 0(t0)
1:	j 1b

/* Legacy queue a0 at page a1, NUM entries. */
setup_queue:
	sw a0, 0x30(s0)
	lw t0, 0x34(s0)
	li t1, NUM
	blt t0, t1, fail
	sw t1, 0x38(s0)
	li t0, 4096
	sw t0, 0x3c(s0)
	srli t0, a1, 12
	sw t0, 0x40(s0)
	ret

/* Make rx buffer a0 (descriptor a0) available. */
rx_post:
	li t0, RXQ
	slli t1, a0, 4
	add t1, t1, t0
	li t3, RXBUF
	slli t4, a0, 12
	add t3, t3, t4
	sd t3, 0(t1)
	li t4, 4096
	sw t4, 8(t1)
	li t4, 2			/* VIRTQ_DESC_F_WRITE */
	sh t4, 12(t1)
	sh zero, 14(t1)
	li t0, RXQ + AVAIL_OFF
	lhu t1, 2(t0)
	andi t2, t1, NUM - 1
	slli t2, t2, 1
	add t2, t2, t0
	sh a0, 4(t2)
	fence w, w
	addi t1, t1, 1
	sh t1, 2(t0)
	fence w, w
	ret

/* Answer the packet at s7 with op a0, no data. */
reply:
	li a4, 0
/* ... with a4 bytes at a3. */
reply_data:
	lwu a1, 20(s7)			/* our port: its dst */
	lwu a2, 16(s7)			/* its port: its src */
	li a5, 0
/* Send op a0 from our port a1 to the host's port a2, a4 bytes at a3,
 * flags a5, and wait until the device took it. */
send:
	li t0, TXBUF
	sd s1, 0(t0)			/* src_cid */
	li t1, 2
	sd t1, 8(t0)			/* dst_cid: the host */
	sw a1, 16(t0)
	sw a2, 20(t0)
	sw a4, 24(t0)
	li t1, 1
	sh t1, 28(t0)			/* type: stream */
	sh a0, 30(t0)
	sw a5, 32(t0)
	li t1, 65536
	sw t1, 36(t0)			/* buf_alloc */
	sw s4, 40(t0)			/* fwd_cnt */
	li t1, 0
1:	bgeu t1, a4, 2f
	add t2, a3, t1
	lbu t3, 0(t2)
	add t2, t0, t1
	sb t3, 44(t2)
	addi t1, t1, 1
	j 1b
2:	/* descriptor 0 of tx: the whole packet */
	li t1, TXQ
	sd t0, 0(t1)
	addi t2, a4, 44
	sw t2, 8(t1)
	sh zero, 12(t1)
	sh zero, 14(t1)
	li t1, TXQ + AVAIL_OFF
	andi t2, s3, NUM - 1
	slli t2, t2, 1
	add t2, t2, t1
	sh zero, 4(t2)
	fence w, w
	addi s3, s3, 1
	sh s3, 2(t1)
	fence w, w
	li t2, 1
	sw t2, 0x50(s0)			/* notify tx */
	li t1, TXQ + USED_OFF
3:	lhu t2, 2(t1)
	bne t2, s3, 3b
	ret

guest_msg:
	.ascii "hello from the guest\n"
guest_msg_end:
