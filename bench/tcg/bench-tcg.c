/* SPDX-License-Identifier: MIT */
/*
 * bench/tcg: MIPS of the RV64 hart on a CPU-bound guest, against Unicorn
 * (QEMU's TCG as a library) in the same run and, when given, against
 * qemu-system-riscv64 -M virt running the same ELF.  The instruction count
 * is the hart's (the guest is deterministic, so every CPU runs it).
 * usage: bench-tcg GUEST.elf EMPTY.elf [QEMU]
 *   EMPTY.elf is the same guest with no iterations: QEMU's start-up time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_UNICORN
#include <unicorn/unicorn.h>
#endif

#include "rv-board.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run_ours(const char *elf, uint64_t *insns, double *secs)
{
	struct board b;
	uint64_t entry;
	double t0;
	int r;

	if (board_init(&b, 64 << 20) < 0)
		return -1;
	b.quiet = true;
	entry = board_load_elf(&b, elf);
	if (!entry) {
		board_free(&b);
		return -1;
	}
	vmc__rv_hart_reset(b.hart, entry);
	t0 = now();
	r = board_run(&b, ~0ull >> 1, insns);
	*secs = now() - t0;
	board_free(&b);
	return r;
}

#ifdef HAVE_UNICORN
static uint64_t uc_mmio_read(uc_engine *uc, uint64_t off, unsigned size,
			     void *user)
{
	return 0;
}

static void uc_fin_write(uc_engine *uc, uint64_t off, unsigned size,
			 uint64_t val, void *user)
{
	if (off == 0)
		uc_emu_stop(uc);
}

static void uc_uart_write(uc_engine *uc, uint64_t off, unsigned size,
			  uint64_t val, void *user)
{
}

static int run_unicorn(const char *elf, double *secs)
{
	struct board b;
	uc_engine *uc;
	uint64_t entry;
	double t0;
	int r = -1;

	if (uc_open(UC_ARCH_RISCV, UC_MODE_RISCV64, &uc) != UC_ERR_OK)
		return -1;
	if (board_init(&b, 64 << 20) < 0)
		goto out_uc;
	entry = board_load_elf(&b, elf);
	if (!entry || uc_mem_map(uc, BOARD_RAM_BASE, 64 << 20, UC_PROT_ALL) ||
	    uc_mem_write(uc, BOARD_RAM_BASE, b.ram, 4 << 20) ||
	    uc_mmio_map(uc, BOARD_FINISHER, 0x1000, uc_mmio_read, NULL,
			uc_fin_write, NULL) ||
	    uc_mmio_map(uc, BOARD_UART, 0x1000, uc_mmio_read, NULL,
			uc_uart_write, NULL))
		goto out;
	t0 = now();
	if (uc_emu_start(uc, entry, 0, 0, 0) == UC_ERR_OK)
		r = 0;
	*secs = now() - t0;
out:
	board_free(&b);
out_uc:
	uc_close(uc);
	return r;
}
#endif

static int run_qemu(const char *qemu, const char *elf, double *secs)
{
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl(qemu, qemu, "-M", "virt", "-bios", "none", "-display",
		      "none", "-serial", "null", "-monitor", "none", "-kernel",
		      elf, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	*secs = now() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t insns = 0;
	double best = 1e9, mips;

	if (argc < 3) {
		fprintf(stderr, "usage: %s GUEST.elf EMPTY.elf [QEMU]\n",
			argv[0]);
		return 2;
	}
	for (int i = 0; i < 3; i++) {
		double s;

		if (run_ours(argv[1], &insns, &s) != 0) {
			fprintf(stderr, "guest failed on the hart\n");
			return 1;
		}
		if (s < best)
			best = s;
	}
	mips = (double)insns / best / 1e6;
	printf("guest: %llu instructions\n", (unsigned long long)insns);
	printf("libvmcore tcg: %.3f s, %.1f MIPS\n", best, mips);
#ifdef HAVE_UNICORN
	{
		double ub = 1e9;

		double s;

		/* One run: Unicorn is the slow one. */
		if (run_unicorn(argv[1], &s) == 0)
			ub = s;
		if (ub < 1e9)
			printf("unicorn: %.3f s, %.1f MIPS; ratio tcg/unicorn "
			       "%.2f\n",
			       ub, (double)insns / ub / 1e6, ub / best);
	}
#endif
	if (argc > 3) {
		double full = 1e9, empty = 1e9;

		for (int i = 0; i < 3; i++) {
			double s;

			if (run_qemu(argv[3], argv[1], &s) == 0 && s < full)
				full = s;
			if (run_qemu(argv[3], argv[2], &s) == 0 && s < empty)
				empty = s;
		}
		if (full < 1e9 && empty < 1e9 && full > empty)
			printf("qemu-system-riscv64: %.3f s (start-up %.3f s "
			       "subtracted), %.1f MIPS; ratio tcg/qemu %.2f\n",
			       full - empty, empty,
			       (double)insns / (full - empty) / 1e6,
			       (full - empty) / best);
		else
			printf("qemu-system-riscv64: could not be timed\n");
	}
	return 0;
}
