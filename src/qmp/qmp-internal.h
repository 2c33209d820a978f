/* SPDX-License-Identifier: MIT */
/*
 * The QMP server's internals: the objects behind vmc-qmp.h and the
 * interfaces between its files.  Never installed.
 *
 *   value.c     JSON values: struct vmc_qmp_value is a json-c object
 *   qmp.c       server, clients, input framing, dispatch, replies, events
 *   monitor.c   monitors: listening, connecting, given sockets
 *   commands.c  the built-in commands and the run-state events
 *
 * Everything runs on the VM's loop thread.  A client is never freed while
 * a callback may still use it: closing marks it dead and unhooks its fd;
 * the server's reaper bottom half frees dead clients later.
 */
#ifndef VMC_QMP_INTERNAL_H
#define VMC_QMP_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <json-c/json.h>

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-loop.h>
#include <libvmcore/vmc-qmp.h>
#include <libvmcore/vmc-vm.h>

/* Marks a definition as part of the ABI; the symbol map must list it. */
#define VMC_EXPORT __attribute__((visibility("default")))

/* Check a public argument: an embedder's mistake returns an error. */
#define qmp_return_if(cond, retval)                                            \
	do {                                                                   \
		if (cond)                                                      \
			return (retval);                                       \
	} while (0)

#define QMP_DEFAULT_MAX_MESSAGE (1u << 20)
#define QMP_DEFAULT_MAX_OUTPUT (4u << 20)
/* Nesting deeper than this is refused: no request needs more. */
#define QMP_MAX_DEPTH 64

static inline struct json_object *qmp_json(const struct vmc_qmp_value *v)
{
	return (struct json_object *)v;
}

static inline struct vmc_qmp_value *qmp_value(struct json_object *o)
{
	return (struct vmc_qmp_value *)o;
}

/* QEMU's run states, as libvmcore's VM states map onto them. */
enum qmp_runstate {
	QMP_RS_PRELAUNCH,
	QMP_RS_RUNNING,
	QMP_RS_PAUSED,
	QMP_RS_SHUTDOWN,
	QMP_RS_INTERNAL_ERROR,
	QMP_RS_DEBUG,
};

struct qmp_command {
	struct qmp_command *next;
	char *name;
	struct vmc_qmp_arg *args; /* NULL-name terminated copy, names owned */
	vmc_qmp_command_cb cb;
	void *userdata;
};

/* How a monitor gets its clients. */
enum mon_kind { MON_LISTEN, MON_CONNECT, MON_FD };

struct vmc_qmp_monitor {
	struct vmc_qmp_monitor *next;
	struct vmc_qmp *qmp;
	enum mon_kind kind;
	char *desc;	 /* the spec, for log lines */
	char *unix_path; /* a listening Unix socket's file, to remove */
	bool dead;

	/* MON_LISTEN */
	int listen_fd;
	struct vmc_fd_handler *listen_h;
	int port; /* TCP, else -1 */

	/* MON_CONNECT */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned int reconnect; /* seconds; 0: never */
	struct vmc_timer *timer;
	int connect_fd;
	struct vmc_fd_handler *connect_h;
};

/* Where a message stands: inside a string, how deeply nested. */
struct qmp_scan {
	int depth;
	char quote;    /* the open string's quote, or 0 */
	bool escape;   /* after a backslash in a string */
	bool balanced; /* recovering: the broken message has ended */
};

struct qmp_client {
	struct qmp_client *next;
	struct vmc_qmp *qmp;
	struct vmc_qmp_monitor *mon;
	int fd;
	struct vmc_fd_handler *h;
	struct json_tokener *tok;
	bool negotiated;
	bool dead;
	bool recovering; /* after a parse error: skip the broken message */
	bool writing;	 /* the write callback is armed */
	size_t msg_bytes;
	struct qmp_scan scan;
	char *out;
	size_t out_off, out_len, out_cap;
};

struct vmc_qmp {
	struct vmc_vm *vm;
	struct vmc_loop *loop;
	struct vmc_qmp_config config; /* strings below are our copies */
	char *name;
	char *package;

	struct qmp_command *commands;
	struct vmc_qmp_monitor *monitors;
	struct qmp_client *clients;
	unsigned int nr_clients;

	struct vm_hooks {
		struct vmc_vm_state_handler *state;
		struct vmc_vm_reset_handler *reset;
	} hooks;
	/* A reset the QMP system_reset command is doing right now. */
	bool host_reset;
	/* Reset out of shutdown or guest error: QEMU calls that prelaunch. */
	bool reset_to_prelaunch;

	/* Work after a reply went out: POWERDOWN, quit. */
	struct vmc_bh *after_bh;
	bool pending_powerdown;
	bool pending_quit;
	/* Frees dead clients and monitors. */
	struct vmc_bh *reap_bh;
};

struct vmc_qmp_request {
	struct vmc_qmp *qmp;
	struct qmp_client *client;
	struct json_object *args;  /* never NULL: {} when absent */
	struct json_object *reply; /* "return" value or "error" object */
	bool answered;
	bool error;
};

/* qmp.c: clients */
int vmc__qmp_client_new(struct vmc_qmp_monitor *mon, int fd);
void vmc__qmp_client_kill(struct qmp_client *c, const char *why);
void vmc__qmp_schedule_reap(struct vmc_qmp *qmp);

/* monitor.c */
void vmc__qmp_monitor_kill(struct vmc_qmp_monitor *mon);
void vmc__qmp_monitor_free(struct vmc_qmp_monitor *mon);
void vmc__qmp_monitor_connect_later(struct vmc_qmp_monitor *mon);

/* qmp.c */
void vmc__qmp_emit(struct vmc_qmp *qmp, const char *name,
		   struct json_object *data);
int vmc__qmp_add_builtin_commands(struct vmc_qmp *qmp);
void vmc__qmp_schedule_after(struct vmc_qmp *qmp);
/* Serialise @o as QMP sends it: compact, pure ASCII, CRLF at the end. */
char *vmc__qmp_serialize(struct json_object *o, size_t *len);

const char *vmc__qmp_class_name(enum vmc_qmp_error_class cls);
struct json_object *vmc__qmp_command_list(struct vmc_qmp *qmp);
void vmc__qmp_set_negotiated(struct vmc_qmp_request *req);

/* commands.c: the VM's run state as QEMU reports it, and its events */
void vmc__qmp_on_state(struct vmc_qmp *qmp, enum vmc_vm_state old,
		       enum vmc_vm_state now);
void vmc__qmp_on_reset(struct vmc_qmp *qmp);
void vmc__qmp_run_after(struct vmc_qmp *qmp);

#endif
