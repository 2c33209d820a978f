/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on the harness accelerator: the test is the driver
 * (virtio-driver.h) and, through the public backend interface, the
 * network.  Queue 0 receives, queue 1 transmits.
 *
 * Covered: feature bits and configuration space, transmit with the header
 * in its own descriptor or not, receive with and without mergeable
 * buffers (10- and 12-byte headers), a frame too long for its chain, the
 * link going down and up with its configuration interrupt, a guest with
 * no receive buffers (the backend is stopped once, not spun, and resumed
 * by the next notification, the frame intact), a backend that cannot take
 * a frame (-EAGAIN, then vmc_net_backend_tx_ready()), malformed chains
 * (DEVICE_NEEDS_RESET), a legacy MAC write, argument checks; and the
 * stream (TCP client, unix server) and datagram (UDP, unix) backends
 * against a peer socket on loopback.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#include "virtio-driver.h"

#define F_MTU (1ull << 3)
#define F_MAC (1ull << 5)
#define F_MRG (1ull << 15)
#define F_STATUS (1ull << 16)
#define RXQ 0
#define TXQ 1
#define QNUM 16
#define RXBUF_GPA (RAM_BASE + 0x20000) /* receive buffers, 2 KiB apart */
#define TXBUF_GPA (RAM_BASE + 0x60000) /* transmit buffers, 2 KiB apart */

/* ------------------------------------------------------------------------
 * The test's backend
 */

static struct {
	uint8_t frames[8][2048];
	size_t lens[8];
	unsigned int sent;
	unsigned int send_calls;
	bool block;
	unsigned int rx_ready;
	bool released;
} tb;

static int tb_send(void *opaque, const struct vmc_net_iov *iov, unsigned int n)
{
	size_t off = 0;

	tb.send_calls++;
	if (tb.block)
		return -EAGAIN;
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_TRUE(off + iov[i].len <= sizeof(tb.frames[0]));
		memcpy(tb.frames[tb.sent % 8] + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	tb.lens[tb.sent % 8] = off;
	tb.sent++;
	return 0;
}

static void tb_rx_ready(void *opaque)
{
	tb.rx_ready++;
}

static void tb_release(void *opaque)
{
	tb.released = true;
}

static const struct vmc_net_backend_ops tb_ops = {
	.struct_size = sizeof(tb_ops),
	.send = tb_send,
	.rx_ready = tb_rx_ready,
	.release = tb_release,
};

static struct vmc_net_backend *be;

static struct vmc_virtio_net *net_up_be(bool legacy, bool mrg, unsigned mtu,
					struct vmc_net_backend *b)
{
	struct vmc_virtio_net_config c;
	struct vmc_virtio_net *net;

	vmc_virtio_net_config_init(&c);

	c.iothread = drv_iot;
	c.vm = vm;
	c.irq = irq;
	c.legacy = legacy;
	c.mrg_rxbuf = mrg;
	c.mtu = mtu;
	c.queue_size = QNUM;
	c.backend = b;
	ASSERT_OK(vmc_virtio_net_new(&c, &net));
	map_dev(vmc_virtio_net_get_region(net));
	return net;
}

static struct vmc_virtio_net *net_up(bool legacy, bool mrg, unsigned mtu)
{
	memset(&tb, 0, sizeof(tb));
	ASSERT_OK(vmc_net_backend_new(&tb_ops, NULL, &be));
	return net_up_be(legacy, mrg, mtu, be);
}

static void net_down(struct vmc_virtio_net *net)
{
	unmap_dev(vmc_virtio_net_get_region(net));
	vmc_virtio_net_free(net);
	if (be) {
		vmc_net_backend_free(be);
		ASSERT_TRUE(tb.released);
		be = NULL;
	}
}

/* Features: all that the device offers of @want (VERSION_1 if modern). */
static void drv_up(bool legacy, uint64_t want)
{
	drv_init(legacy, want | (legacy ? 0 : F_VERSION_1), 2, QNUM);
}

/* Post receive buffer @i (descriptor @i) of @len bytes. */
static void post_rx(unsigned int i, uint32_t len)
{
	set_desc(q[RXQ].desc, i, RXBUF_GPA + 0x800 * i, len, D_WRITE, 0);
	make_avail(RXQ, (uint16_t)i);
}

static uint8_t *rxbuf(unsigned int i)
{
	return gpa(RXBUF_GPA + 0x800 * i);
}

/* Queue a frame of @len bytes (pattern @seed) behind a @hl-byte header. */
static void post_tx(unsigned int i, size_t hl, size_t len, uint8_t seed,
		    bool split)
{
	uint64_t buf = TXBUF_GPA + 0x800 * i;
	uint8_t *p = gpa(buf);

	memset(p, 0, hl);
	for (size_t k = 0; k < len; k++)
		p[hl + k] = (uint8_t)(seed + k);
	if (split) {
		set_desc(q[TXQ].desc, 2 * i, buf, (uint32_t)hl, D_NEXT,
			 (uint16_t)(2 * i + 1));
		set_desc(q[TXQ].desc, 2 * i + 1, buf + hl, (uint32_t)len, 0, 0);
	} else {
		set_desc(q[TXQ].desc, 2 * i, buf, (uint32_t)(hl + len), 0, 0);
	}
	make_avail(TXQ, (uint16_t)(2 * i));
}

static int inject(size_t len, uint8_t seed)
{
	uint8_t frame[VMC_NET_MAX_FRAME];
	struct vmc_net_iov v[2] = {{frame, len / 3}, {frame + len / 3, 0}};

	for (size_t k = 0; k < len; k++)
		frame[k] = (uint8_t)(seed ^ k);
	v[1].len = len - len / 3;
	return vmc_net_backend_receive(be, v, 2);
}

static void check_frame(const uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t k = 0; k < len; k++)
		if (p[k] != (uint8_t)(seed ^ k)) {
			fprintf(stderr, "byte %zu: %#x, want %#x\n", k, p[k],
				(uint8_t)(seed ^ k));
			ASSERT_TRUE(false);
		}
}

/* ------------------------------------------------------------------------
 * The device
 */

static void test_config(void)
{
	struct vmc_virtio_net *net = net_up(false, true, 1400);
	uint8_t mac[6];

	ASSERT_EQ(rd(R_DEVICE_ID), 1);
	wr(R_DEV_FEAT_SEL, 0);
	/* MAC, STATUS, MRG_RXBUF, MTU and the ring's; no offloads. */
	ASSERT_EQ(rd(R_DEV_FEAT), (uint32_t)(F_MAC | F_STATUS | F_MRG | F_MTU |
					     F_INDIRECT | F_EVENT_IDX));
	wr(R_DEV_FEAT_SEL, 1);
	ASSERT_EQ(rd(R_DEV_FEAT), 1); /* VERSION_1 */
	drv_up(false, F_MAC | F_STATUS | F_MTU);
	for (int i = 0; i < 6; i++) {
		uint8_t b;

		ASSERT_OK(vmc_as_read(as, DEV_BASE + R_CONFIG + i, &b, 1));
		ASSERT_EQ(b, ((const uint8_t[]){0x52, 0x54, 0, 0x12, 0x34,
						0x56})[i]);
	}
	ASSERT_EQ(rd(R_CONFIG + 4) >> 16, 1);	 /* status: link up */
	ASSERT_EQ(rd(R_CONFIG + 8) & 0xffff, 1); /* one queue pair */
	ASSERT_EQ(rd(R_CONFIG + 8) >> 16, 1400); /* mtu */
	ASSERT_OK(vmc_virtio_net_get_mac(net, mac));
	ASSERT_EQ(mac[5], 0x56);
	/* A modern driver cannot write the MAC. */
	wr(R_CONFIG, 0xffffffff);
	ASSERT_EQ(rd(R_CONFIG), 0x12005452);
	net_down(net);

	/* Without an MTU the config space ends after status. */
	net = net_up(true, false, 0);
	wr(R_DEV_FEAT_SEL, 0);
	ASSERT_EQ(rd(R_DEV_FEAT), (uint32_t)(F_MAC | F_STATUS | F_INDIRECT |
					     F_EVENT_IDX | 1u << 27));
	drv_up(true, F_MAC | F_STATUS);
	ASSERT_EQ(rd(R_CONFIG + 8), 0);
	/* A legacy driver may: the device reports it until reset. */
	wr(R_CONFIG, 0x44332202);
	ASSERT_EQ(rd(R_CONFIG), 0x44332202);
	ASSERT_OK(vmc_virtio_net_get_mac(net, mac));
	ASSERT_EQ(mac[1], 0x22);
	wr(R_STATUS, 0);
	ASSERT_EQ(rd(R_CONFIG), 0x12005452);
	net_down(net);
}

static void test_tx(bool legacy, bool mrg)
{
	struct vmc_virtio_net *net = net_up(legacy, true, 0);
	size_t hl = !legacy || mrg ? 12 : 10;

	drv_up(legacy, F_MAC | F_STATUS | (mrg ? F_MRG : 0));
	post_tx(0, hl, 60, 0x10, true);
	post_tx(1, hl, 1514, 0x20, false);
	kick(TXQ);
	ASSERT_EQ(tb.sent, 2);
	ASSERT_EQ(tb.lens[0], 60);
	ASSERT_EQ(tb.lens[1], 1514);
	for (size_t k = 0; k < 1514; k++)
		ASSERT_EQ(tb.frames[1][k], (uint8_t)(0x20 + k));
	ASSERT_EQ(tb.frames[0][0], 0x10);
	ASSERT_EQ(used_idx(TXQ), 2);
	ASSERT_EQ(used_id(TXQ, 0), 0);
	ASSERT_EQ(used_id(TXQ, 1), 2);
	ASSERT_EQ(used_len(TXQ, 0), 0);
	ASSERT_TRUE(irq_level);
	ack_irq();
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
	net_down(net);
}

static void test_rx_plain(bool legacy)
{
	struct vmc_virtio_net *net = net_up(legacy, true, 0);
	size_t hl = legacy ? 10 : 12;

	drv_up(legacy, F_MAC | F_STATUS); /* no MRG_RXBUF */
	post_rx(0, 1526);
	post_rx(1, 1526);
	post_rx(2, 100);
	kick(RXQ);
	memset(rxbuf(0), 0xee, 64);
	ASSERT_EQ(inject(100, 0x5a), 0);
	ASSERT_EQ(used_idx(RXQ), 1);
	ASSERT_EQ(used_len(RXQ, 0), hl + 100);
	for (size_t k = 0; k < 10; k++)
		ASSERT_EQ(rxbuf(0)[k], 0); /* flags, gso: none */
	if (!legacy)
		ASSERT_EQ(rxbuf(0)[10] | rxbuf(0)[11] << 8, 1);
	check_frame(rxbuf(0) + hl, 100, 0x5a);
	ASSERT_TRUE(irq_level);
	ack_irq();
	ASSERT_EQ(inject(1514, 0x33), 0);
	ASSERT_EQ(used_len(RXQ, 1), hl + 1514);
	check_frame(rxbuf(1) + hl, 1514, 0x33);
	/* Too long for its chain: returned empty, frame dropped. */
	ASSERT_EQ(inject(200, 0x44), 0);
	ASSERT_EQ(used_idx(RXQ), 3);
	ASSERT_EQ(used_len(RXQ, 2), 0);
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
	ASSERT_EQ(tb.rx_ready, 0);
	net_down(net);
}

static void test_rx_mergeable(bool legacy)
{
	struct vmc_virtio_net *net = net_up(legacy, true, 0);

	drv_up(legacy, F_MAC | F_STATUS | F_MRG);
	for (unsigned int i = 0; i < 4; i++)
		post_rx(i, 64);
	kick(RXQ);
	/* 12 + 150 bytes: 64 + 64 + 34 in three chains. */
	ASSERT_EQ(inject(150, 0x77), 0);
	ASSERT_EQ(used_idx(RXQ), 3);
	ASSERT_EQ(used_len(RXQ, 0), 64);
	ASSERT_EQ(used_len(RXQ, 1), 64);
	ASSERT_EQ(used_len(RXQ, 2), 34);
	ASSERT_EQ(rxbuf(0)[10] | rxbuf(0)[11] << 8, 3);
	{
		uint8_t all[150];

		memcpy(all, rxbuf(0) + 12, 52);
		memcpy(all + 52, rxbuf(1), 64);
		memcpy(all + 116, rxbuf(2), 34);
		check_frame(all, 150, 0x77);
	}
	/* A frame that fills one chain exactly. */
	ASSERT_EQ(inject(52, 0x12), 0);
	ASSERT_EQ(used_idx(RXQ), 4);
	ASSERT_EQ(used_len(RXQ, 3), 64);
	ASSERT_EQ(rxbuf(3)[10], 1);
	check_frame(rxbuf(3) + 12, 52, 0x12);
	net_down(net);
}

/* No buffers: one -EAGAIN stops the backend, a notification resumes it. */
static void test_backpressure(void)
{
	struct vmc_virtio_net *net = net_up(false, true, 0);
	unsigned int irqs = 0;

	/* Before the driver is up: the frame waits, not dropped. */
	ASSERT_EQ(inject(80, 0x01), -EAGAIN);
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	ASSERT_EQ(tb.rx_ready, 1);   /* DRIVER_OK notified the queue */
	ASSERT_EQ(used_idx(RXQ), 0); /* it went with the reset */

	ASSERT_EQ(inject(80, 0x02), -EAGAIN);
	ASSERT_EQ(inject(80, 0x03), -EAGAIN); /* stopped: lost */
	ASSERT_EQ(tb.rx_ready, 1);
	kick(RXQ); /* nothing posted: still stopped */
	ASSERT_EQ(tb.rx_ready, 1);
	post_rx(0, 128);
	kick(RXQ);
	ASSERT_EQ(used_idx(RXQ), 1);
	ASSERT_EQ(used_len(RXQ, 0), 92);
	check_frame(rxbuf(0) + 12, 80, 0x02);
	ASSERT_TRUE(irq_level);
	ack_irq();
	ASSERT_EQ(tb.rx_ready, 2);

	ASSERT_EQ(inject(150, 0x04), -EAGAIN);
	ASSERT_EQ(tb.rx_ready, 2);
	post_rx(1, 64);
	kick(RXQ);
	ASSERT_EQ(used_idx(RXQ), 1); /* one chain taken, not published */
	ASSERT_FALSE(irq_level);
	post_rx(2, 64);
	post_rx(3, 64);
	kick(RXQ);
	ASSERT_EQ(used_idx(RXQ), 4);
	ASSERT_EQ(rxbuf(1)[10], 3);
	ASSERT_EQ(used_len(RXQ, 3), 34);
	ASSERT_EQ(tb.rx_ready, 3);
	ASSERT_EQ(inject(10, 0x05), -EAGAIN);
	(void)irqs;
	net_down(net);
}

static void test_link(void)
{
	struct vmc_virtio_net *net = net_up(false, true, 0);

	drv_up(false, F_MAC | F_STATUS | F_MRG);
	ASSERT_TRUE(vmc_virtio_net_get_link(net));
	ASSERT_EQ(rd(R_GEN), 0);
	ASSERT_OK(vmc_virtio_net_set_link(net, false));
	ASSERT_FALSE(vmc_virtio_net_get_link(net));
	ASSERT_TRUE(irq_level);
	ASSERT_EQ(rd(R_ISR), 2); /* configuration change */
	ASSERT_EQ(rd(R_GEN), 1);
	ASSERT_EQ(rd(R_CONFIG + 4) >> 16, 0);
	ack_irq();
	/* Setting the same state again changes nothing. */
	ASSERT_OK(vmc_virtio_net_set_link(net, false));
	ASSERT_FALSE(irq_level);
	ASSERT_EQ(rd(R_GEN), 1);

	/* Down: frames are dropped both ways, chains still returned. */
	post_tx(0, 12, 60, 1, true);
	kick(TXQ);
	ASSERT_EQ(tb.send_calls, 0);
	ASSERT_EQ(used_idx(TXQ), 1);
	post_rx(0, 1526);
	kick(RXQ);
	ASSERT_EQ(inject(60, 9), 0);
	ASSERT_EQ(used_idx(RXQ), 0);
	ack_irq();

	ASSERT_OK(vmc_virtio_net_set_link(net, true));
	ASSERT_EQ(rd(R_ISR), 2);
	ASSERT_EQ(rd(R_CONFIG + 4) >> 16, 1);
	ack_irq();
	ASSERT_EQ(inject(60, 9), 0);
	ASSERT_EQ(used_idx(RXQ), 1);

	/* Half-placed when the link goes: its chain comes back empty. */
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	tb.rx_ready = 0;
	post_rx(0, 64);
	kick(RXQ);
	ASSERT_EQ(inject(150, 1), -EAGAIN);
	ASSERT_EQ(used_idx(RXQ), 0);
	ASSERT_OK(vmc_virtio_net_set_link(net, false));
	run_loop();
	ASSERT_EQ(used_idx(RXQ), 1);
	ASSERT_EQ(used_len(RXQ, 0), 0);
	ASSERT_EQ(tb.rx_ready, 1); /* and the backend reads (and drops) on */
	ASSERT_OK(vmc_virtio_net_set_link(net, true));
	net_down(net);

	/* A device made with the link down says so from the start. */
	memset(&tb, 0, sizeof(tb));
	{
		struct vmc_virtio_net_config c;

		ASSERT_OK(vmc_net_backend_new(&tb_ops, NULL, &be));
		vmc_virtio_net_config_init(&c);
		c.iothread = drv_iot;
		c.vm = vm;
		c.backend = be;
		c.link_down = true;
		ASSERT_OK(vmc_virtio_net_new(&c, &net));
		map_dev(vmc_virtio_net_get_region(net));
		ASSERT_EQ(rd(R_CONFIG + 4) >> 16, 0);
		net_down(net);
	}
}

static void test_tx_blocked(void)
{
	struct vmc_virtio_net *net = net_up(false, true, 0);

	drv_up(false, F_MAC | F_STATUS | F_MRG);
	tb.block = true;
	post_tx(0, 12, 60, 1, true);
	post_tx(1, 12, 70, 2, true);
	kick(TXQ);
	ASSERT_EQ(tb.send_calls, 1);
	ASSERT_EQ(used_idx(TXQ), 0);
	kick(TXQ); /* waiting for tx_ready: no retry storm */
	ASSERT_EQ(tb.send_calls, 1);
	tb.block = false;
	ASSERT_OK(vmc_net_backend_tx_ready(be));
	ASSERT_EQ(tb.sent, 2);
	ASSERT_EQ(tb.lens[0], 60);
	ASSERT_EQ(tb.lens[1], 70);
	ASSERT_EQ(used_idx(TXQ), 2);
	/* A reset with a frame held returns it without publishing. */
	tb.block = true;
	post_tx(2, 12, 60, 3, true);
	kick(TXQ);
	ASSERT_EQ(used_idx(TXQ), 2);
	wr(R_STATUS, 0);
	ASSERT_OK(vmc_net_backend_tx_ready(be));
	ASSERT_EQ(used_idx(TXQ), 2);
	net_down(net);
}

static void expect_broken(void)
{
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);
	ASSERT_TRUE(irq_level);
	ASSERT_GE(log_warnings, 1);
	log_warnings = 0;
	wr(R_STATUS, 0);
	ASSERT_EQ(rd(R_STATUS), 0);
}

static void test_malformed(void)
{
	struct vmc_virtio_net *net = net_up(false, true, 0);

	/* A transmit chain shorter than the header. */
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	set_desc(q[TXQ].desc, 0, TXBUF_GPA, 4, 0, 0);
	make_avail(TXQ, 0);
	kick(TXQ);
	ASSERT_EQ(tb.send_calls, 0);
	expect_broken();

	/* A receive chain with nothing writable. */
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	set_desc(q[RXQ].desc, 0, RXBUF_GPA, 1526, 0, 0);
	make_avail(RXQ, 0);
	kick(RXQ);
	ASSERT_EQ(inject(60, 1), -EAGAIN);
	expect_broken();

	/* Mergeable: the first chain cannot hold the header. */
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	post_rx(0, 8);
	kick(RXQ);
	ASSERT_EQ(inject(60, 1), -EAGAIN);
	ASSERT_EQ(used_idx(RXQ), 0);
	expect_broken();

	/* A chain into MMIO (the transport's own check). */
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	set_desc(q[RXQ].desc, 0, DEV_BASE, 64, D_WRITE, 0);
	make_avail(RXQ, 0);
	kick(RXQ);
	ASSERT_EQ(inject(60, 1), -EAGAIN);
	expect_broken();

	/* After the reset the device works again and resumes the backend. */
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	post_rx(0, 1526);
	kick(RXQ);
	ASSERT_EQ(inject(60, 1), 0);
	ASSERT_EQ(used_idx(RXQ), 1);
	net_down(net);
}

static void test_args(void)
{
	struct vmc_virtio_net_config c;
	struct vmc_virtio_net *net, *net2;
	struct vmc_net_backend_ops bad = tb_ops;
	struct vmc_net_backend *b;

	ASSERT_ERR(vmc_virtio_net_new(NULL, &net), -EINVAL);
	vmc_virtio_net_config_init(&c);
	c.iothread = drv_iot;
	ASSERT_ERR(vmc_virtio_net_new(&c, &net), -EINVAL); /* no VM */
	c.vm = vm;
	c.mac[0] = 1; /* multicast */
	ASSERT_ERR(vmc_virtio_net_new(&c, &net), -EINVAL);
	vmc_virtio_net_config_init(&c);
	c.iothread = drv_iot;
	c.vm = vm;
	c.queue_size = 100;
	ASSERT_ERR(vmc_virtio_net_new(&c, &net), -EINVAL);
	c.queue_size = 256;
	c.mtu = 67;
	ASSERT_ERR(vmc_virtio_net_new(&c, &net), -EINVAL);
	c.mtu = 0;
	c.size = 8;
	ASSERT_ERR(vmc_virtio_net_new(&c, &net), -EINVAL);
	bad.rx_ready = NULL;
	ASSERT_ERR(vmc_net_backend_new(&bad, NULL, &b), -EINVAL);
	ASSERT_ERR(vmc_net_backend_new(NULL, NULL, &b), -EINVAL);
	ASSERT_ERR(vmc_net_backend_receive(NULL, NULL, 0), -EINVAL);
	ASSERT_ERR(vmc_net_backend_tx_ready(NULL), -EINVAL);
	ASSERT_ERR(vmc_virtio_net_set_link(NULL, true), -EINVAL);
	ASSERT_TRUE(vmc_net_backend_get_ifname(NULL) == NULL);

	/* One device per backend; a detached backend drops frames. */
	memset(&tb, 0, sizeof(tb));
	ASSERT_OK(vmc_net_backend_new(&tb_ops, NULL, &b));
	ASSERT_FALSE(vmc_net_backend_is_connected(b));
	vmc_virtio_net_config_init(&c);
	c.iothread = drv_iot;
	c.vm = vm;
	c.backend = b;
	ASSERT_OK(vmc_virtio_net_new(&c, &net));
	ASSERT_ERR(vmc_virtio_net_new(&c, &net2), -EBUSY);
	vmc_virtio_net_free(net);
	{
		uint8_t x = 0;
		struct vmc_net_iov v = {&x, 1};

		ASSERT_EQ(vmc_net_backend_receive(b, &v, 1), 0);
	}
	vmc_net_backend_free(b);
	ASSERT_TRUE(tb.released);
	/* A backend freed before its device: the device drops frames. */
	memset(&tb, 0, sizeof(tb));
	ASSERT_OK(vmc_net_backend_new(&tb_ops, NULL, &b));
	vmc_virtio_net_config_init(&c);
	c.iothread = drv_iot;
	c.vm = vm;
	c.queue_size = QNUM;
	c.backend = b;
	ASSERT_OK(vmc_virtio_net_new(&c, &net));
	map_dev(vmc_virtio_net_get_region(net));
	vmc_net_backend_free(b);
	drv_up(false, F_MAC | F_STATUS);
	post_tx(0, 12, 60, 1, false);
	kick(TXQ);
	ASSERT_EQ(used_idx(TXQ), 1);
	ASSERT_EQ(tb.send_calls, 0);
	unmap_dev(vmc_virtio_net_get_region(net));
	vmc_virtio_net_free(net);

	/* No backend at all: transmitted frames are dropped. */
	vmc_virtio_net_config_init(&c);
	c.iothread = drv_iot;
	c.vm = vm;
	c.queue_size = QNUM;
	ASSERT_OK(vmc_virtio_net_new(&c, &net));
	map_dev(vmc_virtio_net_get_region(net));
	drv_up(false, F_MAC | F_STATUS);
	post_tx(0, 12, 60, 1, false);
	kick(TXQ);
	ASSERT_EQ(used_idx(TXQ), 1);
	unmap_dev(vmc_virtio_net_get_region(net));
	vmc_virtio_net_free(net);
}

/* The host flips the link from its own thread while frames flow. */
#define FLIPS 2000

static void *flipper(void *arg)
{
	struct vmc_virtio_net *net = arg;
	uint8_t mac[6];

	for (int i = 0; i < FLIPS; i++) {
		ASSERT_OK(vmc_virtio_net_set_link(net, i % 2));
		ASSERT_OK(vmc_virtio_net_get_mac(net, mac));
		ASSERT_EQ(mac[0], 0x52);
	}
	return NULL;
}

static void test_link_thread(void)
{
	struct vmc_virtio_net *net = net_up(false, true, 0);
	unsigned int rx = 0;
	pthread_t t;

	drv_up(false, F_MAC | F_STATUS | F_MRG);
	ASSERT_OK(pthread_create(&t, NULL, flipper, net));
	for (unsigned int round = 0; round < 200; round++) {
		unsigned int i = round % (QNUM / 2);

		post_tx(i, 12, 60, (uint8_t)round, false);
		kick(TXQ);
		/* A frame dropped while the link is down leaves its buffer. */
		if ((uint16_t)(q[RXQ].avail_idx - used_idx(RXQ)) < QNUM / 2) {
			post_rx(q[RXQ].avail_idx % (QNUM / 2), 2048);
			kick(RXQ);
		}
		ASSERT_EQ(inject(60, (uint8_t)round), 0);
		/* Not ack_irq(): the flipper raises the line meanwhile. */
		wr(R_ACK, rd(R_ISR));
		rx = used_idx(RXQ);
	}
	ASSERT_OK(pthread_join(t, NULL));
	run_loop();
	/* Every change bumped the generation; the last one set it up. */
	ASSERT_EQ(rd(R_GEN), FLIPS);
	ASSERT_EQ(rd(R_CONFIG + 4) >> 16, 1);
	ASSERT_TRUE(vmc_virtio_net_get_link(net));
	ASSERT_EQ(used_idx(TXQ), 200);
	ASSERT_TRUE(rx <= 200);
	net_down(net);
}

/* ------------------------------------------------------------------------
 * The socket backends on loopback, through the device
 */

/* Run the loop until @cond or a second passes. */
#define WAIT_FOR(cond)                                                         \
	do {                                                                   \
		for (int w_ = 0; w_ < 1000 && !(cond); w_++) {                 \
			vmc_loop_run_once(loop, false);                        \
			usleep(1000);                                          \
		}                                                              \
		ASSERT_TRUE(cond);                                             \
	} while (0)

/* The guest sends frame @seed of @len bytes and gets the peer's back. */
static void guest_send(unsigned int i, size_t len, uint8_t seed)
{
	post_tx(i, 12, len, seed, true);
	kick(TXQ);
}

static void check_tx_bytes(const uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t k = 0; k < len; k++)
		ASSERT_EQ(p[k], (uint8_t)(seed + k));
}

static struct vmc_virtio_net *sock_net_up(struct vmc_net_backend *b)
{
	struct vmc_virtio_net *net;

	be = NULL;
	net = net_up_be(false, true, 0, b);
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	for (unsigned int i = 0; i < 4; i++)
		post_rx(i, 2048);
	kick(RXQ);
	return net;
}

static void read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		if (n < 0 && errno == EAGAIN) {
			vmc_loop_run_once(loop, false);
			usleep(1000);
			continue;
		}
		ASSERT_GT(n, 0);
		got += (size_t)n;
	}
}

/* One exchange over a connected stream peer @p. */
static void stream_exchange(struct vmc_virtio_net *net, int p)
{
	uint8_t hdr[4], buf[2048], out[4 + 300];

	guest_send(0, 98, 0x40);
	read_all(p, hdr, 4);
	ASSERT_EQ(hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3], 98);
	read_all(p, buf, 98);
	check_tx_bytes(buf, 98, 0x40);

	/* Two frames in one write, the second split across two writes. */
	out[0] = out[1] = 0;
	out[2] = 0;
	out[3] = 100;
	for (int k = 0; k < 100; k++)
		out[4 + k] = (uint8_t)(0x61 ^ k);
	out[104] = out[105] = out[106] = 0;
	out[107] = 60;
	for (int k = 0; k < 60; k++)
		out[108 + k] = (uint8_t)(0x62 ^ k);
	ASSERT_EQ(write(p, out, 130), 130);
	WAIT_FOR(used_idx(RXQ) == 1);
	ASSERT_EQ(write(p, out + 130, 38), 38);
	WAIT_FOR(used_idx(RXQ) == 2);
	ASSERT_EQ(used_len(RXQ, 0), 112);
	check_frame(rxbuf(0) + 12, 100, 0x61);
	check_frame(rxbuf(1) + 12, 60, 0x62);
	(void)net;
}

/*
 * The peer stops reading until the socket is full: the backend says
 * -EAGAIN, the device keeps the rest of the ring, and every frame arrives
 * in order once the peer reads again.
 */
static void stream_backpressure(int p)
{
	uint16_t base = used_idx(TXQ);
	unsigned int frames = 0, round;
	uint8_t hdr[4], buf[1400];

	for (round = 0; round < 4000; round++) {
		for (unsigned int i = 0; i < QNUM / 2; i++)
			post_tx(i, 12, sizeof(buf), (uint8_t)(frames + i),
				true);
		kick(TXQ);
		frames += QNUM / 2;
		if (used_idx(TXQ) != (uint16_t)(base + frames))
			break;
	}
	ASSERT_LT(round, 4000); /* the socket filled up */
	for (unsigned int k = 0; k < frames; k++) {
		read_all(p, hdr, 4);
		ASSERT_EQ(hdr[2] << 8 | hdr[3], sizeof(buf));
		read_all(p, buf, sizeof(buf));
		check_tx_bytes(buf, sizeof(buf), (uint8_t)k);
	}
	WAIT_FOR(used_idx(TXQ) == (uint16_t)(base + frames));
	fprintf(stderr, "   backpressure after %u frames\n", frames);
}

static void test_stream(void)
{
	char dir[] = "/tmp/vmc-net-XXXXXX", path[64];
	struct vmc_net_stream_config c;
	struct vmc_virtio_net *net;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sin);
	struct vmc_net_backend *b;
	char port[16];
	int l, p;

	/* A TCP client against the test's listener. */
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_OK(bind(l, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_OK(listen(l, 1));
	ASSERT_OK(getsockname(l, (struct sockaddr *)&sin, &len));
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));
	vmc_net_stream_config_init(&c);
	c.vm = vm;
	c.addr.type = VMC_NET_ADDR_INET;
	c.addr.host = "127.0.0.1";
	c.addr.port = port;
	ASSERT_OK(vmc_net_stream_new(&c, &b));
	ASSERT_TRUE(vmc_net_backend_is_connected(b));
	ASSERT_TRUE(vmc_net_backend_get_ifname(b) == NULL);
	p = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ASSERT_GE(p, 0);
	net = sock_net_up(b);
	stream_exchange(net, p);
	stream_backpressure(p);
	/* The server hangs up: frames are dropped, chains returned. */
	close(p);
	WAIT_FOR(!vmc_net_backend_is_connected(b));
	{
		uint16_t u = used_idx(TXQ);

		guest_send(1, 60, 1);
		ASSERT_EQ(used_idx(TXQ), (uint16_t)(u + 1));
	}
	net_down(net);
	vmc_net_backend_free(b);
	close(l);

	/* A unix server, with the test connecting. */
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/net.sock", dir);
	vmc_net_stream_config_init(&c);
	c.vm = vm;
	c.server = true;
	c.addr.type = VMC_NET_ADDR_UNIX;
	c.addr.path = path;
	ASSERT_OK(vmc_net_stream_new(&c, &b));
	ASSERT_FALSE(vmc_net_backend_is_connected(b));
	net = sock_net_up(b);
	guest_send(0, 60, 1); /* nobody there: dropped */
	ASSERT_EQ(used_idx(TXQ), 1);
	p = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ASSERT_OK(connect(p, (struct sockaddr *)&sun, sizeof(sun)));
	WAIT_FOR(vmc_net_backend_is_connected(b));
	q[TXQ].avail_idx = 0; /* start the driver's rings afresh */
	drv_up(false, F_MAC | F_STATUS | F_MRG);
	for (unsigned int i = 0; i < 4; i++)
		post_rx(i, 2048);
	kick(RXQ);
	fcntl(p, F_SETFL, O_NONBLOCK);
	stream_exchange(net, p);
	/* A frame longer than VMC_NET_MAX_FRAME: the peer is cut off. */
	{
		uint8_t big[4] = {0, 1, 0, 1};

		ASSERT_EQ(write(p, big, 4), 4);
		WAIT_FOR(!vmc_net_backend_is_connected(b));
	}
	close(p);
	/* The server takes the next client. */
	{
		uint8_t hdr[4], buf[64];

		p = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			   0);
		ASSERT_OK(connect(p, (struct sockaddr *)&sun, sizeof(sun)));
		WAIT_FOR(vmc_net_backend_is_connected(b));
		guest_send(3, 60, 0x21);
		read_all(p, hdr, 4);
		ASSERT_EQ(hdr[3], 60);
		read_all(p, buf, 60);
		check_tx_bytes(buf, 60, 0x21);
		close(p);
	}
	net_down(net);
	vmc_net_backend_free(b);
	ASSERT_ERR(access(path, F_OK), -1); /* the socket file is gone */
	rmdir(dir);

	/* Refused arguments. */
	vmc_net_stream_config_init(&c);
	c.vm = vm;
	ASSERT_ERR(vmc_net_stream_new(&c, &b), -EINVAL);
	c.addr.type = VMC_NET_ADDR_INET;
	c.addr.port = "1";
	ASSERT_ERR(vmc_net_stream_new(&c, &b), -EINVAL); /* client, no host */
	c.addr.host = "127.0.0.1";
	c.addr.port = port; /* closed now */
	ASSERT_ERR(vmc_net_stream_new(&c, &b), -ECONNREFUSED);
}

static void dgram_exchange(struct vmc_virtio_net *net, int p,
			   const struct sockaddr *to, socklen_t tolen)
{
	uint8_t buf[2048];
	ssize_t n;

	guest_send(0, 98, 0x50);
	do {
		vmc_loop_run_once(loop, false);
		n = recv(p, buf, sizeof(buf), MSG_DONTWAIT);
	} while (n < 0 && errno == EAGAIN);
	ASSERT_EQ(n, 98);
	check_tx_bytes(buf, 98, 0x50);
	for (int k = 0; k < 300; k++)
		buf[k] = (uint8_t)(0x71 ^ k);
	ASSERT_EQ(sendto(p, buf, 300, 0, to, tolen), 300);
	WAIT_FOR(used_idx(RXQ) == 1);
	ASSERT_EQ(used_len(RXQ, 0), 312);
	check_frame(rxbuf(0) + 12, 300, 0x71);
	(void)net;
}

static void test_dgram(void)
{
	char dir[] = "/tmp/vmc-net-XXXXXX", lpath[64], rpath[64];
	struct sockaddr_in peer = {.sin_family = AF_INET}, me = peer;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct vmc_net_dgram_config c;
	struct vmc_virtio_net *net;
	socklen_t len = sizeof(peer);
	struct vmc_net_backend *b;
	char pport[16], lport[16];
	int p, t;

	p = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_OK(bind(p, (struct sockaddr *)&peer, sizeof(peer)));
	ASSERT_OK(getsockname(p, (struct sockaddr *)&peer, &len));
	snprintf(pport, sizeof(pport), "%u", ntohs(peer.sin_port));
	/* A free port for the backend's end. */
	t = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_OK(bind(t, (struct sockaddr *)&me, sizeof(me)));
	len = sizeof(me);
	ASSERT_OK(getsockname(t, (struct sockaddr *)&me, &len));
	snprintf(lport, sizeof(lport), "%u", ntohs(me.sin_port));
	close(t);

	vmc_net_dgram_config_init(&c);
	c.vm = vm;
	c.local.type = VMC_NET_ADDR_INET;
	c.local.host = "127.0.0.1";
	c.local.port = lport;
	c.remote.type = VMC_NET_ADDR_INET;
	c.remote.host = "127.0.0.1";
	c.remote.port = pport;
	ASSERT_OK(vmc_net_dgram_new(&c, &b));
	ASSERT_TRUE(vmc_net_backend_is_connected(b));
	net = sock_net_up(b);
	dgram_exchange(net, p, (struct sockaddr *)&me, sizeof(me));
	net_down(net);
	vmc_net_backend_free(b);
	close(p);

	/* Unix datagram sockets. */
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(lpath, sizeof(lpath), "%s/local", dir);
	snprintf(rpath, sizeof(rpath), "%s/remote", dir);
	p = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", rpath);
	ASSERT_OK(bind(p, (struct sockaddr *)&sun, sizeof(sun)));
	vmc_net_dgram_config_init(&c);
	c.vm = vm;
	c.local.type = VMC_NET_ADDR_UNIX;
	c.local.path = lpath;
	c.remote.type = VMC_NET_ADDR_UNIX;
	c.remote.path = rpath;
	ASSERT_OK(vmc_net_dgram_new(&c, &b));
	net = sock_net_up(b);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", lpath);
	dgram_exchange(net, p, (struct sockaddr *)&sun, sizeof(sun));
	net_down(net);
	vmc_net_backend_free(b);
	close(p);
	unlink(rpath);
	ASSERT_ERR(access(lpath, F_OK), -1);
	rmdir(dir);

	/* One end of a socketpair, as QEMU's local.type=fd. */
	{
		int sv[2];

		ASSERT_OK(
			socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
		vmc_net_dgram_config_init(&c);
		c.vm = vm;
		c.local.type = VMC_NET_ADDR_FD;
		c.local.fd = sv[0];
		ASSERT_OK(vmc_net_dgram_new(&c, &b));
		close(sv[0]); /* the backend has its own */
		net = sock_net_up(b);
		dgram_exchange(net, sv[1], NULL, 0);
		net_down(net);
		vmc_net_backend_free(b);
		close(sv[1]);
	}

	/* Refused combinations. */
	vmc_net_dgram_config_init(&c);
	c.vm = vm;
	ASSERT_ERR(vmc_net_dgram_new(&c, &b), -EINVAL);
	c.local.type = VMC_NET_ADDR_UNIX;
	c.local.path = lpath;
	c.remote.type = VMC_NET_ADDR_INET;
	c.remote.host = "127.0.0.1";
	c.remote.port = "1";
	ASSERT_ERR(vmc_net_dgram_new(&c, &b), -EINVAL);
	vmc_net_dgram_config_init(&c);
	c.vm = vm;
	c.remote.type = VMC_NET_ADDR_INET;
	c.remote.host = "230.0.0.1";
	c.remote.port = "1234";
	ASSERT_ERR(vmc_net_dgram_new(&c, &b), -EOPNOTSUPP);
}

/* Each case on a fresh harness VM. */
#define CASE(name, call)                                                       \
	static void name(void)                                                 \
	{                                                                      \
		vm_up();                                                       \
		call;                                                          \
		vm_down();                                                     \
	}
CASE(config, test_config())
CASE(tx_modern, test_tx(false, true))
CASE(tx_legacy, test_tx(true, false))
CASE(tx_legacy_mrg, test_tx(true, true))
CASE(rx_modern, test_rx_plain(false))
CASE(rx_legacy, test_rx_plain(true))
CASE(rx_mergeable_modern, test_rx_mergeable(false))
CASE(rx_mergeable_legacy, test_rx_mergeable(true))
CASE(backpressure, test_backpressure())
CASE(link_status, test_link())
CASE(tx_blocked, test_tx_blocked())
CASE(link_thread, test_link_thread())
CASE(malformed, test_malformed())
CASE(args, test_args())
CASE(stream, test_stream())
CASE(dgram, test_dgram())

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(config);
	RUN(tx_modern);
	RUN(tx_legacy);
	RUN(tx_legacy_mrg);
	RUN(rx_modern);
	RUN(rx_legacy);
	RUN(rx_mergeable_modern);
	RUN(rx_mergeable_legacy);
	RUN(backpressure);
	RUN(link_status);
	RUN(tx_blocked);
	RUN(link_thread);
	RUN(malformed);
	RUN(args);
	RUN(stream);
	RUN(dgram);
	return 0;
}
