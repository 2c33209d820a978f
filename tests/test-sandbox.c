/* SPDX-License-Identifier: MIT */
/*
 * Guest calls (vmc-sandbox.h): arguments and results, host callbacks, the
 * doorbell's return, a deadline on a guest that loops forever, a cancel
 * from another thread, a faulting guest, poisoning until a reset, and a
 * reset that puts memory and registers back byte for byte.  Every case
 * runs with calls on the vCPU's thread and on the caller's thread.
 * "test-sandbox" runs on tcg (RV64); "test-sandbox kvm" on KVM (x86-64,
 * skipped where /dev/kvm is unusable).  "stress" as a further argument
 * runs the cancel-vs-call-vs-reset stress case only (for TSan).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox-guest.h"
#include "sandbox-fuzz-body.h"

static struct vmc_loop *loop;
static enum vmc_accel accel;
static unsigned int mode; /* vmc_sandbox_config flags */

static void open_or_skip(struct sg *g)
{
	if (!sg_open(g, loop, accel, mode))
		SKIP("accelerator %d is not usable here", accel);
}

static int call(struct sg *g, enum sg_fn f, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t timeout_ns, uint64_t *result)
{
	struct vmc_sandbox_call c;
	int r;

	sg_call_init(g, &c, f, a0, a1, a2);
	c.timeout_ns = timeout_ns;
	r = vmc_sandbox_call(g->sb, &c);
	if (r == 0 && result)
		*result = c.result;
	return r;
}

static void test_args(void)
{
	struct sg g;
	uint64_t v = 0;

	open_or_skip(&g);
	ASSERT_OK(call(&g, SG_ADD, 1, 2, 3, 0, &v));
	ASSERT_EQ_U64(v, 6);
	for (uint64_t i = 0; i < 50; i++) {
		ASSERT_OK(call(&g, SG_ADD, i << 40, i, ~0ull, 0, &v));
		ASSERT_EQ_U64(v, (i << 40) + i - 1);
	}
	/* Returns through the doorbell, each followed by a call that must
	 * start where it says, not past a half-finished `out`. */
	for (int i = 0; i < 3; i++) {
		ASSERT_OK(call(&g, SG_RETDB, 0, 0, 0, 0, &v));
		ASSERT_EQ_U64(v, 77);
		ASSERT_OK(call(&g, SG_ADD, 7, 8, 9, 0, &v));
		ASSERT_EQ_U64(v, 24);
	}
	ASSERT_OK(call(&g, SG_RETDB, 0, 0, 0, 0, &v));
	ASSERT_OK(call(&g, SG_RETDB, 0, 0, 0, 0, &v));
	ASSERT_EQ_U64(v, 77);
	ASSERT_FALSE(vmc_sandbox_is_poisoned(g.sb));
	sg_close(&g);
}

struct host_state {
	uint64_t args[8];
	unsigned int calls;
	int fail;
};

static int host_cb(struct vmc_sandbox *sb, const uint64_t args[8],
		   uint64_t *ret, void *userdata)
{
	struct host_state *h = userdata;

	(void)sb;
	memcpy(h->args, args, sizeof(h->args));
	h->calls++;
	*ret = args[0] * 10 + args[1];
	return h->fail;
}

static void test_host_calls(void)
{
	struct host_state h = {0};
	struct snapshot_ref {
		struct vmc_snapshot *s;
	} snap;
	struct sg g;
	uint64_t v = 0;

	open_or_skip(&g);
	ASSERT_OK(vmc_snapshot_new(g.vm, &snap.s));
	/* No callback: -ENOSYS, and the function adds 1. */
	ASSERT_OK(call(&g, SG_HOST, 4, 5, 6, 0, &v));
	ASSERT_EQ_U64(v, (uint64_t)-ENOSYS + 1);
	ASSERT_ERR(vmc_sandbox_set_host_call(g.sb, 0, host_cb, &h), -EINVAL);
	ASSERT_ERR(vmc_sandbox_set_host_call(
			   g.sb, VMC_SANDBOX_MAX_HOST_CALLS + 1, host_cb, &h),
		   -EINVAL);
	ASSERT_OK(vmc_sandbox_set_host_call(g.sb, 1, host_cb, &h));
	for (unsigned int i = 0; i < 20; i++) {
		ASSERT_OK(call(&g, SG_HOST, i, 5, 6, 0, &v));
		ASSERT_EQ_U64(v, i * 10 + 5 + 1);
		ASSERT_EQ_U64(h.args[0], i);
		ASSERT_EQ_U64(h.args[1], 5);
		ASSERT_EQ_U64(h.args[2], 6);
	}
	ASSERT_EQ(h.calls, 20u);
	/* A failing callback ends the call with its error and poisons. */
	h.fail = -EPERM;
	ASSERT_ERR(call(&g, SG_HOST, 1, 2, 3, 0, &v), -EPERM);
	ASSERT_TRUE(vmc_sandbox_is_poisoned(g.sb));
	ASSERT_ERR(call(&g, SG_ADD, 1, 2, 3, 0, &v), -EIO);
	ASSERT_GE(vmc_sandbox_reset(g.sb, snap.s), 0);
	h.fail = 0;
	ASSERT_OK(call(&g, SG_HOST, 3, 4, 0, 0, &v));
	ASSERT_EQ_U64(v, 35);
	vmc_snapshot_free(snap.s);
	sg_close(&g);
}

static void test_deadline(void)
{
	struct vmc_snapshot *snap;
	struct sg g;
	uint64_t v = 0;
	int64_t t0, dt;

	open_or_skip(&g);
	ASSERT_OK(vmc_snapshot_new(g.vm, &snap));
	t0 = vmc_test_now_ns();
	ASSERT_ERR(call(&g, SG_LOOP, 0, 0, 0, 50 * 1000000ull, &v), -ETIMEDOUT);
	dt = vmc_test_now_ns() - t0;
	ASSERT_GE(dt, 50 * 1000000ll);
	ASSERT_LT(dt, 5 * 1000000000ll);
	ASSERT_TRUE(vmc_sandbox_is_poisoned(g.sb));
	ASSERT_ERR(call(&g, SG_ADD, 1, 2, 3, 0, &v), -EIO);
	ASSERT_GE(vmc_sandbox_reset(g.sb, snap), 0);
	ASSERT_FALSE(vmc_sandbox_is_poisoned(g.sb));
	/* A deadline that a quick call meets changes nothing. */
	ASSERT_OK(call(&g, SG_ADD, 1, 2, 3, 1000000000ull, &v));
	ASSERT_EQ_U64(v, 6);
	vmc_snapshot_free(snap);
	sg_close(&g);
}

static void *cancel_later(void *arg)
{
	struct sg *g = arg;

	usleep(50 * 1000);
	/* The call may not have started yet: retry until it has. */
	while (vmc_sandbox_cancel(g->sb) != 1)
		usleep(1000);
	return NULL;
}

static void test_cancel(void)
{
	struct vmc_snapshot *snap;
	struct sg g;
	pthread_t t;
	uint64_t v = 0;

	open_or_skip(&g);
	ASSERT_OK(vmc_snapshot_new(g.vm, &snap));
	ASSERT_EQ(vmc_sandbox_cancel(g.sb), 0);
	ASSERT_EQ(pthread_create(&t, NULL, cancel_later, &g), 0);
	ASSERT_ERR(call(&g, SG_LOOP, 0, 0, 0, 0, &v), -ECANCELED);
	pthread_join(t, NULL);
	ASSERT_TRUE(vmc_sandbox_is_poisoned(g.sb));
	ASSERT_ERR(call(&g, SG_ADD, 1, 2, 3, 0, &v), -EIO);
	ASSERT_GE(vmc_sandbox_reset(g.sb, snap), 0);
	ASSERT_OK(call(&g, SG_ADD, 1, 2, 3, 0, &v));
	ASSERT_EQ_U64(v, 6);
	vmc_snapshot_free(snap);
	sg_close(&g);
}

static void test_fault(void)
{
	struct vmc_snapshot *snap;
	struct sg g;
	uint64_t v = 0;

	open_or_skip(&g);
	ASSERT_OK(vmc_snapshot_new(g.vm, &snap));
	ASSERT_ERR(call(&g, SG_FAULT, 0, 0, 0, 10 * 1000000000ull, &v),
		   -EFAULT);
	ASSERT_TRUE(vmc_sandbox_is_poisoned(g.sb));
	ASSERT_ERR(call(&g, SG_ADD, 1, 2, 3, 0, &v), -EIO);
	/* The VM's run state is untouched: the host decides. */
	vmc_loop_run_once(loop, false);
	ASSERT_NE(vmc_vm_get_state(g.vm), VMC_VM_GUEST_ERROR);
	ASSERT_GE(vmc_sandbox_reset(g.sb, snap), 0);
	ASSERT_OK(call(&g, SG_ADD, 4, 5, 6, 0, &v));
	ASSERT_EQ_U64(v, 15);
	vmc_snapshot_free(snap);
	sg_close(&g);
}

static const unsigned int x86_regs[] = {
	VMC_X86_RAX, VMC_X86_RBX, VMC_X86_RCX, VMC_X86_RDX,
	VMC_X86_RSI, VMC_X86_RDI, VMC_X86_RSP, VMC_X86_RBP,
	VMC_X86_R8,  VMC_X86_R9,  VMC_X86_RIP, VMC_X86_RFLAGS};

static void read_regs(struct sg *g, uint64_t *v)
{
	struct vmc_vcpu *cpu = vmc_vm_get_vcpu(g->vm, 0);

	for (unsigned int i = 0; i < 12; i++)
		ASSERT_OK(vmc_vcpu_get_reg(
			cpu, g->x86 ? x86_regs[i] : (i < 11 ? i + 1 : 32),
			&v[i]));
}

static void test_reset(void)
{
	enum { PAGES = 16 };
	struct vmc_snapshot *snap;
	uint64_t before[12], after[12], v = 0;
	uint8_t *copy;
	struct sg g;
	int n;

	open_or_skip(&g);
	copy = malloc(SG_RAM_SIZE);
	ASSERT_NOT_NULL(copy);
	ASSERT_OK(call(&g, SG_ADD, 1, 1, 1, 0, &v)); /* some history */
	ASSERT_OK(vmc_snapshot_new(g.vm, &snap));
	memcpy(copy, g.mem, SG_RAM_SIZE);
	read_regs(&g, before);
	for (int round = 0; round < 3; round++) {
		ASSERT_OK(call(&g, SG_SCRIBBLE, 0x1234567800ull + round,
			       sg_addr(&g, SG_DATA), PAGES, 0, &v));
		ASSERT_EQ_U64(v, 0x1234567800ull + round);
		ASSERT_NE(memcmp(copy, g.mem, SG_RAM_SIZE), 0);
		n = vmc_sandbox_reset(g.sb, snap);
		/* The scribbled pages, the stack page, nothing much else. */
		ASSERT_GE(n, PAGES);
		ASSERT_LE(n, PAGES + 4);
		ASSERT_EQ(memcmp(copy, g.mem, SG_RAM_SIZE), 0);
		read_regs(&g, after);
		for (unsigned int i = 0; i < 12; i++)
			ASSERT_EQ_U64(after[i], before[i]);
	}
	free(copy);
	vmc_snapshot_free(snap);
	sg_close(&g);
}

/* x86: an MSR the guest writes (a WRMSR the snapshot's filter traps)
 * comes back at every reset, also after a reset that had nothing to
 * write.  (Vector registers are not checked here: KVM_GET_FPU reads the
 * legacy area even where XSTATE_BV marks it initial, so it cannot tell.) */
static void test_reset_x86_state(void)
{
	struct vmc_vcpu *cpu;
	struct vmc_snapshot *snap;
	uint64_t msr0, v;
	struct sg g;

	open_or_skip(&g);
	if (!g.x86) {
		sg_close(&g);
		return;
	}
	cpu = vmc_vm_get_vcpu(g.vm, 0);
	ASSERT_OK(vmc_snapshot_new(g.vm, &snap));
	ASSERT_OK(vmc_x86_vcpu_get_msr(cpu, 0xc0000082, &msr0));
	for (uint64_t round = 1; round <= 3; round++) {
		uint64_t lstar = 0xffffffff81000000ull + round * 0x1000;

		if (round != 2) /* round 2: the MSR untouched since reset */
			ASSERT_OK(call(&g, SG_WRMSR, lstar, 0, 0, 0, NULL));
		ASSERT_OK(vmc_x86_vcpu_get_msr(cpu, 0xc0000082, &v));
		ASSERT_EQ_U64(v, round != 2 ? lstar : msr0);
		ASSERT_GE(vmc_sandbox_reset(g.sb, snap), 0);
		ASSERT_OK(vmc_x86_vcpu_get_msr(cpu, 0xc0000082, &v));
		ASSERT_EQ_U64(v, msr0);
	}
	vmc_snapshot_free(snap);
	sg_close(&g);
}

static void test_errors(void)
{
	struct vmc_sandbox_config sc;
	struct vmc_sandbox_call c;
	struct vmc_sandbox *sb;
	struct sg g;

	open_or_skip(&g);
	ASSERT_ERR(vmc_sandbox_new(NULL, NULL, &sb), -EINVAL);
	ASSERT_ERR(vmc_sandbox_new(g.vm, NULL, NULL), -EINVAL);
	vmc_sandbox_config_init(&sc);
	sc.vcpu = 1;
	ASSERT_ERR(vmc_sandbox_new(g.vm, &sc, &sb), -EINVAL);
	vmc_sandbox_config_init(&sc);
	sc.flags = 1u << 9;
	ASSERT_ERR(vmc_sandbox_new(g.vm, &sc, &sb), -EINVAL);
	ASSERT_ERR(vmc_sandbox_call(g.sb, NULL), -EINVAL);
	sg_call_init(&g, &c, SG_ADD, 1, 2, 3);
	c.nr_args = 9;
	ASSERT_ERR(vmc_sandbox_call(g.sb, &c), -EINVAL);
	c.nr_args = 3;
	c.struct_size = 8;
	ASSERT_ERR(vmc_sandbox_call(g.sb, &c), -EINVAL);
	ASSERT_ERR(vmc_sandbox_cancel(NULL), -EINVAL);
	ASSERT_FALSE(vmc_sandbox_is_poisoned(NULL));
	ASSERT_ERR(vmc_sandbox_reset(g.sb, NULL), -EINVAL);
	/* No CPU, no calls. */
	{
		struct vmc_vm_config hc;
		struct vmc_vm *hvm;

		vmc_vm_config_init(&hc);
		hc.loop = loop;
		hc.accel = VMC_ACCEL_HARNESS;
		hc.arch = VMC_ARCH_NONE;
		ASSERT_OK(vmc_vm_new(&hc, &hvm));
		ASSERT_ERR(vmc_sandbox_new(hvm, NULL, &sb), -EOPNOTSUPP);
		vmc_vm_unref(hvm);
	}
	/* A running VM takes no calls. */
	ASSERT_OK(vmc_vm_start(g.vm));
	sg_call_init(&g, &c, SG_ADD, 1, 2, 3);
	ASSERT_ERR(vmc_sandbox_call(g.sb, &c), -EBUSY);
	ASSERT_OK(vmc_vm_pause(g.vm));
	sg_close(&g);
}

/* The fuzz target's body on edge and pseudo-random inputs (tcg only). */
static struct sbf fuzz_sbf;

static int fuzz_body(const uint8_t *data, size_t size)
{
	sbf_one(&fuzz_sbf, data, size);
	return 0;
}

static void test_fuzz(void)
{
	static uint8_t buf[1024];

	if (accel != VMC_ACCEL_TCG || mode != VMC_SANDBOX_CALLER_THREAD)
		return;
	if (!sbf_init(&fuzz_sbf, loop))
		SKIP("tcg is not usable here");
	vmc_test_fuzz_edges(fuzz_body);
	vmc_test_fuzz_noise(fuzz_body, buf, sizeof(buf), vmc_test_scale(200));
	/* Mostly valid code: random loads, stores, branches, CSR writes. */
	for (long i = 0; i < vmc_test_scale(200); i++) {
		size_t len = 64 + 4 * (vmc_test_rand() % 64);

		for (size_t k = 0; k < len; k += 4) {
			static const uint32_t ops[] = {0x03, 0x23, 0x13, 0x33,
						       0x63, 0x6f, 0x73, 0x37};
			uint32_t w = (uint32_t)vmc_test_rand();

			w = (w & ~0x7fu) | ops[vmc_test_rand() % 8];
			memcpy(buf + k, &w, 4);
		}
		fuzz_body(buf, len);
	}
	sbf_fini(&fuzz_sbf);
}

/* ------------------------------------------------------------------------
 * Stress: one thread calls (a loop long enough to be cancelled, or a
 * quick add), one cancels at random, one resets at random.  Every call
 * ends in a documented way, and a sandbox that is reset calls again.
 */

struct stress {
	struct sg g;
	struct vmc_snapshot *snap;
	_Atomic bool stop;
};

static void *stress_cancel(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = 1;

	while (!atomic_load(&s->stop)) {
		(void)vmc_sandbox_cancel(s->g.sb);
		(void)vmc_sandbox_is_poisoned(s->g.sb);
		usleep((useconds_t)(rand_r(&seed) % 300));
	}
	return NULL;
}

static void *stress_reset(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = 2;

	while (!atomic_load(&s->stop)) {
		int r = vmc_sandbox_reset(s->g.sb, s->snap);

		if (r < 0 && r != -EBUSY)
			FAIL("reset: %s", strerror(-r));
		usleep((useconds_t)(rand_r(&seed) % 500));
	}
	return NULL;
}

static void test_stress(void)
{
	struct stress s = {0};
	unsigned int ok = 0, cancelled = 0, refused = 0;
	pthread_t tc, tr;
	long n = vmc_test_scale(400);

	if (!sg_open(&s.g, loop, accel, mode))
		SKIP("accelerator %d is not usable here", accel);
	ASSERT_OK(vmc_snapshot_new(s.g.vm, &s.snap));
	ASSERT_EQ(pthread_create(&tc, NULL, stress_cancel, &s), 0);
	ASSERT_EQ(pthread_create(&tr, NULL, stress_reset, &s), 0);
	/* n calls, and on until both endings were seen (a slow sanitizer
	 * build can go n calls without one), for at most 20 s more. */
	int64_t give_up = vmc_test_now_ns() + 20000000000ll;
	for (long i = 0;
	     i < n || ((!ok || !cancelled) && vmc_test_now_ns() < give_up);
	     i++) {
		uint64_t v = 0;
		bool quick = i & 1;
		int r = call(&s.g, quick ? SG_ADD : SG_LOOP, (uint64_t)i, 1, 1,
			     quick ? 0 : 2 * 1000000ull, &v);

		if (r == 0) {
			ASSERT_TRUE(quick);
			ASSERT_EQ_U64(v, (uint64_t)i + 2);
			ok++;
		} else if (r == -ECANCELED || r == -ETIMEDOUT) {
			cancelled++;
		} else if (r == -EIO || r == -EBUSY) {
			/* Poisoned: the reset thread's turn. */
			refused++;
			usleep(200);
		} else {
			FAIL("call %ld: %s", i, strerror(-r));
		}
	}
	atomic_store(&s.stop, true);
	pthread_join(tc, NULL);
	pthread_join(tr, NULL);
	fprintf(stderr, "stress: %u ok, %u stopped, %u refused\n", ok,
		cancelled, refused);
	ASSERT_GT(ok, 0u);
	ASSERT_GT(cancelled, 0u);
	vmc_snapshot_free(s.snap);
	sg_close(&s.g);
}

static void log_cb(enum vmc_log_level level, const char *message,
		   void *userdata)
{
	(void)level;
	(void)userdata;
	fprintf(stderr, "log: %s\n", message);
}

int main(int argc, char **argv)
{
	bool stress = false;

	if (getenv("VMC_TEST_LOG"))
		vmc_set_log_handler(log_cb, VMC_LOG_DEBUG, NULL);

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "kvm"))
			accel = VMC_ACCEL_KVM;
		else if (!strcmp(argv[i], "stress"))
			stress = true;
	}
	if (!accel)
		accel = VMC_ACCEL_TCG;
	ASSERT_OK(vmc_loop_new(&loop));
	for (int m = 0; m < 2; m++) {
		mode = m ? VMC_SANDBOX_CALLER_THREAD : 0;
		fprintf(stderr, "== calls on the %s thread\n",
			m ? "caller's" : "vCPU's");
		if (stress) {
			RUN(test_stress);
			continue;
		}
		RUN(test_errors);
		RUN(test_args);
		RUN(test_host_calls);
		RUN(test_deadline);
		RUN(test_cancel);
		RUN(test_fault);
		RUN(test_reset);
		RUN(test_reset_x86_state);
		RUN(test_fuzz);
	}
	vmc_loop_unref(loop);
	return 0;
}
