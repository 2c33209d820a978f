/* SPDX-License-Identifier: MIT */
/* The suite's harness inside the guest: time workload(ITERS), report
 * "<name> <checksum> <ticks> <iters>". */
#include "bench.h"

#define UART ((volatile uint8_t *)0x10000000)
#define FINISHER ((volatile uint32_t *)0x100000)

void guest_main(void);

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

static void put_str(const char *s)
{
	while (*s)
		*UART = (uint8_t)*s++;
}

static void put_hex(uint64_t v)
{
	for (int i = 60; i >= 0; i -= 4)
		*UART = (uint8_t) "0123456789abcdef"[(v >> i) & 15];
}

static void put_dec(uint64_t v)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*UART = (uint8_t)buf[--n];
}

static inline uint64_t rdtime(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

void guest_main(void)
{
	uint64_t t0 = rdtime(), sum, t1;

	sum = workload(ITERS);
	t1 = rdtime();
	put_str(workload_name);
	*UART = ' ';
	put_hex(sum);
	*UART = ' ';
	put_dec(t1 - t0);
	*UART = ' ';
	put_dec(ITERS);
	*UART = '\n';
	*FINISHER = 0x5555;
	for (;;)
		;
}
