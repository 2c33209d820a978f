/* SPDX-License-Identifier: MIT */
/*
 * What the snapshot files share (snapshot.c: in-memory snapshots,
 * snapshot-section.c: device sections and the clock, snapshot-file.c: the
 * fd format).  Never installed.
 */
#ifndef VMC_CORE_SNAPSHOT_INTERNAL_H
#define VMC_CORE_SNAPSHOT_INTERNAL_H

#include <stdint.h>

#include <libvmcore/vmc-snapshot.h>

#include "vm-internal.h"

#define VMC__SECTION_NAME_MAX 64

/* A registered section (snapshot-section.c). */
struct vmc_snapshot_section {
	struct vmc_snapshot_section *next; /* in vm->sections, in order */
	char name[VMC__SECTION_NAME_MAX];
	uint32_t instance;
	uint32_t version;
	struct vmc_snapshot_section_ops ops;
	void *opaque;
};

/* One saved section. */
struct vmc__saved_section {
	char name[VMC__SECTION_NAME_MAX];
	uint32_t instance;
	uint32_t version;
	size_t size;
	uint8_t *data; /* malloc'd, or pointing into a caller's buffer */
};

/* The device part of a snapshot: the clock and every section. */
struct vmc__devstate {
	int64_t clock_ns;
	size_t nr;
	struct vmc__saved_section *sec;
	bool borrowed; /* data points into someone else's buffer */
};

/* Save the clock and every section of @vm (VM lock held, not running). */
int vmc__devstate_save(struct vmc_vm *vm, struct vmc__devstate *ds);
/* -EINVAL unless @ds has exactly @vm's sections, each accepted by its
 * check (VM lock held); changes nothing. */
int vmc__devstate_check(struct vmc_vm *vm, const struct vmc__devstate *ds);
/* The clock, then every section's load, in registration order. */
int vmc__devstate_load(struct vmc_vm *vm, const struct vmc__devstate *ds);
void vmc__devstate_free(struct vmc__devstate *ds);
/* Every section of a VM being destroyed. */
void vmc__sections_free(struct vmc_vm *vm);

/* A VM's RAM regions, in the order the memory tree reaches them. */
struct vmc__ram_list {
	struct vmc_region **r;
	size_t n, cap;
};
int vmc__ram_collect(struct vmc_vm *vm, struct vmc__ram_list *l);
/* -EBUSY unless the VM does not run and every vCPU is parked. */
int vmc__snapshot_check_stopped(struct vmc_vm *vm);
/* The VM's tracked snapshot stops being tracked (RAM was rewritten). */
void vmc__snapshot_untrack(struct vmc_vm *vm);

#endif
