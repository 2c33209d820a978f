/* SPDX-License-Identifier: MIT */
/*
 * VMs: creation and teardown, the run state machine, requests from any
 * thread, state and reset handlers.
 *
 * Run-state changes happen on the loop thread with the VM lock held.  The
 * order inside a stop mirrors QEMU's vm_stop: set the new state first (so a
 * vCPU that wakes sees it and goes idle), freeze the virtual clock, stop
 * every vCPU and wait for all of them, then tell the handlers in descending
 * priority.  A start is the mirror image: state, clock, handlers in
 * ascending priority, then the vCPUs.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop-internal.h"
#include "spin.h"
#include "snapshot-internal.h"
#include "vm-internal.h"

enum {
	REQ_PAUSE,
	REQ_RESUME,
	REQ_RESET,
	REQ_SHUTDOWN,
	REQ_ERROR,
	REQ_DEBUG,
};

/*
 * At most this many requests wait for the loop; a thread that is not one of
 * the VM's vCPUs gets -EAGAIN beyond it.  A vCPU thread's pause, reset,
 * shutdown, guest-error or debug request is never refused: the vCPU stops
 * itself when it asks, so it cannot ask again before the loop caught up.
 *
 * Nodes come from a pool made with the VM, REQ_MAX plus one per vCPU, so
 * that queueing a request allocates nothing in the usual case (a vCPU's
 * guest error or debug stop must not be lost to an allocation failure);
 * only beyond the pool, a vCPU's request takes a node from the heap.
 */
#define REQ_MAX 64

struct vmc__request {
	struct vmc__request *next, *prev;
	int kind;
	int status;
	uint64_t run_gen; /* REQ_DEBUG: vm->run_gen when queued */
	char *reason;	  /* REQ_ERROR: a copy, or NULL */
	bool heap;	  /* not from the pool */
};

/*
 * State and reset handlers share one list node; the public handle types
 * stay distinct (and opaque) and are this node underneath.  Lists are kept
 * in ascending priority, equal priorities in registration order; reset
 * handlers all have priority 0, so theirs is registration order.
 *
 * Handlers may add and remove handlers while they are called, and calling
 * them allocates nothing (a failure there would lose a state change, a
 * board would never hear of its VM's shutdown).  While any handler runs
 * (vm->handler_depth > 0) a removed node is only marked dead and stays
 * linked, so the walk can go on from it; the outermost walk frees the dead
 * ones at its end.  A node remembers the notification count when it was
 * added: a walk skips nodes added after it started.  The lists are doubly
 * linked for the walk in descending priority.
 */
struct vmc__handler {
	struct vmc__handler *next, *prev;
	union {
		vmc_vm_state_cb state;
		vmc_vm_reset_cb reset;
	} cb;
	void *userdata;
	int priority;
	bool dead;
	uint64_t added; /* vm->handler_walks when added */
};

static int handler_add(struct vmc_vm *vm, struct vmc__handler **list,
		       struct vmc__handler *h)
{
	struct vmc__handler **p, *prev = NULL;
	bool taken = vmc__lock_acquire_if_needed(&vm->lock);

	for (p = list; *p && (*p)->priority <= h->priority; p = &(*p)->next)
		prev = *p;
	h->added = vm->handler_walks;
	h->prev = prev;
	h->next = *p;
	if (*p)
		(*p)->prev = h;
	*p = h;
	vmc__lock_release_if(&vm->lock, taken);
	return 0;
}

static void handler_unlink(struct vmc__handler **list, struct vmc__handler *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		*list = h->next;
	if (h->next)
		h->next->prev = h->prev;
	free(h);
}

static void handler_remove(struct vmc_vm *vm, struct vmc__handler **list,
			   struct vmc__handler *h)
{
	struct vmc__handler *p;
	bool taken = vmc__lock_acquire_if_needed(&vm->lock);

	for (p = *list; p && p != h; p = p->next)
		;
	if (p && vm->handler_depth)
		p->dead = true;
	else if (p)
		handler_unlink(list, p);
	vmc__lock_release_if(&vm->lock, taken);
}

static void handlers_sweep(struct vmc__handler **list)
{
	struct vmc__handler *h, *next;

	for (h = *list; h; h = next) {
		next = h->next;
		if (h->dead)
			handler_unlink(list, h);
	}
}

/* Open a walk over the handler lists (VM lock held); returns its number. */
static uint64_t handlers_walk_begin(struct vmc_vm *vm)
{
	vm->handler_depth++;
	return ++vm->handler_walks;
}

static void handlers_walk_end(struct vmc_vm *vm)
{
	if (--vm->handler_depth == 0) {
		handlers_sweep(&vm->state_handlers);
		handlers_sweep(&vm->reset_handlers);
	}
}

/* Whether walk number @walk calls @h. */
static bool handler_due(const struct vmc__handler *h, uint64_t walk)
{
	return !h->dead && h->added < walk;
}

static void handlers_free(struct vmc__handler **list)
{
	while (*list) {
		struct vmc__handler *h = *list;

		*list = h->next;
		free(h);
	}
}

static struct vmc__handler *handler_new(void *userdata, int priority)
{
	struct vmc__handler *h = calloc(1, sizeof(*h));

	if (h) {
		h->userdata = userdata;
		h->priority = priority;
	}
	return h;
}

static const struct vmc_accel_ops *accel_table[] = {
#if VMC_HAVE_KVM_ACCEL
	&vmc__accel_kvm,
#endif
#if VMC_HAVE_TCG_ACCEL
	&vmc__accel_tcg,
#endif
	&vmc__accel_harness,
};

VMC_EXPORT void vmc_vm_config_init(struct vmc_vm_config *config)
{
	if (!config)
		return;
	*config = (struct vmc_vm_config){
		.size = sizeof(*config),
		.accel = VMC_ACCEL_AUTO,
		.arch = VMC_ARCH_NONE,
		.vcpus = 1,
	};
}

static const struct vmc_accel_ops *pick_accel(enum vmc_accel want,
					      enum vmc_arch arch, int *err)
{
	int best = -ENODEV;

	for (size_t i = 0; i < ARRAY_SIZE(accel_table); i++) {
		const struct vmc_accel_ops *ops = accel_table[i];
		int r;

		if (want == VMC_ACCEL_AUTO ? ops->type == VMC_ACCEL_HARNESS
					   : ops->type != want)
			continue;
		r = ops->probe ? ops->probe(arch) : 0;
		if (r >= 0)
			return ops;
		/* Prefer "wrong architecture" over "not here" as the answer. */
		if (r == -EINVAL || best == -ENODEV)
			best = r;
	}
	*err = best;
	return NULL;
}

/* ------------------------------------------------------------------------
 * Run-state machinery (loop thread, VM lock held)
 */

static void set_state(struct vmc_vm *vm, enum vmc_vm_state s)
{
	atomic_store(&vm->state, (int)s);
}

static void notify_state(struct vmc_vm *vm, enum vmc_vm_state old,
			 enum vmc_vm_state new_state)
{
	struct vmc__handler *h;
	uint64_t walk;

	if (old == new_state)
		return;
	walk = handlers_walk_begin(vm);
	h = vm->state_handlers;
	if (new_state != VMC_VM_RUNNING)
		while (h && h->next)
			h = h->next;
	/* A handler that dropped the last reference ends the walk. */
	while (h && !vm->in_teardown) {
		if (handler_due(h, walk))
			h->cb.state(vm, old, new_state, h->userdata);
		h = new_state == VMC_VM_RUNNING ? h->next : h->prev;
	}
	handlers_walk_end(vm);
}

static bool on_vcpu_thread_of(struct vmc_vm *vm)
{
	return vmc__current_vcpu && vmc__current_vcpu->vm == vm;
}

static bool all_stopped(struct vmc_vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (c->thread_started && !c->exited && !c->stopped)
			return false;
	}
	return true;
}

void vmc__vm_stop_vcpus(struct vmc_vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (!c->thread_started || c->exited)
			continue;
		c->stop = true;
		vmc__vcpu_exit(c);
	}
	while (!all_stopped(vm)) {
		struct timespec ts;

		/*
		 * Re-kick after each wake-up, in case a kick was absorbed
		 * by a vCPU that was about to enter guest code.
		 */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		vmc__lock_timedwait(&vm->lock, &vm->pause_cond, &ts);
		for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
			struct vmc_vcpu *c = &vm->vcpus[i];

			if (c->thread_started && !c->exited && !c->stopped)
				vmc__vcpu_exit(c);
		}
	}
}

void vmc__vm_resume_vcpus(struct vmc_vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (!c->thread_started || c->exited || c->unplug || c->hold)
			continue;
		c->stop = false;
		c->stopped = false;
		/*
		 * The idle wait re-checks its predicate; no kick, which
		 * would only cut the vCPU's first entry short (KVM enters
		 * with immediate_exit set and returns at once).  A vCPU
		 * whose stop was not yet acknowledged sees stop cleared at
		 * its next event point.
		 */
		vmc__vcpu_wake(c);
	}
}

/* Leave RUNNING (or CREATED/PAUSED) for a stopped state. */
static void do_stop(struct vmc_vm *vm, enum vmc_vm_state new_state)
{
	enum vmc_vm_state old = (enum vmc_vm_state)atomic_load(&vm->state);

	if (old == new_state)
		return;
	set_state(vm, new_state);
	if (old == VMC_VM_RUNNING)
		vmc_clock_stop(vm->clock);
	vmc__vm_stop_vcpus(vm);
	notify_state(vm, old, new_state);
}

static int do_resume(struct vmc_vm *vm)
{
	enum vmc_vm_state old = (enum vmc_vm_state)atomic_load(&vm->state);

	if (old == VMC_VM_RUNNING)
		return 0;
	if (old != VMC_VM_CREATED && old != VMC_VM_PAUSED &&
	    old != VMC_VM_DEBUG)
		return -EBUSY;
	vm->debug_vcpu = NULL;
	vm->run_gen++;
	set_state(vm, VMC_VM_RUNNING);
	vmc_clock_start(vm->clock);
	notify_state(vm, old, VMC_VM_RUNNING);
	/* A handler may have stopped the VM again. */
	if (atomic_load(&vm->state) == VMC_VM_RUNNING)
		vmc__vm_resume_vcpus(vm);
	return 0;
}

static void reset_vcpu(struct vmc_vcpu *vcpu, void *userdata)
{
	if (vcpu->vm->ops->vcpu_reset)
		vcpu->vm->ops->vcpu_reset(vcpu);
}

static void do_reset(struct vmc_vm *vm)
{
	enum vmc_vm_state old = (enum vmc_vm_state)atomic_load(&vm->state);
	struct vmc__handler *h;
	uint64_t walk;

	/* Quiesce the vCPUs without telling anyone the VM stopped. */
	if (old == VMC_VM_RUNNING)
		vmc_clock_stop(vm->clock);
	vmc__vm_stop_vcpus(vm);

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (!c->thread_started || c->exited)
			continue;
		vmc_vcpu_run_sync(c, reset_vcpu, NULL);
		c->halted = false;
	}
	walk = handlers_walk_begin(vm);
	for (h = vm->reset_handlers; h && !vm->in_teardown; h = h->next)
		if (handler_due(h, walk))
			h->cb.reset(vm, h->userdata);
	handlers_walk_end(vm);

	vm->error[0] = '\0';
	vm->shutdown_status = 0;
	if (old == VMC_VM_RUNNING) {
		vmc_clock_start(vm->clock);
		vmc__vm_resume_vcpus(vm);
	} else if (old == VMC_VM_SHUTDOWN || old == VMC_VM_GUEST_ERROR) {
		set_state(vm, VMC_VM_PAUSED);
		notify_state(vm, old, VMC_VM_PAUSED);
	}
}

static void vm_free(struct vmc_vm *vm);

static void apply_request(struct vmc_vm *vm, struct vmc__request *r)
{
	enum vmc_vm_state s = (enum vmc_vm_state)atomic_load(&vm->state);

	switch (r->kind) {
	case REQ_PAUSE:
		if (s == VMC_VM_RUNNING)
			do_stop(vm, VMC_VM_PAUSED);
		break;
	case REQ_RESUME:
		if (do_resume(vm) < 0)
			vmc__debug("vm: resume refused in state %s",
				   vmc_vm_state_to_string(s));
		break;
	case REQ_RESET:
		do_reset(vm);
		break;
	case REQ_SHUTDOWN:
		if (s == VMC_VM_SHUTDOWN || s == VMC_VM_GUEST_ERROR)
			break;
		vm->shutdown_status = r->status;
		do_stop(vm, VMC_VM_SHUTDOWN);
		break;
	case REQ_ERROR:
		if (s == VMC_VM_GUEST_ERROR)
			break;
		snprintf(vm->error, sizeof(vm->error), "%s",
			 r->reason
				 ? r->reason
				 : "guest error (reason lost: out of memory)");
		do_stop(vm, VMC_VM_GUEST_ERROR);
		break;
	case REQ_DEBUG:
		/*
		 * All-stop: the vCPU that made the debug stop names the stop;
		 * one that comes while the VM is already stopped stays
		 * stopped and will stop again (same pc) once resumed.
		 */
		if (s == VMC_VM_RUNNING && r->run_gen == vm->run_gen &&
		    (unsigned int)r->status < vm->nr_vcpus) {
			vm->debug_vcpu = &vm->vcpus[r->status];
			do_stop(vm, VMC_VM_DEBUG);
		}
		break;
	}
	/*
	 * A vCPU that asked for a stop stopped itself; if the request did not
	 * end up stopping the VM (a pause of a paused VM, say) it must run
	 * again when the VM does.
	 */
	if (atomic_load(&vm->state) == VMC_VM_RUNNING)
		vmc__vm_resume_vcpus(vm);
}

/* A node from the pool, else the heap (req_lock held). */
static struct vmc__request *req_get(struct vmc_vm *vm)
{
	struct vmc__request *r = vm->req_free;

	if (r) {
		vm->req_free = r->next;
		*r = (struct vmc__request){.heap = false};
	} else {
		r = calloc(1, sizeof(*r));
		if (r)
			r->heap = true;
	}
	return r;
}

static void req_put(struct vmc_vm *vm, struct vmc__request *r)
{
	free(r->reason);
	r->reason = NULL;
	if (r->heap) {
		free(r);
	} else {
		r->next = vm->req_free;
		vm->req_free = r;
	}
}

static void request_bh(struct vmc_bh *bh, void *userdata)
{
	struct vmc_vm *vm = userdata;
	struct vmc__request *r;

	vmc__lock_acquire(&vm->lock);
	for (;;) {
		pthread_mutex_lock(&vm->req_lock);
		r = vm->req_head;
		if (r) {
			vm->req_head = r->next;
			if (vm->req_head)
				vm->req_head->prev = NULL;
			else
				vm->req_tail = NULL;
			vm->req_count--;
		}
		pthread_mutex_unlock(&vm->req_lock);
		if (!r)
			break;
		if (!vm->in_teardown)
			apply_request(vm, r);
		pthread_mutex_lock(&vm->req_lock);
		req_put(vm, r);
		pthread_mutex_unlock(&vm->req_lock);
	}
	vmc__lock_release(&vm->lock);
	/* The last reference went where destruction would deadlock. */
	if (atomic_load(&vm->destroy_deferred))
		vm_free(vm);
}

static bool pause_or_resume(int kind)
{
	return kind == REQ_PAUSE || kind == REQ_RESUME;
}

static void req_unlink(struct vmc_vm *vm, struct vmc__request *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		vm->req_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		vm->req_tail = r->prev;
	vm->req_count--;
	req_put(vm, r);
}

/*
 * Coalesce a new request of @kind with the pending ones (req_lock held).
 * Requests are applied in order, so one may go only where the outcome is
 * the same from every run state:
 *  - a request of the kind queued last: a second pause, resume or reset
 *    in a row changes nothing the first did not (QEMU keeps one flag per
 *    kind); a second shutdown, guest error or debug stop of the same run
 *    is ignored when applied, as the first one's status or reason wins.
 *    Returns true: the new request is dropped.
 *  - a run of pauses and resumes: [X, Y, X] ends where [Y, X] ends, so
 *    the older X goes, and a run never holds more than two requests.
 * What is lost is only the report of intermediate states to the state
 * handlers, as in QEMU, where a start cancels a pending stop request.
 */
static bool req_coalesce(struct vmc_vm *vm, int kind, uint64_t run_gen)
{
	struct vmc__request *t = vm->req_tail;

	if (!t)
		return false;
	if (t->kind == kind && (kind != REQ_DEBUG || t->run_gen == run_gen))
		return true;
	if (pause_or_resume(kind) && pause_or_resume(t->kind) && t->prev &&
	    t->prev->kind == kind)
		req_unlink(vm, t->prev);
	return false;
}

static int vm_request(struct vmc_vm *vm, int kind, int status,
		      const char *reason, uint64_t run_gen)
{
	bool from_vcpu = on_vcpu_thread_of(vm);
	struct vmc__request *r;
	char *copy = NULL;
	int err = 0;

	/* A reason lost to memory leaves the request itself standing. */
	if (reason)
		copy = strndup(reason, 255);

	pthread_mutex_lock(&vm->req_lock);
	if (req_coalesce(vm, kind, run_gen)) {
		free(copy);
	} else if (vm->req_count >= REQ_MAX &&
		   (!from_vcpu || kind == REQ_RESUME)) {
		free(copy);
		err = -EAGAIN;
	} else if (!(r = req_get(vm))) {
		free(copy);
		err = -ENOMEM;
	} else {
		r->kind = kind;
		r->status = status;
		r->run_gen = run_gen;
		r->reason = copy;
		r->prev = vm->req_tail;
		if (vm->req_tail)
			vm->req_tail->next = r;
		else
			vm->req_head = r;
		vm->req_tail = r;
		vm->req_count++;
	}
	pthread_mutex_unlock(&vm->req_lock);
	if (err == -EAGAIN)
		vmc__warn("vm: %u requests pending, refusing another until "
			  "the loop applies them",
			  (unsigned int)REQ_MAX);
	else if (err < 0)
		vmc__err("vm: out of memory queueing a request");
	if (err < 0)
		return err;

	/* A vCPU asking for a stop does not run on while the loop reacts. */
	if (kind != REQ_RESUME && from_vcpu) {
		struct vmc_vcpu *self = vmc__current_vcpu;
		bool taken = vmc__lock_acquire_if_needed(&vm->lock);

		self->stop = true;
		atomic_store_explicit(&self->acc.exit_request, true,
				      memory_order_release);
		vmc__lock_release_if(&vm->lock, taken);
	}
	return vmc_bh_schedule(vm->req_bh);
}

int vmc__vm_request(struct vmc_vm *vm, int kind, int status, const char *reason)
{
	return vm_request(vm, kind, status, reason, 0);
}

/* ------------------------------------------------------------------------
 * Creation and teardown
 */

static int start_vcpu_threads(struct vmc_vm *vm)
{
	sigset_t all, old;
	int r = 0;

	/*
	 * vCPU threads start with every signal blocked: the host's signal
	 * handlers belong on its own threads, and an accelerator unblocks
	 * exactly the signal it kicks with, only where it needs it.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (vm->ops->vcpu_create) {
			r = vm->ops->vcpu_create(c);
			if (r < 0)
				break;
			/* Built: the thread needs no waiting for, and
			 * counts as parked until it takes the VM lock. */
			atomic_store_explicit(&c->created, true,
					      memory_order_release);
			c->parked = true;
		}
		r = -pthread_create(&c->thread, NULL, vmc__vcpu_thread, c);
		if (r < 0) {
			c->parked = false;
			break;
		}
		c->thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/*
	 * Wait for each thread to build its accelerator state.  That takes
	 * tens of microseconds, about what waking a sleeping thread costs
	 * on a virtualized host: poll for a short while first.
	 */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (!c->thread_started)
			continue;
		if (!vmc__spin_until(&c->created)) {
			vmc__lock_acquire(&vm->lock);
			while (!c->created)
				vmc__lock_wait(&vm->lock, &vm->created_cond);
			vmc__lock_release(&vm->lock);
		}
		if (c->init_error < 0 && r >= 0)
			r = c->init_error;
	}
	return r;
}

static void join_vcpu_threads(struct vmc_vm *vm)
{
	vmc__lock_acquire(&vm->lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (!c->thread_started)
			continue;
		c->unplug = true;
		c->stop = true;
		vmc__vcpu_wake(c);
		vmc__vcpu_exit(c);
	}
	vmc__lock_release(&vm->lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmc_vcpu *c = &vm->vcpus[i];

		if (!c->thread_started)
			continue;
		vmc__join_thread(c->thread);
		c->thread_started = false;
	}
}

static void vm_free(struct vmc_vm *vm)
{
	struct vmc__request *r;

	if (vm->vcpus) {
		join_vcpu_threads(vm);
		if (vm->acc.state && vm->ops->vm_destroy)
			vm->ops->vm_destroy(vm);
		for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
			pthread_cond_destroy(&vm->vcpus[i].halt_cond);
			pthread_mutex_destroy(&vm->vcpus[i].work_lock);
		}
		free(vm->vcpus);
	}
	while ((r = vm->req_head)) {
		vm->req_head = r->next;
		req_put(vm, r);
	}
	free(vm->req_pool);
	handlers_free(&vm->state_handlers);
	handlers_free(&vm->reset_handlers);
	vmc__sections_free(vm);
	vmc_address_space_free(vm->as_memory);
	vmc_address_space_free(vm->as_io);
	vmc_region_unref(vm->root_memory);
	vmc_region_unref(vm->root_io);
	vmc_memory_free(vm->memory);
	vmc_bh_free(vm->req_bh);
	vmc_clock_unref(vm->clock);
	vmc_loop_unref(vm->loop);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_cond_destroy(&vm->created_cond);
	pthread_cond_destroy(&vm->work_cond);
	pthread_cond_destroy(&vm->excl_cond);
	pthread_cond_destroy(&vm->excl_resume);
	pthread_mutex_destroy(&vm->excl_lock);
	pthread_mutex_destroy(&vm->req_lock);
	vmc__lock_destroy(&vm->lock);
	free(vm);
}

static void init_cond(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

/*
 * The VM's two address spaces.  Their root containers are what boards
 * populate; region callbacks dispatched through them run under the VM lock.
 */
static int vm_memory_init(struct vmc_vm *vm)
{
	int r;

	r = vmc_memory_new(&vm->memory);
	if (r < 0)
		return r;
	r = vmc_region_new_container(vm->memory, "system", VMC_REGION_SIZE_ALL,
				     &vm->root_memory);
	if (r < 0)
		return r;
	r = vmc_region_new_container(vm->memory, "io", 0x10000, &vm->root_io);
	if (r < 0)
		return r;
	r = vmc_address_space_new(vm->memory, vm->root_memory, VMC_AS_MEMORY,
				  "memory", &vm->as_memory);
	if (r < 0)
		return r;
	r = vmc_address_space_new(vm->memory, vm->root_io, VMC_AS_IO, "io",
				  &vm->as_io);
	if (r < 0)
		return r;
	vmc__as_set_dispatch_lock(vm->as_memory, &vm->lock);
	vmc__as_set_dispatch_lock(vm->as_io, &vm->lock);
	return 0;
}

static int vm_new(const struct vmc_vm_config *config,
		  const struct vmc_accel_ops *forced, struct vmc_vm **ret)
{
	struct vmc_vm_config c;
	const struct vmc_accel_ops *ops;
	struct vmc_vm *vm;
	int r;

	vmc_assert_return(config && ret, -EINVAL);
	vmc_assert_return(config->size >=
				  offsetof(struct vmc_vm_config, kick_signal),
			  -EINVAL);
	vmc_vm_config_init(&c);
	memcpy(&c, config, config->size < sizeof(c) ? config->size : sizeof(c));
	vmc_assert_return(c.loop, -EINVAL);
	vmc_assert_return(c.vcpus >= 1 && c.vcpus <= 256, -EINVAL);
	vmc_assert_return(!(c.flags & ~(unsigned int)VMC_VM_DETERMINISTIC),
			  -EINVAL);
	vmc_assert_return(c.accel <= VMC_ACCEL_HARNESS, -EINVAL);
	vmc_assert_return(c.arch <= VMC_ARCH_RISCV64, -EINVAL);
	vmc_assert_return(c.kick_signal == 0 || (c.kick_signal >= SIGRTMIN &&
						 c.kick_signal <= SIGRTMAX),
			  -EINVAL);
	vmc_assert_return(c.halt_poll_ns <= 1000000000u, -EINVAL);

	ops = forced ? forced : pick_accel(c.accel, c.arch, &r);
	if (!ops)
		return r;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	atomic_init(&vm->ref, 1);
	vm->ops = ops;
	vm->arch = c.arch;
	vm->flags = c.flags;
	vm->kick_signal = c.kick_signal ? c.kick_signal : SIGRTMIN + 6;
	vm->halt_poll_ns = c.halt_poll_ns;
	vm->loop = vmc_loop_ref(c.loop);
	vmc__lock_init(&vm->lock);
	atomic_init(&vm->state, VMC_VM_CREATED);
	init_cond(&vm->pause_cond);
	init_cond(&vm->created_cond);
	init_cond(&vm->work_cond);
	pthread_cond_init(&vm->excl_cond, NULL);
	pthread_cond_init(&vm->excl_resume, NULL);
	pthread_mutex_init(&vm->excl_lock, NULL);
	pthread_mutex_init(&vm->req_lock, NULL);

	r = vmc_clock_new_virtual(
		vm->loop,
		(c.flags & VMC_VM_DETERMINISTIC) ? VMC_CLOCK_DETERMINISTIC : 0,
		&vm->clock);
	if (r < 0)
		goto fail;
	vmc__clock_set_lock(vm->clock, &vm->lock);
	r = vmc_bh_new(vm->loop, request_bh, vm, &vm->req_bh);
	if (r < 0)
		goto fail;

	r = vm_memory_init(vm);
	if (r < 0)
		goto fail;

	vm->nr_vcpus = c.vcpus;
	vm->vcpus = calloc(c.vcpus, sizeof(*vm->vcpus));
	vm->req_pool = calloc(REQ_MAX + c.vcpus, sizeof(*vm->req_pool));
	if (!vm->vcpus || !vm->req_pool) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < REQ_MAX + c.vcpus; i++) {
		vm->req_pool[i].next = vm->req_free;
		vm->req_free = &vm->req_pool[i];
	}
	for (unsigned int i = 0; i < c.vcpus; i++) {
		struct vmc_vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->index = i;
		v->stopped = true;
		atomic_init(&v->state, VMC_VCPU_STOPPED);
		pthread_cond_init(&v->halt_cond, NULL);
		pthread_mutex_init(&v->work_lock, NULL);
	}

	if (ops->vm_init) {
		vm->accel_config = c.accel_config;
		r = ops->vm_init(vm);
		vm->accel_config = NULL;
		if (r < 0)
			goto fail;
	}
	r = start_vcpu_threads(vm);
	if (r < 0)
		goto fail;

	*ret = vm;
	return 0;
fail:
	vm_free(vm);
	return r;
}

VMC_EXPORT int vmc_vm_new(const struct vmc_vm_config *config,
			  struct vmc_vm **ret)
{
	return vm_new(config, NULL, ret);
}

int vmc__vm_new_with_ops(const struct vmc_vm_config *config,
			 const struct vmc_accel_ops *ops, struct vmc_vm **ret)
{
	vmc_assert_return(ops && ops->vcpu_run, -EINVAL);
	return vm_new(config, ops, ret);
}

VMC_EXPORT struct vmc_vm *vmc_vm_ref(struct vmc_vm *vm)
{
	if (vm)
		atomic_fetch_add(&vm->ref, 1);
	return vm;
}

VMC_EXPORT struct vmc_vm *vmc_vm_unref(struct vmc_vm *vm)
{
	bool locked, vcpu;

	if (!vm || atomic_fetch_sub(&vm->ref, 1) != 1)
		return NULL;

	/*
	 * Destruction takes the VM lock and joins the vCPU threads.  Where
	 * that would deadlock, on a thread that holds the lock (a state or
	 * reset handler, a region callback, a VM-clock timer, or the host
	 * between vmc_vm_lock() and vmc_vm_unlock()) or on one of the VM's
	 * own vCPU threads (a work item), the VM is shut down now and
	 * destroyed by its request bottom half on the loop thread.
	 */
	locked = vmc__lock_held(&vm->lock);
	vcpu = on_vcpu_thread_of(vm);
	if (!locked)
		vmc__lock_acquire(&vm->lock);
	vm->in_teardown = true;
	if (atomic_load(&vm->state) == VMC_VM_RUNNING)
		vmc_clock_stop(vm->clock);
	if (!locked)
		vmc__lock_release(&vm->lock);
	if (locked || vcpu) {
		vmc__warn("vm: last reference dropped %s; the VM is destroyed "
			  "on its loop thread",
			  locked ? "with the VM lock held"
				 : "on one of its vCPU threads");
		atomic_store(&vm->destroy_deferred, true);
		vmc_bh_schedule(vm->req_bh);
		return NULL;
	}
	vm_free(vm);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Accessors and public state calls
 */

VMC_EXPORT enum vmc_accel vmc_vm_get_accel(const struct vmc_vm *vm)
{
	return vm ? vm->ops->type : VMC_ACCEL_AUTO;
}

VMC_EXPORT enum vmc_arch vmc_vm_get_arch(const struct vmc_vm *vm)
{
	return vm ? vm->arch : VMC_ARCH_NONE;
}

VMC_EXPORT struct vmc_loop *vmc_vm_get_loop(const struct vmc_vm *vm)
{
	return vm ? vm->loop : NULL;
}

VMC_EXPORT struct vmc_clock *vmc_vm_get_clock(const struct vmc_vm *vm)
{
	return vm ? vm->clock : NULL;
}

VMC_EXPORT struct vmc_memory *vmc_vm_get_memory(const struct vmc_vm *vm)
{
	return vm ? vm->memory : NULL;
}

VMC_EXPORT struct vmc_address_space *
vmc_vm_get_address_space(const struct vmc_vm *vm, enum vmc_as_kind kind)
{
	if (!vm)
		return NULL;
	if (kind == VMC_AS_MEMORY)
		return vm->as_memory;
	if (kind == VMC_AS_IO)
		return vm->as_io;
	return NULL;
}

VMC_EXPORT struct vmc_region *vmc_vm_get_root(const struct vmc_vm *vm,
					      enum vmc_as_kind kind)
{
	if (!vm)
		return NULL;
	if (kind == VMC_AS_MEMORY)
		return vm->root_memory;
	if (kind == VMC_AS_IO)
		return vm->root_io;
	return NULL;
}

VMC_EXPORT void vmc_vm_lock(struct vmc_vm *vm)
{
	if (!vm)
		return;
	/*
	 * Taking it again would deadlock this thread for good.  Count the
	 * nesting instead, so that the matching vmc_vm_unlock() leaves the
	 * lock held for the outer holder, and say so.
	 */
	if (vmc__lock_held(&vm->lock)) {
		vm->lock.nested++;
		vmc__err("vm: vmc_vm_lock() by the thread that holds the VM "
			 "lock (region callbacks, VM-clock timers and handlers "
			 "run with it): not taken twice");
		return;
	}
	vmc__lock_acquire(&vm->lock);
}

VMC_EXPORT void vmc_vm_unlock(struct vmc_vm *vm)
{
	if (!vm || !vmc__lock_held(&vm->lock))
		return;
	if (vm->lock.nested) {
		vm->lock.nested--;
		return;
	}
	vmc__lock_release(&vm->lock);
}

VMC_EXPORT bool vmc_vm_lock_held(const struct vmc_vm *vm)
{
	return vm && vmc__lock_held((struct vmc__lock *)&vm->lock);
}

VMC_EXPORT enum vmc_vm_state vmc_vm_get_state(const struct vmc_vm *vm)
{
	return vm ? (enum vmc_vm_state)atomic_load(&vm->state) : VMC_VM_CREATED;
}

VMC_EXPORT const char *vmc_vm_state_to_string(enum vmc_vm_state state)
{
	switch (state) {
	case VMC_VM_CREATED:
		return "created";
	case VMC_VM_RUNNING:
		return "running";
	case VMC_VM_PAUSED:
		return "paused";
	case VMC_VM_SHUTDOWN:
		return "shutdown";
	case VMC_VM_GUEST_ERROR:
		return "guest-error";
	case VMC_VM_DEBUG:
		return "debug";
	default:
		return "unknown";
	}
}

VMC_EXPORT const char *vmc_vm_get_error(const struct vmc_vm *vm)
{
	if (!vm || atomic_load(&vm->state) != VMC_VM_GUEST_ERROR)
		return NULL;
	return vm->error;
}

VMC_EXPORT int vmc_vm_get_shutdown_status(const struct vmc_vm *vm)
{
	if (!vm || atomic_load(&vm->state) != VMC_VM_SHUTDOWN)
		return 0;
	return vm->shutdown_status;
}

VMC_EXPORT int vmc_vm_resume(struct vmc_vm *vm)
{
	bool taken;
	int r;

	vmc_assert_return(vm, -EINVAL);
	vmc_assert_return(!on_vcpu_thread_of(vm), -EDEADLK);
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	r = do_resume(vm);
	vmc__lock_release_if(&vm->lock, taken);
	return r;
}

VMC_EXPORT int vmc_vm_start(struct vmc_vm *vm)
{
	return vmc_vm_resume(vm);
}

VMC_EXPORT int vmc_vm_pause(struct vmc_vm *vm)
{
	bool taken;

	vmc_assert_return(vm, -EINVAL);
	if (on_vcpu_thread_of(vm))
		return -EDEADLK;
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	if (atomic_load(&vm->state) == VMC_VM_RUNNING)
		do_stop(vm, VMC_VM_PAUSED);
	vmc__lock_release_if(&vm->lock, taken);
	return 0;
}

VMC_EXPORT int vmc_vm_reset(struct vmc_vm *vm)
{
	bool taken;

	vmc_assert_return(vm, -EINVAL);
	if (on_vcpu_thread_of(vm))
		return -EDEADLK;
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	do_reset(vm);
	vmc__lock_release_if(&vm->lock, taken);
	return 0;
}

VMC_EXPORT int vmc_vm_request_pause(struct vmc_vm *vm)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__vm_request(vm, REQ_PAUSE, 0, NULL);
}

VMC_EXPORT int vmc_vm_request_resume(struct vmc_vm *vm)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__vm_request(vm, REQ_RESUME, 0, NULL);
}

VMC_EXPORT int vmc_vm_request_reset(struct vmc_vm *vm)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__vm_request(vm, REQ_RESET, 0, NULL);
}

VMC_EXPORT int vmc_vm_request_shutdown(struct vmc_vm *vm, int status)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__vm_request(vm, REQ_SHUTDOWN, status, NULL);
}

VMC_EXPORT int vmc_vm_request_guest_error(struct vmc_vm *vm, const char *reason)
{
	vmc_assert_return(vm, -EINVAL);
	return vmc__vm_request(vm, REQ_ERROR, 0, reason ? reason : "");
}

VMC_EXPORT int vmc_vm_add_state_handler(struct vmc_vm *vm, vmc_vm_state_cb cb,
					int priority, void *userdata,
					struct vmc_vm_state_handler **ret)
{
	struct vmc__handler *h;

	vmc_assert_return(vm && cb, -EINVAL);
	h = handler_new(userdata, priority);
	if (!h)
		return -ENOMEM;
	h->cb.state = cb;
	handler_add(vm, &vm->state_handlers, h);
	if (ret)
		*ret = (struct vmc_vm_state_handler *)h;
	return 0;
}

VMC_EXPORT void vmc_vm_remove_state_handler(struct vmc_vm *vm,
					    struct vmc_vm_state_handler *h)
{
	if (vm && h)
		handler_remove(vm, &vm->state_handlers,
			       (struct vmc__handler *)h);
}

VMC_EXPORT int vmc_vm_add_reset_handler(struct vmc_vm *vm, vmc_vm_reset_cb cb,
					void *userdata,
					struct vmc_vm_reset_handler **ret)
{
	struct vmc__handler *h;

	vmc_assert_return(vm && cb, -EINVAL);
	h = handler_new(userdata, 0);
	if (!h)
		return -ENOMEM;
	h->cb.reset = cb;
	handler_add(vm, &vm->reset_handlers, h);
	if (ret)
		*ret = (struct vmc_vm_reset_handler *)h;
	return 0;
}

VMC_EXPORT void vmc_vm_remove_reset_handler(struct vmc_vm *vm,
					    struct vmc_vm_reset_handler *h)
{
	if (vm && h)
		handler_remove(vm, &vm->reset_handlers,
			       (struct vmc__handler *)h);
}

VMC_EXPORT unsigned int vmc_vm_get_vcpu_count(const struct vmc_vm *vm)
{
	return vm ? vm->nr_vcpus : 0;
}

VMC_EXPORT struct vmc_vcpu *vmc_vm_get_vcpu(const struct vmc_vm *vm,
					    unsigned int index)
{
	if (!vm || index >= vm->nr_vcpus)
		return NULL;
	return &vm->vcpus[index];
}

VMC_EXPORT int vmc_vm_run_exclusive(struct vmc_vm *vm, vmc_work_cb cb,
				    void *userdata)
{
	vmc_assert_return(vm && cb, -EINVAL);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		int r = vmc_vcpu_run_exclusive(&vm->vcpus[i], cb, userdata);

		if (r != -ENODEV)
			return r;
	}
	return -ENODEV;
}

void vmc__vm_debug_request(struct vmc_vcpu *vcpu)
{
	/*
	 * VM lock held.  A request that is still queued when the VM is
	 * paused and resumed is stale: that resume already let the vCPU go.
	 */
	if (vm_request(vcpu->vm, REQ_DEBUG, (int)vcpu->index, NULL,
		       vcpu->vm->run_gen) < 0)
		vmc__err("vm: cannot queue the debug stop of vcpu %u",
			 vcpu->index);
}

VMC_EXPORT struct vmc_vcpu *vmc_vm_get_debug_vcpu(const struct vmc_vm *vm)
{
	struct vmc_vcpu *v;
	bool taken;

	if (!vm)
		return NULL;
	taken = vmc__lock_acquire_if_needed((struct vmc__lock *)&vm->lock);
	v = atomic_load(&vm->state) == VMC_VM_DEBUG ? vm->debug_vcpu : NULL;
	vmc__lock_release_if((struct vmc__lock *)&vm->lock, taken);
	return v;
}
