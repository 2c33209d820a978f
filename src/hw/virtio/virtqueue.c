/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 §2.7), device side.
 *
 * The rings live in guest RAM and the guest writes them concurrently from
 * its vCPUs, so every field is read exactly once into a local before it is
 * checked and used: a value the guest changes between the check and the
 * use can never get past the check.  Ring fields are accessed with atomic
 * loads and stores, relaxed for ring entries and descriptors, and
 * sequentially consistent for the four fields that order the protocol:
 * - avail->idx is read (an acquire, so the ring entries and descriptors
 *   the driver wrote before it are read after it);
 * - used->idx is written (a release, so the used entries written before
 *   it are visible first);
 * - used->idx (or avail_event) is written and then used_event /
 *   avail->flags (or avail->idx) read: the driver writes its half and
 *   reads ours the same way with a full barrier between, so sequential
 *   consistency (a locked instruction on x86) makes sure one of the two
 *   sees the other's update and no notification is lost.
 * Atomic operations rather than fences, so that ThreadSanitizer
 * understands them.
 *
 * Buffers are mapped with vmc_as_map(), which succeeds only for ranges
 * that lie entirely in one RAM range: a buffer over MMIO, a hole or the
 * end of RAM is refused there.  All of this runs with the VM lock held.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libvmcore/libvmcore.h>
#include <libvmcore/vmc-virtio.h>

#include "virtio-internal.h"

/* Little-endian loads and stores of ring fields (hosts are little endian). */
static inline uint16_t ld16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static inline uint32_t ld32(const uint8_t *p)
{
	return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

static inline uint64_t ld64(const uint8_t *p)
{
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

static inline uint16_t ld16_sc(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_SEQ_CST);
}

static inline void st16_sc(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_SEQ_CST);
}

static inline void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

static bool has_feature(const struct vmc_virtq *vq, unsigned int bit)
{
	return (vmc__virtio_features(vq->dev) >> bit) & 1;
}

static void unmap(struct vmc_virtq *vq, uint8_t **p)
{
	if (*p)
		vmc_as_unmap(vmc__virtio_as(vq->dev), *p);
	*p = NULL;
}

void vmc__virtq_reset(struct vmc_virtq *vq)
{
	unmap(vq, &vq->desc);
	unmap(vq, &vq->avail);
	unmap(vq, &vq->used);
	vq->ready = false;
	vq->num = 0;
	vq->desc_addr = vq->avail_addr = vq->used_addr = 0;
	vq->pfn = 0;
	vq->align = 0;
	vq->last_avail = vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->inuse = 0;
	vq->generation++;
}

static int map_ring(struct vmc_virtq *vq, uint64_t addr, size_t len,
		    size_t align, bool write, uint8_t **ret, const char *what)
{
	void *p;
	int r;

	if (addr & (align - 1)) {
		vmc__virtio_fail(vq->dev,
				 "queue %u: %s at 0x%llx is not "
				 "%zu-byte aligned",
				 vq->index, what, (unsigned long long)addr,
				 align);
		return -EINVAL;
	}
	r = vmc_as_map(vmc__virtio_as(vq->dev), addr, len, write, &p);
	if (r < 0) {
		vmc__virtio_fail(vq->dev,
				 "queue %u: %s at 0x%llx (+%zu) is "
				 "not in guest RAM",
				 vq->index, what, (unsigned long long)addr,
				 len);
		return r;
	}
	/* Caller-supplied RAM could be misaligned in the host. */
	if ((uintptr_t)p & (align - 1)) {
		vmc_as_unmap(vmc__virtio_as(vq->dev), p);
		vmc__virtio_fail(vq->dev,
				 "queue %u: %s is misaligned in the "
				 "host",
				 vq->index, what);
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

/*
 * Map the rings the driver described.  Legacy devices derive the three
 * addresses from QueuePFN, the page size and QueueAlign (§4.2.4 and the
 * legacy layout of §2.7: the used ring starts at the next QueueAlign
 * boundary after the available ring, which always has room for
 * used_event).
 */
int vmc__virtq_enable(struct vmc_virtq *vq, bool legacy, uint32_t page_size)
{
	bool event_idx = has_feature(vq, VMC_VIRTIO_F_RING_EVENT_IDX);
	size_t num = vq->num;
	size_t avail_len, used_len;
	int r;

	if (!num || num & (num - 1)) {
		vmc__virtio_fail(vq->dev,
				 "queue %u: size %zu is not a power "
				 "of 2",
				 vq->index, num);
		return -EINVAL;
	}
	if (legacy) {
		uint64_t used;

		if (!page_size || !vq->align || (vq->align & (vq->align - 1))) {
			vmc__virtio_fail(vq->dev,
					 "queue %u: bad GuestPageSize "
					 "%u or QueueAlign %u",
					 vq->index, page_size, vq->align);
			return -EINVAL;
		}
		vq->desc_addr = (uint64_t)vq->pfn * page_size;
		vq->avail_addr = vq->desc_addr + 16 * num;
		used = vq->avail_addr + 6 + 2 * num;
		vq->used_addr =
			(used + vq->align - 1) & ~(uint64_t)(vq->align - 1);
		event_idx = true;
	}
	avail_len = 4 + 2 * num + (event_idx ? 2 : 0);
	used_len = 4 + 8 * num + (event_idx ? 2 : 0);
	r = map_ring(vq, vq->desc_addr, 16 * num, 16, false, &vq->desc,
		     "descriptor table");
	if (r == 0)
		r = map_ring(vq, vq->avail_addr, avail_len, 2, false,
			     &vq->avail, "available ring");
	if (r == 0)
		r = map_ring(vq, vq->used_addr, used_len, 4, true, &vq->used,
			     "used ring");
	if (r < 0) {
		unmap(vq, &vq->desc);
		unmap(vq, &vq->avail);
		unmap(vq, &vq->used);
		return r;
	}
	vq->last_avail = vq->used_idx = 0;
	vq->signalled_used_valid = false;
	vq->ready = true;
	return 0;
}

VMC_EXPORT unsigned int vmc_virtq_get_index(const struct vmc_virtq *vq)
{
	return vq ? vq->index : 0;
}

VMC_EXPORT bool vmc_virtq_is_ready(const struct vmc_virtq *vq)
{
	return vq && vq->ready && vmc__virtio_driver_ok(vq->dev) &&
	       !vmc__virtio_broken(vq->dev);
}

/* ------------------------------------------------------------------------
 * Popping a chain
 */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static void read_desc(const uint8_t *table, unsigned int i, struct desc *d)
{
	const uint8_t *p = table + 16 * (size_t)i;

	d->addr = ld64(p);
	d->len = ld32(p + 8);
	d->flags = ld16(p + 12);
	d->next = ld16(p + 14);
}

/*
 * A chain under construction: mapped buffers plus their guest ranges, in
 * the inline arrays until they overflow (most chains have a few buffers:
 * no allocation per request for them).
 */
#define CHAIN_INLINE 8

struct chain {
	struct vmc_virtio_buf *bufs;
	uint64_t *gpa;
	unsigned int n, cap, out_num;
	size_t out_len, in_len;
	struct vmc_virtio_buf inline_bufs[CHAIN_INLINE];
	uint64_t inline_gpa[CHAIN_INLINE];
};

static void chain_init(struct chain *c)
{
	c->bufs = c->inline_bufs;
	c->gpa = c->inline_gpa;
	c->n = c->out_num = 0;
	c->cap = CHAIN_INLINE;
	c->out_len = c->in_len = 0;
}

static void chain_free(struct chain *c)
{
	if (c->bufs != c->inline_bufs)
		free(c->bufs);
	if (c->gpa != c->inline_gpa)
		free(c->gpa);
}

/* Double the arrays; each leaves the inline storage on its own. */
static int chain_grow(struct chain *c)
{
	unsigned int cap = 2 * c->cap;
	struct vmc_virtio_buf *b;
	uint64_t *g;

	if (c->bufs == c->inline_bufs) {
		b = malloc(cap * sizeof(*b));
		if (b)
			memcpy(b, c->bufs, c->n * sizeof(*b));
	} else {
		b = realloc(c->bufs, cap * sizeof(*b));
	}
	if (!b)
		return -ENOMEM;
	c->bufs = b;
	if (c->gpa == c->inline_gpa) {
		g = malloc(cap * sizeof(*g));
		if (g)
			memcpy(g, c->gpa, c->n * sizeof(*g));
	} else {
		g = realloc(c->gpa, cap * sizeof(*g));
	}
	if (!g)
		return -ENOMEM;
	c->gpa = g;
	c->cap = cap;
	return 0;
}

static void chain_unmap(struct vmc_virtq *vq, struct chain *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		vmc_as_unmap(vmc__virtio_as(vq->dev), c->bufs[i].base);
	c->n = 0;
}

static int chain_add(struct vmc_virtq *vq, struct chain *c,
		     const struct desc *d)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;
	int r;

	if (d->len == 0) {
		vmc__virtio_fail(vq->dev, "queue %u: zero-length descriptor",
				 vq->index);
		return -EINVAL;
	}
	if (d->addr + (d->len - 1) < d->addr) {
		vmc__virtio_fail(vq->dev,
				 "queue %u: descriptor at 0x%llx "
				 "+%u wraps",
				 vq->index, (unsigned long long)d->addr,
				 d->len);
		return -EINVAL;
	}
	if (!write && c->n > c->out_num) {
		vmc__virtio_fail(vq->dev,
				 "queue %u: device-readable buffer "
				 "after a writable one",
				 vq->index);
		return -EINVAL;
	}
	if ((uint64_t)c->out_len + c->in_len + d->len > UINT32_MAX) {
		vmc__virtio_fail(vq->dev, "queue %u: chain longer than 4 GiB",
				 vq->index);
		return -EINVAL;
	}
	if (c->n == c->cap && chain_grow(c) < 0)
		return -ENOMEM;
	r = vmc_as_map(vmc__virtio_as(vq->dev), d->addr, d->len, write, &p);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		vmc__virtio_fail(vq->dev,
				 "queue %u: buffer 0x%llx +%u is not "
				 "%sguest RAM",
				 vq->index, (unsigned long long)d->addr, d->len,
				 write ? "writable " : "");
		return -EFAULT;
	}
	c->bufs[c->n] = (struct vmc_virtio_buf){.base = p, .len = d->len};
	c->gpa[c->n] = d->addr;
	c->n++;
	if (write)
		c->in_len += d->len;
	else {
		c->out_num++;
		c->out_len += d->len;
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Two buffers of one chain must not share a byte. */
static int chain_check_overlap(struct vmc_virtq *vq, const struct chain *c)
{
	uint64_t(*r)[2];
	int err = 0;

	if (c->n < 2)
		return 0;
	r = malloc(c->n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->n; i++) {
		r[i][0] = c->gpa[i];
		r[i][1] = c->gpa[i] + (c->bufs[i].len - 1);
	}
	qsort(r, c->n, sizeof(*r), cmp_range);
	for (unsigned int i = 1; i < c->n; i++) {
		if (r[i][0] <= r[i - 1][1]) {
			vmc__virtio_fail(vq->dev,
					 "queue %u: buffers at 0x%llx "
					 "and 0x%llx overlap",
					 vq->index,
					 (unsigned long long)r[i - 1][0],
					 (unsigned long long)r[i][0]);
			err = -EINVAL;
			break;
		}
	}
	free(r);
	return err;
}

/*
 * Walk the chain at @head.  The main table allows at most num
 * descriptors (a longer walk is a loop); an indirect descriptor (only in
 * the main table, without NEXT) switches to its table, which allows at
 * most as many as it holds.
 */
static int walk_chain(struct vmc_virtq *vq, unsigned int head, struct chain *c)
{
	struct vmc_address_space *as = vmc__virtio_as(vq->dev);
	const uint8_t *table = vq->desc;
	void *indirect = NULL;
	unsigned int size = vq->num, i = head, seen = 0;
	struct desc d;
	int r = 0;

	for (;;) {
		if (++seen > size) {
			vmc__virtio_fail(vq->dev,
					 "queue %u: descriptor chain "
					 "at %u loops or is longer than its "
					 "table",
					 vq->index, head);
			r = -EINVAL;
			break;
		}
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!has_feature(vq, VMC_VIRTIO_F_RING_INDIRECT_DESC) ||
			    indirect || (d.flags & VIRTQ_DESC_F_NEXT) ||
			    d.len == 0 || d.len % 16 ||
			    d.len / 16 > VIRTQ_MAX_INDIRECT) {
				vmc__virtio_fail(vq->dev,
						 "queue %u: bad "
						 "indirect descriptor (flags "
						 "0x%x, len %u)",
						 vq->index, d.flags, d.len);
				r = -EINVAL;
				break;
			}
			r = vmc_as_map(as, d.addr, d.len, false, &indirect);
			if (r == -ENOMEM)
				break;
			if (r < 0 || ((uintptr_t)indirect & 7)) {
				if (r == 0)
					vmc_as_unmap(as, indirect);
				indirect = NULL;
				vmc__virtio_fail(vq->dev,
						 "queue %u: indirect "
						 "table 0x%llx +%u is not in "
						 "guest RAM",
						 vq->index,
						 (unsigned long long)d.addr,
						 d.len);
				r = -EFAULT;
				break;
			}
			table = indirect;
			size = d.len / 16;
			i = 0;
			seen = 0;
			continue;
		}
		r = chain_add(vq, c, &d);
		if (r < 0)
			break;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= size) {
			vmc__virtio_fail(vq->dev,
					 "queue %u: next index %u out "
					 "of range (%u)",
					 vq->index, d.next, size);
			r = -EINVAL;
			break;
		}
		i = d.next;
	}
	if (indirect)
		vmc_as_unmap(as, indirect);
	if (r == 0)
		r = chain_check_overlap(vq, c);
	return r;
}

static void set_avail_event(struct vmc_virtq *vq, uint16_t v)
{
	/*
	 * Before the next read of avail->idx: the driver writes avail->idx,
	 * then reads avail_event, so either it sees our update and
	 * notifies, or we see its buffer.
	 */
	st16_sc(vq->used + 4 + 8 * (size_t)vq->num, v);
}

/*
 * An element with what the device model does not see: the queue
 * generation it was popped in, so that an element that outlived a reset
 * is never published into the rings the driver set up afterwards.
 */
struct elem_priv {
	uint32_t generation;
	struct vmc_virtq_elem e;
};

static struct elem_priv *priv(struct vmc_virtq_elem *e)
{
	return (struct elem_priv *)((char *)e - offsetof(struct elem_priv, e));
}

VMC_EXPORT int vmc_virtq_pop(struct vmc_virtq *vq, struct vmc_virtq_elem **ret)
{
	struct elem_priv *p = NULL;
	struct chain c;
	struct vmc_virtq_elem *e;
	uint16_t avail_idx, head;
	int r;

	VMC_CHECK_RETURN(vq && ret, -EINVAL);
	if (vmc__virtio_broken(vq->dev))
		return -EIO;
	if (!vq->ready || !vmc__virtio_driver_ok(vq->dev))
		return 0;
	/* Acquire: the entries were written before the index. */
	avail_idx = ld16_sc(vq->avail + 2);
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num) {
		vmc__virtio_fail(vq->dev,
				 "queue %u: available index %u moved "
				 "more than %u past %u",
				 vq->index, avail_idx, vq->num, vq->last_avail);
		return -EIO;
	}
	if (avail_idx == vq->last_avail)
		return 0;
	chain_init(&c);
	head = ld16(vq->avail + 4 + 2 * (size_t)(vq->last_avail % vq->num));
	if (head >= vq->num) {
		vmc__virtio_fail(vq->dev, "queue %u: head %u out of range (%u)",
				 vq->index, head, vq->num);
		return -EIO;
	}
	r = walk_chain(vq, head, &c);
	if (r == 0) {
		p = malloc(sizeof(*p) + c.n * sizeof(struct vmc_virtio_buf));
		if (!p)
			r = -ENOMEM;
	}
	if (r < 0) {
		chain_unmap(vq, &c);
		chain_free(&c);
		return r == -ENOMEM ? r : -EIO;
	}
	p->generation = vq->generation;
	e = &p->e;
	*e = (struct vmc_virtq_elem){
		.head = head,
		.out_num = c.out_num,
		.in_num = c.n - c.out_num,
		.out_len = c.out_len,
		.in_len = c.in_len,
	};
	e->out = (struct vmc_virtio_buf *)(p + 1);
	e->in = e->out + c.out_num;
	if (c.n)
		memcpy(e->out, c.bufs, c.n * sizeof(*c.bufs));
	chain_free(&c);
	vq->last_avail++;
	vq->inuse++;
	if (has_feature(vq, VMC_VIRTIO_F_RING_EVENT_IDX))
		set_avail_event(vq, vq->last_avail);
	*ret = e;
	return 1;
}

VMC_EXPORT void vmc_virtq_elem_free(struct vmc_virtq *vq,
				    struct vmc_virtq_elem *elem)
{
	unsigned int n;

	if (!elem)
		return;
	n = elem->out_num + elem->in_num;
	for (unsigned int i = 0; vq && i < n; i++)
		vmc_as_unmap(vmc__virtio_as(vq->dev), elem->out[i].base);
	if (vq && vq->inuse && priv(elem)->generation == vq->generation)
		vq->inuse--;
	free(priv(elem));
}

VMC_EXPORT int vmc_virtq_push(struct vmc_virtq *vq, struct vmc_virtq_elem *elem,
			      uint32_t len)
{
	uint8_t *ent;

	VMC_CHECK_RETURN(vq && elem, -EINVAL);
	if (!vq->ready || vmc__virtio_broken(vq->dev) ||
	    priv(elem)->generation != vq->generation) {
		vmc_virtq_elem_free(vq, elem);
		return -EIO;
	}
	if (len > elem->in_len)
		len = (uint32_t)elem->in_len;
	ent = vq->used + 4 + 8 * (size_t)(vq->used_idx % vq->num);
	st32(ent, elem->head);
	st32(ent + 4, len);
	vmc_virtq_elem_free(vq, elem);
	/* Release: the entry before the index that publishes it. */
	vq->used_idx++;
	st16_sc(vq->used + 2, vq->used_idx);
	return 0;
}

/* virtio 1.2 §2.7.10: did new_idx pass event since old? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

VMC_EXPORT int vmc_virtq_notify(struct vmc_virtq *vq)
{
	bool notify;

	VMC_CHECK_RETURN(vq, -EINVAL);
	if (!vq->ready || vmc__virtio_broken(vq->dev))
		return 0;
	/* After our used->idx store (sequentially consistent) in push. */
	if (has_feature(vq, VMC_VIRTIO_F_RING_EVENT_IDX)) {
		uint16_t old = vq->signalled_used;
		bool valid = vq->signalled_used_valid;
		uint16_t event = ld16_sc(vq->avail + 4 + 2 * (size_t)vq->num);

		if (valid && old == vq->used_idx)
			return 0;
		vq->signalled_used = vq->used_idx;
		vq->signalled_used_valid = true;
		notify = !valid || need_event(event, vq->used_idx, old);
	} else {
		notify = !(ld16_sc(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	if (!notify)
		return 0;
	vmc__virtio_raise(vq->dev, VIRTIO_ISR_VRING);
	return 1;
}

VMC_EXPORT size_t vmc_virtq_elem_to_in(struct vmc_virtq_elem *elem,
				       size_t offset, const void *buf,
				       size_t len)
{
	const uint8_t *src = buf;
	size_t done = 0;

	if (!elem || (!buf && len))
		return 0;
	for (unsigned int i = 0; i < elem->in_num && done < len; i++) {
		size_t n;

		if (offset >= elem->in[i].len) {
			offset -= elem->in[i].len;
			continue;
		}
		n = elem->in[i].len - offset;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)elem->in[i].base + offset, src + done, n);
		done += n;
		offset = 0;
	}
	return done;
}

VMC_EXPORT size_t vmc_virtq_elem_from_out(const struct vmc_virtq_elem *elem,
					  size_t offset, void *buf, size_t len)
{
	uint8_t *dst = buf;
	size_t done = 0;

	if (!elem || (!buf && len))
		return 0;
	for (unsigned int i = 0; i < elem->out_num && done < len; i++) {
		size_t n;

		if (offset >= elem->out[i].len) {
			offset -= elem->out[i].len;
			continue;
		}
		n = elem->out[i].len - offset;
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, (const uint8_t *)elem->out[i].base + offset,
		       n);
		done += n;
		offset = 0;
	}
	return done;
}
