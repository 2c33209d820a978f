/* SPDX-License-Identifier: MIT */
/*
 * Quiescent-state-based reclamation, one domain per memory context.  See
 * memory-internal.h for the protocol and for why libvmcore does not use
 * liburcu.
 */
#include <stdlib.h>

#include "memory-internal.h"

static _Thread_local struct vmc__rcu_reader *thread_reader;

void vmc__rcu_init(struct vmc__rcu *rcu)
{
	pthread_mutex_init(&rcu->lock, NULL);
	atomic_init(&rcu->gp, 1);
	rcu->readers = NULL;
	rcu->head = NULL;
	rcu->tail = &rcu->head;
	rcu->pending = 0;
}

static void run_list(struct vmc__rcu_head *h)
{
	while (h) {
		struct vmc__rcu_head *next = h->next;

		h->fn(h);
		h = next;
	}
}

void vmc__rcu_destroy(struct vmc__rcu *rcu)
{
	/* Callbacks may defer more work (a view frees regions). */
	for (;;) {
		struct vmc__rcu_head *h;

		pthread_mutex_lock(&rcu->lock);
		h = rcu->head;
		rcu->head = NULL;
		rcu->tail = &rcu->head;
		rcu->pending = 0;
		pthread_mutex_unlock(&rcu->lock);
		if (!h)
			break;
		run_list(h);
	}
	pthread_mutex_destroy(&rcu->lock);
}

static void list_add(struct vmc__rcu *rcu, struct vmc__rcu_reader *r)
{
	r->rcu = rcu;
	r->prev = NULL;
	pthread_mutex_lock(&rcu->lock);
	atomic_store_explicit(
		&r->ctr, atomic_load_explicit(&rcu->gp, memory_order_seq_cst),
		memory_order_seq_cst);
	r->next = rcu->readers;
	if (r->next)
		r->next->prev = r;
	rcu->readers = r;
	pthread_mutex_unlock(&rcu->lock);
}

static void list_del(struct vmc__rcu_reader *r)
{
	struct vmc__rcu *rcu = r->rcu;

	pthread_mutex_lock(&rcu->lock);
	if (r->prev)
		r->prev->next = r->next;
	else
		rcu->readers = r->next;
	if (r->next)
		r->next->prev = r->prev;
	atomic_store_explicit(&r->ctr, 0, memory_order_seq_cst);
	pthread_mutex_unlock(&rcu->lock);
}

void vmc__rcu_register_thread(struct vmc__rcu *rcu, struct vmc__rcu_reader *r)
{
	list_add(rcu, r);
	thread_reader = r;
}

void vmc__rcu_unregister_thread(struct vmc__rcu_reader *r)
{
	list_del(r);
	if (thread_reader == r)
		thread_reader = NULL;
}

struct vmc__rcu_reader *vmc__rcu_thread_reader(void)
{
	return thread_reader;
}

void vmc__rcu_reader_add(struct vmc__rcu *rcu, struct vmc__rcu_reader *r)
{
	list_add(rcu, r);
	vmc__rcu_thread_offline(r);
}

void vmc__rcu_reader_del(struct vmc__rcu_reader *r)
{
	list_del(r);
}

struct vmc__rcu_reader *vmc__rcu_thread_attach(struct vmc__rcu_reader *r)
{
	struct vmc__rcu_reader *old = thread_reader;

	thread_reader = r;
	return old;
}

void vmc__rcu_section_enter(struct vmc__rcu *rcu, struct vmc__rcu_section *s)
{
	struct vmc__rcu_reader *r = thread_reader;

	if (r && r->rcu == rcu) {
		s->reader = r;
		if (vmc__rcu_is_online(r)) {
			s->mode = 0;
		} else {
			vmc__rcu_thread_online(r);
			s->mode = 2;
		}
		return;
	}
	list_add(rcu, &s->tmp);
	s->reader = &s->tmp;
	s->mode = 1;
}

void vmc__rcu_section_exit(struct vmc__rcu_section *s)
{
	if (s->mode == 1)
		list_del(&s->tmp);
	else if (s->mode == 2)
		vmc__rcu_thread_offline(s->reader);
}

void vmc__rcu_defer(struct vmc__rcu *rcu, struct vmc__rcu_head *head,
		    void (*fn)(struct vmc__rcu_head *head))
{
	head->fn = fn;
	head->next = NULL;
	pthread_mutex_lock(&rcu->lock);
	/*
	 * The caller unpublished the object before this increment; a reader
	 * that later announces a gp >= epoch has seen the new pointer.
	 */
	head->epoch =
		atomic_fetch_add_explicit(&rcu->gp, 1, memory_order_seq_cst) +
		1;
	*rcu->tail = head;
	rcu->tail = &head->next;
	rcu->pending++;
	pthread_mutex_unlock(&rcu->lock);
}

size_t vmc__rcu_reclaim(struct vmc__rcu *rcu)
{
	struct vmc__rcu_head *done = NULL, **dtail = &done;
	uint64_t min = UINT64_MAX;
	size_t left;

	pthread_mutex_lock(&rcu->lock);
	for (struct vmc__rcu_reader *r = rcu->readers; r; r = r->next) {
		uint64_t c =
			atomic_load_explicit(&r->ctr, memory_order_seq_cst);

		if (c && c < min)
			min = c;
	}
	while (rcu->head && rcu->head->epoch <= min) {
		struct vmc__rcu_head *h = rcu->head;

		rcu->head = h->next;
		h->next = NULL;
		*dtail = h;
		dtail = &h->next;
		rcu->pending--;
	}
	if (!rcu->head)
		rcu->tail = &rcu->head;
	pthread_mutex_unlock(&rcu->lock);

	run_list(done);

	pthread_mutex_lock(&rcu->lock);
	left = rcu->pending;
	pthread_mutex_unlock(&rcu->lock);
	return left;
}
