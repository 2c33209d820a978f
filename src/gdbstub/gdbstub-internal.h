/* SPDX-License-Identifier: MIT */
/*
 * The gdbstub's packet engine without a socket, for the fuzz target and
 * the white-box tests.  Never installed.
 */
#ifndef VMC_GDBSTUB_INTERNAL_H
#define VMC_GDBSTUB_INTERNAL_H

#include <stddef.h>

#include <libvmcore/vmc-gdbstub.h>

/* Where a socketless session sends what it would write to gdb. */
typedef void (*vmc__gdb_out_cb)(const char *buf, size_t len, void *opaque);

/*
 * A session on @vm that is "connected" from the start and writes to @out.
 * With @no_exec, continue/step/kill/detach answer as gdb expects but never
 * run or stop the VM (fuzzing).  Free with vmc_gdbstub_stop().
 */
int vmc__gdbstub_new_session(struct vmc_vm *vm, vmc__gdb_out_cb out,
			     void *opaque, bool no_exec,
			     struct vmc_gdbstub **ret);
/*
 * A session on @vm over @fd, a connected stream socket that the stub takes
 * (closed on failure too): a real socket without a listener, for the
 * socket fuzz target.  When the peer goes, the stub stays, unconnected.
 */
int vmc__gdbstub_attach_fd(struct vmc_vm *vm, int fd, bool no_exec,
			   struct vmc_gdbstub **ret);
/* Feed bytes as if gdb had sent them. */
void vmc__gdbstub_feed(struct vmc_gdbstub *gs, const void *buf, size_t len);

/* The largest packet payload the stub accepts (advertised PacketSize). */
#define VMC__GDB_MAX_PACKET 4096
/* The largest payload the stub sends. */
#define VMC__GDB_MAX_REPLY VMC__GDB_MAX_PACKET
/*
 * How many bytes may wait for a client that does not read: past this the
 * client is disconnected.  gdb reads every reply before it sends the next
 * request, so a real debugger never has more than a packet or two queued.
 */
#define VMC__GDB_OUT_MAX (64 * 1024)

#endif
