/* SPDX-License-Identifier: MIT */
/*
 * Run a guest ELF on the RV64 hart with the test board and report the
 * finisher's verdict: exit 0 on pass, 1 on failure.
 * usage: rv-run GUEST.elf [MAX_INSNS]
 */
#include <stdlib.h>

#include "rv-board.h"
#include "vmc-test.h"

int main(int argc, char **argv)
{
	struct board b;
	uint64_t entry, retired = 0, max = 200000000;
	int r;

	if (argc < 2)
		SKIP("usage: rv-run GUEST.elf [MAX_INSNS]");
	if (argc > 2)
		max = strtoull(argv[2], NULL, 0);
	ASSERT_OK(board_init(&b, 64 << 20));
	entry = board_load_elf(&b, argv[1]);
	if (!entry)
		FAIL("cannot load %s", argv[1]);
	vmc__rv_hart_reset(b.hart, entry);
	if (getenv("RV_TRACE")) {
		/* Print each pc (single-stepping) for debugging a guest. */
		long n = atol(getenv("RV_TRACE"));

		vmc__rv_set_single_step(b.hart, true);
		for (long k = 0; k < n && !b.finished; k++) {
			uint64_t c = 0;

			fprintf(stderr, "%llx\n",
				(unsigned long long)vmc__rv_get_pc(b.hart));
			vmc__rv_run(b.hart, 1, &c);
		}
		vmc__rv_set_single_step(b.hart, false);
	}
	r = board_run(&b, max, &retired);
	fflush(stdout);
	fprintf(stderr, "%s: %s after %llu instructions (pc 0x%llx)\n", argv[1],
		r == 0	  ? "pass"
		: r == -1 ? "no verdict"
		: r == -2 ? "fatal trap loop"
			  : "FAIL",
		(unsigned long long)retired,
		(unsigned long long)vmc__rv_get_pc(b.hart));
	fprintf(stderr, "gp (case) = %llu\n",
		(unsigned long long)vmc__rv_get_gpr(b.hart, 3));
	if (r > 0)
		fprintf(stderr, "failed test case %d\n", r & 0xffff);
	board_free(&b);
	return r == 0 ? 0 : 1;
}
