/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART, written only against libvmcore's public headers.
 *
 * Register access happens on vCPU threads (or a harness test's thread)
 * with the VM lock held, through the region callbacks.  The host side runs
 * on the loop thread, also with the VM lock held: the input fd handler,
 * the character timeout and the bottom half are the VM's loop objects
 * (vmc-vm.h).  The bottom half re-arms the input handler after the guest
 * drained a full FIFO, because fd handlers may only be changed on the
 * loop thread.
 *
 * Transmission goes through a bounded host-side buffer (OUT_BUF_SIZE).  A
 * THR write appends the byte and tries a write that cannot block; what
 * the fd does not take waits for the loop, which watches the fd for
 * writability and drains the buffer from there.  THRE clears while fewer
 * than a FIFO's worth of bytes fit, TEMT while anything is buffered, and
 * THRE comes back (with its interrupt) when the loop drains: a guest that
 * polls LSR waits for a stalled reader, the host never does, and no
 * thread blocks in write() with the VM lock held.
 *
 * How a write is kept from blocking without changing the host's fd (whose
 * open file description may be a terminal shared with the host's own
 * output, where O_NONBLOCK would make the host's printf fail with EAGAIN):
 * - a socket: send(MSG_DONTWAIT | MSG_NOSIGNAL);
 * - a pipe, FIFO or terminal: the UART opens its own description of the
 *   same object through /proc/self/fd/N with O_NONBLOCK (never for a pty
 *   master, where that open would create a new pty);
 * - when that open fails (no /proc, a terminal in exclusive mode): poll()
 *   for POLLOUT, then write at most PIPE_BUF bytes to a pipe (which a
 *   writable pipe takes whole) or one byte to anything else;
 * - a regular file, or anything else that cannot be polled: write().
 * libuv switches a polled fd to O_NONBLOCK; where the polled fd is the
 * host's own, the UART restores its flags at once.
 *
 * EPIPE, or any other error but EAGAIN and EINTR, closes the output: one
 * log line, the buffer and every later byte are discarded (the guest
 * keeps running with THRE set), and the closed callback runs once on the
 * loop.  A pipe write runs with SIGPIPE blocked on the writing thread and
 * its SIGPIPE consumed, so a reader's exit is an error code, never a
 * signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-hw-uart16550.h>

#include "hw-internal.h"
#include "hw-snap.h"
#include "uart16550-regs.h"

#define UART_FIFO_SIZE 16
/* Host-side transmit buffer: what a stalled reader can hold back. */
#define OUT_BUF_SIZE 4096
/* vmc_uart16550_free() waits this long for a reader that makes no progress. */
#define OUT_DRAIN_MS 1000

enum out_mode {
	OUT_NONE,   /* no out_fd */
	OUT_SOCKET, /* send(MSG_DONTWAIT | MSG_NOSIGNAL) on out_fd */
	OUT_OWN,    /* write() on our own O_NONBLOCK description */
	OUT_POLL,   /* poll(), then a write the fd takes whole */
	OUT_FILE,   /* write(): not pollable (a regular file) */
};

struct vmc_uart16550 {
	struct vmc_vm *vm;
	struct vmc_region *region;
	struct vmc_irq *irq;
	unsigned int shift;
	uint32_t clock_hz;
	int in_fd, out_fd;
	vmc_uart16550_tx_cb tx_cb;
	vmc_uart16550_closed_cb closed_cb;
	void *userdata;

	struct vmc_fd_handler *in_handler;
	struct vmc_bh *bh; /* re-arms the handlers on the loop */
	bool in_paused;	   /* in_handler's read side is off */
	bool in_eof;
	bool in_socket;

	/*
	 * Output, under the VM lock.  out_wfd is out_fd or the UART's own
	 * description of it (out_own_fd: ours to close); out_pipe: a write
	 * may raise SIGPIPE; out_handler (maybe in_handler) watches for
	 * POLLOUT while out_waiting; out_error is the -errno that closed the
	 * output, and closed_cb is still to run while out_closed_pending.
	 */
	enum out_mode out_mode;
	int out_wfd;
	bool out_own_fd;
	bool out_pipe;
	struct vmc_fd_handler *out_handler;
	bool out_waiting;
	int out_error;
	bool out_closed_pending;
	uint8_t out_buf[OUT_BUF_SIZE];
	unsigned int out_head, out_count;
	struct vmc_timer *timeout; /* character timeout, virtual clock */
	struct vmc_vm_reset_handler *reset_handler;
	struct vmc_snapshot_section *section;

	/* Registers; all under the VM lock. */
	uint16_t divisor;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	bool thr_ipending;
	bool timeout_ipending;
	uint8_t rx[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	unsigned int rx_trigger;
};

static bool fifo_on(const struct vmc_uart16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned int rx_space(const struct vmc_uart16550 *u)
{
	if (fifo_on(u))
		return UART_FIFO_SIZE - u->rx_count;
	return u->rx_count ? 0 : 1;
}

static uint8_t compute_iir(const struct vmc_uart16550 *u)
{
	if ((u->ier & UART_IER_RLSI) && (u->lsr & UART_LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->timeout_ipending)
		return UART_IIR_CTI;
	if ((u->ier & UART_IER_RDI) && (u->lsr & UART_LSR_DR) &&
	    (!fifo_on(u) || u->rx_count >= u->rx_trigger))
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_ipending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void update_irq(struct vmc_uart16550 *u)
{
	vmc_irq_set(u->irq, compute_iir(u) != UART_IIR_NO_INT);
}

/* Nanoseconds one character takes on the line at the current settings. */
static int64_t char_time_ns(const struct vmc_uart16550 *u)
{
	unsigned int bits = 1 + 5 + (u->lcr & 3) + 1 +
			    ((u->lcr & UART_LCR_STOP) ? 1 : 0) +
			    ((u->lcr & UART_LCR_PARITY) ? 1 : 0);
	uint64_t div = u->divisor ? u->divisor : 1;

	return (int64_t)(1000000000ull * 16 * div * bits / u->clock_hz);
}

static void arm_timeout(struct vmc_uart16550 *u)
{
	struct vmc_clock *clk = vmc_vm_get_clock(u->vm);

	if (!fifo_on(u) || !u->rx_count) {
		vmc_timer_del(u->timeout);
		return;
	}
	vmc_timer_mod(u->timeout, vmc_clock_get_ns(clk) + 4 * char_time_ns(u));
}

static void timeout_cb(struct vmc_timer *t, void *userdata)
{
	struct vmc_uart16550 *u = userdata;

	if (fifo_on(u) && u->rx_count) {
		u->timeout_ipending = true;
		update_irq(u);
	}
}

static void rx_push(struct vmc_uart16550 *u, uint8_t byte)
{
	if (!rx_space(u)) {
		u->lsr |= UART_LSR_OE;
		if (!fifo_on(u))
			u->rx[u->rx_head] = byte; /* the holding register */
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	u->lsr |= UART_LSR_DR;
}

static void receive_locked(struct vmc_uart16550 *u, const uint8_t *buf,
			   size_t len, size_t *taken)
{
	size_t n = 0;

	while (n < len && rx_space(u))
		rx_push(u, buf[n++]);
	/* A byte that finds no room overruns, as on a real line. */
	if (n < len && taken == NULL) {
		rx_push(u, buf[n]);
		n = len;
	}
	if (taken)
		*taken = n;
	u->timeout_ipending = false;
	arm_timeout(u);
	update_irq(u);
}

/*
 * write() with SIGPIPE blocked on this thread and, if the write raised it,
 * consumed: a pipe whose reader went away gives EPIPE and no signal.  A
 * SIGPIPE that was pending before is left alone.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	static const struct timespec zero = {0, 0};
	sigset_t set, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &old);
	n = write(fd, buf, len);
	e = errno;
	if (n < 0 && e == EPIPE && !was_pending)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

/* One write that does not block; -1 with errno as write() sets it. */
static ssize_t out_write(struct vmc_uart16550 *u, const uint8_t *buf,
			 size_t len)
{
	struct pollfd p = {u->out_wfd, POLLOUT, 0};

	switch (u->out_mode) {
	case OUT_SOCKET:
		return send(u->out_wfd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	case OUT_POLL:
		if (poll(&p, 1, 0) < 0)
			return -1;
		if (p.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		/* A pipe without a reader polls POLLERR: EPIPE, no write. */
		if ((p.revents & POLLERR) && u->out_pipe) {
			errno = EPIPE;
			return -1;
		}
		if (!(p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			errno = EAGAIN;
			return -1;
		}
		/* A writable pipe takes PIPE_BUF bytes whole; others one. */
		if (len > (u->out_pipe ? PIPE_BUF : 1))
			len = u->out_pipe ? PIPE_BUF : 1;
		break;
	default:
		break;
	}
	if (u->out_pipe)
		return write_nosigpipe(u->out_wfd, buf, len);
	return write(u->out_wfd, buf, len);
}

/* The output is gone: say so once, drop what is buffered and what comes. */
static void out_fail(struct vmc_uart16550 *u, int err)
{
	u->out_error = -err;
	u->out_count = 0;
	u->out_head = 0;
	u->out_closed_pending = true;
	if (u->bh)
		vmc_bh_schedule(u->bh);
	vmc_log(VMC_LOG_WARNING,
		"uart16550: output fd %d %s (%s); output is discarded",
		u->out_fd, err == EPIPE ? "closed by its reader" : "failed",
		strerror(err));
}

/*
 * THRE: a FIFO's worth of bytes fits (so a driver that loads 16 bytes per
 * THRE loses none); TEMT: nothing is waiting for the host.  THRE coming
 * back raises the THR-empty interrupt; going away withdraws it.
 */
static void tx_update(struct vmc_uart16550 *u)
{
	bool thre = OUT_BUF_SIZE - u->out_count >= UART_FIFO_SIZE;
	bool temt = u->out_count == 0;

	if (thre && !(u->lsr & UART_LSR_THRE))
		u->thr_ipending = true;
	if (!thre)
		u->thr_ipending = false;
	u->lsr &= (uint8_t) ~(UART_LSR_THRE | UART_LSR_TEMT);
	u->lsr |= (uint8_t)((thre ? UART_LSR_THRE : 0) |
			    (temt ? UART_LSR_TEMT : 0));
}

/* Write what the fd takes now; true if bytes are left for the loop. */
static bool out_flush(struct vmc_uart16550 *u)
{
	while (u->out_count && !u->out_error) {
		unsigned int chunk = OUT_BUF_SIZE - u->out_head;
		ssize_t n;

		if (chunk > u->out_count)
			chunk = u->out_count;
		n = out_write(u, u->out_buf + u->out_head, chunk);
		if (n > 0) {
			u->out_head =
				(u->out_head + (unsigned int)n) % OUT_BUF_SIZE;
			u->out_count -= (unsigned int)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		out_fail(u, errno);
	}
	if (!u->out_count)
		u->out_head = 0;
	return u->out_count != 0;
}

static void transmit(struct vmc_uart16550 *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP) {
		receive_locked(u, &byte, 1, NULL);
		return;
	}
	if (u->tx_cb)
		u->tx_cb(u->userdata, byte);
	if (u->out_mode == OUT_NONE || u->out_error)
		return;
	/* A byte written while the buffer is full is lost, as on a 16550
	 * whose FIFO is full; THRE said so. */
	if (u->out_count == OUT_BUF_SIZE)
		return;
	u->out_buf[(u->out_head + u->out_count) % OUT_BUF_SIZE] = byte;
	u->out_count++;
	/* Behind bytes the loop is waiting to write, the loop writes. */
	if (u->out_waiting)
		return;
	if (out_flush(u) && u->out_handler) {
		u->out_waiting = true;
		vmc_bh_schedule(u->bh);
	}
}

static uint8_t rx_pop(struct vmc_uart16550 *u)
{
	uint8_t byte = u->rx[u->rx_head];

	if (u->rx_count) {
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		u->rx_count--;
	}
	if (!u->rx_count)
		u->lsr &= (uint8_t)~UART_LSR_DR;
	u->timeout_ipending = false;
	arm_timeout(u);
	if (u->in_paused && rx_space(u))
		vmc_bh_schedule(u->bh);
	return byte;
}

static void set_mcr(struct vmc_uart16550 *u, uint8_t val)
{
	uint8_t old_msr = u->msr, msr;

	u->mcr = val & 0x1f;
	if (u->mcr & UART_MCR_LOOP) {
		/* Loopback wires the modem outputs to the inputs. */
		msr = (uint8_t)(((u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
				((u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
				((u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
				((u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
	} else {
		msr = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	}
	if ((msr ^ old_msr) & UART_MSR_CTS)
		msr |= UART_MSR_DCTS;
	if ((msr ^ old_msr) & UART_MSR_DSR)
		msr |= UART_MSR_DDSR;
	if ((old_msr & UART_MSR_RI) && !(msr & UART_MSR_RI))
		msr |= UART_MSR_TERI;
	if ((msr ^ old_msr) & UART_MSR_DCD)
		msr |= UART_MSR_DDCD;
	u->msr = (uint8_t)(msr | (old_msr & UART_MSR_DELTAS));
}

static uint8_t reg_read(struct vmc_uart16550 *u, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RX:
		if (u->lcr & UART_LCR_DLAB)
			return (uint8_t)u->divisor;
		v = rx_pop(u);
		update_irq(u);
		return v;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB)
			return (uint8_t)(u->divisor >> 8);
		return u->ier;
	case UART_IIR:
		v = compute_iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if (v == UART_IIR_THRI) {
			u->thr_ipending = false;
			update_irq(u);
		}
		return (uint8_t)(v | (fifo_on(u) ? UART_IIR_FIFO_ON : 0));
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = u->lsr;
		u->lsr &= (uint8_t)~UART_LSR_ERRORS;
		update_irq(u);
		return v;
	case UART_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~UART_MSR_DELTAS;
		update_irq(u);
		return v;
	default:
		return u->scr;
	}
}

static void reg_write(struct vmc_uart16550 *u, unsigned int reg, uint8_t val)
{
	static const unsigned int triggers[4] = {1, 4, 8, 14};

	switch (reg) {
	case UART_TX:
		if (u->lcr & UART_LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0xff00) | val);
			return;
		}
		transmit(u, val);
		tx_update(u);
		/* The byte moved on: THR is empty again, if there is room. */
		if (u->lsr & UART_LSR_THRE)
			u->thr_ipending = true;
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0xff) | val << 8);
			return;
		}
		/* Enabling THRI with an empty transmitter interrupts. */
		if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI) &&
		    (u->lsr & UART_LSR_THRE))
			u->thr_ipending = true;
		u->ier = val & 0x0f;
		break;
	case UART_FCR:
		if ((val ^ u->fcr) & UART_FCR_ENABLE)
			val |= UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX;
		if (val & UART_FCR_CLEAR_RX) {
			u->rx_head = u->rx_count = 0;
			u->lsr &= (uint8_t)~UART_LSR_DR;
			u->timeout_ipending = false;
			if (u->in_paused)
				vmc_bh_schedule(u->bh);
		}
		u->fcr = val & (UART_FCR_ENABLE | UART_FCR_TRIGGER);
		u->rx_trigger = triggers[val >> 6];
		arm_timeout(u);
		break;
	case UART_LCR:
		u->lcr = val;
		return;
	case UART_MCR:
		set_mcr(u, val);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Factory test registers: writes are ignored. */
		return;
	default:
		u->scr = val;
		return;
	}
	update_irq(u);
}

/*
 * Region callbacks.  Each register is one byte at (reg << shift); with a
 * stride above one byte the rest of the slot reads as zero and ignores
 * writes, as on SoCs that wire the 16550 to a 32-bit bus.
 */
static int uart_read(void *opaque, uint64_t offset, unsigned int size,
		     uint64_t *value)
{
	struct vmc_uart16550 *u = opaque;

	if (offset & ((1u << u->shift) - 1)) {
		*value = 0;
		return 0;
	}
	*value = reg_read(u, (unsigned int)(offset >> u->shift) & 7);
	return 0;
}

static int uart_write(void *opaque, uint64_t offset, unsigned int size,
		      uint64_t value)
{
	struct vmc_uart16550 *u = opaque;

	if (offset & ((1u << u->shift) - 1))
		return 0;
	reg_write(u, (unsigned int)(offset >> u->shift) & 7, (uint8_t)value);
	return 0;
}

static void uart_reset_regs(struct vmc_uart16550 *u)
{
	u->divisor = 12;
	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	/* Bytes already handed to the host side stay there: reset clears
	 * the guest's view, not the line's. */
	u->lsr = 0;
	tx_update(u);
	u->msr = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	u->scr = 0;
	u->fcr = 0;
	u->rx_trigger = 1;
	u->rx_head = u->rx_count = 0;
	u->thr_ipending = false;
	u->timeout_ipending = false;
	vmc_timer_del(u->timeout);
	if (u->in_paused)
		vmc_bh_schedule(u->bh);
	update_irq(u);
}

static void reset_cb(struct vmc_vm *vm, void *userdata)
{
	uart_reset_regs(userdata);
}

/* ------------------------------------------------------------------------
 * Snapshot section "uart16550" (version 1): the guest-visible registers,
 * the receive FIFO and the character timeout's deadline.  Bytes already
 * handed to the host side are the host's (as on a reset).
 */

struct uart_snap {
	uint16_t divisor;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	bool thr_ipending, timeout_ipending;
	uint8_t rx[UART_FIFO_SIZE];
	uint32_t rx_head, rx_count, rx_trigger;
	int64_t timeout;
};

static void uart_snap_io(struct hw_snap *s, struct uart_snap *v)
{
	if (s->save) {
		hw_snap_put(s, v->divisor, 2);
		hw_snap_bytes(s, &v->ier, 7);
		hw_snap_put(s, v->thr_ipending, 1);
		hw_snap_put(s, v->timeout_ipending, 1);
		hw_snap_bytes(s, v->rx, sizeof(v->rx));
		hw_snap_put(s, v->rx_head, 4);
		hw_snap_put(s, v->rx_count, 4);
		hw_snap_put(s, v->rx_trigger, 4);
		hw_snap_put(s, (uint64_t)v->timeout, 8);
		return;
	}
	v->divisor = (uint16_t)hw_snap_get(s, 2);
	hw_snap_get_bytes(s, &v->ier, 7);
	v->thr_ipending = hw_snap_get(s, 1);
	v->timeout_ipending = hw_snap_get(s, 1);
	hw_snap_get_bytes(s, v->rx, sizeof(v->rx));
	v->rx_head = (uint32_t)hw_snap_get(s, 4);
	v->rx_count = (uint32_t)hw_snap_get(s, 4);
	v->rx_trigger = (uint32_t)hw_snap_get(s, 4);
	v->timeout = (int64_t)hw_snap_get(s, 8);
}

static int uart_snap_save(void *opaque, void *buf, size_t size)
{
	struct vmc_uart16550 *u = opaque;
	struct hw_snap s = {.save = true, .out = buf, .size = size};
	struct uart_snap v = {
		.divisor = u->divisor,
		.ier = u->ier,
		.lcr = u->lcr,
		.mcr = u->mcr,
		.lsr = u->lsr,
		.msr = u->msr,
		.scr = u->scr,
		.fcr = u->fcr,
		.thr_ipending = u->thr_ipending,
		.timeout_ipending = u->timeout_ipending,
		.rx_head = u->rx_head,
		.rx_count = u->rx_count,
		.rx_trigger = u->rx_trigger,
		.timeout = vmc_timer_get_deadline(u->timeout),
	};

	memcpy(v.rx, u->rx, sizeof(v.rx));
	uart_snap_io(&s, &v);
	return hw_snap_result(&s);
}

static int uart_snap_parse(const void *buf, size_t size, uint32_t version,
			   struct uart_snap *v)
{
	struct hw_snap s = {.in = buf, .size = size};

	if (version != 1)
		return -EINVAL;
	uart_snap_io(&s, v);
	if (!hw_snap_done(&s) || v->rx_head >= UART_FIFO_SIZE ||
	    v->rx_count > UART_FIFO_SIZE || !v->rx_trigger ||
	    v->rx_trigger > UART_FIFO_SIZE || v->timeout < -1)
		return -EINVAL;
	return 0;
}

static int uart_snap_check(void *opaque, const void *buf, size_t size,
			   uint32_t version)
{
	struct uart_snap v;

	return uart_snap_parse(buf, size, version, &v);
}

static int uart_snap_load(void *opaque, const void *buf, size_t size,
			  uint32_t version)
{
	struct vmc_uart16550 *u = opaque;
	struct uart_snap v;
	int r = uart_snap_parse(buf, size, version, &v);

	if (r < 0)
		return r;
	u->divisor = v.divisor;
	u->ier = v.ier;
	u->lcr = v.lcr;
	u->mcr = v.mcr;
	u->lsr = v.lsr;
	u->msr = v.msr;
	u->scr = v.scr;
	u->fcr = v.fcr;
	u->thr_ipending = v.thr_ipending;
	u->timeout_ipending = v.timeout_ipending;
	memcpy(u->rx, v.rx, sizeof(u->rx));
	u->rx_head = v.rx_head;
	u->rx_count = v.rx_count;
	u->rx_trigger = v.rx_trigger;
	/* THRE/TEMT follow the host side's buffer, as it is now. */
	tx_update(u);
	hw_snap_timer_load(u->timeout, v.timeout);
	if (u->in_paused && rx_space(u))
		vmc_bh_schedule(u->bh);
	update_irq(u);
	return 0;
}

static const struct vmc_snapshot_section_ops uart_snap_ops = {
	.struct_size = sizeof(uart_snap_ops),
	.save = uart_snap_save,
	.check = uart_snap_check,
	.load = uart_snap_load,
};

/* The host side: the loop thread, VM lock held. */
static void in_readable(struct vmc_fd_handler *h, int fd, void *userdata);
static void out_writable(struct vmc_fd_handler *h, int fd, void *userdata);

/* Point the fd handlers at what the state asks for. */
static void arm_handlers(struct vmc_uart16550 *u)
{
	vmc_fd_cb rd = u->in_paused || u->in_eof ? NULL : in_readable;
	vmc_fd_cb wr = u->out_waiting ? out_writable : NULL;

	if (u->in_handler && u->out_handler == u->in_handler) {
		vmc_fd_handler_set(u->in_handler, rd, wr, u);
		return;
	}
	if (u->in_handler)
		vmc_fd_handler_set(u->in_handler, rd, NULL, u);
	if (u->out_handler)
		vmc_fd_handler_set(u->out_handler, NULL, wr, u);
}

static void in_readable(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_uart16550 *u = userdata;
	struct pollfd p = {fd, POLLIN, 0};
	uint8_t buf[UART_FIFO_SIZE];
	unsigned int space;
	ssize_t n;

	space = rx_space(u);
	if (!space) {
		/* Hold the sender back until the guest drains the FIFO. */
		u->in_paused = true;
		arm_handlers(u);
		return;
	}
	/*
	 * The fd keeps the host's flags (blocking, usually): read only what
	 * poll() says is there, so that the loop never waits in read().
	 */
	if (u->in_socket) {
		n = recv(fd, buf, space, MSG_DONTWAIT);
	} else if (poll(&p, 1, 0) == 1 && !(p.revents & POLLNVAL)) {
		n = read(fd, buf, space);
	} else {
		return;
	}
	if (n > 0) {
		receive_locked(u, buf, (size_t)n, NULL);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* End of input: stop watching, keep the UART working. */
		u->in_eof = true;
		arm_handlers(u);
	}
}

static void out_writable(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_uart16550 *u = userdata;

	if (!u->out_waiting)
		return;
	if (!out_flush(u)) {
		u->out_waiting = false;
		arm_handlers(u);
	}
	tx_update(u);
	update_irq(u);
	if (u->out_closed_pending)
		vmc_bh_schedule(u->bh);
}

/* Changes asked for under the lock off the loop thread; the closed call. */
static void loop_bh(struct vmc_bh *bh, void *userdata)
{
	struct vmc_uart16550 *u = userdata;

	if (u->in_paused && rx_space(u))
		u->in_paused = false;
	if (u->out_error)
		u->out_waiting = false;
	arm_handlers(u);
	if (u->out_closed_pending) {
		u->out_closed_pending = false;
		tx_update(u);
		update_irq(u);
		if (u->closed_cb)
			u->closed_cb(u->userdata, u->out_error);
	}
}

/*
 * Watch a host fd: libuv makes a polled fd O_NONBLOCK, which would reach
 * every fd sharing its open file description (a terminal's stdin and
 * stdout, say); put the host's flags back.
 */
static int watch_host_fd(struct vmc_uart16550 *u, int fd,
			 struct vmc_fd_handler **ret)
{
	int flags = fcntl(fd, F_GETFL);
	int r = vmc_vm_fd_handler_new(u->vm, fd, NULL, NULL, u, ret);

	if (flags >= 0 && fcntl(fd, F_GETFL) != flags)
		fcntl(fd, F_SETFL, flags);
	return r;
}

static bool is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Our own O_NONBLOCK open file description of a pipe or terminal. */
static int open_own_description(int fd, const struct stat *st)
{
	char path[32];

	if (S_ISCHR(st->st_mode)) {
		/* Opening a pty master again would make a new pty. */
		if (!isatty(fd) || st->st_rdev == makedev(5, 2))
			return -1;
	} else if (!S_ISFIFO(st->st_mode)) {
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static int setup_output(struct vmc_uart16550 *u)
{
	struct stat st;
	int r;

	u->out_wfd = u->out_fd;
	if (u->out_fd < 0) {
		u->out_mode = OUT_NONE;
		return 0;
	}
	if (fstat(u->out_fd, &st) < 0)
		return -errno;
	u->out_pipe = S_ISFIFO(st.st_mode);
	if (S_ISSOCK(st.st_mode)) {
		u->out_mode = OUT_SOCKET;
	} else {
		int own = open_own_description(u->out_fd, &st);

		if (own >= 0) {
			u->out_wfd = own;
			u->out_own_fd = true;
			u->out_mode = OUT_OWN;
		} else {
			u->out_mode = OUT_POLL;
		}
	}
	if (u->out_wfd == u->in_fd && u->in_handler) {
		u->out_handler = u->in_handler;
		return 0;
	}
	if (u->out_own_fd)
		r = vmc_vm_fd_handler_new(u->vm, u->out_wfd, NULL, NULL, u,
					  &u->out_handler);
	else
		r = watch_host_fd(u, u->out_wfd, &u->out_handler);
	if (r == -EPERM) {
		/* Not pollable (a regular file): plain writes. */
		u->out_mode = OUT_FILE;
		return 0;
	}
	return r;
}

/*
 * Before the end: give a reader that keeps reading the buffered bytes;
 * one that makes no progress for OUT_DRAIN_MS loses them, with a log line.
 */
static void out_drain(struct vmc_uart16550 *u)
{
	while (u->out_count && !u->out_error) {
		struct pollfd p = {u->out_wfd, POLLOUT, 0};
		unsigned int before = u->out_count;

		out_flush(u);
		if (!u->out_count || u->out_error)
			break;
		if (u->out_count == before && poll(&p, 1, OUT_DRAIN_MS) == 0) {
			vmc_log(VMC_LOG_WARNING,
				"uart16550: output fd %d not writable for "
				"%d ms; %u bytes are discarded",
				u->out_fd, OUT_DRAIN_MS, u->out_count);
			break;
		}
	}
}

VMC_EXPORT void vmc_uart16550_config_init(struct vmc_uart16550_config *c)
{
	if (!c)
		return;
	*c = (struct vmc_uart16550_config){
		.size = sizeof(*c),
		.clock_hz = 1843200,
		.in_fd = -1,
		.out_fd = -1,
	};
}

VMC_EXPORT int vmc_uart16550_receive(struct vmc_uart16550 *u, const void *buf,
				     size_t len)
{
	bool taken;
	size_t n;

	VMC_CHECK_RETURN(u && (buf || !len), -EINVAL);
	taken = !vmc_vm_lock_held(u->vm);
	if (taken)
		vmc_vm_lock(u->vm);
	receive_locked(u, buf, len, &n);
	if (taken)
		vmc_vm_unlock(u->vm);
	return (int)(n > INT32_MAX ? INT32_MAX : n);
}

VMC_EXPORT struct vmc_region *vmc_uart16550_get_region(struct vmc_uart16550 *u)
{
	return u ? u->region : NULL;
}

/* The memory, once no callback can run any more (ops.release). */
static void uart_release(void *opaque)
{
	free(opaque);
}

VMC_EXPORT int vmc_uart16550_new(const struct vmc_uart16550_config *config,
				 struct vmc_uart16550 **ret)
{
	/* Wide accesses are split into byte accesses by the memory API. */
	static const struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = uart_read,
		.write = uart_write,
		.release = uart_release,
		.min_access_size = 1,
		.max_access_size = 1,
		.endian = VMC_ENDIAN_LITTLE,
	};
	/* A 0.1 caller's config ends before closed_cb. */
	const size_t size_0_1 =
		offsetof(struct vmc_uart16550_config, closed_cb);
	struct vmc_uart16550_config c = {0};
	struct vmc_uart16550 *u;
	int r;

	VMC_CHECK_RETURN(config && ret && config->size >= size_0_1, -EINVAL);
	memcpy(&c, config, config->size < sizeof(c) ? config->size : sizeof(c));
	VMC_CHECK_RETURN(c.vm && c.reg_shift <= 3 && c.clock_hz, -EINVAL);
	/* A closed fd would be written to, or polled, forever in vain. */
	VMC_CHECK_RETURN(c.in_fd < 0 || fcntl(c.in_fd, F_GETFD) >= 0, -EBADF);
	VMC_CHECK_RETURN(c.out_fd < 0 || fcntl(c.out_fd, F_GETFD) >= 0, -EBADF);

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->vm = c.vm;
	u->irq = c.irq;
	u->shift = c.reg_shift;
	u->clock_hz = c.clock_hz;
	u->in_fd = c.in_fd;
	u->out_fd = c.out_fd;
	u->out_wfd = -1;
	u->tx_cb = c.tx_cb;
	u->closed_cb = c.closed_cb;
	u->userdata = c.userdata;

	r = vmc_vm_timer_new(c.vm, VMC_CLOCK_VIRTUAL, timeout_cb, u,
			     &u->timeout);
	if (r < 0)
		goto fail;
	r = vmc_vm_bh_new(c.vm, loop_bh, u, &u->bh);
	if (r < 0)
		goto fail;
	if (c.in_fd >= 0) {
		u->in_socket = is_socket(c.in_fd);
		r = watch_host_fd(u, c.in_fd, &u->in_handler);
		if (r < 0)
			goto fail;
	}
	r = setup_output(u);
	if (r < 0)
		goto fail;
	arm_handlers(u);
	r = vmc_vm_add_reset_handler(c.vm, reset_cb, u, &u->reset_handler);
	if (r < 0)
		goto fail;
	uart_reset_regs(u);

	r = vmc_vm_add_snapshot_section(c.vm, "uart16550", 1, &uart_snap_ops, u,
					&u->section);
	if (r < 0)
		goto fail;
	r = vmc_region_new_io(vmc_vm_get_memory(c.vm), "uart16550",
			      8u << c.reg_shift, &ops, u, 0, &u->region);
	if (r < 0)
		goto fail;
	*ret = u;
	return 0;
fail:
	vmc_vm_remove_snapshot_section(c.vm, u->section);
	vmc_vm_remove_reset_handler(c.vm, u->reset_handler);
	if (u->out_handler != u->in_handler)
		vmc_fd_handler_free(u->out_handler);
	vmc_fd_handler_free(u->in_handler);
	if (u->out_own_fd)
		close(u->out_wfd);
	vmc_bh_free(u->bh);
	vmc_timer_free(u->timeout);
	free(u);
	return r;
}

VMC_EXPORT void vmc_uart16550_free(struct vmc_uart16550 *u)
{
	if (!u)
		return;
	/* No register callback runs from here on (vmc-memory.h). */
	vmc_region_detach_ops(u->region);
	vmc_vm_remove_snapshot_section(u->vm, u->section);
	u->section = NULL;
	vmc_vm_remove_reset_handler(u->vm, u->reset_handler);
	if (u->out_handler != u->in_handler)
		vmc_fd_handler_free(u->out_handler);
	vmc_fd_handler_free(u->in_handler);
	vmc_bh_free(u->bh);
	vmc_timer_free(u->timeout);
	out_drain(u);
	if (u->out_own_fd)
		close(u->out_wfd);
	u->out_own_fd = false;
	u->out_handler = NULL;
	u->in_handler = NULL;
	u->bh = NULL;
	u->timeout = NULL;
	/* The state goes with the region's last reference. */
	vmc_region_unref(u->region);
}
