/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-memory.h
 * @brief The memory API: regions, address spaces, transactions, flat views,
 * ioeventfds, listeners and guest memory access.
 *
 * Objects.  A struct vmc_memory is a memory context: it owns the
 * transaction state, the listeners and the reclamation domain for one
 * machine (a VM has exactly one; vmc_memory_new() makes a standalone one).
 * Regions (struct vmc_region) are created in a context and form trees:
 *
 * - RAM: guest memory.  vmc_region_new_ram() allocates it on a memfd, so
 *   another process (vhost-user, a device process) can map the same pages;
 *   vmc_region_get_fd() returns that fd.  vmc_region_new_ram_ptr() uses
 *   memory the caller owns and keeps alive until the region is released.
 * - ROM: like library-allocated RAM, but guest writes never change it.  The
 *   host fills it through vmc_region_get_ptr().
 * - I/O: an access calls the region's read/write callbacks
 *   (struct vmc_region_ops), with declared access sizes, alignment policy
 *   and endianness.
 * - Container: holds subregions only; addresses no child covers are holes.
 * - Alias: a window [offset, offset + size) onto another region, rendered
 *   with that region's own subregions, priorities and holes.
 *
 * Any region except an alias may have subregions.  A subregion sits at an
 * offset inside its parent with a signed priority: where siblings overlap
 * the higher priority wins; among equal priorities the one added last wins.
 * Children cover their parent's own backing (RAM, ROM, I/O) where they
 * overlap it; a container's holes fall through to lower-priority siblings
 * of the container.  A region has at most one parent; cycles (also through
 * aliases) are refused.
 *
 * Sizes are 64-bit; VMC_REGION_SIZE_ALL stands for the whole 2^64-byte
 * space (for root containers).
 *
 * Address spaces (struct vmc_address_space) render a root region into a
 * flat view: a sorted array of non-overlapping ranges, each pointing at the
 * region that is visible there and the offset inside it.  A machine has a
 * "memory" address space and, on x86, an "io" one for port I/O.
 *
 * Transactions.  Every mutator is a transaction of its own; wrap several
 * in vmc_memory_begin() / vmc_memory_commit() (nestable) to publish them at
 * once.  The outermost commit renders every address space of the context
 * whose layout or ioeventfds may have changed, tells the listeners, and
 * publishes each new flat view with an RCU-style pointer swap.  Threads
 * that access guest memory (vCPU threads, vmc_as_read() and friends) see
 * either the old or the new view, never a mix, and never take a lock to
 * look up an address.  A replaced view, and the regions only it still
 * refers to, are freed once every reading thread has passed a quiescent
 * point.
 *
 * Lifetime.  Regions are reference counted.  The creator holds one
 * reference; a parent holds one on each child, an alias one on its target,
 * and every flat view one on each region it shows: the published view, and
 * a replaced view until every reading thread has passed a quiescent point
 * (see Transactions).  When the last reference goes, the region's
 * ops->release(opaque) runs (if set), exactly once.
 *
 * The end of a device.  Every access reaches an I/O callback through a
 * flat view, inside a read-side section, and a view keeps its regions
 * alive; so when release runs, no thread (vCPU, loop, host) is inside a
 * callback of the region or can enter one again.  A device therefore frees
 * the state behind its callbacks in release, and ends its life in three
 * steps, on the loop thread:
 * 1. vmc_region_detach_ops(): from now on accesses no longer reach the
 *    callbacks, and none of them still runs (for a locked region), so the
 *    device may tear down what its callbacks use;
 * 2. free its other objects (timers, bottom halves, fd handlers, lines);
 * 3. vmc_region_unref() its reference; release frees the device's memory
 *    once the board has removed the region and readers have moved on.
 * Without step 1 a vCPU may call a callback of a half-freed device between
 * steps 2 and 3, since the region stays visible until the board removes it
 * and the readers' views go.  See examples/out-of-tree/ for a device built
 * this way.
 *
 * Threads.  Every function here, unless marked otherwise, is a writer-side
 * call: it runs on the loop thread or with the VM lock held, and calls on
 * one context never run concurrently.  The library does not lock against
 * concurrent writers.  vmc_as_read(), vmc_as_write(), vmc_as_map() and
 * vmc_as_unmap() may also be called from vCPU threads and other threads
 * (@thread any).  I/O callbacks run with the address space's dispatch lock
 * (the VM lock) held unless the region was created with
 * VMC_REGION_LOCKLESS.
 */
#ifndef LIBVMCORE_VMC_MEMORY_H
#define LIBVMCORE_VMC_MEMORY_H

#include <libvmcore/vmc-common.h>

VMC_BEGIN_DECLS

struct vmc_memory;
struct vmc_region;
struct vmc_address_space;
struct vmc_memory_listener;
struct vmc_notifier;

/** A region size that stands for 2^64 bytes, the whole address space. */
#define VMC_REGION_SIZE_ALL UINT64_MAX

/* ------------------------------------------------------------------------
 * Memory contexts and transactions
 */

/**
 * Create a standalone memory context.  A VM makes its own; this is for
 * hosts and tests that use the memory API without a VM.
 *
 * @param[out] ret the new context
 * @retval 0 success
 * @retval -EINVAL @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread any; the calling thread becomes the writer side
 * @since 0.1
 */
int vmc_memory_new(struct vmc_memory **ret);

/**
 * Free a context.  Its address spaces and listeners must have been freed;
 * no thread may be registered as a reader any more.  Regions created in it
 * may outlive it only if they are no longer used (unref them first).  NULL
 * is ignored.
 * @param mem the context
 * @thread writer
 * @since 0.1
 */
void vmc_memory_free(struct vmc_memory *mem);

/**
 * Open a transaction (they nest).  Changes made until the matching
 * outermost vmc_memory_commit() are published together.
 * @param mem the context
 * @retval 0 success
 * @retval -EINVAL @p mem is NULL
 * @thread writer
 * @since 0.1
 */
int vmc_memory_begin(struct vmc_memory *mem);

/**
 * Close a transaction.  The outermost commit renders the changed address
 * spaces, calls the listeners (see struct vmc_memory_listener_ops) and
 * publishes the new flat views.
 * @param mem the context
 * @retval 0 success
 * @retval -EINVAL @p mem is NULL, or no transaction is open
 * @retval -ENOMEM out of memory rendering a view; the previous views stay
 *         published and the changes are published by the next commit
 * @thread writer
 * @since 0.1
 */
int vmc_memory_commit(struct vmc_memory *mem);

/**
 * Free the flat views (and regions) that no reader can still see.  Commits
 * do this already; call it to release memory sooner after readers went
 * quiescent.  Never waits for readers.
 * @param mem the context
 * @return the number of deferred frees still waiting for readers, or
 *         -EINVAL when @p mem is NULL
 * @thread writer
 * @since 0.1
 */
int vmc_memory_reclaim(struct vmc_memory *mem);

/* ------------------------------------------------------------------------
 * Regions
 */

/** Byte order of an I/O region's registers. */
enum vmc_endian {
	VMC_ENDIAN_NATIVE = 0, /**< the host's byte order */
	VMC_ENDIAN_LITTLE = 1, /**< little endian */
	VMC_ENDIAN_BIG = 2,    /**< big endian */
	_VMC_ENDIAN_MAX = 0x7fffffff
};

/** Flags of region constructors. */
enum vmc_region_flags {
	/**
	 * I/O only: the callbacks run without the address space's dispatch
	 * lock.  They may run concurrently on several threads and must do
	 * their own locking.
	 */
	VMC_REGION_LOCKLESS = 1u << 0,
	/** The region starts read-only (see vmc_region_set_readonly()). */
	VMC_REGION_READONLY = 1u << 1,
};

/**
 * Read callback of an I/O region.
 *
 * @param opaque the opaque pointer given at creation
 * @param offset offset of the access inside the region
 * @param size   the access width in bytes: 1, 2, 4 or 8, within the
 *               region's [min_access_size, max_access_size]
 * @param[out] value the register value; the library converts it to bytes
 *               with the region's endianness
 * @return 0, or a negative errno that the access reports to its caller
 */
typedef int (*vmc_region_read_cb)(void *opaque, uint64_t offset, unsigned size,
				  uint64_t *value);

/**
 * Write callback of an I/O region; see vmc_region_read_cb.  Only the low
 * @p size bytes of @p value are meaningful; the others are zero.
 */
typedef int (*vmc_region_write_cb)(void *opaque, uint64_t offset, unsigned size,
				   uint64_t value);

/** Flags of struct vmc_region_ops. */
enum vmc_region_ops_flags {
	/**
	 * The callbacks accept accesses that are not aligned to their width.
	 * Without it an unaligned access is split into aligned pieces.
	 */
	VMC_REGION_OPS_UNALIGNED = 1u << 0,
	/**
	 * Refuse, instead of adapting, accesses the callbacks cannot take
	 * as they are (width outside [min, max], or unaligned without
	 * VMC_REGION_OPS_UNALIGNED): such an access fails with -EINVAL and
	 * no callback runs.
	 */
	VMC_REGION_OPS_STRICT = 1u << 1,
};

/**
 * Callbacks and access rules of an I/O region.  The library copies it.
 *
 * Accesses the callbacks cannot take as they are are adapted (unless
 * VMC_REGION_OPS_STRICT): wider than @c max_access_size, or unaligned, are
 * split into aligned pieces of at most @c max_access_size, in address
 * order; narrower than @c min_access_size are widened to the aligned
 * @c min_access_size word around them (a narrow write then reads that word,
 * merges the new bytes and writes it back).
 */
struct vmc_region_ops {
	/** sizeof(struct vmc_region_ops), so the struct can grow */
	size_t struct_size;
	/** read callback; NULL makes reads fail with -EACCES */
	vmc_region_read_cb read;
	/** write callback; NULL makes writes fail with -EACCES */
	vmc_region_write_cb write;
	/**
	 * called once when the region's last reference goes, when no
	 * callback can be running or start any more (see "The end of a
	 * device" above); may be NULL.  It runs on the writer side, inside
	 * vmc_region_unref(), vmc_memory_commit(), vmc_memory_reclaim() or
	 * the VM's destruction, possibly with the VM lock held: it should
	 * only free memory, and must not take the VM lock or change the
	 * memory layout.
	 */
	void (*release)(void *opaque);
	/** smallest width the callbacks take: 1, 2, 4 or 8; 0 means 1 */
	unsigned min_access_size;
	/** largest width the callbacks take: 1, 2, 4 or 8; 0 means 8 */
	unsigned max_access_size;
	/** byte order of the registers */
	enum vmc_endian endian;
	/** VMC_REGION_OPS_* flags */
	unsigned flags;
};

/**
 * Create a RAM region on a new memfd (shareable with other processes).
 *
 * The memory is zeroed.  vmc_region_get_ptr() and vmc_region_get_fd()
 * give the mapping and the fd (offset 0), both owned by the region.
 *
 * @param mem   the context
 * @param name  a name for dumps and logs (copied)
 * @param size  bytes; not 0, a multiple of the host page size is not
 *              required
 * @param flags 0 or VMC_REGION_READONLY
 * @param[out] ret the new region, with one reference
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p size is 0 or too large for the
 *         host, or an unknown flag is set
 * @retval -ENOMEM out of memory
 * @retval -errno memfd_create, ftruncate or mmap failed
 * @thread writer
 * @since 0.1
 */
int vmc_region_new_ram(struct vmc_memory *mem, const char *name, uint64_t size,
		       unsigned flags, struct vmc_region **ret);

/**
 * Create a RAM region over memory the caller owns.  The caller keeps
 * [host, host + size) mapped and alive until the region is freed
 * (ops-less regions have no release callback: free your memory after the
 * last vmc_region_unref() and, if readers exist, after the next
 * vmc_memory_reclaim() that returns 0).  vmc_region_get_fd() reports
 * -ENODEV for it.
 *
 * @param mem   the context
 * @param name  a name for dumps and logs (copied)
 * @param size  bytes; not 0
 * @param host  the caller's memory, @p size bytes
 * @param flags 0 or VMC_REGION_READONLY
 * @param[out] ret the new region, with one reference
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p size is 0, @p host + @p size
 *         wraps, or an unknown flag is set
 * @retval -ENOMEM out of memory
 * @thread writer
 * @since 0.1
 */
int vmc_region_new_ram_ptr(struct vmc_memory *mem, const char *name,
			   uint64_t size, void *host, unsigned flags,
			   struct vmc_region **ret);

/**
 * Create a ROM region: library-allocated memory (on a memfd, like
 * vmc_region_new_ram()) that the guest can read and execute but whose
 * guest writes are discarded (or reported, under
 * VMC_UNASSIGNED_ERROR).  Fill it through vmc_region_get_ptr().
 * @param mem the context
 * @param name a name for dumps and logs (copied)
 * @param size bytes; not 0
 * @param[out] ret the new region, with one reference
 * @retval 0 success
 * @retval -EINVAL an argument is NULL or @p size is 0
 * @retval -ENOMEM out of memory
 * @retval -errno memfd_create, ftruncate or mmap failed
 * @thread writer
 * @since 0.1
 */
int vmc_region_new_rom(struct vmc_memory *mem, const char *name, uint64_t size,
		       struct vmc_region **ret);

/**
 * Create an I/O region whose accesses call @p ops.
 *
 * @param mem    the context
 * @param name   a name for dumps and logs (copied)
 * @param size   bytes; not 0
 * @param ops    callbacks and access rules (copied)
 * @param opaque passed to the callbacks
 * @param flags  0, VMC_REGION_LOCKLESS, VMC_REGION_READONLY
 * @param[out] ret the new region, with one reference
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p size is 0, @p ops->struct_size
 *         is too small, an access size is not 0/1/2/4/8, min > max, the
 *         endianness or a flag is unknown
 * @retval -ENOMEM out of memory
 * @thread writer
 * @since 0.1
 */
int vmc_region_new_io(struct vmc_memory *mem, const char *name, uint64_t size,
		      const struct vmc_region_ops *ops, void *opaque,
		      unsigned flags, struct vmc_region **ret);

/**
 * Cut an I/O region off from its callbacks: from now on reads of it give
 * 0 and writes are discarded, without calling @c read or @c write, while
 * the region stays where it is in the tree.  @c release still runs, once,
 * with the last reference.  This is the first step of a device's end of
 * life (see the top of this file); there is no way back.
 *
 * For a region with a dispatch lock (the VM lock; every region but
 * VMC_REGION_LOCKLESS ones) no callback is running on another thread
 * when this returns: it passes through the lock if the caller does not
 * hold it.  A callback of the region on the calling thread (a device
 * detaching itself from its own register write) finishes normally.  For
 * a lockless region, callbacks that had already started on other threads
 * may still be running; @c release waits for them.
 *
 * @param r an I/O region
 * @retval 0 success (also when it was detached already)
 * @retval -EINVAL @p r is NULL or not an I/O region
 * @thread writer; may block on the VM lock while a callback runs, so do
 *         not call it from a lockless callback
 * @since 0.2
 */
int vmc_region_detach_ops(struct vmc_region *r);

/**
 * Create a container: a region with no backing of its own.
 * @param mem  the context
 * @param name a name for dumps and logs (copied)
 * @param size bytes, or VMC_REGION_SIZE_ALL
 * @param[out] ret the new region, with one reference
 * @retval 0 success
 * @retval -EINVAL an argument is NULL or @p size is 0
 * @retval -ENOMEM out of memory
 * @thread writer
 * @since 0.1
 */
int vmc_region_new_container(struct vmc_memory *mem, const char *name,
			     uint64_t size, struct vmc_region **ret);

/**
 * Create an alias: [0, size) of the alias shows [offset, offset + size) of
 * @p target, with the target's subregions.  The alias holds a reference on
 * @p target.  Aliases cannot have subregions.
 * @param mem the context
 * @param name a name for dumps and logs (copied)
 * @param target the region shown
 * @param offset where in @p target the window starts
 * @param size the window's size in bytes
 * @param[out] ret the new alias, with one reference
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p size is 0, @p offset + @p size
 *         wraps, or @p target belongs to another context
 * @retval -ENOMEM out of memory
 * @thread writer
 * @since 0.1
 */
int vmc_region_new_alias(struct vmc_memory *mem, const char *name,
			 struct vmc_region *target, uint64_t offset,
			 uint64_t size, struct vmc_region **ret);

/**
 * Take a reference.
 * @param r the region
 * @return @p r (NULL for NULL)
 * @thread writer
 * @since 0.1
 */
struct vmc_region *vmc_region_ref(struct vmc_region *r);

/**
 * Drop a reference.  The last one frees the region (after readers moved
 * on; see the lifetime note above).  A region that still sits in a parent
 * is kept alive by it.
 * @param r the region
 * @return NULL
 * @thread writer
 * @since 0.1
 */
struct vmc_region *vmc_region_unref(struct vmc_region *r);

/**
 * Add @p child to @p parent at @p offset with @p priority.
 *
 * The child may extend beyond the parent's end (it is clipped there).
 * Takes a reference on @p child.
 *
 * @param parent the parent
 * @param offset where in @p parent the child starts
 * @param child the subregion, which has no parent yet
 * @param priority higher wins where siblings overlap
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p parent is an alias, the regions
 *         belong to different contexts, or @p offset + child size exceeds
 *         2^64
 * @retval -EBUSY @p child already has a parent, or is an address space's
 *         root
 * @retval -ELOOP @p parent is @p child or is reachable from it (through
 *         subregions or aliases): the tree would contain a cycle
 * @thread writer
 * @since 0.1
 */
int vmc_region_add_subregion(struct vmc_region *parent, uint64_t offset,
			     struct vmc_region *child, int priority);

/**
 * Remove @p child from @p parent and drop the parent's reference.
 * @param parent the parent
 * @param child its subregion
 * @retval 0 success
 * @retval -EINVAL an argument is NULL
 * @retval -ENOENT @p child is not a subregion of @p parent
 * @thread writer
 * @since 0.1
 */
int vmc_region_remove_subregion(struct vmc_region *parent,
				struct vmc_region *child);

/**
 * Show or hide a region (and everything below it).  Regions start enabled.
 * @param r the region
 * @param enabled whether the region is visible
 * @retval 0 success
 * @retval -EINVAL @p r is NULL
 * @thread writer
 * @since 0.1
 */
int vmc_region_set_enabled(struct vmc_region *r, bool enabled);

/**
 * Move a subregion to another offset inside its parent, keeping its
 * priority.  As in QEMU this removes and re-adds it in one transaction, so
 * among equal priorities it then counts as the newest.
 * @param r the region
 * @param offset the new offset inside the parent
 * @retval 0 success
 * @retval -EINVAL @p r is NULL, or @p offset + size exceeds 2^64
 * @retval -ENOENT @p r has no parent
 * @thread writer
 * @since 0.1
 */
int vmc_region_set_offset(struct vmc_region *r, uint64_t offset);

/**
 * Make a region read-only for the guest, or writable again.  The flag is
 * inherited by everything rendered below it, including alias targets; RAM
 * then appears in read-only flat ranges (writes are discarded, or reported
 * under VMC_UNASSIGNED_ERROR), and I/O writes are refused the same way.
 * ROM is always read-only.
 * @param r the region
 * @param readonly whether guest writes are refused
 * @retval 0 success
 * @retval -EINVAL @p r is NULL
 * @thread writer
 * @since 0.1
 */
int vmc_region_set_readonly(struct vmc_region *r, bool readonly);

/**
 * Point an alias at another offset of its target.
 * @param r the region
 * @param offset the new offset inside the target
 * @retval 0 success
 * @retval -EINVAL @p r is NULL or not an alias, or @p offset + size wraps
 * @thread writer
 * @since 0.1
 */
int vmc_region_set_alias_offset(struct vmc_region *r, uint64_t offset);

/**
 * The host mapping of a RAM or ROM region, or NULL for other kinds and
 * NULL.
 * @param r the region
 * @thread any
 * @since 0.1
 */
void *vmc_region_get_ptr(const struct vmc_region *r);

/**
 * The memfd behind a library-allocated RAM or ROM region (at file offset
 * 0).  It stays owned by the region: duplicate it to keep it.
 * @param r the region
 * @retval >=0 the fd
 * @retval -EINVAL @p r is NULL
 * @retval -ENODEV the region has no memfd (caller memory, I/O, container,
 *         alias)
 * @thread any
 * @since 0.1
 */
int vmc_region_get_fd(const struct vmc_region *r);

/**
 * The region's size (VMC_REGION_SIZE_ALL for 2^64); 0 for NULL.
 * @param r the region
 * @thread any
 * @since 0.1
 */
uint64_t vmc_region_get_size(const struct vmc_region *r);

/**
 * The region's name; NULL for NULL.
 * @param r the region
 * @thread any
 * @since 0.1
 */
const char *vmc_region_get_name(const struct vmc_region *r);

/**
 * Attach a notifier to writes at [@p offset, @p offset + @p size) of a
 * region.
 *
 * A guest write of exactly @p size bytes at that offset (any width when
 * @p size is 0), and with value @p data when @p match_data is set, signals
 * @p notifier instead of reaching the region: under KVM the kernel does it
 * (KVM_IOEVENTFD, through the accelerator's listener); on the software
 * paths the dispatch code does it and skips the write callback.  @p data
 * is a register value in the region's endianness.  The region keeps its
 * ioeventfds sorted by (offset, size, match_data, data when matching,
 * notifier).  The notifier must outlive the ioeventfd.
 *
 * @param r the region
 * @param offset the offset of the write inside @p r
 * @param size 0 (any width), 1, 2, 4 or 8
 * @retval 0 success
 * @retval -EINVAL @p r or @p notifier is NULL, @p size is not 0/1/2/4/8,
 *         the range is not inside the region, @p match_data with
 * @param match_data signal only writes of value @p data
 * @param data the value to match, in the region's endianness
 * @param notifier signalled on a matching write
 *         @p size 0, or @p data does not fit in @p size bytes
 * @retval -EEXIST the same ioeventfd is already attached
 * @retval -ENOMEM out of memory
 * @thread writer
 * @since 0.1
 */
int vmc_region_add_ioeventfd(struct vmc_region *r, uint64_t offset,
			     unsigned size, bool match_data, uint64_t data,
			     struct vmc_notifier *notifier);

/**
 * Detach an ioeventfd; the arguments must equal those it was added with.
 * @param r the region
 * @param offset as added
 * @param size as added
 * @param match_data as added
 * @param data as added
 * @param notifier as added
 * @retval 0 success
 * @retval -EINVAL @p r or @p notifier is NULL
 * @retval -ENOENT no such ioeventfd
 * @thread writer
 * @since 0.1
 */
int vmc_region_remove_ioeventfd(struct vmc_region *r, uint64_t offset,
				unsigned size, bool match_data, uint64_t data,
				struct vmc_notifier *notifier);

/* ------------------------------------------------------------------------
 * Address spaces
 */

/** Which bus an address space models. */
enum vmc_as_kind {
	VMC_AS_MEMORY = 0, /**< memory: MMIO and RAM */
	VMC_AS_IO = 1,	   /**< x86 port I/O */
	_VMC_AS_KIND_MAX = 0x7fffffff
};

/** What an access to an address no region covers does. */
enum vmc_unassigned_policy {
	/** reads return all ones, writes are discarded (the default) */
	VMC_UNASSIGNED_IGNORE = 0,
	/**
	 * the access fails with -EFAULT; writes to read-only memory fail
	 * with -EACCES
	 */
	VMC_UNASSIGNED_ERROR = 1,
	_VMC_UNASSIGNED_MAX = 0x7fffffff
};

/**
 * Create an address space over @p root.  Its first flat view is rendered
 * at once.  Takes a reference on @p root, which must have no parent (and
 * cannot get one while it is a root).  A VM creates its own address spaces;
 * this is for standalone use.
 *
 * @param mem  the context
 * @param root the root region, with no parent
 * @param kind the bus the address space models
 * @param name for dumps and logs (copied)
 * @param[out] ret the new address space
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p kind is unknown, or @p root
 *         belongs to another context
 * @retval -EBUSY @p root has a parent
 * @retval -ENOMEM out of memory
 * @thread writer
 * @since 0.1
 */
int vmc_address_space_new(struct vmc_memory *mem, struct vmc_region *root,
			  enum vmc_as_kind kind, const char *name,
			  struct vmc_address_space **ret);

/**
 * Free an address space.  Its listeners must have been freed; readers may
 * still finish with its last view (freed after they pass a quiescent
 * point), but no new access may start.  NULL is ignored.
 * @param as the address space
 * @thread writer
 * @since 0.1
 */
void vmc_address_space_free(struct vmc_address_space *as);

/**
 * Choose what accesses to unassigned addresses do.
 * @param as the address space
 * @param policy the new policy
 * @retval 0 success
 * @retval -EINVAL @p as is NULL or @p policy is unknown
 * @thread writer
 * @since 0.1
 */
int vmc_address_space_set_unassigned_policy(struct vmc_address_space *as,
					    enum vmc_unassigned_policy policy);

/**
 * Write the current flat view as text, like QEMU's "info mtree -f": a
 * header line "address-space: NAME (memory|io)", then one line per range,
 * "  START-LAST (KIND[, ro]): NAME[ @OFFSET]" with 16-digit hex addresses,
 * KIND one of ram, rom, i/o, and "@OFFSET" (16 hex digits) when the range
 * does not start at offset 0 of its region; then one line per visible
 * ioeventfd, "  eventfd ADDR size N[ data 0xD]".
 *
 * Like snprintf(): writes at most @p size bytes including the terminating
 * NUL, and returns the full length.
 *
 * @param as   the address space
 * @param buf  the buffer; may be NULL when @p size is 0
 * @param size the size of @p buf in bytes
 * @retval >=0 the length of the whole dump, without the NUL
 * @retval -EINVAL @p as is NULL, or @p buf is NULL with @p size > 0
 * @thread writer
 * @since 0.1
 */
int vmc_address_space_dump(struct vmc_address_space *as, char *buf,
			   size_t size);

/**
 * Write the dump of vmc_address_space_dump() to a file descriptor (for a
 * FILE*, fflush() it and pass fileno()).
 * @param as the address space
 * @param fd the file descriptor to write to
 * @retval >=0 bytes written
 * @retval -EINVAL @p as is NULL or @p fd is negative
 * @retval -ENOMEM out of memory
 * @retval -errno write(2) failed
 * @thread writer
 * @since 0.1
 */
int vmc_address_space_dump_fd(struct vmc_address_space *as, int fd);

/* ------------------------------------------------------------------------
 * Guest memory access
 */

/**
 * Read guest memory: [@p addr, @p addr + @p len) of the address space,
 * across region boundaries.
 *
 * RAM and ROM parts are copied.  An I/O part of 1, 2, 4 or 8 bytes is one
 * access of that width; longer I/O parts are split into the widest
 * naturally aligned accesses of at most 8 bytes.  @p buf holds the bytes
 * in address order (a little-endian guest stores a value's low byte
 * first).  Unassigned parts follow the address space's policy.
 *
 * @param as the address space
 * @param addr the guest address of the first byte
 * @param[out] buf receives the bytes
 * @param len the number of bytes
 * @retval 0 success
 * @retval -EINVAL @p as is NULL, @p buf is NULL with @p len > 0, or an I/O
 *         region with VMC_REGION_OPS_STRICT refused the access width or
 *         alignment
 * @retval -EFAULT @p addr + @p len exceeds 2^64, or (policy
 *         VMC_UNASSIGNED_ERROR) part of the range is unassigned; bytes
 *         before the failing part may have been read
 * @retval -EACCES an I/O region has no read callback
 * @retval -errno an I/O read callback failed
 * @thread any (a thread that is not a registered reader of the VM takes a
 *         short lock to enter a read-side section)
 * @since 0.1
 */
int vmc_as_read(struct vmc_address_space *as, uint64_t addr, void *buf,
		size_t len);

/**
 * Write guest memory; the mirror of vmc_as_read().  Writes to read-only
 * RAM and ROM are discarded (policy VMC_UNASSIGNED_IGNORE) or fail with
 * -EACCES (VMC_UNASSIGNED_ERROR).  A write that matches a visible
 * ioeventfd signals its notifier instead of calling the region (unless an
 * accelerator handles ioeventfds in the kernel).
 *
 * @param as the address space
 * @param addr the guest address of the first byte
 * @param buf the bytes to write
 * @param len the number of bytes
 * @retval 0 success
 * @retval -EINVAL @p as is NULL, or @p buf is NULL with @p len > 0
 * @retval -EFAULT the range exceeds 2^64, or is partly unassigned under
 *         VMC_UNASSIGNED_ERROR
 * @retval -EACCES read-only memory under VMC_UNASSIGNED_ERROR, or an I/O
 *         region without a write callback
 * @retval -errno an I/O callback failed
 * @thread any (see vmc_as_read())
 * @since 0.1
 */
int vmc_as_write(struct vmc_address_space *as, uint64_t addr, const void *buf,
		 size_t len);

/**
 * Put an image into guest RAM and ROM, as a loader does (QEMU's
 * address_space_write_rom): unlike vmc_as_write(), ROM is written too,
 * since this is the host placing contents, not the guest storing.  The
 * whole range must be memory: if any part of it is an I/O region (a
 * device's registers) or unassigned, nothing is written and no device
 * callback runs, whatever the address space's unassigned policy.
 *
 * @param as the address space
 * @param addr the guest address of the first byte
 * @param buf the bytes to write
 * @param len the number of bytes
 * @retval 0 success (also for @p len 0)
 * @retval -EINVAL @p as is NULL, or @p buf is NULL with @p len > 0
 * @retval -EFAULT the range exceeds 2^64, or part of it is I/O or
 *         unassigned; nothing was written
 * @retval -EACCES part of the range is read-only RAM (it may be the
 *         host's read-only mapping); nothing was written
 * @thread any (see vmc_as_read())
 * @since 0.2
 */
int vmc_as_write_rom(struct vmc_address_space *as, uint64_t addr,
		     const void *buf, size_t len);

/**
 * Map guest RAM for zero-copy access.  Succeeds only when the whole range
 * lies in one RAM or ROM flat range (writable RAM when @p write is set).
 * The mapping stays valid until vmc_as_unmap(), even if the layout changes
 * meanwhile (the region is kept alive).
 *
 * @param as the address space
 * @param addr the guest address of the first byte
 * @param len the length of the range in bytes
 * @param write whether the mapping is written through
 * @param[out] ret the host pointer for @p addr
 * @retval 0 success
 * @retval -EINVAL @p as or @p ret is NULL, or @p len is 0
 * @retval -EFAULT the range exceeds 2^64, or is not entirely in one RAM
 *         range
 * @retval -EACCES @p write and the range is read-only
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.1
 */
int vmc_as_map(struct vmc_address_space *as, uint64_t addr, size_t len,
	       bool write, void **ret);

/**
 * Release a mapping made by vmc_as_map().
 * @param as the address space
 * @param ptr the pointer vmc_as_map() returned
 * @retval 0 success
 * @retval -EINVAL @p as is NULL
 * @retval -ENOENT @p ptr is not a live mapping of @p as
 * @thread any
 * @since 0.1
 */
int vmc_as_unmap(struct vmc_address_space *as, void *ptr);

/* ------------------------------------------------------------------------
 * Listeners
 */

/** A flat range, as reported to listeners. */
struct vmc_memory_section {
	struct vmc_address_space *as; /**< the address space */
	enum vmc_as_kind kind;	      /**< its kind */
	uint64_t addr;		      /**< guest address of the first byte */
	/** bytes; 0 only for a range covering the whole 2^64 space */
	uint64_t size;
	struct vmc_region *region; /**< the region shown there */
	uint64_t offset;	   /**< offset of @c addr in @c region */
	/** host address of @c addr for RAM and ROM, NULL for I/O */
	void *host;
	/** memfd of the RAM/ROM behind @c host, or -1 */
	int fd;
	uint64_t fd_offset; /**< file offset of @c host in @c fd */
	bool readonly;	    /**< guest writes are refused */
	bool ram;	    /**< RAM or ROM (host memory) */
	bool rom;	    /**< ROM */
};

/** An ioeventfd as seen in an address space, reported to listeners. */
struct vmc_ioeventfd_info {
	struct vmc_address_space *as; /**< the address space */
	enum vmc_as_kind kind;	      /**< memory (MMIO) or io (PIO) */
	uint64_t addr;		      /**< guest address */
	unsigned size;		      /**< 0 (any width), 1, 2, 4, 8 */
	bool match_data;	      /**< compare the written value */
	/** the value, in the region's endianness (as added) */
	uint64_t data;
	/**
	 * the value as the guest's bytes read in host byte order: what
	 * KVM_IOEVENTFD compares against
	 */
	uint64_t data_host;
	struct vmc_notifier *notifier; /**< signalled on a match */
	struct vmc_region *region;     /**< the region it belongs to */
};

/**
 * Listener callbacks.  All are optional.
 *
 * Order.  For each outermost commit that changed the layout:
 * every listener's @c begin (ascending priority, all address spaces of the
 * context); then, for each address space in creation order: @c region_del
 * for every range that disappeared or changed (address order; listeners in
 * descending priority), then @c region_add for every new or changed range
 * (address order; ascending priority), then @c eventfd_del for every
 * ioeventfd that is no longer visible (sorted order; descending priority),
 * then @c eventfd_add for every new one (ascending priority).  Then every
 * listener's @c commit (ascending).  A commit that changed only ioeventfds
 * skips @c begin and @c commit.  Every deletion of an address space is
 * emitted before any addition, so a listener that forwards to the kernel
 * never sees a transient duplicate.  (QEMU interleaves eventfd deletions
 * and additions and runs eventfd callbacks in the reverse priority
 * direction; libvmcore applies one rule to both kinds.)  Listeners of equal
 * priority run in registration order.
 *
 * Callbacks run on the writer side and must not change the memory layout.
 * The structs they get are valid only during the call.
 */
struct vmc_memory_listener_ops {
	/** sizeof(struct vmc_memory_listener_ops), so the struct can grow */
	size_t struct_size;
	/** Called first in a commit that changed the layout (ascending
	 * priority). */
	void (*begin)(void *opaque);
	/** Called last in a commit that changed the layout (ascending
	 * priority). */
	void (*commit)(void *opaque);
	/**
	 * Called for each new or changed range, after the deletions (address
	 * order; ascending priority).
	 */
	void (*region_add)(void *opaque, const struct vmc_memory_section *s);
	/**
	 * Called for each range that disappeared or changed, before the
	 * additions (address order; descending priority).
	 */
	void (*region_del)(void *opaque, const struct vmc_memory_section *s);
	/**
	 * Called for each newly visible ioeventfd, after the ioeventfd
	 * deletions (ascending priority).
	 */
	void (*eventfd_add)(void *opaque, const struct vmc_ioeventfd_info *e);
	/**
	 * Called for each ioeventfd that is no longer visible, after
	 * @c region_add (sorted order; descending priority).
	 */
	void (*eventfd_del)(void *opaque, const struct vmc_ioeventfd_info *e);
};

/**
 * Listen to an address space's layout.  The current layout is replayed to
 * the new listener alone at once: @c begin, @c region_add for every range,
 * @c eventfd_add for every ioeventfd, @c commit.
 *
 * @param as the address space to listen to
 * @param ops the callbacks
 * @param priority lower runs earlier for additions, later for deletions
 * @param opaque passed to the callbacks
 * @param[out] ret the listener
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, or @p ops->struct_size is too small
 * @retval -EBUSY called from a listener callback, or inside an open
 *         transaction
 * @retval -ENOMEM out of memory
 * @thread writer
 * @since 0.1
 */
int vmc_memory_listener_new(struct vmc_address_space *as,
			    const struct vmc_memory_listener_ops *ops,
			    int priority, void *opaque,
			    struct vmc_memory_listener **ret);

/**
 * Stop listening.  Mirrors the registration: @c begin, @c eventfd_del for
 * every ioeventfd, @c region_del for every range, @c commit, so the
 * listener can undo what it mirrored.  NULL is ignored.
 * @param l the listener
 * @thread writer; not from a listener callback
 * @since 0.1
 */
void vmc_memory_listener_free(struct vmc_memory_listener *l);

VMC_END_DECLS

#endif
