/* SPDX-License-Identifier: MIT */
/*
 * The body shared by the gdbstub's libFuzzer target and its unit test: a
 * riscv64 tcg VM that never runs (64 KiB of RAM at 0x80000000, two
 * vCPUs), and a socketless stub session per input that gets the input as
 * bytes from gdb.  Whatever arrives, the stub may not crash, and every
 * byte it sends must be a well-formed ack, nak or packet.
 */
#ifndef VMC_FUZZ_GDB_FUZZ_BODY_H
#define VMC_FUZZ_GDB_FUZZ_BODY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#include "gdbstub-internal.h"

struct gdb_fuzz {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_region *ram;
	/* What the last input produced. */
	unsigned int acks, naks, packets;
	char last[VMC__GDB_MAX_PACKET * 2 + 8];
};

static inline int gdb_fuzz_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Every write of the stub is one '+', one '-' or one whole packet. */
static inline void gdb_fuzz_out(const char *buf, size_t len, void *opaque)
{
	struct gdb_fuzz *f = opaque;
	uint8_t sum = 0;

	if (len == 1 && (buf[0] == '+' || buf[0] == '-')) {
		if (buf[0] == '+')
			f->acks++;
		else
			f->naks++;
		return;
	}
	if (len < 4 || buf[0] != '$' || buf[len - 3] != '#')
		abort();
	for (size_t i = 1; i < len - 3; i++) {
		if (buf[i] == '$' || buf[i] == '#')
			abort();
		sum += (uint8_t)buf[i];
	}
	if (gdb_fuzz_hex(buf[len - 2]) != sum >> 4 ||
	    gdb_fuzz_hex(buf[len - 1]) != (sum & 15))
		abort();
	f->packets++;
	if (len - 4 < sizeof(f->last)) {
		memcpy(f->last, buf + 1, len - 4);
		f->last[len - 4] = '\0';
	}
}

static inline int gdb_fuzz_init(struct gdb_fuzz *f)
{
	struct vmc_vm_config c;
	int r;

	memset(f, 0, sizeof(*f));
	r = vmc_loop_new(&f->loop);
	if (r < 0)
		return r;
	vmc_vm_config_init(&c);
	c.loop = f->loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = 2;
	r = vmc_vm_new(&c, &f->vm);
	if (r < 0)
		return r;
	r = vmc_region_new_ram(vmc_vm_get_memory(f->vm), "ram", 0x10000, 0,
			       &f->ram);
	if (r < 0)
		return r;
	return vmc_region_add_subregion(vmc_vm_get_root(f->vm, VMC_AS_MEMORY),
					0x80000000, f->ram, 0);
}

static inline void gdb_fuzz_fini(struct gdb_fuzz *f)
{
	vmc_vm_unref(f->vm);
	vmc_region_unref(f->ram);
	vmc_loop_unref(f->loop);
}

/* One input: a fresh session, fed in pieces as a socket would. */
static inline void gdb_fuzz_one(struct gdb_fuzz *f, const uint8_t *data,
				size_t size)
{
	struct vmc_gdbstub *gs;
	size_t off = 0;

	f->acks = f->naks = f->packets = 0;
	f->last[0] = '\0';
	if (vmc__gdbstub_new_session(f->vm, gdb_fuzz_out, f, true, &gs) < 0)
		abort();
	/* Half the inputs skip checksums, so mutations reach the handlers. */
	if (size && (data[0] & 0x80)) {
		static const char noack[] = "$QStartNoAckMode#b0";

		vmc__gdbstub_feed(gs, noack, sizeof(noack) - 1);
		f->acks = f->naks = f->packets = 0;
	}
	while (off < size) {
		size_t n = 1 + (data[off] % 97);

		if (n > size - off)
			n = size - off;
		vmc__gdbstub_feed(gs, data + off, n);
		off += n;
	}
	vmc_gdbstub_stop(gs);
}

#endif
