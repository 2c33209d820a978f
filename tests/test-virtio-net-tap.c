/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on a TAP backend, inside a network namespace the test makes
 * for itself (unshare(CLONE_NEWNET)), so no host interface is touched.
 * The host peer is an AF_PACKET socket on the TAP interface: frames the
 * guest (the test, through virtio-driver.h) transmits come out of the
 * interface, and frames the peer sends go into the guest's receive
 * buffers.  Also: a named interface, and a flood from the peer while the
 * guest has no buffers (the backend stops, the frames wait in the
 * kernel's queue, the first arrives once buffers come).
 *
 * Skipped (77) without CAP_NET_ADMIN or /dev/net/tun.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#include "virtio-driver.h"

#define F_MAC (1ull << 5)
#define F_MRG (1ull << 15)
#define F_STATUS (1ull << 16)
#define RXQ 0
#define TXQ 1
#define QNUM 16
#define RXBUF_GPA (RAM_BASE + 0x20000)
#define TXBUF_GPA (RAM_BASE + 0x60000)

static void if_up(const char *name)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_GE(s, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ASSERT_OK(ioctl(s, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	ASSERT_OK(ioctl(s, SIOCSIFFLAGS, &ifr));
	close(s);
}

static int peer_open(const char *name)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex(name),
	};
	int p = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       htons(ETH_P_ALL));

	ASSERT_GE(p, 0);
	ASSERT_GT(sll.sll_ifindex, 0);
	ASSERT_OK(bind(p, (struct sockaddr *)&sll, sizeof(sll)));
	return p;
}

/* A frame with EtherType 0x88b5 (local experimental) and a pattern. */
static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	static const uint8_t dst[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t k = 14; k < len; k++)
		f[k] = (uint8_t)(seed ^ k);
}

static void post_rx(unsigned int i)
{
	set_desc(q[RXQ].desc, i, RXBUF_GPA + 0x800 * i, 2048, D_WRITE, 0);
	make_avail(RXQ, (uint16_t)i);
}

static void wait_used(unsigned int qi, uint16_t n)
{
	for (int i = 0; i < 2000 && used_idx(qi) < n; i++) {
		vmc_loop_run_once(loop, false);
		usleep(500);
	}
	ASSERT_EQ(used_idx(qi), n);
}

int main(void)
{
	struct vmc_net_tap_config tc;
	struct vmc_virtio_net_config nc;
	struct vmc_net_backend *be;
	struct vmc_virtio_net *net;
	uint8_t f[1514], got[2048];
	const char *name;
	ssize_t n;
	int p, r;

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "skip: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 77;
	}
	vm_up();
	vmc_net_tap_config_init(&tc);
	tc.vm = vm;
	tc.ifname = "vmctap%d";
	r = vmc_net_tap_new(&tc, &be);
	if (r == -ENOENT || r == -EPERM || r == -EACCES) {
		fprintf(stderr, "skip: TAP: %s\n", strerror(-r));
		return 77;
	}
	ASSERT_OK(r);
	name = vmc_net_backend_get_ifname(be);
	ASSERT_TRUE(name != NULL);
	ASSERT_EQ(strcmp(name, "vmctap0"), 0);
	ASSERT_TRUE(vmc_net_backend_is_connected(be));
	/* No IPv6 chatter from the kernel into the guest's queue. */
	{
		char path[96];
		FILE *fp;

		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
		fp = fopen(path, "w");
		if (fp) {
			fputs("1\n", fp);
			fclose(fp);
		}
	}
	if_up(name);
	p = peer_open(name);

	vmc_virtio_net_config_init(&nc);

	nc.iothread = drv_iot;
	nc.vm = vm;
	nc.irq = irq;
	nc.queue_size = QNUM;
	nc.backend = be;
	ASSERT_OK(vmc_virtio_net_new(&nc, &net));
	map_dev(vmc_virtio_net_get_region(net));
	drv_init(false, F_VERSION_1 | F_MAC | F_STATUS | F_MRG, 2, QNUM);

	/* Guest to host. */
	make_frame(gpa(TXBUF_GPA + 12), 200, 0x31);
	memset(gpa(TXBUF_GPA), 0, 12);
	set_desc(q[TXQ].desc, 0, TXBUF_GPA, 12 + 200, 0, 0);
	make_avail(TXQ, 0);
	kick(TXQ);
	ASSERT_EQ(used_idx(TXQ), 1);
	ASSERT_EQ(used_id(TXQ, 0), 0);
	ASSERT_TRUE(irq_level);
	ack_irq();
	for (int i = 0; i < 2000; i++) {
		n = recv(p, got, sizeof(got), 0);
		/* The kernel may send its own frames (IPv6 router solicits). */
		if (n == 200 && got[12] == 0x88 && got[13] == 0xb5)
			break;
		usleep(500);
	}
	ASSERT_EQ(n, 200);
	ASSERT_EQ(memcmp(got, gpa(TXBUF_GPA + 12), 200), 0);

	/* Host to guest, with no buffers yet: the backend must stop. */
	make_frame(f, 1000, 0x42);
	ASSERT_EQ(send(p, f, 1000, 0), 1000);
	for (int i = 0; i < 20; i++) {
		vmc_loop_run_once(loop, false);
		usleep(500);
	}
	for (unsigned int k = 0; k < 4; k++) {
		make_frame(f, 100 + k, (uint8_t)k);
		ASSERT_EQ(send(p, f, 100 + k, 0), (ssize_t)(100 + k));
	}
	for (int i = 0; i < 20; i++)
		vmc_loop_run_once(loop, false);
	ASSERT_EQ(used_idx(RXQ), 0);
	/* Buffers come: every frame arrives, in order, none lost. */
	for (unsigned int i = 0; i < 8; i++)
		post_rx(i);
	kick(RXQ);
	wait_used(RXQ, 5);
	make_frame(f, 1000, 0x42);
	ASSERT_EQ(used_len(RXQ, 0), 12 + 1000);
	ASSERT_EQ(memcmp(gpa(RXBUF_GPA) + 12, f, 1000), 0);
	for (unsigned int k = 0; k < 4; k++) {
		make_frame(f, 100 + k, (uint8_t)k);
		ASSERT_EQ(used_len(RXQ, (uint16_t)(k + 1)), 12 + 100 + k);
		ASSERT_EQ(memcmp(gpa(RXBUF_GPA + 0x800 * (k + 1)) + 12, f,
				 100 + k),
			  0);
	}

	close(p);
	unmap_dev(vmc_virtio_net_get_region(net));
	vmc_virtio_net_free(net);
	vmc_net_backend_free(be);
	vm_down();
	return 0;
}
