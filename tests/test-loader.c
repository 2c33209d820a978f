/* SPDX-License-Identifier: MIT */
/*
 * Loading images reaches RAM and ROM only (issue 17, item 4): an ELF
 * segment or raw image over a device's registers or unassigned space is
 * refused with -EFAULT and never calls the device; ROM is loaded.  Also
 * vmc_as_write_rom() itself.
 *
 * Layout: ROM at 0x1000 (4 KiB), a device at 0x10000 (256 bytes), RAM at
 * 0x80000000 (64 KiB), read-only RAM at 0x90000000 (4 KiB).
 */
#include <elf.h>
#include <stdlib.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define ROM 0x1000u
#define DEV 0x10000u
#define RAM 0x80000000u
#define RORAM 0x90000000u

static int dev_writes;

static int dev_write(void *opaque, uint64_t offset, unsigned size,
		     uint64_t value)
{
	(void)opaque;
	(void)offset;
	(void)size;
	(void)value;
	dev_writes++;
	return 0;
}

static int dev_read(void *opaque, uint64_t offset, unsigned size,
		    uint64_t *value)
{
	(void)opaque;
	(void)offset;
	(void)size;
	*value = 0;
	return 0;
}

static const struct vmc_region_ops dev_ops = {
	.struct_size = sizeof(struct vmc_region_ops),
	.read = dev_read,
	.write = dev_write,
};

struct machine {
	struct vmc_loop *loop;
	struct vmc_vm *vm;
	struct vmc_address_space *as;
	struct vmc_region *rom, *dev, *ram, *roram;
	char log[256];
	int logged;
};

static struct machine m;

static void capture(enum vmc_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	m.logged++;
	snprintf(m.log, sizeof(m.log), "%s", msg);
}

static void setup(void)
{
	struct vmc_vm_config c;
	struct vmc_memory *mem;
	struct vmc_region *root;

	ASSERT_OK(vmc_loop_new(&m.loop));
	vmc_vm_config_init(&c);
	c.accel = VMC_ACCEL_HARNESS;
	c.loop = m.loop;
	ASSERT_OK(vmc_vm_new(&c, &m.vm));
	mem = vmc_vm_get_memory(m.vm);
	root = vmc_vm_get_root(m.vm, VMC_AS_MEMORY);
	m.as = vmc_vm_get_address_space(m.vm, VMC_AS_MEMORY);
	ASSERT_OK(vmc_region_new_rom(mem, "rom", 0x1000, &m.rom));
	ASSERT_OK(vmc_region_new_io(mem, "dev", 0x100, &dev_ops, NULL, 0,
				    &m.dev));
	ASSERT_OK(vmc_region_new_ram(mem, "ram", 0x10000, 0, &m.ram));
	ASSERT_OK(vmc_region_new_ram(mem, "roram", 0x1000, VMC_REGION_READONLY,
				     &m.roram));
	vmc_memory_begin(mem);
	ASSERT_OK(vmc_region_add_subregion(root, ROM, m.rom, 0));
	ASSERT_OK(vmc_region_add_subregion(root, DEV, m.dev, 0));
	ASSERT_OK(vmc_region_add_subregion(root, RAM, m.ram, 0));
	ASSERT_OK(vmc_region_add_subregion(root, RORAM, m.roram, 0));
	ASSERT_OK(vmc_memory_commit(mem));
	vmc_set_log_handler(capture, VMC_LOG_ERR, NULL);
}

static void teardown(void)
{
	struct vmc_region *root = vmc_vm_get_root(m.vm, VMC_AS_MEMORY);
	struct vmc_memory *mem = vmc_vm_get_memory(m.vm);

	vmc_set_log_handler(NULL, VMC_LOG_ERR, NULL);
	vmc_memory_begin(mem);
	vmc_region_remove_subregion(root, m.rom);
	vmc_region_remove_subregion(root, m.dev);
	vmc_region_remove_subregion(root, m.ram);
	vmc_region_remove_subregion(root, m.roram);
	vmc_memory_commit(mem);
	vmc_region_unref(m.rom);
	vmc_region_unref(m.dev);
	vmc_region_unref(m.ram);
	vmc_region_unref(m.roram);
	vmc_vm_unref(m.vm);
	vmc_loop_unref(m.loop);
}

/* One PT_LOAD of @filesz bytes (0xaa) and @memsz in memory at @paddr,
 * and a second one of 16 bytes (0x55) at @paddr2 unless it is 0. */
static size_t build(unsigned char *img, uint64_t paddr, uint64_t filesz,
		    uint64_t memsz, uint64_t paddr2)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));

	memset(img, 0, 0x1000);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_RISCV;
	eh->e_version = EV_CURRENT;
	eh->e_entry = paddr;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = paddr2 ? 2 : 1;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_offset = 0x200,
			     .p_paddr = paddr,
			     .p_filesz = filesz,
			     .p_memsz = memsz};
	memset(img + 0x200, 0xaa, filesz);
	if (paddr2) {
		ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
				     .p_offset = 0x800,
				     .p_paddr = paddr2,
				     .p_filesz = 16,
				     .p_memsz = 16};
		memset(img + 0x800, 0x55, 16);
	}
	return 0x1000;
}

static void test_elf_over_device(void)
{
	unsigned char img[0x1000];
	size_t len;

	/* The whole segment over the device: refused, never written. */
	len = build(img, DEV, 8, 8, 0);
	ASSERT_ERR(vmc_load_elf(m.as, img, len, VMC_ELF_RISCV, NULL), -EFAULT);
	ASSERT_EQ(dev_writes, 0);
	ASSERT_EQ(m.logged, 1);
	ASSERT_TRUE(strstr(m.log, "segment 0 at 0x10000-0x10007") != NULL);

	/* A segment in RAM, and one from a hole into the device. */
	len = build(img, RAM, 16, 16, DEV - 8);
	ASSERT_ERR(vmc_load_elf(m.as, img, len, VMC_ELF_RISCV, NULL), -EFAULT);
	ASSERT_EQ(dev_writes, 0);
	ASSERT_TRUE(strstr(m.log, "segment 0 at 0xfff8") != NULL);

	/* The bss of a segment in RAM runs off the end of RAM. */
	len = build(img, RAM + 0x10000 - 0x100, 0x10, 0x200, 0);
	ASSERT_ERR(vmc_load_elf(m.as, img, len, VMC_ELF_RISCV, NULL), -EFAULT);

	/* Raw images likewise. */
	ASSERT_ERR(vmc_load_raw(m.as, img, 4, DEV, NULL), -EFAULT);
	ASSERT_ERR(vmc_load_raw(m.as, img, 0x20, DEV - 0x10, NULL), -EFAULT);
	ASSERT_EQ(dev_writes, 0);
	/* Nothing of the refused raw image reached the ROM below it. */
	ASSERT_EQ(((unsigned char *)vmc_region_get_ptr(m.rom))[0], 0);
}

static void test_elf_into_rom_and_ram(void)
{
	unsigned char img[0x1000], back[32];
	struct vmc_load_info info;
	size_t len;

	len = build(img, ROM, 16, 32, RAM + 0x100);
	ASSERT_OK(vmc_load_elf(m.as, img, len, VMC_ELF_RISCV, &info));
	ASSERT_EQ_U64(info.entry, ROM);
	ASSERT_OK(vmc_as_read(m.as, ROM, back, 32));
	for (int i = 0; i < 32; i++)
		ASSERT_EQ(back[i], i < 16 ? 0xaa : 0);
	ASSERT_OK(vmc_as_read(m.as, RAM + 0x100, back, 16));
	for (int i = 0; i < 16; i++)
		ASSERT_EQ(back[i], 0x55);
	/* The guest still cannot write the ROM. */
	ASSERT_OK(vmc_as_write(m.as, ROM, "\0\0\0\0", 4));
	ASSERT_OK(vmc_as_read(m.as, ROM, back, 4));
	ASSERT_EQ(back[0], 0xaa);
}

static void test_write_rom(void)
{
	unsigned char buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8];

	ASSERT_ERR(vmc_as_write_rom(NULL, RAM, buf, 8), -EINVAL);
	ASSERT_ERR(vmc_as_write_rom(m.as, RAM, NULL, 8), -EINVAL);
	ASSERT_OK(vmc_as_write_rom(m.as, RAM, NULL, 0));
	ASSERT_ERR(vmc_as_write_rom(m.as, UINT64_MAX - 3, buf, 8), -EFAULT);
	/* A hole, a device, read-only RAM: nothing written. */
	ASSERT_ERR(vmc_as_write_rom(m.as, 0x100000, buf, 8), -EFAULT);
	ASSERT_ERR(vmc_as_write_rom(m.as, DEV, buf, 8), -EFAULT);
	ASSERT_ERR(vmc_as_write_rom(m.as, RORAM, buf, 8), -EACCES);
	ASSERT_ERR(vmc_as_write_rom(m.as, RAM - 4, buf, 8), -EFAULT);
	ASSERT_OK(vmc_as_read(m.as, RAM, back, 8));
	ASSERT_EQ(back[0], 0);
	ASSERT_EQ(dev_writes, 0);
	/* Across the end of the ROM into a hole: refused whole. */
	ASSERT_ERR(vmc_as_write_rom(m.as, ROM + 0xffc, buf, 8), -EFAULT);
	ASSERT_OK(vmc_as_read(m.as, ROM + 0xffc, back, 4));
	ASSERT_EQ(back[0], 0);
	ASSERT_OK(vmc_as_write_rom(m.as, RAM + 0xfff8, buf, 8));
	ASSERT_OK(vmc_as_read(m.as, RAM + 0xfff8, back, 8));
	ASSERT_EQ(memcmp(back, buf, 8), 0);
}

int main(void)
{
	setup();
	RUN(test_elf_over_device);
	RUN(test_elf_into_rom_and_ram);
	RUN(test_write_rom);
	teardown();
	return 0;
}
