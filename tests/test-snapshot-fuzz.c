/* SPDX-License-Identifier: MIT */
/*
 * The snapshot reader's fuzz body (fuzz/snapshot-fuzz-body.h) over
 * pseudo-random inputs, so every build exercises it without libFuzzer:
 * noise, noise with right checksums, and the VM's own file with a few
 * bytes edited (checksums right), which reaches the layout, vCPU and
 * device-section checks.  The first argument, if given, is the seed;
 * VMC_TEST_SCALE scales the count.
 */
#include "snapshot-fuzz-body.h"
#include "vmc-test.h"

static struct snapshot_fuzz f;
static long results[3]; /* 0, -EBADMSG, -EINVAL */

static int body(const uint8_t *data, size_t size)
{
	int r = snapshot_fuzz_one(&f, data, size);

	results[r == 0 ? 0 : r == -EBADMSG ? 1 : 2]++;
	return 0;
}

int main(int argc, char **argv)
{
	struct vmc_loop *loop;
	static uint8_t buf[512];
	long n = vmc_test_scale(2000);

	vmc_test_seed(argc, argv);
	ASSERT_OK(vmc_loop_new(&loop));
	snapshot_fuzz_init(&f, loop);
	vmc_test_fuzz_edges(body);
	vmc_test_fuzz_noise(body, buf, sizeof(buf), n / 4);
	for (long i = 0; i < n; i++) {
		size_t len = 1 + 5 * (1 + vmc_test_rand() % 4);

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)vmc_test_rand();
		buf[0] = (uint8_t)(i % 4 == 0 ? 1 : 2);
		body(buf, len);
	}
	fprintf(stderr, "%ld accepted, %ld -EBADMSG, %ld -EINVAL\n", results[0],
		results[1], results[2]);
	ASSERT_GT(results[1], 0);
	ASSERT_GT(results[2], 0);
	ASSERT_GT(results[0], 0);
	snapshot_fuzz_free(&f);
	vmc_loop_unref(loop);
	return 0;
}
