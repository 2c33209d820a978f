/* SPDX-License-Identifier: MIT */
/*
 * pc-lite: a tiny PC on KVM, assembled from libvmcore's public API.
 *
 * It maps a BIOS image the way QEMU's pc machine does, so that the same
 * image runs unchanged under both:
 *
 *   pc-lite -bios bios.bin
 *   qemu-system-x86_64 -enable-kvm -bios bios.bin \
 *       -device isa-debug-exit,iobase=0x501 -nographic
 *
 * Memory: RAM from 0; the BIOS image as ROM ending at 4 GiB; the last
 * 128 KiB of the image (the whole image if it is smaller) also visible
 * just below 1 MiB, over the RAM, through an alias ("isa-bios").  RAM
 * beyond 3.5 GiB continues above 4 GiB, as with QEMU's pc.
 *
 * Devices: a 16550 at 0x3f8 on stdio, wired to GSI 4 of the in-kernel
 * interrupt controllers, and QEMU's isa-debug-exit at 0x501: a write of v
 * ends the process with status (v << 1) | 1.
 *
 * Virtio: eight virtio-mmio (version 2) slots laid out as QEMU's microvm
 * machine lays them out with its one I/O APIC: slot n at 0xfeb00000 +
 * n * 0x200, on GSI 5 + n.  Devices come from QEMU's options (see
 * board-virtio.h: virtio-rng-device, virtio-blk-device with -drive,
 * virtconsole with -chardev, and vmc-vsock-device) and, as on a QEMU
 * virtio-mmio bus, fill the slots from the last one down: the first
 * device is at 0xfeb00e00 on GSI 12.  A Linux guest finds them, with no
 * device tree or ACPI table, through one kernel parameter per device in
 * the virtio_mmio driver's syntax, `virtio_mmio.device=<size>@<base>:<irq>`
 * (QEMU's microvm appends the same); `pc-lite -virtio-cmdline ...` prints
 * them for the devices given.  Queue notifications are in-kernel
 * ioeventfds, and each slot's interrupt is an irqfd line (edge: Linux
 * treats these ISA-range GSIs as edge-triggered, active high, as QEMU's
 * microvm does without ACPI), so neither direction leaves the kernel.  The
 * vCPUs start in the power-on state (CS base 0xFFFF0000, IP 0xFFF0); the
 * application processors wait for INIT/SIPI in the kernel.
 *
 * Exit status: the isa-debug-exit status, 0 when the guest powers off
 * some other way, 1 on a guest error (triple fault, internal error), 2 on
 * a usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "board-util.h"
#include "board-qmp.h"
#include "board-virtio.h"

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)
#define KiB (UINT64_C(1) << 10)

#define ISA_BIOS_MAX (128 * KiB)
#define PC_LOWMEM_MAX UINT64_C(0xe0000000)
#define PC_LOWMEM_SPLIT UINT64_C(0xc0000000)
#define COM1_BASE 0x3f8
#define COM1_GSI 4
#define DEBUG_EXIT_BASE 0x501
#define BIOS_MAX (16 * MiB)
#define PC_VIRTIO_BASE UINT64_C(0xfeb00000)
#define PC_VIRTIO_STRIDE 0x200
#define PC_VIRTIO_SLOTS 8
#define PC_VIRTIO_GSI 5

struct pc {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	uint64_t ram_size;
	unsigned int cpus;
	void *bios;
	size_t bios_size;
	struct vmc_region *ram, *ram_below, *ram_above;
	struct vmc_region *rom, *isa_bios, *debug_exit;
	struct vmc_uart16550 *uart;
	struct vmc_irq *com1_irq;
	int exit_status;
	struct board_qmp qmp;
	struct board_virtio virtio;
	struct vmc_kvm_irqfd_line *virtio_line[PC_VIRTIO_SLOTS];
	struct board_iothreads iothreads; /* -object iothread */
};

static void die(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void die(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pc-lite: ");
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
		"usage: pc-lite [-m SIZE] [-smp N] -bios FILE\n"
		"               [-s] [-gdb tcp::PORT|unix:PATH] [-S]\n"
		"               [-qmp unix:PATH,server=on,wait=off] "
		"[-chardev socket,...] [-mon ...]\n"
		"               [-name NAME[,debug-threads=on]] [-no-shutdown] "
		"[-pidfile FILE] [-daemonize]\n"
		"               [-M pc] [-enable-kvm] [-nographic] ...\n"
		"               [-device virtio-rng-device] "
		"[-device vmc-vsock-device,guest-cid=N,uds-path=PATH]\n"
		"               [-drive file=F,if=none,id=ID,format=raw"
		"[,readonly=on] -device virtio-blk-device,drive=ID]\n"
		"               [-chardev stdio|null|file,id=C,... "
		"-device virtio-serial-device -device "
		"virtconsole,chardev=C]\n"
		"               [-object iothread,id=IOT "
		"-device ...,iothread=IOT] [-virtio-cmdline]\n"
		"Runs a BIOS image on KVM in a minimal PC laid out like QEMU's "
		"pc machine,\nwith a 16550 at 0x3f8 on stdio and "
		"isa-debug-exit at 0x501.\n");
	exit(2);
}

static void read_bios(struct pc *pc, const char *path)
{
	struct board_image img;
	char msg[BOARD_MSG_SIZE];

	if (board_read_image(path, BIOS_MAX, &img, msg) < 0)
		die(0, "cannot read the BIOS image %s: %s", path, msg);
	/* QEMU's pc refuses the same images. */
	if (img.len % (64 * KiB))
		die(0,
		    "%s: a BIOS image is a multiple of 64 KiB, at most "
		    "16 MiB",
		    path);
	pc->bios = img.data;
	pc->bios_size = img.len;
}

/* ------------------------------------------------------------------------
 * isa-debug-exit
 */

static int debug_exit_write(void *opaque, uint64_t offset, unsigned size,
			    uint64_t value)
{
	struct pc *pc = opaque;

	(void)offset;
	(void)size;
	/* The status is 8 bits wide; QEMU's exit() truncates alike. */
	vmc_vm_request_shutdown(pc->vm, (int)(((value << 1) | 1) & 0xff));
	return 0;
}

static const struct vmc_region_ops debug_exit_ops = {
	.struct_size = sizeof(struct vmc_region_ops),
	.write = debug_exit_write,
	.min_access_size = 1,
	.max_access_size = 4,
};

/* ------------------------------------------------------------------------
 * The machine
 */

static void com1_irq(void *opaque, unsigned int n, bool level)
{
	struct pc *pc = opaque;

	(void)n;
	vmc_kvm_set_irq_line(pc->vm, COM1_GSI, level);
}

static void map(struct vmc_region *parent, uint64_t addr, struct vmc_region *r,
		int priority, const char *what)
{
	int e = vmc_region_add_subregion(parent, addr, r, priority);

	if (e < 0)
		die(e, "cannot map the %s", what);
}

static void on_output_closed(void *userdata, int error);

/* Slot @slot's interrupt: an irqfd line on GSI 5 + slot. */
static struct vmc_irq *virtio_irq(void *opaque, unsigned int slot)
{
	struct pc *pc = opaque;
	int r = vmc_kvm_irqfd_line_new(pc->vm, PC_VIRTIO_GSI + slot, 0,
				       &pc->virtio_line[slot]);

	if (r < 0)
		die(r, "cannot route virtio-mmio slot %u to GSI %u", slot,
		    PC_VIRTIO_GSI + slot);
	return vmc_kvm_irqfd_line_get_irq(pc->virtio_line[slot]);
}

static void build_virtio(struct pc *pc)
{
	char msg[BOARD_MSG_SIZE];
	int r = board_virtio_create(&pc->virtio, pc->vm, PC_VIRTIO_SLOTS, false,
				    virtio_irq, pc, msg);

	if (r < 0)
		die(0, "%s", msg);
	/*
	 * A device on an I/O thread gets its line's resamples there too, so
	 * that a request never passes through the VM's loop.
	 */
	for (unsigned int i = 0; i < PC_VIRTIO_SLOTS; i++) {
		struct vmc_iothread *iot = vmc_virtio_get_iothread(
			board_virtio_slot(&pc->virtio, i));

		if (iot && pc->virtio_line[i] &&
		    (r = vmc_kvm_irqfd_line_set_iothread(pc->virtio_line[i],
							 iot)) < 0)
			die(r,
			    "cannot move slot %u's resamples to its I/O "
			    "thread",
			    i);
	}
}

static void map_virtio(struct pc *pc, struct vmc_region *sys)
{
	for (unsigned int i = 0; i < PC_VIRTIO_SLOTS; i++)
		map(sys, PC_VIRTIO_BASE + PC_VIRTIO_STRIDE * i,
		    vmc_virtio_get_region(board_virtio_slot(&pc->virtio, i)), 0,
		    "virtio-mmio slot");
}

static void free_virtio(struct pc *pc)
{
	struct vmc_region *sys = vmc_vm_get_root(pc->vm, VMC_AS_MEMORY);

	for (unsigned int i = 0; i < PC_VIRTIO_SLOTS; i++)
		vmc_region_remove_subregion(
			sys, vmc_virtio_get_region(
				     board_virtio_slot(&pc->virtio, i)));
	board_virtio_free(&pc->virtio);
	for (unsigned int i = 0; i < PC_VIRTIO_SLOTS; i++)
		vmc_kvm_irqfd_line_free(pc->virtio_line[i]);
	board_iothread_free_all(&pc->iothreads);
}

/* -virtio-cmdline: the kernel parameters that describe the devices. */
static void print_virtio_cmdline(const struct pc *pc)
{
	const char *sep = "";

	for (unsigned int i = 0; i < pc->virtio.nr_devs; i++) {
		unsigned int slot = PC_VIRTIO_SLOTS - 1 - i;

		printf("%svirtio_mmio.device=%u@0x%llx:%u", sep,
		       PC_VIRTIO_STRIDE,
		       (unsigned long long)(PC_VIRTIO_BASE +
					    PC_VIRTIO_STRIDE * slot),
		       PC_VIRTIO_GSI + slot);
		sep = " ";
	}
	printf("\n");
}

static void build_machine(struct pc *pc)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc),
				    .flags = VMC_KVM_IRQCHIP | VMC_KVM_PIT};
	struct vmc_region *sys, *io;
	struct vmc_uart16550_config uc;
	struct vmc_vm_config vc;
	struct vmc_memory *mem;
	uint64_t low = pc->ram_size, isa_size;
	int r;

	vmc_vm_config_init(&vc);
	vc.accel = VMC_ACCEL_KVM;
	vc.arch = VMC_ARCH_X86_64;
	vc.vcpus = pc->cpus;
	vc.loop = pc->loop;
	vc.accel_config = &kc;
	r = vmc_vm_new(&vc, &pc->vm);
	if (r < 0)
		die(r, "cannot create the VM (is /dev/kvm usable?)");
	mem = vmc_vm_get_memory(pc->vm);
	sys = vmc_vm_get_root(pc->vm, VMC_AS_MEMORY);
	io = vmc_vm_get_root(pc->vm, VMC_AS_IO);

	/*
	 * QEMU's pc: RAM beyond 3.5 GiB splits at 3 GiB and resumes at
	 * 4 GiB; one RAM block backs both aliases.
	 */
	if (low >= PC_LOWMEM_MAX)
		low = PC_LOWMEM_SPLIT;
	r = vmc_region_new_ram(mem, "pc.ram", pc->ram_size, 0, &pc->ram);
	if (r < 0)
		die(r, "cannot allocate %llu MiB of RAM",
		    (unsigned long long)(pc->ram_size / MiB));
	r = vmc_region_new_alias(mem, "ram-below-4g", pc->ram, 0, low,
				 &pc->ram_below);
	if (r >= 0 && low < pc->ram_size)
		r = vmc_region_new_alias(mem, "ram-above-4g", pc->ram, low,
					 pc->ram_size - low, &pc->ram_above);
	if (r < 0)
		die(r, "cannot map the RAM");

	r = vmc_region_new_rom(mem, "pc.bios", pc->bios_size, &pc->rom);
	if (r < 0)
		die(r, "cannot allocate the BIOS ROM");
	memcpy(vmc_region_get_ptr(pc->rom), pc->bios, pc->bios_size);
	isa_size = pc->bios_size < ISA_BIOS_MAX ? pc->bios_size : ISA_BIOS_MAX;
	r = vmc_region_new_alias(mem, "isa-bios", pc->rom,
				 pc->bios_size - isa_size, isa_size,
				 &pc->isa_bios);
	if (r < 0)
		die(r, "cannot alias the BIOS");

	r = vmc_region_new_io(mem, "isa-debug-exit", 1, &debug_exit_ops, pc, 0,
			      &pc->debug_exit);
	if (r < 0)
		die(r, "cannot create isa-debug-exit");

	r = vmc_irq_new(com1_irq, pc, 1, &pc->com1_irq);
	if (r < 0)
		die(r, "cannot create the COM1 interrupt");
	vmc_uart16550_config_init(&uc);
	uc.vm = pc->vm;
	uc.irq = pc->com1_irq;
	/* A virtio console on stdio takes the input. */
	uc.in_fd = board_virtio_uses_stdin(&pc->virtio) ? -1 : STDIN_FILENO;
	uc.out_fd = STDOUT_FILENO;
	uc.closed_cb = on_output_closed; /* `pc-lite | head` */
	uc.userdata = pc;
	r = vmc_uart16550_new(&uc, &pc->uart);
	if (r == -EPERM) {
		/* stdin is a regular file or /dev/null: nothing to poll. */
		uc.in_fd = -1;
		r = vmc_uart16550_new(&uc, &pc->uart);
	}
	if (r < 0)
		die(r, "cannot create the UART");
	build_virtio(pc);

	vmc_memory_begin(mem);
	map(sys, 0, pc->ram_below, 0, "RAM");
	if (pc->ram_above)
		map(sys, 4 * GiB, pc->ram_above, 0, "RAM above 4 GiB");
	map(sys, 1 * MiB - isa_size, pc->isa_bios, 1, "isa-bios alias");
	map(sys, 4 * GiB - pc->bios_size, pc->rom, 0, "BIOS");
	map(io, COM1_BASE, vmc_uart16550_get_region(pc->uart), 0, "UART");
	map(io, DEBUG_EXIT_BASE, pc->debug_exit, 0, "isa-debug-exit");
	map_virtio(pc, sys);
	vmc_memory_commit(mem);
}

static void teardown(struct pc *pc)
{
	struct vmc_region *sys = vmc_vm_get_root(pc->vm, VMC_AS_MEMORY);
	struct vmc_region *io = vmc_vm_get_root(pc->vm, VMC_AS_IO);
	struct vmc_memory *mem = vmc_vm_get_memory(pc->vm);

	vmc_memory_begin(mem);
	vmc_region_remove_subregion(sys, pc->ram_below);
	if (pc->ram_above)
		vmc_region_remove_subregion(sys, pc->ram_above);
	vmc_region_remove_subregion(sys, pc->isa_bios);
	vmc_region_remove_subregion(sys, pc->rom);
	vmc_region_remove_subregion(io, vmc_uart16550_get_region(pc->uart));
	vmc_region_remove_subregion(io, pc->debug_exit);
	vmc_memory_commit(mem);
	free_virtio(pc);
	vmc_uart16550_free(pc->uart);
	vmc_irq_free(pc->com1_irq);
	vmc_region_unref(pc->debug_exit);
	vmc_region_unref(pc->isa_bios);
	vmc_region_unref(pc->rom);
	vmc_region_unref(pc->ram_above);
	vmc_region_unref(pc->ram_below);
	vmc_region_unref(pc->ram);
	free(pc->bios);
}

/* Whoever read the console went away: end as a filter does, cleanly. */
static void on_output_closed(void *userdata, int error)
{
	struct pc *pc = userdata;

	fprintf(stderr, "pc-lite: console output closed (%s), stopping\n",
		strerror(-error));
	pc->exit_status = 0;
	vmc_loop_stop(pc->loop);
}

static void on_state(struct vmc_vm *vm, enum vmc_vm_state old,
		     enum vmc_vm_state new_state, void *userdata)
{
	struct pc *pc = userdata;

	(void)old;
	if (new_state == VMC_VM_SHUTDOWN) {
		/* -no-shutdown: stay up for system_reset or quit. */
		if (!board_qmp_keep_after_shutdown(&pc->qmp)) {
			pc->exit_status = vmc_vm_get_shutdown_status(vm);
			vmc_loop_stop(pc->loop);
		}
	} else if (new_state == VMC_VM_GUEST_ERROR) {
		fprintf(stderr, "pc-lite: guest error: %s\n",
			vmc_vm_get_error(vm));
		pc->exit_status = 1;
		vmc_loop_stop(pc->loop);
	}
}

/* Flags QEMU needs for the same run and pc-lite implies; with a value. */
static const char *const noop_with_value[] = {
	"-M", "-machine", "-accel", "-display", "-serial", "-device", NULL,
};
static const char *const noop_flags[] = {
	"-enable-kvm", "-nographic", "-nodefaults", "-no-reboot", NULL,
};

static bool listed(const char *const *list, const char *a)
{
	for (; *list; list++)
		if (!strcmp(*list, a))
			return true;
	return false;
}

static void check_noop(const char *a, const char *v)
{
	if ((!strcmp(a, "-M") || !strcmp(a, "-machine")) &&
	    strcmp(v, "pc") != 0 && strncmp(v, "pc,", 3) != 0 &&
	    strncmp(v, "pc-i440fx", 9) != 0)
		die(0, "unsupported machine '%s' (pc only)", v);
	if (!strcmp(a, "-accel") && strncmp(v, "kvm", 3) != 0)
		die(0, "unsupported accelerator '%s' (kvm only)", v);
	if (!strcmp(a, "-device") &&
	    strcmp(v, "isa-debug-exit,iobase=0x501") != 0)
		die(0,
		    "unsupported device '%s' (isa-debug-exit is always at "
		    "0x501)",
		    v);
}

int main(int argc, char **argv)
{
	struct pc pc = {.ram_size = 128 * MiB, .cpus = 1};
	const char *bios = NULL, *gdb = NULL;
	struct vmc_gdbstub *stub = NULL;
	bool start_paused = false;
	char msg[BOARD_MSG_SIZE];
	struct board_qmp *qmp_opts = &pc.qmp;
	const char *qmp_failed = "";
	bool virtio_cmdline = false;
	int r;

	board_log_to_stderr("pc-lite");
	/*
	 * iothread= on the devices: QEMU's on virtio-blk-device, a libvmcore
	 * extension on the others; the slots' irqfd lines may be set from an
	 * I/O thread directly.
	 */
	pc.virtio.iothreads = &pc.iothreads;
	pc.virtio.irq_any_thread = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (listed(noop_flags, a))
			continue;
		/* QEMU's debugger flags: -s is -gdb tcp::1234; -S waits. */
		if (!strcmp(a, "-s")) {
			gdb = "tcp::1234";
			continue;
		}
		if (!strcmp(a, "-S")) {
			start_paused = true;
			continue;
		}
		if (board_qmp_flag_option(qmp_opts, a))
			continue;
		if (!strcmp(a, "-virtio-cmdline")) {
			virtio_cmdline = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "-object")) {
			if (board_iothread_object(&pc.iothreads, v, msg) < 0)
				die(0, "%s", msg);
		} else if ((r = board_virtio_option(&pc.virtio, a, v, msg)) !=
			   0) {
			if (r < 0)
				die(0, "%s %s: %s", a, v, msg);
		} else if (listed(noop_with_value, a)) {
			check_noop(a, v);
		} else if (!strcmp(a, "-m")) {
			if (board_parse_mem(v, 1 * MiB, 64 * GiB, &pc.ram_size,
					    msg) < 0)
				die(0, "-m %s: %s", v, msg);
		} else if (!strcmp(a, "-smp")) {
			if (board_parse_smp(v, 64, "pc", &pc.cpus, msg) < 0)
				die(0, "-smp %s: %s", v, msg);
		} else if (!strcmp(a, "-bios")) {
			bios = v;
		} else if (!strcmp(a, "-gdb")) {
			gdb = v;
		} else if ((r = board_qmp_option(qmp_opts, a, v)) != 0) {
			if (r < 0)
				die(0, "unsupported %s '%s'", a, v);
		} else {
			usage();
		}
	}
	if (virtio_cmdline) {
		print_virtio_cmdline(&pc);
		board_virtio_free(&pc.virtio);
		return 0;
	}
	if (!bios)
		usage();
	read_bios(&pc, bios);
	board_qmp_daemonize(qmp_opts, "pc-lite");

	r = vmc_loop_new(&pc.loop);
	if (r < 0)
		die(r, "cannot create the loop");
	build_machine(&pc);
	r = vmc_vm_add_state_handler(pc.vm, on_state, 0, &pc, NULL);
	if (r < 0)
		die(r, "cannot watch the VM");
	if (gdb) {
		r = vmc_gdbstub_start(pc.vm, pc.loop, gdb, &stub);
		if (r < 0)
			die(r, "cannot start the gdb stub on '%s'", gdb);
	}
	r = board_qmp_start(qmp_opts, pc.vm, NULL, pc.ram_size, &qmp_failed);
	if (r < 0)
		die(r, "cannot open the QMP monitor '%s'", qmp_failed);
	board_qmp_ready(qmp_opts, pc.vm, pc.cpus, "KVM");
	/* -S: stay in the created state (QMP's prelaunch) until gdb or
	 * QMP's cont starts the VM. */
	if (!start_paused) {
		r = vmc_vm_start(pc.vm);
		if (r < 0)
			die(r, "cannot start the VM");
	}
	vmc_loop_run(pc.loop);
	vmc_gdbstub_stop(stub);
	board_qmp_stop(qmp_opts);

	vmc_vm_pause(pc.vm);
	teardown(&pc);
	vmc_vm_unref(pc.vm);
	vmc_loop_unref(pc.loop);
	return pc.exit_status;
}
