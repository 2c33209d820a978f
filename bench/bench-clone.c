/* SPDX-License-Identifier: MIT */
/*
 * Copy-on-write clones of one in-memory snapshot (vmc_snapshot_clone()) on
 * KVM, against starting every VM cold.  Two figures, each with its
 * baseline measured in the same run:
 *
 * 1. Start: create a VM, map its RAM and bring it to the snapshot's state
 *    (vmc_snapshot_clone()), against creating the same VM cold and loading
 *    its image (IMAGE bytes copied into RAM, the registers set).  Median of
 *    ROUNDS; ratio cold / clone.
 * 2. Memory: CLONES clones, each run until its guest has dirtied D pages
 *    and halted, all alive at once: the process's RSS and PSS per extra
 *    clone (target: under 256 KiB plus the D dirtied pages), against as
 *    many cold VMs with the image loaded.
 *
 * The guest writes one quadword into each of D pages at 32 MiB, a marker
 * at 0x9000, and halts; the image is IMAGE bytes of non-zero data from
 * 1 MiB (a stand-in for a loaded runtime).  Exits 77 without /dev/kvm.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define RAM_SIZE (64ull << 20)
#define IMAGE (16ull << 20)
#define IMAGE_AT 0x100000
#define CODE 0x10000
#define TABLES 0x20000
#define MARKER 0x9000
#define DATA 0x2000000
#define D 4
#define ROUNDS 11
#define CLONES 32

static struct vmc_loop *loop;
static uint8_t *image;

struct v {
	struct vmc_vm *vm;
	struct vmc_region *ram;
	uint8_t *mem;
	struct vmc_snapshot *snap;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The guest: D writes a page apart from DATA, the marker, hlt. */
static void guest_code(uint8_t *p)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc7, 0x00, 0x00, 0x00, 0x02, /* mov rdi, DATA */
		0xb9, D, 0, 0, 0,			  /* mov ecx, D */
		0x48, 0x89, 0x3f,			  /* 1: mov [rdi],rdi */
		0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, /* add rdi, 4096 */
		0xff, 0xc9,				  /* dec ecx */
		0x75, 0xf2,				  /* jnz 1b */
		/* mov qword [MARKER], 1 */
		0x48, 0xc7, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, 0x01, 0x00,
		0x00, 0x00, 0xf4, /* 2: hlt */
		0xeb, 0xfd,	  /* jmp 2b */
	};

	memcpy(p, code, sizeof(code));
}

static bool v_new(struct v *v)
{
	struct vmc_vm_config c;

	memset(v, 0, sizeof(*v));
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_KVM;
	c.arch = VMC_ARCH_X86_64;
	c.vcpus = 1;
	c.loop = loop;
	if (vmc_vm_new(&c, &v->vm) < 0)
		return false;
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(v->vm), "ram", RAM_SIZE,
				     0, &v->ram));
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(v->vm, VMC_AS_MEMORY), 0, v->ram, 0));
	v->mem = vmc_region_get_ptr(v->ram);
	return true;
}

/* The cold way: the image copied in, the registers set. */
static void v_load(struct v *v)
{
	memcpy(v->mem + IMAGE_AT, image, IMAGE);
	guest_code(v->mem + CODE);
	ASSERT_OK(vmc_x86_vcpu_setup_long_mode(vmc_vm_get_vcpu(v->vm, 0),
					       v->mem + TABLES, TABLES, CODE,
					       0x8000));
}

static void v_run(struct v *v)
{
	volatile uint64_t *m = (volatile uint64_t *)(v->mem + MARKER);
	int64_t end = vmc_test_now_ns() + 10000000000ll;

	ASSERT_OK(vmc_vm_start(v->vm));
	while (__atomic_load_n(m, __ATOMIC_ACQUIRE) != 1) {
		if (vmc_test_now_ns() > end)
			FAIL("guest did not reach its marker");
		sched_yield();
	}
	ASSERT_OK(vmc_vm_pause(v->vm));
	/* The image is what it was. */
	ASSERT_TRUE(memcmp(v->mem + IMAGE_AT + IMAGE / 2, image + IMAGE / 2,
			   4096) == 0);
}

static void v_free(struct v *v)
{
	vmc_snapshot_free(v->snap);
	vmc_vm_unref(v->vm);
	vmc_region_unref(v->ram);
}

/* Rss and Pss of the process, in KiB. */
static void mem_kib(long *rss, long *pss)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];

	*rss = *pss = 0;
	ASSERT_NOT_NULL(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Rss: %ld", rss);
		sscanf(line, "Pss: %ld", pss);
	}
	fclose(f);
}

int main(void)
{
	struct v parent, *vs;
	struct vmc_snapshot *snap;
	int64_t cold[ROUNDS], warm[ROUNDS], load[ROUNDS], clone[ROUNDS];
	long rss0, pss0, rss1, pss1, rss2, pss2, rss3, pss3;

	ASSERT_OK(vmc_loop_new(&loop));
	image = malloc(IMAGE);
	ASSERT_NOT_NULL(image);
	for (size_t i = 0; i < IMAGE; i++)
		image[i] = (uint8_t)(i * 131 + (i >> 12) + 1);
	if (!v_new(&parent)) {
		fprintf(stderr, "no KVM: skipped\n");
		return 77;
	}
	v_load(&parent);
	ASSERT_OK(vmc_snapshot_new(parent.vm, &snap));

	/* 1. Start from the snapshot against cold create + load. */
	for (int r = 0; r < ROUNDS; r++) {
		struct v a, b;
		int64_t t0, t1, t2, t3, ta, tb;

		t0 = vmc_test_now_ns();
		ASSERT_TRUE(v_new(&a));
		ta = vmc_test_now_ns();
		v_load(&a);
		t1 = vmc_test_now_ns();
		t2 = vmc_test_now_ns();
		ASSERT_TRUE(v_new(&b));
		tb = vmc_test_now_ns();
		ASSERT_OK(vmc_snapshot_clone(snap, b.vm, &b.snap));
		t3 = vmc_test_now_ns();
		load[r] = t1 - ta;
		clone[r] = t3 - tb;
		v_run(&a);
		v_run(&b);
		cold[r] = t1 - t0;
		warm[r] = t3 - t2;
		v_free(&a);
		v_free(&b);
	}
	qsort(cold, ROUNDS, sizeof(cold[0]), cmp_i64);
	qsort(warm, ROUNDS, sizeof(warm[0]), cmp_i64);
	qsort(load, ROUNDS, sizeof(load[0]), cmp_i64);
	qsort(clone, ROUNDS, sizeof(clone[0]), cmp_i64);
	printf("start: clone %.1f us, cold create + %llu MiB image %.1f us: "
	       "%.1fx faster\n",
	       warm[ROUNDS / 2] / 1e3, IMAGE >> 20, cold[ROUNDS / 2] / 1e3,
	       (double)cold[ROUNDS / 2] / (double)warm[ROUNDS / 2]);
	printf("       without the VM's creation: clone %.1f us, image load "
	       "%.1f us: %.1fx faster\n",
	       clone[ROUNDS / 2] / 1e3, load[ROUNDS / 2] / 1e3,
	       (double)load[ROUNDS / 2] / (double)clone[ROUNDS / 2]);

	/* 2. Memory per extra VM: clones, then cold VMs. */
	vs = calloc(CLONES, sizeof(*vs));
	ASSERT_NOT_NULL(vs);
	mem_kib(&rss0, &pss0);
	for (int i = 0; i < CLONES; i++) {
		ASSERT_TRUE(v_new(&vs[i]));
		ASSERT_OK(vmc_snapshot_clone(snap, vs[i].vm, &vs[i].snap));
		v_run(&vs[i]);
	}
	mem_kib(&rss1, &pss1);
	for (int i = 0; i < CLONES; i++)
		v_free(&vs[i]);
	mem_kib(&rss2, &pss2);
	for (int i = 0; i < CLONES; i++) {
		ASSERT_TRUE(v_new(&vs[i]));
		v_load(&vs[i]);
		v_run(&vs[i]);
	}
	mem_kib(&rss3, &pss3);
	for (int i = 0; i < CLONES; i++)
		v_free(&vs[i]);
	{
		double clone_rss = (double)(rss1 - rss0) / CLONES,
		       clone_pss = (double)(pss1 - pss0) / CLONES,
		       cold_rss = (double)(rss3 - rss2) / CLONES;

		printf("memory per extra VM (%d alive, each dirtied %d pages = "
		       "%d KiB): clone RSS %.0f KiB (PSS %.0f KiB), cold VM "
		       "RSS %.0f KiB: %.1fx less; target < %d KiB: %s\n",
		       CLONES, D, D * 4, clone_rss, clone_pss, cold_rss,
		       cold_rss / (clone_rss > 1 ? clone_rss : 1), 256 + D * 4,
		       clone_rss < 256 + D * 4 ? "met" : "NOT met");
	}
	free(vs);
	vmc_snapshot_free(snap);
	v_free(&parent);
	free(image);
	vmc_loop_unref(loop);
	return 0;
}
