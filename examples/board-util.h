/* SPDX-License-Identifier: MIT */
/*
 * What the example boards share: QEMU's command-line number and size
 * rules, image files, and the check that boot images fit in memory and do
 * not overlap.  Built on the C library and the public API only, like the
 * boards.
 *
 * Every parser takes the whole argument: an empty string, a sign,
 * whitespace, trailing characters or a value that does not fit 64 bits is
 * an error, never a silently different number.  Errors come back as
 * -errno with a message in the caller's buffer, which the board prints
 * after the option (QEMU's style: "-m 64Mjunk: Parameter 'size' expects
 * ...").
 */
#ifndef BOARD_UTIL_H
#define BOARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A message buffer; 160 bytes hold every message below with its values. */
#define BOARD_MSG_SIZE 160

/*
 * An unsigned number in QEMU's number syntax (base 0: decimal, 0x hex,
 * leading-0 octal).  -EINVAL not a number or trailing characters, -ERANGE
 * above 2^64 - 1.
 */
int board_parse_u64(const char *s, uint64_t *ret);

/*
 * A size in QEMU's syntax (qemu_strtosz): a number, an optional decimal
 * fraction, and an optional suffix B, K, M, G, T, P or E (either case,
 * powers of 1024).  Without a suffix the number is in @default_unit
 * bytes.  A fraction of a byte, a fraction of a hex number, and trailing
 * characters are -EINVAL; a result above 2^64 - 1 is -ERANGE.
 */
int board_parse_size(const char *s, uint64_t default_unit, uint64_t *ret);

/*
 * QEMU's -m: "[size=]N[suffix]" with MiB as the unit of a bare number,
 * then between @min and @max bytes.  On error, @msg says why.
 */
int board_parse_mem(const char *arg, uint64_t min, uint64_t max, uint64_t *ret,
		    char *msg);

/*
 * QEMU's -smp "[cpus=]N" (other topology keys are refused), 1 to @max.
 * @machine names the machine in the message, as QEMU's does.
 */
int board_parse_smp(const char *arg, unsigned int max, const char *machine,
		    unsigned int *ret, char *msg);

/* A boot image read into memory. */
struct board_image {
	void *data;
	size_t len;
};

/*
 * Read the regular file @path (at most @max bytes) for -kernel, -bios,
 * -initrd.  A directory, device, FIFO or socket is refused before it is
 * read from (a FIFO is opened without waiting for a writer); so is an
 * empty file.  @msg gets the reason, with the errno of the call that
 * failed.
 */
int board_read_image(const char *path, uint64_t max, struct board_image *img,
		     char *msg);

/*
 * Boot-time placement: every image the board puts into memory is added
 * with its range; each must lie inside one of the memory areas and must
 * not overlap any image added before.  QEMU's ROM loader refuses the same
 * (rom_check_and_register_reset); the message names both images.
 */
#define BOARD_MAX_AREAS 4
#define BOARD_MAX_PLACED 8

struct board_layout {
	struct {
		const char *what;
		uint64_t start, size;
	} area[BOARD_MAX_AREAS], placed[BOARD_MAX_PLACED];
	unsigned int nr_areas, nr_placed;
};

/* Memory images may go to (RAM, a ROM). */
void board_layout_add_area(struct board_layout *l, const char *what,
			   uint64_t start, uint64_t size);

/*
 * Place @what at [@start, @start + @size).  -ENOSPC it does not fit in
 * any area, -EEXIST it overlaps an image placed before, -E2BIG too many
 * images; @msg says which and where.
 */
int board_layout_place(struct board_layout *l, const char *what, uint64_t start,
		       uint64_t size, char *msg);

/*
 * Print the library's error messages (a refused ELF segment, say) on
 * stderr, after "@prog: ".
 */
void board_log_to_stderr(const char *prog);

#endif
