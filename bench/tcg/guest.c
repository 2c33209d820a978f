/* SPDX-License-Identifier: MIT */
/*
 * A CPU-bound bare-metal RV64 guest for bench/tcg: a prime sieve, CRC-32,
 * a small integer matrix product and a divide/modulo loop, repeated ITERS
 * times.  It prints a checksum on the UART at 0x10000000 and ends through
 * the test finisher at 0x100000, so it runs unchanged on qemu-system-riscv64
 * -M virt -bios none -kernel.
 */
#include <stddef.h>
#include <stdint.h>

#ifndef ITERS
#define ITERS 1000
#endif

#define UART ((volatile uint8_t *)0x10000000)
#define FINISHER ((volatile uint32_t *)0x100000)

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
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

static uint8_t sieve[16384];
static uint32_t crc_table[256];
static uint8_t data[4096];
static int32_t ma[24][24], mb[24][24], mc[24][24];

static uint32_t run_sieve(void)
{
	uint32_t count = 0;

	for (uint32_t i = 0; i < sizeof(sieve); i++)
		sieve[i] = 1;
	for (uint32_t i = 2; i < sizeof(sieve); i++) {
		if (!sieve[i])
			continue;
		count++;
		for (uint32_t j = i + i; j < sizeof(sieve); j += i)
			sieve[j] = 0;
	}
	return count;
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static int64_t matmul(void)
{
	int64_t sum = 0;

	for (int i = 0; i < 24; i++)
		for (int j = 0; j < 24; j++) {
			int32_t s = 0;

			for (int k = 0; k < 24; k++)
				s += ma[i][k] * mb[k][j];
			mc[i][j] = s;
			sum += s;
		}
	return sum;
}

static uint64_t divloop(uint64_t seed)
{
	uint64_t acc = 0;

	for (uint64_t i = 1; i < 2000; i++) {
		acc += (seed * 2654435761u) / i;
		acc ^= (int64_t)(acc - seed) % (int64_t)(i * 7 + 1);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	}
	return acc;
}

static void put_hex(uint64_t v)
{
	for (int i = 60; i >= 0; i -= 4)
		*UART = (uint8_t) "0123456789abcdef"[(v >> i) & 15];
	*UART = '\n';
}

void guest_main(void)
{
	uint64_t acc = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	for (int i = 0; i < 24; i++)
		for (int j = 0; j < 24; j++) {
			ma[i][j] = i * 3 - j;
			mb[i][j] = j * 5 - i * 2 + 1;
		}
	for (uint32_t it = 0; it < ITERS; it++) {
		for (uint32_t i = 0; i < sizeof(data); i++)
			data[i] = (uint8_t)(i * 31 + it);
		acc += run_sieve();
		acc += crc32(data, sizeof(data));
		acc += (uint64_t)matmul();
		acc += divloop(acc);
	}
	put_hex(acc);
	*FINISHER = 0x5555;
	for (;;)
		;
}
