/* SPDX-License-Identifier: MIT */
/*
 * The raw side of the KVM benches: a vCPU put into 64-bit long mode with
 * bare ioctls, the way the library's KVM accelerator does it, so the
 * baseline runs the same guest from the same state.
 */
#ifndef VMC_BENCH_RAW_KVM_H
#define VMC_BENCH_RAW_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "../tests/kvm-guest.h"

/*
 * CPUID as supported, identity-mapped 4 GiB (2 MiB pages) at
 * GUEST_TABLES, flat code and data segments, @image at GUEST_LOAD, then
 * @regs.  With @gdt, also a GDT in the seventh table page, as the
 * library's, for guests that take interrupts and iretq.
 */
static inline void vmc_bench_raw_long_mode(int sys, int cpu, uint8_t *mem,
					   const char *image, bool gdt,
					   const struct kvm_regs *regs)
{
	struct kvm_segment code = {.limit = 0xffffffff,
				   .selector = 8,
				   .type = 11,
				   .present = 1,
				   .s = 1,
				   .l = 1,
				   .g = 1};
	struct kvm_segment data = {.limit = 0xffffffff,
				   .selector = 0x10,
				   .type = 3,
				   .present = 1,
				   .s = 1,
				   .db = 1,
				   .g = 1};
	uint64_t *t = (uint64_t *)(mem + GUEST_TABLES);
	struct kvm_cpuid2 *c;
	struct kvm_sregs s;

	c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	c->nent = 256;
	ioctl(sys, KVM_GET_SUPPORTED_CPUID, c);
	ioctl(cpu, KVM_SET_CPUID2, c);
	free(c);
	t[0] = (GUEST_TABLES + 0x1000) | 3;
	for (uint64_t i = 0; i < 4; i++) {
		t[512 + i] = (GUEST_TABLES + 0x2000 + 0x1000 * i) | 3;
		for (uint64_t j = 0; j < 512; j++)
			t[1024 + 512 * i + j] = (i << 30 | j << 21) | 0x83;
	}
	if (gdt) {
		t[6 * 512 + 1] = UINT64_C(0x00af9a000000ffff);
		t[6 * 512 + 2] = UINT64_C(0x00cf92000000ffff);
	}
	gvm_load(image, mem + GUEST_LOAD, GUEST_IDT - GUEST_LOAD);
	ioctl(cpu, KVM_GET_SREGS, &s);
	if (gdt) {
		s.gdt.base = GUEST_TABLES + 6 * 4096;
		s.gdt.limit = 3 * 8 - 1;
	}
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = 0x80010033;
	s.cr3 = GUEST_TABLES;
	s.cr4 = 0x620;
	s.efer = 0x500;
	ioctl(cpu, KVM_SET_SREGS, &s);
	ioctl(cpu, KVM_SET_REGS, regs);
}

#endif
