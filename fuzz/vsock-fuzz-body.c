/* SPDX-License-Identifier: MIT */
/*
 * The virtio-vsock fuzz program: a guest driver whose packets are the
 * input, and host programs on the Unix sockets whose actions are the
 * input too.
 *
 * Input: byte 0 picks the features (bit 0: event indices, bit 1:
 * indirect descriptors) and, in bits 2-4, the rx buffer size (44 bytes to
 * 4 KiB: a header-only buffer included); then commands (see
 * vsock-fuzz-body.h) until the input ends.  A TX command's flag byte
 * decides which header fields keep the input's value and which are made
 * plausible (source and destination CID, type, operation in range, ports
 * from a small set, length equal to the payload), so that both deep
 * protocol states and every malformed field are reached.
 *
 * Rules checked: after every command the device holds no more
 * connections than its limit; after the closing device reset it holds no
 * connection, its status reads 0, and no used ring changes any more.
 * ASan checks memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vsock-fuzz-body.h"

#define DEV_BASE 0x10000000ull
#define RAM_SIZE 0x20000u
#define QNUM 16u
#define Q_DESC(q) (0x1000u * (q))
#define Q_AVAIL(q) (Q_DESC(q) + 0x100u)
#define Q_USED(q) (Q_DESC(q) + 0x200u)
#define RX_BUF 0x4000u /* QNUM rx buffers of up to 4 KiB */
#define TX_BUF 0x14000u
#define MAX_CONNS 8u
#define MAX_FDS 16

struct fuzz_state {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_address_space *as;
	struct vmc_region *ram;
	uint8_t *host;
	struct vmc_virtio_vsock *dev;
	char dir[32], path[64];
	int listen[VMC_FUZZ_VSOCK_PORTS];
	int fds[MAX_FDS];
	uint16_t avail_idx[3], rx_seen;
	uint32_t rx_size;
	unsigned long total_rx, total_conns;
	bool ready;
};

static struct fuzz_state st;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static int listen_port(unsigned int port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", st.path, port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int setup(void)
{
	struct vmc_virtio_vsock_config vc;
	struct vmc_vm_config c;
	struct vmc_region *root;

	snprintf(st.dir, sizeof(st.dir), "/tmp/vmc-fuzz-vsock-XXXXXX");
	if (!mkdtemp(st.dir))
		return -1;
	/* libFuzzer ends with exit(): remove the sockets then too. */
	atexit(vmc_fuzz_virtio_vsock_cleanup);
	snprintf(st.path, sizeof(st.path), "%s/v", st.dir);
	for (int i = 0; i < MAX_FDS; i++)
		st.fds[i] = -1;
	if (vmc_loop_new(&st.loop) < 0)
		return -1;
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.loop = st.loop;
	if (vmc_vm_new(&c, &st.vm) < 0)
		return -1;
	st.as = vmc_vm_get_address_space(st.vm, VMC_AS_MEMORY);
	root = vmc_vm_get_root(st.vm, VMC_AS_MEMORY);
	if (vmc_region_new_ram(vmc_vm_get_memory(st.vm), "ram", RAM_SIZE, 0,
			       &st.ram) < 0 ||
	    vmc_region_add_subregion(root, 0, st.ram, 0) < 0)
		return -1;
	st.host = vmc_region_get_ptr(st.ram);
	vmc_virtio_vsock_config_init(&vc);
	vc.vm = st.vm;
	vc.guest_cid = VMC_FUZZ_VSOCK_CID;
	vc.uds_path = st.path;
	vc.buf_alloc = 4096;
	vc.max_connections = MAX_CONNS;
	if (vmc_virtio_vsock_new(&vc, &st.dev) < 0 ||
	    vmc_region_add_subregion(
		    root, DEV_BASE, vmc_virtio_vsock_get_region(st.dev), 0) < 0)
		return -1;
	for (unsigned int p = 0; p < VMC_FUZZ_VSOCK_PORTS; p++)
		if ((st.listen[p] = listen_port(p + 1)) < 0)
			return -1;
	return 0;
}

static void wr(uint64_t off, uint32_t v)
{
	check(vmc_as_write(st.as, DEV_BASE + off, &v, 4) == 0);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	check(vmc_as_read(st.as, DEV_BASE + off, &v, 4) == 0);
	return v;
}

static void run_loop(void)
{
	for (int i = 0; i < 3; i++)
		vmc_loop_run_once(st.loop, false);
}

static void put(uint32_t a, const void *p, size_t n)
{
	check(a + n <= RAM_SIZE);
	memcpy(st.host + a, p, n);
}

static void desc(unsigned int q, unsigned int i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint32_t d = Q_DESC(q) + 16 * i;

	put(d, &addr, 8);
	put(d + 8, &len, 4);
	put(d + 12, &flags, 2);
	put(d + 14, &next, 2);
}

static void avail(unsigned int q, uint16_t head)
{
	uint16_t i = st.avail_idx[q]++;

	put(Q_AVAIL(q) + 4 + 2 * (i % QNUM), &head, 2);
	put(Q_AVAIL(q) + 2, &st.avail_idx[q], 2);
}

static uint16_t used_idx(unsigned int q)
{
	uint16_t v;

	memcpy(&v, st.host + Q_USED(q) + 2, 2);
	return v;
}

static void drive(uint64_t features)
{
	wr(0x070, 0);
	wr(0x070, 1 | 2);
	wr(0x024, 0);
	wr(0x020, (uint32_t)features);
	wr(0x024, 1);
	wr(0x020, (uint32_t)(features >> 32));
	wr(0x070, 1 | 2 | 8);
	for (unsigned int q = 0; q < 3; q++) {
		wr(0x030, q);
		wr(0x038, QNUM);
		wr(0x080, Q_DESC(q));
		wr(0x084, 0);
		wr(0x090, Q_AVAIL(q));
		wr(0x094, 0);
		wr(0x0a0, Q_USED(q));
		wr(0x0a4, 0);
		wr(0x044, 1);
	}
	wr(0x070, 1 | 2 | 8 | 4);
}

static void rx_post(uint16_t d)
{
	desc(0, d, RX_BUF + 0x1000u * d, st.rx_size, 2, 0);
	avail(0, d);
}

/* The input, consumed byte by byte (zeros past its end). */
struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void tx_cmd(struct input *in)
{
	static const uint16_t plausible_ports[] = {1, 2, 3, 1000};
	uint8_t flags = next(in), h[44], len8;
	uint32_t len, slot = st.avail_idx[1] % (QNUM / 2);
	uint32_t buf = TX_BUF + 0x800u * slot;
	uint16_t d = (uint16_t)(2 * slot);

	for (int i = 0; i < 44; i++)
		h[i] = next(in);
	len8 = next(in);
	len = len8 * 7u; /* up to 1785 bytes */
	if (flags & 1) {
		uint64_t cid = VMC_FUZZ_VSOCK_CID;

		memcpy(h, &cid, 8);
	}
	if (flags & 2) {
		uint64_t cid = 2;

		memcpy(h + 8, &cid, 8);
	}
	if (flags & 4) {
		h[28] = 1;
		h[29] = 0;
		h[30] = (uint8_t)(1 + h[30] % 7);
		h[31] = 0;
	}
	if (flags & 8) {
		uint32_t p = plausible_ports[h[20] % 4];

		memcpy(h + 20, &p, 4);
		h[18] = h[19] = 0;
	}
	if (flags & 16)
		memcpy(h + 24, &len, 4);
	put(buf, h, 44);
	for (uint32_t i = 0; i < len; i++)
		st.host[buf + 44 + i] = next(in);
	if (flags & 32) {
		desc(1, d, buf, 44 + len, 0, 0);
	} else {
		desc(1, d, buf, 44, len ? 1 : 0, (uint16_t)(d + 1));
		desc(1, d + 1u, buf + 44, len ? len : 1, 0, 0);
	}
	avail(1, d);
	wr(0x050, 1);
}

static int free_fd_slot(void)
{
	for (int i = 0; i < MAX_FDS; i++)
		if (st.fds[i] < 0)
			return i;
	return -1;
}

static void connect_cmd(struct input *in)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int slot = free_fd_slot(), fd;
	char line[32];
	uint8_t port = next(in);

	if (slot < 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	check(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", st.path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	if (port & 0x80)
		snprintf(line, sizeof(line), "CONNECT %u\n", port & 3);
	else
		snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		close(fd);
		return;
	}
	st.fds[slot] = fd;
}

static void write_cmd(struct input *in)
{
	uint8_t buf[256];
	int fd = st.fds[next(in) % MAX_FDS];
	size_t len = next(in);

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)i;
	if (fd >= 0 && len)
		(void)!send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void close_cmd(struct input *in)
{
	int i = next(in) % MAX_FDS;

	if (st.fds[i] >= 0)
		close(st.fds[i]);
	st.fds[i] = -1;
}

static void accept_cmd(void)
{
	char buf[512];

	for (unsigned int p = 0; p < VMC_FUZZ_VSOCK_PORTS; p++) {
		int slot, fd;

		while ((fd = accept4(st.listen[p], NULL, NULL,
				     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			slot = free_fd_slot();
			if (slot < 0) {
				close(fd);
				continue;
			}
			st.fds[slot] = fd;
		}
	}
	/* Drain what the guest sent, so the device's buffers empty. */
	for (int i = 0; i < MAX_FDS; i++)
		if (st.fds[i] >= 0)
			while (recv(st.fds[i], buf, sizeof(buf), MSG_DONTWAIT) >
			       0)
				;
}

/* The guest answers: RESPONSE to REQUEST, RST to SHUTDOWN, credit. */
static void guest_cmd(void)
{
	bool sent = false;

	while (st.rx_seen != used_idx(0)) {
		uint32_t id;
		uint8_t h[44], r[44] = {0};
		uint64_t cid = VMC_FUZZ_VSOCK_CID, host = 2;
		uint16_t op, type = 1;
		uint32_t ba = 65536;
		uint32_t slot = st.avail_idx[1] % (QNUM / 2);
		uint32_t buf = TX_BUF + 0x800u * slot;

		memcpy(&id, st.host + Q_USED(0) + 4 + 8 * (st.rx_seen % QNUM),
		       4);
		st.rx_seen++;
		st.total_rx++;
		check(id < QNUM);
		memcpy(h, st.host + RX_BUF + 0x1000u * id, 44);
		rx_post((uint16_t)id);
		memcpy(&op, h + 30, 2);
		if (op == 1)
			op = 2; /* REQUEST -> RESPONSE */
		else if (op == 4)
			op = 3; /* SHUTDOWN -> RST */
		else if (op == 7 || op == 5)
			op = 6; /* -> CREDIT_UPDATE */
		else
			continue;
		memcpy(r, &cid, 8);
		memcpy(r + 8, &host, 8);
		memcpy(r + 16, h + 20, 4); /* src_port = their dst_port */
		memcpy(r + 20, h + 16, 4);
		memcpy(r + 28, &type, 2);
		memcpy(r + 30, &op, 2);
		memcpy(r + 36, &ba, 4);
		put(buf, r, 44);
		desc(1, 2 * slot, buf, 44, 0, 0);
		avail(1, (uint16_t)(2 * slot));
		sent = true;
	}
	wr(0x050, 0);
	if (sent)
		wr(0x050, 1);
}

static void poke_cmd(struct input *in)
{
	uint16_t off = (uint16_t)(next(in) | next(in) << 8);
	uint8_t v = next(in);

	/* Rings and buffers, not the rx ring of the device (kept valid). */
	st.host[0x1000u + off % (RAM_SIZE - 0x1000u)] = v;
}

static void load_cmd(void)
{
	uint8_t s[VMC_VIRTIO_VSOCK_STATE_SIZE];

	vmc_virtio_lock(vmc_virtio_vsock_get_virtio(st.dev));
	check(vmc_virtio_vsock_save(st.dev, s, sizeof(s)) == (int)sizeof(s));
	check(vmc_virtio_vsock_load(st.dev, s, sizeof(s)) == 0);
	vmc_virtio_unlock(vmc_virtio_vsock_get_virtio(st.dev));
	check(vmc_virtio_vsock_get_connection_count(st.dev) == 0);
}

int vmc_fuzz_virtio_vsock(const uint8_t *data, size_t size)
{
	static const uint32_t rx_sizes[8] = {44,   45,	 64,   300,
					     1024, 2048, 4096, 4096};
	struct input in = {data, size};
	uint64_t features = 1ull << VMC_VIRTIO_F_VERSION_1;
	uint8_t b0;
	uint16_t idx[3];

	if (!st.ready) {
		if (setup() < 0)
			abort();
		st.ready = true;
	}
	if (size < 1)
		return 0;
	b0 = next(&in);
	if (b0 & 1)
		features |= 1ull << VMC_VIRTIO_F_RING_EVENT_IDX;
	if (b0 & 2)
		features |= 1ull << VMC_VIRTIO_F_RING_INDIRECT_DESC;
	st.rx_size = rx_sizes[(b0 >> 2) & 7];

	wr(0x070, 0);
	memset(st.host, 0, RAM_SIZE);
	memset(st.avail_idx, 0, sizeof(st.avail_idx));
	st.rx_seen = 0;
	drive(features);
	for (uint16_t d = 0; d < QNUM; d++)
		rx_post(d);
	wr(0x050, 0);
	run_loop();

	while (in.n) {
		switch (next(&in) % VMC_FUZZ_VSOCK_CMDS) {
		case VMC_FUZZ_VSOCK_TX:
			tx_cmd(&in);
			break;
		case VMC_FUZZ_VSOCK_CONNECT:
			connect_cmd(&in);
			break;
		case VMC_FUZZ_VSOCK_WRITE:
			write_cmd(&in);
			break;
		case VMC_FUZZ_VSOCK_CLOSE:
			close_cmd(&in);
			break;
		case VMC_FUZZ_VSOCK_ACCEPT:
			accept_cmd();
			break;
		case VMC_FUZZ_VSOCK_GUEST:
			guest_cmd();
			break;
		case VMC_FUZZ_VSOCK_POKE:
			poke_cmd(&in);
			break;
		default:
			load_cmd();
			break;
		}
		run_loop();
		check(vmc_virtio_vsock_get_connection_count(st.dev) <=
		      MAX_CONNS);
		st.total_conns += vmc_virtio_vsock_get_connection_count(st.dev);
	}

	/* Reset: nothing is held, nothing is published after. */
	wr(0x070, 0);
	check(vmc_virtio_vsock_get_connection_count(st.dev) == 0);
	for (unsigned int q = 0; q < 3; q++)
		idx[q] = used_idx(q);
	run_loop();
	for (int i = 0; i < MAX_FDS; i++) {
		if (st.fds[i] >= 0)
			close(st.fds[i]);
		st.fds[i] = -1;
	}
	accept_cmd();
	for (int i = 0; i < MAX_FDS; i++) {
		if (st.fds[i] >= 0)
			close(st.fds[i]);
		st.fds[i] = -1;
	}
	run_loop();
	for (unsigned int q = 0; q < 3; q++)
		check(used_idx(q) == idx[q]);
	check(rd(0x070) == 0);
	return 0;
}

void vmc_fuzz_virtio_vsock_stats(unsigned long *rx, unsigned long *conns)
{
	*rx = st.total_rx;
	*conns = st.total_conns;
}

void vmc_fuzz_virtio_vsock_cleanup(void)
{
	struct vmc_region *root;
	char p[96];

	if (!st.ready)
		return;
	root = vmc_vm_get_root(st.vm, VMC_AS_MEMORY);
	vmc_region_remove_subregion(root, vmc_virtio_vsock_get_region(st.dev));
	vmc_virtio_vsock_free(st.dev);
	for (unsigned int i = 0; i < VMC_FUZZ_VSOCK_PORTS; i++) {
		close(st.listen[i]);
		snprintf(p, sizeof(p), "%s_%u", st.path, i + 1);
		unlink(p);
	}
	rmdir(st.dir);
	vmc_region_remove_subregion(root, st.ram);
	vmc_region_unref(st.ram);
	vmc_vm_unref(st.vm);
	vmc_loop_unref(st.loop);
	memset(&st, 0, sizeof(st));
}
