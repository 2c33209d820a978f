/* SPDX-License-Identifier: MIT */
/*
 * JSON values of the public API.  A struct vmc_qmp_value is a json-c
 * object and NULL is JSON null, as in json-c itself, so values pass
 * between the host and the server without copies.  json-c stays out of
 * the public headers: hosts see only the opaque type and these functions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qmp-internal.h"

VMC_EXPORT enum vmc_qmp_type
vmc_qmp_value_get_type(const struct vmc_qmp_value *v)
{
	switch (json_object_get_type(qmp_json(v))) {
	case json_type_boolean:
		return VMC_QMP_BOOL;
	case json_type_int:
		return VMC_QMP_INT;
	case json_type_double:
		return VMC_QMP_NUMBER;
	case json_type_string:
		return VMC_QMP_STRING;
	case json_type_object:
		return VMC_QMP_OBJECT;
	case json_type_array:
		return VMC_QMP_ARRAY;
	default:
		return VMC_QMP_NULL;
	}
}

VMC_EXPORT const struct vmc_qmp_value *
vmc_qmp_value_get_member(const struct vmc_qmp_value *v, const char *key)
{
	struct json_object *m;

	if (!key || !json_object_is_type(qmp_json(v), json_type_object))
		return NULL;
	if (!json_object_object_get_ex(qmp_json(v), key, &m))
		return NULL;
	return qmp_value(m);
}

VMC_EXPORT size_t vmc_qmp_value_get_length(const struct vmc_qmp_value *v)
{
	switch (json_object_get_type(qmp_json(v))) {
	case json_type_array:
		return json_object_array_length(qmp_json(v));
	case json_type_object:
		return (size_t)json_object_object_length(qmp_json(v));
	default:
		return 0;
	}
}

VMC_EXPORT const struct vmc_qmp_value *
vmc_qmp_value_get_element(const struct vmc_qmp_value *v, size_t index)
{
	if (!json_object_is_type(qmp_json(v), json_type_array) ||
	    index >= json_object_array_length(qmp_json(v)))
		return NULL;
	return qmp_value(json_object_array_get_idx(qmp_json(v), index));
}

VMC_EXPORT const char *vmc_qmp_value_get_string(const struct vmc_qmp_value *v)
{
	if (!json_object_is_type(qmp_json(v), json_type_string))
		return NULL;
	return json_object_get_string(qmp_json(v));
}

/*
 * json-c keeps an integer as int64 or, above INT64_MAX, as uint64; its
 * getters clamp.  A clamped int64 getter at INT64_MAX with a larger
 * unsigned value, or a negative value for the unsigned getter, is a range
 * error rather than a silently different number.
 */
VMC_EXPORT int vmc_qmp_value_get_int(const struct vmc_qmp_value *v,
				     int64_t *ret)
{
	int64_t n;

	qmp_return_if(!ret, -EINVAL);
	if (!json_object_is_type(qmp_json(v), json_type_int))
		return -EINVAL;
	n = json_object_get_int64(qmp_json(v));
	if (n == INT64_MAX &&
	    json_object_get_uint64(qmp_json(v)) > (uint64_t)INT64_MAX)
		return -ERANGE;
	*ret = n;
	return 0;
}

VMC_EXPORT int vmc_qmp_value_get_uint(const struct vmc_qmp_value *v,
				      uint64_t *ret)
{
	qmp_return_if(!ret, -EINVAL);
	if (!json_object_is_type(qmp_json(v), json_type_int))
		return -EINVAL;
	if (json_object_get_int64(qmp_json(v)) < 0)
		return -ERANGE;
	*ret = json_object_get_uint64(qmp_json(v));
	return 0;
}

VMC_EXPORT int vmc_qmp_value_get_bool(const struct vmc_qmp_value *v, bool *ret)
{
	qmp_return_if(!ret, -EINVAL);
	if (!json_object_is_type(qmp_json(v), json_type_boolean))
		return -EINVAL;
	*ret = json_object_get_boolean(qmp_json(v));
	return 0;
}

VMC_EXPORT int vmc_qmp_value_get_number(const struct vmc_qmp_value *v,
					double *ret)
{
	qmp_return_if(!ret, -EINVAL);
	if (json_object_is_type(qmp_json(v), json_type_int)) {
		int64_t n = json_object_get_int64(qmp_json(v));

		if (n == INT64_MAX)
			*ret = (double)json_object_get_uint64(qmp_json(v));
		else
			*ret = (double)n;
		return 0;
	}
	if (!json_object_is_type(qmp_json(v), json_type_double))
		return -EINVAL;
	*ret = json_object_get_double(qmp_json(v));
	return 0;
}

VMC_EXPORT int vmc_qmp_value_to_json(const struct vmc_qmp_value *v, char **ret)
{
	const char *s;
	char *copy;

	qmp_return_if(!ret, -EINVAL);
	s = json_object_to_json_string_ext(
		qmp_json(v),
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

VMC_EXPORT int vmc_qmp_value_parse(const char *json, size_t len,
				   struct vmc_qmp_value **ret)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error err;
	size_t end;

	qmp_return_if(!json || !ret || len > INT32_MAX, -EINVAL);
	tok = json_tokener_new_ex(QMP_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, json, (int)len);
	err = json_tokener_get_error(tok);
	if (err == json_tokener_continue) {
		/* A number at the very end is complete only at EOF. */
		o = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	json_tokener_free(tok);
	if (err != json_tokener_success) {
		json_object_put(o);
		return -EINVAL;
	}
	/* Trailing whitespace only. */
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", json[end]) || json[end] == '\0') {
			json_object_put(o);
			return -EINVAL;
		}
	}
	*ret = qmp_value(o);
	return 0;
}

VMC_EXPORT int vmc_qmp_value_new_object(struct vmc_qmp_value **ret)
{
	struct json_object *o;

	qmp_return_if(!ret, -EINVAL);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	*ret = qmp_value(o);
	return 0;
}

VMC_EXPORT int vmc_qmp_value_new_array(struct vmc_qmp_value **ret)
{
	struct json_object *o;

	qmp_return_if(!ret, -EINVAL);
	o = json_object_new_array();
	if (!o)
		return -ENOMEM;
	*ret = qmp_value(o);
	return 0;
}

VMC_EXPORT void vmc_qmp_value_free(struct vmc_qmp_value *v)
{
	json_object_put(qmp_json(v));
}

/* Takes @child in every case, as the public setters promise. */
static int object_set(struct vmc_qmp_value *v, const char *key,
		      struct json_object *child, bool want_child)
{
	if (!key || !json_object_is_type(qmp_json(v), json_type_object) ||
	    (child && child == qmp_json(v))) {
		if (child != qmp_json(v))
			json_object_put(child);
		return -EINVAL;
	}
	if (want_child && !child)
		return -ENOMEM;
	if (json_object_object_add(qmp_json(v), key, child) < 0) {
		json_object_put(child);
		return -ENOMEM;
	}
	return 0;
}

VMC_EXPORT int vmc_qmp_object_set_value(struct vmc_qmp_value *v,
					const char *key,
					struct vmc_qmp_value *child)
{
	return object_set(v, key, qmp_json(child), false);
}

VMC_EXPORT int vmc_qmp_object_set_string(struct vmc_qmp_value *v,
					 const char *key, const char *s)
{
	qmp_return_if(!s, -EINVAL);
	return object_set(v, key, json_object_new_string(s), true);
}

VMC_EXPORT int vmc_qmp_object_set_int(struct vmc_qmp_value *v, const char *key,
				      int64_t n)
{
	return object_set(v, key, json_object_new_int64(n), true);
}

VMC_EXPORT int vmc_qmp_object_set_uint(struct vmc_qmp_value *v, const char *key,
				       uint64_t n)
{
	return object_set(v, key, json_object_new_uint64(n), true);
}

VMC_EXPORT int vmc_qmp_object_set_bool(struct vmc_qmp_value *v, const char *key,
				       bool b)
{
	return object_set(v, key, json_object_new_boolean(b), true);
}

VMC_EXPORT int vmc_qmp_object_set_number(struct vmc_qmp_value *v,
					 const char *key, double d)
{
	qmp_return_if(!isfinite(d), -EINVAL);
	return object_set(v, key, json_object_new_double(d), true);
}

static int array_append(struct vmc_qmp_value *v, struct json_object *child,
			bool want_child)
{
	if (!json_object_is_type(qmp_json(v), json_type_array) ||
	    (child && child == qmp_json(v))) {
		if (child != qmp_json(v))
			json_object_put(child);
		return -EINVAL;
	}
	if (want_child && !child)
		return -ENOMEM;
	if (json_object_array_add(qmp_json(v), child) < 0) {
		json_object_put(child);
		return -ENOMEM;
	}
	return 0;
}

VMC_EXPORT int vmc_qmp_array_append_value(struct vmc_qmp_value *v,
					  struct vmc_qmp_value *child)
{
	return array_append(v, qmp_json(child), false);
}

VMC_EXPORT int vmc_qmp_array_append_string(struct vmc_qmp_value *v,
					   const char *s)
{
	qmp_return_if(!s, -EINVAL);
	return array_append(v, json_object_new_string(s), true);
}

VMC_EXPORT int vmc_qmp_array_append_int(struct vmc_qmp_value *v, int64_t n)
{
	return array_append(v, json_object_new_int64(n), true);
}
