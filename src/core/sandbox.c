/* SPDX-License-Identifier: MIT */
/*
 * Guest calls (vmc-sandbox.h).
 *
 * A call is a loop on the vCPU's executor: load the registers, then run
 * guest code (vmc__vcpu_exec) until the guest completes the call (HLT/WFI,
 * or the doorbell's "return"), a guest error ends it, or a stop reason is
 * set.  The executor is the vCPU's own thread, reached through a
 * run_sync work item, or the caller's thread, which borrows the vCPU
 * (vcpu.c) for the call.
 *
 * The doorbell is a lockless I/O region whose callbacks run on the
 * executor in the middle of guest code: a host call reads the argument
 * registers, runs the host callback and writes the result register there
 * and then, so the guest sees it at its next instruction; a "return"
 * records the result and asks the accelerator to leave guest code.
 *
 * Stopping.  sb->lock orders calls, cancels, resets and the watchdog: a
 * cancel or an expired deadline sets stop_reason while the call it aims
 * at runs (checked under the lock against the call's generation), then
 * kicks the vCPU.  The executor clears exit_request and thread_kicked
 * before it reads stop_reason, then runs: a stop set after the read comes
 * with a kick that the run sees (vmc__vcpu_exit stores exit_request
 * before it kicks).  Every stop poisons the sandbox; only a reset clears
 * it, and a reset never overlaps a call (sb->busy).
 *
 * The watchdog is a thread per sandbox, started by the first call with a
 * deadline, that sleeps until the armed deadline and then stops the call
 * of the armed generation, if it still runs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvmcore/vmc-riscv.h>
#include <libvmcore/vmc-sandbox.h>
#include <libvmcore/vmc-snapshot.h>
#include <libvmcore/vmc-x86.h>

#include "vm-internal.h"

enum { EV_NONE, EV_RETURN };

struct host_call {
	vmc_sandbox_host_cb cb;
	void *userdata;
};

struct vmc_sandbox {
	struct vmc_vm *vm; /* a reference */
	struct vmc_vcpu *vcpu;
	bool x86;
	unsigned int flags;
	struct vmc_region *doorbell; /* a reference, or NULL */
	/* The borrower's memory reader, in the VM's domain. */
	struct vmc__rcu_reader reader;

	pthread_mutex_t lock;
	bool busy;    /* a call or a reset runs (lock) */
	bool in_call; /* a call runs (lock) */
	uint64_t gen; /* calls started (lock) */
	_Atomic bool poisoned;
	_Atomic int stop_reason; /* 0, -ECANCELED or -ETIMEDOUT */
	struct host_call host[VMC_SANDBOX_MAX_HOST_CALLS + 1]; /* lock */

	/* The watchdog (lock). */
	pthread_t wd_thread;
	bool wd_started, wd_quit;
	pthread_cond_t wd_cond;
	int64_t wd_deadline; /* CLOCK_MONOTONIC ns; 0: none */
	uint64_t wd_gen;

	/* The executor's, during a call. */
	bool executing;
	int ev;
	uint64_t ev_result;
	int host_error;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Make the executor leave guest code at its next exit or block boundary:
 * no wake-up of the sleeping vCPU thread, no signal to ourselves. */
static void exit_self(struct vmc_vcpu *vcpu)
{
	atomic_store_explicit(&vcpu->acc.exit_request, true,
			      memory_order_release);
	if (vcpu->vm->ops->vcpu_kick)
		vcpu->vm->ops->vcpu_kick(vcpu);
}

/* ------------------------------------------------------------------------
 * The doorbell
 */

static const unsigned int x86_args[6] = {VMC_X86_RDI, VMC_X86_RSI, VMC_X86_RDX,
					 VMC_X86_RCX, VMC_X86_R8,  VMC_X86_R9};

static unsigned int arg_reg(const struct vmc_sandbox *sb, unsigned int i)
{
	return sb->x86 ? x86_args[i] : VMC_RISCV_REG_A0 + i;
}

static unsigned int result_reg(const struct vmc_sandbox *sb)
{
	return sb->x86 ? VMC_X86_RAX : VMC_RISCV_REG_A0;
}

static int host_call(struct vmc_sandbox *sb, unsigned int nr)
{
	const struct vmc_accel_ops *ops = sb->vm->ops;
	struct vmc_vcpu *vcpu = sb->vcpu;
	uint64_t args[8] = {0}, ret = (uint64_t)-ENOSYS;
	unsigned int n = sb->x86 ? 6 : 8;
	int r = 0;

	for (unsigned int i = 0; i < n; i++) {
		r = ops->get_reg(vcpu, arg_reg(sb, i), &args[i]);
		if (r < 0)
			goto fail;
	}
	/* The table changes only while no call runs. */
	if (nr <= VMC_SANDBOX_MAX_HOST_CALLS && sb->host[nr].cb) {
		r = sb->host[nr].cb(sb, args, &ret, sb->host[nr].userdata);
		if (r < 0)
			goto fail;
	}
	r = ops->set_reg(vcpu, result_reg(sb), ret);
	if (r == 0)
		return 0;
fail:
	sb->host_error = r;
	exit_self(vcpu);
	return 0;
}

static int doorbell_write(void *opaque, uint64_t offset, unsigned size,
			  uint64_t value)
{
	struct vmc_sandbox *sb = opaque;
	struct vmc_vcpu *vcpu = vmc_vcpu_current();

	(void)offset;
	(void)size;
	/* Only the call's executor: not another vCPU, not a free run. */
	if (vcpu != sb->vcpu || !sb->executing)
		return 0;
	if (value == 0) {
		unsigned int reg = sb->x86 ? VMC_X86_RDI : VMC_RISCV_REG_A0;

		if (sb->vm->ops->get_reg(vcpu, reg, &sb->ev_result) < 0)
			sb->host_error = -EIO;
		sb->ev = EV_RETURN;
		/* The next call or reset rewrites the registers: no need to
		 * enter the guest again to finish the doorbell's `out`. */
		vcpu->acc.exit_now = true;
		exit_self(vcpu);
		return 0;
	}
	return host_call(sb, (unsigned int)value);
}

static const struct vmc_region_ops doorbell_ops = {
	.struct_size = sizeof(doorbell_ops),
	.write = doorbell_write,
	.min_access_size = 4,
	.max_access_size = 8,
};

/* ------------------------------------------------------------------------
 * The watchdog
 */

static void *watchdog(void *arg)
{
	struct vmc_sandbox *sb = arg;

	pthread_setname_np(pthread_self(), "vmc-sandbox-wd");
	pthread_mutex_lock(&sb->lock);
	while (!sb->wd_quit) {
		if (!sb->wd_deadline) {
			pthread_cond_wait(&sb->wd_cond, &sb->lock);
			continue;
		}
		if (now_ns() >= sb->wd_deadline) {
			if (sb->in_call && sb->gen == sb->wd_gen) {
				int zero = 0;

				atomic_compare_exchange_strong(
					&sb->stop_reason, &zero, -ETIMEDOUT);
				vmc__vcpu_exit(sb->vcpu);
			}
			sb->wd_deadline = 0;
			continue;
		}
		{
			struct timespec ts = {
				.tv_sec = sb->wd_deadline / 1000000000,
				.tv_nsec = sb->wd_deadline % 1000000000,
			};

			pthread_cond_timedwait(&sb->wd_cond, &sb->lock, &ts);
		}
	}
	pthread_mutex_unlock(&sb->lock);
	return NULL;
}

/* Arm the watchdog for the call of generation @gen; lock held. */
static int watchdog_arm(struct vmc_sandbox *sb, int64_t deadline, uint64_t gen)
{
	if (!sb->wd_started) {
		pthread_condattr_t a;
		sigset_t all, old;
		int r;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_destroy(&sb->wd_cond);
		pthread_cond_init(&sb->wd_cond, &a);
		pthread_condattr_destroy(&a);
		/* The thread takes no signals of the host's. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = -pthread_create(&sb->wd_thread, NULL, watchdog, sb);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r < 0)
			return r;
		sb->wd_started = true;
	}
	sb->wd_deadline = deadline;
	sb->wd_gen = gen;
	pthread_cond_signal(&sb->wd_cond);
	return 0;
}

/* ------------------------------------------------------------------------
 * Sandboxes
 */

VMC_EXPORT void vmc_sandbox_config_init(struct vmc_sandbox_config *config)
{
	if (!config)
		return;
	*config = (struct vmc_sandbox_config){
		.struct_size = sizeof(*config),
		.doorbell = VMC_SANDBOX_X86_DOORBELL_PORT,
	};
}

VMC_EXPORT void vmc_sandbox_call_init(struct vmc_sandbox_call *call)
{
	if (!call)
		return;
	*call = (struct vmc_sandbox_call){.struct_size = sizeof(*call)};
}

VMC_EXPORT struct vmc_vm *vmc_sandbox_get_vm(const struct vmc_sandbox *sb)
{
	return sb ? sb->vm : NULL;
}

static int add_doorbell(struct vmc_sandbox *sb, uint64_t addr)
{
	struct vmc_region *root =
		sb->x86 ? sb->vm->root_io : sb->vm->root_memory;
	uint64_t size = sb->x86 ? 4 : 8;
	int r;

	r = vmc_region_new_io(sb->vm->memory, "sandbox-doorbell", size,
			      &doorbell_ops, sb, VMC_REGION_LOCKLESS,
			      &sb->doorbell);
	if (r < 0)
		return r;
	r = vmc_region_add_subregion(root, addr, sb->doorbell, 0);
	if (r < 0) {
		vmc_region_unref(sb->doorbell);
		sb->doorbell = NULL;
	}
	return r;
}

VMC_EXPORT int vmc_sandbox_new(struct vmc_vm *vm,
			       const struct vmc_sandbox_config *config,
			       struct vmc_sandbox **ret)
{
	struct vmc_sandbox_config def;
	struct vmc_sandbox *sb;
	int r;

	vmc_assert_return(vm && ret, -EINVAL);
	if (!config) {
		vmc_sandbox_config_init(&def);
		if (vm->arch != VMC_ARCH_X86_64)
			def.doorbell = 0;
		config = &def;
	}
	vmc_assert_return(config->struct_size >= sizeof(*config), -EINVAL);
	vmc_assert_return(
		!(config->flags & ~(unsigned int)VMC_SANDBOX_CALLER_THREAD),
		-EINVAL);
	vmc_assert_return(config->vcpu < vm->nr_vcpus, -EINVAL);
	vmc_assert_return(vm->arch != VMC_ARCH_X86_64 ||
				  config->doorbell <= 0xfffc,
			  -EINVAL);
	if (!vm->ops->get_reg || !vm->ops->set_reg || !vm->ops->vcpu_run)
		return -EOPNOTSUPP;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->vm = vmc_vm_ref(vm);
	sb->vcpu = &vm->vcpus[config->vcpu];
	sb->x86 = vm->arch == VMC_ARCH_X86_64;
	sb->flags = config->flags;
	pthread_mutex_init(&sb->lock, NULL);
	pthread_cond_init(&sb->wd_cond, NULL);
	vmc__rcu_reader_add(vmc__memory_rcu(vm->memory), &sb->reader);
	if (sb->x86 || config->doorbell) {
		r = add_doorbell(sb, config->doorbell);
		if (r < 0) {
			vmc_sandbox_free(sb);
			return r;
		}
	}
	*ret = sb;
	return 0;
}

VMC_EXPORT void vmc_sandbox_free(struct vmc_sandbox *sb)
{
	if (!sb)
		return;
	if (sb->wd_started) {
		pthread_mutex_lock(&sb->lock);
		sb->wd_quit = true;
		pthread_cond_signal(&sb->wd_cond);
		pthread_mutex_unlock(&sb->lock);
		pthread_join(sb->wd_thread, NULL);
	}
	if (sb->doorbell) {
		(void)vmc_region_remove_subregion(sb->doorbell->parent,
						  sb->doorbell);
		vmc_region_unref(sb->doorbell);
	}
	vmc__rcu_reader_del(&sb->reader);
	pthread_cond_destroy(&sb->wd_cond);
	pthread_mutex_destroy(&sb->lock);
	vmc_vm_unref(sb->vm);
	free(sb);
}

VMC_EXPORT int vmc_sandbox_set_host_call(struct vmc_sandbox *sb,
					 unsigned int nr,
					 vmc_sandbox_host_cb cb, void *userdata)
{
	int r = 0;

	vmc_assert_return(sb && nr >= 1 && nr <= VMC_SANDBOX_MAX_HOST_CALLS,
			  -EINVAL);
	pthread_mutex_lock(&sb->lock);
	if (sb->in_call) {
		r = -EBUSY;
	} else {
		sb->host[nr].cb = cb;
		sb->host[nr].userdata = cb ? userdata : NULL;
	}
	pthread_mutex_unlock(&sb->lock);
	return r;
}

VMC_EXPORT bool vmc_sandbox_is_poisoned(const struct vmc_sandbox *sb)
{
	return sb && atomic_load(&((struct vmc_sandbox *)sb)->poisoned);
}

VMC_EXPORT int vmc_sandbox_cancel(struct vmc_sandbox *sb)
{
	int r = 0;

	vmc_assert_return(sb, -EINVAL);
	pthread_mutex_lock(&sb->lock);
	if (sb->in_call) {
		int zero = 0;

		atomic_compare_exchange_strong(&sb->stop_reason, &zero,
					       -ECANCELED);
		vmc__vcpu_exit(sb->vcpu);
		r = 1;
	}
	pthread_mutex_unlock(&sb->lock);
	return r;
}

/* ------------------------------------------------------------------------
 * The call, on the executor
 */

struct call_ctx {
	struct vmc_sandbox *sb;
	struct vmc_sandbox_call *call;
	int64_t deadline; /* 0: none */
	int result;
	bool ran; /* guest code ran: an error poisons */
};

static int load_regs(struct vmc_sandbox *sb, const struct vmc_sandbox_call *c)
{
	const struct vmc_accel_ops *ops = sb->vm->ops;
	struct vmc_vcpu *vcpu = sb->vcpu;
	uint64_t sp = c->stack;
	int r = 0;

	for (unsigned int i = 0; i < c->nr_args && r == 0; i++)
		r = ops->set_reg(vcpu, arg_reg(sb, i), c->args[i]);
	if (r < 0)
		return r;
	if (sb->x86) {
		if (c->return_address) {
			uint64_t ra = c->return_address;

			/* Flat guests: the stack's address is physical. */
			sp -= 8;
			r = vmc_as_write(sb->vm->as_memory, sp, &ra, 8);
			if (r < 0)
				return r;
		}
		r = ops->set_reg(vcpu, VMC_X86_RSP, sp);
		if (r == 0)
			r = ops->set_reg(vcpu, VMC_X86_RIP, c->entry);
		return r;
	}
	if (c->return_address)
		r = ops->set_reg(vcpu, VMC_RISCV_REG_RA, c->return_address);
	if (r == 0)
		r = ops->set_reg(vcpu, VMC_RISCV_REG_SP, sp);
	if (r == 0)
		r = ops->set_reg(vcpu, VMC_RISCV_REG_PC, c->entry);
	return r;
}

/* The loop; on the executor, VM lock held (dropped around guest code). */
static int run_call(struct vmc_sandbox *sb, struct call_ctx *ctx)
{
	struct vmc_sandbox_call *c = ctx->call;
	int64_t deadline = ctx->deadline;
	struct vmc_vcpu *vcpu = sb->vcpu;
	struct vmc__vcpu_call vc = {0};
	int r, e;

	r = load_regs(sb, c);
	if (r < 0)
		return r;
	sb->ev = EV_NONE;
	sb->host_error = 0;
	sb->executing = true;
	ctx->ran = true;
	vcpu->call = &vc;
	for (;;) {
		/* Clear the kick state, then look at the stop reasons. */
		vcpu->acc.exit_now = false;
		atomic_store(&vcpu->acc.exit_request, false);
		atomic_exchange(&vcpu->thread_kicked, false);
		r = atomic_load(&sb->stop_reason);
		if (r < 0)
			break;
		if (deadline && now_ns() >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		if (vcpu->borrowed)
			vmc__vcpu_exec_work(vcpu);
		e = vmc__vcpu_exec(vcpu);
		if (vc.failed) {
			r = -EFAULT;
			break;
		}
		if (sb->host_error) {
			r = sb->host_error;
			break;
		}
		if (sb->ev == EV_RETURN) {
			c->result = sb->ev_result;
			r = 0;
			break;
		}
		if (e == VMC__EXIT_HALTED) {
			r = sb->vm->ops->get_reg(vcpu, result_reg(sb),
						 &c->result);
			break;
		}
		if (e != VMC__EXIT_KICKED) {
			vmc__info("sandbox: the guest stopped the vCPU (%d)",
				  e);
			r = -EFAULT;
			break;
		}
	}
	vcpu->call = NULL;
	sb->executing = false;
	return r;
}

static void call_work(struct vmc_vcpu *vcpu, void *userdata)
{
	struct call_ctx *ctx = userdata;

	(void)vcpu;
	ctx->result = run_call(ctx->sb, ctx);
}

/* The calling thread blocks the kick signal, as vCPU threads do: KVM
 * unblocks it inside KVM_RUN only (its run mask). */
static _Thread_local int blocked_signal;

static void block_kick_signal(struct vmc_vm *vm)
{
	sigset_t s;

	if (!vm->kick_signal || blocked_signal == vm->kick_signal)
		return;
	sigemptyset(&s);
	sigaddset(&s, vm->kick_signal);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	blocked_signal = vm->kick_signal;
}

static int call_borrowed(struct vmc_sandbox *sb, struct call_ctx *ctx)
{
	struct vmc_vm *vm = sb->vm;
	struct vmc__rcu_reader *old;
	int r;

	block_kick_signal(vm);
	vmc__lock_acquire(&vm->lock);
	r = vmc__vcpu_borrow(sb->vcpu, &sb->reader);
	if (r < 0) {
		vmc__lock_release(&vm->lock);
		return r;
	}
	old = vmc__rcu_thread_attach(&sb->reader);
	r = run_call(sb, ctx);
	/* Work queued at the very end still runs here, not later. */
	vmc__vcpu_exec_work(sb->vcpu);
	vmc__rcu_thread_attach(old);
	vmc__vcpu_unborrow(sb->vcpu);
	vmc__lock_release(&vm->lock);
	return r;
}

VMC_EXPORT int vmc_sandbox_call(struct vmc_sandbox *sb,
				struct vmc_sandbox_call *call)
{
	struct call_ctx ctx = {.sb = sb, .call = call};
	uint64_t gen;
	int r;

	vmc_assert_return(sb && call, -EINVAL);
	vmc_assert_return(call->struct_size >= sizeof(*call), -EINVAL);
	vmc_assert_return(call->nr_args <= (sb->x86 ? 6u : 8u), -EINVAL);
	if (vmc__current_vcpu)
		return -EDEADLK;
	if (call->timeout_ns)
		ctx.deadline =
			now_ns() + (int64_t)(call->timeout_ns > INT64_MAX / 2
						     ? INT64_MAX / 2
						     : call->timeout_ns);

	pthread_mutex_lock(&sb->lock);
	if (atomic_load(&sb->poisoned)) {
		pthread_mutex_unlock(&sb->lock);
		return -EIO;
	}
	if (sb->busy) {
		pthread_mutex_unlock(&sb->lock);
		return -EBUSY;
	}
	sb->busy = sb->in_call = true;
	gen = ++sb->gen;
	atomic_store(&sb->stop_reason, 0);
	r = ctx.deadline ? watchdog_arm(sb, ctx.deadline, gen) : 0;
	pthread_mutex_unlock(&sb->lock);

	if (r == 0) {
		if (sb->flags & VMC_SANDBOX_CALLER_THREAD) {
			r = call_borrowed(sb, &ctx);
		} else if (atomic_load(&sb->vm->state) == VMC_VM_RUNNING) {
			r = -EBUSY;
		} else {
			r = vmc_vcpu_run_sync(sb->vcpu, call_work, &ctx);
			if (r == 0)
				r = ctx.result;
		}
	}

	pthread_mutex_lock(&sb->lock);
	sb->busy = sb->in_call = false;
	if (ctx.deadline && sb->wd_gen == gen)
		sb->wd_deadline = 0;
	/* Stopped mid-function: nothing about the guest can be trusted. */
	if (r < 0 && ctx.ran)
		atomic_store(&sb->poisoned, true);
	pthread_mutex_unlock(&sb->lock);
	return r;
}

VMC_EXPORT int vmc_sandbox_reset(struct vmc_sandbox *sb,
				 struct vmc_snapshot *snap)
{
	int r;

	vmc_assert_return(sb && snap, -EINVAL);
	if (vmc__current_vcpu)
		return -EDEADLK;
	pthread_mutex_lock(&sb->lock);
	if (sb->busy) {
		pthread_mutex_unlock(&sb->lock);
		return -EBUSY;
	}
	sb->busy = true;
	pthread_mutex_unlock(&sb->lock);

	r = vmc_snapshot_restore(sb->vm, snap);

	pthread_mutex_lock(&sb->lock);
	sb->busy = false;
	if (r >= 0)
		atomic_store(&sb->poisoned, false);
	pthread_mutex_unlock(&sb->lock);
	return r;
}
