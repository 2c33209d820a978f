/* SPDX-License-Identifier: MIT */
/*
 * Memory contexts, regions and their tree, transactions, address spaces and
 * listeners.  Everything here is writer-side (see memory-internal.h).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory-internal.h"

/* ------------------------------------------------------------------------
 * Contexts and transactions
 */

int vmc__memory_new(struct vmc_memory **ret)
{
	struct vmc_memory *mem = calloc(1, sizeof(*mem));

	if (!mem)
		return -ENOMEM;
	vmc__rcu_init(&mem->rcu);
	*ret = mem;
	return 0;
}

VMC_EXPORT int vmc_memory_new(struct vmc_memory **ret)
{
	vmc_assert_return(ret, -EINVAL);
	return vmc__memory_new(ret);
}

void vmc__memory_free(struct vmc_memory *mem)
{
	if (!mem)
		return;
	if (mem->spaces || mem->listeners)
		vmc__warn("memory context freed with address spaces or "
			  "listeners left");
	vmc__rcu_destroy(&mem->rcu);
	free(mem);
}

VMC_EXPORT void vmc_memory_free(struct vmc_memory *mem)
{
	vmc__memory_free(mem);
}

struct vmc__rcu *vmc__memory_rcu(struct vmc_memory *mem)
{
	return &mem->rcu;
}

VMC_EXPORT int vmc_memory_begin(struct vmc_memory *mem)
{
	vmc_assert_return(mem, -EINVAL);
	mem->depth++;
	return 0;
}

static int commit_now(struct vmc_memory *mem);

VMC_EXPORT int vmc_memory_commit(struct vmc_memory *mem)
{
	vmc_assert_return(mem, -EINVAL);
	vmc_assert_return(mem->depth > 0, -EINVAL);
	if (--mem->depth > 0)
		return 0;
	return commit_now(mem);
}

VMC_EXPORT int vmc_memory_reclaim(struct vmc_memory *mem)
{
	size_t left;

	vmc_assert_return(mem, -EINVAL);
	left = vmc__rcu_reclaim(&mem->rcu);
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

void vmc__memory_changed(struct vmc_memory *mem, bool layout, bool ioeventfd)
{
	mem->layout_pending |= layout;
	mem->ioeventfd_pending |= ioeventfd;
	if (mem->depth == 0 && commit_now(mem) < 0)
		vmc__warn("memory: publishing a layout change failed; the next "
			  "commit retries");
}

/* ------------------------------------------------------------------------
 * Listeners and the commit
 */

static void fill_section(struct vmc_address_space *as,
			 const struct vmc__flat_range *fr,
			 struct vmc_memory_section *s)
{
	const struct vmc_region *mr = fr->region;

	*s = (struct vmc_memory_section){
		.as = as,
		.kind = as->kind,
		.addr = fr->start,
		.size = fr->last - fr->start + 1,
		.region = fr->region,
		.offset = fr->offset,
		.host = fr->host,
		.fd = mr->fd,
		.fd_offset = mr->fd >= 0 ? fr->offset : 0,
		.readonly = fr->readonly,
		.ram = !fr->io,
		.rom = mr->kind == VMC__REGION_ROM,
	};
}

static void fill_eventfd(struct vmc_address_space *as,
			 const struct vmc__as_ioeventfd *e,
			 struct vmc_ioeventfd_info *i)
{
	*i = (struct vmc_ioeventfd_info){
		.as = as,
		.kind = as->kind,
		.addr = e->addr,
		.size = e->size,
		.match_data = e->match_data,
		.data = e->data,
		.data_host = e->data_host,
		.notifier = e->notifier,
		.region = e->region,
	};
}

enum ev { EV_REGION_ADD, EV_REGION_DEL, EV_EVENTFD_ADD, EV_EVENTFD_DEL };

/* Additions in ascending priority, deletions in descending. */
static void call_listeners(struct vmc_address_space *as, enum ev ev,
			   const void *arg)
{
	struct vmc_memory *mem = as->mem;
	struct vmc_memory_listener *ls[64], **v = ls, *l;
	size_t n = 0;

	for (l = mem->listeners; l; l = l->next)
		if (l->as == as)
			n++;
	if (!n)
		return;
	if (n > ARRAY_SIZE(ls)) {
		v = malloc(n * sizeof(*v));
		if (!v) {
			/* Cannot reverse: fall back to list order. */
			v = NULL;
		}
	}
	if (v) {
		size_t k = 0;

		for (l = mem->listeners; l; l = l->next)
			if (l->as == as)
				v[k++] = l;
	}
	for (size_t k = 0; k < n; k++) {
		bool rev = ev == EV_REGION_DEL || ev == EV_EVENTFD_DEL;
		size_t idx = rev ? n - 1 - k : k;

		if (v) {
			l = v[idx];
		} else {
			size_t c = 0;

			for (l = mem->listeners; l; l = l->next)
				if (l->as == as && c++ == k)
					break;
		}
		switch (ev) {
		case EV_REGION_ADD:
			if (l->ops.region_add)
				l->ops.region_add(l->opaque, arg);
			break;
		case EV_REGION_DEL:
			if (l->ops.region_del)
				l->ops.region_del(l->opaque, arg);
			break;
		case EV_EVENTFD_ADD:
			if (l->ops.eventfd_add)
				l->ops.eventfd_add(l->opaque, arg);
			break;
		case EV_EVENTFD_DEL:
			if (l->ops.eventfd_del)
				l->ops.eventfd_del(l->opaque, arg);
			break;
		}
	}
	if (v != ls)
		free(v);
}

static bool range_same(const struct vmc__flat_range *a,
		       const struct vmc__flat_range *b)
{
	return a->start == b->start && a->last == b->last &&
	       a->region == b->region && a->offset == b->offset &&
	       a->readonly == b->readonly;
}

/* Report every range of @a that @b does not have identically. */
static void diff_ranges(struct vmc_address_space *as,
			const struct vmc__flat_view *a,
			const struct vmc__flat_view *b, enum ev ev)
{
	size_t i = 0, j = 0;
	struct vmc_memory_section s;

	while (i < a->nr) {
		const struct vmc__flat_range *x = &a->ranges[i];

		while (j < b->nr && b->ranges[j].start < x->start)
			j++;
		if (j < b->nr && range_same(x, &b->ranges[j])) {
			i++;
			j++;
			continue;
		}
		fill_section(as, x, &s);
		call_listeners(as, ev, &s);
		i++;
	}
}

static int eventfd_cmp(const struct vmc__as_ioeventfd *x,
		       const struct vmc__as_ioeventfd *y)
{
	return vmc__ioeventfd_cmp(x->addr, x->size, x->match_data, x->data,
				  x->notifier, y->addr, y->size, y->match_data,
				  y->data, y->notifier);
}

/* One linear merge of two sorted sets: report what only @a has. */
static void diff_eventfds(struct vmc_address_space *as,
			  const struct vmc__flat_view *a,
			  const struct vmc__flat_view *b, enum ev ev)
{
	size_t i = 0, j = 0;
	struct vmc_ioeventfd_info info;

	while (i < a->nr_ioeventfds) {
		int c = j < b->nr_ioeventfds ? eventfd_cmp(&a->ioeventfds[i],
							   &b->ioeventfds[j])
					     : -1;

		if (c > 0) {
			j++;
			continue;
		}
		if (c < 0) {
			fill_eventfd(as, &a->ioeventfds[i], &info);
			call_listeners(as, ev, &info);
		} else {
			j++;
		}
		i++;
	}
}

static void call_all(struct vmc_memory *mem, bool begin)
{
	for (struct vmc_memory_listener *l = mem->listeners; l; l = l->next) {
		void (*fn)(void *) = begin ? l->ops.begin : l->ops.commit;

		if (fn)
			fn(l->opaque);
	}
}

static void publish(struct vmc_address_space *as, struct vmc__flat_view *nv)
{
	struct vmc__flat_view *old =
		atomic_load_explicit(&as->current, memory_order_relaxed);
	uint64_t gen =
		atomic_load_explicit(&as->generation, memory_order_relaxed) + 1;

	nv->generation = gen;
	atomic_store_explicit(&as->current, nv, memory_order_release);
	atomic_store_explicit(&as->generation, gen, memory_order_release);
	vmc__flat_view_unref(as->mem, old);
}

static int commit_now(struct vmc_memory *mem)
{
	struct vmc_address_space *as;
	struct vmc__flat_view **nv;
	size_t n = 0, k;
	bool layout = mem->layout_pending;
	int r = 0;

	if (!mem->layout_pending && !mem->ioeventfd_pending)
		goto out;
	for (as = mem->spaces; as; as = as->next)
		n++;
	nv = calloc(n ? n : 1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	/* Render everything first, so that failure changes nothing. */
	for (as = mem->spaces, k = 0; as; as = as->next, k++) {
		r = vmc__flat_view_render(as->root, &nv[k]);
		if (r < 0) {
			while (k--)
				vmc__flat_view_unref(mem, nv[k]);
			free(nv);
			return r;
		}
	}
	mem->layout_pending = false;
	mem->ioeventfd_pending = false;
	mem->in_listener = true;
	if (layout)
		call_all(mem, true);
	for (as = mem->spaces, k = 0; as; as = as->next, k++) {
		const struct vmc__flat_view *old = vmc__as_get_view(as);

		if (as->nr_listeners) {
			diff_ranges(as, old, nv[k], EV_REGION_DEL);
			diff_ranges(as, nv[k], old, EV_REGION_ADD);
			diff_eventfds(as, old, nv[k], EV_EVENTFD_DEL);
			diff_eventfds(as, nv[k], old, EV_EVENTFD_ADD);
		}
		publish(as, nv[k]);
	}
	if (layout)
		call_all(mem, false);
	mem->in_listener = false;
	free(nv);
out:
	vmc__rcu_reclaim(&mem->rcu);
	return r;
}

VMC_EXPORT int
vmc_memory_listener_new(struct vmc_address_space *as,
			const struct vmc_memory_listener_ops *ops, int priority,
			void *opaque, struct vmc_memory_listener **ret)
{
	struct vmc_memory_listener *l, **pp;
	const struct vmc__flat_view *v;
	struct vmc_memory *mem;

	vmc_assert_return(as && ops && ret, -EINVAL);
	vmc_assert_return(ops->struct_size >= sizeof(*ops), -EINVAL);
	mem = as->mem;
	vmc_assert_return(!mem->in_listener && mem->depth == 0, -EBUSY);

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->mem = mem;
	l->as = as;
	l->ops = *ops;
	l->opaque = opaque;
	l->priority = priority;

	/* Replay the current layout to this listener alone. */
	v = vmc__as_get_view(as);
	mem->in_listener = true;
	if (l->ops.begin)
		l->ops.begin(opaque);
	for (size_t i = 0; i < v->nr && l->ops.region_add; i++) {
		struct vmc_memory_section s;

		fill_section(as, &v->ranges[i], &s);
		l->ops.region_add(opaque, &s);
	}
	for (size_t i = 0; i < v->nr_ioeventfds && l->ops.eventfd_add; i++) {
		struct vmc_ioeventfd_info e;

		fill_eventfd(as, &v->ioeventfds[i], &e);
		l->ops.eventfd_add(opaque, &e);
	}
	if (l->ops.commit)
		l->ops.commit(opaque);
	mem->in_listener = false;

	for (pp = &mem->listeners; *pp && (*pp)->priority <= priority;
	     pp = &(*pp)->next)
		;
	l->next = *pp;
	*pp = l;
	as->nr_listeners++;
	*ret = l;
	return 0;
}

VMC_EXPORT void vmc_memory_listener_free(struct vmc_memory_listener *l)
{
	struct vmc_memory *mem;
	struct vmc_address_space *as;
	const struct vmc__flat_view *v;

	if (!l)
		return;
	mem = l->mem;
	as = l->as;
	vmc_assert_return_void(!mem->in_listener);
	for (struct vmc_memory_listener **pp = &mem->listeners; *pp;
	     pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	as->nr_listeners--;

	v = vmc__as_get_view(as);
	mem->in_listener = true;
	if (l->ops.begin)
		l->ops.begin(l->opaque);
	for (size_t i = 0; i < v->nr_ioeventfds && l->ops.eventfd_del; i++) {
		struct vmc_ioeventfd_info e;

		fill_eventfd(as, &v->ioeventfds[i], &e);
		l->ops.eventfd_del(l->opaque, &e);
	}
	for (size_t i = 0; i < v->nr && l->ops.region_del; i++) {
		struct vmc_memory_section s;

		fill_section(as, &v->ranges[i], &s);
		l->ops.region_del(l->opaque, &s);
	}
	if (l->ops.commit)
		l->ops.commit(l->opaque);
	mem->in_listener = false;
	free(l);
}

/* ------------------------------------------------------------------------
 * Regions
 */

static int region_alloc(struct vmc_memory *mem, const char *name,
			enum vmc__region_kind kind, vmc__u128 size,
			struct vmc_region **ret)
{
	struct vmc_region *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->name = strdup(name);
	if (!r->name) {
		free(r);
		return -ENOMEM;
	}
	atomic_init(&r->refcnt, 1);
	r->mem = mem;
	r->kind = kind;
	r->size = size;
	r->enabled = true;
	r->fd = -1;
	*ret = r;
	return 0;
}

static vmc__u128 size128(uint64_t size)
{
	return size == VMC_REGION_SIZE_ALL ? (vmc__u128)1 << 64 : size;
}

static int new_memfd_region(struct vmc_memory *mem, const char *name,
			    uint64_t size, enum vmc__region_kind kind,
			    struct vmc_region **ret)
{
	struct vmc_region *r;
	void *p;
	int fd, err;

	if (size >= (uint64_t)INT64_MAX || size > SIZE_MAX)
		return -EINVAL;
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	err = region_alloc(mem, name, kind, size, &r);
	if (err < 0) {
		munmap(p, (size_t)size);
		close(fd);
		return err;
	}
	r->host = p;
	r->fd = fd;
	r->map_size = (size_t)size;
	*ret = r;
	return 0;
}

VMC_EXPORT int vmc_region_new_ram(struct vmc_memory *mem, const char *name,
				  uint64_t size, unsigned flags,
				  struct vmc_region **ret)
{
	struct vmc_region *r;
	int err;

	vmc_assert_return(mem && name && ret && size, -EINVAL);
	vmc_assert_return(!(flags & ~VMC_REGION_READONLY), -EINVAL);
	err = new_memfd_region(mem, name, size, VMC__REGION_RAM, &r);
	if (err < 0)
		return err;
	r->readonly = flags & VMC_REGION_READONLY;
	*ret = r;
	return 0;
}

VMC_EXPORT int vmc_region_new_ram_ptr(struct vmc_memory *mem, const char *name,
				      uint64_t size, void *host, unsigned flags,
				      struct vmc_region **ret)
{
	struct vmc_region *r;
	int err;

	vmc_assert_return(mem && name && ret && host && size, -EINVAL);
	vmc_assert_return(!(flags & ~VMC_REGION_READONLY), -EINVAL);
	vmc_assert_return(size <= UINTPTR_MAX - (uintptr_t)host + 1 &&
				  size - 1 <= UINTPTR_MAX - (uintptr_t)host,
			  -EINVAL);
	err = region_alloc(mem, name, VMC__REGION_RAM, size, &r);
	if (err < 0)
		return err;
	r->host = host;
	r->readonly = flags & VMC_REGION_READONLY;
	*ret = r;
	return 0;
}

VMC_EXPORT int vmc_region_new_rom(struct vmc_memory *mem, const char *name,
				  uint64_t size, struct vmc_region **ret)
{
	vmc_assert_return(mem && name && ret && size, -EINVAL);
	return new_memfd_region(mem, name, size, VMC__REGION_ROM, ret);
}

static bool access_size_ok(unsigned s)
{
	return s == 0 || s == 1 || s == 2 || s == 4 || s == 8;
}

VMC_EXPORT int vmc_region_new_io(struct vmc_memory *mem, const char *name,
				 uint64_t size,
				 const struct vmc_region_ops *ops, void *opaque,
				 unsigned flags, struct vmc_region **ret)
{
	struct vmc_region *r;
	struct vmc_region_ops o;
	int err;

	vmc_assert_return(mem && name && ret && ops && size, -EINVAL);
	vmc_assert_return(ops->struct_size >= sizeof(*ops), -EINVAL);
	vmc_assert_return(
		!(flags & ~(VMC_REGION_LOCKLESS | VMC_REGION_READONLY)),
		-EINVAL);
	o = *ops;
	o.struct_size = sizeof(o);
	vmc_assert_return(access_size_ok(o.min_access_size) &&
				  access_size_ok(o.max_access_size),
			  -EINVAL);
	if (!o.min_access_size)
		o.min_access_size = 1;
	if (!o.max_access_size)
		o.max_access_size = 8;
	vmc_assert_return(o.min_access_size <= o.max_access_size, -EINVAL);
	vmc_assert_return(o.endian == VMC_ENDIAN_NATIVE ||
				  o.endian == VMC_ENDIAN_LITTLE ||
				  o.endian == VMC_ENDIAN_BIG,
			  -EINVAL);
	vmc_assert_return(!(o.flags & ~(VMC_REGION_OPS_UNALIGNED |
					VMC_REGION_OPS_STRICT)),
			  -EINVAL);
	err = region_alloc(mem, name, VMC__REGION_IO, size128(size), &r);
	if (err < 0)
		return err;
	r->ops = o;
	r->opaque = opaque;
	r->lockless = flags & VMC_REGION_LOCKLESS;
	r->readonly = flags & VMC_REGION_READONLY;
	*ret = r;
	return 0;
}

VMC_EXPORT int vmc_region_new_container(struct vmc_memory *mem,
					const char *name, uint64_t size,
					struct vmc_region **ret)
{
	vmc_assert_return(mem && name && ret && size, -EINVAL);
	return region_alloc(mem, name, VMC__REGION_CONTAINER, size128(size),
			    ret);
}

VMC_EXPORT int vmc_region_new_alias(struct vmc_memory *mem, const char *name,
				    struct vmc_region *target, uint64_t offset,
				    uint64_t size, struct vmc_region **ret)
{
	struct vmc_region *r;
	int err;

	vmc_assert_return(mem && name && ret && target && size, -EINVAL);
	vmc_assert_return(target->mem == mem, -EINVAL);
	vmc_assert_return((vmc__u128)offset + size128(size) <= (vmc__u128)1
								       << 64,
			  -EINVAL);
	err = region_alloc(mem, name, VMC__REGION_ALIAS, size128(size), &r);
	if (err < 0)
		return err;
	r->alias = vmc_region_ref(target);
	r->alias_offset = offset;
	*ret = r;
	return 0;
}

VMC_EXPORT struct vmc_region *vmc_region_ref(struct vmc_region *r)
{
	if (r)
		atomic_fetch_add_explicit(&r->refcnt, 1, memory_order_relaxed);
	return r;
}

void vmc__region_free(struct vmc_region *r)
{
	for (size_t i = 0; i < r->nr_children; i++) {
		r->children[i]->parent = NULL;
		vmc_region_unref(r->children[i]);
	}
	free(r->children);
	if (r->alias)
		vmc_region_unref(r->alias);
	if (r->map_size)
		munmap(r->host, r->map_size);
	if (r->fd >= 0)
		close(r->fd);
	if (r->kind == VMC__REGION_IO && r->ops.release)
		r->ops.release(r->opaque);
	free(r->ioeventfds);
	free((void *)atomic_load(&r->host_dirty));
	free(r->name);
	free(r);
}

VMC_EXPORT int vmc_region_detach_ops(struct vmc_region *r)
{
	struct vmc__lock *done[4];
	size_t ndone = 0;

	vmc_assert_return(r, -EINVAL);
	vmc_assert_return(r->kind == VMC__REGION_IO, -EINVAL);
	atomic_store_explicit(&r->detached, true, memory_order_release);
	if (r->lockless)
		return 0;
	/*
	 * Pass through every dispatch lock once: a callback that took one
	 * before the flag was set has returned when we get it, and one that
	 * takes it afterwards reads the flag.  A thread that holds the lock
	 * (a callback detaching, the loop under the VM lock) is the only one
	 * that could be inside, and it is this one.
	 */
	for (struct vmc_address_space *as = r->mem->spaces; as; as = as->next) {
		struct vmc__lock *lk = as->dispatch_lock;
		bool seen = false, taken;

		for (size_t i = 0; i < ndone; i++)
			seen |= done[i] == lk;
		if (!lk || seen)
			continue;
		taken = vmc__lock_acquire_if_needed(lk);
		vmc__lock_release_if(lk, taken);
		if (ndone < ARRAY_SIZE(done))
			done[ndone++] = lk;
	}
	return 0;
}

VMC_EXPORT struct vmc_region *vmc_region_unref(struct vmc_region *r)
{
	if (r &&
	    atomic_fetch_sub_explicit(&r->refcnt, 1, memory_order_acq_rel) == 1)
		vmc__region_free(r);
	return NULL;
}

/* Whether @target can be reached from @from through children or aliases. */
static bool reaches(const struct vmc_region *from,
		    const struct vmc_region *target)
{
	if (from == target)
		return true;
	if (from->alias && reaches(from->alias, target))
		return true;
	for (size_t i = 0; i < from->nr_children; i++)
		if (reaches(from->children[i], target))
			return true;
	return false;
}

/* Insert before the first child whose priority is <= the new one. */
static int insert_child(struct vmc_region *parent, struct vmc_region *child)
{
	size_t i;

	if (parent->nr_children == parent->cap_children) {
		size_t cap =
			parent->cap_children ? parent->cap_children * 2 : 4;
		struct vmc_region **c;

		c = realloc(parent->children, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		parent->children = c;
		parent->cap_children = cap;
	}
	for (i = 0; i < parent->nr_children; i++)
		if (parent->children[i]->priority <= child->priority)
			break;
	memmove(&parent->children[i + 1], &parent->children[i],
		(parent->nr_children - i) * sizeof(*parent->children));
	parent->children[i] = child;
	parent->nr_children++;
	return 0;
}

static void remove_child(struct vmc_region *parent, struct vmc_region *child)
{
	for (size_t i = 0; i < parent->nr_children; i++) {
		if (parent->children[i] == child) {
			memmove(&parent->children[i], &parent->children[i + 1],
				(parent->nr_children - i - 1) *
					sizeof(*parent->children));
			parent->nr_children--;
			return;
		}
	}
}

VMC_EXPORT int vmc_region_add_subregion(struct vmc_region *parent,
					uint64_t offset,
					struct vmc_region *child, int priority)
{
	int err;

	vmc_assert_return(parent && child, -EINVAL);
	vmc_assert_return(parent->kind != VMC__REGION_ALIAS, -EINVAL);
	vmc_assert_return(parent->mem == child->mem, -EINVAL);
	vmc_assert_return((vmc__u128)offset + child->size <= (vmc__u128)1 << 64,
			  -EINVAL);
	vmc_assert_return(!child->parent && !child->root_count, -EBUSY);
	vmc_assert_return(!reaches(child, parent), -ELOOP);

	child->offset = offset;
	child->priority = priority;
	err = insert_child(parent, child);
	if (err < 0)
		return err;
	child->parent = parent;
	vmc_region_ref(child);
	vmc__memory_changed(parent->mem, true, true);
	return 0;
}

VMC_EXPORT int vmc_region_remove_subregion(struct vmc_region *parent,
					   struct vmc_region *child)
{
	vmc_assert_return(parent && child, -EINVAL);
	vmc_assert_return(child->parent == parent, -ENOENT);

	remove_child(parent, child);
	child->parent = NULL;
	vmc__memory_changed(parent->mem, true, true);
	vmc_region_unref(child);
	return 0;
}

VMC_EXPORT int vmc_region_set_enabled(struct vmc_region *r, bool enabled)
{
	vmc_assert_return(r, -EINVAL);
	if (r->enabled == enabled)
		return 0;
	r->enabled = enabled;
	vmc__memory_changed(r->mem, true, true);
	return 0;
}

VMC_EXPORT int vmc_region_set_offset(struct vmc_region *r, uint64_t offset)
{
	struct vmc_region *parent;

	vmc_assert_return(r, -EINVAL);
	vmc_assert_return(r->parent, -ENOENT);
	vmc_assert_return((vmc__u128)offset + r->size <= (vmc__u128)1 << 64,
			  -EINVAL);
	parent = r->parent;
	/* Re-add, like QEMU: it becomes the newest among equal priorities. */
	remove_child(parent, r);
	r->offset = offset;
	/* Cannot fail: the array had room for it a moment ago. */
	insert_child(parent, r);
	vmc__memory_changed(r->mem, true, true);
	return 0;
}

VMC_EXPORT int vmc_region_set_readonly(struct vmc_region *r, bool readonly)
{
	vmc_assert_return(r, -EINVAL);
	if (r->readonly == readonly)
		return 0;
	r->readonly = readonly;
	vmc__memory_changed(r->mem, true, false);
	return 0;
}

VMC_EXPORT int vmc_region_set_alias_offset(struct vmc_region *r,
					   uint64_t offset)
{
	vmc_assert_return(r && r->kind == VMC__REGION_ALIAS, -EINVAL);
	vmc_assert_return((vmc__u128)offset + r->size <= (vmc__u128)1 << 64,
			  -EINVAL);
	if (r->alias_offset == offset)
		return 0;
	r->alias_offset = offset;
	vmc__memory_changed(r->mem, true, true);
	return 0;
}

VMC_EXPORT void *vmc_region_get_ptr(const struct vmc_region *r)
{
	return r ? r->host : NULL;
}

VMC_EXPORT int vmc_region_get_fd(const struct vmc_region *r)
{
	vmc_assert_return(r, -EINVAL);
	return r->fd >= 0 ? r->fd : -ENODEV;
}

VMC_EXPORT uint64_t vmc_region_get_size(const struct vmc_region *r)
{
	if (!r)
		return 0;
	return r->size == (vmc__u128)1 << 64 ? VMC_REGION_SIZE_ALL
					     : (uint64_t)r->size;
}

VMC_EXPORT const char *vmc_region_get_name(const struct vmc_region *r)
{
	return r ? r->name : NULL;
}

/* ------------------------------------------------------------------------
 * Region ioeventfds
 */

static int region_eventfd_cmp(const struct vmc__region_ioeventfd *a,
			      const struct vmc__region_ioeventfd *b)
{
	return vmc__ioeventfd_cmp(a->offset, a->size, a->match_data, a->data,
				  a->notifier, b->offset, b->size,
				  b->match_data, b->data, b->notifier);
}

/* Index of the first record that does not sort before @key. */
static size_t eventfd_lower_bound(const struct vmc_region *r,
				  const struct vmc__region_ioeventfd *key)
{
	size_t lo = 0, hi = r->nr_ioeventfds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (region_eventfd_cmp(&r->ioeventfds[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A new ioeventfd outside a transaction.  Rendering every view again and
 * diffing every list is O(n) per add, so n adds were O(n^2); where the new
 * records sort after all of an address space's (see vmc__ioeventfd_buf),
 * its new view appends them, and only they go to the listeners.  Any other
 * address space takes the full commit, which then finds nothing to change
 * in those already published.
 */
static void ioeventfd_added(struct vmc_region *r,
			    const struct vmc__region_ioeventfd *e)
{
	struct vmc_memory *mem = r->mem;
	bool full = false;

	if (mem->depth || mem->layout_pending || mem->ioeventfd_pending ||
	    mem->in_listener) {
		vmc__memory_changed(mem, false, true);
		return;
	}
	for (struct vmc_address_space *as = mem->spaces; as; as = as->next) {
		const struct vmc__flat_view *old = vmc__as_get_view(as);
		struct vmc__flat_view *nv;
		size_t added;

		if (vmc__flat_view_append_ioeventfd(old, r, e, &nv, &added) <
		    0) {
			full = true;
			continue;
		}
		if (!nv)
			continue;
		mem->in_listener = true;
		for (size_t i = nv->nr_ioeventfds - added;
		     as->nr_listeners && i < nv->nr_ioeventfds; i++) {
			struct vmc_ioeventfd_info info;

			fill_eventfd(as, &nv->ioeventfds[i], &info);
			call_listeners(as, EV_EVENTFD_ADD, &info);
		}
		mem->in_listener = false;
		publish(as, nv);
	}
	if (full)
		vmc__memory_changed(mem, false, true);
	else
		vmc__rcu_reclaim(&mem->rcu);
}

VMC_EXPORT int vmc_region_add_ioeventfd(struct vmc_region *r, uint64_t offset,
					unsigned size, bool match_data,
					uint64_t data,
					struct vmc_notifier *notifier)
{
	struct vmc__region_ioeventfd key = {offset, size, match_data,
					    match_data ? data : 0, notifier};
	size_t i;

	vmc_assert_return(r && notifier, -EINVAL);
	vmc_assert_return(access_size_ok(size), -EINVAL);
	vmc_assert_return((vmc__u128)offset + (size ? size : 1) <= r->size,
			  -EINVAL);
	vmc_assert_return(!(match_data && size == 0), -EINVAL);
	vmc_assert_return(!match_data || size == 8 || data >> (8 * size) == 0,
			  -EINVAL);

	i = eventfd_lower_bound(r, &key);
	if (i < r->nr_ioeventfds &&
	    region_eventfd_cmp(&r->ioeventfds[i], &key) == 0)
		return -EEXIST;
	if (r->nr_ioeventfds == r->cap_ioeventfds) {
		size_t cap = r->cap_ioeventfds ? r->cap_ioeventfds * 2 : 4;
		struct vmc__region_ioeventfd *a;

		a = realloc(r->ioeventfds, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		r->ioeventfds = a;
		r->cap_ioeventfds = cap;
	}
	memmove(&r->ioeventfds[i + 1], &r->ioeventfds[i],
		(r->nr_ioeventfds - i) * sizeof(*r->ioeventfds));
	r->ioeventfds[i] = key;
	r->nr_ioeventfds++;
	ioeventfd_added(r, &key);
	return 0;
}

VMC_EXPORT int vmc_region_remove_ioeventfd(struct vmc_region *r,
					   uint64_t offset, unsigned size,
					   bool match_data, uint64_t data,
					   struct vmc_notifier *notifier)
{
	struct vmc__region_ioeventfd key = {offset, size, match_data,
					    match_data ? data : 0, notifier};
	size_t i;

	vmc_assert_return(r && notifier, -EINVAL);
	i = eventfd_lower_bound(r, &key);
	if (i >= r->nr_ioeventfds ||
	    region_eventfd_cmp(&r->ioeventfds[i], &key) != 0)
		return -ENOENT;
	memmove(&r->ioeventfds[i], &r->ioeventfds[i + 1],
		(r->nr_ioeventfds - i - 1) * sizeof(*r->ioeventfds));
	r->nr_ioeventfds--;
	vmc__memory_changed(r->mem, false, true);
	return 0;
}

/* ------------------------------------------------------------------------
 * Address spaces
 */

int vmc__address_space_new(struct vmc_memory *mem, struct vmc_region *root,
			   enum vmc_as_kind kind, const char *name,
			   struct vmc_address_space **ret)
{
	struct vmc_address_space *as, **pp;
	struct vmc__flat_view *v;
	int err;

	if (root->parent)
		return -EBUSY;
	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->name = strdup(name);
	if (!as->name) {
		free(as);
		return -ENOMEM;
	}
	err = vmc__flat_view_render(root, &v);
	if (err < 0) {
		free(as->name);
		free(as);
		return err;
	}
	as->mem = mem;
	as->kind = kind;
	as->root = vmc_region_ref(root);
	root->root_count++;
	atomic_init(&as->current, v);
	atomic_init(&as->generation, 1);
	atomic_init(&as->soft_ioeventfds, true);
	v->generation = 1;
	pthread_mutex_init(&as->map_lock, NULL);
	for (pp = &mem->spaces; *pp; pp = &(*pp)->next)
		;
	*pp = as;
	*ret = as;
	return 0;
}

VMC_EXPORT int vmc_address_space_new(struct vmc_memory *mem,
				     struct vmc_region *root,
				     enum vmc_as_kind kind, const char *name,
				     struct vmc_address_space **ret)
{
	vmc_assert_return(mem && root && name && ret, -EINVAL);
	vmc_assert_return(kind == VMC_AS_MEMORY || kind == VMC_AS_IO, -EINVAL);
	vmc_assert_return(root->mem == mem, -EINVAL);
	return vmc__address_space_new(mem, root, kind, name, ret);
}

void vmc__address_space_free(struct vmc_address_space *as)
{
	struct vmc_memory *mem;

	if (!as)
		return;
	mem = as->mem;
	if (as->nr_listeners)
		vmc__warn("address space %s freed with listeners", as->name);
	if (as->mappings)
		vmc__warn("address space %s freed with live mappings",
			  as->name);
	for (struct vmc_address_space **pp = &mem->spaces; *pp;
	     pp = &(*pp)->next) {
		if (*pp == as) {
			*pp = as->next;
			break;
		}
	}
	vmc__flat_view_unref(
		mem, atomic_load_explicit(&as->current, memory_order_relaxed));
	as->root->root_count--;
	vmc_region_unref(as->root);
	pthread_mutex_destroy(&as->map_lock);
	free(as->name);
	free(as);
	vmc__rcu_reclaim(&mem->rcu);
}

VMC_EXPORT void vmc_address_space_free(struct vmc_address_space *as)
{
	vmc__address_space_free(as);
}

VMC_EXPORT int
vmc_address_space_set_unassigned_policy(struct vmc_address_space *as,
					enum vmc_unassigned_policy policy)
{
	vmc_assert_return(as, -EINVAL);
	vmc_assert_return(policy == VMC_UNASSIGNED_IGNORE ||
				  policy == VMC_UNASSIGNED_ERROR,
			  -EINVAL);
	as->policy = policy;
	return 0;
}

void vmc__as_set_dispatch_lock(struct vmc_address_space *as,
			       struct vmc__lock *lock)
{
	as->dispatch_lock = lock;
}

void vmc__accel_as_set_soft_ioeventfds(struct vmc_address_space *as, bool on)
{
	atomic_store_explicit(&as->soft_ioeventfds, on, memory_order_relaxed);
}

/* ------------------------------------------------------------------------
 * Dump
 */

struct out {
	char *buf;
	size_t size, len;
};

static void VMC_PRINTF(2, 3) outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static size_t dump(struct vmc_address_space *as, char *buf, size_t size)
{
	const struct vmc__flat_view *v = vmc__as_get_view(as);
	struct out o = {buf, size, 0};

	if (size)
		buf[0] = '\0';
	outf(&o, "address-space: %s (%s)\n", as->name,
	     as->kind == VMC_AS_IO ? "io" : "memory");
	for (size_t i = 0; i < v->nr; i++) {
		const struct vmc__flat_range *r = &v->ranges[i];
		const char *kind = r->io				? "i/o"
				   : r->region->kind == VMC__REGION_ROM ? "rom"
									: "ram";

		outf(&o, "  %016" PRIx64 "-%016" PRIx64 " (%s%s): %s", r->start,
		     r->last, kind, r->readonly ? ", ro" : "", r->region->name);
		if (r->offset)
			outf(&o, " @%016" PRIx64, r->offset);
		outf(&o, "\n");
	}
	for (size_t i = 0; i < v->nr_ioeventfds; i++) {
		const struct vmc__as_ioeventfd *e = &v->ioeventfds[i];

		outf(&o, "  eventfd %016" PRIx64 " size %u", e->addr, e->size);
		if (e->match_data)
			outf(&o, " data 0x%" PRIx64, e->data);
		outf(&o, "\n");
	}
	return o.len;
}

VMC_EXPORT int vmc_address_space_dump(struct vmc_address_space *as, char *buf,
				      size_t size)
{
	size_t n;

	vmc_assert_return(as, -EINVAL);
	vmc_assert_return(buf || !size, -EINVAL);
	n = dump(as, buf, size);
	return n > INT32_MAX ? -EOVERFLOW : (int)n;
}

VMC_EXPORT int vmc_address_space_dump_fd(struct vmc_address_space *as, int fd)
{
	sigset_t pipe_set, old, pending;
	size_t n, done = 0;
	bool was_pending;
	char *buf;
	int r = 0;

	vmc_assert_return(as && fd >= 0, -EINVAL);
	n = dump(as, NULL, 0);
	buf = malloc(n + 1);
	if (!buf)
		return -ENOMEM;
	dump(as, buf, n + 1);
	/*
	 * The fd may be a pipe whose reader is gone: that is -EPIPE for the
	 * caller, never a SIGPIPE for the host.  SIGPIPE is blocked on this
	 * thread around the writes, and one the writes raised is consumed
	 * (one that was pending before is left alone).
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (done < n) {
		ssize_t w = write(fd, buf + done, n - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		done += (size_t)w;
	}
	if (r == -EPIPE && !was_pending) {
		static const struct timespec zero = {0, 0};

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(buf);
	if (r < 0)
		return r;
	return done > INT32_MAX ? INT32_MAX : (int)done;
}
