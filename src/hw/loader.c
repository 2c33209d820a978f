/* SPDX-License-Identifier: MIT */
/* Guest image loading over the validated ELF parser and vmc_as_write(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/vmc-loader.h>

#include "elf-parse.h"
#include "hw-internal.h"

struct load_ctx {
	struct vmc_address_space *as;
};

static int load_segment(void *opaque, uint64_t paddr, const void *data,
			uint64_t filesz, uint64_t memsz)
{
	struct load_ctx *ctx = opaque;
	static const uint8_t zeros[4096];
	int r;

	if (filesz) {
		r = vmc_as_write(ctx->as, paddr, data, (size_t)filesz);
		if (r < 0)
			return r;
	}
	for (uint64_t done = filesz; done < memsz;) {
		size_t n = memsz - done < sizeof(zeros) ? (size_t)(memsz - done)
							: sizeof(zeros);

		r = vmc_as_write(ctx->as, paddr + done, zeros, n);
		if (r < 0)
			return r;
		done += n;
	}
	return 0;
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
	r = vmc_as_write(as, addr, image, len);
	if (r < 0)
		return r;
	if (ret)
		*ret = (struct vmc_load_info){addr, addr, addr + len};
	return 0;
}
