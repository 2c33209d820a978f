/* SPDX-License-Identifier: MIT */
/*
 * -object iothread and the iothread= device property (board-iothread.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board-iothread.h"
#include "board-util.h"

#define MSG(...) snprintf(msg, BOARD_MSG_SIZE, __VA_ARGS__)

/* The value of @key in "a=1,KEY=v,..." (a copy), or NULL. */
static char *opt(const char *opts, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = opts; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len > kl && !strncmp(p, key, kl) && p[kl] == '=')
			return strndup(p + kl + 1, len - kl - 1);
		p += len;
		p += *p == ',';
	}
	return NULL;
}

int board_iothread_object(struct board_iothreads *s, const char *val, char *msg)
{
	static const char *const keys[] = {
		"id",	       "poll-max-ns",	"poll-grow",
		"poll-shrink", "aio-max-batch", NULL};
	size_t tl = strcspn(val, ",");
	const char *p;
	char *id;

	if (tl != strlen("iothread") || strncmp(val, "iothread", tl)) {
		MSG("-object %s: object type '%.*s' not supported (only "
		    "iothread)",
		    val, (int)tl, val);
		return -EINVAL;
	}
	for (p = val + tl + (val[tl] == ','); *p;) {
		size_t len = strcspn(p, ","), kl = strcspn(p, "=,");
		bool known = false;

		for (const char *const *k = keys; *k && !known; k++)
			known = strlen(*k) == kl && !strncmp(*k, p, kl);
		if (!known) {
			MSG("-object %s: Property '%.*s' not found", val,
			    (int)kl, p);
			return -EINVAL;
		}
		p += len;
		p += *p == ',';
	}
	id = opt(val, "id");
	if (!id || !*id) {
		free(id);
		MSG("-object %s: Parameter 'id' is missing", val);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < s->n; i++) {
		if (!strcmp(s->t[i].id, id)) {
			MSG("-object %s: attempt to add duplicate property "
			    "'%s' to object",
			    val, id);
			free(id);
			return -EEXIST;
		}
	}
	if (s->n == BOARD_IOTHREAD_MAX) {
		free(id);
		MSG("-object %s: at most %d I/O threads", val,
		    BOARD_IOTHREAD_MAX);
		return -ENOSPC;
	}
	s->t[s->n].id = id;
	s->t[s->n].t = NULL;
	s->n++;
	return 1;
}

int board_iothread_find(struct board_iothreads *s, const char *id,
			struct vmc_iothread **ret, char *msg)
{
	char name[16];
	int r;

	for (unsigned int i = 0; i < s->n; i++) {
		if (strcmp(s->t[i].id, id))
			continue;
		if (!s->t[i].t) {
			/* Named as QEMU names its threads, for top -H. */
			snprintf(name, sizeof(name), "IO %s", s->t[i].id);
			r = vmc_iothread_new(name, &s->t[i].t);
			if (r < 0) {
				MSG("-object iothread,id=%s: %s", s->t[i].id,
				    strerror(-r));
				return r;
			}
		}
		*ret = s->t[i].t;
		return 0;
	}
	MSG("Property 'iothread' can't find value '%s'", id);
	return -ENOENT;
}

int board_iothread_get(struct board_iothreads *s, const char *devarg,
		       struct vmc_iothread **ret, char *msg)
{
	char *id = opt(devarg, "iothread");
	char why[BOARD_MSG_SIZE];
	int r;

	*ret = NULL;
	if (!id)
		return 0;
	r = board_iothread_find(s, id, ret, why);
	if (r < 0)
		MSG("-device %.*s: %.*s", 50, devarg, 90, why);
	free(id);
	return r;
}

void board_iothread_free_all(struct board_iothreads *s)
{
	for (unsigned int i = 0; i < s->n; i++) {
		vmc_iothread_free(s->t[i].t);
		free(s->t[i].id);
	}
	s->n = 0;
}
