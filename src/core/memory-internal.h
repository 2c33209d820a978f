/* SPDX-License-Identifier: MIT */
/*
 * Internal view of the memory API, for the VM layer, the accelerators and
 * white-box tests.  Never installed.
 *
 * Threads.  The memory module has one writer side per context (struct
 * vmc_memory): tree mutations, transactions, listener callbacks and
 * reclamation run on the loop thread or with the VM lock held, never
 * concurrently; the module does not lock against concurrent writers.
 * Readers (vCPU threads, any thread in vmc_as_read()/vmc_as_write()) look
 * up flat views without locks under the context's RCU domain.
 */
#ifndef VMC_CORE_MEMORY_INTERNAL_H
#define VMC_CORE_MEMORY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <libvmcore/vmc-memory.h>
#include "accel.h"
#include "lock.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * RCU: quiescent-state-based reclamation, one domain per memory context.
 *
 * Why our own and not liburcu: liburcu's flavours keep one process-global
 * reader registry and grace-period state, so a stalled vCPU of one VM would
 * hold back reclamation for every VM in the process (and for the host's own
 * liburcu users), and its call_rcu starts a helper thread behind the host's
 * back; libvmcore keeps nothing process-global and starts no threads of its
 * own.  Its readers also synchronise through membarrier/futex protocols
 * that ThreadSanitizer cannot see.  What we need is small: a per-domain
 * grace-period counter, per-thread counters written with C11 atomics (so
 * sanitizers understand them), and deferred frees that the writer reclaims
 * at later commits without ever waiting for readers.
 *
 * Protocol.  The domain counter gp starts at 1.  Retiring an object
 * increments gp and tags the object with the new value E.  An online reader
 * stores the current gp in its own counter at each quiescent point; 0
 * means offline.  An object tagged E may be freed once every online reader
 * has a counter >= E: such a reader loaded gp after the increment, which
 * came after the pointer swap, so it can no longer hold the old pointer.
 * Readers cost one load (and a store when gp moved) per quiescent point.
 */
struct vmc__rcu_head {
	struct vmc__rcu_head *next;
	void (*fn)(struct vmc__rcu_head *head);
	uint64_t epoch;
};

struct vmc__rcu_reader {
	/* 0: offline; otherwise the last gp this thread announced. */
	_Atomic uint64_t ctr;
	struct vmc__rcu *rcu;
	struct vmc__rcu_reader *prev, *next;
};

struct vmc__rcu {
	pthread_mutex_t lock; /* reader list and deferred list */
	_Atomic uint64_t gp;
	struct vmc__rcu_reader *readers;
	struct vmc__rcu_head *head, **tail;
	size_t pending;
};

void vmc__rcu_init(struct vmc__rcu *rcu);
/* Runs every deferred callback; no reader may remain registered. */
void vmc__rcu_destroy(struct vmc__rcu *rcu);

/*
 * Register the calling thread as a reader (online), and make it the
 * thread's reader for the memory API's dispatch paths.  A thread may be the
 * registered reader of one domain at a time.
 */
void vmc__rcu_register_thread(struct vmc__rcu *rcu, struct vmc__rcu_reader *r);
void vmc__rcu_unregister_thread(struct vmc__rcu_reader *r);

/* The calling thread's registered reader, or NULL. */
struct vmc__rcu_reader *vmc__rcu_thread_reader(void);

/*
 * A reader that no thread owns: added to @rcu offline, and lent to one
 * thread at a time with vmc__rcu_thread_attach() (guest calls run a vCPU
 * on the caller's thread with it).  Attach returns the thread's previous
 * reader, to put back with another attach.
 */
void vmc__rcu_reader_add(struct vmc__rcu *rcu, struct vmc__rcu_reader *r);
void vmc__rcu_reader_del(struct vmc__rcu_reader *r);
struct vmc__rcu_reader *vmc__rcu_thread_attach(struct vmc__rcu_reader *r);

/*
 * Announce a quiescent state: the thread holds no pointer obtained from a
 * published view before this call.
 */
static inline void vmc__rcu_quiescent(struct vmc__rcu_reader *r)
{
	uint64_t gp = atomic_load_explicit(&r->rcu->gp, memory_order_seq_cst);

	if (atomic_load_explicit(&r->ctr, memory_order_relaxed) != gp)
		atomic_store_explicit(&r->ctr, gp, memory_order_seq_cst);
}

/*
 * A sleeping thread does not hold back reclamation while offline.  A
 * release store: the section's reads stay before it, and nothing after it
 * needs ordering (going online again is the full barrier).
 */
static inline void vmc__rcu_thread_offline(struct vmc__rcu_reader *r)
{
	atomic_store_explicit(&r->ctr, 0, memory_order_release);
}

static inline void vmc__rcu_thread_online(struct vmc__rcu_reader *r)
{
	atomic_store_explicit(
		&r->ctr,
		atomic_load_explicit(&r->rcu->gp, memory_order_seq_cst),
		memory_order_seq_cst);
}

static inline bool vmc__rcu_is_online(struct vmc__rcu_reader *r)
{
	return atomic_load_explicit(&r->ctr, memory_order_relaxed) != 0;
}

/*
 * A read-side section for a thread that is not a registered online reader
 * of @rcu (loop thread, host threads): it registers @tmp for the duration,
 * which costs a mutex round trip.  A registered online reader of @rcu pays
 * nothing; a registered offline one goes online for the section.
 */
struct vmc__rcu_section {
	struct vmc__rcu_reader tmp;
	struct vmc__rcu_reader *reader;
	int mode; /* 0 nothing, 1 temporary reader, 2 went online */
};
void vmc__rcu_section_enter(struct vmc__rcu *rcu, struct vmc__rcu_section *s);
void vmc__rcu_section_exit(struct vmc__rcu_section *s);

/*
 * Defer @fn(@head) until every reader has passed a quiescent point.  Any
 * thread; never waits.
 */
void vmc__rcu_defer(struct vmc__rcu *rcu, struct vmc__rcu_head *head,
		    void (*fn)(struct vmc__rcu_head *head));

/*
 * Run the deferred callbacks whose grace period has ended (writer side).
 * Returns how many still wait.
 */
size_t vmc__rcu_reclaim(struct vmc__rcu *rcu);

/* ------------------------------------------------------------------------
 * Regions
 */
enum vmc__region_kind {
	VMC__REGION_RAM,
	VMC__REGION_ROM,
	VMC__REGION_IO,
	VMC__REGION_CONTAINER,
	VMC__REGION_ALIAS,
};

typedef unsigned __int128 vmc__u128;
typedef __int128 vmc__s128;

struct vmc__region_ioeventfd {
	uint64_t offset;
	unsigned size;
	bool match_data;
	uint64_t data;
	struct vmc_notifier *notifier;
};

struct vmc_region {
	_Atomic long refcnt;
	struct vmc_memory *mem;
	char *name;
	enum vmc__region_kind kind;
	vmc__u128 size; /* 1 .. 2^64 */
	bool enabled;
	bool readonly;
	bool lockless;
	unsigned root_count; /* address spaces using it as their root */

	struct vmc_region *parent;
	uint64_t offset;
	int priority;
	/* Descending priority; among equals the newest first. */
	struct vmc_region **children;
	size_t nr_children, cap_children;

	struct vmc_region *alias;
	uint64_t alias_offset;

	uint8_t *host;
	int fd;
	size_t map_size; /* bytes the library mapped, or 0 */

	struct vmc_region_ops ops;
	void *opaque;
	/*
	 * I/O: the callbacks are cut off (vmc_region_detach_ops).  Set with
	 * release on the writer side; dispatch reads it once it holds the
	 * dispatch lock, so a detach that then passes through that lock
	 * knows no locked callback is still running.
	 */
	_Atomic bool detached;

	/* Sorted by vmc__ioeventfd_cmp order (offset, size, match, data). */
	struct vmc__region_ioeventfd *ioeventfds;
	size_t nr_ioeventfds, cap_ioeventfds;

	/*
	 * RAM written by the host while a snapshot tracks the region
	 * (snapshot.c), which no accelerator's dirty log sees: bit i for
	 * each 4 KiB page written through vmc_as_write() or a writable
	 * vmc_as_map().  Allocated by the snapshot code, freed with the
	 * region; host_dirty_any says some bit may be set.
	 */
	_Atomic(_Atomic uint64_t *) host_dirty;
	_Atomic bool host_dirty_on, host_dirty_any;
};

/* Host writes to @r's bytes [@off, @off + @len): mark them for the
 * tracked snapshot, if any (any thread). */
void vmc__region_mark_host_dirty(struct vmc_region *r, uint64_t off,
				 uint64_t len);
/* Mark every range of @as mapped writable now (a restore: what the host
 * may have written through them since). */
void vmc__as_mark_mapped_dirty(struct vmc_address_space *as);

/* ------------------------------------------------------------------------
 * Flat views
 */
struct vmc__flat_range {
	uint64_t start;
	uint64_t last; /* inclusive, so a range may end at 2^64 - 1 */
	struct vmc_region *region;
	uint64_t offset; /* offset of @start inside @region */
	uint8_t *host;	 /* host address of @start for RAM/ROM, else NULL */
	bool readonly;	 /* guest writes are refused */
	bool io;	 /* I/O region: dispatch through callbacks */
	/* The view holding this range, whose ioeventfds a write to it
	 * matches (accelerators pass ranges alone, as handles). */
	const struct vmc__flat_view *view;
};

/* An ioeventfd as the address space sees it. */
struct vmc__as_ioeventfd {
	uint64_t addr;
	unsigned size;
	bool match_data;
	uint64_t data;	    /* region endianness, as added */
	uint64_t data_host; /* the guest's bytes read in host order */
	struct vmc_notifier *notifier;
	struct vmc_region *region;
};

/*
 * The storage of a view's ioeventfd list, shared by successive views when
 * a change only appends records that sort after all of them (the way a
 * device adds its queue notifiers): the new view sees more entries of the
 * same buffer, readers of an older view never read past their own count,
 * and nothing below @used is written again.  So n such adds cost O(n), not
 * O(n^2).  Writer side only (views are built and freed there).
 */
struct vmc__ioeventfd_buf {
	long refcnt; /* views using it */
	size_t cap;
	size_t used; /* entries written: the newest view's count */
	struct vmc__as_ioeventfd e[];
};

struct vmc__flat_view {
	struct vmc__rcu_head rcu;
	_Atomic long refcnt;
	uint64_t generation;
	size_t nr;
	uint64_t *starts; /* starts[i] == ranges[i].start, for the search */
	struct vmc__flat_range *ranges;
	size_t nr_ioeventfds;
	struct vmc__as_ioeventfd
		*ioeventfds; /* total order; in @ioeventfd_buf */
	struct vmc__ioeventfd_buf *ioeventfd_buf;
};

/*
 * The range containing @addr, or NULL for a hole.  O(log n); @hint (may be
 * NULL) is an index remembered between calls, so that repeated and
 * sequential lookups cost O(1).  The view must be protected by a read-side
 * section (or the caller is the writer).
 */
static inline const struct vmc__flat_range *
vmc__flat_view_lookup(const struct vmc__flat_view *v, uint64_t addr,
		      size_t *hint)
{
	const uint64_t *b = v->starts;
	size_t n = v->nr, i;

	if (hint) {
		i = *hint;
		if (i < n && b[i] <= addr) {
			if (addr <= v->ranges[i].last)
				return &v->ranges[i];
			if (i + 1 < n && b[i + 1] <= addr &&
			    addr <= v->ranges[i + 1].last) {
				*hint = i + 1;
				return &v->ranges[i + 1];
			}
		}
	}
	if (unlikely(n == 0))
		return NULL;
	while (n > 1) {
		size_t half = n / 2;

		b = b[half] <= addr ? b + half : b;
		n -= half;
	}
	if (*b > addr)
		return NULL;
	i = (size_t)(b - v->starts);
	if (addr > v->ranges[i].last)
		return NULL;
	if (hint)
		*hint = i;
	return &v->ranges[i];
}

/* ------------------------------------------------------------------------
 * Address spaces
 */
struct vmc__as_mapping;

struct vmc_address_space {
	struct vmc_memory *mem;
	struct vmc_address_space *next; /* in mem->spaces, creation order */
	char *name;
	enum vmc_as_kind kind;
	struct vmc_region *root;
	enum vmc_unassigned_policy policy;
	_Atomic(struct vmc__flat_view *) current;
	_Atomic uint64_t generation;
	/* Software paths check writes against ioeventfds (off under KVM). */
	_Atomic bool soft_ioeventfds;
	struct vmc__lock *dispatch_lock;
	pthread_mutex_t map_lock;
	struct vmc__as_mapping *mappings;
	unsigned nr_listeners;
};

struct vmc_memory_listener {
	struct vmc_memory *mem;
	struct vmc_address_space *as;
	struct vmc_memory_listener_ops ops;
	void *opaque;
	int priority;
	struct vmc_memory_listener *next; /* mem->listeners, ascending */
};

struct vmc_memory {
	struct vmc__rcu rcu;
	unsigned depth;
	bool layout_pending;
	bool ioeventfd_pending;
	bool in_listener;
	struct vmc_address_space *spaces;
	struct vmc_memory_listener *listeners;
};

/*
 * Internal constructors for the VM layer: the same as the public ones (a
 * VM gives each of its address spaces the VM lock as dispatch lock).
 */
int vmc__memory_new(struct vmc_memory **ret);
void vmc__memory_free(struct vmc_memory *mem);
struct vmc__rcu *vmc__memory_rcu(struct vmc_memory *mem);
int vmc__address_space_new(struct vmc_memory *mem, struct vmc_region *root,
			   enum vmc_as_kind kind, const char *name,
			   struct vmc_address_space **ret);
void vmc__address_space_free(struct vmc_address_space *as);

/*
 * The published view.  Call inside a read-side section (or on the writer
 * side); the pointer stays valid until the reader's next quiescent point.
 */
static inline const struct vmc__flat_view *
vmc__as_get_view(struct vmc_address_space *as)
{
	return atomic_load_explicit(&as->current, memory_order_acquire);
}

/* Shorthand: look @addr up in the published view. */
static inline const struct vmc__flat_range *
vmc__as_lookup(struct vmc_address_space *as, uint64_t addr, size_t *hint)
{
	return vmc__flat_view_lookup(vmc__as_get_view(as), addr, hint);
}

/*
 * Changes on every publish of a new view of @as, so that a CPU's TLB can
 * tell that what it cached is stale.  Read it before looking up.
 */
static inline uint64_t vmc__as_generation(struct vmc_address_space *as)
{
	return atomic_load_explicit(&as->generation, memory_order_acquire);
}

/*
 * The lock taken around I/O callbacks (the VM lock), unless the region is
 * lockless or the thread already holds it.  NULL: no lock.
 */
void vmc__as_set_dispatch_lock(struct vmc_address_space *as,
			       struct vmc__lock *lock);

/*
 * Whether dispatch honours ioeventfds itself (default on; KVM turns it off
 * because the kernel does it): vmc__accel_as_set_soft_ioeventfds() in
 * accel.h.  Accelerators reach dispatch through vmc__accel_io().
 */

/* Render @root into a new view (writer side); the view has one ref. */
int vmc__flat_view_render(struct vmc_region *root, struct vmc__flat_view **ret);
void vmc__flat_view_unref(struct vmc_memory *mem, struct vmc__flat_view *v);

/* Ordering of region and address-space ioeventfds (total order). */
int vmc__ioeventfd_cmp(uint64_t a_addr, unsigned a_size, bool a_match,
		       uint64_t a_data, const void *a_notifier, uint64_t b_addr,
		       unsigned b_size, bool b_match, uint64_t b_data,
		       const void *b_notifier);

/* Build the sorted ioeventfd list of a view from its ranges. */
int vmc__flat_view_build_ioeventfds(struct vmc__flat_view *v);

/*
 * The view @old with the records that one new ioeventfd @e of region @mr
 * adds, in a new view (one ref) written to *@ret, *@added records long at
 * the end of its list; or NULL (nothing to add) when @mr is not visible.
 * -EAGAIN when the records do not all sort after @old's (or its buffer
 * was appended to since): the caller renders in full.  Writer side.
 */
int vmc__flat_view_append_ioeventfd(const struct vmc__flat_view *old,
				    const struct vmc_region *mr,
				    const struct vmc__region_ioeventfd *e,
				    struct vmc__flat_view **ret, size_t *added);

/* Value <-> bytes in an endianness. */
uint64_t vmc__bytes_to_value(const uint8_t *b, unsigned size,
			     enum vmc_endian e);
void vmc__value_to_bytes(uint64_t v, uint8_t *b, unsigned size,
			 enum vmc_endian e);

/* Mark pending changes and run the implicit transaction of a mutator. */
void vmc__memory_changed(struct vmc_memory *mem, bool layout, bool ioeventfd);
void vmc__region_free(struct vmc_region *r);

#endif
