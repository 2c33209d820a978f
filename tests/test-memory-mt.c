/* SPDX-License-Identifier: MIT */
/*
 * Concurrency: reader threads dispatch guest accesses and look up ranges
 * without locks while the writer commits new layouts in a loop, removing
 * and freeing regions.  Run under ThreadSanitizer and AddressSanitizer:
 * a view or region freed while a reader still uses it shows up there.
 */
#include <pthread.h>

#include <libvmcore/libvmcore.h>

#include "memory-internal.h"
#include "vmc-test.h"

#define NR_READERS 3

static struct vmc_memory *mem;
static struct vmc_address_space *as;
static atomic_bool stop;
static atomic_long io_calls, released;

static int dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *v)
{
	*v = (uintptr_t)opaque + off;
	atomic_fetch_add(&io_calls, 1);
	return 0;
}

static int dev_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	atomic_fetch_add(&io_calls, 1);
	return 0;
}

static void dev_release(void *opaque)
{
	atomic_fetch_add(&released, 1);
}

static void *reader(void *arg)
{
	struct vmc__rcu_reader r;
	uint64_t seed = (uintptr_t)arg * 7919 + 1;
	long n = 0;
	size_t hint = 0;

	vmc__rcu_register_thread(vmc__memory_rcu(mem), &r);
	while (!atomic_load(&stop)) {
		uint64_t addr, v = 0;
		const struct vmc__flat_range *fr;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		addr = (seed >> 33) % 0x40000;
		ASSERT_OK(vmc_as_read(as, addr, &v, 8));
		/*
		 * Writes go to the permanent I/O window: concurrent guest
		 * writes to the same RAM would be a race in the guest itself.
		 */
		if (seed & 1)
			ASSERT_OK(vmc_as_write(as, 0x3f000 + addr % 0xff8, &v,
					       4));
		fr = vmc__as_lookup(as, addr, &hint);
		if (fr && !fr->io)
			v += fr->host[addr - fr->start];
		if (++n % 64 == 0) {
			vmc__rcu_quiescent(&r);
			/* Sometimes sleep offline, like an idle vCPU. */
			if (n % 1024 == 0) {
				vmc__rcu_thread_offline(&r);
				sched_yield();
				vmc__rcu_thread_online(&r);
			}
		}
	}
	vmc__rcu_unregister_thread(&r);
	return NULL;
}

/* A host thread that is not a registered reader also accesses. */
static void *outsider(void *arg)
{
	uint8_t buf[64];

	while (!atomic_load(&stop))
		ASSERT_OK(vmc_as_read(as, 0x1000, buf, sizeof(buf)));
	return NULL;
}

static void test_readers_vs_writer(void)
{
	struct vmc_region *root;
	struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = dev_read,
		.write = dev_write,
		.release = dev_release,
		.flags = 0,
	};
	pthread_t th[NR_READERS + 1];
	long rounds = vmc_test_scale(20000), created = 0;
	struct vmc_region *live[8] = {0};

	ASSERT_OK(vmc_memory_new(&mem));
	ASSERT_OK(vmc_region_new_container(mem, "root", 0x40000, &root));
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	{
		struct vmc_region *w;

		ASSERT_OK(vmc_region_new_io(mem, "window", 0x1000, &ops, NULL,
					    VMC_REGION_LOCKLESS, &w));
		ASSERT_OK(vmc_region_add_subregion(root, 0x3f000, w, 100));
		vmc_region_unref(w);
		created++;
	}
	for (int i = 0; i < NR_READERS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, reader,
					 (void *)(uintptr_t)i),
			  0);
	ASSERT_EQ(pthread_create(&th[NR_READERS], NULL, outsider, NULL), 0);

	for (long k = 0; k < rounds; k++) {
		int slot = (int)(k % 8);
		struct vmc_region *r;

		ASSERT_OK(vmc_memory_begin(mem));
		if (live[slot]) {
			ASSERT_OK(
				vmc_region_remove_subregion(root, live[slot]));
			vmc_region_unref(live[slot]);
			live[slot] = NULL;
		}
		if (k % 3 == 0)
			ASSERT_OK(vmc_region_new_io(mem, "io", 0x1000, &ops,
						    (void *)(uintptr_t)k, 0,
						    &r));
		else
			ASSERT_OK(
				vmc_region_new_ram(mem, "ram", 0x2000, 0, &r));
		created += k % 3 == 0;
		ASSERT_OK(vmc_region_add_subregion(
			root, (uint64_t)((k * 0x1800) % 0x3e000), r,
			(int)(k % 3)));
		live[slot] = r;
		ASSERT_OK(vmc_memory_commit(mem));
	}
	atomic_store(&stop, true);
	for (int i = 0; i <= NR_READERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 8; i++)
		vmc_region_unref(live[i]);
	vmc_address_space_free(as);
	vmc_region_unref(root);
	ASSERT_EQ(vmc_memory_reclaim(mem), 0);
	vmc_memory_free(mem);
	ASSERT_EQ(atomic_load(&released), created);
	fprintf(stderr, "%ld commits, %ld I/O callbacks\n", rounds,
		atomic_load(&io_calls));
}

int main(void)
{
	RUN(test_readers_vs_writer);
	return 0;
}
