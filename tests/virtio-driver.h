/* SPDX-License-Identifier: MIT */
/*
 * A virtio driver played by a test on the harness accelerator, shared by
 * the virtio tests: a harness VM with RAM and an interrupt line, guest
 * memory and virtio-mmio register accessors, and split-ring set-up and
 * use.  Every function is static; a test program includes this once.
 */
#ifndef VMC_TEST_VIRTIO_DRIVER_H
#define VMC_TEST_VIRTIO_DRIVER_H

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x100000ull
#define DEV_BASE 0x10001000ull

/* Where the test driver puts its rings (queue q at + q * 0x4000). */
#define DESC_GPA (RAM_BASE + 0x1000)
#define AVAIL_GPA (RAM_BASE + 0x2000)
#define USED_GPA (RAM_BASE + 0x3000)
#define BUF_GPA (RAM_BASE + 0x40000)
#define LEGACY_PFN_GPA (RAM_BASE + 0x10000)

enum {
	R_MAGIC = 0x000,
	R_VERSION = 0x004,
	R_DEVICE_ID = 0x008,
	R_VENDOR = 0x00c,
	R_DEV_FEAT = 0x010,
	R_DEV_FEAT_SEL = 0x014,
	R_DRV_FEAT = 0x020,
	R_DRV_FEAT_SEL = 0x024,
	R_PAGE_SIZE = 0x028,
	R_QSEL = 0x030,
	R_QNUM_MAX = 0x034,
	R_QNUM = 0x038,
	R_QALIGN = 0x03c,
	R_QPFN = 0x040,
	R_QREADY = 0x044,
	R_NOTIFY = 0x050,
	R_ISR = 0x060,
	R_ACK = 0x064,
	R_STATUS = 0x070,
	R_DESC_LO = 0x080,
	R_DESC_HI = 0x084,
	R_AVAIL_LO = 0x090,
	R_AVAIL_HI = 0x094,
	R_USED_LO = 0x0a0,
	R_USED_HI = 0x0a4,
	R_SHM_LEN_LO = 0x0b0,
	R_GEN = 0x0fc,
	R_CONFIG = 0x100,
};

#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

static struct vmc_loop *loop;
static struct vmc_vm *vm;
static struct vmc_address_space *as;
static struct vmc_region *ram;
static uint8_t *ram_host;
static struct vmc_irq *irq;
static _Atomic bool irq_level;
static int log_warnings;

/*
 * VT_IOTHREAD=1 (the *-iothread tests) puts the devices a test makes on
 * an I/O thread, @drv_iot, so that one test proves a device on either
 * thread.  The line @irq needs the VM lock, and must be set with it.
 */
static struct vmc_iothread *drv_iot;
static _Atomic unsigned int irq_unlocked;

static void on_irq(void *opaque, unsigned int n, bool level)
{
	if (drv_iot && !vmc_vm_lock_held(vm))
		irq_unlocked++;
	irq_level = level;
}

static void on_log(enum vmc_log_level level, const char *msg, void *ud)
{
	if (level <= VMC_LOG_WARNING || getenv("VT_DEBUG")) {
		log_warnings++;
		fprintf(stderr, "   log: %s\n", msg);
	}
}

static void vm_up(void)
{
	struct vmc_vm_config c;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.flags = VMC_VM_DETERMINISTIC;
	c.loop = loop;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	as = vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", RAM_SIZE, 0,
				     &ram));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   RAM_BASE, ram, 0));
	ram_host = vmc_region_get_ptr(ram);
	ASSERT_OK(vmc_irq_new(on_irq, NULL, 1, &irq));
	irq_level = false;
	if (getenv("VT_IOTHREAD") && !drv_iot)
		ASSERT_OK(vmc_iothread_new("vt-io", &drv_iot));
	log_warnings = 0;
	vmc_set_log_handler(
		on_log, getenv("VT_DEBUG") ? VMC_LOG_DEBUG : VMC_LOG_WARNING,
		NULL);
}

static void map_dev(struct vmc_region *r)
{
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY),
					   DEV_BASE, r, 0));
}

static void unmap_dev(struct vmc_region *r)
{
	ASSERT_OK(vmc_region_remove_subregion(
		vmc_vm_get_root(vm, VMC_AS_MEMORY), r));
}

static void vm_down(void)
{
	ASSERT_EQ(irq_unlocked, 0);
	vmc_iothread_free(drv_iot);
	drv_iot = NULL;
	vmc_set_log_handler(NULL, VMC_LOG_ERR, NULL);
	vmc_region_remove_subregion(vmc_vm_get_root(vm, VMC_AS_MEMORY), ram);
	ram = vmc_region_unref(ram);
	vmc_irq_free(irq);
	vm = vmc_vm_unref(vm);
	loop = vmc_loop_unref(loop);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	ASSERT_OK(vmc_as_read(as, DEV_BASE + off, &v, 4));
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	ASSERT_OK(vmc_as_write(as, DEV_BASE + off, &v, 4));
}

static void drv_nop(void *arg)
{
}

/*
 * Let the loop run the notifier and fd handlers that are ready, and the
 * I/O thread, if any: two jobs in a row on it return only after it
 * handled everything that was ready before the first.
 */
static void run_loop(void)
{
	for (int i = 0; i < 4; i++) {
		ASSERT_OK(vmc_loop_run_once(loop, false));
		if (drv_iot) {
			vmc_iothread_run_sync(drv_iot, drv_nop, NULL);
			vmc_iothread_run_sync(drv_iot, drv_nop, NULL);
		}
	}
}

static uint8_t *gpa(uint64_t a)
{
	ASSERT_TRUE(a >= RAM_BASE && a < RAM_BASE + RAM_SIZE);
	return ram_host + (a - RAM_BASE);
}

/*
 * Guest memory the device shares: ring fields as the device accesses
 * them (atomics; the used index with acquire, the avail index with
 * release), so that a device on an I/O thread and the test are ordered.
 */
static void put16(uint64_t a, uint16_t v)
{
	__atomic_store_n((uint16_t *)gpa(a), v, __ATOMIC_SEQ_CST);
}
static void put32(uint64_t a, uint32_t v)
{
	__atomic_store_n((uint32_t *)gpa(a), v, __ATOMIC_RELAXED);
}
static void put64(uint64_t a, uint64_t v)
{
	__atomic_store_n((uint64_t *)gpa(a), v, __ATOMIC_RELAXED);
}
static uint16_t get16(uint64_t a)
{
	return __atomic_load_n((uint16_t *)gpa(a), __ATOMIC_SEQ_CST);
}
static uint32_t get32(uint64_t a)
{
	return __atomic_load_n((uint32_t *)gpa(a), __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------
 * The test driver
 */

struct drv {
	unsigned int num;
	uint64_t desc, avail, used;
	uint16_t avail_idx;
};

static struct drv q[2];

static void set_desc(uint64_t table, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t d = table + 16 * (uint64_t)i;

	put64(d, addr);
	put32(d + 8, len);
	put16(d + 12, flags);
	put16(d + 14, next);
}

static void make_avail(unsigned int qi, uint16_t head)
{
	struct drv *d = &q[qi];

	put16(d->avail + 4 + 2 * (d->avail_idx % d->num), head);
	d->avail_idx++;
	put16(d->avail + 2, d->avail_idx);
}

static uint16_t used_idx(unsigned int qi)
{
	return get16(q[qi].used + 2);
}

static uint32_t used_len(unsigned int qi, uint16_t i)
{
	return get32(q[qi].used + 4 + 8 * (i % q[qi].num) + 4);
}

static uint32_t used_id(unsigned int qi, uint16_t i)
{
	return get32(q[qi].used + 4 + 8 * (i % q[qi].num));
}

static void kick(unsigned int qi)
{
	wr(R_NOTIFY, qi);
	run_loop();
}

/* Reset, negotiate @features and set up @nq queues of @num entries. */
static void drv_init(bool legacy, uint64_t features, unsigned int nq,
		     unsigned int num)
{
	/*
	 * The device stops, and what its I/O thread had started before
	 * (a transmit reads guest memory without the device lock) ends,
	 * before the driver clears its memory.
	 */
	wr(R_STATUS, 0);
	run_loop();
	memset(ram_host, 0, RAM_SIZE);
	wr(R_STATUS, 0);
	ASSERT_EQ(rd(R_STATUS), 0);
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, (uint32_t)features);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, (uint32_t)(features >> 32));
	if (!legacy) {
		wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
		ASSERT_EQ(rd(R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
	} else {
		wr(R_PAGE_SIZE, 4096);
	}
	for (unsigned int i = 0; i < nq; i++) {
		struct drv *d = &q[i];

		*d = (struct drv){.num = num};
		wr(R_QSEL, i);
		ASSERT_GE(rd(R_QNUM_MAX), num);
		wr(R_QNUM, num);
		if (legacy) {
			uint64_t base = LEGACY_PFN_GPA + 0x4000 * i;

			ASSERT_EQ(rd(R_QPFN), 0);
			wr(R_QALIGN, 4096);
			wr(R_QPFN, (uint32_t)(base >> 12));
			d->desc = base;
			d->avail = base + 16 * num;
			d->used = (d->avail + 6 + 2 * num + 4095) & ~4095ull;
			ASSERT_EQ(rd(R_QPFN), base >> 12);
			continue;
		}
		d->desc = DESC_GPA + 0x4000 * i;
		d->avail = AVAIL_GPA + 0x4000 * i;
		d->used = USED_GPA + 0x4000 * i;
		ASSERT_EQ(rd(R_QREADY), 0);
		wr(R_DESC_LO, (uint32_t)d->desc);
		wr(R_DESC_HI, (uint32_t)(d->desc >> 32));
		wr(R_AVAIL_LO, (uint32_t)d->avail);
		wr(R_AVAIL_HI, (uint32_t)(d->avail >> 32));
		wr(R_USED_LO, (uint32_t)d->used);
		wr(R_USED_HI, (uint32_t)(d->used >> 32));
		wr(R_QREADY, 1);
		ASSERT_EQ(rd(R_QREADY), 1);
	}
	wr(R_STATUS,
	   S_ACK | S_DRIVER | (legacy ? 0 : S_FEATURES_OK) | S_DRIVER_OK);
	run_loop();
}

static void ack_irq(void)
{
	wr(R_ACK, rd(R_ISR));
	ASSERT_FALSE(irq_level);
}

#endif
