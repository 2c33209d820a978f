/* SPDX-License-Identifier: MIT */
/*
 * Guest calls (vmc-sandbox.h), each side measured in the same run:
 *
 *  kvm: an empty guest call round trip (caller's thread; the guest's
 *       function is `xor eax, eax; hlt`) against a raw KVM_RUN with one
 *       port-I/O exit (a guest looping on `out`, one KVM_RUN per exit, as
 *       a hand-written VMM's loop).  Target <= 1.2x.  Also shown: the
 *       call completing through the doorbell (`out`), and on the vCPU's
 *       thread (a hand-off each way).
 *  tcg: the same empty call (RV64, `li a0, 0; wfi`) on the caller's
 *       thread against the vCPU's thread.  Target: >= 10x faster.
 *
 * Each round times CALLS calls per side, alternating; the figure is the
 * median over ROUNDS rounds of the per-round ratio.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "sandbox-guest.h"

#define ROUNDS 11
#define CALLS 200

static struct vmc_loop *loop;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

/* CALLS calls of @f; the mean in ns. */
static double time_calls(struct sg *g, enum sg_fn f)
{
	struct vmc_sandbox_call c;
	int64_t t0;

	sg_call_init(g, &c, f, 0, 0, 0);
	t0 = vmc_test_now_ns();
	for (int i = 0; i < CALLS; i++) {
		c.result = 1;
		if (vmc_sandbox_call(g->sb, &c) < 0 ||
		    c.result != (f == SG_RETDB ? 77 : 0))
			FAIL("call failed");
	}
	return (double)(vmc_test_now_ns() - t0) / CALLS;
}

/* ------------------------------------------------------------------------
 * The raw KVM side: real mode, `1: out 0xec, al; jmp 1b`.
 */
struct raw {
	int sys, vm, cpu;
	struct kvm_run *run;
	int run_size;
	uint8_t *mem;
};

static bool raw_open(struct raw *r)
{
	struct kvm_userspace_memory_region m = {.memory_size = 0x10000};
	struct kvm_regs regs = {.rip = 0x1000, .rflags = 2};
	struct kvm_sregs s;

	r->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (r->sys < 0)
		return false;
	r->vm = ioctl(r->sys, KVM_CREATE_VM, 0);
	r->mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->mem[0x1000] = 0xe6; /* out 0xec, al */
	r->mem[0x1001] = 0xec;
	r->mem[0x1002] = 0xeb; /* jmp 1b */
	r->mem[0x1003] = 0xfc;
	m.userspace_addr = (uintptr_t)r->mem;
	if (r->vm < 0 || ioctl(r->vm, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		FAIL("raw VM");
	r->cpu = ioctl(r->vm, KVM_CREATE_VCPU, 0);
	r->run_size = ioctl(r->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	r->run = mmap(NULL, (size_t)r->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, r->cpu, 0);
	ASSERT_OK(ioctl(r->cpu, KVM_GET_SREGS, &s));
	s.cs.base = 0;
	s.cs.selector = 0;
	ASSERT_OK(ioctl(r->cpu, KVM_SET_SREGS, &s));
	ASSERT_OK(ioctl(r->cpu, KVM_SET_REGS, &regs));
	return true;
}

static double raw_time(struct raw *r)
{
	int64_t t0 = vmc_test_now_ns();

	for (int i = 0; i < CALLS; i++)
		if (ioctl(r->cpu, KVM_RUN, 0) < 0 ||
		    r->run->exit_reason != KVM_EXIT_IO)
			FAIL("raw KVM_RUN");
	return (double)(vmc_test_now_ns() - t0) / CALLS;
}

static void raw_close(struct raw *r)
{
	munmap(r->run, (size_t)r->run_size);
	close(r->cpu);
	close(r->vm);
	close(r->sys);
	munmap(r->mem, 0x10000);
}

static void bench_kvm(void)
{
	double ratio[ROUNDS], db[ROUNDS], vt[ROUNDS], lt[ROUNDS], rt[ROUNDS];
	struct sg g, gv;
	struct raw r;

	if (!raw_open(&r) ||
	    !sg_open(&g, loop, VMC_ACCEL_KVM, VMC_SANDBOX_CALLER_THREAD)) {
		printf("kvm: skipped (no usable /dev/kvm)\n");
		return;
	}
	ASSERT_TRUE(sg_open(&gv, loop, VMC_ACCEL_KVM, 0));
	/* Warm up: the first call binds the vCPU to this thread. */
	time_calls(&g, SG_EMPTY);
	time_calls(&gv, SG_EMPTY);
	raw_time(&r);
	for (int k = 0; k < ROUNDS; k++) {
		double a, b;

		if (k & 1) {
			a = time_calls(&g, SG_EMPTY);
			b = raw_time(&r);
		} else {
			b = raw_time(&r);
			a = time_calls(&g, SG_EMPTY);
		}
		lt[k] = a;
		rt[k] = b;
		ratio[k] = a / b;
		db[k] = time_calls(&g, SG_RETDB) / b;
		vt[k] = time_calls(&gv, SG_EMPTY) / b;
	}
	printf("kvm: empty call %.2f us, raw KVM_RUN + PIO exit %.2f us: "
	       "ratio %.2f (target <= 1.2); through the doorbell %.2f, "
	       "on the vCPU thread %.2f\n",
	       median(lt, ROUNDS) / 1e3, median(rt, ROUNDS) / 1e3,
	       median(ratio, ROUNDS), median(db, ROUNDS), median(vt, ROUNDS));
	sg_close(&gv);
	sg_close(&g);
	raw_close(&r);
}

static void bench_tcg(void)
{
	double ratio[ROUNDS], ct[ROUNDS], vt[ROUNDS];
	struct sg gc, gv;

	if (!sg_open(&gc, loop, VMC_ACCEL_TCG, VMC_SANDBOX_CALLER_THREAD) ||
	    !sg_open(&gv, loop, VMC_ACCEL_TCG, 0)) {
		printf("tcg: skipped\n");
		return;
	}
	time_calls(&gc, SG_EMPTY);
	time_calls(&gv, SG_EMPTY);
	for (int k = 0; k < ROUNDS; k++) {
		double a = time_calls(&gc, SG_EMPTY);
		double b = time_calls(&gv, SG_EMPTY);

		ct[k] = a;
		vt[k] = b;
		ratio[k] = b / a;
	}
	printf("tcg: empty call on the caller's thread %.2f us, on the vCPU "
	       "thread %.2f us: %.1fx faster (target >= 10)\n",
	       median(ct, ROUNDS) / 1e3, median(vt, ROUNDS) / 1e3,
	       median(ratio, ROUNDS));
	sg_close(&gv);
	sg_close(&gc);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "";

	vmc_test_no_leak_check = true;
	ASSERT_OK(vmc_loop_new(&loop));
	printf("guest calls, median of %d rounds x %d calls\n", ROUNDS, CALLS);
	if (!*only || !strcmp(only, "kvm"))
		bench_kvm();
	if (!*only || !strcmp(only, "tcg"))
		bench_tcg();
	vmc_loop_unref(loop);
	return 0;
}
