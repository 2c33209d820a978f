/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock on the harness accelerator: the test is both the guest's
 * driver (rx queue 0, tx queue 1, event queue 2, packets built by hand)
 * and the host programs on the Unix sockets.
 *
 * Covered: the configuration space and argument checks; host-to-guest
 * connections (CONNECT line, OK line, bytes both ways, refusal); guest-
 * to-host connections (PATH_P, no listener); credit both ways (the device
 * never exceeds the guest's credit and asks for more; a guest exceeding
 * the device's credit is reset; buffered bytes reach the host in order);
 * malformed headers (RST or drop, never DEVICE_NEEDS_RESET); many
 * connections and the connection limit; save/load (transport reset
 * event) and device reset closing the host sockets.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#include "virtio-driver.h"

#define CID 42
#define NUM 16
#define RXBUF_GPA (RAM_BASE + 0x40000) /* NUM buffers of RXBUF_SIZE */
#define RXBUF_SIZE 0x1000u
#define TXBUF_GPA (RAM_BASE + 0x60000) /* NUM buffers of TXBUF_SIZE */
#define TXBUF_SIZE 0x2000u
#define EVBUF_GPA (RAM_BASE + 0x30000)
#define EV_DESC (RAM_BASE + 0xc000)
#define EV_AVAIL (RAM_BASE + 0xd000)
#define EV_USED (RAM_BASE + 0xe000)
#define HDR 44

enum {
	OP_REQUEST = 1,
	OP_RESPONSE,
	OP_RST,
	OP_SHUTDOWN,
	OP_RW,
	OP_CREDIT_UPDATE,
	OP_CREDIT_REQUEST,
};

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

static char dir[32], path[64];
static struct vmc_virtio_vsock *vs;
static uint16_t rx_seen, ev_seen, ev_avail;
static unsigned int tx_next;

static void put_hdr(uint64_t a, const struct hdr *h)
{
	put64(a, h->src_cid);
	put64(a + 8, h->dst_cid);
	put32(a + 16, h->src_port);
	put32(a + 20, h->dst_port);
	put32(a + 24, h->len);
	put16(a + 28, h->type);
	put16(a + 30, h->op);
	put32(a + 32, h->flags);
	put32(a + 36, h->buf_alloc);
	put32(a + 40, h->fwd_cnt);
}

static void get_hdr(uint64_t a, struct hdr *h)
{
	memcpy(&h->src_cid, gpa(a), 8);
	memcpy(&h->dst_cid, gpa(a + 8), 8);
	h->src_port = get32(a + 16);
	h->dst_port = get32(a + 20);
	h->len = get32(a + 24);
	h->type = get16(a + 28);
	h->op = get16(a + 30);
	h->flags = get32(a + 32);
	h->buf_alloc = get32(a + 36);
	h->fwd_cnt = get32(a + 40);
}

/* A header from guest port @gp to host port @hp. */
static struct hdr ghdr(uint32_t gp, uint32_t hp, uint16_t op)
{
	return (struct hdr){.src_cid = CID,
			    .dst_cid = 2,
			    .src_port = gp,
			    .dst_port = hp,
			    .type = 1,
			    .op = op,
			    .buf_alloc = 65536};
}

static void rx_post(uint16_t d)
{
	set_desc(q[0].desc, d, RXBUF_GPA + RXBUF_SIZE * d, RXBUF_SIZE, D_WRITE,
		 0);
	make_avail(0, d);
}

static void vs_up_cfg(uint32_t buf_alloc, unsigned int max_conns)
{
	struct vmc_virtio_vsock_config c;

	vm_up();
	vmc_virtio_vsock_config_init(&c);
	c.iothread = drv_iot;
	c.vm = vm;
	c.irq = irq;
	c.guest_cid = CID;
	c.uds_path = path;
	if (buf_alloc)
		c.buf_alloc = buf_alloc;
	if (max_conns)
		c.max_connections = max_conns;
	ASSERT_OK(vmc_virtio_vsock_new(&c, &vs));
	map_dev(vmc_virtio_vsock_get_region(vs));
	drv_init(false, F_VERSION_1 | F_EVENT_IDX | F_INDIRECT, 2, NUM);
	/* The event queue, by hand: virtio-driver.h knows two queues. */
	wr(R_QSEL, 2);
	wr(R_QNUM, 4);
	wr(R_DESC_LO, (uint32_t)EV_DESC);
	wr(R_DESC_HI, (uint32_t)(EV_DESC >> 32));
	wr(R_AVAIL_LO, (uint32_t)EV_AVAIL);
	wr(R_AVAIL_HI, (uint32_t)(EV_AVAIL >> 32));
	wr(R_USED_LO, (uint32_t)EV_USED);
	wr(R_USED_HI, (uint32_t)(EV_USED >> 32));
	wr(R_QREADY, 1);
	rx_seen = ev_seen = ev_avail = 0;
	tx_next = 0;
	for (uint16_t d = 0; d < NUM; d++)
		rx_post(d);
	kick(0);
}

static void vs_up(void)
{
	vs_up_cfg(0, 0);
}

static void vs_down(void)
{
	ASSERT_FALSE(rd(R_STATUS) & S_NEEDS_RESET);
	unmap_dev(vmc_virtio_vsock_get_region(vs));
	vmc_virtio_vsock_free(vs);
	vs = NULL;
	/* The device removes its socket. */
	ASSERT_TRUE(access(path, F_OK) < 0);
	vm_down();
}

/* Send a packet: header and payload in two chained descriptors. */
static void tx(const struct hdr *h0, const void *data, uint32_t len)
{
	unsigned int slot = tx_next++ % (NUM / 2);
	uint64_t buf = TXBUF_GPA + TXBUF_SIZE * slot;
	uint16_t d = (uint16_t)(2 * slot);
	struct hdr h = *h0;

	ASSERT_TRUE(len <= TXBUF_SIZE - HDR);
	if (!h.len)
		h.len = len;
	put_hdr(buf, &h);
	if (len)
		memcpy(gpa(buf + HDR), data, len);
	if (len) {
		set_desc(q[1].desc, d, buf, HDR, D_NEXT, (uint16_t)(d + 1));
		set_desc(q[1].desc, d + 1, buf + HDR, len, 0, 0);
	} else {
		set_desc(q[1].desc, d, buf, HDR, 0, 0);
	}
	make_avail(1, d);
	kick(1);
}

/* Take the next packet the device sent; false if there is none. */
static bool rx(struct hdr *h, void *data, size_t max)
{
	uint16_t d;

	run_loop();
	if (used_idx(0) == rx_seen)
		return false;
	d = (uint16_t)used_id(0, rx_seen);
	ASSERT_TRUE(d < NUM);
	get_hdr(RXBUF_GPA + RXBUF_SIZE * d, h);
	ASSERT_EQ(used_len(0, rx_seen), HDR + h->len);
	ASSERT_TRUE(h->len <= RXBUF_SIZE - HDR);
	if (data) {
		ASSERT_TRUE(h->len <= max);
		memcpy(data, gpa(RXBUF_GPA + RXBUF_SIZE * d + HDR), h->len);
	}
	rx_seen++;
	rx_post(d);
	kick(0);
	return true;
}

static void rx_expect(struct hdr *h, uint16_t op)
{
	for (int i = 0; i < 100; i++) {
		if (rx(h, NULL, 0)) {
			if (h->op != op)
				FAIL("expected op %u, got %u", op, h->op);
			ASSERT_EQ(h->src_cid, 2);
			ASSERT_EQ(h->dst_cid, CID);
			ASSERT_EQ(h->type, 1);
			return;
		}
		usleep(1000);
	}
	FAIL("no packet (expected op %u)", op);
}

static void rx_none(void)
{
	struct hdr h;

	usleep(2000);
	if (rx(&h, NULL, 0))
		FAIL("unexpected packet op %u", h.op);
}

/* ------------------------------------------------------------------------
 * The host side
 */

static int uds_connect(const char *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_GE(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	return fd;
}

static int uds_listen(uint32_t port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_GE(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", path, port);
	unlink(sa.sun_path);
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_OK(listen(fd, 128));
	return fd;
}

static void uds_unlisten(int fd, uint32_t port)
{
	char p[160];

	snprintf(p, sizeof(p), "%s_%u", path, port);
	unlink(p);
	close(fd);
}

/* Read exactly @len bytes from @fd, running the loop meanwhile. */
static void host_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	for (int i = 0; got < len && i < 2000; i++) {
		ssize_t n =
			recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		ASSERT_TRUE(n < 0 && errno == EAGAIN);
		run_loop();
		usleep(500);
	}
	ASSERT_EQ(got, len);
}

/* The host side sees the end of the stream (EOF or reset). */
static void host_eof(int fd)
{
	char c;

	for (int i = 0; i < 2000; i++) {
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return;
		ASSERT_TRUE(n < 0 && errno == EAGAIN);
		run_loop();
		usleep(500);
	}
	FAIL("no end of stream");
}

/* Host client to guest port @gp: returns the fd, the host port. */
static int host_connect(uint32_t gp, uint32_t *hp)
{
	int fd = uds_connect(path);
	char line[64] = {0};
	char want[64];
	struct hdr h;
	size_t n;

	snprintf(line, sizeof(line), "CONNECT %u\n", gp);
	ASSERT_EQ(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	rx_expect(&h, OP_REQUEST);
	ASSERT_EQ(h.dst_port, gp);
	ASSERT_GE(h.src_port, 1u << 30);
	ASSERT_EQ(h.len, 0);
	*hp = h.src_port;
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = gp,
			 .dst_port = *hp,
			 .type = 1,
			 .op = OP_RESPONSE,
			 .buf_alloc = 65536},
	   NULL, 0);
	snprintf(want, sizeof(want), "OK %u\n", *hp);
	n = strlen(want);
	memset(line, 0, sizeof(line));
	host_read(fd, line, n);
	ASSERT_STREQ(line, want);
	return fd;
}

/* Guest port @gp connects to host port @hp, whose listener is @lfd. */
static int guest_connect(int lfd, uint32_t gp, uint32_t hp)
{
	struct hdr h;
	int fd;

	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = gp,
			 .dst_port = hp,
			 .type = 1,
			 .op = OP_REQUEST,
			 .buf_alloc = 65536},
	   NULL, 0);
	rx_expect(&h, OP_RESPONSE);
	ASSERT_EQ(h.src_port, hp);
	ASSERT_EQ(h.dst_port, gp);
	ASSERT_GE(h.buf_alloc, 4096);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_GE(fd, 0);
	return fd;
}

static void setup_paths(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vmc-vsock-XXXXXX");
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/v.sock", dir);
}

/* ------------------------------------------------------------------------
 * Cases
 */

static void test_config(void)
{
	struct vmc_virtio_vsock_config c;
	struct vmc_virtio_vsock *bad;
	uint64_t cid = 0;
	char longp[200];

	vs_up();
	ASSERT_EQ(rd(R_DEVICE_ID), 19);
	ASSERT_OK(vmc_as_read(as, DEV_BASE + R_CONFIG, &cid, 8));
	ASSERT_EQ(cid, CID);
	ASSERT_EQ(rd(R_CONFIG + 4), 0);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 0);

	vmc_virtio_vsock_config_init(&c);

	c.iothread = drv_iot;
	c.vm = vm;
	c.uds_path = path;
	ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EINVAL); /* no CID */
	c.guest_cid = 2;
	ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EINVAL);
	c.guest_cid = 0xffffffffull;
	ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EINVAL);
	c.guest_cid = 3;
	ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EADDRINUSE);
	/* A stale socket file (nobody listens) is replaced. */
	{
		char stale[80];
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		snprintf(stale, sizeof(stale), "%s/stale.sock", dir);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
		ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
		close(fd);
		c.uds_path = stale;
		ASSERT_OK(vmc_virtio_vsock_new(&c, &bad));
		vmc_virtio_vsock_free(bad);
		ASSERT_TRUE(access(stale, F_OK) < 0);
		/* Another kind of file stays. */
		fd = open(stale, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		close(fd);
		ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EADDRINUSE);
		unlink(stale);
		c.uds_path = path;
	}
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	c.uds_path = longp;
	ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EINVAL);
	c.uds_path = path;
	c.buf_alloc = 100;
	ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EINVAL);
	c.buf_alloc = 4096;
	c.max_connections = 0;
	ASSERT_ERR(vmc_virtio_vsock_new(&c, &bad), -EINVAL);
	ASSERT_ERR(vmc_virtio_vsock_new(NULL, &bad), -EINVAL);
	vs_down();
}

static void test_host_to_guest(void)
{
	char buf[64] = {0};
	uint32_t hp, hp2;
	struct hdr h;
	int fd, fd2;

	vs_up();
	fd = host_connect(1234, &hp);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 1);
	/* Used buffers raised the line. */
	ASSERT_TRUE(irq_level);
	ack_irq();
	/* Host to guest. */
	ASSERT_EQ(write(fd, "hello", 5), 5);
	rx_expect(&h, OP_RW);
	ASSERT_EQ(h.len, 5);
	ASSERT_EQ(h.src_port, hp);
	ASSERT_EQ(h.dst_port, 1234);
	ASSERT_EQ(memcmp(gpa(RXBUF_GPA + RXBUF_SIZE * used_id(0, rx_seen - 1) +
			     HDR),
			 "hello", 5),
		  0);
	/* Guest to host. */
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 1234,
			 .dst_port = hp,
			 .type = 1,
			 .op = OP_RW,
			 .buf_alloc = 65536,
			 .fwd_cnt = 5},
	   "world", 5);
	host_read(fd, buf, 5);
	ASSERT_EQ(memcmp(buf, "world", 5), 0);
	/* A second client gets another host port. */
	fd2 = host_connect(1234, &hp2);
	ASSERT_NE(hp, hp2);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 2);
	/* The guest closes the first: the device answers RST, host EOF. */
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 1234,
			 .dst_port = hp,
			 .type = 1,
			 .op = OP_SHUTDOWN,
			 .flags = 3},
	   NULL, 0);
	rx_expect(&h, OP_RST);
	ASSERT_EQ(h.src_port, hp);
	host_eof(fd);
	close(fd);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 1);
	/* The host closes the second: SHUTDOWN to the guest, which RSTs. */
	close(fd2);
	rx_expect(&h, OP_SHUTDOWN);
	ASSERT_EQ(h.flags, 3);
	ASSERT_EQ(h.src_port, hp2);
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 1234,
			 .dst_port = hp2,
			 .type = 1,
			 .op = OP_RST},
	   NULL, 0);
	rx_none();
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 0);

	/* Nothing listens on the guest's port: it answers RST. */
	fd = uds_connect(path);
	ASSERT_EQ(write(fd, "CONNECT 99\n", 11), 11);
	rx_expect(&h, OP_REQUEST);
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 99,
			 .dst_port = h.src_port,
			 .type = 1,
			 .op = OP_RST},
	   NULL, 0);
	host_eof(fd);
	close(fd);
	/* A bad hello line: closed, nothing reaches the guest. */
	fd = uds_connect(path);
	ASSERT_EQ(write(fd, "CONNECT x\n", 10), 10);
	host_eof(fd);
	close(fd);
	fd = uds_connect(path);
	memset(buf, 'C', 40);
	ASSERT_EQ(write(fd, buf, 40), 40);
	host_eof(fd);
	close(fd);
	rx_none();
	vs_down();
}

static void test_guest_to_host(void)
{
	char buf[64] = {0};
	struct hdr h;
	int lfd, fd;

	vs_up();
	lfd = uds_listen(5000);
	fd = guest_connect(lfd, 777, 5000);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 1);
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 777,
			 .dst_port = 5000,
			 .type = 1,
			 .op = OP_RW,
			 .buf_alloc = 65536},
	   "ping", 4);
	host_read(fd, buf, 4);
	ASSERT_EQ(memcmp(buf, "ping", 4), 0);
	ASSERT_EQ(write(fd, "pong!", 5), 5);
	rx_expect(&h, OP_RW);
	ASSERT_EQ(h.len, 5);
	ASSERT_EQ(h.dst_port, 777);
	/* A duplicate REQUEST on a live connection: RST, closed. */
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 777,
			 .dst_port = 5000,
			 .type = 1,
			 .op = OP_REQUEST},
	   NULL, 0);
	rx_expect(&h, OP_RST);
	host_eof(fd);
	close(fd);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 0);
	/* No listener on 5001: RST. */
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 778,
			 .dst_port = 5001,
			 .type = 1,
			 .op = OP_REQUEST},
	   NULL, 0);
	rx_expect(&h, OP_RST);
	ASSERT_EQ(h.dst_port, 778);
	ASSERT_EQ(h.src_port, 5001);
	/* A half close from the guest: the host reads EOF, can still send. */
	fd = guest_connect(lfd, 779, 5000);
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 779,
			 .dst_port = 5000,
			 .type = 1,
			 .op = OP_SHUTDOWN,
			 .flags = 2,
			 .buf_alloc = 65536},
	   NULL, 0);
	host_eof(fd);
	ASSERT_EQ(write(fd, "x", 1), 1);
	rx_expect(&h, OP_RW);
	ASSERT_EQ(h.len, 1);
	close(fd);
	uds_unlisten(lfd, 5000);
	vs_down();
}

/* Host to guest: the device never sends more than the guest's credit. */
static void test_credit_to_guest(void)
{
	static uint8_t data[5000], got[5000];
	uint32_t hp, fwd = 0, got_len = 0;
	struct hdr h;
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	vs_up();
	fd = host_connect(80, &hp);
	/* The guest offers 1000 bytes. */
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 80,
			 .dst_port = hp,
			 .type = 1,
			 .op = OP_CREDIT_UPDATE,
			 .buf_alloc = 1000},
	   NULL, 0);
	ASSERT_EQ(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	while (got_len < sizeof(data)) {
		uint32_t round = 0;

		/* Take everything until the device asks for credit. */
		for (;;) {
			uint8_t tmp[RXBUF_SIZE];

			ASSERT_TRUE(rx(&h, tmp, sizeof(tmp)) ||
				    (usleep(1000), rx(&h, tmp, sizeof(tmp))));
			if (h.op == OP_CREDIT_REQUEST)
				break;
			ASSERT_EQ(h.op, OP_RW);
			memcpy(got + got_len, tmp, h.len);
			got_len += h.len;
			round += h.len;
			if (got_len == sizeof(data))
				break;
		}
		ASSERT_TRUE(round <= 1000);
		if (got_len < sizeof(data))
			ASSERT_EQ(round, 1000);
		fwd = got_len;
		tx(&(struct hdr){.src_cid = CID,
				 .dst_cid = 2,
				 .src_port = 80,
				 .dst_port = hp,
				 .type = 1,
				 .op = OP_CREDIT_UPDATE,
				 .buf_alloc = 1000,
				 .fwd_cnt = fwd},
		   NULL, 0);
	}
	ASSERT_EQ(memcmp(got, data, sizeof(data)), 0);
	/* At most the request that followed the last bytes. */
	while (rx(&h, NULL, 0))
		ASSERT_EQ(h.op, OP_CREDIT_REQUEST);
	close(fd);
	vs_down();
}

/* Guest to host: credit from the device, enforced; bytes in order. */
static void test_credit_from_guest(void)
{
	static uint8_t chunk[4096], back[4096];
	uint32_t sent = 0, peer_fwd = 0, peer_alloc = 0, total;
	struct hdr h;
	int lfd, fd;

	vs_up_cfg(16384, 0);
	lfd = uds_listen(6000);
	fd = guest_connect(lfd, 900, 6000);
	peer_alloc = 16384;
	/* Send while credit lasts; the host does not read. */
	for (int iter = 0; iter < 10000; iter++) {
		while (rx(&h, NULL, 0)) {
			ASSERT_EQ(h.op, OP_CREDIT_UPDATE);
			ASSERT_EQ(h.buf_alloc, 16384);
			ASSERT_TRUE(h.fwd_cnt - peer_fwd <= sent - peer_fwd);
			peer_fwd = h.fwd_cnt;
		}
		if (sent - peer_fwd + sizeof(chunk) > peer_alloc)
			break;
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)((sent + i) * 13);
		tx(&(struct hdr){.src_cid = CID,
				 .dst_cid = 2,
				 .src_port = 900,
				 .dst_port = 6000,
				 .type = 1,
				 .op = OP_RW,
				 .buf_alloc = 65536},
		   chunk, sizeof(chunk));
		sent += sizeof(chunk);
	}
	/* The socket is full, the device holds up to buf_alloc itself. */
	ASSERT_TRUE(sent - peer_fwd + sizeof(chunk) > peer_alloc);
	ASSERT_GE(sent, 65536);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 1);
	/* The host reads everything, in order; the device tells the guest. */
	total = sent;
	for (uint32_t off = 0; off < total; off += sizeof(back)) {
		host_read(fd, back, sizeof(back));
		for (size_t i = 0; i < sizeof(back); i++)
			if (back[i] != (uint8_t)((off + i) * 13))
				FAIL("byte %u differs", (unsigned)(off + i));
	}
	while (rx(&h, NULL, 0)) {
		ASSERT_EQ(h.op, OP_CREDIT_UPDATE);
		peer_fwd = h.fwd_cnt;
	}
	/* Not blocked: less than a quarter of the buffer unacknowledged. */
	ASSERT_TRUE(sent - peer_fwd < 16384 / 4);
	/* Exceeding the credit: 16 KiB + 1 unforwarded is a reset.  Fill
	 * the socket again first so that the device must buffer. */
	{
		int sndbuf = 4096;
		uint32_t unacked = 0;

		(void)sndbuf;
		for (int iter = 0; iter < 10000; iter++) {
			while (rx(&h, NULL, 0)) {
				if (h.op == OP_RST)
					FAIL("reset within credit");
				peer_fwd = h.fwd_cnt;
			}
			unacked = sent - peer_fwd;
			if (unacked + sizeof(chunk) > peer_alloc)
				break;
			tx(&(struct hdr){.src_cid = CID,
					 .dst_cid = 2,
					 .src_port = 900,
					 .dst_port = 6000,
					 .type = 1,
					 .op = OP_RW},
			   chunk, sizeof(chunk));
			sent += sizeof(chunk);
		}
		/* Beyond what the device granted, if it holds bytes. */
		tx(&(struct hdr){.src_cid = CID,
				 .dst_cid = 2,
				 .src_port = 900,
				 .dst_port = 6000,
				 .type = 1,
				 .op = OP_RW},
		   chunk, sizeof(chunk));
		tx(&(struct hdr){.src_cid = CID,
				 .dst_cid = 2,
				 .src_port = 900,
				 .dst_port = 6000,
				 .type = 1,
				 .op = OP_RW},
		   chunk, sizeof(chunk));
		rx_expect(&h, OP_RST);
		ASSERT_EQ(h.src_port, 6000);
		ASSERT_EQ(h.dst_port, 900);
	}
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 0);
	close(fd);
	uds_unlisten(lfd, 6000);
	vs_down();
}

static void test_bad_headers(void)
{
	struct hdr h, g;
	uint32_t hp;
	int fd;

	vs_up();
	/* Wrong destination CID, type, unknown op: RST, no connection. */
	g = ghdr(10, 20, OP_REQUEST);
	g.dst_cid = 7;
	tx(&g, NULL, 0);
	rx_expect(&h, OP_RST);
	ASSERT_EQ(h.dst_port, 10);
	ASSERT_EQ(h.src_port, 20);
	g = ghdr(10, 20, OP_REQUEST);
	g.type = 2; /* SEQPACKET */
	tx(&g, NULL, 0);
	rx_expect(&h, OP_RST);
	g = ghdr(10, 20, 99);
	tx(&g, NULL, 0);
	rx_expect(&h, OP_RST);
	g = ghdr(10, 20, 0);
	tx(&g, NULL, 0);
	rx_expect(&h, OP_RST);
	/* Data, shutdown, credit for a connection that does not exist. */
	g = ghdr(10, 20, OP_RW);
	tx(&g, "abc", 3);
	rx_expect(&h, OP_RST);
	g = ghdr(10, 20, OP_CREDIT_REQUEST);
	tx(&g, NULL, 0);
	rx_expect(&h, OP_RST);
	/* A spoofed source CID, a short packet, RST for nothing: dropped. */
	g = ghdr(10, 20, OP_REQUEST);
	g.src_cid = 5;
	tx(&g, NULL, 0);
	g = ghdr(10, 20, OP_RST);
	tx(&g, NULL, 0);
	set_desc(q[1].desc, 0, TXBUF_GPA, 20, 0, 0);
	make_avail(1, 0);
	kick(1);
	rx_none();

	/* A length larger than the buffer on a live connection: reset. */
	fd = host_connect(300, &hp);
	g = ghdr(300, hp, OP_RW);
	g.len = 100;
	tx(&g, "12345", 5);
	rx_expect(&h, OP_RST);
	host_eof(fd);
	close(fd);
	/* A length above 64 KiB: reset. */
	fd = host_connect(301, &hp);
	g = ghdr(301, hp, OP_RW);
	g.len = 0x10001;
	tx(&g, "12345", 5);
	rx_expect(&h, OP_RST);
	host_eof(fd);
	close(fd);
	/* A RESPONSE on an established connection: reset. */
	fd = host_connect(302, &hp);
	g = ghdr(302, hp, OP_RESPONSE);
	tx(&g, NULL, 0);
	rx_expect(&h, OP_RST);
	host_eof(fd);
	close(fd);
	/* Payload on a control packet: reset. */
	fd = host_connect(303, &hp);
	g = ghdr(303, hp, OP_CREDIT_UPDATE);
	tx(&g, "xy", 2);
	rx_expect(&h, OP_RST);
	host_eof(fd);
	close(fd);
	/* A CREDIT_REQUEST on a live connection is answered. */
	fd = host_connect(304, &hp);
	g = ghdr(304, hp, OP_CREDIT_REQUEST);
	tx(&g, NULL, 0);
	rx_expect(&h, OP_CREDIT_UPDATE);
	ASSERT_EQ(h.dst_port, 304);
	ASSERT_EQ(h.buf_alloc, 256 * 1024);
	close(fd);
	rx_expect(&h, OP_SHUTDOWN);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 1);
	/* An rx buffer that is too small is a broken driver. */
	ASSERT_FALSE(rd(R_STATUS) & S_NEEDS_RESET);
	ASSERT_EQ(log_warnings, 0);
	vs_down();
}

static void test_many(void)
{
	enum { N = 100 };
	int lfd, fds[N];
	struct hdr h;
	char buf[16];

	vs_up_cfg(0, N);
	lfd = uds_listen(7000);
	for (int i = 0; i < N; i++)
		fds[i] = guest_connect(lfd, 2000 + (uint32_t)i, 7000);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), N);
	/* One more is refused. */
	tx(&(struct hdr){.src_cid = CID,
			 .dst_cid = 2,
			 .src_port = 9999,
			 .dst_port = 7000,
			 .type = 1,
			 .op = OP_REQUEST},
	   NULL, 0);
	rx_expect(&h, OP_RST);
	/* Each connection carries its own bytes both ways. */
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "c%03d", i);
		tx(&(struct hdr){.src_cid = CID,
				 .dst_cid = 2,
				 .src_port = 2000 + (uint32_t)i,
				 .dst_port = 7000,
				 .type = 1,
				 .op = OP_RW,
				 .buf_alloc = 65536},
		   buf, 4);
	}
	for (int i = 0; i < N; i++) {
		char want[8], got[8] = {0};

		snprintf(want, sizeof(want), "c%03d", i);
		host_read(fds[i], got, 4);
		ASSERT_STREQ(got, want);
		snprintf(buf, sizeof(buf), "h%03d", i);
		ASSERT_EQ(write(fds[i], buf, 4), 4);
	}
	for (int n = 0; n < N; n++) {
		char data[8] = {0};
		unsigned int i;

		while (!rx(&h, data, sizeof(data)))
			usleep(500);
		ASSERT_EQ(h.op, OP_RW);
		i = h.dst_port - 2000;
		ASSERT_TRUE(i < N);
		snprintf(buf, sizeof(buf), "h%03u", i);
		ASSERT_EQ(memcmp(data, buf, 4), 0);
	}
	for (int i = 0; i < N; i++)
		close(fds[i]);
	uds_unlisten(lfd, 7000);
	vs_down();
}

static void test_save_load_reset(void)
{
	uint8_t st[VMC_VIRTIO_VSOCK_STATE_SIZE],
		bad[VMC_VIRTIO_VSOCK_STATE_SIZE];
	uint32_t hp;
	int fd, lfd, fd2;

	vs_up();
	ASSERT_ERR(vmc_virtio_vsock_save(vs, st, 4), -ENOSPC);
	ASSERT_EQ(vmc_virtio_vsock_save(vs, st, sizeof(st)),
		  VMC_VIRTIO_VSOCK_STATE_SIZE);
	memcpy(bad, st, sizeof(bad));
	bad[0] ^= 1;
	ASSERT_ERR(vmc_virtio_vsock_load(vs, bad, sizeof(bad)), -EINVAL);
	ASSERT_ERR(vmc_virtio_vsock_load(vs, st, 3), -EINVAL);

	fd = host_connect(55, &hp);
	lfd = uds_listen(8000);
	fd2 = guest_connect(lfd, 56, 8000);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 2);
	/* Load: connections closed, a transport reset event once the driver
	 * queues an event buffer. */
	vmc_virtio_lock(vmc_virtio_vsock_get_virtio(vs));
	ASSERT_OK(vmc_virtio_vsock_load(vs, st, sizeof(st)));
	vmc_virtio_unlock(vmc_virtio_vsock_get_virtio(vs));
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 0);
	host_eof(fd);
	host_eof(fd2);
	close(fd);
	close(fd2);
	set_desc(EV_DESC, 0, EVBUF_GPA, 4, D_WRITE, 0);
	put32(EVBUF_GPA, 0xffffffff);
	put16(EV_AVAIL + 4, 0);
	put16(EV_AVAIL + 2, 1);
	kick(2);
	ASSERT_EQ(get16(EV_USED + 2), 1);
	ASSERT_EQ(get32(EV_USED + 8), 4);
	ASSERT_EQ(get32(EVBUF_GPA), 0); /* VIRTIO_VSOCK_EVENT_TRANSPORT_RESET */

	/* A device reset closes the host sockets too. */
	fd = host_connect(57, &hp);
	wr(R_STATUS, 0);
	host_eof(fd);
	close(fd);
	ASSERT_EQ(vmc_virtio_vsock_get_connection_count(vs), 0);
	uds_unlisten(lfd, 8000);
	vs_down();
}

int main(void)
{
	setup_paths();
	RUN(test_config);
	RUN(test_host_to_guest);
	RUN(test_guest_to_host);
	RUN(test_credit_to_guest);
	RUN(test_credit_from_guest);
	RUN(test_bad_headers);
	RUN(test_many);
	RUN(test_save_load_reset);
	rmdir(dir);
	return 0;
}
