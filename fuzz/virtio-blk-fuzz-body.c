/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk fuzz program: guest RAM is whatever the input says, and
 * a virtio-blk device (two queues, worker-thread I/O on a 32 KiB
 * temporary file) serves its queues.
 *
 * Input: byte 0 chooses the transport (bit 0: legacy), the features the
 * driver accepts (bit 1: indirect descriptors, bit 2: event indices, bit
 * 5: VIRTIO_BLK_F_MQ) and the queue size (bits 3-4: 2, 4, 8 or 16
 * entries); the rest is copied to guest RAM from address 0 (64 KiB at
 * most).  The rings sit as in virtqueue-fuzz-body.c: queue q at
 * VMC_FUZZ_BLK_QUEUE(q), legacy layout with 256-byte alignment.
 *
 * The driver kicks both queues, lets the loop run, then resets the
 * device while requests may still be in flight.  Rules checked: the
 * backing file keeps its size (no access past the capacity ever extends
 * it), and after the reset no used ring changes any more.  ASan checks
 * that nothing outside guest RAM is touched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "virtio-blk-fuzz-body.h"
#include "virtio-fuzz-driver.h"

#define DEV_BASE 0x10000000ull

struct fuzz_state {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_address_space *as;
	struct vmc_region *ram;
	uint8_t *host;
	int fd;
	struct vmc_virtio_blk *devs[2]; /* modern, legacy */
	uint64_t base;
	unsigned long total_used, total_broken;
	bool ready;
};

static struct fuzz_state st;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static int setup(void)
{
	char path[] = "/tmp/vmc-fuzz-blk-XXXXXX";
	struct vmc_virtio_blk_config bc;
	struct vmc_vm_config c;
	struct vmc_region *root;

	st.fd = mkstemp(path);
	if (st.fd < 0)
		return -1;
	unlink(path);
	if (ftruncate(st.fd, VMC_FUZZ_BLK_SECTORS * 512) < 0)
		return -1;
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
			       VMC_FUZZ_BLK_RAM_SIZE, 0, &st.ram) < 0 ||
	    vmc_region_add_subregion(root, 0, st.ram, 0) < 0)
		return -1;
	st.host = vmc_region_get_ptr(st.ram);
	vmc_virtio_blk_config_init(&bc);
	bc.vm = st.vm;
	bc.fd = st.fd;
	bc.serial = "fuzz";
	bc.num_queues = 2;
	bc.queue_size = 16;
	bc.aio = VMC_VIRTIO_BLK_AIO_THREADS;
	bc.threads = 1;
	for (int i = 0; i < 2; i++) {
		bc.legacy = i;
		if (vmc_virtio_blk_new(&bc, &st.devs[i]) < 0 ||
		    vmc_region_add_subregion(
			    root, DEV_BASE + 0x1000 * i,
			    vmc_virtio_blk_get_region(st.devs[i]), 0) < 0)
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

int vmc_fuzz_virtio_blk(const uint8_t *data, size_t size)
{
	uint64_t features = 0;
	uint16_t idx[2];
	unsigned int num;
	struct stat s;
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
		features |= 1ull << 12; /* VIRTIO_BLK_F_MQ */
	if (!legacy)
		features |= 1ull << VMC_VIRTIO_F_VERSION_1;
	num = 2u << ((data[0] >> 3) & 3);
	n = size - 1;
	if (n > VMC_FUZZ_BLK_RAM_SIZE)
		n = VMC_FUZZ_BLK_RAM_SIZE;

	st.base = DEV_BASE + 0x1000 * legacy;
	wr(0x070, 0);
	memset(st.host, 0, VMC_FUZZ_BLK_RAM_SIZE);
	memcpy(st.host, data + 1, n);
	vmc_fuzz_drive(st.as, st.base, legacy, features, num);
	wr(0x050, 0);
	wr(0x050, 1);
	vmc_fuzz_run_loop(st.loop);
	if (rd(0x070) & VMC_VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		st.total_broken++;

	/* Reset with whatever is in flight; nothing is published after. */
	wr(0x070, 0);
	for (unsigned int q = 0; q < 2; q++) {
		memcpy(&idx[q], st.host + vmc_fuzz_used_addr(q, num) + 2, 2);
		st.total_used += idx[q];
	}
	vmc_fuzz_run_loop(st.loop);
	for (unsigned int q = 0; q < 2; q++) {
		uint16_t now;

		memcpy(&now, st.host + vmc_fuzz_used_addr(q, num) + 2, 2);
		check(now == idx[q]);
	}
	check(fstat(st.fd, &s) == 0 && s.st_size == VMC_FUZZ_BLK_SECTORS * 512);
	return 0;
}

void vmc_fuzz_virtio_blk_stats(unsigned long *used, unsigned long *broken)
{
	*used = st.total_used;
	*broken = st.total_broken;
}

void vmc_fuzz_virtio_blk_cleanup(void)
{
	struct vmc_region *root;

	if (!st.ready)
		return;
	root = vmc_vm_get_root(st.vm, VMC_AS_MEMORY);
	for (int i = 0; i < 2; i++) {
		vmc_region_remove_subregion(
			root, vmc_virtio_blk_get_region(st.devs[i]));
		vmc_virtio_blk_free(st.devs[i]);
	}
	vmc_region_remove_subregion(root, st.ram);
	vmc_region_unref(st.ram);
	vmc_vm_unref(st.vm);
	vmc_loop_unref(st.loop);
	close(st.fd);
	memset(&st, 0, sizeof(st));
}
