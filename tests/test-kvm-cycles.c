/* SPDX-License-Identifier: MIT */
/*
 * 1,000 KVM VMs created, run to their first HLT and destroyed: no fd (VM,
 * vCPU, memfd, eventfd) and no signal disposition may be left behind.
 */
#include <signal.h>

#include "kvm-guest.h"

static int count_fds(void)
{
	unsigned char set[VMC_TEST_MAX_FD / 8];
	int n = 0;

	vmc_test__scan_fds(set);
	for (int i = 0; i < VMC_TEST_MAX_FD; i++)
		n += !!(set[i / 8] & (1u << (i % 8)));
	return n;
}

int main(void)
{
	struct vmc_loop *loop;
	struct sigaction before, after;
	long n = vmc_test_scale(1000);
	int fds0 = -1;

	ASSERT_OK(vmc_loop_new(&loop));
	/* libuv keeps a process-wide pipe from its first loop on. */
	vmc_test__scan_fds(vmc_test_fds_at_start);
	sigaction(SIGRTMIN + 6, NULL, &before);
	for (long i = 0; i < n; i++) {
		struct gvm g;
		int r = gvm_init_cfg(&g, loop, 1, NULL);

		if (r == -ENODEV || r == -EOPNOTSUPP)
			SKIP("KVM is not usable here (%s)", strerror(-r));
		ASSERT_OK(r);
		gvm_setup_long(&g, GT_HLT, 0);
		ASSERT_OK(vmc_vm_start(g.vm));
		gvm_wait_done(&g, 1);
		gvm_free(&g);
		if (i == 0)
			fds0 = count_fds();
		else
			ASSERT_EQ(count_fds(), fds0);
	}
	sigaction(SIGRTMIN + 6, NULL, &after);
	ASSERT_PTR_EQ((void *)after.sa_handler, (void *)before.sa_handler);
	vmc_loop_unref(loop);
	printf("%ld VM cycles, %d fds throughout\n", n, fds0);
	return 0;
}
