/* SPDX-License-Identifier: MIT */
/*
 * Drive the countdown device as a guest would, on the harness accelerator
 * with a deterministic clock, and check what it does.  Exits 0 on success.
 */
#define _POSIX_C_SOURCE 200809L /* fileno */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tick.h"

#define BASE 0x10000

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "tick: check failed: %s (line %d)\n",  \
				#cond, __LINE__);                              \
			failures++;                                            \
		}                                                              \
	} while (0)

static int line_level;

static void line_cb(void *opaque, unsigned int n, bool level)
{
	line_level = level;
}

static void released(void *opaque)
{
	*(int *)opaque = 1;
}

static uint32_t rd(struct vmc_address_space *as, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	CHECK(vmc_as_read(as, BASE + off, &v, 4) == 0);
	return v;
}

static void wr(struct vmc_address_space *as, uint64_t off, uint32_t v)
{
	CHECK(vmc_as_write(as, BASE + off, &v, 4) == 0);
}

int main(void)
{
	struct vmc_vm_config config;
	struct vmc_address_space *as;
	struct vmc_clock *clock;
	struct vmc_region *region;
	struct vmc_loop *loop;
	struct vmc_irq *irq;
	struct vmc_vm *vm;
	struct tick *t;
	int gone = 0;

	if (vmc_loop_new(&loop) < 0)
		return 1;
	vmc_vm_config_init(&config);
	config.accel = VMC_ACCEL_HARNESS;
	config.flags = VMC_VM_DETERMINISTIC;
	config.loop = loop;
	if (vmc_vm_new(&config, &vm) < 0)
		return 1;
	as = vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	clock = vmc_vm_get_clock(vm);
	CHECK(vmc_irq_new(line_cb, NULL, 0, &irq) == 0);
	CHECK(tick_new(vm, irq, &t) == 0);
	region = tick_get_region(t);
	CHECK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY), BASE,
				       region, 0) == 0);

	/* Armed for 10 us: nothing at 9, fired at 10, line up. */
	wr(as, TICK_COUNT, 10);
	CHECK(rd(as, TICK_COUNT) == 10);
	CHECK(vmc_clock_step(clock, 9000) == 0);
	CHECK(rd(as, TICK_STATUS) == 0);
	CHECK(rd(as, TICK_COUNT) == 1);
	CHECK(vmc_clock_step(clock, 1000) == 0);
	CHECK(rd(as, TICK_STATUS) == 1);
	CHECK(rd(as, TICK_FIRED) == 1);
	CHECK(line_level);
	wr(as, TICK_STATUS, 1);
	CHECK(!line_level);

	/*
	 * A snapshot file with the timer armed (the harness saves device
	 * state; a vCPU there is an empty marker): after it fired, a load
	 * puts the count, the status and the deadline back, and it fires
	 * again at the same virtual time.
	 */
	{
		FILE *f = tmpfile();

		CHECK(f != NULL);
		wr(as, TICK_COUNT, 7);
		CHECK(vmc_vm_save_fd(vm, fileno(f)) == 0);
		CHECK(vmc_clock_step(clock, 7000) == 0);
		CHECK(rd(as, TICK_FIRED) == 2);
		wr(as, TICK_STATUS, 1);
		CHECK(lseek(fileno(f), 0, SEEK_SET) == 0);
		CHECK(vmc_vm_load_fd(vm, fileno(f)) == 0);
		CHECK(rd(as, TICK_FIRED) == 1);
		CHECK(rd(as, TICK_COUNT) == 7);
		CHECK(vmc_clock_step(clock, 6999) == 0);
		CHECK(rd(as, TICK_FIRED) == 1);
		CHECK(vmc_clock_step(clock, 1) == 0);
		CHECK(rd(as, TICK_FIRED) == 2);
		CHECK(line_level);
		wr(as, TICK_STATUS, 1);
		fclose(f);
	}

	/* Cancelled: never fires. */
	wr(as, TICK_COUNT, 5);
	wr(as, TICK_COUNT, 0);
	CHECK(vmc_clock_step(clock, 100000) == 0);
	CHECK(rd(as, TICK_FIRED) == 2);

	/*
	 * Freed while still mapped and armed: the registers read 0 at once,
	 * the timer never fires, and the memory goes when the board has
	 * removed the region.
	 */
	wr(as, TICK_COUNT, 5);
	vmc_region_ref(region);
	tick_free(t, released, &gone);
	CHECK(rd(as, TICK_FIRED) == 0);
	CHECK(vmc_clock_step(clock, 100000) == 0);
	CHECK(!line_level);
	CHECK(!gone);
	CHECK(vmc_region_remove_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					  region) == 0);
	vmc_region_unref(region);
	vmc_memory_reclaim(vmc_vm_get_memory(vm));
	CHECK(gone);

	vmc_irq_free(irq);
	vmc_vm_unref(vm);
	vmc_loop_unref(loop);
	if (failures)
		return 1;
	printf("tick: ok (libvmcore %s)\n", vmc_version_string());
	return 0;
}
