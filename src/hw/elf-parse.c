/* SPDX-License-Identifier: MIT */
/*
 * ELF64 parser for guest images.  The image is untrusted: every field is
 * read with memcpy (the buffer need not be aligned), converted from little
 * endian, and checked before use; all arithmetic on file offsets and guest
 * addresses is overflow-checked.  Nothing is reported to the callback
 * until the whole image has been validated.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf-parse.h"

/* More program headers than any real image has; bounds the work. */
#define ELF_MAX_PHNUM 4096

struct load {
	uint64_t paddr, offset, filesz, memsz;
};

static int cmp_load(const void *a, const void *b)
{
	const struct load *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

static int check_header(const Elf64_Ehdr *eh, size_t len, uint16_t machine)
{
	uint16_t type = le16toh(eh->e_type);
	uint16_t phnum = le16toh(eh->e_phnum);
	uint64_t phoff = le64toh(eh->e_phoff);

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_ident[EI_VERSION] != EV_CURRENT ||
	    le32toh(eh->e_version) != EV_CURRENT)
		return -ENOEXEC;
	if (type != ET_EXEC && type != ET_DYN)
		return -ENOEXEC;
	if (machine && le16toh(eh->e_machine) != machine)
		return -ENOEXEC;
	if (le16toh(eh->e_phentsize) != sizeof(Elf64_Phdr) || phnum == 0 ||
	    phnum > ELF_MAX_PHNUM)
		return -ENOEXEC;
	if (phoff > len || (len - phoff) / sizeof(Elf64_Phdr) < phnum)
		return -ENOEXEC;
	return 0;
}

int vmc__elf_parse(const void *image, size_t len, uint16_t machine,
		   vmc__elf_segment_cb cb, void *opaque,
		   struct vmc__elf_info *info)
{
	const unsigned char *base = image;
	struct vmc__elf_info out = {.low = UINT64_MAX};
	struct load *loads;
	Elf64_Ehdr eh;
	unsigned int n = 0, phnum;
	uint64_t phoff;
	int r;

	if (!image || len < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, base, sizeof(eh));
	r = check_header(&eh, len, machine);
	if (r < 0)
		return r;
	phnum = le16toh(eh.e_phnum);
	phoff = le64toh(eh.e_phoff);
	loads = calloc(phnum, sizeof(*loads));
	if (!loads)
		return -ENOMEM;
	for (unsigned int i = 0; i < phnum; i++) {
		Elf64_Phdr ph;
		struct load l;

		memcpy(&ph, base + phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (le32toh(ph.p_type) != PT_LOAD)
			continue;
		l.paddr = le64toh(ph.p_paddr);
		l.offset = le64toh(ph.p_offset);
		l.filesz = le64toh(ph.p_filesz);
		l.memsz = le64toh(ph.p_memsz);
		if (l.filesz > l.memsz || l.offset > len ||
		    l.filesz > len - l.offset) {
			r = -ENOEXEC;
			goto out;
		}
		if (l.memsz == 0)
			continue;
		/* The last byte must not wrap: paddr + memsz - 1 <= max. */
		if (l.memsz - 1 > UINT64_MAX - l.paddr) {
			r = -ENOEXEC;
			goto out;
		}
		loads[n++] = l;
	}
	if (n == 0) {
		r = -ENOEXEC;
		goto out;
	}
	qsort(loads, n, sizeof(*loads), cmp_load);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t last = loads[i].paddr + (loads[i].memsz - 1);

		if (i + 1 < n && loads[i + 1].paddr <= last) {
			r = -ENOEXEC; /* overlapping segments */
			goto out;
		}
		if (loads[i].paddr < out.low)
			out.low = loads[i].paddr;
		/* high is exclusive; a segment ending at 2^64 saturates. */
		out.high = last == UINT64_MAX ? UINT64_MAX : last + 1;
	}
	out.entry = le64toh(eh.e_entry);
	out.segments = n;
	for (unsigned int i = 0; cb && i < n; i++) {
		r = cb(opaque, loads[i].paddr, base + loads[i].offset,
		       loads[i].filesz, loads[i].memsz);
		if (r < 0)
			goto out;
	}
	if (info)
		*info = out;
	r = 0;
out:
	free(loads);
	return r;
}
