/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-gdbstub.h
 * @brief A gdb remote-protocol server for a libvmcore VM.
 *
 * The server runs on the VM's loop and debugs the VM with the public hooks
 * of vmc-debug.h: each vCPU is a gdb thread (thread id = index + 1), gdb
 * works in all-stop mode (every vCPU is stopped before a stop reply is
 * sent), and the target description is served for riscv64 (tcg) and
 * x86-64 (KVM).  One client at a time: a second connection is accepted and
 * closed at once.
 *
 * A client cannot stop the host: the server never blocks on it and never
 * lets its disconnect become SIGPIPE.  Replies that the client does not
 * read wait in a bounded queue (64 KiB); a client past the bound is
 * disconnected (logged at VMC_LOG_WARNING), as if it had detached.
 * Serving a client allocates nothing, so no reply is lost to a failed
 * allocation.
 *
 * When gdb connects, a running VM is paused (QEMU's behaviour); a VM in
 * VMC_VM_CREATED stays so until gdb continues it, which gives QEMU's -S.
 * Detaching (or the connection closing) removes gdb's breakpoints and lets
 * the VM run.  gdb's `kill` requests a shutdown with status 0.
 *
 * Stop replies are sent from a VM state handler, so while a client is
 * connected the host changes the VM's run state only on the loop thread
 * (the requests of vmc_vm_request_pause() and friends are fine from
 * anywhere: they are applied there).
 */
#ifndef LIBVMCORE_VMC_GDBSTUB_H
#define LIBVMCORE_VMC_GDBSTUB_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-loop.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_gdbstub;

/**
 * Listen for gdb on @p address:
 * - "tcp:HOST:PORT", or "tcp::PORT" for the loopback interface (libvmcore
 *   never listens on other interfaces unless HOST says so; "tcp:0.0.0.0:N"
 *   does); PORT 0 picks a free port (see vmc_gdbstub_get_port());
 * - "unix:PATH": a Unix socket created with mode 0600 (less the process's
 *   umask, which is left untouched).  A socket file at PATH that nobody
 *   listens on is replaced; anything else at PATH (a file, a symlink, a
 *   live socket) is left alone and the call fails with -EADDRINUSE.  Only
 *   the socket file this call created is removed by vmc_gdbstub_stop(),
 *   and only if it is still that file.
 * @param vm the VM; the server holds a reference
 * @param loop the VM's loop
 * @param address where to listen, in one of the forms above
 * @param[out] ret the server
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, @p loop is not the VM's loop, or a
 *         malformed address
 * @retval -EOPNOTSUPP the VM's architecture has no target description
 * @retval -ENOMEM out of memory
 * @retval -EADDRINUSE the TCP port is taken, or PATH exists (see above)
 * @retval -errno socket(), bind() or listen() failed
 * @thread loop
 * @since 0.1
 */
int vmc_gdbstub_start(struct vmc_vm *vm, struct vmc_loop *loop,
		      const char *address, struct vmc_gdbstub **ret);

/**
 * Close the client connection (as a detach would: breakpoints removed, the
 * VM left running if gdb had stopped it) and the listening socket, remove
 * the Unix socket file it created (if that file is still there), drop the
 * VM reference and free the server.  NULL is ignored.
 * @param gs the server
 * @thread loop
 * @since 0.1
 */
void vmc_gdbstub_stop(struct vmc_gdbstub *gs);

/**
 * Whether a gdb client is connected.
 * @param gs the server
 * @thread loop
 * @since 0.1
 */
bool vmc_gdbstub_is_connected(const struct vmc_gdbstub *gs);

/**
 * The TCP port the server listens on (useful after port 0).
 * @param gs the server
 * @retval port the port
 * @retval -EINVAL @p gs is NULL
 * @retval -ENOTSOCK a Unix socket server
 * @thread loop
 * @since 0.1
 */
int vmc_gdbstub_get_port(const struct vmc_gdbstub *gs);

VMC_END_DECLS

#endif
