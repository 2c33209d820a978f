/* SPDX-License-Identifier: MIT */
/*
 * One run of the virtio-blk fuzz program over @data (see
 * virtio-blk-fuzz-body.c).  Aborts when the device breaks a rule.
 */
#ifndef VMC_FUZZ_VIRTIO_BLK_FUZZ_BODY_H
#include "virtio-fuzz-driver.h"

#define VMC_FUZZ_VIRTIO_BLK_FUZZ_BODY_H

#include <stddef.h>
#include <stdint.h>

/* Guest RAM of the fuzzed machine: [0, VMC_FUZZ_BLK_RAM_SIZE). */
#define VMC_FUZZ_BLK_RAM_SIZE 0x10000u
/* Guest address of queue q's descriptor table (rings follow). */
#define VMC_FUZZ_BLK_QUEUE(q) VMC_FUZZ_VIRTIO_QUEUE(q)
/* Sectors of the disk behind the device. */
#define VMC_FUZZ_BLK_SECTORS 64u

int vmc_fuzz_virtio_blk(const uint8_t *data, size_t size);

/* Totals over every run: used entries seen, runs ending in NEEDS_RESET. */
void vmc_fuzz_virtio_blk_stats(unsigned long *used, unsigned long *broken);

/* Free the machine the runs share (for leak checks at the end). */
void vmc_fuzz_virtio_blk_cleanup(void);

#endif
