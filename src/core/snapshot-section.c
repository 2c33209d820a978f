/* SPDX-License-Identifier: MIT */
/*
 * Snapshot sections: the device part of a snapshot.
 *
 * A device registers a section on its VM (name, version, ops {save,
 * check, load}); the VM keeps them in registration order.  The n-th
 * section of a name is instance n, so two VMs assembled the same way
 * number them alike and a snapshot file can name each section.  A saved
 * device state (struct vmc__devstate) is the virtual clock's time plus one
 * blob per section; both in-memory snapshots and the fd format use it.
 *
 * A restore first checks that the saved set is exactly the VM's (same
 * names and instances, nothing missing or extra) and lets every section
 * with a check() look at its blob; only then does anything change: the
 * clock is set, then every section loads, in registration order, so a
 * device registered after another (a virtio device model after its
 * transport) sees the other's state already back.
 *
 * The design note at the top of snapshot.c had save/load only; check() is
 * the improvement: without it a third section refusing its blob would
 * leave the first two loaded and the VM half-restored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loop-internal.h"
#include "snapshot-internal.h"

static bool name_valid(const char *name)
{
	size_t n = strnlen(name, VMC__SECTION_NAME_MAX);

	if (n == 0 || n >= VMC__SECTION_NAME_MAX)
		return false;
	if (strncmp(name, "vmc.", 4) == 0)
		return false; /* the file format's own sections */
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

VMC_EXPORT int
vmc_vm_add_snapshot_section(struct vmc_vm *vm, const char *name,
			    uint32_t version,
			    const struct vmc_snapshot_section_ops *ops,
			    void *opaque, struct vmc_snapshot_section **ret)
{
	struct vmc_snapshot_section *s, **pp;
	uint32_t instance = 0;
	bool taken;

	vmc_assert_return(vm && name && ops && ret, -EINVAL);
	vmc_assert_return(
		ops->struct_size >=
			offsetof(struct vmc_snapshot_section_ops, load) +
				sizeof(ops->load),
		-EINVAL);
	vmc_assert_return(ops->save && ops->load && name_valid(name), -EINVAL);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s->name, name, strlen(name) + 1);
	s->version = version;
	memcpy(&s->ops, ops,
	       ops->struct_size < sizeof(s->ops) ? ops->struct_size
						 : sizeof(s->ops));
	s->ops.struct_size = sizeof(s->ops);
	s->opaque = opaque;

	taken = vmc__lock_acquire_if_needed(&vm->lock);
	/* The lowest instance number of @name not in use. */
	for (bool again = true; again;) {
		again = false;
		for (struct vmc_snapshot_section *o = vm->sections; o;
		     o = o->next)
			if (o->instance == instance &&
			    strcmp(o->name, s->name) == 0) {
				instance++;
				again = true;
			}
	}
	s->instance = instance;
	for (pp = &vm->sections; *pp; pp = &(*pp)->next)
		;
	*pp = s;
	vmc__lock_release_if(&vm->lock, taken);
	*ret = s;
	return 0;
}

VMC_EXPORT void
vmc_vm_remove_snapshot_section(struct vmc_vm *vm,
			       struct vmc_snapshot_section *section)
{
	bool taken;

	if (!vm || !section)
		return;
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	for (struct vmc_snapshot_section **pp = &vm->sections; *pp;
	     pp = &(*pp)->next)
		if (*pp == section) {
			*pp = section->next;
			free(section);
			break;
		}
	vmc__lock_release_if(&vm->lock, taken);
}

void vmc__sections_free(struct vmc_vm *vm)
{
	struct vmc_snapshot_section *s;

	while ((s = vm->sections)) {
		vm->sections = s->next;
		free(s);
	}
}

void vmc__devstate_free(struct vmc__devstate *ds)
{
	if (!ds)
		return;
	if (!ds->borrowed)
		for (size_t i = 0; i < ds->nr; i++)
			free(ds->sec[i].data);
	free(ds->sec);
	ds->sec = NULL;
	ds->nr = 0;
}

/*
 * Quiescing.  A section whose device has threads of its own (an I/O
 * thread) stops them in quiesce(); every operation that needs a still VM
 * quiesces all sections before it saves or loads the first and resumes
 * them after the last, so no device work lands between one section's
 * save and the RAM copy.  Quiescing goes in reverse registration order:
 * a section registered before the one it leans on (virtio-blk's, before
 * its transport's, so that it is saved first) finds that one already
 * still.  Resuming goes in registration order.  The list is short:
 * recursion is fine.
 */
static int quiesce_from(struct vmc_snapshot_section *s)
{
	int r;

	if (!s)
		return 0;
	r = quiesce_from(s->next);
	if (r < 0 || !s->ops.quiesce)
		return r;
	r = s->ops.quiesce(s->opaque);
	if (r < 0) {
		vmc__log(VMC_LOG_WARNING,
			 "snapshot: section %s.%u cannot be quiesced: %d%s",
			 s->name, s->instance, r,
			 r == -EDEADLK ? " (called on its own I/O thread)"
				       : "");
		return r;
	}
	s->quiesced = true;
	return 0;
}

void vmc__sections_resume(struct vmc_vm *vm)
{
	for (struct vmc_snapshot_section *s = vm->sections; s; s = s->next) {
		if (!s->quiesced)
			continue;
		s->quiesced = false;
		if (s->ops.resume)
			s->ops.resume(s->opaque);
	}
}

int vmc__sections_quiesce(struct vmc_vm *vm)
{
	int r = quiesce_from(vm->sections);

	if (r < 0)
		vmc__sections_resume(vm);
	return r;
}

int vmc__devstate_save(struct vmc_vm *vm, struct vmc__devstate *ds)
{
	size_t n = 0, i = 0;
	int r;

	*ds = (struct vmc__devstate){0};
	ds->clock_ns = vmc_clock_get_ns(vm->clock);
	for (struct vmc_snapshot_section *s = vm->sections; s; s = s->next)
		n++;
	if (!n)
		return 0;
	ds->sec = calloc(n, sizeof(*ds->sec));
	if (!ds->sec)
		return -ENOMEM;
	for (struct vmc_snapshot_section *s = vm->sections; s;
	     s = s->next, i++) {
		struct vmc__saved_section *d = &ds->sec[i];

		ds->nr = i + 1;
		memcpy(d->name, s->name, sizeof(d->name));
		d->instance = s->instance;
		d->version = s->version;
		r = s->ops.save(s->opaque, NULL, 0);
		if (r < 0)
			goto fail;
		d->data = malloc(r ? (size_t)r : 1);
		if (!d->data) {
			r = -ENOMEM;
			goto fail;
		}
		if (r) {
			r = s->ops.save(s->opaque, d->data, (size_t)r);
			if (r < 0)
				goto fail;
		}
		d->size = (size_t)r;
	}
	return 0;
fail:
	vmc__log(VMC_LOG_WARNING, "snapshot: section %s.%u refused: %d",
		 ds->sec[ds->nr - 1].name, ds->sec[ds->nr - 1].instance, r);
	vmc__devstate_free(ds);
	return r;
}

static const struct vmc__saved_section *
find(const struct vmc__devstate *ds, const struct vmc_snapshot_section *s)
{
	for (size_t i = 0; i < ds->nr; i++)
		if (ds->sec[i].instance == s->instance &&
		    strcmp(ds->sec[i].name, s->name) == 0)
			return &ds->sec[i];
	return NULL;
}

int vmc__devstate_check(struct vmc_vm *vm, const struct vmc__devstate *ds)
{
	size_t n = 0;
	int r;

	for (struct vmc_snapshot_section *s = vm->sections; s; s = s->next) {
		const struct vmc__saved_section *d = find(ds, s);

		if (!d) {
			vmc__log(VMC_LOG_WARNING,
				 "snapshot: no state for section %s.%u",
				 s->name, s->instance);
			return -EINVAL;
		}
		n++;
		if (!s->ops.check)
			continue;
		r = s->ops.check(s->opaque, d->data, d->size, d->version);
		if (r < 0) {
			vmc__log(VMC_LOG_WARNING,
				 "snapshot: section %s.%u refused its state",
				 s->name, s->instance);
			return -EINVAL;
		}
	}
	if (n != ds->nr) {
		vmc__log(VMC_LOG_WARNING,
			 "snapshot: %zu sections saved, the VM has %zu", ds->nr,
			 n);
		return -EINVAL;
	}
	return 0;
}

int vmc__devstate_load(struct vmc_vm *vm, const struct vmc__devstate *ds)
{
	int ret = 0, r;

	vmc__clock_set_ns(vm->clock, ds->clock_ns);
	for (struct vmc_snapshot_section *s = vm->sections; s; s = s->next) {
		const struct vmc__saved_section *d = find(ds, s);

		if (!d)
			return -EINVAL; /* checked before */
		r = s->ops.load(s->opaque, d->data, d->size, d->version);
		if (r < 0) {
			vmc__log(VMC_LOG_ERR,
				 "snapshot: section %s.%u failed to load: %d",
				 s->name, s->instance, r);
			if (!ret)
				ret = r;
		}
	}
	return ret;
}

int vmc__devstate_copy(struct vmc__devstate *dst,
		       const struct vmc__devstate *src)
{
	*dst = (struct vmc__devstate){.clock_ns = src->clock_ns};
	if (!src->nr)
		return 0;
	dst->sec = calloc(src->nr, sizeof(*dst->sec));
	if (!dst->sec)
		return -ENOMEM;
	for (size_t i = 0; i < src->nr; i++) {
		dst->sec[i] = src->sec[i];
		dst->sec[i].data =
			malloc(src->sec[i].size ? src->sec[i].size : 1);
		if (!dst->sec[i].data) {
			dst->nr = i;
			vmc__devstate_free(dst);
			return -ENOMEM;
		}
		memcpy(dst->sec[i].data, src->sec[i].data, src->sec[i].size);
		dst->nr = i + 1;
	}
	return 0;
}

int vmc__vcpus_load(struct vmc_vm *vm, const uint8_t *const *blobs, size_t size)
{
	const struct vmc_accel_ops *ops = vm->ops;
	uint8_t *old;
	unsigned int i;
	int r;

	if (!vm->nr_vcpus)
		return 0;
	r = ops->vcpu_save(&vm->vcpus[0], NULL, 0);
	if (r < 0)
		return r;
	if ((size_t)r != size)
		return -EINVAL;
	old = calloc(vm->nr_vcpus, size ? size : 1);
	if (!old)
		return -ENOMEM;
	for (i = 0; i < vm->nr_vcpus; i++) {
		r = ops->vcpu_save(&vm->vcpus[i], old + i * size, size);
		if (r < 0)
			goto out;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		/* Blobs in a file sit at any offset: hand over aligned
		 * copies (malloc's alignment), as vcpu_save wrote them. */
		uint8_t *blob = malloc(size ? size : 1);

		if (!blob) {
			r = -ENOMEM;
		} else {
			memcpy(blob, blobs[i], size);
			r = ops->vcpu_load(&vm->vcpus[i], blob, size);
			free(blob);
		}
		if (r < 0) {
			while (i--)
				(void)ops->vcpu_load(&vm->vcpus[i],
						     old + i * size, size);
			goto out;
		}
	}
	r = 0;
out:
	free(old);
	return r;
}
