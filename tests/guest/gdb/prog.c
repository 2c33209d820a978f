/* SPDX-License-Identifier: MIT */
/*
 * The gdb suite's guest, for the riscv-virt board: hart 0 sums with a
 * function in a loop, waits while `spin` is set, and ends through the
 * SiFive test finisher with `verdict` (0 = pass); other harts count
 * forever.  The tests change `spin` and `verdict` from gdb.
 */
typedef unsigned char uint8_t;
typedef unsigned int uint32_t;

#define UART0 ((volatile uint8_t *)0x10000000)
#define FINISHER ((volatile uint32_t *)0x100000)

volatile int counter;
volatile int spin;
volatile int verdict = 7;
volatile unsigned long other_hart_count;

static void put(const char *s)
{
	while (*s)
		*UART0 = (uint8_t)*s++;
}

int __attribute__((noinline)) bump(int value, int step)
{
	int next = value + step;

	return next;
}

static void __attribute__((noreturn)) finish(int code)
{
	*FINISHER = code ? ((uint32_t)code << 16) | 0x3333 : 0x5555;
	for (;;)
		;
}

void hart_main(unsigned long hartid);

void hart_main(unsigned long hartid)
{
	if (hartid != 0)
		for (;;)
			other_hart_count++;
	put("gdb-guest: start\n");
	for (int i = 0; i < 10; i++)
		counter = bump(counter, i);
	while (spin)
		;
	put("gdb-guest: done\n");
	finish(counter == 45 ? verdict : 99);
}
