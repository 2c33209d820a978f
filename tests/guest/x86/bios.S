/* SPDX-License-Identifier: MIT */
/*
 * A 64 KiB PC BIOS image for examples/pc-lite and qemu-system-x86_64 -M pc.
 *
 * Power-on enters at the reset vector (the last 16 bytes, 0xFFFFFFF0),
 * which jumps into the copy of the image below 1 MiB (F000:xxxx).  In real
 * mode it prints BIOS_HELLO on the 16550 at 0x3f8, polling LSR for an empty
 * transmitter; then it enters 32-bit protected mode, checks that RAM holds
 * what it writes and that the image at the top of 4 GiB and its copy below
 * 1 MiB show the same bytes, and reports through isa-debug-exit at 0x501:
 * BIOS_EXIT_OK when every check passed, BIOS_EXIT_BAD otherwise.
 *
 * Built with -DBIOS_TRIPLE_FAULT, it instead loads an empty IDT in
 * protected mode and executes int3: a triple fault, a guest error.
 *
 * Linked at 0, so a label is its offset in the image and in the F000
 * segment.
 */
#include "guest.h"

#define UART 0x3f8
#define LOW_COPY 0xf0000

	.code16
	.text
	.globl _start
_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	xor %ax, %ax
	mov %ax, %ss
	mov $0x7000, %sp
	/* 8 data bits, no parity, one stop bit. */
	mov $UART + 3, %dx
	mov $0x03, %al
	out %al, %dx
	mov $msg, %si
1:	lodsb
	test %al, %al
	jz 3f
	mov %al, %bl
	mov $UART + 5, %dx
2:	in %dx, %al
	test $0x20, %al
	jz 2b
	mov $UART, %dx
	mov %bl, %al
	out %al, %dx
	jmp 1b
3:
	lgdtl gdt_desc
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x8, $LOW_COPY + pm

	.code32
pm:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7000, %esp
#ifdef BIOS_TRIPLE_FAULT
	lidtl LOW_COPY + empty_idt
	int3
#endif
	mov $0x12345678, %eax
	mov %eax, 0x500
	push %eax
	mov 0x500, %ecx
	pop %edx
	cmp %ecx, %edx
	jne bad
	mov 0xfffffff0, %eax
	cmp LOW_COPY + 0xfff0, %eax
	jne bad
	mov $BIOS_EXIT_OK, %al
	jmp report
bad:
	mov $BIOS_EXIT_BAD, %al
report:
	mov $BIOS_EXIT_PORT, %dx
	out %al, %dx
4:	hlt
	jmp 4b

msg:
	.asciz BIOS_HELLO

	/*
	 * The accessed bits are preset: the CPU would otherwise write them
	 * when it loads a selector, a write to ROM that KVM reports as MMIO
	 * and then retries forever.
	 */
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff
	.quad 0x00cf93000000ffff
gdt_desc:
	.word 23
	.long LOW_COPY + gdt
empty_idt:
	.word 0
	.long 0

	.code16
	.org 0xfff0
	ljmp $0xf000, $_start
	.org 0x10000
