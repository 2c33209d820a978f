/* SPDX-License-Identifier: MIT */
/* Floating point (D): an n-body simulation (sqrt, divide) and a dense
 * LU-free Gauss-Seidel relaxation; the checksum is the raw bits. */
#include "bench.h"

const char workload_name[] = "fp";

#define NB 5

struct body {
	double x, y, z, vx, vy, vz, m;
};

static struct body bodies[NB];

static double fsqrt(double v)
{
	double r;

	__asm__("fsqrt.d %0, %1" : "=f"(r) : "f"(v));
	return r;
}

static void advance(double dt)
{
	for (int i = 0; i < NB; i++)
		for (int j = i + 1; j < NB; j++) {
			double dx = bodies[i].x - bodies[j].x;
			double dy = bodies[i].y - bodies[j].y;
			double dz = bodies[i].z - bodies[j].z;
			double d2 = dx * dx + dy * dy + dz * dz;
			double mag = dt / (d2 * fsqrt(d2));

			bodies[i].vx -= dx * bodies[j].m * mag;
			bodies[i].vy -= dy * bodies[j].m * mag;
			bodies[i].vz -= dz * bodies[j].m * mag;
			bodies[j].vx += dx * bodies[i].m * mag;
			bodies[j].vy += dy * bodies[i].m * mag;
			bodies[j].vz += dz * bodies[i].m * mag;
		}
	for (int i = 0; i < NB; i++) {
		bodies[i].x += dt * bodies[i].vx;
		bodies[i].y += dt * bodies[i].vy;
		bodies[i].z += dt * bodies[i].vz;
	}
}

static double energy(void)
{
	double e = 0;

	for (int i = 0; i < NB; i++) {
		e += 0.5 * bodies[i].m *
		     (bodies[i].vx * bodies[i].vx +
		      bodies[i].vy * bodies[i].vy +
		      bodies[i].vz * bodies[i].vz);
		for (int j = i + 1; j < NB; j++) {
			double dx = bodies[i].x - bodies[j].x;
			double dy = bodies[i].y - bodies[j].y;
			double dz = bodies[i].z - bodies[j].z;

			e -= bodies[i].m * bodies[j].m /
			     fsqrt(dx * dx + dy * dy + dz * dz);
		}
	}
	return e;
}

#define G 24
static double grid[G][G];

static uint64_t bits(double d)
{
	union {
		double d;
		uint64_t u;
	} u = {d};

	return u.u;
}

uint64_t workload(uint32_t iters)
{
	uint64_t sum = 0;

	for (int i = 0; i < NB; i++)
		bodies[i] = (struct body){
			i * 1.5 - 3.0, i * 0.25 + 0.1, (i & 1) - 0.5, 0.01 * i,
			-0.02 * i,     0.005,	       1.0 + i * 0.5};
	for (int i = 0; i < G; i++)
		for (int j = 0; j < G; j++)
			grid[i][j] = (i == 0 || j == 0) ? 1.0 : 0.0;
	for (uint32_t it = 0; it < iters; it++) {
		for (int k = 0; k < 100; k++)
			advance(0.001);
		for (int i = 1; i < G - 1; i++)
			for (int j = 1; j < G - 1; j++)
				grid[i][j] = 0.25 *
					     (grid[i - 1][j] + grid[i + 1][j] +
					      grid[i][j - 1] + grid[i][j + 1]);
		sum = mix(sum, bits(energy()) ^ bits(grid[G / 2][G / 2]));
	}
	return sum;
}
