/* SPDX-License-Identifier: MIT */
/*
 * The ELF64 image parser behind vmc-loader.h, kept apart from guest memory
 * so that tests and the fuzz target drive it directly.  Never installed.
 */
#ifndef VMC_HW_ELF_PARSE_H
#define VMC_HW_ELF_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* ELF machine numbers the loader knows. */
#define VMC__EM_X86_64 62
#define VMC__EM_RISCV 243

/*
 * One loadable segment: @filesz bytes at @data go to guest physical
 * address @paddr, followed by @memsz - @filesz zero bytes.
 */
typedef int (*vmc__elf_segment_cb)(void *opaque, uint64_t paddr,
				   const void *data, uint64_t filesz,
				   uint64_t memsz);

struct vmc__elf_info {
	uint64_t entry;
	uint64_t low, high; /* [low, high): every segment's memory */
	unsigned int segments;
};

/*
 * Validate the whole image first (header, program headers, every PT_LOAD
 * inside the file, no wrap-around, no two segments overlapping in guest
 * memory), then report each non-empty PT_LOAD to @cb in guest-address
 * order.  @machine 0 accepts any machine.  Returns 0, -ENOEXEC for an image
 * that is not a valid little-endian ELF64 executable for @machine, -ENOMEM,
 * or the first error @cb returns.  @cb may be NULL (validation only).
 */
int vmc__elf_parse(const void *image, size_t len, uint16_t machine,
		   vmc__elf_segment_cb cb, void *opaque,
		   struct vmc__elf_info *info);

#endif
