/* SPDX-License-Identifier: MIT */
/*
 * The body shared by the libFuzzer target and the tcg test: decode every
 * 16- and 32-bit word of the input, then run the input as guest code on a
 * hart with 64 KiB of RAM for a bounded number of instructions.  Nothing a
 * guest does may crash the host.
 */
#ifndef VMC_FUZZ_RV_FUZZ_BODY_H
#define VMC_FUZZ_RV_FUZZ_BODY_H

#include <stdint.h>
#include <string.h>

#include "rv.h"
#include "rv-ops.h"

#define FUZZ_RAM_BASE 0x80000000ull
#define FUZZ_RAM_SIZE 0x10000ull

static uint8_t fuzz_ram[FUZZ_RAM_SIZE];

static bool fuzz_ram_lookup(void *opaque, uint64_t pa,
			    struct vmc__rv_bus_map *ret)
{
	(void)opaque;
	*ret = (struct vmc__rv_bus_map){0};
	if (pa < FUZZ_RAM_BASE || pa - FUZZ_RAM_BASE >= FUZZ_RAM_SIZE)
		return false;
	ret->start = FUZZ_RAM_BASE;
	ret->end = FUZZ_RAM_BASE + FUZZ_RAM_SIZE;
	ret->host = fuzz_ram;
	return true;
}

static int fuzz_io_read(void *opaque, const void *io, uint64_t pa,
			unsigned size, uint64_t *val)
{
	(void)opaque;
	(void)size;
	*val = pa * 0x9e3779b97f4a7c15ull;
	return (pa & 0x100) ? -1 : 0;
}

static int fuzz_io_write(void *opaque, const void *io, uint64_t pa,
			 unsigned size, uint64_t val)
{
	(void)opaque;
	(void)size;
	(void)val;
	return (pa & 0x100) ? -1 : 0;
}

static int64_t fuzz_time(void *opaque)
{
	(void)opaque;
	return 12345;
}

static struct vmc__rv_hart *fuzz_hart;

static int rv_fuzz_one(const uint8_t *data, size_t size)
{
	struct vmc__rv_dec d;
	uint64_t n = 0;

	for (size_t i = 0; i + 2 <= size; i += 2) {
		uint32_t w = data[i] | (uint32_t)data[i + 1] << 8;

		if (i + 4 <= size)
			w |= (uint32_t)data[i + 2] << 16 | (uint32_t)data[i + 3]
								   << 24;
		vmc__rv_decode(w, &d);
		if (d.op >= VMC__RV_OP__COUNT || (d.len != 2 && d.len != 4) ||
		    d.rd > 31 || d.rs1 > 31 || d.rs2 > 31)
			__builtin_trap();
	}
	if (!fuzz_hart) {
		struct vmc__rv_config cfg = {
			.bus =
				{
					.ram_lookup = fuzz_ram_lookup,
					.io_read = fuzz_io_read,
					.io_write = fuzz_io_write,
					.time_ns = fuzz_time,
				},
		};

		if (vmc__rv_hart_new(&cfg, &fuzz_hart) < 0)
			return 0;
	}
	memset(fuzz_ram, 0, sizeof(fuzz_ram));
	memcpy(fuzz_ram, data, size < FUZZ_RAM_SIZE ? size : FUZZ_RAM_SIZE);
	vmc__rv_hart_reset(fuzz_hart, FUZZ_RAM_BASE);
	/* Trap handlers at the start of RAM too, so traps re-enter the
	 * input; the trap-loop guard ends runs that never progress. */
	vmc__rv_set_csr(fuzz_hart, 0x305, FUZZ_RAM_BASE + (size & 0xfc));
	vmc__rv_set_csr(fuzz_hart, 0x105, FUZZ_RAM_BASE + 0x100);
	vmc__rv_set_csr(fuzz_hart, 0x3b0, ~0ull);
	vmc__rv_set_csr(fuzz_hart, 0x3a0, 0x1f);
	for (unsigned i = 1; i < 32; i++)
		vmc__rv_set_gpr(fuzz_hart, i,
				FUZZ_RAM_BASE + i * 0x100 +
					(size > i ? data[i] : 0));
	vmc__rv_run(fuzz_hart, 2000, &n);
	if (n > 2000)
		__builtin_trap();
	return 0;
}

#endif
