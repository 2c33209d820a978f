/* SPDX-License-Identifier: MIT */
/*
 * One run of the virtqueue fuzz program over @data (see
 * virtqueue-fuzz-body.c).  Aborts when the device breaks a rule.
 */
#ifndef VMC_FUZZ_VIRTQUEUE_FUZZ_BODY_H
#include "virtio-fuzz-driver.h"

#define VMC_FUZZ_VIRTQUEUE_FUZZ_BODY_H

#include <stddef.h>
#include <stdint.h>

/* Guest RAM of the fuzzed machine: [0, VMC_FUZZ_VQ_RAM_SIZE). */
#define VMC_FUZZ_VQ_RAM_SIZE 0x10000u
/* Guest address of queue q's descriptor table (rings follow). */
#define VMC_FUZZ_VQ_QUEUE(q) VMC_FUZZ_VIRTIO_QUEUE(q)

int vmc_fuzz_virtqueue(const uint8_t *data, size_t size);

/*
 * Totals over every run so far: chains returned to the driver, and runs
 * that ended with the device in DEVICE_NEEDS_RESET.
 */
void vmc_fuzz_virtqueue_stats(unsigned long *pushed, unsigned long *broken);

/* Free the machine the runs share (for leak checks at the end). */
void vmc_fuzz_virtqueue_cleanup(void);

#endif
