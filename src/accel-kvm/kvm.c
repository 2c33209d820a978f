/* SPDX-License-Identifier: MIT */
/*
 * The KVM accelerator: VM creation on /dev/kvm, capability checks, the
 * kick signal, the memslot inhibit gate, and the VM-wide public calls of
 * vmc-kvm.h (interrupt lines, irqfds, debug handler).
 *
 * The only process-wide state is what POSIX makes process-wide: the kick
 * signal's disposition.  VMs that kick with the same signal share one
 * installation, counted; the last VM to go restores the previous action.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <libvmcore/vmc-loop.h>

#include "kvm-internal.h"

#define KVM_TSS_ADDR 0xfffbd000u
/*
 * GSIs the in-kernel irqchip routes by default: the I/O APIC's 24 pins
 * (the PICs' 16 lines are GSIs 0-15 of them).  The library sets no other
 * routing, so any other GSI reaches nothing.
 */
#define KVM_IRQCHIP_GSIS 24u

int vmc__kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r < 0 ? -errno : r;
}

static int kvm_check(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

/* Open /dev/kvm and check the API version: -ENODEV when unusable. */
static int kvm_open_sys(void)
{
	int fd, r;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		vmc__debug("kvm: cannot open /dev/kvm: %s", strerror(errno));
		return -ENODEV;
	}
	r = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		vmc__debug("kvm: API version %d, want %d", r, KVM_API_VERSION);
		close(fd);
		return -ENODEV;
	}
	return fd;
}

static int kvm_create_vm(int sys_fd)
{
	int r;

	do {
		r = ioctl(sys_fd, KVM_CREATE_VM, 0);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/*
 * A successful probe stays valid for the process's life (the device does
 * not go away under a running process in any way we could handle better),
 * so it is remembered: VMC_ACCEL_AUTO then costs no extra VM.  The probe
 * also reads every answer of /dev/kvm that cannot change within a process
 * (capabilities, the run area's size, the supported CPUID, a new vCPU's
 * power-on registers) from a scratch VM with one vCPU, so that creating a
 * VM asks the kernel only for the VM itself.  Capabilities asked of a VM
 * fd depend on the VM's type, and every VM here has the default type.
 */
static _Atomic int probe_ok;
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kvm_host host;

const struct kvm_host *vmc__kvm_host(void)
{
	return &host;
}

/*
 * KVM_GET_SUPPORTED_CPUID depends on the host and the module only, so one
 * copy serves every VM of the process.  Kept until exit.
 */
static struct kvm_cpuid2 *get_supported_cpuid(int sys_fd)
{
	unsigned int n = 64;

	for (;;) {
		struct kvm_cpuid2 *c;
		int r;

		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		r = vmc__kvm_ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c);
		if (r == 0)
			return c;
		free(c);
		if (r != -E2BIG || n >= 4096) {
			vmc__debug("kvm: KVM_GET_SUPPORTED_CPUID: %s",
				   strerror(-r));
			return NULL;
		}
		n *= 2;
	}
}

static void read_caps(int sys_fd, int vm_fd)
{
	host.required = kvm_check(sys_fd, KVM_CAP_IMMEDIATE_EXIT) &&
			kvm_check(sys_fd, KVM_CAP_USER_MEMORY) &&
			kvm_check(sys_fd, KVM_CAP_IOEVENTFD) &&
			kvm_check(sys_fd, KVM_CAP_EXT_CPUID);
	host.max_vcpus = kvm_check(sys_fd, KVM_CAP_MAX_VCPUS);
	if (host.max_vcpus <= 0)
		host.max_vcpus = kvm_check(sys_fd, KVM_CAP_NR_VCPUS);
	host.readonly_mem = kvm_check(sys_fd, KVM_CAP_READONLY_MEM);
	host.any_length_ioeventfd =
		kvm_check(sys_fd, KVM_CAP_IOEVENTFD_ANY_LENGTH);
	host.irqfd_resample = kvm_check(sys_fd, KVM_CAP_IRQFD_RESAMPLE);
	host.tss = kvm_check(vm_fd, KVM_CAP_SET_TSS_ADDR);
	host.irqchip = kvm_check(vm_fd, KVM_CAP_IRQCHIP);
	host.pit2 = kvm_check(vm_fd, KVM_CAP_PIT2);
	host.nr_memslots = kvm_check(vm_fd, KVM_CAP_NR_MEMSLOTS);
	/* What the snapshot and call paths lean on (x86/regs.c). */
	host.sync_regs =
		(kvm_check(vm_fd, KVM_CAP_SYNC_REGS) &
		 (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS |
		  KVM_SYNC_X86_EVENTS)) ==
		(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS);
	/* struct kvm_xsave holds 4 KiB; a larger area (AMX) needs XSAVE2. */
	host.xsave = kvm_check(vm_fd, KVM_CAP_XSAVE) > 0 &&
		     kvm_check(vm_fd, KVM_CAP_XSAVE2) <=
			     (int)sizeof(struct kvm_xsave);
	/* (USER_SPACE_MSR answers 1, not its mask of exit reasons.) */
	host.msr_filter = kvm_check(vm_fd, KVM_CAP_X86_MSR_FILTER) > 0 &&
			  kvm_check(vm_fd, KVM_CAP_X86_USER_SPACE_MSR) > 0;
}

static int probe_scratch(int sys_fd)
{
	int vm_fd, cpu_fd, r = 0;

	host.run_size = ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (host.run_size < (int)sizeof(struct kvm_run)) {
		vmc__debug("kvm: KVM_GET_VCPU_MMAP_SIZE says %d",
			   host.run_size);
		return -ENODEV;
	}
	host.cpuid = get_supported_cpuid(sys_fd);
	if (!host.cpuid)
		return -ENODEV;
	vm_fd = kvm_create_vm(sys_fd);
	if (vm_fd < 0) {
		vmc__debug("kvm: KVM_CREATE_VM failed: %s", strerror(-vm_fd));
		return -ENODEV;
	}
	read_caps(sys_fd, vm_fd);
	cpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0ul);
	if (cpu_fd < 0) {
		vmc__debug("kvm: KVM_CREATE_VCPU failed: %s", strerror(errno));
		r = -ENODEV;
	} else if (vmc__kvm_ioctl(cpu_fd, KVM_GET_REGS, &host.reset_regs) < 0 ||
		   vmc__kvm_ioctl(cpu_fd, KVM_GET_SREGS, &host.reset_sregs) <
			   0) {
		vmc__debug("kvm: reading a new vCPU's registers failed");
		r = -ENODEV;
	}
	if (cpu_fd >= 0)
		close(cpu_fd);
	close(vm_fd);
	return r;
}

static int kvm_probe(enum vmc_arch arch)
{
	int sys_fd, r;

	if (arch != VMC_ARCH_X86_64)
		return -EINVAL;
	if (atomic_load_explicit(&probe_ok, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&probe_lock);
	r = 0;
	if (!atomic_load_explicit(&probe_ok, memory_order_relaxed)) {
		sys_fd = kvm_open_sys();
		r = sys_fd < 0 ? sys_fd : probe_scratch(sys_fd);
		if (sys_fd >= 0)
			close(sys_fd);
		if (r == 0)
			atomic_store_explicit(&probe_ok, 1,
					      memory_order_release);
		else if (host.cpuid) {
			free(host.cpuid);
			host.cpuid = NULL;
		}
	}
	pthread_mutex_unlock(&probe_lock);
	return r;
}

/* ------------------------------------------------------------------------
 * The kick signal
 */

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int users;
	struct sigaction old;
} sig_install[_NSIG];

static void kick_handler(int sig)
{
	/*
	 * Nothing to do: the signal exists to interrupt KVM_RUN, and the
	 * kicker has already set immediate_exit.  It is blocked everywhere
	 * outside KVM_RUN, so this runs only if a host thread unblocked it.
	 */
	(void)sig;
}

static int kick_signal_get(int sig)
{
	int r = 0;

	pthread_mutex_lock(&sig_lock);
	if (sig_install[sig].users == 0) {
		struct sigaction sa = {.sa_handler = kick_handler};

		sigemptyset(&sa.sa_mask);
		if (sigaction(sig, &sa, &sig_install[sig].old) < 0)
			r = -errno;
	}
	if (r == 0)
		sig_install[sig].users++;
	pthread_mutex_unlock(&sig_lock);
	return r;
}

static void kick_signal_put(int sig)
{
	pthread_mutex_lock(&sig_lock);
	if (--sig_install[sig].users == 0)
		sigaction(sig, &sig_install[sig].old, NULL);
	pthread_mutex_unlock(&sig_lock);
}

void vmc__kvm_kick_raw(struct vmc_vcpu *vcpu)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);

	/* Not built yet, or gone: the next entry checks exit_request. */
	if (!kc || !atomic_load_explicit(&kc->alive, memory_order_acquire))
		return;
	/*
	 * immediate_exit first: if the vCPU is between its checks and the
	 * ioctl, the kernel sees the flag at entry; if it is inside, the
	 * signal (unblocked only there) interrupts it.
	 */
	__atomic_store_n(&kc->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	/*
	 * Dekker pair with the vCPU's store of in_kernel before it reads
	 * exit_request and enters: either we see it set and interrupt the
	 * ioctl, or its entry sees immediate_exit.  A vCPU outside (idle,
	 * running work) needs no signal, which saves a signal and a drain;
	 * nor does the vCPU's executor kicking itself from an exit, which
	 * checks exit_request before it enters again.
	 */
	if (atomic_load(&kc->in_kernel) && vmc_vcpu_current() != vcpu)
		vmc__accel_vcpu_signal(
			vcpu, kvm_vm_of(vmc_vcpu_get_vm(vcpu))->kick_signal);
}

/* ------------------------------------------------------------------------
 * The memslot inhibit gate
 */

void vmc__kvm_inhibit_begin(struct vmc_vm *vm)
{
	struct kvm_vm *kv = kvm_vm_of(vm);

	atomic_store(&kv->inhibit, 1);
	pthread_mutex_lock(&kv->gate_lock);
	while (atomic_load(&kv->in_run) > 0) {
		struct timespec ts;

		for (unsigned int i = 0; i < vmc_vm_get_vcpu_count(vm); i++)
			vmc__kvm_kick_raw(vmc_vm_get_vcpu(vm, i));
		/* Re-kick periodically: a kick can land just before entry. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&kv->gate_cond, &kv->gate_lock, &ts);
	}
	pthread_mutex_unlock(&kv->gate_lock);
}

void vmc__kvm_inhibit_end(struct vmc_vm *vm)
{
	struct kvm_vm *kv = kvm_vm_of(vm);

	pthread_mutex_lock(&kv->gate_lock);
	atomic_store(&kv->inhibit, 0);
	pthread_cond_broadcast(&kv->gate_cond);
	pthread_mutex_unlock(&kv->gate_lock);
}

/* ------------------------------------------------------------------------
 * VM creation and teardown
 */

static void kvm_vm_free(struct vmc_vm *vm, struct kvm_vm *kv)
{
	struct kvm_irqfd_entry *f;

	while ((f = kv->irqfds)) {
		kv->irqfds = f->next;
		free(f);
	}
	if (kv->fd >= 0)
		close(kv->fd);
	if (kv->kick_signal)
		kick_signal_put(kv->kick_signal);
	pthread_mutex_destroy(&kv->gate_lock);
	pthread_cond_destroy(&kv->gate_cond);
	pthread_mutex_destroy(&kv->irqfd_lock);
	free(kv);
	vmc__accel_vm(vm)->state = NULL;
}

static int kvm_vm_init(struct vmc_vm *vm)
{
	const struct vmc_kvm_config *cfg = vmc__accel_vm_config(vm);
	struct vmc_kvm_config c = {.size = sizeof(c)};
	struct kvm_vm *kv;
	int r, sys_fd;

	if (cfg) {
		vmc_assert_return(
			cfg->size >= offsetof(struct vmc_kvm_config, intack),
			-EINVAL);
		memcpy(&c, cfg, cfg->size < sizeof(c) ? cfg->size : sizeof(c));
	}
	vmc_assert_return(
		!(c.flags & ~(unsigned int)(VMC_KVM_IRQCHIP | VMC_KVM_PIT)),
		-EINVAL);
	vmc_assert_return(!(c.flags & VMC_KVM_PIT) ||
				  (c.flags & VMC_KVM_IRQCHIP),
			  -EINVAL);

	kv = calloc(1, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	kv->fd = -1;
	kv->intack = c.intack;
	kv->intack_opaque = c.intack_opaque;
	pthread_mutex_init(&kv->gate_lock, NULL);
	pthread_cond_init(&kv->gate_cond, NULL);
	pthread_mutex_init(&kv->irqfd_lock, NULL);
	vmc__accel_vm(vm)->state = kv;

	/* Every VM is created after a successful probe: a cheap check. */
	r = kvm_probe(VMC_ARCH_X86_64);
	if (r < 0)
		goto fail;
	if (!host.required) {
		vmc__err("kvm: the host lacks a required capability "
			 "(immediate exit, user memory, ioeventfd, cpuid)");
		r = -EOPNOTSUPP;
		goto fail;
	}
	if (host.max_vcpus > 0 &&
	    vmc_vm_get_vcpu_count(vm) > (unsigned int)host.max_vcpus) {
		vmc__err("kvm: %u vCPUs asked, the host allows %d",
			 vmc_vm_get_vcpu_count(vm), host.max_vcpus);
		r = -EOPNOTSUPP;
		goto fail;
	}
	kv->readonly_mem = host.readonly_mem;
	kv->any_length_ioeventfd = host.any_length_ioeventfd;
	kv->irqfd_resample = host.irqfd_resample;
	kv->run_size = host.run_size;
	kv->cpuid = host.cpuid;

	/* /dev/kvm is needed only to create the VM. */
	sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys_fd < 0) {
		r = errno == ENOMEM ? -ENOMEM : -ENODEV;
		goto fail;
	}
	r = kvm_create_vm(sys_fd);
	close(sys_fd);
	if (r < 0) {
		vmc__err("kvm: KVM_CREATE_VM: %s", strerror(-r));
		r = r == -ENOMEM ? r : -ENODEV;
		goto fail;
	}
	kv->fd = r;

	/*
	 * VMX without unrestricted guest needs a TSS and an identity map
	 * for real mode; the TSS goes where firmware expects nothing (just
	 * below the BIOS), as PC machines do.  The identity map's default
	 * address is the page below it, where PC machines put it too, so
	 * it is left alone.
	 */
	if (host.tss) {
		r = ioctl(kv->fd, KVM_SET_TSS_ADDR,
			  (unsigned long)KVM_TSS_ADDR);
		if (r < 0) {
			r = -errno;
			goto fail;
		}
	}

	if (c.flags & VMC_KVM_IRQCHIP) {
		if (!host.irqchip) {
			r = -EOPNOTSUPP;
			goto fail;
		}
		r = vmc__kvm_ioctl(kv->fd, KVM_CREATE_IRQCHIP, NULL);
		if (r < 0)
			goto fail;
		kv->irqchip = true;
	}
	if (c.flags & VMC_KVM_PIT) {
		struct kvm_pit_config pit = {.flags = 0};

		if (!host.pit2) {
			r = -EOPNOTSUPP;
			goto fail;
		}
		r = vmc__kvm_ioctl(kv->fd, KVM_CREATE_PIT2, &pit);
		if (r < 0)
			goto fail;
		kv->pit = true;
	}

	r = kick_signal_get(vmc__accel_vm_kick_signal(vm));
	if (r < 0)
		goto fail;
	kv->kick_signal = vmc__accel_vm_kick_signal(vm);

	r = vmc__kvm_memory_init(vm);
	if (r < 0)
		goto fail;
	r = vmc__kvm_x86_add_sections(vm);
	if (r < 0) {
		vmc__kvm_memory_destroy(vm);
		goto fail;
	}
	return 0;
fail:
	kvm_vm_free(vm, kv);
	return r;
}

static void kvm_vm_destroy(struct vmc_vm *vm)
{
	struct kvm_vm *kv = kvm_vm_of(vm);

	if (!kv)
		return;
	vmc__kvm_memory_destroy(vm);
	/* The vCPU state outlives the threads so late kicks stay safe. */
	for (unsigned int i = 0; i < vmc_vm_get_vcpu_count(vm); i++) {
		struct vmc__accel_vcpu *av =
			vmc__accel_vcpu(vmc_vm_get_vcpu(vm, i));
		struct kvm_vcpu *kc = av->state;

		if (!kc)
			continue;
		if (kc->run)
			munmap(kc->run, (size_t)kc->run_size);
		if (kc->fd >= 0)
			close(kc->fd);
		free(kc);
		av->state = NULL;
	}
	kvm_vm_free(vm, kv);
}

const struct vmc_accel_ops vmc__accel_kvm = {
	.name = "kvm",
	.type = VMC_ACCEL_KVM,
	.probe = kvm_probe,
	.vm_init = kvm_vm_init,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = vmc__kvm_vcpu_create,
	.vcpu_destroy = vmc__kvm_vcpu_destroy,
	.vcpu_run = vmc__kvm_vcpu_run,
	.vcpu_kick = vmc__kvm_vcpu_kick,
	.vcpu_has_work = vmc__kvm_vcpu_has_work,
	.vcpu_idle = vmc__kvm_vcpu_idle,
	.vcpu_reset = vmc__kvm_vcpu_reset,
	.vcpu_irq = vmc__kvm_vcpu_irq,
	.get_reg = vmc__kvm_get_reg,
	.set_reg = vmc__kvm_set_reg,
	.debug_insert = vmc__kvm_debug_insert,
	.debug_remove = vmc__kvm_debug_remove,
	.debug_step = vmc__kvm_debug_step,
	.debug_translate = vmc__kvm_debug_translate,
	.dirty_log_set = vmc__kvm_dirty_log_set,
	.dirty_log_get = vmc__kvm_dirty_log_get,
	.vcpu_save = vmc__kvm_vcpu_save,
	.vcpu_load = vmc__kvm_vcpu_load,
};

/* ------------------------------------------------------------------------
 * Public VM-wide calls
 */

VMC_EXPORT int vmc_kvm_has_irqchip(struct vmc_vm *vm)
{
	vmc_assert_return(vm, -EINVAL);
	if (!vmc__kvm_is(vm))
		return -EOPNOTSUPP;
	return kvm_vm_of(vm)->irqchip;
}

VMC_EXPORT int vmc_kvm_set_irq_line(struct vmc_vm *vm, unsigned int gsi,
				    bool level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level};

	vmc_assert_return(vm, -EINVAL);
	if (!vmc__kvm_is(vm) || !kvm_vm_of(vm)->irqchip)
		return -EOPNOTSUPP;
	/* The kernel ignores a line its routing lacks, and says 0. */
	vmc_assert_return(gsi < KVM_IRQCHIP_GSIS, -EINVAL);
	return vmc__kvm_ioctl(kvm_vm_of(vm)->fd, KVM_IRQ_LINE, &l);
}

VMC_EXPORT int vmc_kvm_irqfd_add(struct vmc_vm *vm, struct vmc_notifier *n,
				 unsigned int gsi,
				 struct vmc_notifier *resample)
{
	struct kvm_irqfd arg = {.gsi = gsi};
	struct kvm_vm *kv;
	struct kvm_irqfd_entry *f, *e;
	int r;

	vmc_assert_return(vm && n, -EINVAL);
	if (!vmc__kvm_is(vm) || !kvm_vm_of(vm)->irqchip)
		return -EOPNOTSUPP;
	vmc_assert_return(gsi < KVM_IRQCHIP_GSIS, -EINVAL);
	kv = kvm_vm_of(vm);
	if (resample && !kv->irqfd_resample)
		return -EOPNOTSUPP;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->n = n;
	f->gsi = gsi;
	f->fd = vmc_notifier_get_fd(n);
	f->resample_fd = resample ? vmc_notifier_get_fd(resample) : -1;
	if (f->fd < 0 || (resample && f->resample_fd < 0)) {
		free(f);
		return -EINVAL;
	}
	arg.fd = (uint32_t)f->fd;
	if (resample) {
		arg.flags = KVM_IRQFD_FLAG_RESAMPLE;
		arg.resamplefd = (uint32_t)f->resample_fd;
	}

	pthread_mutex_lock(&kv->irqfd_lock);
	for (e = kv->irqfds; e; e = e->next) {
		if (e->n == n) {
			pthread_mutex_unlock(&kv->irqfd_lock);
			free(f);
			return -EEXIST;
		}
	}
	r = vmc__kvm_ioctl(kv->fd, KVM_IRQFD, &arg);
	if (r == 0) {
		f->next = kv->irqfds;
		kv->irqfds = f;
	}
	pthread_mutex_unlock(&kv->irqfd_lock);
	if (r < 0)
		free(f);
	return r;
}

VMC_EXPORT int vmc_kvm_irqfd_remove(struct vmc_vm *vm, struct vmc_notifier *n,
				    unsigned int gsi)
{
	struct kvm_irqfd arg = {.gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN};
	struct kvm_vm *kv;
	struct kvm_irqfd_entry **pp, *f;
	int r = -ENOENT;

	vmc_assert_return(vm && n, -EINVAL);
	if (!vmc__kvm_is(vm))
		return -EOPNOTSUPP;
	kv = kvm_vm_of(vm);
	pthread_mutex_lock(&kv->irqfd_lock);
	for (pp = &kv->irqfds; (f = *pp); pp = &f->next) {
		if (f->n != n || f->gsi != gsi)
			continue;
		arg.fd = (uint32_t)f->fd;
		r = vmc__kvm_ioctl(kv->fd, KVM_IRQFD, &arg);
		*pp = f->next;
		free(f);
		break;
	}
	pthread_mutex_unlock(&kv->irqfd_lock);
	return r;
}

VMC_EXPORT int vmc_kvm_set_debug_handler(struct vmc_vm *vm, vmc_kvm_debug_cb cb,
					 void *opaque)
{
	bool taken;

	vmc_assert_return(vm, -EINVAL);
	if (!vmc__kvm_is(vm))
		return -EOPNOTSUPP;
	taken = !vmc_vm_lock_held(vm);
	if (taken)
		vmc_vm_lock(vm);
	kvm_vm_of(vm)->debug_cb = cb;
	kvm_vm_of(vm)->debug_opaque = opaque;
	if (taken)
		vmc_vm_unlock(vm);
	return 0;
}
