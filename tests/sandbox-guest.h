/* SPDX-License-Identifier: MIT */
/*
 * Tiny guests for the guest-call tests and benchmarks (vmc-sandbox.h): a
 * handful of functions at fixed addresses, x86-64 long mode on KVM (flat,
 * identity-mapped) or RV64 M-mode on tcg, and a VM to call them in.
 */
#ifndef VMC_TEST_SANDBOX_GUEST_H
#define VMC_TEST_SANDBOX_GUEST_H

#include <string.h>

#include <libvmcore/libvmcore.h>

#include "rv-asm.h"
#include "vmc-test.h"

/* Layout, as offsets from the start of RAM. */
#define SG_RAM_SIZE (2ull << 20)
#define SG_RV_BASE 0x80000000ull
#define SG_RV_DOORBELL 0x10000000ull
#define SG_CODE 0x1000	  /* the functions, 0x40 bytes apart */
#define SG_TRAMP 0x1800	  /* return trampoline: hlt / wfi */
#define SG_STACK 0x9000	  /* stack top */
#define SG_TABLES 0x20000 /* x86 page tables */
#define SG_DATA 0x100000  /* scribbled pages */

/* The functions. */
enum sg_fn {
	SG_ADD,	     /* a0 + a1 + a2 */
	SG_HOST,     /* host call 1 (a0, a1) + 1 */
	SG_LOOP,     /* never returns */
	SG_FAULT,    /* an exception the guest does not handle */
	SG_SCRIBBLE, /* store a0 at a1, a1 + 4 KiB, ... a2 times; a0 */
	SG_RETDB,    /* completes through the doorbell with 77 */
	SG_EMPTY,    /* returns 0 at once */
	SG_WRMSR,    /* x86: LSTAR = a0 */
	SG_COUNT_FN
};

struct sg {
	struct vmc_vm *vm;
	struct vmc_region *ram;
	uint8_t *mem;
	uint64_t base; /* guest-physical address of RAM */
	bool x86;
	struct vmc_sandbox *sb;
};

static inline uint64_t sg_addr(const struct sg *g, uint64_t off)
{
	return g->base + off;
}

static inline void sg_put(struct sg *g, enum sg_fn f, const void *code,
			  size_t n)
{
	memcpy(g->mem + SG_CODE + 0x40 * (unsigned)f, code, n);
}

static inline uint32_t sg_rv_r(unsigned f7, unsigned rs2, unsigned rs1,
			       unsigned f3, unsigned rd, unsigned op)
{
	return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static inline void sg_load_rv(struct sg *g)
{
	enum { A2 = 12, RA = 1 };
	const uint32_t add[] = {
		rv_add(RV_A0, RV_A0, RV_A1), rv_add(RV_A0, RV_A0, A2),
		rv_i(0x67, 0, 0, RA, 0), /* ret */
	};
	const uint32_t host[] = {
		rv_lui(RV_T0, (uint32_t)(SG_RV_DOORBELL >> 12)),
		rv_addi(RV_T1, RV_ZERO, 1),
		rv_sd(RV_T1, RV_T0, 0), /* host call 1 */
		rv_addi(RV_A0, RV_A0, 1),
		rv_i(0x67, 0, 0, RA, 0),
	};
	const uint32_t loop[] = {rv_jal(RV_ZERO, 0)};
	/* A load from address 0, where nothing is: with mtvec 0 the trap
	 * handler faults too, a trap loop the hart gives up on. */
	const uint32_t fault[] = {rv_i(0x03, 3, RV_T0, RV_ZERO, 0)};
	const uint32_t scribble[] = {
		rv_sd(RV_A0, RV_A1, 0),	     rv_lui(RV_T0, 1),
		rv_add(RV_A1, RV_A1, RV_T0), rv_addi(A2, A2, -1),
		rv_bne(A2, RV_ZERO, -16),    rv_i(0x67, 0, 0, RA, 0),
	};
	const uint32_t retdb[] = {
		rv_lui(RV_T0, (uint32_t)(SG_RV_DOORBELL >> 12)),
		rv_addi(RV_A0, RV_ZERO, 77),
		rv_sd(RV_ZERO, RV_T0, 0),
		rv_jal(RV_ZERO, 0),
	};
	const uint32_t empty[] = {
		rv_addi(RV_A0, RV_ZERO, 0),
		RV_WFI,
	};
	const uint32_t tramp[] = {RV_WFI, rv_jal(RV_ZERO, -4)};

	sg_put(g, SG_ADD, add, sizeof(add));
	sg_put(g, SG_HOST, host, sizeof(host));
	sg_put(g, SG_LOOP, loop, sizeof(loop));
	sg_put(g, SG_FAULT, fault, sizeof(fault));
	sg_put(g, SG_SCRIBBLE, scribble, sizeof(scribble));
	sg_put(g, SG_RETDB, retdb, sizeof(retdb));
	sg_put(g, SG_EMPTY, empty, sizeof(empty));
	memcpy(g->mem + SG_TRAMP, tramp, sizeof(tramp));
}

static inline void sg_load_x86(struct sg *g)
{
	static const uint8_t add[] = {
		0x48, 0x89, 0xf8, /* mov rax, rdi */
		0x48, 0x01, 0xf0, /* add rax, rsi */
		0x48, 0x01, 0xd0, /* add rax, rdx */
		0xc3,		  /* ret */
	};
	static const uint8_t host[] = {
		0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
		0xe7, 0xec,		      /* out 0xec, eax */
		0x48, 0x83, 0xc0, 0x01,	      /* add rax, 1 */
		0xc3,			      /* ret */
	};
	static const uint8_t loop[] = {0xeb, 0xfe};  /* jmp . */
	static const uint8_t fault[] = {0x0f, 0x0b}; /* ud2, no IDT */
	static const uint8_t scribble[] = {
		0x48, 0x89, 0x3e, /* 1: mov [rsi], rdi */
		0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* add rsi, 4096 */
		0x48, 0xff, 0xca,			  /* dec rdx */
		0x75, 0xf1,				  /* jnz 1b */
		0x48, 0x89, 0xf8,			  /* mov rax, rdi */
		0xc3,					  /* ret */
	};
	static const uint8_t retdb[] = {
		0x48, 0xc7, 0xc7, 0x4d, 0x00, 0x00, 0x00, /* mov rdi, 77 */
		0x31, 0xc0,				  /* xor eax, eax */
		0xe7, 0xec,				  /* out 0xec, eax */
		0xeb, 0xfe,				  /* jmp . */
	};
	static const uint8_t empty[] = {0x31, 0xc0, 0xf4}; /* xor eax; hlt */
	static const uint8_t tramp[] = {0xf4, 0xeb, 0xfd}; /* hlt; jmp */
	static const uint8_t wrmsr[] = {
		0xb9, 0x82, 0x00, 0x00, 0xc0, /* mov ecx, LSTAR */
		0x48, 0x89, 0xf8,	      /* mov rax, rdi */
		0x48, 0x89, 0xfa,	      /* mov rdx, rdi */
		0x48, 0xc1, 0xea, 0x20,	      /* shr rdx, 32 */
		0x0f, 0x30,		      /* wrmsr */
		0xf4,			      /* hlt */
	};

	sg_put(g, SG_ADD, add, sizeof(add));
	sg_put(g, SG_HOST, host, sizeof(host));
	sg_put(g, SG_LOOP, loop, sizeof(loop));
	sg_put(g, SG_FAULT, fault, sizeof(fault));
	sg_put(g, SG_SCRIBBLE, scribble, sizeof(scribble));
	sg_put(g, SG_RETDB, retdb, sizeof(retdb));
	sg_put(g, SG_EMPTY, empty, sizeof(empty));
	sg_put(g, SG_WRMSR, wrmsr, sizeof(wrmsr));
	memcpy(g->mem + SG_TRAMP, tramp, sizeof(tramp));
}

/* A VM with the guest loaded and a sandbox on it; false: no such
 * accelerator here.  @flags: vmc_sandbox_config's. */
static inline bool sg_open(struct sg *g, struct vmc_loop *loop,
			   enum vmc_accel accel, unsigned int flags)
{
	struct vmc_sandbox_config sc;
	struct vmc_vm_config c;

	memset(g, 0, sizeof(*g));
	g->x86 = accel == VMC_ACCEL_KVM;
	g->base = g->x86 ? 0 : SG_RV_BASE;
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = accel;
	c.arch = g->x86 ? VMC_ARCH_X86_64 : VMC_ARCH_RISCV64;
	c.vcpus = 1;
	if (vmc_vm_new(&c, &g->vm) < 0)
		return false;
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(g->vm), "ram",
				     SG_RAM_SIZE, 0, &g->ram));
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(g->vm, VMC_AS_MEMORY), g->base, g->ram, 0));
	g->mem = vmc_region_get_ptr(g->ram);
	if (g->x86) {
		sg_load_x86(g);
		ASSERT_OK(vmc_x86_vcpu_setup_long_mode(
			vmc_vm_get_vcpu(g->vm, 0), g->mem + SG_TABLES,
			SG_TABLES, SG_TRAMP, SG_STACK));
	} else {
		sg_load_rv(g);
	}
	vmc_sandbox_config_init(&sc);
	sc.flags = flags;
	if (!g->x86)
		sc.doorbell = SG_RV_DOORBELL;
	ASSERT_OK(vmc_sandbox_new(g->vm, &sc, &g->sb));
	return true;
}

static inline void sg_close(struct sg *g)
{
	vmc_sandbox_free(g->sb);
	vmc_vm_unref(g->vm);
	vmc_region_unref(g->ram);
}

/* A call of @f with up to three arguments, returning through the
 * trampoline. */
static inline void sg_call_init(const struct sg *g, struct vmc_sandbox_call *c,
				enum sg_fn f, uint64_t a0, uint64_t a1,
				uint64_t a2)
{
	vmc_sandbox_call_init(c);
	c->entry = sg_addr(g, SG_CODE + 0x40 * (unsigned)f);
	c->stack = sg_addr(g, SG_STACK);
	c->return_address = sg_addr(g, SG_TRAMP);
	c->args[0] = a0;
	c->args[1] = a1;
	c->args[2] = a2;
	c->nr_args = 3;
}

#endif
