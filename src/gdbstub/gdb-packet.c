/* SPDX-License-Identifier: MIT */
/*
 * The packet engine: bytes from gdb become packets (checksums checked,
 * acknowledged unless QStartNoAckMode), Ctrl-C bytes become interrupts,
 * and a '-' resends the last packet.  Outgoing packets are framed in the
 * stub's own buffer, which is also the copy kept for a resend: answering
 * never allocates, so no reply can be lost to an allocation failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gdb-priv.h"

const char vmc__gdb_hexd[] = "0123456789abcdef";

int vmc__gdb_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse hex up to a non-hex character; false if no digit or overflow. */
bool vmc__gdb_parse_hex(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int d, n = 0;

	while ((d = vmc__gdb_hexval((unsigned char)*p)) >= 0) {
		if (++n > 16)
			return false;
		x = x << 4 | (uint64_t)d;
		p++;
	}
	if (!n)
		return false;
	*s = p;
	*v = x;
	return true;
}

/*
 * A thread id: -1 = all, 0 = any, else vCPU index + 1.  Accepts the
 * multiprocess form pPID.TID too.
 */
bool vmc__gdb_parse_tid(const char **s, long *tid)
{
	uint64_t v;

	if (**s == 'p') {
		(*s)++;
		if (!strncmp(*s, "-1", 2))
			*s += 2;
		else if (!vmc__gdb_parse_hex(s, &v))
			return false;
		if (**s != '.') {
			*tid = -1;
			return true;
		}
		(*s)++;
	}
	if (!strncmp(*s, "-1", 2)) {
		*s += 2;
		*tid = -1;
		return true;
	}
	if (!vmc__gdb_parse_hex(s, &v) || v > 0x10000)
		return false;
	*tid = (long)v;
	return true;
}

/* Frame and send a packet; keep it for a retransmit. */
void vmc__gdb_send_packet(struct vmc_gdbstub *gs, const char *data, size_t len)
{
	char *p = gs->last;
	uint8_t sum = 0;

	/* Every handler bounds its reply; a longer one is a bug. */
	if (len > VMC__GDB_MAX_REPLY) {
		vmc_log(VMC_LOG_ERR, "gdbstub: a %zu-byte reply is too long",
			len);
		data = "E22";
		len = 3;
	}
	p[0] = '$';
	for (size_t i = 0; i < len; i++) {
		p[1 + i] = data[i];
		sum += (uint8_t)data[i];
	}
	p[len + 1] = '#';
	p[len + 2] = vmc__gdb_hexd[sum >> 4];
	p[len + 3] = vmc__gdb_hexd[sum & 15];
	gs->last_len = len + 4;
	vmc__gdb_write(gs, p, len + 4);
}

void vmc__gdb_send_str(struct vmc_gdbstub *gs, const char *s)
{
	vmc__gdb_send_packet(gs, s, strlen(s));
}

void vmc__gdb_send_err(struct vmc_gdbstub *gs, int err)
{
	char b[8];

	snprintf(b, sizeof(b), "E%02x", (unsigned int)(err & 0xff));
	vmc__gdb_send_str(gs, b);
}

static void packet_done(struct vmc_gdbstub *gs, int d)
{
	if (!gs->no_ack && (gs->cs_hi < 0 || d < 0 ||
			    (uint8_t)(gs->cs_hi << 4 | d) != gs->sum)) {
		vmc__gdb_write(gs, "-", 1);
		return;
	}
	if (!gs->no_ack)
		vmc__gdb_write(gs, "+", 1);
	if (gs->pkt_overflow)
		vmc__gdb_send_err(gs, EINVAL);
	else if (gs->pkt_len == 0)
		vmc__gdb_send_str(gs, "");
	else
		vmc__gdb_handle_packet(gs, gs->pkt, gs->pkt_len);
}

void vmc__gdbstub_feed(struct vmc_gdbstub *gs, const void *data, size_t len)
{
	const uint8_t *b = data;

	/* A client being dropped gets no more answers. */
	for (size_t i = 0; i < len && !gs->hangup; i++) {
		int c = b[i];

		switch (gs->rx) {
		case GDB_RX_IDLE:
			if (c == '$') {
				gs->rx = GDB_RX_DATA;
				gs->pkt_len = 0;
				gs->pkt_overflow = false;
				gs->sum = 0;
			} else if (c == 0x03) {
				vmc__gdb_interrupt(gs);
			} else if (c == '-' && gs->last_len && !gs->no_ack) {
				vmc__gdb_write(gs, gs->last, gs->last_len);
			}
			break;
		case GDB_RX_DATA:
			if (c == '#') {
				gs->rx = GDB_RX_CS1;
				break;
			}
			gs->sum += (uint8_t)c;
			if (gs->pkt_len < VMC__GDB_MAX_PACKET)
				gs->pkt[gs->pkt_len++] = (char)c;
			else
				gs->pkt_overflow = true;
			break;
		case GDB_RX_CS1:
			gs->cs_hi = vmc__gdb_hexval(c);
			gs->rx = GDB_RX_CS2;
			break;
		case GDB_RX_CS2:
			gs->rx = GDB_RX_IDLE;
			packet_done(gs, vmc__gdb_hexval(c));
			break;
		}
	}
}
