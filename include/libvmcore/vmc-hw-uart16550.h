/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-hw-uart16550.h
 * @brief A 16550A UART device model.
 *
 * The UART is an I/O region of 8 registers, spaced 1 << reg_shift bytes
 * apart, that the host maps wherever the board wants it: in the @c io
 * address space for a PC's COM1 (0x3f8, shift 0) or in @c memory for an
 * MMIO board (RISC-V virt: 0x10000000, shift 0).  It has 16-byte receive
 * and transmit FIFOs, the interrupt enable and identification registers
 * with the 16550's priorities, line and modem status (with loopback), the
 * scratch register and the divisor latch.
 *
 * Transmitted bytes go to a callback at once and to @c out_fd through a
 * bounded buffer (4 KiB) that the VM's loop drains; received
 * bytes come from @c in_fd (read on the VM's loop when the receive FIFO has
 * room, so a full FIFO holds the host side back) or from
 * vmc_uart16550_receive().  The character-timeout interrupt runs on the
 * VM's virtual clock, so it is deterministic under the harness.
 *
 * The host's fds are never written or read in a way that can block
 * (since 0.2), and their file status flags stay as the host set them: a
 * terminal shared with the host's own output does not turn O_NONBLOCK
 * behind the host's back.  A socket is written with send(MSG_DONTWAIT |
 * MSG_NOSIGNAL); a pipe, FIFO or terminal through the UART's own
 * O_NONBLOCK open file description of it (opened through /proc/self/fd;
 * without /proc, after a poll() for POLLOUT, in pieces the fd takes
 * whole); a regular file with write().  When @c out_fd does not take the
 * bytes (a pipe nobody reads), they wait in the buffer and the 16550's
 * flow control tells the guest: LSR.THRE clears while fewer than 16 bytes
 * fit and TEMT while anything waits; once the loop drains the buffer,
 * THRE returns with its interrupt.  A guest that waits for THRE loses no
 * byte; a byte written while the buffer is full is lost, as on a full
 * 16550 FIFO.  No thread waits in write() with the VM lock held.  Two
 * limits: a regular file's write() may wait for the disk; and in the
 * poll() fallback, a host thread that writes to the same pipe or terminal
 * between the UART's poll() and its write() can make that write wait.
 * The UART's own description keeps a pipe open: its reader sees EOF only
 * after vmc_uart16550_free().  Since THRE follows the host's reader, a
 * deterministic VM's guest is deterministic only while the output keeps
 * up (a regular file always does).
 *
 * EPIPE, or another error but EAGAIN and EINTR, on @c out_fd closes the
 * output for good: one warning through vmc_log(), the buffered and all
 * later bytes are discarded (THRE stays set, so the guest runs on), and
 * @c closed_cb runs once on the loop.  A write to a pipe whose reader has
 * gone never raises SIGPIPE.  vmc_uart16550_free() gives a reader that
 * still reads what is buffered, and gives up after a second without
 * progress.
 */
#ifndef LIBVMCORE_VMC_HW_UART16550_H
#define LIBVMCORE_VMC_HW_UART16550_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_uart16550;
struct vmc_region;

/** Receives every transmitted byte; VM lock held, on the writing thread. */
typedef void (*vmc_uart16550_tx_cb)(void *userdata, uint8_t byte);

/**
 * The output fd failed (EPIPE: its reader went away).  Runs once, on the
 * loop thread with the VM lock held; a board may end the machine here, as
 * `riscv-virt | head` expects.
 * @param userdata the config's @c userdata
 * @param error the -errno that closed the output (-EPIPE, -EIO, ...)
 * @since 0.2
 */
typedef void (*vmc_uart16550_closed_cb)(void *userdata, int error);

/** How to build a UART; initialise with vmc_uart16550_config_init(). */
struct vmc_uart16550_config {
	size_t size;		   /**< sizeof(struct vmc_uart16550_config) */
	struct vmc_vm *vm;	   /**< the machine (lock, loop, clock) */
	unsigned int reg_shift;	   /**< register stride is 1 << reg_shift */
	struct vmc_irq *irq;	   /**< the interrupt output, or NULL */
	uint32_t clock_hz;	   /**< input clock; default 1843200 */
	int in_fd;		   /**< receive from this fd, or -1 */
	int out_fd;		   /**< transmit to this fd, or -1 */
	vmc_uart16550_tx_cb tx_cb; /**< transmit callback, or NULL */
	void *userdata;		   /**< for @c tx_cb and @c closed_cb */
	/** @c out_fd failed, or NULL (since 0.2; a 0.1 config without it,
	 *  its @c size smaller, is accepted) */
	vmc_uart16550_closed_cb closed_cb;
};

/**
 * Fill @p config with defaults (no fds, no callback, shift 0, 1.8432 MHz).
 * @param config the configuration to fill with defaults
 * @thread any
 * @since 0.1
 */
void vmc_uart16550_config_init(struct vmc_uart16550_config *config);

/**
 * Create a UART.  Map vmc_uart16550_get_region() to make it visible.  The
 * fds stay the caller's and must outlive the UART.
 * @param config the UART's configuration
 * @param[out] ret the new UART
 * @retval 0 success
 * @retval -EINVAL no VM, reg_shift > 3, clock_hz 0, or a bad size
 * @retval -EBADF @c in_fd or @c out_fd is set (>= 0) but not an open fd
 *         (since 0.2)
 * @retval -ENOMEM out of memory
 * @retval -errno @c in_fd or @c out_fd cannot be watched on the loop
 * @thread loop
 * @since 0.1
 */
int vmc_uart16550_new(const struct vmc_uart16550_config *config,
		      struct vmc_uart16550 **ret);

/**
 * Free the UART.  Its region must have been removed from every container
 * first.  Output still buffered is written first while the fd takes it;
 * after a second without progress the rest is discarded, with a warning.
 * NULL is ignored.
 * @param uart the UART
 * @thread loop, without the VM lock
 * @since 0.1
 */
void vmc_uart16550_free(struct vmc_uart16550 *uart);

/**
 * The UART's I/O region (8 << reg_shift bytes), owned by the UART.
 * @param uart the UART
 * @thread any
 * @since 0.1
 */
struct vmc_region *vmc_uart16550_get_region(struct vmc_uart16550 *uart);

/**
 * Feed received bytes, as if they arrived on the serial line.
 * @param uart the UART
 * @param buf the received bytes
 * @param len the number of bytes at @p buf
 * @return how many bytes the receive FIFO took (the rest did not fit);
 *         -EINVAL for a NULL @p uart or @p buf
 * @thread any; takes the VM lock unless the caller holds it
 * @since 0.1
 */
int vmc_uart16550_receive(struct vmc_uart16550 *uart, const void *buf,
			  size_t len);

VMC_END_DECLS

#endif
