/* SPDX-License-Identifier: MIT */
/*
 * The memory API driven by a byte-coded program, checked against a
 * reference model.
 *
 * Each input byte string is decoded into calls: create regions (RAM, I/O,
 * container, alias), add/remove/move/enable/read-only subregions, add and
 * remove ioeventfds, nested transactions, and guest reads and writes.  The
 * same calls go to a small model of the tree.  After every publish the
 * library's flat view must equal the model's ("paint every byte" of a
 * 256-byte address space by QEMU's visibility rule, then merge runs), its
 * ioeventfd set must equal the model's, and a recording listener's add/del
 * stream must have turned the previous set into the new one exactly, all
 * deletions first.  Return codes must match the model's expectations.
 *
 * Used by the libFuzzer target and by the unit tests (random inputs).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>

#include "memory-fuzz-body.h"
#include "memory-internal.h"

#define AS_SIZE 256
#define MAX_NODES 24
#define MAX_EVENTFDS 64
#define NR_NOTIFIERS 3

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
				"memory-fuzz: %s:%d: check failed: "           \
				"%s\n",                                        \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

enum { K_RAM, K_IO, K_CONT, K_ALIAS, K_NR };

struct mev {
	uint64_t off;
	unsigned size;
	bool match;
	uint64_t data;
	int notifier;
};

struct mnode {
	int kind;
	uint64_t size;
	int parent; /* -1 */
	uint64_t offset;
	int prio;
	uint64_t seq; /* insertion order among siblings */
	bool enabled, readonly;
	int alias;
	uint64_t alias_off;
	struct mev ev[8];
	int nev;
	struct vmc_region *lib;
	uint8_t *host;
};

struct lrange {
	uint64_t start, last, offset;
	struct vmc_region *region;
	bool ro;
};

struct lev {
	uint64_t addr;
	unsigned size;
	bool match;
	uint64_t data;
	struct vmc_notifier *n;
};

struct state {
	const uint8_t *p, *end;
	struct vmc_memory *mem;
	struct vmc_address_space *as;
	struct vmc_notifier *notifiers[NR_NOTIFIERS];
	struct mnode n[MAX_NODES];
	int nr;
	uint64_t seq;
	int depth;
	/* what the recording listener believes */
	struct lrange lr[4 * AS_SIZE];
	int nlr;
	struct lev le[4 * MAX_EVENTFDS * MAX_NODES];
	int nle;
	int phase;
	bool unregistering;
	int writes_seen;
};

static unsigned next(struct state *s)
{
	return s->p < s->end ? *s->p++ : 0;
}

static bool more(const struct state *s)
{
	return s->p < s->end;
}

/* ---- the recording listener ---- */

static void phase(struct state *s, int ph)
{
	/* Deletions before additions (unregistering mirrors instead). */
	CHECK(s->unregistering || ph >= s->phase);
	s->phase = ph;
}

static void l_radd(void *o, const struct vmc_memory_section *sec)
{
	struct state *s = o;

	phase(s, 1);
	for (int i = 0; i < s->nlr; i++)
		CHECK(s->lr[i].start != sec->addr);
	CHECK(s->nlr < (int)(sizeof(s->lr) / sizeof(s->lr[0])));
	s->lr[s->nlr++] =
		(struct lrange){sec->addr, sec->addr + sec->size - 1,
				sec->offset, sec->region, sec->readonly};
}

static void l_rdel(void *o, const struct vmc_memory_section *sec)
{
	struct state *s = o;

	phase(s, 0);
	for (int i = 0; i < s->nlr; i++) {
		if (s->lr[i].start == sec->addr) {
			CHECK(s->lr[i].last == sec->addr + sec->size - 1);
			CHECK(s->lr[i].region == sec->region);
			CHECK(s->lr[i].offset == sec->offset);
			CHECK(s->lr[i].ro == sec->readonly);
			s->lr[i] = s->lr[--s->nlr];
			return;
		}
	}
	CHECK(!"deleted a range that was never added");
}

static bool lev_eq(const struct lev *a, const struct vmc_ioeventfd_info *e)
{
	return a->addr == e->addr && a->size == e->size &&
	       a->match == e->match_data && (!a->match || a->data == e->data) &&
	       a->n == e->notifier;
}

static void l_eadd(void *o, const struct vmc_ioeventfd_info *e)
{
	struct state *s = o;

	phase(s, 3);
	for (int i = 0; i < s->nle; i++)
		CHECK(!lev_eq(&s->le[i], e));
	CHECK(s->nle < (int)(sizeof(s->le) / sizeof(s->le[0])));
	s->le[s->nle++] =
		(struct lev){e->addr, e->size, e->match_data,
			     e->match_data ? e->data : 0, e->notifier};
}

static void l_edel(void *o, const struct vmc_ioeventfd_info *e)
{
	struct state *s = o;

	phase(s, 2);
	for (int i = 0; i < s->nle; i++) {
		if (lev_eq(&s->le[i], e)) {
			s->le[i] = s->le[--s->nle];
			return;
		}
	}
	CHECK(!"deleted an ioeventfd that was never added");
}

static const struct vmc_memory_listener_ops l_ops = {
	.struct_size = sizeof(l_ops),
	.region_add = l_radd,
	.region_del = l_rdel,
	.eventfd_add = l_eadd,
	.eventfd_del = l_edel,
};

/* ---- I/O callbacks: byte k of a read at offset o is (o + k) ^ id ---- */

struct iodev {
	int id;
	int *writes;
};

static struct iodev iodevs[MAX_NODES];

static int io_read(void *opaque, uint64_t off, unsigned size, uint64_t *v)
{
	const struct iodev *d = opaque;

	*v = 0;
	for (unsigned k = 0; k < size; k++)
		*v |= (uint64_t)(uint8_t)((off + k) ^ (unsigned)d->id)
		      << (8 * k);
	return 0;
}

static int io_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	(void)off;
	(void)size;
	(void)v;
	(*((struct iodev *)opaque)->writes)++;
	return 0;
}

/* ---- the reference: who is visible at address @a of node @i ---- */

struct hit {
	int node;
	uint64_t off;
	bool ro;
};

/* Children of @i in QEMU's list order: priority desc, newest first. */
static int children(const struct state *s, int i, int *out)
{
	int n = 0;

	for (int c = 0; c < s->nr; c++)
		if (s->n[c].parent == i)
			out[n++] = c;
	for (int x = 1; x < n; x++) {
		for (int y = x; y > 0; y--) {
			const struct mnode *a = &s->n[out[y - 1]];
			const struct mnode *b = &s->n[out[y]];

			if (a->prio > b->prio ||
			    (a->prio == b->prio && a->seq > b->seq))
				break;
			int t = out[y];
			out[y] = out[y - 1];
			out[y - 1] = t;
		}
	}
	return n;
}

static bool resolve(const struct state *s, int i, uint64_t a, bool ro,
		    struct hit *h)
{
	const struct mnode *m = &s->n[i];
	int ch[MAX_NODES], nc;

	if (!m->enabled || a >= m->size)
		return false;
	ro = ro || m->readonly;
	if (m->kind == K_ALIAS)
		return resolve(s, m->alias, a + m->alias_off, ro, h);
	nc = children(s, i, ch);
	for (int k = 0; k < nc; k++) {
		const struct mnode *c = &s->n[ch[k]];

		if (a >= c->offset && a - c->offset < c->size &&
		    resolve(s, ch[k], a - c->offset, ro, h))
			return true;
	}
	if (m->kind == K_CONT)
		return false;
	*h = (struct hit){i, a, ro};
	return true;
}

static bool reaches(const struct state *s, int from, int to)
{
	if (from == to)
		return true;
	if (s->n[from].kind == K_ALIAS && reaches(s, s->n[from].alias, to))
		return true;
	for (int c = 0; c < s->nr; c++)
		if (s->n[c].parent == from && reaches(s, c, to))
			return true;
	return false;
}

static int cmp_lev(const void *x, const void *y)
{
	const struct lev *a = x, *b = y;

	return vmc__ioeventfd_cmp(a->addr, a->size, a->match, a->data, a->n,
				  b->addr, b->size, b->match, b->data, b->n);
}

static int cmp_lrange(const void *x, const void *y)
{
	const struct lrange *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

static void check_view(struct state *s)
{
	const struct vmc__flat_view *v = vmc__as_get_view(s->as);
	struct lrange ref[AS_SIZE];
	static struct lev rev[AS_SIZE * MAX_NODES * 8];
	int nref = 0, nrev = 0;

	/* Paint every byte, then merge runs. */
	for (uint64_t a = 0; a < AS_SIZE; a++) {
		struct hit h;
		struct lrange *p = nref ? &ref[nref - 1] : NULL;

		if (!resolve(s, 0, a, false, &h))
			continue;
		if (p && p->last + 1 == a && p->region == s->n[h.node].lib &&
		    p->ro == h.ro &&
		    p->offset + (p->last - p->start + 1) == h.off) {
			p->last = a;
		} else {
			ref[nref++] = (struct lrange){a, a, h.off,
						      s->n[h.node].lib, h.ro};
		}
		for (int k = 0; k < s->n[h.node].nev; k++) {
			const struct mev *e = &s->n[h.node].ev[k];
			uint64_t w = e->size ? e->size : 1;

			/* A record that would start below 0 is dropped. */
			if (h.off >= e->off && h.off < e->off + w &&
			    a >= h.off - e->off)
				rev[nrev++] = (struct lev){
					a - (h.off - e->off), e->size, e->match,
					e->data, s->notifiers[e->notifier]};
		}
	}
	CHECK(v->nr == (size_t)nref);
	for (int i = 0; i < nref; i++) {
		const struct vmc__flat_range *r = &v->ranges[i];

		CHECK(r->start == ref[i].start && r->last == ref[i].last);
		CHECK(r->region == ref[i].region && r->offset == ref[i].offset);
		CHECK(r->readonly == ref[i].ro);
		CHECK(v->starts[i] == r->start);
	}
	qsort(rev, (size_t)nrev, sizeof(rev[0]), cmp_lev);
	{
		int w = 0;

		for (int i = 0; i < nrev; i++)
			if (!w || cmp_lev(&rev[w - 1], &rev[i]) != 0)
				rev[w++] = rev[i];
		nrev = w;
	}
	CHECK(v->nr_ioeventfds == (size_t)nrev);
	for (int i = 0; i < nrev; i++) {
		const struct vmc__as_ioeventfd *e = &v->ioeventfds[i];

		CHECK(e->addr == rev[i].addr && e->size == rev[i].size);
		CHECK(e->match_data == rev[i].match);
		CHECK(!e->match_data || e->data == rev[i].data);
		CHECK(e->notifier == rev[i].n);
	}
	/* The listener's mirror equals the view. */
	qsort(s->lr, (size_t)s->nlr, sizeof(s->lr[0]), cmp_lrange);
	CHECK(s->nlr == nref);
	for (int i = 0; i < nref; i++)
		CHECK(s->lr[i].start == ref[i].start &&
		      s->lr[i].last == ref[i].last &&
		      s->lr[i].region == ref[i].region &&
		      s->lr[i].offset == ref[i].offset &&
		      s->lr[i].ro == ref[i].ro);
	qsort(s->le, (size_t)s->nle, sizeof(s->le[0]), cmp_lev);
	CHECK(s->nle == nrev);
	for (int i = 0; i < nrev; i++)
		CHECK(cmp_lev(&s->le[i], &rev[i]) == 0);
}

/* ---- operations ---- */

static int pick(struct state *s)
{
	return s->nr ? (int)(next(s) % (unsigned)s->nr) : 0;
}

static void op_create(struct state *s)
{
	struct mnode *m;
	unsigned kind = next(s) % K_NR;
	uint64_t size = next(s) % 160 + 1;
	int r = 0;

	if (s->nr == MAX_NODES)
		return;
	m = &s->n[s->nr];
	*m = (struct mnode){.kind = (int)kind,
			    .size = size,
			    .parent = -1,
			    .enabled = true,
			    .alias = -1};
	switch (kind) {
	case K_RAM:
		r = vmc_region_new_ram(s->mem, "ram", size, 0, &m->lib);
		if (r == 0)
			m->host = vmc_region_get_ptr(m->lib);
		break;
	case K_IO: {
		struct vmc_region_ops ops = {
			.struct_size = sizeof(ops),
			.read = io_read,
			.write = io_write,
			.endian = VMC_ENDIAN_LITTLE,
		};

		iodevs[s->nr] = (struct iodev){s->nr, &s->writes_seen};
		r = vmc_region_new_io(s->mem, "io", size, &ops, &iodevs[s->nr],
				      0, &m->lib);
		break;
	}
	case K_CONT:
		r = vmc_region_new_container(s->mem, "cont", size, &m->lib);
		break;
	case K_ALIAS:
		if (!s->nr)
			return;
		m->alias = pick(s);
		m->alias_off = next(s) % 64;
		r = vmc_region_new_alias(s->mem, "alias", s->n[m->alias].lib,
					 m->alias_off, size, &m->lib);
		break;
	}
	CHECK(r == 0);
	s->nr++;
}

static void op_add(struct state *s)
{
	int p = pick(s), c = pick(s), expect = 0, r;
	uint64_t off = next(s) % (AS_SIZE + 32);
	int prio = (int)(next(s) % 5) - 2;

	if (s->n[p].kind == K_ALIAS)
		expect = -EINVAL;
	else if (s->n[c].parent >= 0 || c == 0)
		expect = -EBUSY;
	else if (reaches(s, c, p))
		expect = -ELOOP;
	r = vmc_region_add_subregion(s->n[p].lib, off, s->n[c].lib, prio);
	CHECK(r == expect);
	if (r == 0) {
		s->n[c].parent = p;
		s->n[c].offset = off;
		s->n[c].prio = prio;
		s->n[c].seq = ++s->seq;
	}
}

static void op_remove(struct state *s)
{
	int c = pick(s), p = (next(s) & 1) ? s->n[c].parent : pick(s), r;

	if (p < 0)
		p = 0;
	r = vmc_region_remove_subregion(s->n[p].lib, s->n[c].lib);
	CHECK(r == (s->n[c].parent == p ? 0 : -ENOENT));
	if (r == 0)
		s->n[c].parent = -1;
}

static void op_move(struct state *s)
{
	int c = pick(s);
	uint64_t off = next(s) % (AS_SIZE + 32);
	int r = vmc_region_set_offset(s->n[c].lib, off);

	CHECK(r == (s->n[c].parent >= 0 ? 0 : -ENOENT));
	if (r == 0) {
		s->n[c].offset = off;
		s->n[c].seq = ++s->seq;
	}
}

static void op_flags(struct state *s)
{
	int c = pick(s);
	unsigned b = next(s);

	if (b & 1) {
		s->n[c].enabled = b & 2;
		CHECK(vmc_region_set_enabled(s->n[c].lib, b & 2) == 0);
	} else if (b & 4 && s->n[c].kind == K_ALIAS) {
		s->n[c].alias_off = b >> 3;
		CHECK(vmc_region_set_alias_offset(s->n[c].lib, b >> 3) == 0);
	} else {
		s->n[c].readonly = b & 2;
		CHECK(vmc_region_set_readonly(s->n[c].lib, b & 2) == 0);
	}
}

static void op_eventfd(struct state *s)
{
	int c = pick(s), r, expect = 0, found = -1;
	struct mnode *m = &s->n[c];
	static const unsigned sizes[] = {0, 1, 2, 4, 8};
	struct mev e = {
		.off = next(s) % 48,
		.size = sizes[next(s) % 5],
		.match = next(s) & 1,
		.notifier = (int)(next(s) % NR_NOTIFIERS),
	};
	bool add = next(s) & 1;

	e.data = e.match ? next(s) % 3 : 0;
	for (int k = 0; k < m->nev; k++)
		if (m->ev[k].off == e.off && m->ev[k].size == e.size &&
		    m->ev[k].match == e.match && m->ev[k].data == e.data &&
		    m->ev[k].notifier == e.notifier)
			found = k;
	if (add) {
		if (e.off + (e.size ? e.size : 1) > m->size ||
		    (e.match && !e.size))
			expect = -EINVAL;
		else if (found >= 0)
			expect = -EEXIST;
		else if (m->nev == 8)
			return;
		r = vmc_region_add_ioeventfd(m->lib, e.off, e.size, e.match,
					     e.data, s->notifiers[e.notifier]);
		CHECK(r == expect);
		if (r == 0)
			m->ev[m->nev++] = e;
	} else {
		r = vmc_region_remove_ioeventfd(m->lib, e.off, e.size, e.match,
						e.data,
						s->notifiers[e.notifier]);
		CHECK(r == (found >= 0 ? 0 : -ENOENT));
		if (r == 0)
			m->ev[found] = m->ev[--m->nev];
	}
}

static void op_read(struct state *s)
{
	uint64_t a = next(s) % (AS_SIZE + 16), len = next(s) % 17;
	uint8_t buf[32];

	CHECK(vmc_as_read(s->as, a, buf, len) == 0);
	for (uint64_t k = 0; k < len; k++) {
		struct hit h;
		uint8_t want = 0xff;

		if (a + k < AS_SIZE && resolve(s, 0, a + k, false, &h)) {
			if (s->n[h.node].kind == K_IO)
				want = (uint8_t)(h.off ^ (unsigned)h.node);
			else
				want = s->n[h.node].host[h.off];
		}
		CHECK(buf[k] == want);
	}
}

static void op_write(struct state *s)
{
	static const unsigned sizes[] = {1, 2, 4, 8, 3, 16};
	uint64_t a = next(s) % (AS_SIZE + 16);
	unsigned len = sizes[next(s) % 6];
	uint8_t buf[16], old[16];
	struct hit h[16];
	bool hit[16];
	int before = s->writes_seen, signalled = 0, want = 0;

	for (unsigned k = 0; k < len; k++)
		buf[k] = (uint8_t)next(s) % 3;
	for (unsigned k = 0; k < len; k++) {
		hit[k] = a + k < AS_SIZE && resolve(s, 0, a + k, false, &h[k]);
		if (hit[k] && s->n[h[k].node].kind == K_RAM)
			old[k] = s->n[h[k].node].host[h[k].off];
	}
	for (int i = 0; i < NR_NOTIFIERS; i++)
		vmc_notifier_test_and_clear(s->notifiers[i]);
	/*
	 * Which notifiers the write must signal: I/O stretches are split into
	 * accesses like the dispatch code does (a 1/2/4/8-byte stretch is one
	 * access, longer ones the widest aligned pieces), and each access
	 * signals the first visible ioeventfd it matches.  The view itself
	 * was checked against the reference already.
	 */
	{
		const struct vmc__flat_view *v = vmc__as_get_view(s->as);
		uint64_t x = a, end = a + len;

		while (x < end) {
			const struct vmc__flat_range *r =
				vmc__flat_view_lookup(v, x, NULL);
			uint64_t stop = end, y;

			if (r && r->last + 1 < stop)
				stop = r->last + 1;
			if (!r) {
				x++;
				continue;
			}
			for (y = x; y < stop;) {
				uint64_t rem = stop - y;
				unsigned p = 8;
				uint64_t val = 0;

				if (rem == 1 || rem == 2 || rem == 4 ||
				    rem == 8)
					p = (unsigned)rem;
				else
					while (p > 1 &&
					       ((y & (p - 1)) || p > rem))
						p /= 2;
				memcpy(&val, buf + (y - a), p);
				for (size_t i = 0; r->io && !r->readonly &&
						   i < v->nr_ioeventfds;
				     i++) {
					const struct vmc__as_ioeventfd *e =
						&v->ioeventfds[i];

					if (e->addr == y &&
					    (!e->size || (e->size == p &&
							  (!e->match_data ||
							   e->data == val)))) {
						for (int n = 0;
						     n < NR_NOTIFIERS; n++)
							if (s->notifiers[n] ==
							    e->notifier)
								want |= 1 << n;
						break;
					}
				}
				y += p;
			}
			x = stop;
		}
	}
	(void)before;
	CHECK(vmc_as_write(s->as, a, buf, len) == 0);
	for (int i = 0; i < NR_NOTIFIERS; i++)
		if (vmc_notifier_test_and_clear(s->notifiers[i]) == 1)
			signalled |= 1 << i;
	CHECK(signalled == want);
	for (unsigned k = 0; k < len; k++) {
		if (!hit[k] || s->n[h[k].node].kind != K_RAM)
			continue;
		CHECK(s->n[h[k].node].host[h[k].off] ==
		      (h[k].ro ? old[k] : buf[k]));
	}
}

int vmc_fuzz_memory(const uint8_t *data, size_t size)
{
	struct state *s = calloc(1, sizeof(*s));
	struct vmc_memory_listener *l;
	int steps = 0;

	CHECK(s);
	s->p = data;
	s->end = data + size;
	CHECK(vmc_memory_new(&s->mem) == 0);
	for (int i = 0; i < NR_NOTIFIERS; i++)
		CHECK(vmc_notifier_new(&s->notifiers[i]) == 0);
	s->n[0] = (struct mnode){.kind = K_CONT,
				 .size = AS_SIZE,
				 .parent = -1,
				 .enabled = true,
				 .alias = -1};
	CHECK(vmc_region_new_container(s->mem, "root", AS_SIZE, &s->n[0].lib) ==
	      0);
	s->nr = 1;
	CHECK(vmc_address_space_new(s->mem, s->n[0].lib, VMC_AS_MEMORY, "fuzz",
				    &s->as) == 0);
	CHECK(vmc_memory_listener_new(s->as, &l_ops, 0, s, &l) == 0);

	while (more(s) && steps++ < 4096) {
		unsigned op = next(s) % 16;

		s->phase = 0;
		switch (op) {
		case 0:
		case 1:
			op_create(s);
			break;
		case 2:
		case 3:
		case 4:
			op_add(s);
			break;
		case 5:
			op_remove(s);
			break;
		case 6:
			op_move(s);
			break;
		case 7:
			op_flags(s);
			break;
		case 8:
		case 9:
			op_eventfd(s);
			break;
		case 10:
			if (s->depth < 3) {
				CHECK(vmc_memory_begin(s->mem) == 0);
				s->depth++;
			}
			break;
		case 11:
			CHECK(vmc_memory_commit(s->mem) ==
			      (s->depth ? 0 : -EINVAL));
			if (s->depth)
				s->depth--;
			break;
		case 12:
		case 13:
			if (!s->depth)
				op_read(s);
			break;
		default:
			if (!s->depth)
				op_write(s);
			break;
		}
		if (!s->depth)
			check_view(s);
	}
	while (s->depth--)
		CHECK(vmc_memory_commit(s->mem) == 0);
	s->phase = 0;
	check_view(s);

	s->unregistering = true;
	vmc_memory_listener_free(l);
	CHECK(s->nlr == 0 && s->nle == 0);
	vmc_address_space_free(s->as);
	for (int i = 0; i < s->nr; i++)
		vmc_region_unref(s->n[i].lib);
	CHECK(vmc_memory_reclaim(s->mem) == 0);
	vmc_memory_free(s->mem);
	for (int i = 0; i < NR_NOTIFIERS; i++)
		vmc_notifier_free(s->notifiers[i]);
	free(s);
	return 0;
}
