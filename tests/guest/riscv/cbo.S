/* Zicbom/Zicboz/Zicbop/Zihintpause: cbo.zero clears exactly its 64-byte
 * block, the cache-block ops are illegal below M unless menvcfg (and in U
 * senvcfg) enables them, cbo.zero needs store permission (PMP here) and
 * reports the address it was given, the envcfg fields are WARL, and the
 * prefetch and pause hints do nothing. */
#include "test.h"

#define B 0x80100000
#define CBIE (3 << 4)
#define CBCFE (1 << 6)
#define CBZE (1 << 7)

	.option arch, +zicbom, +zicboz, +zicbop, +zihintpause

/* Fill 192 bytes from B - 64 with 0xff. */
#define FILL                                                   \
	li t0, B - 64;                                         \
	li t1, -1;                                             \
	li t2, B + 128;                                        \
1:	sd t1, 0(t0);                                          \
	addi t0, t0, 8;                                        \
	bltu t0, t2, 1b

START
	/* M-mode needs no enable; an address inside the block clears the
	 * whole aligned block and nothing around it. */
	FILL
	li a1, B + 37
	cbo.zero (a1)
	li s0, B
	TEST(1, a0, 0, ld a0, 0(s0))
	TEST(2, a0, 0, ld a0, 56(s0))
	TEST(3, a0, -1, ld a0, -8(s0))
	TEST(4, a0, -1, ld a0, 64(s0))
	li a2, 0
	li a3, 0
	li t0, B
	li t2, B + 64
2:	ld t1, 0(t0)
	or a2, a2, t1
	addi t0, t0, 8
	bltu t0, t2, 2b
	CHECK(a2, 0)
	/* clean/flush/inval are no-ops in M-mode */
	li gp, 5
	li s9, -1
	cbo.clean (s0)
	cbo.flush (s0)
	cbo.inval (s0)
	CHECK(s9, -1)
	TEST(6, a0, -1, ld a0, 64(s0))
	/* hints: prefetch.* and pause are ori/fence encodings */
	li gp, 7
	prefetch.r 0(s0)
	prefetch.w 64(s0)
	prefetch.i 0(s0)
	pause
	CHECK(s9, -1)

	/* envcfg WARL: CBIE 2 is reserved and keeps the old field. */
	/* menvcfg resets to PBMTE alone (Svpbmt) */
	TEST(8, a0, 1 << 62, csrr a0, menvcfg)
	li t0, (1 << 4)
	csrw menvcfg, t0
	li t0, (2 << 4)
	csrw menvcfg, t0
	TEST(9, a0, (1 << 4), csrr a0, menvcfg)
	li t0, -1
	csrw menvcfg, t0
	TEST(10, a0, (1 << 63) | (1 << 62) | CBIE | CBCFE | CBZE | 1, csrr a0, menvcfg)
	csrw senvcfg, t0
	TEST(11, a0, CBIE | CBCFE | CBZE | 1, csrr a0, senvcfg)
	csrw menvcfg, zero
	csrw senvcfg, zero

	PMP_ALLOW_ALL
	/* S-mode, menvcfg 0: each op is illegal, the block is untouched. */
	FILL
	TO_PRIV(1)
	li s0, B
	EXPECT_TRAP(12, 2, cbo.zero (s0))
	EXPECT_TRAP(13, 2, cbo.clean (s0))
	EXPECT_TRAP(14, 2, cbo.flush (s0))
	EXPECT_TRAP(15, 2, cbo.inval (s0))
	TEST(16, a0, -1, ld a0, 0(s0))
	TO_M
	/* Each enable allows its own ops only. */
	li t0, CBZE
	csrw menvcfg, t0
	TO_PRIV(1)
	li gp, 17
	li s9, -1
	cbo.zero (s0)
	CHECK(s9, -1)
	TEST(18, a0, 0, ld a0, 8(s0))
	EXPECT_TRAP(19, 2, cbo.clean (s0))
	EXPECT_TRAP(20, 2, cbo.inval (s0))
	TO_M
	li t0, CBCFE | (1 << 4)
	csrw menvcfg, t0
	TO_PRIV(1)
	li gp, 21
	li s9, -1
	cbo.clean (s0)
	cbo.flush (s0)
	cbo.inval (s0)
	CHECK(s9, -1)
	EXPECT_TRAP(22, 2, cbo.zero (s0))
	TO_M

	/* U-mode also needs senvcfg. */
	li t0, CBZE | CBCFE | CBIE
	csrw menvcfg, t0
	TO_PRIV(0)
	EXPECT_TRAP(23, 2, cbo.zero (s0))
	EXPECT_TRAP(24, 2, cbo.flush (s0))
	TO_M
	li t0, CBZE
	csrw senvcfg, t0
	FILL
	TO_PRIV(0)
	li gp, 25
	li s9, -1
	cbo.zero (s0)
	CHECK(s9, -1)
	EXPECT_TRAP(26, 2, cbo.clean (s0))
	TO_M
	TEST(27, a0, 0, ld a0, 0(s0))

	/* Store permission: a read-only PMP page faults with the address
	 * given (store access fault, mtval = rs1), memory unchanged. */
	FILL
	li t0, ((B >> 2) | 0x1ff)
	csrw pmpaddr0, t0
	li t0, 0x19 /* NAPOT, R */
	csrw pmpcfg0, t0
	TO_PRIV(1)
	li a1, B + 9
	EXPECT_TRAP(28, 7, cbo.zero (a1))
	CHECK_REG(s10, a1)
	TEST(29, a0, -1, ld a0, 8(s0))
	/* reading is allowed: clean and flush need no write permission */
	li gp, 30
	li s9, -1
	cbo.clean (a1)
	CHECK(s9, -1)
	TO_M
	PASS
