/* SPDX-License-Identifier: MIT */
/*
 * The real-mode test guest: entered at GUEST_LOAD with CS base 0, reports
 * DB_REAL, switches to 32-bit protected mode, reports DB_PROT and halts.
 */
#include "guest.h"

	.code16
	.text
	.globl _start
_start:
	cli
	mov $DOORBELL_PORT, %dx
	mov $DB_REAL, %eax
	out %eax, %dx
	lgdtl gdt_desc
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x8, $pm

	.code32
pm:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $DOORBELL_PORT, %dx
	mov $DB_PROT, %eax
	out %eax, %dx
	mov $DB_DONE, %eax
	out %eax, %dx
1:	hlt
	jmp 1b

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
gdt_desc:
	.word 23
	.long gdt
