/* SPDX-License-Identifier: MIT */
/*
 * Internal helpers shared by every part of the library.  Never installed.
 */
#ifndef VMC_CORE_UTIL_H
#define VMC_CORE_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "vmc-config.h"
#include <libvmcore/vmc-common.h>

/* Marks a definition as part of the ABI; the symbol map must list it. */
#define VMC_EXPORT __attribute__((visibility("default")))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr)-offsetof(type, member)))

/*
 * Check a public argument.  An embedder's mistake returns an error; it must
 * never crash the host.
 */
#define vmc_assert_return(cond, retval)                                        \
	do {                                                                   \
		if (unlikely(!(cond))) {                                       \
			vmc__log(VMC_LOG_DEBUG, "%s: assertion '%s' failed",   \
				 __func__, #cond);                             \
			return (retval);                                       \
		}                                                              \
	} while (0)

#define vmc_assert_return_void(cond)                                           \
	do {                                                                   \
		if (unlikely(!(cond))) {                                       \
			vmc__log(VMC_LOG_DEBUG, "%s: assertion '%s' failed",   \
				 __func__, #cond);                             \
			return;                                                \
		}                                                              \
	} while (0)

/* True when a message of this level would reach the host's handler. */
bool vmc__log_enabled(enum vmc_log_level level);

/* Format and pass a message to the host's log handler, if any. */
void vmc__log(enum vmc_log_level level, const char *fmt, ...) VMC_PRINTF(2, 3);

#define vmc__err(...) vmc__log(VMC_LOG_ERR, __VA_ARGS__)
#define vmc__warn(...) vmc__log(VMC_LOG_WARNING, __VA_ARGS__)
#define vmc__info(...) vmc__log(VMC_LOG_INFO, __VA_ARGS__)
#define vmc__debug(...) vmc__log(VMC_LOG_DEBUG, __VA_ARGS__)

/* Host monotonic / wall time in nanoseconds. */
int64_t vmc__monotonic_ns(void);
int64_t vmc__wall_ns(void);

#endif
