/* SPDX-License-Identifier: MIT */
/*
 * The bodies shared by the gdbstub's libFuzzer targets and their unit
 * test: a riscv64 tcg VM that never runs (64 KiB of RAM at 0x80000000,
 * two vCPUs), and per input either
 * - gdb_fuzz_one(): a socketless stub session that gets the input as
 *   bytes from gdb, or
 * - gdb_sock_fuzz_one(): a session over a real socket pair, with a client
 *   that the input drives: it sends bytes and packets, floods, stalls
 *   (does not read), reads, turns the loop, and disconnects and comes
 *   back, at random.
 * Whatever arrives, the stub may not crash or raise SIGPIPE, no loop
 * iteration may wait on the client, and every byte it sends must be a
 * well-formed ack, nak or packet (a packet cut short may only be followed
 * by the end of the connection).
 */
#ifndef VMC_FUZZ_GDB_FUZZ_BODY_H
#define VMC_FUZZ_GDB_FUZZ_BODY_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "gdbstub-internal.h"

struct gdb_fuzz {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_region *ram;
	/* What the last input produced. */
	unsigned int acks, naks, packets;
	/* Socket inputs: packets the clients read, in total. */
	unsigned long sock_packets;
	char last[VMC__GDB_MAX_PACKET * 2 + 8];
};

static inline int gdb_fuzz_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Every write of the stub is one '+', one '-' or one whole packet. */
static inline void gdb_fuzz_out(const char *buf, size_t len, void *opaque)
{
	struct gdb_fuzz *f = opaque;
	uint8_t sum = 0;

	if (len == 1 && (buf[0] == '+' || buf[0] == '-')) {
		if (buf[0] == '+')
			f->acks++;
		else
			f->naks++;
		return;
	}
	if (len < 4 || buf[0] != '$' || buf[len - 3] != '#')
		abort();
	for (size_t i = 1; i < len - 3; i++) {
		if (buf[i] == '$' || buf[i] == '#')
			abort();
		sum += (uint8_t)buf[i];
	}
	if (gdb_fuzz_hex(buf[len - 2]) != sum >> 4 ||
	    gdb_fuzz_hex(buf[len - 1]) != (sum & 15))
		abort();
	f->packets++;
	if (len - 4 < sizeof(f->last)) {
		memcpy(f->last, buf + 1, len - 4);
		f->last[len - 4] = '\0';
	}
}

static inline int gdb_fuzz_init(struct gdb_fuzz *f)
{
	struct vmc_vm_config c;
	int r;

	memset(f, 0, sizeof(*f));
	r = vmc_loop_new(&f->loop);
	if (r < 0)
		return r;
	vmc_vm_config_init(&c);
	c.loop = f->loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = 2;
	r = vmc_vm_new(&c, &f->vm);
	if (r < 0)
		return r;
	r = vmc_region_new_ram(vmc_vm_get_memory(f->vm), "ram", 0x10000, 0,
			       &f->ram);
	if (r < 0)
		return r;
	return vmc_region_add_subregion(vmc_vm_get_root(f->vm, VMC_AS_MEMORY),
					0x80000000, f->ram, 0);
}

static inline void gdb_fuzz_fini(struct gdb_fuzz *f)
{
	vmc_vm_unref(f->vm);
	vmc_region_unref(f->ram);
	vmc_loop_unref(f->loop);
}

/* One input: a fresh session, fed in pieces as a socket would. */
static inline void gdb_fuzz_one(struct gdb_fuzz *f, const uint8_t *data,
				size_t size)
{
	struct vmc_gdbstub *gs;
	size_t off = 0;

	f->acks = f->naks = f->packets = 0;
	f->last[0] = '\0';
	if (vmc__gdbstub_new_session(f->vm, gdb_fuzz_out, f, true, &gs) < 0)
		abort();
	/* Half the inputs skip checksums, so mutations reach the handlers. */
	if (size && (data[0] & 0x80)) {
		static const char noack[] = "$QStartNoAckMode#b0";

		vmc__gdbstub_feed(gs, noack, sizeof(noack) - 1);
		f->acks = f->naks = f->packets = 0;
	}
	while (off < size) {
		size_t n = 1 + (data[off] % 97);

		if (n > size - off)
			n = size - off;
		vmc__gdbstub_feed(gs, data + off, n);
		off += n;
	}
	vmc_gdbstub_stop(gs);
}

/* ------------------------------------------------------------------------
 * Through a real socket pair
 */

/* What the client has read so far, checked byte by byte. */
struct gdb_stream {
	int state; /* 0 between packets, 1 payload, 2/3 checksum digits */
	uint8_t sum;
	int cs_hi;
	unsigned long packets;
};

static inline void gdb_stream_byte(struct gdb_stream *st, uint8_t c)
{
	switch (st->state) {
	case 0:
		if (c == '$') {
			st->state = 1;
			st->sum = 0;
		} else if (c != '+' && c != '-') {
			abort();
		}
		break;
	case 1:
		if (c == '#')
			st->state = 2;
		else if (c == '$')
			abort();
		else
			st->sum += c;
		break;
	case 2:
		st->cs_hi = gdb_fuzz_hex(c);
		st->state = 3;
		break;
	case 3:
		if (st->cs_hi != st->sum >> 4 ||
		    gdb_fuzz_hex(c) != (st->sum & 15))
			abort();
		st->state = 0;
		st->packets++;
		break;
	}
}

struct gdb_sock_fuzz {
	struct gdb_fuzz *f;
	struct vmc_gdbstub *gs;
	int fd; /* the client's end */
	bool eof;
	struct gdb_stream st;
};

static inline int64_t gdb_fuzz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One loop iteration; it may never wait on the client. */
static inline void gdb_sock_turn(struct gdb_sock_fuzz *s)
{
	int64_t t0 = gdb_fuzz_now_ns();

	if (vmc_loop_run_once(s->f->loop, false) < 0)
		abort();
	/* Generous: sanitizers and a busy machine are slow, a block is not. */
	if (gdb_fuzz_now_ns() - t0 > 2000000000)
		abort();
}

/* Read what is there and check it. */
static inline void gdb_sock_read(struct gdb_sock_fuzz *s)
{
	uint8_t buf[4096];

	while (!s->eof) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				gdb_stream_byte(&s->st, buf[i]);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF (or a reset): a packet may have been cut short. */
		s->eof = true;
	}
}

/* Send as much of @buf as the socket takes now; never waits. */
static inline void gdb_sock_send(struct gdb_sock_fuzz *s, const void *buf,
				 size_t len)
{
	if (!s->eof)
		(void)!send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static inline void gdb_sock_connect(struct gdb_sock_fuzz *s)
{
	int sv[2], small = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
		       sv) < 0)
		abort();
	/* Small buffers: a client that stalls reaches the bound quickly. */
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (vmc__gdbstub_attach_fd(s->f->vm, sv[1], true, &s->gs) < 0)
		abort();
	s->fd = sv[0];
	s->eof = false;
	memset(&s->st, 0, sizeof(s->st));
}

/* The client goes; the stub must notice, and must not die of it. */
static inline void gdb_sock_disconnect(struct gdb_sock_fuzz *s)
{
	s->f->sock_packets += s->st.packets;
	close(s->fd);
	for (int i = 0; i < 100 && vmc_gdbstub_is_connected(s->gs); i++)
		gdb_sock_turn(s);
	if (vmc_gdbstub_is_connected(s->gs))
		abort();
	vmc_gdbstub_stop(s->gs);
	s->gs = NULL;
}

static const char *const gdb_sock_dict[] = {
	"?",
	"g",
	"qSupported:multiprocess+",
	"qC",
	"qfThreadInfo",
	"qsThreadInfo",
	"m80000000,800",
	"m80000000,10",
	"M80000000,2:abcd",
	"X80000000,1:x",
	"p20",
	"P1=0011223344556677",
	"Hg1",
	"Hc2",
	"Z0,80000000,2",
	"z0,80000000,2",
	"Z2,80000000,8",
	"vCont?",
	"vCont;s:1;c",
	"c",
	"s",
	"qXfer:features:read:target.xml:0,ffb",
	"QStartNoAckMode",
	"D",
	"T1",
	"qAttached",
	"vMustReplyEmpty",
};

#define GDB_SOCK_DICT_N (sizeof(gdb_sock_dict) / sizeof(gdb_sock_dict[0]))

static inline size_t gdb_sock_frame(char *out, size_t cap, const char *body)
{
	uint8_t sum = 0;

	for (const char *p = body; *p; p++)
		sum += (uint8_t)*p;
	return (size_t)snprintf(out, cap, "$%s#%02x", body, sum);
}

/*
 * One input: a program for the client, one op per byte.  The stub's end
 * has a 4 KiB send buffer, the client's a 4 KiB receive buffer.
 */
static inline void gdb_sock_fuzz_one(struct gdb_fuzz *f, const uint8_t *data,
				     size_t size)
{
	struct gdb_sock_fuzz s = {.f = f};
	size_t i = 0;

	gdb_sock_connect(&s);
	while (i < size) {
		uint8_t op = data[i++];
		uint8_t arg = i < size ? data[i] : 0;
		char pkt[128];
		size_t n;

		switch (op % 16) {
		case 0: /* raw bytes from the input */
		case 1:
			i++;
			n = arg % 64;
			if (n > size - i)
				n = size - i;
			gdb_sock_send(&s, data + i, n);
			i += n;
			break;
		case 2: /* a well-formed packet */
		case 3:
		case 4:
		case 5:
		case 14:
		case 15:
			i++;
			n = gdb_sock_frame(
				pkt, sizeof(pkt),
				gdb_sock_dict[arg % GDB_SOCK_DICT_N]);
			gdb_sock_send(&s, pkt, n);
			break;
		case 6: /* flood: requests whose answers are 4 KiB */
			i++;
			n = gdb_sock_frame(pkt, sizeof(pkt), "m80000000,800");
			for (int k = 0; k < 4 * (arg % 32 + 1); k++) {
				gdb_sock_send(&s, pkt, n);
				if (k % 8 == 7)
					gdb_sock_turn(&s);
			}
			break;
		case 7: /* read what is there */
		case 8:
		case 9:
			gdb_sock_read(&s);
			break;
		case 10: /* stall: the loop turns, the client reads nothing */
		case 11:
			i++;
			for (int k = 0; k < arg % 16 + 1; k++)
				gdb_sock_turn(&s);
			break;
		case 12: /* a Ctrl-C or an ack */
			i++;
			gdb_sock_send(&s, arg & 1 ? "\x03" : "+", 1);
			break;
		case 13: /* hang up, and maybe come back */
			i++;
			if (arg & 1)
				gdb_sock_send(&s, "$g#67", 5);
			gdb_sock_disconnect(&s);
			if (arg & 2)
				return;
			gdb_sock_connect(&s);
			break;
		}
		gdb_sock_turn(&s);
	}
	/* Read to the end: whatever was sent must be well formed. */
	for (int k = 0; k < 8; k++) {
		gdb_sock_turn(&s);
		gdb_sock_read(&s);
	}
	gdb_sock_disconnect(&s);
}

#endif
