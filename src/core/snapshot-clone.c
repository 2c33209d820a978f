/* SPDX-License-Identifier: MIT */
/*
 * Copy-on-write clones of an in-memory snapshot (vmc_snapshot_clone()).
 *
 * A snapshot keeps each RAM region's copy in a memfd (snapshot.c).  A
 * clone is another VM, assembled like the snapshot's, whose RAM regions
 * are remapped in place (MAP_FIXED over the same host addresses) as
 * MAP_PRIVATE mappings of those memfds: every clone reads the snapshot's
 * pages from the page cache, and a page becomes the clone's own only when
 * the clone writes it.  Starting a clone costs a few mmap calls, not a
 * copy of its RAM; clones never see each other's writes.
 *
 * The region's host address does not change, so nothing that caches it
 * goes stale: a KVM memslot keeps its userspace address (the kernel's MMU
 * notifier drops the old translations when the mapping is replaced, and
 * the guest faults the new pages in), and tcg's TLB entries still point
 * into the region; vcpu_load drops translated code and TLBs anyway, since
 * the contents changed.  The region's own memfd no longer describes its
 * contents, so it is closed and vmc_region_get_fd() reports none from
 * then on (a host sharing guest memory by fd, vhost-user style, cannot
 * use clones).
 *
 * The clone gets a snapshot object of its own, bound to its VM: the same
 * vCPU and device state, and its own read-only mapping of the memfds.
 * Restoring it is the ordinary dirty-page reset (snapshot.c): the pages
 * the clone wrote are copied back from the shared copy; restoring it when
 * it is not the tracked snapshot maps the copy again instead of copying
 * all of it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "snapshot-internal.h"

int vmc__snapshot_ram_remap(struct snap_ram *s)
{
	void *p;

	if (!s->cow)
		return -EOPNOTSUPP;
	p = mmap(s->host, s->map_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, s->fd, 0);
	return p == MAP_FAILED ? -errno : 0;
}

static int same_name(const struct vmc_region *a, const struct vmc_region *b)
{
	return strcmp(a->name ? a->name : "", b->name ? b->name : "") == 0;
}

/* The clone's regions against the snapshot's: same order, sizes, names,
 * and library-allocated memfd RAM that can be remapped. */
static int check_regions(const struct vmc_snapshot *snap,
			 const struct vmc__ram_list *l)
{
	if (l->n != snap->nr_ram)
		return -EINVAL;
	for (size_t i = 0; i < l->n; i++) {
		const struct vmc_region *r = l->r[i];
		const struct snap_ram *s = &snap->ram[i];

		if ((uint64_t)r->size != s->size || !same_name(r, s->region))
			return -EINVAL;
		if (r->map_size < s->map_size || (uintptr_t)r->host % SNAP_PAGE)
			return -EOPNOTSUPP; /* caller memory */
		if (r->fd < 0 && !r->map_size)
			return -EOPNOTSUPP;
		if (r == s->region)
			return -EINVAL; /* the snapshot's own VM */
	}
	return 0;
}

static int build(struct vmc_snapshot *c, const struct vmc_snapshot *snap,
		 const struct vmc__ram_list *l)
{
	c->ram = calloc(l->n ? l->n : 1, sizeof(*c->ram));
	if (!c->ram)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		struct snap_ram *s = &c->ram[i];
		void *p;

		s->region = vmc_region_ref(l->r[i]);
		s->fd = -1;
		c->nr_ram++;
		s->host = l->r[i]->host;
		s->size = snap->ram[i].size;
		s->map_size = snap->ram[i].map_size;
		s->cow = true;
		s->fd = fcntl(snap->ram[i].fd, F_DUPFD_CLOEXEC, 0);
		if (s->fd < 0)
			return -errno;
		p = mmap(NULL, s->map_size, PROT_READ, MAP_SHARED, s->fd, 0);
		if (p == MAP_FAILED)
			return -errno;
		s->copy = p;
		if (snap->ram[i].zero) {
			size_t n =
				(size_t)((s->size + SNAP_PAGE - 1) / SNAP_PAGE +
					 63) /
				64 * sizeof(uint64_t);

			s->zero = malloc(n);
			if (!s->zero)
				return -ENOMEM;
			memcpy(s->zero, snap->ram[i].zero, n);
		}
	}
	c->words = snap->words;
	c->bitmap = calloc(c->words ? c->words : 1, sizeof(uint64_t));
	c->nr_vcpus = snap->nr_vcpus;
	c->vcpu_size = snap->vcpu_size;
	c->vcpus = malloc(c->nr_vcpus * c->vcpu_size + 1);
	c->halted = calloc(c->nr_vcpus + 1, sizeof(bool));
	if (!c->bitmap || !c->vcpus || !c->halted)
		return -ENOMEM;
	memcpy(c->vcpus, snap->vcpus, c->nr_vcpus * c->vcpu_size);
	memcpy(c->halted, snap->halted, c->nr_vcpus * sizeof(bool));
	return vmc__devstate_copy(&c->dev, &snap->dev);
}

static int load_vcpus(struct vmc_vm *vm, const struct vmc_snapshot *c)
{
	const uint8_t **blobs;
	int r;

	if (!c->nr_vcpus)
		return 0;
	blobs = calloc(c->nr_vcpus, sizeof(*blobs));
	if (!blobs)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->nr_vcpus; i++)
		blobs[i] = c->vcpus + i * c->vcpu_size;
	r = vmc__vcpus_load(vm, blobs, c->vcpu_size);
	free(blobs);
	return r;
}

VMC_EXPORT int vmc_snapshot_clone(struct vmc_snapshot *snap, struct vmc_vm *vm,
				  struct vmc_snapshot **ret)
{
	struct vmc__ram_list l = {0};
	struct vmc_snapshot *c;
	bool taken, begun;
	int r;

	vmc_assert_return(snap && vm && ret, -EINVAL);
	vmc_assert_return(vm->ops == snap->vm->ops &&
				  vm->arch == snap->vm->arch,
			  -EINVAL);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm = vmc_vm_ref(vm);
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	r = vmc__snapshot_begin(vm);
	begun = r == 0;
	if (r == 0)
		r = vmc__ram_collect(vm, &l);
	if (r == 0)
		r = check_regions(snap, &l);
	if (r == 0 && snap->nr_vcpus != vm->nr_vcpus)
		r = -EINVAL;
	if (r == 0)
		r = vmc__devstate_check(vm, &snap->dev);
	if (r == 0)
		r = build(c, snap, &l);
	if (r == 0)
		r = load_vcpus(vm, c);
	if (r < 0)
		goto out;
	/* From here on nothing fails but a remap (out of mappings). */
	vmc__snapshot_untrack(vm);
	for (size_t i = 0; i < c->nr_ram; i++) {
		struct vmc_region *reg = l.r[i];

		r = vmc__snapshot_ram_remap(&c->ram[i]);
		if (r < 0) {
			vmc__log(VMC_LOG_ERR,
				 "snapshot: cannot map a clone's "
				 "RAM: %d",
				 r);
			goto out;
		}
		if (reg->fd >= 0) {
			close(reg->fd);
			reg->fd = -1;
		}
	}
	for (unsigned int i = 0; i < c->nr_vcpus; i++)
		vm->vcpus[i].halted = c->halted[i];
	r = vmc__devstate_load(vm, &c->dev);
	if (r == 0)
		r = vmc__snapshot_track(c);
out:
	if (begun)
		vmc__sections_resume(vm);
	vmc__lock_release_if(&vm->lock, taken);
	free(l.r);
	if (r < 0) {
		vmc_snapshot_free(c);
		return r;
	}
	*ret = c;
	return 0;
}
