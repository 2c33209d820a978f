/* SPDX-License-Identifier: MIT */
/*
 * Guest calls on guest code that is arbitrary bytes: an RV64 function the
 * input provides (its first 64 bytes are the arguments, the rest is code),
 * called on tcg with a short deadline, with a host callback behind the
 * doorbell, then a reset.  Shared by fuzz/fuzz-sandbox.c (libFuzzer) and
 * tests/test-sandbox.c (pseudo-random inputs).  What must hold: nothing
 * crashes or hangs; a call ends in one of the documented ways; a call
 * that did not complete poisons the sandbox and the next call is refused
 * with -EIO; the reset succeeds and leaves RAM as the snapshot had it and
 * the sandbox usable (a known function then returns its known result).
 */
#ifndef VMC_SANDBOX_FUZZ_BODY_H
#define VMC_SANDBOX_FUZZ_BODY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#define SBF_BASE 0x80000000ull
#define SBF_RAM 0x40000u
#define SBF_DOORBELL 0x10000000ull
#define SBF_CODE 0x1000u /* the input's code, up to 4 KiB */
#define SBF_ADD 0x3000u	 /* add a0, a0, a1; wfi */
#define SBF_TRAP 0x3800u /* mtvec: complete the call with mcause */
#define SBF_MARK 0x8000u /* a byte the snapshot knows */

struct sbf {
	struct vmc_vm *vm;
	struct vmc_region *ram;
	uint8_t *mem;
	struct vmc_sandbox *sb;
	struct vmc_snapshot *snap;
};

static inline int sbf_host(struct vmc_sandbox *sb, const uint64_t args[8],
			   uint64_t *ret, void *userdata)
{
	(void)sb;
	(void)userdata;
	*ret = args[0] ^ args[7];
	/* Some calls fail: the call ends with the error. */
	return (args[1] & 0xff) == 0x5a ? -EPERM : 0;
}

/* Build the sandbox once per process; false if tcg is missing. */
static inline bool sbf_init(struct sbf *f, struct vmc_loop *loop)
{
	static const uint32_t add[] = {0x00b50533, 0x10500073}; /* add; wfi */
	static const uint32_t trap[] = {
		0x34202573, /* csrr a0, mcause */
		0x100002b7, /* lui t0, 0x10000: the doorbell */
		0x0002b023, /* sd zero, 0(t0): complete the call */
		0x0000006f, /* j . */
	};
	struct vmc_sandbox_config sc;
	struct vmc_vm_config c;

	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = 1;
	if (vmc_vm_new(&c, &f->vm) < 0)
		return false;
	if (vmc_region_new_ram(vmc_vm_get_memory(f->vm), "ram", SBF_RAM, 0,
			       &f->ram) < 0 ||
	    vmc_region_add_subregion(vmc_vm_get_root(f->vm, VMC_AS_MEMORY),
				     SBF_BASE, f->ram, 0) < 0)
		abort();
	f->mem = vmc_region_get_ptr(f->ram);
	memcpy(f->mem + SBF_ADD, add, sizeof(add));
	memcpy(f->mem + SBF_TRAP, trap, sizeof(trap));
	/* A trap ends the call normally (most inputs trap at once; a trap
	 * inside the handler, or a loop, still ends it badly). */
	if (vmc_vcpu_set_reg(vmc_vm_get_vcpu(f->vm, 0),
			     VMC_RISCV_REG_CSR(0x305), SBF_BASE + SBF_TRAP) < 0)
		abort();
	f->mem[SBF_MARK] = 0xa5;
	vmc_sandbox_config_init(&sc);
	sc.flags = VMC_SANDBOX_CALLER_THREAD;
	sc.doorbell = SBF_DOORBELL;
	if (vmc_sandbox_new(f->vm, &sc, &f->sb) < 0 ||
	    vmc_sandbox_set_host_call(f->sb, 1, sbf_host, NULL) < 0 ||
	    vmc_snapshot_new(f->vm, &f->snap) < 0)
		abort();
	return true;
}

static inline void sbf_fini(struct sbf *f)
{
	vmc_snapshot_free(f->snap);
	vmc_sandbox_free(f->sb);
	vmc_vm_unref(f->vm);
	vmc_region_unref(f->ram);
}

static inline int sbf_call(struct sbf *f, uint64_t entry, const uint64_t *args,
			   uint64_t *result)
{
	struct vmc_sandbox_call c;
	int r;

	vmc_sandbox_call_init(&c);
	c.entry = entry;
	c.stack = SBF_BASE + SBF_RAM - 16;
	c.return_address = SBF_BASE + SBF_ADD + 4; /* the wfi */
	memcpy(c.args, args, sizeof(c.args));
	c.nr_args = 8;
	c.timeout_ns = 20 * 1000 * 1000;
	r = vmc_sandbox_call(f->sb, &c);
	*result = c.result;
	return r;
}

static inline void sbf_one(struct sbf *f, const uint8_t *data, size_t size)
{
	uint64_t args[8] = {0}, v = 0;
	size_t n = size < sizeof(args) ? size : sizeof(args);
	uint8_t code[4096] = {0};
	int r;

	if (data)
		memcpy(args, data, n);
	if (size > n)
		memcpy(code, data + n,
		       size - n < sizeof(code) ? size - n : sizeof(code));
	/* The host's own write: the reset does not undo it, the next
	 * input's write does. */
	memcpy(f->mem + SBF_CODE, code, sizeof(code));
	r = sbf_call(f, SBF_BASE + SBF_CODE, args, &v);
	if (r < 0) {
		if (r != -ETIMEDOUT && r != -EFAULT && r != -EPERM)
			abort();
		if (!vmc_sandbox_is_poisoned(f->sb) ||
		    sbf_call(f, SBF_BASE + SBF_ADD, args, &v) != -EIO)
			abort();
	}
	if (vmc_sandbox_reset(f->sb, f->snap) < 0 ||
	    vmc_sandbox_is_poisoned(f->sb) || f->mem[SBF_MARK] != 0xa5)
		abort();
	args[0] = 40;
	args[1] = 2;
	if (sbf_call(f, SBF_BASE + SBF_ADD, args, &v) != 0 || v != 42)
		abort();
	if (vmc_sandbox_reset(f->sb, f->snap) < 0)
		abort();
}

#endif
