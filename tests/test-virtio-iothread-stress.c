/* SPDX-License-Identifier: MIT */
/*
 * Every virtio device on an I/O thread, driven from several threads at
 * once (harness accelerator; meant for the tsan setup as well):
 * - a notify storm: a thread writing QueueNotify for every queue,
 * - the driver (this thread) posting requests, waiting for some, and
 *   resetting the device in the middle of others,
 * - the host side: a socket peer sending into the backend (net, console),
 *   clients connecting to the vsock socket, a thread toggling the link,
 * - a thread reading and acknowledging InterruptStatus,
 * - then the device freed while all of that still goes on (only the
 *   threads that call into the device object itself stop first).
 * Afterwards the interrupt line must never have been set without the VM
 * lock (it needs it), and every request waited for must be answered.
 * blk also takes a snapshot (vmc_vm_save_fd()) with requests in flight:
 * the save waits for them and publishes them, and a load puts it back.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

/* This test plays its own driver; some helpers stay unused. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "virtio-driver.h"
#pragma GCC diagnostic pop

#define DATA_GPA (RAM_BASE + 0x80000) /* 4 KiB per request */
#define HDR_GPA (RAM_BASE + 0x30000)  /* 16 bytes per request */
#define ST_GPA (RAM_BASE + 0x38000)   /* 1 byte per request */
#define NUM 64			      /* entries per queue */
#define NREQ 16			      /* requests per round and queue */

static struct vmc_iothread *iot;
static struct vmc_irq *line;
static _Atomic unsigned int line_unlocked;
static _Atomic bool stop_storm, stop_host;
/* The "vCPUs" are stopped (a snapshot): no notifications meanwhile. */
static _Atomic bool storm_hold, storm_held;
static unsigned int storm_nq;

static void on_line(void *opaque, unsigned int n, bool level)
{
	if (!vmc_vm_lock_held(vm))
		atomic_fetch_add(&line_unlocked, 1);
}

/* ------------------------------------------------------------------------
 * The driver: rings without clearing RAM (a stale request of the last
 * round may still be on its way out through a socket).
 */

static void publish(unsigned int qi, uint16_t head)
{
	struct drv *d = &q[qi];

	put16(d->avail + 4 + 2 * (d->avail_idx % d->num), head);
	d->avail_idx++;
	__atomic_store_n((uint16_t *)gpa(d->avail + 2), d->avail_idx,
			 __ATOMIC_SEQ_CST);
}

static uint16_t used_load(unsigned int qi)
{
	return __atomic_load_n((uint16_t *)gpa(q[qi].used + 2),
			       __ATOMIC_ACQUIRE);
}

/* Until queue @qi has at least @want used entries (10 s at most). */
static bool wait_for(unsigned int qi, uint16_t want)
{
	int64_t end = vmc_test_now_ns() + 10000000000ll;

	while ((uint16_t)(used_load(qi) - want) >= 0x8000) {
		if (vmc_test_now_ns() > end)
			return false;
		usleep(100);
	}
	return true;
}

static void init_rings(unsigned int nq)
{
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 0);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1); /* VERSION_1 */
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	for (unsigned int i = 0; i < nq; i++) {
		struct drv *d = &q[i];

		*d = (struct drv){.num = NUM};
		d->desc = DESC_GPA + 0x4000 * i;
		d->avail = AVAIL_GPA + 0x4000 * i;
		d->used = USED_GPA + 0x4000 * i;
		__atomic_store_n((uint16_t *)gpa(d->avail + 2), 0,
				 __ATOMIC_SEQ_CST);
		__atomic_store_n((uint16_t *)gpa(d->used + 2), 0,
				 __ATOMIC_SEQ_CST);
		wr(R_QSEL, i);
		wr(R_QNUM, NUM);
		wr(R_DESC_LO, (uint32_t)d->desc);
		wr(R_DESC_HI, (uint32_t)(d->desc >> 32));
		wr(R_AVAIL_LO, (uint32_t)d->avail);
		wr(R_AVAIL_HI, (uint32_t)(d->avail >> 32));
		wr(R_USED_LO, (uint32_t)d->used);
		wr(R_USED_HI, (uint32_t)(d->used >> 32));
		wr(R_QREADY, 1);
	}
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* Request @i of queue @qi: one buffer, device-writable or not. */
static void post_buf(unsigned int qi, unsigned int i, uint32_t len, bool w)
{
	uint64_t buf = DATA_GPA + 0x40000 * qi + 4096 * i;

	set_desc(q[qi].desc, i, buf, len, w ? D_WRITE : 0, 0);
	publish(qi, (uint16_t)i);
}

/* ------------------------------------------------------------------------
 * The other threads
 */

static void *storm_thread(void *arg)
{
	while (!atomic_load(&stop_storm)) {
		atomic_store(&storm_held, atomic_load(&storm_hold));
		if (atomic_load(&storm_held)) {
			usleep(100);
			continue;
		}
		for (unsigned int qi = 0; qi < storm_nq; qi++)
			wr(R_NOTIFY, qi);
	}
	return NULL;
}

static void *isr_thread(void *arg)
{
	while (!atomic_load(&stop_storm)) {
		uint32_t isr = rd(R_ISR);

		if (isr)
			wr(R_ACK, isr);
		usleep(50);
	}
	return NULL;
}

struct storm {
	pthread_t notify, isr;
};

static void storm_start(struct storm *s, unsigned int nq)
{
	storm_nq = nq;
	atomic_store(&stop_storm, false);
	ASSERT_EQ(pthread_create(&s->notify, NULL, storm_thread, NULL), 0);
	ASSERT_EQ(pthread_create(&s->isr, NULL, isr_thread, NULL), 0);
}

static void storm_stop(struct storm *s)
{
	atomic_store(&stop_storm, true);
	pthread_join(s->notify, NULL);
	pthread_join(s->isr, NULL);
}

/* A socket peer: sends @arg's frames or bytes and drains what comes. */
struct peer {
	int fd;
	bool framed; /* net over a datagram socket pair: whole frames */
	pthread_t thread;
};

static void *peer_thread(void *arg)
{
	struct peer *p = arg;
	uint8_t buf[2048] = {0};

	buf[0] = 0x52; /* a unicast destination MAC */
	while (!atomic_load(&stop_host)) {
		ssize_t n = send(p->fd, buf, p->framed ? 60 : 100,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		while (recv(p->fd, buf + 100, sizeof(buf) - 100, MSG_DONTWAIT) >
		       0)
			;
		if (n < 0)
			usleep(100);
	}
	return NULL;
}

static int rounds(void)
{
	return (int)vmc_test_scale(40);
}

static void stats_check(struct vmc_virtio *dev)
{
	struct vmc_virtio_stats st = {.size = sizeof(st)};

	ASSERT_OK(vmc_virtio_get_stats(dev, &st));
	ASSERT_GT(st.notifies, 0);
}

/* ------------------------------------------------------------------------
 * virtio-blk
 */

static void blk_post(unsigned int i, uint32_t type)
{
	uint64_t hdr = HDR_GPA + 16 * i, st = ST_GPA + i;
	uint64_t data = DATA_GPA + 4096 * i;
	unsigned int d = 3 * i;

	put32(hdr, type);
	put32(hdr + 4, 0);
	put64(hdr + 8, 8 * i);
	__atomic_store_n(gpa(st), 0xee, __ATOMIC_RELAXED);
	if (type == 4) { /* FLUSH: no data */
		set_desc(q[0].desc, d, hdr, 16, D_NEXT, (uint16_t)(d + 2));
	} else {
		set_desc(q[0].desc, d, hdr, 16, D_NEXT, (uint16_t)(d + 1));
		set_desc(q[0].desc, d + 1, data, 4096,
			 D_NEXT | (type ? 0 : D_WRITE), (uint16_t)(d + 2));
	}
	set_desc(q[0].desc, d + 2, st, 1, D_WRITE, 0);
	publish(0, (uint16_t)d);
}

static uint8_t *save(size_t *len)
{
	int fd = memfd_create("snap", MFD_CLOEXEC);
	struct stat st;
	uint8_t *p;

	ASSERT_GE(fd, 0);
	ASSERT_OK(vmc_vm_save_fd(vm, fd));
	ASSERT_OK(fstat(fd, &st));
	p = malloc((size_t)st.st_size);
	ASSERT_NOT_NULL(p);
	ASSERT_EQ(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void load(const uint8_t *p, size_t len)
{
	int fd = memfd_create("snap", MFD_CLOEXEC);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, p, len), (ssize_t)len);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	ASSERT_OK(vmc_vm_load_fd(vm, fd));
	close(fd);
}

static void check_blk(enum vmc_virtio_blk_aio aio)
{
	char path[] = "/tmp/vmc-iot-blk-XXXXXX";
	struct vmc_virtio_blk_config c;
	struct vmc_virtio_blk *blk;
	struct storm s;
	uint8_t *snap;
	size_t len;
	int fd, r;

	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	unlink(path);
	ASSERT_OK(ftruncate(fd, 1 << 20));
	vmc_virtio_blk_config_init(&c);
	c.vm = vm;
	c.irq = line;
	c.fd = fd;
	c.aio = aio;
	c.threads = 2;
	c.queue_size = NUM;
	c.iothread = iot;
	r = vmc_virtio_blk_new(&c, &blk);
	if (r == -EOPNOTSUPP) {
		fprintf(stderr, "   io_uring unavailable, skipped\n");
		close(fd);
		return;
	}
	ASSERT_OK(r);
	map_dev(vmc_virtio_blk_get_region(blk));
	storm_start(&s, 1);
	for (int round = 0; round < rounds(); round++) {
		init_rings(1);
		for (unsigned int i = 0; i < NREQ; i++)
			blk_post(i, i % 3 ? 1 : 0);
		wr(R_NOTIFY, 0);
		if (round % 4 == 0) {
			/* Waited for: every request answered, OK. */
			ASSERT_TRUE(wait_for(0, NREQ));
			ASSERT_EQ(used_load(0), NREQ);
			for (unsigned int i = 0; i < NREQ; i++)
				ASSERT_EQ(*gpa(ST_GPA + i), 0);
			continue;
		}
		if (round % 4 == 1) {
			/*
			 * A snapshot in flight: once the I/O thread took the
			 * kick (two jobs in a row), every request is popped;
			 * the save waits for those still in flight and
			 * publishes them before it saves the rings.
			 */
			vmc_iothread_run_sync(iot, drv_nop, NULL);
			vmc_iothread_run_sync(iot, drv_nop, NULL);
			/*
			 * As on a paused VM, no vCPU notifies while the
			 * snapshot is saved and loaded: the storm holds, and
			 * the I/O thread finishes the notifications it got.
			 */
			atomic_store(&storm_hold, true);
			while (!atomic_load(&storm_held))
				usleep(100);
			vmc_iothread_run_sync(iot, drv_nop, NULL);
			vmc_iothread_run_sync(iot, drv_nop, NULL);
			snap = save(&len);
			ASSERT_EQ(used_load(0), NREQ);
			load(snap, len);
			free(snap);
			ASSERT_EQ(used_load(0), NREQ);
			atomic_store(&storm_hold, false);
			/* The device goes on after the load. */
			blk_post(NREQ, 4); /* FLUSH */
			wr(R_NOTIFY, 0);
			ASSERT_TRUE(wait_for(0, NREQ + 1));
			continue;
		}
		usleep((unsigned int)(round % 5) * 200);
		/* Reset in flight (the VM lock, as a vCPU would). */
		wr(R_STATUS, 0);
	}
	/* Freed with requests in flight and the storm on. */
	init_rings(1);
	for (unsigned int i = 0; i < NREQ; i++)
		blk_post(i, 1);
	wr(R_NOTIFY, 0);
	unmap_dev(vmc_virtio_blk_get_region(blk));
	stats_check(vmc_virtio_blk_get_virtio(blk));
	vmc_virtio_blk_free(blk);
	storm_stop(&s);
	close(fd);
}

/* ------------------------------------------------------------------------
 * virtio-net over a datagram socket pair, with the link toggling
 */

static struct vmc_virtio_net *toggled;

static void *link_thread(void *arg)
{
	bool up = false;

	while (!atomic_load(&stop_host)) {
		ASSERT_OK(vmc_virtio_net_set_link(toggled, up));
		up = !up;
		usleep(300);
	}
	ASSERT_OK(vmc_virtio_net_set_link(toggled, true));
	return NULL;
}

static void test_net(void)
{
	struct vmc_net_dgram_config dc;
	struct vmc_virtio_net_config c;
	struct vmc_net_backend *be;
	struct vmc_virtio_net *net;
	struct peer p = {.framed = true};
	pthread_t link;
	struct storm s;
	int sv[2];

	ASSERT_OK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	vmc_net_dgram_config_init(&dc);
	dc.vm = vm;
	dc.local.type = VMC_NET_ADDR_FD;
	dc.local.fd = sv[0];
	ASSERT_OK(vmc_net_dgram_new(&dc, &be));
	close(sv[0]);
	vmc_virtio_net_config_init(&c);
	c.vm = vm;
	c.irq = line;
	c.backend = be;
	c.queue_size = NUM;
	c.mrg_rxbuf = false;
	c.iothread = iot;
	ASSERT_OK(vmc_virtio_net_new(&c, &net));
	map_dev(vmc_virtio_net_get_region(net));
	p.fd = sv[1];
	atomic_store(&stop_host, false);
	ASSERT_EQ(pthread_create(&p.thread, NULL, peer_thread, &p), 0);
	toggled = net;
	ASSERT_EQ(pthread_create(&link, NULL, link_thread, NULL), 0);
	storm_start(&s, 2);
	for (int round = 0; round < rounds(); round++) {
		init_rings(2);
		for (unsigned int i = 0; i < NREQ; i++) {
			post_buf(0, i, 1526, true);
			/* A header (zeros) and a 60-byte frame. */
			post_buf(1, i, 72, false);
		}
		wr(R_NOTIFY, 0);
		wr(R_NOTIFY, 1);
		/* Transmit completes, link up or down (dropped when down). */
		ASSERT_TRUE(wait_for(1, NREQ));
		usleep((unsigned int)(round % 5) * 200);
		wr(R_STATUS, 0);
	}
	/* The link thread calls into the device: it stops first. */
	atomic_store(&stop_host, true);
	pthread_join(link, NULL);
	atomic_store(&stop_host, false);
	init_rings(2);
	for (unsigned int i = 0; i < NREQ; i++)
		post_buf(0, i, 1526, true);
	wr(R_NOTIFY, 0);
	unmap_dev(vmc_virtio_net_get_region(net));
	stats_check(vmc_virtio_net_get_virtio(net));
	vmc_virtio_net_free(net); /* the peer still sends */
	storm_stop(&s);
	atomic_store(&stop_host, true);
	pthread_join(p.thread, NULL);
	vmc_net_backend_free(be);
	close(sv[1]);
}

/* A backend freed before its device, while frames come and go. */
static void test_net_backend_first(void)
{
	struct vmc_net_dgram_config dc;
	struct vmc_virtio_net_config c;
	struct vmc_net_backend *be;
	struct vmc_virtio_net *net;
	struct peer p = {.framed = true};
	struct storm s;
	int sv[2];

	ASSERT_OK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	vmc_net_dgram_config_init(&dc);
	dc.vm = vm;
	dc.local.type = VMC_NET_ADDR_FD;
	dc.local.fd = sv[0];
	ASSERT_OK(vmc_net_dgram_new(&dc, &be));
	close(sv[0]);
	vmc_virtio_net_config_init(&c);
	c.vm = vm;
	c.irq = line;
	c.backend = be;
	c.queue_size = NUM;
	c.iothread = iot;
	ASSERT_OK(vmc_virtio_net_new(&c, &net));
	map_dev(vmc_virtio_net_get_region(net));
	p.fd = sv[1];
	atomic_store(&stop_host, false);
	ASSERT_EQ(pthread_create(&p.thread, NULL, peer_thread, &p), 0);
	storm_start(&s, 2);
	init_rings(2);
	for (unsigned int i = 0; i < NREQ; i++) {
		post_buf(0, i, 1526, true);
		post_buf(1, i, 72, false);
	}
	wr(R_NOTIFY, 0);
	wr(R_NOTIFY, 1);
	usleep(2000);
	vmc_net_backend_free(be);
	/* Frames sent now go nowhere but come back used. */
	for (unsigned int i = NREQ; i < 2 * NREQ; i++)
		post_buf(1, i, 72, false);
	wr(R_NOTIFY, 1);
	ASSERT_TRUE(wait_for(1, 2 * NREQ));
	unmap_dev(vmc_virtio_net_get_region(net));
	vmc_virtio_net_free(net);
	storm_stop(&s);
	atomic_store(&stop_host, true);
	pthread_join(p.thread, NULL);
	close(sv[1]);
}

/* ------------------------------------------------------------------------
 * virtio-console on a stream socket pair
 */

static void test_console(void)
{
	struct vmc_virtio_console_config c;
	struct vmc_virtio_console *con;
	struct peer p = {0};
	struct storm s;
	int sv[2];

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	vmc_virtio_console_config_init(&c);
	c.vm = vm;
	c.irq = line;
	c.in_fd = c.out_fd = sv[0];
	c.iothread = iot;
	ASSERT_OK(vmc_virtio_console_new(&c, &con));
	map_dev(vmc_virtio_console_get_region(con));
	p.fd = sv[1];
	atomic_store(&stop_host, false);
	ASSERT_EQ(pthread_create(&p.thread, NULL, peer_thread, &p), 0);
	storm_start(&s, 2);
	for (int round = 0; round < rounds(); round++) {
		init_rings(2);
		for (unsigned int i = 0; i < NREQ; i++) {
			post_buf(0, i, 256, true);
			post_buf(1, i, 64, false);
		}
		wr(R_NOTIFY, 0);
		wr(R_NOTIFY, 1);
		/* The peer reads everything: output completes; input too. */
		ASSERT_TRUE(wait_for(1, NREQ));
		ASSERT_TRUE(wait_for(0, NREQ));
		for (unsigned int i = 0; i < NREQ; i++)
			post_buf(0, NREQ + i, 256, true);
		wr(R_NOTIFY, 0);
		usleep((unsigned int)(round % 5) * 200);
		wr(R_STATUS, 0);
	}
	init_rings(2);
	for (unsigned int i = 0; i < NREQ; i++)
		post_buf(0, i, 256, true);
	wr(R_NOTIFY, 0);
	unmap_dev(vmc_virtio_console_get_region(con));
	stats_check(vmc_virtio_console_get_virtio(con));
	vmc_virtio_console_free(con);
	storm_stop(&s);
	atomic_store(&stop_host, true);
	pthread_join(p.thread, NULL);
	close(sv[0]);
	close(sv[1]);
}

/* ------------------------------------------------------------------------
 * virtio-vsock: host clients keep connecting
 */

static char uds[64];

static void *client_thread(void *arg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_Atomic unsigned int *connects = arg;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", uds);
	while (!atomic_load(&stop_host)) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char b[64];

		ASSERT_GE(fd, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			atomic_fetch_add(connects, 1);
			/* The device may close first: no SIGPIPE. */
			(void)!send(fd, "CONNECT 1234\n", 13, MSG_NOSIGNAL);
			(void)!send(fd, "payload", 7, MSG_NOSIGNAL);
			usleep(200);
			(void)!recv(fd, b, sizeof(b), MSG_DONTWAIT);
		}
		close(fd);
	}
	return NULL;
}

static void test_vsock(void)
{
	struct vmc_virtio_vsock_config c;
	struct vmc_virtio_vsock *vs;
	_Atomic unsigned int connects = 0;
	pthread_t client;
	struct storm s;

	snprintf(uds, sizeof(uds), "/tmp/vmc-iot-vsock-%d", (int)getpid());
	vmc_virtio_vsock_config_init(&c);
	c.vm = vm;
	c.irq = line;
	c.guest_cid = 3;
	c.uds_path = uds;
	c.iothread = iot;
	ASSERT_OK(vmc_virtio_vsock_new(&c, &vs));
	map_dev(vmc_virtio_vsock_get_region(vs));
	atomic_store(&stop_host, false);
	ASSERT_EQ(pthread_create(&client, NULL, client_thread, &connects), 0);
	storm_start(&s, 2);
	for (int round = 0; round < rounds(); round++) {
		init_rings(2);
		for (unsigned int i = 0; i < NREQ; i++)
			post_buf(0, i, 4096, true);
		wr(R_NOTIFY, 0);
		/* A client's hello becomes a REQUEST in a receive buffer. */
		if (round % 4 == 0)
			ASSERT_TRUE(wait_for(0, 1));
		usleep((unsigned int)(round % 5) * 300);
		wr(R_STATUS, 0);
	}
	init_rings(2);
	for (unsigned int i = 0; i < NREQ; i++)
		post_buf(0, i, 4096, true);
	wr(R_NOTIFY, 0);
	usleep(1000);
	unmap_dev(vmc_virtio_vsock_get_region(vs));
	stats_check(vmc_virtio_vsock_get_virtio(vs));
	vmc_virtio_vsock_free(vs); /* clients still connecting */
	storm_stop(&s);
	atomic_store(&stop_host, true);
	pthread_join(client, NULL);
	ASSERT_GT(atomic_load(&connects), 0);
}

/* ------------------------------------------------------------------------ */

static void setup(void)
{
	vm_up();
	ASSERT_OK(vmc_iothread_new("vmc-io-stress", &iot));
	ASSERT_OK(vmc_irq_new(on_line, NULL, 0, &line));
	atomic_store(&line_unlocked, 0);
}

static void teardown(void)
{
	ASSERT_EQ(atomic_load(&line_unlocked), 0);
	vmc_irq_free(line);
	vmc_iothread_free(iot);
	iot = NULL;
	vm_down();
}

static void test_blk_threads(void)
{
	setup();
	check_blk(VMC_VIRTIO_BLK_AIO_THREADS);
	teardown();
}

static void test_blk_io_uring(void)
{
	setup();
	check_blk(VMC_VIRTIO_BLK_AIO_IO_URING);
	teardown();
}

static void run_net(void)
{
	setup();
	test_net();
	test_net_backend_first();
	teardown();
}

static void run_console(void)
{
	setup();
	test_console();
	teardown();
}

static void run_vsock(void)
{
	setup();
	test_vsock();
	teardown();
}

int main(void)
{
	RUN(test_blk_threads);
	RUN(test_blk_io_uring);
	RUN(run_net);
	RUN(run_console);
	RUN(run_vsock);
	return 0;
}
