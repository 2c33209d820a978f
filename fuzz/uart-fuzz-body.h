/* SPDX-License-Identifier: MIT */
/*
 * The 16550 driven by a guest and a host at random: register reads and
 * writes, the host's reader draining, stalling or going away, input
 * arriving.  Shared by fuzz/fuzz-uart.c (libFuzzer) and tests/test-uart.c
 * (pseudo-random inputs).  What must hold: nothing crashes or blocks;
 * LSR.TEMT never without THRE; what reaches the pipe is, in order, a
 * subsequence of the bytes the guest wrote to THR outside loopback (a
 * byte written into a full buffer may be lost, none is invented or
 * reordered); the closed callback runs at most once.
 */
#ifndef VMC_UART_FUZZ_BODY_H
#define VMC_UART_FUZZ_BODY_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#define UART_FUZZ_BASE 0x10000000

struct uart_fuzz_state {
	uint8_t *written;
	size_t n_written, matched;
	int closed_calls;
};

static void uart_fuzz_closed(void *userdata, int error)
{
	struct uart_fuzz_state *st = userdata;

	if (++st->closed_calls > 1 || error >= 0)
		abort();
}

static void uart_fuzz_check_out(struct uart_fuzz_state *st, int fd, size_t max)
{
	uint8_t buf[4096];
	ssize_t n;

	if (max > sizeof(buf))
		max = sizeof(buf);
	n = read(fd, buf, max);
	for (ssize_t i = 0; i < n; i++) {
		while (st->matched < st->n_written &&
		       st->written[st->matched] != buf[i])
			st->matched++;
		if (st->matched == st->n_written)
			abort(); /* a byte the guest never wrote, or reordered
				  */
		st->matched++;
	}
}

static void uart_fuzz_one(struct vmc_loop *loop, struct vmc_vm *vm,
			  const uint8_t *data, size_t size)
{
	struct vmc_address_space *as =
		vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	struct vmc_region *root = vmc_vm_get_root(vm, VMC_AS_MEMORY);
	struct uart_fuzz_state st = {0};
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;
	uint8_t lcr = 0, mcr = 0;
	int out[2], in[2];
	bool reader_open = true;

	if (pipe2(out, O_CLOEXEC) < 0)
		abort();
	if (pipe2(in, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	fcntl(out[1], F_SETPIPE_SZ, 4096);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	st.written = malloc(size / 2 + 1);
	if (!st.written)
		abort();
	vmc_uart16550_config_init(&c);
	c.vm = vm;
	c.in_fd = in[0];
	c.out_fd = out[1];
	c.closed_cb = uart_fuzz_closed;
	c.userdata = &st;
	if (vmc_uart16550_new(&c, &u) < 0 ||
	    vmc_region_add_subregion(root, UART_FUZZ_BASE,
				     vmc_uart16550_get_region(u), 0) < 0)
		abort();

	for (size_t i = 0; i + 1 < size; i += 2) {
		unsigned int reg = (data[i] >> 3) & 7;
		uint8_t arg = data[i + 1], v;

		switch (data[i] & 7) {
		case 0: /* a guest write */
			if (reg == 3)
				lcr = arg;
			if (reg == 4)
				mcr = arg;
			if (reg == 0 && !(lcr & 0x80) && !(mcr & 0x10))
				st.written[st.n_written++] = arg;
			vmc_as_write(as, UART_FUZZ_BASE + reg, &arg, 1);
			break;
		case 1: /* a guest read */
			vmc_as_read(as, UART_FUZZ_BASE + reg, &v, 1);
			break;
		case 2: /* the host's reader reads some */
			if (reader_open)
				uart_fuzz_check_out(&st, out[0],
						    (size_t)arg * 32 + 1);
			break;
		case 3:
			vmc_loop_run_once(loop, false);
			break;
		case 4: /* input arrives on the fd */
			if (write(in[1], data + i,
				  size - i < 32 ? size - i : arg & 31) < 0 &&
			    errno != EAGAIN)
				abort();
			break;
		case 5: /* the reader goes away */
			if (arg == 0x5a && reader_open) {
				close(out[0]);
				reader_open = false;
			}
			break;
		case 6:
			vmc_uart16550_receive(u, data + i, 1 + (arg & 1));
			break;
		default:
			vmc_as_read(as, UART_FUZZ_BASE + 5, &v, 1);
			if ((v & 0x40) && !(v & 0x20))
				abort(); /* TEMT without THRE */
			break;
		}
	}
	for (int i = 0; i < 4; i++)
		vmc_loop_run_once(loop, false);
	if (reader_open) {
		uart_fuzz_check_out(&st, out[0], 4096);
		close(out[0]); /* so that the free does not wait */
	}
	vmc_region_remove_subregion(root, vmc_uart16550_get_region(u));
	vmc_uart16550_free(u);
	close(out[1]);
	close(in[0]);
	close(in[1]);
	free(st.written);
}

#endif
