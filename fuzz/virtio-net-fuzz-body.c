/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net fuzz program: guest RAM is whatever the input says, and
 * a virtio-net device (receive queue 0, transmit queue 1) serves its
 * queues against an in-process backend written to the public backend
 * interface.
 *
 * Input: byte 0 chooses the transport (bit 0: legacy), the features the
 * driver accepts (bit 1: indirect descriptors, bit 2: event indices, bit
 * 5: VIRTIO_NET_F_MRG_RXBUF), the queue size (bits 3-4: 2, 4, 8 or 16
 * entries) and whether the link goes down and up half-way (bit 6); bytes
 * 1-8 are the lengths of the frames the network sends (byte * 8, 0xff a
 * 9000-byte frame, 0 none); the rest is copied to guest RAM from address
 * 0 (64 KiB at most).  The rings sit as in virtio-blk-fuzz-body.c.
 *
 * The driver kicks the transmit queue, the network sends its frames
 * (stopping when the device says -EAGAIN, as a backend must, and going on
 * after rx_ready), the receive queue is kicked, then the device is reset.
 * Rules checked: every piece of a transmitted frame lies inside guest RAM
 * and the frame is at most VMC_NET_MAX_FRAME bytes; rx_ready comes only
 * after an -EAGAIN, and receive answers only 0 or -EAGAIN; and after the
 * reset no used ring changes any more, whatever the network sends.  ASan
 * checks that nothing outside guest RAM is touched.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#include "virtio-net-fuzz-body.h"
#include "virtio-fuzz-driver.h"

#define DEV_BASE 0x10000000ull

struct fuzz_state {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_address_space *as;
	struct vmc_region *ram;
	uint8_t *host;
	struct vmc_net_backend *be[2];
	struct vmc_virtio_net *devs[2]; /* modern, legacy */
	uint64_t base;
	bool stopped[2]; /* the device said -EAGAIN, no rx_ready yet */
	unsigned long sent, received, broken;
	bool ready;
};

static struct fuzz_state st;
static uint8_t frame[9000];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static int be_send(void *opaque, const struct vmc_net_iov *iov, unsigned int n)
{
	size_t total = 0;

	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].base;

		check(p >= st.host && iov[i].len <= VMC_FUZZ_NET_RAM_SIZE &&
		      p + iov[i].len <= st.host + VMC_FUZZ_NET_RAM_SIZE);
		total += iov[i].len;
	}
	check(total <= VMC_NET_MAX_FRAME);
	st.sent++;
	return 0;
}

static void be_rx_ready(void *opaque)
{
	bool *stopped = opaque;

	check(*stopped);
	*stopped = false;
}

static const struct vmc_net_backend_ops be_ops = {
	.struct_size = sizeof(be_ops),
	.send = be_send,
	.rx_ready = be_rx_ready,
};

static int setup(void)
{
	struct vmc_virtio_net_config nc;
	struct vmc_vm_config c;
	struct vmc_region *root;

	if (vmc_loop_new(&st.loop) < 0)
		return -1;
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.loop = st.loop;
	if (vmc_vm_new(&c, &st.vm) < 0)
		return -1;
	st.as = vmc_vm_get_address_space(st.vm, VMC_AS_MEMORY);
	root = vmc_vm_get_root(st.vm, VMC_AS_MEMORY);
	if (vmc_region_new_ram(vmc_vm_get_memory(st.vm), "ram",
			       VMC_FUZZ_NET_RAM_SIZE, 0, &st.ram) < 0 ||
	    vmc_region_add_subregion(root, 0, st.ram, 0) < 0)
		return -1;
	st.host = vmc_region_get_ptr(st.ram);
	for (int i = 0; i < 2; i++) {
		if (vmc_net_backend_new(&be_ops, &st.stopped[i], &st.be[i]) < 0)
			return -1;
		vmc_virtio_net_config_init(&nc);
		nc.vm = st.vm;
		nc.legacy = i;
		nc.queue_size = 16;
		nc.mtu = i ? 0 : 1500;
		nc.backend = st.be[i];
		if (vmc_virtio_net_new(&nc, &st.devs[i]) < 0 ||
		    vmc_region_add_subregion(
			    root, DEV_BASE + 0x1000 * i,
			    vmc_virtio_net_get_region(st.devs[i]), 0) < 0)
			return -1;
	}
	for (size_t k = 0; k < sizeof(frame); k++)
		frame[k] = (uint8_t)k;
	return 0;
}

static void wr(uint64_t off, uint32_t v)
{
	vmc_fuzz_mmio_wr(st.as, st.base + off, v);
}

static uint32_t rd(uint64_t off)
{
	return vmc_fuzz_mmio_rd(st.as, st.base + off);
}

/* Send the input's frames while the device takes them. */
static void network(const uint8_t *lens, size_t n)
{
	unsigned int d = st.base != DEV_BASE;

	for (size_t i = 0; i < n && !st.stopped[d]; i++) {
		struct vmc_net_iov v[2];
		size_t len = lens[i] == 0xff ? sizeof(frame) : lens[i] * 8u;
		int r;

		if (!len)
			continue;
		v[0].base = frame;
		v[0].len = len / 2;
		v[1].base = frame + len / 2;
		v[1].len = len - len / 2;
		r = vmc_net_backend_receive(st.be[d], v, 2);
		check(r == 0 || r == -EAGAIN);
		if (r == -EAGAIN)
			st.stopped[d] = true;
		else
			st.received++;
	}
}

int vmc_fuzz_virtio_net(const uint8_t *data, size_t size)
{
	uint64_t features = 0;
	uint8_t lens[8] = {0};
	uint16_t idx[2];
	unsigned int num;
	bool legacy;
	size_t n;

	if (!st.ready) {
		if (setup() < 0)
			abort();
		st.ready = true;
	}
	if (size < 1)
		return 0;
	legacy = data[0] & 1;
	if (data[0] & 2)
		features |= 1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC;
	if (data[0] & 4)
		features |= 1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	if (data[0] & 0x20)
		features |= 1ull << 15;	    /* VIRTIO_NET_F_MRG_RXBUF */
	features |= 1ull << 5 | 1ull << 16; /* MAC, STATUS */
	if (!legacy)
		features |= 1ull << VMC_VIRTIO_F_VERSION_1 | 1ull << 3;
	num = 2u << ((data[0] >> 3) & 3);
	memcpy(lens, data + 1,
	       size - 1 < sizeof(lens) ? size - 1 : sizeof(lens));
	n = size > VMC_FUZZ_NET_PREFIX ? size - VMC_FUZZ_NET_PREFIX : 0;
	if (n > VMC_FUZZ_NET_RAM_SIZE)
		n = VMC_FUZZ_NET_RAM_SIZE;

	st.base = DEV_BASE + 0x1000 * legacy;
	wr(0x070, 0);
	vmc_fuzz_run_loop(st.loop); /* rx_ready after the reset, if the device
				       was stopped */
	memset(st.host, 0, VMC_FUZZ_NET_RAM_SIZE);
	memcpy(st.host, data + VMC_FUZZ_NET_PREFIX, n);
	vmc_fuzz_drive(st.as, st.base, legacy, features, num);
	vmc_fuzz_run_loop(st.loop);
	wr(0x050, 1);
	vmc_fuzz_run_loop(st.loop);
	network(lens, 4);
	if (data[0] & 0x40) {
		vmc_virtio_net_set_link(st.devs[legacy], false);
		network(lens + 4, 1);
		vmc_virtio_net_set_link(st.devs[legacy], true);
	}
	wr(0x050, 0);
	vmc_fuzz_run_loop(st.loop);
	network(lens + 4, 4);
	wr(0x050, 1);
	vmc_fuzz_run_loop(st.loop);

	if (rd(0x070) & VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		st.broken++;

	/* Reset with whatever is held; nothing is published after. */
	wr(0x070, 0);
	for (unsigned int q = 0; q < 2; q++)
		memcpy(&idx[q], st.host + vmc_fuzz_used_addr(q, num) + 2, 2);
	vmc_fuzz_run_loop(st.loop);
	network(lens, 2);
	vmc_fuzz_run_loop(st.loop);
	for (unsigned int q = 0; q < 2; q++) {
		uint16_t now;

		memcpy(&now, st.host + vmc_fuzz_used_addr(q, num) + 2, 2);
		check(now == idx[q]);
	}
	return 0;
}

void vmc_fuzz_virtio_net_stats(unsigned long *sent, unsigned long *received,
			       unsigned long *broken)
{
	*sent = st.sent;
	*received = st.received;
	*broken = st.broken;
}

void vmc_fuzz_virtio_net_cleanup(void)
{
	struct vmc_region *root;

	if (!st.ready)
		return;
	root = vmc_vm_get_root(st.vm, VMC_AS_MEMORY);
	for (int i = 0; i < 2; i++) {
		vmc_region_remove_subregion(
			root, vmc_virtio_net_get_region(st.devs[i]));
		vmc_virtio_net_free(st.devs[i]);
		vmc_net_backend_free(st.be[i]);
	}
	vmc_region_remove_subregion(root, st.ram);
	vmc_region_unref(st.ram);
	vmc_vm_unref(st.vm);
	vmc_loop_unref(st.loop);
	memset(&st, 0, sizeof(st));
}
