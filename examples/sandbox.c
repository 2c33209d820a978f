/* SPDX-License-Identifier: MIT */
/*
 * A sandbox host: it serves requests by running an untrusted guest
 * function on each one, in a VM put back to a snapshot after every
 * request, and prints its request rate.
 *
 *   sandbox [kvm|tcg|all] [requests]
 *
 * The guest function, handle(req, len), parses the request (counts its
 * ';'-separated fields), hashes it (FNV-1a), reports both to the host
 * through host call 1, bumps a request counter in its own memory and
 * returns the hash.  The host checks the hash, and checks that the counter
 * reads 1 after every request: the reset wiped what the previous request
 * left.  On KVM the guest is x86-64 in flat long mode; on tcg it is RV64.
 * Both run on the host's thread (VMC_SANDBOX_CALLER_THREAD), with a
 * deadline per request.
 *
 * Public API only.  The guest code is assembled from the listings in the
 * comments below (GNU as, `.option norvc` for RV64).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvmcore/libvmcore.h>

#define RAM_SIZE 0x200000u
#define CODE 0x1000    /* handle() */
#define COUNTER 0x8000 /* the guest's request counter */
#define STACK 0x9000   /* stack top */
#define REQ 0x10000    /* the request buffer */
#define REQ_MAX 0x1000 /* its size */
#define TABLES 0x20000 /* x86 page tables */
#define RV_BASE 0x80000000ull
#define RV_DOORBELL 0x10000000ull
#define DEADLINE_NS 100000000ull /* 100 ms per request */

/*
 * handle:	movabs $0xcbf29ce484222325, %rax
 *		movabs $0x100000001b3, %r8
 *		xor %ecx, %ecx
 *		test %rsi, %rsi
 *		jz 3f
 * 1:		movzbl (%rdi), %edx
 *		cmp $';', %dl
 *		jne 2f
 *		inc %ecx
 * 2:		xor %rdx, %rax
 *		imul %r8, %rax
 *		inc %rdi
 *		dec %rsi
 *		jnz 1b
 * 3:		incq 0x8000
 *		mov %rax, %r9
 *		mov %rcx, %rdi
 *		mov %rax, %rsi
 *		mov $1, %eax
 *		out %eax, $0xec		(host call 1: fields, hash)
 *		mov %r9, %rax
 *		ret
 * ret_tramp:	hlt			(completes the call, result in rax)
 */
static const uint8_t x86_code[] = {
	0x48, 0xb8, 0x25, 0x23, 0x22, 0x84, 0xe4, 0x9c, 0xf2, 0xcb, 0x49, 0xb8,
	0xb3, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x31, 0xc9, 0x48, 0x85,
	0xf6, 0x74, 0x19, 0x0f, 0xb6, 0x17, 0x80, 0xfa, 0x3b, 0x75, 0x02, 0xff,
	0xc1, 0x48, 0x31, 0xd0, 0x49, 0x0f, 0xaf, 0xc0, 0x48, 0xff, 0xc7, 0x48,
	0xff, 0xce, 0x75, 0xe7, 0x48, 0xff, 0x04, 0x25, 0x00, 0x80, 0x00, 0x00,
	0x49, 0x89, 0xc1, 0x48, 0x89, 0xcf, 0x48, 0x89, 0xc6, 0xb8, 0x01, 0x00,
	0x00, 0x00, 0xe7, 0xec, 0x4c, 0x89, 0xc8, 0xc3, 0xf4,
};
#define X86_RET_TRAMP 0x50

/*
 * handle:
 * 0:		auipc t2, %pcrel_hi(init)
 *		ld t0, %pcrel_lo(0b)(t2)
 * 4:		auipc t2, %pcrel_hi(prime)
 *		ld t1, %pcrel_lo(4b)(t2)
 *		li t3, 0
 *		li t4, ';'
 *		beqz a1, 3f
 * 1:		lbu t2, 0(a0)
 *		bne t2, t4, 2f
 *		addi t3, t3, 1
 * 2:		xor t0, t0, t2
 *		mul t0, t0, t1
 *		addi a0, a0, 1
 *		addi a1, a1, -1
 *		bnez a1, 1b
 * 3:		li t5, 0x80008000
 *		ld t6, 0(t5)
 *		addi t6, t6, 1
 *		sd t6, 0(t5)
 *		mv a0, t3
 *		mv a1, t0
 *		lui t5, 0x10000		(the doorbell)
 *		li t6, 1
 *		sd t6, 0(t5)		(host call 1: fields, hash)
 *		mv a0, t0
 *		ret
 * ret_tramp:	wfi			(completes the call, result in a0)
 *		j ret_tramp
 *		.balign 8
 * init:	.dword 0xcbf29ce484222325
 * prime:	.dword 0x100000001b3
 */
static const uint32_t rv_code[] = {
	0x00000397, 0x0783b283, 0x00000397, 0x0783b303, 0x00000e13, 0x03b00e93,
	0x02058263, 0x00054383, 0x01d39463, 0x001e0e13, 0x0072c2b3, 0x026282b3,
	0x00150513, 0xfff58593, 0xfe0592e3, 0x00010f37, 0x001f0f1b, 0x00ff1f13,
	0x000f3f83, 0x001f8f93, 0x01ff3023, 0x000e0513, 0x00028593, 0x10000f37,
	0x00100f93, 0x01ff3023, 0x00028513, 0x00008067, 0x10500073, 0xffdff06f,
	0x84222325, 0xcbf29ce4, 0x000001b3, 0x00000100,
};
#define RV_RET_TRAMP 0x70

struct host {
	enum vmc_accel accel;
	struct vmc_vm *vm;
	struct vmc_region *ram;
	uint8_t *mem;
	uint64_t base; /* guest-physical address of RAM */
	struct vmc_sandbox *sb;
	struct vmc_snapshot *snap;
	/* What the guest reported through host call 1. */
	uint64_t fields, hash;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--) {
		h ^= (uint8_t)*p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Host call 1: the guest reports what it parsed. */
static int report(struct vmc_sandbox *sb, const uint64_t args[8], uint64_t *ret,
		  void *userdata)
{
	struct host *h = userdata;

	(void)sb;
	h->fields = args[0];
	h->hash = args[1];
	*ret = 0;
	return 0;
}

static int host_open(struct host *h, struct vmc_loop *loop,
		     enum vmc_accel accel)
{
	struct vmc_sandbox_config sc;
	struct vmc_vm_config c;
	bool x86 = accel == VMC_ACCEL_KVM;
	int r;

	memset(h, 0, sizeof(*h));
	h->accel = accel;
	h->base = x86 ? 0 : RV_BASE;
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = accel;
	c.arch = x86 ? VMC_ARCH_X86_64 : VMC_ARCH_RISCV64;
	c.vcpus = 1;
	r = vmc_vm_new(&c, &h->vm);
	if (r < 0)
		return r;
	r = vmc_region_new_ram(vmc_vm_get_memory(h->vm), "ram", RAM_SIZE, 0,
			       &h->ram);
	if (r < 0)
		return r;
	r = vmc_region_add_subregion(vmc_vm_get_root(h->vm, VMC_AS_MEMORY),
				     h->base, h->ram, 0);
	if (r < 0)
		return r;
	h->mem = vmc_region_get_ptr(h->ram);
	if (x86) {
		memcpy(h->mem + CODE, x86_code, sizeof(x86_code));
		r = vmc_x86_vcpu_setup_long_mode(vmc_vm_get_vcpu(h->vm, 0),
						 h->mem + TABLES, TABLES, CODE,
						 STACK);
		if (r < 0)
			return r;
	} else {
		memcpy(h->mem + CODE, rv_code, sizeof(rv_code));
	}

	vmc_sandbox_config_init(&sc);
	sc.flags = VMC_SANDBOX_CALLER_THREAD;
	if (!x86)
		sc.doorbell = RV_DOORBELL;
	r = vmc_sandbox_new(h->vm, &sc, &h->sb);
	if (r < 0)
		return r;
	r = vmc_sandbox_set_host_call(h->sb, 1, report, h);
	if (r < 0)
		return r;
	/* The clean state every request starts from. */
	return vmc_snapshot_new(h->vm, &h->snap);
}

static void host_close(struct host *h)
{
	vmc_snapshot_free(h->snap);
	vmc_sandbox_free(h->sb);
	vmc_vm_unref(h->vm);
	vmc_region_unref(h->ram);
}

/* One request: run the guest on it, check what it said, reset. */
static int serve(struct host *h, const char *req, int64_t *call_ns,
		 int64_t *reset_ns)
{
	bool x86 = h->accel == VMC_ACCEL_KVM;
	struct vmc_address_space *as =
		vmc_vm_get_address_space(h->vm, VMC_AS_MEMORY);
	struct vmc_sandbox_call c;
	size_t len = strlen(req);
	uint64_t fields = 0, counter;
	int64_t t0, t1, t2;
	int r;

	if (len > REQ_MAX)
		return -E2BIG;
	r = vmc_as_write(as, h->base + REQ, req, len);
	if (r < 0)
		return r;
	vmc_sandbox_call_init(&c);
	c.entry = h->base + CODE;
	c.stack = h->base + STACK;
	c.return_address =
		h->base + CODE + (x86 ? X86_RET_TRAMP : RV_RET_TRAMP);
	c.args[0] = h->base + REQ;
	c.args[1] = len;
	c.nr_args = 2;
	c.timeout_ns = DEADLINE_NS;
	t0 = now_ns();
	r = vmc_sandbox_call(h->sb, &c);
	t1 = now_ns();
	if (r < 0) {
		fprintf(stderr, "request failed: %s\n", strerror(-r));
	} else {
		for (size_t i = 0; i < len; i++)
			fields += req[i] == ';';
		memcpy(&counter, h->mem + COUNTER, sizeof(counter));
		if (c.result != fnv1a(req, len) || h->hash != c.result ||
		    h->fields != fields || counter != 1) {
			fprintf(stderr,
				"wrong answer: hash %016llx fields %llu "
				"counter %llu\n",
				(unsigned long long)c.result,
				(unsigned long long)h->fields,
				(unsigned long long)counter);
			r = -EPROTO;
		}
	}
	/*
	 * The host's own write of the request is not in the dirty log:
	 * clear it, so the next request's guest sees none of this one.
	 * Then the reset puts back every page the guest wrote (a poisoned
	 * sandbox, after a timeout or a fault, included).
	 */
	memset(h->mem + REQ, 0, len);
	t2 = now_ns();
	if (vmc_sandbox_reset(h->sb, h->snap) < 0 && r == 0)
		r = -EIO;
	*call_ns += t1 - t0;
	*reset_ns += now_ns() - t2;
	return r;
}

static int run(struct vmc_loop *loop, enum vmc_accel accel, long n)
{
	const char *name = accel == VMC_ACCEL_KVM ? "kvm" : "tcg";
	int64_t call_ns = 0, reset_ns = 0, t0, dt;
	struct host h;
	char req[256];
	int r;

	r = host_open(&h, loop, accel);
	if (r < 0) {
		printf("%s: not available here (%s)\n", name, strerror(-r));
		if (h.vm)
			host_close(&h);
		return 0;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		snprintf(req, sizeof(req),
			 "GET /items/%ld;user=u%ld;accept=json;trace=%lx", i,
			 i % 97, (unsigned long)i * 2654435761u);
		r = serve(&h, req, &call_ns, &reset_ns);
		if (r < 0)
			break;
	}
	dt = now_ns() - t0;
	if (r == 0)
		printf("%s: %ld requests in %.1f ms: %.0f requests/s "
		       "(call %.1f us, reset %.1f us per request)\n",
		       name, n, (double)dt / 1e6, (double)n * 1e9 / (double)dt,
		       (double)call_ns / (double)n / 1e3,
		       (double)reset_ns / (double)n / 1e3);
	host_close(&h);
	return r;
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "all";
	long n = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
	struct vmc_loop *loop;
	int r = 0;

	if (n <= 0 || (strcmp(which, "kvm") && strcmp(which, "tcg") &&
		       strcmp(which, "all"))) {
		fprintf(stderr, "usage: %s [kvm|tcg|all] [requests]\n",
			argv[0]);
		return 2;
	}
	if (vmc_loop_new(&loop) < 0)
		return 1;
	if (strcmp(which, "tcg"))
		r = run(loop, VMC_ACCEL_KVM, n);
	if (r == 0 && strcmp(which, "kvm"))
		r = run(loop, VMC_ACCEL_TCG, n);
	vmc_loop_unref(loop);
	return r < 0 ? 1 : 0;
}
