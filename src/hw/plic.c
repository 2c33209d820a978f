/* SPDX-License-Identifier: MIT */
/*
 * RISC-V PLIC, written only against libvmcore's public headers.
 *
 * State is kept as bitmaps of 32-bit words, the layout the guest sees:
 * input levels, pending bits, claimed (gated) bits, and per context the
 * enable bits.  Every change recomputes the outputs of all contexts; with
 * 96 sources that is a handful of word operations per context.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-hw-plic.h>
#include <libvmcore/vmc-riscv.h>

#include "hw-internal.h"
#include "hw-snap.h"
#include "vmc-config.h"

#if VMC_HAVE_FDT
#include <libvmcore/vmc-fdt.h>
#endif

struct vmc_plic {
	struct vmc_vm *vm;
	unsigned int hart_base, harts, nctx, nsrc, nwords;
	struct vmc_irq **inputs;  /* nsrc; [0] unused */
	struct vmc_irq **outputs; /* nctx */
	bool own_outputs;
	bool *out_level;    /* nctx: the level last driven */
	uint8_t *priority;  /* nsrc */
	uint8_t *threshold; /* nctx */
	uint32_t *level;    /* nwords: input levels */
	uint32_t *pending;  /* nwords */
	uint32_t *claimed;  /* nwords */
	uint32_t *enable;   /* nctx * nwords */
	struct vmc_vm_reset_handler *reset_handler;
	struct vmc_snapshot_section *section;
	struct vmc_region *region;
};

static bool test_bit(const uint32_t *map, unsigned int n)
{
	return (map[n / 32] >> (n % 32)) & 1;
}

static void assign_bit(uint32_t *map, unsigned int n, bool v)
{
	if (v)
		map[n / 32] |= 1u << (n % 32);
	else
		map[n / 32] &= ~(1u << (n % 32));
}

/* The source a claim by @ctx would return now, or 0. */
static unsigned int best_source(const struct vmc_plic *p, unsigned int ctx)
{
	const uint32_t *en = &p->enable[(size_t)ctx * p->nwords];
	unsigned int best = 0, best_prio = p->threshold[ctx];

	for (unsigned int w = 0; w < p->nwords; w++) {
		uint32_t bits = p->pending[w] & en[w] & ~p->claimed[w];

		while (bits) {
			unsigned int src =
				w * 32 + (unsigned int)__builtin_ctz(bits);

			bits &= bits - 1;
			/* Strictly greater: the lowest id wins among equals. */
			if (p->priority[src] > best_prio) {
				best = src;
				best_prio = p->priority[src];
			}
		}
	}
	return best;
}

static void update_outputs(struct vmc_plic *p, bool force)
{
	for (unsigned int ctx = 0; ctx < p->nctx; ctx++) {
		bool level = best_source(p, ctx) != 0;

		if (force || level != p->out_level[ctx]) {
			p->out_level[ctx] = level;
			vmc_irq_set(p->outputs[ctx], level);
		}
	}
}

/* A source's input line changed (VM lock held by whoever set it). */
static void input_handler(void *opaque, unsigned int src, bool level)
{
	struct vmc_plic *p = opaque;

	assign_bit(p->level, src, level);
	/* The gateway holds a claimed source until it is completed. */
	if (!test_bit(p->claimed, src))
		assign_bit(p->pending, src, level);
	update_outputs(p, false);
}

static uint32_t claim(struct vmc_plic *p, unsigned int ctx)
{
	unsigned int src = best_source(p, ctx);

	if (src) {
		assign_bit(p->pending, src, false);
		assign_bit(p->claimed, src, true);
		update_outputs(p, false);
	}
	return src;
}

static void complete(struct vmc_plic *p, unsigned int ctx, uint64_t src)
{
	if (src == 0 || src >= p->nsrc ||
	    !test_bit(&p->enable[(size_t)ctx * p->nwords], (unsigned int)src))
		return;
	assign_bit(p->claimed, (unsigned int)src, false);
	if (test_bit(p->level, (unsigned int)src))
		assign_bit(p->pending, (unsigned int)src, true);
	update_outputs(p, false);
}

/* Mask of the implemented sources in enable/pending word @w. */
static uint32_t word_mask(const struct vmc_plic *p, unsigned int w)
{
	uint32_t m = UINT32_MAX;
	unsigned int last = p->nsrc - w * 32; /* sources in this word */

	if (last < 32)
		m = (1u << last) - 1;
	if (w == 0)
		m &= ~1u; /* source 0 does not exist */
	return m;
}

static uint64_t reg_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct vmc_plic *p = opaque;

	if (size != 4 || offset % 4)
		return 0;
	if (offset < VMC_PLIC_PENDING) {
		uint64_t src = offset / 4;

		return src > 0 && src < p->nsrc ? p->priority[src] : 0;
	}
	if (offset < VMC_PLIC_ENABLE) {
		uint64_t w = (offset - VMC_PLIC_PENDING) / 4;

		return w < p->nwords ? p->pending[w] : 0;
	}
	if (offset < VMC_PLIC_CONTEXT) {
		uint64_t ctx =
			(offset - VMC_PLIC_ENABLE) / VMC_PLIC_ENABLE_STRIDE;
		uint64_t w =
			(offset - VMC_PLIC_ENABLE) % VMC_PLIC_ENABLE_STRIDE / 4;

		if (ctx < p->nctx && w < p->nwords)
			return p->enable[ctx * p->nwords + w];
		return 0;
	}
	offset -= VMC_PLIC_CONTEXT;
	if (offset / VMC_PLIC_CONTEXT_STRIDE < p->nctx) {
		unsigned int ctx =
			(unsigned int)(offset / VMC_PLIC_CONTEXT_STRIDE);

		switch (offset % VMC_PLIC_CONTEXT_STRIDE) {
		case 0:
			return p->threshold[ctx];
		case 4:
			return claim(p, ctx);
		}
	}
	return 0;
}

static void reg_write(void *opaque, uint64_t offset, uint64_t value,
		      unsigned int size)
{
	struct vmc_plic *p = opaque;

	if (size != 4 || offset % 4)
		return;
	if (offset < VMC_PLIC_PENDING) {
		uint64_t src = offset / 4;

		if (src > 0 && src < p->nsrc) {
			p->priority[src] = value & VMC_PLIC_MAX_PRIORITY;
			update_outputs(p, false);
		}
		return;
	}
	if (offset < VMC_PLIC_ENABLE)
		return; /* pending bits are read-only */
	if (offset < VMC_PLIC_CONTEXT) {
		uint64_t ctx =
			(offset - VMC_PLIC_ENABLE) / VMC_PLIC_ENABLE_STRIDE;
		uint64_t w =
			(offset - VMC_PLIC_ENABLE) % VMC_PLIC_ENABLE_STRIDE / 4;

		if (ctx < p->nctx && w < p->nwords) {
			p->enable[ctx * p->nwords + w] =
				(uint32_t)value & word_mask(p, (unsigned int)w);
			update_outputs(p, false);
		}
		return;
	}
	offset -= VMC_PLIC_CONTEXT;
	if (offset / VMC_PLIC_CONTEXT_STRIDE < p->nctx) {
		unsigned int ctx =
			(unsigned int)(offset / VMC_PLIC_CONTEXT_STRIDE);

		switch (offset % VMC_PLIC_CONTEXT_STRIDE) {
		case 0:
			p->threshold[ctx] = value & VMC_PLIC_MAX_PRIORITY;
			update_outputs(p, false);
			break;
		case 4:
			complete(p, ctx, (uint32_t)value);
			break;
		}
	}
}

int vmc__plic_read(void *opaque, uint64_t offset, unsigned int size,
		   uint64_t *value)
{
	*value = reg_read(opaque, offset, size);
	return 0;
}

int vmc__plic_write(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t value)
{
	reg_write(opaque, offset, value, size);
	return 0;
}

static void plic_reset(struct vmc_vm *vm, void *userdata)
{
	struct vmc_plic *p = userdata;

	for (unsigned int i = 0; i < p->nsrc; i++)
		p->priority[i] = 0;
	for (unsigned int i = 0; i < p->nctx; i++)
		p->threshold[i] = 0;
	for (size_t i = 0; i < (size_t)p->nctx * p->nwords; i++)
		p->enable[i] = 0;
	for (unsigned int w = 0; w < p->nwords; w++) {
		p->claimed[w] = 0;
		p->pending[w] = p->level[w];
	}
	update_outputs(p, true);
}

VMC_EXPORT void vmc_plic_config_init(struct vmc_plic_config *config)
{
	if (!config)
		return;
	*config = (struct vmc_plic_config){
		.size = sizeof(*config),
		.harts = 1,
		.num_sources = VMC_PLIC_VIRT_SOURCES,
	};
}

/* The memory, once no callback can run any more (ops.release). */
static void plic_destroy(void *dev)
{
	struct vmc_plic *p = dev;

	for (unsigned int i = 0; p->inputs && i < p->nsrc; i++)
		vmc_irq_free(p->inputs[i]);
	if (p->own_outputs && p->outputs) {
		for (unsigned int i = 0; i < p->nctx; i++)
			vmc_irq_free(p->outputs[i]);
	}
	free(p->inputs);
	free(p->outputs);
	free(p->out_level);
	free(p->priority);
	free(p->threshold);
	free(p->level);
	free(p->pending);
	free(p->claimed);
	free(p->enable);
	free(p);
}

/* ------------------------------------------------------------------------
 * Snapshot section "plic" (version 1): the source and context counts (to
 * refuse another shape), priorities, thresholds, input levels, pending,
 * claimed and enable bits.  The output lines are driven again from them.
 */

static void plic_snap_io(struct vmc_plic *p, struct hw_snap *s,
			 struct vmc_plic *v)
{
	size_t en = (size_t)p->nctx * p->nwords;

	if (s->save) {
		hw_snap_put(s, p->nsrc, 4);
		hw_snap_put(s, p->nctx, 4);
		hw_snap_bytes(s, p->priority, p->nsrc);
		hw_snap_bytes(s, p->threshold, p->nctx);
		for (unsigned int w = 0; w < p->nwords; w++) {
			hw_snap_put(s, p->level[w], 4);
			hw_snap_put(s, p->pending[w], 4);
			hw_snap_put(s, p->claimed[w], 4);
		}
		for (size_t i = 0; i < en; i++)
			hw_snap_put(s, p->enable[i], 4);
		return;
	}
	if (hw_snap_get(s, 4) != p->nsrc || hw_snap_get(s, 4) != p->nctx) {
		s->err = true;
		return;
	}
	hw_snap_get_bytes(s, v->priority, p->nsrc);
	hw_snap_get_bytes(s, v->threshold, p->nctx);
	for (unsigned int w = 0; w < p->nwords; w++) {
		v->level[w] = (uint32_t)hw_snap_get(s, 4) & word_mask(p, w);
		v->pending[w] = (uint32_t)hw_snap_get(s, 4) & word_mask(p, w);
		v->claimed[w] = (uint32_t)hw_snap_get(s, 4) & word_mask(p, w);
	}
	for (size_t i = 0; i < en; i++)
		v->enable[i] = (uint32_t)hw_snap_get(s, 4) &
			       word_mask(p, (unsigned int)(i % p->nwords));
}

static int plic_snap_save(void *opaque, void *buf, size_t size)
{
	struct hw_snap s = {.save = true, .out = buf, .size = size};

	plic_snap_io(opaque, &s, NULL);
	return hw_snap_result(&s);
}

/* Parse into freshly allocated arrays of @v (freed by the caller). */
static int plic_snap_parse(struct vmc_plic *p, const void *buf, size_t size,
			   uint32_t version, struct vmc_plic *v)
{
	struct hw_snap s = {.in = buf, .size = size};

	if (version != 1)
		return -EINVAL;
	v->priority = calloc(p->nsrc, 1);
	v->threshold = calloc(p->nctx, 1);
	v->level = calloc(p->nwords, 4);
	v->pending = calloc(p->nwords, 4);
	v->claimed = calloc(p->nwords, 4);
	v->enable = calloc((size_t)p->nctx * p->nwords, 4);
	if (!v->priority || !v->threshold || !v->level || !v->pending ||
	    !v->claimed || !v->enable)
		return -ENOMEM;
	plic_snap_io(p, &s, v);
	return hw_snap_done(&s) ? 0 : -EINVAL;
}

static void plic_snap_free(struct vmc_plic *v)
{
	free(v->priority);
	free(v->threshold);
	free(v->level);
	free(v->pending);
	free(v->claimed);
	free(v->enable);
}

static int plic_snap_check(void *opaque, const void *buf, size_t size,
			   uint32_t version)
{
	struct vmc_plic v = {0};
	int r = plic_snap_parse(opaque, buf, size, version, &v);

	plic_snap_free(&v);
	return r;
}

static int plic_snap_load(void *opaque, const void *buf, size_t size,
			  uint32_t version)
{
	struct vmc_plic *p = opaque, v = {0};
	int r = plic_snap_parse(p, buf, size, version, &v);

	if (r == 0) {
		memcpy(p->priority, v.priority, p->nsrc);
		memcpy(p->threshold, v.threshold, p->nctx);
		memcpy(p->level, v.level, p->nwords * 4u);
		memcpy(p->pending, v.pending, p->nwords * 4u);
		memcpy(p->claimed, v.claimed, p->nwords * 4u);
		memcpy(p->enable, v.enable, (size_t)p->nctx * p->nwords * 4u);
		update_outputs(p, true);
	}
	plic_snap_free(&v);
	return r;
}

static const struct vmc_snapshot_section_ops plic_snap_ops = {
	.struct_size = sizeof(plic_snap_ops),
	.save = plic_snap_save,
	.check = plic_snap_check,
	.load = plic_snap_load,
};

VMC_EXPORT void vmc_plic_free(struct vmc_plic *p)
{
	if (!p)
		return;
	/* No register callback runs from here on (vmc-memory.h). */
	if (p->region)
		vmc_region_detach_ops(p->region);
	if (p->reset_handler)
		vmc_vm_remove_reset_handler(p->vm, p->reset_handler);
	vmc_vm_remove_snapshot_section(p->vm, p->section);
	p->section = NULL;
	if (p->region)
		vmc_region_unref(p->region);
	else
		plic_destroy(p);
}

VMC_EXPORT struct vmc_region *vmc_plic_get_region(struct vmc_plic *p)
{
	return p ? p->region : NULL;
}

static int make_lines(struct vmc_plic *p, const struct vmc_plic_config *cfg)
{
	int r;

	for (unsigned int i = 1; i < p->nsrc; i++) {
		r = vmc_irq_new(input_handler, p, i, &p->inputs[i]);
		if (r < 0)
			return r;
	}
	if (cfg->irqs) {
		for (unsigned int i = 0; i < p->nctx; i++)
			p->outputs[i] = cfg->irqs[i];
		return 0;
	}
	p->own_outputs = true;
	for (unsigned int i = 0; i < p->nctx; i++) {
		struct vmc_vcpu *vcpu =
			vmc_vm_get_vcpu(p->vm, cfg->hart_base + i / 2);

		r = vmc_irq_new_vcpu(
			vcpu, i % 2 ? VMC_RISCV_IRQ_SEIP : VMC_RISCV_IRQ_MEIP,
			&p->outputs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

VMC_EXPORT int vmc_plic_new(const struct vmc_plic_config *cfg,
			    struct vmc_plic **ret)
{
	static const struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = vmc__plic_read,
		.write = vmc__plic_write,
		.release = plic_destroy,
		.min_access_size = 4,
		.max_access_size = 4,
		.endian = VMC_ENDIAN_LITTLE,
	};
	struct vmc_plic *p;
	size_t nctx, nw;
	int r;

	VMC_CHECK_RETURN(cfg && ret && cfg->size >= sizeof(*cfg) && cfg->vm,
			 -EINVAL);
	VMC_CHECK_RETURN(cfg->harts && cfg->harts <= VMC_PLIC_MAX_HARTS &&
				 cfg->num_sources >= 2 &&
				 cfg->num_sources <= VMC_PLIC_MAX_SOURCES,
			 -EINVAL);
	VMC_CHECK_RETURN(
		cfg->irqs || (cfg->hart_base < vmc_vm_get_vcpu_count(cfg->vm) &&
			      cfg->harts <= vmc_vm_get_vcpu_count(cfg->vm) -
						    cfg->hart_base),
		-EINVAL);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->vm = cfg->vm;
	p->hart_base = cfg->hart_base;
	p->harts = cfg->harts;
	p->nctx = 2 * cfg->harts;
	p->nsrc = cfg->num_sources;
	p->nwords = (p->nsrc + 31) / 32;
	nctx = p->nctx;
	nw = p->nwords;
	p->inputs = calloc(p->nsrc, sizeof(*p->inputs));
	p->outputs = calloc(nctx, sizeof(*p->outputs));
	p->out_level = calloc(nctx, sizeof(*p->out_level));
	p->priority = calloc(p->nsrc, sizeof(*p->priority));
	p->threshold = calloc(nctx, sizeof(*p->threshold));
	p->level = calloc(nw, sizeof(*p->level));
	p->pending = calloc(nw, sizeof(*p->pending));
	p->claimed = calloc(nw, sizeof(*p->claimed));
	p->enable = calloc(nctx * nw, sizeof(*p->enable));
	if (!p->inputs || !p->outputs || !p->out_level || !p->priority ||
	    !p->threshold || !p->level || !p->pending || !p->claimed ||
	    !p->enable) {
		r = -ENOMEM;
		goto fail;
	}
	r = make_lines(p, cfg);
	if (r < 0)
		goto fail;
	r = vmc_vm_add_reset_handler(p->vm, plic_reset, p, &p->reset_handler);
	if (r < 0)
		goto fail;
	r = vmc_vm_add_snapshot_section(p->vm, "plic", 1, &plic_snap_ops, p,
					&p->section);
	if (r < 0)
		goto fail;
	r = vmc_region_new_io(vmc_vm_get_memory(p->vm), "plic",
			      VMC_PLIC_CONTEXT + VMC_PLIC_CONTEXT_STRIDE *
							 (uint64_t)p->nctx,
			      &ops, p, 0, &p->region);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	vmc_plic_free(p);
	return r;
}

VMC_EXPORT struct vmc_irq *vmc_plic_get_irq(struct vmc_plic *p,
					    unsigned int source)
{
	if (!p || source == 0 || source >= p->nsrc)
		return NULL;
	return p->inputs[source];
}

VMC_EXPORT unsigned int vmc_plic_get_num_sources(const struct vmc_plic *p)
{
	return p ? p->nsrc : 0;
}

#if VMC_HAVE_FDT
VMC_EXPORT int vmc_plic_fdt_add(const struct vmc_plic *p, struct vmc_fdt *fdt,
				uint64_t base, const uint32_t *intc,
				uint32_t *ret_phandle)
{
	static const char *const compat[] = {"sifive,plic-1.0.0",
					     "riscv,plic0"};
	uint64_t size =
		VMC_PLIC_CONTEXT + (uint64_t)p->nctx * VMC_PLIC_CONTEXT_STRIDE;
	uint32_t reg[4] = {(uint32_t)(base >> 32), (uint32_t)base,
			   (uint32_t)(size >> 32), (uint32_t)size};
	uint32_t *cells, ph;
	char path[48];
	int r;

	VMC_CHECK_RETURN(p && fdt && intc, -EINVAL);
	cells = calloc(2 * (size_t)p->nctx, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	for (unsigned int i = 0; i < p->nctx; i++) {
		cells[2 * i] = intc[p->hart_base + i / 2];
		cells[2 * i + 1] =
			i % 2 ? VMC_RISCV_IRQ_SEIP : VMC_RISCV_IRQ_MEIP;
	}
	snprintf(path, sizeof(path), "/soc/plic@%" PRIx64, base);
	if ((r = vmc_fdt_add_node(fdt, path)) < 0 ||
	    (r = vmc_fdt_alloc_phandle(fdt, path, &ph)) < 0 ||
	    (r = vmc_fdt_set_u32(fdt, path, "#interrupt-cells", 1)) < 0 ||
	    (r = vmc_fdt_set_u32(fdt, path, "#address-cells", 0)) < 0 ||
	    (r = vmc_fdt_set_stringlist(fdt, path, "compatible", compat, 2)) <
		    0 ||
	    (r = vmc_fdt_set_empty(fdt, path, "interrupt-controller")) < 0 ||
	    (r = vmc_fdt_set_cells(fdt, path, "interrupts-extended", cells,
				   2 * (size_t)p->nctx)) < 0 ||
	    (r = vmc_fdt_set_cells(fdt, path, "reg", reg, 4)) < 0 ||
	    (r = vmc_fdt_set_u32(fdt, path, "riscv,ndev", p->nsrc - 1)) < 0)
		goto out;
	if (ret_phandle)
		*ret_phandle = ph;
	r = 0;
out:
	free(cells);
	return r;
}
#endif
