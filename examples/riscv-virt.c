/* SPDX-License-Identifier: MIT */
/*
 * riscv-virt: QEMU's RISC-V `virt` board, assembled from libvmcore's public
 * API and run on its software RV64 CPU.
 *
 * It mirrors qemu-system-riscv64 -M virt: the same memory map, the same
 * device tree, the same boot convention (a reset vector in mask ROM that
 * enters the firmware in M-mode with a0 = hart id, a1 = device tree,
 * a2 = OpenSBI's fw_dynamic information), and the same command line, so
 * the two can be swapped in scripts and benchmarks:
 *
 *   riscv-virt -m 64 -bios none -kernel prog.elf
 *   riscv-virt -bios .../fw_jump.elf -kernel .../uboot.elf
 *   riscv-virt -cpu rv64,zbb=off,zicond=off -bios none -kernel prog.elf
 *   riscv-virt -bios none -kernel prog.elf -s -S   (then: gdb, target
 *              remote :1234; -gdb tcp::PORT or -gdb unix:PATH elsewhere)
 *
 * The console is a 16550 on stdio; its input is a terminal, a pipe or a
 * socket, so scripts can drive it.  On a terminal, Ctrl-A x quits and
 * Ctrl-A a sends Ctrl-A, as with QEMU's -nographic.  The exit status
 * follows the SiFive test finisher: pass -> 0, fail -> its code.  Under
 * -no-shutdown the finisher is a SHUTDOWN event on QMP and the process
 * stays up until `system_reset` or `quit`.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-fdt.h>
#include <libvmcore/vmc-virtio-blk.h>
#include <libvmcore/vmc-virtio-console.h>

#include "board-util.h"
#include "board-iothread.h"
#include "board-qmp.h"
#include "board-net.h"
#include "board-snapshot.h"

/* QEMU virt's memory map. */
#define VIRT_MROM 0x1000u
#define VIRT_MROM_SIZE 0xf000u
#define VIRT_TEST 0x100000u
#define VIRT_CLINT 0x2000000u
#define VIRT_PLIC 0xc000000u
#define VIRT_UART0 0x10000000u
#define VIRT_UART0_IRQ 10
#define VIRT_VIRTIO 0x10001000u /* eight virtio-mmio slots, 4 KiB apart */
#define VIRT_VIRTIO_SLOTS 8
#define VIRT_VIRTIO_IRQ 1 /* slot n interrupts on PLIC source 1 + n */
#define VIRT_DRAM 0x80000000u
#define VIRT_UART_CLOCK 3686400u
#define VIRT_TIMEBASE 10000000u
#define KERNEL_RAW_ADDR 0x80200000u /* a raw -kernel image with a bios */
#define RESET_VEC_SIZE 88u	    /* code, then fw_dynamic_info */
#define IMAGE_MAX (1ull << 30)	    /* -bios and -kernel files */

#define DEFAULT_BIOS "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf"

/*
 * The virtio devices of the command line (-device virtio-*-device, in
 * command-line order), the -drive and -chardev they use, and -initrd.
 */
#define VIRT_MAX_DRIVES 8
#define VIRT_MAX_CHARDEVS 8

struct virt_drive {
	const char *arg; /* the -drive argument, for messages */
	char *id;
	int fd; /* open on the file (O_DIRECT/O_DSYNC as cache= says) */
	bool read_only;
	enum vmc_virtio_blk_aio aio;
	bool used;
};

struct virt_relay;

struct virt_chardev {
	const char *arg; /* the -chardev argument */
	char *id;
	char *backend; /* null, file, pipe, socket, stdio */
	bool used;     /* by a device or a -mon */
	int in_fd, out_fd;
	struct virt_relay *relay; /* server=on,wait=off */
};

enum virt_dev_kind {
	VIRT_DEV_RNG,
	VIRT_DEV_BLK,
	VIRT_DEV_SERIAL,
	VIRT_DEV_NET,
	VIRT_DEV_VSOCK
};

struct board;
static int vsock_option(struct board *b, const char *v);
static void build_vsock(struct board *b, unsigned int slot);
static void free_vsock(struct board *b);

struct virt_dev {
	enum virt_dev_kind kind;
	const char *arg; /* the -device argument */
	char *id;
	unsigned int slot;
	/* virtio-blk-device */
	struct virt_drive *drive;
	char serial[VMC_VIRTIO_BLK_ID_BYTES + 1];
	unsigned int num_queues, queue_size;
	/* virtio-serial-device: its one port (virtconsole), if any */
	struct virt_chardev *console;
	const char *console_arg;
	/* virtio-net-device: its index in the board's struct board_net */
	unsigned int nic;
	/* what was built */
	struct vmc_virtio_rng *rng;
	struct vmc_virtio_blk *blk;
	struct vmc_virtio_console *con;
};

struct virt_devices {
	struct virt_dev dev[VIRT_VIRTIO_SLOTS];
	unsigned int nr_devs;
	struct virt_drive drive[VIRT_MAX_DRIVES];
	unsigned int nr_drives;
	struct virt_chardev chardev[VIRT_MAX_CHARDEVS];
	unsigned int nr_chardevs;
	const char *initrd_path;
	struct board_image initrd;
	uint64_t initrd_start; /* where -initrd goes; 0 without */
};

struct board {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_address_space *mem;
	uint64_t ram_size;
	unsigned int harts;
	struct board_image bios, kernel;
	bool bios_none;
	const char *append;
	uint64_t fdt_addr;
	struct vmc_fdt *fdt;
	struct vmc_uart16550 *uart;
	struct vmc_clint *clint;
	struct vmc_plic *plic;
	struct vmc_sifive_test *test;
	struct vmc_region *ram, *mrom;
	struct vmc_fd_handler *stdin_handler;
	/* virtio-mmio slots: a device, or an empty transport (ID 0). */
	struct vmc_virtio *virtio_slot[VIRT_VIRTIO_SLOTS];
	struct virt_devices devs; /* -device, -drive, -chardev, -initrd */
	/* -device vmc-vsock-device (see vsock_option()) */
	struct board_vsock {
		uint64_t guest_cid;
		char *uds_path;
		struct vmc_virtio_vsock *dev;
		struct vmc_iothread *iothread;
	} vsock;
	struct board_iothreads iothreads; /* -object iothread */
	bool ctrl_a;
	int exit_status;
	uint32_t ext_off;  /* enum vmc_riscv_ext bits -cpu switched off */
	bool hints_off[2]; /* zicbop, zihintpause (see cpu_exts) */
	struct board_qmp qmp;
	struct board_net net;	    /* -netdev, -device virtio-net-device */
	struct board_snapshot snap; /* -incoming, QMP migrate */
	const char *incoming;
};

/*
 * What the hart implements beyond RV64IMAC, in QEMU's -cpu spelling and
 * in the canonical order of an ISA string (zi*, zb*, then sv*).
 * switchable: the vCPU's VMC_RISCV_EXT_* bit; hint: the index into
 * hints_off of an extension made only of hints, which every hart runs as
 * their base instructions, so -cpu only takes it out of the device tree;
 * neither: always on.
 */
static const struct cpu_ext {
	const char *name;
	uint32_t bit;
	int hint;
} cpu_exts[] = {
	{"zicbom", VMC_RISCV_EXT_ZICBOM, -1},
	{"zicbop", 0, 0},
	{"zicboz", VMC_RISCV_EXT_ZICBOZ, -1},
	{"zicntr", 0, -1},
	{"zicond", VMC_RISCV_EXT_ZICOND, -1},
	{"zicsr", 0, -1},
	{"zifencei", 0, -1},
	{"zihintpause", 0, 1},
	{"zihpm", 0, -1},
	{"zba", VMC_RISCV_EXT_ZBA, -1},
	{"zbb", VMC_RISCV_EXT_ZBB, -1},
	{"zbc", VMC_RISCV_EXT_ZBC, -1},
	{"zbs", VMC_RISCV_EXT_ZBS, -1},
	{"sstc", VMC_RISCV_EXT_SSTC, -1},
	{"svpbmt", VMC_RISCV_EXT_SVPBMT, -1},
};
#define N_CPU_EXTS (sizeof(cpu_exts) / sizeof(cpu_exts[0]))
/* The single-letter extensions, in misa. */
static const char *const cpu_letters[] = {"i", "m", "a", "f", "d", "c"};
#define N_CPU_LETTERS (sizeof(cpu_letters) / sizeof(cpu_letters[0]))

static void die(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void die(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "riscv-virt: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fprintf(stderr, "\n");
	exit(2);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: riscv-virt [-M virt[,dumpdtb=FILE]] [-m MEM] [-smp N] "
		"[-cpu rv64[,EXT=on|off...]]\n"
		"                  [-bios FILE|none|default]\n"
		"                  [-kernel FILE] [-append CMDLINE] "
		"[-icount [...]] [-nographic]\n"
		"                  [-s] [-gdb "
		"tcp::PORT|tcp:HOST:PORT|unix:PATH] "
		"[-S]\n"
		"                  [-qmp unix:PATH,server=on,wait=off] "
		"[-chardev socket,...] [-mon chardev=ID,mode=control]\n"
		"                  [-name NAME[,debug-threads=on]] "
		"[-no-shutdown] [-pidfile FILE] [-daemonize]\n"
		"                  [-initrd FILE] [-device virtio-rng-device]\n"
		"                  [-drive file=F,if=none,id=ID,format=raw"
		"[,readonly=on][,cache=MODE]]\n"
		"                  [-device virtio-blk-device,drive=ID"
		"[,serial=S]]\n"
		"                  [-device virtio-serial-device] "
		"[-device virtconsole,chardev=ID]\n"
		"                  [-chardev null|file|pipe|socket,id=ID,...]\n"
		"                  [-incoming file:PATH]\n"
		"                  [-device vmc-vsock-device,guest-cid=N,"
		"uds-path=PATH]\n"
		"                  [-object iothread,id=IOT] "
		"[-device virtio-blk-device,...,iothread=IOT]\n"
		"iothread= (QEMU's on virtio-blk-device) is also taken, as a "
		"libvmcore extension, by\nvirtio-net-device, "
		"virtio-serial-device, virtio-rng-device and "
		"vmc-vsock-device.\n"
		"Runs a RISC-V RV64 machine laid out like QEMU's virt "
		"board.\n");
	exit(2);
}

static bool cpu_ext_on(const struct board *b, const struct cpu_ext *e)
{
	if (e->hint >= 0)
		return !b->hints_off[e->hint];
	return !(b->ext_off & e->bit);
}

/*
 * QEMU's -cpu MODEL[,EXT=on|off...] for the models this hart is (rv64,
 * and max, which here is the same).  An extension that is always there
 * may be named on but not off; QEMU's boolean spellings are accepted.
 */
static void parse_cpu(struct board *b, const char *arg)
{
	char *s = strdup(arg), *save = NULL, *tok;

	if (!s)
		die(-ENOMEM, "-cpu");
	tok = strtok_r(s, ",", &save);
	if (!tok || (strcmp(tok, "rv64") && strcmp(tok, "max")))
		die(0, "-cpu %s: unknown CPU model (rv64 or max)", arg);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		const struct cpu_ext *e = NULL;
		bool on;

		if (!eq)
			die(0, "-cpu %s: '%s' needs =on or =off", arg, tok);
		*eq++ = 0;
		if (!strcmp(eq, "on") || !strcmp(eq, "true") ||
		    !strcmp(eq, "yes"))
			on = true;
		else if (!strcmp(eq, "off") || !strcmp(eq, "false") ||
			 !strcmp(eq, "no"))
			on = false;
		else
			die(0, "-cpu %s: '%s' is not on or off", arg, eq);
		for (size_t k = 0; k < N_CPU_EXTS; k++)
			if (!strcmp(cpu_exts[k].name, tok))
				e = &cpu_exts[k];
		for (size_t k = 0; k < N_CPU_LETTERS && !e; k++)
			if (!strcmp(cpu_letters[k], tok) && !on)
				die(0, "-cpu %s: '%s' cannot be switched off",
				    arg, tok);
			else if (!strcmp(cpu_letters[k], tok))
				goto next;
		if (!e)
			die(0, "-cpu %s: property '%s' not found", arg, tok);
		if (e->hint >= 0)
			b->hints_off[e->hint] = !on;
		else if (e->bit)
			b->ext_off =
				on ? b->ext_off & ~e->bit : b->ext_off | e->bit;
		else if (!on)
			die(0, "-cpu %s: '%s' cannot be switched off", arg,
			    tok);
	next:;
	}
	free(s);
}

static void read_file(const char *path, const char *what,
		      struct board_image *img)
{
	char msg[BOARD_MSG_SIZE];

	if (board_read_image(path, IMAGE_MAX, img, msg) < 0)
		die(0, "cannot read the %s image %s: %s", what, path, msg);
}

/* ------------------------------------------------------------------------
 * -initrd, -drive, -chardev and the virtio -device options, in QEMU's
 * spelling and with its messages.
 */

/* The first key of @arg (after the type when @typed) not in @keys (a
 * copy), or NULL. */
static char *opts_unknown(const char *arg, bool typed, const char *const *keys)
{
	const char *p = arg;

	if (typed) {
		p += strcspn(p, ",");
		p += *p == ',';
	}
	while (*p) {
		size_t len = strcspn(p, ","), kl = strcspn(p, "=,");
		bool known = false;

		for (const char *const *k = keys; *k && !known; k++)
			known = strlen(*k) == kl && !strncmp(*k, p, kl);
		if (!known)
			return strndup(p, kl);
		p += len;
		p += *p == ',';
	}
	return NULL;
}

/* KEY=on|off (QEMU's boolean spellings); @dflt when absent. */
static bool opt_onoff(const char *opt, const char *arg, const char *key,
		      const char *param, bool dflt)
{
	char *v = board_qmp_opt(arg, key);
	bool on = dflt;

	if (v && (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")))
		on = true;
	else if (v &&
		 (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")))
		on = false;
	else if (v)
		die(0, "%s %s: Parameter '%s' expects 'on' or 'off'", opt, arg,
		    param);
	free(v);
	return on;
}

/*
 * -drive file=F,if=none,id=ID,format=raw[,readonly=on][,cache=MODE]
 * [,aio=threads|io_uring].  The file is opened here, as QEMU opens it
 * while parsing; cache=none and directsync open it O_DIRECT, writethrough
 * and directsync O_DSYNC (every write reaches the disk before the guest
 * sees it complete); writeback and unsafe use the page cache.
 */
static void parse_drive(struct board *b, const char *arg)
{
	static const char *const keys[] = {"file",   "if",	 "id",
					   "format", "readonly", "cache",
					   "aio",    "media",	 NULL};
	struct virt_devices *d = &b->devs;
	struct virt_drive *dr;
	char *bad = opts_unknown(arg, false, keys);
	char *file, *iface, *id, *format, *cache, *aio, *media;
	int flags = O_CLOEXEC;

	if (bad)
		die(0,
		    "-drive %s: Block format 'raw' does not support the "
		    "option '%s'",
		    arg, bad);
	file = board_qmp_opt(arg, "file");
	iface = board_qmp_opt(arg, "if");
	id = board_qmp_opt(arg, "id");
	format = board_qmp_opt(arg, "format");
	cache = board_qmp_opt(arg, "cache");
	aio = board_qmp_opt(arg, "aio");
	media = board_qmp_opt(arg, "media");
	if (!iface || strcmp(iface, "none"))
		die(0,
		    "-drive %s: if=%s is not supported on riscv-virt (no PCI "
		    "or SD); use if=none with -device virtio-blk-device",
		    arg, iface ? iface : "virtio");
	if (media && strcmp(media, "disk"))
		die(0, "-drive %s: media=%s is not supported (disk only)", arg,
		    media);
	if (id) {
		for (unsigned int i = 0; i < d->nr_drives; i++)
			if (d->drive[i].id && !strcmp(d->drive[i].id, id))
				die(0, "-drive %s: Duplicate ID '%s' for drive",
				    arg, id);
	}
	if (d->nr_drives == VIRT_MAX_DRIVES)
		die(0, "-drive %s: too many drives (at most %d)", arg,
		    VIRT_MAX_DRIVES);
	dr = &d->drive[d->nr_drives];
	dr->arg = arg;
	dr->id = id;
	dr->read_only =
		opt_onoff("-drive", arg, "readonly", "read-only", false);
	if (format && strcmp(format, "raw"))
		die(0, "-drive %s: format '%s' is not supported (raw only)",
		    arg, format);
	if (!format)
		fprintf(stderr,
			"riscv-virt: WARNING: Image format was not specified "
			"for '%s'; using raw.\n",
			file ? file : "");
	if (!cache || !strcmp(cache, "writeback") || !strcmp(cache, "unsafe"))
		;
	else if (!strcmp(cache, "none"))
		flags |= O_DIRECT;
	else if (!strcmp(cache, "writethrough"))
		flags |= O_DSYNC;
	else if (!strcmp(cache, "directsync"))
		flags |= O_DIRECT | O_DSYNC;
	else
		die(0, "-drive %s: invalid cache option", arg);
	if (!aio)
		dr->aio = VMC_VIRTIO_BLK_AIO_AUTO;
	else if (!strcmp(aio, "threads"))
		dr->aio = VMC_VIRTIO_BLK_AIO_THREADS;
	else if (!strcmp(aio, "io_uring"))
		dr->aio = VMC_VIRTIO_BLK_AIO_IO_URING;
	else
		die(0, "-drive %s: invalid aio option", arg);
	if (!file || !*file)
		die(0,
		    "-drive %s: A block device must be specified for \"file\"",
		    arg);
	dr->fd = open(file, flags | (dr->read_only ? O_RDONLY : O_RDWR));
	if (dr->fd < 0)
		die(0, "-drive %s: Could not open '%s': %s", arg, file,
		    strerror(errno));
	d->nr_drives++;
	free(file);
	free(iface);
	free(format);
	free(cache);
	free(aio);
	free(media);
}

static struct virt_chardev *find_chardev(struct board *b, const char *id)
{
	for (unsigned int i = 0; i < b->devs.nr_chardevs; i++)
		if (!strcmp(b->devs.chardev[i].id, id))
			return &b->devs.chardev[i];
	return NULL;
}

/*
 * -chardev BACKEND,id=ID,...: null, file (path=, append=), pipe (path=:
 * PATH.in and PATH.out, or PATH both ways), socket (path= or host=/port=,
 * server=, wait=, reconnect=; a server waits for its first client unless
 * wait=off, a client connects at start) and stdio.  Sockets also go to
 * the QMP options so that -mon can use them.  Opened when a device takes
 * them.
 */
static void parse_chardev(struct board *b, const char *arg)
{
	static const char *const known[] = {
		"pty",	    "udp",	 "serial",  "tty",	"parallel",
		"ringbuf",  "memory",	 "vc",	    "msmouse",	"braille",
		"spicevmc", "spiceport", "testdev", "wctablet", "qemu-vdagent",
		"dbus",	    NULL};
	static const char *const k_null[] = {"id", NULL};
	static const char *const k_file[] = {"id", "path", "append", NULL};
	static const char *const k_pipe[] = {"id", "path", NULL};
	static const char *const k_stdio[] = {"id", "signal", NULL};
	static const char *const k_socket[] = {"id",	 "path",      "host",
					       "port",	 "server",    "wait",
					       "nowait", "reconnect", NULL};
	struct virt_devices *d = &b->devs;
	struct virt_chardev *c;
	char *backend = strndup(arg, strcspn(arg, ",")), *bad;
	const char *const *keys = NULL;

	if (!backend)
		die(-ENOMEM, "-chardev");
	if (!strcmp(backend, "null"))
		keys = k_null;
	else if (!strcmp(backend, "file"))
		keys = k_file;
	else if (!strcmp(backend, "pipe"))
		keys = k_pipe;
	else if (!strcmp(backend, "stdio"))
		keys = k_stdio;
	else if (!strcmp(backend, "socket"))
		keys = k_socket;
	for (const char *const *k = known; !keys && *k; k++)
		if (!strcmp(*k, backend))
			die(0,
			    "-chardev %s: the '%s' backend is not supported "
			    "by riscv-virt",
			    arg, backend);
	if (!keys)
		die(0, "-chardev %s: '%s' is not a valid char driver name", arg,
		    backend);
	if ((bad = opts_unknown(arg, true, keys)))
		die(0, "-chardev %s: Invalid parameter '%s'", arg, bad);
	if (d->nr_chardevs == VIRT_MAX_CHARDEVS)
		die(0, "-chardev %s: too many character devices (at most %d)",
		    arg, VIRT_MAX_CHARDEVS);
	c = &d->chardev[d->nr_chardevs];
	c->arg = arg;
	c->backend = backend;
	c->id = board_qmp_opt(arg, "id");
	c->in_fd = c->out_fd = -1;
	if (!c->id)
		die(0, "-chardev %s: Parameter 'id' is missing", arg);
	if (find_chardev(b, c->id))
		die(0, "-chardev %s: Duplicate ID '%s' for chardev", arg,
		    c->id);
	d->nr_chardevs++;
	if (!strcmp(backend, "socket") &&
	    board_qmp_option(&b->qmp, "-chardev", arg) < 0)
		die(0, "-chardev %s: needs path= or port=", arg);
}

/* A -mon or a device takes chardev @id: QEMU allows one user each. */
static struct virt_chardev *claim_chardev(struct board *b, const char *opt,
					  const char *arg, const char *prop,
					  const char *id)
{
	struct virt_chardev *c = find_chardev(b, id);

	if (!c)
		die(0, "%s %s: Property '%s' can't find value '%s'", opt, arg,
		    prop, id);
	if (c->used)
		die(0,
		    "%s %s: Property '%s' can't take value '%s': Device '%s' "
		    "is in use",
		    opt, arg, prop, id, id);
	c->used = true;
	return c;
}

/* -mon chardev=ID,...: the monitor takes the chardev. */
static void mon_chardev(struct board *b, const char *arg)
{
	char *id = board_qmp_opt(arg, "chardev");

	if (id)
		claim_chardev(b, "-mon", arg, "chardev", id);
	free(id);
}

static int socket_addr(const char *arg, struct sockaddr_storage *ss,
		       socklen_t *len, char *what, size_t what_len)
{
	char *path = board_qmp_opt(arg, "path");
	char *host = board_qmp_opt(arg, "host");
	char *port = board_qmp_opt(arg, "port");
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int r = 0;

	if (path) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (strlen(path) >= sizeof(un->sun_path))
			die(0, "-chardev %s: socket path too long", arg);
		memset(un, 0, sizeof(*un));
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		*len = sizeof(*un);
		snprintf(what, what_len, "%s", path);
	} else {
		hints.ai_flags = AI_PASSIVE;
		r = getaddrinfo(host && *host ? host : NULL, port, &hints, &ai);
		if (r || !ai)
			die(0,
			    "-chardev %s: address resolution failed for "
			    "%s:%s",
			    arg, host ? host : "", port ? port : "");
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		snprintf(what, what_len, "%s:%s", host ? host : "", port);
		freeaddrinfo(ai);
	}
	r = path ? 1 : 0;
	free(path);
	free(host);
	free(port);
	return r;
}

/*
 * A listening socket chardev with wait=off: the device gets one end of a
 * socketpair from the start, and a thread relays between its other end
 * and whichever client is connected (one at a time, as QEMU's socket
 * chardev).  Output while no client is connected is dropped, as QEMU
 * drops it.
 */
struct virt_relay {
	int listen_fd, pair_fd, client_fd, stop_fd;
	pthread_t thread;
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *relay_thread(void *arg)
{
	struct virt_relay *r = arg;
	uint8_t buf[4096];

	for (;;) {
		struct pollfd pfd[4] = {
			{r->stop_fd, POLLIN, 0},
			{r->pair_fd, POLLIN, 0},
			{r->client_fd >= 0 ? r->client_fd : r->listen_fd,
			 POLLIN, 0},
		};
		ssize_t n;

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents) {
			n = read(r->pair_fd, buf, sizeof(buf));
			if (n <= 0 && errno != EINTR)
				break;
			if (n > 0 && r->client_fd >= 0 &&
			    !write_all(r->client_fd, buf, (size_t)n)) {
				close(r->client_fd);
				r->client_fd = -1;
			}
		}
		if (pfd[2].revents && r->client_fd < 0) {
			r->client_fd =
				accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		} else if (pfd[2].revents) {
			n = read(r->client_fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			/* The device drains the pair as the guest reads. */
			if (n <= 0 || !write_all(r->pair_fd, buf, (size_t)n)) {
				close(r->client_fd);
				r->client_fd = -1;
			}
		}
	}
	return NULL;
}

static void relay_start(struct virt_chardev *c, int listen_fd)
{
	struct virt_relay *r = calloc(1, sizeof(*r));
	int sp[2];

	if (!r || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		die(errno, "-chardev %s: socketpair", c->arg);
	r->listen_fd = listen_fd;
	r->pair_fd = sp[1];
	r->client_fd = -1;
	r->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (r->stop_fd < 0 ||
	    (errno = pthread_create(&r->thread, NULL, relay_thread, r)))
		die(errno, "-chardev %s: relay thread", c->arg);
	c->in_fd = c->out_fd = sp[0];
	c->relay = r;
}

static void relay_stop(struct virt_relay *r)
{
	uint64_t one = 1;

	if (!r)
		return;
	if (write(r->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(r->thread, NULL);
	close(r->stop_fd);
	close(r->pair_fd);
	close(r->listen_fd);
	if (r->client_fd >= 0)
		close(r->client_fd);
	free(r);
}

/* Open chardev @c for a device: its input and output fds. */
static void open_chardev(struct virt_chardev *c)
{
	const char *arg = c->arg;
	char *path = board_qmp_opt(arg, "path");

	if (!strcmp(c->backend, "null")) {
		c->in_fd = c->out_fd = -1;
	} else if (!strcmp(c->backend, "stdio")) {
		die(0,
		    "-chardev %s: cannot use stdio by multiple character "
		    "devices (the serial console is on stdio)",
		    arg);
	} else if (!strcmp(c->backend, "file")) {
		if (!path)
			die(0, "-chardev %s: chardev: file: no filename given",
			    arg);
		c->out_fd = open(path,
				 O_WRONLY | O_CREAT | O_CLOEXEC |
					 (opt_onoff("-chardev", arg, "append",
						    "append", false)
						  ? O_APPEND
						  : O_TRUNC),
				 0666);
		if (c->out_fd < 0)
			die(0, "-chardev %s: Could not open '%s': %s", arg,
			    path, strerror(errno));
	} else if (!strcmp(c->backend, "pipe")) {
		size_t n = path ? strlen(path) : 0;
		char *p = malloc(n + 5);

		if (!path || !p)
			die(0, "-chardev %s: chardev: pipe: no filename given",
			    arg);
		/* QEMU: PATH.in and PATH.out if both exist, else PATH. */
		snprintf(p, n + 5, "%s.in", path);
		c->in_fd = open(p, O_RDWR | O_CLOEXEC | O_NONBLOCK);
		snprintf(p, n + 5, "%s.out", path);
		c->out_fd = open(p, O_RDWR | O_CLOEXEC);
		if (c->in_fd < 0 || c->out_fd < 0) {
			if (c->in_fd >= 0)
				close(c->in_fd);
			if (c->out_fd >= 0)
				close(c->out_fd);
			c->in_fd = c->out_fd =
				open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
			if (c->in_fd < 0)
				die(0, "-chardev %s: Could not open '%s': %s",
				    arg, path, strerror(errno));
		}
		free(p);
	} else { /* socket */
		struct sockaddr_storage ss;
		socklen_t len;
		char what[300];
		bool server = board_qmp_flag(arg, "server", false);
		bool wait = board_qmp_flag(arg, "wait", true);
		int unix_sock = socket_addr(arg, &ss, &len, what, sizeof(what));
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die(errno, "-chardev %s: socket", arg);
		if (server) {
			int one = 1, conn;

			if (unix_sock)
				unlink(what);
			else
				setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
					   sizeof(one));
			if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
			    listen(fd, 1) < 0)
				die(0,
				    "-chardev %s: Failed to bind socket "
				    "to %s: %s",
				    arg, what, strerror(errno));
			if (!wait) {
				relay_start(c, fd);
				free(path);
				return;
			}
			fprintf(stderr,
				"riscv-virt: waiting for connection on: "
				"disconnected:%s%s,server=on\n",
				unix_sock ? "unix:" : "tcp:", what);
			do
				conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
			while (conn < 0 && errno == EINTR);
			if (conn < 0)
				die(errno, "-chardev %s: accept", arg);
			close(fd);
			fd = conn;
		} else if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			die(0, "-chardev %s: Failed to connect to '%s': %s",
			    arg, what, strerror(errno));
		}
		c->in_fd = c->out_fd = fd;
	}
	free(path);
}

static struct virt_dev *new_dev(struct board *b, const char *arg,
				const char *model, enum virt_dev_kind kind)
{
	struct virt_devices *d = &b->devs;
	struct virt_dev *dev;

	/* QEMU fills the virtio-mmio buses from the highest address down. */
	if (d->nr_devs == VIRT_VIRTIO_SLOTS)
		die(0, "-device %s: No 'virtio-bus' bus found for device '%s'",
		    arg, model);
	dev = &d->dev[d->nr_devs];
	dev->kind = kind;
	dev->arg = arg;
	dev->slot = VIRT_VIRTIO_SLOTS - 1 - d->nr_devs;
	dev->id = board_qmp_opt(arg, "id");
	d->nr_devs++;
	return dev;
}

/* -device virtio-blk-device,drive=ID[,serial=S][,num-queues=N]
 * [,queue-size=N] */
static void parse_blk(struct board *b, const char *arg)
{
	struct virt_dev *dev =
		new_dev(b, arg, "virtio-blk-device", VIRT_DEV_BLK);
	char *drive = board_qmp_opt(arg, "drive");
	char *serial = board_qmp_opt(arg, "serial");
	char *nq = board_qmp_opt(arg, "num-queues");
	char *qs = board_qmp_opt(arg, "queue-size");
	uint64_t v;

	if (!drive)
		die(0, "-device %s: drive property not set", arg);
	for (unsigned int i = 0; i < b->devs.nr_drives && !dev->drive; i++)
		if (b->devs.drive[i].id && !strcmp(b->devs.drive[i].id, drive))
			dev->drive = &b->devs.drive[i];
	if (!dev->drive)
		die(0,
		    "-device %s: Property 'virtio-blk-device.drive' can't "
		    "find value '%s'",
		    arg, drive);
	if (dev->drive->used)
		die(0,
		    "-device %s: Drive '%s' is already in use by another "
		    "device",
		    arg, drive);
	dev->drive->used = true;
	/* QEMU sends at most 20 bytes of the serial. */
	if (serial)
		snprintf(dev->serial, sizeof(dev->serial), "%s", serial);
	if (nq && (board_parse_u64(nq, &v) < 0 || v < 1 || v > 64))
		die(0, "-device %s: num-queues must be 1 to 64", arg);
	dev->num_queues = nq ? (unsigned int)v : 1;
	if (qs &&
	    (board_parse_u64(qs, &v) < 0 || v < 4 || v > 1024 || (v & (v - 1))))
		die(0,
		    "-device %s: queue-size must be a power of 2 from 4 "
		    "to 1024",
		    arg);
	dev->queue_size = qs ? (unsigned int)v : 256;
	free(drive);
	free(serial);
	free(nq);
	free(qs);
}

/*
 * -device virtconsole,chardev=C[,bus=ID.0][,name=N][,id=X]: the port of
 * a virtio-serial-device earlier on the command line (the first without
 * a port, or the bus named).  Each virtio-serial-device here carries one
 * port (no MULTIPORT), which Linux makes /dev/hvc0, /dev/hvc1, ...
 */
static void parse_virtconsole(struct board *b, const char *arg)
{
	char *chardev = board_qmp_opt(arg, "chardev");
	char *bus = board_qmp_opt(arg, "bus");
	struct virt_dev *serial = NULL;
	bool any = false;

	for (unsigned int i = 0; i < b->devs.nr_devs && !serial; i++) {
		struct virt_dev *dev = &b->devs.dev[i];
		char name[64];

		if (dev->kind != VIRT_DEV_SERIAL)
			continue;
		snprintf(name, sizeof(name), "%s.0",
			 dev->id ? dev->id : "virtio-serial-bus");
		if (bus && strcmp(bus, name))
			continue;
		any = true;
		if (!dev->console_arg)
			serial = dev;
	}
	if (!serial && !any)
		die(0,
		    "-device %s: No 'virtio-serial-bus' bus found for device "
		    "'virtconsole'",
		    arg);
	if (!serial)
		die(0,
		    "-device %s: each virtio-serial-device has one port on "
		    "riscv-virt; add another virtio-serial-device",
		    arg);
	serial->console_arg = arg;
	if (chardev)
		serial->console = claim_chardev(b, "-device", arg,
						"virtconsole.chardev", chardev);
	free(chardev);
	free(bus);
}

/* -device virtio-net-device,...: board-net.c parses it, the slot is ours. */
static void parse_nic(struct board *b, const char *arg, const char *model)
{
	char msg[BOARD_MSG_SIZE];
	struct virt_dev *dev;

	if (board_net_option(&b->net, "-device", arg, msg) < 0)
		die(0, "%s", msg);
	dev = new_dev(b, arg, model, VIRT_DEV_NET);
	dev->nic = b->net.n_nic - 1;
}

/* -device MODEL[,PROP=VALUE...] for the virtio devices. */
static void parse_device(struct board *b, const char *arg)
{
	static const char *const k_rng[] = {"id", "iothread", NULL};
	static const char *const k_blk[] = {
		"id",	      "drive",	  "serial", "num-queues",
		"queue-size", "iothread", NULL};
	static const char *const k_serial[] = {"id", "max_ports", "iothread",
					       NULL};
	static const char *const k_console[] = {"id", "chardev", "bus", "name",
						NULL};
	size_t ml = strcspn(arg, ",");
	char *model = strndup(arg, ml), *bad;
	const char *const *keys = NULL;

	if (!model)
		die(-ENOMEM, "-device");
	if (!strcmp(model, "virtio-rng-device"))
		keys = k_rng;
	else if (!strcmp(model, "virtio-blk-device"))
		keys = k_blk;
	else if (!strcmp(model, "virtio-serial-device"))
		keys = k_serial;
	else if (!strcmp(model, "virtconsole"))
		keys = k_console;
	else if (!strcmp(model, "virtio-net-device"))
		keys = NULL; /* board-net.c checks its own properties */
	else if (!strcmp(model, "vmc-vsock-device") ||
		 !strcmp(model, "vhost-vsock-device"))
		keys = NULL; /* vsock_option() checks its own */
	else
		die(0, "-device %s: '%s' is not a valid device model name", arg,
		    model);
	if (keys && (bad = opts_unknown(arg, true, keys)))
		die(0, "-device %s: Property '%s.%s' not found", arg, model,
		    bad);
	if (!strcmp(model, "virtio-rng-device"))
		new_dev(b, arg, model, VIRT_DEV_RNG);
	else if (!strcmp(model, "virtio-blk-device"))
		parse_blk(b, arg);
	else if (!strcmp(model, "virtio-serial-device"))
		new_dev(b, arg, model, VIRT_DEV_SERIAL);
	else if (!strcmp(model, "virtio-net-device"))
		parse_nic(b, arg, model);
	else if (vsock_option(b, arg))
		new_dev(b, arg, model, VIRT_DEV_VSOCK);
	else
		parse_virtconsole(b, arg);
	free(model);
}

/* The lowest address a kernel image loads at: QEMU places -initrd after
 * it.  Raw images go to @raw_addr; ELF ones where their segments say. */
static uint64_t kernel_low_addr(const struct board_image *img,
				uint64_t raw_addr)
{
	const uint8_t *p = img->data;
	uint64_t low = UINT64_MAX, phoff;
	unsigned int phentsize, phnum;

	if (!vmc_image_is_elf(img->data, img->len) || img->len < 64 ||
	    p[4] != 2)
		return raw_addr;
#define LE(off, n)                                                             \
	({                                                                     \
		uint64_t v_ = 0;                                               \
		for (int i_ = (n)-1; i_ >= 0; i_--)                            \
			v_ = v_ << 8 | p[(off) + (size_t)i_];                  \
		v_;                                                            \
	})
	phoff = LE(32, 8);
	phentsize = (unsigned int)LE(54, 2);
	phnum = (unsigned int)LE(56, 2);
	for (unsigned int i = 0; i < phnum; i++) {
		uint64_t off = phoff + (uint64_t)i * phentsize;

		if (phentsize < 56 || off > img->len || img->len - off < 56)
			break;
		if (LE(off, 4) == 1 && LE(off + 40, 8) && LE(off + 24, 8) < low)
			low = LE(off + 24, 8);
	}
#undef LE
	return low == UINT64_MAX ? raw_addr : low;
}

/*
 * -initrd FILE, placed as QEMU's RISC-V boards place it: after the
 * kernel's lowest address by half of RAM, but by at most 128 MiB (so that
 * a decompressing kernel does not overwrite it and a large RAM keeps it
 * low).  It must fit in RAM ("could not load ramdisk") and overlap no
 * other image (the device tree included); /chosen gets its range as
 * 64-bit linux,initrd-start and linux,initrd-end.
 */
static void place_initrd(struct board *b)
{
	struct virt_devices *d = &b->devs;
	uint64_t low, off;
	char msg[BOARD_MSG_SIZE];

	if (!d->initrd_path)
		return;
	if (board_read_image(d->initrd_path, IMAGE_MAX, &d->initrd, msg) < 0)
		die(0, "could not load ramdisk '%s': %s", d->initrd_path, msg);
	low = kernel_low_addr(&b->kernel,
			      b->bios_none ? VIRT_DRAM : KERNEL_RAW_ADDR);
	off = b->ram_size / 2 < (128u << 20) ? b->ram_size / 2 : (128u << 20);
	d->initrd_start = low + off;
	if (d->initrd_start < VIRT_DRAM ||
	    d->initrd_start >= VIRT_DRAM + b->ram_size ||
	    d->initrd.len > VIRT_DRAM + b->ram_size - d->initrd_start)
		die(0, "could not load ramdisk '%s'", d->initrd_path);
}

static int fdt_add_initrd(struct board *b)
{
	struct virt_devices *d = &b->devs;
	int r;

	if (!d->initrd_path)
		return 0;
	if ((r = vmc_fdt_set_u64(b->fdt, "/chosen", "linux,initrd-start",
				 d->initrd_start)) < 0)
		return r;
	return vmc_fdt_set_u64(b->fdt, "/chosen", "linux,initrd-end",
			       d->initrd_start + d->initrd.len);
}

static void load_initrd(struct board *b, struct board_layout *l)
{
	struct virt_devices *d = &b->devs;
	struct vmc_load_info info;
	char msg[BOARD_MSG_SIZE];
	int r;

	if (!d->initrd_path)
		return;
	if (board_layout_place(l, "initrd", d->initrd_start, d->initrd.len,
			       msg) < 0)
		die(0, "%s", msg);
	r = vmc_load_raw(b->mem, d->initrd.data, d->initrd.len, d->initrd_start,
			 &info);
	if (r < 0)
		die(r, "could not load ramdisk '%s'", d->initrd_path);
}

/* The I/O thread a -device argument names with iothread=, or NULL. */
static struct vmc_iothread *dev_iothread(struct board *b, const char *arg)
{
	char msg[BOARD_MSG_SIZE];
	struct vmc_iothread *t;

	if (board_iothread_get(&b->iothreads, arg, &t, msg) < 0)
		die(0, "%s", msg);
	return t;
}

/* Create the -device virtio devices in their slots. */
static void build_devices(struct board *b)
{
	struct virt_devices *d = &b->devs;
	int r = 0;

	for (unsigned int i = 0; i < d->nr_devs; i++) {
		struct virt_dev *dev = &d->dev[i];
		struct vmc_irq *irq =
			vmc_plic_get_irq(b->plic, VIRT_VIRTIO_IRQ + dev->slot);

		if (dev->kind == VIRT_DEV_RNG) {
			struct vmc_virtio_rng_config rc;

			vmc_virtio_rng_config_init(&rc);
			rc.vm = b->vm;
			rc.irq = irq;
			rc.legacy = true;
			rc.iothread = dev_iothread(b, dev->arg);
			r = vmc_virtio_rng_new(&rc, &dev->rng);
			if (r >= 0)
				b->virtio_slot[dev->slot] =
					vmc_virtio_rng_get_virtio(dev->rng);
		} else if (dev->kind == VIRT_DEV_BLK) {
			struct vmc_virtio_blk_config bc;

			vmc_virtio_blk_config_init(&bc);
			bc.vm = b->vm;
			bc.irq = irq;
			bc.legacy = true;
			bc.fd = dev->drive->fd;
			bc.read_only = dev->drive->read_only;
			bc.serial = dev->serial[0] ? dev->serial : NULL;
			bc.num_queues = dev->num_queues;
			bc.queue_size = dev->queue_size;
			bc.aio = dev->drive->aio;
			bc.iothread = dev_iothread(b, dev->arg);
			r = vmc_virtio_blk_new(&bc, &dev->blk);
			if (r >= 0)
				b->virtio_slot[dev->slot] =
					vmc_virtio_blk_get_virtio(dev->blk);
		} else if (dev->kind == VIRT_DEV_VSOCK) {
			b->vsock.iothread = dev_iothread(b, dev->arg);
			build_vsock(b, dev->slot);
		} else if (dev->kind == VIRT_DEV_NET) {
			char msg[BOARD_MSG_SIZE];

			b->net.nic[dev->nic].iothread =
				dev_iothread(b, dev->arg);
			r = board_net_create(&b->net, dev->nic, b->vm, irq,
					     true, msg);
			if (r < 0)
				die(0, "%s", msg);
			b->virtio_slot[dev->slot] = vmc_virtio_net_get_virtio(
				b->net.nic[dev->nic].dev);
		} else {
			struct vmc_virtio_console_config cc;

			vmc_virtio_console_config_init(&cc);
			cc.vm = b->vm;
			cc.irq = irq;
			cc.legacy = true;
			cc.iothread = dev_iothread(b, dev->arg);
			if (dev->console) {
				open_chardev(dev->console);
				cc.in_fd = dev->console->in_fd;
				cc.out_fd = dev->console->out_fd;
			}
			r = vmc_virtio_console_new(&cc, &dev->con);
			if (r >= 0)
				b->virtio_slot[dev->slot] =
					vmc_virtio_console_get_virtio(dev->con);
		}
		if (r < 0)
			die(r, "-device %s", dev->arg);
	}
	{
		char msg[BOARD_MSG_SIZE];

		if (board_net_create_unused(&b->net, b->vm, msg) < 0)
			die(0, "%s", msg);
	}
}

/* Free what build_devices() made (the slots' regions are unmapped). */
static void free_devices(struct board *b)
{
	struct virt_devices *d = &b->devs;

	for (unsigned int i = 0; i < d->nr_devs; i++) {
		struct virt_dev *dev = &d->dev[i];

		b->virtio_slot[dev->slot] = NULL;
		vmc_virtio_rng_free(dev->rng);
		vmc_virtio_blk_free(dev->blk);
		vmc_virtio_console_free(dev->con);
		free(dev->id);
	}
	for (unsigned int i = 0; i < d->nr_drives; i++) {
		close(d->drive[i].fd);
		free(d->drive[i].id);
	}
	for (unsigned int i = 0; i < d->nr_chardevs; i++) {
		struct virt_chardev *c = &d->chardev[i];

		relay_stop(c->relay);
		if (c->in_fd >= 0)
			close(c->in_fd);
		if (c->out_fd >= 0 && c->out_fd != c->in_fd)
			close(c->out_fd);
		free(c->id);
		free(c->backend);
	}
	free(d->initrd.data);
	board_net_free(&b->net);
	free_vsock(b);
	/* After every device that ran on one. */
	board_iothread_free_all(&b->iothreads);
}

/* ------------------------------------------------------------------------
 * Boot images: loaded at start and again on every reset, like ROMs.
 */

/*
 * Load an image and record where it went; every image must lie in RAM or
 * the mask ROM and overlap no other (the device tree included), as QEMU's
 * ROM loader insists.  A raw image is checked before it is written; an
 * ELF one is checked segment by segment by the loader and as a whole here.
 */
static uint64_t load_image(struct board *b, struct board_layout *l,
			   struct board_image *img, uint64_t raw_addr,
			   const char *what)
{
	char msg[BOARD_MSG_SIZE];
	struct vmc_load_info info;
	int r;

	if (vmc_image_is_elf(img->data, img->len)) {
		r = vmc_load_elf(b->mem, img->data, img->len, VMC_ELF_RISCV,
				 &info);
		if (r < 0)
			die(r, "cannot load the %s image", what);
	} else {
		info = (struct vmc_load_info){raw_addr, raw_addr,
					      raw_addr + img->len};
	}
	if (board_layout_place(l, what, info.low, info.high - info.low, msg) <
	    0)
		die(0, "%s", msg);
	if (!vmc_image_is_elf(img->data, img->len)) {
		r = vmc_load_raw(b->mem, img->data, img->len, raw_addr, &info);
		if (r < 0)
			die(r, "cannot load the %s image", what);
	}
	return info.entry;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * The reset vector, as on QEMU's virt: every hart reads its id, the device
 * tree address and the entry point from the words after the code, points
 * a2 at the fw_dynamic information, and jumps.
 */
static void write_reset_vector(struct board *b, uint64_t start,
			       uint64_t next_addr)
{
	static const uint32_t code[] = {
		0x00000297, /* auipc t0, 0        */
		0x02828613, /* addi  a2, t0, 40   */
		0xf1402573, /* csrr  a0, mhartid  */
		0x0202b583, /* ld    a1, 32(t0)   */
		0x0182b283, /* ld    t0, 24(t0)   */
		0x00028067, /* jr    t0           */
	};
	uint8_t *rom = vmc_region_get_ptr(b->mrom);

	memset(rom, 0, VIRT_MROM_SIZE);
	for (size_t i = 0; i < sizeof(code) / sizeof(code[0]); i++)
		put32(rom + 4 * i, code[i]);
	put64(rom + 24, start);
	put64(rom + 32, b->fdt_addr);
	/* struct fw_dynamic_info, version 2: magic "OSBI", next stage in
	 * S-mode, boot hart 0. */
	put64(rom + 40, 0x4942534f);
	put64(rom + 48, 2);
	put64(rom + 56, next_addr);
	put64(rom + 64, 1);
	put64(rom + 72, 0);
	put64(rom + 80, 0);
}

static void load_boot(struct board *b)
{
	uint64_t start, next = KERNEL_RAW_ADDR;
	struct board_layout l = {.nr_areas = 0};
	char msg[BOARD_MSG_SIZE];
	int r;

	board_layout_add_area(&l, "RAM", VIRT_DRAM, b->ram_size);
	board_layout_add_area(&l, "mask ROM", VIRT_MROM, VIRT_MROM_SIZE);
	if (board_layout_place(&l, "reset vector", VIRT_MROM, RESET_VEC_SIZE,
			       msg) < 0)
		die(0, "%s", msg);
	if (b->bios_none) {
		if (!b->kernel.data)
			die(0, "-bios none needs -kernel");
		start = load_image(b, &l, &b->kernel, VIRT_DRAM, "kernel");
		next = start;
	} else {
		start = load_image(b, &l, &b->bios, VIRT_DRAM, "firmware");
		if (b->kernel.data)
			next = load_image(b, &l, &b->kernel, KERNEL_RAW_ADDR,
					  "kernel");
	}
	load_initrd(b, &l);
	if (board_layout_place(&l, "device tree", b->fdt_addr,
			       vmc_fdt_get_size(b->fdt), msg) < 0)
		die(0, "%s", msg);
	r = vmc_as_write_rom(b->mem, b->fdt_addr, vmc_fdt_get_blob(b->fdt),
			     vmc_fdt_get_size(b->fdt));
	if (r < 0)
		die(r, "cannot place the device tree");
	write_reset_vector(b, start, next);
}

static void on_reset(struct vmc_vm *vm, void *userdata)
{
	load_boot(userdata);
}

/* ------------------------------------------------------------------------
 * The device tree, laid out like QEMU virt's.
 */

/* QEMU's virtio_mmio nodes, one per slot, whether a device sits there. */
static int add_virtio_fdt(struct board *b, uint32_t plic_phandle)
{
	for (unsigned int i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		uint64_t addr = VIRT_VIRTIO + 0x1000u * i;
		uint32_t reg[4] = {0, (uint32_t)addr, 0, 0x1000};
		char path[64];
		int r;

		snprintf(path, sizeof(path), "/soc/virtio_mmio@%llx",
			 (unsigned long long)addr);
		if ((r = vmc_fdt_add_node(b->fdt, path)) < 0 ||
		    (r = vmc_fdt_set_string(b->fdt, path, "compatible",
					    "virtio,mmio")) < 0 ||
		    (r = vmc_fdt_set_cells(b->fdt, path, "reg", reg, 4)) < 0 ||
		    (r = vmc_fdt_set_u32(b->fdt, path, "interrupts",
					 VIRT_VIRTIO_IRQ + i)) < 0 ||
		    (r = vmc_fdt_set_u32(b->fdt, path, "interrupt-parent",
					 plic_phandle)) < 0)
			return r;
	}
	return 0;
}

/*
 * riscv,isa (the ISA string), riscv,isa-base and riscv,isa-extensions of
 * every hart, and the cache-block sizes of Zicbom/Zicboz/Zicbop, as
 * QEMU's virt writes them: exactly what the harts implement.
 */
static void isa_string(const struct board *b, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "rv64");

	for (size_t k = 0; k < N_CPU_LETTERS; k++)
		n += (size_t)snprintf(buf + n, len - n, "%s", cpu_letters[k]);
	for (size_t k = 0; k < N_CPU_EXTS; k++)
		if (cpu_ext_on(b, &cpu_exts[k]))
			n += (size_t)snprintf(buf + n, len - n, "_%s",
					      cpu_exts[k].name);
}

static int fdt_cpu_isa(const struct board *b)
{
	const char *list[N_CPU_LETTERS + N_CPU_EXTS];
	size_t n = 0;
	char path[32];
	int r;

	for (size_t k = 0; k < N_CPU_LETTERS; k++)
		list[n++] = cpu_letters[k];
	for (size_t k = 0; k < N_CPU_EXTS; k++)
		if (cpu_ext_on(b, &cpu_exts[k]))
			list[n++] = cpu_exts[k].name;
	for (unsigned int i = 0; i < b->harts; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%u", i);
		if ((r = vmc_fdt_set_string(b->fdt, path, "riscv,isa-base",
					    "rv64i")) < 0 ||
		    (r = vmc_fdt_set_stringlist(b->fdt, path,
						"riscv,isa-extensions", list,
						n)) < 0)
			return r;
		if (!(b->ext_off & VMC_RISCV_EXT_ZICBOM) &&
		    (r = vmc_fdt_set_u32(b->fdt, path, "riscv,cbom-block-size",
					 64)) < 0)
			return r;
		if (!(b->ext_off & VMC_RISCV_EXT_ZICBOZ) &&
		    (r = vmc_fdt_set_u32(b->fdt, path, "riscv,cboz-block-size",
					 64)) < 0)
			return r;
		if (!b->hints_off[0] &&
		    (r = vmc_fdt_set_u32(b->fdt, path, "riscv,cbop-block-size",
					 64)) < 0)
			return r;
	}
	return 0;
}

static void build_fdt(struct board *b)
{
	uint32_t intc[256], plic_phandle;
	char isa[256];
	size_t size;
	uint64_t top;
	int r;

	isa_string(b, isa, sizeof(isa));
	if ((r = vmc_fdt_begin(&b->fdt)) < 0 ||
	    (r = vmc_fdt_add_board(b->fdt, "riscv-virtio,qemu",
				   "riscv-virtio")) < 0 ||
	    (r = vmc_fdt_add_riscv_cpus(b->fdt, b->harts, VIRT_TIMEBASE, isa,
					"riscv,sv48", intc)) < 0 ||
	    (r = fdt_cpu_isa(b)) < 0 ||
	    (r = vmc_fdt_add_memory(b->fdt, VIRT_DRAM, b->ram_size)) < 0 ||
	    (r = vmc_clint_fdt_add(b->clint, b->fdt, VIRT_CLINT, intc)) < 0 ||
	    (r = vmc_plic_fdt_add(b->plic, b->fdt, VIRT_PLIC, intc,
				  &plic_phandle)) < 0 ||
	    (r = vmc_sifive_test_fdt_add(b->test, b->fdt, VIRT_TEST)) < 0 ||
	    (r = vmc_fdt_add_ns16550(b->fdt, VIRT_UART0, 0x100, VIRT_UART_CLOCK,
				     plic_phandle, VIRT_UART0_IRQ, true)) < 0 ||
	    (r = add_virtio_fdt(b, plic_phandle)) < 0 ||
	    (r = vmc_fdt_set_chosen(b->fdt, "/soc/serial@10000000",
				    b->append)) < 0 ||
	    (r = fdt_add_initrd(b)) < 0 ||
	    (r = vmc_fdt_finish(b->fdt, &size)) < 0)
		die(r, "cannot build the device tree");

	/* Where QEMU puts it: 2 MiB aligned, below the end of RAM or 3 GiB. */
	top = VIRT_DRAM + b->ram_size;
	if (top > 0xc0000000u)
		top = 0xc0000000u;
	if (size > top - VIRT_DRAM)
		die(0,
		    "RAM (%llu bytes) is too small for the device tree "
		    "(%zu bytes)",
		    (unsigned long long)b->ram_size, size);
	b->fdt_addr = (top - size) & ~(uint64_t)0x1fffff;
	if (b->fdt_addr < VIRT_DRAM)
		b->fdt_addr = (top - size) & ~(uint64_t)0xfff;
}

/* ------------------------------------------------------------------------
 * The machine
 */

static void add(struct board *b, uint64_t addr, struct vmc_region *r,
		const char *what)
{
	int e = vmc_region_add_subregion(vmc_vm_get_root(b->vm, VMC_AS_MEMORY),
					 addr, r, 0);

	if (e < 0)
		die(e, "cannot map the %s", what);
}

/*
 * -device vmc-vsock-device,guest-cid=N,uds-path=PATH: libvmcore's
 * userspace vsock (vmc-virtio-vsock.h).  QEMU has vsock only as
 * vhost-vsock-device, whose other end is the host kernel; this device is
 * its own other end and bridges to Unix sockets: a host program connects
 * to PATH and writes `CONNECT <port>\n`; the guest's connections to CID 2
 * port P reach `PATH_P`.  So the name differs on purpose, and QEMU's is
 * refused with a pointer to this one.  1: taken, 0: not this device.
 */
static int vsock_option(struct board *b, const char *v)
{
	char *arg, *p, *item;
	size_t n = strcspn(v, ",");

	if (n == strlen("vhost-vsock-device") &&
	    !strncmp(v, "vhost-vsock-device", n))
		die(0,
		    "-device %s: no vhost here: use "
		    "vmc-vsock-device,guest-cid=N,uds-path=PATH",
		    v);
	if (n != strlen("vmc-vsock-device") ||
	    strncmp(v, "vmc-vsock-device", n))
		return 0;
	if (b->vsock.uds_path)
		die(0, "-device %s: one vmc-vsock-device only", v);
	arg = strdup(v + n);
	if (!arg)
		die(-ENOMEM, "-device %s", v);
	p = arg;
	while ((item = strsep(&p, ",")) != NULL) {
		char *end;

		if (!*item)
			continue;
		if (!strncmp(item, "guest-cid=", 10)) {
			errno = 0;
			b->vsock.guest_cid = strtoull(item + 10, &end, 0);
			if (errno || *end || b->vsock.guest_cid < 3 ||
			    b->vsock.guest_cid >= 0xffffffffu)
				die(0,
				    "-device %s: guest-cid is 3 to "
				    "4294967294",
				    v);
		} else if (!strncmp(item, "uds-path=", 9) && item[9]) {
			free(b->vsock.uds_path);
			b->vsock.uds_path = strdup(item + 9);
		} else if (strncmp(item, "id=", 3) &&
			   strncmp(item, "iothread=", 9)) {
			die(0, "-device %s: unsupported property '%s'", v,
			    item);
		}
	}
	free(arg);
	if (!b->vsock.guest_cid || !b->vsock.uds_path)
		die(0, "-device %s: needs guest-cid= and uds-path=", v);
	return 1;
}

/* The vsock device in @slot (legacy, as every slot here). */
static void build_vsock(struct board *b, unsigned int slot)
{
	struct vmc_virtio_vsock_config c;
	int r;

	if (!b->vsock.uds_path)
		return;
	vmc_virtio_vsock_config_init(&c);
	c.vm = b->vm;
	c.irq = vmc_plic_get_irq(b->plic, VIRT_VIRTIO_IRQ + slot);
	c.legacy = true;
	c.guest_cid = b->vsock.guest_cid;
	c.uds_path = b->vsock.uds_path;
	c.iothread = b->vsock.iothread;
	r = vmc_virtio_vsock_new(&c, &b->vsock.dev);
	if (r < 0)
		die(r, "cannot create vmc-vsock-device on %s",
		    b->vsock.uds_path);
	b->virtio_slot[slot] = vmc_virtio_vsock_get_virtio(b->vsock.dev);
}

/* Before the slots are freed: the device frees its own transport. */
static void free_vsock(struct board *b)
{
	if (!b->vsock.dev)
		return;
	for (unsigned int i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		if (b->virtio_slot[i] ==
		    vmc_virtio_vsock_get_virtio(b->vsock.dev))
			b->virtio_slot[i] = NULL;
	vmc_virtio_vsock_free(b->vsock.dev);
	b->vsock.dev = NULL;
	free(b->vsock.uds_path);
	b->vsock.uds_path = NULL;
}

/*
 * Fill the virtio-mmio slots: the -device ones (QEMU plugs them into the
 * last free slot first, so the first device sits at 0x10008000), then
 * empty transports.  Legacy transports, as QEMU's virt board defaults to.
 */
static void build_virtio(struct board *b)
{
	int r;

	build_devices(b);
	for (unsigned int i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		static const struct vmc_virtio_ops none = {
			.struct_size = sizeof(none),
		};
		struct vmc_virtio_config vc;

		if (b->virtio_slot[i])
			continue;
		vmc_virtio_config_init(&vc);
		vc.vm = b->vm;
		vc.legacy = true;
		vc.device_id = 0; /* an empty slot */
		r = vmc_virtio_new(&vc, &none, NULL, &b->virtio_slot[i]);
		if (r < 0)
			die(r, "cannot create a virtio-mmio slot");
	}
}

static void free_virtio(struct board *b)
{
	struct vmc_region *root = vmc_vm_get_root(b->vm, VMC_AS_MEMORY);

	for (unsigned int i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		vmc_region_remove_subregion(
			root, vmc_virtio_get_region(b->virtio_slot[i]));
	free_devices(b);
	for (unsigned int i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		vmc_virtio_free(b->virtio_slot[i]);
}

static void on_output_closed(void *userdata, int error);

static void build_machine(struct board *b, bool deterministic, bool tty)
{
	struct vmc_vm_config vc;
	struct vmc_uart16550_config uc;
	struct vmc_clint_config cc;
	struct vmc_plic_config pc;
	struct vmc_sifive_test_config tc;
	struct vmc_memory *mem;
	int r;

	vmc_vm_config_init(&vc);
	vc.accel = VMC_ACCEL_TCG;
	vc.arch = VMC_ARCH_RISCV64;
	vc.vcpus = b->harts;
	vc.flags = deterministic ? VMC_VM_DETERMINISTIC : 0;
	vc.loop = b->loop;
	r = vmc_vm_new(&vc, &b->vm);
	if (r < 0)
		die(r, "cannot create the VM");
	mem = vmc_vm_get_memory(b->vm);
	b->mem = vmc_vm_get_address_space(b->vm, VMC_AS_MEMORY);
	for (unsigned int i = 0; i < b->harts; i++) {
		r = vmc_vcpu_set_reg(vmc_vm_get_vcpu(b->vm, i),
				     VMC_RISCV_REG_EXT_OFF, b->ext_off);
		if (r < 0)
			die(r, "cannot switch the -cpu extensions off");
	}

	if ((r = vmc_region_new_ram(mem, "riscv_virt_board.ram", b->ram_size, 0,
				    &b->ram)) < 0 ||
	    (r = vmc_region_new_rom(mem, "riscv_virt_board.mrom",
				    VIRT_MROM_SIZE, &b->mrom)) < 0)
		die(r, "cannot allocate guest memory");

	vmc_clint_config_init(&cc);
	cc.vm = b->vm;
	cc.harts = b->harts;
	cc.timebase_hz = VIRT_TIMEBASE;
	vmc_plic_config_init(&pc);
	pc.vm = b->vm;
	pc.harts = b->harts;
	vmc_sifive_test_config_init(&tc);
	tc.vm = b->vm;
	if ((r = vmc_clint_new(&cc, &b->clint)) < 0 ||
	    (r = vmc_plic_new(&pc, &b->plic)) < 0 ||
	    (r = vmc_sifive_test_new(&tc, &b->test)) < 0)
		die(r, "cannot create the devices");

	vmc_uart16550_config_init(&uc);
	uc.vm = b->vm;
	uc.irq = vmc_plic_get_irq(b->plic, VIRT_UART0_IRQ);
	uc.clock_hz = VIRT_UART_CLOCK;
	uc.in_fd = tty ? -1 : STDIN_FILENO; /* a terminal goes through Ctrl-A */
	uc.out_fd = STDOUT_FILENO;
	uc.closed_cb = on_output_closed; /* `riscv-virt | head` */
	uc.userdata = b;
	r = vmc_uart16550_new(&uc, &b->uart);
	if (r == -EPERM) {
		/* stdin is a regular file or /dev/null: nothing to poll. */
		uc.in_fd = -1;
		r = vmc_uart16550_new(&uc, &b->uart);
	}
	if (r < 0)
		die(r, "cannot create the UART");

	build_virtio(b);

	vmc_memory_begin(mem);
	for (unsigned int i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		add(b, VIRT_VIRTIO + 0x1000u * i,
		    vmc_virtio_get_region(b->virtio_slot[i]), "virtio slot");
	add(b, VIRT_MROM, b->mrom, "mask ROM");
	add(b, VIRT_TEST, vmc_sifive_test_get_region(b->test), "finisher");
	add(b, VIRT_CLINT, vmc_clint_get_region(b->clint), "CLINT");
	add(b, VIRT_PLIC, vmc_plic_get_region(b->plic), "PLIC");
	add(b, VIRT_UART0, vmc_uart16550_get_region(b->uart), "UART");
	add(b, VIRT_DRAM, b->ram, "RAM");
	vmc_memory_commit(mem);

	build_fdt(b);
	load_boot(b);
	if ((r = vmc_vm_add_reset_handler(b->vm, on_reset, b, NULL)) < 0)
		die(r, "cannot register the reset handler");
}

/* ------------------------------------------------------------------------
 * Console and run state
 */

static struct termios saved_tty;
static bool tty_raw;

static void restore_tty(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
}

static void stdin_readable(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct board *b = userdata;
	uint8_t buf[64], out[64];
	size_t n_out = 0;
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			vmc_fd_handler_set(h, NULL, NULL, b);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (b->ctrl_a) {
			b->ctrl_a = false;
			if (buf[i] == 'x') {
				b->exit_status = 0;
				vmc_loop_stop(b->loop);
				return;
			}
			if (buf[i] != 1)
				continue;
		} else if (buf[i] == 1) {
			b->ctrl_a = true;
			continue;
		}
		out[n_out++] = buf[i];
	}
	/* Typing is slower than the FIFO drains; a burst beyond it is lost,
	 * as on a real line without flow control. */
	vmc_uart16550_receive(b->uart, out, n_out);
}

/* Whoever read the console went away: end as a filter does, cleanly. */
static void on_output_closed(void *userdata, int error)
{
	struct board *b = userdata;

	fprintf(stderr,
		"\r\nriscv-virt: console output closed (%s), "
		"stopping\r\n",
		strerror(-error));
	b->exit_status = 0;
	vmc_loop_stop(b->loop);
}

static void on_state(struct vmc_vm *vm, enum vmc_vm_state old,
		     enum vmc_vm_state new_state, void *userdata)
{
	struct board *b = userdata;

	if (new_state == VMC_VM_SHUTDOWN) {
		/* -no-shutdown: stay up for system_reset or quit (which
		 * ends with status 0, as QEMU's). */
		if (!board_qmp_keep_after_shutdown(&b->qmp)) {
			b->exit_status = vmc_vm_get_shutdown_status(vm);
			vmc_loop_stop(b->loop);
		}
	} else if (new_state == VMC_VM_GUEST_ERROR) {
		fprintf(stderr, "\r\nriscv-virt: guest error: %s\r\n",
			vmc_vm_get_error(vm));
		b->exit_status = 1;
		vmc_loop_stop(b->loop);
	}
}

static void teardown(struct board *b)
{
	struct vmc_region *root = vmc_vm_get_root(b->vm, VMC_AS_MEMORY);
	struct vmc_memory *mem = vmc_vm_get_memory(b->vm);

	vmc_memory_begin(mem);
	vmc_region_remove_subregion(root, b->mrom);
	vmc_region_remove_subregion(root, b->ram);
	vmc_region_remove_subregion(root, vmc_sifive_test_get_region(b->test));
	vmc_region_remove_subregion(root, vmc_clint_get_region(b->clint));
	vmc_region_remove_subregion(root, vmc_plic_get_region(b->plic));
	vmc_region_remove_subregion(root, vmc_uart16550_get_region(b->uart));
	vmc_memory_commit(mem);
	free_virtio(b);
	vmc_uart16550_free(b->uart);
	vmc_sifive_test_free(b->test);
	vmc_clint_free(b->clint);
	vmc_plic_free(b->plic);
	vmc_region_unref(b->mrom);
	vmc_region_unref(b->ram);
	free(b->bios.data);
	free(b->kernel.data);
}

int main(int argc, char **argv)
{
	struct board b = {.ram_size = 128u << 20, .harts = 1};
	const char *bios = NULL, *kernel = NULL;
	bool deterministic = false, tty, start_paused = false;
	const char *gdb = NULL;
	struct vmc_gdbstub *stub = NULL;
	char msg[BOARD_MSG_SIZE];
	struct board_qmp *qmp_opts = &b.qmp;
	const char *qmp_failed = "";
	const char *dumpdtb = NULL;
	const char **device_args = calloc((size_t)argc, sizeof(char *));
	int nr_device_args = 0;
	int r;

	if (!device_args)
		die(-ENOMEM, "the command line");

	board_log_to_stderr("riscv-virt");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-nographic") || !strcmp(a, "-no-reboot")) {
			continue;
		} else if (!strcmp(a, "-icount")) {
			deterministic = true;
			/* QEMU's "-icount shift=N,..." options are accepted. */
			if (v && v[0] != '-')
				i++;
			continue;
		} else if (!strcmp(a, "-s")) {
			gdb = "tcp::1234";
			continue;
		} else if (!strcmp(a, "-S")) {
			start_paused = true;
			continue;
		} else if (board_qmp_flag_option(qmp_opts, a)) {
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "-M") || !strcmp(a, "-machine")) {
			if (strncmp(v, "virt", 4) != 0)
				die(0, "unsupported machine '%s'", v);
			/* QEMU's dumpdtb=FILE: write the device tree
			 * and exit (how its riscv,isa* are checked). */
			if (!strncmp(v, "virt,dumpdtb=", 13))
				dumpdtb = v + 13;
		} else if (!strcmp(a, "-m")) {
			if (board_parse_mem(v, 2u << 20, 64ull << 30,
					    &b.ram_size, msg) < 0)
				die(0, "-m %s: %s", v, msg);
		} else if (!strcmp(a, "-smp")) {
			if (board_parse_smp(v, 8, "virt", &b.harts, msg) < 0)
				die(0, "-smp %s: %s", v, msg);
		} else if (!strcmp(a, "-cpu")) {
			parse_cpu(&b, v);
		} else if (!strcmp(a, "-bios")) {
			bios = v;
		} else if (!strcmp(a, "-kernel")) {
			kernel = v;
		} else if (!strcmp(a, "-append")) {
			b.append = v;
		} else if (!strcmp(a, "-gdb")) {
			gdb = v;
		} else if (!strcmp(a, "-initrd")) {
			b.devs.initrd_path = v;
		} else if (!strcmp(a, "-drive")) {
			parse_drive(&b, v);
		} else if (!strcmp(a, "-chardev")) {
			parse_chardev(&b, v);
		} else if (!strcmp(a, "-device")) {
			device_args[nr_device_args++] = v;
		} else if (!strcmp(a, "-netdev")) {
			if (board_net_option(&b.net, a, v, msg) < 0)
				die(0, "%s", msg);
		} else if (!strcmp(a, "-object")) {
			if (board_iothread_object(&b.iothreads, v, msg) < 0)
				die(0, "%s", msg);
		} else if (!strcmp(a, "-incoming")) {
			b.incoming = v;
		} else if ((r = board_qmp_option(qmp_opts, a, v)) != 0) {
			if (r < 0)
				die(0, "unsupported %s '%s'", a, v);
			if (!strcmp(a, "-mon"))
				mon_chardev(&b, v);
		} else {
			usage();
		}
	}

	/* As QEMU: drives and chardevs first, then -device in order. */
	for (int i = 0; i < nr_device_args; i++)
		parse_device(&b, device_args[i]);
	if (!kernel && b.append)
		die(0, "-append only allowed with -kernel option");
	if (!kernel && b.devs.initrd_path)
		die(0, "-initrd only allowed with -kernel option");
	b.bios_none = bios && !strcmp(bios, "none");
	if (!b.bios_none)
		read_file(!bios || !strcmp(bios, "default") ? DEFAULT_BIOS
							    : bios,
			  "firmware", &b.bios);
	if (kernel)
		read_file(kernel, "kernel", &b.kernel);
	place_initrd(&b);

	board_qmp_daemonize(qmp_opts, "riscv-virt");
	r = vmc_loop_new(&b.loop);
	if (r < 0)
		die(r, "cannot create the loop");
	tty = isatty(STDIN_FILENO);
	build_machine(&b, deterministic, tty);
	if (dumpdtb) {
		FILE *f = fopen(dumpdtb, "wb");

		if (!f ||
		    fwrite(vmc_fdt_get_blob(b.fdt), 1, vmc_fdt_get_size(b.fdt),
			   f) != vmc_fdt_get_size(b.fdt) ||
		    fclose(f) != 0)
			die(errno, "cannot write the device tree to %s",
			    dumpdtb);
		goto out; /* the VM never runs */
	}
	vmc_vm_add_state_handler(b.vm, on_state, 0, &b, NULL);

	if (tty && tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
		struct termios raw = saved_tty;

		cfmakeraw(&raw);
		raw.c_oflag |= OPOST; /* keep "\n" -> "\r\n" on output */
		tty_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		atexit(restore_tty);
		vmc_loop_add_fd(b.loop, STDIN_FILENO, stdin_readable, NULL, &b,
				&b.stdin_handler);
	}

	if (gdb) {
		r = vmc_gdbstub_start(b.vm, b.loop, gdb, &stub);
		if (r < 0)
			die(r, "cannot start the gdb stub on '%s'", gdb);
	}
	r = board_qmp_start(qmp_opts, b.vm, NULL, b.ram_size, &qmp_failed);
	if (r < 0)
		die(r, "cannot open the QMP monitor '%s'", qmp_failed);
	if (qmp_opts->qmp && (r = board_net_add_qmp(&b.net, qmp_opts->qmp)) < 0)
		die(r, "cannot add QMP's set_link");
	r = board_snapshot_qmp(&b.snap, qmp_opts->qmp, b.vm);
	if (r < 0)
		die(r, "cannot register QMP migrate");
	if (b.incoming && (r = board_incoming(b.vm, b.incoming)) < 0)
		die(r, "-incoming %s", b.incoming);
	board_qmp_ready(qmp_opts, b.vm, b.harts, "TCG");
	/* -S: stay in the created state (QMP's prelaunch) until gdb or
	 * QMP's cont starts the VM. */
	if (!start_paused) {
		r = vmc_vm_start(b.vm);
		if (r < 0)
			die(r, "cannot start the VM");
	}
	vmc_loop_run(b.loop);
	vmc_gdbstub_stop(stub);
	board_qmp_stop(qmp_opts);

out:
	vmc_vm_pause(b.vm);
	vmc_fd_handler_free(b.stdin_handler);
	teardown(&b);
	vmc_vm_unref(b.vm);
	vmc_fdt_free(b.fdt);
	vmc_loop_unref(b.loop);
	free(device_args);
	fflush(stdout);
	return b.exit_status;
}
