/* SPDX-License-Identifier: MIT */
/*
 * The ELF64 image parser: well-formed images, every header field broken in
 * turn, every truncation, overlapping and wrapping segments, and Debian's
 * OpenSBI and U-Boot images when they are installed.
 */
#include <elf.h>
#include <sys/stat.h>

#include "hw/elf-parse.h"
#include "vmc-test.h"

#define IMG_SIZE 0x400

struct seg {
	uint64_t paddr, filesz, memsz;
	const unsigned char *data;
};

struct seen {
	unsigned int n;
	struct seg s[8];
};

static int record(void *opaque, uint64_t paddr, const void *data,
		  uint64_t filesz, uint64_t memsz)
{
	struct seen *seen = opaque;

	if (seen->n == 8)
		return -ENOSPC;
	seen->s[seen->n++] = (struct seg){paddr, filesz, memsz, data};
	return 0;
}

/*
 * A RISC-V executable with three program headers: PT_LOAD code at
 * 0x80001000 (0x40 bytes in the file, 0x100 in memory), a PT_NOTE, and
 * PT_LOAD data at 0x80000000 (listed after the code, so the parser must
 * sort).  Payload bytes are a counting pattern.
 */
static void build(unsigned char *img)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));

	memset(img, 0, IMG_SIZE);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_RISCV;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x80001000;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 3;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_offset = 0x200,
			     .p_vaddr = 0xffffffff80001000,
			     .p_paddr = 0x80001000,
			     .p_filesz = 0x40,
			     .p_memsz = 0x100};
	ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
			     .p_offset = 0x3f0,
			     .p_filesz = 0x10,
			     .p_memsz = 0x10};
	ph[2] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_offset = 0x300,
			     .p_paddr = 0x80000000,
			     .p_filesz = 0x80,
			     .p_memsz = 0x80};
	for (int i = 0x200; i < IMG_SIZE; i++)
		img[i] = (unsigned char)i;
}

static Elf64_Phdr *phdr(unsigned char *img, int i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i;
}

static void test_valid(void)
{
	unsigned char img[IMG_SIZE];
	struct vmc__elf_info info;
	struct seen seen = {0};

	build(img);
	ASSERT_OK(vmc__elf_parse(img, sizeof(img), VMC__EM_RISCV, record, &seen,
				 &info));
	ASSERT_EQ_U64(info.entry, 0x80001000);
	ASSERT_EQ_U64(info.low, 0x80000000);
	ASSERT_EQ_U64(info.high, 0x80001100);
	ASSERT_EQ(info.segments, 2);
	ASSERT_EQ(seen.n, 2);
	/* In guest-address order, with physical addresses and file data. */
	ASSERT_EQ_U64(seen.s[0].paddr, 0x80000000);
	ASSERT_EQ_U64(seen.s[0].filesz, 0x80);
	ASSERT_PTR_EQ(seen.s[0].data, img + 0x300);
	ASSERT_EQ_U64(seen.s[1].paddr, 0x80001000);
	ASSERT_EQ_U64(seen.s[1].filesz, 0x40);
	ASSERT_EQ_U64(seen.s[1].memsz, 0x100);
	ASSERT_PTR_EQ(seen.s[1].data, img + 0x200);

	/* Machine 0 accepts any machine; x86-64 is not RISC-V. */
	ASSERT_OK(vmc__elf_parse(img, sizeof(img), 0, NULL, NULL, NULL));
	ASSERT_ERR(vmc__elf_parse(img, sizeof(img), VMC__EM_X86_64, NULL, NULL,
				  NULL),
		   -ENOEXEC);
	((Elf64_Ehdr *)img)->e_machine = EM_X86_64;
	ASSERT_OK(vmc__elf_parse(img, sizeof(img), VMC__EM_X86_64, NULL, NULL,
				 NULL));

	/* ET_DYN loads like ET_EXEC; an empty PT_LOAD is skipped. */
	build(img);
	((Elf64_Ehdr *)img)->e_type = ET_DYN;
	phdr(img, 0)->p_filesz = 0;
	phdr(img, 0)->p_memsz = 0;
	seen.n = 0;
	ASSERT_OK(vmc__elf_parse(img, sizeof(img), VMC__EM_RISCV, record, &seen,
				 &info));
	ASSERT_EQ(seen.n, 1);
	ASSERT_EQ_U64(info.high, 0x80000080);
}

static void test_callback_error(void)
{
	unsigned char img[IMG_SIZE];
	struct seen seen = {.n = 8};

	build(img);
	ASSERT_ERR(vmc__elf_parse(img, sizeof(img), 0, record, &seen, NULL),
		   -ENOSPC);
}

static void expect_bad(unsigned char *img, const char *what)
{
	struct seen seen = {0};
	int r = vmc__elf_parse(img, IMG_SIZE, VMC__EM_RISCV, record, &seen,
			       NULL);

	if (r != -ENOEXEC)
		FAIL("%s: expected -ENOEXEC, got %d", what, r);
	/* Nothing may be reported before the image is fully validated. */
	ASSERT_EQ(seen.n, 0);
}

static void test_bad_headers(void)
{
	unsigned char img[IMG_SIZE];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	build(img);
	img[1] = 'X';
	expect_bad(img, "magic");
	build(img);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	expect_bad(img, "class");
	build(img);
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	expect_bad(img, "byte order");
	build(img);
	eh->e_ident[EI_VERSION] = 0;
	expect_bad(img, "ident version");
	build(img);
	eh->e_version = 2;
	expect_bad(img, "version");
	build(img);
	eh->e_type = ET_REL;
	expect_bad(img, "type");
	build(img);
	eh->e_machine = EM_ARM;
	expect_bad(img, "machine");
	build(img);
	eh->e_phentsize = sizeof(Elf64_Phdr) - 1;
	expect_bad(img, "phentsize");
	build(img);
	eh->e_phnum = 0;
	expect_bad(img, "no program headers");
	build(img);
	eh->e_phnum = 0xffff;
	expect_bad(img, "phnum");
	build(img);
	eh->e_phoff = IMG_SIZE - sizeof(Elf64_Phdr);
	expect_bad(img, "program headers past the end");
	build(img);
	eh->e_phoff = UINT64_MAX - 8;
	expect_bad(img, "phoff wraps");
}

static void test_bad_segments(void)
{
	unsigned char img[IMG_SIZE];

	build(img);
	phdr(img, 0)->p_filesz = 0x200;
	phdr(img, 0)->p_memsz = 0x200;
	phdr(img, 0)->p_offset = 0x300;
	expect_bad(img, "segment past the end of the file");
	build(img);
	phdr(img, 0)->p_offset = UINT64_MAX - 0x10;
	expect_bad(img, "offset wraps");
	build(img);
	phdr(img, 0)->p_filesz = 0x101;
	expect_bad(img, "filesz > memsz");
	build(img);
	phdr(img, 0)->p_paddr = UINT64_MAX - 0x10;
	expect_bad(img, "paddr + memsz wraps");
	build(img);
	phdr(img, 0)->p_paddr = 0x80000040;
	expect_bad(img, "overlapping segments");
	build(img);
	phdr(img, 0)->p_type = PT_NULL;
	phdr(img, 2)->p_type = PT_NOTE;
	expect_bad(img, "no PT_LOAD");

	/* A segment ending exactly at 2^64 is valid; high saturates. */
	build(img);
	phdr(img, 0)->p_paddr = UINT64_MAX - 0xff;
	{
		struct vmc__elf_info info;

		ASSERT_OK(vmc__elf_parse(img, IMG_SIZE, 0, NULL, NULL, &info));
		ASSERT_EQ_U64(info.high, UINT64_MAX);
		ASSERT_EQ_U64(info.low, 0x80000000);
	}
}

static void test_truncated(void)
{
	unsigned char img[IMG_SIZE];

	build(img);
	/*
	 * Every prefix shorter than the last byte any header points at is
	 * refused; copies on the heap let the address sanitizer catch a read
	 * past the end.
	 */
	for (size_t len = 0; len < 0x380; len++) {
		unsigned char *copy = malloc(len ? len : 1);

		memcpy(copy, img, len);
		ASSERT_ERR(vmc__elf_parse(copy, len, 0, NULL, NULL, NULL),
			   -ENOEXEC);
		free(copy);
	}
	ASSERT_OK(vmc__elf_parse(img, 0x380, 0, NULL, NULL, NULL));
	ASSERT_ERR(vmc__elf_parse(NULL, 0, 0, NULL, NULL, NULL), -ENOEXEC);
}

static void test_random_corruption(void)
{
	unsigned char img[IMG_SIZE];
	unsigned int seed = 1;
	int n = vmc_test_scale(20000);

	/*
	 * Flip bytes of the headers at random: the parser must either accept
	 * with every reported segment inside the image, or refuse.
	 */
	for (int i = 0; i < n; i++) {
		struct seen seen = {0};
		int r;

		build(img);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245 + 12345;
			img[(seed >> 8) % 0x100] = (unsigned char)(seed >> 20);
		}
		r = vmc__elf_parse(img, sizeof(img), 0, record, &seen, NULL);
		if (r == -ENOSPC)
			continue;
		ASSERT_TRUE(r == 0 || r == -ENOEXEC);
		for (unsigned int s = 0; r == 0 && s < seen.n; s++) {
			ASSERT_TRUE(seen.s[s].data >= img);
			ASSERT_LE(seen.s[s].data + seen.s[s].filesz - img,
				  IMG_SIZE);
		}
	}
}

static void check_file(const char *path, uint64_t entry)
{
	struct vmc__elf_info info;
	struct stat st;
	unsigned char *buf;
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "   %s not installed; not checked\n", path);
		return;
	}
	ASSERT_OK(fstat(fileno(f), &st));
	buf = malloc((size_t)st.st_size);
	ASSERT_NOT_NULL(buf);
	ASSERT_EQ(fread(buf, 1, (size_t)st.st_size, f), st.st_size);
	fclose(f);
	ASSERT_OK(vmc__elf_parse(buf, (size_t)st.st_size, VMC__EM_RISCV, NULL,
				 NULL, &info));
	ASSERT_EQ_U64(info.entry, entry);
	ASSERT_EQ_U64(info.low, entry);
	ASSERT_GT(info.high, info.low);
	free(buf);
}

static void test_real_images(void)
{
	check_file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf",
		   0x80000000);
	check_file("/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf", 0x80200000);
}

int main(void)
{
	RUN(test_valid);
	RUN(test_callback_error);
	RUN(test_bad_headers);
	RUN(test_bad_segments);
	RUN(test_truncated);
	RUN(test_random_corruption);
	RUN(test_real_images);
	return 0;
}
