/* SPDX-License-Identifier: MIT */
/*
 * embed: the smallest useful machine — run a bare-metal RV64 ELF with
 * 64 MiB of RAM, a UART on stdout and a test finisher whose pass/fail
 * becomes the exit status.  usage: embed prog.elf
 */
#include <stdio.h>
#include <stdlib.h>

#include <libvmcore/libvmcore.h>

static void on_state(struct vmc_vm *vm, enum vmc_vm_state old,
		     enum vmc_vm_state now, void *loop)
{
	if (now == VMC_VM_SHUTDOWN || now == VMC_VM_GUEST_ERROR)
		vmc_loop_stop(loop);
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else
		buf = (free(buf), NULL);
	if (f)
		fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct vmc_loop *loop;
	struct vmc_vm_config cfg;
	struct vmc_vm *vm;
	struct vmc_region *ram, *root;
	struct vmc_uart16550_config uc;
	struct vmc_uart16550 *uart;
	struct vmc_sifive_test_config tc;
	struct vmc_sifive_test *finisher;
	struct vmc_load_info info;
	size_t len;
	void *elf;
	int status;

	if (argc != 2 || !(elf = read_file(argv[1], &len))) {
		fprintf(stderr, "usage: embed prog.elf\n");
		return 2;
	}

	/* A loop, and a one-hart RISC-V machine on it. */
	vmc_loop_new(&loop);
	vmc_vm_config_init(&cfg);
	cfg.accel = VMC_ACCEL_TCG;
	cfg.arch = VMC_ARCH_RISCV64;
	cfg.loop = loop;
	if (vmc_vm_new(&cfg, &vm) < 0)
		return 2;

	/* Lay out memory: RAM, a UART and the finisher, as on QEMU's virt. */
	root = vmc_vm_get_root(vm, VMC_AS_MEMORY);
	vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", 64 << 20, 0, &ram);
	vmc_region_add_subregion(root, 0x80000000, ram, 0);
	vmc_uart16550_config_init(&uc);
	uc.vm = vm;
	uc.out_fd = 1;
	vmc_uart16550_new(&uc, &uart);
	vmc_region_add_subregion(root, 0x10000000,
				 vmc_uart16550_get_region(uart), 0);
	vmc_sifive_test_config_init(&tc);
	tc.vm = vm;
	vmc_sifive_test_new(&tc, &finisher);
	vmc_region_add_subregion(root, 0x100000,
				 vmc_sifive_test_get_region(finisher), 0);

	/* Load the program and start hart 0 at its entry, in M-mode. */
	if (vmc_load_elf(vmc_vm_get_address_space(vm, VMC_AS_MEMORY), elf, len,
			 VMC_ELF_RISCV, &info) < 0)
		return 2;
	vmc_vcpu_set_reg(vmc_vm_get_vcpu(vm, 0), VMC_RISCV_REG_PC, info.entry);

	/* Run until the guest writes the finisher. */
	vmc_vm_add_state_handler(vm, on_state, 0, loop, NULL);
	vmc_vm_start(vm);
	vmc_loop_run(loop);

	status = vmc_vm_get_state(vm) == VMC_VM_SHUTDOWN
			 ? vmc_vm_get_shutdown_status(vm)
			 : 1;
	vmc_vm_pause(vm);
	vmc_region_remove_subregion(root, ram);
	vmc_region_remove_subregion(root, vmc_uart16550_get_region(uart));
	vmc_region_remove_subregion(root, vmc_sifive_test_get_region(finisher));
	vmc_uart16550_free(uart);
	vmc_sifive_test_free(finisher);
	vmc_region_unref(ram);
	vmc_vm_unref(vm);
	vmc_loop_unref(loop);
	free(elf);
	return status;
}
