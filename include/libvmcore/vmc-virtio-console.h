/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-virtio-console.h
 * @brief virtio-console: one console port on host file descriptors.
 *
 * Device ID 3 with a single port (no VIRTIO_CONSOLE_F_MULTIPORT): queue 0
 * carries host input to the guest (receiveq), queue 1 guest output to the
 * host (transmitq); Linux makes it /dev/hvc0.  It offers
 * VIRTIO_CONSOLE_F_SIZE (bit 0) when @c cols or @c rows is set,
 * VIRTIO_CONSOLE_F_EMERG_WRITE (bit 2), indirect descriptors and event
 * indices, with the spec's configuration layout (cols, rows, max_nr_ports,
 * emerg_wr).
 *
 * Output is written to @c out_fd without blocking: what does not fit
 * waits for the fd to become writable, and the guest's buffer is returned
 * only once it is out.  A closed reader (EPIPE) never raises SIGPIPE; the
 * output is then discarded.  Input is read from @c in_fd when the guest
 * has receive buffers queued, so a guest that reads nothing holds the
 * host side back.  @c in_fd and @c out_fd may be the same fd (a socket,
 * a terminal).
 *
 * Threads: as vmc-virtio.h.  The device's work (queue notifications and
 * the fds' handlers) runs on the VM's loop with the VM lock held or, with
 * @c iothread (a libvmcore extension: QEMU has no iothread for consoles),
 * on that I/O thread with the device's own mutex: the fds are then polled
 * on the I/O thread's loop.  Reset comes from whichever thread holds the
 * device lock and only schedules the handler changes on the device's
 * loop.
 */
#ifndef LIBVMCORE_VMC_VIRTIO_CONSOLE_H
#define LIBVMCORE_VMC_VIRTIO_CONSOLE_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-virtio.h>

VMC_BEGIN_DECLS

struct vmc_virtio_console;

/**
 * How to build a virtio-console; initialise with
 * vmc_virtio_console_config_init().
 */
struct vmc_virtio_console_config {
	size_t size;	     /**< sizeof(struct vmc_virtio_console_config) */
	struct vmc_vm *vm;   /**< the machine */
	struct vmc_irq *irq; /**< the transport's interrupt line, or NULL */
	bool legacy;	     /**< virtio-mmio version 1 instead of 2 */
	int in_fd;	     /**< host input (pollable), or -1 */
	int out_fd;	     /**< host output, or -1 to discard */
	uint16_t cols;	     /**< console width for F_SIZE, or 0 */
	uint16_t rows;	     /**< console height for F_SIZE, or 0 */
	/** run the device on this I/O thread, or NULL (since 0.2) */
	struct vmc_iothread *iothread;
	/** @c irq may be set from any thread (vmc_virtio_config) */
	bool irq_any_thread;
};

/**
 * Fill @p config with defaults (no fds, no size, modern transport).
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.2
 */
void vmc_virtio_console_config_init(struct vmc_virtio_console_config *config);

/**
 * Create a virtio-console on a virtio-mmio transport.  The fds stay the
 * caller's and must outlive the device.
 * @param config the device's configuration
 * @param[out] ret the new device
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, bad size, or no VM
 * @retval -EBADF @c in_fd or @c out_fd is set but not open
 * @retval -EDEADLK called on @c iothread itself
 * @retval -ENOMEM out of memory
 * @retval -errno the transport or an fd handler could not be set up
 *         (-EPERM: @c in_fd is a regular file, which cannot be polled)
 * @thread loop, without the VM lock
 * @since 0.2
 */
int vmc_virtio_console_new(const struct vmc_virtio_console_config *config,
			   struct vmc_virtio_console **ret);

/**
 * Free the device (see vmc_virtio_free()).  NULL is ignored.
 * @param con the device
 * @thread loop, without the VM lock
 * @since 0.2
 */
void vmc_virtio_console_free(struct vmc_virtio_console *con);

/**
 * The device's transport (no reference).
 * @param con the device
 * @return the transport; NULL for NULL
 * @thread any
 * @since 0.2
 */
/* clang-format off */
struct vmc_virtio *vmc_virtio_console_get_virtio(
	struct vmc_virtio_console *con);
/* clang-format on */

/**
 * The device's virtio-mmio region (VMC_VIRTIO_MMIO_SIZE bytes).
 * @param con the device
 * @return the region; NULL for NULL
 * @thread any
 * @since 0.2
 */
/* clang-format off */
struct vmc_region *vmc_virtio_console_get_region(
	struct vmc_virtio_console *con);
/* clang-format on */

VMC_END_DECLS

#endif
