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
	bool quiesced; /* between quiesce() and resume(); VM lock */
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
/* A deep copy of @src into @dst. */
int vmc__devstate_copy(struct vmc__devstate *dst,
		       const struct vmc__devstate *src);
/* Load every vCPU from @blobs[i] (@size bytes each); if one refuses, put
 * the ones loaded back as they were and return its error (VM lock held,
 * vCPUs parked). */
int vmc__vcpus_load(struct vmc_vm *vm, const uint8_t *const *blobs,
		    size_t size);
/* Every section's quiesce(), in registration order (VM lock held); on a
 * refusal, the ones quiesced are resumed and its error returned. */
int vmc__sections_quiesce(struct vmc_vm *vm);
/* Every quiesced section's resume(), in reverse order. */
void vmc__sections_resume(struct vmc_vm *vm);
/* Every section of a VM being destroyed. */
void vmc__sections_free(struct vmc_vm *vm);

/* ------------------------------------------------------------------------
 * In-memory snapshots (snapshot.c) and their clones (snapshot-clone.c)
 */

#define SNAP_PAGE 4096u

struct snap_ram {
	struct vmc_region *region; /* a reference */
	uint8_t *host;		   /* the region's RAM */
	uint64_t size;
	/* The RAM as it was: a MAP_SHARED mapping of the memfd @fd (its
	 * holes read as zeros, and clones map it copy-on-write). */
	uint8_t *copy;
	int fd;
	size_t map_size;
	bool cow; /* the region's RAM is a private mapping of @fd (a clone) */
	/* A bit per page that was a hole of the region's memfd when the
	 * snapshot was taken (zeros): a restore writes zeros there rather
	 * than reading @copy.  NULL: nothing known. */
	uint64_t *zero;
};

struct vmc_snapshot {
	struct vmc_vm *vm; /* a reference */
	struct snap_ram *ram;
	size_t nr_ram;
	uint64_t *bitmap; /* scratch for the largest region's log */
	size_t words;
	unsigned int nr_vcpus;
	size_t vcpu_size;
	uint8_t *vcpus;		  /* nr_vcpus blobs of vcpu_size bytes */
	bool *halted;		  /* core's WFI/HLT state of each vCPU */
	struct vmc__devstate dev; /* the clock and the device sections */
};

/* Dirty logging on and cleared for @snap's regions; it becomes tracked. */
int vmc__snapshot_track(struct vmc_snapshot *snap);
/* Dirty logging off; the VM tracks no snapshot. */
void vmc__snapshot_untrack_snap(struct vmc_snapshot *snap);
/* A clone's region back to the copy, copy-on-write (VM not running):
 * 0, or -EOPNOTSUPP when @s is not a clone's (copy it instead). */
int vmc__snapshot_ram_remap(struct snap_ram *s);

/* A VM's RAM regions, in the order the memory tree reaches them. */
struct vmc__ram_list {
	struct vmc_region **r;
	size_t n, cap;
};
int vmc__ram_collect(struct vmc_vm *vm, struct vmc__ram_list *l);
/* -EBUSY unless the VM does not run and every vCPU is parked. */
int vmc__snapshot_check_stopped(struct vmc_vm *vm);
/* The start of an operation that needs a still VM (VM lock held): the
 * stopped check, then every section quiesced.  0 or its error; on 0, the
 * operation ends with vmc__sections_resume(). */
int vmc__snapshot_begin(struct vmc_vm *vm);
/* The VM's tracked snapshot stops being tracked (RAM was rewritten). */
void vmc__snapshot_untrack(struct vmc_vm *vm);

#endif
