/* SPDX-License-Identifier: MIT */
/*
 * vCPU threads with QEMU's lifecycle semantics.
 *
 * Each vCPU thread loops over two steps, holding the VM lock between them:
 *
 *  1. The event-processing point: clear exit_request; sleep on halt_cond
 *     while the wait predicate holds; clear thread_kicked with a full
 *     barrier; acknowledge a stop request (stop -> stopped, signal
 *     pause_cond); run every queued work item.
 *  2. If the vCPU may run: drop the VM lock, enter the exclusive-section
 *     bracket, let the accelerator run guest code until something needs
 *     attention, leave the bracket, retake the lock, and act on the exit.
 *
 * Every input of the wait predicate (stop, stopped, work, halted, the
 * interrupt lines, the VM's run state) is written with the VM lock held
 * before halt_cond is broadcast, and the predicate is evaluated with the
 * VM lock held, so no wake-up is lost.  The work list has its own leaf lock
 * for queueing from any thread, but the queuer then takes the VM lock to
 * broadcast, which closes the window QEMU leaves open for lock-less
 * queuers.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spin.h"
#include "vm-internal.h"

_Thread_local struct vmc_vcpu *vmc__current_vcpu;

static void publish_state(struct vmc_vcpu *vcpu)
{
	enum vmc_vcpu_state s;

	if (vcpu->exited)
		s = VMC_VCPU_UNPLUGGED;
	else if (vcpu->stopped || vcpu->stop ||
		 atomic_load(&vcpu->vm->state) != VMC_VM_RUNNING)
		s = VMC_VCPU_STOPPED;
	else if (vcpu->halted)
		s = VMC_VCPU_HALTED;
	else
		s = VMC_VCPU_RUNNING;
	atomic_store_explicit(&vcpu->state, s, memory_order_relaxed);
}

static bool vcpu_has_work(struct vmc_vcpu *vcpu)
{
	const struct vmc_accel_ops *ops = vcpu->vm->ops;

	return ops->vcpu_has_work && ops->vcpu_has_work(vcpu);
}

/* The wait predicate; VM lock held. */
static bool vcpu_is_idle(struct vmc_vcpu *vcpu)
{
	const struct vmc_accel_ops *ops = vcpu->vm->ops;

	/* A borrower runs the vCPU, its stops and its work meanwhile. */
	if (vcpu->borrowed)
		return true;
	if (vcpu->stop || atomic_load(&vcpu->has_work))
		return false;
	if (vcpu->stopped || atomic_load(&vcpu->vm->state) != VMC_VM_RUNNING)
		return true;
	if (!vcpu->halted || vcpu_has_work(vcpu))
		return false;
	if (ops->vcpu_idle && !ops->vcpu_idle(vcpu))
		return false;
	return true;
}

static bool vcpu_can_run(struct vmc_vcpu *vcpu)
{
	return !vcpu->stop && !vcpu->stopped &&
	       atomic_load(&vcpu->vm->state) == VMC_VM_RUNNING;
}

void vmc__vcpu_wake(struct vmc_vcpu *vcpu)
{
	atomic_fetch_add_explicit(&vcpu->wake_seq, 1, memory_order_release);
	pthread_cond_broadcast(&vcpu->halt_cond);
}

VMC_EXPORT int vmc_vcpu_kick(struct vmc_vcpu *vcpu)
{
	vmc_assert_return(vcpu, -EINVAL);

	/* Wakes an idle wait only so that it re-checks its predicate. */
	vmc__vcpu_wake(vcpu);
	if (!atomic_exchange(&vcpu->thread_kicked, true) &&
	    vcpu->vm->ops->vcpu_kick)
		vcpu->vm->ops->vcpu_kick(vcpu);
	return 0;
}

void vmc__vcpu_exit(struct vmc_vcpu *vcpu)
{
	atomic_store_explicit(&vcpu->acc.exit_request, true,
			      memory_order_release);
	vmc_vcpu_kick(vcpu);
}

/* ------------------------------------------------------------------------
 * Work items
 */

int vmc__vcpu_queue_work(struct vmc_vcpu *vcpu, struct vmc__work *w)
{
	struct vmc_vm *vm = vcpu->vm;
	bool taken;

	w->next = NULL;
	pthread_mutex_lock(&vcpu->work_lock);
	if (vcpu->exited) {
		pthread_mutex_unlock(&vcpu->work_lock);
		return -ENODEV;
	}
	if (vcpu->work_tail)
		vcpu->work_tail->next = w;
	else
		vcpu->work_head = w;
	vcpu->work_tail = w;
	atomic_store(&vcpu->has_work, true);
	pthread_mutex_unlock(&vcpu->work_lock);

	/*
	 * The sleeper evaluates has_work with the VM lock held; broadcasting
	 * with it held means the item cannot slip in between its check and
	 * its wait.
	 */
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	vmc__vcpu_wake(vcpu);
	vmc__lock_release_if(&vm->lock, taken);
	vmc__vcpu_exit(vcpu);
	return 0;
}

static struct vmc__work *pop_work(struct vmc_vcpu *vcpu)
{
	struct vmc__work *w;

	pthread_mutex_lock(&vcpu->work_lock);
	w = vcpu->work_head;
	if (w) {
		vcpu->work_head = w->next;
		if (!vcpu->work_head) {
			vcpu->work_tail = NULL;
			atomic_store(&vcpu->has_work, false);
		}
	}
	pthread_mutex_unlock(&vcpu->work_lock);
	return w;
}

/* Runs every queued item, including those queued meanwhile; VM lock held. */
static void process_work(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vcpu->vm;
	struct vmc__work *w;
	bool finished_sync = false;

	while ((w = pop_work(vcpu))) {
		if (w->exclusive) {
			/*
			 * Without the VM lock: a vCPU kicked out of guest code
			 * may need it before it reaches exec_end.
			 */
			vmc__lock_release(&vm->lock);
			vmc__exclusive_start(vcpu);
			w->cb(vcpu, w->userdata);
			vmc__exclusive_end(vcpu);
			vmc__lock_acquire(&vm->lock);
		} else {
			w->cb(vcpu, w->userdata);
		}
		if (w->heap) {
			free(w);
		} else {
			atomic_store_explicit(&w->done, 1,
					      memory_order_release);
			finished_sync = true;
		}
	}
	if (finished_sync)
		pthread_cond_broadcast(&vm->work_cond);
}

/* At thread exit: refuse further work, drop what is queued; VM lock held. */
static void drop_work(struct vmc_vcpu *vcpu)
{
	struct vmc__work *w, *next;

	pthread_mutex_lock(&vcpu->work_lock);
	w = vcpu->work_head;
	vcpu->work_head = vcpu->work_tail = NULL;
	atomic_store(&vcpu->has_work, false);
	vcpu->exited = true;
	pthread_mutex_unlock(&vcpu->work_lock);

	for (; w; w = next) {
		next = w->next;
		if (w->heap)
			free(w);
		else
			atomic_store_explicit(&w->done, -ENODEV,
					      memory_order_release);
	}
	pthread_cond_broadcast(&vcpu->vm->work_cond);
}

VMC_EXPORT int vmc_vcpu_run_sync(struct vmc_vcpu *vcpu, vmc_work_cb cb,
				 void *userdata)
{
	struct vmc__work w = {.cb = cb, .userdata = userdata};
	struct vmc_vm *vm;
	bool taken;
	int r;

	vmc_assert_return(vcpu && cb, -EINVAL);
	vm = vcpu->vm;

	if (vmc__current_vcpu == vcpu) {
		taken = vmc__lock_acquire_if_needed(&vm->lock);
		cb(vcpu, userdata);
		vmc__lock_release_if(&vm->lock, taken);
		return 0;
	}
	if (vmc__current_vcpu)
		return -EDEADLK;

	taken = vmc__lock_acquire_if_needed(&vm->lock);
	r = vmc__vcpu_queue_work(vcpu, &w);
	if (r >= 0) {
		while ((r = atomic_load_explicit(&w.done,
						 memory_order_acquire)) == 0)
			vmc__lock_wait(&vm->lock, &vm->work_cond);
		r = r > 0 ? 0 : r;
	}
	vmc__lock_release_if(&vm->lock, taken);
	return r;
}

static int queue_heap(struct vmc_vcpu *vcpu, vmc_work_cb cb, void *userdata,
		      bool exclusive)
{
	struct vmc__work *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->userdata = userdata;
	w->heap = true;
	w->exclusive = exclusive;
	r = vmc__vcpu_queue_work(vcpu, w);
	if (r < 0)
		free(w);
	return r;
}

VMC_EXPORT int vmc_vcpu_run_async(struct vmc_vcpu *vcpu, vmc_work_cb cb,
				  void *userdata)
{
	vmc_assert_return(vcpu && cb, -EINVAL);
	return queue_heap(vcpu, cb, userdata, false);
}

VMC_EXPORT int vmc_vcpu_run_exclusive(struct vmc_vcpu *vcpu, vmc_work_cb cb,
				      void *userdata)
{
	vmc_assert_return(vcpu && cb, -EINVAL);
	return queue_heap(vcpu, cb, userdata, true);
}

/* ------------------------------------------------------------------------
 * The thread
 */

/*
 * Halt polling (config.halt_poll_ns), VM lock held on entry and exit: drop
 * the lock and watch wake_seq, which every halt_cond broadcast bumps after
 * changing the wait predicate's inputs, for up to the window.  The caller
 * re-evaluates the predicate with the lock held either way, so a change
 * that lands after the last look is not lost; it only costs the sleep the
 * poll tried to avoid.  The vCPU counts as parked meanwhile: it cannot
 * leave without the VM lock.
 */
static void halt_poll(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vcpu->vm;
	unsigned int seq =
		atomic_load_explicit(&vcpu->wake_seq, memory_order_acquire);

	vmc__lock_release(&vm->lock);
	vmc__spin_while_same(&vcpu->wake_seq, seq, (int64_t)vm->halt_poll_ns);
	vmc__lock_acquire(&vm->lock);
}

/* The event-processing point; VM lock held. */
static void process_events(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vcpu->vm;

	atomic_store_explicit(&vcpu->acc.exit_request, false,
			      memory_order_relaxed);
	/*
	 * The event point is a quiescent state for memory reclamation, and
	 * an idle vCPU holds no view at all: it goes offline while it sleeps
	 * so that it never holds back freeing a retired flat view.
	 */
	vmc__rcu_quiescent(&vcpu->rcu_reader);
	if (vcpu_is_idle(vcpu)) {
		bool polled = !vm->halt_poll_ns;

		vmc__rcu_thread_offline(&vcpu->rcu_reader);
		do {
			publish_state(vcpu);
			vcpu->parked = true;
			if (!polled) {
				halt_poll(vcpu);
				polled = true;
			} else {
				vmc__lock_wait(&vm->lock, &vcpu->halt_cond);
			}
			vcpu->parked = false;
		} while (vcpu_is_idle(vcpu));
		vmc__rcu_thread_online(&vcpu->rcu_reader);
	}

	/*
	 * A kicker sets its payload, then exchanges thread_kicked.  Clearing
	 * the flag with a sequentially consistent read-modify-write before
	 * reading the payload means that either we see the payload now, or
	 * the kicker's exchange comes later in the flag's order, reads false,
	 * and kicks again.
	 */
	atomic_exchange(&vcpu->thread_kicked, false);

	if (vcpu->stop) {
		vcpu->stop = false;
		vcpu->stopped = true;
		publish_state(vcpu);
		pthread_cond_broadcast(&vm->pause_cond);
	}
	process_work(vcpu);
}

/* One slice of guest code; VM lock held on entry and exit. */
static void run_slice(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vcpu->vm;
	int r;

	if (vcpu->halted) {
		if (vcpu_has_work(vcpu))
			vcpu->halted = false;
		else if (!vm->ops->vcpu_idle || vm->ops->vcpu_idle(vcpu))
			return;
	}
	publish_state(vcpu);

	vmc__lock_release(&vm->lock);
	vmc__exec_start(vcpu);
	r = vm->ops->vcpu_run(vcpu);
	vmc__exec_end(vcpu);
	vmc__lock_acquire(&vm->lock);

	switch (r) {
	case VMC__EXIT_HALTED:
		vcpu->halted = true;
		break;
	case VMC__EXIT_DEBUG:
		/*
		 * Stay put at once; the loop then stops the others and
		 * enters VMC_VM_DEBUG (QEMU's cpu_handle_guest_debug).
		 */
		vcpu->stopped = true;
		pthread_cond_broadcast(&vm->pause_cond);
		vmc__vm_debug_request(vcpu);
		break;
	case VMC__EXIT_ERROR:
	case VMC__EXIT_SHUTDOWN:
		/* The request is queued; the loop stops the whole VM. */
		vcpu->stop = true;
		break;
	default:
		break;
	}
	publish_state(vcpu);
}

void *vmc__vcpu_thread(void *arg)
{
	struct vmc_vcpu *vcpu = arg;
	struct vmc_vm *vm = vcpu->vm;
	char name[16];
	int r;

	snprintf(name, sizeof(name), "vcpu/%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);
	atomic_store(&vcpu->tid, (int)gettid());
	vmc__current_vcpu = vcpu;
	vmc__rcu_register_thread(vmc__memory_rcu(vm->memory),
				 &vcpu->rcu_reader);

	vmc__lock_acquire(&vm->lock);
	/* Parked until now if vcpu_create built it (see start_vcpu_threads). */
	vcpu->parked = false;
	if (!vcpu->created) {
		r = vm->ops->vcpu_init ? vm->ops->vcpu_init(vcpu) : 0;
		vcpu->init_error = r;
		atomic_store_explicit(&vcpu->created, true,
				      memory_order_release);
		pthread_cond_broadcast(&vm->created_cond);
		if (r < 0)
			goto out;
	}

	do {
		process_events(vcpu);
		if (vcpu_can_run(vcpu))
			run_slice(vcpu);
	} while (!vcpu->unplug || vcpu_can_run(vcpu));

	if (vm->ops->vcpu_destroy)
		vm->ops->vcpu_destroy(vcpu);
out:
	drop_work(vcpu);
	atomic_store(&vcpu->tid, 0);
	publish_state(vcpu);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_cond_broadcast(&vm->created_cond);
	vmc__lock_release(&vm->lock);
	vmc__rcu_unregister_thread(&vcpu->rcu_reader);
	vmc__current_vcpu = NULL;
	return NULL;
}

/* ------------------------------------------------------------------------
 * Public vCPU calls
 */

VMC_EXPORT unsigned int vmc_vcpu_get_index(const struct vmc_vcpu *vcpu)
{
	return vcpu ? vcpu->index : 0;
}

VMC_EXPORT int vmc_vcpu_get_thread_id(const struct vmc_vcpu *vcpu)
{
	int tid;

	vmc_assert_return(vcpu, -EINVAL);
	tid = atomic_load(&((struct vmc_vcpu *)vcpu)->tid);
	return tid > 0 ? tid : -ESRCH;
}

VMC_EXPORT struct vmc_vm *vmc_vcpu_get_vm(const struct vmc_vcpu *vcpu)
{
	return vcpu ? vcpu->vm : NULL;
}

VMC_EXPORT struct vmc_vcpu *vmc_vcpu_current(void)
{
	return vmc__current_vcpu;
}

VMC_EXPORT enum vmc_vcpu_state vmc_vcpu_get_state(const struct vmc_vcpu *vcpu)
{
	if (!vcpu)
		return VMC_VCPU_UNPLUGGED;
	return (enum vmc_vcpu_state)atomic_load_explicit(&vcpu->state,
							 memory_order_relaxed);
}

VMC_EXPORT int vmc_vcpu_set_irq(struct vmc_vcpu *vcpu, unsigned int line,
				bool level)
{
	struct vmc_vm *vm;
	uint64_t bit, old;
	bool taken;

	vmc_assert_return(vcpu && line < 64, -EINVAL);
	vm = vcpu->vm;
	bit = UINT64_C(1) << line;

	taken = vmc__lock_acquire_if_needed(&vm->lock);
	old = level ? atomic_fetch_or(&vcpu->acc.irqs, bit)
		    : atomic_fetch_and(&vcpu->acc.irqs, ~bit);
	if (!!(old & bit) != level) {
		if (vm->ops->vcpu_irq)
			vm->ops->vcpu_irq(vcpu, line, level);
		if (level) {
			vmc__vcpu_wake(vcpu);
			vmc__vcpu_exit(vcpu);
		}
	}
	vmc__lock_release_if(&vm->lock, taken);
	return 0;
}

VMC_EXPORT uint64_t vmc_vcpu_get_irqs(const struct vmc_vcpu *vcpu)
{
	return vcpu ? atomic_load(&vcpu->acc.irqs) : 0;
}

VMC_EXPORT int vmc_vcpu_halt(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm;
	bool taken;
	int r = 0;

	vmc_assert_return(vcpu, -EINVAL);
	vm = vcpu->vm;
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	if (vcpu->exited || vcpu->unplug) {
		r = -ENODEV;
	} else {
		vcpu->halted = true;
		publish_state(vcpu);
		vmc__vcpu_exit(vcpu);
	}
	vmc__lock_release_if(&vm->lock, taken);
	return r;
}

VMC_EXPORT int vmc_vcpu_unplug(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm;

	vmc_assert_return(vcpu, -EINVAL);
	vm = vcpu->vm;
	if (vmc__current_vcpu && vmc__current_vcpu->vm == vm)
		return -EDEADLK;
	vmc_assert_return(!vmc__lock_held(&vm->lock), -EDEADLK);

	vmc__lock_acquire(&vm->lock);
	if (vcpu->unplug || !vcpu->thread_started) {
		vmc__lock_release(&vm->lock);
		return -EALREADY;
	}
	vcpu->unplug = true;
	vcpu->stop = true;
	vmc__vcpu_wake(vcpu);
	vmc__vcpu_exit(vcpu);
	vmc__lock_release(&vm->lock);

	pthread_join(vcpu->thread, NULL);
	vcpu->thread_started = false;
	return 0;
}

struct reg_access {
	unsigned int reg;
	bool write;
	uint64_t value;
	int result;
};

static void do_reg_access(struct vmc_vcpu *vcpu, void *userdata)
{
	struct reg_access *a = userdata;
	const struct vmc_accel_ops *ops = vcpu->vm->ops;

	if (a->write)
		a->result = ops->set_reg(vcpu, a->reg, a->value);
	else
		a->result = ops->get_reg(vcpu, a->reg, &a->value);
}

static int reg_access(struct vmc_vcpu *vcpu, struct reg_access *a)
{
	struct vmc_vm *vm = vcpu->vm;
	const struct vmc_accel_ops *ops = vm->ops;
	bool taken;
	int r;

	if (!ops->get_reg || !ops->set_reg)
		return -EOPNOTSUPP;
	/*
	 * A parked vCPU (not started yet, paused, halted in userspace)
	 * stays parked while we hold the VM lock: access its registers
	 * from here instead of waking its thread twice.
	 */
	if (!vmc__current_vcpu) {
		taken = vmc__lock_acquire_if_needed(&vm->lock);
		if (vcpu->parked && !vcpu->borrowed) {
			do_reg_access(vcpu, a);
			vmc__lock_release_if(&vm->lock, taken);
			return a->result;
		}
		vmc__lock_release_if(&vm->lock, taken);
	}
	r = vmc_vcpu_run_sync(vcpu, do_reg_access, a);
	return r < 0 ? r : a->result;
}

VMC_EXPORT int vmc_vcpu_get_reg(struct vmc_vcpu *vcpu, unsigned int reg,
				uint64_t *ret)
{
	struct reg_access a = {.reg = reg};
	int r;

	vmc_assert_return(vcpu && ret, -EINVAL);
	r = reg_access(vcpu, &a);
	if (r >= 0)
		*ret = a.value;
	return r;
}

VMC_EXPORT int vmc_vcpu_set_reg(struct vmc_vcpu *vcpu, unsigned int reg,
				uint64_t value)
{
	struct reg_access a = {.reg = reg, .write = true, .value = value};

	vmc_assert_return(vcpu, -EINVAL);
	return reg_access(vcpu, &a);
}

void vmc__vcpu_guest_error(struct vmc_vcpu *vcpu, const char *fmt, ...)
{
	char reason[256];
	int n;
	va_list ap;

	n = snprintf(reason, sizeof(reason), "vcpu %u: ", vcpu->index);
	va_start(ap, fmt);
	vsnprintf(reason + n, sizeof(reason) - (size_t)n, fmt, ap);
	va_end(ap);
	vmc__info("guest error: %s", reason);
	/* A guest call ends with the error; the VM's run state stays. */
	if (vcpu->call && vmc__current_vcpu == vcpu) {
		vcpu->call->failed = true;
		memcpy(vcpu->call->error, reason, sizeof(reason));
		return;
	}
	vmc_vm_request_guest_error(vcpu->vm, reason);
}

/* ------------------------------------------------------------------------
 * Executors other than the vCPU's own loop (guest calls, sandbox.c)
 *
 * A borrower takes the vCPU while its thread sleeps in the idle wait: the
 * wait predicate holds while `borrowed` is set (VM lock), so neither a
 * kick, nor a stop request, nor queued work wakes the thread into guest
 * code or into the vCPU's state.  The borrower runs queued work itself
 * (vmc__vcpu_exec_work) and makes itself the calling thread's current
 * vCPU, so that run_sync from a callback runs inline as on the vCPU's own
 * thread.  Kicks reach it through runner_tid (accel.c).
 */

int vmc__vcpu_borrow(struct vmc_vcpu *vcpu, struct vmc__rcu_reader *reader)
{
	struct vmc_vm *vm = vcpu->vm;

	if (vmc__current_vcpu)
		return -EDEADLK;
	if (vcpu->exited || vcpu->unplug)
		return -ENODEV;
	if (!atomic_load(&vcpu->created) || !vcpu->parked || vcpu->borrowed ||
	    atomic_load(&vm->state) == VMC_VM_RUNNING)
		return -EBUSY;
	vcpu->borrowed = true;
	vcpu->borrow_reader = reader;
	atomic_store(&vcpu->runner_tid, (int)gettid());
	vmc__current_vcpu = vcpu;
	vmc__rcu_thread_online(reader);
	return 0;
}

void vmc__vcpu_unborrow(struct vmc_vcpu *vcpu)
{
	vmc__rcu_thread_offline(vcpu->borrow_reader);
	vmc__current_vcpu = NULL;
	atomic_store(&vcpu->runner_tid, 0);
	vcpu->borrow_reader = NULL;
	vcpu->borrowed = false;
	/* What was queued meanwhile is the thread's again. */
	if (atomic_load(&vcpu->has_work) || vcpu->stop)
		vmc__vcpu_wake(vcpu);
}

int vmc__vcpu_exec(struct vmc_vcpu *vcpu)
{
	struct vmc_vm *vm = vcpu->vm;
	int r;

	/* Between two runs the executor holds no view: a quiescent point. */
	vmc__rcu_quiescent(vcpu->borrow_reader ? vcpu->borrow_reader
					       : &vcpu->rcu_reader);
	vmc__lock_release(&vm->lock);
	vmc__exec_start(vcpu);
	r = vm->ops->vcpu_run(vcpu);
	vmc__exec_end(vcpu);
	vmc__lock_acquire(&vm->lock);
	return r;
}

void vmc__vcpu_exec_work(struct vmc_vcpu *vcpu)
{
	if (atomic_load(&vcpu->has_work))
		process_work(vcpu);
}
