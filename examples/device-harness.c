/* SPDX-License-Identifier: MIT */
/*
 * device-harness: unit-test a device model with no CPU at all.
 *
 * A harness VM runs no guest code.  The test plays the guest: it programs
 * a 16550 UART through the same dispatch path a vCPU would use, feeds
 * bytes in from the "serial line", watches the interrupt line, and moves
 * the VM's deterministic clock by hand so the UART's character timeout
 * fires at an exact, repeatable moment.
 *
 * Exit status 0 means every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#define COM1 0x3f8

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "device-harness: line %d: %s\n",       \
				__LINE__, #cond);                              \
			failures++;                                            \
		}                                                              \
	} while (0)

/* The guest's view: one-byte port accesses. */
static struct vmc_address_space *io;

static void outb(uint16_t port, uint8_t v)
{
	if (vmc_as_write(io, port, &v, 1) < 0)
		failures++;
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0xff;

	if (vmc_as_read(io, port, &v, 1) < 0)
		failures++;
	return v;
}

/* What the UART transmitted, and what its interrupt line did. */
static char tx[64];
static size_t tx_len;
static bool irq_level;
static int irq_raises;

static void on_tx(void *userdata, uint8_t byte)
{
	if (tx_len < sizeof(tx) - 1)
		tx[tx_len++] = (char)byte;
}

static void on_irq(void *opaque, unsigned int n, bool level)
{
	if (level && !irq_level)
		irq_raises++;
	irq_level = level;
}

int main(void)
{
	struct vmc_loop *loop;
	struct vmc_vm_config vc;
	struct vmc_vm *vm;
	struct vmc_irq *irq;
	struct vmc_uart16550_config uc;
	struct vmc_uart16550 *uart;
	struct vmc_clock *clock;
	char rx[8] = "";

	if (vmc_loop_new(&loop) < 0)
		return 1;
	vmc_vm_config_init(&vc);
	vc.accel = VMC_ACCEL_HARNESS;
	vc.flags = VMC_VM_DETERMINISTIC;
	vc.loop = loop;
	if (vmc_vm_new(&vc, &vm) < 0)
		return 1;
	io = vmc_vm_get_address_space(vm, VMC_AS_IO);
	clock = vmc_vm_get_clock(vm);

	/* Wire a UART at COM1 with its interrupt line into a probe. */
	if (vmc_irq_new(on_irq, NULL, 4, &irq) < 0)
		return 1;
	vmc_uart16550_config_init(&uc);
	uc.vm = vm;
	uc.irq = irq;
	uc.tx_cb = on_tx;
	if (vmc_uart16550_new(&uc, &uart) < 0 ||
	    vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_IO), COM1,
				     vmc_uart16550_get_region(uart), 0) < 0)
		return 1;
	vmc_vm_start(vm);

	/* 115200 baud (divisor 1), 8N1, FIFO on, receive interrupts. */
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);
	CHECK(inb(COM1 + 3) == 0x03);
	outb(COM1 + 7, 0x5a);
	CHECK(inb(COM1 + 7) == 0x5a);
	outb(COM1 + 2, 0x07);
	outb(COM1 + 1, 0x01);
	CHECK((inb(COM1 + 2) & 0xcf) == 0xc1); /* FIFO on, no interrupt */
	CHECK(!irq_level);

	/* Transmit: the bytes leave at once; the transmitter stays empty. */
	outb(COM1, 'h');
	outb(COM1, 'i');
	CHECK(tx_len == 2 && memcmp(tx, "hi", 2) == 0);
	CHECK((inb(COM1 + 5) & 0x60) == 0x60);

	/* Receive with trigger level 1: data available interrupts at once. */
	CHECK(vmc_uart16550_receive(uart, "abc", 3) == 3);
	CHECK(irq_level);
	CHECK((inb(COM1 + 2) & 0x0f) == 0x04);
	for (int i = 0; i < 3; i++) {
		CHECK(inb(COM1 + 5) & 0x01);
		rx[i] = (char)inb(COM1);
	}
	CHECK(strcmp(rx, "abc") == 0);
	CHECK(!(inb(COM1 + 5) & 0x01));
	CHECK(!irq_level);

	/*
	 * Trigger level 14: two bytes stay quiet until the character timeout,
	 * four character times (4 x 86.8 us at 115200 8N1) later.
	 */
	outb(COM1 + 2, 0xc1);
	irq_raises = 0;
	CHECK(vmc_uart16550_receive(uart, "xy", 2) == 2);
	CHECK(!irq_level);
	vmc_clock_step(clock, 300000);
	CHECK(!irq_level);
	vmc_clock_step(clock, 100000);
	CHECK(irq_level && irq_raises == 1);
	CHECK((inb(COM1 + 2) & 0x0f) == 0x0c);
	CHECK(inb(COM1) == 'x');
	CHECK(!irq_level); /* reading clears the timeout indication */
	CHECK(inb(COM1) == 'y');

	/* Overrun: a full FIFO takes no more, and says so. */
	CHECK(vmc_uart16550_receive(uart, "0123456789abcdefXYZ", 19) == 16);
	outb(COM1 + 4, 0x10); /* loopback: our own byte overruns the FIFO */
	outb(COM1, '!');
	CHECK(inb(COM1 + 5) & 0x02);
	CHECK(!(inb(COM1 + 5) & 0x02)); /* error bits clear on read */
	outb(COM1 + 2, 0x07);		/* clear the FIFOs */
	CHECK(!(inb(COM1 + 5) & 0x01));

	/* Loopback: a transmitted byte comes back instead of leaving. */
	outb(COM1, 'L');
	CHECK(tx_len == 2);
	CHECK(inb(COM1) == 'L');
	outb(COM1 + 4, 0x00);

	/* Transmitter-empty interrupt: raised on enable, acknowledged by IIR.
	 */
	outb(COM1 + 1, 0x02);
	CHECK(irq_level);
	CHECK((inb(COM1 + 2) & 0x0f) == 0x02);
	CHECK(!irq_level);

	/* A VM reset puts the UART back to its power-on state. */
	vmc_vm_reset(vm);
	CHECK(inb(COM1 + 1) == 0x00 && inb(COM1 + 3) == 0x00);
	CHECK(inb(COM1 + 7) == 0x00);
	CHECK(!irq_level);

	vmc_region_remove_subregion(vmc_vm_get_root(vm, VMC_AS_IO),
				    vmc_uart16550_get_region(uart));
	vmc_uart16550_free(uart);
	vmc_irq_free(irq);
	vmc_vm_unref(vm);
	vmc_loop_unref(loop);

	if (failures) {
		fprintf(stderr, "device-harness: %d check(s) failed\n",
			failures);
		return 1;
	}
	printf("device-harness: 16550 UART programmed, transmitted \"hi\", "
	       "received \"abc\", timed out on schedule, overran, looped "
	       "back, reset: all checks passed\n");
	return 0;
}
