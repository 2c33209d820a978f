/* SPDX-License-Identifier: MIT */
/*
 * The 64-bit test guest.  Entered in long mode (vmc_x86_vcpu_setup_long_mode)
 * at GUEST_LOAD with RDI = test number and RSI = argument; see guest.h.
 */
#include "guest.h"

	.code64
	.text
	.globl _start
_start:
	cmp $GT_PIO, %rdi
	je t_pio
	cmp $GT_MMIO, %rdi
	je t_mmio
	cmp $GT_IOEVENTFD, %rdi
	je t_ioeventfd
	cmp $GT_SPIN, %rdi
	je t_spin
	cmp $GT_TRIPLE, %rdi
	je t_triple
	cmp $GT_IRQ, %rdi
	je t_irq
	cmp $GT_SMP, %rdi
	je t_smp
	cmp $GT_SWAP, %rdi
	je t_swap
	cmp $GT_DIRTY, %rdi
	je t_dirty
	cmp $GT_HLT, %rdi
	je done
	cmp $GT_PIO_LOOP, %rdi
	je t_pio_loop
	cmp $GT_IOEVENT_LOOP, %rdi
	je t_ioevent_loop
	cmp $GT_PIO_EDGE, %rdi
	je t_pio_edge
	mov $DB_BAD, %eax
	call report
	jmp done

/* report %eax through the doorbell */
report:
	push %rdx
	mov $DOORBELL_PORT, %dx
	out %eax, %dx
	pop %rdx
	ret

done:
	mov $DB_DONE, %eax
	call report
1:	hlt
	jmp 1b

t_pio:
	mov $ECHO_PORT, %dx
	mov $0x11, %al
	outb %al, %dx
	mov $0x2233, %ax
	outw %ax, %dx
	mov $0x44556677, %eax
	outl %eax, %dx
	xor %eax, %eax
	inb %dx, %al
	call report
	xor %eax, %eax
	inw %dx, %ax
	call report
	inl %dx, %eax
	call report
	jmp done

/*
 * Accesses that do not fall inside one I/O range: unassigned ports read
 * as all ones, a failing device reads as all ones, string I/O is one
 * access per element, an access straddling a device's end reaches the
 * device with the part inside it, and unassigned MMIO reads as all ones.
 */
t_pio_edge:
	mov $UNASSIGNED_PORT, %dx
	xor %eax, %eax
	inb %dx, %al
	call report
	xor %eax, %eax
	inw %dx, %ax
	call report
	inl %dx, %eax
	call report
	mov $FAIL_PORT, %dx
	inl %dx, %eax
	call report
	mov $ECHO_PORT, %dx
	lea edge_bytes(%rip), %rsi
	mov $3, %ecx
	rep outsb
	mov $GUEST_COUNTER, %rdi
	mov $2, %ecx
	rep insw
	movl GUEST_COUNTER, %eax
	call report
	mov $ECHO_PORT + 3, %dx
	mov $0xaabb, %ax
	outw %ax, %dx
	mov $MMIO_UNASSIGNED, %rbx
	movl (%rbx), %eax
	call report
	jmp done
edge_bytes:
	.byte 1, 2, 3

t_mmio:
	mov $MMIO_BASE, %rbx
	movb $0x11, (%rbx)
	movw $0x2233, (%rbx)
	movl $0x44556677, (%rbx)
	mov $0x8899aabbccddeeff, %rax
	mov %rax, (%rbx)
	xor %eax, %eax
	movb (%rbx), %al
	call report
	movzwl (%rbx), %eax
	call report
	movl (%rbx), %eax
	call report
	mov (%rbx), %rax
	mov %rax, %rcx
	call report
	mov %rcx, %rax
	shr $32, %rax
	call report
	jmp done

t_ioeventfd:
	mov $IOEVENT_MMIO, %rbx
	mov %rsi, %rcx
1:	movl $IOEVENT_MATCH, (%rbx)
	dec %rcx
	jnz 1b
	movl $IOEVENT_WRONG, (%rbx)
	mov $IOEVENT_PORT, %dx
	mov $7, %ax
	outw %ax, %dx
	jmp done

t_spin:
	mov $GUEST_COUNTER, %rbx
1:	lock incq (%rbx)
	jmp 1b

t_triple:
	/* #GP on a non-canonical address, with no IDT to deliver it */
	lidt zero_idt(%rip)
	mov $0x8000000000000000, %rax
	mov (%rax), %rax
	jmp done

t_irq:
	/* IDT gate for IRQ_VECTOR -> irq_handler */
	mov $GUEST_IDT + IRQ_VECTOR * 16, %rbx
	lea irq_handler(%rip), %rax
	mov %ax, (%rbx)
	movw $8, 2(%rbx)
	movw $0x8e00, 4(%rbx)
	shr $16, %rax
	mov %ax, 6(%rbx)
	shr $16, %rax
	mov %eax, 8(%rbx)
	movl $0, 12(%rbx)
	lidt idt_desc(%rip)
	/* 8259: ICW1..4, vectors from 0x20, only IRQ5 unmasked */
	mov $0x11, %al
	outb %al, $0x20
	mov $0x20, %al
	outb %al, $0x21
	mov $0x04, %al
	outb %al, $0x21
	mov $0x01, %al
	outb %al, $0x21
	mov $0xdf, %al
	outb %al, $0x21
	mov $DB_READY, %eax
	call report
	sti
1:	hlt
	jmp 1b

irq_handler:
	push %rax
	mov $DB_IRQ, %eax
	call report
	mov $0x20, %al
	outb %al, $0x20
	pop %rax
	iretq

t_smp:
	mov %esi, %eax
	call report
	mov $GUEST_COUNTER, %rbx
	mov $1, %rax
	lock xadd %rax, (%rbx)
	jmp done

t_swap:
	mov $GUEST_SWAP, %rbx
	mov $GUEST_COUNTER, %rcx
1:	mov (%rbx), %eax
	cmp $1, %eax
	je 2f
	cmp $2, %eax
	je 2f
	call report
	mov $DB_BAD, %eax
	call report
	jmp done
2:	lock incq (%rcx)
	jmp 1b

t_dirty:
	mov $GUEST_DIRTY, %rbx
	movq $1, (%rbx)
	movq $1, 0x2000(%rbx)
	jmp done

t_pio_loop:
	mov $ECHO_PORT, %dx
	mov %rsi, %rcx
1:	outl %eax, %dx
	dec %rcx
	jnz 1b
	jmp done

/*
 * One write to map the page in the kernel's MMIO cache, DB_READY, then
 * RSI writes and done: the host times DB_READY to DB_DONE.
 */
t_ioevent_loop:
	mov $IOEVENT_MMIO, %rbx
	movl $IOEVENT_MATCH, (%rbx)
	mov $DB_READY, %eax
	call report
	mov %rsi, %rcx
1:	movl $IOEVENT_MATCH, (%rbx)
	dec %rcx
	jnz 1b
	jmp done

	.balign 8
zero_idt:
	.word 0
	.quad 0
idt_desc:
	.word 0xfff
	.quad GUEST_IDT
