/* SPDX-License-Identifier: MIT */
/*
 * KVM vCPUs: creation on the vCPU thread, the KVM_RUN loop, exits,
 * interrupt injection without the in-kernel irqchip, and the kick.
 *
 * The loop stays inside vcpu_run across PIO and MMIO exits (dispatched
 * through the flat views, the memory API taking the VM lock per region
 * callback) and returns to core for everything else.  When core asks the
 * vCPU to stop right after an I/O exit, KVM_RUN is still entered once, with
 * immediate_exit set, because the kernel finishes the emulated instruction
 * (stores the read value, advances RIP) at the start of the next KVM_RUN,
 * before it looks at immediate_exit.
 *
 * The kick signal is blocked on the vCPU thread at all times (core starts
 * vCPU threads with every signal blocked); KVM_SET_SIGNAL_MASK makes the
 * kernel unblock it only while inside KVM_RUN.  A kick that arrives outside
 * stays pending, so after KVM_RUN returns -EINTR the pending signals are
 * drained, and immediate_exit covers a kick that arrives between the last
 * check and the ioctl.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm-internal.h"

#define DEFAULT_INTR_VECTOR 32
/* IA32_APIC_BASE: this is the bootstrap processor. */
#define APIC_BASE_BSP (1u << 8)

static int set_signal_mask(struct kvm_vcpu *kc)
{
	struct {
		struct kvm_signal_mask m;
		uint8_t set[8];
	} arg;

	arg.m.len = 8; /* the kernel's sigset_t on x86-64 */
	memcpy(arg.set, &kc->run_sigmask, sizeof(arg.set));
	return vmc__kvm_ioctl(kc->fd, KVM_SET_SIGNAL_MASK, &arg);
}

static struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *src,
					 unsigned int index)
{
	size_t sz = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);

	if (!c)
		return NULL;
	memcpy(c, src, sz);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		/* Each vCPU reports its own initial APIC ID. */
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (index << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = index;
	}
	return c;
}

/*
 * On the loop thread, before the vCPU thread starts, with the mask that
 * thread starts with.  Builds only userspace state: the kernel's vCPU
 * waits for vmc__kvm_vcpu_realize().
 */
int vmc__kvm_vcpu_create(struct vmc_vcpu *vcpu)
{
	struct kvm_vm *kv = kvm_vm_of(vmc_vcpu_get_vm(vcpu));
	struct kvm_vcpu *kc;
	sigset_t s;

	kc = calloc(1, sizeof(*kc));
	if (!kc)
		return -ENOMEM;
	kc->fd = -1;
	kc->run_size = kv->run_size;
	kc->as_io = vmc_vm_get_address_space(vmc_vcpu_get_vm(vcpu), VMC_AS_IO);
	kc->as_memory =
		vmc_vm_get_address_space(vmc_vcpu_get_vm(vcpu), VMC_AS_MEMORY);
	/* vm_destroy frees it. */
	vmc__accel_vcpu(vcpu)->state = kc;

	/*
	 * KVM_RUN runs with the vCPU thread's mask (everything blocked but
	 * what the C library reserves for itself) minus the kick signal.
	 */
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	sigdelset(&s, kv->kick_signal);
	memcpy(&kc->run_sigmask, &s, sizeof(kc->run_sigmask));

	/*
	 * The power-on state, for resets and as the register cache until
	 * the vCPU exists: what the kernel gives a new vCPU, which differs
	 * between vCPUs only in the APIC base's BSP flag.  The FPU's is
	 * architectural (FCW 0x37f, MXCSR 0x1f80, all else zero).
	 */
	kc->init_regs = vmc__kvm_host()->reset_regs;
	kc->init_sregs = vmc__kvm_host()->reset_sregs;
	if (vmc_vcpu_get_index(vcpu))
		kc->init_sregs.apic_base &= ~(uint64_t)APIC_BASE_BSP;
	kc->init_fpu.fcw = 0x37f;
	kc->init_fpu.mxcsr = 0x1f80;
	kc->regs = kc->init_regs;
	kc->sregs = kc->init_sregs;
	kc->regs_valid = kc->sregs_valid = true;
	return 0;
}

int vmc__kvm_vcpu_realize(struct vmc_vcpu *vcpu)
{
	struct kvm_vm *kv = kvm_vm_of(vmc_vcpu_get_vm(vcpu));
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	struct kvm_cpuid2 *cpuid;
	void *run;
	int fd, r;

	if (likely(kc->fd >= 0))
		return atomic_load_explicit(&kc->alive, memory_order_relaxed)
			       ? 0
			       : -EIO;
	fd = ioctl(kv->fd, KVM_CREATE_VCPU,
		   (unsigned long)vmc_vcpu_get_index(vcpu));
	if (fd < 0) {
		r = -errno;
		vmc__err("kvm: KVM_CREATE_VCPU %u: %s",
			 vmc_vcpu_get_index(vcpu), strerror(-r));
		return r;
	}
	run = mmap(NULL, (size_t)kv->run_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (run == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	kc->fd = fd;
	kc->run = run;
	/* Every exit reports the general registers (x86/regs.c). */
	if (vmc__kvm_host()->sync_regs)
		kc->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	r = set_signal_mask(kc);
	if (r < 0)
		goto fail;
	cpuid = cpuid_for_vcpu(kv->cpuid, vmc_vcpu_get_index(vcpu));
	if (!cpuid) {
		r = -ENOMEM;
		goto fail;
	}
	r = vmc__kvm_x86_set_cpuid(vcpu, cpuid);
	free(cpuid);
	if (r < 0)
		goto fail;
	/* Kicks may now reach it; the cache's writes go in before entry. */
	atomic_store_explicit(&kc->alive, true, memory_order_release);
	return 0;
fail:
	/* A vCPU id cannot be created twice: keep it, unusable. */
	vmc__err("kvm: setting up vCPU %u: %s", vmc_vcpu_get_index(vcpu),
		 strerror(-r));
	return r;
}

void vmc__kvm_vcpu_destroy(struct vmc_vcpu *vcpu)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);

	/* The fd and the run page stay until the VM goes (late kicks). */
	if (kc)
		atomic_store(&kc->alive, false);
}

void vmc__kvm_vcpu_kick(struct vmc_vcpu *vcpu)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);

	if (kc && atomic_load(&kc->alive))
		vmc__kvm_kick_raw(vcpu);
}

bool vmc__kvm_vcpu_has_work(struct vmc_vcpu *vcpu)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);

	if (kvm_vm_of(vmc_vcpu_get_vm(vcpu))->irqchip)
		return false;
	if (atomic_load(&kc->nmi_pending))
		return true;
	/*
	 * HLT exits happen with the guest's IF as the kernel reported it;
	 * a vCPU halted before it ever ran has its power-on flags cached.
	 */
	return (atomic_load(&vmc__accel_vcpu(vcpu)->irqs) &
		(1u << VMC_KVM_LINE_INTR)) &&
	       (kc->run ? kc->run->if_flag : !!(kc->regs.rflags & 0x200));
}

bool vmc__kvm_vcpu_idle(struct vmc_vcpu *vcpu)
{
	/* With the irqchip in the kernel, HLT waits in KVM_RUN. */
	return !kvm_vm_of(vmc_vcpu_get_vm(vcpu))->irqchip;
}

void vmc__kvm_vcpu_irq(struct vmc_vcpu *vcpu, unsigned int line, bool level)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);

	/*
	 * INTR is read from the view's irqs before each entry; an NMI is an
	 * edge, counted here and injected by the vCPU thread.  Core kicks
	 * the vCPU after a rising edge.
	 */
	if (kc && line == VMC_KVM_LINE_NMI && level)
		atomic_fetch_add(&kc->nmi_pending, 1);
}

/* Without the in-kernel irqchip: inject what the lines ask for. */
static void inject_interrupts(struct vmc_vcpu *vcpu, struct kvm_vcpu *kc,
			      struct kvm_vm *kv)
{
	struct kvm_run *run = kc->run;

	if (unlikely(atomic_load_explicit(&kc->nmi_pending,
					  memory_order_relaxed))) {
		if (vmc__kvm_ioctl(kc->fd, KVM_NMI, NULL) == 0)
			atomic_fetch_sub(&kc->nmi_pending, 1);
	}
	if (!(atomic_load_explicit(&vmc__accel_vcpu(vcpu)->irqs,
				   memory_order_acquire) &
	      (1u << VMC_KVM_LINE_INTR))) {
		run->request_interrupt_window = 0;
		return;
	}
	if (run->ready_for_interrupt_injection && run->if_flag) {
		struct kvm_interrupt irq;
		int vec;

		vmc_vm_lock(vmc_vcpu_get_vm(vcpu));
		if (!(atomic_load(&vmc__accel_vcpu(vcpu)->irqs) &
		      (1u << VMC_KVM_LINE_INTR)))
			vec = -1;
		else if (kv->intack)
			vec = kv->intack(vcpu, kv->intack_opaque);
		else
			vec = DEFAULT_INTR_VECTOR;
		vmc_vm_unlock(vmc_vcpu_get_vm(vcpu));
		if (vec >= 0 && vec <= 255) {
			irq.irq = (uint32_t)vec;
			if (vmc__kvm_ioctl(kc->fd, KVM_INTERRUPT, &irq) < 0)
				vmc__debug("kvm: KVM_INTERRUPT refused");
		}
		/* Ask again if the line is still up after this one. */
		run->request_interrupt_window =
			!!(atomic_load(&vmc__accel_vcpu(vcpu)->irqs) &
			   (1u << VMC_KVM_LINE_INTR));
	} else {
		run->request_interrupt_window = 1;
	}
}

/* After -EINTR: forget the kick so the next entry is not cut short. */
static void eat_kick(struct kvm_vcpu *kc, int sig)
{
	static const struct timespec zero;
	sigset_t set;

	__atomic_store_n(&kc->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	sigemptyset(&set);
	sigaddset(&set, sig);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

static int handle_debug(struct vmc_vcpu *vcpu, struct kvm_run *run)
{
	struct kvm_vm *kv = kvm_vm_of(vmc_vcpu_get_vm(vcpu));
	struct vmc_kvm_debug_exit info = {
		.exception = run->debug.arch.exception,
		.pc = run->debug.arch.pc,
		.dr6 = run->debug.arch.dr6,
		.dr7 = run->debug.arch.dr7,
	};

	vmc__kvm_debug_record(vcpu, info.exception, info.dr6);
	vmc_vm_lock(vmc_vcpu_get_vm(vcpu));
	if (kv->debug_cb)
		kv->debug_cb(vcpu, &info, kv->debug_opaque);
	vmc_vm_unlock(vmc_vcpu_get_vm(vcpu));
	return VMC__EXIT_DEBUG;
}

static int handle_internal_error(struct vmc_vcpu *vcpu, struct kvm_run *run)
{
	char data[128] = "";
	size_t n = 0;
	uint32_t nd = run->internal.ndata;

	if (nd > ARRAY_SIZE(run->internal.data))
		nd = ARRAY_SIZE(run->internal.data);
	for (uint32_t i = 0; i < nd && n < sizeof(data) - 20; i++)
		n += (size_t)snprintf(
			data + n, sizeof(data) - n, " 0x%llx",
			(unsigned long long)run->internal.data[i]);
	vmc__vcpu_guest_error(vcpu, "KVM internal error, suberror %u%s%s",
			      run->internal.suberror, nd ? ", data" : "", data);
	return VMC__EXIT_ERROR;
}

static int handle_system_event(struct vmc_vcpu *vcpu, struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vmc_vm_request_shutdown(vmc_vcpu_get_vm(vcpu), 0);
		return VMC__EXIT_SHUTDOWN;
	case KVM_SYSTEM_EVENT_RESET:
		vmc_vm_request_reset(vmc_vcpu_get_vm(vcpu));
		return VMC__EXIT_KICKED;
	default:
		vmc__vcpu_guest_error(vcpu, "KVM system event %u",
				      run->system_event.type);
		return VMC__EXIT_ERROR;
	}
}

/* The gate of kvm-internal.h, vCPU side. */
static void gate_enter(struct kvm_vm *kv)
{
	for (;;) {
		atomic_fetch_add(&kv->in_run, 1);
		if (likely(!atomic_load(&kv->inhibit)))
			return;
		pthread_mutex_lock(&kv->gate_lock);
		if (atomic_fetch_sub(&kv->in_run, 1) == 1)
			pthread_cond_broadcast(&kv->gate_cond);
		while (atomic_load(&kv->inhibit))
			pthread_cond_wait(&kv->gate_cond, &kv->gate_lock);
		pthread_mutex_unlock(&kv->gate_lock);
	}
}

static void gate_leave(struct kvm_vm *kv)
{
	if (atomic_fetch_sub(&kv->in_run, 1) == 1 &&
	    unlikely(atomic_load(&kv->inhibit))) {
		pthread_mutex_lock(&kv->gate_lock);
		pthread_cond_broadcast(&kv->gate_cond);
		pthread_mutex_unlock(&kv->gate_lock);
	}
}

int vmc__kvm_vcpu_run(struct vmc_vcpu *vcpu)
{
	struct kvm_vm *kv = kvm_vm_of(vmc_vcpu_get_vm(vcpu));
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	struct kvm_run *run;
	int r;

	/*
	 * in_kernel stays set across the I/O exits handled in this loop: a
	 * kick during a dispatch then sends a signal, which stays pending
	 * (blocked outside KVM_RUN) and makes the next entry return at
	 * once; without a kick, each exit saves a full barrier.
	 */
	if (unlikely(!atomic_load_explicit(&kc->alive, memory_order_relaxed))) {
		r = vmc__kvm_vcpu_realize(vcpu);
		if (r < 0) {
			vmc__vcpu_guest_error(vcpu, "creating the vCPU: %s",
					      strerror(-r));
			return VMC__EXIT_ERROR;
		}
	}
	run = kc->run;
	atomic_store(&kc->in_kernel, 1);
	for (;;) {
		if (atomic_load_explicit(&vmc__accel_vcpu(vcpu)->exit_request,
					 memory_order_acquire))
			__atomic_store_n(&run->immediate_exit, 1,
					 __ATOMIC_SEQ_CST);
		if (!kv->irqchip)
			inject_interrupts(vcpu, kc, kv);
		if (unlikely(kc->regs_dirty || kc->sregs_dirty ||
			     kc->events_dirty)) {
			r = vmc__kvm_regs_stage(kc);
			if (r < 0) {
				atomic_store_explicit(&kc->in_kernel, 0,
						      memory_order_relaxed);
				vmc__vcpu_guest_error(
					vcpu, "writing back registers: %s",
					strerror(-r));
				return VMC__EXIT_ERROR;
			}
		}

		/*
		 * Inside KVM_RUN the thread holds no flat-view pointer: let
		 * reclamation proceed however long the guest runs.
		 */
		vmc__accel_vcpu_offline(vcpu);
		gate_enter(kv);
		r = ioctl(kc->fd, KVM_RUN, 0);
		gate_leave(kv);
		vmc__accel_vcpu_online(vcpu);
		/* The registers as the exit left them; sregs may have moved. */
		kc->sregs_valid = false;
		vmc__kvm_regs_exited(kc);

		if (r >= 0 && run->exit_reason == KVM_EXIT_IO) {
			vmc__kvm_pio(vcpu, run);
			if (unlikely(vmc__accel_vcpu(vcpu)->exit_now)) {
				/* The port write completes (RIP moves past
				 * it) at the next KVM_RUN, after the new
				 * registers: see accel.h. */
				vmc__accel_vcpu(vcpu)->exit_now = false;
				atomic_store_explicit(&kc->in_kernel, 0,
						      memory_order_relaxed);
				/* The executor's own kick set it; the next
				 * entry re-derives it from exit_request. */
				__atomic_store_n(&run->immediate_exit, 0,
						 __ATOMIC_SEQ_CST);
				return VMC__EXIT_KICKED;
			}
			continue;
		}
		if (r >= 0 && run->exit_reason == KVM_EXIT_MMIO) {
			vmc__kvm_mmio(vcpu, run);
			continue;
		}
		atomic_store_explicit(&kc->in_kernel, 0, memory_order_relaxed);

		if (r < 0) {
			r = errno;
			if (r == EINTR || r == EAGAIN) {
				eat_kick(kc, kv->kick_signal);
				return VMC__EXIT_KICKED;
			}
			vmc__vcpu_guest_error(vcpu, "KVM_RUN failed: %s",
					      strerror(r));
			return VMC__EXIT_ERROR;
		}

		switch (run->exit_reason) {
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			atomic_store(&kc->in_kernel, 1);
			continue;
		case KVM_EXIT_X86_WRMSR:
			vmc__kvm_wrmsr_exit(kc, run);
			atomic_store(&kc->in_kernel, 1);
			continue;
		case KVM_EXIT_INTR:
			return VMC__EXIT_KICKED;
		case KVM_EXIT_HLT:
			return VMC__EXIT_HALTED;
		case KVM_EXIT_SHUTDOWN:
			vmc__vcpu_guest_error(
				vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
			return VMC__EXIT_ERROR;
		case KVM_EXIT_FAIL_ENTRY:
			vmc__vcpu_guest_error(
				vcpu,
				"VM entry failed (KVM_EXIT_FAIL_ENTRY), "
				"hardware "
				"reason 0x%llx",
				(unsigned long long)run->fail_entry
					.hardware_entry_failure_reason);
			return VMC__EXIT_ERROR;
		case KVM_EXIT_INTERNAL_ERROR:
			return handle_internal_error(vcpu, run);
		case KVM_EXIT_DEBUG:
			return handle_debug(vcpu, run);
		case KVM_EXIT_SYSTEM_EVENT:
			return handle_system_event(vcpu, run);
		default:
			vmc__vcpu_guest_error(vcpu, "unhandled KVM exit %u",
					      run->exit_reason);
			return VMC__EXIT_ERROR;
		}
	}
}
