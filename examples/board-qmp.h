/* SPDX-License-Identifier: MIT */
/*
 * QEMU's QMP command-line options for the example boards, mapped onto
 * vmc-qmp.h:
 *
 *   -qmp unix:PATH,server=on,wait=off       (also tcp:HOST:PORT,...)
 *   -chardev socket,id=ID,path=PATH|host=HOST,port=PORT
 *            [,server=on|off][,wait=on|off][,reconnect=N]
 *   -mon chardev=ID,mode=control
 *   -name NAME[,debug-threads=on]           (query-name; with debug-threads
 *                                            the vCPU threads are "CPU N/KVM"
 *                                            or "CPU N/TCG", as QEMU's)
 *   -no-shutdown                            (a guest power-off leaves the
 *                                            process up in `shutdown`)
 *   -pidfile FILE   -id N   -daemonize
 *
 * With a monitor or a pid file, SIGTERM, SIGINT and SIGHUP end the board
 * as they end QEMU: a SHUTDOWN event (guest false, reason host-signal),
 * a line on stderr, status 0, the pid file removed.
 *
 * so that a management stack's command line (Proxmox's qmp and
 * qmp-event sockets) runs unchanged.  `quit` stops the board's loop.
 * Header-only: a board includes it, hands flags to board_qmp_flag() and
 * options with a value to board_qmp_option(), calls board_qmp_daemonize()
 * after parsing (before it creates any thread), board_qmp_start() before
 * starting the VM, board_qmp_ready() once it is set up, and
 * board_qmp_keep_after_shutdown() when the guest powers off.
 */
#ifndef BOARD_QMP_H
#define BOARD_QMP_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
	char *name;	     /* -name, for query-name */
	bool debug_threads;  /* -name ...,debug-threads=on */
	bool no_shutdown;    /* -no-shutdown */
	bool daemonize;	     /* -daemonize */
	const char *pidfile; /* -pidfile */
	int daemon_pipe;     /* to the waiting parent; -1 once told */
	int sigfd;	     /* SIGTERM, SIGINT, SIGHUP; -1 without */
	struct vmc_fd_handler *sig_handler;
	const char *prog;
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
		q->debug_threads = board_qmp_flag(v, "debug-threads", false);
		return q->name ? 1 : -1;
	}
	if (!strcmp(opt, "-pidfile")) {
		q->pidfile = v;
		return 1;
	}
	if (!strcmp(opt, "-id")) /* Proxmox's VM id: accepted, unused */
		return 1;
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

/* Handle the flags without a value: 1 if @opt was one of them. */
static int board_qmp_flag_option(struct board_qmp *q, const char *opt)
{
	if (!strcmp(opt, "-no-shutdown")) {
		q->no_shutdown = true;
		return 1;
	}
	if (!strcmp(opt, "-daemonize")) {
		q->daemonize = true;
		return 1;
	}
	return 0;
}

/* The pid file's absolute path, for the unlink at exit (after chdir). */
static char board_qmp_pidfile_path[PATH_MAX];

static void board_qmp_unlink_pidfile(void)
{
	if (board_qmp_pidfile_path[0])
		unlink(board_qmp_pidfile_path);
}

/*
 * QEMU's -pidfile: create, lock (a second instance with the same file
 * fails), write "PID\n", keep open and locked, unlink at exit.
 */
static int board_qmp_write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (lockf(fd, F_TLOCK, 0) < 0 || ftruncate(fd, 0) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	if (!realpath(path, board_qmp_pidfile_path))
		board_qmp_pidfile_path[0] = 0;
	atexit(board_qmp_unlink_pidfile);
	return 0; /* fd stays open: the lock lasts as long as the process */
}

/*
 * -daemonize and -pidfile, right after the command line is parsed and
 * before any thread exists.  As QEMU: fork; the parent waits on a pipe
 * and exits 0 once the child is ready (board_qmp_ready()), 1 if the
 * child fails first; the child starts a new session, forks again so it
 * can never regain a terminal, and its console is /dev/null.
 * Then the pid file.  Exits on failure (@prog names the board).
 */
static void board_qmp_daemonize(struct board_qmp *q, const char *prog)
{
	int fds[2], r, devnull;
	pid_t pid;

	q->daemon_pipe = -1;
	q->sigfd = -1;
	q->prog = prog;
	if (q->nr_specs || q->pidfile) {
		sigset_t set;

		/* Before any thread exists, so that all inherit the mask. */
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		q->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	}
	if (q->daemonize) {
		if (pipe(fds) < 0 || (pid = fork()) < 0) {
			fprintf(stderr, "%s: cannot daemonize: %s\n", prog,
				strerror(errno));
			exit(1);
		}
		if (pid > 0) {
			uint8_t status;
			ssize_t n;

			close(fds[1]);
			do
				n = read(fds[0], &status, 1);
			while (n < 0 && errno == EINTR);
			waitpid(pid, NULL, 0); /* the first child, at once */
			_exit(n == 1 && status == 0 ? 0 : 1);
		}
		close(fds[0]);
		setsid();
		pid = fork();
		if (pid < 0)
			exit(1);
		if (pid > 0)
			_exit(0);
		umask(027);
		signal(SIGTSTP, SIG_IGN);
		signal(SIGTTOU, SIG_IGN);
		signal(SIGTTIN, SIG_IGN);
		q->daemon_pipe = fds[1];
		/* A daemon has no console (QEMU refuses stdio with
		 * -daemonize); stderr stays for start-up errors. */
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			close(devnull);
		}
	}
	if (q->pidfile && (r = board_qmp_write_pidfile(q->pidfile)) < 0) {
		fprintf(stderr, "%s: cannot create PID file '%s': %s\n", prog,
			q->pidfile, strerror(-r));
		if (q->daemon_pipe >= 0) {
			uint8_t status = 1;

			if (write(q->daemon_pipe, &status, 1) < 0)
				status = 0;
		}
		exit(1);
	}
}

struct board_qmp_thread_name {
	const char *accel;
	unsigned int index;
};

static void board_qmp_name_thread(struct vmc_vcpu *vcpu, void *userdata)
{
	struct board_qmp_thread_name *t = userdata;
	char name[16];

	(void)vcpu;
	snprintf(name, sizeof(name), "CPU %u/%s", t->index, t->accel);
	pthread_setname_np(pthread_self(), name);
}

/*
 * The board is set up and its monitors listen: name the vCPU threads
 * (-name ...,debug-threads=on: "CPU N/KVM" or "CPU N/TCG", QEMU's names),
 * then let a -daemonize parent exit and put stderr on /dev/null, as QEMU
 * does.  @accel is "KVM" or "TCG".
 */
static void board_qmp_ready(struct board_qmp *q, struct vmc_vm *vm,
			    unsigned int vcpus, const char *accel)
{
	if (q->debug_threads) {
		for (unsigned int i = 0; i < vcpus; i++) {
			struct board_qmp_thread_name t = {accel, i};
			struct vmc_vcpu *vcpu = vmc_vm_get_vcpu(vm, i);

			if (vcpu)
				vmc_vcpu_run_sync(vcpu, board_qmp_name_thread,
						  &t);
		}
	}
	if (q->daemon_pipe >= 0) {
		uint8_t status = 0;
		int devnull;

		if (chdir("/") < 0)
			status = 1;
		fflush(stderr);
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDERR_FILENO);
			close(devnull);
		}
		if (write(q->daemon_pipe, &status, 1) < 0)
			status = 1;
		close(q->daemon_pipe);
		q->daemon_pipe = -1;
	}
}

/*
 * The guest powered off (the VM is in VMC_VM_SHUTDOWN; the QMP server has
 * sent SHUTDOWN, guest true, reason guest-shutdown): whether the board
 * stays up for `system_reset` or `quit` (-no-shutdown) instead of ending.
 */
static bool board_qmp_keep_after_shutdown(const struct board_qmp *q)
{
	return q->no_shutdown;
}

/* QEMU's termination by signal: SHUTDOWN (host-signal), then exit 0. */
static void board_qmp_signal(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct board_qmp *q = userdata;
	struct signalfd_siginfo si;
	struct vmc_qmp_value *data = NULL;

	(void)h;
	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	fprintf(stderr, "%s: terminating on signal %u from pid %u\n", q->prog,
		si.ssi_signo, si.ssi_pid);
	if (q->qmp && vmc_qmp_value_new_object(&data) == 0 &&
	    vmc_qmp_object_set_bool(data, "guest", false) == 0 &&
	    vmc_qmp_object_set_string(data, "reason", "host-signal") == 0) {
		vmc_qmp_send_event(q->qmp, "SHUTDOWN", data);
		data = NULL;
	}
	vmc_qmp_value_free(data);
	vmc_loop_stop(q->loop);
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

	q->loop = vmc_vm_get_loop(vm);
	if (q->sigfd >= 0 &&
	    vmc_loop_add_fd(q->loop, q->sigfd, board_qmp_signal, NULL, q,
			    &q->sig_handler) < 0) {
		*failed = "signals";
		return -EIO;
	}
	if (!q->nr_specs)
		return 0;
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
	vmc_fd_handler_free(q->sig_handler);
	q->sig_handler = NULL;
	if (q->sigfd >= 0)
		close(q->sigfd);
	q->sigfd = -1;
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
