/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-common.h
 * @brief Conventions shared by every libvmcore module: errors, threads,
 * logging and versions.
 *
 * Errors: every fallible function returns an int, >= 0 on success and a
 * negative errno value on failure.  Constructors deliver the new object
 * through a trailing @c ret parameter, written only on success.  Arguments
 * an embedder passes are checked; a bad one gives -EINVAL, never a crash.
 *
 * Threads: unless its documentation says "@thread any", a function is called
 * on the thread that runs the object's loop (the "loop thread"), or with the
 * VM lock held where the function belongs to a VM.  Functions marked
 * "@thread any" may be called from any thread, including vCPU threads.
 *
 * Logging: the library never prints.  It reports through the handler the
 * host installs with vmc_set_log_handler(); without one, messages are
 * dropped.
 */
#ifndef LIBVMCORE_VMC_COMMON_H
#define LIBVMCORE_VMC_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

#include <libvmcore/vmc-version.h>

#ifdef __cplusplus
#define VMC_BEGIN_DECLS extern "C" {
#define VMC_END_DECLS }
#else
/**
 * Opens a block of declarations with C linkage: `extern "C" {` in C++,
 * nothing in C.
 */
#define VMC_BEGIN_DECLS
/** Closes a block opened with VMC_BEGIN_DECLS: `}` in C++, nothing in C. */
#define VMC_END_DECLS
#endif

#if defined(__GNUC__)
#define VMC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
/**
 * Marks a function as printf-like, so that GCC and Clang check its format
 * string against its arguments (nothing with other compilers).
 * @param fmt  the 1-based position of the format string parameter
 * @param args the position of the first checked argument (0 for a
 *             va_list function)
 */
#define VMC_PRINTF(fmt, args)
#endif

VMC_BEGIN_DECLS

/** Severity of a log message; the values follow syslog's. */
enum vmc_log_level {
	VMC_LOG_ERR = 3,     /**< an operation failed */
	VMC_LOG_WARNING = 4, /**< something is wrong but work goes on */
	VMC_LOG_INFO = 6,    /**< a notable event (guest error, reset) */
	VMC_LOG_DEBUG = 7,   /**< detail for developers */
	_VMC_LOG_LEVEL_MAX = 0x7fffffff
};

/**
 * A log handler.
 *
 * @param level   severity of the message
 * @param message the text, without a trailing newline; valid only during
 *                the call
 * @param userdata the pointer given to vmc_set_log_handler()
 *
 * Handlers are called from whichever thread logs (loop thread or vCPU
 * thread), possibly concurrently, and with no libvmcore lock held: a slow
 * handler delays only the thread that logs.  A handler may call libvmcore,
 * vmc_set_log_handler() included; a message logged from inside a handler
 * on the same thread (by the handler, or by a call it makes) is dropped,
 * so that a handler that logs cannot recurse into itself.
 */
typedef void (*vmc_log_cb)(enum vmc_log_level level, const char *message,
			   void *userdata);

/**
 * Install the process's log handler.
 *
 * Replaces the previous handler; @p cb NULL turns logging off (the default).
 * Messages above @p max_level (less severe) are not formatted at all.
 *
 * @param cb        the handler, or NULL
 * @param max_level the least severe level passed to @p cb
 * @param userdata  passed to @p cb
 *
 * @thread any.  When this returns, the previous handler is no longer
 * running on any other thread and is never called again, so its userdata
 * may be freed; calls that were in flight are waited for (so do not call
 * this while holding a lock your handler takes).  Called from inside a
 * handler, it replaces the handler but does not wait.
 * @since 0.1
 */
void vmc_set_log_handler(vmc_log_cb cb, enum vmc_log_level max_level,
			 void *userdata);

/**
 * Whether a message of @p level would reach the host's log handler.
 *
 * Lets code built on libvmcore skip formatting work that nobody reads.
 *
 * @param level the severity to ask about
 * @return true if a handler is installed and @p level is at or below its
 *         maximum level
 * @thread any
 * @since 0.2
 */
bool vmc_log_enabled(enum vmc_log_level level);

/**
 * Log a message through the host's handler, as the library itself does.
 *
 * For device models, boards and other code built on libvmcore, so that
 * everything in one process reports through the one handler the host
 * installed with vmc_set_log_handler().  Without a handler, or above its
 * maximum level, nothing is formatted.  A message longer than 511 bytes
 * is truncated.  Never blocks on anything but the handler itself.
 *
 * @param level the message's severity
 * @param fmt   a printf format, followed by its arguments
 * @thread any
 * @since 0.2
 */
void vmc_log(enum vmc_log_level level, const char *fmt, ...) VMC_PRINTF(2, 3);

/**
 * Check an argument of a public function of code built on libvmcore (a
 * device model, a board's helper), as the library checks its own: when
 * @p cond is false, log a debug line naming the function and the check
 * through vmc_log() and return @p retval from the calling function.  An
 * embedder's mistake becomes an error code, never a crash.
 *
 * @param cond   the condition the argument must meet
 * @param retval what the calling function returns when it does not
 * @since 0.2
 */
#define VMC_CHECK_RETURN(cond, retval)                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			vmc_log(VMC_LOG_DEBUG, "%s: check '%s' failed",        \
				__func__, #cond);                              \
			return (retval);                                       \
		}                                                              \
	} while (0)

/**
 * The library version the program runs against, as VMC_VERSION_HEX.
 * @thread any
 * @since 0.1
 */
unsigned int vmc_version(void);

/**
 * The library version the program runs against, as "major.minor.micro".
 * @return a static string
 * @thread any
 * @since 0.1
 */
const char *vmc_version_string(void);

VMC_END_DECLS

#endif
