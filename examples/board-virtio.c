/* SPDX-License-Identifier: MIT */
/*
 * Virtio devices from QEMU's command-line spelling (board-virtio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board-util.h"
#include "board-virtio.h"

#define MSG(...) snprintf(msg, BOARD_MSG_SIZE, __VA_ARGS__)

/* Split "name,k=v,..." in place: the next "k=v" item, or NULL. */
static char *next_item(char **p)
{
	char *s = *p, *comma;

	if (!s || !*s)
		return NULL;
	comma = strchr(s, ',');
	if (comma) {
		*comma = 0;
		*p = comma + 1;
	} else {
		*p = NULL;
	}
	return s;
}

static const char *value_of(char *item, const char *key)
{
	size_t n = strlen(key);

	if (!strncmp(item, key, n) && item[n] == '=')
		return item + n + 1;
	return NULL;
}

static bool on_off(const char *v, bool *ret)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*ret = true;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*ret = false;
		return true;
	}
	return false;
}

static int drive_option(struct board_virtio *bv, const char *val, char *msg)
{
	struct board_virtio_drive *d;
	char *p, *item;
	bool if_none = false;

	if (bv->nr_drives == BOARD_VIRTIO_MAX)
		return MSG("too many drives"), -1;
	d = &bv->drives[bv->nr_drives];
	*d = (struct board_virtio_drive){.fd = -1};
	d->arg = strdup(val);
	if (!d->arg)
		return MSG("out of memory"), -1;
	p = d->arg;
	while ((item = next_item(&p))) {
		const char *v;

		if ((v = value_of(item, "file")))
			d->file = v;
		else if ((v = value_of(item, "id")))
			d->id = v;
		else if ((v = value_of(item, "if")))
			if_none = !strcmp(v, "none");
		else if ((v = value_of(item, "format"))) {
			if (strcmp(v, "raw"))
				return MSG("format '%s': raw only", v), -1;
		} else if ((v = value_of(item, "readonly"))) {
			if (!on_off(v, &d->read_only))
				return MSG("readonly=%s: on or off", v), -1;
		} else if ((v = value_of(item, "cache")) ||
			   (v = value_of(item, "aio"))) {
			/* QEMU's host-side tuning: ours is fixed. */
		} else {
			return MSG("unsupported drive option '%s'", item), -1;
		}
	}
	if (!d->file || !d->id || !if_none)
		return MSG("needs file=, id= and if=none"), -1;
	bv->nr_drives++;
	return 1;
}

static int chardev_option(struct board_virtio *bv, const char *val, char *msg)
{
	struct board_virtio_chardev *c;
	char *p, *item;

	if (bv->nr_chardevs == BOARD_VIRTIO_MAX)
		return MSG("too many chardevs"), -1;
	c = &bv->chardevs[bv->nr_chardevs];
	*c = (struct board_virtio_chardev){.in_fd = -1, .out_fd = -1};
	c->arg = strdup(val);
	if (!c->arg)
		return MSG("out of memory"), -1;
	p = c->arg;
	c->backend = next_item(&p);
	while ((item = next_item(&p))) {
		const char *v;

		if ((v = value_of(item, "id")))
			c->id = v;
		else if ((v = value_of(item, "path")))
			c->path = v;
		else if ((v = value_of(item, "input-path")))
			c->input_path = v;
		else if ((v = value_of(item, "signal")) ||
			 (v = value_of(item, "mux")))
			; /* no monitor multiplexing here */
		else
			return MSG("unsupported chardev option '%s'", item), -1;
	}
	if (!c->id)
		return MSG("needs id="), -1;
	if (strcmp(c->backend, "stdio") && strcmp(c->backend, "null") &&
	    strcmp(c->backend, "file")) {
		free(c->arg); /* another module's chardev (QMP sockets) */
		c->arg = NULL;
		return 0;
	}
	if (!strcmp(c->backend, "file") && !c->path)
		return MSG("file needs path="), -1;
	bv->nr_chardevs++;
	return 1;
}

static int device_option(struct board_virtio *bv, const char *val, char *msg)
{
	struct board_virtio_dev *d;
	char *p, *item, *name;
	const char *v;

	if (!strcmp(val, "virtio-serial-device") ||
	    !strncmp(val, "virtio-serial-device,", 21)) {
		bv->serial_bus = true;
		return 1;
	}
	if (bv->nr_devs == BOARD_VIRTIO_MAX)
		return MSG("too many devices"), -1;
	d = &bv->devs[bv->nr_devs];
	*d = (struct board_virtio_dev){0};
	d->arg = strdup(val);
	if (!d->arg)
		return MSG("out of memory"), -1;
	p = d->arg;
	name = next_item(&p);
	if (!strcmp(name, "virtio-rng-device"))
		d->kind = BOARD_VIRTIO_RNG;
	else if (!strcmp(name, "virtio-blk-device"))
		d->kind = BOARD_VIRTIO_BLK;
	else if (!strcmp(name, "virtconsole"))
		d->kind = BOARD_VIRTIO_CONSOLE;
	else if (!strcmp(name, "vmc-vsock-device"))
		d->kind = BOARD_VIRTIO_VSOCK;
	else {
		bool vhost = !strcmp(name, "vhost-vsock-device");

		free(d->arg);
		d->arg = NULL;
		if (vhost)
			return MSG("no vhost here: use "
				   "vmc-vsock-device,guest-cid=N,uds-path="
				   "PATH"),
			       -1;
		return 0;
	}
	while ((item = next_item(&p))) {
		if (d->kind == BOARD_VIRTIO_VSOCK &&
		    (v = value_of(item, "guest-cid"))) {
			if (board_parse_u64(v, &d->guest_cid) < 0 ||
			    d->guest_cid < 3 || d->guest_cid >= 0xffffffffu)
				return MSG("guest-cid=%s: 3 to 4294967294", v),
				       -1;
		} else if (d->kind == BOARD_VIRTIO_VSOCK &&
			   (v = value_of(item, "uds-path"))) {
			d->uds_path = v;
		} else if (d->kind == BOARD_VIRTIO_BLK &&
			   (v = value_of(item, "drive"))) {
			d->drive = v;
		} else if (d->kind == BOARD_VIRTIO_CONSOLE &&
			   (v = value_of(item, "chardev"))) {
			d->chardev = v;
		} else if (bv->iothreads && (v = value_of(item, "iothread"))) {
			d->iothread = v;
		} else if (value_of(item, "id") || value_of(item, "bus")) {
			/* QEMU's naming and bus placement: one bus here. */
		} else {
			return MSG("unsupported property '%s' of %s", item,
				   name),
			       -1;
		}
	}
	if (d->kind == BOARD_VIRTIO_VSOCK && (!d->guest_cid || !d->uds_path))
		return MSG("vmc-vsock-device needs guest-cid= and uds-path="),
		       -1;
	if (d->kind == BOARD_VIRTIO_BLK && !d->drive)
		return MSG("virtio-blk-device needs drive="), -1;
	if (d->kind == BOARD_VIRTIO_CONSOLE && !d->chardev)
		return MSG("virtconsole needs chardev="), -1;
	bv->nr_devs++;
	return 1;
}

int board_virtio_option(struct board_virtio *bv, const char *opt,
			const char *val, char *msg)
{
	if (!strcmp(opt, "-device"))
		return device_option(bv, val, msg);
	if (!strcmp(opt, "-drive"))
		return drive_option(bv, val, msg);
	if (!strcmp(opt, "-chardev"))
		return chardev_option(bv, val, msg);
	return 0;
}

static int open_chardev(struct board_virtio *bv, struct board_virtio_chardev *c,
			char *msg)
{
	if (!strcmp(c->backend, "stdio")) {
		if (bv->stdio_taken)
			return MSG("stdio used twice"), -EBUSY;
		bv->stdio_taken = true;
		c->in_fd = dup(STDIN_FILENO);
		c->out_fd = dup(STDOUT_FILENO);
	} else if (!strcmp(c->backend, "file")) {
		c->out_fd =
			open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
		if (c->out_fd < 0)
			return MSG("%s: %s", c->path, strerror(errno)), -errno;
		if (c->input_path) {
			c->in_fd = open(c->input_path,
					O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			if (c->in_fd < 0)
				return MSG("%s: %s", c->input_path,
					   strerror(errno)),
				       -errno;
		}
	}
	return 0;
}

static struct board_virtio_drive *find_drive(struct board_virtio *bv,
					     const char *id)
{
	for (unsigned int i = 0; i < bv->nr_drives; i++)
		if (!strcmp(bv->drives[i].id, id))
			return &bv->drives[i];
	return NULL;
}

static struct board_virtio_chardev *find_chardev(struct board_virtio *bv,
						 const char *id)
{
	for (unsigned int i = 0; i < bv->nr_chardevs; i++)
		if (!strcmp(bv->chardevs[i].id, id))
			return &bv->chardevs[i];
	return NULL;
}

int board_virtio_create(struct board_virtio *bv, struct vmc_vm *vm,
			unsigned int nr_slots, bool legacy,
			board_virtio_irq_fn irq_fn, void *opaque, char *msg)
{
	static const struct vmc_virtio_ops none = {.struct_size = sizeof(none)};
	unsigned int next = nr_slots;
	int r;

	if (bv->nr_devs > nr_slots)
		return MSG("%u devices, %u virtio-mmio slots", bv->nr_devs,
			   nr_slots),
		       -ENOSPC;
	bv->slots = calloc(nr_slots, sizeof(*bv->slots));
	if (!bv->slots)
		return MSG("out of memory"), -ENOMEM;
	bv->nr_slots = nr_slots;
	for (unsigned int i = 0; i < bv->nr_devs; i++) {
		const struct board_virtio_dev *d = &bv->devs[i];

		if (d->drive && !find_drive(bv, d->drive))
			return MSG("drive '%s' not found", d->drive), -ENOENT;
		if (d->chardev && !find_chardev(bv, d->chardev))
			return MSG("chardev '%s' not found", d->chardev),
			       -ENOENT;
		if (d->kind == BOARD_VIRTIO_CONSOLE && !bv->serial_bus)
			return MSG("virtconsole needs "
				   "-device virtio-serial-device"),
			       -EINVAL;
	}
	for (unsigned int i = 0; i < bv->nr_chardevs; i++)
		if ((r = open_chardev(bv, &bv->chardevs[i], msg)) < 0)
			return r;
	for (unsigned int i = 0; i < bv->nr_devs; i++) {
		struct board_virtio_dev *d = &bv->devs[i];
		struct vmc_irq *irq = irq_fn(opaque, --next);
		struct vmc_virtio *t = NULL;
		struct vmc_iothread *iot = NULL;

		if (d->iothread &&
		    (r = board_iothread_find(bv->iothreads, d->iothread, &iot,
					     msg)) < 0)
			return r;

		switch (d->kind) {
		case BOARD_VIRTIO_RNG: {
			struct vmc_virtio_rng_config c;

			vmc_virtio_rng_config_init(&c);
			c.vm = vm;
			c.irq = irq;
			c.legacy = legacy;
			c.iothread = iot;
			c.irq_any_thread = bv->irq_any_thread;
			r = vmc_virtio_rng_new(&c, &d->rng);
			t = vmc_virtio_rng_get_virtio(d->rng);
			break;
		}
		case BOARD_VIRTIO_BLK: {
			struct board_virtio_drive *dr =
				find_drive(bv, d->drive);
			struct vmc_virtio_blk_config c;

			dr->fd = open(dr->file,
				      (dr->read_only ? O_RDONLY : O_RDWR) |
					      O_CLOEXEC);
			if (dr->fd < 0)
				return MSG("%s: %s", dr->file, strerror(errno)),
				       -errno;
			vmc_virtio_blk_config_init(&c);
			c.vm = vm;
			c.irq = irq;
			c.legacy = legacy;
			c.iothread = iot;
			c.irq_any_thread = bv->irq_any_thread;
			c.fd = dr->fd;
			c.read_only = dr->read_only;
			c.serial = dr->id;
			r = vmc_virtio_blk_new(&c, &d->blk);
			t = vmc_virtio_blk_get_virtio(d->blk);
			break;
		}
		case BOARD_VIRTIO_CONSOLE: {
			struct board_virtio_chardev *ch =
				find_chardev(bv, d->chardev);
			struct vmc_virtio_console_config c;

			vmc_virtio_console_config_init(&c);
			c.vm = vm;
			c.irq = irq;
			c.legacy = legacy;
			c.iothread = iot;
			c.irq_any_thread = bv->irq_any_thread;
			c.in_fd = ch->in_fd;
			c.out_fd = ch->out_fd;
			r = vmc_virtio_console_new(&c, &d->con);
			t = vmc_virtio_console_get_virtio(d->con);
			break;
		}
		default: {
			struct vmc_virtio_vsock_config c;

			vmc_virtio_vsock_config_init(&c);
			c.vm = vm;
			c.irq = irq;
			c.legacy = legacy;
			c.iothread = iot;
			c.irq_any_thread = bv->irq_any_thread;
			c.guest_cid = d->guest_cid;
			c.uds_path = d->uds_path;
			r = vmc_virtio_vsock_new(&c, &d->vsock);
			t = vmc_virtio_vsock_get_virtio(d->vsock);
			break;
		}
		}
		if (r < 0)
			return MSG("cannot create %s: %s", d->arg,
				   strerror(-r)),
			       r;
		bv->slots[next] = t;
	}
	while (next > 0) {
		struct vmc_virtio_config vc;

		vmc_virtio_config_init(&vc);
		vc.vm = vm;
		vc.irq = irq_fn(opaque, next - 1);
		vc.legacy = legacy;
		vc.device_id = 0; /* an empty slot */
		r = vmc_virtio_new(&vc, &none, NULL, &bv->slots[--next]);
		if (r < 0)
			return MSG("cannot create a virtio-mmio slot"), r;
	}
	return 0;
}

struct vmc_virtio *board_virtio_slot(struct board_virtio *bv, unsigned int slot)
{
	return bv->slots && slot < bv->nr_slots ? bv->slots[slot] : NULL;
}

bool board_virtio_slot_used(struct board_virtio *bv, unsigned int slot)
{
	return slot < bv->nr_slots && slot >= bv->nr_slots - bv->nr_devs;
}

bool board_virtio_uses_stdin(const struct board_virtio *bv)
{
	for (unsigned int i = 0; i < bv->nr_chardevs; i++)
		if (!strcmp(bv->chardevs[i].backend, "stdio"))
			return true;
	return false;
}

void board_virtio_free(struct board_virtio *bv)
{
	unsigned int first_dev = bv->nr_slots - bv->nr_devs;

	for (unsigned int i = 0; i < bv->nr_devs; i++) {
		struct board_virtio_dev *d = &bv->devs[i];

		vmc_virtio_rng_free(d->rng);
		vmc_virtio_blk_free(d->blk);
		vmc_virtio_console_free(d->con);
		vmc_virtio_vsock_free(d->vsock);
		free(d->arg);
	}
	for (unsigned int i = 0; bv->slots && i < first_dev; i++)
		vmc_virtio_free(bv->slots[i]);
	for (unsigned int i = 0; i < bv->nr_drives; i++) {
		if (bv->drives[i].fd >= 0)
			close(bv->drives[i].fd);
		free(bv->drives[i].arg);
	}
	for (unsigned int i = 0; i < bv->nr_chardevs; i++) {
		if (bv->chardevs[i].in_fd >= 0)
			close(bv->chardevs[i].in_fd);
		if (bv->chardevs[i].out_fd >= 0)
			close(bv->chardevs[i].out_fd);
		free(bv->chardevs[i].arg);
	}
	free(bv->slots);
	*bv = (struct board_virtio){0};
}
