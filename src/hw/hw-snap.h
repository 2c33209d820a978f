/* SPDX-License-Identifier: MIT */
/*
 * Snapshot sections of the device models: a cursor that writes or reads
 * little-endian fields, so that one function per device lists its state
 * once for save and load.  Never installed.
 *
 * Saving, @buf may be NULL: the cursor only counts (the size save()
 * reports).  Loading, a read past the end sets @err and yields 0; a
 * device reads everything into locals, checks them and only then changes
 * its state.
 */
#ifndef VMC_HW_SNAP_H
#define VMC_HW_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libvmcore/vmc-snapshot.h>
#include <errno.h>

#include <libvmcore/vmc-loop.h>

struct hw_snap {
	bool save;	   /* which way the io functions go */
	uint8_t *out;	   /* saving: the buffer, or NULL to count */
	const uint8_t *in; /* loading */
	size_t size, off;
	bool err;
};

static inline void hw_snap_put(struct hw_snap *s, uint64_t v, unsigned n)
{
	if (s->out && s->off + n <= s->size)
		for (unsigned i = 0; i < n; i++)
			s->out[s->off + i] = (uint8_t)(v >> (8 * i));
	else if (s->out)
		s->err = true;
	s->off += n;
}

static inline uint64_t hw_snap_get(struct hw_snap *s, unsigned n)
{
	uint64_t v = 0;

	if (s->err || s->size - s->off < n) {
		s->err = true;
		return 0;
	}
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | s->in[s->off + i];
	s->off += n;
	return v;
}

static inline void hw_snap_bytes(struct hw_snap *s, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hw_snap_put(s, ((const uint8_t *)p)[i], 1);
}

static inline void hw_snap_get_bytes(struct hw_snap *s, void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)hw_snap_get(s, 1);
}

/* Saving: the result save() returns. */
static inline int hw_snap_result(const struct hw_snap *s)
{
	if (s->err || s->off > (size_t)INT32_MAX)
		return -EINVAL;
	return (int)s->off;
}

/* Loading: everything read, nothing left over. */
static inline bool hw_snap_done(const struct hw_snap *s)
{
	return !s->err && s->off == s->size;
}

/* A timer's deadline as saved (-1: not armed) and as loaded. */
static inline void hw_snap_timer_load(struct vmc_timer *t, int64_t deadline)
{
	if (deadline >= 0)
		vmc_timer_mod(t, deadline);
	else
		vmc_timer_del(t);
}

#endif
