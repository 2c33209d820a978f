/* SPDX-License-Identifier: MIT */
/*
 * Logging and version queries.
 *
 * The log handler is the one piece of process-wide state: a host sets it
 * once for the whole process, as with syslog.  It is read on every log call
 * from any thread, so it sits behind a mutex; the fast "is anyone
 * listening" check is a single atomic load.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static vmc_log_cb log_cb;
static void *log_userdata;
static _Atomic int log_max_level = -1;

VMC_EXPORT void vmc_set_log_handler(vmc_log_cb cb, enum vmc_log_level max_level,
				    void *userdata)
{
	pthread_mutex_lock(&log_lock);
	log_cb = cb;
	log_userdata = userdata;
	atomic_store(&log_max_level, cb ? (int)max_level : -1);
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
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	pthread_mutex_lock(&log_lock);
	if (log_cb && (int)level <= atomic_load(&log_max_level))
		log_cb(level, buf, log_userdata);
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
