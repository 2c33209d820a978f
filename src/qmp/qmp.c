/* SPDX-License-Identifier: MIT */
/*
 * The QMP server: clients and their byte streams (monitors, where they
 * come from, are in monitor.c), request framing and dispatch, replies and
 * events.  The protocol follows QEMU's docs/interop/qmp-spec; the error
 * texts are QEMU's, so that clients written against QEMU read them.
 *
 * Input framing: json-c's tokener parses incrementally, so a request may
 * arrive in any number of pieces and several may arrive in one read.  A
 * message is bounded (config.max_message); leading whitespace between
 * messages does not count.  After a parse error the client gets QEMU's
 * GenericError (with the words QEMU's parser uses) and the rest of the
 * broken message is skipped, to where its brackets balance, as QEMU's
 * streamer does, so that one mistake costs one error and the next request
 * runs.  An ASCII control character other than tab, CR and LF is a
 * lexical error that resets the parser at once, QEMU's advice to clients
 * for forcing a known state.
 *
 * Output: a reply or event is serialised once, as pure ASCII (QEMU sends
 * non-ASCII characters as \u escapes) ending in CRLF, and written at once
 * with MSG_NOSIGNAL | MSG_DONTWAIT; what the socket does not take waits
 * in the client's queue, drained by the write callback.  A client whose
 * queue would exceed config.max_output is disconnected with a log line:
 * a client that never reads costs at most that much memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qmp-internal.h"

static void client_read(struct vmc_fd_handler *h, int fd, void *userdata);
static void client_write(struct vmc_fd_handler *h, int fd, void *userdata);

/* ------------------------------------------------------------------------
 * Serialisation
 */

static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len;
	uint32_t c;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

char *vmc__qmp_serialize(struct json_object *o, size_t *len)
{
	const unsigned char *s;
	size_t n, extra = 0, k = 0;
	char *out;

	s = (const unsigned char *)json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s)
		return NULL;
	/* Non-ASCII bytes occur only inside strings: escape them there. */
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x80)
			extra += 12;
	out = malloc(n + extra + 3);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l;

		if (s[i] < 0x80) {
			out[k++] = (char)s[i++];
			continue;
		}
		l = utf8_decode(s + i, n - i, &cp);
		if (!l) {
			/* Invalid UTF-8 from the host: U+FFFD per byte. */
			l = 1;
			cp = 0xfffd;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			k += (size_t)sprintf(out + k, "\\u%04x\\u%04x",
					     0xd800 + (cp >> 10),
					     0xdc00 + (cp & 0x3ff));
		} else {
			k += (size_t)sprintf(out + k, "\\u%04x", cp);
		}
		i += l;
	}
	out[k++] = '\r';
	out[k++] = '\n';
	out[k] = '\0';
	*len = k;
	return out;
}

/* ------------------------------------------------------------------------
 * Clients: output
 */

void vmc__qmp_schedule_reap(struct vmc_qmp *qmp)
{
	vmc_bh_schedule(qmp->reap_bh);
}

void vmc__qmp_client_kill(struct qmp_client *c, const char *why)
{
	struct vmc_qmp_monitor *mon = c->mon;

	if (c->dead)
		return;
	c->dead = true;
	if (why)
		vmc_log(VMC_LOG_INFO, "qmp: %s: client %s", mon->desc, why);
	vmc_fd_handler_free(c->h);
	c->h = NULL;
	close(c->fd);
	c->fd = -1;
	c->qmp->nr_clients--;
	if (mon->kind == MON_FD)
		mon->dead = true;
	else if (mon->kind == MON_CONNECT && !mon->dead)
		vmc__qmp_monitor_connect_later(mon);
	vmc__qmp_schedule_reap(c->qmp);
}

static void client_free(struct qmp_client *c)
{
	json_tokener_free(c->tok);
	free(c->out);
	free(c);
}

static void client_arm_write(struct qmp_client *c, bool on)
{
	if (c->writing == on)
		return;
	c->writing = on;
	vmc_fd_handler_set(c->h, client_read, on ? client_write : NULL, c);
}

/* Write what the socket takes; false when the client died. */
static bool client_flush(struct qmp_client *c)
{
	while (c->out_len > c->out_off) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			vmc__qmp_client_kill(c, "write failed; disconnected");
			return false;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	client_arm_write(c, c->out_len > 0);
	return true;
}

static void client_send(struct qmp_client *c, const char *data, size_t len)
{
	size_t pending;

	if (c->dead)
		return;
	pending = c->out_len - c->out_off;
	if (pending + len > c->qmp->config.max_output) {
		vmc_log(VMC_LOG_WARNING,
			"qmp: %s: client does not read its output (%zu bytes "
			"queued); disconnected",
			c->mon->desc, pending);
		vmc__qmp_client_kill(c, NULL);
		return;
	}
	if (c->out_off && c->out_len + len > c->out_cap) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			vmc__qmp_client_kill(c, "out of memory; disconnected");
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	client_flush(c);
}

static void client_send_json(struct qmp_client *c, struct json_object *o)
{
	size_t len;
	char *s = vmc__qmp_serialize(o, &len);

	if (!s) {
		vmc__qmp_client_kill(c, "out of memory; disconnected");
		return;
	}
	client_send(c, s, len);
	free(s);
}

static void client_write(struct vmc_fd_handler *h, int fd, void *userdata)
{
	client_flush(userdata);
}

/* ------------------------------------------------------------------------
 * Replies and events
 */

const char *vmc__qmp_class_name(enum vmc_qmp_error_class cls)
{
	switch (cls) {
	case VMC_QMP_GENERIC_ERROR:
		return "GenericError";
	case VMC_QMP_COMMAND_NOT_FOUND:
		return "CommandNotFound";
	case VMC_QMP_DEVICE_NOT_ACTIVE:
		return "DeviceNotActive";
	case VMC_QMP_DEVICE_NOT_FOUND:
		return "DeviceNotFound";
	case VMC_QMP_KVM_MISSING_CAP:
		return "KVMMissingCap";
	default:
		return NULL;
	}
}

static struct json_object *error_object(enum vmc_qmp_error_class cls,
					const char *desc)
{
	struct json_object *e = json_object_new_object();

	if (!e)
		return NULL;
	json_object_object_add(
		e, "class", json_object_new_string(vmc__qmp_class_name(cls)));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	return e;
}

/* Send {"return": ret} or {"error": err}, with the id; takes @val. */
static void client_reply(struct qmp_client *c, bool is_error,
			 struct json_object *val, struct json_object *id,
			 bool has_id)
{
	struct json_object *r = json_object_new_object();

	if (!r) {
		json_object_put(val);
		vmc__qmp_client_kill(c, "out of memory; disconnected");
		return;
	}
	json_object_object_add(r, is_error ? "error" : "return", val);
	if (has_id)
		json_object_object_add(r, "id", json_object_get(id));
	client_send_json(c, r);
	json_object_put(r);
}

static void VMC_PRINTF(5, 6)
	client_error(struct qmp_client *c, struct json_object *id, bool has_id,
		     enum vmc_qmp_error_class cls, const char *fmt, ...)
{
	char desc[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	client_reply(c, true, error_object(cls, desc), id, has_id);
}

void vmc__qmp_emit(struct vmc_qmp *qmp, const char *name,
		   struct json_object *data)
{
	struct json_object *ev, *ts;
	struct timespec now;
	size_t len;
	char *s;

	ev = json_object_new_object();
	ts = json_object_new_object();
	if (!ev || !ts) {
		vmc_log(VMC_LOG_WARNING, "qmp: out of memory; event %s lost",
			name);
		json_object_put(ev);
		json_object_put(ts);
		json_object_put(data);
		return;
	}
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		now.tv_sec = now.tv_nsec = -1000;
	json_object_object_add(ts, "seconds",
			       json_object_new_int64(now.tv_sec));
	json_object_object_add(ts, "microseconds",
			       json_object_new_int64(now.tv_nsec / 1000));
	json_object_object_add(ev, "event", json_object_new_string(name));
	if (data)
		json_object_object_add(ev, "data", data);
	json_object_object_add(ev, "timestamp", ts);
	s = vmc__qmp_serialize(ev, &len);
	json_object_put(ev);
	if (!s) {
		vmc_log(VMC_LOG_WARNING, "qmp: out of memory; event %s lost",
			name);
		return;
	}
	for (struct qmp_client *c = qmp->clients; c; c = c->next)
		if (!c->dead && c->negotiated)
			client_send(c, s, len);
	free(s);
}

VMC_EXPORT int vmc_qmp_send_event(struct vmc_qmp *qmp, const char *name,
				  struct vmc_qmp_value *data)
{
	if (!qmp || !name || !*name ||
	    (data && !json_object_is_type(qmp_json(data), json_type_object))) {
		json_object_put(qmp_json(data));
		return -EINVAL;
	}
	vmc__qmp_emit(qmp, name, qmp_json(data));
	return 0;
}

/* ------------------------------------------------------------------------
 * Requests
 */

static struct qmp_command *find_command(struct vmc_qmp *qmp, const char *name)
{
	for (struct qmp_command *c = qmp->commands; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static const char *type_name(enum vmc_qmp_type t)
{
	switch (t) {
	case VMC_QMP_BOOL:
		return "boolean";
	case VMC_QMP_INT:
		return "integer";
	case VMC_QMP_NUMBER:
		return "number";
	case VMC_QMP_STRING:
		return "string";
	case VMC_QMP_OBJECT:
		return "object";
	case VMC_QMP_ARRAY:
		return "array";
	case VMC_QMP_NULL:
		return "null";
	default:
		return "any";
	}
}

static bool type_matches(enum vmc_qmp_type want, struct json_object *v)
{
	enum vmc_qmp_type have = vmc_qmp_value_get_type(qmp_value(v));

	if (want == VMC_QMP_ANY || want == have)
		return true;
	return want == VMC_QMP_NUMBER && have == VMC_QMP_INT;
}

/* QAPI's input checks, in its order: members in schema order, then extras. */
static bool check_args(struct qmp_client *c, struct qmp_command *cmd,
		       struct json_object *args, struct json_object *id,
		       bool has_id)
{
	const struct vmc_qmp_arg *a;

	for (a = cmd->args; a && a->name; a++) {
		struct json_object *v;

		if (!json_object_object_get_ex(args, a->name, &v)) {
			if (a->optional)
				continue;
			client_error(c, id, has_id, VMC_QMP_GENERIC_ERROR,
				     "Parameter '%s' is missing", a->name);
			return false;
		}
		if (!type_matches(a->type, v)) {
			client_error(c, id, has_id, VMC_QMP_GENERIC_ERROR,
				     "Invalid parameter type for '%s', "
				     "expected: %s",
				     a->name, type_name(a->type));
			return false;
		}
	}
	json_object_object_foreach(args, key, val)
	{
		bool known = false;

		(void)val;
		for (a = cmd->args; a && a->name && !known; a++)
			known = !strcmp(a->name, key);
		if (!known) {
			client_error(c, id, has_id, VMC_QMP_GENERIC_ERROR,
				     "Parameter '%s' is unexpected", key);
			return false;
		}
	}
	return true;
}

static void handle_request(struct qmp_client *c, struct json_object *req)
{
	struct vmc_qmp *qmp = c->qmp;
	struct json_object *id = NULL, *args = NULL, *empty = NULL;
	struct vmc_qmp_request r = {0};
	const char *name = NULL;
	struct qmp_command *cmd;
	bool has_id = false;

	if (!json_object_is_type(req, json_type_object)) {
		client_error(c, NULL, false, VMC_QMP_GENERIC_ERROR,
			     "QMP input must be a JSON object");
		return;
	}
	has_id = json_object_object_get_ex(req, "id", &id);
	json_object_object_foreach(req, key, val)
	{
		if (!strcmp(key, "execute")) {
			if (!json_object_is_type(val, json_type_string)) {
				client_error(c, id, has_id,
					     VMC_QMP_GENERIC_ERROR,
					     "QMP input member 'execute' must "
					     "be a string");
				return;
			}
			name = json_object_get_string(val);
		} else if (!strcmp(key, "arguments")) {
			if (!json_object_is_type(val, json_type_object)) {
				client_error(c, id, has_id,
					     VMC_QMP_GENERIC_ERROR,
					     "QMP input member 'arguments' "
					     "must be an object");
				return;
			}
			args = val;
		} else if (strcmp(key, "id")) {
			client_error(c, id, has_id, VMC_QMP_GENERIC_ERROR,
				     "QMP input member '%s' is unexpected",
				     key);
			return;
		}
	}
	if (!name) {
		client_error(c, id, has_id, VMC_QMP_GENERIC_ERROR,
			     "QMP input lacks member 'execute'");
		return;
	}

	cmd = find_command(qmp, name);
	if (!c->negotiated && (!cmd || strcmp(name, "qmp_capabilities"))) {
		client_error(c, id, has_id, VMC_QMP_COMMAND_NOT_FOUND,
			     "Expecting capabilities negotiation with "
			     "'qmp_capabilities'");
		return;
	}
	if (c->negotiated && !strcmp(name, "qmp_capabilities")) {
		client_error(c, id, has_id, VMC_QMP_COMMAND_NOT_FOUND,
			     "Capabilities negotiation is already complete, "
			     "command ignored");
		return;
	}
	if (!cmd) {
		client_error(c, id, has_id, VMC_QMP_COMMAND_NOT_FOUND,
			     "The command %s has not been found", name);
		return;
	}
	if (!args) {
		args = empty = json_object_new_object();
		if (!args) {
			vmc__qmp_client_kill(c, "out of memory; disconnected");
			return;
		}
	}
	if (check_args(c, cmd, args, id, has_id)) {
		r.qmp = qmp;
		r.client = c;
		r.args = args;
		cmd->cb(&r, cmd->userdata);
		if (!r.answered)
			r.reply = json_object_new_object();
		client_reply(c, r.error, r.reply, id, has_id);
	}
	json_object_put(empty);
}

VMC_EXPORT struct vmc_qmp *
vmc_qmp_request_get_qmp(const struct vmc_qmp_request *req)
{
	return req ? req->qmp : NULL;
}

VMC_EXPORT const struct vmc_qmp_value *
vmc_qmp_request_get_arg(const struct vmc_qmp_request *req, const char *name)
{
	struct json_object *v;

	if (!req || !name || !json_object_object_get_ex(req->args, name, &v))
		return NULL;
	return qmp_value(v);
}

VMC_EXPORT int vmc_qmp_request_return(struct vmc_qmp_request *req,
				      struct vmc_qmp_value *value)
{
	if (!req || req->answered) {
		json_object_put(qmp_json(value));
		return req ? -EALREADY : -EINVAL;
	}
	req->reply = value ? qmp_json(value) : json_object_new_object();
	req->answered = true;
	return 0;
}

VMC_EXPORT int vmc_qmp_request_error(struct vmc_qmp_request *req,
				     enum vmc_qmp_error_class cls,
				     const char *fmt, ...)
{
	char desc[1024];
	va_list ap;

	qmp_return_if(!req || !fmt || !vmc__qmp_class_name(cls), -EINVAL);
	qmp_return_if(req->answered, -EALREADY);
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	req->reply = error_object(cls, desc);
	req->error = true;
	req->answered = true;
	return 0;
}

/* ------------------------------------------------------------------------
 * Clients: input
 */

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* json-c's error, in the words QEMU's parser uses for the same mistake. */
static const char *parse_error_text(enum json_tokener_error err)
{
	switch (err) {
	case json_tokener_error_parse_unexpected:
		return "expecting value";
	case json_tokener_error_parse_object_key_sep:
		return "missing : in object pair";
	case json_tokener_error_parse_object_value_sep:
		return "expected separator in dict";
	case json_tokener_error_parse_array:
		return "expected separator in list";
	case json_tokener_error_parse_object_key_name:
		return "key is not a string in object";
	case json_tokener_error_parse_null:
	case json_tokener_error_parse_boolean:
	case json_tokener_error_parse_number:
		return "invalid keyword";
	default:
		return json_tokener_error_desc(err);
	}
}

/*
 * QEMU's lexer refuses ASCII control characters other than tab, CR and
 * LF anywhere, inside strings too: that is how a client forces the
 * parser back to a known state.  json-c takes them inside strings, so
 * they are caught before it sees them.
 */
static bool is_control(char ch)
{
	unsigned char u = (unsigned char)ch;

	return u < 0x20 && u != '\t' && u != '\r' && u != '\n';
}

/* Follow one byte of a message: string and nesting state. */
static void scan_byte(struct qmp_scan *sc, char ch)
{
	if (sc->quote) {
		if (sc->escape)
			sc->escape = false;
		else if (ch == '\\')
			sc->escape = true;
		else if (ch == sc->quote)
			sc->quote = 0;
		return;
	}
	switch (ch) {
	case '"':
	case '\'':
		sc->quote = ch;
		break;
	case '{':
	case '[':
		sc->depth++;
		break;
	case '}':
	case ']':
		sc->depth--;
		break;
	default:
		break;
	}
}

static void message_reset(struct qmp_client *c)
{
	json_tokener_reset(c->tok);
	c->scan = (struct qmp_scan){0};
	c->msg_bytes = 0;
}

/*
 * After a parse error, skip the rest of the broken message as QEMU does:
 * to where its brackets balance, then the rest of a stray word.  Returns
 * the bytes consumed; stops early at a control character (the caller's)
 * and where the next message may start, clearing c->recovering.
 */
static size_t skip_broken(struct qmp_client *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_control(p[i]))
			return i;
		if (c->scan.balanced) {
			if (is_space(p[i]) || strchr("{[\"'", p[i])) {
				c->recovering = false;
				c->scan = (struct qmp_scan){0};
				return i;
			}
			continue;
		}
		scan_byte(&c->scan, p[i]);
		if (!c->scan.quote && c->scan.depth <= 0)
			c->scan.balanced = true;
	}
	return n;
}

static void input_error(struct qmp_client *c, const char *what)
{
	client_error(c, NULL, false, VMC_QMP_GENERIC_ERROR, "%s", what);
	json_tokener_reset(c->tok);
	c->msg_bytes = 0;
	c->recovering = true;
}

/*
 * The input path: any bytes, in any pieces.  json-c parses each message
 * incrementally; alongside, the client follows its strings and nesting
 * (struct qmp_scan) so that after an error it knows where the broken
 * message ends.
 */
static void client_input(struct qmp_client *c, const char *buf, size_t n)
{
	size_t max = c->qmp->config.max_message, pos = 0;

	while (pos < n && !c->dead) {
		enum json_tokener_error err;
		struct json_object *o;
		size_t take, end;

		if (is_control(buf[pos])) {
			/* A lexical error that resets everything. */
			char stray[32];

			snprintf(stray, sizeof(stray),
				 "JSON parse error, stray '%c'", buf[pos]);
			client_error(c, NULL, false, VMC_QMP_GENERIC_ERROR,
				     "%s", stray);
			message_reset(c);
			c->recovering = false;
			pos++;
			continue;
		}
		if (c->recovering) {
			pos += skip_broken(c, buf + pos, n - pos);
			continue;
		}
		if (c->msg_bytes == 0 && is_space(buf[pos])) {
			pos++;
			continue;
		}
		take = n - pos;
		if (take > max - c->msg_bytes)
			take = max - c->msg_bytes;
		for (size_t i = 0; i < take; i++) {
			if (is_control(buf[pos + i])) {
				take = i;
				break;
			}
		}
		o = json_tokener_parse_ex(c->tok, buf + pos, (int)take);
		err = json_tokener_get_error(c->tok);
		end = err == json_tokener_continue
			      ? take
			      : json_tokener_get_parse_end(c->tok);
		for (size_t i = 0; i < end; i++)
			scan_byte(&c->scan, buf[pos + i]);
		pos += end;
		if (err == json_tokener_continue) {
			c->msg_bytes += take;
			if (c->msg_bytes >= max)
				input_error(c,
					    "JSON token size limit exceeded");
			continue;
		}
		if (err != json_tokener_success) {
			char what[96];

			json_object_put(o);
			if (err == json_tokener_error_depth)
				snprintf(what, sizeof(what),
					 "JSON nesting depth limit exceeded");
			else
				snprintf(what, sizeof(what),
					 "JSON parse error, %s",
					 parse_error_text(err));
			/* The offending byte is the first one skipped. */
			input_error(c, what);
			continue;
		}
		message_reset(c);
		handle_request(c, o);
		json_object_put(o);
	}
}

static void client_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct qmp_client *c = userdata;
	char buf[4096];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		vmc__qmp_client_kill(c, n ? "read failed; disconnected"
					  : "disconnected");
		return;
	}
	client_input(c, buf, (size_t)n);
}

static void send_greeting(struct qmp_client *c)
{
	struct vmc_qmp *qmp = c->qmp;
	struct json_object *g, *q, *v, *ver;

	g = json_object_new_object();
	q = json_object_new_object();
	v = json_object_new_object();
	ver = json_object_new_object();
	if (!g || !q || !v || !ver) {
		json_object_put(g);
		json_object_put(q);
		json_object_put(v);
		json_object_put(ver);
		vmc__qmp_client_kill(c, "out of memory; disconnected");
		return;
	}
	json_object_object_add(
		ver, "micro", json_object_new_int64(qmp->config.version_micro));
	json_object_object_add(
		ver, "minor", json_object_new_int64(qmp->config.version_minor));
	json_object_object_add(
		ver, "major", json_object_new_int64(qmp->config.version_major));
	json_object_object_add(v, "qemu", ver);
	json_object_object_add(v, "package",
			       json_object_new_string(qmp->package));
	json_object_object_add(q, "version", v);
	/* No out-of-band execution: nothing to offer. */
	json_object_object_add(q, "capabilities", json_object_new_array());
	json_object_object_add(g, "QMP", q);
	client_send_json(c, g);
	json_object_put(g);
}

/* Takes @fd (connected, non-blocking or not) in every case. */
int vmc__qmp_client_new(struct vmc_qmp_monitor *mon, int fd)
{
	struct vmc_qmp *qmp = mon->qmp;
	struct qmp_client *c = calloc(1, sizeof(*c));
	int r = -ENOMEM;

	if (!c)
		goto fail;
	c->qmp = qmp;
	c->mon = mon;
	c->fd = fd;
	c->tok = json_tokener_new_ex(QMP_MAX_DEPTH);
	if (!c->tok)
		goto fail;
	json_tokener_set_flags(c->tok,
			       JSON_TOKENER_STRICT |
				       JSON_TOKENER_ALLOW_TRAILING_CHARS |
				       JSON_TOKENER_VALIDATE_UTF8);
	r = vmc_loop_add_fd(qmp->loop, fd, client_read, NULL, c, &c->h);
	if (r < 0)
		goto fail;
	c->next = qmp->clients;
	qmp->clients = c;
	qmp->nr_clients++;
	vmc_log(VMC_LOG_DEBUG, "qmp: %s: client connected", mon->desc);
	send_greeting(c);
	return 0;
fail:
	if (c) {
		json_tokener_free(c->tok);
		free(c);
	}
	close(fd);
	return r;
}

/* ------------------------------------------------------------------------
 * Reaping and client counts
 */

static void reap(struct vmc_bh *bh, void *userdata)
{
	struct vmc_qmp *qmp = userdata;
	struct qmp_client **pc = &qmp->clients;
	struct vmc_qmp_monitor **pm = &qmp->monitors;

	while (*pc) {
		struct qmp_client *c = *pc;

		if (c->dead) {
			*pc = c->next;
			client_free(c);
		} else {
			pc = &c->next;
		}
	}
	while (*pm) {
		struct vmc_qmp_monitor *m = *pm;

		if (m->dead) {
			*pm = m->next;
			vmc__qmp_monitor_free(m);
		} else {
			pm = &m->next;
		}
	}
}

VMC_EXPORT unsigned int vmc_qmp_get_client_count(const struct vmc_qmp *qmp)
{
	return qmp ? qmp->nr_clients : 0;
}

/* ------------------------------------------------------------------------
 * Commands
 */

VMC_EXPORT int vmc_qmp_add_command(struct vmc_qmp *qmp, const char *name,
				   const struct vmc_qmp_arg *args,
				   vmc_qmp_command_cb cb, void *userdata)
{
	struct qmp_command *cmd, **tail;
	size_t n = 0;

	qmp_return_if(!qmp || !name || !*name || !cb, -EINVAL);
	for (; args && args[n].name; n++) {
		if (!*args[n].name || args[n].type < VMC_QMP_NULL ||
		    args[n].type > VMC_QMP_ANY)
			return -EINVAL;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(args[k].name, args[n].name))
				return -EINVAL;
	}
	if (find_command(qmp, name))
		return -EEXIST;
	cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return -ENOMEM;
	cmd->name = strdup(name);
	cmd->args = calloc(n + 1, sizeof(*cmd->args));
	if (!cmd->name || !cmd->args)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		cmd->args[i] = args[i];
		cmd->args[i].name = strdup(args[i].name);
		if (!cmd->args[i].name)
			goto nomem;
	}
	cmd->cb = cb;
	cmd->userdata = userdata;
	/* Registration order, which query-commands reports. */
	for (tail = &qmp->commands; *tail; tail = &(*tail)->next)
		;
	*tail = cmd;
	return 0;
nomem:
	for (size_t i = 0; cmd->args && i < n; i++)
		free((char *)cmd->args[i].name);
	free(cmd->args);
	free(cmd->name);
	free(cmd);
	return -ENOMEM;
}

static void command_free(struct qmp_command *cmd)
{
	for (size_t i = 0; cmd->args[i].name; i++)
		free((char *)cmd->args[i].name);
	free(cmd->args);
	free(cmd->name);
	free(cmd);
}

VMC_EXPORT int vmc_qmp_remove_command(struct vmc_qmp *qmp, const char *name)
{
	qmp_return_if(!qmp || !name, -EINVAL);
	for (struct qmp_command **p = &qmp->commands; *p; p = &(*p)->next) {
		if (!strcmp((*p)->name, name)) {
			struct qmp_command *cmd = *p;

			*p = cmd->next;
			command_free(cmd);
			return 0;
		}
	}
	return -ENOENT;
}

/* The list of command names, in registration order (query-commands). */
struct json_object *vmc__qmp_command_list(struct vmc_qmp *qmp)
{
	struct json_object *list = json_object_new_array();

	for (struct qmp_command *c = qmp->commands; list && c; c = c->next) {
		struct json_object *e = json_object_new_object();

		if (!e || json_object_object_add(
				  e, "name", json_object_new_string(c->name))) {
			json_object_put(e);
			json_object_put(list);
			return NULL;
		}
		json_object_array_add(list, e);
	}
	return list;
}

void vmc__qmp_set_negotiated(struct vmc_qmp_request *req)
{
	req->client->negotiated = true;
}

/* ------------------------------------------------------------------------
 * The server
 */

static void on_state(struct vmc_vm *vm, enum vmc_vm_state old,
		     enum vmc_vm_state now, void *userdata)
{
	vmc__qmp_on_state(userdata, old, now);
}

static void on_reset(struct vmc_vm *vm, void *userdata)
{
	vmc__qmp_on_reset(userdata);
}

static void after_reply(struct vmc_bh *bh, void *userdata)
{
	vmc__qmp_run_after(userdata);
}

void vmc__qmp_schedule_after(struct vmc_qmp *qmp)
{
	vmc_bh_schedule(qmp->after_bh);
}

VMC_EXPORT void vmc_qmp_config_init(struct vmc_qmp_config *config)
{
	if (!config)
		return;
	*config = (struct vmc_qmp_config){
		.size = sizeof(*config),
		.version_major = VMC_VERSION_MAJOR,
		.version_minor = VMC_VERSION_MINOR,
		.version_micro = VMC_VERSION_MICRO,
	};
}

VMC_EXPORT int vmc_qmp_new(struct vmc_vm *vm,
			   const struct vmc_qmp_config *config,
			   struct vmc_qmp **ret)
{
	struct vmc_qmp *qmp;
	int r = -ENOMEM;

	qmp_return_if(!vm || !ret, -EINVAL);
	/* 0.2's struct is the first; later ones only grow. */
	qmp_return_if(config && config->size != sizeof(*config), -EINVAL);
	qmp = calloc(1, sizeof(*qmp));
	if (!qmp)
		return -ENOMEM;
	vmc_qmp_config_init(&qmp->config);
	if (config)
		memcpy(&qmp->config, config, config->size);
	qmp->config.size = sizeof(qmp->config);
	if (!qmp->config.max_message)
		qmp->config.max_message = QMP_DEFAULT_MAX_MESSAGE;
	if (!qmp->config.max_output)
		qmp->config.max_output = QMP_DEFAULT_MAX_OUTPUT;
	if (qmp->config.max_message > INT32_MAX) {
		r = -EINVAL;
		goto fail;
	}
	qmp->vm = vmc_vm_ref(vm);
	qmp->loop = vmc_vm_get_loop(vm);
	if (qmp->config.name) {
		qmp->name = strdup(qmp->config.name);
		if (!qmp->name)
			goto fail;
	}
	qmp->package = strdup(qmp->config.package ? qmp->config.package : "");
	if (!qmp->package)
		goto fail;
	qmp->config.name = qmp->name;
	qmp->config.package = qmp->package;
	r = vmc_bh_new(qmp->loop, reap, qmp, &qmp->reap_bh);
	if (r >= 0)
		r = vmc_bh_new(qmp->loop, after_reply, qmp, &qmp->after_bh);
	if (r >= 0)
		r = vmc__qmp_add_builtin_commands(qmp);
	/*
	 * Priority 0: events describe the change once every device has
	 * seen it, as QEMU sends STOP after the VM stopped.
	 */
	if (r >= 0)
		r = vmc_vm_add_state_handler(vm, on_state, 0, qmp,
					     &qmp->hooks.state);
	if (r >= 0)
		r = vmc_vm_add_reset_handler(vm, on_reset, qmp,
					     &qmp->hooks.reset);
	if (r < 0)
		goto fail;
	*ret = qmp;
	return 0;
fail:
	vmc_qmp_free(qmp);
	return r;
}

VMC_EXPORT void vmc_qmp_free(struct vmc_qmp *qmp)
{
	if (!qmp)
		return;
	if (qmp->hooks.state)
		vmc_vm_remove_state_handler(qmp->vm, qmp->hooks.state);
	if (qmp->hooks.reset)
		vmc_vm_remove_reset_handler(qmp->vm, qmp->hooks.reset);
	for (struct vmc_qmp_monitor *m = qmp->monitors; m; m = m->next)
		if (!m->dead)
			vmc__qmp_monitor_kill(m);
	while (qmp->clients) {
		struct qmp_client *c = qmp->clients;

		qmp->clients = c->next;
		client_free(c);
	}
	while (qmp->monitors) {
		struct vmc_qmp_monitor *m = qmp->monitors;

		qmp->monitors = m->next;
		vmc__qmp_monitor_free(m);
	}
	while (qmp->commands) {
		struct qmp_command *c = qmp->commands;

		qmp->commands = c->next;
		command_free(c);
	}
	vmc_bh_free(qmp->reap_bh);
	vmc_bh_free(qmp->after_bh);
	free(qmp->name);
	free(qmp->package);
	if (qmp->vm)
		vmc_vm_unref(qmp->vm);
	free(qmp);
}
