/* SPDX-License-Identifier: MIT */
/*
 * The KVM accelerator's private state.  Never installed.
 *
 * Threads: the VM state and each vCPU's userspace state are built on the
 * loop thread before any vCPU thread exists; the kernel's vCPU is built and
 * used on the vCPU's own thread (vmc__kvm_vcpu_realize), except
 * kvm_run->immediate_exit, which kickers write from any thread.
 *
 * Memslot swaps: a memory commit that removes a slot overlapping one it
 * adds must not let a vCPU run in between (the guest would see a hole).
 * The committer raises `inhibit`, kicks every vCPU, and waits until
 * `in_run` (vCPUs inside KVM_RUN) drops to zero; a vCPU about to enter
 * KVM_RUN increments `in_run`, then checks `inhibit` (both sequentially
 * consistent, a Dekker pair like the exclusive sections) and backs out
 * to wait while it is set.
 */
#ifndef VMC_ACCEL_KVM_INTERNAL_H
#define VMC_ACCEL_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>

#include <libvmcore/vmc-kvm.h>
#include <libvmcore/vmc-x86.h>

#include "accel.h"

struct vmc_memory_listener;

struct kvm_slot {
	bool used;
	uint32_t flags; /* KVM_MEM_* as registered */
	uint64_t gpa, size;
	void *host;
	struct vmc_region *region;
	uint64_t region_offset; /* of gpa inside region */
};

#define KVM_MAX_SW_BPS 64

struct kvm_logged {
	struct kvm_logged *next;
	struct vmc_region *region;
};

struct kvm_irqfd_entry {
	struct kvm_irqfd_entry *next;
	struct vmc_notifier *n;
	unsigned int gsi;
	int fd, resample_fd;
};

/*
 * The answers of /dev/kvm that never change within a process, read once by
 * the first successful probe (vmc__kvm_host(); read-only afterwards).
 */
struct kvm_host {
	int run_size;	 /* KVM_GET_VCPU_MMAP_SIZE */
	int max_vcpus;	 /* 0: unknown */
	int nr_memslots; /* 0: unknown */
	/* Immediate exit, user memory, ioeventfds, KVM_SET_CPUID2. */
	bool required;
	bool readonly_mem, any_length_ioeventfd, irqfd_resample;
	bool tss, irqchip, pit2;
	/* kvm_run's sync_regs for regs, sregs and events. */
	bool sync_regs;
	/* KVM_GET/SET_XSAVE with the 4 KiB struct covers the host's area. */
	bool xsave;
	/* MSR filters that exit to userspace on a denied access. */
	bool msr_filter;
	/* A new vCPU 0's power-on registers. */
	struct kvm_regs reset_regs;
	struct kvm_sregs reset_sregs;
	/* KVM_GET_SUPPORTED_CPUID. */
	struct kvm_cpuid2 *cpuid;
};

struct kvm_vm {
	int fd;	      /* the VM */
	int run_size; /* KVM_GET_VCPU_MMAP_SIZE */
	bool irqchip;
	bool pit;
	bool readonly_mem;
	bool irqfd_resample;
	bool any_length_ioeventfd;
	int kick_signal;
	vmc_kvm_intack_cb intack;
	void *intack_opaque;

	/* Debug handler, under the VM lock. */
	vmc_kvm_debug_cb debug_cb;
	void *debug_opaque;
	/* int3 breakpoints written into guest memory (VM lock). */
	struct kvm_sw_bp {
		uint64_t addr, gpa;
		unsigned int refs;
		uint8_t orig;
	} sw_bps[KVM_MAX_SW_BPS];
	unsigned int nr_sw_bps;

	/* Memslots (loop thread, memory writer side). */
	struct kvm_slot *slots;
	unsigned int nr_slots;
	/* Ranges removed / added in the current commit. */
	struct kvm_slot *pend_del, *pend_add;
	unsigned int nr_del, nr_add, cap_del, cap_add;
	struct kvm_logged *logged;
	struct vmc_memory_listener *mem_listener, *io_listener;
	int listener_error;
	/*
	 * The VM fd is about to close, which drops every slot and
	 * ioeventfd at once: the listeners' removals are skipped (deleting
	 * a slot waits for a kernel grace period).
	 */
	bool closing;

	/* The inhibit gate, see the file comment. */
	_Atomic int inhibit;
	_Atomic int in_run;
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;

	/* irqfds (any thread, under irqfd_lock). */
	pthread_mutex_t irqfd_lock;
	struct kvm_irqfd_entry *irqfds;

	/* Supported CPUID, for new vCPUs (the process-wide copy). */
	const struct kvm_cpuid2 *cpuid;

	/* The MSR filter that traps guest writes of the snapshot's MSRs is
	 * installed (x86/regs.c; VM lock). */
	bool msr_filter;
};

/*
 * A vCPU is built in the kernel lazily (vmc__kvm_vcpu_realize): by its
 * thread when it first runs, or by the first call that needs state only
 * the kernel holds.  Until then fd is -1, run is NULL, and the register
 * cache holds the power-on state (valid, so nothing reads the kernel).
 * Memslots registered before any vCPU exists are much cheaper, and the
 * vCPU's kernel state is loaded on the CPU that runs it.
 */
struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	int run_size;
	/* Rising NMI edges not yet injected (VM lock to set). */
	_Atomic int nmi_pending;
	/* The last I/O exit still needs a KVM_RUN to complete. */
	bool io_pending;
	/* The exit path's address spaces and their flat-view lookup hints
	 * (vCPU thread). */
	struct vmc_address_space *as_io, *as_memory;
	size_t pio_hint, mmio_hint;
	/*
	 * Set from just before the vCPU's last exit_request check until
	 * KVM_RUN returned: only then does a kick need the signal.
	 */
	_Atomic int in_kernel;
	/* Kicks may land once the thread is gone; they then do nothing. */
	_Atomic bool alive;
	/* Of the register cache below (checked on every exit). */
	bool regs_valid, regs_dirty, sregs_valid, sregs_dirty;
	/* Pending events to load (vcpu_load), like a dirty register. */
	bool events_dirty;
	struct kvm_vcpu_events events;
	/*
	 * The snapshot MSRs' values in the kernel, known exactly while
	 * msrs_known: read or written by vcpu_save/vcpu_load, and kept up
	 * to date by the filter exits of the guest's own writes.  A load of
	 * the same values then skips KVM_SET_MSRS (x86/regs.c).
	 */
	bool msrs_known;
	uint32_t msrs_known_n;
	struct kvm_msr_entry msrs_known_e[13];
	/* XCR0 and the debug registers in the kernel, known the same way
	 * while xstate_known (the guest changes them without exits). */
	bool xstate_known;
	struct kvm_xcrs xcrs_known;
	struct kvm_debugregs debugregs_known;
	struct kvm_guest_debug debug;
	/*
	 * Register cache between runs: the general and the segment/control
	 * registers are read once, and writes stay here until the next
	 * KVM_RUN or any other call that touches them (vmc__kvm_regs_sync).
	 * Used by the vCPU thread, or by whoever holds the VM lock while the
	 * thread is parked.
	 */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	/* vmc-debug.h state (vCPU thread): debug-register slots (kind + 1,
	 * 0 = free), this vCPU's int3 breakpoints, single-step. */
	struct {
		unsigned int kind;
		uint64_t addr, len;
	} dbg_slot[4];
	uint64_t dbg_sw[KVM_MAX_SW_BPS];
	unsigned int dbg_nr_sw;
	bool dbg_step;
	/*
	 * The vCPU thread's signal mask minus the kick signal, for
	 * KVM_SET_SIGNAL_MASK (taken by vcpu_create).
	 */
	uint64_t run_sigmask;
	/* The power-on state, restored by vcpu_reset. */
	struct kvm_regs init_regs;
	struct kvm_sregs init_sregs;
	struct kvm_fpu init_fpu;
};

/* vmc-debug.h hooks (x86/debug.c). */
int vmc__kvm_debug_insert(struct vmc_vcpu *vcpu, unsigned int kind,
			  uint64_t addr, uint64_t len);
int vmc__kvm_debug_remove(struct vmc_vcpu *vcpu, unsigned int kind,
			  uint64_t addr, uint64_t len);
int vmc__kvm_debug_step(struct vmc_vcpu *vcpu, bool on);
int vmc__kvm_debug_translate(struct vmc_vcpu *vcpu, uint64_t va, uint64_t *pa);
/* Fill vcpu->debug_stop from a KVM_EXIT_DEBUG. */
void vmc__kvm_debug_record(struct vmc_vcpu *vcpu, uint32_t exception,
			   uint64_t dr6);

static inline struct kvm_vm *kvm_vm_of(struct vmc_vm *vm)
{
	return vmc__accel_vm(vm)->state;
}

static inline struct kvm_vcpu *kvm_vcpu_of(struct vmc_vcpu *vcpu)
{
	return vmc__accel_vcpu(vcpu)->state;
}

/* Whether @vm runs on this accelerator (and its state exists). */
static inline bool vmc__kvm_is(const struct vmc_vm *vm)
{
	return vmc__accel_vm_is(vm, &vmc__accel_kvm);
}

/* kvm.c */
int vmc__kvm_ioctl(int fd, unsigned long req, void *arg);

/* Snapshot sections of the in-kernel devices (x86/vm-state.c). */
int vmc__kvm_x86_add_sections(struct vmc_vm *vm);
/* The process-wide answers (valid once a probe succeeded). */
const struct kvm_host *vmc__kvm_host(void);
void vmc__kvm_kick_raw(struct vmc_vcpu *vcpu);
/* Block new KVM_RUN entries and wait until none is inside; then unblock. */
void vmc__kvm_inhibit_begin(struct vmc_vm *vm);
void vmc__kvm_inhibit_end(struct vmc_vm *vm);

/* kvm-memory.c */
int vmc__kvm_memory_init(struct vmc_vm *vm);
void vmc__kvm_memory_destroy(struct vmc_vm *vm);
void vmc__kvm_pio(struct vmc_vcpu *vcpu, struct kvm_run *run);
void vmc__kvm_mmio(struct vmc_vcpu *vcpu, struct kvm_run *run);
int vmc__kvm_dirty_log_set(struct vmc_vm *vm, struct vmc_region *region,
			   bool enable);
int vmc__kvm_dirty_log_get(struct vmc_vm *vm, struct vmc_region *region,
			   uint64_t *bitmap, size_t words);

/* kvm-vcpu.c */
int vmc__kvm_vcpu_create(struct vmc_vcpu *vcpu);
/*
 * Build the vCPU in the kernel if it is not yet: on its thread, or with
 * the VM lock held while the thread is parked.  0 or a negative errno.
 */
int vmc__kvm_vcpu_realize(struct vmc_vcpu *vcpu);
void vmc__kvm_vcpu_destroy(struct vmc_vcpu *vcpu);
int vmc__kvm_vcpu_run(struct vmc_vcpu *vcpu);
void vmc__kvm_vcpu_kick(struct vmc_vcpu *vcpu);
bool vmc__kvm_vcpu_has_work(struct vmc_vcpu *vcpu);
bool vmc__kvm_vcpu_idle(struct vmc_vcpu *vcpu);
void vmc__kvm_vcpu_irq(struct vmc_vcpu *vcpu, unsigned int line, bool level);

/* x86/regs.c */
int vmc__kvm_x86_vcpu_reset(struct vmc_vcpu *vcpu);
void vmc__kvm_vcpu_reset(struct vmc_vcpu *vcpu);
int vmc__kvm_get_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t *val);
int vmc__kvm_set_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t val);
int vmc__kvm_x86_set_cpuid(struct vmc_vcpu *vcpu, const struct kvm_cpuid2 *c);
/* Write cached register changes back and empty the cache. */
int vmc__kvm_regs_sync(struct kvm_vcpu *kc);
/*
 * Before KVM_RUN: hand cached changes to the kernel (through kvm_run's
 * sync_regs where available, applied at entry; else as regs_sync).
 * After KVM_RUN: the register cache from what the exit reported.
 */
int vmc__kvm_regs_stage(struct kvm_vcpu *kc);
void vmc__kvm_regs_exited(struct kvm_vcpu *kc);
/* A guest WRMSR the snapshot filter trapped (KVM_EXIT_X86_WRMSR). */
void vmc__kvm_wrmsr_exit(struct kvm_vcpu *kc, struct kvm_run *run);
/*
 * Tests: take int3 as reported (1) or not (0) whatever the probe found,
 * or probe again (-1).  Lets a host whose int3 exits are unreliable still
 * test how breakpoints patch memory.
 */
void vmc__kvm_sw_bp_override(int works);
/* The vcpu_save/vcpu_load hooks (x86/regs.c). */
int vmc__kvm_vcpu_save(struct vmc_vcpu *vcpu, void *buf, size_t size);
int vmc__kvm_vcpu_load(struct vmc_vcpu *vcpu, const void *buf, size_t size);

#endif
