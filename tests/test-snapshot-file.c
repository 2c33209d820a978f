/* SPDX-License-Identifier: MIT */
/*
 * Snapshots with devices and the virtual clock, in memory and through the
 * file format (vmc-snapshot.h), on a small RISC-V machine laid out like
 * riscv-virt (CLINT, PLIC, 16550 UART, test finisher, a virtio-rng
 * transport) running under -icount (VMC_VM_DETERMINISTIC):
 *
 * - continue: the ticks guest (CLINT timer interrupts, UART output) is
 *   paused mid-run, saved in memory and to a file, and run on; restoring
 *   the in-memory snapshot replays exactly the same output, and a fresh VM
 *   restored from the file prints exactly the rest of an uninterrupted
 *   run.
 * - reset: after the guest ran on (memory, registers, CLINT, UART, PLIC,
 *   clock all moved), a restore makes a second file byte-for-byte equal
 *   to the first.
 * - sections: the out-of-tree section API (instances, removal, a check
 *   that refuses, a set mismatch) leaves the VM untouched on -EINVAL.
 * - clones: copy-on-write clones of one snapshot run on exactly as the
 *   parent, never see each other's writes, and reset by their dirty pages.
 * - corrupt: flipped bytes, truncations and foreign files are -EBADMSG or
 *   -EINVAL and leave the VM as it was (its file is unchanged).
 *
 * usage: test-snapshot-file TICKS_ELF [SEED]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (2ull << 20)
#define CLINT 0x2000000ull
#define PLIC 0xc000000ull
#define UART 0x10000000ull
#define TEST 0x100000ull
#define VIRTIO 0x10008000ull

static struct vmc_loop *loop;
static uint8_t *elf;
static size_t elf_len;

struct m {
	struct vmc_vm *vm;
	struct vmc_region *ram;
	struct vmc_clint *clint;
	struct vmc_plic *plic;
	struct vmc_uart16550 *uart;
	struct vmc_sifive_test *test;
	struct vmc_virtio_rng *rng;
	char out[4096];
	size_t len;
	unsigned int lines, pause_at; /* request a pause at that line */
};

static void tx(void *userdata, uint8_t byte)
{
	struct m *m = userdata;

	if (m->len < sizeof(m->out) - 1)
		m->out[m->len++] = (char)byte;
	if (byte == '\n' && ++m->lines == m->pause_at)
		vmc_vm_request_pause(m->vm);
}

static void m_new(struct m *m, bool with_uart)
{
	struct vmc_vm_config c;
	struct vmc_clint_config cc;
	struct vmc_plic_config pc;
	struct vmc_uart16550_config uc;
	struct vmc_sifive_test_config tc;
	struct vmc_virtio_rng_config rc;
	struct vmc_region *root;
	struct vmc_load_info info;

	memset(m, 0, sizeof(*m));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = 1;
	c.flags = VMC_VM_DETERMINISTIC;
	ASSERT_OK(vmc_vm_new(&c, &m->vm));
	root = vmc_vm_get_root(m->vm, VMC_AS_MEMORY);
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(m->vm), "ram", RAM_SIZE,
				     0, &m->ram));
	vmc_clint_config_init(&cc);
	cc.vm = m->vm;
	ASSERT_OK(vmc_clint_new(&cc, &m->clint));
	vmc_plic_config_init(&pc);
	pc.vm = m->vm;
	ASSERT_OK(vmc_plic_new(&pc, &m->plic));
	vmc_sifive_test_config_init(&tc);
	tc.vm = m->vm;
	ASSERT_OK(vmc_sifive_test_new(&tc, &m->test));
	if (with_uart) {
		vmc_uart16550_config_init(&uc);
		uc.vm = m->vm;
		uc.irq = vmc_plic_get_irq(m->plic, 10);
		uc.tx_cb = tx;
		uc.userdata = m;
		ASSERT_OK(vmc_uart16550_new(&uc, &m->uart));
	}
	vmc_virtio_rng_config_init(&rc);
	rc.vm = m->vm;
	rc.irq = vmc_plic_get_irq(m->plic, 8);
	rc.legacy = true;
	ASSERT_OK(vmc_virtio_rng_new(&rc, &m->rng));

	vmc_memory_begin(vmc_vm_get_memory(m->vm));
	ASSERT_OK(vmc_region_add_subregion(root, RAM_BASE, m->ram, 0));
	ASSERT_OK(vmc_region_add_subregion(root, CLINT,
					   vmc_clint_get_region(m->clint), 0));
	ASSERT_OK(vmc_region_add_subregion(root, PLIC,
					   vmc_plic_get_region(m->plic), 0));
	ASSERT_OK(vmc_region_add_subregion(
		root, TEST, vmc_sifive_test_get_region(m->test), 0));
	if (m->uart)
		ASSERT_OK(vmc_region_add_subregion(
			root, UART, vmc_uart16550_get_region(m->uart), 0));
	ASSERT_OK(vmc_region_add_subregion(
		root, VIRTIO, vmc_virtio_rng_get_region(m->rng), 0));
	vmc_memory_commit(vmc_vm_get_memory(m->vm));

	ASSERT_OK(vmc_load_elf(vmc_vm_get_address_space(m->vm, VMC_AS_MEMORY),
			       elf, elf_len, VMC_ELF_RISCV, &info));
	ASSERT_OK(vmc_vcpu_set_reg(vmc_vm_get_vcpu(m->vm, 0), VMC_RISCV_REG_PC,
				   info.entry));
}

static void m_free(struct m *m)
{
	struct vmc_region *root = vmc_vm_get_root(m->vm, VMC_AS_MEMORY);

	vmc_vm_pause(m->vm);
	vmc_memory_begin(vmc_vm_get_memory(m->vm));
	vmc_region_remove_subregion(root, m->ram);
	vmc_region_remove_subregion(root, vmc_clint_get_region(m->clint));
	vmc_region_remove_subregion(root, vmc_plic_get_region(m->plic));
	vmc_region_remove_subregion(root, vmc_sifive_test_get_region(m->test));
	if (m->uart)
		vmc_region_remove_subregion(root,
					    vmc_uart16550_get_region(m->uart));
	vmc_region_remove_subregion(root, vmc_virtio_rng_get_region(m->rng));
	vmc_memory_commit(vmc_vm_get_memory(m->vm));
	vmc_virtio_rng_free(m->rng);
	vmc_uart16550_free(m->uart);
	vmc_sifive_test_free(m->test);
	vmc_plic_free(m->plic);
	vmc_clint_free(m->clint);
	vmc_region_unref(m->ram);
	vmc_vm_unref(m->vm);
}

/* Run until the VM pauses (pause_at) or shuts down. */
static void m_run(struct m *m)
{
	int64_t end = vmc_test_now_ns() + 20 * 1000000000ll;
	enum vmc_vm_state st;

	if (vmc_vm_get_state(m->vm) == VMC_VM_CREATED)
		ASSERT_OK(vmc_vm_start(m->vm));
	else
		ASSERT_OK(vmc_vm_resume(m->vm));
	for (;;) {
		vmc_loop_run_once(loop, false);
		st = vmc_vm_get_state(m->vm);
		if (st == VMC_VM_PAUSED || st == VMC_VM_SHUTDOWN)
			break;
		if (st != VMC_VM_RUNNING)
			FAIL("state %s: %s", vmc_vm_state_to_string(st),
			     vmc_vm_get_error(m->vm));
		if (vmc_test_now_ns() > end)
			FAIL("guest did not finish");
		usleep(50);
	}
	if (st == VMC_VM_SHUTDOWN)
		ASSERT_EQ(vmc_vm_get_shutdown_status(m->vm), 0);
	m->out[m->len] = 0;
}

/* The VM saved to a memfd; returns the fd (at offset 0), size in *len. */
static int save_file(struct m *m, size_t *len)
{
	int fd = memfd_create("snap", MFD_CLOEXEC);
	struct stat st;

	ASSERT_GE(fd, 0);
	ASSERT_OK(vmc_vm_save_fd(m->vm, fd));
	ASSERT_OK(fstat(fd, &st));
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	*len = (size_t)st.st_size;
	return fd;
}

static uint8_t *save_bytes(struct m *m, size_t *len)
{
	int fd = save_file(m, len);
	uint8_t *p = malloc(*len);

	ASSERT_NOT_NULL(p);
	ASSERT_EQ(read(fd, p, *len), (ssize_t)*len);
	close(fd);
	return p;
}

static char whole[4096];

static void test_continue(void)
{
	struct m a, b;
	struct vmc_snapshot *snap;
	char before[4096], after[4096];
	size_t len;
	int fd;

	/* An uninterrupted run. */
	m_new(&a, true);
	m_run(&a);
	ASSERT_EQ(a.lines, 20);
	memcpy(whole, a.out, a.len + 1);
	m_free(&a);

	/* Paused after 5 lines, with the timer and the UART in flight. */
	m_new(&a, true);
	a.pause_at = 5;
	m_run(&a);
	ASSERT_EQ(vmc_vm_get_state(a.vm), VMC_VM_PAUSED);
	memcpy(before, a.out, a.len + 1);
	ASSERT_OK(vmc_snapshot_new(a.vm, &snap));
	fd = save_file(&a, &len);
	m_run(&a);
	ASSERT_STREQ(a.out, whole);

	/* In memory: the same rest again. */
	memcpy(after, a.out + strlen(before), a.len - strlen(before) + 1);
	a.len = 0;
	/* Out of the shutdown state first (a restore keeps the run state). */
	ASSERT_OK(vmc_vm_reset(a.vm));
	ASSERT_GE(vmc_snapshot_restore(a.vm, snap), 0);
	m_run(&a);
	ASSERT_STREQ(a.out, after);

	/* From the file, in a fresh VM: exactly the rest. */
	m_new(&b, true);
	ASSERT_OK(vmc_vm_load_fd(b.vm, fd));
	m_run(&b);
	ASSERT_TRUE(strlen(before) + b.len == strlen(whole));
	ASSERT_TRUE(memcmp(whole, before, strlen(before)) == 0);
	ASSERT_STREQ(b.out, whole + strlen(before));
	fprintf(stderr, "   paused after %zu bytes, file %zu bytes\n",
		strlen(before), len);
	close(fd);
	vmc_snapshot_free(snap);
	m_free(&b);
	m_free(&a);
}

static void test_reset(void)
{
	struct m a;
	struct vmc_snapshot *snap;
	uint8_t *f1, *f2;
	size_t l1, l2;
	int64_t clock;

	m_new(&a, true);
	a.pause_at = 3;
	m_run(&a);
	clock = vmc_clock_get_ns(vmc_vm_get_clock(a.vm));
	ASSERT_OK(vmc_snapshot_new(a.vm, &snap));
	f1 = save_bytes(&a, &l1);
	/* The guest scribbles: its counters, the stack, mtimecmp, the
	 * UART's state, the clock; then the host adds a scribble of its
	 * own in a register and a device. */
	a.pause_at = 12;
	m_run(&a);
	ASSERT_OK(vmc_vcpu_set_reg(vmc_vm_get_vcpu(a.vm, 0), VMC_RISCV_REG_A0,
				   0xdead));
	vmc_vm_lock(a.vm);
	vmc_uart16550_receive(a.uart, (const uint8_t *)"xyz", 3);
	vmc_vm_unlock(a.vm);
	f2 = save_bytes(&a, &l2);
	ASSERT_TRUE(l1 != l2 || memcmp(f1, f2, l1) != 0);
	free(f2);
	ASSERT_GT(vmc_clock_get_ns(vmc_vm_get_clock(a.vm)), clock);

	ASSERT_GE(vmc_snapshot_restore(a.vm, snap), 0);
	ASSERT_EQ(vmc_clock_get_ns(vmc_vm_get_clock(a.vm)), clock);
	f2 = save_bytes(&a, &l2);
	ASSERT_EQ(l1, l2);
	ASSERT_TRUE(memcmp(f1, f2, l1) == 0);
	free(f2);

	/* The same through the file. */
	a.pause_at = 15;
	m_run(&a);
	ASSERT_OK(vmc_vm_load_buffer(a.vm, f1, l1));
	f2 = save_bytes(&a, &l2);
	ASSERT_EQ(l1, l2);
	ASSERT_TRUE(memcmp(f1, f2, l1) == 0);
	free(f2);
	/* The tracked snapshot gave way: it still restores, in full. */
	ASSERT_GT(vmc_snapshot_restore(a.vm, snap), 0);

	free(f1);
	vmc_snapshot_free(snap);
	m_free(&a);
}

/* An out-of-tree device's section. */
struct counter {
	uint32_t value;
	bool refuse;
	unsigned int loads;
};

static int counter_save(void *opaque, void *buf, size_t size)
{
	struct counter *c = opaque;

	if (buf) {
		ASSERT_GE(size, 4);
		memcpy(buf, &c->value, 4);
	}
	return 4;
}

static int counter_check(void *opaque, const void *buf, size_t size,
			 uint32_t version)
{
	struct counter *c = opaque;

	return c->refuse || version != 7 || size != 4 ? -EINVAL : 0;
}

static int counter_load(void *opaque, const void *buf, size_t size,
			uint32_t version)
{
	struct counter *c = opaque;

	ASSERT_OK(counter_check(opaque, buf, size, version));
	memcpy(&c->value, buf, 4);
	c->loads++;
	return 0;
}

static const struct vmc_snapshot_section_ops counter_ops = {
	.struct_size = sizeof(counter_ops),
	.save = counter_save,
	.check = counter_check,
	.load = counter_load,
};

static void test_sections(void)
{
	struct m a, b;
	struct counter c1 = {.value = 11}, c2 = {.value = 22};
	struct vmc_snapshot_section *s1, *s2, *s3;
	struct vmc_snapshot *snap;
	uint8_t *f1, *f2, *f3;
	size_t l1, l2, l3;

	m_new(&a, true);
	ASSERT_ERR(vmc_vm_add_snapshot_section(a.vm, "", 7, &counter_ops, &c1,
					       &s1),
		   -EINVAL);
	ASSERT_ERR(vmc_vm_add_snapshot_section(a.vm, "a b", 7, &counter_ops,
					       &c1, &s1),
		   -EINVAL);
	ASSERT_ERR(vmc_vm_add_snapshot_section(a.vm, "x", 7, NULL, &c1, &s1),
		   -EINVAL);
	ASSERT_ERR(vmc_vm_add_snapshot_section(a.vm, "vmc.clock", 7,
					       &counter_ops, &c1, &s1),
		   -EINVAL);
	ASSERT_OK(vmc_vm_add_snapshot_section(a.vm, "counter", 7, &counter_ops,
					      &c1, &s1));
	ASSERT_OK(vmc_vm_add_snapshot_section(a.vm, "counter", 7, &counter_ops,
					      &c2, &s2));
	a.pause_at = 2;
	m_run(&a);
	ASSERT_OK(vmc_snapshot_new(a.vm, &snap));
	f1 = save_bytes(&a, &l1);
	c1.value = 1;
	c2.value = 2;
	ASSERT_GE(vmc_snapshot_restore(a.vm, snap), 0);
	ASSERT_EQ(c1.value, 11);
	ASSERT_EQ(c2.value, 22);

	/* A check that refuses: -EINVAL, and nothing at all changed. */
	a.pause_at = 6;
	m_run(&a);
	c1.value = 1;
	f2 = save_bytes(&a, &l2);
	c2.refuse = true;
	ASSERT_ERR(vmc_snapshot_restore(a.vm, snap), -EINVAL);
	ASSERT_ERR(vmc_vm_load_buffer(a.vm, f1, l1), -EINVAL);
	c2.refuse = false;
	f3 = save_bytes(&a, &l3);
	ASSERT_EQ(l2, l3);
	ASSERT_TRUE(memcmp(f2, f3, l2) == 0);
	free(f3);
	ASSERT_EQ(c1.loads, 1);

	/* A set mismatch: one section more, or one less. */
	ASSERT_OK(vmc_vm_add_snapshot_section(a.vm, "extra", 1, &counter_ops,
					      &c1, &s3));
	ASSERT_ERR(vmc_snapshot_restore(a.vm, snap), -EINVAL);
	ASSERT_ERR(vmc_vm_load_buffer(a.vm, f1, l1), -EINVAL);
	vmc_vm_remove_snapshot_section(a.vm, s3);
	vmc_vm_remove_snapshot_section(a.vm, s2);
	ASSERT_ERR(vmc_snapshot_restore(a.vm, snap), -EINVAL);
	ASSERT_ERR(vmc_vm_load_buffer(a.vm, f1, l1), -EINVAL);
	f3 = save_bytes(&a, &l3);
	ASSERT_EQ(l2 - l3, 96 + 4 + 4); /* one section less, nothing else */
	free(f3);
	/* Back: the instance number 1 is free again and taken. */
	ASSERT_OK(vmc_vm_add_snapshot_section(a.vm, "counter", 7, &counter_ops,
					      &c2, &s2));
	ASSERT_OK(vmc_vm_load_buffer(a.vm, f1, l1));
	ASSERT_EQ(c1.value, 11);

	/* A VM assembled differently (no UART) refuses both. */
	m_new(&b, false);
	ASSERT_ERR(vmc_vm_load_buffer(b.vm, f1, l1), -EINVAL);
	m_free(&b);

	free(f1);
	free(f2);
	vmc_snapshot_free(snap);
	m_free(&a);
}

static void test_corrupt(void)
{
	struct m a;
	uint8_t *f1, *f2, *bad;
	size_t l1, l2;
	long n = vmc_test_scale(300), ebadmsg = 0, einval = 0;

	m_new(&a, true);
	a.pause_at = 4;
	m_run(&a);
	f1 = save_bytes(&a, &l1);
	a.pause_at = 9;
	m_run(&a);
	f2 = save_bytes(&a, &l2);
	bad = malloc(l1);
	ASSERT_NOT_NULL(bad);
	for (long i = 0; i < n; i++) {
		size_t len = l1;
		int r;

		memcpy(bad, f1, l1);
		switch (i % 3) {
		case 0: /* one bit flipped anywhere */
			bad[vmc_test_rand() % l1] ^=
				(uint8_t)(1u << (vmc_test_rand() % 8));
			break;
		case 1: /* truncated */
			len = vmc_test_rand() % l1;
			break;
		default: /* a run of random bytes */
			for (size_t k = vmc_test_rand() % l1,
				    e = k + vmc_test_rand() % 64;
			     k < e && k < l1; k++)
				bad[k] = (uint8_t)vmc_test_rand();
			break;
		}
		r = vmc_vm_load_buffer(a.vm, bad, len);
		if (r == 0 && len == l1 && memcmp(bad, f1, l1) == 0) {
			/* The random bytes changed nothing: a good load. */
			ASSERT_OK(vmc_vm_load_buffer(a.vm, f2, l2));
			continue;
		}
		ASSERT_TRUE(r == -EBADMSG || r == -EINVAL);
		ebadmsg += r == -EBADMSG;
		einval += r == -EINVAL;
	}
	/* The VM is as it was before all of that. */
	free(bad);
	bad = save_bytes(&a, &l1);
	ASSERT_EQ(l1, l2);
	ASSERT_TRUE(memcmp(bad, f2, l2) == 0);
	fprintf(stderr, "   %ld damaged inputs: %ld -EBADMSG, %ld -EINVAL\n", n,
		ebadmsg, einval);
	ASSERT_GT(ebadmsg, 0);
	free(bad);
	free(f1);
	free(f2);
	m_free(&a);
}

static void test_clones(void)
{
	enum { N = 3 };
	struct m a, c[N];
	struct vmc_snapshot *snap, *cs[N];
	uint8_t *parent_ram, before_ram[64];
	char rest[4096];
	size_t split;

	m_new(&a, true);
	a.pause_at = 4;
	m_run(&a);
	split = a.len;
	memcpy(rest, whole + split, strlen(whole) - split + 1);
	ASSERT_OK(vmc_snapshot_new(a.vm, &snap));
	parent_ram = vmc_region_get_ptr(a.ram);
	memcpy(before_ram, parent_ram + 0x10000, sizeof(before_ram));

	/* Its own VM, a VM assembled differently: refused. */
	ASSERT_ERR(vmc_snapshot_clone(snap, a.vm, &cs[0]), -EINVAL);
	m_new(&c[0], false);
	ASSERT_ERR(vmc_snapshot_clone(snap, c[0].vm, &cs[0]), -EINVAL);
	m_free(&c[0]);

	for (int i = 0; i < N; i++) {
		m_new(&c[i], true);
		ASSERT_OK(vmc_snapshot_clone(snap, c[i].vm, &cs[i]));
		ASSERT_ERR(vmc_region_get_fd(c[i].ram), -ENODEV);
	}
	/* The snapshot may go first; the clones keep the copy. */
	vmc_snapshot_free(snap);

	/* Each writes its own mark; none sees another's, nor the parent. */
	for (int i = 0; i < N; i++) {
		uint8_t *ram = vmc_region_get_ptr(c[i].ram);

		ASSERT_TRUE(memcmp(ram + 0x10000, before_ram, 64) == 0);
		memset(ram + 0x10000, 0xa0 + i, 64);
	}
	for (int i = 0; i < N; i++) {
		uint8_t *ram = vmc_region_get_ptr(c[i].ram);

		for (int k = 0; k < 64; k++)
			ASSERT_EQ(ram[0x10000 + k], 0xa0 + i);
	}
	ASSERT_TRUE(memcmp(parent_ram + 0x10000, before_ram, 64) == 0);

	/* Each runs on exactly as the parent would have. */
	for (int i = 0; i < N; i++) {
		m_run(&c[i]);
		ASSERT_STREQ(c[i].out, rest);
	}
	m_run(&a);
	ASSERT_STREQ(a.out, whole);

	/* A clone's reset: only its dirtied pages, and the same run again
	 * (the host's mark is not in the log: put it back by hand). */
	for (int i = 0; i < N; i++) {
		uint8_t *ram = vmc_region_get_ptr(c[i].ram);
		int pages;

		memcpy(ram + 0x10000, before_ram, 64);
		/* A host write through the memory API is put back. */
		ASSERT_OK(vmc_as_write(
			vmc_vm_get_address_space(c[i].vm, VMC_AS_MEMORY),
			RAM_BASE + 0x10000, "clone", 5));
		ASSERT_OK(vmc_vm_reset(c[i].vm));
		pages = vmc_snapshot_restore(c[i].vm, cs[i]);
		/* The ticks guest writes no RAM (registers and devices). */
		ASSERT_GE(pages, 1);
		ASSERT_LT(pages, 16);
		ASSERT_TRUE(memcmp(ram + 0x10000, before_ram, 64) == 0);
		c[i].len = 0;
		m_run(&c[i]);
		ASSERT_STREQ(c[i].out, rest);
	}
	for (int i = 0; i < N; i++) {
		vmc_snapshot_free(cs[i]);
		m_free(&c[i]);
	}
	m_free(&a);
}

/* Host writes (vmc_as_write, writable vmc_as_map: what devices and guest
 * calls do) are in no accelerator's log; a restore puts them back too. */
static void test_host_writes(void)
{
	struct vmc_address_space *as;
	struct vmc_snapshot *snap;
	uint8_t *f1, *f2, *live, *brief;
	uint8_t before[3][64];
	size_t l1, l2;
	struct m a;
	int pages;

	m_new(&a, true);
	as = vmc_vm_get_address_space(a.vm, VMC_AS_MEMORY);
	ASSERT_OK(vmc_as_map(as, RAM_BASE + 0x30000, 64, true, (void **)&live));
	a.pause_at = 2;
	m_run(&a);
	ASSERT_OK(vmc_snapshot_new(a.vm, &snap));
	f1 = save_bytes(&a, &l1);
	ASSERT_OK(vmc_as_read(as, RAM_BASE + 0x20000, before[0], 64));
	memcpy(before[1], live, 64);
	ASSERT_OK(vmc_as_read(as, RAM_BASE + 0x41000, before[2], 64));

	/* A write, a write through a mapping held all along, and one
	 * through a mapping made and dropped since. */
	ASSERT_OK(vmc_as_write(as, RAM_BASE + 0x20000, "host", 4));
	memset(live, 0x5a, 64);
	ASSERT_OK(
		vmc_as_map(as, RAM_BASE + 0x41000, 64, true, (void **)&brief));
	memset(brief, 0xa5, 64);
	ASSERT_OK(vmc_as_unmap(as, brief));

	pages = vmc_snapshot_restore(a.vm, snap);
	ASSERT_GE(pages, 3);
	ASSERT_LE(pages, 8);
	f2 = save_bytes(&a, &l2);
	ASSERT_EQ(l1, l2);
	ASSERT_TRUE(memcmp(f1, f2, l1) == 0);
	ASSERT_TRUE(memcmp(live, before[1], 64) == 0);

	ASSERT_OK(vmc_as_unmap(as, live));
	free(f1);
	free(f2);
	vmc_snapshot_free(snap);
	m_free(&a);
}

int main(int argc, char **argv)
{
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: test-snapshot-file TICKS_ELF [SEED]\n");
		return 2;
	}
	vmc_test_seed(argc - 1, argv + 1);
	f = fopen(argv[1], "rb");
	ASSERT_NOT_NULL(f);
	elf = malloc(1 << 20);
	ASSERT_NOT_NULL(elf);
	elf_len = fread(elf, 1, 1 << 20, f);
	fclose(f);
	ASSERT_OK(vmc_loop_new(&loop));
	RUN(test_continue);
	RUN(test_reset);
	RUN(test_sections);
	RUN(test_corrupt);
	RUN(test_clones);
	RUN(test_host_writes);
	vmc_loop_unref(loop);
	free(elf);
	return 0;
}
