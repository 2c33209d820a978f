/* SPDX-License-Identifier: MIT */
/* QEMU's -netdev and -device virtio-net-device for the boards; see
 * board-net.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board-net.h"
#include "board-util.h"

/* The value of @key in a "type,k=v,k=v" spec, or NULL. */
static const char *get(const char *spec, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	const char *p = strchr(spec, ',');

	while (p) {
		const char *end;

		p++;
		end = strchr(p, ',');
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = end ? (size_t)(end - p - kl - 1)
					: strlen(p + kl + 1);

			if (vl >= len)
				return NULL;
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = 0;
			return buf;
		}
		p = end;
	}
	return NULL;
}

/* Every key of @spec is one of @keys (a NULL-terminated list). */
static int check_keys(const char *spec, const char *const *keys,
		      const char *what, char *msg)
{
	const char *p = strchr(spec, ',');

	while (p) {
		const char *end = strchr(++p, ','), *eq = strchr(p, '=');
		size_t kl;
		bool ok = false;

		if (!eq || (end && eq > end)) {
			snprintf(msg, BOARD_MSG_SIZE,
				 "%s: '%.*s' is not KEY=VALUE", what,
				 end ? (int)(end - p) : (int)strlen(p), p);
			return -EINVAL;
		}
		kl = (size_t)(eq - p);
		for (const char *const *k = keys; *k; k++)
			if (strlen(*k) == kl && !strncmp(*k, p, kl))
				ok = true;
		if (!ok) {
			snprintf(msg, BOARD_MSG_SIZE,
				 "%s: Invalid parameter '%.*s'", what, (int)kl,
				 p);
			return -EINVAL;
		}
		p = end;
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int v[6];
	char sep[5], end;

	if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &v[0], &sep[0], &v[1],
		   &sep[1], &v[2], &sep[2], &v[3], &sep[3], &v[4], &sep[4],
		   &v[5], &end) != 11 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 5; i++)
		if (sep[i] != ':' && sep[i] != '-')
			return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return mac[0] & 1 ? -EINVAL : 0;
}

static const char *const tap_keys[] = {"id", "ifname", "script", "downscript",
				       "fd", "vhost",  NULL};
static const char *const dgram_keys[] = {
	"id",	       "local.type",  "local.host",  "local.port",
	"local.path",  "local.str",   "remote.type", "remote.host",
	"remote.port", "remote.path", NULL};
static const char *const stream_keys[] = {
	"id",	     "server",	 "addr.type",	 "addr.host", "addr.port",
	"addr.path", "addr.str", "addr.numeric", "nodelay",   NULL};
static const char *const nic_keys[] = {
	"netdev", "mac", "id", "mrg_rxbuf", "host_mtu", "iothread", NULL};

static int add_netdev(struct board_net *n, const char *val, char *msg)
{
	struct board_netdev *d;
	char buf[64];
	const char *const *keys;
	size_t tl = strcspn(val, ",");
	int r;

	if (!strncmp(val, "tap", tl) && tl == 3)
		keys = tap_keys;
	else if (!strncmp(val, "dgram", tl) && tl == 5)
		keys = dgram_keys;
	else if (!strncmp(val, "stream", tl) && tl == 6)
		keys = stream_keys;
	else {
		snprintf(msg, BOARD_MSG_SIZE,
			 "-netdev %s: type '%.*s' is not supported (tap, "
			 "dgram, stream)",
			 val, (int)tl, val);
		return -EINVAL;
	}
	r = check_keys(val, keys, "-netdev", msg);
	if (r < 0)
		return r;
	if (!get(val, "id", buf, sizeof(buf))) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "-netdev %s: Parameter 'id' is "
			 "missing",
			 val);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n->n_netdev; i++)
		if (!strcmp(n->netdev[i].id, buf)) {
			snprintf(msg, BOARD_MSG_SIZE,
				 "-netdev %s: Duplicate ID '%s' for netdev",
				 val, buf);
			return -EEXIST;
		}
	if (n->n_netdev == BOARD_NET_MAX) {
		snprintf(msg, BOARD_MSG_SIZE, "-netdev: at most %d",
			 BOARD_NET_MAX);
		return -E2BIG;
	}
	d = &n->netdev[n->n_netdev];
	*d = (struct board_netdev){.spec = strdup(val)};
	if (!d->spec)
		return -ENOMEM;
	d->type = keys == tap_keys     ? "tap"
		  : keys == dgram_keys ? "dgram"
				       : "stream";
	d->id = strdup(buf);
	if (!d->id)
		return -ENOMEM;
	n->n_netdev++;
	return 1;
}

static int add_nic(struct board_net *n, const char *val, char *msg)
{
	struct board_nic *c;
	char buf[64];
	int r = check_keys(val, nic_keys, "-device virtio-net-device", msg);

	if (r < 0)
		return r;
	if (n->n_nic == BOARD_NET_MAX) {
		snprintf(msg, BOARD_MSG_SIZE, "virtio-net-device: at most %d",
			 BOARD_NET_MAX);
		return -E2BIG;
	}
	c = &n->nic[n->n_nic];
	*c = (struct board_nic){.spec = strdup(val)};
	if (!c->spec)
		return -ENOMEM;
	n->n_nic++;
	if (get(val, "netdev", buf, sizeof(buf)))
		c->netdev = strdup(buf);
	if (get(val, "id", buf, sizeof(buf))) {
		c->id = strdup(buf);
		if (!c->id)
			return -ENOMEM;
	}
	if (get(val, "mac", buf, sizeof(buf))) {
		if (parse_mac(buf, c->mac) < 0) {
			snprintf(msg, BOARD_MSG_SIZE,
				 "Property 'virtio-net-device.mac' doesn't "
				 "take value '%s'",
				 buf);
			return -EINVAL;
		}
		c->has_mac = true;
	}
	if (get(val, "mrg_rxbuf", buf, sizeof(buf))) {
		if (strcmp(buf, "on") && strcmp(buf, "off")) {
			snprintf(msg, BOARD_MSG_SIZE,
				 "mrg_rxbuf: '%s' is not on or off", buf);
			return -EINVAL;
		}
		c->mrg_off = !strcmp(buf, "off");
	}
	if (get(val, "host_mtu", buf, sizeof(buf))) {
		uint64_t v;

		if (board_parse_u64(buf, &v) < 0 || v < 68 || v > 65535) {
			snprintf(msg, BOARD_MSG_SIZE,
				 "host_mtu: '%s' is not 68 to 65535", buf);
			return -EINVAL;
		}
		c->mtu = (unsigned int)v;
	}
	return 1;
}

int board_net_option(struct board_net *n, const char *opt, const char *val,
		     char *msg)
{
	static const char nic[] = "virtio-net-device";

	if (!strcmp(opt, "-netdev"))
		return add_netdev(n, val, msg);
	if (!strcmp(opt, "-device") && !strncmp(val, nic, strlen(nic)) &&
	    (val[strlen(nic)] == ',' || !val[strlen(nic)]))
		return add_nic(n, val, msg);
	return 0;
}

/*
 * QEMU's default: 52:54:00:12:34:56 + the first index that no NIC made
 * before this one uses (QEMU marks a MAC used when its NIC is realized,
 * in command-line order).
 */
static void default_mac(struct board_net *n, unsigned int i, uint8_t mac[6])
{
	static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	bool used[256] = {false};
	unsigned int next = 0;

	for (unsigned int k = 0; k < n->n_nic; k++) {
		const uint8_t *m = n->nic[k].mac;

		if (k < i && !memcmp(m, base, 5) && m[5] >= 0x56)
			used[m[5] - 0x56] = true;
	}
	while (next < 255 && used[next])
		next++;
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(0x56 + next);
}

static int get_addr(const char *spec, const char *prefix,
		    struct vmc_net_addr *a, char bufs[4][128], const char *what,
		    char *msg)
{
	char key[32];
	const char *type;

	snprintf(key, sizeof(key), "%s.type", prefix);
	type = get(spec, key, bufs[0], 128);
	*a = (struct vmc_net_addr){.fd = -1};
	if (!type)
		return 0;
	if (!strcmp(type, "inet")) {
		a->type = VMC_NET_ADDR_INET;
		snprintf(key, sizeof(key), "%s.host", prefix);
		a->host = get(spec, key, bufs[1], 128);
		snprintf(key, sizeof(key), "%s.port", prefix);
		a->port = get(spec, key, bufs[2], 128);
	} else if (!strcmp(type, "unix")) {
		a->type = VMC_NET_ADDR_UNIX;
		snprintf(key, sizeof(key), "%s.path", prefix);
		a->path = get(spec, key, bufs[1], 128);
	} else if (!strcmp(type, "fd")) {
		uint64_t fd;

		a->type = VMC_NET_ADDR_FD;
		snprintf(key, sizeof(key), "%s.str", prefix);
		if (!get(spec, key, bufs[1], 128) ||
		    board_parse_u64(bufs[1], &fd) < 0 || fd > 65535) {
			snprintf(msg, BOARD_MSG_SIZE, "%s: %s.str is not an fd",
				 what, prefix);
			return -EINVAL;
		}
		a->fd = (int)fd;
	} else {
		snprintf(msg, BOARD_MSG_SIZE,
			 "%s: %s.type '%s' is not inet, "
			 "unix or fd",
			 what, prefix, type);
		return -EINVAL;
	}
	return 0;
}

static int make_backend(struct board_netdev *d, struct vmc_vm *vm, char *msg)
{
	char bufs[2][4][128], buf[128];
	int r;

	if (!strcmp(d->type, "tap")) {
		struct vmc_net_tap_config c;

		vmc_net_tap_config_init(&c);
		c.vm = vm;
		c.ifname = get(d->spec, "ifname", bufs[0][0], 128);
		for (int i = 0; i < 2; i++) {
			const char *k = i ? "downscript" : "script";

			if (get(d->spec, k, buf, sizeof(buf)) &&
			    strcmp(buf, "no")) {
				snprintf(msg, BOARD_MSG_SIZE,
					 "-netdev %.20s: %s=%.32s: scripts are "
					 "not run (%s=no; set the "
					 "interface up yourself)",
					 d->id, k, buf, k);
				return -EINVAL;
			}
		}
		if (get(d->spec, "fd", buf, sizeof(buf))) {
			uint64_t fd;

			if (board_parse_u64(buf, &fd) < 0 || fd > 65535) {
				snprintf(msg, BOARD_MSG_SIZE,
					 "-netdev %s: fd=%s", d->id, buf);
				return -EINVAL;
			}
			c.fd = (int)fd;
		}
		r = vmc_net_tap_new(&c, &d->be);
	} else if (!strcmp(d->type, "dgram")) {
		struct vmc_net_dgram_config c;

		vmc_net_dgram_config_init(&c);
		c.vm = vm;
		if ((r = get_addr(d->spec, "local", &c.local, bufs[0],
				  "-netdev dgram", msg)) < 0 ||
		    (r = get_addr(d->spec, "remote", &c.remote, bufs[1],
				  "-netdev dgram", msg)) < 0)
			return r;
		r = vmc_net_dgram_new(&c, &d->be);
	} else {
		struct vmc_net_stream_config c;

		vmc_net_stream_config_init(&c);
		c.vm = vm;
		if (get(d->spec, "server", buf, sizeof(buf)))
			c.server = !strcmp(buf, "on") || !strcmp(buf, "true") ||
				   !strcmp(buf, "yes");
		if ((r = get_addr(d->spec, "addr", &c.addr, bufs[0],
				  "-netdev stream", msg)) < 0)
			return r;
		r = vmc_net_stream_new(&c, &d->be);
	}
	if (r < 0)
		snprintf(msg, BOARD_MSG_SIZE, "-netdev %s,id=%s: %s", d->type,
			 d->id, strerror(-r));
	return r;
}

int board_net_create(struct board_net *n, unsigned int i, struct vmc_vm *vm,
		     struct vmc_irq *irq, bool legacy, char *msg)
{
	struct board_nic *c = &n->nic[i];
	struct vmc_virtio_net_config nc;
	struct board_netdev *d = NULL;
	int r;

	if (!c->netdev) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "virtio-net-device: netdev= is required");
		return -EINVAL;
	}
	for (unsigned int k = 0; k < n->n_netdev; k++)
		if (!strcmp(n->netdev[k].id, c->netdev))
			d = &n->netdev[k];
	if (!d) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "Property 'virtio-net-device.netdev' can't find "
			 "value '%s'",
			 c->netdev);
		return -ENOENT;
	}
	if (d->used) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "Property 'virtio-net-device.netdev' can't take "
			 "value '%s', it's in use",
			 c->netdev);
		return -EBUSY;
	}
	r = make_backend(d, vm, msg);
	if (r < 0)
		return r;
	d->used = true;
	if (!c->has_mac)
		default_mac(n, i, c->mac);
	vmc_virtio_net_config_init(&nc);
	nc.vm = vm;
	nc.irq = irq;
	nc.legacy = legacy;
	memcpy(nc.mac, c->mac, 6);
	nc.mrg_rxbuf = !c->mrg_off;
	nc.mtu = c->mtu;
	nc.backend = d->be;
	nc.iothread = c->iothread;
	r = vmc_virtio_net_new(&nc, &c->dev);
	if (r < 0)
		snprintf(msg, BOARD_MSG_SIZE, "virtio-net-device: %s",
			 strerror(-r));
	return r;
}

int board_net_create_unused(struct board_net *n, struct vmc_vm *vm, char *msg)
{
	for (unsigned int i = 0; i < n->n_netdev; i++) {
		struct board_netdev *d = &n->netdev[i];
		int r;

		if (d->used)
			continue;
		r = make_backend(d, vm, msg);
		if (r < 0)
			return r;
		fprintf(stderr, "warning: netdev %s has no peer\n", d->id);
	}
	return 0;
}

static void qmp_set_link(struct vmc_qmp_request *req, void *userdata)
{
	struct board_net *n = userdata;
	const char *name =
		vmc_qmp_value_get_string(vmc_qmp_request_get_arg(req, "name"));
	bool up = false, found = false;

	vmc_qmp_value_get_bool(vmc_qmp_request_get_arg(req, "up"), &up);
	for (unsigned int i = 0; name && i < n->n_nic; i++) {
		struct board_nic *c = &n->nic[i];

		if (!c->dev || !((c->id && !strcmp(c->id, name)) ||
				 (c->netdev && !strcmp(c->netdev, name))))
			continue;
		vmc_virtio_net_set_link(c->dev, up);
		found = true;
	}
	if (!found)
		vmc_qmp_request_error(req, VMC_QMP_DEVICE_NOT_FOUND,
				      "Device '%s' not found",
				      name ? name : "");
}

int board_net_add_qmp(struct board_net *n, struct vmc_qmp *qmp)
{
	static const struct vmc_qmp_arg args[] = {
		{"name", VMC_QMP_STRING, false},
		{"up", VMC_QMP_BOOL, false},
		{NULL, 0, false},
	};

	return vmc_qmp_add_command(qmp, "set_link", args, qmp_set_link, n);
}

void board_net_free(struct board_net *n)
{
	for (unsigned int i = 0; i < n->n_nic; i++) {
		vmc_virtio_net_free(n->nic[i].dev);
		free(n->nic[i].spec);
		free((char *)n->nic[i].netdev);
		free((char *)n->nic[i].id);
	}
	for (unsigned int i = 0; i < n->n_netdev; i++) {
		vmc_net_backend_free(n->netdev[i].be);
		free(n->netdev[i].spec);
		free((char *)n->netdev[i].id);
	}
	memset(n, 0, sizeof(*n));
}
