/* SPDX-License-Identifier: MIT */
/*
 * The protocol between the x86 test guests and their host: shared by the
 * guest sources (assembler) and the tests (C).
 *
 * A guest reports through one doorbell: a 32-bit `out` to DOORBELL_PORT.
 * The 64-bit guest picks its test from RDI (GT_*) and takes an argument
 * in RSI.  Guest-physical layout: code at 0x1000, IDT at 0x3000, shared
 * counter at 0x4000, swap page at 0x5000, stack top at 0x8000, page tables
 * at 0x10000 (seven pages), dirty-logged RAM at 0x20000.
 */
#ifndef VMC_TEST_GUEST_H
#define VMC_TEST_GUEST_H

#define DOORBELL_PORT 0x500
#define ECHO_PORT 0x600
#define IOEVENT_PORT 0x610
#define FAIL_PORT 0x620
#define UNASSIGNED_PORT 0x700
#define MMIO_UNASSIGNED 0xd0002000
#define MMIO_BASE 0xd0000000
#define IOEVENT_MMIO 0xd0001000

#define GUEST_LOAD 0x1000
#define GUEST_IDT 0x3000
#define GUEST_COUNTER 0x4000
#define GUEST_SWAP 0x5000
#define GUEST_STACK 0x8000
#define GUEST_TABLES 0x10000
#define GUEST_DIRTY 0x20000

#define GT_PIO 1
#define GT_MMIO 2
#define GT_IOEVENTFD 3
#define GT_SPIN 4
#define GT_TRIPLE 5
#define GT_IRQ 6
#define GT_SMP 7
#define GT_SWAP 8
#define GT_DIRTY 9
#define GT_HLT 10
#define GT_PIO_LOOP 11
#define GT_IOEVENT_LOOP 12
#define GT_PIO_EDGE 13

#define DB_DONE 0xd0e
#define DB_BAD 0xbad
#define DB_READY 0x5ead
#define DB_IRQ 0x1a25
#define DB_REAL 0x16
#define DB_PROT 0x32

#define IOEVENT_MATCH 0x1234
#define IOEVENT_WRONG 0x9999
#define IRQ_VECTOR 0x25

/*
 * The virtio driver guest (virtio64.S): a virtio-mmio device at VIO_BASE
 * (pc-lite's slot 7, as QEMU's microvm fills it first), its interrupt on
 * I/O APIC pin VIO_GSI at vector VIO_VECTOR.
 */
#define VIO_BASE 0xfeb00e00
#define VIO_GSI 12
#define VIO_VECTOR 0x30
/*
 * Where it records each request's round trip in TSC ticks (32 bits each,
 * from just before QueueNotify to the end of its wait), for the first
 * VIO_LAT_MAX requests.
 */
#define VIO_LAT 0x34000
#define VIO_LAT_MAX 0x3000
/*
 * A 64-bit word the host may set before the start: VIO_MODE_EDGE programs
 * the pin edge-triggered (for an irqfd without resampling), every
 * interrupt is acknowledged, and the count is the number of requests.
 */
#define VIO_MODE (GUEST_COUNTER + 16)
#define VIO_MODE_EDGE 1

/* The BIOS image (bios.S) for pc-lite and qemu-system-x86_64. */
#define BIOS_HELLO "hello from pc-lite\r\n"
#define BIOS_EXIT_PORT 0x501
#define BIOS_EXIT_OK 0x2a  /* process exit status (0x2a << 1) | 1 = 85 */
#define BIOS_EXIT_BAD 0x33 /* process exit status 103 */

#endif
