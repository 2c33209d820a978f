/* SPDX-License-Identifier: MIT */
/*
 * tcg dirty tracking under concurrency: two harts store counters into
 * their pages without pause while this thread fetches and clears the log
 * again and again.  Every page whose content changed between the end of
 * one fetch and the start of the next must be in the next fetch's log: a
 * write that slipped through a stale fast TLB entry would be missing.
 * Run it under the tsan setup as well.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "rv-asm.h"
#include "vmc-test.h"

#define RAM 0x80000000ull
#define RAM_SIZE 0x100000ull
#define AREA 0x10000ull /* hart i writes pages AREA/4096 + i*PAGES.. */
#define PAGES 32
#define HARTS 2
#define ARRAY_SIZE_BM (RAM_SIZE / 4096 / 64)

static uint64_t first_word(const uint8_t *mem, unsigned int page)
{
	return __atomic_load_n((const uint64_t *)(mem + AREA + page * 4096ull),
			       __ATOMIC_RELAXED);
}

static void test_fetch_while_writing(void)
{
	/*
	 * a0: the hart's first page; s0: its counter.
	 *   loop: t0 = a0; t1 = PAGES; s0++
	 *   inner: sd s0, 0(t0); t0 += 4096; t1--; bnez t1, inner
	 *   j loop
	 */
	const uint32_t prog[] = {
		rv_lui(RV_T3, 1),	  /* t3 = 4096 */
		rv_addi(RV_T0, RV_A0, 0), /* loop: */
		rv_addi(RV_T1, RV_ZERO, PAGES),
		rv_addi(RV_S0, RV_S0, 1),
		rv_sd(RV_S0, RV_T0, 0), /* inner: */
		rv_add(RV_T0, RV_T0, RV_T3),
		rv_addi(RV_T1, RV_T1, -1),
		rv_bne(RV_T1, RV_ZERO, -12),
		rv_jal(RV_ZERO, -28),
	};
	unsigned int rounds = 400, checked = 0, reported = 0;
	uint64_t shadow[HARTS * PAGES], bm[RAM_SIZE / 4096 / 64];
	struct vmc_vm_config c;
	struct vmc_region *ram;
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	uint8_t *mem;
	const char *scale = getenv("VMC_TEST_SCALE");

	if (scale && atoi(scale) > 0)
		rounds = rounds * 10 / (unsigned int)atoi(scale);
	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = HARTS;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", RAM_SIZE, 0,
				     &ram));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   RAM, ram, 0));
	mem = vmc_region_get_ptr(ram);
	memcpy(mem, prog, sizeof(prog));
	for (unsigned int i = 0; i < HARTS; i++) {
		struct vmc_vcpu *v = vmc_vm_get_vcpu(vm, i);

		ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_PC, RAM));
		ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_A0,
					   RAM + AREA + i * PAGES * 4096ull));
	}
	ASSERT_OK(vmc_vm_set_dirty_logging(vm, ram, true));
	ASSERT_OK(vmc_vm_start(vm));
	/* Both harts run before the fetching starts. */
	for (int64_t end = vmc_test_now_ns() + 10000000000ll;
	     !first_word(mem, 0) || !first_word(mem, PAGES);) {
		if (vmc_test_now_ns() > end)
			FAIL("the harts do not run");
		vmc_loop_run_once(loop, false);
		usleep(100);
	}

	memset(bm, 0, sizeof(bm));
	ASSERT_OK(vmc_vm_get_dirty_log(vm, ram, bm, ARRAY_SIZE_BM));
	for (unsigned int p = 0; p < HARTS * PAGES; p++)
		shadow[p] = first_word(mem, p);
	for (unsigned int r = 0; r < rounds; r++) {
		uint64_t now[HARTS * PAGES];

		for (unsigned int p = 0; p < HARTS * PAGES; p++)
			now[p] = first_word(mem, p);
		memset(bm, 0, sizeof(bm));
		ASSERT_OK(vmc_vm_get_dirty_log(vm, ram, bm, ARRAY_SIZE_BM));
		for (unsigned int p = 0; p < HARTS * PAGES; p++) {
			uint64_t pg = AREA / 4096 + p;
			bool dirty = bm[pg / 64] & (1ull << (pg % 64));

			checked++;
			if (now[p] != shadow[p]) {
				reported++;
				if (!dirty)
					FAIL("round %u: page %u changed "
					     "(%llu -> %llu) but was not "
					     "logged",
					     r, p,
					     (unsigned long long)shadow[p],
					     (unsigned long long)now[p]);
			}
		}
		/* The code page is never written. */
		ASSERT_FALSE(bm[0] & 1);
		for (unsigned int p = 0; p < HARTS * PAGES; p++)
			shadow[p] = first_word(mem, p);
		if (r % 64 == 0)
			vmc_loop_run_once(loop, false);
	}
	/* The harts did run while we fetched (slowly on a loaded host). */
	ASSERT_GE(reported, 10);
	fprintf(stderr, "%u page checks, %u changes, all logged\n", checked,
		reported);
	ASSERT_OK(vmc_vm_pause(vm));
	ASSERT_OK(vmc_vm_set_dirty_logging(vm, ram, false));
	ASSERT_ERR(vmc_vm_get_dirty_log(vm, ram, bm, ARRAY_SIZE_BM), -ENOENT);
	vmc_vm_unref(vm);
	vmc_region_unref(ram);
	vmc_loop_unref(loop);
}

int main(void)
{
	RUN(test_fetch_while_writing);
	return 0;
}
