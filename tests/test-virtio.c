/* SPDX-License-Identifier: MIT */
/*
 * The virtio layer on the harness accelerator: the test is the driver.
 * It writes rings into guest RAM and programs the virtio-mmio registers
 * through vmc_as_read()/vmc_as_write() on the VM's memory address space,
 * exactly as a vCPU's accesses would be dispatched, so queue notifications
 * go through the ioeventfd path and the device's work runs on the loop.
 *
 * Covered: transport negotiation (modern and legacy), queue set-up, rng
 * requests from getrandom and from a host fd, indirect descriptors, event
 * index suppression, the console both ways (and a vanished reader), and
 * every malformed ring or chain we know of ending in DEVICE_NEEDS_RESET
 * with the host intact and the device usable again after a reset.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#include "virtio-driver.h"

static struct vmc_virtio_rng *rng_up(bool legacy, int fd)
{
	struct vmc_virtio_rng_config c;
	struct vmc_virtio_rng *rng;

	vmc_virtio_rng_config_init(&c);

	c.iothread = drv_iot;
	c.vm = vm;
	c.irq = irq;
	c.legacy = legacy;
	c.fd = fd;
	ASSERT_OK(vmc_virtio_rng_new(&c, &rng));
	map_dev(vmc_virtio_rng_get_region(rng));
	return rng;
}

static void rng_down(struct vmc_virtio_rng *rng)
{
	unmap_dev(vmc_virtio_rng_get_region(rng));
	vmc_virtio_rng_free(rng);
}

static bool all_zero(uint64_t a, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (gpa(a)[i])
			return false;
	return true;
}

/* ------------------------------------------------------------------------
 * Transport
 */

static void test_config_checks(void)
{
	struct vmc_virtio_config c;
	struct vmc_virtio_ops ops = {.struct_size = sizeof(ops)};
	struct vmc_virtio *dev = NULL;
	struct vmc_virtio_rng_config rc;
	struct vmc_virtio_rng *rng = NULL;

	vm_up();
	vmc_virtio_config_init(NULL);
	vmc_virtio_config_init(&c);
	ASSERT_EQ(c.size, sizeof(c));
	ASSERT_EQ(c.vendor_id, VMC_VIRTIO_VENDOR_QEMU);
	ASSERT_EQ(c.queue_max_size, 256);
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, &dev), -EINVAL); /* no VM */
	c.vm = vm;
	ASSERT_ERR(vmc_virtio_new(NULL, &ops, NULL, &dev), -EINVAL);
	ASSERT_ERR(vmc_virtio_new(&c, NULL, NULL, &dev), -EINVAL);
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, NULL), -EINVAL);
	c.queue_max_size = 100; /* not a power of 2 */
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, &dev), -EINVAL);
	c.queue_max_size = 65536;
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, &dev), -EINVAL);
	c.queue_max_size = 256;
	c.num_queues = 0;
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, &dev), -EINVAL);
	c.num_queues = 65;
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, &dev), -EINVAL);
	c.num_queues = 2;
	c.config_size = 0x101;
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, &dev), -EINVAL);
	c.config_size = 0;
	ops.struct_size = 1;
	ASSERT_ERR(vmc_virtio_new(&c, &ops, NULL, &dev), -EINVAL);
	ops.struct_size = sizeof(ops);
	ASSERT_NULL(dev);
	ASSERT_OK(vmc_virtio_new(&c, &ops, NULL, &dev));
	ASSERT_NOT_NULL(vmc_virtio_get_queue(dev, 1));
	ASSERT_NULL(vmc_virtio_get_queue(dev, 2));
	ASSERT_EQ(vmc_virtq_get_index(vmc_virtio_get_queue(dev, 1)), 1);
	ASSERT_FALSE(vmc_virtq_is_ready(vmc_virtio_get_queue(dev, 0)));
	ASSERT_ERR(vmc_virtio_config_changed(NULL), -EINVAL);
	ASSERT_ERR(vmc_virtio_set_needs_reset(dev, NULL), -EINVAL);
	ASSERT_ERR(vmc_virtq_pop(NULL, NULL), -EINVAL);
	ASSERT_ERR(vmc_virtq_push(NULL, NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_virtq_notify(NULL), -EINVAL);
	vmc_virtq_elem_free(NULL, NULL);
	ASSERT_EQ(vmc_virtio_get_status(NULL), 0);
	ASSERT_NULL(vmc_virtio_get_region(NULL));
	vmc_virtio_free(dev);
	vmc_virtio_free(NULL);

	vmc_virtio_rng_config_init(&rc);

	rc.iothread = drv_iot;
	ASSERT_EQ(rc.fd, -1);
	ASSERT_ERR(vmc_virtio_rng_new(&rc, &rng), -EINVAL);
	rc.vm = vm;
	rc.fd = 999;
	ASSERT_ERR(vmc_virtio_rng_new(&rc, &rng), -EBADF);
	ASSERT_NULL(rng);
	vmc_virtio_rng_free(NULL);
	vm_down();
}

static void test_transport_modern(void)
{
	struct vmc_virtio_rng *rng;
	struct vmc_virtio *dev;

	vm_up();
	rng = rng_up(false, -1);
	dev = vmc_virtio_rng_get_virtio(rng);
	ASSERT_EQ(rd(R_MAGIC), 0x74726976);
	ASSERT_EQ(rd(R_VERSION), 2);
	ASSERT_EQ(rd(R_DEVICE_ID), 4);
	ASSERT_EQ(rd(R_VENDOR), 0x554d4551);
	wr(R_DEV_FEAT_SEL, 0);
	ASSERT_EQ(rd(R_DEV_FEAT), (uint32_t)(F_INDIRECT | F_EVENT_IDX));
	wr(R_DEV_FEAT_SEL, 1);
	ASSERT_EQ(rd(R_DEV_FEAT), 1); /* VERSION_1 */
	wr(R_DEV_FEAT_SEL, 2);
	ASSERT_EQ(rd(R_DEV_FEAT), 0);
	ASSERT_EQ(rd(R_SHM_LEN_LO), 0xffffffff);
	/* Narrow register accesses are ignored and read 0. */
	{
		uint16_t v = 0xffff;

		ASSERT_OK(vmc_as_read(as, DEV_BASE + R_MAGIC, &v, 2));
		ASSERT_EQ(v, 0);
	}

	/* A modern driver must accept VERSION_1: FEATURES_OK is refused. */
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, (uint32_t)F_INDIRECT);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	ASSERT_EQ(rd(R_STATUS), S_ACK | S_DRIVER);
	/* ...and so are features the device does not offer. */
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1 | 2);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	ASSERT_EQ(rd(R_STATUS), S_ACK | S_DRIVER);
	wr(R_DRV_FEAT, 1);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	ASSERT_EQ(rd(R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
	ASSERT_EQ_U64(vmc_virtio_get_features(dev), F_INDIRECT | F_VERSION_1);
	/* Features are frozen once accepted; NEEDS_RESET is the device's. */
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 0);
	ASSERT_EQ_U64(vmc_virtio_get_features(dev), F_INDIRECT | F_VERSION_1);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_NEEDS_RESET);
	ASSERT_EQ(rd(R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);

	/* Queue registers: the selected queue, and none past the last. */
	wr(R_QSEL, 0);
	ASSERT_EQ(rd(R_QNUM_MAX), 8);
	wr(R_QSEL, 1);
	ASSERT_EQ(rd(R_QNUM_MAX), 0);
	ASSERT_EQ(rd(R_QREADY), 0);
	/* A queue whose rings are not in RAM cannot become ready. */
	wr(R_QSEL, 0);
	wr(R_QNUM, 8);
	wr(R_DESC_LO, 0x1000); /* nothing there */
	wr(R_QREADY, 1);
	ASSERT_EQ(rd(R_QREADY), 0);
	ASSERT_TRUE(rd(R_STATUS) & S_NEEDS_RESET);

	/* Status 0 resets everything. */
	wr(R_STATUS, 0);
	ASSERT_EQ(rd(R_STATUS), 0);
	ASSERT_EQ_U64(vmc_virtio_get_features(dev), 0);

	/* Config generation moves with config changes. */
	{
		uint32_t g = rd(R_GEN);

		vmc_virtio_lock(dev);
		ASSERT_OK(vmc_virtio_config_changed(dev));
		vmc_virtio_unlock(dev);
		ASSERT_EQ(rd(R_GEN), g + 1);
		ASSERT_FALSE(irq_level); /* driver not up: no interrupt */
	}

	/* The whole dance, then a config change interrupts. */
	drv_init(false, F_VERSION_1, 1, 8);
	ASSERT_EQ(rd(R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	ASSERT_TRUE(vmc_virtq_is_ready(vmc_virtio_get_queue(dev, 0)));
	vmc_virtio_lock(dev);
	ASSERT_OK(vmc_virtio_config_changed(dev));
	vmc_virtio_unlock(dev);
	ASSERT_TRUE(irq_level);
	ASSERT_EQ(rd(R_ISR), 2);
	ack_irq();
	ASSERT_EQ(rd(R_ISR), 0);
	/* A live queue's layout cannot be changed. */
	wr(R_DESC_LO, 0x1000);
	wr(R_QSEL, 0);
	ASSERT_EQ(rd(R_QREADY), 1);
	/* QueueReady 0 takes the queue down; a VM reset the device. */
	wr(R_QREADY, 0);
	ASSERT_EQ(rd(R_QREADY), 0);
	ASSERT_OK(vmc_vm_reset(vm));
	ASSERT_EQ(rd(R_STATUS), 0);
	ASSERT_EQ(log_warnings, 1); /* the ring outside RAM */
	rng_down(rng);
	vm_down();
}

/* One rng request of @len bytes in two writable buffers. */
static void rng_request(unsigned int qi, uint16_t head, uint64_t buf,
			uint32_t len)
{
	set_desc(q[qi].desc, head, buf, len / 2, D_WRITE | D_NEXT,
		 (uint16_t)((head + 1) % q[qi].num));
	set_desc(q[qi].desc, (head + 1) % q[qi].num, buf + len / 2,
		 len - len / 2, D_WRITE, 0);
	make_avail(qi, head);
}

static void test_rng_modern(void)
{
	struct vmc_virtio_rng *rng;

	vm_up();
	rng = rng_up(false, -1);
	drv_init(false, F_VERSION_1, 1, 8);
	rng_request(0, 0, BUF_GPA, 64);
	ASSERT_FALSE(irq_level);
	ASSERT_EQ(used_idx(0), 0);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(used_id(0, 0), 0);
	ASSERT_EQ(used_len(0, 0), 64);
	ASSERT_FALSE(all_zero(BUF_GPA, 32));
	ASSERT_FALSE(all_zero(BUF_GPA + 32, 32));
	ASSERT_TRUE(irq_level);
	ASSERT_EQ(rd(R_ISR), 1);
	ack_irq();

	/* Many requests round the ring, with NO_INTERRUPT set. */
	put16(q[0].avail, 1);
	for (int i = 0; i < 20; i++) {
		rng_request(0, (uint16_t)(2 * (i % 4)), BUF_GPA + 64 * i, 16);
		kick(0);
	}
	ASSERT_EQ(used_idx(0), 21);
	ASSERT_FALSE(irq_level);
	ASSERT_EQ(log_warnings, 0);
	rng_down(rng);
	vm_down();
}

static void test_rng_legacy(void)
{
	struct vmc_virtio_rng *rng;

	vm_up();
	rng = rng_up(true, -1);
	ASSERT_EQ(rd(R_VERSION), 1);
	wr(R_DEV_FEAT_SEL, 1);
	ASSERT_EQ(rd(R_DEV_FEAT), 0); /* no VERSION_1 */
	ASSERT_EQ(rd(R_GEN), 0);
	drv_init(true, F_EVENT_IDX, 1, 8);
	ASSERT_EQ(rd(R_STATUS), S_ACK | S_DRIVER | S_DRIVER_OK);
	rng_request(0, 0, BUF_GPA, 32);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(used_len(0, 0), 32);
	ASSERT_FALSE(all_zero(BUF_GPA, 16));
	ASSERT_TRUE(irq_level);
	ack_irq();
	/* avail_event follows in the legacy layout too. */
	ASSERT_EQ(get16(q[0].used + 4 + 8 * 8), 1);
	/* QueuePFN 0 releases the queue. */
	wr(R_QSEL, 0);
	wr(R_QPFN, 0);
	ASSERT_EQ(rd(R_QPFN), 0);
	ASSERT_EQ(log_warnings, 0);
	rng_down(rng);
	vm_down();
}

/*
 * Linux writes GuestPageSize once, in probe, before the Status 0 that
 * starts driver initialisation: a driver reset must keep it (a device
 * that forgot it refused every legacy queue of a Linux guest).
 */
static void test_legacy_page_size_across_reset(void)
{
	struct vmc_virtio_rng *rng;
	uint64_t base = LEGACY_PFN_GPA;

	vm_up();
	rng = rng_up(true, -1);
	memset(ram_host, 0, RAM_SIZE);
	wr(R_PAGE_SIZE, 4096);
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, (uint32_t)F_EVENT_IDX);
	q[0] = (struct drv){.num = 8};
	wr(R_QSEL, 0);
	wr(R_QNUM, 8);
	wr(R_QALIGN, 4096);
	wr(R_QPFN, (uint32_t)(base >> 12));
	q[0].desc = base;
	q[0].avail = base + 16 * 8;
	q[0].used = (q[0].avail + 6 + 2 * 8 + 4095) & ~4095ull;
	ASSERT_EQ(rd(R_QPFN), base >> 12);
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
	wr(R_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	run_loop();
	rng_request(0, 0, BUF_GPA, 32);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(used_len(0, 0), 32);
	ASSERT_EQ(log_warnings, 0);
	rng_down(rng);
	vm_down();
}

static void test_rng_fd(void)
{
	struct vmc_virtio_rng *rng;
	int p[2];

	ASSERT_OK(pipe2(p, O_CLOEXEC));
	vm_up();
	rng = rng_up(false, p[0]);
	drv_init(false, F_VERSION_1, 1, 8);
	ASSERT_EQ(write(p[1], "abcdefgh", 8), 8);
	rng_request(0, 0, BUF_GPA, 16);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(used_len(0, 0), 8);
	ASSERT_EQ(memcmp(gpa(BUF_GPA), "abcdefgh", 8), 0);
	ack_irq();
	/* Nothing to read: the request waits for the fd. */
	rng_request(0, 2, BUF_GPA + 0x100, 16);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_FALSE(irq_level);
	ASSERT_EQ(write(p[1], "XY", 2), 2);
	run_loop();
	ASSERT_EQ(used_idx(0), 2);
	ASSERT_EQ(used_len(0, 1), 2);
	ASSERT_EQ(memcmp(gpa(BUF_GPA + 0x100), "XY", 2), 0);
	ASSERT_TRUE(irq_level);
	ack_irq();
	/* A request pending when the device goes is given back. */
	rng_request(0, 4, BUF_GPA + 0x200, 16);
	kick(0);
	ASSERT_EQ(used_idx(0), 2);
	rng_down(rng);
	vm_down();
	close(p[0]);
	close(p[1]);
}

static void test_indirect(void)
{
	struct vmc_virtio_rng *rng;
	uint64_t table = RAM_BASE + 0x30000;

	vm_up();
	rng = rng_up(false, -1);
	drv_init(false, F_VERSION_1 | F_INDIRECT, 1, 8);
	set_desc(table, 0, BUF_GPA, 8, D_WRITE | D_NEXT, 2);
	set_desc(table, 1, 0xdead, 0, 0, 0); /* unused entry */
	set_desc(table, 2, BUF_GPA + 0x100, 24, D_WRITE, 0);
	set_desc(q[0].desc, 3, table, 48, D_INDIRECT, 0);
	make_avail(0, 3);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(used_id(0, 0), 3);
	ASSERT_EQ(used_len(0, 0), 32);
	ASSERT_FALSE(all_zero(BUF_GPA + 0x100, 24));
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
	ASSERT_EQ(log_warnings, 0);
	rng_down(rng);
	vm_down();
}

static void test_event_idx(void)
{
	struct vmc_virtio_rng *rng;

	vm_up();
	rng = rng_up(false, -1);
	drv_init(false, F_VERSION_1 | F_EVENT_IDX, 1, 8);
	uint64_t used_event = q[0].avail + 4 + 2 * 8;
	uint64_t avail_event = q[0].used + 4 + 8 * 8;

	/* The first completion always interrupts. */
	put16(used_event, 0);
	rng_request(0, 0, BUF_GPA, 8);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_TRUE(irq_level);
	ack_irq();
	ASSERT_EQ(get16(avail_event), 1);
	/* used_event 2: the driver wants to hear once used idx passes 2. */
	put16(used_event, 2);
	rng_request(0, 2, BUF_GPA + 0x100, 8);
	kick(0);
	ASSERT_EQ(used_idx(0), 2);
	ASSERT_FALSE(irq_level);
	rng_request(0, 4, BUF_GPA + 0x200, 8);
	kick(0);
	ASSERT_EQ(used_idx(0), 3);
	ASSERT_TRUE(irq_level);
	ack_irq();
	/* Two at once with used_event far ahead: no interrupt. */
	put16(used_event, 100);
	rng_request(0, 6, BUF_GPA + 0x300, 8);
	rng_request(0, 0, BUF_GPA + 0x400, 8);
	kick(0);
	ASSERT_EQ(used_idx(0), 5);
	ASSERT_FALSE(irq_level);
	ASSERT_EQ(get16(avail_event), 5);
	rng_down(rng);
	vm_down();
}

/* ------------------------------------------------------------------------
 * Console
 */

static struct vmc_virtio_console *con_up(int in_fd, int out_fd, bool legacy)
{
	struct vmc_virtio_console_config c;
	struct vmc_virtio_console *con;

	vmc_virtio_console_config_init(&c);

	c.iothread = drv_iot;
	c.vm = vm;
	c.irq = irq;
	c.in_fd = in_fd;
	c.out_fd = out_fd;
	c.legacy = legacy;
	c.cols = 80;
	c.rows = 25;
	ASSERT_OK(vmc_virtio_console_new(&c, &con));
	map_dev(vmc_virtio_console_get_region(con));
	return con;
}

static void con_down(struct vmc_virtio_console *con)
{
	unmap_dev(vmc_virtio_console_get_region(con));
	vmc_virtio_console_free(con);
}

static void tx(const char *s, uint16_t head)
{
	size_t n = strlen(s);
	uint64_t b = BUF_GPA + 0x1000 + 0x100 * head;

	memcpy(gpa(b), s, n);
	set_desc(q[1].desc, head, b, (uint32_t)n, 0, 0);
	make_avail(1, head);
}

static void test_console(void)
{
	struct vmc_virtio_console *con;
	int in[2], out[2];
	char buf[64];

	ASSERT_OK(pipe2(in, O_CLOEXEC | O_NONBLOCK));
	ASSERT_OK(pipe2(out, O_CLOEXEC | O_NONBLOCK));
	vm_up();
	con = con_up(in[0], out[1], false);
	ASSERT_EQ(rd(R_DEVICE_ID), 3);
	wr(R_DEV_FEAT_SEL, 0);
	ASSERT_EQ(rd(R_DEV_FEAT), (uint32_t)(F_INDIRECT | F_EVENT_IDX | 1 | 4));
	ASSERT_EQ(rd(R_CONFIG), 80 | 25 << 16);
	ASSERT_EQ(rd(R_CONFIG + 4), 1);
	drv_init(false, F_VERSION_1 | 1 | 4, 2, 16);

	/* Guest to host. */
	tx("hello, ", 0);
	tx("host", 1);
	kick(1);
	ASSERT_EQ(used_idx(1), 2);
	ASSERT_EQ(read(out[0], buf, sizeof(buf)), 11);
	ASSERT_EQ(memcmp(buf, "hello, host", 11), 0);
	ASSERT_TRUE(irq_level);
	ack_irq();

	/* Host to guest: input waits for a buffer, then fills it. */
	ASSERT_EQ(write(in[1], "from host", 9), 9);
	run_loop();
	set_desc(q[0].desc, 0, BUF_GPA, 4, D_WRITE | D_NEXT, 1);
	set_desc(q[0].desc, 1, BUF_GPA + 0x10, 60, D_WRITE, 0);
	make_avail(0, 0);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(used_len(0, 0), 9);
	ASSERT_EQ(memcmp(gpa(BUF_GPA), "from", 4), 0);
	ASSERT_EQ(memcmp(gpa(BUF_GPA + 0x10), " host", 5), 0);
	ack_irq();
	/* A queued buffer is filled when input arrives later. */
	set_desc(q[0].desc, 2, BUF_GPA + 0x100, 16, D_WRITE, 0);
	make_avail(0, 2);
	kick(0);
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(write(in[1], "late", 4), 4);
	run_loop();
	ASSERT_EQ(used_idx(0), 2);
	ASSERT_EQ(memcmp(gpa(BUF_GPA + 0x100), "late", 4), 0);
	ack_irq();

	/* Emergency write. */
	wr(R_CONFIG + 8, '!');
	ASSERT_EQ(read(out[0], buf, sizeof(buf)), 1);
	ASSERT_EQ(buf[0], '!');

	/* Output the pipe cannot take waits for it, in order. */
	{
		static char big[70000];
		size_t got = 0;
		ssize_t n;

		memset(big, 'z', sizeof(big));
		memcpy(gpa(RAM_BASE + 0x80000), big, sizeof(big));
		set_desc(q[1].desc, 2, RAM_BASE + 0x80000, sizeof(big), 0, 0);
		make_avail(1, 2);
		tx("END", 3);
		kick(1);
		ASSERT_LT(used_idx(1), 4);
		while (used_idx(1) < 4 && got < sizeof(big) + 3) {
			n = read(out[0], buf, sizeof(buf));
			if (n > 0)
				got += (size_t)n;
			run_loop();
		}
		while ((n = read(out[0], buf, sizeof(buf))) > 0)
			got += (size_t)n;
		ASSERT_EQ(got, sizeof(big) + 3);
		ASSERT_EQ(used_idx(1), 4);
	}

	/* The reader goes away: no SIGPIPE, output is dropped, not stuck. */
	close(out[0]);
	tx("into the void", 4);
	kick(1);
	ASSERT_EQ(used_idx(1), 5);
	tx("again", 5);
	kick(1);
	ASSERT_EQ(used_idx(1), 6);
	ASSERT_EQ(log_warnings, 1);

	con_down(con);
	vm_down();
	close(in[0]);
	close(in[1]);
	close(out[1]);
}

static void test_console_socket(void)
{
	struct vmc_virtio_console *con;
	char buf[16];
	int sv[2];

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	vm_up();
	/* One fd both ways, blocking as the host left it. */
	con = con_up(sv[0], sv[0], true);
	drv_init(true, 0, 2, 16);
	tx("ping", 0);
	kick(1);
	ASSERT_EQ(read(sv[1], buf, sizeof(buf)), 4);
	ASSERT_EQ(memcmp(buf, "ping", 4), 0);
	set_desc(q[0].desc, 0, BUF_GPA, 16, D_WRITE, 0);
	make_avail(0, 0);
	kick(0);
	ASSERT_EQ(write(sv[1], "pong", 4), 4);
	run_loop();
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(memcmp(gpa(BUF_GPA), "pong", 4), 0);
	/* Peer gone: EPIPE without a signal. */
	close(sv[1]);
	tx("lost", 1);
	kick(1);
	ASSERT_EQ(used_idx(1), 2);
	con_down(con);
	vm_down();
	close(sv[0]);
}

/* ------------------------------------------------------------------------
 * Malformed rings and chains
 */

struct bad_case {
	const char *name;
	uint64_t features;
	void (*make)(void);
};

static const uint64_t table = RAM_BASE + 0x30000;

static void bad_head(void)
{
	put16(q[0].avail + 4, 8);
	put16(q[0].avail + 2, 1);
}
static void bad_avail_idx(void)
{
	put16(q[0].avail + 2, 9);
}
static void bad_loop(void)
{
	set_desc(q[0].desc, 0, BUF_GPA, 8, D_WRITE | D_NEXT, 1);
	set_desc(q[0].desc, 1, BUF_GPA + 8, 8, D_WRITE | D_NEXT, 0);
	make_avail(0, 0);
}
static void bad_self_loop(void)
{
	set_desc(q[0].desc, 5, BUF_GPA, 8, D_WRITE | D_NEXT, 5);
	make_avail(0, 5);
}
static void bad_next_range(void)
{
	set_desc(q[0].desc, 0, BUF_GPA, 8, D_WRITE | D_NEXT, 8);
	make_avail(0, 0);
}
static void bad_zero_len(void)
{
	set_desc(q[0].desc, 0, BUF_GPA, 0, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_wrap(void)
{
	set_desc(q[0].desc, 0, UINT64_MAX - 0x10, 0x100, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_outside_ram(void)
{
	set_desc(q[0].desc, 0, 0x1000, 8, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_over_mmio(void)
{
	set_desc(q[0].desc, 0, DEV_BASE, 16, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_past_ram_end(void)
{
	set_desc(q[0].desc, 0, RAM_BASE + RAM_SIZE - 8, 16, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_order(void)
{
	set_desc(q[0].desc, 0, BUF_GPA, 8, D_WRITE | D_NEXT, 1);
	set_desc(q[0].desc, 1, BUF_GPA + 8, 8, 0, 0);
	make_avail(0, 0);
}
static void bad_overlap(void)
{
	set_desc(q[0].desc, 0, BUF_GPA, 16, D_WRITE | D_NEXT, 1);
	set_desc(q[0].desc, 1, BUF_GPA + 8, 16, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_huge(void)
{
	/* Four 2 GiB buffers: more than RAM (and than a used length). */
	for (uint16_t i = 0; i < 3; i++)
		set_desc(q[0].desc, i, RAM_BASE, 0x80000000u, D_WRITE | D_NEXT,
			 (uint16_t)(i + 1));
	set_desc(q[0].desc, 3, RAM_BASE, 0x80000000u, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_indirect_unnegotiated(void)
{
	set_desc(table, 0, BUF_GPA, 8, D_WRITE, 0);
	set_desc(q[0].desc, 0, table, 16, D_INDIRECT, 0);
	make_avail(0, 0);
}
static void bad_indirect_nested(void)
{
	set_desc(table + 0x100, 0, BUF_GPA, 8, D_WRITE, 0);
	set_desc(table, 0, table + 0x100, 16, D_INDIRECT, 0);
	set_desc(q[0].desc, 0, table, 16, D_INDIRECT, 0);
	make_avail(0, 0);
}
static void bad_indirect_next(void)
{
	set_desc(table, 0, BUF_GPA, 8, D_WRITE, 0);
	set_desc(q[0].desc, 0, table, 16, D_INDIRECT | D_NEXT, 1);
	set_desc(q[0].desc, 1, BUF_GPA + 0x100, 8, D_WRITE, 0);
	make_avail(0, 0);
}
static void bad_indirect_len(void)
{
	set_desc(table, 0, BUF_GPA, 8, D_WRITE, 0);
	set_desc(q[0].desc, 0, table, 24, D_INDIRECT, 0);
	make_avail(0, 0);
}
static void bad_indirect_zero(void)
{
	set_desc(q[0].desc, 0, table, 0, D_INDIRECT, 0);
	make_avail(0, 0);
}
static void bad_indirect_loop(void)
{
	set_desc(table, 0, BUF_GPA, 8, D_WRITE | D_NEXT, 1);
	set_desc(table, 1, BUF_GPA + 8, 8, D_WRITE | D_NEXT, 0);
	set_desc(q[0].desc, 0, table, 32, D_INDIRECT, 0);
	make_avail(0, 0);
}
static void bad_indirect_next_range(void)
{
	set_desc(table, 0, BUF_GPA, 8, D_WRITE | D_NEXT, 2);
	set_desc(q[0].desc, 0, table, 32, D_INDIRECT, 0);
	make_avail(0, 0);
}
static void bad_indirect_outside(void)
{
	set_desc(q[0].desc, 0, RAM_BASE + RAM_SIZE - 16, 32, D_INDIRECT, 0);
	make_avail(0, 0);
}
static void bad_indirect_huge(void)
{
	set_desc(q[0].desc, 0, RAM_BASE, 16 * 1025, D_INDIRECT, 0);
	make_avail(0, 0);
}

static const struct bad_case bad_cases[] = {
	{"head out of range", 0, bad_head},
	{"avail idx too far", 0, bad_avail_idx},
	{"loop", 0, bad_loop},
	{"self loop", 0, bad_self_loop},
	{"next out of range", 0, bad_next_range},
	{"zero length", 0, bad_zero_len},
	{"address wraps", 0, bad_wrap},
	{"outside RAM", 0, bad_outside_ram},
	{"over MMIO", 0, bad_over_mmio},
	{"past RAM end", 0, bad_past_ram_end},
	{"readable after writable", 0, bad_order},
	{"overlap", 0, bad_overlap},
	{"bigger than RAM", 0, bad_huge},
	{"indirect not negotiated", 0, bad_indirect_unnegotiated},
	{"nested indirect", F_INDIRECT, bad_indirect_nested},
	{"indirect with next", F_INDIRECT, bad_indirect_next},
	{"indirect length", F_INDIRECT, bad_indirect_len},
	{"indirect zero length", F_INDIRECT, bad_indirect_zero},
	{"indirect loop", F_INDIRECT, bad_indirect_loop},
	{"indirect next out of range", F_INDIRECT, bad_indirect_next_range},
	{"indirect table outside RAM", F_INDIRECT, bad_indirect_outside},
	{"indirect table too long", F_INDIRECT, bad_indirect_huge},
};

static void test_malformed(void)
{
	struct vmc_virtio_rng *rng;

	vm_up();
	rng = rng_up(false, -1);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		fprintf(stderr, "   case: %s\n", c->name);
		log_warnings = 0;
		drv_init(false, F_VERSION_1 | c->features, 1, 8);
		memset(gpa(BUF_GPA), 0, 0x200);
		c->make();
		kick(0);
		ASSERT_TRUE(rd(R_STATUS) & S_NEEDS_RESET);
		ASSERT_EQ(rd(R_ISR), 2);
		ASSERT_TRUE(irq_level);
		ASSERT_EQ(used_idx(0), 0);
		ASSERT_TRUE(all_zero(BUF_GPA, 0x200));
		ASSERT_EQ(log_warnings, 1);
		/* The device stays stopped until the driver resets it. */
		kick(0);
		ASSERT_EQ(used_idx(0), 0);
		ASSERT_EQ(log_warnings, 1);
		/* After a reset it serves again. */
		wr(R_STATUS, 0);
		ASSERT_FALSE(irq_level);
		drv_init(false, F_VERSION_1, 1, 8);
		rng_request(0, 0, BUF_GPA, 16);
		kick(0);
		ASSERT_EQ(used_idx(0), 1);
		ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
	}
	/* A ring misaligned in guest memory is refused at QueueReady. */
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	wr(R_QSEL, 0);
	wr(R_QNUM, 8);
	wr(R_DESC_LO, (uint32_t)DESC_GPA + 8);
	wr(R_AVAIL_LO, (uint32_t)AVAIL_GPA);
	wr(R_USED_LO, (uint32_t)USED_GPA);
	wr(R_DESC_HI, 0);
	wr(R_AVAIL_HI, 0);
	wr(R_USED_HI, 0);
	wr(R_QREADY, 1);
	ASSERT_EQ(rd(R_QREADY), 0);
	ASSERT_TRUE(rd(R_STATUS) & S_NEEDS_RESET);
	/* A queue size that is not a power of 2 likewise. */
	wr(R_STATUS, 0);
	wr(R_QSEL, 0);
	wr(R_QNUM, 6);
	wr(R_DESC_LO, (uint32_t)DESC_GPA);
	wr(R_QREADY, 1);
	ASSERT_EQ(rd(R_QREADY), 0);
	ASSERT_TRUE(rd(R_STATUS) & S_NEEDS_RESET);
	rng_down(rng);
	vm_down();
}

/* An element that outlived a reset never reaches the new rings. */
static void test_stale_element(void)
{
	struct vmc_virtio_rng *rng;
	struct vmc_virtq_elem *e = NULL;
	struct vmc_virtq *vq;

	vm_up();
	rng = rng_up(false, -1);
	vq = vmc_virtio_get_queue(vmc_virtio_rng_get_virtio(rng), 0);
	drv_init(false, F_VERSION_1, 1, 8);
	rng_request(0, 0, BUF_GPA, 16);
	vmc_vm_lock(vm);
	ASSERT_EQ(vmc_virtq_pop(vq, &e), 1);
	ASSERT_EQ(e->head, 0);
	ASSERT_EQ(e->in_num, 2);
	ASSERT_EQ(e->in_len, 16);
	ASSERT_EQ(vmc_virtq_elem_to_in(e, 4, "abcdefghijklmnop", 16), 12);
	vmc_vm_unlock(vm);
	ASSERT_EQ(memcmp(gpa(BUF_GPA + 4), "abcdefghijkl", 12), 0);
	/* The driver resets and sets the queue up again meanwhile. */
	drv_init(false, F_VERSION_1, 1, 8);
	vmc_vm_lock(vm);
	ASSERT_TRUE(vmc_virtq_is_ready(vq));
	ASSERT_ERR(vmc_virtq_push(vq, e, 16), -EIO);
	vmc_vm_unlock(vm);
	ASSERT_EQ(used_idx(0), 0);
	rng_down(rng);
	vm_down();
}

/* A device model reporting a bad request itself. */
static void test_needs_reset_api(void)
{
	struct vmc_virtio_rng *rng;
	struct vmc_virtio *dev;

	vm_up();
	rng = rng_up(false, -1);
	dev = vmc_virtio_rng_get_virtio(rng);
	drv_init(false, F_VERSION_1, 1, 8);
	vmc_virtio_lock(dev);
	ASSERT_OK(vmc_virtio_set_needs_reset(dev, "test"));
	ASSERT_TRUE(vmc_virtio_get_status(dev) & S_NEEDS_RESET);
	ASSERT_FALSE(vmc_virtq_is_ready(vmc_virtio_get_queue(dev, 0)));
	vmc_virtio_unlock(dev);
	ASSERT_TRUE(irq_level);
	rng_request(0, 0, BUF_GPA, 16);
	kick(0);
	ASSERT_EQ(used_idx(0), 0);
	rng_down(rng);
	vm_down();
}

/*
 * A driver on another thread, with event indices, against the device on
 * the loop: the driver kicks only when avail_event says so, so a lost
 * update on either side stalls the queue and the test times out.  Ring
 * fields are written with atomics, as a guest's would be by its CPU.
 */
#define CONC_REQUESTS 3000

static uint16_t at_ld16(uint64_t a)
{
	return __atomic_load_n((uint16_t *)gpa(a), __ATOMIC_SEQ_CST);
}

static void at_st16(uint64_t a, uint16_t v)
{
	__atomic_store_n((uint16_t *)gpa(a), v, __ATOMIC_SEQ_CST);
}

static int conc_done, conc_failed;

static void *conc_driver(void *arg)
{
	struct drv *d = &q[0];
	uint64_t avail_event = d->used + 4 + 8 * (uint64_t)d->num;
	int64_t deadline = vmc_test_now_ns() + 20000000000ll;

	for (unsigned int i = 0; i < CONC_REQUESTS; i++) {
		uint16_t slot = (uint16_t)(d->avail_idx % d->num), old, ev;
		uint8_t *desc = gpa(d->desc + 16 * (uint64_t)slot);

		while ((uint16_t)(d->avail_idx - at_ld16(d->used + 2)) >=
		       d->num) {
			if (vmc_test_now_ns() > deadline) {
				__atomic_store_n(&conc_failed, 1,
						 __ATOMIC_SEQ_CST);
				goto out;
			}
			sched_yield();
		}
		__atomic_store_n((uint64_t *)desc, BUF_GPA + 16 * slot,
				 __ATOMIC_RELAXED);
		__atomic_store_n((uint32_t *)(desc + 8), 16, __ATOMIC_RELAXED);
		__atomic_store_n((uint16_t *)(desc + 12), D_WRITE,
				 __ATOMIC_RELAXED);
		__atomic_store_n((uint16_t *)gpa(d->avail + 4 + 2 * slot), slot,
				 __ATOMIC_RELAXED);
		old = d->avail_idx++;
		at_st16(d->avail + 2, d->avail_idx);
		ev = at_ld16(avail_event);
		if ((uint16_t)(d->avail_idx - ev - 1) <
		    (uint16_t)(d->avail_idx - old)) {
			uint32_t v = 0;

			vmc_as_write(as, DEV_BASE + R_NOTIFY, &v, 4);
		}
	}
out:
	__atomic_store_n(&conc_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_concurrent_event_idx(void)
{
	struct vmc_virtio_rng *rng;
	pthread_t t;
	int64_t deadline;

	vm_up();
	rng = rng_up(false, -1);
	drv_init(false, F_VERSION_1 | F_EVENT_IDX, 1, 8);
	conc_done = conc_failed = 0;
	ASSERT_EQ(pthread_create(&t, NULL, conc_driver, NULL), 0);
	deadline = vmc_test_now_ns() + 30000000000ll;
	while (!__atomic_load_n(&conc_done, __ATOMIC_SEQ_CST) ||
	       at_ld16(q[0].used + 2) != (uint16_t)CONC_REQUESTS) {
		ASSERT_OK(vmc_loop_run_once(loop, false));
		if (vmc_test_now_ns() > deadline)
			break;
		if (__atomic_load_n(&conc_done, __ATOMIC_SEQ_CST))
			sched_yield();
	}
	pthread_join(t, NULL);
	ASSERT_FALSE(conc_failed);
	ASSERT_EQ(at_ld16(q[0].used + 2), (uint16_t)CONC_REQUESTS);
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
	rng_down(rng);
	vm_down();
}

int main(void)
{
	/* A SIGPIPE that leaks out of the console kills the test. */
	signal(SIGPIPE, SIG_DFL);
	RUN(test_config_checks);
	RUN(test_transport_modern);
	RUN(test_rng_modern);
	RUN(test_rng_legacy);
	RUN(test_legacy_page_size_across_reset);
	RUN(test_rng_fd);
	RUN(test_indirect);
	RUN(test_event_idx);
	RUN(test_console);
	RUN(test_console_socket);
	RUN(test_malformed);
	RUN(test_needs_reset_api);
	RUN(test_stale_element);
	RUN(test_concurrent_event_idx);
	return 0;
}
