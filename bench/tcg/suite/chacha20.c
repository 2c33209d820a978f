/* SPDX-License-Identifier: MIT */
/* Integer cryptography: ChaCha20 encryption of a 4 KiB buffer in place,
 * the nonce moving each pass; a Poly1305-free sum of the ciphertext. */
#include "bench.h"

const char workload_name[] = "chacha20";

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define QR(a, b, c, d)                                                         \
	do {                                                                   \
		a += b, d ^= a, d = ROL(d, 16);                                \
		c += d, b ^= c, b = ROL(b, 12);                                \
		a += b, d ^= a, d = ROL(d, 8);                                 \
		c += d, b ^= c, b = ROL(b, 7);                                 \
	} while (0)

static void chacha_block(const uint32_t in[16], uint32_t out[16])
{
	uint32_t x[16];

	for (int i = 0; i < 16; i++)
		x[i] = in[i];
	for (int r = 0; r < 10; r++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		out[i] = x[i] + in[i];
}

static uint8_t buf[4096];

uint64_t workload(uint32_t iters)
{
	uint32_t st[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
	uint64_t sum = 0;

	for (int i = 4; i < 12; i++)
		st[i] = (uint32_t)i * 0x01010101u;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	for (uint32_t it = 0; it < iters; it++) {
		uint64_t s = 0;

		st[13] = it;
		for (size_t off = 0; off < sizeof(buf); off += 64) {
			uint32_t ks[16];

			st[12] = (uint32_t)(off / 64);
			chacha_block(st, ks);
			for (int k = 0; k < 16; k++) {
				uint8_t *p = buf + off + 4 * k;

				p[0] ^= (uint8_t)ks[k];
				p[1] ^= (uint8_t)(ks[k] >> 8);
				p[2] ^= (uint8_t)(ks[k] >> 16);
				p[3] ^= (uint8_t)(ks[k] >> 24);
			}
		}
		for (size_t i = 0; i < sizeof(buf); i += 8)
			s += (uint64_t)buf[i] << (i & 56);
		sum = mix(sum, s);
	}
	return sum;
}
