/* SPDX-License-Identifier: MIT */
/*
 * In-memory snapshots (vmc-snapshot.h).
 *
 * A snapshot copies every RAM region the VM's memory tree reaches into a
 * memfd of its own (only the region memfd's populated extents: untouched
 * RAM costs nothing; clones map it copy-on-write, snapshot-clone.c) and
 * every vCPU's state through the accelerator's vcpu_save.  It then turns dirty
 * logging on for those regions and clears the log, and becomes the VM's tracked
 * snapshot (vm->snapshot).  A restore to the tracked snapshot fetches and
 * clears each region's log and copies back exactly the pages it names; since
 * the log was cleared when RAM last equalled the snapshot, the pages it does
 * not name still do.  The host's own writes (vmc_as_write(), writable
 * vmc_as_map()) are in no accelerator's log: dispatch.c marks them in a bitmap
 * per region, and a restore adds those and the live writable mappings.  A
 * restore to another snapshot copies everything (a clone's maps it again) and
 * takes the tracking over.
 *
 * Device state and the virtual clock are saved through sections
 * (snapshot-section.c): a snapshot keeps one blob per section, a restore
 * checks them all before it changes anything and loads them after RAM and
 * the vCPUs, under the VM lock.  The fd format (snapshot-file.c) writes
 * the same sections, each with its name, version, length and checksum.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libvmcore/vmc-snapshot.h>

#include "memory-internal.h"
#include "snapshot-internal.h"
#include "vm-internal.h"

/* ------------------------------------------------------------------------
 * The RAM regions of a VM
 */

#define ram_list vmc__ram_list

static int ram_list_add(struct ram_list *l, struct vmc_region *r)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i] == r)
			return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct vmc_region **p = realloc(l->r, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->r = p;
		l->cap = cap;
	}
	l->r[l->n++] = r;
	return 0;
}

/* Every RAM region reachable from @r (aliases followed), once each. */
static int ram_collect(struct ram_list *l, struct vmc_region *r,
		       unsigned int depth)
{
	int e;

	if (depth > 64)
		return 0; /* the memory API refuses cycles; be safe */
	switch (r->kind) {
	case VMC__REGION_RAM:
		return r->host ? ram_list_add(l, r) : 0;
	case VMC__REGION_ALIAS:
		return r->alias ? ram_collect(l, r->alias, depth + 1) : 0;
	case VMC__REGION_CONTAINER:
		for (size_t i = 0; i < r->nr_children; i++) {
			e = ram_collect(l, r->children[i], depth + 1);
			if (e < 0)
				return e;
		}
		return 0;
	default:
		return 0;
	}
}

int vmc__ram_collect(struct vmc_vm *vm, struct vmc__ram_list *l)
{
	return ram_collect(l, vm->root_memory, 0);
}

/* -EBUSY unless the VM does not run and every vCPU is parked (and not
 * borrowed by a guest call that runs it elsewhere). */
int vmc__snapshot_check_stopped(struct vmc_vm *vm)
{
	if (atomic_load(&vm->state) == VMC_VM_RUNNING)
		return -EBUSY;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].parked || vm->vcpus[i].borrowed)
			return -EBUSY;
	return 0;
}

int vmc__snapshot_begin(struct vmc_vm *vm)
{
	int r = vmc__snapshot_check_stopped(vm);

	return r < 0 ? r : vmc__sections_quiesce(vm);
}

/* Copy @size bytes of @s's RAM into @copy: with a memfd, only the extents
 * that hold data (the rest reads as zeros in both). */
static void ram_save(struct snap_ram *s, int fd)
{
	off_t end = (off_t)s->size, off = 0;
	uint64_t pages = (s->size + SNAP_PAGE - 1) / SNAP_PAGE;

	if (fd >= 0) {
		/* Every page a hole until an extent of data says otherwise. */
		s->zero =
			malloc((size_t)((pages + 63) / 64) * sizeof(uint64_t));
		if (s->zero)
			memset(s->zero, 0xff,
			       (size_t)((pages + 63) / 64) * sizeof(uint64_t));
	}
	if (fd < 0 || !s->zero) {
		memcpy(s->copy, s->host, s->size);
		return;
	}
	while (off < end) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;

		if (data < 0 || data >= end)
			return;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		memcpy(s->copy + data, s->host + data, (size_t)(hole - data));
		for (uint64_t pg = (uint64_t)data / SNAP_PAGE;
		     pg * SNAP_PAGE < (uint64_t)hole; pg++)
			s->zero[pg / 64] &= ~(1ull << (pg % 64));
		off = hole;
	}
}

/*
 * Host writes (vmc_as_write(), writable vmc_as_map(): devices, loaders,
 * guest-call arguments) are in no accelerator's log: core keeps its own
 * bitmap per region (dispatch.c marks it), cleared and switched on here.
 */
static int host_dirty_start(struct snap_ram *s)
{
	struct vmc_region *r = s->region;
	size_t words = (size_t)((s->size / SNAP_PAGE + 64) / 64);
	_Atomic uint64_t *bm = atomic_load(&r->host_dirty);

	if (!bm) {
		bm = calloc(words, sizeof(*bm));
		if (!bm)
			return -ENOMEM;
		atomic_store_explicit(&r->host_dirty, bm, memory_order_release);
	}
	for (size_t w = 0; w < words; w++)
		atomic_store_explicit(&bm[w], 0, memory_order_relaxed);
	atomic_store(&r->host_dirty_any, false);
	atomic_store_explicit(&r->host_dirty_on, true, memory_order_release);
	return 0;
}

/* OR the host's writes since the last call into @bitmap (@words). */
static void host_dirty_take(struct snap_ram *s, uint64_t *bitmap, size_t words)
{
	struct vmc_region *r = s->region;
	_Atomic uint64_t *bm;

	if (!atomic_exchange(&r->host_dirty_any, false))
		return;
	bm = atomic_load_explicit(&r->host_dirty, memory_order_acquire);
	for (size_t w = 0; bm && w < words; w++)
		bitmap[w] |= atomic_exchange_explicit(&bm[w], 0,
						      memory_order_relaxed);
}

/* Dirty logging on (and cleared) for every region of @snap. */
int vmc__snapshot_track(struct vmc_snapshot *snap)
{
	struct vmc_vm *vm = snap->vm;
	int r;

	for (size_t i = 0; i < snap->nr_ram; i++) {
		struct snap_ram *s = &snap->ram[i];

		r = vmc_vm_set_dirty_logging(vm, s->region, true);
		if (r < 0)
			return r;
		memset(snap->bitmap, 0, snap->words * sizeof(uint64_t));
		r = vmc_vm_get_dirty_log(vm, s->region, snap->bitmap,
					 snap->words);
		if (r < 0)
			return r;
		r = host_dirty_start(s);
		if (r < 0)
			return r;
	}
	vm->snapshot = snap;
	return 0;
}

void vmc__snapshot_untrack_snap(struct vmc_snapshot *snap)
{
	for (size_t i = 0; i < snap->nr_ram; i++) {
		atomic_store(&snap->ram[i].region->host_dirty_on, false);
		(void)vmc_vm_set_dirty_logging(snap->vm, snap->ram[i].region,
					       false);
	}
	snap->vm->snapshot = NULL;
}

void vmc__snapshot_untrack(struct vmc_vm *vm)
{
	if (vm->snapshot)
		vmc__snapshot_untrack_snap(vm->snapshot);
}

VMC_EXPORT void vmc_snapshot_free(struct vmc_snapshot *snap)
{
	if (!snap)
		return;
	if (snap->vm->snapshot == snap)
		vmc__snapshot_untrack_snap(snap);
	for (size_t i = 0; i < snap->nr_ram; i++) {
		if (snap->ram[i].copy)
			munmap(snap->ram[i].copy, snap->ram[i].map_size);
		if (snap->ram[i].fd >= 0)
			close(snap->ram[i].fd);
		vmc_region_unref(snap->ram[i].region);
		free(snap->ram[i].zero);
	}
	free(snap->ram);
	free(snap->bitmap);
	free(snap->vcpus);
	free(snap->halted);
	vmc__devstate_free(&snap->dev);
	vmc_vm_unref(snap->vm);
	free(snap);
}

static int save_vcpus(struct vmc_snapshot *snap)
{
	struct vmc_vm *vm = snap->vm;
	const struct vmc_accel_ops *ops = vm->ops;
	int r;

	if (!ops->vcpu_save || !ops->vcpu_load)
		return -EOPNOTSUPP;
	snap->nr_vcpus = vm->nr_vcpus;
	if (!snap->nr_vcpus)
		return 0;
	r = ops->vcpu_save(&vm->vcpus[0], NULL, 0);
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	snap->vcpu_size = (size_t)r;
	snap->vcpus = calloc(snap->nr_vcpus, snap->vcpu_size);
	snap->halted = calloc(snap->nr_vcpus, sizeof(bool));
	if (!snap->vcpus || !snap->halted)
		return -ENOMEM;
	for (unsigned int i = 0; i < snap->nr_vcpus; i++) {
		snap->halted[i] = vm->vcpus[i].halted;
		r = ops->vcpu_save(&vm->vcpus[i],
				   snap->vcpus + i * snap->vcpu_size,
				   snap->vcpu_size);
		if (r < 0)
			return r;
	}
	return 0;
}

static int save_ram(struct vmc_snapshot *snap)
{
	struct ram_list l = {0};
	uint64_t max = 0;
	int r;

	r = ram_collect(&l, snap->vm->root_memory, 0);
	if (r < 0)
		goto out;
	snap->ram = calloc(l.n ? l.n : 1, sizeof(*snap->ram));
	r = -ENOMEM;
	if (!snap->ram)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		struct snap_ram *s = &snap->ram[snap->nr_ram];
		void *p;

		s->region = vmc_region_ref(l.r[i]);
		s->fd = -1;
		snap->nr_ram++;
		s->host = l.r[i]->host;
		s->size = (uint64_t)l.r[i]->size;
		s->map_size = (size_t)((s->size + SNAP_PAGE - 1) &
				       ~(uint64_t)(SNAP_PAGE - 1));
		/* A memfd, so that clones can map it copy-on-write. */
		s->fd = memfd_create("vmc-snapshot", MFD_CLOEXEC);
		if (s->fd < 0 || ftruncate(s->fd, (off_t)s->map_size) < 0) {
			r = -errno;
			goto out;
		}
		p = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 s->fd, 0);
		if (p == MAP_FAILED)
			goto out;
		s->copy = p;
		ram_save(s, l.r[i]->fd);
		if (s->size > max)
			max = s->size;
	}
	snap->words = (size_t)((max / SNAP_PAGE + 64) / 64);
	snap->bitmap = calloc(snap->words, sizeof(uint64_t));
	if (!snap->bitmap)
		goto out;
	r = 0;
out:
	free(l.r);
	return r;
}

VMC_EXPORT int vmc_snapshot_new(struct vmc_vm *vm, struct vmc_snapshot **ret)
{
	struct vmc_snapshot *snap;
	bool taken, begun;
	int r;

	vmc_assert_return(vm && ret, -EINVAL);
	if (!vm->ops->vcpu_save || !vm->ops->dirty_log_get)
		return -EOPNOTSUPP;
	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	snap->vm = vmc_vm_ref(vm);
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	r = vmc__snapshot_begin(vm);
	begun = r == 0;
	if (r == 0)
		r = save_vcpus(snap);
	if (r == 0)
		r = vmc__devstate_save(vm, &snap->dev);
	if (r == 0)
		r = save_ram(snap);
	if (r == 0) {
		/* The previous tracked snapshot gives way. */
		if (vm->snapshot)
			vmc__snapshot_untrack_snap(vm->snapshot);
		r = vmc__snapshot_track(snap);
	}
	if (begun)
		vmc__sections_resume(vm);
	vmc__lock_release_if(&vm->lock, taken);
	if (r < 0) {
		vmc_snapshot_free(snap);
		return r;
	}
	*ret = snap;
	return 0;
}

/* The VM still has exactly the snapshot's RAM regions, with their sizes. */
static int check_layout(struct vmc_snapshot *snap)
{
	struct ram_list l = {0};
	int r = ram_collect(&l, snap->vm->root_memory, 0);

	if (r == 0 && l.n != snap->nr_ram)
		r = -EINVAL;
	for (size_t i = 0; r == 0 && i < snap->nr_ram; i++) {
		const struct snap_ram *s = &snap->ram[i];
		bool found = false;

		for (size_t j = 0; j < l.n && !found; j++)
			found = l.r[j] == s->region &&
				l.r[j]->host == s->host &&
				(uint64_t)l.r[j]->size == s->size;
		if (!found)
			r = -EINVAL;
	}
	free(l.r);
	return r;
}

static int64_t restore_dirty(struct vmc_snapshot *snap, struct snap_ram *s)
{
	uint64_t pages = (s->size + SNAP_PAGE - 1) / SNAP_PAGE;
	size_t words = (size_t)((pages + 63) / 64);
	int64_t copied = 0;
	int r;

	memset(snap->bitmap, 0, words * sizeof(uint64_t));
	r = vmc_vm_get_dirty_log(snap->vm, s->region, snap->bitmap,
				 snap->words);
	if (r < 0)
		return r;
	host_dirty_take(s, snap->bitmap, words);
	for (size_t w = 0; w < words; w++) {
		uint64_t bits = snap->bitmap[w];

		while (bits) {
			uint64_t pg = w * 64 + (unsigned)__builtin_ctzll(bits);
			uint64_t off = pg * SNAP_PAGE;
			uint64_t len = s->size - off < SNAP_PAGE ? s->size - off
								 : SNAP_PAGE;

			bits &= bits - 1;
			/* A page that was a hole: zeros, without reading the
			 * copy (whose hole pages would each be memory to read).
			 */
			if (s->zero && (s->zero[pg / 64] >> (pg % 64)) & 1)
				memset(s->host + off, 0, (size_t)len);
			else
				memcpy(s->host + off, s->copy + off,
				       (size_t)len);
			copied++;
		}
	}
	return copied;
}

VMC_EXPORT int vmc_snapshot_restore(struct vmc_vm *vm,
				    struct vmc_snapshot *snap)
{
	const struct vmc_accel_ops *ops;
	int64_t copied = 0;
	bool taken, begun;
	int r;

	vmc_assert_return(vm && snap && snap->vm == vm, -EINVAL);
	ops = vm->ops;
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	r = vmc__snapshot_begin(vm);
	begun = r == 0;
	if (r == 0)
		r = check_layout(snap);
	if (r == 0 && snap->nr_vcpus != vm->nr_vcpus)
		r = -EINVAL;
	if (r == 0)
		r = vmc__devstate_check(vm, &snap->dev);
	if (r < 0)
		goto out;
	if (vm->snapshot == snap) {
		/* What the host may have written through live mappings. */
		vmc__as_mark_mapped_dirty(vm->as_memory);
		for (size_t i = 0; i < snap->nr_ram; i++) {
			int64_t n = restore_dirty(snap, &snap->ram[i]);

			if (n < 0) {
				r = (int)n;
				goto out;
			}
			copied += n;
		}
	} else {
		if (vm->snapshot)
			vmc__snapshot_untrack_snap(vm->snapshot);
		/* Logging first: nothing written after the copy escapes. */
		r = vmc__snapshot_track(snap);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < snap->nr_ram; i++) {
			struct snap_ram *s = &snap->ram[i];

			/* A clone maps the copy again; others copy it. */
			if (vmc__snapshot_ram_remap(s) < 0)
				memcpy(s->host, s->copy, (size_t)s->size);
			copied += (int64_t)((s->size + SNAP_PAGE - 1) /
					    SNAP_PAGE);
		}
	}
	for (unsigned int i = 0; i < snap->nr_vcpus; i++) {
		r = ops->vcpu_load(&vm->vcpus[i],
				   snap->vcpus + i * snap->vcpu_size,
				   snap->vcpu_size);
		if (r < 0)
			goto out;
		/* A vCPU halted since runs again, as it did at the snapshot
		 * (the VM lock keeps the parked thread from looking). */
		vm->vcpus[i].halted = snap->halted[i];
	}
	r = vmc__devstate_load(vm, &snap->dev);
	if (r < 0)
		goto out;
	r = copied > INT32_MAX ? INT32_MAX : (int)copied;
out:
	if (begun)
		vmc__sections_resume(vm);
	vmc__lock_release_if(&vm->lock, taken);
	return r;
}
