/* SPDX-License-Identifier: MIT */
/*
 * A tiny test board for the RV64 hart: flat RAM at 0x80000000, the SiFive
 * test finisher at 0x100000 (0x5555 = pass, 0x3333 | code << 16 = fail), an
 * output byte register at 0x10000000, a CLINT (msip 0x2000000, mtimecmp
 * 0x2004000, mtime 0x200bff8) and an interrupt-line register at 0x100010
 * (write: the mip bits whose lines are high).  Time runs from the retired
 * instruction count, so runs are deterministic.
 */
#ifndef VMC_TESTS_RV_BOARD_H
#define VMC_TESTS_RV_BOARD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rv.h"

#define BOARD_RAM_BASE 0x80000000ull
#define BOARD_FINISHER 0x100000ull
#define BOARD_IRQLINES 0x100010ull
#define BOARD_UART 0x10000000ull
#define BOARD_CLINT 0x2000000ull

struct board {
	uint8_t *ram;
	uint64_t ram_size;
	struct vmc__rv_hart *hart;
	bool finished;
	uint32_t finish_code;
	uint64_t mtimecmp;
	uint64_t time_skip;
	int64_t stimer_ns; /* Sstc deadline the hart asked for, or -1 */
	uint64_t lines;
	bool quiet;
	FILE *out;
};

int board_init(struct board *b, uint64_t ram_size);
/* The same with the VMC__RV_EXT_* in ext_off switched off. */
int board_init_ext(struct board *b, uint64_t ram_size, uint32_t ext_off);
void board_free(struct board *b);
/* Load an ELF64 RISC-V executable into RAM; returns its entry or 0. */
uint64_t board_load_elf(struct board *b, const char *path);
/* Run until the finisher is written or max instructions retire.
 * Returns 0 on pass, the failure code otherwise, -1 on a hang, -2 on a
 * fatal CPU exit.  *retired receives the count. */
int board_run(struct board *b, uint64_t max, uint64_t *retired);

#endif
