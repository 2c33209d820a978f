/* SPDX-License-Identifier: MIT */
/*
 * I/O threads (vmc-iothread.h): a pthread that runs its own vmc_loop.
 *
 * Jobs.  vmc_iothread_run_sync() links a job on the stack into @jobs
 * under @lock and signals @wake; the wake handler, on the thread, takes
 * the whole list, runs each job and marks it done under @lock, then
 * broadcasts @done.  The caller waits for its own job's flag.  Stopping
 * is a job too: it sets @quit and stops the loop, and the thread leaves
 * its run loop once @quit is set.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/vmc-iothread.h>
#include <libvmcore/vmc-loop.h>

#include "util.h"

struct job {
	struct job *next;
	void (*fn)(void *arg);
	void *arg;
	bool done;
};

struct vmc_iothread {
	struct vmc_loop *loop;
	struct vmc_notifier *wake;
	pthread_t thread;
	char name[16];
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct job *jobs;
	bool quit; /* on the thread only */
};

static void wake_cb(struct vmc_notifier *n, void *userdata)
{
	struct vmc_iothread *t = userdata;
	struct job *j, *next, *fifo = NULL;

	pthread_mutex_lock(&t->lock);
	j = t->jobs;
	t->jobs = NULL;
	pthread_mutex_unlock(&t->lock);
	/* The list is newest first: reverse it, run the oldest first. */
	for (; j; j = next) {
		next = j->next;
		j->next = fifo;
		fifo = j;
	}
	for (j = fifo; j; j = next) {
		next = j->next; /* @j lives on its caller's stack */
		j->fn(j->arg);
		pthread_mutex_lock(&t->lock);
		j->done = true;
		pthread_cond_broadcast(&t->done);
		pthread_mutex_unlock(&t->lock);
	}
}

static void *thread_main(void *arg)
{
	struct vmc_iothread *t = arg;

	if (t->name[0])
		pthread_setname_np(pthread_self(), t->name);
	while (!t->quit)
		vmc_loop_run(t->loop);
	return NULL;
}

static void quit_job(void *arg)
{
	struct vmc_iothread *t = arg;

	t->quit = true;
	vmc_loop_stop(t->loop);
}

VMC_EXPORT int vmc_iothread_new(const char *name, struct vmc_iothread **ret)
{
	struct vmc_iothread *t;
	int r;

	vmc_assert_return(ret, -EINVAL);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->done, NULL);
	r = vmc_loop_new(&t->loop);
	if (r < 0)
		goto fail;
	r = vmc_notifier_new(&t->wake);
	if (r < 0)
		goto fail;
	/* Before the thread exists, this thread may set the handler. */
	r = vmc_notifier_set_handler(t->wake, t->loop, wake_cb, t);
	if (r < 0)
		goto fail;
	r = -pthread_create(&t->thread, NULL, thread_main, t);
	if (r < 0)
		goto fail;
	*ret = t;
	return 0;
fail:
	vmc_notifier_free(t->wake);
	vmc_loop_unref(t->loop);
	pthread_cond_destroy(&t->done);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return r;
}

VMC_EXPORT int vmc_iothread_run_sync(struct vmc_iothread *t,
				     void (*fn)(void *arg), void *arg)
{
	struct job j = {.fn = fn, .arg = arg};

	vmc_assert_return(t && fn, -EINVAL);
	if (vmc_iothread_is_current(t)) {
		fn(arg);
		return 0;
	}
	pthread_mutex_lock(&t->lock);
	j.next = t->jobs;
	t->jobs = &j;
	pthread_mutex_unlock(&t->lock);
	vmc_notifier_signal(t->wake);
	pthread_mutex_lock(&t->lock);
	while (!j.done)
		pthread_cond_wait(&t->done, &t->lock);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

VMC_EXPORT void vmc_iothread_free(struct vmc_iothread *t)
{
	if (!t)
		return;
	vmc_iothread_run_sync(t, quit_job, t);
	pthread_join(t->thread, NULL);
	/* The thread is gone: this thread may now touch the loop. */
	vmc_notifier_free(t->wake);
	vmc_loop_unref(t->loop);
	pthread_cond_destroy(&t->done);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

VMC_EXPORT struct vmc_loop *vmc_iothread_get_loop(struct vmc_iothread *t)
{
	return t ? t->loop : NULL;
}

VMC_EXPORT bool vmc_iothread_is_current(const struct vmc_iothread *t)
{
	return t && pthread_equal(pthread_self(), t->thread);
}
