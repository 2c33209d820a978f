/* SPDX-License-Identifier: MIT */
/*
 * The gdbstub's private header: its state, and the joints between its
 * three parts.
 *
 *   gdb-arch*.c    what the stub knows of each guest architecture
 *   gdb-packet.c   the packet engine: framing, checksums, acks,
 *                  retransmission, and the hex helpers
 *   gdb-command.c  what each packet does to the VM, and stop replies
 *   gdb-server.c   sockets: the listener, the client, its output queue,
 *                  and the public entry points
 *
 * The stub is built only against the public headers; this file gives it
 * the two things a library needs beyond them (VMC_EXPORT and an argument
 * check that logs).
 */
#ifndef VMC_GDB_PRIV_H
#define VMC_GDB_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-debug.h>
#include <libvmcore/vmc-loop.h>
#include <libvmcore/vmc-vm.h>

#include "gdb-arch.h"
#include "gdbstub-internal.h"

#define VMC_EXPORT __attribute__((visibility("default")))

#define GDB_MAX_POINTS 128

struct gdb_point {
	enum vmc_debug_kind kind;
	uint64_t addr, len;
};

enum gdb_rx_state { GDB_RX_IDLE, GDB_RX_DATA, GDB_RX_CS1, GDB_RX_CS2 };

/* The bytes owed to a peer that has not taken them yet (gdb-server.c). */
struct gdb_outq {
	char *buf;	   /* VMC__GDB_OUT_MAX bytes */
	size_t head, tail; /* unsent bytes are buf[head, tail) */
};

struct vmc_gdbstub {
	struct vmc_vm *vm;
	struct vmc_loop *loop;
	const struct gdb_arch *arch;
	struct vmc_vm_state_handler *state_h;

	/* Server (gdb-server.c). */
	int listen_fd;
	struct vmc_fd_handler *listen_h;
	struct vmc_timer *accept_timer;
	bool unix_sock;
	char *unix_path; /* set once bind() created the socket file */
	dev_t unix_dev;	 /* ... and that file's identity */
	ino_t unix_ino;
	int port;

	/* The client: a socket, or an output callback (socketless). */
	bool connected;
	bool hangup; /* the client is going: no more I/O */
	int fd;
	struct vmc_fd_handler *fd_h;
	struct gdb_outq outq;
	bool write_armed;
	struct vmc_bh *close_bh;
	vmc__gdb_out_cb out;
	void *out_opaque;
	bool no_exec;

	/* Receiver (gdb-packet.c). */
	enum gdb_rx_state rx;
	char pkt[VMC__GDB_MAX_PACKET + 1];
	size_t pkt_len;
	bool pkt_overflow;
	uint8_t sum;
	int cs_hi;

	/*
	 * The last packet sent, for a '-'; also where every packet is
	 * framed, so that answering never allocates.
	 */
	char last[VMC__GDB_MAX_REPLY + 4];
	size_t last_len;
	/* Room for building a reply's payload. */
	char scratch[VMC__GDB_MAX_REPLY];

	/* Protocol state (gdb-command.c). */
	bool no_ack;
	bool allow_stop;
	bool running; /* resumed; a stop reply is owed */
	unsigned int g_cpu, c_cpu;
	unsigned int nr_vcpus;
	unsigned int next_thread; /* for qsThreadInfo */
	bool *stepping;		  /* per vCPU: single-step currently on */
	unsigned char *act;	  /* per vCPU: the resume being built */
	struct gdb_point points[GDB_MAX_POINTS];
	unsigned int nr_points;
};

/* gdb-packet.c */
extern const char vmc__gdb_hexd[];
int vmc__gdb_hexval(int c);
bool vmc__gdb_parse_hex(const char **s, uint64_t *v);
bool vmc__gdb_parse_tid(const char **s, long *tid);
void vmc__gdb_send_packet(struct vmc_gdbstub *gs, const char *data, size_t len);
void vmc__gdb_send_str(struct vmc_gdbstub *gs, const char *s);
void vmc__gdb_send_err(struct vmc_gdbstub *gs, int err);

/* gdb-command.c */
void vmc__gdb_session_start(struct vmc_gdbstub *gs);
void vmc__gdb_session_end(struct vmc_gdbstub *gs);
void vmc__gdb_handle_packet(struct vmc_gdbstub *gs, char *p, size_t n);
void vmc__gdb_interrupt(struct vmc_gdbstub *gs);
void vmc__gdb_on_state(struct vmc_vm *vm, enum vmc_vm_state old,
		       enum vmc_vm_state state, void *userdata);

/* gdb-server.c: send @len bytes to the client, or drop the client. */
void vmc__gdb_write(struct vmc_gdbstub *gs, const char *buf, size_t len);

#endif
