/* SPDX-License-Identifier: MIT */
/* Guest image loading over the validated ELF parser and vmc_as_write_rom(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/vmc-loader.h>

#include "elf-parse.h"
#include "hw-internal.h"

struct load_ctx {
	struct vmc_address_space *as;
	unsigned int index; /* segments so far, in guest-address order */
};

/*
 * Images go to RAM and ROM only, through vmc_as_write_rom(): a segment
 * that reaches a device's registers or unassigned space is refused whole,
 * so loading can never call a device (over a UART it used to print, over
 * a test finisher it shut the VM down or reset it, forever).
 */
static int load_bytes(struct vmc_address_space *as, uint64_t addr,
		      const void *data, uint64_t len)
{
	return len > SIZE_MAX ? -EFAULT
			      : vmc_as_write_rom(as, addr, data, (size_t)len);
}

static int load_segment(void *opaque, uint64_t paddr, const void *data,
			uint64_t filesz, uint64_t memsz)
{
	struct load_ctx *ctx = opaque;
	static const uint8_t zeros[4096];
	unsigned int index = ctx->index++;
	int r;

	r = load_bytes(ctx->as, paddr, data, filesz);
	for (uint64_t done = filesz; r >= 0 && done < memsz;) {
		uint64_t n = memsz - done < sizeof(zeros) ? memsz - done
							  : sizeof(zeros);

		r = load_bytes(ctx->as, paddr + done, zeros, n);
		done += n;
	}
	if (r < 0)
		vmc_log(VMC_LOG_ERR,
			"loader: ELF segment %u at 0x%llx-0x%llx is not all "
			"writable RAM or ROM",
			index, (unsigned long long)paddr,
			(unsigned long long)(paddr + memsz - 1));
	return r;
}

VMC_EXPORT bool vmc_image_is_elf(const void *image, size_t len)
{
	return image && len >= 4 && memcmp(image, "\177ELF", 4) == 0;
}

VMC_EXPORT int vmc_load_elf(struct vmc_address_space *as, const void *image,
			    size_t len, enum vmc_elf_machine machine,
			    struct vmc_load_info *ret)
{
	struct load_ctx ctx = {.as = as};
	struct vmc__elf_info info;
	int r;

	if (!as || !image)
		return -EINVAL;
	/* The parser validates the whole image before the first callback. */
	r = vmc__elf_parse(image, len, (uint16_t)machine, load_segment, &ctx,
			   &info);
	if (r < 0)
		return r;
	if (ret)
		*ret = (struct vmc_load_info){info.entry, info.low, info.high};
	return 0;
}

VMC_EXPORT int vmc_load_raw(struct vmc_address_space *as, const void *image,
			    size_t len, uint64_t addr,
			    struct vmc_load_info *ret)
{
	int r;

	if (!as || !image || addr + len < addr)
		return -EINVAL;
	r = vmc_as_write_rom(as, addr, image, len);
	if (r < 0) {
		vmc_log(VMC_LOG_ERR,
			"loader: raw image at 0x%llx-0x%llx is not all "
			"writable RAM or ROM",
			(unsigned long long)addr,
			(unsigned long long)(addr + len - 1));
		return r;
	}
	if (ret)
		*ret = (struct vmc_load_info){addr, addr, addr + len};
	return 0;
}
