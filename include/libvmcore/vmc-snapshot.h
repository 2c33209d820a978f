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
 * What is covered.  RISC-V (tcg): every GPR, pc, privilege, the machine
 * and supervisor CSRs, PMP and the counters; device-driven interrupt
 * lines and an LR reservation are not saved.  x86 (KVM): general,
 * segment and control registers, FPU/SSE, pending events, the syscall,
 * sysenter, PAT and TSC MSRs, and the local APIC of an in-kernel irqchip;
 * not AVX state beyond SSE, debug registers or nested state.  Not yet:
 * device state, the virtual clock, and RAM written by the host or by
 * devices (vmc_as_write(), DMA) after the snapshot, which no dirty log
 * sees.
 *
 * Threads.  Loop thread (the memory's writer side), VM not running.
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
 * last restore to it, then every vCPU's registers.  If @p snap is not the
 * VM's tracked snapshot, all of its RAM is copied and it becomes tracked.
 * @param vm the VM @p snap was taken of, not running
 * @param snap the snapshot
 * @return the number of 4 KiB pages copied (>= 0), or a negative errno
 * @retval -EINVAL an argument is NULL, @p snap belongs to another VM, or
 *         the VM's RAM regions are not those of the snapshot any more
 * @retval -EBUSY the VM is running, or a vCPU is not parked
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

VMC_END_DECLS

#endif
