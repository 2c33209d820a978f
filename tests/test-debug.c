/* SPDX-License-Identifier: MIT */
/*
 * vmc-debug.h and vmc-gdbstub.h through the public API on a tcg VM: the
 * VM-wide debug stop (VMC_VM_DEBUG) after a breakpoint, a single step and
 * a watchpoint, debugger address translation, held vCPUs, and the gdb
 * server's setup calls and their errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define RAM 0x80000000u
#define DATA (RAM + 0x100)

/* t1 = RAM; loop: t0++, *(DATA) = t0. */
static const uint32_t prog[] = {
	0x00000317, /* auipc t1, 0 */
	0x00128293, /* addi t0, t0, 1 */
	0x10532023, /* sw t0, 256(t1) */
	0xff9ff06f, /* j RAM + 4 */
};

static struct vmc_loop *loop;

struct tvm {
	struct vmc_vm *vm;
	struct vmc_region *ram;
};

static void tvm_init(struct tvm *t, unsigned int vcpus)
{
	struct vmc_vm_config c;

	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_TCG;
	c.arch = VMC_ARCH_RISCV64;
	c.vcpus = vcpus;
	ASSERT_OK(vmc_vm_new(&c, &t->vm));
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(t->vm), "ram", 0x10000,
				     0, &t->ram));
	memcpy(vmc_region_get_ptr(t->ram), prog, sizeof(prog));
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(t->vm, VMC_AS_MEMORY), RAM, t->ram, 0));
	for (unsigned int i = 0; i < vcpus; i++)
		ASSERT_OK(vmc_vcpu_set_reg(vmc_vm_get_vcpu(t->vm, i),
					   VMC_RISCV_REG_PC, RAM));
}

static void tvm_free(struct tvm *t)
{
	vmc_vm_unref(t->vm);
	vmc_region_unref(t->ram);
}

static void wait_state(struct vmc_vm *vm, enum vmc_vm_state s)
{
	int64_t end = vmc_test_now_ns() + 10000000000ll;

	while (vmc_vm_get_state(vm) != s) {
		if (vmc_test_now_ns() > end)
			FAIL("VM in state %s, want %s",
			     vmc_vm_state_to_string(vmc_vm_get_state(vm)),
			     vmc_vm_state_to_string(s));
		vmc_loop_run_once(loop, false);
		usleep(100);
	}
}

static uint64_t reg(struct vmc_vcpu *v, unsigned int r)
{
	uint64_t x;

	ASSERT_OK(vmc_vcpu_get_reg(v, r, &x));
	return x;
}

static void test_errors(void)
{
	struct vmc_debug_stop st;
	struct vmc_vm_config c;
	struct vmc_vm *vm;
	struct vmc_vcpu *v;
	uint64_t pa;

	ASSERT_ERR(vmc_vcpu_debug_insert(NULL, VMC_DEBUG_BREAK_SW, 0, 0),
		   -EINVAL);
	ASSERT_ERR(vmc_vcpu_debug_remove(NULL, VMC_DEBUG_BREAK_SW, 0, 0),
		   -EINVAL);
	ASSERT_ERR(vmc_vcpu_debug_set_step(NULL, true), -EINVAL);
	ASSERT_ERR(vmc_vcpu_debug_get_stop(NULL, &st), -EINVAL);
	ASSERT_ERR(vmc_vcpu_debug_translate(NULL, 0, &pa), -EINVAL);
	ASSERT_ERR(vmc_vcpu_set_hold(NULL, true), -EINVAL);
	ASSERT_FALSE(vmc_vcpu_get_hold(NULL));
	ASSERT_NULL(vmc_vm_get_debug_vcpu(NULL));

	/* The harness has no CPU to debug. */
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_HARNESS;
	ASSERT_OK(vmc_vm_new(&c, &vm));
	v = vmc_vm_get_vcpu(vm, 0);
	ASSERT_ERR(vmc_vcpu_debug_insert(v, VMC_DEBUG_BREAK_SW, 0, 0),
		   -EOPNOTSUPP);
	ASSERT_ERR(vmc_vcpu_debug_remove(v, VMC_DEBUG_BREAK_SW, 0, 0),
		   -EOPNOTSUPP);
	ASSERT_ERR(vmc_vcpu_debug_set_step(v, true), -EOPNOTSUPP);
	ASSERT_ERR(vmc_vcpu_debug_translate(v, 0, &pa), -EOPNOTSUPP);
	ASSERT_ERR(vmc_vcpu_debug_translate(v, 0, NULL), -EINVAL);
	ASSERT_ERR(vmc_vcpu_debug_insert(v, (enum vmc_debug_kind)9, 0, 1),
		   -EINVAL);
	ASSERT_ERR(vmc_vcpu_debug_insert(v, VMC_DEBUG_WATCH_WRITE, 0, 0),
		   -EINVAL);
	ASSERT_OK(vmc_vcpu_debug_get_stop(v, &st));
	ASSERT_EQ(st.reason, VMC_DEBUG_STOP_NONE);
	ASSERT_NULL(vmc_vm_get_debug_vcpu(vm));
	ASSERT_STREQ(vmc_vm_state_to_string(VMC_VM_DEBUG), "debug");
	vmc_vm_unref(vm);
}

/* Breakpoint, step and watchpoint each stop the whole VM in DEBUG. */
static void test_debug_stops(void)
{
	struct vmc_debug_stop st;
	struct vmc_vcpu *v;
	struct tvm t;
	uint64_t pa;

	tvm_init(&t, 1);
	v = vmc_vm_get_vcpu(t.vm, 0);

	ASSERT_OK(vmc_vcpu_debug_translate(v, RAM + 0x123, &pa));
	ASSERT_EQ_U64(pa, RAM + 0x123);

	ASSERT_OK(vmc_vcpu_debug_insert(v, VMC_DEBUG_BREAK_SW, RAM + 8, 2));
	ASSERT_ERR(vmc_vcpu_debug_insert(v, VMC_DEBUG_BREAK_SW, RAM + 8, 2),
		   -EEXIST);
	ASSERT_OK(vmc_vm_start(t.vm));
	wait_state(t.vm, VMC_VM_DEBUG);
	ASSERT_PTR_EQ(vmc_vm_get_debug_vcpu(t.vm), v);
	ASSERT_OK(vmc_vcpu_debug_get_stop(v, &st));
	ASSERT_EQ(st.reason, VMC_DEBUG_STOP_BREAK);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), RAM + 8);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_X(5)), 1);
	/* Resuming with the breakpoint in place stops at once again. */
	ASSERT_OK(vmc_vm_resume(t.vm));
	wait_state(t.vm, VMC_VM_DEBUG);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), RAM + 8);
	ASSERT_OK(vmc_vcpu_debug_remove(v, VMC_DEBUG_BREAK_SW, RAM + 8, 2));
	ASSERT_ERR(vmc_vcpu_debug_remove(v, VMC_DEBUG_BREAK_SW, RAM + 8, 2),
		   -ENOENT);

	/* One step: exactly one instruction. */
	ASSERT_OK(vmc_vcpu_debug_set_step(v, true));
	ASSERT_OK(vmc_vm_resume(t.vm));
	wait_state(t.vm, VMC_VM_DEBUG);
	ASSERT_OK(vmc_vcpu_debug_get_stop(v, &st));
	ASSERT_EQ(st.reason, VMC_DEBUG_STOP_STEP);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), RAM + 12);

	/*
	 * A pending interrupt is taken by the step, not skipped: the step
	 * stops at the handler's first instruction, mepc at the next one.
	 */
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_CSR(0x305), RAM + 0x200));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_CSR(0x304), 1u << 7));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_CSR(0x300), 1u << 3));
	ASSERT_OK(vmc_vcpu_set_irq(v, VMC_RISCV_IRQ_MTIP, true));
	ASSERT_OK(vmc_vm_resume(t.vm));
	wait_state(t.vm, VMC_VM_DEBUG);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), RAM + 0x200);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_CSR(0x341)), RAM + 12);
	ASSERT_OK(vmc_vcpu_set_irq(v, VMC_RISCV_IRQ_MTIP, false));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_CSR(0x300), 0));
	ASSERT_OK(vmc_vcpu_set_reg(v, VMC_RISCV_REG_PC, RAM + 12));
	ASSERT_OK(vmc_vcpu_debug_set_step(v, false));

	/* A write watchpoint stops after the store. */
	ASSERT_OK(vmc_vcpu_debug_insert(v, VMC_DEBUG_WATCH_WRITE, DATA, 4));
	ASSERT_OK(vmc_vm_resume(t.vm));
	wait_state(t.vm, VMC_VM_DEBUG);
	ASSERT_OK(vmc_vcpu_debug_get_stop(v, &st));
	ASSERT_EQ(st.reason, VMC_DEBUG_STOP_WATCH);
	ASSERT_EQ(st.watch_kind, VMC_DEBUG_WATCH_WRITE);
	ASSERT_EQ_U64(st.watch_addr, DATA);
	ASSERT_EQ_U64(reg(v, VMC_RISCV_REG_PC), RAM + 12);
	ASSERT_OK(vmc_vcpu_debug_remove(v, VMC_DEBUG_WATCH_WRITE, DATA, 4));

	/* Without debug points it just runs; pausing works from DEBUG. */
	ASSERT_OK(vmc_vm_resume(t.vm));
	ASSERT_EQ(vmc_vm_get_state(t.vm), VMC_VM_RUNNING);
	ASSERT_NULL(vmc_vm_get_debug_vcpu(t.vm));
	usleep(20000);
	ASSERT_OK(vmc_vm_pause(t.vm));
	ASSERT_GT(reg(v, VMC_RISCV_REG_X(5)), 3);
	tvm_free(&t);
}

/* A held vCPU stays stopped while the VM runs. */
/*
 * Let the running VM go until @v's counter (x5) moves, then leave the VM
 * paused.  A fixed sleep is not enough on a loaded host, where a vCPU
 * thread may not be scheduled at all for tens of milliseconds.
 */
static void run_until_counted(struct tvm *t, struct vmc_vcpu *v)
{
	int64_t end = vmc_test_now_ns() + 10 * 1000000000LL;

	for (;;) {
		usleep(5000);
		ASSERT_OK(vmc_vm_pause(t->vm));
		if (reg(v, VMC_RISCV_REG_X(5)) > 0)
			return;
		ASSERT_LT(vmc_test_now_ns(), end);
		ASSERT_OK(vmc_vm_resume(t->vm));
	}
}

static void test_hold(void)
{
	struct vmc_vcpu *v0, *v1;
	uint64_t before;
	struct tvm t;

	tvm_init(&t, 2);
	v0 = vmc_vm_get_vcpu(t.vm, 0);
	v1 = vmc_vm_get_vcpu(t.vm, 1);
	/* The second vCPU skips the auipc and stores elsewhere: no guest
	 * data race between the two. */
	ASSERT_OK(vmc_vcpu_set_reg(v1, VMC_RISCV_REG_PC, RAM + 4));
	ASSERT_OK(vmc_vcpu_set_reg(v1, VMC_RISCV_REG_X(6), RAM + 0x1000));
	ASSERT_OK(vmc_vcpu_set_hold(v1, true));
	ASSERT_TRUE(vmc_vcpu_get_hold(v1));
	ASSERT_OK(vmc_vm_start(t.vm));
	/* The first vCPU runs; the held one never does. */
	run_until_counted(&t, v0);
	ASSERT_EQ(vmc_vcpu_get_state(v1), VMC_VCPU_STOPPED);
	ASSERT_EQ_U64(reg(v1, VMC_RISCV_REG_X(5)), 0);

	/* Releasing a held vCPU lets it run. */
	ASSERT_OK(vmc_vm_resume(t.vm));
	ASSERT_OK(vmc_vcpu_set_hold(v1, false));
	ASSERT_FALSE(vmc_vcpu_get_hold(v1));
	run_until_counted(&t, v1);

	/* Holding a vCPU keeps it stopped while the VM runs. */
	ASSERT_OK(vmc_vm_resume(t.vm));
	ASSERT_OK(vmc_vcpu_set_hold(v0, true));
	ASSERT_OK(vmc_vm_pause(t.vm));
	before = reg(v0, VMC_RISCV_REG_X(5));
	ASSERT_OK(vmc_vm_resume(t.vm));
	usleep(20000);
	ASSERT_OK(vmc_vm_pause(t.vm));
	ASSERT_EQ_U64(reg(v0, VMC_RISCV_REG_X(5)), before);
	tvm_free(&t);
}

static void test_gdbstub_setup(void)
{
	struct vmc_gdbstub *gs;
	struct vmc_loop *other;
	struct vmc_vm_config c;
	struct vmc_vm *harness;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char path[64];
	struct stat st;
	struct tvm t;
	int s, port;
	int64_t end;

	tvm_init(&t, 1);
	ASSERT_ERR(vmc_gdbstub_start(NULL, loop, "tcp::0", &gs), -EINVAL);
	ASSERT_ERR(vmc_gdbstub_start(t.vm, loop, NULL, &gs), -EINVAL);
	ASSERT_ERR(vmc_gdbstub_start(t.vm, loop, "tcp::0", NULL), -EINVAL);
	ASSERT_OK(vmc_loop_new(&other));
	ASSERT_ERR(vmc_gdbstub_start(t.vm, other, "tcp::0", &gs), -EINVAL);
	vmc_loop_unref(other);
	ASSERT_ERR(vmc_gdbstub_start(t.vm, loop, "pipe:x", &gs), -EINVAL);
	ASSERT_ERR(vmc_gdbstub_start(t.vm, loop, "tcp:1234", &gs), -EINVAL);
	ASSERT_ERR(vmc_gdbstub_start(t.vm, loop, "tcp::99999", &gs), -EINVAL);
	ASSERT_ERR(vmc_gdbstub_start(t.vm, loop, "tcp:nohost:1", &gs), -EINVAL);
	ASSERT_ERR(vmc_gdbstub_start(t.vm, loop, "unix:", &gs), -EINVAL);
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_HARNESS;
	ASSERT_OK(vmc_vm_new(&c, &harness));
	ASSERT_ERR(vmc_gdbstub_start(harness, loop, "tcp::0", &gs),
		   -EOPNOTSUPP);
	vmc_vm_unref(harness);
	vmc_gdbstub_stop(NULL);
	ASSERT_FALSE(vmc_gdbstub_is_connected(NULL));
	ASSERT_ERR(vmc_gdbstub_get_port(NULL), -EINVAL);

	/* TCP on a free loopback port; a client connects. */
	ASSERT_OK(vmc_gdbstub_start(t.vm, loop, "tcp::0", &gs));
	port = vmc_gdbstub_get_port(gs);
	ASSERT_GT(port, 0);
	ASSERT_FALSE(vmc_gdbstub_is_connected(gs));
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(s, 0);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_OK(connect(s, (struct sockaddr *)&sa, sizeof(sa)));
	end = vmc_test_now_ns() + 5000000000ll;
	while (!vmc_gdbstub_is_connected(gs) && vmc_test_now_ns() < end)
		vmc_loop_run_once(loop, false);
	ASSERT_TRUE(vmc_gdbstub_is_connected(gs));
	ASSERT_EQ(write(s, "$qC#b4", 6), 6);
	{
		char buf[16] = "";
		ssize_t n = 0;

		while (n < 9 && vmc_test_now_ns() < end) {
			ssize_t k;

			vmc_loop_run_once(loop, false);
			k = recv(s, buf + n, sizeof(buf) - 1 - (size_t)n,
				 MSG_DONTWAIT);
			if (k > 0)
				n += k;
		}
		ASSERT_STREQ(buf, "+$QC01#f5");
	}
	close(s);
	while (vmc_gdbstub_is_connected(gs) && vmc_test_now_ns() < end)
		vmc_loop_run_once(loop, false);
	ASSERT_FALSE(vmc_gdbstub_is_connected(gs));
	vmc_gdbstub_stop(gs);

	/* A Unix socket, mode 0600, removed on stop. */
	snprintf(path, sizeof(path), "/tmp/vmc-gdb-test-%d.sock", getpid());
	{
		char addr[80];

		snprintf(addr, sizeof(addr), "unix:%s", path);
		ASSERT_OK(vmc_gdbstub_start(t.vm, loop, addr, &gs));
	}
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ASSERT_ERR(vmc_gdbstub_get_port(gs), -ENOTSOCK);
	vmc_gdbstub_stop(gs);
	ASSERT_NE(stat(path, &st), 0);
	tvm_free(&t);
}

/* tcg has no dirty tracking yet: it says so rather than log nothing. */
static void test_dirty_log_tcg(void)
{
	uint64_t bm[1] = {0};
	struct tvm t;

	tvm_init(&t, 1);
	/* tcg logs through its write path (test-snapshot covers it); the
	 * KVM-only name still refuses. */
	ASSERT_ERR(vmc_vm_get_dirty_log(t.vm, t.ram, bm, 1), -ENOENT);
	ASSERT_OK(vmc_vm_set_dirty_logging(t.vm, t.ram, true));
	ASSERT_OK(vmc_vm_get_dirty_log(t.vm, t.ram, bm, 1));
	ASSERT_EQ(bm[0], 0);
	ASSERT_OK(vmc_vm_set_dirty_logging(t.vm, t.ram, false));
	ASSERT_ERR(vmc_kvm_set_dirty_logging(t.vm, t.ram, true), -EOPNOTSUPP);
	tvm_free(&t);
}

int main(void)
{
	ASSERT_OK(vmc_loop_new(&loop));
	RUN(test_errors);
	RUN(test_debug_stops);
	RUN(test_hold);
	RUN(test_gdbstub_setup);
	RUN(test_dirty_log_tcg);
	vmc_loop_unref(loop);
	return 0;
}
