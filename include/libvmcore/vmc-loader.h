/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-loader.h
 * @brief Loading guest images (ELF64 and raw binaries) into guest memory.
 *
 * Images are untrusted input: an ELF is validated completely (header,
 * program headers, every segment inside the file, no address wrap, no
 * overlap) before a single byte is written, and every write goes through
 * vmc_as_write_rom(), so an image can only reach guest RAM and ROM: never
 * host memory, and never a device (a segment over a device's registers or
 * unassigned space is refused with -EFAULT, and logged naming it).
 */
#ifndef LIBVMCORE_VMC_LOADER_H
#define LIBVMCORE_VMC_LOADER_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-memory.h>

VMC_BEGIN_DECLS

/** ELF machine numbers vmc_load_elf() accepts. */
enum vmc_elf_machine {
	VMC_ELF_X86_64 = 62,
	VMC_ELF_RISCV = 243,
	_VMC_ELF_MACHINE_MAX = 0x7fffffff
};

/** Where an image went. */
struct vmc_load_info {
	uint64_t entry; /**< entry point (ELF) or load address (raw) */
	uint64_t low;	/**< lowest guest address written */
	uint64_t high;	/**< one past the highest guest address written */
};

/**
 * Whether @p image starts like an ELF file (magic bytes only).
 * @param image the image's bytes
 * @param len the size of @p image in bytes
 * @thread any
 * @since 0.1
 */
bool vmc_image_is_elf(const void *image, size_t len);

/**
 * Load the PT_LOAD segments of an ELF64 little-endian executable at their
 * physical addresses, zero-filling each segment's tail (memsz > filesz).
 * @param as       where to load (normally the VM's memory address space)
 * @param image    the ELF file's bytes
 * @param len      the size of @p image in bytes
 * @param machine  the ELF machine the image must be for
 * @param[out] ret entry point and loaded range; may be NULL
 * @retval 0 success
 * @retval -EINVAL a NULL argument
 * @retval -ENOEXEC not a valid ELF64 executable for @p machine (nothing
 *         was written)
 * @retval -EFAULT a segment is not entirely RAM or ROM (it reaches an
 *         I/O region or unassigned space): no device was called;
 *         segments at lower addresses, and memory parts of this one, may
 *         have been written; an error is logged naming the segment's
 *         index (in address order) and range
 * @retval -EACCES a segment reaches read-only RAM (as -EFAULT otherwise)
 * @thread any (writes guest memory like a device would)
 * @since 0.1
 */
int vmc_load_elf(struct vmc_address_space *as, const void *image, size_t len,
		 enum vmc_elf_machine machine, struct vmc_load_info *ret);

/**
 * Copy a raw image to guest address @p addr.
 * @param as    where to load (normally the VM's memory address space)
 * @param image the bytes to copy
 * @param len   the size of @p image in bytes
 * @param addr  the guest-physical address of the first byte
 * @param[out] ret the range; entry = @p addr; may be NULL
 * @retval 0 success
 * @retval -EINVAL a NULL argument, or @p addr + @p len wraps
 * @retval -EFAULT the range is not entirely RAM or ROM; nothing was
 *         written and no device was called (an error is logged)
 * @retval -EACCES the range reaches read-only RAM; nothing was written
 * @thread any
 * @since 0.1
 */
int vmc_load_raw(struct vmc_address_space *as, const void *image, size_t len,
		 uint64_t addr, struct vmc_load_info *ret);

VMC_END_DECLS

#endif
