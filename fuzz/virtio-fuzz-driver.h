/* SPDX-License-Identifier: MIT */
/*
 * The driver side the virtio fuzz bodies share (virtqueue, virtio-blk,
 * virtio-net): register access to a virtio-mmio transport at @base of
 * @as, and the sequence that resets, negotiates and sets up two queues,
 * each at VMC_FUZZ_VIRTIO_QUEUE(q) in guest RAM.  A failed access aborts:
 * the fuzzer reports it.
 */
#ifndef VMC_FUZZ_VIRTIO_DRIVER_H
#define VMC_FUZZ_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <libvmcore/libvmcore.h>

/* Guest-RAM offset of queue q's descriptor table (avail and used follow). */
#define VMC_FUZZ_VIRTIO_QUEUE(q) (0x100u + 0x400u * (q))

static inline void vmc_fuzz_mmio_wr(struct vmc_address_space *as, uint64_t addr,
				    uint32_t v)
{
	if (vmc_as_write(as, addr, &v, 4) != 0)
		abort();
}

static inline uint32_t vmc_fuzz_mmio_rd(struct vmc_address_space *as,
					uint64_t addr)
{
	uint32_t v = 0;

	if (vmc_as_read(as, addr, &v, 4) != 0)
		abort();
	return v;
}

/* Let the loop run what notifications scheduled. */
static inline void vmc_fuzz_run_loop(struct vmc_loop *loop)
{
	for (int i = 0; i < 3; i++)
		vmc_loop_run_once(loop, false);
}

/* Where queue q's used ring sits for a queue of @num entries (legacy's
 * 256-byte alignment, which the modern setup uses too). */
static inline uint64_t vmc_fuzz_used_addr(unsigned int q, unsigned int num)
{
	uint64_t avail = VMC_FUZZ_VIRTIO_QUEUE(q) + 16 * num;

	return (avail + 6 + 2 * num + 255) & ~255ull;
}

/* Reset, negotiate @features, set up queues 0 and 1 with @num entries,
 * DRIVER_OK. */
static inline void vmc_fuzz_drive(struct vmc_address_space *as, uint64_t base,
				  bool legacy, uint64_t features,
				  unsigned int num)
{
	vmc_fuzz_mmio_wr(as, base + 0x070, 0);
	vmc_fuzz_mmio_wr(as, base + 0x070, 1 | 2);
	vmc_fuzz_mmio_wr(as, base + 0x024, 0);
	vmc_fuzz_mmio_wr(as, base + 0x020, (uint32_t)features);
	vmc_fuzz_mmio_wr(as, base + 0x024, 1);
	vmc_fuzz_mmio_wr(as, base + 0x020, (uint32_t)(features >> 32));
	if (!legacy)
		vmc_fuzz_mmio_wr(as, base + 0x070, 1 | 2 | 8);
	else
		vmc_fuzz_mmio_wr(as, base + 0x028, 256);
	for (unsigned int q = 0; q < 2; q++) {
		uint64_t desc = VMC_FUZZ_VIRTIO_QUEUE(q);

		vmc_fuzz_mmio_wr(as, base + 0x030, q);
		vmc_fuzz_mmio_wr(as, base + 0x038, num);
		if (legacy) {
			vmc_fuzz_mmio_wr(as, base + 0x03c, 256);
			vmc_fuzz_mmio_wr(as, base + 0x040,
					 (uint32_t)(desc >> 8));
			continue;
		}
		vmc_fuzz_mmio_wr(as, base + 0x080, (uint32_t)desc);
		vmc_fuzz_mmio_wr(as, base + 0x084, 0);
		vmc_fuzz_mmio_wr(as, base + 0x090, (uint32_t)(desc + 16 * num));
		vmc_fuzz_mmio_wr(as, base + 0x094, 0);
		vmc_fuzz_mmio_wr(as, base + 0x0a0,
				 (uint32_t)vmc_fuzz_used_addr(q, num));
		vmc_fuzz_mmio_wr(as, base + 0x0a4, 0);
		vmc_fuzz_mmio_wr(as, base + 0x044, 1);
	}
	vmc_fuzz_mmio_wr(as, base + 0x070, 1 | 2 | (legacy ? 0 : 8) | 4);
}

#endif
