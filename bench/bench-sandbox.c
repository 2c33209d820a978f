/* SPDX-License-Identifier: MIT */
/*
 * Sandbox reset on KVM: vmc_snapshot_restore() against the raw sequence a
 * hand-written VMM would run (KVM_GET_DIRTY_LOG, copy the D dirty pages
 * back, KVM_SET_REGS), for D = 1, 16 and 256 dirtied pages.  Target:
 * <= 1.3x.
 *
 * Both sides run the same 64-bit guest in 64 MiB of RAM: it writes one
 * quadword into each of D pages from 1 MiB up, sets a marker quadword at
 * 0x9000 and halts, so D + 1 pages are dirty at each reset.  The page
 * tables carry their accessed/dirty bits already on both sides, so the
 * CPU writes nothing else.  Each side runs its guest and resets on one
 * thread, as a sandbox serving requests does: the raw side with KVM_RUN,
 * libvmcore with a guest call on the caller's thread (vmc-sandbox.h).
 * Only the reset is timed; running the guest is not.  Each round times
 * RESETS resets per side, back to back in alternating order; the figure
 * is the median of the per-round ratios over ROUNDS rounds.
 *
 * Two raw baselines.  "regs-only" sets only the general registers (the
 * issue's baseline).  vmc_snapshot_restore() restores more: the XSAVE
 * area (one ioctl, every time), the MSRs (only when the guest wrote one
 * since: a filter traps its WRMSRs), and the general, segment and control
 * registers and pending events through kvm_run's sync_regs, which the
 * next KVM_RUN loads at entry at no measurable cost (6.95 against 6.98 us
 * for a KVM_RUN round trip on the nested host this was tuned on).
 * "same-state" is the raw ioctl sequence for that whole state
 * (KVM_SET_REGS, SREGS, FPU, VCPU_EVENTS, MSRS), all inside the window.
 * The first ratio is against regs-only, the second against same-state.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../tests/kvm-guest.h"

#define RAM_SIZE (64ull << 20)
#define CODE 0x10000
#define TABLES 0x20000
#define MARKER 0x9000
#define DATA 0x100000
#define ROUNDS 15
#define RESETS 40

static struct vmc_loop *loop;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The guest: D writes a page apart, the marker, hlt. */
static size_t guest_code(uint8_t *p, uint32_t d)
{
	static const uint8_t head[] = {
		0x48, 0xc7, 0xc7, 0x00, 0x00, 0x10, 0x00, /* mov rdi, DATA */
		0xb9, 0, 0, 0, 0,			  /* mov ecx, D */
		0x48, 0x89, 0x3f,			  /* 1: mov [rdi],rdi */
		0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, /* add rdi, 4096 */
		0xff, 0xc9,				  /* dec ecx */
		0x75, 0xf2,				  /* jnz 1b */
		/* mov qword [MARKER], 1 */
		0x48, 0xc7, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, 0x01, 0x00,
		0x00, 0x00, 0xf4, /* 2: hlt */
		0xeb, 0xfd,	  /* jmp 2b */
	};

	memcpy(p, head, sizeof(head));
	memcpy(p + 8, &d, 4);
	return sizeof(head);
}

/* Accessed and dirty bits on every present entry of the tables. */
static void preset_ad(uint8_t *tables, size_t size)
{
	uint64_t *e = (uint64_t *)(void *)tables;

	for (size_t i = 0; i < size / 8; i++)
		if (e[i] & 1)
			e[i] |= 0x60;
}

/* ------------------------------------------------------------------------
 * libvmcore
 */
struct lib {
	struct vmc_vm *vm;
	struct vmc_region *ram;
	uint8_t *mem;
	struct vmc_snapshot *snap;
	struct vmc_sandbox *sb;
};

static bool lib_open(struct lib *l, uint32_t d)
{
	struct vmc_vm_config c;
	struct vmc_vcpu *v;

	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_KVM;
	c.arch = VMC_ARCH_X86_64;
	c.vcpus = 1;
	c.loop = loop;
	if (vmc_vm_new(&c, &l->vm) < 0)
		return false;
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(l->vm), "ram", RAM_SIZE,
				     0, &l->ram));
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(l->vm, VMC_AS_MEMORY), 0, l->ram, 0));
	l->mem = vmc_region_get_ptr(l->ram);
	guest_code(l->mem + CODE, d);
	v = vmc_vm_get_vcpu(l->vm, 0);
	ASSERT_OK(vmc_x86_vcpu_setup_long_mode(v, l->mem + TABLES, TABLES, CODE,
					       0x8000));
	preset_ad(l->mem + TABLES, VMC_X86_LONG_MODE_TABLES_SIZE);
	{
		struct vmc_sandbox_config sc;

		vmc_sandbox_config_init(&sc);
		sc.flags = VMC_SANDBOX_CALLER_THREAD;
		ASSERT_OK(vmc_sandbox_new(l->vm, &sc, &l->sb));
	}
	ASSERT_OK(vmc_snapshot_new(l->vm, &l->snap));
	return true;
}

/* The guest, as a call: it ends at its hlt. */
static void lib_run(struct lib *l)
{
	struct vmc_sandbox_call c;

	vmc_sandbox_call_init(&c);
	c.entry = CODE;
	c.stack = 0x8000;
	ASSERT_OK(vmc_sandbox_call(l->sb, &c));
	if (*(volatile uint64_t *)(l->mem + MARKER) != 1)
		FAIL("the guest did not set its marker");
}

static int64_t lib_reset(struct lib *l, uint32_t d)
{
	int64_t t0 = vmc_test_now_ns(), t1;
	int n = vmc_snapshot_restore(l->vm, l->snap);

	t1 = vmc_test_now_ns();
	if (n != (int)d + 1)
		FAIL("restore copied %d pages, want %u", n, d + 1);
	return t1 - t0;
}

static void lib_close(struct lib *l)
{
	vmc_sandbox_free(l->sb);
	vmc_snapshot_free(l->snap);
	vmc_vm_unref(l->vm);
	vmc_region_unref(l->ram);
}

/* ------------------------------------------------------------------------
 * The raw side
 */
struct raw {
	int sys, vm, cpu, memfd;
	struct kvm_run *run;
	int run_size;
	uint8_t *mem, *copy;
	uint64_t *bitmap;
	struct kvm_regs regs;
	/* What vmc_snapshot_restore() loads besides regs. */
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_vcpu_events events;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[9];
	} msrs;
};

static void raw_open(struct raw *r, uint32_t d)
{
	struct kvm_userspace_memory_region m = {
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.memory_size = RAM_SIZE,
	};
	struct kvm_sregs s;
	struct kvm_segment seg = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 16,
		.type = 3,
		.present = 1,
		.s = 1,
		.db = 1,
		.g = 1,
	};
	struct kvm_dirty_log log = {.slot = 0};
	uint64_t *pml4, *pdpt, *pd;

	r->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	r->vm = ioctl(r->sys, KVM_CREATE_VM, 0);
	ioctl(r->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	/* RAM as libvmcore allocates it: a memfd, mapped shared. */
	r->memfd = memfd_create("raw-ram", MFD_CLOEXEC);
	if (r->memfd < 0 || ftruncate(r->memfd, (off_t)RAM_SIZE) < 0)
		FAIL("memfd");
	r->mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->memfd, 0);
	r->copy = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	r->bitmap = calloc(RAM_SIZE / 4096 / 64, 8);
	m.userspace_addr = (uintptr_t)r->mem;
	if (r->vm < 0 || ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		FAIL("raw VM setup");
	r->cpu = ioctl(r->vm, KVM_CREATE_VCPU, 0);
	r->run_size = ioctl(r->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	r->run = mmap(NULL, (size_t)r->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, r->cpu, 0);
	if (r->cpu < 0 || r->run == MAP_FAILED)
		FAIL("raw vCPU setup");

	/* Identity map of the RAM with 2 MiB pages, A/D preset. */
	pml4 = (uint64_t *)(void *)(r->mem + TABLES);
	pdpt = pml4 + 512;
	pd = pdpt + 512;
	pml4[0] = (TABLES + 0x1000) | 0x23;
	pdpt[0] = (TABLES + 0x2000) | 0x23;
	for (uint64_t i = 0; i < RAM_SIZE >> 21; i++)
		pd[i] = (i << 21) | 0xe3;
	guest_code(r->mem + CODE, d);

	ASSERT_OK(ioctl(r->cpu, KVM_GET_SREGS, &s));
	s.cr3 = TABLES;
	s.cr4 |= 0x20;	    /* PAE */
	s.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	s.efer = 0x500;	    /* LMA LME */
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	seg.selector = 8;
	seg.type = 11;
	seg.db = 0;
	seg.l = 1;
	s.cs = seg;
	ASSERT_OK(ioctl(r->cpu, KVM_SET_SREGS, &s));
	r->regs = (struct kvm_regs){.rip = CODE, .rflags = 2, .rsp = 0x8000};
	ASSERT_OK(ioctl(r->cpu, KVM_SET_REGS, &r->regs));

	ASSERT_OK(ioctl(r->cpu, KVM_GET_SREGS, &r->sregs));
	ASSERT_OK(ioctl(r->cpu, KVM_GET_FPU, &r->fpu));
	ASSERT_OK(ioctl(r->cpu, KVM_GET_VCPU_EVENTS, &r->events));
	{
		static const uint32_t idx[9] = {
			0x174,	    0x175,	0x176,
			0x277,	    0xc0000081, 0xc0000082,
			0xc0000083, 0xc0000084, 0xc0000102,
		};

		r->msrs.hdr.nmsrs = 9;
		for (int i = 0; i < 9; i++)
			r->msrs.e[i].index = idx[i];
		if (ioctl(r->cpu, KVM_GET_MSRS, &r->msrs) != 9)
			FAIL("KVM_GET_MSRS");
	}
	r->events.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING |
			   KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			   KVM_VCPUEVENT_VALID_SHADOW;

	/* The snapshot: a copy of RAM, and a clean log. */
	memcpy(r->copy, r->mem, 0x200000);
	log.dirty_bitmap = r->bitmap;
	ASSERT_OK(ioctl(r->vm, KVM_GET_DIRTY_LOG, &log));
}

static void raw_run(struct raw *r)
{
	do {
		if (ioctl(r->cpu, KVM_RUN, 0) < 0)
			FAIL("KVM_RUN: %s", strerror(errno));
	} while (r->run->exit_reason != KVM_EXIT_HLT &&
		 (r->run->exit_reason == KVM_EXIT_INTR ||
		  r->run->exit_reason == KVM_EXIT_IO));
	if (r->run->exit_reason != KVM_EXIT_HLT)
		FAIL("raw guest exit %u", r->run->exit_reason);
}

/* @full: also what vmc_snapshot_restore() loads (sregs, FPU, events,
 * MSRs), the same state with the same ioctls. */
static int64_t raw_reset(struct raw *r, uint32_t d, bool full)
{
	struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = r->bitmap};
	size_t words = RAM_SIZE / 4096 / 64;
	int64_t t0 = vmc_test_now_ns(), t1;
	unsigned int n = 0;

	memset(r->bitmap, 0, words * 8);
	if (ioctl(r->vm, KVM_GET_DIRTY_LOG, &log) < 0)
		FAIL("KVM_GET_DIRTY_LOG");
	for (size_t w = 0; w < words; w++) {
		uint64_t b = r->bitmap[w];

		while (b) {
			size_t off =
				(w * 64 + (size_t)__builtin_ctzll(b)) * 4096;

			b &= b - 1;
			memcpy(r->mem + off, r->copy + off, 4096);
			n++;
		}
	}
	if (ioctl(r->cpu, KVM_SET_REGS, &r->regs) < 0)
		FAIL("KVM_SET_REGS");
	if (full && (ioctl(r->cpu, KVM_SET_SREGS, &r->sregs) < 0 ||
		     ioctl(r->cpu, KVM_SET_FPU, &r->fpu) < 0 ||
		     ioctl(r->cpu, KVM_SET_VCPU_EVENTS, &r->events) < 0 ||
		     ioctl(r->cpu, KVM_SET_MSRS, &r->msrs) != 9))
		FAIL("raw full reset");
	t1 = vmc_test_now_ns();
	if (n != d + 1)
		FAIL("raw reset copied %u pages, want %u", n, d + 1);
	return t1 - t0;
}

static void raw_close(struct raw *r)
{
	munmap(r->run, (size_t)r->run_size);
	close(r->cpu);
	close(r->vm);
	close(r->sys);
	munmap(r->mem, RAM_SIZE);
	close(r->memfd);
	munmap(r->copy, RAM_SIZE);
	free(r->bitmap);
}

/* ------------------------------------------------------------------------ */

static double median_ratio(double *v)
{
	qsort(v, ROUNDS, sizeof(v[0]), cmp_double);
	return v[ROUNDS / 2];
}

static double median_us(int64_t *v)
{
	qsort(v, ROUNDS, sizeof(v[0]), cmp_i64);
	return (double)v[ROUNDS / 2] / 1e3;
}

static void bench(uint32_t d)
{
	double ratio[ROUNDS], ratio_full[ROUNDS];
	int64_t lt[ROUNDS], rt[ROUNDS], ft[ROUNDS];
	struct lib l;
	struct raw r;

	if (!lib_open(&l, d))
		SKIP("KVM is not usable here");
	raw_open(&r, d);
	/* Warm up: first touches of the pages on both sides. */
	for (int i = 0; i < 3; i++) {
		lib_run(&l);
		lib_reset(&l, d);
		raw_run(&r);
		raw_reset(&r, d, false);
	}
	for (int k = 0; k < ROUNDS; k++) {
		int64_t a = 0, b = 0, c = 0;

		for (int i = 0; i < RESETS; i++) {
			/* Three sides, each order in turn. */
			for (int j = 0; j < 3; j++) {
				switch ((i + j + k) % 3) {
				case 0:
					lib_run(&l);
					a += lib_reset(&l, d);
					break;
				case 1:
					raw_run(&r);
					b += raw_reset(&r, d, false);
					break;
				default:
					raw_run(&r);
					c += raw_reset(&r, d, true);
				}
			}
		}
		lt[k] = a / RESETS;
		rt[k] = b / RESETS;
		ft[k] = c / RESETS;
		ratio[k] = (double)a / (double)b;
		ratio_full[k] = (double)a / (double)c;
	}
	printf("reset D=%-3u  libvmcore %7.2f us  raw regs-only %7.2f us  "
	       "raw same-state %7.2f us  ratio %.2f / %.2f (target <= 1.3)\n",
	       d, median_us(lt), median_us(rt), median_us(ft),
	       median_ratio(ratio), median_ratio(ratio_full));
	fflush(stdout);
	lib_close(&l);
	raw_close(&r);
}

int main(void)
{
	ASSERT_OK(vmc_loop_new(&loop));
	printf("sandbox reset, %u MiB RAM, median of %d rounds x %d resets\n",
	       (unsigned int)(RAM_SIZE >> 20), ROUNDS, RESETS);
	bench(1);
	bench(16);
	bench(256);
	vmc_loop_unref(loop);
	return 0;
}
