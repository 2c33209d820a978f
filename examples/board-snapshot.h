/* SPDX-License-Identifier: MIT */
/*
 * Snapshot files on the example boards, in QEMU's spelling:
 *
 *   -incoming file:PATH        restore the machine from PATH before it
 *                              starts (it then runs, unless -S)
 *   QMP migrate uri=file:PATH  pause the machine and save it to PATH; it
 *                              stays paused (QEMU's postmigrate), and
 *                              query-migrate reports "completed"
 *
 * Header-only, like board-qmp.h: a board calls board_incoming() after it
 * has assembled its machine and board_snapshot_qmp() once QMP is up.
 */
#ifndef BOARD_SNAPSHOT_H
#define BOARD_SNAPSHOT_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

/* The PATH of "file:PATH", or NULL for another URI. */
static const char *board_snapshot_path(const char *uri)
{
	return uri && !strncmp(uri, "file:", 5) && uri[5] ? uri + 5 : NULL;
}

/* Restore @vm from -incoming's @uri; 0 or -errno. */
static int board_incoming(struct vmc_vm *vm, const char *uri)
{
	const char *path = board_snapshot_path(uri);
	int fd, r;

	if (!path)
		return -EPROTONOSUPPORT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = vmc_vm_load_fd(vm, fd);
	close(fd);
	return r;
}

struct board_snapshot {
	struct vmc_vm *vm;
	const char *status; /* query-migrate's, NULL before any migrate */
};

static void board_snapshot_migrate(struct vmc_qmp_request *req, void *userdata)
{
	struct board_snapshot *s = userdata;
	const char *uri =
		vmc_qmp_value_get_string(vmc_qmp_request_get_arg(req, "uri"));
	const char *path = board_snapshot_path(uri);
	struct vmc_qmp_value *ev = NULL;
	int fd, r;

	if (!path) {
		vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR,
				      "Invalid migration URI '%s' (only "
				      "file:PATH is supported)",
				      uri ? uri : "");
		return;
	}
	if (vmc_vm_get_state(s->vm) == VMC_VM_RUNNING)
		vmc_vm_pause(s->vm);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	r = fd < 0 ? -errno : vmc_vm_save_fd(s->vm, fd);
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	s->status = r < 0 ? "failed" : "completed";
	if (vmc_qmp_value_new_object(&ev) == 0 &&
	    vmc_qmp_object_set_string(ev, "status", s->status) == 0)
		vmc_qmp_send_event(vmc_qmp_request_get_qmp(req), "MIGRATION",
				   ev);
	if (r < 0)
		vmc_qmp_request_error(req, VMC_QMP_GENERIC_ERROR,
				      "Failed to save the machine to '%s': %s",
				      path, strerror(-r));
}

static void board_snapshot_query(struct vmc_qmp_request *req, void *userdata)
{
	struct board_snapshot *s = userdata;
	struct vmc_qmp_value *v = NULL;

	if (vmc_qmp_value_new_object(&v) == 0 && s->status)
		vmc_qmp_object_set_string(v, "status", s->status);
	vmc_qmp_request_return(req, v);
}

/* Register migrate and query-migrate on @qmp (NULL: no QMP, nothing). */
static int board_snapshot_qmp(struct board_snapshot *s, struct vmc_qmp *qmp,
			      struct vmc_vm *vm)
{
	static const struct vmc_qmp_arg args[] = {
		{"uri", VMC_QMP_STRING, false},
		{"detach", VMC_QMP_BOOL, true},
		{"resume", VMC_QMP_BOOL, true},
		{NULL, VMC_QMP_NULL, false},
	};
	int r;

	s->vm = vm;
	if (!qmp)
		return 0;
	r = vmc_qmp_add_command(qmp, "migrate", args, board_snapshot_migrate,
				s);
	if (r == -EEXIST) {
		vmc_qmp_remove_command(qmp, "migrate");
		r = vmc_qmp_add_command(qmp, "migrate", args,
					board_snapshot_migrate, s);
	}
	if (r < 0)
		return r;
	vmc_qmp_remove_command(qmp, "query-migrate");
	return vmc_qmp_add_command(qmp, "query-migrate", NULL,
				   board_snapshot_query, s);
}

#endif
