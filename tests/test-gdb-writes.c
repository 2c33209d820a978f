/* SPDX-License-Identifier: MIT */
/*
 * gdb's memory writes (M and X packets) reach RAM and ROM only, as QEMU's
 * debug writes do: a write that covers a device's registers fails with an
 * E reply and never calls the device, while RAM takes the bytes and ROM
 * does too (a debugger patches firmware).  Reads still go where the
 * guest's would.  The machine is a riscv64 tcg VM that never runs; the test
 * plays the client over a unix socket and turns the loop by hand.
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define RAM_BASE 0x80000000u
#define ROM_BASE 0x80010000u
#define DEV_BASE 0x10000000u

static struct vmc_loop *loop;
static struct vmc_vm *vm;
static struct vmc_region *ram, *rom, *dev;
static unsigned int dev_writes, dev_reads;

static int dev_write(void *opaque, uint64_t offset, unsigned size,
		     uint64_t value)
{
	dev_writes++;
	return 0;
}

static int dev_read(void *opaque, uint64_t offset, unsigned size,
		    uint64_t *value)
{
	dev_reads++;
	*value = 0x5a5a5a5a5a5a5a5aull;
	return 0;
}

static const struct vmc_region_ops dev_ops = {
	.struct_size = sizeof(struct vmc_region_ops),
	.read = dev_read,
	.write = dev_write,
	.min_access_size = 1,
	.max_access_size = 8,
};

static void machine_up(void)
{
	struct vmc_region *root;
	struct vmc_vm_config c;

	ASSERT_OK(vmc_loop_new(&loop));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	root = vmc_vm_get_root(vm, VMC_AS_MEMORY);
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(vm), "ram", 0x10000, 0,
				     &ram));
	ASSERT_OK(
		vmc_region_new_rom(vmc_vm_get_memory(vm), "rom", 0x1000, &rom));
	ASSERT_OK(vmc_region_new_io(vmc_vm_get_memory(vm), "dev", 0x1000,
				    &dev_ops, NULL, 0, &dev));
	ASSERT_OK(vmc_region_add_subregion(root, RAM_BASE, ram, 0));
	ASSERT_OK(vmc_region_add_subregion(root, ROM_BASE, rom, 0));
	ASSERT_OK(vmc_region_add_subregion(root, DEV_BASE, dev, 0));
}

static void machine_down(void)
{
	vm = vmc_vm_unref(vm);
	vmc_region_unref(ram);
	vmc_region_unref(rom);
	vmc_region_unref(dev);
	loop = vmc_loop_unref(loop);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_GE(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	return fd;
}

/* Frame @body (@len bytes, may hold binary) and send it. */
static void send_pkt(int fd, const char *body, size_t len)
{
	char buf[512];
	uint8_t sum = 0;
	size_t n = 0;

	ASSERT_LT(len + 4, sizeof(buf));
	buf[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		sum += (uint8_t)body[i];
		buf[n++] = body[i];
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "#%02x", sum);
	ASSERT_EQ(send(fd, buf, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* The next packet's payload, skipping acks; turns the loop meanwhile. */
static void recv_pkt(int fd, char *out, size_t cap)
{
	int64_t end = vmc_test_now_ns() + 5000000000ll;
	size_t len = 0;
	bool in = false;
	int hashes = -1;

	while (vmc_test_now_ns() < end) {
		char c;
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0)
			FAIL("the stub closed the connection");
		if (n < 0) {
			ASSERT_EQ(errno, EAGAIN);
			ASSERT_OK(vmc_loop_run_once(loop, false));
			poll(NULL, 0, 1);
			continue;
		}
		if (!in) {
			in = c == '$';
			continue;
		}
		if (hashes >= 0) {
			if (++hashes == 2) {
				out[len] = '\0';
				return;
			}
			continue;
		}
		if (c == '#') {
			hashes = 0;
			continue;
		}
		if (len + 1 < cap)
			out[len++] = c;
	}
	FAIL("no answer");
}

static void ask_bin(int fd, const char *req, size_t len, char *out, size_t cap)
{
	send_pkt(fd, req, len);
	recv_pkt(fd, out, cap);
}

static void ask(int fd, const char *req, char *out, size_t cap)
{
	ask_bin(fd, req, strlen(req), out, cap);
}

static void test_debugger_writes(void)
{
	char dir[] = "/tmp/vmc-gdbw-XXXXXX", path[64], addr[80];
	char reply[256], req[64];
	struct vmc_gdbstub *gs;
	uint8_t *rp, *op;
	int fd;

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	machine_up();
	rp = vmc_region_get_ptr(ram);
	op = vmc_region_get_ptr(rom);
	ASSERT_OK(vmc_gdbstub_start(vm, loop, addr, &gs));
	fd = connect_unix(path);

	/* RAM takes the bytes. */
	snprintf(req, sizeof(req), "M%x,4:deadbeef", RAM_BASE + 0x10);
	ask(fd, req, reply, sizeof(reply));
	ASSERT_STREQ(reply, "OK");
	ASSERT_EQ(rp[0x10], 0xde);
	ASSERT_EQ(rp[0x13], 0xef);

	/* So does ROM, which the guest cannot store to. */
	snprintf(req, sizeof(req), "M%x,2:1234", ROM_BASE + 0x20);
	ask(fd, req, reply, sizeof(reply));
	ASSERT_STREQ(reply, "OK");
	ASSERT_EQ(op[0x20], 0x12);
	ASSERT_EQ(op[0x21], 0x34);
	snprintf(req, sizeof(req), "X%x,2:", ROM_BASE + 0x30);
	memcpy(req + strlen(req), "\x77\x7d\x5d", 4); /* 0x77 0x7d, escaped */
	ask_bin(fd, req, strlen(req), reply, sizeof(reply));
	ASSERT_STREQ(reply, "OK");
	ASSERT_EQ(op[0x30], 0x77);
	ASSERT_EQ(op[0x31], 0x7d);

	/* A device's registers: an error, and the device never sees it. */
	snprintf(req, sizeof(req), "M%x,4:01020304", DEV_BASE);
	ask(fd, req, reply, sizeof(reply));
	ASSERT_EQ(reply[0], 'E');
	snprintf(req, sizeof(req), "X%x,1:a", DEV_BASE + 8);
	ask(fd, req, reply, sizeof(reply));
	ASSERT_EQ(reply[0], 'E');
	ASSERT_EQ(dev_writes, 0);

	/* Reads still reach the device, as the guest's would. */
	snprintf(req, sizeof(req), "m%x,4", DEV_BASE);
	ask(fd, req, reply, sizeof(reply));
	ASSERT_STREQ(reply, "5a5a5a5a");
	ASSERT_GT(dev_reads, 0);

	close(fd);
	vmc_gdbstub_stop(gs);
	machine_down();
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_debugger_writes);
	return 0;
}
