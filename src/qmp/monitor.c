/* SPDX-License-Identifier: MIT */
/*
 * QMP monitors: where clients come from.  A listening Unix or TCP socket
 * (server=on, wait=on|off), an outgoing connection re-established every N
 * seconds (reconnect=N), or a socket the host hands over.  The spec
 * parser takes QEMU's -qmp spelling.  Clients themselves live in qmp.c.
 */
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-internal.h"

static void listen_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_qmp_monitor *mon = userdata;

	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				vmc_log(VMC_LOG_WARNING, "qmp: %s: accept: %s",
					mon->desc, strerror(errno));
			return;
		}
		if (vmc__qmp_client_new(mon, c) < 0)
			vmc_log(VMC_LOG_WARNING,
				"qmp: %s: cannot serve a client", mon->desc);
	}
}

static void connect_done(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct vmc_qmp_monitor *mon = userdata;
	int err = 0;
	socklen_t len = sizeof(err);

	vmc_fd_handler_free(mon->connect_h);
	mon->connect_h = NULL;
	mon->connect_fd = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		vmc_log(VMC_LOG_INFO, "qmp: %s: connect: %s", mon->desc,
			strerror(err));
		close(fd);
		vmc__qmp_monitor_connect_later(mon);
		return;
	}
	if (vmc__qmp_client_new(mon, fd) < 0)
		vmc__qmp_monitor_connect_later(mon);
}

/* Start a connection: 0 connected or in progress, -errno failed. */
static int monitor_connect(struct vmc_qmp_monitor *mon)
{
	int fd, r;

	fd = socket(mon->addr.ss_family,
		    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&mon->addr, mon->addrlen) == 0)
		return vmc__qmp_client_new(mon, fd);
	if (errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	r = vmc_loop_add_fd(mon->qmp->loop, fd, NULL, connect_done, mon,
			    &mon->connect_h);
	if (r < 0) {
		close(fd);
		return r;
	}
	mon->connect_fd = fd;
	return 0;
}

static void reconnect_timer(struct vmc_timer *t, void *userdata)
{
	struct vmc_qmp_monitor *mon = userdata;
	int r = monitor_connect(mon);

	if (r < 0) {
		vmc_log(VMC_LOG_DEBUG, "qmp: %s: connect: %s", mon->desc,
			strerror(-r));
		vmc__qmp_monitor_connect_later(mon);
	}
}

void vmc__qmp_monitor_connect_later(struct vmc_qmp_monitor *mon)
{
	struct vmc_clock *clk;

	if (!mon->reconnect || !mon->timer)
		return;
	clk = vmc_loop_get_clock(mon->qmp->loop, VMC_CLOCK_REALTIME);
	vmc_timer_mod(mon->timer, vmc_clock_get_ns(clk) +
					  (int64_t)mon->reconnect * 1000000000);
}

/* Mark dead: the reaper frees it.  Its clients go now. */
void vmc__qmp_monitor_kill(struct vmc_qmp_monitor *mon)
{
	mon->dead = true;
	for (struct qmp_client *c = mon->qmp->clients; c; c = c->next)
		if (c->mon == mon)
			vmc__qmp_client_kill(c, NULL);
	vmc_fd_handler_free(mon->listen_h);
	mon->listen_h = NULL;
	if (mon->listen_fd >= 0)
		close(mon->listen_fd);
	mon->listen_fd = -1;
	vmc_fd_handler_free(mon->connect_h);
	mon->connect_h = NULL;
	if (mon->connect_fd >= 0)
		close(mon->connect_fd);
	mon->connect_fd = -1;
	if (mon->timer)
		vmc_timer_del(mon->timer);
	if (mon->unix_path) {
		unlink(mon->unix_path);
		free(mon->unix_path);
		mon->unix_path = NULL;
	}
	vmc__qmp_schedule_reap(mon->qmp);
}

void vmc__qmp_monitor_free(struct vmc_qmp_monitor *mon)
{
	vmc_timer_free(mon->timer);
	free(mon->unix_path);
	free(mon->desc);
	free(mon);
}

/* The options after the address: server, wait, reconnect. */
static int parse_options(char *opts, bool *server, bool *wait,
			 unsigned int *reconnect)
{
	char *save = NULL;

	for (char *o = strtok_r(opts, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		char *val = strchr(o, '=');
		bool on;

		if (val)
			*val++ = '\0';
		if (!strcmp(o, "nowait") && !val) {
			*wait = false;
			continue;
		}
		if (!strcmp(o, "reconnect")) {
			char *end;
			unsigned long n;

			if (!val || !*val)
				return -EINVAL;
			errno = 0;
			n = strtoul(val, &end, 10);
			if (*end || errno || n > 86400 || *val == '-')
				return -EINVAL;
			*reconnect = (unsigned int)n;
			continue;
		}
		if (!val || !strcmp(val, "on"))
			on = true;
		else if (!strcmp(val, "off"))
			on = false;
		else
			return -EINVAL;
		if (!strcmp(o, "server"))
			*server = on;
		else if (!strcmp(o, "wait"))
			*wait = on;
		else
			return -EINVAL;
	}
	return 0;
}

static int parse_address(struct vmc_qmp_monitor *mon, char *addr, bool server)
{
	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&mon->addr;
		const char *path = addr + 5;

		if (!*path || strlen(path) >= sizeof(sun->sun_path))
			return -EINVAL;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, path);
		mon->addrlen = sizeof(*sun);
		if (server) {
			mon->unix_path = strdup(path);
			if (!mon->unix_path)
				return -ENOMEM;
		}
		return 0;
	}
	if (!strncmp(addr, "tcp:", 4)) {
		struct addrinfo hints = {0}, *ai = NULL;
		char *host = addr + 4, *port = strrchr(host, ':');
		int r;

		if (!port || !port[1])
			return -EINVAL;
		*port++ = '\0';
		if (*host == '[') {
			size_t l = strlen(host);

			if (l < 2 || host[l - 1] != ']')
				return -EINVAL;
			host[l - 1] = '\0';
			host++;
		}
		if (!*host)
			host = "127.0.0.1";
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV | (server ? AI_PASSIVE : 0);
		r = getaddrinfo(host, port, &hints, &ai);
		if (r)
			return r == EAI_MEMORY ? -ENOMEM : -EINVAL;
		memcpy(&mon->addr, ai->ai_addr, ai->ai_addrlen);
		mon->addrlen = ai->ai_addrlen;
		freeaddrinfo(ai);
		return 0;
	}
	return -EINVAL;
}

static int monitor_listen(struct vmc_qmp_monitor *mon, bool wait)
{
	int fd, one = 1, r;

	fd = socket(mon->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mon->listen_fd = fd;
	if (mon->unix_path) {
		struct stat st;

		if (lstat(mon->unix_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(mon->unix_path);
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&mon->addr, mon->addrlen) < 0)
		return -errno;
	if (mon->unix_path && chmod(mon->unix_path, 0600) < 0)
		return -errno;
	if (listen(fd, 16) < 0)
		return -errno;
	if (!mon->unix_path) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			return -errno;
		mon->port =
			ntohs(ss.ss_family == AF_INET6
				      ? ((struct sockaddr_in6 *)&ss)->sin6_port
				      : ((struct sockaddr_in *)&ss)->sin_port);
	}
	if (wait) {
		/* QEMU's wait=on: no start before the first client. */
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int c;

		vmc_log(VMC_LOG_INFO, "qmp: %s: waiting for a client",
			mon->desc);
		while ((r = poll(&p, 1, -1)) < 0 && errno == EINTR)
			;
		if (r < 0)
			return -errno;
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0)
			return -errno;
		r = vmc__qmp_client_new(mon, c);
		if (r < 0)
			return r;
	}
	return vmc_loop_add_fd(mon->qmp->loop, fd, listen_read, NULL, mon,
			       &mon->listen_h);
}

static struct vmc_qmp_monitor *
monitor_alloc(struct vmc_qmp *qmp, enum mon_kind kind, const char *desc)
{
	struct vmc_qmp_monitor *mon = calloc(1, sizeof(*mon));

	if (!mon)
		return NULL;
	mon->qmp = qmp;
	mon->kind = kind;
	mon->listen_fd = mon->connect_fd = -1;
	mon->port = -1;
	mon->desc = strdup(desc);
	if (!mon->desc) {
		free(mon);
		return NULL;
	}
	return mon;
}

VMC_EXPORT int vmc_qmp_add_monitor(struct vmc_qmp *qmp, const char *spec,
				   struct vmc_qmp_monitor **ret)
{
	bool server = false, wait = true;
	unsigned int reconnect = 0;
	struct vmc_qmp_monitor *mon;
	char *copy, *opts;
	int r;

	qmp_return_if(!qmp || !spec, -EINVAL);
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	opts = strchr(copy, ',');
	if (opts)
		*opts++ = '\0';
	r = opts ? parse_options(opts, &server, &wait, &reconnect) : 0;
	if (r < 0 || (server && reconnect)) {
		free(copy);
		return -EINVAL;
	}
	mon = monitor_alloc(qmp, server ? MON_LISTEN : MON_CONNECT, spec);
	if (!mon) {
		free(copy);
		return -ENOMEM;
	}
	r = parse_address(mon, copy, server);
	free(copy);
	if (r < 0)
		goto fail;
	/* Linked first, so that a client accepted by wait=on is reaped. */
	mon->next = qmp->monitors;
	qmp->monitors = mon;
	if (server) {
		r = monitor_listen(mon, wait);
	} else {
		mon->reconnect = reconnect;
		if (reconnect) {
			r = vmc_timer_new(
				vmc_loop_get_clock(qmp->loop,
						   VMC_CLOCK_REALTIME),
				reconnect_timer, mon, &mon->timer);
			if (r < 0)
				goto fail_linked;
		}
		r = monitor_connect(mon);
		if (r < 0 && reconnect) {
			vmc_log(VMC_LOG_INFO,
				"qmp: %s: connect: %s; retrying every %us",
				mon->desc, strerror(-r), reconnect);
			vmc__qmp_monitor_connect_later(mon);
			r = 0;
		}
	}
	if (r < 0)
		goto fail_linked;
	if (ret)
		*ret = mon;
	return 0;
fail_linked:
	/* Keep the socket file of whoever owns the address. */
	if (r == -EADDRINUSE) {
		free(mon->unix_path);
		mon->unix_path = NULL;
	}
	vmc__qmp_monitor_kill(mon);
	return r;
fail:
	vmc__qmp_monitor_free(mon);
	return r;
}

VMC_EXPORT int vmc_qmp_add_fd(struct vmc_qmp *qmp, int fd,
			      struct vmc_qmp_monitor **ret)
{
	struct vmc_qmp_monitor *mon;
	int copy, r;

	qmp_return_if(!qmp || fd < 0, -EINVAL);
	mon = monitor_alloc(qmp, MON_FD, "fd");
	if (!mon)
		return -ENOMEM;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0) {
		r = -errno;
		vmc__qmp_monitor_free(mon);
		return r;
	}
	mon->next = qmp->monitors;
	qmp->monitors = mon;
	r = vmc__qmp_client_new(mon, copy);
	if (r < 0) {
		vmc__qmp_monitor_kill(mon);
		return r;
	}
	if (ret)
		*ret = mon;
	return 0;
}

VMC_EXPORT void vmc_qmp_remove_monitor(struct vmc_qmp_monitor *mon)
{
	if (mon && !mon->dead)
		vmc__qmp_monitor_kill(mon);
}

VMC_EXPORT int vmc_qmp_monitor_get_port(const struct vmc_qmp_monitor *mon)
{
	qmp_return_if(!mon, -EINVAL);
	if (mon->kind != MON_LISTEN || mon->port < 0)
		return -ENOTSOCK;
	return mon->port;
}
