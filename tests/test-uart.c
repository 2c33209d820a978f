/* SPDX-License-Identifier: MIT */
/*
 * The 16550 UART: host fds with flow control, MMIO with a register stride,
 * modem status in loopback, and argument errors.  (The register model's
 * main paths are covered by examples/device-harness.)
 */
#include <fcntl.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define BASE 0x10000000

static struct vmc_loop *loop;
static struct vmc_vm *vm;
static struct vmc_address_space *mem;

static void w8(uint64_t addr, uint8_t v)
{
	ASSERT_OK(vmc_as_write(mem, addr, &v, 1));
}

static uint8_t r8(uint64_t addr)
{
	uint8_t v;

	ASSERT_OK(vmc_as_read(mem, addr, &v, 1));
	return v;
}

static void test_errors(void)
{
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;

	vmc_uart16550_config_init(&c);
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL); /* no VM */
	c.vm = vm;
	ASSERT_ERR(vmc_uart16550_new(NULL, &u), -EINVAL);
	ASSERT_ERR(vmc_uart16550_new(&c, NULL), -EINVAL);
	c.reg_shift = 4;
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL);
	c.reg_shift = 0;
	c.clock_hz = 0;
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL);
	c.clock_hz = 1843200;
	c.size = 8;
	ASSERT_ERR(vmc_uart16550_new(&c, &u), -EINVAL);
	c.size = sizeof(c);
	/* An fd that is not open is refused, for input and for output. */
	{
		int p[2];

		ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
		close(p[0]);
		close(p[1]);
		c.in_fd = p[0];
		ASSERT_ERR(vmc_uart16550_new(&c, &u), -EBADF);
		c.in_fd = -1;
		c.out_fd = p[1];
		ASSERT_ERR(vmc_uart16550_new(&c, &u), -EBADF);
		c.out_fd = -1;
	}
	ASSERT_ERR(vmc_uart16550_receive(NULL, "x", 1), -EINVAL);
	ASSERT_NULL(vmc_uart16550_get_region(NULL));
	vmc_uart16550_free(NULL);
}

static void test_fds_and_stride(void)
{
	struct vmc_uart16550_config c;
	struct vmc_uart16550 *u;
	int in[2], out[2];
	char buf[32];
	const unsigned int s = 4; /* reg_shift 2 */

	ASSERT_EQ(pipe2(in, O_CLOEXEC | O_NONBLOCK), 0);
	ASSERT_EQ(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	vmc_uart16550_config_init(&c);
	c.vm = vm;
	c.reg_shift = 2;
	c.in_fd = in[0];
	c.out_fd = out[1];
	ASSERT_OK(vmc_uart16550_new(&c, &u));
	ASSERT_EQ(vmc_region_get_size(vmc_uart16550_get_region(u)), 32);
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   BASE, vmc_uart16550_get_region(u),
					   0));

	/* Registers sit 4 bytes apart; the rest of each slot reads 0. */
	w8(BASE + 7 * s, 0x42);
	ASSERT_EQ(r8(BASE + 7 * s), 0x42);
	ASSERT_EQ(r8(BASE + 7 * s + 1), 0);
	w8(BASE + 2 * s, 0x01); /* FIFO on */

	/* Transmit to the host fd. */
	w8(BASE, 'o');
	w8(BASE, 'k');
	ASSERT_EQ(read(out[0], buf, sizeof(buf)), 2);
	ASSERT_TRUE(memcmp(buf, "ok", 2) == 0);

	/* 20 bytes arrive; the FIFO takes 16 and the fd is held back. */
	ASSERT_EQ(write(in[1], "ABCDEFGHIJKLMNOPQRST", 20), 20);
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	for (int i = 0; i < 16; i++) {
		ASSERT_TRUE(r8(BASE + 5 * s) & 0x01);
		ASSERT_EQ(r8(BASE), 'A' + i);
	}
	ASSERT_FALSE(r8(BASE + 5 * s) & 0x01);
	ASSERT_FALSE(r8(BASE + 5 * s) & 0x02); /* no overrun: flow control */
	/* Draining re-arms the fd on the loop; the rest comes in. */
	for (int i = 0; i < 5; i++)
		vmc_loop_run_once(loop, false);
	for (int i = 16; i < 20; i++)
		ASSERT_EQ(r8(BASE), 'A' + i);

	/* Loopback wires modem outputs to inputs, with delta bits. */
	(void)r8(BASE + 6 * s);
	w8(BASE + 4 * s, 0x10 | 0x01); /* LOOP | DTR */
	/* CTS and DCD drop (deltas), DSR stays up (no delta). */
	ASSERT_EQ(r8(BASE + 6 * s), 0x20 | 0x01 | 0x08);
	ASSERT_EQ(r8(BASE + 6 * s), 0x20); /* deltas clear on read */
	w8(BASE + 4 * s, 0x00);

	ASSERT_OK(vmc_region_remove_subregion(
		vmc_vm_get_root(vm, VMC_AS_MEMORY), vmc_uart16550_get_region(u)));
	vmc_uart16550_free(u);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	struct vmc_vm_config c;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.flags = VMC_VM_DETERMINISTIC;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	mem = vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	RUN(test_errors);
	RUN(test_fds_and_stride);
	vmc_vm_unref(vm);
	/* The UART's memory is released with the last flat view. */
	vmc_loop_unref(loop);
	return 0;
}
