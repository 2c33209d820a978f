/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the memory API: region kinds, tree rules, priorities,
 * aliases, transactions, dispatch, ioeventfds, listeners, guest memory
 * helpers, and the errors of every public function.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>

#include <libvmcore/libvmcore.h>

#include "memory-internal.h"
#include "vmc-test.h"

static struct vmc_memory *mem;

static void setup(void)
{
	ASSERT_OK(vmc_memory_new(&mem));
}

static void teardown(void)
{
	vmc_memory_free(mem);
	mem = NULL;
}

static struct vmc_region *container(const char *name, uint64_t size)
{
	struct vmc_region *r;

	ASSERT_OK(vmc_region_new_container(mem, name, size, &r));
	return r;
}

static struct vmc_region *ram(const char *name, uint64_t size)
{
	struct vmc_region *r;

	ASSERT_OK(vmc_region_new_ram(mem, name, size, 0, &r));
	return r;
}

/* Compare the dump with @expect (the range lines only, no header). */
static void expect_view(struct vmc_address_space *as, const char *expect)
{
	char buf[8192];
	const char *body;
	int n = vmc_address_space_dump(as, buf, sizeof(buf));

	ASSERT_GE(n, 0);
	ASSERT_LT(n, (int)sizeof(buf));
	body = strchr(buf, '\n');
	ASSERT_NOT_NULL(body);
	if (strcmp(body + 1, expect) != 0)
		FAIL("flat view differs:\n--- got\n%s--- expected\n%s",
		     body + 1, expect);
}

static void test_basic_tree(void)
{
	struct vmc_region *root, *a, *b;
	struct vmc_address_space *as;

	setup();
	root = container("root", VMC_REGION_SIZE_ALL);
	a = ram("a", 0x1000);
	b = ram("b", 0x1000);
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "mem", &as));
	expect_view(as, "");
	ASSERT_OK(vmc_region_add_subregion(root, 0x1000, a, 0));
	ASSERT_OK(vmc_region_add_subregion(root, 0x3000, b, 0));
	expect_view(as, "  0000000000001000-0000000000001fff (ram): a\n"
			"  0000000000003000-0000000000003fff (ram): b\n");
	/* Overlap with equal priority: the newer one wins; a move re-adds. */
	ASSERT_OK(vmc_region_set_offset(a, 0x3800));
	expect_view(as, "  0000000000003000-00000000000037ff (ram): b\n"
			"  0000000000003800-00000000000047ff (ram): a\n");
	ASSERT_OK(vmc_region_set_offset(b, 0x3000));
	expect_view(as, "  0000000000003000-0000000000003fff (ram): b\n"
			"  0000000000004000-00000000000047ff (ram): a"
			" @0000000000000800\n");
	ASSERT_OK(vmc_region_set_offset(a, 0x3800));
	expect_view(as, "  0000000000003000-00000000000037ff (ram): b\n"
			"  0000000000003800-00000000000047ff (ram): a\n");
	ASSERT_OK(vmc_region_set_enabled(a, false));
	expect_view(as, "  0000000000003000-0000000000003fff (ram): b\n");
	ASSERT_OK(vmc_region_set_enabled(a, true));
	ASSERT_OK(vmc_region_set_readonly(b, true));
	expect_view(as, "  0000000000003000-00000000000037ff (ram, ro): b\n"
			"  0000000000003800-00000000000047ff (ram): a\n");
	ASSERT_OK(vmc_region_remove_subregion(root, a));
	ASSERT_OK(vmc_region_remove_subregion(root, b));
	expect_view(as, "");
	vmc_region_unref(a);
	vmc_region_unref(b);
	vmc_address_space_free(as);
	vmc_region_unref(root);
	teardown();
}

static void test_priority_and_holes(void)
{
	struct vmc_region *root, *low, *cont, *hi_ram, *inner;
	struct vmc_address_space *as;

	setup();
	root = container("root", 0x10000);
	low = ram("low", 0x4000);
	cont = container("cont", 0x4000);
	inner = ram("inner", 0x1000);
	hi_ram = ram("hi", 0x1000);
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	ASSERT_OK(vmc_memory_begin(mem));
	ASSERT_OK(vmc_region_add_subregion(root, 0, low, -1));
	/* A higher-priority container's holes fall through to low. */
	ASSERT_OK(vmc_region_add_subregion(root, 0, cont, 5));
	ASSERT_OK(vmc_region_add_subregion(cont, 0x1000, inner, 0));
	/* Priority beats recency: added last but lower than cont. */
	ASSERT_OK(vmc_region_add_subregion(root, 0x1800, hi_ram, 1));
	expect_view(as, ""); /* nothing published inside the transaction */
	ASSERT_OK(vmc_memory_commit(mem));
	expect_view(as, "  0000000000000000-0000000000000fff (ram): low\n"
			"  0000000000001000-0000000000001fff (ram): inner\n"
			"  0000000000002000-00000000000027ff (ram): hi"
			" @0000000000000800\n"
			"  0000000000002800-0000000000003fff (ram): low"
			" @0000000000002800\n");
	/* A terminating region with subregions: children cover its own. */
	ASSERT_OK(vmc_region_add_subregion(low, 0x3000, container("c2", 0x10),
					   0));
	vmc_region_unref(low->children[0]);
	ASSERT_OK(vmc_region_add_subregion(low->children[0], 0,
					   ram("tiny", 0x10), 0));
	vmc_region_unref(low->children[0]->children[0]);
	expect_view(as, "  0000000000000000-0000000000000fff (ram): low\n"
			"  0000000000001000-0000000000001fff (ram): inner\n"
			"  0000000000002000-00000000000027ff (ram): hi"
			" @0000000000000800\n"
			"  0000000000002800-0000000000002fff (ram): low"
			" @0000000000002800\n"
			"  0000000000003000-000000000000300f (ram): tiny\n"
			"  0000000000003010-0000000000003fff (ram): low"
			" @0000000000003010\n");
	/* Children are clipped to their parent. */
	ASSERT_OK(vmc_region_set_offset(hi_ram, 0xf800));
	ASSERT_OK(vmc_region_remove_subregion(root, cont));
	ASSERT_OK(vmc_region_remove_subregion(low, low->children[0]));
	expect_view(as, "  0000000000000000-0000000000003fff (ram): low\n"
			"  000000000000f800-000000000000ffff (ram): hi\n");
	vmc_region_unref(low);
	vmc_region_unref(cont);
	vmc_region_unref(inner);
	vmc_region_unref(hi_ram);
	vmc_address_space_free(as);
	vmc_region_unref(root);
	teardown();
}

static void test_alias(void)
{
	struct vmc_region *root, *r, *al, *al2, *sub, *sub2;
	struct vmc_address_space *as;
	uint8_t b[4];

	setup();
	root = container("root", VMC_REGION_SIZE_ALL);
	r = ram("ram", 0x4000);
	sub = ram("sub", 0x100);
	ASSERT_OK(vmc_region_add_subregion(r, 0x2000, sub, 0));
	ASSERT_OK(vmc_region_new_alias(mem, "al", r, 0x1f00, 0x200, &al));
	ASSERT_OK(vmc_region_new_alias(mem, "al2", al, 0x100, 0x100, &al2));
	ASSERT_OK(vmc_region_set_readonly(al2, true));
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	ASSERT_OK(vmc_memory_begin(mem));
	ASSERT_OK(vmc_region_add_subregion(root, 0x10000, al, 0));
	ASSERT_OK(vmc_region_add_subregion(root, 0x20000, al2, 0));
	ASSERT_OK(vmc_memory_commit(mem));
	/* The alias shows the target's subregions; ro accumulates. */
	expect_view(as, "  0000000000010000-00000000000100ff (ram): ram"
			" @0000000000001f00\n"
			"  0000000000010100-00000000000101ff (ram): sub\n"
			"  0000000000020000-00000000000200ff (ram, ro): sub\n");
	ASSERT_OK(vmc_region_set_alias_offset(al, 0x1e00));
	expect_view(as, "  0000000000010000-00000000000101ff (ram): ram"
			" @0000000000001e00\n"
			"  0000000000020000-00000000000200ff (ram, ro): ram"
			" @0000000000001f00\n");
	/* Writes through the ro alias are discarded; reads see the RAM. */
	memcpy((uint8_t *)vmc_region_get_ptr(r) + 0x1f00, "abcd", 4);
	ASSERT_OK(vmc_as_write(as, 0x20000, "wxyz", 4));
	ASSERT_OK(vmc_as_read(as, 0x20000, b, 4));
	ASSERT_EQ(memcmp(b, "abcd", 4), 0);
	ASSERT_OK(vmc_address_space_set_unassigned_policy(
		as, VMC_UNASSIGNED_ERROR));
	ASSERT_ERR(vmc_as_write(as, 0x20000, "wxyz", 4), -EACCES);
	ASSERT_OK(vmc_as_write(as, 0x10100, "wxyz", 4));
	ASSERT_EQ(memcmp((uint8_t *)vmc_region_get_ptr(r) + 0x1f00, "wxyz", 4),
		  0);
	/* Errors. */
	ASSERT_ERR(vmc_region_set_alias_offset(r, 0), -EINVAL);
	ASSERT_ERR(vmc_region_set_alias_offset(NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_region_set_alias_offset(al, UINT64_MAX), -EINVAL);
	ASSERT_ERR(vmc_region_new_alias(mem, "x", r, UINT64_MAX, 2, &al2),
		   -EINVAL);
	ASSERT_ERR(vmc_region_new_alias(mem, "x", r, 0, 0, &al2), -EINVAL);
	ASSERT_ERR(vmc_region_new_alias(mem, "x", NULL, 0, 1, &al2), -EINVAL);
	sub2 = ram("x", 1);
	ASSERT_ERR(vmc_region_add_subregion(al, 0, sub2, 0), -EINVAL);
	vmc_region_unref(sub2);
	vmc_region_unref(vmc_region_unref(NULL)); /* NULL is fine */
	vmc_address_space_free(as);
	vmc_region_unref(root);
	vmc_region_unref(al);
	vmc_region_unref(al2);
	vmc_region_unref(r);
	vmc_region_unref(sub);
	teardown();
}

static void test_tree_errors(void)
{
	struct vmc_region *root, *a, *b, *c, *al, *x;
	struct vmc_address_space *as;
	struct vmc_memory *other;
	char buf[4096];

	setup();
	root = container("root", 0x10000);
	a = container("a", 0x1000);
	b = container("b", 0x1000);
	c = ram("c", 0x100);
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	vmc_address_space_dump(as, buf, sizeof(buf));
	ASSERT_OK(vmc_region_add_subregion(root, 0, a, 0));
	ASSERT_OK(vmc_region_add_subregion(a, 0, b, 0));
	/* Cycles, directly and through an alias. */
	ASSERT_OK(vmc_region_remove_subregion(a, b));
	ASSERT_ERR(vmc_region_add_subregion(b, 0, b, 0), -ELOOP);
	ASSERT_ERR(vmc_region_add_subregion(b, 0, root, 0), -EBUSY);
	ASSERT_OK(vmc_region_new_alias(mem, "al", a, 0, 0x100, &al));
	ASSERT_ERR(vmc_region_add_subregion(a, 0x100, al, 0), -ELOOP);
	ASSERT_OK(vmc_region_add_subregion(b, 0, al, 0));
	ASSERT_ERR(vmc_region_add_subregion(a, 0x100, b, 0), -ELOOP);
	/* Double parenting. */
	ASSERT_OK(vmc_region_add_subregion(root, 0x2000, c, 0));
	ASSERT_ERR(vmc_region_add_subregion(b, 0x10, c, 0), -EBUSY);
	/* Nothing changed by the failures. */
	{
		char now[4096];

		vmc_address_space_dump(as, now, sizeof(now));
		ASSERT_STREQ(now,
			     "address-space: m (memory)\n"
			     "  0000000000002000-00000000000020ff (ram): c\n");
	}
	/* Bad arguments. */
	ASSERT_ERR(vmc_region_add_subregion(NULL, 0, c, 0), -EINVAL);
	ASSERT_ERR(vmc_region_add_subregion(root, 0, NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_region_add_subregion(b, UINT64_MAX, a, 0), -EINVAL);
	ASSERT_ERR(vmc_region_remove_subregion(b, c), -ENOENT);
	ASSERT_ERR(vmc_region_remove_subregion(NULL, c), -EINVAL);
	ASSERT_ERR(vmc_region_remove_subregion(root, NULL), -EINVAL);
	ASSERT_ERR(vmc_region_set_offset(b, 0), -ENOENT);
	ASSERT_ERR(vmc_region_set_offset(NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_region_set_offset(c, UINT64_MAX), -EINVAL);
	ASSERT_ERR(vmc_region_set_enabled(NULL, true), -EINVAL);
	ASSERT_ERR(vmc_region_set_readonly(NULL, true), -EINVAL);
	ASSERT_OK(vmc_memory_new(&other));
	ASSERT_OK(vmc_region_new_container(other, "o", 0x10, &x));
	ASSERT_ERR(vmc_region_add_subregion(root, 0, x, 0), -EINVAL);
	ASSERT_ERR(vmc_address_space_new(mem, x, VMC_AS_MEMORY, "o", &as),
		   -EINVAL);
	vmc_region_unref(x);
	vmc_memory_free(other);
	/* Address space errors. */
	ASSERT_ERR(vmc_address_space_new(mem, c, VMC_AS_MEMORY, "m", &as),
		   -EBUSY);
	ASSERT_ERR(vmc_address_space_new(NULL, root, VMC_AS_MEMORY, "m", &as),
		   -EINVAL);
	ASSERT_ERR(vmc_address_space_new(mem, NULL, VMC_AS_MEMORY, "m", &as),
		   -EINVAL);
	ASSERT_ERR(vmc_address_space_new(mem, root, 7, "m", &as), -EINVAL);
	ASSERT_ERR(vmc_address_space_new(mem, root, VMC_AS_IO, NULL, &as),
		   -EINVAL);
	ASSERT_ERR(vmc_address_space_new(mem, root, VMC_AS_IO, "m", NULL),
		   -EINVAL);
	ASSERT_ERR(vmc_address_space_set_unassigned_policy(NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_address_space_set_unassigned_policy(as, 5), -EINVAL);
	ASSERT_ERR(vmc_address_space_dump(NULL, buf, 1), -EINVAL);
	ASSERT_ERR(vmc_address_space_dump(as, NULL, 1), -EINVAL);
	ASSERT_ERR(vmc_address_space_dump_fd(NULL, 1), -EINVAL);
	ASSERT_ERR(vmc_address_space_dump_fd(as, -1), -EINVAL);
	vmc_address_space_free(NULL);
	/* Transactions. */
	ASSERT_ERR(vmc_memory_commit(mem), -EINVAL);
	ASSERT_ERR(vmc_memory_commit(NULL), -EINVAL);
	ASSERT_ERR(vmc_memory_begin(NULL), -EINVAL);
	ASSERT_ERR(vmc_memory_reclaim(NULL), -EINVAL);
	ASSERT_ERR(vmc_memory_new(NULL), -EINVAL);
	vmc_memory_free(NULL);
	/* Constructors. */
	ASSERT_ERR(vmc_region_new_container(mem, "x", 0, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_container(NULL, "x", 1, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_container(mem, NULL, 1, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_container(mem, "x", 1, NULL), -EINVAL);
	ASSERT_ERR(vmc_region_new_ram(mem, "x", 0, 0, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_ram(mem, "x", 1, 0x100, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_ram(mem, "x", UINT64_MAX, 0, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_ram(NULL, "x", 1, 0, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_ram_ptr(mem, "x", 1, NULL, 0, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_ram_ptr(mem, "x", 0, buf, 0, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_ram_ptr(mem, "x", UINT64_MAX, buf, 0, &x),
		   -EINVAL);
	ASSERT_ERR(vmc_region_new_ram_ptr(mem, "x", 1, buf, 8, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_rom(mem, "x", 0, &x), -EINVAL);
	ASSERT_ERR(vmc_region_new_rom(mem, NULL, 1, &x), -EINVAL);
	ASSERT_ERR(vmc_region_get_fd(NULL), -EINVAL);
	ASSERT_ERR(vmc_region_get_fd(root), -ENODEV);
	ASSERT_NULL(vmc_region_get_ptr(NULL));
	ASSERT_NULL(vmc_region_get_ptr(root));
	ASSERT_NULL(vmc_region_get_name(NULL));
	ASSERT_STREQ(vmc_region_get_name(c), "c");
	ASSERT_EQ_U64(vmc_region_get_size(NULL), 0);
	ASSERT_EQ_U64(vmc_region_get_size(c), 0x100);
	ASSERT_EQ_U64(vmc_region_get_size(root), 0x10000);
	ASSERT_PTR_EQ(vmc_region_ref(NULL), NULL);

	vmc_address_space_free(as);
	vmc_region_unref(root);
	vmc_region_unref(a);
	vmc_region_unref(b);
	vmc_region_unref(c);
	vmc_region_unref(al);
	teardown();
}

/* An I/O device that logs accesses: 16 byte-registers. */
struct dev {
	uint8_t regs[64];
	char log[512];
	int released;
	struct vmc__lock *lock;
	bool saw_lock;
};

static int dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *v)
{
	struct dev *d = opaque;
	size_t n = strlen(d->log);

	snprintf(d->log + n, sizeof(d->log) - n, "r%u@%u ", size,
		 (unsigned)off);
	*v = 0;
	for (unsigned i = 0; i < size; i++)
		*v |= (uint64_t)d->regs[(off + i) % 64] << (8 * i);
	if (d->lock)
		d->saw_lock = vmc__lock_held(d->lock);
	return off == 60 ? -EIO : 0;
}

static int dev_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct dev *d = opaque;
	size_t n = strlen(d->log);

	snprintf(d->log + n, sizeof(d->log) - n, "w%u@%u ", size,
		 (unsigned)off);
	for (unsigned i = 0; i < size; i++)
		d->regs[(off + i) % 64] = (uint8_t)(v >> (8 * i));
	if (d->lock)
		d->saw_lock = vmc__lock_held(d->lock);
	return 0;
}

static void dev_release(void *opaque)
{
	((struct dev *)opaque)->released++;
}

static struct vmc_region *io(struct dev *d, unsigned min, unsigned max,
			     enum vmc_endian e, unsigned flags)
{
	struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = dev_read,
		.write = dev_write,
		.release = dev_release,
		.min_access_size = min,
		.max_access_size = max,
		.endian = e,
		.flags = flags,
	};
	struct vmc_region *r;

	ASSERT_OK(vmc_region_new_io(mem, "dev", 64, &ops, d, 0, &r));
	return r;
}

static void test_io_dispatch(void)
{
	struct vmc_region *root, *r;
	struct vmc_address_space *as;
	struct dev d = {0};
	struct vmc__lock lock;
	uint8_t b[16];

	setup();
	vmc__lock_init(&lock);
	root = container("root", 0x10000);
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_IO, "io", &as));
	r = io(&d, 2, 4, VMC_ENDIAN_LITTLE, 0);
	ASSERT_OK(vmc_region_add_subregion(root, 0x100, r, 0));
	vmc_region_unref(r);
	expect_view(as, "  0000000000000100-000000000000013f (i/o): dev\n");
	/* Native widths go straight through. */
	ASSERT_OK(vmc_as_write(as, 0x104, "\x11\x22\x33\x44", 4));
	ASSERT_STREQ(d.log, "w4@4 ");
	ASSERT_EQ(d.regs[4], 0x11);
	ASSERT_EQ(d.regs[7], 0x44);
	/* 8 bytes > max: two 4-byte pieces, low address first. */
	d.log[0] = 0;
	ASSERT_OK(vmc_as_read(as, 0x100, b, 8));
	ASSERT_STREQ(d.log, "r4@0 r4@4 ");
	ASSERT_EQ(b[4], 0x11);
	/* 1 byte < min: widened read; a narrow write is read-modify-write. */
	d.log[0] = 0;
	ASSERT_OK(vmc_as_read(as, 0x105, b, 1));
	ASSERT_EQ(b[0], 0x22);
	ASSERT_OK(vmc_as_write(as, 0x105, "\x99", 1));
	ASSERT_STREQ(d.log, "r2@4 r2@4 w2@4 ");
	ASSERT_EQ(d.regs[4], 0x11);
	ASSERT_EQ(d.regs[5], 0x99);
	/* Unaligned 4 bytes at 6: split into aligned 2 + 2. */
	d.log[0] = 0;
	ASSERT_OK(vmc_as_read(as, 0x106, b, 4));
	ASSERT_STREQ(d.log, "r2@6 r2@8 ");
	/* Callback errors reach the caller. */
	ASSERT_ERR(vmc_as_read(as, 0x100 + 60, b, 4), -EIO);
	/* The dispatch lock is taken around callbacks. */
	d.lock = &lock;
	vmc__as_set_dispatch_lock(as, &lock);
	ASSERT_OK(vmc_as_read(as, 0x100, b, 2));
	ASSERT_TRUE(d.saw_lock);
	ASSERT_FALSE(vmc__lock_held(&lock));
	vmc__lock_acquire(&lock); /* already held: no deadlock */
	ASSERT_OK(vmc_as_read(as, 0x100, b, 2));
	vmc__lock_release(&lock);
	ASSERT_EQ(d.released, 0);
	vmc_address_space_free(as);
	vmc_region_unref(root);
	ASSERT_EQ(d.released, 1);

	/* Big endian, unaligned allowed, strict. */
	memset(&d, 0, sizeof(d));
	root = container("root", 0x10000);
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_IO, "io", &as));
	r = io(&d, 1, 4, VMC_ENDIAN_BIG,
	       VMC_REGION_OPS_UNALIGNED | VMC_REGION_OPS_STRICT);
	ASSERT_OK(vmc_region_add_subregion(root, 0, r, 0));
	vmc_region_unref(r);
	ASSERT_OK(vmc_as_write(as, 1, "\x01\x02\x03\x04", 4));
	ASSERT_STREQ(d.log, "w4@1 ");
	/* The device saw value 0x01020304 (big endian), stored LE here. */
	ASSERT_EQ(d.regs[1], 0x04);
	ASSERT_EQ(d.regs[4], 0x01);
	ASSERT_OK(vmc_as_read(as, 1, b, 4));
	ASSERT_EQ(memcmp(b, "\x01\x02\x03\x04", 4), 0);
	ASSERT_ERR(vmc_as_read(as, 0, b, 8), -EINVAL); /* strict: > max */
	vmc_address_space_free(as);
	vmc_region_unref(root);

	/* Constructor errors. */
	{
		struct vmc_region_ops ops = {.struct_size = sizeof(ops)};

		ASSERT_ERR(vmc_region_new_io(mem, "x", 0, &ops, NULL, 0, &r),
			   -EINVAL);
		ASSERT_ERR(vmc_region_new_io(mem, "x", 1, NULL, NULL, 0, &r),
			   -EINVAL);
		ASSERT_ERR(vmc_region_new_io(mem, "x", 1, &ops, NULL, 4, &r),
			   -EINVAL);
		ops.min_access_size = 3;
		ASSERT_ERR(vmc_region_new_io(mem, "x", 1, &ops, NULL, 0, &r),
			   -EINVAL);
		ops.min_access_size = 4;
		ops.max_access_size = 2;
		ASSERT_ERR(vmc_region_new_io(mem, "x", 1, &ops, NULL, 0, &r),
			   -EINVAL);
		ops.max_access_size = 0;
		ops.endian = 9;
		ASSERT_ERR(vmc_region_new_io(mem, "x", 1, &ops, NULL, 0, &r),
			   -EINVAL);
		ops.endian = 0;
		ops.flags = 0x80;
		ASSERT_ERR(vmc_region_new_io(mem, "x", 1, &ops, NULL, 0, &r),
			   -EINVAL);
		ops.flags = 0;
		ops.struct_size = 4;
		ASSERT_ERR(vmc_region_new_io(mem, "x", 1, &ops, NULL, 0, &r),
			   -EINVAL);
		/* No callbacks: accesses fail with -EACCES. */
		ops.struct_size = sizeof(ops);
		root = container("root", 0x100);
		ASSERT_OK(
			vmc_address_space_new(mem, root, VMC_AS_IO, "io", &as));
		ASSERT_OK(vmc_region_new_io(mem, "x", 4, &ops, NULL,
					    VMC_REGION_LOCKLESS, &r));
		ASSERT_OK(vmc_region_add_subregion(root, 0, r, 0));
		vmc_region_unref(r);
		ASSERT_ERR(vmc_as_read(as, 0, b, 4), -EACCES);
		ASSERT_ERR(vmc_as_write(as, 0, b, 4), -EACCES);
		vmc_address_space_free(as);
		vmc_region_unref(root);
	}
	vmc__lock_destroy(&lock);
	teardown();
}

static void test_ram_rom_unassigned(void)
{
	struct vmc_region *root, *r, *rom, *p;
	struct vmc_address_space *as;
	uint8_t mine[0x100] = {0}, b[0x40];
	int fd;
	void *m;

	setup();
	root = container("root", VMC_REGION_SIZE_ALL);
	r = ram("ram", 0x1000);
	ASSERT_OK(vmc_region_new_rom(mem, "rom", 0x1000, &rom));
	ASSERT_OK(
		vmc_region_new_ram_ptr(mem, "mine", sizeof(mine), mine, 0, &p));
	ASSERT_ERR(vmc_region_get_fd(p), -ENODEV);
	ASSERT_PTR_EQ(vmc_region_get_ptr(p), mine);
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	ASSERT_OK(vmc_memory_begin(mem));
	ASSERT_OK(vmc_memory_begin(mem)); /* nested */
	ASSERT_OK(vmc_region_add_subregion(root, 0, r, 0));
	ASSERT_OK(vmc_region_add_subregion(root, 0x2000, rom, 0));
	ASSERT_OK(vmc_memory_commit(mem));
	expect_view(as, "");
	ASSERT_OK(vmc_region_add_subregion(root, UINT64_MAX - 0xff, p, 0));
	ASSERT_OK(vmc_memory_commit(mem));
	expect_view(as, "  0000000000000000-0000000000000fff (ram): ram\n"
			"  0000000000002000-0000000000002fff (rom, ro): rom\n"
			"  ffffffffffffff00-ffffffffffffffff (ram): mine\n");
	/* The memfd shares the pages. */
	fd = vmc_region_get_fd(r);
	ASSERT_GE(fd, 0);
	m = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	ASSERT_OK(vmc_as_write(as, 0x10, "hello", 5));
	ASSERT_EQ(memcmp((char *)m + 0x10, "hello", 5), 0);
	munmap(m, 0x1000);
	/* Crossing RAM into a hole: all ones; ROM ignores writes. */
	memcpy(vmc_region_get_ptr(rom), "ROM!", 4);
	ASSERT_OK(vmc_as_read(as, 0xff0, b, 0x20));
	ASSERT_EQ(b[0xf], 0);
	ASSERT_EQ(b[0x10], 0xff);
	ASSERT_EQ(b[0x1f], 0xff);
	ASSERT_OK(vmc_as_write(as, 0x1ffe, "abcd", 4));
	ASSERT_OK(vmc_as_read(as, 0x2000, b, 4));
	ASSERT_EQ(memcmp(b, "ROM!", 4), 0);
	/* The top of the space and wrap-around. */
	ASSERT_OK(vmc_as_write(as, UINT64_MAX, "z", 1));
	ASSERT_EQ(mine[0xff], 'z');
	ASSERT_ERR(vmc_as_write(as, UINT64_MAX, "zz", 2), -EFAULT);
	ASSERT_ERR(vmc_as_read(as, UINT64_MAX - 3, b, 5), -EFAULT);
	ASSERT_ERR(vmc_as_read(as, 2, b, SIZE_MAX), -EFAULT);
	ASSERT_OK(vmc_as_read(as, UINT64_MAX, b, 0));
	ASSERT_ERR(vmc_as_read(NULL, 0, b, 1), -EINVAL);
	ASSERT_ERR(vmc_as_read(as, 0, NULL, 1), -EINVAL);
	ASSERT_ERR(vmc_as_write(NULL, 0, b, 1), -EINVAL);
	ASSERT_ERR(vmc_as_write(as, 0, NULL, 1), -EINVAL);
	/* Error policy. */
	ASSERT_OK(vmc_address_space_set_unassigned_policy(
		as, VMC_UNASSIGNED_ERROR));
	ASSERT_ERR(vmc_as_read(as, 0xff0, b, 0x20), -EFAULT);
	ASSERT_ERR(vmc_as_write(as, 0x1800, b, 1), -EFAULT);
	ASSERT_ERR(vmc_as_write(as, 0x2000, b, 1), -EACCES);
	ASSERT_OK(vmc_as_read(as, 0x2000, b, 4));

	/* Map and unmap. */
	ASSERT_OK(vmc_as_map(as, 0x100, 0x100, true, &m));
	ASSERT_PTR_EQ(m, (uint8_t *)vmc_region_get_ptr(r) + 0x100);
	/* The mapping survives the region's removal. */
	ASSERT_OK(vmc_region_remove_subregion(root, r));
	memset(m, 1, 0x100);
	ASSERT_OK(vmc_as_unmap(as, m));
	ASSERT_ERR(vmc_as_unmap(as, m), -ENOENT);
	ASSERT_ERR(vmc_as_unmap(NULL, m), -EINVAL);
	ASSERT_ERR(vmc_as_map(as, 0x100, 1, false, &m), -EFAULT);
	ASSERT_ERR(vmc_as_map(as, 0x2000, 1, true, &m), -EACCES);
	ASSERT_ERR(vmc_as_map(as, 0x2f00, 0x200, false, &m), -EFAULT);
	ASSERT_ERR(vmc_as_map(as, UINT64_MAX, 2, false, &m), -EFAULT);
	ASSERT_ERR(vmc_as_map(as, 0x2000, 0, false, &m), -EINVAL);
	ASSERT_ERR(vmc_as_map(NULL, 0x2000, 1, false, &m), -EINVAL);
	ASSERT_ERR(vmc_as_map(as, 0x2000, 1, false, NULL), -EINVAL);
	ASSERT_OK(vmc_as_map(as, 0x2000, 0x1000, false, &m));
	ASSERT_EQ(memcmp(m, "ROM!", 4), 0);
	ASSERT_OK(vmc_as_unmap(as, m));

	vmc_address_space_free(as);
	vmc_region_unref(root);
	vmc_region_unref(r);
	vmc_region_unref(rom);
	vmc_region_unref(p);
	teardown();
}

static void test_dump(void)
{
	struct vmc_region *root, *r;
	struct vmc_address_space *as;
	char small[8], path[] = "/tmp/vmc-dump-XXXXXX", buf[256];
	int n, fd;

	setup();
	root = container("root", 0x10000);
	r = ram("ram", 0x1000);
	ASSERT_OK(vmc_region_add_subregion(root, 0x1000, r, 0));
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "sys", &as));
	n = vmc_address_space_dump(as, small, sizeof(small));
	ASSERT_EQ(n, (int)strlen("address-space: sys (memory)\n"
				 "  0000000000001000-0000000000001fff (ram): "
				 "ram\n"));
	ASSERT_STREQ(small, "address");
	ASSERT_EQ(vmc_address_space_dump(as, NULL, 0), n);
	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	unlink(path);
	ASSERT_EQ(vmc_address_space_dump_fd(as, fd), n);
	ASSERT_EQ(pread(fd, buf, sizeof(buf), 0), n);
	close(fd);

	/* A pipe whose reader is gone: -EPIPE, and no SIGPIPE for the host
	 * (the default action would end this test with status 141). */
	{
		int p[2];
		sigset_t pending;

		ASSERT_EQ(pipe(p), 0);
		close(p[0]);
		ASSERT_ERR(vmc_address_space_dump_fd(as, p[1]), -EPIPE);
		sigpending(&pending);
		ASSERT_FALSE(sigismember(&pending, SIGPIPE));
		close(p[1]);
	}
	vmc_address_space_free(as);
	vmc_region_unref(root);
	vmc_region_unref(r);
	teardown();
}

struct rec {
	char name;
	char *log; /* shared */
	size_t cap;
};

static void rec_printf(struct rec *r, const char *fmt, ...)
{
	size_t n = strlen(r->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->log + n, r->cap - n, fmt, ap);
	va_end(ap);
}

static void rec_begin(void *o)
{
	rec_printf(o, "%c:begin ", ((struct rec *)o)->name);
}

static void rec_commit(void *o)
{
	rec_printf(o, "%c:commit ", ((struct rec *)o)->name);
}

static void rec_region(void *o, const struct vmc_memory_section *s,
		       const char *what)
{
	rec_printf(o, "%c:%s %s@%" PRIx64 "+%" PRIx64 "%s%s ",
		   ((struct rec *)o)->name, what,
		   vmc_region_get_name(s->region), s->addr, s->size,
		   s->readonly ? ",ro" : "", s->fd >= 0 ? ",fd" : "");
	if (s->ram)
		ASSERT_PTR_EQ(s->host,
			      (uint8_t *)vmc_region_get_ptr(s->region) +
				      s->offset);
	else
		ASSERT_NULL(s->host);
}

static void rec_radd(void *o, const struct vmc_memory_section *s)
{
	rec_region(o, s, "add");
}

static void rec_rdel(void *o, const struct vmc_memory_section *s)
{
	rec_region(o, s, "del");
}

static void rec_eventfd(void *o, const struct vmc_ioeventfd_info *e,
			const char *what)
{
	rec_printf(o, "%c:e%s %s%" PRIx64 "/%u%s ", ((struct rec *)o)->name,
		   what, e->kind == VMC_AS_IO ? "pio" : "mmio", e->addr,
		   e->size, e->match_data ? "=" : "");
}

static void rec_eadd(void *o, const struct vmc_ioeventfd_info *e)
{
	rec_eventfd(o, e, "add");
}

static void rec_edel(void *o, const struct vmc_ioeventfd_info *e)
{
	rec_eventfd(o, e, "del");
}

static const struct vmc_memory_listener_ops rec_ops = {
	.struct_size = sizeof(rec_ops),
	.begin = rec_begin,
	.commit = rec_commit,
	.region_add = rec_radd,
	.region_del = rec_rdel,
	.eventfd_add = rec_eadd,
	.eventfd_del = rec_edel,
};

static void test_listeners(void)
{
	struct vmc_region *root, *a, *b;
	struct vmc_address_space *as;
	struct vmc_memory_listener *la, *lb;
	char log[2048] = "";
	struct rec ra = {'A', log, sizeof(log)}, rb = {'B', log, sizeof(log)};
	struct vmc_notifier *n;

	setup();
	ASSERT_OK(vmc_notifier_new(&n));
	root = container("root", 0x10000);
	a = ram("a", 0x1000);
	b = ram("b", 0x1000);
	ASSERT_OK(vmc_region_add_subregion(root, 0, a, 0));
	ASSERT_OK(vmc_region_add_ioeventfd(a, 0x10, 4, true, 7, n));
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	/* Registration replays the layout to the new listener alone. */
	ASSERT_OK(vmc_memory_listener_new(as, &rec_ops, 10, &rb, &lb));
	ASSERT_STREQ(log, "B:begin B:add a@0+1000,fd B:eadd mmio10/4= "
			  "B:commit ");
	log[0] = 0;
	ASSERT_OK(vmc_memory_listener_new(as, &rec_ops, 0, &ra, &la));
	log[0] = 0;
	/*
	 * b covers the second half of a: del a, then adds ascending
	 * priority; deletes in descending priority.
	 */
	ASSERT_OK(vmc_region_add_subregion(root, 0x800, b, 0));
	ASSERT_STREQ(log, "A:begin B:begin "
			  "B:del a@0+1000,fd A:del a@0+1000,fd "
			  "A:add a@0+800,fd B:add a@0+800,fd "
			  "A:add b@800+1000,fd B:add b@800+1000,fd "
			  "A:commit B:commit ");
	/* ioeventfd-only change: no begin/commit. */
	log[0] = 0;
	ASSERT_OK(vmc_region_add_ioeventfd(b, 0, 0, false, 0, n));
	ASSERT_STREQ(log, "A:eadd mmio800/0 B:eadd mmio800/0 ");
	/* Hidden by a higher priority region, visible again after. */
	log[0] = 0;
	ASSERT_OK(vmc_region_set_readonly(b, true));
	ASSERT_STREQ(log, "A:begin B:begin B:del b@800+1000,fd "
			  "A:del b@800+1000,fd A:add b@800+1000,ro,fd "
			  "B:add b@800+1000,ro,fd A:commit B:commit ");
	log[0] = 0;
	ASSERT_OK(vmc_memory_begin(mem));
	ASSERT_OK(vmc_region_set_enabled(a, false));
	ASSERT_OK(vmc_region_set_enabled(a, true));
	ASSERT_OK(vmc_memory_commit(mem));
	ASSERT_STREQ(log, "A:begin B:begin A:commit B:commit ");
	/* Errors. */
	ASSERT_ERR(vmc_memory_listener_new(NULL, &rec_ops, 0, &ra, &la),
		   -EINVAL);
	ASSERT_ERR(vmc_memory_listener_new(as, NULL, 0, &ra, &la), -EINVAL);
	ASSERT_ERR(vmc_memory_listener_new(as, &rec_ops, 0, &ra, NULL),
		   -EINVAL);
	{
		struct vmc_memory_listener_ops small = rec_ops;
		struct vmc_memory_listener *x;

		small.struct_size = 8;
		ASSERT_ERR(vmc_memory_listener_new(as, &small, 0, &ra, &x),
			   -EINVAL);
		ASSERT_OK(vmc_memory_begin(mem));
		ASSERT_ERR(vmc_memory_listener_new(as, &rec_ops, 0, &ra, &x),
			   -EBUSY);
		ASSERT_OK(vmc_memory_commit(mem));
	}
	/* Unregistering mirrors the registration. */
	log[0] = 0;
	vmc_memory_listener_free(lb);
	ASSERT_STREQ(log, "B:begin B:edel mmio10/4= B:edel mmio800/0 "
			  "B:del a@0+800,fd B:del b@800+1000,ro,fd B:commit ");
	vmc_memory_listener_free(la);
	vmc_memory_listener_free(NULL);
	vmc_address_space_free(as);
	vmc_region_unref(root);
	vmc_region_unref(a);
	vmc_region_unref(b);
	vmc_notifier_free(n);
	teardown();
}

static void test_ioeventfds(void)
{
	struct vmc_region *root, *r, *al;
	struct vmc_address_space *as;
	struct vmc_notifier *n1, *n2;
	struct dev d = {0};

	setup();
	ASSERT_OK(vmc_notifier_new(&n1));
	ASSERT_OK(vmc_notifier_new(&n2));
	root = container("root", 0x10000);
	r = io(&d, 1, 8, VMC_ENDIAN_BIG, 0);
	ASSERT_OK(vmc_region_add_subregion(root, 0x1000, r, 0));
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	/* Kept sorted: (offset, size, match, data, notifier). */
	ASSERT_OK(vmc_region_add_ioeventfd(r, 8, 4, true, 0x1234, n1));
	ASSERT_OK(vmc_region_add_ioeventfd(r, 8, 4, false, 0, n2));
	ASSERT_OK(vmc_region_add_ioeventfd(r, 8, 2, false, 0, n1));
	ASSERT_OK(vmc_region_add_ioeventfd(r, 0, 0, false, 0, n1));
	ASSERT_OK(vmc_region_add_ioeventfd(r, 8, 4, true, 0x11, n2));
	ASSERT_EQ(r->nr_ioeventfds, 5);
	ASSERT_EQ(r->ioeventfds[0].offset, 0);
	ASSERT_EQ(r->ioeventfds[1].size, 2);
	ASSERT_FALSE(r->ioeventfds[2].match_data);
	ASSERT_EQ_U64(r->ioeventfds[3].data, 0x11);
	ASSERT_EQ_U64(r->ioeventfds[4].data, 0x1234);
	expect_view(as, "  0000000000001000-000000000000103f (i/o): dev\n"
			"  eventfd 0000000000001000 size 0\n"
			"  eventfd 0000000000001008 size 2\n"
			"  eventfd 0000000000001008 size 4\n"
			"  eventfd 0000000000001008 size 4 data 0x11\n"
			"  eventfd 0000000000001008 size 4 data 0x1234\n");
	/* Software dispatch: a match signals and skips the callback. */
	ASSERT_OK(vmc_region_remove_ioeventfd(r, 8, 4, false, 0, n2));
	ASSERT_OK(vmc_as_write(as, 0x1008, "\x00\x00\x12\x34", 4));
	ASSERT_EQ(vmc_notifier_test_and_clear(n1), 1);
	ASSERT_EQ(vmc_notifier_test_and_clear(n2), 0);
	ASSERT_STREQ(d.log, "");
	ASSERT_OK(vmc_as_write(as, 0x1008, "\x00\x00\x00\x11", 4));
	ASSERT_EQ(vmc_notifier_test_and_clear(n2), 1);
	ASSERT_OK(vmc_as_write(as, 0x1008, "\x00\x00\x00\x12", 4));
	ASSERT_STREQ(d.log, "w4@8 ");
	ASSERT_EQ(vmc_notifier_test_and_clear(n1), 0);
	ASSERT_OK(vmc_as_write(as, 0x1000, "\x05", 1)); /* any width */
	ASSERT_EQ(vmc_notifier_test_and_clear(n1), 1);
	ASSERT_OK(vmc_as_write(as, 0x1008, "\x00\x00", 2)); /* size 2 */
	ASSERT_EQ(vmc_notifier_test_and_clear(n1), 1);
	ASSERT_STREQ(d.log, "w4@8 ");
	/* Off when the kernel does it. */
	vmc__accel_as_set_soft_ioeventfds(as, false);
	ASSERT_OK(vmc_as_write(as, 0x1000, "\x05", 1));
	ASSERT_EQ(vmc_notifier_test_and_clear(n1), 0);
	vmc__accel_as_set_soft_ioeventfds(as, true);
	/* Through an alias, clipped to what is visible. */
	ASSERT_OK(vmc_region_new_alias(mem, "al", r, 4, 8, &al));
	ASSERT_OK(vmc_region_add_subregion(root, 0x2000, al, 0));
	expect_view(as, "  0000000000001000-000000000000103f (i/o): dev\n"
			"  0000000000002000-0000000000002007 (i/o): dev"
			" @0000000000000004\n"
			"  eventfd 0000000000001000 size 0\n"
			"  eventfd 0000000000001008 size 2\n"
			"  eventfd 0000000000001008 size 4 data 0x11\n"
			"  eventfd 0000000000001008 size 4 data 0x1234\n"
			"  eventfd 0000000000002004 size 2\n"
			"  eventfd 0000000000002004 size 4 data 0x11\n"
			"  eventfd 0000000000002004 size 4 data 0x1234\n");
	/* Errors. */
	ASSERT_ERR(vmc_region_add_ioeventfd(r, 8, 4, true, 0x1234, n1),
		   -EEXIST);
	ASSERT_ERR(vmc_region_add_ioeventfd(NULL, 0, 4, false, 0, n1), -EINVAL);
	ASSERT_ERR(vmc_region_add_ioeventfd(r, 0, 4, false, 0, NULL), -EINVAL);
	ASSERT_ERR(vmc_region_add_ioeventfd(r, 0, 3, false, 0, n1), -EINVAL);
	ASSERT_ERR(vmc_region_add_ioeventfd(r, 62, 4, false, 0, n1), -EINVAL);
	ASSERT_ERR(vmc_region_add_ioeventfd(r, 64, 0, false, 0, n1), -EINVAL);
	ASSERT_ERR(vmc_region_add_ioeventfd(r, 0, 0, true, 0, n1), -EINVAL);
	ASSERT_ERR(vmc_region_add_ioeventfd(r, 0, 1, true, 0x100, n1), -EINVAL);
	ASSERT_ERR(vmc_region_remove_ioeventfd(r, 8, 4, true, 0x1235, n1),
		   -ENOENT);
	ASSERT_ERR(vmc_region_remove_ioeventfd(NULL, 8, 4, true, 0, n1),
		   -EINVAL);
	ASSERT_ERR(vmc_region_remove_ioeventfd(r, 8, 4, true, 0, NULL),
		   -EINVAL);
	ASSERT_EQ(r->nr_ioeventfds, 4);
	vmc_address_space_free(as);
	vmc_region_unref(root);
	vmc_region_unref(al);
	vmc_region_unref(r);
	vmc_notifier_free(n1);
	vmc_notifier_free(n2);
	teardown();
}

static void commit_count(void *opaque)
{
	(*(int *)opaque)++;
}

static const struct vmc_memory_listener_ops count_ops = {
	.struct_size = sizeof(count_ops),
	.commit = commit_count,
};

static void test_rcu_and_internal(void)
{
	struct vmc_region *root, *r;
	struct vmc_address_space *as;
	struct vmc__rcu_reader reader;
	const struct vmc__flat_range *fr;
	uint64_t gen;
	size_t hint = 0;
	int hooks = 0;
	struct dev d = {0};
	struct vmc_memory_listener *l;
	struct vmc__accel_map m, m2;

	setup();
	root = container("root", 0x10000);
	r = io(&d, 1, 8, VMC_ENDIAN_LITTLE, 0);
	ASSERT_OK(vmc_region_add_subregion(root, 0x1000, r, 0));
	vmc_region_unref(r);
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	/* Accelerators hear of commits through a listener, like hosts. */
	ASSERT_OK(vmc_memory_listener_new(as, &count_ops, 10, &hooks, &l));
	ASSERT_EQ(hooks, 1); /* the replay */
	hooks = 0;
	vmc__rcu_register_thread(vmc__memory_rcu(mem), &reader);
	ASSERT_PTR_EQ(vmc__rcu_thread_reader(), &reader);
	gen = vmc__as_generation(as);
	fr = vmc__as_lookup(as, 0x1010, &hint);
	ASSERT_NOT_NULL(fr);
	ASSERT_TRUE(fr->io);
	ASSERT_EQ_U64(fr->start, 0x1000);
	ASSERT_EQ_U64(fr->last, 0x103f);
	ASSERT_NULL(vmc__as_lookup(as, 0x1040, &hint));
	ASSERT_NULL(vmc__as_lookup(as, 0, NULL));
	ASSERT_TRUE(vmc__accel_lookup(as, 0x1010, &hint, &m));
	ASSERT_TRUE(m.io);
	ASSERT_NULL(m.host);
	ASSERT_EQ_U64(m.start, 0x1000);
	ASSERT_EQ_U64(m.last, 0x103f);
	ASSERT_FALSE(vmc__accel_lookup(as, 0x1040, &hint, &m2));
	/* The region is removed, but the reader's view keeps it alive. */
	ASSERT_OK(vmc_region_remove_subregion(root, r));
	ASSERT_EQ(hooks, 1);
	ASSERT_NE(vmc__as_generation(as), gen);
	ASSERT_EQ(d.released, 0);
	ASSERT_EQ(vmc_memory_reclaim(mem), 1);
	ASSERT_EQ(fr->region, r);
	{
		uint8_t b[4] = {1, 2, 3, 4};

		/* The handle reaches the region of the view it came from. */
		ASSERT_OK(
			vmc__accel_io(as, m.range, NULL, 0x1000, b, 4, false));
		/* Without one, core looks up: now a hole (reads as ones). */
		ASSERT_OK(vmc__accel_io(as, NULL, NULL, 0x1000, b, 4, false));
		ASSERT_EQ(b[0], 0xff);
	}
	vmc_memory_listener_free(l);
	/* Offline threads do not hold back reclamation. */
	vmc__rcu_thread_offline(&reader);
	ASSERT_EQ(vmc_memory_reclaim(mem), 0);
	ASSERT_EQ(d.released, 1);
	vmc__rcu_thread_online(&reader);
	vmc__rcu_quiescent(&reader);
	vmc__rcu_unregister_thread(&reader);
	ASSERT_NULL(vmc__rcu_thread_reader());
	vmc_address_space_free(as);
	vmc_region_unref(root);
	teardown();
}
static void count_eventfd_add(void *opaque, const struct vmc_ioeventfd_info *e)
{
	(*(size_t *)opaque)++;
}

static const struct vmc_memory_listener_ops eventfd_count_ops = {
	.struct_size = sizeof(eventfd_count_ops),
	.eventfd_add = count_eventfd_add,
};

/* Seconds to add @n ioeventfds, one by one, to a mapped region. */
static double add_ioeventfds(struct vmc_region *r, struct vmc_notifier *nt,
			     uint64_t first, size_t n)
{
	int64_t t0 = vmc_test_now_ns();

	for (size_t i = 0; i < n; i++)
		ASSERT_OK(vmc_region_add_ioeventfd(r, (first + i) * 8, 4, false,
						   0, nt));
	return (double)(vmc_test_now_ns() - t0) * 1e-9;
}

/* The list a full render gives equals the one the appends built. */
static void expect_same_ioeventfds(struct vmc_address_space *as,
				   struct vmc_region *root)
{
	const struct vmc__flat_view *v = vmc__as_get_view(as);
	struct vmc__flat_view *full;

	ASSERT_OK(vmc__flat_view_render(root, &full));
	ASSERT_EQ(v->nr_ioeventfds, full->nr_ioeventfds);
	for (size_t i = 0; i < v->nr_ioeventfds; i++) {
		ASSERT_EQ_U64(v->ioeventfds[i].addr, full->ioeventfds[i].addr);
		ASSERT_EQ(v->ioeventfds[i].size, full->ioeventfds[i].size);
		ASSERT_PTR_EQ(v->ioeventfds[i].notifier,
			      full->ioeventfds[i].notifier);
	}
	vmc__flat_view_unref(mem, full);
	vmc_memory_reclaim(mem);
}

/*
 * Adding ioeventfds one by one to a mapped region was O(n^2): every add
 * rendered and diffed every view (16k adds took 2.2 s, 100k over 20 s).
 * 100k adds must take well under that even under sanitizers, and four
 * times as many adds about four times as long, not 16.
 */
static void test_ioeventfd_add_scales(void)
{
	struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = dev_read,
		.write = dev_write,
		.min_access_size = 1,
		.max_access_size = 8,
	};
	struct vmc_region *root, *r;
	struct vmc_address_space *as;
	struct vmc_memory_listener *l;
	struct vmc_notifier *nt;
	struct dev d = {0};
	size_t seen = 0, n1 = 20000, n2 = 4 * n1;
	double t1, t2;
	uint32_t v = 7;

	setup();
	ASSERT_OK(vmc_notifier_new(&nt));
	root = container("root", 1ull << 32);
	ASSERT_OK(vmc_region_new_io(mem, "many", 1 << 20, &ops, &d, 0, &r));
	ASSERT_OK(vmc_region_add_subregion(root, 0x100000, r, 0));
	ASSERT_OK(vmc_address_space_new(mem, root, VMC_AS_MEMORY, "m", &as));
	/* A listener hears of every one, as KVM's does. */
	ASSERT_OK(
		vmc_memory_listener_new(as, &eventfd_count_ops, 10, &seen, &l));

	t1 = add_ioeventfds(r, nt, 0, n1);
	t2 = add_ioeventfds(r, nt, n1, n2);
	printf("   %zu adds: %.3f s, %zu more: %.3f s (ratio %.1f)\n", n1, t1,
	       n2, t2, t2 / t1);
	ASSERT_EQ(seen, n1 + n2);
	ASSERT_EQ(vmc__as_get_view(as)->nr_ioeventfds, n1 + n2);
	ASSERT_TRUE(t1 + t2 < 5.0);
	if (t1 > 0.05)
		ASSERT_TRUE(t2 / t1 < 14); /* O(n^2): 24 */
	/* The software path matches the first and the last. */
	ASSERT_OK(vmc_as_write(as, 0x100000, &v, 4));
	ASSERT_EQ(vmc_notifier_test_and_clear(nt), 1);
	ASSERT_OK(vmc_as_write(as, 0x100000 + (n1 + n2 - 1) * 8, &v, 4));
	ASSERT_EQ(vmc_notifier_test_and_clear(nt), 1);
	ASSERT_STREQ(d.log, "");
	expect_same_ioeventfds(as, root);

	/* Out of order, and through a second window: the full path. */
	ASSERT_OK(vmc_region_add_ioeventfd(r, 4, 4, false, 0, nt));
	ASSERT_EQ(seen, n1 + n2 + 1);
	expect_same_ioeventfds(as, root);
	{
		struct vmc_region *al;

		ASSERT_OK(vmc_region_new_alias(mem, "al", r, 0, 1 << 20, &al));
		ASSERT_OK(vmc_region_add_subregion(root, 0x10000000, al, 0));
		vmc_region_unref(al);
	}
	ASSERT_OK(vmc_region_add_ioeventfd(r, (n1 + n2) * 8, 2, false, 0, nt));
	expect_same_ioeventfds(as, root);
	ASSERT_OK(vmc_as_write(as, 0x10000000 + (n1 + n2) * 8, &v, 2));
	ASSERT_EQ(vmc_notifier_test_and_clear(nt), 1);
	ASSERT_OK(vmc_region_add_ioeventfd(r, (n1 + n2 + 1) * 8, 2, false, 0,
					   nt));
	expect_same_ioeventfds(as, root);

	vmc_memory_listener_free(l);
	vmc_address_space_free(as);
	vmc_region_unref(r);
	vmc_region_unref(root);
	vmc_notifier_free(nt);
	teardown();
}

int main(void)
{
	RUN(test_basic_tree);
	RUN(test_priority_and_holes);
	RUN(test_alias);
	RUN(test_tree_errors);
	RUN(test_io_dispatch);
	RUN(test_ioeventfd_add_scales);
	RUN(test_ram_rom_unassigned);
	RUN(test_dump);
	RUN(test_listeners);
	RUN(test_ioeventfds);
	RUN(test_rcu_and_internal);
	return 0;
}
