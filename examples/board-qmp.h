/* SPDX-License-Identifier: MIT */
/*
 * QEMU's QMP command-line options for the example boards, mapped onto
 * vmc-qmp.h:
 *
 *   -qmp unix:PATH,server=on,wait=off       (also tcp:HOST:PORT,...)
 *   -chardev socket,id=ID,path=PATH|host=HOST,port=PORT
 *            [,server=on|off][,wait=on|off][,reconnect=N]
 *   -mon chardev=ID,mode=control
 *   -name NAME[,debug-threads=on]           (query-name; thread names are
 *                                            the board's business)
 *
 * so that a management stack's command line (Proxmox's qmp and
 * qmp-event sockets) runs unchanged.  `quit` stops the board's loop.
 * Header-only: a board includes it, hands unknown options to
 * board_qmp_option(), and calls board_qmp_start() before starting the VM.
 */
#ifndef BOARD_QMP_H
#define BOARD_QMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#define BOARD_QMP_MAX 8

struct board_qmp {
	/* -chardev socket: its id and the monitor spec it becomes. */
	char *chardev_id[BOARD_QMP_MAX];
	char *chardev_spec[BOARD_QMP_MAX];
	unsigned int nr_chardevs;
	/* Monitors to open, as vmc_qmp_add_monitor() specs. */
	char *spec[BOARD_QMP_MAX];
	unsigned int nr_specs;
	char *name; /* -name, for query-name */
	struct vmc_qmp *qmp;
	struct vmc_loop *loop;
};

/* The value of KEY in "a=1,KEY=v,..." (a copy), or NULL. */
static char *board_qmp_opt(const char *opts, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = opts; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len > kl && !strncmp(p, key, kl) && p[kl] == '=')
			return strndup(p + kl + 1, len - kl - 1);
		p += len;
		p += *p == ',';
	}
	return NULL;
}

/* Whether OPTS has KEY=on (or a bare KEY); @dflt when absent. */
static bool board_qmp_flag(const char *opts, const char *key, bool dflt)
{
	char *v = board_qmp_opt(opts, key);
	bool on = dflt;
	size_t kl = strlen(key);

	if (v) {
		on = !strcmp(v, "on") || !strcmp(v, "yes") ||
		     !strcmp(v, "true");
		free(v);
		return on;
	}
	for (const char *p = opts; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len == kl && !strncmp(p, key, kl))
			return true;
		if (!strncmp(key, "wait", 4) && len == 6 &&
		    !strncmp(p, "nowait", 6))
			return false;
		p += len;
		p += *p == ',';
	}
	return on;
}

static int board_qmp_chardev(struct board_qmp *q, const char *v)
{
	char *id, *path, *host, *port, *reconnect, spec[512];
	bool server, wait;
	int n;

	if (strncmp(v, "socket,", 7) || q->nr_chardevs == BOARD_QMP_MAX)
		return -1;
	id = board_qmp_opt(v, "id");
	path = board_qmp_opt(v, "path");
	host = board_qmp_opt(v, "host");
	port = board_qmp_opt(v, "port");
	reconnect = board_qmp_opt(v, "reconnect");
	server = board_qmp_flag(v, "server", false);
	wait = board_qmp_flag(v, "wait", true);
	if (path)
		n = snprintf(spec, sizeof(spec), "unix:%s", path);
	else if (port)
		n = snprintf(spec, sizeof(spec), "tcp:%s:%s", host ? host : "",
			     port);
	else
		n = -1;
	if (n > 0 && server)
		n += snprintf(spec + n, sizeof(spec) - (size_t)n,
			      ",server=on,wait=%s", wait ? "on" : "off");
	if (n > 0 && reconnect)
		n += snprintf(spec + n, sizeof(spec) - (size_t)n,
			      ",reconnect=%s", reconnect);
	free(path);
	free(host);
	free(port);
	free(reconnect);
	if (!id || n <= 0 || (size_t)n >= sizeof(spec)) {
		free(id);
		return -1;
	}
	q->chardev_id[q->nr_chardevs] = id;
	q->chardev_spec[q->nr_chardevs++] = strdup(spec);
	return 0;
}

static int board_qmp_add_spec(struct board_qmp *q, const char *spec)
{
	if (q->nr_specs == BOARD_QMP_MAX)
		return -1;
	q->spec[q->nr_specs++] = strdup(spec);
	return 0;
}

/*
 * Handle -qmp, -chardev, -mon and -name: 1 if @opt was one of them, 0 if not
 * (the board handles it), -1 for a value the board cannot honour.
 */
static int board_qmp_option(struct board_qmp *q, const char *opt, const char *v)
{
	if (!strcmp(opt, "-qmp"))
		return board_qmp_add_spec(q, v) < 0 ? -1 : 1;
	if (!strcmp(opt, "-name")) {
		/* QEMU: "NAME[,opts]" or "guest=NAME,..." */
		char *guest = board_qmp_opt(v, "guest");

		free(q->name);
		q->name = guest ? guest : strndup(v, strcspn(v, ","));
		return q->name ? 1 : -1;
	}
	if (!strcmp(opt, "-chardev"))
		return board_qmp_chardev(q, v) < 0 ? -1 : 1;
	if (!strcmp(opt, "-mon")) {
		char *dev = board_qmp_opt(v, "chardev");
		char *mode = board_qmp_opt(v, "mode");
		int r = -1;

		if (dev && mode && !strcmp(mode, "control")) {
			for (unsigned int i = 0; i < q->nr_chardevs; i++)
				if (!strcmp(q->chardev_id[i], dev))
					r = board_qmp_add_spec(
						    q, q->chardev_spec[i]) < 0
						    ? -1
						    : 1;
		}
		free(dev);
		free(mode);
		return r;
	}
	return 0;
}

static void board_qmp_quit(struct vmc_qmp *qmp, void *userdata)
{
	struct board_qmp *q = userdata;

	vmc_loop_stop(q->loop);
}

/*
 * Open the monitors (wait=on blocks here for the first client, as in
 * QEMU).  0 without any, or success; -errno otherwise, with @failed
 * naming the monitor.
 */
static int board_qmp_start(struct board_qmp *q, struct vmc_vm *vm,
			   const char *name, uint64_t ram_size,
			   const char **failed)
{
	struct vmc_qmp_config cfg;
	int r;

	if (!q->nr_specs)
		return 0;
	q->loop = vmc_vm_get_loop(vm);
	vmc_qmp_config_init(&cfg);
	cfg.name = name ? name : q->name;
	cfg.ram_size = ram_size;
	cfg.quit = board_qmp_quit;
	cfg.userdata = q;
	r = vmc_qmp_new(vm, &cfg, &q->qmp);
	for (unsigned int i = 0; r >= 0 && i < q->nr_specs; i++) {
		r = vmc_qmp_add_monitor(q->qmp, q->spec[i], NULL);
		if (r < 0)
			*failed = q->spec[i];
	}
	return r;
}

static void board_qmp_stop(struct board_qmp *q)
{
	vmc_qmp_free(q->qmp);
	q->qmp = NULL;
	for (unsigned int i = 0; i < q->nr_chardevs; i++) {
		free(q->chardev_id[i]);
		free(q->chardev_spec[i]);
	}
	for (unsigned int i = 0; i < q->nr_specs; i++)
		free(q->spec[i]);
	q->nr_chardevs = q->nr_specs = 0;
	free(q->name);
	q->name = NULL;
}

#endif
