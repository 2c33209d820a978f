/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the ELF64 image parser behind vmc_load_elf().  Every
 * segment it reports must lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "hw/elf-parse.h"

struct bounds {
	const uint8_t *data;
	size_t size;
};

static int check(void *opaque, uint64_t paddr, const void *data,
		 uint64_t filesz, uint64_t memsz)
{
	const struct bounds *b = opaque;
	const uint8_t *p = data;

	if (p < b->data || filesz > memsz ||
	    filesz > (uint64_t)(b->data + b->size - p))
		abort();
	/* Touch the bytes so that the sanitizer sees every read. */
	for (uint64_t i = 0; i < filesz; i += 64)
		if (p[i] == 0xa5 && p[filesz - 1] == 0x5a)
			return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounds b = {data, size};
	struct vmc__elf_info info;

	vmc__elf_parse(data, size, 0, check, &b, &info);
	vmc__elf_parse(data, size, VMC__EM_RISCV, NULL, NULL, &info);
	return 0;
}
