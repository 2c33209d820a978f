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
 * Transmission is instantaneous: a byte written to THR leaves at once, so
 * the transmitter is always empty (THRE and TEMT set) and a THR-empty
 * interrupt follows every write when enabled.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-hw-uart16550.h>

#include "hw-internal.h"
#include "uart16550-regs.h"

#define UART_FIFO_SIZE 16

struct vmc_uart16550 {
	struct vmc_vm *vm;
	struct vmc_region *region;
	struct vmc_irq *irq;
	unsigned int shift;
	uint32_t clock_hz;
	int in_fd, out_fd;
	vmc_uart16550_tx_cb tx_cb;
	void *userdata;

	struct vmc_fd_handler *in_handler;
	struct vmc_bh *rx_bh;      /* re-arms in_handler on the loop */
	bool in_paused;            /* in_handler's read side is off */
	bool in_eof;
	struct vmc_timer *timeout; /* character timeout, virtual clock */
	struct vmc_vm_reset_handler *reset_handler;

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

static void transmit(struct vmc_uart16550 *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP) {
		receive_locked(u, &byte, 1, NULL);
		return;
	}
	if (u->tx_cb)
		u->tx_cb(u->userdata, byte);
	if (u->out_fd >= 0) {
		for (int tries = 0; tries < 50; tries++) {
			ssize_t r = write(u->out_fd, &byte, 1);

			if (r == 1)
				break;
			if (r < 0 && errno == EAGAIN) {
				struct pollfd p = {u->out_fd, POLLOUT, 0};

				poll(&p, 1, 20);
			} else if (!(r < 0 && errno == EINTR)) {
				break;
			}
		}
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
		vmc_bh_schedule(u->rx_bh);
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
		u->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
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
				vmc_bh_schedule(u->rx_bh);
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
	u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	u->msr = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	u->scr = 0;
	u->fcr = 0;
	u->rx_trigger = 1;
	u->rx_head = u->rx_count = 0;
	u->thr_ipending = false;
	u->timeout_ipending = false;
	vmc_timer_del(u->timeout);
	if (u->in_paused)
		vmc_bh_schedule(u->rx_bh);
	update_irq(u);
}

static void reset_cb(struct vmc_vm *vm, void *userdata)
{
	uart_reset_regs(userdata);
}

/* The host side: the loop thread, VM lock held. */
static void in_readable(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_uart16550 *u = userdata;
	uint8_t buf[UART_FIFO_SIZE];
	unsigned int space;
	ssize_t n;

	space = rx_space(u);
	if (!space) {
		/* Hold the sender back until the guest drains the FIFO. */
		vmc_fd_handler_set(h, NULL, NULL, u);
		u->in_paused = true;
		return;
	}
	n = read(fd, buf, space);
	if (n > 0) {
		receive_locked(u, buf, (size_t)n, NULL);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* End of input: stop watching, keep the UART working. */
		vmc_fd_handler_set(h, NULL, NULL, u);
		u->in_eof = true;
	}
}

static void rx_rearm(struct vmc_bh *bh, void *userdata)
{
	struct vmc_uart16550 *u = userdata;

	if (u->in_paused && !u->in_eof && u->in_handler) {
		u->in_paused = false;
		vmc_fd_handler_set(u->in_handler, in_readable, NULL, u);
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

VMC_EXPORT int vmc_uart16550_receive(struct vmc_uart16550 *u,
				     const void *buf, size_t len)
{
	bool taken;
	size_t n;

	vmc__hw_check(u && (buf || !len), -EINVAL);
	taken = !vmc_vm_lock_held(u->vm);
	if (taken)
		vmc_vm_lock(u->vm);
	receive_locked(u, buf, len, &n);
	if (taken)
		vmc_vm_unlock(u->vm);
	return (int)(n > INT32_MAX ? INT32_MAX : n);
}

VMC_EXPORT struct vmc_region *vmc_uart16550_get_region(
	struct vmc_uart16550 *u)
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
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;
	int r;

	vmc__hw_check(config && ret && config->size >= sizeof(c), -EINVAL);
	c = *config;
	vmc__hw_check(c.vm && c.reg_shift <= 3 && c.clock_hz, -EINVAL);
	/* A closed fd would be written to, or polled, forever in vain. */
	vmc__hw_check(c.in_fd < 0 || fcntl(c.in_fd, F_GETFD) >= 0, -EBADF);
	vmc__hw_check(c.out_fd < 0 || fcntl(c.out_fd, F_GETFD) >= 0, -EBADF);

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->vm = c.vm;
	u->irq = c.irq;
	u->shift = c.reg_shift;
	u->clock_hz = c.clock_hz;
	u->in_fd = c.in_fd;
	u->out_fd = c.out_fd;
	u->tx_cb = c.tx_cb;
	u->userdata = c.userdata;

	r = vmc_vm_timer_new(c.vm, VMC_CLOCK_VIRTUAL, timeout_cb, u,
			     &u->timeout);
	if (r < 0)
		goto fail;
	r = vmc_vm_bh_new(c.vm, rx_rearm, u, &u->rx_bh);
	if (r < 0)
		goto fail;
	if (c.in_fd >= 0) {
		r = vmc_vm_fd_handler_new(c.vm, c.in_fd, in_readable, NULL, u,
					  &u->in_handler);
		if (r < 0)
			goto fail;
	}
	r = vmc_vm_add_reset_handler(c.vm, reset_cb, u, &u->reset_handler);
	if (r < 0)
		goto fail;
	uart_reset_regs(u);

	r = vmc_region_new_io(vmc_vm_get_memory(c.vm), "uart16550",
			      8u << c.reg_shift, &ops, u, 0, &u->region);
	if (r < 0)
		goto fail;
	*ret = u;
	return 0;
fail:
	vmc_vm_remove_reset_handler(c.vm, u->reset_handler);
	vmc_fd_handler_free(u->in_handler);
	vmc_bh_free(u->rx_bh);
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
	vmc_vm_remove_reset_handler(u->vm, u->reset_handler);
	vmc_fd_handler_free(u->in_handler);
	vmc_bh_free(u->rx_bh);
	vmc_timer_free(u->timeout);
	u->in_handler = NULL;
	u->rx_bh = NULL;
	u->timeout = NULL;
	/* The state goes with the region's last reference. */
	vmc_region_unref(u->region);
}
