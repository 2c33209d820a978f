/* SPDX-License-Identifier: MIT */
/*
 * Guest memory access through the published flat view: RAM copies, I/O
 * callbacks with their access rules, ioeventfds on the software paths,
 * unassigned addresses, and zero-copy mappings.  Any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "loop-internal.h"
#include "memory-internal.h"

struct vmc__as_mapping {
	struct vmc__as_mapping *next;
	void *ptr;
	struct vmc__flat_view *view;
	/* A writable mapping's bytes in their RAM region (snapshots). */
	struct vmc_region *region;
	uint64_t offset;
	size_t len;
	bool write;
};

/* ------------------------------------------------------------------------
 * Host writes under snapshot tracking (see memory-internal.h)
 */

void vmc__region_mark_host_dirty(struct vmc_region *r, uint64_t off,
				 uint64_t len)
{
	_Atomic uint64_t *bm;

	if (!len ||
	    !atomic_load_explicit(&r->host_dirty_on, memory_order_acquire))
		return;
	bm = atomic_load_explicit(&r->host_dirty, memory_order_acquire);
	if (!bm)
		return;
	for (uint64_t p = off / 4096; p <= (off + len - 1) / 4096; p++)
		atomic_fetch_or_explicit(&bm[p / 64], UINT64_C(1) << (p % 64),
					 memory_order_relaxed);
	atomic_store_explicit(&r->host_dirty_any, true, memory_order_release);
}

void vmc__as_mark_mapped_dirty(struct vmc_address_space *as)
{
	pthread_mutex_lock(&as->map_lock);
	for (struct vmc__as_mapping *m = as->mappings; m; m = m->next)
		if (m->write)
			vmc__region_mark_host_dirty(m->region, m->offset,
						    m->len);
	pthread_mutex_unlock(&as->map_lock);
}

static int call_io(struct vmc_address_space *as, struct vmc_region *mr,
		   uint64_t off, uint8_t *buf, unsigned size, bool write)
{
	const struct vmc_region_ops *ops = &mr->ops;
	bool taken = false;
	uint64_t v = 0;
	int r;

	if (write ? !ops->write : !ops->read)
		return -EACCES;
	if (!mr->lockless)
		taken = vmc__lock_acquire_if_needed(as->dispatch_lock);
	if (unlikely(atomic_load_explicit(&mr->detached,
					  memory_order_acquire))) {
		/* The device is going away: reads give 0, writes vanish. */
		if (!write)
			memset(buf, 0, size);
		r = 0;
	} else if (write) {
		v = vmc__bytes_to_value(buf, size, ops->endian);
		r = ops->write(mr->opaque, off, size, v);
	} else {
		r = ops->read(mr->opaque, off, size, &v);
		if (r >= 0)
			vmc__value_to_bytes(v, buf, size, ops->endian);
	}
	vmc__lock_release_if(as->dispatch_lock, taken);
	return r < 0 ? r : 0;
}

/*
 * An aligned piece no wider than max_access_size; widen it to the aligned
 * min_access_size word around it when it is narrower.
 */
static int io_piece(struct vmc_address_space *as, struct vmc_region *mr,
		    uint64_t off, uint8_t *buf, unsigned size, bool write)
{
	unsigned w = mr->ops.min_access_size;
	uint8_t word[8];
	uint64_t base;
	int r;

	if (size >= w)
		return call_io(as, mr, off, buf, size, write);
	base = off & ~(uint64_t)(w - 1);
	r = call_io(as, mr, base, word, w, false);
	if (r < 0)
		return r;
	if (!write) {
		memcpy(buf, word + (off - base), size);
		return 0;
	}
	memcpy(word + (off - base), buf, size);
	return call_io(as, mr, base, word, w, true);
}

static int io_access(struct vmc_address_space *as, struct vmc_region *mr,
		     uint64_t off, uint8_t *buf, unsigned size, bool write)
{
	const struct vmc_region_ops *ops = &mr->ops;
	bool aligned = (off & (size - 1)) == 0;
	unsigned done = 0;

	if (size >= ops->min_access_size && size <= ops->max_access_size &&
	    (aligned || (ops->flags & VMC_REGION_OPS_UNALIGNED)))
		return call_io(as, mr, off, buf, size, write);
	if (ops->flags & VMC_REGION_OPS_STRICT)
		return -EINVAL;
	if (size <= ops->max_access_size && aligned)
		return io_piece(as, mr, off, buf, size, write);
	/* Too wide or unaligned: aligned pieces in address order. */
	while (done < size) {
		uint64_t o = off + done;
		unsigned p = ops->max_access_size;
		int r;

		while (p > 1 && ((o & (p - 1)) || p > size - done))
			p /= 2;
		r = io_piece(as, mr, o, buf + done, p, write);
		if (r < 0)
			return r;
		done += p;
	}
	return 0;
}

/* Signal the first visible ioeventfd that matches the write, if any. */
static bool eventfd_match(const struct vmc__flat_view *v, uint64_t addr,
			  const uint8_t *buf, unsigned size)
{
	size_t lo = 0, hi = v->nr_ioeventfds;
	uint64_t host = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->ioeventfds[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	memcpy(&host, buf, size);
	for (; lo < v->nr_ioeventfds && v->ioeventfds[lo].addr == addr; lo++) {
		const struct vmc__as_ioeventfd *e = &v->ioeventfds[lo];

		if (e->size == 0 ||
		    (e->size == size &&
		     (!e->match_data || e->data_host == host))) {
			vmc_notifier_signal(e->notifier);
			return true;
		}
	}
	return false;
}

/*
 * One access to the I/O range @r of the published view (or of a view the
 * caller's read-side section keeps alive): the region's access rules, the
 * dispatch lock, and for writes the first visible ioeventfd of @r's view
 * at @addr.
 */
static int io_dispatch(struct vmc_address_space *as,
		       const struct vmc__flat_range *r, uint64_t addr,
		       void *buf, unsigned size, bool write)
{
	const struct vmc__flat_view *view = r->view;
	uint64_t off = r->offset + (addr - r->start);

	if (write) {
		if (r->readonly)
			return as->policy == VMC_UNASSIGNED_ERROR ? -EACCES : 0;
		if (view->nr_ioeventfds &&
		    atomic_load_explicit(&as->soft_ioeventfds,
					 memory_order_relaxed) &&
		    eventfd_match(view, addr, buf, size))
			return 0;
	}
	return io_access(as, r->region, off, buf, size, write);
}

/* Split an I/O stretch into the widest naturally aligned accesses. */
static int io_stretch(struct vmc_address_space *as,
		      const struct vmc__flat_range *r, uint64_t addr,
		      uint8_t *buf, uint64_t len, bool write)
{
	while (len) {
		unsigned p;
		int err;

		if (len == 1 || len == 2 || len == 4 || len == 8) {
			p = (unsigned)len;
		} else {
			p = 8;
			while (p > 1 && ((addr & (p - 1)) || p > len))
				p /= 2;
		}
		err = io_dispatch(as, r, addr, buf, p, write);
		if (err < 0)
			return err;
		addr += p;
		buf += p;
		len -= p;
	}
	return 0;
}

static int as_access(struct vmc_address_space *as, uint64_t addr, uint8_t *buf,
		     size_t len, bool write)
{
	struct vmc__rcu_section sec;
	const struct vmc__flat_view *v;
	int err = 0;

	if (!len)
		return 0;
	if (len - 1 > UINT64_MAX - addr)
		return -EFAULT;
	vmc__rcu_section_enter(&as->mem->rcu, &sec);
	v = vmc__as_get_view(as);
	while (len) {
		size_t hint = 0;
		const struct vmc__flat_range *r;
		uint64_t chunk;

		r = vmc__flat_view_lookup(v, addr, &hint);
		if (!r) {
			/* A hole: up to the next range or the end. */
			uint64_t end = UINT64_MAX;
			size_t lo = 0, hi = v->nr;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (v->starts[mid] <= addr)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < v->nr)
				end = v->starts[lo] - 1;
			chunk = end - addr + 1;
			if (chunk == 0 || chunk > len)
				chunk = len;
			if (as->policy == VMC_UNASSIGNED_ERROR) {
				err = -EFAULT;
				break;
			}
			if (!write)
				memset(buf, 0xff, chunk);
		} else {
			chunk = r->last - addr + 1;
			if (chunk == 0 || chunk > len)
				chunk = len;
			if (r->io) {
				err = io_stretch(as, r, addr, buf, chunk,
						 write);
				if (err < 0)
					break;
			} else if (!write) {
				memcpy(buf, r->host + (addr - r->start), chunk);
			} else if (r->readonly) {
				if (as->policy == VMC_UNASSIGNED_ERROR) {
					err = -EACCES;
					break;
				}
			} else {
				memcpy(r->host + (addr - r->start), buf, chunk);
				vmc__region_mark_host_dirty(
					r->region,
					r->offset + (addr - r->start), chunk);
			}
		}
		len -= chunk;
		buf += chunk;
		addr += chunk;
	}
	vmc__rcu_section_exit(&sec);
	return err;
}

/* ------------------------------------------------------------------------
 * The accelerators' entries (accel.h)
 */

/* The handle accelerators hold is the flat range itself. */
static inline const struct vmc__flat_range *
range_of(const struct vmc__accel_range *h)
{
	return (const struct vmc__flat_range *)(const void *)h;
}

bool vmc__accel_lookup(struct vmc_address_space *as, uint64_t addr,
		       size_t *hint, struct vmc__accel_map *ret)
{
	const struct vmc__flat_range *r;

	r = vmc__flat_view_lookup(vmc__as_get_view(as), addr, hint);
	if (!r)
		return false;
	*ret = (struct vmc__accel_map){
		.start = r->start,
		.last = r->last,
		.host = r->host,
		.readonly = r->readonly,
		.io = r->io,
		.range = (const struct vmc__accel_range *)(const void *)r,
	};
	return true;
}

uint64_t vmc__accel_as_generation(struct vmc_address_space *as)
{
	return vmc__as_generation(as);
}

/*
 * Hot: KVM's exit path calls this once per PIO/MMIO exit, cache-cold, so
 * an access inside one I/O range touches as little as it can; tcg calls it
 * with the range its bus lookup found.
 */
int vmc__accel_io(struct vmc_address_space *as,
		  const struct vmc__accel_range *range, size_t *hint,
		  uint64_t addr, void *buf, unsigned size, bool write)
{
	const struct vmc__flat_range *r = range_of(range);

	if (!r)
		r = vmc__flat_view_lookup(vmc__as_get_view(as), addr, hint);
	if (likely(r && r->io && size - 1 <= r->last - addr))
		return io_dispatch(as, r, addr, buf, size, write);
	return as_access(as, addr, buf, size, write);
}

VMC_EXPORT int vmc_as_read(struct vmc_address_space *as, uint64_t addr,
			   void *buf, size_t len)
{
	vmc_assert_return(as && (buf || !len), -EINVAL);
	return as_access(as, addr, buf, len, false);
}

VMC_EXPORT int vmc_as_write(struct vmc_address_space *as, uint64_t addr,
			    const void *buf, size_t len)
{
	vmc_assert_return(as && (buf || !len), -EINVAL);
	/* Writes never modify @buf; the cast serves the shared path. */
	return as_access(as, addr, (uint8_t *)(uintptr_t)buf, len, true);
}

/*
 * Loaders' writes (vmc_as_write_rom): RAM and ROM only.  The range is
 * checked whole against one view before the first byte is copied, so an
 * image over a device's registers writes nothing and calls no device.
 */
static int rom_range_check(const struct vmc__flat_view *v, uint64_t addr,
			   size_t len)
{
	while (len) {
		size_t hint = 0;
		const struct vmc__flat_range *r =
			vmc__flat_view_lookup(v, addr, &hint);
		uint64_t chunk;

		if (!r || r->io)
			return -EFAULT;
		/* Read-only RAM may be the host's read-only mapping. */
		if (r->readonly && r->region->kind != VMC__REGION_ROM)
			return -EACCES;
		chunk = r->last - addr + 1;
		if (chunk == 0 || chunk > len)
			chunk = len;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

VMC_EXPORT int vmc_as_write_rom(struct vmc_address_space *as, uint64_t addr,
				const void *buf, size_t len)
{
	struct vmc__rcu_section sec;
	const struct vmc__flat_view *v;
	const uint8_t *src = buf;
	int err;

	vmc_assert_return(as && (buf || !len), -EINVAL);
	if (!len)
		return 0;
	if (len - 1 > UINT64_MAX - addr)
		return -EFAULT;
	vmc__rcu_section_enter(&as->mem->rcu, &sec);
	v = vmc__as_get_view(as);
	err = rom_range_check(v, addr, len);
	while (!err && len) {
		size_t hint = 0;
		const struct vmc__flat_range *r =
			vmc__flat_view_lookup(v, addr, &hint);
		uint64_t chunk = r->last - addr + 1;

		if (chunk == 0 || chunk > len)
			chunk = len;
		memcpy(r->host + (addr - r->start), src, chunk);
		vmc__region_mark_host_dirty(
			r->region, r->offset + (addr - r->start), chunk);
		addr += chunk;
		src += chunk;
		len -= chunk;
	}
	vmc__rcu_section_exit(&sec);
	return err;
}

/* A reference on the published view, taken inside a read-side section. */
static struct vmc__flat_view *get_view_ref(struct vmc_address_space *as)
{
	for (;;) {
		struct vmc__flat_view *v = atomic_load_explicit(
			&as->current, memory_order_acquire);
		long c = atomic_load_explicit(&v->refcnt, memory_order_relaxed);

		while (c > 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &v->refcnt, &c, c + 1, memory_order_acq_rel,
				    memory_order_relaxed))
				return v;
		}
		/* Retired meanwhile: the next load sees its successor. */
	}
}

VMC_EXPORT int vmc_as_map(struct vmc_address_space *as, uint64_t addr,
			  size_t len, bool write, void **ret)
{
	struct vmc__rcu_section sec;
	struct vmc__as_mapping *m;
	const struct vmc__flat_range *r;
	struct vmc__flat_view *v;
	int err = 0;

	vmc_assert_return(as && ret && len, -EINVAL);
	if (len - 1 > UINT64_MAX - addr)
		return -EFAULT;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	vmc__rcu_section_enter(&as->mem->rcu, &sec);
	v = get_view_ref(as);
	vmc__rcu_section_exit(&sec);

	r = vmc__flat_view_lookup(v, addr, NULL);
	if (!r || r->io || addr + (len - 1) > r->last)
		err = -EFAULT;
	else if (write && r->readonly)
		err = -EACCES;
	if (err < 0) {
		vmc__flat_view_unref(as->mem, v);
		free(m);
		return err;
	}
	m->ptr = r->host + (addr - r->start);
	m->view = v;
	m->region = r->region;
	m->offset = r->offset + (addr - r->start);
	m->len = len;
	m->write = write;
	pthread_mutex_lock(&as->map_lock);
	m->next = as->mappings;
	as->mappings = m;
	pthread_mutex_unlock(&as->map_lock);
	*ret = m->ptr;
	return 0;
}

VMC_EXPORT int vmc_as_unmap(struct vmc_address_space *as, void *ptr)
{
	struct vmc__as_mapping **pp, *m = NULL;

	vmc_assert_return(as, -EINVAL);
	pthread_mutex_lock(&as->map_lock);
	for (pp = &as->mappings; *pp; pp = &(*pp)->next) {
		if ((*pp)->ptr == ptr) {
			m = *pp;
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&as->map_lock);
	if (!m)
		return -ENOENT;
	if (m->write)
		vmc__region_mark_host_dirty(m->region, m->offset, m->len);
	vmc__flat_view_unref(as->mem, m->view);
	free(m);
	return 0;
}
