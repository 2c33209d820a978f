/* SPDX-License-Identifier: MIT */
/*
 * The architectures the stub speaks.  Adding one is a new gdb-arch-*.c
 * with its register list and a line here.
 */
#include "gdb-arch.h"

static const struct gdb_arch *const arches[] = {
	&vmc__gdb_arch_riscv64,
	&vmc__gdb_arch_x86_64,
};

const struct gdb_arch *vmc__gdb_arch_find(enum vmc_arch arch)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (arches[i]->arch == arch)
			return arches[i];
	return NULL;
}
