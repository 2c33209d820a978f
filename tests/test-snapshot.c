/* SPDX-License-Identifier: MIT */
/*
 * In-memory snapshots (vmc-snapshot.h): a guest scribbles over memory and
 * registers, and a restore puts them back byte for byte, copying only the
 * pages the guest dirtied.  "test-snapshot" runs on tcg; "test-snapshot
 * kvm" runs the same checks on KVM (skipped where /dev/kvm is unusable).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "rv-asm.h"
#include "vmc-test.h"

#define RV_RAM 0x80000000ull
#define RV_RAM_SIZE 0x100000ull
#define SCRIBBLE_PAGES 16
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct vmc_loop *loop;
static enum vmc_accel accel;

struct svm {
	struct vmc_vm *vm;
	struct vmc_region *ram;
	uint8_t *mem;
	uint64_t size;
	volatile uint64_t *marker;
};

static int svm_new(struct svm *s, enum vmc_accel acc, uint64_t ram_size)
{
	struct vmc_vm_config c;
	uint64_t base = acc == VMC_ACCEL_KVM ? 0 : RV_RAM;
	int r;

	memset(s, 0, sizeof(*s));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = acc;
	c.arch = acc == VMC_ACCEL_KVM ? VMC_ARCH_X86_64 : VMC_ARCH_RISCV64;
	c.vcpus = 1;
	r = vmc_vm_new(&c, &s->vm);
	if (r < 0)
		return r;
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(s->vm), "ram", ram_size,
				     0, &s->ram));
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(s->vm, VMC_AS_MEMORY), base, s->ram, 0));
	s->mem = vmc_region_get_ptr(s->ram);
	s->size = ram_size;
	return 0;
}

static void svm_free(struct svm *s)
{
	vmc_vm_unref(s->vm);
	vmc_region_unref(s->ram);
}

static uint64_t reg(struct svm *s, unsigned int r)
{
	uint64_t v = 0;

	ASSERT_OK(vmc_vcpu_get_reg(vmc_vm_get_vcpu(s->vm, 0), r, &v));
	return v;
}

static void set_reg(struct svm *s, unsigned int r, uint64_t v)
{
	ASSERT_OK(vmc_vcpu_set_reg(vmc_vm_get_vcpu(s->vm, 0), r, v));
}

/* Run until the guest stores @want at the marker, then pause. */
static void run_until_marker(struct svm *s, uint64_t want)
{
	int64_t end = vmc_test_now_ns() + 10 * 1000000000ll;

	if (vmc_vm_get_state(s->vm) == VMC_VM_CREATED)
		ASSERT_OK(vmc_vm_start(s->vm));
	else
		ASSERT_OK(vmc_vm_resume(s->vm));
	while (__atomic_load_n(s->marker, __ATOMIC_ACQUIRE) != want) {
		if (vmc_test_now_ns() > end) {
			unsigned int pc = accel == VMC_ACCEL_KVM
						  ? VMC_X86_RIP
						  : VMC_RISCV_REG_PC;

			ASSERT_OK(vmc_vm_pause(s->vm));
			fprintf(stderr, "pc 0x%llx marker 0x%llx\n",
				(unsigned long long)reg(s, pc),
				(unsigned long long)*s->marker);
			FAIL("guest did not reach its marker (state %s, %s)",
			     vmc_vm_state_to_string(vmc_vm_get_state(s->vm)),
			     vmc_vm_get_error(s->vm));
		}
		vmc_loop_run_once(loop, false);
		usleep(100);
	}
	ASSERT_OK(vmc_vm_pause(s->vm));
	ASSERT_EQ(vmc_vm_get_state(s->vm), VMC_VM_PAUSED);
}

/* ------------------------------------------------------------------------
 * Guests.  Each fills SCRIBBLE_PAGES pages at offset 0x10000 (tcg) or
 * 0x20000 (KVM) of RAM, changes registers, writes the marker just past the
 * scribbled pages and halts: SCRIBBLE_PAGES + 1 pages dirtied.
 */

static void load_rv_guest(struct svm *s)
{
	const uint32_t prog[] = {
		rv_auipc(RV_T0, 0x10),	/* t0 = RAM + 0x10000 */
		rv_lui(RV_T1, 2),	/* t1 = 8192 doublewords */
		rv_sd(RV_T1, RV_T0, 0), /* loop: */
		rv_addi(RV_T0, RV_T0, 8),
		rv_addi(RV_T1, RV_T1, -1),
		rv_bne(RV_T1, RV_ZERO, -12),
		rv_addi(RV_A0, RV_ZERO, 0x123),
		rv_addi(RV_S1, RV_ZERO, -7),
		rv_csrrw(RV_ZERO, 0x340, RV_A0), /* mscratch = a0 */
		rv_sd(RV_A0, RV_T0, 0),		 /* the marker */
		RV_WFI,
		rv_jal(RV_ZERO, -4),
	};

	memcpy(s->mem, prog, sizeof(prog));
	s->marker =
		(volatile uint64_t *)(s->mem + 0x10000 + SCRIBBLE_PAGES * 4096);
	set_reg(s, VMC_RISCV_REG_PC, RV_RAM);
	set_reg(s, VMC_RISCV_REG_A0, 0x55);
	set_reg(s, 9, 0x66);
	set_reg(s, VMC_RISCV_REG_CSR(0x340), 0x77);
}

static void load_x86_guest(struct svm *s)
{
	static const uint8_t prog[] = {
		0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, /* mov rdi, 0x20000 */
		0xb9, 0x00, 0x20, 0x00, 0x00,		  /* mov ecx, 0x2000 */
		0x48, 0xb8, 0xbe, 0xba, 0xfe, 0xca,	  /* mov rax, ... */
		0xef, 0xbe, 0xad, 0xde, 0xf3, 0x48, 0xab, /* rep stosq */
		0x48, 0xc7, 0xc3, 0x23, 0x01, 0x00, 0x00, /* mov rbx, 0x123 */
		0x48, 0x89, 0x1f,			  /* mov [rdi], rbx */
		0xf4,					  /* hlt */
		0xeb, 0xfd,				  /* jmp hlt */
	};
	struct vmc_vcpu *v = vmc_vm_get_vcpu(s->vm, 0);

	memcpy(s->mem + 0x1000, prog, sizeof(prog));
	ASSERT_OK(vmc_x86_vcpu_setup_long_mode(v, s->mem + 0x8000, 0x8000,
					       0x1000, 0x7000));
	s->marker =
		(volatile uint64_t *)(s->mem + 0x20000 + SCRIBBLE_PAGES * 4096);
	set_reg(s, VMC_X86_RAX, 0x55);
	set_reg(s, VMC_X86_RBX, 0x66);
	set_reg(s, VMC_X86_RCX, 0x77);
}

static int svm_guest(struct svm *s, enum vmc_accel acc, uint64_t size)
{
	int r = svm_new(s, acc, size);

	if (r < 0)
		return r;
	if (acc == VMC_ACCEL_KVM)
		load_x86_guest(s);
	else
		load_rv_guest(s);
	return 0;
}

static void new_or_skip(struct svm *s, uint64_t size)
{
	int r = svm_guest(s, accel, size);

	if (accel == VMC_ACCEL_KVM && (r == -ENODEV || r == -EOPNOTSUPP))
		SKIP("KVM is not usable here (%s)", strerror(-r));
	ASSERT_OK(r);
}

/* The registers the guests change, and the pc. */
static const unsigned int rv_regs[] = {
	VMC_RISCV_REG_PC,   5, 6, 9, VMC_RISCV_REG_A0, VMC_RISCV_REG_CSR(0x340),
	VMC_RISCV_REG_PRIV,
};
static const unsigned int x86_regs[] = {
	VMC_X86_RIP,	VMC_X86_RAX, VMC_X86_RBX, VMC_X86_RCX, VMC_X86_RDI,
	VMC_X86_RFLAGS, VMC_X86_CS,  VMC_X86_CR0, VMC_X86_CR3, VMC_X86_EFER,
};

static void test_restore(void)
{
	const unsigned int *regs = accel == VMC_ACCEL_KVM ? x86_regs : rv_regs;
	size_t nregs = accel == VMC_ACCEL_KVM ? ARRAY_SIZE(x86_regs)
					      : ARRAY_SIZE(rv_regs);
	struct vmc_snapshot *snap;
	uint64_t saved[16];
	uint8_t *copy;
	struct svm s;
	int copied;

	new_or_skip(&s, RV_RAM_SIZE);
	/* Something other than zeros where the guest scribbles. */
	for (uint64_t i = 0; i < s.size; i += 8)
		if (i >= 0x10000)
			memcpy(s.mem + i, &i, 8);
	copy = malloc(s.size);
	ASSERT_NOT_NULL(copy);
	memcpy(copy, s.mem, s.size);
	for (size_t i = 0; i < nregs; i++)
		saved[i] = reg(&s, regs[i]);
	ASSERT_OK(vmc_snapshot_new(s.vm, &snap));

	for (int round = 0; round < 3; round++) {
		run_until_marker(&s, 0x123);
		ASSERT_NE(memcmp(copy, s.mem, s.size), 0);
		ASSERT_NE(reg(&s, regs[1]), saved[1]);
		copied = vmc_snapshot_restore(s.vm, snap);
		if (accel == VMC_ACCEL_KVM) {
			/* The CPU also sets accessed/dirty bits in the page
			 * tables (7 pages at 0x8000). */
			ASSERT_GE(copied, SCRIBBLE_PAGES + 1);
			ASSERT_LE(copied, SCRIBBLE_PAGES + 1 + 7);
		} else {
			ASSERT_EQ(copied, SCRIBBLE_PAGES + 1);
		}
		ASSERT_EQ(memcmp(copy, s.mem, s.size), 0);
		for (size_t i = 0; i < nregs; i++)
			ASSERT_EQ(reg(&s, regs[i]), saved[i]);
		/* Nothing was dirtied since: a second restore copies
		 * nothing. */
		ASSERT_EQ(vmc_snapshot_restore(s.vm, snap), 0);
	}
	vmc_snapshot_free(snap);
	free(copy);
	svm_free(&s);
}

/* Reset cost follows dirtied pages, not RAM size: 1 GiB of RAM, one page
 * written, one page copied. */
static void test_cost(void)
{
	struct vmc_snapshot *snap;
	struct svm s;
	uint64_t addr = 0x3ff00000; /* near the end of RAM */
	const uint64_t base = accel == VMC_ACCEL_KVM ? 0 : RV_RAM;

	new_or_skip(&s, 1ull << 30);
	if (accel == VMC_ACCEL_KVM) {
		/* mov rdi, imm32; mov [rdi], rdi; hlt; jmp hlt */
		uint8_t prog[] = {0x48, 0xc7, 0xc7, 0,	  0,	0,   0,
				  0x48, 0x89, 0x3f, 0xf4, 0xeb, 0xfd};

		memcpy(prog + 3, &addr, 4);
		memcpy(s.mem + 0x1000, prog, sizeof(prog));
	} else {
		const uint32_t prog[] = {
			rv_auipc(RV_T0, (uint32_t)(addr >> 12)),
			rv_sd(RV_T0, RV_T0, 0),
			RV_WFI,
			rv_jal(RV_ZERO, -4),
		};

		memcpy(s.mem, prog, sizeof(prog));
	}
	s.marker = (volatile uint64_t *)(s.mem + addr);
	ASSERT_OK(vmc_snapshot_new(s.vm, &snap));
	run_until_marker(&s, base + addr);
	if (accel == VMC_ACCEL_KVM) {
		int n = vmc_snapshot_restore(s.vm, snap);

		/* The page and at most the page tables' A/D bits. */
		ASSERT_GE(n, 1);
		ASSERT_LE(n, 1 + 7);
	} else {
		ASSERT_EQ(vmc_snapshot_restore(s.vm, snap), 1);
	}
	ASSERT_EQ(*s.marker, 0);
	vmc_snapshot_free(snap);
	svm_free(&s);
}

static void test_errors(void)
{
	struct vmc_snapshot *snap, *other_snap;
	struct svm s, other;

	ASSERT_ERR(vmc_snapshot_new(NULL, &snap), -EINVAL);
	new_or_skip(&s, RV_RAM_SIZE);
	ASSERT_ERR(vmc_snapshot_new(s.vm, NULL), -EINVAL);
	ASSERT_OK(vmc_snapshot_new(s.vm, &snap));
	ASSERT_ERR(vmc_snapshot_restore(NULL, snap), -EINVAL);
	ASSERT_ERR(vmc_snapshot_restore(s.vm, NULL), -EINVAL);

	/* Another VM's snapshot. */
	new_or_skip(&other, RV_RAM_SIZE);
	ASSERT_OK(vmc_snapshot_new(other.vm, &other_snap));
	ASSERT_ERR(vmc_snapshot_restore(s.vm, other_snap), -EINVAL);

	/* Running. */
	ASSERT_OK(vmc_vm_start(s.vm));
	ASSERT_ERR(vmc_snapshot_restore(s.vm, snap), -EBUSY);
	ASSERT_ERR(vmc_snapshot_new(s.vm, &other_snap), -EBUSY);
	ASSERT_OK(vmc_vm_pause(s.vm));

	/* A layout that lost a RAM region. */
	ASSERT_OK(vmc_region_remove_subregion(
		vmc_vm_get_root(s.vm, VMC_AS_MEMORY), s.ram));
	ASSERT_ERR(vmc_snapshot_restore(s.vm, snap), -EINVAL);

	vmc_snapshot_free(snap);
	vmc_snapshot_free(other_snap);
	vmc_snapshot_free(NULL);
	svm_free(&other);
	svm_free(&s);
}

/* A newer snapshot takes the tracking over; restoring the older one copies
 * all of its RAM once, then only dirtied pages again. */
static void test_two_snapshots(void)
{
	struct vmc_snapshot *a, *b;
	uint64_t pages = RV_RAM_SIZE / 4096;
	struct svm s;

	new_or_skip(&s, RV_RAM_SIZE);
	ASSERT_OK(vmc_snapshot_new(s.vm, &a));
	ASSERT_OK(vmc_snapshot_new(s.vm, &b));
	ASSERT_EQ(vmc_snapshot_restore(s.vm, b), 0);
	ASSERT_EQ(vmc_snapshot_restore(s.vm, a), (int)pages);
	ASSERT_EQ(vmc_snapshot_restore(s.vm, a), 0);
	vmc_snapshot_free(b);
	ASSERT_EQ(vmc_snapshot_restore(s.vm, a), 0);
	vmc_snapshot_free(a);
	svm_free(&s);
}

static void test_harness(void)
{
	struct vmc_vm_config c;
	struct vmc_snapshot *snap;
	struct vmc_vm *vm;

	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_HARNESS;
	c.arch = VMC_ARCH_NONE;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_ERR(vmc_snapshot_new(vm, &snap), -EOPNOTSUPP);
	vmc_vm_unref(vm);
}

int main(int argc, char **argv)
{
	accel = argc > 1 && !strcmp(argv[1], "kvm") ? VMC_ACCEL_KVM
						    : VMC_ACCEL_TCG;
	ASSERT_OK(vmc_loop_new(&loop));
	RUN(test_errors);
	RUN(test_restore);
	RUN(test_cost);
	RUN(test_two_snapshots);
	if (accel == VMC_ACCEL_TCG)
		RUN(test_harness);
	vmc_loop_unref(loop);
	return 0;
}
