/* SPDX-License-Identifier: MIT */
/*
 * The virtqueue fuzz program: guest RAM is whatever the input says, and a
 * virtio device processes its queues.
 *
 * Input: byte 0 chooses the transport (bit 0: legacy), the features the
 * driver accepts (bit 1: indirect descriptors, bit 2: event indices) and
 * the queue size (bits 3-4: 2, 4, 8 or 16 entries); byte 1 how many more
 * buffers the driver publishes in a second round; the rest is copied to
 * guest RAM from address 0 (64 KiB at most; the rest stays zero).  Queue q
 * sits at VQ_FUZZ_QUEUE(q) in the legacy layout with 256-byte pages and
 * alignment (used ring at the next 256-byte boundary) for both transports,
 * so the same bytes are the same rings, and all rings fit in the first
 * 2.5 KiB of the input.  Guest RAM is [0, 64 KiB); the modern device sits at
 * 0x10000000 and the legacy one at 0x10001000, so a buffer address there is
 * MMIO and one anywhere else a hole.
 *
 * The device model pops every chain on both queues, reads each readable
 * byte, fills each writable one and returns the chain.  Rules checked:
 * the device returns exactly the chains it popped, each element's lengths
 * add up, and once the device is in DEVICE_NEEDS_RESET it hands out no
 * more chains.  ASan checks that nothing outside guest RAM is touched.
 *
 * The VM is made once and reused (the driver resets the device per run),
 * so that a run costs a few microseconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#include "virtqueue-fuzz-body.h"
#include "virtio-fuzz-driver.h"

#define DEV_BASE 0x10000000ull

struct fuzz_state {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_address_space *as;
	struct vmc_region *ram;
	uint8_t *host;
	struct vmc_virtio *devs[2]; /* modern, legacy */
	struct vmc_virtio *dev;	    /* the one this run drives */
	uint64_t base;
	unsigned long popped, pushed, after_reset;
	unsigned long total_pushed, total_broken;
	bool ready;
};

static struct fuzz_state st;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void fuzz_notify(void *opaque, struct vmc_virtq *vq)
{
	struct vmc_virtq_elem *e;
	uint8_t buf[64];
	int r;

	while ((r = vmc_virtq_pop(vq, &e)) == 1) {
		size_t out = 0, in = 0;

		st.popped++;
		if (vmc_virtio_get_status(st.dev) &
		    VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET)
			st.after_reset++;
		for (unsigned int i = 0; i < e->out_num; i++)
			out += e->out[i].len;
		for (unsigned int i = 0; i < e->in_num; i++)
			in += e->in[i].len;
		check(out == e->out_len && in == e->in_len);
		for (size_t off = 0; off < e->out_len; off += sizeof(buf))
			vmc_virtq_elem_from_out(e, off, buf, sizeof(buf));
		memset(buf, 0xa5, sizeof(buf));
		for (size_t off = 0; off < e->in_len; off += sizeof(buf))
			vmc_virtq_elem_to_in(e, off, buf, sizeof(buf));
		if (vmc_virtq_push(vq, e, (uint32_t)e->in_len) == 0)
			st.pushed++;
	}
	check(r == 0 || r == -EIO);
	vmc_virtq_notify(vq);
}

static int setup(void)
{
	static const struct vmc_virtio_ops ops = {
		.struct_size = sizeof(ops),
		.queue_notify = fuzz_notify,
	};
	struct vmc_virtio_config vc;
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
			       VMC_FUZZ_VQ_RAM_SIZE, 0, &st.ram) < 0 ||
	    vmc_region_add_subregion(root, 0, st.ram, 0) < 0)
		return -1;
	st.host = vmc_region_get_ptr(st.ram);
	vmc_virtio_config_init(&vc);
	vc.vm = st.vm;
	vc.device_id = 0x7f;
	vc.features = 1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC |
		      1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	vc.num_queues = 2;
	vc.queue_max_size = 16;
	for (int i = 0; i < 2; i++) {
		vc.legacy = i;
		if (vmc_virtio_new(&vc, &ops, NULL, &st.devs[i]) < 0 ||
		    vmc_region_add_subregion(root, DEV_BASE + 0x1000 * i,
					     vmc_virtio_get_region(st.devs[i]),
					     0) < 0)
			return -1;
	}
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

int vmc_fuzz_virtqueue(const uint8_t *data, size_t size)
{
	bool legacy;
	uint64_t features = 0;
	unsigned int num, more;
	size_t n;

	if (!st.ready) {
		if (setup() < 0)
			abort();
		st.ready = true;
	}
	if (size < 2)
		return 0;
	legacy = data[0] & 1;
	if (data[0] & 2)
		features |= 1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC;
	if (data[0] & 4)
		features |= 1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	if (!legacy)
		features |= 1ull << VMC_VIRTIO_F_VERSION_1;
	num = 2u << ((data[0] >> 3) & 3);
	more = data[1];
	n = size - 2;
	if (n > VMC_FUZZ_VQ_RAM_SIZE)
		n = VMC_FUZZ_VQ_RAM_SIZE;

	st.dev = st.devs[legacy];
	st.base = DEV_BASE + 0x1000 * legacy;
	wr(0x070, 0);
	memset(st.host, 0, VMC_FUZZ_VQ_RAM_SIZE);
	memcpy(st.host, data + 2, n);
	st.popped = st.pushed = st.after_reset = 0;
	vmc_fuzz_drive(st.as, st.base, legacy, features, num);
	wr(0x050, 0);
	wr(0x050, 1);
	vmc_fuzz_run_loop(st.loop);

	/* A second round: the driver publishes @more further entries. */
	for (unsigned int q = 0; q < 2 && more; q++) {
		uint64_t avail = VMC_FUZZ_VQ_QUEUE(q) + 16 * num;
		uint16_t idx;

		memcpy(&idx, st.host + avail + 2, 2);
		idx = (uint16_t)(idx + more);
		memcpy(st.host + avail + 2, &idx, 2);
		wr(0x050, q);
	}
	vmc_fuzz_run_loop(st.loop);

	check(st.after_reset == 0);
	check(st.pushed <= st.popped);
	if (!(rd(0x070) & VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		check(st.pushed == st.popped);
	else
		st.total_broken++;
	st.total_pushed += st.pushed;
	wr(0x070, 0);
	return 0;
}

void vmc_fuzz_virtqueue_stats(unsigned long *pushed, unsigned long *broken)
{
	*pushed = st.total_pushed;
	*broken = st.total_broken;
}

void vmc_fuzz_virtqueue_cleanup(void)
{
	struct vmc_region *root;

	if (!st.ready)
		return;
	root = vmc_vm_get_root(st.vm, VMC_AS_MEMORY);
	for (int i = 0; i < 2; i++) {
		vmc_region_remove_subregion(root,
					    vmc_virtio_get_region(st.devs[i]));
		vmc_virtio_free(st.devs[i]);
	}
	vmc_region_remove_subregion(root, st.ram);
	vmc_region_unref(st.ram);
	vmc_vm_unref(st.vm);
	vmc_loop_unref(st.loop);
	memset(&st, 0, sizeof(st));
}
