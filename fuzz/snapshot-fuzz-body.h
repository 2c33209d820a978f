/* SPDX-License-Identifier: MIT */
/*
 * The snapshot file reader (vmc_vm_load_buffer()) on hostile input.
 * Shared by fuzz/fuzz-snapshot.c (libFuzzer) and tests/test-snapshot-fuzz.c
 * (pseudo-random inputs).
 *
 * The VM: RV64 on tcg, 64 KiB of RAM, a CLINT, a PLIC, a 16550, the test
 * finisher and a virtio-rng transport, so that every device section's
 * check and load meet the input.  The first input byte picks a mode:
 *   0  the rest as a file
 *   1  the rest as a file whose checksums are made right first, so that
 *      the parser's and the sections' own checks are reached
 *   2  the VM's own valid file, edited by (u32 offset, u8 value) pairs
 *      from the rest, checksums made right
 * What must hold: the load returns 0, -EBADMSG or -EINVAL; after an error
 * the VM is exactly as before (its own file is byte for byte the same).
 */
#ifndef VMC_SNAPSHOT_FUZZ_BODY_H
#define VMC_SNAPSHOT_FUZZ_BODY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

struct snapshot_fuzz {
	struct vmc_vm *vm;
	struct vmc_region *ram;
	struct vmc_clint *clint;
	struct vmc_plic *plic;
	struct vmc_uart16550 *uart;
	struct vmc_sifive_test *test;
	struct vmc_virtio_rng *rng;
	uint8_t *base; /* the VM's own file */
	size_t base_len;
};

static inline void snapshot_fuzz_die(const char *what)
{
	(void)what;
	abort();
}

/* The VM's file, malloc'd. */
static inline uint8_t *snapshot_fuzz_save(struct vmc_vm *vm, size_t *len)
{
	int fd = memfd_create("snapshot-fuzz", MFD_CLOEXEC);
	struct stat st;
	uint8_t *p;

	if (fd < 0 || vmc_vm_save_fd(vm, fd) < 0 || fstat(fd, &st) < 0)
		snapshot_fuzz_die("save");
	p = malloc((size_t)st.st_size + 1);
	if (!p || pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
		snapshot_fuzz_die("read back");
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static inline void snapshot_fuzz_init(struct snapshot_fuzz *f,
				      struct vmc_loop *loop)
{
	struct vmc_vm_config c;
	struct vmc_clint_config cc;
	struct vmc_plic_config pc;
	struct vmc_uart16550_config uc;
	struct vmc_sifive_test_config tc;
	struct vmc_virtio_rng_config rc;
	struct vmc_region *root;
	uint8_t *ram;

	memset(f, 0, sizeof(*f));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = 1;
	c.flags = VMC_VM_DETERMINISTIC;
	if (vmc_vm_new(&c, &f->vm) < 0 ||
	    vmc_region_new_ram(vmc_vm_get_memory(f->vm), "ram", 64 << 10, 0,
			       &f->ram) < 0)
		snapshot_fuzz_die("vm");
	vmc_clint_config_init(&cc);
	cc.vm = f->vm;
	vmc_plic_config_init(&pc);
	pc.vm = f->vm;
	vmc_sifive_test_config_init(&tc);
	tc.vm = f->vm;
	if (vmc_clint_new(&cc, &f->clint) < 0 ||
	    vmc_plic_new(&pc, &f->plic) < 0 ||
	    vmc_sifive_test_new(&tc, &f->test) < 0)
		snapshot_fuzz_die("devices");
	vmc_uart16550_config_init(&uc);
	uc.vm = f->vm;
	uc.irq = vmc_plic_get_irq(f->plic, 10);
	vmc_virtio_rng_config_init(&rc);
	rc.vm = f->vm;
	rc.irq = vmc_plic_get_irq(f->plic, 8);
	if (vmc_uart16550_new(&uc, &f->uart) < 0 ||
	    vmc_virtio_rng_new(&rc, &f->rng) < 0)
		snapshot_fuzz_die("devices");
	root = vmc_vm_get_root(f->vm, VMC_AS_MEMORY);
	vmc_memory_begin(vmc_vm_get_memory(f->vm));
	if (vmc_region_add_subregion(root, 0x80000000, f->ram, 0) < 0 ||
	    vmc_region_add_subregion(root, 0x2000000,
				     vmc_clint_get_region(f->clint), 0) < 0 ||
	    vmc_region_add_subregion(root, 0xc000000,
				     vmc_plic_get_region(f->plic), 0) < 0 ||
	    vmc_region_add_subregion(root, 0x10000000,
				     vmc_uart16550_get_region(f->uart),
				     0) < 0 ||
	    vmc_region_add_subregion(root, 0x10008000,
				     vmc_virtio_rng_get_region(f->rng), 0) < 0)
		snapshot_fuzz_die("layout");
	vmc_memory_commit(vmc_vm_get_memory(f->vm));
	/* Some RAM in use, some registers set. */
	ram = vmc_region_get_ptr(f->ram);
	for (unsigned int i = 0; i < 3000; i++)
		ram[(i * 97) % (64 << 10)] = (uint8_t)(i * 7 + 1);
	vmc_vcpu_set_reg(vmc_vm_get_vcpu(f->vm, 0), 10, 0x1234);
	f->base = snapshot_fuzz_save(f->vm, &f->base_len);
}

static inline void snapshot_fuzz_free(struct snapshot_fuzz *f)
{
	struct vmc_region *root = vmc_vm_get_root(f->vm, VMC_AS_MEMORY);

	vmc_memory_begin(vmc_vm_get_memory(f->vm));
	vmc_region_remove_subregion(root, f->ram);
	vmc_region_remove_subregion(root, vmc_clint_get_region(f->clint));
	vmc_region_remove_subregion(root, vmc_plic_get_region(f->plic));
	vmc_region_remove_subregion(root, vmc_uart16550_get_region(f->uart));
	vmc_region_remove_subregion(root, vmc_virtio_rng_get_region(f->rng));
	vmc_memory_commit(vmc_vm_get_memory(f->vm));
	vmc_virtio_rng_free(f->rng);
	vmc_uart16550_free(f->uart);
	vmc_sifive_test_free(f->test);
	vmc_plic_free(f->plic);
	vmc_clint_free(f->clint);
	vmc_region_unref(f->ram);
	vmc_vm_unref(f->vm);
	free(f->base);
}

static inline uint32_t snapshot_fuzz_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

static inline void snapshot_fuzz_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Make every checksum of @p right, as far as its structure goes. */
static inline void snapshot_fuzz_fix(uint8_t *p, size_t len)
{
	size_t off = 16;

	while (len - off >= 96 && off <= len) {
		uint64_t n = 0;

		snapshot_fuzz_put32(p + off + 88,
				    snapshot_fuzz_crc(p + off, 88));
		for (int i = 7; i >= 0; i--)
			n = n << 8 | p[off + 72 + i];
		off += 96;
		if (n > len - off || len - off - n < 4)
			return;
		snapshot_fuzz_put32(p + off + n,
				    snapshot_fuzz_crc(p + off, (size_t)n));
		off += (size_t)n + 4;
	}
}

/* One input; returns the load's result. */
static inline int snapshot_fuzz_one(struct snapshot_fuzz *f,
				    const uint8_t *data, size_t size)
{
	uint8_t *buf, *after;
	size_t len, after_len;
	int r;

	if (!size)
		return vmc_vm_load_buffer(f->vm, NULL, 0);
	switch (data[0] % 3) {
	case 0:
	case 1:
		len = size - 1;
		buf = malloc(len + 1);
		if (!buf)
			snapshot_fuzz_die("malloc");
		memcpy(buf, data + 1, len);
		if (data[0] % 3 == 1)
			snapshot_fuzz_fix(buf, len);
		break;
	default:
		len = f->base_len;
		buf = malloc(len);
		if (!buf)
			snapshot_fuzz_die("malloc");
		memcpy(buf, f->base, len);
		for (size_t i = 1; i + 5 <= size; i += 5) {
			uint32_t o = (uint32_t)data[i] |
				     (uint32_t)data[i + 1] << 8 |
				     (uint32_t)data[i + 2] << 16 |
				     (uint32_t)data[i + 3] << 24;

			/* Mostly in the small sections at the end. */
			if (o & 0x80000000u)
				o = (uint32_t)(len - 1 - (o & 0xfff) % len);
			buf[o % len] = data[i + 4];
		}
		snapshot_fuzz_fix(buf, len);
		break;
	}
	r = vmc_vm_load_buffer(f->vm, buf, len);
	free(buf);
	if (r != 0 && r != -EBADMSG && r != -EINVAL)
		snapshot_fuzz_die("unexpected error");
	after = snapshot_fuzz_save(f->vm, &after_len);
	if (r < 0 && (after_len != f->base_len ||
		      memcmp(after, f->base, after_len) != 0))
		snapshot_fuzz_die("a refused load changed the VM");
	if (r == 0) {
		/* Accepted: this is the VM's state now. */
		free(f->base);
		f->base = after;
		f->base_len = after_len;
	} else {
		free(after);
	}
	return r;
}

#endif
