/* SPDX-License-Identifier: MIT */
/* A few RV64 instruction encoders for tests that build tiny guests. */
#ifndef VMC_TEST_RV_ASM_H
#define VMC_TEST_RV_ASM_H

#include <stdint.h>

enum {
	RV_ZERO = 0,
	RV_T0 = 5,
	RV_T1 = 6,
	RV_T2 = 7,
	RV_S0 = 8,
	RV_S1 = 9,
	RV_A0 = 10,
	RV_A1 = 11,
	RV_T3 = 28
};

static inline uint32_t rv_i(unsigned op, unsigned f3, unsigned rd, unsigned rs1,
			    int32_t imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 |
	       op;
}
static inline uint32_t rv_addi(unsigned rd, unsigned rs1, int32_t imm)
{
	return rv_i(0x13, 0, rd, rs1, imm);
}
static inline uint32_t rv_add(unsigned rd, unsigned rs1, unsigned rs2)
{
	return rs2 << 20 | rs1 << 15 | rd << 7 | 0x33;
}
static inline uint32_t rv_lui(unsigned rd, uint32_t imm20)
{
	return imm20 << 12 | rd << 7 | 0x37;
}
static inline uint32_t rv_auipc(unsigned rd, uint32_t imm20)
{
	return imm20 << 12 | rd << 7 | 0x17;
}
static inline uint32_t rv_sd(unsigned rs2, unsigned rs1, int32_t imm)
{
	uint32_t u = (uint32_t)imm;

	return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | 3 << 12 |
	       (u & 0x1f) << 7 | 0x23;
}
static inline uint32_t rv_bne(unsigned rs1, unsigned rs2, int32_t off)
{
	uint32_t u = (uint32_t)off;

	return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 |
	       rs1 << 15 | 1 << 12 | ((u >> 1) & 0xf) << 8 |
	       ((u >> 11) & 1) << 7 | 0x63;
}
static inline uint32_t rv_jal(unsigned rd, int32_t off)
{
	uint32_t u = (uint32_t)off;

	return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 |
	       ((u >> 11) & 1) << 20 | ((u >> 12) & 0xff) << 12 | rd << 7 |
	       0x6f;
}
static inline uint32_t rv_csrrw(unsigned rd, unsigned csr, unsigned rs1)
{
	return csr << 20 | rs1 << 15 | 1 << 12 | rd << 7 | 0x73;
}
#define RV_WFI 0x10500073u

#endif
