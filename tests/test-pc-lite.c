/* SPDX-License-Identifier: MIT */
/*
 * examples/pc-lite against qemu-system-x86_64 -M pc on the same BIOS image
 * (tests/guest/x86/bios.S): both must print the same bytes on the serial
 * port and end with the same isa-debug-exit status.  Without a usable
 * /dev/kvm the test is skipped; without QEMU only pc-lite runs.
 *
 * argv[1] is pc-lite, argv[2] the BIOS image, argv[3] its triple-fault
 * variant.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "vmc-test.h"

#define RUN_TIMEOUT_MS 30000

struct result {
	char out[4096];
	size_t len;
	int status; /* exit status, or -1 if killed / timed out */
};

static bool kvm_usable(void)
{
	int sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm;

	if (sys < 0)
		return false;
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	close(sys);
	if (vm < 0)
		return false;
	close(vm);
	return true;
}

/* Runs argv with stdin on /dev/null; collects stdout and the status. */
static void run(char *const argv[], struct result *res)
{
	int64_t deadline = vmc_test_now_ns() + RUN_TIMEOUT_MS * 1000000ll;
	int out[2], status;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	ASSERT_OK(pipe2(out, O_CLOEXEC));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int err = open("/dev/null", O_WRONLY);

		dup2(null, 0);
		dup2(out[1], 1);
		/* QEMU warns about host CPU features on stderr. */
		if (strstr(argv[0], "qemu"))
			dup2(err, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	for (;;) {
		int64_t left = (deadline - vmc_test_now_ns()) / 1000000;
		struct pollfd p = {out[0], POLLIN, 0};
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(out[0], res->out + res->len,
			 sizeof(res->out) - 1 - res->len);
		if (n <= 0)
			break;
		res->len += (size_t)n;
		if (res->len == sizeof(res->out) - 1)
			break;
	}
	close(out[0]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool have_qemu(void)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		return false;
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/qemu-system-x86_64", (int)n,
			 path);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

int main(int argc, char **argv)
{
	char *fault[] = {argv[1], "-bios", argv[3], NULL};
	char *pc_lite[] = {argv[1], "-bios", argv[2], "-nographic", NULL};
	char *pc_lite_smp[] = {argv[1], "-m", "16", "-smp",	   "2", "-bios",
			       argv[2], "-M", "pc", "-enable-kvm", NULL};
	char *qemu[] = {"qemu-system-x86_64",
			"-enable-kvm",
			"-bios",
			argv[2],
			"-device",
			"isa-debug-exit,iobase=0x501",
			"-nographic",
			NULL};
	char *bad[] = {argv[1], "-bios", "/dev/null", NULL};
	static struct result a, b;
	const int want = (BIOS_EXIT_OK << 1) | 1;

	if (argc != 4)
		FAIL("usage: test-pc-lite PC-LITE BIOS TRIPLE-FAULT-BIOS");
	if (!kvm_usable())
		SKIP("KVM is not usable here");

	run(pc_lite, &a);
	a.out[a.len] = '\0';
	ASSERT_STREQ(a.out, BIOS_HELLO);
	ASSERT_EQ(a.status, want);

	run(pc_lite_smp, &b);
	b.out[b.len] = '\0';
	ASSERT_STREQ(b.out, BIOS_HELLO);
	ASSERT_EQ(b.status, want);

	/* Every virtio device in its microvm slot; the socket is removed. */
	{
		char img[] = "/tmp/vmc-pc-lite-XXXXXX", sock[64], drive[96];
		int fd = mkstemp(img);
		char *with_virtio[] = {
			argv[1],
			"-bios",
			argv[2],
			"-device",
			"virtio-rng-device",
			"-device",
			"virtio-blk-device,drive=d0",
			"-drive",
			drive,
			"-device",
			"virtio-serial-device",
			"-chardev",
			"null,id=c0",
			"-device",
			"virtconsole,chardev=c0",
			"-device",
			sock,
			NULL,
		};
		/* The same, every device on an I/O thread. */
		char iot_sock[96];
		char *with_iothreads[] = {
			argv[1],
			"-bios",
			argv[2],
			"-object",
			"iothread,id=io0",
			"-device",
			"virtio-rng-device,iothread=io0",
			"-device",
			"virtio-blk-device,drive=d0,iothread=io0",
			"-drive",
			drive,
			"-device",
			"virtio-serial-device",
			"-chardev",
			"null,id=c0",
			"-device",
			"virtconsole,chardev=c0,iothread=io0",
			"-device",
			iot_sock,
			NULL,
		};
		char *bad_iothread[] = {argv[1],
					"-bios",
					argv[2],
					"-device",
					"virtio-rng-device,iothread=nope",
					NULL};
		char *cmdline[] = {
			argv[1],   "-virtio-cmdline",
			"-device", "virtio-rng-device",
			"-device", "vmc-vsock-device,guest-cid=3,uds-path=/x",
			NULL};
		char *vhost[] = {argv[1],
				 "-bios",
				 argv[2],
				 "-device",
				 "vhost-vsock-device,guest-cid=3",
				 NULL};

		ASSERT_GE(fd, 0);
		ASSERT_OK(ftruncate(fd, 1 << 20));
		close(fd);
		snprintf(drive, sizeof(drive),
			 "file=%s,if=none,id=d0,format=raw", img);
		snprintf(sock, sizeof(sock),
			 "vmc-vsock-device,guest-cid=3,uds-path=%s.sock", img);
		run(with_virtio, &b);
		b.out[b.len] = '\0';
		ASSERT_STREQ(b.out, BIOS_HELLO);
		ASSERT_EQ(b.status, want);
		ASSERT_TRUE(access(sock + strlen(sock) - strlen(img) - 5,
				   F_OK) < 0);
		snprintf(iot_sock, sizeof(iot_sock), "%s,iothread=io0", sock);
		run(with_iothreads, &b);
		b.out[b.len] = '\0';
		ASSERT_STREQ(b.out, BIOS_HELLO);
		ASSERT_EQ(b.status, want);
		/* An iothread= no -object defines: refused at start-up. */
		run(bad_iothread, &b);
		ASSERT_EQ(b.status, 2);
		unlink(img);
		/* The devices' kernel parameters: last slot first. */
		run(cmdline, &b);
		b.out[b.len] = '\0';
		ASSERT_STREQ(b.out, "virtio_mmio.device=512@0xfeb00e00:12 "
				    "virtio_mmio.device=512@0xfeb00c00:11\n");
		ASSERT_EQ(b.status, 0);
		/* QEMU's vhost spelling is refused with the right name. */
		run(vhost, &b);
		ASSERT_EQ(b.status, 2);
	}

	/* An image QEMU's pc would refuse: a setup error, status 2. */
	run(bad, &b);
	ASSERT_EQ(b.len, 0);
	ASSERT_EQ(b.status, 2);

	/* A triple fault: the output so far, then a guest error. */
	run(fault, &b);
	b.out[b.len] = '\0';
	ASSERT_STREQ(b.out, BIOS_HELLO);
	ASSERT_EQ(b.status, 1);

	if (!have_qemu()) {
		printf("qemu-system-x86_64 not found: pc-lite only\n");
		return 0;
	}
	run(qemu, &b);
	b.out[b.len] = '\0';
	ASSERT_EQ(b.status, a.status);
	ASSERT_EQ(b.len, a.len);
	ASSERT_TRUE(memcmp(a.out, b.out, a.len) == 0);
	printf("pc-lite and qemu-system-x86_64: same output, status %d\n",
	       a.status);
	return 0;
}
