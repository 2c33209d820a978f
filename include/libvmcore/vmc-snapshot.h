/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-snapshot.h
 * In-memory snapshots of a paused VM and resets to them.
 *
 * A struct vmc_snapshot holds a copy of a VM's RAM (every RAM region its
 * memory tree reaches) and of every vCPU's architectural state, taken
 * while the VM does not run.  Taking it starts dirty tracking (the
 * accelerator's, see vmc_vm_set_dirty_logging()) on those regions, so a
 * later vmc_snapshot_restore() copies back only the pages the guest wrote
 * since the snapshot (or since the last restore to it) and reloads the
 * registers: a reset costs time in proportion to the pages dirtied, not to
 * the RAM size.  The VM's most recent snapshot is the one it tracks;
 * restoring an older one copies all of its RAM once and makes it the
 * tracked one.
 *
 * What is covered.  RISC-V (tcg): every GPR and FPR, pc, privilege,
 * fcsr, the machine and supervisor CSRs, PMP and the counters;
 * device-driven interrupt
 * lines and an LR reservation are not saved (devices re-drive their lines
 * from their own sections).  x86 (KVM): general, segment and control
 * registers, the XSAVE area (x87, SSE, AVX and whatever XCR0 enables) and
 * XCR0, debug registers, pending events, the syscall, sysenter, PAT,
 * MISC_ENABLE, TSC_AUX and kvmclock MSRs, and the local APIC of an
 * in-kernel irqchip with its TSC deadline; not the TSC itself (guest time
 * goes on) or nested state.  Device
 * state is saved through sections (vmc_vm_add_snapshot_section()), and
 * the VM's virtual clock with it (timers armed by sections come back at
 * their deadlines on the restored clock; a deterministic clock, tcg's
 * -icount, restores exactly).  RAM the host or a device writes through
 * vmc_as_write(), vmc_as_write_rom() or a writable vmc_as_map() is
 * tracked by the library itself (no accelerator's log sees it) and put
 * back by a restore too; not covered: writes through a region's host
 * pointer (vmc_region_get_ptr()) or its fd.
 *
 * Threads.  Loop thread (the memory's writer side), VM not running.  A
 * device's own threads (I/O threads, vmc-iothread.h) are held still for
 * the whole operation through its section's quiesce() and resume(), so
 * the device sections and the RAM agree; an operation called on such a
 * thread fails with -EDEADLK (it would wait for itself).
 */
#ifndef LIBVMCORE_VMC_SNAPSHOT_H
#define LIBVMCORE_VMC_SNAPSHOT_H

#include <libvmcore/vmc-common.h>

VMC_BEGIN_DECLS

struct vmc_vm;
struct vmc_snapshot;

/**
 * Take an in-memory snapshot of @p vm, which must not be running (paused,
 * or created and never started, or stopped by a debugger or an error),
 * and make it the one the VM's dirty tracking serves.  The snapshot holds
 * a reference on @p vm; free it with vmc_snapshot_free().
 * @param vm the VM
 * @param[out] ret the snapshot, written only on success
 * @retval 0 success
 * @retval -EINVAL @p vm or @p ret is NULL
 * @retval -EBUSY the VM is running, or a vCPU is not parked
 * @retval -EDEADLK called on the I/O thread of one of the VM's devices
 *         (a section's quiesce() refused)
 * @retval -EOPNOTSUPP the accelerator cannot save vCPUs or track dirty
 *         pages (harness)
 * @retval -ENOSPC the accelerator cannot log that many RAM regions
 * @retval -ENOMEM out of memory
 * @retval -errno the accelerator failed to read a vCPU's state
 * @thread loop
 * @since 0.2
 */
int vmc_snapshot_new(struct vmc_vm *vm, struct vmc_snapshot **ret);

/**
 * Put @p vm back to @p snap: the pages written since the snapshot or the
 * last restore to it, then every vCPU's registers, the virtual clock and
 * every device section.  The VM's run state does not change: a VM that
 * shut down is reset (vmc_vm_reset()) before it runs again.  If @p snap is not
 * the VM's tracked snapshot, all of its RAM is copied and it becomes tracked.
 * @param vm the VM @p snap was taken of, not running
 * @param snap the snapshot
 * @return the number of 4 KiB pages copied (>= 0), or a negative errno
 * @retval -EINVAL an argument is NULL, @p snap belongs to another VM,
 *         the VM's RAM regions are not those of the snapshot any more, or
 *         its device sections differ or one refused its state (checked
 *         before anything changes)
 * @retval -EBUSY the VM is running, or a vCPU is not parked
 * @retval -EDEADLK called on the I/O thread of one of the VM's devices
 *         (a section's quiesce() refused)
 * @retval -ENOMEM out of memory
 * @retval -errno the accelerator's dirty log or vCPU load failed; RAM may
 *         then be partly restored (restore again)
 * @thread loop
 * @since 0.2
 */
int vmc_snapshot_restore(struct vmc_vm *vm, struct vmc_snapshot *snap);

/**
 * Free @p snap and its RAM copy, and drop its reference on the VM.  If it
 * was the VM's tracked snapshot, dirty logging of its regions stops.
 * NULL is a no-op.
 * @param snap the snapshot, or NULL
 * @thread loop
 * @since 0.2
 */
void vmc_snapshot_free(struct vmc_snapshot *snap);

/**
 * Start @p vm as a copy-on-write clone of @p snap.  @p vm must be
 * assembled like the snapshot's VM (same accelerator, architecture, vCPU
 * count, RAM regions in the same order with the same names and sizes, the
 * same device sections) and not running; its RAM regions must be the
 * library's (vmc_region_new_ram()).  Each RAM region is remapped in place
 * onto the snapshot's copy, privately: pages are shared with the snapshot
 * and every other clone until this VM writes them, so a clone costs only
 * the pages it dirties, starting one costs no copy of its RAM, and clones
 * never see each other's writes.  Then every vCPU, device section and the
 * clock are loaded from the snapshot.
 *
 * The clone's own snapshot is returned: vmc_snapshot_restore() of @p vm
 * to it resets the clone, copying back only the pages it dirtied.  It
 * holds its own reference on the shared copy: @p snap may be freed first.
 * The regions' memfds no longer describe their contents and are closed:
 * vmc_region_get_fd() returns -ENODEV for them afterwards.
 * @param snap the snapshot
 * @param vm the VM to start from it (not @p snap's own)
 * @param[out] ret the clone's snapshot, written only on success
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p vm is @p snap's VM or is
 *         assembled differently, or a device section refused its state
 * @retval -EOPNOTSUPP a RAM region of @p vm is caller memory
 * @retval -EBUSY @p vm is running, or a vCPU is not parked
 * @retval -EDEADLK called on the I/O thread of one of the VM's devices
 *         (a section's quiesce() refused)
 * @retval -ENOMEM out of memory
 * @retval -errno a mapping failed (nothing changed, but after the remap of
 *         a region: then the clone's RAM is partly the snapshot's)
 * @thread loop
 * @since 0.2
 */
int vmc_snapshot_clone(struct vmc_snapshot *snap, struct vmc_vm *vm,
		       struct vmc_snapshot **ret);

/* ------------------------------------------------------------------------
 * Snapshot sections: how devices take part
 */

struct vmc_snapshot_section;

/**
 * What a section does.  Every callback runs on the loop thread with the
 * VM lock held and the VM not running.
 */
struct vmc_snapshot_section_ops {
	/** sizeof(struct vmc_snapshot_section_ops), so the struct can grow */
	size_t struct_size;
	/**
	 * Write the state into @p buf of @p size bytes and return the bytes
	 * written; with @p buf NULL, return the size needed (an upper bound
	 * is fine).  A negative errno refuses the snapshot (-EBUSY: requests
	 * in flight; let the loop run and try again).  Required.
	 */
	int (*save)(void *opaque, void *buf, size_t size);
	/**
	 * Optional: whether load() would accept @p buf (@p size bytes, saved
	 * by a section of version @p version); 0, or -EINVAL.  It changes
	 * nothing.  A restore checks every section before it changes
	 * anything, so a load after a successful check must not fail.
	 */
	int (*check)(void *opaque, const void *buf, size_t size,
		     uint32_t version);
	/**
	 * Make the state the one in @p buf: registers, and the timers armed
	 * at their saved deadlines on the (restored) virtual clock; drive
	 * output lines to the levels that state implies.  Runs after RAM,
	 * vCPUs and the clock are restored, in registration order.  Without
	 * check(), it must refuse bad input with -EINVAL before changing
	 * anything.  Required.  In check() and load(), @p buf may come from
	 * a file: untrusted, and with no alignment guarantee.
	 */
	int (*load)(void *opaque, const void *buf, size_t size,
		    uint32_t version);
	/**
	 * Optional (@since 0.2, after load): stop every thread of the
	 * device's own that could change its state or write guest RAM (an
	 * I/O thread, a backend's workers) until resume().  Every
	 * operation that needs a still VM (vmc_snapshot_new(),
	 * vmc_snapshot_restore(), vmc_snapshot_clone(), vmc_vm_save_fd(),
	 * the vmc_vm_load_*() functions) calls every section's quiesce()
	 * in reverse registration order (a section registered before the
	 * one it leans on finds that one still), with the VM lock held,
	 * before it saves or loads anything, and resume() in registration
	 * order at its end; save(), check() and load() then run between
	 * the two.  A section's other callbacks must not wait for the
	 * threads it stopped.  A negative errno refuses the operation (the
	 * sections quiesced so far are resumed): -EDEADLK when called on
	 * one of those threads.  The library's virtio transport holds its
	 * device mutex from quiesce() to resume(), so that nothing on an
	 * I/O thread touches the device or guest RAM in between.
	 */
	int (*quiesce)(void *opaque);
	/** Optional, with quiesce(): let the device's threads go on. */
	void (*resume)(void *opaque);
};

/**
 * Register a section of device state on @p vm, saved and restored with
 * every snapshot of it.  A section is found again by @p name and its
 * instance number: the n-th section of a name registered on a VM is
 * instance n (from 0), so two VMs assembled the same way number their
 * devices alike.  Names starting with "vmc." are the library's (-EINVAL).
 * @param vm the VM
 * @param name 1 to 63 printable characters, copied
 * @param version the version of the state's layout, given to load()
 * @param ops the callbacks (copied)
 * @param opaque their first argument
 * @param[out] ret the section, for vmc_vm_remove_snapshot_section()
 * @retval 0 success
 * @retval -EINVAL an argument is NULL or a name invalid, or ops lack
 *         save or load
 * @retval -ENOMEM out of memory
 * @thread loop, or with the VM lock held
 * @since 0.2
 */
int vmc_vm_add_snapshot_section(struct vmc_vm *vm, const char *name,
				uint32_t version,
				const struct vmc_snapshot_section_ops *ops,
				void *opaque,
				struct vmc_snapshot_section **ret);

/**
 * Unregister and free @p section (a device being freed).  The instance
 * numbers of other sections do not change.  NULL is a no-op.
 * @param vm the VM it was registered on
 * @param section the section, or NULL
 * @thread loop, or with the VM lock held
 * @since 0.2
 */
void vmc_vm_remove_snapshot_section(struct vmc_vm *vm,
				    struct vmc_snapshot_section *section);

/* ------------------------------------------------------------------------
 * Snapshot files
 */

/**
 * Write a snapshot of @p vm, which must not be running, to @p fd in the
 * library's file format: a header (magic, format version, architecture,
 * accelerator), then sections, each with its name, instance, version,
 * length and CRC-32C: the memory layout (every RAM region's name, size
 * and address), the RAM (populated pages only), every vCPU, the virtual
 * clock and every device section.  Written sequentially: @p fd may be a
 * pipe or a socket.
 * @param vm the VM
 * @param fd a file descriptor open for writing (not closed)
 * @retval 0 success
 * @retval -EINVAL an argument is invalid
 * @retval -EBUSY the VM is running, a vCPU is not parked, or a device
 *         refused (requests in flight)
 * @retval -EDEADLK called on the I/O thread of one of the VM's devices
 *         (a section's quiesce() refused)
 * @retval -EOPNOTSUPP the accelerator cannot save vCPUs
 * @retval -ENOMEM out of memory
 * @retval -errno write() failed
 * @thread loop
 * @since 0.2
 */
int vmc_vm_save_fd(struct vmc_vm *vm, int fd);

/**
 * Restore @p vm, which must not be running and must be assembled as the
 * saved VM was (same accelerator, architecture, vCPU count, RAM regions
 * and device sections), from a file vmc_vm_save_fd() wrote.  The whole
 * input is read and validated (checksums, lengths, layout, every
 * section's check) before anything changes: on an error the VM is as it
 * was.  A tracked in-memory snapshot of @p vm stops being tracked (its
 * next restore copies everything).
 * @param vm the VM
 * @param fd a file descriptor open for reading, read to its end (not
 *         closed)
 * @retval 0 success
 * @retval -EBADMSG the input is not a snapshot, or is corrupt or truncated
 * @retval -EINVAL the snapshot is of a VM assembled differently, or a
 *         section refused its state
 * @retval -EBUSY the VM is running, or a vCPU is not parked
 * @retval -EDEADLK called on the I/O thread of one of the VM's devices
 *         (a section's quiesce() refused)
 * @retval -ENOMEM out of memory
 * @retval -errno read() failed
 * @thread loop
 * @since 0.2
 */
int vmc_vm_load_fd(struct vmc_vm *vm, int fd);

/**
 * Like vmc_vm_load_fd(), from @p size bytes at @p buf.
 * @param vm the VM
 * @param buf the snapshot file's bytes
 * @param size their number
 * @retval 0 success
 * @retval -EBADMSG, -EINVAL, -EBUSY, -EDEADLK, -ENOMEM as
 *         vmc_vm_load_fd()
 * @thread loop
 * @since 0.2
 */
int vmc_vm_load_buffer(struct vmc_vm *vm, const void *buf, size_t size);

VMC_END_DECLS

#endif
