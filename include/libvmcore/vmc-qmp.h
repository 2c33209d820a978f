/* SPDX-License-Identifier: MIT */
/**
 * @file vmc-qmp.h
 * @brief A QMP (QEMU Machine Protocol) server for a libvmcore VM.
 *
 * A struct vmc_qmp is bound to one VM and runs on the VM's loop.  It speaks
 * the protocol as QEMU does (QEMU's docs/interop/qmp-spec): each client
 * gets the greeting, starts in capabilities negotiation mode (only
 * `qmp_capabilities` runs there), then executes commands; replies echo the
 * request's `id`; errors carry QEMU's error classes and texts; every
 * client in command mode receives every event, with QEMU's timestamp.
 *
 * Monitors are where clients come from: listening Unix or TCP sockets
 * (QEMU's `server=on`, with `wait=on|off`), outgoing connections that are
 * re-established every N seconds (`reconnect=N`), or a socket the host
 * already has.  A server has any number of monitors and a listening
 * monitor any number of clients at once.
 *
 * Commands are registered with vmc_qmp_add_command(): a name, a table of
 * arguments (name, type, optional) that the server checks before the
 * command runs, and a callback that reads its arguments and builds its
 * reply with the vmc_qmp_value functions below.  The built-in commands
 * (`query-status`, `stop`, `cont`, `query-cpus-fast`, ...) are registered
 * the same way, so a host may remove and replace them.  Run-state changes
 * of the VM become QEMU's events (`STOP`, `RESUME`, `RESET`, `SHUTDOWN`,
 * `POWERDOWN`); the host sends its own with vmc_qmp_send_event().
 *
 * Values: a struct vmc_qmp_value is a JSON value.  NULL stands for JSON
 * null everywhere (an absent member reads as NULL too).  Values a function
 * hands out as const (request arguments, members, elements) belong to
 * their container; values built with vmc_qmp_value_new_*() or
 * vmc_qmp_value_parse() belong to the caller until passed to a function
 * that takes them.
 *
 * Robustness: client input is bounded (a message larger than the limit is
 * refused with an error and skipped), malformed JSON gets QEMU's
 * `GenericError` and the rest of the broken message is skipped, to where
 * its brackets balance (a control character resets the parser at once,
 * as QEMU's spec tells clients); output to
 * each client is non-blocking and bounded, and a client whose unread
 * output exceeds the bound is disconnected with a log line, so that a
 * client that never reads costs a bounded amount of memory and never
 * stalls the loop or other clients.  Writes never raise SIGPIPE.
 *
 * Threads: everything runs on the VM's loop thread, without the VM lock
 * held (command callbacks included; a command that touches device state
 * takes vmc_vm_lock()).  Events may be sent from state and reset handlers,
 * which run with the lock held.
 */
#ifndef LIBVMCORE_VMC_QMP_H
#define LIBVMCORE_VMC_QMP_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-vm.h>

VMC_BEGIN_DECLS

struct vmc_qmp;
struct vmc_qmp_monitor;
struct vmc_qmp_request;
struct vmc_qmp_value;

/** The type of a JSON value, or of a command argument. */
enum vmc_qmp_type {
	VMC_QMP_NULL = 0,   /**< null */
	VMC_QMP_BOOL = 1,   /**< true or false ("boolean") */
	VMC_QMP_INT = 2,    /**< an integer ("integer") */
	VMC_QMP_NUMBER = 3, /**< a number; as an argument, integers too */
	VMC_QMP_STRING = 4, /**< a string ("string") */
	VMC_QMP_OBJECT = 5, /**< an object ("object") */
	VMC_QMP_ARRAY = 6,  /**< an array ("array") */
	VMC_QMP_ANY = 7,    /**< argument tables only: any value */
	_VMC_QMP_TYPE_MAX = 0x7fffffff
};

/** QEMU's error classes (the `class` member of an error reply). */
enum vmc_qmp_error_class {
	VMC_QMP_GENERIC_ERROR = 0,     /**< "GenericError" */
	VMC_QMP_COMMAND_NOT_FOUND = 1, /**< "CommandNotFound" */
	VMC_QMP_DEVICE_NOT_ACTIVE = 2, /**< "DeviceNotActive" */
	VMC_QMP_DEVICE_NOT_FOUND = 3,  /**< "DeviceNotFound" */
	VMC_QMP_KVM_MISSING_CAP = 4,   /**< "KVMMissingCap" */
	_VMC_QMP_ERROR_CLASS_MAX = 0x7fffffff
};

/* ------------------------------------------------------------------------
 * The server
 */

/** A host action the server triggers (power button, quit). */
typedef void (*vmc_qmp_action_cb)(struct vmc_qmp *qmp, void *userdata);

/**
 * How to build a server.  Initialise with vmc_qmp_config_init(); fields
 * may be appended in later versions (the size field says which ones the
 * caller knows).  Strings are copied.
 */
struct vmc_qmp_config {
	size_t size; /**< sizeof(struct vmc_qmp_config) */
	/** The VM's name for `query-name` (QEMU's -name); NULL for none. */
	const char *name;
	/**
	 * The version `query-version` and the greeting report as QEMU's;
	 * the default is libvmcore's own.  A host that must satisfy a
	 * management stack's minimum QEMU version sets the one whose
	 * behaviour it follows.
	 */
	unsigned int version_major;
	unsigned int version_minor; /**< see version_major */
	unsigned int version_micro; /**< see version_major */
	/** The `package` string of `query-version`; NULL gives "". */
	const char *package;
	/** Guest RAM in bytes, reported by `query-memory-size-summary`. */
	uint64_t ram_size;
	/**
	 * The board's power button: `system_powerdown` sends the POWERDOWN
	 * event (before its reply, as QEMU does) and calls this after the
	 * reply.  NULL: the command does not exist.
	 */
	vmc_qmp_action_cb powerdown;
	/**
	 * `quit`: the server sends the SHUTDOWN event (guest false, reason
	 * "host-qmp-quit") and its reply, then calls this, and the host
	 * ends the VM (and usually the process).  The callback may free the
	 * server.  NULL: the command does not exist.
	 */
	vmc_qmp_action_cb quit;
	void *userdata; /**< passed to the callbacks */
	/** The largest request in bytes; 0 gives 1 MiB. */
	size_t max_message;
	/**
	 * The most unsent output kept per client, in bytes; a client with
	 * more is disconnected.  0 gives 4 MiB.
	 */
	size_t max_output;
};

/**
 * Fill @p config with defaults.
 * @param config the configuration to fill
 * @thread any
 * @since 0.2
 */
void vmc_qmp_config_init(struct vmc_qmp_config *config);

/**
 * Create a server for @p vm with the built-in commands registered.  It has
 * no monitor yet: add them with vmc_qmp_add_monitor() or vmc_qmp_add_fd().
 * @param vm the VM; the server holds a reference and registers a state and
 *        a reset handler on it
 * @param config the configuration, or NULL for the defaults
 * @param[out] ret the server
 * @retval 0 success
 * @retval -EINVAL @p vm or @p ret is NULL, or a bad configuration
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.2
 */
int vmc_qmp_new(struct vmc_vm *vm, const struct vmc_qmp_config *config,
		struct vmc_qmp **ret);

/**
 * Disconnect every client (unsent output is lost), close every monitor
 * (a listening Unix socket's file is removed), unregister the handlers,
 * drop the VM reference and free the server.  Not from inside a command
 * callback.  NULL is ignored.
 * @param qmp the server
 * @thread loop, without the VM lock
 * @since 0.2
 */
void vmc_qmp_free(struct vmc_qmp *qmp);

/**
 * Add a monitor, spelled as QEMU's `-qmp` takes it:
 * - "unix:PATH[,OPTIONS]" for a Unix socket;
 * - "tcp:HOST:PORT[,OPTIONS]" for TCP; an empty HOST is the loopback
 *   interface (libvmcore never listens on others unless HOST says so);
 *   PORT 0 with server=on picks a free port (vmc_qmp_monitor_get_port()).
 *
 * OPTIONS, comma-separated: `server=on|off` (default off: connect to
 * the address), `wait=on|off` (servers; default on: like QEMU, this call
 * blocks until the first client has connected), `reconnect=N` (clients:
 * when the connection fails or ends, try again every N seconds; without
 * it a failed first connection is an error and an ended one is not
 * retried).  QEMU's older bare `server` and `nowait` are accepted.  A
 * listening Unix socket replaces an existing socket file and is created
 * with mode 0600.
 * @param qmp the server
 * @param spec the address and options
 * @param[out] ret the monitor (owned by the server); may be NULL
 * @retval 0 success
 * @retval -EINVAL @p qmp or @p spec is NULL, or a malformed @p spec
 * @retval -ENOMEM out of memory
 * @retval -errno socket(), bind(), listen() or (without reconnect)
 *         connect() failed: -EADDRINUSE, -ECONNREFUSED, -ENOENT, ...
 * @thread loop
 * @since 0.2
 */
int vmc_qmp_add_monitor(struct vmc_qmp *qmp, const char *spec,
			struct vmc_qmp_monitor **ret);

/**
 * Serve a connected stream socket the host already has (a socket pair,
 * an inherited or activated connection).  The fd is duplicated: the
 * caller keeps and closes its own.  The client gets the greeting at once;
 * the monitor is removed when the connection ends.
 * @param qmp the server
 * @param fd the connected socket
 * @param[out] ret the monitor (owned by the server); may be NULL
 * @retval 0 success
 * @retval -EINVAL @p qmp is NULL or @p fd negative
 * @retval -ENOMEM out of memory
 * @retval -errno dup() failed
 * @thread loop
 * @since 0.2
 */
int vmc_qmp_add_fd(struct vmc_qmp *qmp, int fd, struct vmc_qmp_monitor **ret);

/**
 * Close a monitor and its clients (a listening Unix socket's file is
 * removed).  Allowed inside a command callback, also for the monitor the
 * command came from: the reply is then dropped.  NULL is ignored.
 * @param mon the monitor
 * @thread loop
 * @since 0.2
 */
void vmc_qmp_remove_monitor(struct vmc_qmp_monitor *mon);

/**
 * The TCP port a listening monitor is bound to (useful after port 0).
 * @param mon the monitor
 * @retval port the port
 * @retval -EINVAL @p mon is NULL
 * @retval -ENOTSOCK not a listening TCP monitor
 * @thread loop
 * @since 0.2
 */
int vmc_qmp_monitor_get_port(const struct vmc_qmp_monitor *mon);

/**
 * The number of connected clients over all monitors.
 * @param qmp the server
 * @return the count; 0 for a NULL @p qmp
 * @thread loop
 * @since 0.2
 */
unsigned int vmc_qmp_get_client_count(const struct vmc_qmp *qmp);

/* ------------------------------------------------------------------------
 * Commands
 */

/**
 * One argument of a command.  A table of them ends with an entry whose
 * name is NULL.
 */
struct vmc_qmp_arg {
	const char *name;	/**< the member name in `arguments` */
	enum vmc_qmp_type type; /**< its type; VMC_QMP_ANY takes any */
	bool optional;		/**< may be absent */
};

/**
 * A command.  Reads its arguments with vmc_qmp_request_get_arg() and
 * answers with vmc_qmp_request_return() or vmc_qmp_request_error() before
 * it returns; without either the reply is `{"return": {}}`.
 * @param req the request, valid during the call only
 * @param userdata as registered
 */
typedef void (*vmc_qmp_command_cb)(struct vmc_qmp_request *req, void *userdata);

/**
 * Register a command.  Before @p cb runs, the server checks the request's
 * `arguments` against @p args and answers a mismatch with QEMU's errors:
 * "Parameter 'X' is missing", "Invalid parameter type for 'X', expected:
 * T", "Parameter 'X' is unexpected".
 * @param qmp the server
 * @param name the command name (`execute`), copied
 * @param args the argument table, ending with a NULL name; NULL for a
 *        command without arguments.  It is copied.
 * @param cb the command
 * @param userdata passed to @p cb
 * @retval 0 success
 * @retval -EINVAL an argument is NULL or empty, or a bad table (unknown
 *         type, a name twice)
 * @retval -EEXIST a command of that name exists (remove it first)
 * @retval -ENOMEM out of memory
 * @thread loop
 * @since 0.2
 */
int vmc_qmp_add_command(struct vmc_qmp *qmp, const char *name,
			const struct vmc_qmp_arg *args, vmc_qmp_command_cb cb,
			void *userdata);

/**
 * Unregister a command (a built-in one too).
 * @param qmp the server
 * @param name the command name
 * @retval 0 success
 * @retval -EINVAL @p qmp or @p name is NULL
 * @retval -ENOENT no such command
 * @thread loop, not from inside a command callback
 * @since 0.2
 */
int vmc_qmp_remove_command(struct vmc_qmp *qmp, const char *name);

/**
 * The server a request came to.
 * @param req the request
 * @return the server; NULL for a NULL @p req
 * @thread loop
 * @since 0.2
 */
struct vmc_qmp *vmc_qmp_request_get_qmp(const struct vmc_qmp_request *req);

/**
 * One argument of the request.
 * @param req the request
 * @param name the argument's name
 * @return the value (owned by the request); NULL when absent or null
 * @thread loop
 * @since 0.2
 */
const struct vmc_qmp_value *
vmc_qmp_request_get_arg(const struct vmc_qmp_request *req, const char *name);

/**
 * Answer the request with success.
 * @param req the request
 * @param value the `return` value, taken (also on failure); NULL gives
 *        `{}`
 * @retval 0 success
 * @retval -EINVAL @p req is NULL
 * @retval -EALREADY the request was already answered
 * @thread loop
 * @since 0.2
 */
int vmc_qmp_request_return(struct vmc_qmp_request *req,
			   struct vmc_qmp_value *value);

/**
 * Answer the request with an error.
 * @param req the request
 * @param cls the error class
 * @param fmt the `desc` text, a printf format (at most 1023 bytes are
 *        kept), followed by its arguments
 * @retval 0 success
 * @retval -EINVAL @p req or @p fmt is NULL, or an unknown class
 * @retval -EALREADY the request was already answered
 * @thread loop
 * @since 0.2
 */
int vmc_qmp_request_error(struct vmc_qmp_request *req,
			  enum vmc_qmp_error_class cls, const char *fmt, ...)
	VMC_PRINTF(3, 4);

/**
 * Send an event to every client in command mode, with a timestamp of
 * now.
 * @param qmp the server
 * @param name the event name ("BLOCK_JOB_COMPLETED", ...)
 * @param data the `data` member, taken (also on failure); NULL for an
 *        event without data.  An object.
 * @retval 0 success (also when no client is connected)
 * @retval -EINVAL @p qmp or @p name is NULL, or @p data is not an object
 * @retval -ENOMEM out of memory
 * @thread loop (state and reset handlers included)
 * @since 0.2
 */
int vmc_qmp_send_event(struct vmc_qmp *qmp, const char *name,
		       struct vmc_qmp_value *data);

/* ------------------------------------------------------------------------
 * JSON values
 */

/**
 * A value's type.
 * @param v the value
 * @return its type; VMC_QMP_NULL for NULL
 * @thread any (one thread per value)
 * @since 0.2
 */
enum vmc_qmp_type vmc_qmp_value_get_type(const struct vmc_qmp_value *v);

/**
 * An object's member.
 * @param v the object
 * @param key the member's name
 * @return the member (owned by @p v); NULL when @p v is not an object,
 *         the member is absent, or it is null
 * @thread any (one thread per value)
 * @since 0.2
 */
const struct vmc_qmp_value *
vmc_qmp_value_get_member(const struct vmc_qmp_value *v, const char *key);

/**
 * The number of an array's elements or an object's members.
 * @param v the array or object
 * @return the count; 0 for other values
 * @thread any (one thread per value)
 * @since 0.2
 */
size_t vmc_qmp_value_get_length(const struct vmc_qmp_value *v);

/**
 * An array's element.
 * @param v the array
 * @param index the element's index
 * @return the element (owned by @p v); NULL when @p v is not an array,
 *         @p index is out of range, or the element is null
 * @thread any (one thread per value)
 * @since 0.2
 */
const struct vmc_qmp_value *
vmc_qmp_value_get_element(const struct vmc_qmp_value *v, size_t index);

/**
 * A string's text (UTF-8, NUL-terminated).
 * @param v the string
 * @return the text (owned by @p v); NULL when @p v is not a string
 * @thread any (one thread per value)
 * @since 0.2
 */
const char *vmc_qmp_value_get_string(const struct vmc_qmp_value *v);

/**
 * An integer as int64_t.
 * @param v the integer
 * @param[out] ret the value
 * @retval 0 success
 * @retval -EINVAL @p v is not an integer, or @p ret is NULL
 * @retval -ERANGE the integer does not fit
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_value_get_int(const struct vmc_qmp_value *v, int64_t *ret);

/**
 * An integer as uint64_t (JSON integers up to 2^64 - 1 are exact).
 * @param v the integer
 * @param[out] ret the value
 * @retval 0 success
 * @retval -EINVAL @p v is not an integer, or @p ret is NULL
 * @retval -ERANGE the integer is negative
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_value_get_uint(const struct vmc_qmp_value *v, uint64_t *ret);

/**
 * A boolean.
 * @param v the boolean
 * @param[out] ret the value
 * @retval 0 success
 * @retval -EINVAL @p v is not a boolean, or @p ret is NULL
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_value_get_bool(const struct vmc_qmp_value *v, bool *ret);

/**
 * A number (an integer or not) as a double.
 * @param v the number
 * @param[out] ret the value
 * @retval 0 success
 * @retval -EINVAL @p v is not a number, or @p ret is NULL
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_value_get_number(const struct vmc_qmp_value *v, double *ret);

/**
 * Serialise a value as compact JSON.
 * @param v the value (NULL gives "null")
 * @param[out] ret the text, NUL-terminated; the caller frees it with
 *        free()
 * @retval 0 success
 * @retval -EINVAL @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_value_to_json(const struct vmc_qmp_value *v, char **ret);

/**
 * Parse one JSON value (strict JSON, UTF-8 checked).
 * @param json the text
 * @param len its length in bytes
 * @param[out] ret the value, owned by the caller; NULL for `null`
 * @retval 0 success
 * @retval -EINVAL an argument is NULL, or @p json is not one JSON value
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.2
 */
int vmc_qmp_value_parse(const char *json, size_t len,
			struct vmc_qmp_value **ret);

/**
 * A new empty object, owned by the caller.
 * @param[out] ret the object
 * @retval 0 success
 * @retval -EINVAL @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.2
 */
int vmc_qmp_value_new_object(struct vmc_qmp_value **ret);

/**
 * A new empty array, owned by the caller.
 * @param[out] ret the array
 * @retval 0 success
 * @retval -EINVAL @p ret is NULL
 * @retval -ENOMEM out of memory
 * @thread any
 * @since 0.2
 */
int vmc_qmp_value_new_array(struct vmc_qmp_value **ret);

/**
 * Free a value the caller owns, with everything in it.  NULL is ignored.
 * @param v the value
 * @thread any (one thread per value)
 * @since 0.2
 */
void vmc_qmp_value_free(struct vmc_qmp_value *v);

/**
 * Set an object's member to @p child, replacing a member of that name.
 * @param v the object
 * @param key the member's name, copied
 * @param child the value, taken (also on failure); NULL sets null
 * @retval 0 success
 * @retval -EINVAL @p v is not an object, @p key is NULL, or @p child is
 *         @p v itself
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_object_set_value(struct vmc_qmp_value *v, const char *key,
			     struct vmc_qmp_value *child);

/**
 * Set an object's member to a string.
 * @param v the object
 * @param key the member's name, copied
 * @param s the text, copied (UTF-8)
 * @retval 0 success
 * @retval -EINVAL @p v is not an object, or @p key or @p s is NULL
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_object_set_string(struct vmc_qmp_value *v, const char *key,
			      const char *s);

/**
 * Set an object's member to a signed integer.
 * @param v the object
 * @param key the member's name, copied
 * @param n the integer
 * @retval 0 success
 * @retval -EINVAL @p v is not an object, or @p key is NULL
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_object_set_int(struct vmc_qmp_value *v, const char *key, int64_t n);

/**
 * Set an object's member to an unsigned integer (exact up to 2^64 - 1).
 * @param v the object
 * @param key the member's name, copied
 * @param n the integer
 * @retval 0 success
 * @retval -EINVAL @p v is not an object, or @p key is NULL
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_object_set_uint(struct vmc_qmp_value *v, const char *key,
			    uint64_t n);

/**
 * Set an object's member to a boolean.
 * @param v the object
 * @param key the member's name, copied
 * @param b the boolean
 * @retval 0 success
 * @retval -EINVAL @p v is not an object, or @p key is NULL
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_object_set_bool(struct vmc_qmp_value *v, const char *key, bool b);

/**
 * Set an object's member to a number.
 * @param v the object
 * @param key the member's name, copied
 * @param d the number; must be finite (JSON has no NaN or infinity)
 * @retval 0 success
 * @retval -EINVAL @p v is not an object, @p key is NULL, or @p d is not
 *         finite
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_object_set_number(struct vmc_qmp_value *v, const char *key,
			      double d);

/**
 * Append @p child to an array.
 * @param v the array
 * @param child the value, taken (also on failure); NULL appends null
 * @retval 0 success
 * @retval -EINVAL @p v is not an array, or @p child is @p v itself
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_array_append_value(struct vmc_qmp_value *v,
			       struct vmc_qmp_value *child);

/**
 * Append a string to an array.
 * @param v the array
 * @param s the text, copied (UTF-8)
 * @retval 0 success
 * @retval -EINVAL @p v is not an array, or @p s is NULL
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_array_append_string(struct vmc_qmp_value *v, const char *s);

/**
 * Append a signed integer to an array.
 * @param v the array
 * @param n the integer
 * @retval 0 success
 * @retval -EINVAL @p v is not an array
 * @retval -ENOMEM out of memory
 * @thread any (one thread per value)
 * @since 0.2
 */
int vmc_qmp_array_append_int(struct vmc_qmp_value *v, int64_t n);

VMC_END_DECLS

#endif
