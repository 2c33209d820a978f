/* SPDX-License-Identifier: MIT */
/*
 * Networking for the example boards, in QEMU's spelling:
 *
 *   -netdev tap,id=ID[,ifname=NAME][,script=no][,downscript=no][,fd=N]
 *   -netdev dgram,id=ID,local.type=inet,local.host=H,local.port=P
 *           [,remote.type=inet,remote.host=H,remote.port=P]
 *   -netdev dgram,id=ID,local.type=unix,local.path=P
 *           [,remote.type=unix,remote.path=P]
 *   -netdev dgram,id=ID,remote.type=inet,... | local.type=fd,local.str=N
 *   -netdev stream,id=ID[,server=on|off],addr.type=inet,addr.host=H,
 *           addr.port=P   (or addr.type=unix,addr.path=P; addr.type=fd,
 *           addr.str=N for a client)
 *   -device virtio-net-device,netdev=ID[,mac=52:54:00:12:34:56]
 *           [,id=NAME][,mrg_rxbuf=on|off][,host_mtu=N][,iothread=IOT]
 *
 * MAC addresses follow QEMU's default rule: a NIC without mac= gets
 * 52:54:00:12:34:XX with XX = 0x56 + the first index that no NIC before it
 * on the command line uses (a mac= in that range takes its index).  TAP
 * scripts are never run: script= and downscript= take only "no" (QEMU
 * runs /etc/qemu-ifup without them; here the host configures the
 * interface).  Stream clients connect at start-up and do not reconnect.
 *
 * QMP: set_link, as QEMU's (board_net_add_qmp()).
 *
 * Errors come back as -errno with a message in the caller's buffer
 * (BOARD_MSG_SIZE), as board-util.h's parsers do.
 */
#ifndef BOARD_NET_H
#define BOARD_NET_H

#include <stdbool.h>

#include <libvmcore/libvmcore.h>

#define BOARD_NET_MAX 8

struct board_netdev {
	char *spec; /* the -netdev argument, copied */
	const char *type, *id;
	bool used;
	struct vmc_net_backend *be;
};

struct board_nic {
	char *spec; /* the -device argument, copied */
	const char *netdev;
	const char *id; /* id=, or NULL */
	uint8_t mac[VMC_NET_MAC_LEN];
	bool has_mac, mrg_off;
	unsigned int mtu;
	/* iothread= (a libvmcore extension; the board looks it up) */
	struct vmc_iothread *iothread;
	struct vmc_virtio_net *dev;
};

struct board_net {
	struct board_netdev netdev[BOARD_NET_MAX];
	struct board_nic nic[BOARD_NET_MAX];
	unsigned int n_netdev, n_nic;
};

/*
 * Take "-netdev V" or "-device virtio-net-device,..." if @opt/@val are
 * one: 1 taken, 0 not ours, < 0 refused (@msg says why).
 */
int board_net_option(struct board_net *n, const char *opt, const char *val,
		     char *msg);

/*
 * Create NIC number @i (in command-line order) and its backend on @vm,
 * interrupting on @irq.  0 or -errno with @msg.
 */
int board_net_create(struct board_net *n, unsigned int i, struct vmc_vm *vm,
		     struct vmc_irq *irq, bool legacy, char *msg);

/*
 * Open the backends no NIC uses (QEMU opens them too, and warns), so
 * that their options are checked the same way.
 */
int board_net_create_unused(struct board_net *n, struct vmc_vm *vm, char *msg);

/*
 * QEMU's QMP set_link {"name": N, "up": B} on @qmp: N is a NIC's id= or
 * its netdev's id; the guest sees the link change.  0 or -errno.
 */
int board_net_add_qmp(struct board_net *n, struct vmc_qmp *qmp);

/* Free every NIC (regions already unmapped), then every backend. */
void board_net_free(struct board_net *n);

#endif
