/* SPDX-License-Identifier: MIT */
/*
 * Internal view of VMs and vCPUs, for core and the accelerators.  Never
 * installed.
 *
 * Locks, in the order they may be taken:
 *   vm->lock (the VM lock)  >  vm->excl_lock  >  vcpu->work_lock,
 *   vm->req_lock
 * The last two are leaves.  vm->excl_lock is never taken while a vCPU runs
 * guest code except in vmc__vcpu_exec_start/end.
 */
#ifndef VMC_CORE_VM_INTERNAL_H
#define VMC_CORE_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <libvmcore/vmc-vm.h>
#include <libvmcore/vmc-vcpu.h>
#include <libvmcore/vmc-debug.h>

#include "accel.h"
#include "lock.h"
#include "memory-internal.h"
#include "util.h"

struct vmc__work {
	struct vmc__work *next;
	vmc_work_cb cb;
	void *userdata;
	bool exclusive;
	bool heap;	  /* free after running (async/exclusive) */
	_Atomic int done; /* sync: 1 ran, -ENODEV dropped */
};

struct vmc_vcpu {
	/* What the accelerator sees (accel.h): state, exit_request, irqs,
	 * debug_stop.  First, so that vmc__accel_vcpu() is a cast. */
	struct vmc__accel_vcpu acc;
	struct vmc_vm *vm;
	unsigned int index;
	pthread_t thread;
	bool thread_started; /* pthread_create succeeded; join it */
	_Atomic int tid;     /* the thread's Linux tid while it runs, else 0 */

	/* Protected by the VM lock. */
	pthread_cond_t halt_cond;
	/* Bumped by every halt_cond broadcast (vmc__vcpu_wake), for polls. */
	_Atomic unsigned int wake_seq;
	/*
	 * Accel state built (thread up, or vcpu_create done): written with
	 * release under the VM lock after init_error, so that vm_new can
	 * poll it without the lock.
	 */
	_Atomic bool created;
	bool stop;    /* someone asked it to stop */
	bool stopped; /* it acknowledged, or never started */
	bool unplug;  /* leave the thread loop */
	bool halted;  /* WFI/HLT */
	bool exited;  /* thread loop left */
	/*
	 * The thread sleeps in its idle wait (VM lock to read or write):
	 * whoever holds the VM lock while it is set may use the vCPU's
	 * accelerator state, since the thread cannot leave the wait before
	 * it has the lock back.
	 */
	bool parked;
	bool hold;	/* stays stopped while the VM runs */
	int init_error; /* vcpu_init's result */

	/* De-duplicates accelerator kicks (signals). */
	_Atomic bool thread_kicked;
	/* Lines driven by a struct vmc_irq (vmc_irq_new_vcpu), bit N. */
	_Atomic uint64_t irq_drivers;
	/* Published state for vmc_vcpu_get_state() snapshots. */
	_Atomic int state;

	/* Work list: FIFO under work_lock (a leaf). */
	pthread_mutex_t work_lock;
	struct vmc__work *work_head, *work_tail;
	_Atomic bool has_work; /* work_head != NULL, readable without lock */

	/* Exclusive-section bookkeeping (see exclusive.c). */
	_Atomic bool running; /* between exec_start and exec_end */
	bool has_waiter;      /* counted by the exclusive starter */
	int exclusive_depth;

	/* The thread's reader of the VM's memory reclamation domain. */
	struct vmc__rcu_reader rcu_reader;

	/*
	 * Guest calls (sandbox.c).  The executor is the one thread that runs
	 * the vCPU's guest code: its own thread, or a thread that borrowed
	 * the vCPU (vmc__vcpu_borrow) while its own thread sleeps.
	 */
	bool borrowed; /* VM lock; the vCPU thread stays idle while set */
	/* The borrower's memory reader while borrowed, else NULL. */
	struct vmc__rcu_reader *borrow_reader;
	/* The borrower's tid while borrowed (kicks signal it), else 0. */
	_Atomic int runner_tid;
	/* The executor's guest call in progress: guest errors end it instead
	 * of changing the VM's run state.  Executor only. */
	struct vmc__vcpu_call *call;
};

/* A guest call as the vCPU's executor sees it (see sandbox.c). */
struct vmc__vcpu_call {
	bool failed;	 /* a guest error ended it */
	char error[256]; /* its reason */
};

struct vmc__request;
struct vmc__handler;

struct vmc_vm {
	/* What the accelerator sees (accel.h): its state.  First, so that
	 * vmc__accel_vm() is a cast. */
	struct vmc__accel_vm acc;
	_Atomic unsigned int ref;
	const struct vmc_accel_ops *ops;
	enum vmc_arch arch;
	unsigned int flags;
	int kick_signal;
	uint64_t halt_poll_ns; /* config.halt_poll_ns */
	struct vmc_loop *loop;
	struct vmc_clock *clock;

	/* The VM lock and what it protects. */
	struct vmc__lock lock;
	_Atomic int state;	     /* enum vmc_vm_state */
	pthread_cond_t pause_cond;   /* a vCPU acknowledged a stop */
	pthread_cond_t created_cond; /* a vCPU thread came up or left */
	pthread_cond_t work_cond;    /* a sync work item finished */
	char error[256];
	int shutdown_status;
	struct vmc__handler *state_handlers; /* by priority */
	struct vmc__handler *reset_handlers; /* registration order */
	uint64_t handler_walks;		     /* handler lists walked so far */
	unsigned int handler_depth;	     /* walks in progress (nesting) */
	bool in_teardown;
	struct vmc_vcpu *debug_vcpu; /* caused VMC_VM_DEBUG */
	uint64_t run_gen;	     /* counts resumes (to RUNNING) */

	/*
	 * Requests from any thread, applied on the loop in order: a doubly
	 * linked FIFO under req_lock, coalesced and bounded (vm.c).
	 */
	pthread_mutex_t req_lock;
	struct vmc__request *req_head, *req_tail;
	unsigned int req_count;
	struct vmc__request *req_pool; /* REQ_MAX + nr_vcpus nodes */
	struct vmc__request *req_free; /* free pool nodes */
	struct vmc_bh *req_bh;
	/*
	 * The last reference was dropped where destroying the VM would
	 * deadlock (VM lock held, or a vCPU thread): req_bh destroys it.
	 */
	_Atomic bool destroy_deferred;

	/* Exclusive sections. */
	pthread_mutex_t excl_lock;
	pthread_cond_t excl_cond;   /* the last running vCPU left */
	pthread_cond_t excl_resume; /* the section ended */
	_Atomic int pending_cpus;

	unsigned int nr_vcpus;
	struct vmc_vcpu *vcpus;

	/*
	 * The VM's memory context and its address spaces (memory, and io for
	 * port I/O), created before vm_init so the accelerator can register
	 * its listeners on them.
	 */
	struct vmc_memory *memory;
	struct vmc_region *root_memory, *root_io;
	/* The snapshot whose dirty log runs (snapshot.c), or NULL. */
	struct vmc_snapshot *snapshot;
	/* Registered snapshot sections, in order (snapshot-section.c; VM
	 * lock). */
	struct vmc_snapshot_section *sections;
	struct vmc_address_space *as_memory;
	struct vmc_address_space *as_io;

	/* vmc_vm_config.accel_config, valid during vm_init only. */
	const void *accel_config;
};

/* Broadcast halt_cond, and tell a polling idle vCPU (VM lock held). */
void vmc__vcpu_wake(struct vmc_vcpu *vcpu);

/* Queue an item; the caller owns sync items.  -ENODEV once unplugged. */
int vmc__vcpu_queue_work(struct vmc_vcpu *vcpu, struct vmc__work *w);

/* The vCPU thread's main function. */
void *vmc__vcpu_thread(void *arg);

/* Exclusive sections (exclusive.c). */
void vmc__exec_start(struct vmc_vcpu *vcpu);
void vmc__exec_end(struct vmc_vcpu *vcpu);
void vmc__exclusive_start(struct vmc_vcpu *vcpu);
void vmc__exclusive_end(struct vmc_vcpu *vcpu);

/*
 * Borrowing a vCPU: the calling thread (not a vCPU thread) becomes the
 * vCPU's executor while the vCPU's own thread stays in its idle wait.
 * VM lock held.  -EBUSY unless the VM is not running and the vCPU's thread
 * is parked and not borrowed; -ENODEV once it is unplugged; -EDEADLK on a
 * vCPU thread.  @reader is the borrower's memory reader (added to the VM's
 * domain, offline); it is online from borrow to vmc__vcpu_unborrow().
 */
int vmc__vcpu_borrow(struct vmc_vcpu *vcpu, struct vmc__rcu_reader *reader);
void vmc__vcpu_unborrow(struct vmc_vcpu *vcpu);
/*
 * As the executor (the vCPU's thread inside a work item, or the
 * borrower), VM lock held (dropped inside): run guest code once and
 * return the accelerator's VMC__EXIT_* code, or run the queued work items.
 */
int vmc__vcpu_exec(struct vmc_vcpu *vcpu);
void vmc__vcpu_exec_work(struct vmc_vcpu *vcpu);

/* Stop every vCPU and wait for them (VM lock held; may drop it). */
void vmc__vm_stop_vcpus(struct vmc_vm *vm);
/* Let every plugged vCPU run again (VM lock held). */
void vmc__vm_resume_vcpus(struct vmc_vm *vm);

/* From the vCPU thread after a debug exit: stop the VM in VMC_VM_DEBUG. */
void vmc__vm_debug_request(struct vmc_vcpu *vcpu);

/* Queue a state request (any thread). */
int vmc__vm_request(struct vmc_vm *vm, int kind, int status,
		    const char *reason);

/* Build a VM on an accelerator table of the caller's (tests, embedders'
 * experiments); the configuration's accel field is ignored. */
int vmc__vm_new_with_ops(const struct vmc_vm_config *config,
			 const struct vmc_accel_ops *ops, struct vmc_vm **ret);

_Static_assert(offsetof(struct vmc_vcpu, acc) == 0, "accel view first");
_Static_assert(offsetof(struct vmc_vm, acc) == 0, "accel view first");

/* The calling thread's vCPU, or NULL. */
extern _Thread_local struct vmc_vcpu *vmc__current_vcpu;

#endif
