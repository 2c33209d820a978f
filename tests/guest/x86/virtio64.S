/* SPDX-License-Identifier: MIT */
/*
 * A bare-metal virtio driver in long mode (entered like long64.S at
 * GUEST_LOAD): it drives the virtio-rng at VIO_BASE through the whole
 * notify -> device -> interrupt path, with the interrupt taken through the
 * I/O APIC's pin VIO_GSI, programmed level-triggered.
 *
 * RDI = number of requests.  Protocol (guest.h doorbell):
 *   DB_READY once the device is up, then, for each request, one
 *   QueueNotify write and a wait (sti; hlt) for both the used entry and
 *   the interrupt; then the interrupt count, 1 if the device wrote
 *   something other than zeros into the first request's buffer, and
 *   DB_DONE.  DB_BAD on any mismatch.
 *
 * Each request's round trip, in TSC ticks from just before its
 * QueueNotify to the end of its wait, goes to VIO_LAT[request] (32 bits,
 * the first VIO_LAT_MAX requests), for the benchmark.
 *
 * The first interrupt is deliberately not acknowledged at the device
 * (InterruptACK): its EOI leaves the device's level line high, so a
 * correct level-triggered scheme delivers it again; the guest waits for
 * that second delivery.  So the count is requests + 1.  With VIO_MODE_EDGE
 * in VIO_MODE (set by the host) the pin is edge-triggered, every
 * interrupt is acknowledged and the count is requests.
 */
#include "guest.h"

#define LAPIC 0xfee00000
#define IOAPIC 0xfec00000
#define VQ_DESC 0x30000
#define VQ_AVAIL 0x31000
#define VQ_USED 0x32000
#define VQ_BUFS 0x33000
#define VQ_NUM 8
#define IRQ_COUNT GUEST_COUNTER
#define IRQ_VRING (GUEST_COUNTER + 8)

	.code64
	.text
	.globl _start
_start:
	mov %rdi, %r15			/* requests */
	movq $0, IRQ_COUNT
	movq $0, IRQ_VRING

	/* IDT gate VIO_VECTOR -> vio_irq */
	mov $GUEST_IDT + VIO_VECTOR * 16, %rbx
	lea vio_irq(%rip), %rax
	mov %ax, (%rbx)
	movw $8, 2(%rbx)
	movw $0x8e00, 4(%rbx)
	shr $16, %rax
	mov %ax, 6(%rbx)
	shr $16, %rax
	mov %eax, 8(%rbx)
	movl $0, 12(%rbx)
	lidt idt_desc(%rip)

	/* Local APIC on (spurious vector 0xff); PICs fully masked. */
	mov $0xff, %al
	outb %al, $0x21
	outb %al, $0xa1
	mov $LAPIC, %rdi
	movl $0x1ff, 0xf0(%rdi)
	movl $0, 0x80(%rdi)

	/* I/O APIC pin VIO_GSI: vector, level (or edge), active high, to
	 * APIC 0. */
	mov $IOAPIC, %rdi
	movl $0x10 + 2 * VIO_GSI + 1, (%rdi)
	movl $0, 0x10(%rdi)
	movl $0x10 + 2 * VIO_GSI, (%rdi)
	mov $VIO_VECTOR | (1 << 15), %eax
	testq $VIO_MODE_EDGE, VIO_MODE
	jz 1f
	mov $VIO_VECTOR, %eax
1:	movl %eax, 0x10(%rdi)

	/* The device. */
	mov $VIO_BASE, %rbx
	cmpl $0x74726976, (%rbx)	/* "virt" */
	jne bad
	cmpl $2, 4(%rbx)		/* version 2 */
	jne bad
	cmpl $4, 8(%rbx)		/* virtio-rng */
	jne bad
	movl $0, 0x70(%rbx)
	movl $1, 0x70(%rbx)
	movl $3, 0x70(%rbx)
	movl $1, 0x24(%rbx)		/* DriverFeaturesSel = 1 */
	movl $1, 0x20(%rbx)		/* VERSION_1 */
	movl $0, 0x24(%rbx)
	movl $0, 0x20(%rbx)
	movl $0xb, 0x70(%rbx)		/* FEATURES_OK */
	mov 0x70(%rbx), %eax
	test $8, %eax
	jz bad
	movl $0, 0x30(%rbx)		/* QueueSel */
	cmpl $VQ_NUM, 0x34(%rbx)
	jb bad
	movl $VQ_NUM, 0x38(%rbx)
	movl $VQ_DESC, 0x80(%rbx)
	movl $0, 0x84(%rbx)
	movl $VQ_AVAIL, 0x90(%rbx)
	movl $0, 0x94(%rbx)
	movl $VQ_USED, 0xa0(%rbx)
	movl $0, 0xa4(%rbx)
	movl $1, 0x44(%rbx)		/* QueueReady */
	movl $0xf, 0x70(%rbx)		/* DRIVER_OK */

	mov $DB_READY, %eax
	call report

	xor %r14, %r14			/* requests done */
next:
	cmp %r15, %r14
	je finish
	/* descriptor r14 % VQ_NUM: 16 device-writable bytes */
	mov %r14, %rcx
	and $VQ_NUM - 1, %rcx
	mov %rcx, %rdx
	shl $4, %rdx
	lea VQ_BUFS(%rdx), %rax
	movq $0, (%rax)
	movq $0, 8(%rax)
	mov %rax, VQ_DESC(%rdx)
	movl $16, VQ_DESC + 8(%rdx)
	movw $2, VQ_DESC + 12(%rdx)	/* VIRTQ_DESC_F_WRITE */
	movw $0, VQ_DESC + 14(%rdx)
	mov %r14, %rax
	and $VQ_NUM - 1, %rax
	mov %cx, VQ_AVAIL + 4(,%rax,2)
	lea 1(%r14), %rax
	mfence
	mov %ax, VQ_AVAIL + 2		/* avail->idx */
	mfence
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r12			/* round trip start */
	movl $0, 0x50(%rbx)		/* QueueNotify: queue 0 */
	/* Wait for the used entry and the interrupts (+1 for the first,
	 * when level-triggered). */
	lea 2(%r14), %r13
	testq $VIO_MODE_EDGE, VIO_MODE
	jz wait
	dec %r13
wait:
	cli
	movzwl VQ_USED + 2, %eax
	lea 1(%r14), %rdx
	cmp %dx, %ax
	jne 1f
	cmp IRQ_VRING, %r13
	jbe 2f
1:	sti
	hlt
	jmp wait
2:	sti
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r12, %rax
	cmp $VIO_LAT_MAX, %r14
	jae 3f
	mov %eax, VIO_LAT(,%r14,4)
3:	inc %r14
	jmp next

finish:
	cli
	mov IRQ_COUNT, %rax
	call report
	/* the first buffer was written (16 zero bytes: 2^-128) */
	xor %eax, %eax
	mov VQ_BUFS, %rcx
	or VQ_BUFS + 8, %rcx
	test %rcx, %rcx
	setnz %al
	call report
	mov $DB_DONE, %eax
	call report
1:	hlt
	jmp 1b

bad:
	mov $DB_BAD, %eax
	call report
	mov $DB_DONE, %eax
	call report
1:	hlt
	jmp 1b

report:
	push %rdx
	mov $DOORBELL_PORT, %dx
	out %eax, %dx
	pop %rdx
	ret

/*
 * The interrupt: read InterruptStatus, acknowledge it (except the very
 * first time), count, EOI at the local APIC (which the I/O APIC's
 * level-triggered pin needs to deliver again).  Two counts: every
 * interrupt (IRQ_COUNT, reported), and those that found the used-ring bit
 * in InterruptStatus (IRQ_VRING), which a request waits for, so that a
 * spurious interrupt (InterruptStatus 0, legal on a level line whose
 * resample races the next completion) cannot stand in for a later
 * request's.
 */
vio_irq:
	push %rax
	push %rbx
	mov $VIO_BASE, %rbx
	mov 0x60(%rbx), %eax
	test $1, %eax
	jz 1f
	lock incq IRQ_VRING
1:	testq $VIO_MODE_EDGE, VIO_MODE
	jnz 3f
	cmpq $0, IRQ_COUNT
	je 2f
3:	mov %eax, 0x64(%rbx)
2:	lock incq IRQ_COUNT
	mov $LAPIC, %rbx
	movl $0, 0xb0(%rbx)
	pop %rbx
	pop %rax
	iretq

	.balign 8
idt_desc:
	.word 0xfff
	.quad GUEST_IDT
