/* SPDX-License-Identifier: MIT */
/*
 * Device-tree helpers: build a tree shaped like QEMU's RISC-V virt board,
 * check it with fdt_check_full(), and look every node and property up
 * with libfdt.
 */
#include <libvmcore/vmc-fdt.h>

#include "vmc-test.h"

static const void *prop(const void *blob, const char *path, const char *name,
			int *len)
{
	int off = fdt_path_offset(blob, path);

	if (off < 0)
		FAIL("no node %s: %s", path, fdt_strerror(off));
	return fdt_getprop(blob, off, name, len);
}

static uint32_t prop_u32(const void *blob, const char *path, const char *name)
{
	int len;
	const fdt32_t *v = prop(blob, path, name, &len);

	if (!v || len != 4)
		FAIL("%s:%s is not one cell", path, name);
	return fdt32_to_cpu(*v);
}

static void test_builder(void)
{
	static const char *const compat[] = {"a,b", "c"};
	static const uint32_t cells[] = {1, 0xdeadbeef, 3};
	struct vmc_fdt *f;
	const void *blob;
	const fdt32_t *c;
	const char *s;
	uint32_t ph, ph2;
	size_t size;
	int len;

	ASSERT_ERR(vmc_fdt_begin(NULL), -EINVAL);
	ASSERT_OK(vmc_fdt_begin(&f));
	ASSERT_OK(vmc_fdt_add_node(f, "/a"));
	ASSERT_OK(vmc_fdt_add_node(f, "/a/b@10"));
	ASSERT_ERR(vmc_fdt_add_node(f, "/a"), -EEXIST);
	ASSERT_ERR(vmc_fdt_add_node(f, "/x/y"), -ENOENT);
	ASSERT_ERR(vmc_fdt_add_node(f, "relative"), -EINVAL);
	ASSERT_ERR(vmc_fdt_add_node(f, "/a/"), -EINVAL);
	ASSERT_ERR(vmc_fdt_add_node(NULL, "/a"), -EINVAL);

	ASSERT_OK(vmc_fdt_set_u32(f, "/a", "u32", 0x12345678));
	ASSERT_OK(vmc_fdt_set_u64(f, "/a", "u64", 0x1122334455667788ull));
	ASSERT_OK(vmc_fdt_set_cells(f, "/a", "cells", cells, 3));
	ASSERT_OK(vmc_fdt_set_string(f, "/a/b@10", "str", "hello"));
	ASSERT_OK(
		vmc_fdt_set_stringlist(f, "/a/b@10", "compatible", compat, 2));
	ASSERT_OK(vmc_fdt_set_empty(f, "/a", "flag"));
	ASSERT_OK(vmc_fdt_set_prop(f, "/a", "raw", "\x01\x02", 2));
	ASSERT_ERR(vmc_fdt_set_u32(f, "/nope", "x", 1), -ENOENT);
	ASSERT_ERR(vmc_fdt_set_u32(f, "/a", "", 1), -EINVAL);
	ASSERT_ERR(vmc_fdt_set_prop(f, "/a", "x", NULL, 4), -EINVAL);
	ASSERT_ERR(vmc_fdt_set_string(f, "/a", "x", NULL), -EINVAL);
	ASSERT_ERR(vmc_fdt_set_cells(f, "/a", "x", NULL, 1), -EINVAL);
	ASSERT_ERR(vmc_fdt_set_stringlist(f, "/a", "x", NULL, 1), -EINVAL);

	ASSERT_OK(vmc_fdt_alloc_phandle(f, "/a", &ph));
	ASSERT_EQ(ph, 1);
	ASSERT_OK(vmc_fdt_alloc_phandle(f, "/a/b@10", &ph2));
	ASSERT_EQ(ph2, 2);
	ASSERT_OK(vmc_fdt_alloc_phandle(f, "/a", &ph));
	ASSERT_EQ(ph, 1); /* the existing one */
	ASSERT_ERR(vmc_fdt_alloc_phandle(f, "/none", &ph), -ENOENT);

	/* Enough nodes to make the buffer grow several times. */
	for (int i = 0; i < 500; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/a/n%d", i);
		ASSERT_OK(vmc_fdt_add_node(f, path));
		ASSERT_OK(vmc_fdt_set_u32(f, path, "reg", (uint32_t)i));
	}

	ASSERT_OK(vmc_fdt_finish(f, &size));
	ASSERT_OK(vmc_fdt_finish(f, NULL)); /* harmless twice */
	blob = vmc_fdt_get_blob(f);
	ASSERT_EQ(size, fdt_totalsize(blob));
	ASSERT_EQ(vmc_fdt_get_size(f), size);
	ASSERT_EQ(fdt_check_full(blob, size), 0);

	ASSERT_EQ(prop_u32(blob, "/a", "u32"), 0x12345678);
	c = prop(blob, "/a", "u64", &len);
	ASSERT_EQ(len, 8);
	ASSERT_EQ_U64(fdt64_to_cpu(*(const fdt64_t *)c), 0x1122334455667788ull);
	c = prop(blob, "/a", "cells", &len);
	ASSERT_EQ(len, 12);
	ASSERT_EQ_U64(fdt32_to_cpu(c[1]), 0xdeadbeef);
	s = prop(blob, "/a/b@10", "str", &len);
	ASSERT_STREQ(s, "hello");
	ASSERT_EQ(fdt_node_check_compatible(
			  blob, fdt_path_offset(blob, "/a/b@10"), "c"),
		  0);
	ASSERT_NOT_NULL(prop(blob, "/a", "flag", &len));
	ASSERT_EQ(len, 0);
	ASSERT_EQ(fdt_node_offset_by_phandle(blob, 2),
		  fdt_path_offset(blob, "/a/b@10"));
	ASSERT_EQ(prop_u32(blob, "/a/n499", "reg"), 499);

	/* A finished tree is read-only. */
	ASSERT_ERR(vmc_fdt_add_node(f, "/z"), -EBUSY);
	ASSERT_ERR(vmc_fdt_set_u32(f, "/a", "u32", 1), -EBUSY);
	ASSERT_ERR(vmc_fdt_alloc_phandle(f, "/a/n0", &ph), -EBUSY);
	ASSERT_OK(vmc_fdt_alloc_phandle(f, "/a", &ph));
	vmc_fdt_free(f);
	vmc_fdt_free(NULL);
	ASSERT_NULL(vmc_fdt_get_blob(NULL));
	ASSERT_EQ(vmc_fdt_get_size(NULL), 0);
	ASSERT_ERR(vmc_fdt_finish(NULL, NULL), -EINVAL);
}

static void test_riscv_board(void)
{
	struct vmc_fdt *f;
	uint32_t intc[2], plic_ph = 0;
	const void *blob;
	const fdt32_t *c;
	const char *s;
	int len, off;

	ASSERT_OK(vmc_fdt_begin(&f));
	ASSERT_ERR(
		vmc_fdt_add_ns16550(f, 0x10000000, 0x100, 3686400, 3, 10, true),
		-ENOENT); /* no /soc yet */
	ASSERT_OK(vmc_fdt_add_board(f, "riscv-virtio,qemu", "riscv-virtio"));
	ASSERT_ERR(vmc_fdt_add_riscv_cpus(f, 0, 10000000, "rv64", NULL, intc),
		   -EINVAL);
	ASSERT_OK(vmc_fdt_add_riscv_cpus(
		f, 2, 10000000, "rv64imac_zicsr_zifencei", "riscv,sv48", intc));
	ASSERT_ERR(vmc_fdt_add_riscv_cpus(f, 1, 1, "rv64", NULL, intc),
		   -EEXIST);
	ASSERT_OK(vmc_fdt_add_memory(f, 0x80000000, 128u << 20));
	ASSERT_ERR(vmc_fdt_add_memory(f, 0x80000000, 0), -EINVAL);
	/* A stand-in interrupt parent for the UART. */
	ASSERT_OK(vmc_fdt_add_node(f, "/soc/plic@c000000"));
	ASSERT_OK(vmc_fdt_alloc_phandle(f, "/soc/plic@c000000", &plic_ph));
	ASSERT_OK(vmc_fdt_add_ns16550(f, 0x10000000, 0x100, 3686400, plic_ph,
				      10, true));
	ASSERT_OK(vmc_fdt_set_chosen(f, NULL, "console=ttyS0"));
	ASSERT_OK(vmc_fdt_finish(f, NULL));
	blob = vmc_fdt_get_blob(f);
	ASSERT_EQ(fdt_check_full(blob, fdt_totalsize(blob)), 0);

	ASSERT_EQ(prop_u32(blob, "/", "#address-cells"), 2);
	ASSERT_EQ(prop_u32(blob, "/soc", "#size-cells"), 2);
	ASSERT_STREQ(prop(blob, "/soc", "compatible", &len), "simple-bus");
	ASSERT_EQ(prop_u32(blob, "/cpus", "timebase-frequency"), 10000000);
	ASSERT_EQ(prop_u32(blob, "/cpus", "#address-cells"), 1);
	ASSERT_EQ(prop_u32(blob, "/cpus/cpu@1", "reg"), 1);
	ASSERT_STREQ(prop(blob, "/cpus/cpu@1", "riscv,isa", &len),
		     "rv64imac_zicsr_zifencei");
	ASSERT_STREQ(prop(blob, "/cpus/cpu@0", "mmu-type", &len), "riscv,sv48");
	ASSERT_STREQ(prop(blob, "/cpus/cpu@0", "status", &len), "okay");
	ASSERT_STREQ(prop(blob, "/cpus/cpu@0", "device_type", &len), "cpu");
	off = fdt_path_offset(blob, "/cpus/cpu@1/interrupt-controller");
	ASSERT_GE(off, 0);
	ASSERT_EQ(fdt_get_phandle(blob, off), intc[1]);
	ASSERT_EQ(fdt_node_check_compatible(blob, off, "riscv,cpu-intc"), 0);
	ASSERT_EQ(prop_u32(blob, "/cpus/cpu@1/interrupt-controller",
			   "#interrupt-cells"),
		  1);
	ASSERT_NE(intc[0], intc[1]);
	ASSERT_EQ(prop_u32(blob, "/cpus/cpu-map/cluster0/core1", "cpu"),
		  fdt_get_phandle(blob, fdt_path_offset(blob, "/cpus/cpu@1")));

	c = prop(blob, "/memory@80000000", "reg", &len);
	ASSERT_EQ(len, 16);
	ASSERT_EQ_U64(fdt32_to_cpu(c[1]), 0x80000000);
	ASSERT_EQ_U64(fdt32_to_cpu(c[3]), 128u << 20);
	ASSERT_STREQ(prop(blob, "/memory@80000000", "device_type", &len),
		     "memory");

	s = prop(blob, "/soc/serial@10000000", "compatible", &len);
	ASSERT_STREQ(s, "ns16550a");
	ASSERT_EQ(prop_u32(blob, "/soc/serial@10000000", "clock-frequency"),
		  3686400);
	ASSERT_EQ(prop_u32(blob, "/soc/serial@10000000", "interrupt-parent"),
		  plic_ph);
	ASSERT_EQ(prop_u32(blob, "/soc/serial@10000000", "interrupts"), 10);
	ASSERT_STREQ(prop(blob, "/chosen", "stdout-path", &len),
		     "/soc/serial@10000000");
	ASSERT_STREQ(prop(blob, "/chosen", "bootargs", &len), "console=ttyS0");
	vmc_fdt_free(f);
}

int main(void)
{
	RUN(test_builder);
	RUN(test_riscv_board);
	return 0;
}
