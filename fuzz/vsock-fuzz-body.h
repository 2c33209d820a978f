/* SPDX-License-Identifier: MIT */
/*
 * One run of the virtio-vsock fuzz program over @data (see
 * vsock-fuzz-body.c).  Aborts when the device breaks a rule.
 */
#ifndef VMC_FUZZ_VSOCK_FUZZ_BODY_H
#define VMC_FUZZ_VSOCK_FUZZ_BODY_H

#include <stddef.h>
#include <stdint.h>

/* The guest's CID and the host ports with a listener (PATH_1..3). */
#define VMC_FUZZ_VSOCK_CID 3u
#define VMC_FUZZ_VSOCK_PORTS 3u

/* Commands of the input (byte % VMC_FUZZ_VSOCK_CMDS). */
enum {
	VMC_FUZZ_VSOCK_TX = 0, /* 1 flag byte, 44 header bytes, len, data */
	VMC_FUZZ_VSOCK_CONNECT = 1, /* 1 byte: guest port */
	VMC_FUZZ_VSOCK_WRITE = 2,   /* 1 byte: socket, 1 byte: length */
	VMC_FUZZ_VSOCK_CLOSE = 3,   /* 1 byte: socket */
	VMC_FUZZ_VSOCK_ACCEPT = 4,  /* host listeners accept */
	VMC_FUZZ_VSOCK_GUEST = 5,   /* the guest answers what it received */
	VMC_FUZZ_VSOCK_POKE = 6,    /* 2 bytes: RAM offset, 1 byte: value */
	VMC_FUZZ_VSOCK_LOAD = 7,    /* save and load the device */
	VMC_FUZZ_VSOCK_CMDS = 8,
};

int vmc_fuzz_virtio_vsock(const uint8_t *data, size_t size);

/* Totals over every run: packets the guest took, connections held
 * after each command (summed). */
void vmc_fuzz_virtio_vsock_stats(unsigned long *rx, unsigned long *conns);

/* Free the machine the runs share (for leak checks at the end). */
void vmc_fuzz_virtio_vsock_cleanup(void);

#endif
