/* SPDX-License-Identifier: MIT */
/* The test board of rv-board.h. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rv-board.h"

static bool ram_lookup(void *opaque, uint64_t pa, struct vmc__rv_bus_map *ret)
{
	struct board *b = opaque;

	*ret = (struct vmc__rv_bus_map){0};
	if (pa < BOARD_RAM_BASE || pa - BOARD_RAM_BASE >= b->ram_size)
		return false;
	ret->start = BOARD_RAM_BASE;
	ret->end = BOARD_RAM_BASE + b->ram_size;
	ret->host = b->ram;
	return true;
}

static uint64_t board_mtime(struct board *b)
{
	return vmc__rv_get_retired(b->hart) / 10 + b->time_skip;
}

static void update_timer(struct board *b)
{
	vmc__rv_set_irq(b->hart, VMC__RV_IRQ_MTI,
			board_mtime(b) >= b->mtimecmp);
}

static int io_read(void *opaque, const void *io, uint64_t pa, unsigned size,
		   uint64_t *val)
{
	struct board *b = opaque;

	if (pa == BOARD_CLINT + 0xbff8 && size == 8) {
		*val = board_mtime(b);
		return 0;
	}
	if (pa == BOARD_CLINT + 0x4000 && size == 8) {
		*val = b->mtimecmp;
		return 0;
	}
	if (pa == BOARD_CLINT && size == 4) {
		uint64_t mip = 0;

		vmc__rv_get_csr(b->hart, 0x344, &mip);
		*val = (mip >> VMC__RV_IRQ_MSI) & 1;
		return 0;
	}
	if (pa == BOARD_IRQLINES) {
		*val = b->lines;
		return 0;
	}
	if (pa >= BOARD_UART && pa < BOARD_UART + 8) {
		*val = 0;
		return 0;
	}
	return -1;
}

static int io_write(void *opaque, const void *io, uint64_t pa, unsigned size,
		    uint64_t val)
{
	struct board *b = opaque;

	if (pa == BOARD_FINISHER) {
		if ((val & 0xffff) == 0x5555 || (val & 0xffff) == 0x3333) {
			b->finished = true;
			b->finish_code =
				(val & 0xffff) == 0x5555
					? 0
					: (uint32_t)(val >> 16) | 0x10000;
			vmc__rv_request_exit(b->hart);
		}
		return 0;
	}
	if (pa == BOARD_UART) {
		if (!b->quiet)
			fputc((int)(val & 0xff), b->out ? b->out : stdout);
		return 0;
	}
	if (pa == BOARD_CLINT + 0x4000 && size == 8) {
		b->mtimecmp = val;
		update_timer(b);
		return 0;
	}
	if (pa == BOARD_CLINT && size == 4) {
		vmc__rv_set_irq(b->hart, VMC__RV_IRQ_MSI, val & 1);
		return 0;
	}
	if (pa == BOARD_IRQLINES) {
		static const unsigned lines[] = {VMC__RV_IRQ_SEI,
						 VMC__RV_IRQ_MEI};

		b->lines = val;
		for (unsigned i = 0; i < 2; i++)
			vmc__rv_set_irq(b->hart, lines[i],
					(val >> lines[i]) & 1);
		return 0;
	}
	return -1;
}

static int64_t time_ns(void *opaque)
{
	struct board *b = opaque;

	return (int64_t)board_mtime(b) * 100;
}

static void set_timer(void *opaque, int64_t deadline_ns)
{
	struct board *b = opaque;

	b->stimer_ns = deadline_ns;
}

/* The next tick at which a timer fires: mtimecmp or the hart's Sstc
 * deadline (~0 for none). */
static uint64_t next_deadline(struct board *b)
{
	uint64_t t = b->mtimecmp;

	if (b->stimer_ns >= 0 && (uint64_t)(b->stimer_ns + 99) / 100 < t)
		t = (uint64_t)(b->stimer_ns + 99) / 100;
	return t;
}

int board_init(struct board *b, uint64_t ram_size)
{
	return board_init_ext(b, ram_size, 0);
}

int board_init_ext(struct board *b, uint64_t ram_size, uint32_t ext_off)
{
	struct vmc__rv_config cfg = {
		.hartid = 0,
		.ext_off = ext_off,
		.bus =
			{
				.ram_lookup = ram_lookup,
				.io_read = io_read,
				.io_write = io_write,
				.time_ns = time_ns,
				.set_timer = set_timer,
				.opaque = b,
			},
	};

	memset(b, 0, sizeof(*b));
	b->ram = calloc(1, ram_size);
	if (!b->ram)
		return -ENOMEM;
	b->ram_size = ram_size;
	b->mtimecmp = ~0ull;
	b->stimer_ns = -1;
	return vmc__rv_hart_new(&cfg, &b->hart);
}

void board_free(struct board *b)
{
	vmc__rv_hart_free(b->hart);
	free(b->ram);
}

uint64_t board_load_elf(struct board *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	Elf64_Ehdr eh;
	uint64_t entry = 0;

	if (!f)
		return 0;
	if (fread(&eh, sizeof(eh), 1, f) != 1 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_RISCV)
		goto out;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (fseek(f, (long)(eh.e_phoff + i * sizeof(ph)), SEEK_SET) ||
		    fread(&ph, sizeof(ph), 1, f) != 1)
			goto out;
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_paddr < BOARD_RAM_BASE ||
		    ph.p_paddr - BOARD_RAM_BASE + ph.p_memsz > b->ram_size ||
		    ph.p_filesz > ph.p_memsz)
			goto out;
		if (fseek(f, (long)ph.p_offset, SEEK_SET) ||
		    fread(b->ram + (ph.p_paddr - BOARD_RAM_BASE), 1,
			  ph.p_filesz, f) != ph.p_filesz)
			goto out;
	}
	entry = eh.e_entry;
out:
	fclose(f);
	return entry;
}

int board_run(struct board *b, uint64_t max, uint64_t *retired)
{
	uint64_t done = 0;

	while (done < max && !b->finished) {
		uint64_t slice = max - done < 100000 ? max - done : 100000;
		uint64_t n = 0;
		int r;

		update_timer(b);
		r = vmc__rv_run(b->hart, slice, &n);
		done += n;
		if (r == VMC__RV_EXIT_FATAL) {
			*retired = done;
			return -2;
		}
		if (r == VMC__RV_EXIT_HALTED) {
			/* Sleep: jump the clock to the timer deadline. */
			update_timer(b);
			if (!vmc__rv_has_work(b->hart)) {
				uint64_t d = next_deadline(b);

				if (d == ~0ull)
					break;
				/* Idle: move the clock to the deadline. */
				if (d > board_mtime(b))
					b->time_skip += d - board_mtime(b);
				update_timer(b);
				if (!vmc__rv_has_work(b->hart))
					break;
			}
		}
	}
	*retired = done;
	if (!b->finished)
		return -1;
	return (int)b->finish_code;
}
