/* Run with every switchable extension off (rv-run's EXT_OFF 0xff, as
 * -cpu rv64,zba=off,... does): each one's instructions raise illegal
 * instruction with the encoding in mtval, the hints stay harmless, and the
 * base sequences the translator fuses into Zba's ops still work. */
#include "test.h"

	.option arch, +zba, +zbb, +zbc, +zbs, +zicbom, +zicboz, +zicbop, +zihintpause

#define ILL(n, enc, ...)                                       \
	EXPECT_TRAP(n, 2, __VA_ARGS__);                        \
	CHECK(s10, enc)

START
	li a0, 0x80100000
	li a1, 0x1234
	li a2, 5
	ILL(1, 0x08c5853b, add.uw a0, a1, a2)
	ILL(2, 0x20c5a533, sh1add a0, a1, a2)
	ILL(3, 0x0855951b, slli.uw a0, a1, 5)
	ILL(4, 0x60059513, clz a0, a1)
	ILL(5, 0x6b85d513, rev8 a0, a1)
	ILL(6, 0x40c5f533, andn a0, a1, a2)
	ILL(7, 0x60c5d53b, rorw a0, a1, a2)
	ILL(8, 0x0ac59533, clmul a0, a1, a2)
	ILL(9, 0x28559513, bseti a0, a1, 5)
	ILL(10, 0x48c5d533, bext a0, a1, a2)
	ILL(11, 0x0ec5d533, .insn r 0x33, 5, 7, a0, a1, a2)
	li a0, 0x80100000
	ILL(12, 0x0025200f, cbo.flush (a0))
	ILL(13, 0x0045200f, cbo.zero (a0))
	/* the destination was never written */
	CHECK(a0, 0x80100000)
	/* hints */
	li gp, 14
	li s9, -1
	prefetch.w 0(a0)
	pause
	CHECK(s9, -1)
	/* zext.w + add, fused by the translator, is base RV64I */
	li a1, -3
	li a2, 1
	slli a3, a1, 32
	srli a3, a3, 32
	add a3, a3, a2
	CHECK(a3, 0xfffffffe)
	slli a4, a1, 3
	add a4, a4, a2
	CHECK(a4, -23)
	CHECK(s9, -1)
	/* without Svpbmt, menvcfg.PBMTE is clear and read-only 0 */
	TEST(16, a0, 0, csrr a0, menvcfg; srli a0, a0, 62)
	TEST(15, a0, 0, li a1, 1 << 62; csrs menvcfg, a1; csrr a0, menvcfg; srli a0, a0, 62)
	PASS
