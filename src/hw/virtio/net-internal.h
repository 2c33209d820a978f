/* SPDX-License-Identifier: MIT */
/*
 * What virtio-net.c (the device and the backend object) and
 * net-backends.c (TAP, datagram and stream backends) share.
 *
 * A struct vmc_net_backend is the host's ops plus the device it serves
 * (@peer, set and cleared on the loop thread by vmc_virtio_net_new() and
 * vmc_virtio_net_free(), read by vmc_net_backend_receive() on the same
 * thread).  The library's own backends fill in @ifname and @connected.
 */
#ifndef VMC_HW_VIRTIO_NET_INTERNAL_H
#define VMC_HW_VIRTIO_NET_INTERNAL_H

#include <libvmcore/vmc-iothread.h>
#include <libvmcore/vmc-virtio-net.h>

#include "hw-internal.h"

struct vmc_net_backend {
	struct vmc_net_backend_ops ops;
	void *opaque;
	struct vmc_virtio_net *peer;
	char ifname[16];
	/* NULL: always connected, unless a host's backend (never). */
	bool (*connected)(void *opaque);
	bool library; /* one of ours */
	/*
	 * Move the backend's loop objects to @to's loop (NULL: the VM's)
	 * while a device with an I/O thread has it; NULL for host backends.
	 * On the VM's loop thread.
	 */
	int (*move)(void *opaque, struct vmc_iothread *to);
};

#endif
