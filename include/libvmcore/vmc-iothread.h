/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-iothread.h
 * @brief I/O threads: a library-owned thread running its own event loop,
 * for device work that should not share the VM's loop (QEMU's iothread
 * objects).
 *
 * A struct vmc_iothread is a thread and a struct vmc_loop that only it
 * runs.  A device created with an I/O thread (see vmc_virtio_config and
 * each virtio device's configuration) has its queue notifications and its
 * backend's fds (disk completions, sockets, TAP, chardevs) handled there,
 * under the device's own lock instead of the VM lock, so a busy device
 * neither waits for nor delays the VM's loop and vCPUs.  Several devices
 * may share one I/O thread.
 *
 * Since loop objects (fd handlers, notifier handlers) may be changed only
 * on their loop's thread, code on other threads changes them through
 * vmc_iothread_run_sync().
 *
 * Snapshots, restores and clones of a VM hold its devices still for their
 * whole length (vmc-snapshot.h): an I/O thread that reaches such a
 * device's work meanwhile waits for the operation to end, whatever other
 * devices or VMs it serves; the operation itself is refused on the I/O
 * thread (-EDEADLK).
 */
#ifndef LIBVMCORE_VMC_IOTHREAD_H
#define LIBVMCORE_VMC_IOTHREAD_H

#include <libvmcore/vmc-common.h>

VMC_BEGIN_DECLS

struct vmc_iothread;
struct vmc_loop;

/**
 * Start an I/O thread.
 * @param name the thread's name for debuggers (first 15 bytes), or NULL
 * @param[out] ret the I/O thread
 * @retval 0 success
 * @retval -EINVAL @p ret is NULL
 * @retval -ENOMEM out of memory
 * @retval -errno creating the loop, a notifier or the thread failed
 * @thread any
 * @since 0.2
 */
int vmc_iothread_new(const char *name, struct vmc_iothread **ret);

/**
 * Stop the thread, join it and free it.  Every device using it must be
 * freed first.  NULL is ignored.
 * @param t the I/O thread
 * @thread any but @p t itself
 * @since 0.2
 */
void vmc_iothread_free(struct vmc_iothread *t);

/**
 * The thread's loop (owned by it).
 * @param t the I/O thread
 * @return the loop; NULL for NULL
 * @thread any
 * @since 0.2
 */
struct vmc_loop *vmc_iothread_get_loop(struct vmc_iothread *t);

/**
 * Whether the calling thread is @p t.
 * @param t the I/O thread
 * @return true on the I/O thread
 * @thread any
 * @since 0.2
 */
bool vmc_iothread_is_current(const struct vmc_iothread *t);

/**
 * Run @p fn(@p arg) on the I/O thread and wait for it to return (inline
 * when called on the thread itself).  Do not hold a lock that @p fn or
 * the thread's other work takes.
 * @param t the I/O thread
 * @param fn the function
 * @param arg passed to @p fn
 * @retval 0 @p fn ran
 * @retval -EINVAL @p t or @p fn is NULL
 * @thread any
 * @since 0.2
 */
int vmc_iothread_run_sync(struct vmc_iothread *t, void (*fn)(void *arg),
			  void *arg);

VMC_END_DECLS

#endif
