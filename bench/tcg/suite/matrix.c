/* SPDX-License-Identifier: MIT */
/* CoreMark-style matrix work on 16-bit data with 32-bit results: add and
 * multiply by a constant, matrix-vector, matrix-matrix and the bit-field
 * extracting product, each summed and CRC'd. */
#include "bench.h"

const char workload_name[] = "matrix";

#define N 40

static int16_t ma[N][N], mb[N][N];
static int32_t mc[N][N];

static uint16_t crc16(uint16_t crc, uint32_t v)
{
	for (int i = 0; i < 32; i++) {
		unsigned x = (crc ^ v) & 1;

		v >>= 1;
		crc = (uint16_t)(x ? (crc >> 1) ^ 0xa001 : crc >> 1);
	}
	return crc;
}

static int64_t sum_c(int32_t clip)
{
	int64_t s = 0;
	int32_t prev = 0;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			int32_t v = mc[i][j];

			s += v > clip ? 10 : (v < prev ? -1 : 1);
			prev = v;
		}
	return s;
}

uint64_t workload(uint32_t iters)
{
	uint64_t sum = 0;
	uint16_t crc = 0;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			ma[i][j] = (int16_t)((i * 7 + j * 13) % 257 - 128);
			mb[i][j] = (int16_t)((i * 11 - j * 5) % 131);
		}
	for (uint32_t it = 0; it < iters; it++) {
		int16_t k = (int16_t)(it & 15) + 1;

		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				ma[i][j] = (int16_t)(ma[i][j] + k);
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				mc[i][j] = (int32_t)ma[i][j] * k;
		crc = crc16(crc, (uint32_t)sum_c(1000));
		for (int i = 0; i < N; i++) {
			int32_t s = 0;

			for (int j = 0; j < N; j++)
				s += ma[i][j] * mb[j][0];
			mc[i][0] = s;
		}
		crc = crc16(crc, (uint32_t)sum_c(2000));
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				int32_t s = 0;

				for (int l = 0; l < N; l++)
					s += ma[i][l] * mb[l][j];
				mc[i][j] = s;
			}
		crc = crc16(crc, (uint32_t)sum_c(3000));
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				int32_t s = 0;

				for (int l = 0; l < N; l++) {
					int32_t t = ma[i][l] * mb[l][j];

					s += ((t >> 2) & 0xf) *
					     ((t >> 5) & 0x7f);
				}
				mc[i][j] = s;
			}
		crc = crc16(crc, (uint32_t)sum_c(4000));
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				ma[i][j] = (int16_t)(ma[i][j] - k);
		sum = mix(sum, crc);
	}
	return sum;
}
