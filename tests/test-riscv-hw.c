/* SPDX-License-Identifier: MIT */
/*
 * RISC-V device models on the harness accelerator with a deterministic
 * clock: the CLINT (msip, mtime, mtimecmp firing at the exact tick), the
 * PLIC (priorities, thresholds, enables per context, claim/complete, level
 * semantics), the SiFive test finisher reaching the VM's run state, and
 * each device's device-tree node.  Registers are accessed as a guest
 * would, with the VM lock held; interrupt lines are observed on the vCPUs
 * and on probe lines.
 */
#include <libvmcore/libvmcore.h>

#include "hw/hw-internal.h"
#include "util.h"
#include "vmc-test.h"

#if VMC_HAVE_FDT
#include <libvmcore/vmc-fdt.h>
#endif

typedef int (*rd_fn)(void *, uint64_t, unsigned int, uint64_t *);
typedef int (*wr_fn)(void *, uint64_t, unsigned int, uint64_t);

static struct vmc_loop *loop;
static struct vmc_vm *vm;

static void vm_up(unsigned int vcpus)
{
	struct vmc_vm_config c;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.vcpus = vcpus;
	c.flags = VMC_VM_DETERMINISTIC;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
}

static void vm_down(void)
{
	vm = vmc_vm_unref(vm);
	loop = vmc_loop_unref(loop);
}

static uint64_t rd(rd_fn fn, void *dev, uint64_t off, unsigned int size)
{
	uint64_t v = 0xbad;

	vmc_vm_lock(vm);
	ASSERT_OK(fn(dev, off, size, &v));
	vmc_vm_unlock(vm);
	return v;
}

static void wr(wr_fn fn, void *dev, uint64_t off, unsigned int size, uint64_t v)
{
	vmc_vm_lock(vm);
	ASSERT_OK(fn(dev, off, size, v));
	vmc_vm_unlock(vm);
}

static bool line(unsigned int vcpu, unsigned int bit)
{
	return (vmc_vcpu_get_irqs(vmc_vm_get_vcpu(vm, vcpu)) >> bit) & 1;
}

static void step(int64_t ns)
{
	ASSERT_OK(vmc_clock_step(vmc_vm_get_clock(vm), ns));
}

/* ------------------------------------------------------------------------
 * CLINT
 */

#define CRD(off, size) rd(vmc__clint_read, clint, off, size)
#define CWR(off, size, v) wr(vmc__clint_write, clint, off, size, v)

static void test_clint_config(void)
{
	struct vmc_clint_config c;
	struct vmc_clint *clint = NULL;

	vm_up(2);
	vmc_clint_config_init(NULL);
	vmc_clint_config_init(&c);
	ASSERT_EQ(c.size, sizeof(c));
	ASSERT_EQ(c.harts, 1);
	ASSERT_EQ(c.timebase_hz, 10000000);
	ASSERT_ERR(vmc_clint_new(&c, &clint), -EINVAL); /* no VM */
	c.vm = vm;
	ASSERT_ERR(vmc_clint_new(NULL, &clint), -EINVAL);
	ASSERT_ERR(vmc_clint_new(&c, NULL), -EINVAL);
	c.size = sizeof(c) - 1;
	ASSERT_ERR(vmc_clint_new(&c, &clint), -EINVAL);
	c.size = sizeof(c);
	c.harts = 0;
	ASSERT_ERR(vmc_clint_new(&c, &clint), -EINVAL);
	c.harts = 3; /* only two vCPUs */
	ASSERT_ERR(vmc_clint_new(&c, &clint), -EINVAL);
	c.harts = 1;
	c.hart_base = 2;
	ASSERT_ERR(vmc_clint_new(&c, &clint), -EINVAL);
	c.hart_base = 0;
	c.timebase_hz = 0;
	ASSERT_ERR(vmc_clint_new(&c, &clint), -EINVAL);
	c.timebase_hz = 10000000;
	c.harts = VMC_CLINT_MAX_HARTS + 1;
	ASSERT_ERR(vmc_clint_new(&c, &clint), -EINVAL);
	ASSERT_NULL(clint);
	c.harts = 2;
	ASSERT_OK(vmc_clint_new(&c, &clint));
	ASSERT_NOT_NULL(clint);
	ASSERT_EQ_U64(vmc_clint_get_mtime(NULL), 0);
	vmc_clint_free(clint);
	vmc_clint_free(NULL);
	vm_down();
}

static struct vmc_clint *clint_up(unsigned int harts, uint32_t hz)
{
	struct vmc_clint_config c;
	struct vmc_clint *clint;

	vmc_clint_config_init(&c);
	c.vm = vm;
	c.harts = harts;
	c.timebase_hz = hz;
	ASSERT_OK(vmc_clint_new(&c, &clint));
	return clint;
}

static void test_clint_msip(void)
{
	struct vmc_clint *clint;

	vm_up(2);
	clint = clint_up(2, 10000000);
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_MSIP));
	CWR(VMC_CLINT_MSIP + 4, 4, 1);
	ASSERT_TRUE(line(1, VMC_RISCV_IRQ_MSIP));
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MSIP));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MSIP + 4, 4), 1);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MSIP, 4), 0);
	/* Only bit 0 is implemented. */
	CWR(VMC_CLINT_MSIP + 4, 4, 0xfffffffe);
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_MSIP));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MSIP + 4, 4), 0);
	/* Other widths and harts that do not exist are ignored. */
	CWR(VMC_CLINT_MSIP, 8, 1);
	CWR(VMC_CLINT_MSIP, 1, 1);
	CWR(VMC_CLINT_MSIP + 8, 4, 1);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MSIP));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MSIP + 8, 4), 0);
	CWR(VMC_CLINT_MSIP, 4, 1);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_MSIP));
	/* A reset clears it. */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MSIP));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MSIP, 4), 0);
	vmc_clint_free(clint);
	vm_down();
}

static void test_clint_mtime(void)
{
	struct vmc_clint *clint;
	uint64_t t;

	vm_up(1);
	clint = clint_up(1, 10000000);
	t = CRD(VMC_CLINT_MTIME, 8);
	step(1000); /* 10 ticks at 10 MHz */
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), t + 10);
	ASSERT_EQ_U64(vmc_clint_get_mtime(clint), t + 10);
	step(99);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), t + 10);
	step(1);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), t + 11);

	/* Writes move the counter; halves are separate registers. */
	CWR(VMC_CLINT_MTIME, 8, 0x1234567800000010ull);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 4), 0x10);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME + 4, 4), 0x12345678);
	step(100);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 0x1234567800000011ull);
	CWR(VMC_CLINT_MTIME + 4, 4, 0);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 0x11);
	CWR(VMC_CLINT_MTIME, 4, 0x100);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 0x100);
	/* Misaligned or narrow accesses are ignored. */
	CWR(VMC_CLINT_MTIME + 2, 4, 0xffff);
	CWR(VMC_CLINT_MTIME, 2, 0xffff);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 0x100);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME + 4, 8), 0);

	/* A reset brings mtime back to 0. */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 0);
	step(300);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 3);
	vmc_clint_free(clint);
	vm_down();
}

static void test_clint_mtimecmp(void)
{
	struct vmc_clint *clint;
	uint64_t now;

	vm_up(2);
	clint = clint_up(2, 10000000);
	/* The reset value raises nothing. */
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIMECMP, 8), UINT64_MAX);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));

	now = CRD(VMC_CLINT_MTIME, 8);
	CWR(VMC_CLINT_MTIMECMP + 8, 8, now + 5); /* hart 1, in 500 ns */
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIMECMP + 8, 8), now + 5);
	step(499);
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_MTIP));
	step(1);
	ASSERT_TRUE(line(1, VMC_RISCV_IRQ_MTIP));
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	/* Stays high while mtime >= mtimecmp; a later compare lowers it. */
	step(1000);
	ASSERT_TRUE(line(1, VMC_RISCV_IRQ_MTIP));
	now = CRD(VMC_CLINT_MTIME, 8);
	CWR(VMC_CLINT_MTIMECMP + 8, 8, now + 1);
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_MTIP));
	step(100);
	ASSERT_TRUE(line(1, VMC_RISCV_IRQ_MTIP));

	/* A compare in the past raises at once. */
	CWR(VMC_CLINT_MTIMECMP, 8, 0);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_MTIP));

	/* 32-bit halves, high first as the privileged spec recommends. */
	now = CRD(VMC_CLINT_MTIME, 8);
	CWR(VMC_CLINT_MTIMECMP + 4, 4, 0xffffffff);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	CWR(VMC_CLINT_MTIMECMP, 4, (uint32_t)(now + 20));
	CWR(VMC_CLINT_MTIMECMP + 4, 4, (uint32_t)((now + 20) >> 32));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIMECMP, 8), now + 20);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIMECMP, 4), (uint32_t)(now + 20));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIMECMP + 4, 4), (now + 20) >> 32);
	step(1999);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	step(1);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_MTIP));

	/* Moving mtime backwards re-arms every compare. */
	CWR(VMC_CLINT_MTIME, 8, 0);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_MTIP));
	CWR(VMC_CLINT_MTIMECMP, 8, 3);
	step(299);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	step(1);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_MTIP));
	/* mtimecmp of a hart that does not exist reads 0. */
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIMECMP + 16, 8), 0);

	/* Reset: compares back to UINT64_MAX, lines low, no timer. */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIMECMP, 8), UINT64_MAX);
	ASSERT_EQ(vmc_clock_get_next_deadline(vmc_vm_get_clock(vm)), -1);
	vmc_clint_free(clint);
	vm_down();
}

/* An odd frequency: the timer must never fire before the tick. */
static void test_clint_rounding(void)
{
	struct vmc_clint *clint;

	vm_up(1);
	clint = clint_up(1, 3);
	CWR(VMC_CLINT_MTIME, 8, 0);
	CWR(VMC_CLINT_MTIMECMP, 8, 1);
	step(333333333); /* 0.999999999 ticks */
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 0);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	step(1);
	ASSERT_EQ_U64(CRD(VMC_CLINT_MTIME, 8), 1);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_MTIP));
	/* A compare too far in the future arms nothing. */
	CWR(VMC_CLINT_MTIMECMP, 8, UINT64_MAX - 1);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MTIP));
	ASSERT_EQ(vmc_clock_get_next_deadline(vmc_vm_get_clock(vm)), -1);
	vmc_clint_free(clint);
	vm_down();
}

struct probe {
	unsigned int sets;
	bool level[64];
};

static void probe_cb(void *opaque, unsigned int n, bool level)
{
	struct probe *p = opaque;

	p->sets++;
	p->level[n] = level;
}

static void test_clint_probe_lines(void)
{
	struct vmc_clint_config c;
	struct vmc_clint *clint;
	struct vmc_irq *irqs[2];
	struct probe p = {0};

	vm_up(1);
	for (unsigned int i = 0; i < 2; i++)
		ASSERT_OK(vmc_irq_new(probe_cb, &p, i, &irqs[i]));
	vmc_clint_config_init(&c);
	c.vm = vm;
	c.hart_base = 5; /* no such vCPU: fine with lines of our own */
	c.irqs = irqs;
	ASSERT_OK(vmc_clint_new(&c, &clint));
	CWR(VMC_CLINT_MSIP, 4, 1);
	ASSERT_TRUE(p.level[0]);
	CWR(VMC_CLINT_MTIMECMP, 8, 0);
	ASSERT_TRUE(p.level[1]);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MSIP));
	vmc_clint_free(clint);
	for (unsigned int i = 0; i < 2; i++)
		vmc_irq_free(irqs[i]);
	vm_down();
}

/* ------------------------------------------------------------------------
 * PLIC
 */

#define PRD(off) rd(vmc__plic_read, plic, off, 4)
#define PWR(off, v) wr(vmc__plic_write, plic, off, 4, v)
#define PRIO(src) (VMC_PLIC_PRIORITY + 4 * (src))
#define ENABLE(ctx, w)                                                         \
	(VMC_PLIC_ENABLE + VMC_PLIC_ENABLE_STRIDE * (ctx) + 4 * (w))
#define THRESHOLD(ctx) (VMC_PLIC_CONTEXT + VMC_PLIC_CONTEXT_STRIDE * (ctx))
#define CLAIM(ctx) (THRESHOLD(ctx) + 4)

static void raise_src(struct vmc_plic *plic, unsigned int src, bool level)
{
	vmc_vm_lock(vm);
	vmc_irq_set(vmc_plic_get_irq(plic, src), level);
	vmc_vm_unlock(vm);
}

static struct vmc_plic *plic_up(unsigned int harts)
{
	struct vmc_plic_config c;
	struct vmc_plic *plic;

	vmc_plic_config_init(&c);
	c.vm = vm;
	c.harts = harts;
	ASSERT_OK(vmc_plic_new(&c, &plic));
	return plic;
}

static void test_plic_config(void)
{
	struct vmc_plic_config c;
	struct vmc_plic *plic = NULL;

	vm_up(2);
	vmc_plic_config_init(NULL);
	vmc_plic_config_init(&c);
	ASSERT_EQ(c.size, sizeof(c));
	ASSERT_EQ(c.harts, 1);
	ASSERT_EQ(c.num_sources, 96);
	ASSERT_ERR(vmc_plic_new(&c, &plic), -EINVAL);
	c.vm = vm;
	ASSERT_ERR(vmc_plic_new(NULL, &plic), -EINVAL);
	ASSERT_ERR(vmc_plic_new(&c, NULL), -EINVAL);
	c.size = 8;
	ASSERT_ERR(vmc_plic_new(&c, &plic), -EINVAL);
	c.size = sizeof(c);
	c.num_sources = 1;
	ASSERT_ERR(vmc_plic_new(&c, &plic), -EINVAL);
	c.num_sources = VMC_PLIC_MAX_SOURCES + 1;
	ASSERT_ERR(vmc_plic_new(&c, &plic), -EINVAL);
	c.num_sources = 96;
	c.harts = 0;
	ASSERT_ERR(vmc_plic_new(&c, &plic), -EINVAL);
	c.harts = 3;
	ASSERT_ERR(vmc_plic_new(&c, &plic), -EINVAL);
	c.harts = VMC_PLIC_MAX_HARTS + 1;
	ASSERT_ERR(vmc_plic_new(&c, &plic), -EINVAL);
	ASSERT_NULL(plic);
	c.harts = 2;
	ASSERT_OK(vmc_plic_new(&c, &plic));
	ASSERT_EQ(vmc_plic_get_num_sources(plic), 96);
	ASSERT_EQ(vmc_plic_get_num_sources(NULL), 0);
	ASSERT_NULL(vmc_plic_get_irq(plic, 0));
	ASSERT_NULL(vmc_plic_get_irq(plic, 96));
	ASSERT_NULL(vmc_plic_get_irq(NULL, 1));
	ASSERT_NOT_NULL(vmc_plic_get_irq(plic, 95));
	vmc_plic_free(plic);
	vmc_plic_free(NULL);
	vm_down();
}

/*
 * A hart's interrupt lines have one driver: a second PLIC (or CLINT) on the
 * same harts is refused, one on other harts is not, and freeing the first
 * releases its lines.
 */
static void test_line_conflicts(void)
{
	struct vmc_plic_config pc;
	struct vmc_clint_config cc;
	struct vmc_plic *p1, *p2 = NULL;
	struct vmc_clint *c1, *c2 = NULL;
	struct vmc_irq *irq;

	vm_up(3);
	vmc_plic_config_init(&pc);
	pc.vm = vm;
	pc.harts = 2;
	ASSERT_OK(vmc_plic_new(&pc, &p1));
	ASSERT_ERR(vmc_plic_new(&pc, &p2), -EBUSY);
	pc.hart_base = 1; /* overlaps on hart 1 */
	ASSERT_ERR(vmc_plic_new(&pc, &p2), -EBUSY);
	ASSERT_NULL(p2);
	pc.hart_base = 2;
	pc.harts = 1;
	ASSERT_OK(vmc_plic_new(&pc, &p2));
	/* The refused PLICs left hart 2 alone: p2 got both its lines. */
	ASSERT_ERR(vmc_irq_new_vcpu(vmc_vm_get_vcpu(vm, 2), VMC_RISCV_IRQ_SEIP,
				    &irq),
		   -EBUSY);
	vmc_plic_free(p2);
	ASSERT_OK(vmc_irq_new_vcpu(vmc_vm_get_vcpu(vm, 2), VMC_RISCV_IRQ_SEIP,
				   &irq));
	vmc_irq_free(irq);

	/* A CLINT drives other lines of the same harts: no conflict. */
	vmc_clint_config_init(&cc);
	cc.vm = vm;
	cc.harts = 3;
	ASSERT_OK(vmc_clint_new(&cc, &c1));
	cc.harts = 1;
	cc.hart_base = 2;
	ASSERT_ERR(vmc_clint_new(&cc, &c2), -EBUSY);
	vmc_clint_free(c1);
	ASSERT_OK(vmc_clint_new(&cc, &c2));
	vmc_clint_free(c2);

	/* Freed, the first PLIC's lines can be claimed again. */
	vmc_plic_free(p1);
	pc.hart_base = 0;
	pc.harts = 3;
	ASSERT_OK(vmc_plic_new(&pc, &p1));
	vmc_plic_free(p1);
	vm_down();
}

static void test_plic_registers(void)
{
	struct vmc_plic *plic;

	vm_up(1);
	plic = plic_up(1);
	/* Priorities are 3 bits; source 0 does not exist. */
	PWR(PRIO(10), 0xff);
	ASSERT_EQ_U64(PRD(PRIO(10)), 7);
	PWR(PRIO(0), 5);
	ASSERT_EQ_U64(PRD(PRIO(0)), 0);
	PWR(PRIO(96), 5);
	ASSERT_EQ_U64(PRD(PRIO(96)), 0);
	/* Enable bits exist for sources 1..95 only. */
	PWR(ENABLE(0, 0), 0xffffffff);
	ASSERT_EQ_U64(PRD(ENABLE(0, 0)), 0xfffffffe);
	PWR(ENABLE(0, 2), 0xffffffff);
	ASSERT_EQ_U64(PRD(ENABLE(0, 2)), 0xffffffff);
	PWR(ENABLE(0, 3), 0xffffffff);
	ASSERT_EQ_U64(PRD(ENABLE(0, 3)), 0);
	PWR(ENABLE(1, 1), 0x12345678);
	ASSERT_EQ_U64(PRD(ENABLE(1, 1)), 0x12345678);
	PWR(ENABLE(2, 0), 0xffffffff); /* context 2 does not exist */
	ASSERT_EQ_U64(PRD(ENABLE(2, 0)), 0);
	PWR(THRESHOLD(1), 0x1f);
	ASSERT_EQ_U64(PRD(THRESHOLD(1)), 7);
	/* Pending bits are read-only; only 4-byte accesses count. */
	PWR(VMC_PLIC_PENDING, 0xffffffff);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 0);
	wr(vmc__plic_write, plic, PRIO(11), 2, 3);
	ASSERT_EQ_U64(PRD(PRIO(11)), 0);
	ASSERT_EQ_U64(rd(vmc__plic_read, plic, PRIO(10), 8), 0);
	ASSERT_EQ_U64(PRD(CLAIM(0)), 0);
	ASSERT_EQ_U64(PRD(THRESHOLD(2)), 0);
	/* Reset clears everything. */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_EQ_U64(PRD(PRIO(10)), 0);
	ASSERT_EQ_U64(PRD(ENABLE(0, 2)), 0);
	ASSERT_EQ_U64(PRD(THRESHOLD(1)), 0);
	vmc_plic_free(plic);
	vm_down();
}

static void test_plic_claim_complete(void)
{
	struct vmc_plic *plic;

	vm_up(2);
	plic = plic_up(2);
	/* Source 10 (the UART) to hart 0 S-mode, context 1. */
	PWR(PRIO(10), 1);
	raise_src(plic, 10, true);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 1u << 10);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_SEIP)); /* not enabled */
	PWR(ENABLE(1, 0), 1u << 10);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_SEIP));
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MEIP));
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_SEIP));

	/* Threshold: only priorities above it interrupt. */
	PWR(THRESHOLD(1), 1);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_SEIP));
	ASSERT_EQ_U64(PRD(CLAIM(1)), 0);
	PWR(PRIO(10), 2);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_SEIP));

	/* Claim gates the source until complete. */
	ASSERT_EQ_U64(PRD(CLAIM(1)), 10);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_SEIP));
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 0);
	ASSERT_EQ_U64(PRD(CLAIM(1)), 0);
	raise_src(plic, 10, false);
	raise_src(plic, 10, true); /* held by the gateway */
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 0);
	/* Completing with the input still high makes it pending again. */
	PWR(CLAIM(1), 10);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 1u << 10);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_SEIP));
	ASSERT_EQ_U64(PRD(CLAIM(1)), 10);
	raise_src(plic, 10, false);
	PWR(CLAIM(1), 10);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 0);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_SEIP));

	/* Lowering the input before a claim withdraws the request. */
	raise_src(plic, 10, true);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_SEIP));
	raise_src(plic, 10, false);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_SEIP));
	ASSERT_EQ_U64(PRD(CLAIM(1)), 0);

	/* Completing a source not enabled for the context is ignored. */
	raise_src(plic, 10, true);
	ASSERT_EQ_U64(PRD(CLAIM(1)), 10);
	PWR(CLAIM(3), 10); /* context 3 has not enabled it */
	PWR(CLAIM(1), 0);
	PWR(CLAIM(1), 200);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 0);
	PWR(CLAIM(1), 10);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 1u << 10);
	raise_src(plic, 10, false);

	/* Priority 0 never interrupts, whatever the threshold. */
	PWR(THRESHOLD(1), 0);
	PWR(PRIO(10), 0);
	raise_src(plic, 10, true);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_SEIP));
	ASSERT_EQ_U64(PRD(CLAIM(1)), 0);
	raise_src(plic, 10, false);
	vmc_plic_free(plic);
	vm_down();
}

static void test_plic_priority_and_contexts(void)
{
	struct vmc_plic *plic;

	vm_up(2);
	plic = plic_up(2);
	PWR(PRIO(3), 2);
	PWR(PRIO(40), 5);
	PWR(PRIO(70), 5);
	PWR(PRIO(95), 1);
	/* Hart 1 M-mode (context 2) takes 3, 40 and 95; hart 0 M takes 70. */
	PWR(ENABLE(2, 0), 1u << 3);
	PWR(ENABLE(2, 1), 1u << (40 - 32));
	PWR(ENABLE(2, 2), 1u << (95 - 64));
	PWR(ENABLE(0, 2), 1u << (70 - 64));
	raise_src(plic, 3, true);
	raise_src(plic, 95, true);
	ASSERT_TRUE(line(1, VMC_RISCV_IRQ_MEIP));
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MEIP));
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_SEIP));
	raise_src(plic, 40, true);
	raise_src(plic, 70, true);
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_MEIP));
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING + 4), 1u << 8);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING + 8), (1u << 6) | (1u << 31));
	/* Highest priority first, then lower. */
	ASSERT_EQ_U64(PRD(CLAIM(2)), 40);
	ASSERT_EQ_U64(PRD(CLAIM(2)), 3);
	ASSERT_EQ_U64(PRD(CLAIM(2)), 95);
	ASSERT_EQ_U64(PRD(CLAIM(2)), 0);
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_MEIP));
	ASSERT_TRUE(line(0, VMC_RISCV_IRQ_MEIP));
	ASSERT_EQ_U64(PRD(CLAIM(0)), 70);
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MEIP));

	/* Equal priorities: the lowest source number wins. */
	PWR(ENABLE(0, 1), 1u << (40 - 32));
	raise_src(plic, 40, false);
	raise_src(plic, 70, false);
	PWR(CLAIM(2), 40);
	PWR(CLAIM(0), 70);
	raise_src(plic, 70, true);
	raise_src(plic, 40, true);
	ASSERT_EQ_U64(PRD(CLAIM(0)), 40);
	ASSERT_EQ_U64(PRD(CLAIM(0)), 70);

	/* A reset drops claims and enables but re-samples input levels. */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_FALSE(line(0, VMC_RISCV_IRQ_MEIP));
	ASSERT_FALSE(line(1, VMC_RISCV_IRQ_MEIP));
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING), 1u << 3);
	ASSERT_EQ_U64(PRD(VMC_PLIC_PENDING + 4), 1u << 8);
	for (unsigned int s = 1; s < 96; s++)
		raise_src(plic, s, false);
	vmc_plic_free(plic);
	vm_down();
}

static void test_plic_probe_lines(void)
{
	struct vmc_plic_config c;
	struct vmc_plic *plic;
	struct vmc_irq *irqs[2];
	struct probe p = {0};
	unsigned int sets;

	vm_up(1);
	for (unsigned int i = 0; i < 2; i++)
		ASSERT_OK(vmc_irq_new(probe_cb, &p, i, &irqs[i]));
	vmc_plic_config_init(&c);
	c.vm = vm;
	c.irqs = irqs;
	c.num_sources = 33;
	ASSERT_OK(vmc_plic_new(&c, &plic));
	PWR(PRIO(32), 1);
	PWR(ENABLE(0, 1), 0xffffffff);
	ASSERT_EQ_U64(PRD(ENABLE(0, 1)), 1); /* only source 32 exists there */
	raise_src(plic, 32, true);
	ASSERT_TRUE(p.level[0]);
	ASSERT_FALSE(p.level[1]);
	/* The output is driven on changes only. */
	sets = p.sets;
	PWR(PRIO(32), 2);
	ASSERT_EQ(p.sets, sets);
	ASSERT_EQ_U64(PRD(CLAIM(0)), 32);
	ASSERT_FALSE(p.level[0]);
	vmc_plic_free(plic);
	for (unsigned int i = 0; i < 2; i++)
		vmc_irq_free(irqs[i]);
	vm_down();
}

/* ------------------------------------------------------------------------
 * Test finisher
 */

static void wait_state(enum vmc_vm_state want)
{
	for (int i = 0; i < 2000 && vmc_vm_get_state(vm) != want; i++) {
		ASSERT_GE(vmc_loop_run_once(loop, false), 0);
		if (vmc_vm_get_state(vm) != want)
			usleep(1000);
	}
	ASSERT_EQ(vmc_vm_get_state(vm), want);
}

static void count_reset(struct vmc_vm *v, void *userdata)
{
	(*(int *)userdata)++;
}

static void test_finisher(void)
{
	struct vmc_sifive_test_config c;
	struct vmc_sifive_test *t = NULL;
	uint64_t v;
	int resets = 0;

	vm_up(1);
	vmc_sifive_test_config_init(NULL);
	vmc_sifive_test_config_init(&c);
	ASSERT_EQ(c.size, sizeof(c));
	ASSERT_ERR(vmc_sifive_test_new(&c, &t), -EINVAL);
	c.vm = vm;
	ASSERT_ERR(vmc_sifive_test_new(NULL, &t), -EINVAL);
	ASSERT_ERR(vmc_sifive_test_new(&c, NULL), -EINVAL);
	c.size = 0;
	ASSERT_ERR(vmc_sifive_test_new(&c, &t), -EINVAL);
	c.size = sizeof(c);
	ASSERT_NULL(t);
	ASSERT_OK(vmc_sifive_test_new(&c, &t));
	ASSERT_OK(vmc_vm_add_reset_handler(vm, count_reset, &resets, NULL));
	ASSERT_OK(vmc_vm_start(vm));
	wait_state(VMC_VM_RUNNING);

	/* Unknown values, other offsets and widths do nothing. */
	wr(vmc__sifive_test_write, t, 0, 4, 0x1234);
	wr(vmc__sifive_test_write, t, 4, 4, VMC_SIFIVE_TEST_PASS);
	wr(vmc__sifive_test_write, t, 0, 1, VMC_SIFIVE_TEST_PASS);
	wr(vmc__sifive_test_write, t, 0, 8, VMC_SIFIVE_TEST_PASS);
	for (int i = 0; i < 5; i++)
		ASSERT_GE(vmc_loop_run_once(loop, false), 0);
	ASSERT_EQ(vmc_vm_get_state(vm), VMC_VM_RUNNING);
	v = rd(vmc__sifive_test_read, t, 0, 4);
	ASSERT_EQ_U64(v, 0);

	/* Pass: shutdown with status 0. */
	wr(vmc__sifive_test_write, t, 0, 4, VMC_SIFIVE_TEST_PASS);
	wait_state(VMC_VM_SHUTDOWN);
	ASSERT_EQ(vmc_vm_get_shutdown_status(vm), 0);

	/* Fail: the code in the upper half is the status. */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_EQ(resets, 1);
	ASSERT_OK(vmc_vm_resume(vm));
	wait_state(VMC_VM_RUNNING);
	wr(vmc__sifive_test_write, t, 0, 4, VMC_SIFIVE_TEST_FAIL | (42u << 16));
	wait_state(VMC_VM_SHUTDOWN);
	ASSERT_EQ(vmc_vm_get_shutdown_status(vm), 42);

	/* Reset: the reset handlers run and the VM keeps running. */
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_OK(vmc_vm_resume(vm));
	wait_state(VMC_VM_RUNNING);
	resets = 0;
	wr(vmc__sifive_test_write, t, 0, 2, VMC_SIFIVE_TEST_RESET);
	for (int i = 0; i < 2000 && resets == 0; i++) {
		ASSERT_GE(vmc_loop_run_once(loop, false), 0);
		if (!resets)
			usleep(1000);
	}
	ASSERT_EQ(resets, 1);
	wait_state(VMC_VM_RUNNING);
	ASSERT_OK(vmc_vm_pause(vm));
	vmc_sifive_test_free(t);
	vmc_sifive_test_free(NULL);
	vm_down();
}

/* ------------------------------------------------------------------------
 * Device-tree nodes
 */

#if VMC_HAVE_FDT
static const fdt32_t *cells(const void *blob, const char *path,
			    const char *name, int *len)
{
	int off = fdt_path_offset(blob, path);
	const fdt32_t *v;

	if (off < 0)
		FAIL("no node %s", path);
	v = fdt_getprop(blob, off, name, len);
	if (!v)
		FAIL("no %s in %s", name, path);
	return v;
}

static void test_fdt_nodes(void)
{
	struct vmc_clint *clint;
	struct vmc_plic *plic;
	struct vmc_sifive_test_config tc;
	struct vmc_sifive_test *t;
	struct vmc_fdt *f;
	uint32_t intc[2], plic_ph;
	const void *blob;
	const fdt32_t *c;
	int len, off;

	vm_up(2);
	clint = clint_up(2, 10000000);
	plic = plic_up(2);
	vmc_sifive_test_config_init(&tc);
	tc.vm = vm;
	ASSERT_OK(vmc_sifive_test_new(&tc, &t));

	ASSERT_OK(vmc_fdt_begin(&f));
	ASSERT_ERR(vmc_clint_fdt_add(clint, f, 0x2000000, intc), -ENOENT);
	ASSERT_OK(vmc_fdt_add_board(f, "riscv-virtio,qemu", "riscv-virtio"));
	ASSERT_OK(vmc_fdt_add_riscv_cpus(f, 2, 10000000, "rv64imac",
					 "riscv,sv48", intc));
	ASSERT_ERR(vmc_clint_fdt_add(NULL, f, 0x2000000, intc), -EINVAL);
	ASSERT_ERR(vmc_plic_fdt_add(plic, f, 0xc000000, NULL, NULL), -EINVAL);
	ASSERT_ERR(vmc_sifive_test_fdt_add(t, NULL, 0x100000), -EINVAL);
	ASSERT_OK(vmc_clint_fdt_add(clint, f, 0x2000000, intc));
	ASSERT_ERR(vmc_clint_fdt_add(clint, f, 0x2000000, intc), -EEXIST);
	ASSERT_OK(vmc_plic_fdt_add(plic, f, 0xc000000, intc, &plic_ph));
	ASSERT_OK(vmc_sifive_test_fdt_add(t, f, 0x100000));
	ASSERT_OK(vmc_fdt_finish(f, NULL));
	blob = vmc_fdt_get_blob(f);
	ASSERT_EQ(fdt_check_full(blob, fdt_totalsize(blob)), 0);

	off = fdt_path_offset(blob, "/soc/clint@2000000");
	ASSERT_EQ(fdt_node_check_compatible(blob, off, "sifive,clint0"), 0);
	ASSERT_EQ(fdt_node_check_compatible(blob, off, "riscv,clint0"), 0);
	c = cells(blob, "/soc/clint@2000000", "reg", &len);
	ASSERT_EQ(len, 16);
	ASSERT_EQ_U64(fdt32_to_cpu(c[1]), 0x2000000);
	ASSERT_EQ_U64(fdt32_to_cpu(c[3]), 0x10000);
	c = cells(blob, "/soc/clint@2000000", "interrupts-extended", &len);
	ASSERT_EQ(len, 2 * 4 * 4);
	ASSERT_EQ(fdt32_to_cpu(c[0]), intc[0]);
	ASSERT_EQ(fdt32_to_cpu(c[1]), 3);
	ASSERT_EQ(fdt32_to_cpu(c[2]), intc[0]);
	ASSERT_EQ(fdt32_to_cpu(c[3]), 7);
	ASSERT_EQ(fdt32_to_cpu(c[4]), intc[1]);
	ASSERT_EQ(fdt32_to_cpu(c[7]), 7);

	off = fdt_path_offset(blob, "/soc/plic@c000000");
	ASSERT_EQ(fdt_get_phandle(blob, off), plic_ph);
	ASSERT_EQ(fdt_node_check_compatible(blob, off, "sifive,plic-1.0.0"), 0);
	ASSERT_EQ(fdt_node_check_compatible(blob, off, "riscv,plic0"), 0);
	ASSERT_NOT_NULL(fdt_getprop(blob, off, "interrupt-controller", &len));
	c = cells(blob, "/soc/plic@c000000", "riscv,ndev", &len);
	ASSERT_EQ(fdt32_to_cpu(c[0]), 95);
	c = cells(blob, "/soc/plic@c000000", "#interrupt-cells", &len);
	ASSERT_EQ(fdt32_to_cpu(c[0]), 1);
	c = cells(blob, "/soc/plic@c000000", "reg", &len);
	ASSERT_EQ_U64(fdt32_to_cpu(c[3]), 0x200000 + 4 * 0x1000);
	c = cells(blob, "/soc/plic@c000000", "interrupts-extended", &len);
	ASSERT_EQ(len, 4 * 2 * 4);
	ASSERT_EQ(fdt32_to_cpu(c[0]), intc[0]);
	ASSERT_EQ(fdt32_to_cpu(c[1]), 11);
	ASSERT_EQ(fdt32_to_cpu(c[3]), 9);
	ASSERT_EQ(fdt32_to_cpu(c[4]), intc[1]);
	ASSERT_EQ(fdt32_to_cpu(c[5]), 11);

	off = fdt_path_offset(blob, "/soc/test@100000");
	ASSERT_EQ(fdt_node_check_compatible(blob, off, "sifive,test0"), 0);
	ASSERT_EQ(fdt_node_check_compatible(blob, off, "syscon"), 0);
	c = cells(blob, "/poweroff", "regmap", &len);
	ASSERT_EQ(fdt32_to_cpu(c[0]), fdt_get_phandle(blob, off));
	c = cells(blob, "/poweroff", "value", &len);
	ASSERT_EQ(fdt32_to_cpu(c[0]), 0x5555);
	c = cells(blob, "/reboot", "value", &len);
	ASSERT_EQ(fdt32_to_cpu(c[0]), 0x7777);
	ASSERT_EQ(fdt_node_check_compatible(blob,
					    fdt_path_offset(blob, "/reboot"),
					    "syscon-reboot"),
		  0);

	vmc_fdt_free(f);
	vmc_sifive_test_free(t);
	vmc_plic_free(plic);
	vmc_clint_free(clint);
	vm_down();
}
#endif

int main(void)
{
	RUN(test_clint_config);
	RUN(test_clint_msip);
	RUN(test_clint_mtime);
	RUN(test_clint_mtimecmp);
	RUN(test_clint_rounding);
	RUN(test_clint_probe_lines);
	RUN(test_plic_config);
	RUN(test_line_conflicts);
	RUN(test_plic_registers);
	RUN(test_plic_claim_complete);
	RUN(test_plic_priority_and_contexts);
	RUN(test_plic_probe_lines);
	RUN(test_finisher);
#if VMC_HAVE_FDT
	RUN(test_fdt_nodes);
#endif
	return 0;
}
