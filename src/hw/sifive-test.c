/* SPDX-License-Identifier: MIT */
/*
 * SiFive test finisher, written only against libvmcore's public headers.
 * A write runs on the vCPU thread with the VM lock held; the shutdown or
 * reset it asks for is applied by the loop, and the vCPU that wrote stops
 * at once (see vmc_vm_request_shutdown()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-hw-sifive-test.h>

#include "hw-internal.h"
#include "hw-snap.h"
#include "vmc-config.h"

#if VMC_HAVE_FDT
#include <libvmcore/vmc-fdt.h>
#endif

struct vmc_sifive_test {
	struct vmc_vm *vm;
	struct vmc_region *region;
	struct vmc_snapshot_section *section;
};

/* Snapshot section "sifive-test" (version 1): the device has no state;
 * the empty section makes a snapshot name it, so that a VM without one
 * refuses the snapshot. */
static int test_snap_save(void *opaque, void *buf, size_t size)
{
	return 0;
}

static int test_snap_load(void *opaque, const void *buf, size_t size,
			  uint32_t version)
{
	return version == 1 && size == 0 ? 0 : -EINVAL;
}

static const struct vmc_snapshot_section_ops test_snap_ops = {
	.struct_size = sizeof(test_snap_ops),
	.save = test_snap_save,
	.check = test_snap_load,
	.load = test_snap_load,
};

int vmc__sifive_test_read(void *opaque, uint64_t offset, unsigned int size,
			  uint64_t *value)
{
	*value = 0;
	return 0;
}

int vmc__sifive_test_write(void *opaque, uint64_t offset, unsigned int size,
			   uint64_t value)
{
	struct vmc_sifive_test *t = opaque;
	uint32_t v = (uint32_t)value;

	if (offset != 0 || (size != 2 && size != 4))
		return 0;
	switch (v & 0xffff) {
	case VMC_SIFIVE_TEST_PASS:
		vmc_vm_request_shutdown(t->vm, 0);
		break;
	case VMC_SIFIVE_TEST_FAIL:
		vmc_vm_request_shutdown(t->vm, (int)(v >> 16));
		break;
	case VMC_SIFIVE_TEST_RESET:
		vmc_vm_request_reset(t->vm);
		break;
	default:
		/* Anything else is a guest mistake with no effect. */
		break;
	}
	return 0;
}

VMC_EXPORT void
vmc_sifive_test_config_init(struct vmc_sifive_test_config *config)
{
	if (!config)
		return;
	*config = (struct vmc_sifive_test_config){.size = sizeof(*config)};
}

VMC_EXPORT int vmc_sifive_test_new(const struct vmc_sifive_test_config *cfg,
				   struct vmc_sifive_test **ret)
{
	static const struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = vmc__sifive_test_read,
		.write = vmc__sifive_test_write,
		.release = free,
		.min_access_size = 2,
		.max_access_size = 4,
		.endian = VMC_ENDIAN_LITTLE,
	};
	struct vmc_sifive_test *t;
	int r;

	VMC_CHECK_RETURN(cfg && ret && cfg->size >= sizeof(*cfg) && cfg->vm,
			 -EINVAL);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vm = cfg->vm;
	r = vmc_region_new_io(vmc_vm_get_memory(t->vm), "sifive-test",
			      VMC_SIFIVE_TEST_SIZE, &ops, t, 0, &t->region);
	if (r < 0) {
		free(t);
		return r;
	}
	r = vmc_vm_add_snapshot_section(t->vm, "sifive-test", 1, &test_snap_ops,
					t, &t->section);
	if (r < 0) {
		vmc_sifive_test_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

VMC_EXPORT void vmc_sifive_test_free(struct vmc_sifive_test *t)
{
	if (!t)
		return;
	/* The memory goes with the region's last reference (vmc-memory.h). */
	vmc_region_detach_ops(t->region);
	vmc_vm_remove_snapshot_section(t->vm, t->section);
	t->section = NULL;
	vmc_region_unref(t->region);
}

VMC_EXPORT struct vmc_region *
vmc_sifive_test_get_region(struct vmc_sifive_test *t)
{
	return t ? t->region : NULL;
}

#if VMC_HAVE_FDT
static int add_syscon(struct vmc_fdt *fdt, const char *path,
		      const char *compatible, uint32_t regmap, uint32_t value)
{
	int r;

	if ((r = vmc_fdt_add_node(fdt, path)) < 0 ||
	    (r = vmc_fdt_set_string(fdt, path, "compatible", compatible)) < 0 ||
	    (r = vmc_fdt_set_u32(fdt, path, "regmap", regmap)) < 0 ||
	    (r = vmc_fdt_set_u32(fdt, path, "offset", 0)) < 0 ||
	    (r = vmc_fdt_set_u32(fdt, path, "value", value)) < 0)
		return r;
	return 0;
}

VMC_EXPORT int vmc_sifive_test_fdt_add(const struct vmc_sifive_test *t,
				       struct vmc_fdt *fdt, uint64_t base)
{
	static const char *const compat[] = {"sifive,test1", "sifive,test0",
					     "syscon"};
	uint32_t reg[4] = {(uint32_t)(base >> 32), (uint32_t)base, 0,
			   VMC_SIFIVE_TEST_SIZE};
	char path[48];
	uint32_t ph;
	int r;

	VMC_CHECK_RETURN(t && fdt, -EINVAL);
	snprintf(path, sizeof(path), "/soc/test@%" PRIx64, base);
	if ((r = vmc_fdt_add_node(fdt, path)) < 0 ||
	    (r = vmc_fdt_alloc_phandle(fdt, path, &ph)) < 0 ||
	    (r = vmc_fdt_set_stringlist(fdt, path, "compatible", compat, 3)) <
		    0 ||
	    (r = vmc_fdt_set_cells(fdt, path, "reg", reg, 4)) < 0 ||
	    (r = add_syscon(fdt, "/reboot", "syscon-reboot", ph,
			    VMC_SIFIVE_TEST_RESET)) < 0 ||
	    (r = add_syscon(fdt, "/poweroff", "syscon-poweroff", ph,
			    VMC_SIFIVE_TEST_PASS)) < 0)
		return r;
	return 0;
}
#endif
