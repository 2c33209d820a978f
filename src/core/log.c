/* SPDX-License-Identifier: MIT */
/*
 * Logging and version queries.
 *
 * The log handler is the one piece of process-wide state: a host sets it
 * once for the whole process, as with syslog.  The fast "is anyone
 * listening" check is a single atomic load.
 *
 * The handler is called with no lock held: a slow handler delays only the
 * thread that logs, and a handler may itself log or replace the handler
 * without deadlocking.  log_lock covers only the copy of (handler,
 * userdata) and the list of calls in flight: each call links a node on its
 * own stack with the handler generation it started under.  A replacement
 * bumps the generation and waits until no call of an older generation is
 * in flight, so when vmc_set_log_handler() returns the old handler is not
 * running anywhere.  A replacement made from inside a handler does not
 * wait: it would wait for its own call, or for another thread's handler
 * that is waiting for it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

struct log_call {
	struct log_call *next;
	unsigned long gen;
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_drained = PTHREAD_COND_INITIALIZER;
static vmc_log_cb log_cb;	   /* log_lock */
static void *log_userdata;	   /* log_lock */
static unsigned long log_gen;	   /* log_lock */
static struct log_call *log_calls; /* log_lock: calls in flight */
static unsigned int log_waiters;   /* log_lock: setters waiting */
static _Atomic int log_max_level = -1;

/* Handler calls this thread is inside. */
static _Thread_local unsigned int log_depth;

static bool older_call_in_flight(unsigned long gen)
{
	for (struct log_call *c = log_calls; c; c = c->next)
		if (c->gen < gen)
			return true;
	return false;
}

VMC_EXPORT void vmc_set_log_handler(vmc_log_cb cb, enum vmc_log_level max_level,
				    void *userdata)
{
	unsigned long gen;

	pthread_mutex_lock(&log_lock);
	log_cb = cb;
	log_userdata = userdata;
	atomic_store(&log_max_level, cb ? (int)max_level : -1);
	gen = ++log_gen;
	if (!log_depth) {
		log_waiters++;
		while (older_call_in_flight(gen))
			pthread_cond_wait(&log_drained, &log_lock);
		log_waiters--;
	}
	pthread_mutex_unlock(&log_lock);
}

bool vmc__log_enabled(enum vmc_log_level level)
{
	return (int)level <=
	       atomic_load_explicit(&log_max_level, memory_order_relaxed);
}

static void log_va(enum vmc_log_level level, const char *fmt, va_list ap)
	VMC_PRINTF(2, 0);

static void log_va(enum vmc_log_level level, const char *fmt, va_list ap)
{
	struct log_call call, **p;
	char buf[512];
	vmc_log_cb cb;
	void *userdata;

	/*
	 * A message from inside a handler on this thread (the handler
	 * logging, or a libvmcore call it makes) is dropped: delivering it
	 * would recurse into the handler, without end if it always logs.
	 */
	if (log_depth)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	pthread_mutex_lock(&log_lock);
	cb = log_cb;
	userdata = log_userdata;
	if (!cb || (int)level > atomic_load(&log_max_level)) {
		pthread_mutex_unlock(&log_lock);
		return;
	}
	call.gen = log_gen;
	call.next = log_calls;
	log_calls = &call;
	pthread_mutex_unlock(&log_lock);

	log_depth++;
	cb(level, buf, userdata);
	log_depth--;

	pthread_mutex_lock(&log_lock);
	for (p = &log_calls; *p != &call; p = &(*p)->next)
		;
	*p = call.next;
	if (log_waiters)
		pthread_cond_broadcast(&log_drained);
	pthread_mutex_unlock(&log_lock);
}

void vmc__log(enum vmc_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!vmc__log_enabled(level))
		return;
	va_start(ap, fmt);
	log_va(level, fmt, ap);
	va_end(ap);
}

VMC_EXPORT bool vmc_log_enabled(enum vmc_log_level level)
{
	return vmc__log_enabled(level);
}

VMC_EXPORT void vmc_log(enum vmc_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!fmt || !vmc__log_enabled(level))
		return;
	va_start(ap, fmt);
	log_va(level, fmt, ap);
	va_end(ap);
}

VMC_EXPORT unsigned int vmc_version(void)
{
	return VMC_VERSION_HEX;
}

VMC_EXPORT const char *vmc_version_string(void)
{
	return VMC_VERSION_STRING;
}

int64_t vmc__monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t vmc__wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
