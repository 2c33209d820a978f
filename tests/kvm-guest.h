/* SPDX-License-Identifier: MIT */
/*
 * A small x86 machine for the KVM tests and benchmarks: 256 KiB of RAM at
 * 0, the test guest loaded at GUEST_LOAD, the doorbell port, and helpers
 * to wait for what the guest reports.  The main thread runs the loop.
 */
#ifndef VMC_TEST_KVM_GUEST_H
#define VMC_TEST_KVM_GUEST_H

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "guest.h"
#include "vmc-test.h"

#define GVM_RAM_SIZE 0x40000
#define GVM_MAX_DB 64

struct gvm {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_region *ram, *doorbell;
	uint8_t *mem;
	pthread_mutex_t lock;
	uint32_t db[GVM_MAX_DB];
	int64_t db_ns[GVM_MAX_DB]; /* when each doorbell rang */
	_Atomic unsigned int nr_db;
	_Atomic unsigned int nr_done;
	/* Signalled at each DB_DONE if set, to wake a blocked loop. */
	struct vmc_notifier *done_notifier;
};

static inline int gvm_doorbell_write(void *opaque, uint64_t offset,
				     unsigned size, uint64_t value)
{
	struct gvm *g = opaque;
	unsigned int n;

	pthread_mutex_lock(&g->lock);
	n = atomic_load(&g->nr_db);
	if (n < GVM_MAX_DB) {
		g->db[n] = (uint32_t)value;
		g->db_ns[n] = vmc_test_now_ns();
	}
	atomic_store(&g->nr_db, n + 1);
	if (value == DB_DONE) {
		atomic_fetch_add(&g->nr_done, 1);
		if (g->done_notifier)
			vmc_notifier_signal(g->done_notifier);
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static const struct vmc_region_ops gvm_doorbell_ops = {
	.struct_size = sizeof(struct vmc_region_ops),
	.write = gvm_doorbell_write,
	.min_access_size = 4,
	.max_access_size = 4,
};

static inline size_t gvm_load(const char *name, void *dst, size_t max)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", GUEST_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		FAIL("cannot open %s", path);
	n = read(fd, dst, max);
	close(fd);
	if (n <= 0)
		FAIL("cannot read %s", path);
	return (size_t)n;
}

/*
 * Build the machine; SKIP when KVM is not usable.  @kcfg may be NULL.
 * The guest is not started.
 */
static inline int gvm_init_cfg(struct gvm *g, struct vmc_loop *loop,
			       unsigned int vcpus,
			       const struct vmc_kvm_config *kcfg)
{
	struct vmc_vm_config c;
	struct vmc_memory *mem;
	int r;

	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->loop = loop;
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_KVM;
	c.arch = VMC_ARCH_X86_64;
	c.vcpus = vcpus;
	c.loop = loop;
	c.accel_config = kcfg;
	r = vmc_vm_new(&c, &g->vm);
	if (r < 0)
		return r;
	mem = vmc_vm_get_memory(g->vm);
	ASSERT_OK(vmc_region_new_ram(mem, "ram", GVM_RAM_SIZE, 0, &g->ram));
	g->mem = vmc_region_get_ptr(g->ram);
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(g->vm, VMC_AS_MEMORY), 0, g->ram, 0));
	ASSERT_OK(vmc_region_new_io(mem, "doorbell", 4, &gvm_doorbell_ops, g, 0,
				    &g->doorbell));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(g->vm, VMC_AS_IO),
					   DOORBELL_PORT, g->doorbell, 0));
	return 0;
}

static inline void gvm_init(struct gvm *g, struct vmc_loop *loop,
			    unsigned int vcpus,
			    const struct vmc_kvm_config *kcfg)
{
	int r = gvm_init_cfg(g, loop, vcpus, kcfg);

	if (r == -ENODEV || r == -EOPNOTSUPP)
		SKIP("KVM is not usable here (%s)", strerror(-r));
	ASSERT_OK(r);
}

/* Load the 64-bit guest and point every vCPU at test @test. */
static inline void gvm_setup_long(struct gvm *g, uint64_t test, uint64_t arg)
{
	gvm_load("long64.bin", g->mem + GUEST_LOAD, GUEST_IDT - GUEST_LOAD);
	for (unsigned int i = 0; i < vmc_vm_get_vcpu_count(g->vm); i++) {
		struct vmc_vcpu *v = vmc_vm_get_vcpu(g->vm, i);

		ASSERT_OK(vmc_x86_vcpu_setup_long_mode(
			v, g->mem + GUEST_TABLES, GUEST_TABLES, GUEST_LOAD,
			GUEST_STACK - 0x400 * i));
		ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RDI, test));
		ASSERT_OK(vmc_vcpu_set_reg(v, VMC_X86_RSI,
					   test == GT_SMP ? i : arg));
	}
}

static inline void gvm_free(struct gvm *g)
{
	vmc_vm_unref(g->vm);
	vmc_region_unref(g->ram);
	vmc_region_unref(g->doorbell);
	pthread_mutex_destroy(&g->lock);
}

/* Run the loop until cond(arg) holds or @ms pass. */
static inline bool gvm_spin(struct gvm *g,
			    bool (*cond)(struct gvm *g, void *arg), void *arg,
			    int ms)
{
	int64_t end = vmc_test_now_ns() + (int64_t)ms * 1000000;

	while (!cond(g, arg)) {
		if (vmc_test_now_ns() > end)
			return false;
		vmc_loop_run_once(g->loop, false);
		usleep(100);
	}
	return true;
}

static inline bool gvm_cond_done(struct gvm *g, void *arg)
{
	return atomic_load(&g->nr_done) >= (unsigned int)(uintptr_t)arg;
}

static inline bool gvm_cond_db(struct gvm *g, void *arg)
{
	return atomic_load(&g->nr_db) >= (unsigned int)(uintptr_t)arg;
}

static inline bool gvm_cond_state(struct gvm *g, void *arg)
{
	return vmc_vm_get_state(g->vm) == (enum vmc_vm_state)(uintptr_t)arg;
}

static inline void gvm_wait_done(struct gvm *g, unsigned int n)
{
	if (!gvm_spin(g, gvm_cond_done, (void *)(uintptr_t)n, 10000))
		FAIL("guest did not finish (%u doorbells, state %s, %s)",
		     atomic_load(&g->nr_db),
		     vmc_vm_state_to_string(vmc_vm_get_state(g->vm)),
		     vmc_vm_get_error(g->vm));
}

static inline void gvm_wait_db(struct gvm *g, unsigned int n)
{
	if (!gvm_spin(g, gvm_cond_db, (void *)(uintptr_t)n, 10000))
		FAIL("guest rang %u doorbells, want %u (state %s)",
		     atomic_load(&g->nr_db), n,
		     vmc_vm_state_to_string(vmc_vm_get_state(g->vm)));
}

static inline uint32_t gvm_db(struct gvm *g, unsigned int i)
{
	uint32_t v;

	pthread_mutex_lock(&g->lock);
	v = i < GVM_MAX_DB ? g->db[i] : 0;
	pthread_mutex_unlock(&g->lock);
	return v;
}

#endif
