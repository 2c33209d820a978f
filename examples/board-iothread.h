/* SPDX-License-Identifier: MIT */
/*
 * I/O threads for the example boards, in QEMU's spelling:
 *
 *   -object iothread,id=ID[,poll-max-ns=N][,poll-grow=N][,poll-shrink=N]
 *           [,aio-max-batch=N]
 *   -device virtio-blk-device,drive=D,iothread=ID
 *
 * QEMU accepts iothread= on virtio-blk (and virtio-scsi).  The boards
 * also take it, as a libvmcore extension, on virtio-net-device,
 * virtio-serial-device (its console port), virtio-rng-device and the
 * vsock device: the device's queues and its backend's fds (TAP or socket,
 * chardev, Unix sockets) then run on that thread.  The polling knobs are
 * accepted and ignored (libvmcore's I/O threads block in epoll).  A
 * thread starts when the first device names it, and several devices may
 * share one.
 *
 * Errors come back as -errno with a message in the caller's buffer
 * (BOARD_MSG_SIZE), as board-util.h's parsers do.
 */
#ifndef BOARD_IOTHREAD_H
#define BOARD_IOTHREAD_H

#include <libvmcore/libvmcore.h>

#define BOARD_IOTHREAD_MAX 8

struct board_iothreads {
	struct {
		char *id;
		struct vmc_iothread *t; /* once a device uses it */
	} t[BOARD_IOTHREAD_MAX];
	unsigned int n;
};

/*
 * Take "-object V": 1 taken (an iothread), < 0 refused (@msg says why:
 * another object type, no id, a duplicate id, an unknown property).
 */
int board_iothread_object(struct board_iothreads *s, const char *val,
			  char *msg);

/*
 * The I/O thread the device argument @devarg names with iothread= (its
 * thread started now if it was not yet), or NULL in @ret without one.
 * 0, or -ENOENT with @msg for an id no -object defines, or -errno.
 */
int board_iothread_get(struct board_iothreads *s, const char *devarg,
		       struct vmc_iothread **ret, char *msg);

/* The I/O thread -object defined as @id (started now if not yet). */
int board_iothread_find(struct board_iothreads *s, const char *id,
			struct vmc_iothread **ret, char *msg);

/* Stop every thread; after every device that uses one is freed. */
void board_iothread_free_all(struct board_iothreads *s);

#endif
