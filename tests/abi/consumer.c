/* SPDX-License-Identifier: MIT */
/* A program that knows libvmcore only through pkg-config. */
#include <stdio.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

int main(int argc, char **argv)
{
	struct vmc_notifier *n;

	if (argc < 2 || strcmp(vmc_version_string(), argv[1]) != 0) {
		fprintf(stderr, "FAIL: runs against %s\n",
			vmc_version_string());
		return 1;
	}
	if (vmc_notifier_new(&n) < 0 || vmc_notifier_signal(n) < 0 ||
	    vmc_notifier_test_and_clear(n) != 1) {
		fprintf(stderr, "FAIL: notifier round trip\n");
		return 1;
	}
	vmc_notifier_free(n);
	printf("ok: consumer runs against libvmcore %s\n",
	       vmc_version_string());
	return 0;
}
