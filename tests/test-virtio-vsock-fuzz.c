/* SPDX-License-Identifier: MIT */
/*
 * The virtio-vsock fuzz program (fuzz/vsock-fuzz-body.c) over
 * pseudo-random inputs, so that every build exercises it without
 * libFuzzer.  Structured inputs are mostly plausible command sequences
 * (connections both ways, data, guest answers) with damaged headers; the
 * noise inputs are random bytes.  The first argument, if given, is the
 * seed; VMC_TEST_SCALE scales the count.
 */
#include <libvmcore/libvmcore.h>

#include "vmc-test.h"
#include "vsock-fuzz-body.h"

static size_t make_input(uint8_t *in, size_t cap)
{
	size_t n = 0;

	in[n++] = (uint8_t)vmc_test_rand();
	while (n + 64 < cap && vmc_test_rand() % 40) {
		uint8_t cmd = (uint8_t)(vmc_test_rand() % VMC_FUZZ_VSOCK_CMDS);

		/* Few loads and pokes, many packets and answers. */
		if ((cmd == VMC_FUZZ_VSOCK_LOAD ||
		     cmd == VMC_FUZZ_VSOCK_POKE) &&
		    vmc_test_rand() % 8)
			cmd = VMC_FUZZ_VSOCK_GUEST;
		in[n++] = cmd;
		switch (cmd) {
		case VMC_FUZZ_VSOCK_TX: {
			uint8_t flags =
				(uint8_t)(vmc_test_rand() % 8 ? 0x1f : 0);
			uint8_t len = (uint8_t)(vmc_test_rand() % 4
							? vmc_test_rand() % 8
							: vmc_test_rand());

			flags |= (uint8_t)(vmc_test_rand() & 0x20);
			if (vmc_test_rand() % 4 == 0)
				flags ^= (uint8_t)(1u << (vmc_test_rand() % 5));
			in[n++] = flags;
			for (int i = 0; i < 44; i++)
				in[n++] =
					(uint8_t)(i >= 16 && i < 24
							  ? vmc_test_rand() % 4
							  : vmc_test_rand());
			in[n++] = len;
			for (unsigned int i = 0; i < len * 7u && n < cap; i++)
				in[n++] = (uint8_t)vmc_test_rand();
			break;
		}
		case VMC_FUZZ_VSOCK_CONNECT:
			in[n++] = (uint8_t)(vmc_test_rand() | 0x80);
			break;
		case VMC_FUZZ_VSOCK_WRITE:
			in[n++] = (uint8_t)vmc_test_rand();
			in[n++] = (uint8_t)vmc_test_rand();
			break;
		case VMC_FUZZ_VSOCK_CLOSE:
			in[n++] = (uint8_t)vmc_test_rand();
			break;
		case VMC_FUZZ_VSOCK_POKE:
			in[n++] = (uint8_t)vmc_test_rand();
			in[n++] = (uint8_t)vmc_test_rand();
			in[n++] = (uint8_t)vmc_test_rand();
			break;
		default:
			break;
		}
	}
	return n < cap ? n : cap;
}

static void test_structured(void)
{
	static uint8_t in[0x4000];
	long n = vmc_test_scale(2000);
	unsigned long rx, conns;

	for (long i = 0; i < n; i++)
		vmc_fuzz_virtio_vsock(in, make_input(in, sizeof(in)));
	vmc_fuzz_virtio_vsock_stats(&rx, &conns);
	fprintf(stderr,
		"   %ld runs: %lu packets to the guest, %lu "
		"connection-commands\n",
		n, rx, conns);
	ASSERT_GT(rx, (unsigned long)n);
	ASSERT_GT(conns, (unsigned long)n);
}

static void test_noise(void)
{
	static uint8_t in[0x800];
	long n = vmc_test_scale(1000);

	vmc_test_fuzz_noise(vmc_fuzz_virtio_vsock, in, sizeof(in), n);
}

static void test_fixed_inputs(void)
{
	vmc_test_fuzz_edges(vmc_fuzz_virtio_vsock);
}

int main(int argc, char **argv)
{
	vmc_test_seed(argc, argv);
	RUN(test_fixed_inputs);
	RUN(test_structured);
	RUN(test_noise);
	vmc_fuzz_virtio_vsock_cleanup();
	return 0;
}
