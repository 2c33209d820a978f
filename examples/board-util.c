/* SPDX-License-Identifier: MIT */
/* What the example boards share; see board-util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvmcore/vmc-common.h>

#include "board-util.h"

#define MiB (UINT64_C(1) << 20)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int board_parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	/* strtoull would skip blanks and take "-1" as 2^64 - 1. */
	if (!s || !is_digit(s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static uint64_t suffix_mul(char c)
{
	static const char suffixes[] = "BKMGTPE";
	const char *p;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	p = c ? strchr(suffixes, c) : NULL;
	return p ? UINT64_C(1) << (10 * (p - suffixes)) : 0;
}

int board_parse_size(const char *s, uint64_t default_unit, uint64_t *ret)
{
	bool hex;
	unsigned long long v;
	uint64_t mul, frac_num = 0, frac_den = 1, extra;
	char *end;

	if (!s || !is_digit(s[0]) || !default_unit)
		return -EINVAL;
	hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	errno = 0;
	v = strtoull(s, &end, hex ? 16 : 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s || (hex && end == s + 2))
		return -EINVAL;
	if (*end == '.') {
		/* Decimal fractions only; kept exact as num / 10^digits. */
		if (hex)
			return -EINVAL;
		for (end++; is_digit(*end); end++) {
			if (frac_den > UINT64_MAX / 100)
				continue; /* beyond any byte's precision */
			frac_num = frac_num * 10 + (uint64_t)(*end - '0');
			frac_den *= 10;
		}
	}
	mul = suffix_mul(*end);
	if (mul)
		end++;
	else
		mul = default_unit;
	if (*end)
		return -EINVAL;
	/* Fractions of a byte mean nothing. */
	if (mul == 1 && frac_num)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	/* frac_num / frac_den < 1, so this neither overflows nor exceeds mul.
	 */
	extra = (uint64_t)((long double)frac_num * mul / frac_den);
	if (v * mul > UINT64_MAX - extra)
		return -ERANGE;
	*ret = v * mul + extra;
	return 0;
}

int board_parse_mem(const char *arg, uint64_t min, uint64_t max, uint64_t *ret,
		    char *msg)
{
	const char *v = arg;
	uint64_t sz;
	size_t n;
	int r;

	if (!strncmp(v, "size=", 5))
		v += 5;
	if (strchr(v, ',') || strchr(v, '=')) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "only the size of RAM can be set ('slots' and "
			 "'maxmem' are not supported)");
		return -EINVAL;
	}
	n = strlen(v);
	if (!n) {
		snprintf(msg, BOARD_MSG_SIZE, "missing 'size' option value");
		return -EINVAL;
	}
	/*
	 * QEMU parses a size in bytes, then takes a value that ends in a
	 * digit (no suffix) as MiB, its legacy unit for -m.
	 */
	r = board_parse_size(v, 1, &sz);
	if (r == -ERANGE) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "Value '%s' is out of range for parameter 'size'", v);
		return r;
	}
	if (r < 0) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "Parameter 'size' expects a non-negative number "
			 "below 2^64 (optional suffix K, M, G, T, P or E)");
		return r;
	}
	if (is_digit(v[n - 1])) {
		if (sz > UINT64_MAX / MiB) {
			snprintf(msg, BOARD_MSG_SIZE,
				 "too large 'size' option value");
			return -ERANGE;
		}
		sz *= MiB;
	}
	/* QEMU rounds RAM up to 8 KiB. */
	if (sz > UINT64_MAX - 8191) {
		snprintf(msg, BOARD_MSG_SIZE, "too large 'size' option value");
		return -ERANGE;
	}
	sz = (sz + 8191) & ~(uint64_t)8191;
	if (sz < min || sz > max) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "RAM size of %llu bytes is out of range (%llu MiB to "
			 "%llu GiB)",
			 (unsigned long long)sz,
			 (unsigned long long)(min / MiB),
			 (unsigned long long)(max >> 30));
		return -ERANGE;
	}
	*ret = sz;
	return 0;
}

int board_parse_smp(const char *arg, unsigned int max, const char *machine,
		    unsigned int *ret, char *msg)
{
	const char *v = arg;
	uint64_t n;

	if (!strncmp(v, "cpus=", 5))
		v += 5;
	if (strchr(v, ',') || strchr(v, '=')) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "only the number of CPUs can be set (no topology)");
		return -EINVAL;
	}
	if (board_parse_u64(v, &n) < 0) {
		/* Too large for 64 bits is also "not a number" to QEMU. */
		snprintf(msg, BOARD_MSG_SIZE,
			 "Parameter 'cpus' expects a number");
		return -EINVAL;
	}
	if (n < 1 || n > max) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "Invalid SMP CPUs %llu. The %s CPUs supported by "
			 "machine '%s' is %u",
			 (unsigned long long)n, n < 1 ? "min" : "max", machine,
			 n < 1 ? 1 : max);
		return -ERANGE;
	}
	*ret = (unsigned int)n;
	return 0;
}

static int fail(char *msg, int err, const char *what)
{
	snprintf(msg, BOARD_MSG_SIZE, "%s: %s", what, strerror(err));
	return -err;
}

int board_read_image(const char *path, uint64_t max, struct board_image *img,
		     char *msg)
{
	struct stat st;
	size_t done = 0;
	int fd, err;

	/* Not blocking: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fail(msg, errno, "cannot open");
	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		return fail(msg, err, "cannot stat");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(msg, BOARD_MSG_SIZE, "not a regular file");
		return -EINVAL;
	}
	if (st.st_size <= 0) {
		close(fd);
		snprintf(msg, BOARD_MSG_SIZE, "empty file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		snprintf(msg, BOARD_MSG_SIZE,
			 "too large (%llu bytes, at most %llu)",
			 (unsigned long long)st.st_size,
			 (unsigned long long)max);
		return -EFBIG;
	}
	img->len = (size_t)st.st_size;
	img->data = malloc(img->len);
	if (!img->data) {
		close(fd);
		return fail(msg, ENOMEM, "cannot read");
	}
	while (done < img->len) {
		ssize_t n = read(fd, (char *)img->data + done, img->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			close(fd);
			free(img->data);
			img->data = NULL;
			return fail(msg, err,
				    n < 0 ? "cannot read"
					  : "cannot read (it shrank)");
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

void board_layout_add_area(struct board_layout *l, const char *what,
			   uint64_t start, uint64_t size)
{
	if (l->nr_areas < BOARD_MAX_AREAS && size) {
		l->area[l->nr_areas].what = what;
		l->area[l->nr_areas].start = start;
		l->area[l->nr_areas].size = size;
		l->nr_areas++;
	}
}

/* [start, start + size) inside [a, a + asize), without overflow. */
static bool inside(uint64_t start, uint64_t size, uint64_t a, uint64_t asize)
{
	return start >= a && start - a <= asize && size <= asize - (start - a);
}

static bool overlaps(uint64_t s1, uint64_t n1, uint64_t s2, uint64_t n2)
{
	return s1 - s2 < n2 || s2 - s1 < n1;
}

int board_layout_place(struct board_layout *l, const char *what, uint64_t start,
		       uint64_t size, char *msg)
{
	unsigned int i;
	int len;

	if (!size)
		return 0;
	if (start + (size - 1) < start) {
		snprintf(msg, BOARD_MSG_SIZE,
			 "the %s (%llu bytes at 0x%llx) wraps around", what,
			 (unsigned long long)size, (unsigned long long)start);
		return -ENOSPC;
	}
	for (i = 0; i < l->nr_areas; i++)
		if (inside(start, size, l->area[i].start, l->area[i].size))
			break;
	if (i == l->nr_areas) {
		len = snprintf(msg, BOARD_MSG_SIZE,
			       "the %s (0x%llx-0x%llx) does not fit in memory",
			       what, (unsigned long long)start,
			       (unsigned long long)(start + size - 1));
		for (i = 0; i < l->nr_areas && len > 0 && len < BOARD_MSG_SIZE;
		     i++)
			len += snprintf(msg + len, BOARD_MSG_SIZE - (size_t)len,
					"%s%s 0x%llx-0x%llx", i ? ", " : " (",
					l->area[i].what,
					(unsigned long long)l->area[i].start,
					(unsigned long long)(l->area[i].start +
							     l->area[i].size -
							     1));
		if (l->nr_areas && len > 0 && len < BOARD_MSG_SIZE - 1)
			snprintf(msg + len, BOARD_MSG_SIZE - (size_t)len, ")");
		return -ENOSPC;
	}
	for (i = 0; i < l->nr_placed; i++) {
		if (!overlaps(start, size, l->placed[i].start,
			      l->placed[i].size))
			continue;
		snprintf(msg, BOARD_MSG_SIZE,
			 "the %s (0x%llx-0x%llx) overlaps the %s "
			 "(0x%llx-0x%llx)",
			 what, (unsigned long long)start,
			 (unsigned long long)(start + size - 1),
			 l->placed[i].what,
			 (unsigned long long)l->placed[i].start,
			 (unsigned long long)(l->placed[i].start +
					      l->placed[i].size - 1));
		return -EEXIST;
	}
	if (l->nr_placed == BOARD_MAX_PLACED) {
		snprintf(msg, BOARD_MSG_SIZE, "too many boot images");
		return -E2BIG;
	}
	l->placed[l->nr_placed].what = what;
	l->placed[l->nr_placed].start = start;
	l->placed[l->nr_placed].size = size;
	l->nr_placed++;
	return 0;
}

static const char *log_prog = "board";

static void log_to_stderr(enum vmc_log_level level, const char *message,
			  void *userdata)
{
	(void)level;
	(void)userdata;
	fprintf(stderr, "%s: %s\n", log_prog, message);
}

void board_log_to_stderr(const char *prog)
{
	log_prog = prog;
	vmc_set_log_handler(log_to_stderr, VMC_LOG_ERR, NULL);
}
