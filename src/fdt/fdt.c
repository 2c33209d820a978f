/* SPDX-License-Identifier: MIT */
/*
 * Device-tree construction over libfdt's read-write API.  The blob lives in
 * a buffer of our own that doubles whenever libfdt reports it is full, so
 * callers never size anything.  Nodes are named by absolute path, as the
 * tree is small and offsets move with every edit.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/vmc-fdt.h>

#include "fdt-internal.h"

#define FDT_INITIAL_SIZE 4096
#define FDT_MAX_SIZE (64u << 20)

struct vmc_fdt {
	void *blob;
	size_t cap;
	bool finished;
};

static int fdt_errno(int err)
{
	switch (err) {
	case -FDT_ERR_NOTFOUND:
		return -ENOENT;
	case -FDT_ERR_EXISTS:
		return -EEXIST;
	case -FDT_ERR_NOSPACE:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

static int grow(struct vmc_fdt *f)
{
	size_t cap = f->cap * 2;
	void *blob;

	if (cap > FDT_MAX_SIZE)
		return -ENOMEM;
	blob = realloc(f->blob, cap);
	if (!blob)
		return -ENOMEM;
	f->blob = blob;
	f->cap = cap;
	/* In place: the tree is at the start of the larger buffer. */
	return fdt_open_into(blob, blob, (int)cap) < 0 ? -ENOMEM : 0;
}

VMC_EXPORT int vmc_fdt_begin(struct vmc_fdt **ret)
{
	struct vmc_fdt *f;

	vmc__fdt_check(ret, -EINVAL);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->cap = FDT_INITIAL_SIZE;
	f->blob = malloc(f->cap);
	if (!f->blob || fdt_create_empty_tree(f->blob, (int)f->cap) < 0) {
		free(f->blob);
		free(f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

VMC_EXPORT void vmc_fdt_free(struct vmc_fdt *f)
{
	if (!f)
		return;
	free(f->blob);
	free(f);
}

VMC_EXPORT int vmc_fdt_finish(struct vmc_fdt *f, size_t *ret_size)
{
	vmc__fdt_check(f, -EINVAL);
	if (!f->finished) {
		if (fdt_pack(f->blob) < 0)
			return -EBADMSG;
		f->finished = true;
	}
	if (fdt_check_full(f->blob, fdt_totalsize(f->blob)) < 0)
		return -EBADMSG;
	if (ret_size)
		*ret_size = fdt_totalsize(f->blob);
	return 0;
}

VMC_EXPORT const void *vmc_fdt_get_blob(const struct vmc_fdt *f)
{
	return f ? f->blob : NULL;
}

VMC_EXPORT size_t vmc_fdt_get_size(const struct vmc_fdt *f)
{
	return f ? fdt_totalsize(f->blob) : 0;
}

static int node_offset(const struct vmc_fdt *f, const char *path)
{
	int off;

	if (path[0] != '/')
		return -EINVAL;
	off = fdt_path_offset(f->blob, path);
	return off < 0 ? fdt_errno(off) : off;
}

VMC_EXPORT int vmc_fdt_add_node(struct vmc_fdt *f, const char *path)
{
	const char *slash, *name;
	int parent, r;

	vmc__fdt_check(f && path && path[0] == '/', -EINVAL);
	if (f->finished)
		return -EBUSY;
	slash = strrchr(path, '/');
	name = slash + 1;
	if (!*name)
		return -EINVAL;
	for (;;) {
		parent = slash == path
				 ? 0
				 : fdt_path_offset_namelen(f->blob, path,
							   (int)(slash - path));
		if (parent < 0)
			return parent == -FDT_ERR_BADPATH ? -EINVAL
							  : fdt_errno(parent);
		r = fdt_add_subnode(f->blob, parent, name);
		if (r != -FDT_ERR_NOSPACE)
			break;
		r = grow(f);
		if (r < 0)
			return r;
	}
	return r < 0 ? fdt_errno(r) : 0;
}

VMC_EXPORT int vmc_fdt_set_prop(struct vmc_fdt *f, const char *path,
				const char *name, const void *data, size_t len)
{
	int off, r;

	vmc__fdt_check(f && path && name && *name, -EINVAL);
	vmc__fdt_check(data || !len, -EINVAL);
	vmc__fdt_check(len <= INT_MAX, -EINVAL);
	if (f->finished)
		return -EBUSY;
	for (;;) {
		off = node_offset(f, path);
		if (off < 0)
			return off;
		r = fdt_setprop(f->blob, off, name, data, (int)len);
		if (r != -FDT_ERR_NOSPACE)
			break;
		r = grow(f);
		if (r < 0)
			return r;
	}
	return r < 0 ? fdt_errno(r) : 0;
}

VMC_EXPORT int vmc_fdt_set_empty(struct vmc_fdt *f, const char *path,
				 const char *name)
{
	return vmc_fdt_set_prop(f, path, name, NULL, 0);
}

VMC_EXPORT int vmc_fdt_set_u32(struct vmc_fdt *f, const char *path,
			       const char *name, uint32_t value)
{
	fdt32_t v = cpu_to_fdt32(value);

	return vmc_fdt_set_prop(f, path, name, &v, sizeof(v));
}

VMC_EXPORT int vmc_fdt_set_u64(struct vmc_fdt *f, const char *path,
			       const char *name, uint64_t value)
{
	fdt64_t v = cpu_to_fdt64(value);

	return vmc_fdt_set_prop(f, path, name, &v, sizeof(v));
}

VMC_EXPORT int vmc_fdt_set_cells(struct vmc_fdt *f, const char *path,
				 const char *name, const uint32_t *cells,
				 size_t n)
{
	fdt32_t *v;
	int r;

	vmc__fdt_check(cells || !n, -EINVAL);
	vmc__fdt_check(n <= INT_MAX / sizeof(*v), -EINVAL);
	v = malloc(n ? n * sizeof(*v) : 1);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = cpu_to_fdt32(cells[i]);
	r = vmc_fdt_set_prop(f, path, name, v, n * sizeof(*v));
	free(v);
	return r;
}

VMC_EXPORT int vmc_fdt_set_string(struct vmc_fdt *f, const char *path,
				  const char *name, const char *value)
{
	vmc__fdt_check(value, -EINVAL);
	return vmc_fdt_set_prop(f, path, name, value, strlen(value) + 1);
}

VMC_EXPORT int vmc_fdt_set_stringlist(struct vmc_fdt *f, const char *path,
				      const char *name,
				      const char *const *strings, size_t n)
{
	size_t len = 0, pos = 0;
	char *buf;
	int r;

	vmc__fdt_check(strings || !n, -EINVAL);
	for (size_t i = 0; i < n; i++) {
		vmc__fdt_check(strings[i], -EINVAL);
		len += strlen(strings[i]) + 1;
		vmc__fdt_check(len <= INT_MAX, -EINVAL);
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(strings[i]) + 1;

		memcpy(buf + pos, strings[i], l);
		pos += l;
	}
	r = vmc_fdt_set_prop(f, path, name, buf, len);
	free(buf);
	return r;
}

VMC_EXPORT int vmc_fdt_alloc_phandle(struct vmc_fdt *f, const char *path,
				     uint32_t *ret)
{
	uint32_t ph;
	int off, r;

	vmc__fdt_check(f && path && ret, -EINVAL);
	off = node_offset(f, path);
	if (off < 0)
		return off;
	ph = fdt_get_phandle(f->blob, off);
	if (ph) {
		*ret = ph;
		return 0;
	}
	if (f->finished)
		return -EBUSY;
	r = fdt_generate_phandle(f->blob, &ph);
	if (r < 0)
		return -ENOSPC;
	r = vmc_fdt_set_u32(f, path, "phandle", ph);
	if (r < 0)
		return r;
	*ret = ph;
	return 0;
}

/* ------------------------------------------------------------------------
 * Board-level nodes
 */

VMC_EXPORT int vmc_fdt_add_board(struct vmc_fdt *f, const char *model,
				 const char *compatible)
{
	int r;

	vmc__fdt_check(f && model && compatible, -EINVAL);
	if ((r = vmc_fdt_set_u32(f, "/", "#address-cells", 2)) < 0 ||
	    (r = vmc_fdt_set_u32(f, "/", "#size-cells", 2)) < 0 ||
	    (r = vmc_fdt_set_string(f, "/", "compatible", compatible)) < 0 ||
	    (r = vmc_fdt_set_string(f, "/", "model", model)) < 0 ||
	    (r = vmc_fdt_add_node(f, "/soc")) < 0 ||
	    (r = vmc_fdt_set_u32(f, "/soc", "#address-cells", 2)) < 0 ||
	    (r = vmc_fdt_set_u32(f, "/soc", "#size-cells", 2)) < 0 ||
	    (r = vmc_fdt_set_string(f, "/soc", "compatible", "simple-bus")) <
		    0 ||
	    (r = vmc_fdt_set_empty(f, "/soc", "ranges")) < 0)
		return r;
	return 0;
}

static int add_cpu(struct vmc_fdt *f, unsigned int i, const char *isa,
		   const char *mmu_type, uint32_t *ret_intc)
{
	char cpu[48], intc[80], core[64];
	uint32_t ph;
	int r;

	snprintf(cpu, sizeof(cpu), "/cpus/cpu@%u", i);
	snprintf(intc, sizeof(intc), "%s/interrupt-controller", cpu);
	snprintf(core, sizeof(core), "/cpus/cpu-map/cluster0/core%u", i);
	if ((r = vmc_fdt_add_node(f, cpu)) < 0 ||
	    (r = vmc_fdt_alloc_phandle(f, cpu, &ph)) < 0 ||
	    (r = vmc_fdt_set_string(f, cpu, "device_type", "cpu")) < 0 ||
	    (r = vmc_fdt_set_u32(f, cpu, "reg", i)) < 0 ||
	    (r = vmc_fdt_set_string(f, cpu, "status", "okay")) < 0 ||
	    (r = vmc_fdt_set_string(f, cpu, "compatible", "riscv")) < 0 ||
	    (r = vmc_fdt_set_string(f, cpu, "riscv,isa", isa)) < 0)
		return r;
	if (mmu_type &&
	    (r = vmc_fdt_set_string(f, cpu, "mmu-type", mmu_type)) < 0)
		return r;
	if ((r = vmc_fdt_add_node(f, intc)) < 0 ||
	    (r = vmc_fdt_alloc_phandle(f, intc, ret_intc)) < 0 ||
	    (r = vmc_fdt_set_u32(f, intc, "#interrupt-cells", 1)) < 0 ||
	    (r = vmc_fdt_set_empty(f, intc, "interrupt-controller")) < 0 ||
	    (r = vmc_fdt_set_string(f, intc, "compatible", "riscv,cpu-intc")) <
		    0 ||
	    (r = vmc_fdt_add_node(f, core)) < 0 ||
	    (r = vmc_fdt_set_u32(f, core, "cpu", ph)) < 0)
		return r;
	return 0;
}

VMC_EXPORT int vmc_fdt_add_riscv_cpus(struct vmc_fdt *f, unsigned int harts,
				      uint32_t timebase_hz, const char *isa,
				      const char *mmu_type,
				      uint32_t *ret_intc_phandles)
{
	int r;

	vmc__fdt_check(f && harts && isa && ret_intc_phandles, -EINVAL);
	if ((r = vmc_fdt_add_node(f, "/cpus")) < 0 ||
	    (r = vmc_fdt_set_u32(f, "/cpus", "#address-cells", 1)) < 0 ||
	    (r = vmc_fdt_set_u32(f, "/cpus", "#size-cells", 0)) < 0 ||
	    (r = vmc_fdt_set_u32(f, "/cpus", "timebase-frequency",
				 timebase_hz)) < 0 ||
	    (r = vmc_fdt_add_node(f, "/cpus/cpu-map")) < 0 ||
	    (r = vmc_fdt_add_node(f, "/cpus/cpu-map/cluster0")) < 0)
		return r;
	for (unsigned int i = 0; i < harts; i++) {
		r = add_cpu(f, i, isa, mmu_type, &ret_intc_phandles[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

VMC_EXPORT int vmc_fdt_add_memory(struct vmc_fdt *f, uint64_t base,
				  uint64_t size)
{
	char path[48];
	uint32_t reg[4] = {(uint32_t)(base >> 32), (uint32_t)base,
			   (uint32_t)(size >> 32), (uint32_t)size};
	int r;

	vmc__fdt_check(f && size, -EINVAL);
	snprintf(path, sizeof(path), "/memory@%" PRIx64, base);
	if ((r = vmc_fdt_add_node(f, path)) < 0 ||
	    (r = vmc_fdt_set_string(f, path, "device_type", "memory")) < 0 ||
	    (r = vmc_fdt_set_cells(f, path, "reg", reg, 4)) < 0)
		return r;
	return 0;
}

VMC_EXPORT int vmc_fdt_set_chosen(struct vmc_fdt *f, const char *stdout_path,
				  const char *bootargs)
{
	int r;

	vmc__fdt_check(f, -EINVAL);
	r = vmc_fdt_add_node(f, "/chosen");
	if (r < 0 && r != -EEXIST)
		return r;
	if (stdout_path && (r = vmc_fdt_set_string(f, "/chosen", "stdout-path",
						   stdout_path)) < 0)
		return r;
	if (bootargs &&
	    (r = vmc_fdt_set_string(f, "/chosen", "bootargs", bootargs)) < 0)
		return r;
	return 0;
}

VMC_EXPORT int vmc_fdt_add_ns16550(struct vmc_fdt *f, uint64_t base,
				   uint64_t size, uint32_t clock_hz,
				   uint32_t irq_parent, uint32_t irq,
				   bool is_stdout)
{
	char path[48];
	uint32_t reg[4] = {(uint32_t)(base >> 32), (uint32_t)base,
			   (uint32_t)(size >> 32), (uint32_t)size};
	int r;

	vmc__fdt_check(f, -EINVAL);
	snprintf(path, sizeof(path), "/soc/serial@%" PRIx64, base);
	if ((r = vmc_fdt_add_node(f, path)) < 0 ||
	    (r = vmc_fdt_set_string(f, path, "compatible", "ns16550a")) < 0 ||
	    (r = vmc_fdt_set_cells(f, path, "reg", reg, 4)) < 0 ||
	    (r = vmc_fdt_set_u32(f, path, "clock-frequency", clock_hz)) < 0 ||
	    (r = vmc_fdt_set_u32(f, path, "interrupt-parent", irq_parent)) <
		    0 ||
	    (r = vmc_fdt_set_u32(f, path, "interrupts", irq)) < 0)
		return r;
	if (is_stdout)
		return vmc_fdt_set_chosen(f, path, NULL);
	return 0;
}
