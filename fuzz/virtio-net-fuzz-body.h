/* SPDX-License-Identifier: MIT */
/*
 * One run of the virtio-net fuzz program over @data (see
 * virtio-net-fuzz-body.c).  Aborts when the device breaks a rule.
 */
#ifndef VMC_FUZZ_VIRTIO_NET_FUZZ_BODY_H
#include "virtio-fuzz-driver.h"

#define VMC_FUZZ_VIRTIO_NET_FUZZ_BODY_H

#include <stddef.h>
#include <stdint.h>

/* Guest RAM of the fuzzed machine: [0, VMC_FUZZ_NET_RAM_SIZE). */
#define VMC_FUZZ_NET_RAM_SIZE 0x10000u
/* Guest address of queue q's descriptor table (rings follow). */
#define VMC_FUZZ_NET_QUEUE(q) VMC_FUZZ_VIRTIO_QUEUE(q)
/* Bytes of the input before guest RAM: flags, then frame lengths. */
#define VMC_FUZZ_NET_PREFIX 9u

int vmc_fuzz_virtio_net(const uint8_t *data, size_t size);

/* Totals over every run: frames sent and received, NEEDS_RESET runs. */
void vmc_fuzz_virtio_net_stats(unsigned long *sent, unsigned long *received,
			       unsigned long *broken);

/* Free the machine the runs share (for leak checks at the end). */
void vmc_fuzz_virtio_net_cleanup(void);

#endif
