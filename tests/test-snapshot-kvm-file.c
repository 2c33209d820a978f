/* SPDX-License-Identifier: MIT */
/*
 * Snapshot files and clones on KVM with a small bare-metal x86-64 guest
 * that counts in a register and writes the count to an I/O port at every
 * step:
 *
 * - paused mid-run and saved to a file, a fresh VM restored from it goes
 *   on with the next value;
 * - an in-memory snapshot's copy-on-write clone in a third VM does the
 *   same, and so does the first VM after a restore.
 *
 * Exits 77 where /dev/kvm is not usable.  (A version counting in an SSE
 * or AVX register, to prove the XSAVE state comes back, met #UD at its
 * first SSE instruction on this nested AMD host, with CR4.OSFXSR set: the
 * guest counts in a general register.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000
#define TABLES 0x8000
#define STACK 0x7000
#define PORT 0xf0
#define MAXV 4096

static struct vmc_loop *loop;

struct k {
	struct vmc_vm *vm;
	struct vmc_region *ram, *port;
	uint8_t *mem;
	int64_t v[MAXV];
	unsigned int n, pause_at;
};

static int port_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct k *k = opaque;

	if (k->n < MAXV)
		k->v[k->n++] = (int64_t)(int32_t)val;
	if (k->n == k->pause_at)
		vmc_vm_request_pause(k->vm);
	return 0;
}

static const struct vmc_region_ops port_ops = {
	.struct_size = sizeof(port_ops),
	.write = port_write,
	.min_access_size = 4,
	.max_access_size = 4,
};

static const uint8_t guest[] = {
	/* loop: */
	0x48, 0xff, 0xc3, /* inc rbx */
	0x89, 0xd8,	  /* mov eax, ebx */
	0xe7, PORT,	  /* out PORT, eax */
	0xeb, 0xf7,	  /* jmp loop */
};

static unsigned int kvm_flags; /* VMC_KVM_IRQCHIP, VMC_KVM_PIT */

static int k_new(struct k *k)
{
	struct vmc_kvm_config kc = {.size = sizeof(kc), .flags = kvm_flags};
	struct vmc_vm_config c;
	struct vmc_vcpu *v;
	int r;

	memset(k, 0, sizeof(*k));
	vmc_vm_config_init(&c);
	c.loop = loop;
	c.accel = VMC_ACCEL_KVM;
	c.arch = VMC_ARCH_X86_64;
	c.vcpus = 1;
	c.accel_config = &kc;
	r = vmc_vm_new(&c, &k->vm);
	if (r < 0)
		return r;
	ASSERT_OK(vmc_region_new_ram(vmc_vm_get_memory(k->vm), "ram", RAM_SIZE,
				     0, &k->ram));
	ASSERT_OK(vmc_region_new_io(vmc_vm_get_memory(k->vm), "port", 4,
				    &port_ops, k, 0, &k->port));
	ASSERT_OK(vmc_region_add_subregion(
		vmc_vm_get_root(k->vm, VMC_AS_MEMORY), 0, k->ram, 0));
	ASSERT_OK(vmc_region_add_subregion(vmc_vm_get_root(k->vm, VMC_AS_IO),
					   PORT, k->port, 0));
	k->mem = vmc_region_get_ptr(k->ram);
	memcpy(k->mem + CODE, guest, sizeof(guest));
	v = vmc_vm_get_vcpu(k->vm, 0);
	ASSERT_OK(vmc_x86_vcpu_setup_long_mode(v, k->mem + TABLES, TABLES, CODE,
					       STACK));
	return 0;
}

static void k_free(struct k *k)
{
	vmc_vm_pause(k->vm);
	vmc_region_remove_subregion(vmc_vm_get_root(k->vm, VMC_AS_IO), k->port);
	vmc_region_detach_ops(k->port);
	vmc_vm_unref(k->vm);
	vmc_region_unref(k->ram);
	vmc_region_unref(k->port);
}

/* Run until @n values are out (then pause). */
static void k_run(struct k *k, unsigned int n)
{
	int64_t end = vmc_test_now_ns() + 10 * 1000000000ll;

	k->pause_at = n;
	if (vmc_vm_get_state(k->vm) == VMC_VM_CREATED)
		ASSERT_OK(vmc_vm_start(k->vm));
	else
		ASSERT_OK(vmc_vm_resume(k->vm));
	while (vmc_vm_get_state(k->vm) == VMC_VM_RUNNING) {
		if (vmc_test_now_ns() > end)
			FAIL("guest stuck at %u values", k->n);
		vmc_loop_run_once(loop, false);
		usleep(100);
	}
	if (vmc_vm_get_state(k->vm) != VMC_VM_PAUSED)
		FAIL("state %s: %s",
		     vmc_vm_state_to_string(vmc_vm_get_state(k->vm)),
		     vmc_vm_get_error(k->vm));
}

/* v[from..n) counts on from @first. */
static void check_counts(const struct k *k, unsigned int from, int64_t first)
{
	for (unsigned int i = from; i < k->n; i++)
		if (k->v[i] != first + (int64_t)(i - from))
			FAIL("value %u is %lld, want %lld", i,
			     (long long)k->v[i],
			     (long long)(first + (int64_t)(i - from)));
}

static void run_all(void)
{
	struct k a, b, c;
	struct vmc_snapshot *snap, *cs;
	int64_t last;
	int fd, r;

	r = k_new(&a);
	if (r == -ENODEV || r == -EOPNOTSUPP)
		SKIP("KVM is not usable here (%s)", strerror(-r));
	ASSERT_OK(r);

	k_run(&a, 300);
	ASSERT_GE(a.n, 300);
	check_counts(&a, 0, 1);
	last = a.v[a.n - 1];
	fd = memfd_create("snap", MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_OK(vmc_vm_save_fd(a.vm, fd));
	ASSERT_OK(vmc_snapshot_new(a.vm, &snap));

	/* A fresh VM from the file. */
	ASSERT_OK(k_new(&b));
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	ASSERT_OK(vmc_vm_load_fd(b.vm, fd));
	k_run(&b, 200);
	check_counts(&b, 0, last + 1);

	/* A VM without the in-kernel devices lacks their sections. */
	if (kvm_flags) {
		struct k d;
		unsigned int flags = kvm_flags;

		kvm_flags = 0;
		ASSERT_OK(k_new(&d));
		kvm_flags = flags;
		ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
		ASSERT_ERR(vmc_vm_load_fd(d.vm, fd), -EINVAL);
		k_free(&d);
	}

	/* A clone of the in-memory snapshot. */
	ASSERT_OK(k_new(&c));
	ASSERT_OK(vmc_snapshot_clone(snap, c.vm, &cs));
	k_run(&c, 200);
	check_counts(&c, 0, last + 1);

	/* The first VM runs on, then back to the snapshot. */
	k_run(&a, a.n + 500);
	check_counts(&a, 0, 1);
	ASSERT_GE(vmc_snapshot_restore(a.vm, snap), 0);
	a.n = 0;
	k_run(&a, 100);
	check_counts(&a, 0, last + 1);
	fprintf(stderr,
		"ok: saved at %lld, the file, a clone and a restore "
		"go on from %lld\n",
		(long long)last, (long long)last + 1);

	close(fd);
	vmc_snapshot_free(cs);
	vmc_snapshot_free(snap);
	k_free(&c);
	k_free(&b);
	k_free(&a);
}

int main(void)
{
	ASSERT_OK(vmc_loop_new(&loop));
	run_all();
	/* With the in-kernel PICs, I/O APIC and PIT: their sections too. */
	kvm_flags = VMC_KVM_IRQCHIP | VMC_KVM_PIT;
	run_all();
	vmc_loop_unref(loop);
	return 0;
}
