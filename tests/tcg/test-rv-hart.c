/* SPDX-License-Identifier: MIT */
/*
 * The hart's interface: exact instruction budgets, exit requests and
 * interrupt lines from other threads, WFI halting and has_work, single
 * step, breakpoints, watchpoints, trap-loop detection, register and CSR
 * access, and two harts on two threads sharing memory (AMOs, LR/SC and
 * code invalidation across harts).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "vmc-test.h"

#define RAM 0x80000000ull
#define RAM_SIZE 0x100000ull

static uint8_t *ram;

static bool ram_lookup(void *opaque, uint64_t pa, struct vmc__rv_bus_map *ret)
{
	*ret = (struct vmc__rv_bus_map){0};
	if (pa < RAM || pa - RAM >= RAM_SIZE)
		return false;
	ret->start = RAM;
	ret->end = RAM + RAM_SIZE;
	ret->host = ram;
	return true;
}

static int io_read(void *opaque, const void *io, uint64_t pa, unsigned size,
		   uint64_t *val)
{
	return -1;
}

static int io_write(void *opaque, const void *io, uint64_t pa, unsigned size,
		    uint64_t val)
{
	return -1;
}

/* vmc__rv_config.jit of the harts new_hart() makes. */
static int hart_jit = VMC__RV_JIT_DEFAULT;

static struct vmc__rv_hart *new_hart(struct vmc__rv_shared *sh, uint64_t id)
{
	struct vmc__rv_config cfg = {
		.hartid = id,
		.bus = {.ram_lookup = ram_lookup,
			.io_read = io_read,
			.io_write = io_write},
		.shared = sh,
		.jit = hart_jit,
		.jit_hot = 1,
	};
	struct vmc__rv_hart *h = NULL;

	ASSERT_OK(vmc__rv_hart_new(&cfg, &h));
	return h;
}

static uint32_t r_type(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3,
		       unsigned rd, unsigned op)
{
	return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t addi(unsigned rd, unsigned rs1, int imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13;
}

static uint32_t jal(unsigned rd, int off)
{
	uint32_t u = (uint32_t)off;

	return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 |
	       ((u >> 11) & 1) << 20 | ((u >> 12) & 0xff) << 12 | rd << 7 |
	       0x6f;
}

static uint32_t bne(unsigned rs1, unsigned rs2, int off)
{
	uint32_t u = (uint32_t)off;

	return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 |
	       rs1 << 15 | 1 << 12 | ((u >> 1) & 15) << 8 |
	       ((u >> 11) & 1) << 7 | 0x63;
}

#define WFI 0x10500073u
#define SD(rs2, rs1) (r_type(0, rs2, rs1, 3, 0, 0x23))
#define JALR(rd, rs1) (((rs1) << 15) | ((rd) << 7) | 0x67)

static void put(uint64_t addr, const uint32_t *w, unsigned n)
{
	memcpy(ram + (addr - RAM), w, n * 4);
}

/* x1 counts up forever. */
static void load_loop(void)
{
	uint32_t code[] = {addi(1, 1, 1), jal(0, -4)};

	put(RAM, code, 2);
}

static void test_budget(void)
{
	struct vmc__rv_hart *h = new_hart(NULL, 0);
	uint64_t n = 0, v;

	load_loop();
	vmc__rv_hart_reset(h, RAM);
	ASSERT_EQ(vmc__rv_run(h, 12345, &n), VMC__RV_EXIT_BUDGET);
	ASSERT_EQ(n, 12345);
	/* Each loop iteration is two instructions. */
	ASSERT_EQ(vmc__rv_get_gpr(h, 1), 6173);
	ASSERT_EQ(vmc__rv_run(h, 1, &n), VMC__RV_EXIT_BUDGET);
	ASSERT_EQ(n, 12346);
	ASSERT_EQ(vmc__rv_run(h, 0, &n), VMC__RV_EXIT_BUDGET);
	ASSERT_EQ(n, 12346);
	ASSERT_OK(vmc__rv_get_csr(h, 0xb02, &v));
	ASSERT_EQ(v, 12346);
	ASSERT_EQ(vmc__rv_get_retired(h), 12346);
	ASSERT_OK(vmc__rv_set_csr(h, 0xb02, 5));
	ASSERT_OK(vmc__rv_get_csr(h, 0xb02, &v));
	ASSERT_EQ(v, 5);
	ASSERT_ERR(vmc__rv_get_csr(h, 0x7b0, &v), -EINVAL);
	ASSERT_ERR(vmc__rv_set_csr(h, 0xf14, 1), -EINVAL);
	ASSERT_ERR(vmc__rv_get_csr(h, 0x1000, &v), -EINVAL);
	vmc__rv_set_gpr(h, 0, 5);
	ASSERT_EQ(vmc__rv_get_gpr(h, 0), 0);
	vmc__rv_set_priv(h, VMC__RV_PRIV_S);
	ASSERT_EQ(vmc__rv_get_priv(h), VMC__RV_PRIV_S);
	vmc__rv_set_priv(h, 2);
	ASSERT_EQ(vmc__rv_get_priv(h), VMC__RV_PRIV_S);
	vmc__rv_hart_free(h);
}

struct kicker {
	struct vmc__rv_hart *h;
	int what;
};

static void *kick_thread(void *arg)
{
	struct kicker *k = arg;
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
	if (k->what == 0)
		vmc__rv_request_exit(k->h);
	else
		vmc__rv_set_irq(k->h, VMC__RV_IRQ_MTI, true);
	return NULL;
}

static uint32_t i_type(int imm, unsigned rs1, unsigned f3, unsigned rd,
		       unsigned op)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 |
	       op;
}

/* Instruction pairs the executor fuses give the results of the two
 * instructions, and a budget can stop between the two. */
static void test_fused_pairs(void)
{
	struct vmc__rv_hart *h = new_hart(NULL, 0);
	const uint64_t x6 = 0xfedcba9876543210ull;
	uint32_t code[] = {
		i_type(32, 6, 1, 5, 0x13),	 /* slli x5, x6, 32 */
		i_type(32, 5, 5, 5, 0x13),	 /* srli x5, x5, 32 */
		r_type(0, 7, 5, 0, 5, 0x33),	 /* add x5, x5, x7 */
		i_type(3, 6, 1, 8, 0x13),	 /* slli x8, x6, 3 */
		r_type(0, 8, 9, 0, 8, 0x33),	 /* add x8, x9, x8 */
		0x12345u << 12 | 10 << 7 | 0x37, /* lui x10, 0x12345 */
		addi(10, 10, -1),
		1u << 12 | 11 << 7 | 0x17, /* auipc x11, 1 */
		addi(11, 11, 16),
		0x80000u << 12 | 12 << 7 | 0x37, /* lui x12, 0x80000 */
		i_type(-1, 12, 0, 12, 0x1b),	 /* addiw x12, x12, -1 */
		i_type(32, 6, 1, 13, 0x13),	 /* slli x13, x6, 32 */
		i_type(32, 14, 5, 13, 0x13), /* srli x13, x14, 32: no pair */
		WFI,
	};
	uint64_t n = 0, r0;

	put(RAM, code, sizeof(code) / 4);
	for (unsigned stop = 0; stop <= 13; stop++) {
		vmc__rv_hart_reset(h, RAM);
		vmc__rv_set_gpr(h, 6, x6);
		vmc__rv_set_gpr(h, 7, 0x1000);
		vmc__rv_set_gpr(h, 9, 5);
		vmc__rv_set_gpr(h, 14, 0xffffffff00000007ull);
		r0 = vmc__rv_get_retired(h);
		n = 0;
		/* Stop after `stop` instructions, then run the rest. */
		ASSERT_EQ(vmc__rv_run(h, stop, &n), VMC__RV_EXIT_BUDGET);
		ASSERT_EQ(n, stop);
		ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 4 * stop);
		if (stop == 1)
			ASSERT_EQ_U64(vmc__rv_get_gpr(h, 5), x6 << 32);
		if (stop == 6)
			ASSERT_EQ_U64(vmc__rv_get_gpr(h, 10), 0x12345000ull);
		/* The rest runs as one block, with the pairs fused. */
		ASSERT_EQ(vmc__rv_run(h, 1000, &n), VMC__RV_EXIT_HALTED);
		ASSERT_EQ(n, 14);
		ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 56);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 5), 0x76544210ull);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 8), 5 + (x6 << 3));
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 10), 0x12344fffull);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 11), RAM + 28 + 0x1010);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 12), 0x7fffffffull);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 13), 0xffffffffull);
		ASSERT_EQ(vmc__rv_get_retired(h) - r0, 14);
	}
	vmc__rv_hart_free(h);
}

/* Loops closed by a branch on the counter just added to (fused with the
 * add) run, exit and stop on a budget like the two instructions. */
static void test_fused_loops(void)
{
	struct vmc__rv_hart *h = new_hart(NULL, 0);
	uint32_t code[] = {
		addi(5, 5, 1),
		bne(6, 5, -4),		     /* operands swapped */
		r_type(0, 8, 7, 0, 7, 0x3b), /* addw x7, x7, x8 */
		r_type(0, 9, 7, 6, 0, 0x63) | 0xfe000e80u, /* bltu x7, x9, -4 */
		/* The first instruction reads the counter of the iteration
		 * before: fused add and branch, then a plain branch. */
		i_type(1, 11, 1, 10, 0x13),	/* slli x10, x11, 1 */
		r_type(0, 10, 12, 0, 12, 0x33), /* add x12, x12, x10 */
		addi(11, 11, 1),
		bne(11, 13, -12),
		r_type(0, 16, 17, 0, 16, 0x33), /* add x16, x17, x16 */
		addi(17, 17, 1),
		r_type(0, 17, 18, 7, 0, 0x63) | 0xfe000c80u, /* bgeu x18, x17 */
		/* Here the first instruction reads another register. */
		r_type(0, 20, 19, 0, 19, 0x33), /* add x19, x19, x20 */
		addi(20, 20, 1),
		bne(20, 21, -8),
		/* The counter's add moves down to the branch past two
		 * instructions, then one that reads the counter keeps it. */
		addi(22, 22, 1),
		r_type(0, 24, 23, 0, 23, 0x33), /* add x23, x23, x24 */
		i_type(1, 23, 1, 25, 0x13),	/* slli x25, x23, 1 */
		bne(22, 26, -12),
		addi(27, 27, 1),
		r_type(0, 27, 28, 0, 28, 0x33), /* add x28, x28, x27 */
		bne(27, 29, -8),
		WFI,
	};
	static const unsigned stops[] = {0,   1,   2,	3,   57,  199, 200,
					 201, 219, 220, 221, 230, 261, 275,
					 290, 297, 306, 310, 321, 330, 331};
	uint64_t n, r0;

	put(RAM, code, sizeof(code) / 4);
	for (unsigned k = 0; k < sizeof(stops) / sizeof(stops[0]); k++) {
		unsigned stop = stops[k];

		vmc__rv_hart_reset(h, RAM);
		vmc__rv_set_gpr(h, 6, 100);
		vmc__rv_set_gpr(h, 8, 3);
		vmc__rv_set_gpr(h, 9, 30);
		vmc__rv_set_gpr(h, 13, 10);
		vmc__rv_set_gpr(h, 18, 9);
		vmc__rv_set_gpr(h, 19, 100);
		vmc__rv_set_gpr(h, 21, 5);
		vmc__rv_set_gpr(h, 24, 5);
		vmc__rv_set_gpr(h, 26, 4);
		vmc__rv_set_gpr(h, 29, 3);
		r0 = vmc__rv_get_retired(h);
		n = 0;
		if (stop < 331) {
			ASSERT_EQ(vmc__rv_run(h, stop, &n),
				  VMC__RV_EXIT_BUDGET);
			ASSERT_EQ(n, stop);
		}
		if (stop == 57) {
			ASSERT_EQ_U64(vmc__rv_get_gpr(h, 5), 29);
			ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 4);
		}
		if (stop == 201) {
			ASSERT_EQ_U64(vmc__rv_get_gpr(h, 7), 3);
			ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 12);
		}
		ASSERT_EQ(vmc__rv_run(h, 1000, &n), VMC__RV_EXIT_HALTED);
		ASSERT_EQ(n, 331);
		ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 88);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 22), 4);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 23), 20);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 25), 40);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 27), 3);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 28), 6);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 19), 110);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 5), 100);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 7), 30);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 11), 10);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 12), 90);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 16), 45);
		ASSERT_EQ_U64(vmc__rv_get_gpr(h, 17), 10);
		ASSERT_EQ(vmc__rv_get_retired(h) - r0, 331);
	}
	vmc__rv_hart_free(h);
}

static void test_exit_and_irq_from_thread(void)
{
	struct vmc__rv_hart *h = new_hart(NULL, 0);
	struct kicker k = {h, 0};
	pthread_t t;
	uint64_t n = 0;

	load_loop();
	vmc__rv_hart_reset(h, RAM);
	pthread_create(&t, NULL, kick_thread, &k);
	ASSERT_EQ(vmc__rv_run(h, ~0ull, &n), VMC__RV_EXIT_REQUEST);
	pthread_join(t, NULL);
	ASSERT_GT(n, 0);

	/* An interrupt line raised by another thread is taken. */
	ASSERT_OK(vmc__rv_set_csr(h, 0x305, RAM + 0x100));
	ASSERT_OK(vmc__rv_set_csr(h, 0x304, 1 << VMC__RV_IRQ_MTI));
	ASSERT_OK(vmc__rv_set_csr(h, 0x300, 8));
	{
		uint32_t spin = jal(0, 0);

		put(RAM + 0x100, &spin, 1);
	}
	k.what = 1;
	pthread_create(&t, NULL, kick_thread, &k);
	while (vmc__rv_get_pc(h) != RAM + 0x100)
		ASSERT_EQ(vmc__rv_run(h, 100000, &n), VMC__RV_EXIT_BUDGET);
	pthread_join(t, NULL);
	{
		uint64_t cause;

		ASSERT_OK(vmc__rv_get_csr(h, 0x342, &cause));
		ASSERT_EQ_U64(cause, (1ull << 63) | VMC__RV_IRQ_MTI);
	}
	vmc__rv_hart_free(h);
}

static void test_wfi(void)
{
	struct vmc__rv_hart *h = new_hart(NULL, 0);
	uint32_t code[] = {WFI, addi(1, 0, 7), jal(0, 0)};
	uint64_t n = 0;

	put(RAM, code, 3);
	vmc__rv_hart_reset(h, RAM);
	ASSERT_EQ(vmc__rv_run(h, 100, &n), VMC__RV_EXIT_HALTED);
	ASSERT_EQ(n, 1);
	ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 4);
	ASSERT_FALSE(vmc__rv_has_work(h));
	/* Pending but not enabled: still no work. */
	vmc__rv_set_irq(h, VMC__RV_IRQ_MEI, true);
	ASSERT_FALSE(vmc__rv_has_work(h));
	/* Enabled, global enable off: work (the WFI wake-up rule). */
	ASSERT_OK(vmc__rv_set_csr(h, 0x304, 1 << VMC__RV_IRQ_MEI));
	ASSERT_TRUE(vmc__rv_has_work(h));
	ASSERT_EQ(vmc__rv_run(h, 2, &n), VMC__RV_EXIT_BUDGET);
	ASSERT_EQ(vmc__rv_get_gpr(h, 1), 7);
	/* WFI with work pending does not halt. */
	vmc__rv_hart_reset(h, RAM);
	ASSERT_OK(vmc__rv_set_csr(h, 0x304, 1 << VMC__RV_IRQ_MEI));
	ASSERT_EQ(vmc__rv_run(h, 2, &n), VMC__RV_EXIT_BUDGET);
	vmc__rv_set_irq(h, VMC__RV_IRQ_MEI, false);
	vmc__rv_hart_free(h);
}

static void test_debug(void)
{
	struct vmc__rv_hart *h = new_hart(NULL, 0);
	uint64_t n = 0, addr = 0;
	bool w = false;

	load_loop();
	vmc__rv_hart_reset(h, RAM);
	vmc__rv_set_single_step(h, true);
	for (int i = 0; i < 5; i++) {
		n = 0;
		ASSERT_EQ(vmc__rv_run(h, 100, &n), VMC__RV_EXIT_DEBUG);
		ASSERT_EQ(n, 1);
	}
	ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 4);
	/* A pending interrupt is taken first; the step stops at the
	 * handler's first instruction. */
	ASSERT_OK(vmc__rv_set_csr(h, 0x305, RAM + 0x200));
	ASSERT_OK(vmc__rv_set_csr(h, 0x304, 1 << VMC__RV_IRQ_MSI));
	ASSERT_OK(vmc__rv_set_csr(h, 0x300, 8));
	vmc__rv_set_irq(h, VMC__RV_IRQ_MSI, true);
	n = 0;
	ASSERT_EQ(vmc__rv_run(h, 100, &n), VMC__RV_EXIT_DEBUG);
	ASSERT_EQ(n, 0);
	ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 0x200);
	vmc__rv_set_irq(h, VMC__RV_IRQ_MSI, false);
	vmc__rv_set_single_step(h, false);

	/* Breakpoint. */
	vmc__rv_hart_reset(h, RAM);
	ASSERT_OK(vmc__rv_add_breakpoint(h, RAM + 4));
	ASSERT_ERR(vmc__rv_add_breakpoint(h, RAM + 4), -EEXIST);
	ASSERT_EQ(vmc__rv_run(h, 100, NULL), VMC__RV_EXIT_DEBUG);
	ASSERT_EQ_U64(vmc__rv_get_pc(h), RAM + 4);
	ASSERT_EQ(vmc__rv_get_gpr(h, 1), 1);
	ASSERT_OK(vmc__rv_remove_breakpoint(h, RAM + 4));
	ASSERT_ERR(vmc__rv_remove_breakpoint(h, RAM + 4), -ENOENT);
	ASSERT_EQ(vmc__rv_run(h, 100, NULL), VMC__RV_EXIT_BUDGET);

	/* Watchpoint on a store. */
	{
		uint32_t code[] = {SD(1, 2), addi(1, 1, 1), jal(0, -8)};

		put(RAM, code, 3);
	}
	vmc__rv_hart_reset(h, RAM);
	vmc__rv_set_gpr(h, 2, RAM + 0x800);
	ASSERT_OK(vmc__rv_add_watchpoint(h, RAM + 0x804, 4, false, true));
	ASSERT_ERR(vmc__rv_add_watchpoint(h, RAM, 0, true, true), -EINVAL);
	ASSERT_EQ(vmc__rv_run(h, 100, NULL), VMC__RV_EXIT_DEBUG);
	ASSERT_TRUE(vmc__rv_get_watch_hit(h, &addr, &w));
	ASSERT_EQ_U64(addr, RAM + 0x800);
	ASSERT_TRUE(w);
	ASSERT_OK(vmc__rv_remove_watchpoint(h, RAM + 0x804, 4));
	vmc__rv_hart_free(h);
}

static void test_trap_loop(void)
{
	struct vmc__rv_hart *h = new_hart(NULL, 0);

	vmc__rv_hart_reset(h, 0x1000); /* nothing there, mtvec = 0 */
	ASSERT_EQ(vmc__rv_run(h, 1000, NULL), VMC__RV_EXIT_FATAL);
	vmc__rv_hart_free(h);
}

#define N_ITER 20000

struct runner {
	struct vmc__rv_hart *h;
	int reason;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->reason = vmc__rv_run(r->h, ~0ull, NULL);
	return NULL;
}

static void test_two_harts(void)
{
	struct vmc__rv_shared *sh = NULL;
	struct runner r[2];
	pthread_t t[2];
	uint64_t c1 = RAM + 0x8000, c2 = RAM + 0x8008;
	long iters = vmc_test_scale(N_ITER);
	uint32_t code[] = {
		/* 0: */ r_type(0, 5, 3, 3, 0,
				0x2f), /* amoadd.d x0, x5, (x3) */
		/* 4: */ r_type(2 << 2, 0, 4, 3, 6, 0x2f), /* lr.d x6, (x4) */
		/* 8: */ addi(6, 6, 1),
		/* c: */ r_type(3 << 2, 6, 4, 3, 7, 0x2f), /* sc.d x7, x6, (x4)
							    */
		/* 10: */ bne(7, 0, -12),
		/* 14: */ addi(1, 1, -1),
		/* 18: */ bne(1, 0, -24),
		/* 1c: */ WFI,
	};

	ASSERT_OK(vmc__rv_shared_new(&sh));
	memset(ram, 0, RAM_SIZE);
	put(RAM, code, 8);
	for (int i = 0; i < 2; i++) {
		r[i].h = new_hart(sh, (uint64_t)i);
		vmc__rv_hart_reset(r[i].h, RAM);
		vmc__rv_set_gpr(r[i].h, 1, (uint64_t)iters);
		vmc__rv_set_gpr(r[i].h, 3, c1);
		vmc__rv_set_gpr(r[i].h, 4, c2);
		vmc__rv_set_gpr(r[i].h, 5, 1);
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, run_thread, &r[i]);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		ASSERT_EQ(r[i].reason, VMC__RV_EXIT_HALTED);
	}
	{
		uint64_t v1, v2, id;

		memcpy(&v1, ram + (c1 - RAM), 8);
		memcpy(&v2, ram + (c2 - RAM), 8);
		ASSERT_EQ(v1, 2 * iters);
		ASSERT_EQ(v2, 2 * iters);
		ASSERT_OK(vmc__rv_get_csr(r[1].h, 0xf14, &id));
		ASSERT_EQ(id, 1);
	}

	/* Code cached by hart 0 and rewritten by hart 1 is seen by hart 0. */
	{
		uint32_t fn[] = {addi(10, 0, 1), JALR(0, 1)};
		uint32_t main0[] = {jal(1, 0x100 - 0x40), WFI};
		uint32_t main1[] = {SD(6, 5), WFI};
		uint32_t patched[] = {addi(10, 0, 2), JALR(0, 1)};
		uint64_t word;

		put(RAM + 0x100, fn, 2);
		put(RAM + 0x40, main0, 2);
		put(RAM + 0x80, main1, 2);
		vmc__rv_hart_reset(r[0].h, RAM + 0x40);
		ASSERT_EQ(vmc__rv_run(r[0].h, 100, NULL), VMC__RV_EXIT_HALTED);
		ASSERT_EQ(vmc__rv_get_gpr(r[0].h, 10), 1);
		memcpy(&word, patched, 8);
		vmc__rv_hart_reset(r[1].h, RAM + 0x80);
		vmc__rv_set_gpr(r[1].h, 5, RAM + 0x100);
		vmc__rv_set_gpr(r[1].h, 6, word);
		ASSERT_EQ(vmc__rv_run(r[1].h, 100, NULL), VMC__RV_EXIT_HALTED);
		vmc__rv_set_pc(r[0].h, RAM + 0x40);
		ASSERT_EQ(vmc__rv_run(r[0].h, 100, NULL), VMC__RV_EXIT_HALTED);
		ASSERT_EQ(vmc__rv_get_gpr(r[0].h, 10), 2);
	}
	vmc__rv_memory_map_changed(sh);
	vmc__rv_flush_all_blocks(sh);
	for (int i = 0; i < 2; i++)
		vmc__rv_hart_free(r[i].h);
	vmc__rv_shared_free(sh);
}

/*
 * Four harts running translated code (where the host translates) contend
 * on one counter with amoadd.d and on another with an lr.d/sc.d loop, and
 * on a third with amoswap.w as a spin lock around a plain load and store:
 * no update may be lost.
 */
static void test_four_harts_translated(void)
{
	struct vmc__rv_shared *sh = NULL;
	struct runner r[4];
	pthread_t t[4];
	uint64_t c1 = RAM + 0x8000, c2 = RAM + 0x8008, lk = RAM + 0x8010;
	long iters = vmc_test_scale(N_ITER);
	uint32_t code[] = {
		/* 0: */ r_type(0, 5, 3, 3, 0,
				0x2f), /* amoadd.d x0, x5, (x3) */
		/* 4: */ r_type(2 << 2, 0, 4, 3, 6, 0x2f), /* lr.d x6, (x4) */
		/* 8: */ addi(6, 6, 1),
		/* c: */ r_type(3 << 2, 6, 4, 3, 7, 0x2f), /* sc.d x7, x6, (x4)
							    */
		/* 10: */ bne(7, 0, -12),
		/* 14: */ r_type(1 << 2 | 2, 5, 8, 2, 7, 0x2f), /* amoswap.w.aq
								   x7, x5, (x8)
								 */
		/* 18: */ bne(7, 0, -4),
		/* 1c: */ 10 << 15 | 3 << 12 | 9 << 7 | 0x03, /* ld x9, (x10) */
		/* 20: */ addi(9, 9, 1),
		/* 24: */ SD(9, 10),
		/* 28: */ r_type(1 << 2 | 1, 0, 8, 2, 0, 0x2f), /* amoswap.w.rl
								   x0, x0, (x8)
								 */
		/* 2c: */ addi(1, 1, -1),
		/* 30: */ bne(1, 0, -48),
		/* 34: */ WFI,
	};

	hart_jit = VMC__RV_JIT_ON;
	ASSERT_OK(vmc__rv_shared_new(&sh));
	memset(ram, 0, RAM_SIZE);
	put(RAM, code, sizeof(code) / 4);
	for (int i = 0; i < 4; i++) {
		r[i].h = new_hart(sh, (uint64_t)i);
		vmc__rv_hart_reset(r[i].h, RAM);
		vmc__rv_set_gpr(r[i].h, 1, (uint64_t)iters);
		vmc__rv_set_gpr(r[i].h, 3, c1);
		vmc__rv_set_gpr(r[i].h, 4, c2);
		vmc__rv_set_gpr(r[i].h, 5, 1);
		vmc__rv_set_gpr(r[i].h, 8, lk);
		vmc__rv_set_gpr(r[i].h, 10, lk + 8);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, run_thread, &r[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ASSERT_EQ(r[i].reason, VMC__RV_EXIT_HALTED);
	}
	{
		uint64_t v1, v2, v3;

		memcpy(&v1, ram + (c1 - RAM), 8);
		memcpy(&v2, ram + (c2 - RAM), 8);
		memcpy(&v3, ram + (lk + 8 - RAM), 8);
		ASSERT_EQ(v1, 4 * iters);
		ASSERT_EQ(v2, 4 * iters);
		ASSERT_EQ(v3, 4 * iters);
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(vmc__rv_get_gpr(r[i].h, 1), 0);
		vmc__rv_hart_free(r[i].h);
	}
	vmc__rv_shared_free(sh);
	hart_jit = VMC__RV_JIT_DEFAULT;
}

/*
 * Two harts share a code buffer too small for the blocks they run: the
 * translator asks for a flush of every hart's blocks (what the glue runs
 * as exclusive work), the harts go on interpreting until it is done, and
 * translating after it; the results are exact.
 */
static void test_code_buffer_full(void)
{
	struct vmc__rv_shared *sh = NULL;
	struct vmc__rv_hart *h[2];
	const unsigned nblk = 3000;
	bool asked = false;

	ASSERT_OK(vmc__rv_shared_new(&sh));
	memset(ram, 0, RAM_SIZE);
	/* nblk blocks of addi x5, x5, 1; jal x0, +4; then wfi. */
	for (unsigned k = 0; k < nblk; k++) {
		uint32_t w[2] = {addi(5, 5, 1), jal(0, 4)};

		put(RAM + 8 * k, w, 2);
	}
	{
		uint32_t w = WFI;

		put(RAM + 8 * nblk, &w, 1);
	}
	for (int i = 0; i < 2; i++) {
		struct vmc__rv_config cfg = {
			.hartid = (uint64_t)i,
			.bus = {.ram_lookup = ram_lookup,
				.io_read = io_read,
				.io_write = io_write},
			.shared = sh,
			.jit = VMC__RV_JIT_ON,
			.jit_code_size = 64 << 10,
		};

		h[i] = NULL;
		ASSERT_OK(vmc__rv_hart_new(&cfg, &h[i]));
		vmc__rv_hart_reset(h[i], RAM);
	}
	/* A block is translated on its fourth run (RV_JIT_HOT): eight
	 * rounds translate all of them and run the translations. */
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 2; i++) {
			int r;

			vmc__rv_set_pc(h[i], RAM);
			vmc__rv_set_gpr(h[i], 5, 0);
			do {
				r = vmc__rv_run(h[i], 1000, NULL);
				if (vmc__rv_jit_take_flush_request(sh)) {
					asked = true;
					vmc__rv_flush_all_blocks(sh);
				}
			} while (r == VMC__RV_EXIT_BUDGET);
			ASSERT_EQ(r, VMC__RV_EXIT_HALTED);
			ASSERT_EQ(vmc__rv_get_gpr(h[i], 5), nblk);
		}
	}
	if (vmc__rv_jit_enabled(h[0]))
		ASSERT_TRUE(asked);
	for (int i = 0; i < 2; i++)
		vmc__rv_hart_free(h[i]);
	vmc__rv_shared_free(sh);
}

static void test_errors(void)
{
	struct vmc__rv_config cfg = {0};
	struct vmc__rv_hart *h = NULL;

	ASSERT_ERR(vmc__rv_hart_new(&cfg, &h), -EINVAL);
	ASSERT_NULL(h);
}

int main(void)
{
	ram = calloc(1, RAM_SIZE);
	ASSERT_NOT_NULL(ram);
	RUN(test_budget);
	RUN(test_fused_pairs);
	RUN(test_fused_loops);
	RUN(test_exit_and_irq_from_thread);
	RUN(test_wfi);
	RUN(test_debug);
	RUN(test_trap_loop);
	RUN(test_two_harts);
	RUN(test_four_harts_translated);
	RUN(test_code_buffer_full);
	RUN(test_errors);
	free(ram);
	return 0;
}
