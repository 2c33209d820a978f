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
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-fdt.h>

#include "board-util.h"
#include "board-qmp.h"

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
	struct vmc_virtio_rng *rng;
	bool want_rng;
	bool ctrl_a;
	int exit_status;
	uint32_t ext_off;  /* enum vmc_riscv_ext bits -cpu switched off */
	bool hints_off[2]; /* zicbop, zihintpause (see cpu_exts) */
	struct board_qmp qmp;
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
		"                  [-device virtio-rng-device]\n"
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
 * Fill the virtio-mmio slots.  QEMU plugs -device virtio-*-device into
 * the last free slot first, so the first device sits at 0x10008000.
 * Legacy transports, as QEMU's virt board defaults to.
 */
static void build_virtio(struct board *b)
{
	unsigned int next = VIRT_VIRTIO_SLOTS;
	int r;

	if (b->want_rng) {
		struct vmc_virtio_rng_config rc;

		vmc_virtio_rng_config_init(&rc);
		rc.vm = b->vm;
		rc.irq = vmc_plic_get_irq(b->plic, VIRT_VIRTIO_IRQ + next - 1);
		rc.legacy = true;
		r = vmc_virtio_rng_new(&rc, &b->rng);
		if (r < 0)
			die(r, "cannot create virtio-rng-device");
		b->virtio_slot[--next] = vmc_virtio_rng_get_virtio(b->rng);
	}
	while (next > 0) {
		static const struct vmc_virtio_ops none = {
			.struct_size = sizeof(none),
		};
		struct vmc_virtio_config vc;

		vmc_virtio_config_init(&vc);
		vc.vm = b->vm;
		vc.legacy = true;
		vc.device_id = 0; /* an empty slot */
		r = vmc_virtio_new(&vc, &none, NULL, &b->virtio_slot[--next]);
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
	for (unsigned int i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		if (b->rng &&
		    b->virtio_slot[i] == vmc_virtio_rng_get_virtio(b->rng))
			b->virtio_slot[i] = NULL;
	vmc_virtio_rng_free(b->rng);
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
	int r;

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
		} else if ((r = board_qmp_option(qmp_opts, a, v)) != 0) {
			if (r < 0)
				die(0, "unsupported %s '%s'", a, v);
		} else if (!strcmp(a, "-device") &&
			   !strncmp(v, "virtio-rng-device", strcspn(v, ",")) &&
			   strcspn(v, ",") == strlen("virtio-rng-device")) {
			b.want_rng = true;
		} else {
			usage();
		}
	}

	b.bios_none = bios && !strcmp(bios, "none");
	if (!b.bios_none)
		read_file(!bios || !strcmp(bios, "default") ? DEFAULT_BIOS
							    : bios,
			  "firmware", &b.bios);
	if (kernel)
		read_file(kernel, "kernel", &b.kernel);

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
	fflush(stdout);
	return b.exit_status;
}
