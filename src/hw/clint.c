/* SPDX-License-Identifier: MIT */
/*
 * RISC-V CLINT, written only against libvmcore's public headers.
 *
 * mtime is not stored: it is computed from the VM's virtual clock as
 * ticks(now) + delta, where delta absorbs guest writes to mtime and resets.
 * Each hart has one timer on the virtual clock, armed for the first
 * nanosecond at which mtime reaches its mtimecmp; its callback (VM lock
 * held: the timers are the VM's, see vmc-vm.h) re-evaluates and raises
 * MTIP.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-hw-clint.h>
#include <libvmcore/vmc-riscv.h>

#include "hw-internal.h"
#include "hw-snap.h"
#include "vmc-config.h"

#if VMC_HAVE_FDT
#include <libvmcore/vmc-fdt.h>
#endif

#define NS_PER_SEC 1000000000u

struct clint_hart {
	struct vmc_clint *clint;
	unsigned int index;
	uint32_t msip;
	uint64_t mtimecmp;
	struct vmc_timer *timer;
};

struct vmc_clint {
	struct vmc_vm *vm;
	struct vmc_clock *clock;
	unsigned int hart_base, harts;
	uint32_t freq;
	uint64_t delta;	       /* mtime = ticks(clock) + delta, modulo 2^64 */
	struct vmc_irq **irqs; /* [2 * i] MSIP, [2 * i + 1] MTIP */
	bool own_irqs;
	struct clint_hart *hart;
	struct vmc_vm_reset_handler *reset_handler;
	struct vmc_snapshot_section *section;
	struct vmc_region *region;
};

static uint64_t ticks_at(const struct vmc_clint *c, int64_t ns)
{
	if (ns <= 0)
		return 0;
	return (uint64_t)((unsigned __int128)ns * c->freq / NS_PER_SEC);
}

static uint64_t mtime_now(const struct vmc_clint *c)
{
	return ticks_at(c, vmc_clock_get_ns(c->clock)) + c->delta;
}

static void update_timer(struct clint_hart *h)
{
	struct vmc_clint *c = h->clint;
	int64_t ns = vmc_clock_get_ns(c->clock);
	uint64_t ticks = ticks_at(c, ns);
	uint64_t now = ticks + c->delta;
	unsigned __int128 target, deadline;

	if (h->mtimecmp <= now) {
		vmc_timer_del(h->timer);
		vmc_irq_set(c->irqs[2 * h->index + 1], true);
		return;
	}
	vmc_irq_set(c->irqs[2 * h->index + 1], false);
	/*
	 * The clock tick count at which mtime equals mtimecmp, and the first
	 * nanosecond at which the clock reaches it (rounded up, so that the
	 * timer never fires a tick early).
	 */
	target = (unsigned __int128)ticks + (h->mtimecmp - now);
	deadline = (target * NS_PER_SEC + c->freq - 1) / c->freq;
	if (deadline > (unsigned __int128)INT64_MAX) {
		vmc_timer_del(h->timer);
		return;
	}
	vmc_timer_mod(h->timer, (int64_t)deadline);
}

static void timer_cb(struct vmc_timer *t, void *userdata)
{
	update_timer(userdata);
}

static void set_msip(struct clint_hart *h, uint32_t value)
{
	h->msip = value & 1;
	vmc_irq_set(h->clint->irqs[2 * h->index], h->msip != 0);
}

/* Merge a 4- or 8-byte write at byte @sub of a 64-bit register. */
static uint64_t merge64(uint64_t old, uint64_t sub, uint64_t value,
			unsigned int size)
{
	if (size == 8)
		return value;
	if (sub == 0)
		return (old & 0xffffffff00000000ull) | (uint32_t)value;
	return (old & 0xffffffffull) | ((uint64_t)(uint32_t)value << 32);
}

static uint64_t extract64(uint64_t v, uint64_t sub, unsigned int size)
{
	if (size == 8)
		return v;
	return sub == 0 ? (uint32_t)v : (uint32_t)(v >> 32);
}

/* A 64-bit register takes aligned 8-byte and 4-byte accesses. */
static bool access64_ok(uint64_t sub, unsigned int size)
{
	return (size == 8 && sub == 0) || (size == 4 && (sub == 0 || sub == 4));
}

static uint64_t reg_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct vmc_clint *c = opaque;

	if (offset < VMC_CLINT_MTIMECMP) {
		uint64_t i = offset / 4;

		if (i < c->harts && size == 4 && offset % 4 == 0)
			return c->hart[i].msip;
		return 0;
	}
	if (offset >= VMC_CLINT_MTIME) {
		uint64_t sub = offset - VMC_CLINT_MTIME;

		return access64_ok(sub, size)
			       ? extract64(mtime_now(c), sub, size)
			       : 0;
	}
	offset -= VMC_CLINT_MTIMECMP;
	if (offset / 8 < c->harts && access64_ok(offset % 8, size))
		return extract64(c->hart[offset / 8].mtimecmp, offset % 8,
				 size);
	return 0;
}

static void reg_write(void *opaque, uint64_t offset, uint64_t value,
		      unsigned int size)
{
	struct vmc_clint *c = opaque;

	if (offset < VMC_CLINT_MTIMECMP) {
		uint64_t i = offset / 4;

		if (i < c->harts && size == 4 && offset % 4 == 0)
			set_msip(&c->hart[i], (uint32_t)value);
		return;
	}
	if (offset >= VMC_CLINT_MTIME) {
		uint64_t sub = offset - VMC_CLINT_MTIME;
		uint64_t ticks, mtime;

		if (!access64_ok(sub, size))
			return;
		ticks = ticks_at(c, vmc_clock_get_ns(c->clock));
		mtime = merge64(ticks + c->delta, sub, value, size);
		c->delta = mtime - ticks;
		for (unsigned int i = 0; i < c->harts; i++)
			update_timer(&c->hart[i]);
		return;
	}
	offset -= VMC_CLINT_MTIMECMP;
	if (offset / 8 < c->harts && access64_ok(offset % 8, size)) {
		struct clint_hart *h = &c->hart[offset / 8];

		h->mtimecmp = merge64(h->mtimecmp, offset % 8, value, size);
		update_timer(h);
	}
}

int vmc__clint_read(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t *value)
{
	*value = reg_read(opaque, offset, size);
	return 0;
}

int vmc__clint_write(void *opaque, uint64_t offset, unsigned int size,
		     uint64_t value)
{
	reg_write(opaque, offset, value, size);
	return 0;
}

static void clint_reset(struct vmc_vm *vm, void *userdata)
{
	struct vmc_clint *c = userdata;

	c->delta = -ticks_at(c, vmc_clock_get_ns(c->clock));
	for (unsigned int i = 0; i < c->harts; i++) {
		set_msip(&c->hart[i], 0);
		c->hart[i].mtimecmp = UINT64_MAX;
		update_timer(&c->hart[i]);
	}
}

/* ------------------------------------------------------------------------
 * Snapshot section "clint" (version 1): mtime's delta to the virtual
 * clock, and each hart's msip and mtimecmp.  The timers and the lines
 * follow from them and the restored clock.
 */

static void clint_snap_io(struct hw_snap *s, uint64_t *delta, uint32_t *harts,
			  uint32_t *msip, uint64_t *cmp, unsigned int n)
{
	if (s->save) {
		hw_snap_put(s, *delta, 8);
		hw_snap_put(s, *harts, 4);
		for (unsigned int i = 0; i < n; i++) {
			hw_snap_put(s, msip[i], 4);
			hw_snap_put(s, cmp[i], 8);
		}
		return;
	}
	*delta = hw_snap_get(s, 8);
	*harts = (uint32_t)hw_snap_get(s, 4);
	for (unsigned int i = 0; i < n && i < *harts; i++) {
		msip[i] = (uint32_t)hw_snap_get(s, 4);
		cmp[i] = hw_snap_get(s, 8);
	}
}

static int clint_snap_save(void *opaque, void *buf, size_t size)
{
	struct vmc_clint *c = opaque;
	struct hw_snap s = {.save = true, .out = buf, .size = size};
	uint32_t harts = c->harts;

	hw_snap_put(&s, c->delta, 8);
	hw_snap_put(&s, harts, 4);
	for (unsigned int i = 0; i < c->harts; i++) {
		hw_snap_put(&s, c->hart[i].msip, 4);
		hw_snap_put(&s, c->hart[i].mtimecmp, 8);
	}
	return hw_snap_result(&s);
}

/* Parse into @msip/@cmp (c->harts entries each). */
static int clint_snap_parse(struct vmc_clint *c, const void *buf, size_t size,
			    uint32_t version, uint64_t *delta, uint32_t *msip,
			    uint64_t *cmp)
{
	struct hw_snap s = {.in = buf, .size = size};
	uint32_t harts = 0;

	if (version != 1)
		return -EINVAL;
	clint_snap_io(&s, delta, &harts, msip, cmp, c->harts);
	if (!hw_snap_done(&s) || harts != c->harts)
		return -EINVAL;
	for (unsigned int i = 0; i < harts; i++)
		if (msip[i] > 1)
			return -EINVAL;
	return 0;
}

static int clint_snap_check(void *opaque, const void *buf, size_t size,
			    uint32_t version)
{
	struct vmc_clint *c = opaque;
	uint32_t msip[VMC_CLINT_MAX_HARTS];
	uint64_t cmp[VMC_CLINT_MAX_HARTS], delta;

	return clint_snap_parse(c, buf, size, version, &delta, msip, cmp);
}

static int clint_snap_load(void *opaque, const void *buf, size_t size,
			   uint32_t version)
{
	struct vmc_clint *c = opaque;
	uint32_t msip[VMC_CLINT_MAX_HARTS];
	uint64_t cmp[VMC_CLINT_MAX_HARTS], delta;
	int r = clint_snap_parse(c, buf, size, version, &delta, msip, cmp);

	if (r < 0)
		return r;
	c->delta = delta;
	for (unsigned int i = 0; i < c->harts; i++) {
		set_msip(&c->hart[i], msip[i]);
		c->hart[i].mtimecmp = cmp[i];
		update_timer(&c->hart[i]);
	}
	return 0;
}

static const struct vmc_snapshot_section_ops clint_snap_ops = {
	.struct_size = sizeof(clint_snap_ops),
	.save = clint_snap_save,
	.check = clint_snap_check,
	.load = clint_snap_load,
};

VMC_EXPORT void vmc_clint_config_init(struct vmc_clint_config *config)
{
	if (!config)
		return;
	*config = (struct vmc_clint_config){
		.size = sizeof(*config),
		.harts = 1,
		.timebase_hz = 10000000,
	};
}

/* The memory, once no callback can run any more (ops.release). */
static void clint_destroy(void *dev)
{
	struct vmc_clint *c = dev;

	if (c->own_irqs && c->irqs) {
		for (unsigned int i = 0; i < 2 * c->harts; i++)
			vmc_irq_free(c->irqs[i]);
	}
	free(c->irqs);
	free(c->hart);
	free(c);
}

VMC_EXPORT void vmc_clint_free(struct vmc_clint *c)
{
	if (!c)
		return;
	/* No register callback runs from here on (vmc-memory.h). */
	if (c->region)
		vmc_region_detach_ops(c->region);
	if (c->reset_handler)
		vmc_vm_remove_reset_handler(c->vm, c->reset_handler);
	vmc_vm_remove_snapshot_section(c->vm, c->section);
	c->section = NULL;
	for (unsigned int i = 0; c->hart && i < c->harts; i++)
		vmc_timer_free(c->hart[i].timer);
	if (c->region)
		vmc_region_unref(c->region);
	else
		clint_destroy(c);
}

VMC_EXPORT struct vmc_region *vmc_clint_get_region(struct vmc_clint *c)
{
	return c ? c->region : NULL;
}

static int make_irqs(struct vmc_clint *c, const struct vmc_clint_config *cfg)
{
	static const unsigned int lines[2] = {VMC_RISCV_IRQ_MSIP,
					      VMC_RISCV_IRQ_MTIP};
	int r;

	c->irqs = calloc(2 * (size_t)c->harts, sizeof(*c->irqs));
	if (!c->irqs)
		return -ENOMEM;
	if (cfg->irqs) {
		for (unsigned int i = 0; i < 2 * c->harts; i++)
			c->irqs[i] = cfg->irqs[i];
		return 0;
	}
	c->own_irqs = true;
	for (unsigned int i = 0; i < 2 * c->harts; i++) {
		struct vmc_vcpu *vcpu =
			vmc_vm_get_vcpu(c->vm, cfg->hart_base + i / 2);

		r = vmc_irq_new_vcpu(vcpu, lines[i % 2], &c->irqs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

VMC_EXPORT int vmc_clint_new(const struct vmc_clint_config *cfg,
			     struct vmc_clint **ret)
{
	static const struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = vmc__clint_read,
		.write = vmc__clint_write,
		.release = clint_destroy,
		.min_access_size = 4,
		.max_access_size = 8,
		.endian = VMC_ENDIAN_LITTLE,
	};
	struct vmc_clint *c;
	int r;

	VMC_CHECK_RETURN(cfg && ret && cfg->size >= sizeof(*cfg) && cfg->vm,
			 -EINVAL);
	VMC_CHECK_RETURN(cfg->harts && cfg->harts <= VMC_CLINT_MAX_HARTS &&
				 cfg->timebase_hz,
			 -EINVAL);
	VMC_CHECK_RETURN(
		cfg->irqs || (cfg->hart_base < vmc_vm_get_vcpu_count(cfg->vm) &&
			      cfg->harts <= vmc_vm_get_vcpu_count(cfg->vm) -
						    cfg->hart_base),
		-EINVAL);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm = cfg->vm;
	c->clock = vmc_vm_get_clock(cfg->vm);
	c->hart_base = cfg->hart_base;
	c->harts = cfg->harts;
	c->freq = cfg->timebase_hz;
	c->hart = calloc(c->harts, sizeof(*c->hart));
	if (!c->hart) {
		r = -ENOMEM;
		goto fail;
	}
	r = make_irqs(c, cfg);
	if (r < 0)
		goto fail;
	for (unsigned int i = 0; i < c->harts; i++) {
		c->hart[i].clint = c;
		c->hart[i].index = i;
		c->hart[i].mtimecmp = UINT64_MAX;
		r = vmc_vm_timer_new(c->vm, VMC_CLOCK_VIRTUAL, timer_cb,
				     &c->hart[i], &c->hart[i].timer);
		if (r < 0)
			goto fail;
	}
	r = vmc_vm_add_reset_handler(c->vm, clint_reset, c, &c->reset_handler);
	if (r < 0)
		goto fail;
	r = vmc_vm_add_snapshot_section(c->vm, "clint", 1, &clint_snap_ops, c,
					&c->section);
	if (r < 0)
		goto fail;
	r = vmc_region_new_io(vmc_vm_get_memory(c->vm), "clint", VMC_CLINT_SIZE,
			      &ops, c, 0, &c->region);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	vmc_clint_free(c);
	return r;
}

VMC_EXPORT uint64_t vmc_clint_get_mtime(const struct vmc_clint *c)
{
	return c ? mtime_now(c) : 0;
}

#if VMC_HAVE_FDT
VMC_EXPORT int vmc_clint_fdt_add(const struct vmc_clint *c, struct vmc_fdt *fdt,
				 uint64_t base, const uint32_t *intc)
{
	static const char *const compat[] = {"sifive,clint0", "riscv,clint0"};
	uint32_t reg[4] = {(uint32_t)(base >> 32), (uint32_t)base, 0,
			   VMC_CLINT_SIZE};
	uint32_t *cells;
	char path[48];
	int r;

	VMC_CHECK_RETURN(c && fdt && intc, -EINVAL);
	cells = calloc(4 * (size_t)c->harts, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->harts; i++) {
		cells[4 * i + 0] = intc[c->hart_base + i];
		cells[4 * i + 1] = VMC_RISCV_IRQ_MSIP;
		cells[4 * i + 2] = intc[c->hart_base + i];
		cells[4 * i + 3] = VMC_RISCV_IRQ_MTIP;
	}
	snprintf(path, sizeof(path), "/soc/clint@%" PRIx64, base);
	if ((r = vmc_fdt_add_node(fdt, path)) < 0 ||
	    (r = vmc_fdt_set_stringlist(fdt, path, "compatible", compat, 2)) <
		    0 ||
	    (r = vmc_fdt_set_cells(fdt, path, "reg", reg, 4)) < 0 ||
	    (r = vmc_fdt_set_cells(fdt, path, "interrupts-extended", cells,
				   4 * (size_t)c->harts)) < 0)
		goto out;
	r = 0;
out:
	free(cells);
	return r;
}
#endif
