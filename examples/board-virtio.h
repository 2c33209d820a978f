/* SPDX-License-Identifier: MIT */
/*
 * The virtio devices a board puts into its virtio-mmio slots, from QEMU's
 * command-line spelling, shared by the example boards:
 *
 *   -device virtio-rng-device
 *   -drive file=F,if=none,id=ID,format=raw[,readonly=on]
 *   -device virtio-blk-device,drive=ID
 *   -chardev stdio|null,id=C   -chardev file,id=C,path=OUT[,input-path=IN]
 *   -device virtio-serial-device  -device virtconsole,chardev=C
 *   -device vmc-vsock-device,guest-cid=N,uds-path=PATH
 *   ...,iothread=ID on any of these devices, with -object iothread,id=ID
 *   (board-iothread.h; QEMU's on virtio-blk-device, an extension on the
 *   others)
 *
 * The last is libvmcore's userspace vsock (vmc-virtio-vsock.h): QEMU only
 * has vsock as vhost-vsock-device, whose other end is the host kernel, so
 * the spelling differs on purpose; a host program reaches the guest
 * through the Unix socket PATH (`CONNECT <port>\n`), and the guest reaches
 * `PATH_<port>` on the host.
 *
 * Slots are filled as QEMU fills a virtio-mmio bus: the first device goes
 * into the last slot, the next into the one before; empty slots are
 * transports with device ID 0.  Built on the C library and the public API
 * only.
 */
#ifndef BOARD_VIRTIO_H
#define BOARD_VIRTIO_H

#include <stdbool.h>

#include <libvmcore/libvmcore.h>

#include "board-iothread.h"

#define BOARD_VIRTIO_MAX 16

enum board_virtio_kind {
	BOARD_VIRTIO_RNG,
	BOARD_VIRTIO_BLK,
	BOARD_VIRTIO_CONSOLE,
	BOARD_VIRTIO_VSOCK,
};

struct board_virtio_dev {
	enum board_virtio_kind kind;
	char *arg; /* the -device value (owned) */
	/* vsock */
	uint64_t guest_cid;
	const char *uds_path; /* inside @arg */
	/* blk, console: the names (inside @arg), resolved when created */
	const char *drive, *chardev;
	const char *iothread; /* iothread= (inside @arg), or NULL */
	/* created */
	struct vmc_virtio_rng *rng;
	struct vmc_virtio_blk *blk;
	struct vmc_virtio_console *con;
	struct vmc_virtio_vsock *vsock;
};

struct board_virtio_drive {
	char *arg; /* owned; the fields point into it */
	const char *id, *file;
	bool read_only;
	int fd;
};

struct board_virtio_chardev {
	char *arg; /* owned */
	const char *id, *backend, *path, *input_path;
	int in_fd, out_fd;
};

struct board_virtio {
	struct board_virtio_dev devs[BOARD_VIRTIO_MAX];
	unsigned int nr_devs;
	struct board_virtio_drive drives[BOARD_VIRTIO_MAX];
	unsigned int nr_drives;
	struct board_virtio_chardev chardevs[BOARD_VIRTIO_MAX];
	unsigned int nr_chardevs;
	bool serial_bus;  /* -device virtio-serial-device seen */
	bool stdio_taken; /* a chardev reads stdin */
	unsigned int nr_slots;
	struct vmc_virtio **slots; /* nr_slots transports, after create */
	/* The board's -object iothread list (NULL: iothread= refused), and
	 * whether its lines may be set from any thread (irqfd lines). */
	struct board_iothreads *iothreads;
	bool irq_any_thread;
};

/*
 * Take option @opt with value @val if it is one of the above: 1 taken, 0
 * not ours (the board goes on), -1 malformed (@msg says why).
 */
int board_virtio_option(struct board_virtio *bv, const char *opt,
			const char *val, char *msg);

/* The interrupt line of slot @slot, from the board. */
typedef struct vmc_irq *(*board_virtio_irq_fn)(void *opaque, unsigned int slot);

/*
 * Check the options against each other, open the backends and create
 * the devices in @nr_slots slots (transport @legacy), their lines from
 * @irq_fn.  -errno and @msg on failure.  Call on the VM's loop.
 */
int board_virtio_create(struct board_virtio *bv, struct vmc_vm *vm,
			unsigned int nr_slots, bool legacy,
			board_virtio_irq_fn irq_fn, void *opaque, char *msg);

/* The transport of slot @slot (after create). */
struct vmc_virtio *board_virtio_slot(struct board_virtio *bv,
				     unsigned int slot);

/* Which slot holds a device (a device ID other than 0). */
bool board_virtio_slot_used(struct board_virtio *bv, unsigned int slot);

/* Whether a chardev takes stdin (the board's UART then gets none). */
bool board_virtio_uses_stdin(const struct board_virtio *bv);

/*
 * Free the devices and the options.  The board removed the slots'
 * regions first.  Call on the VM's loop without the VM lock.
 */
void board_virtio_free(struct board_virtio *bv);

#endif
