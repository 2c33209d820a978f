/* SPDX-License-Identifier: MIT */
/*
 * Snapshot files: vmc_vm_save_fd() and vmc_vm_load_fd().
 *
 * Layout, little-endian throughout:
 *
 *   file header   magic "\x89VMCSNP\n", u32 format version (1), u32 0
 *   sections      each: a 96-byte header { char name[64] (NUL-padded),
 *                 u32 instance, u32 version, u64 length, u32 flags (0),
 *                 u32 0, u32 header CRC-32C (of the 88 bytes before it),
 *                 u32 0 }, then length bytes of payload, then the payload's
 *                 u32 CRC-32C (a trailer, so RAM streams in one pass)
 *
 * in this order: "vmc.header" (architecture, accelerator, vCPU and RAM
 * region counts, vCPU blob size), "vmc.layout" (per RAM region: size,
 * guest address, name), "vmc.ram" instance i per region (runs of
 * populated pages: u64 offset, u64 length, bytes), "vmc.vcpu" instance i
 * per vCPU (u32 halted, u32 0, the accelerator's blob), "vmc.clock" (i64
 * virtual-clock ns), the device sections under their own names, and
 * "vmc.end" (empty).
 *
 * A load reads the whole input first and validates it all (checksums,
 * lengths, every bound, the layout against the VM's, every device
 * section's check) before it changes anything.  vCPU blobs can only be
 * judged by the accelerator's vcpu_load, so they are loaded first, with
 * the current state saved aside and put back if one refuses; RAM and the
 * devices follow, and neither can fail after validation.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot-internal.h"

#define FILE_MAGIC "\x89VMCSNP\n"
#define FILE_VERSION 1u
#define SEC_HDR 96u
#define SEC_NAME 64u
#define PAGE 4096u

/* ------------------------------------------------------------------------
 * CRC-32C (Castagnoli)
 */

static uint32_t crc_table[256];

static void crc_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc_soft(uint32_t crc, const uint8_t *p, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, crc_init_table);
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t c = crc;

	while (n >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	crc = (uint32_t)c;
	while (n--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

/* Running CRC: start with 0xffffffff, finish with ~. */
static uint32_t crc_update(uint32_t crc, const void *buf, size_t n)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return crc_hw(crc, buf, n);
#endif
	return crc_soft(crc, buf, n);
}

static uint32_t crc32c(const void *buf, size_t n)
{
	return ~crc_update(0xffffffffu, buf, n);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ------------------------------------------------------------------------
 * Writing
 */

struct writer {
	int fd;
	int err;
	uint8_t buf[1 << 16];
	size_t len;
	uint32_t crc; /* of the current section's payload */
};

static void w_flush(struct writer *w)
{
	size_t off = 0;

	while (!w->err && off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->err = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	w->len = 0;
}

static void w_raw(struct writer *w, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n && !w->err) {
		size_t k = sizeof(w->buf) - w->len;

		if (k > n)
			k = n;
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
		if (w->len == sizeof(w->buf))
			w_flush(w);
	}
}

/* Payload bytes: written and summed. */
static void w_data(struct writer *w, const void *p, size_t n)
{
	w->crc = crc_update(w->crc, p, n);
	w_raw(w, p, n);
}

static void w_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	w_data(w, b, 4);
}

static void w_u64(struct writer *w, uint64_t v)
{
	uint8_t b[8];

	put64(b, v);
	w_data(w, b, 8);
}

static void w_begin(struct writer *w, const char *name, uint32_t instance,
		    uint32_t version, uint64_t length)
{
	uint8_t h[SEC_HDR] = {0};

	memcpy(h, name, strnlen(name, SEC_NAME - 1));
	put32(h + 64, instance);
	put32(h + 68, version);
	put64(h + 72, length);
	put32(h + 88, crc32c(h, 88));
	w_raw(w, h, sizeof(h));
	w->crc = 0xffffffffu;
}

static void w_end(struct writer *w)
{
	uint8_t b[4];

	put32(b, ~w->crc);
	w_raw(w, b, 4);
}

/* The guest address of @r's start (offsets up its containers). */
static uint64_t region_addr(const struct vmc_region *r)
{
	uint64_t a = 0;

	for (; r; r = r->parent)
		a += r->offset;
	return a;
}

static bool page_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zero[PAGE];

	return memcmp(p, zero, n) == 0;
}

/*
 * The runs of @r's populated, non-zero pages: calls @fn(off, len) for
 * each.  A memfd's holes are skipped without being read.
 */
static void ram_runs(struct vmc_region *r,
		     void (*fn)(void *ctx, uint64_t off, uint64_t len),
		     void *ctx)
{
	uint64_t size = (uint64_t)r->size, off = 0;

	while (off < size) {
		uint64_t end = size, run = UINT64_MAX;

		if (r->fd >= 0) {
			off_t d = lseek(r->fd, (off_t)off, SEEK_DATA), h;

			if (d < 0 || (uint64_t)d >= size)
				return;
			h = lseek(r->fd, d, SEEK_HOLE);
			off = (uint64_t)d & ~(uint64_t)(PAGE - 1);
			end = h < 0 || (uint64_t)h > size ? size : (uint64_t)h;
		}
		for (; off < end; off += PAGE) {
			size_t n =
				size - off < PAGE ? (size_t)(size - off) : PAGE;
			bool z = page_zero(r->host + off, n);

			if (!z && run == UINT64_MAX)
				run = off;
			if (z && run != UINT64_MAX) {
				fn(ctx, run, off - run);
				run = UINT64_MAX;
			}
		}
		if (off > size)
			off = size;
		if (run != UINT64_MAX)
			fn(ctx, run, off - run);
	}
}

struct run_ctx {
	struct writer *w;
	struct vmc_region *r;
	uint64_t bytes;
};

static void count_run(void *ctx, uint64_t off, uint64_t len)
{
	struct run_ctx *c = ctx;

	(void)off;
	c->bytes += 16 + len;
}

static void write_run(void *ctx, uint64_t off, uint64_t len)
{
	struct run_ctx *c = ctx;

	w_u64(c->w, off);
	w_u64(c->w, len);
	w_data(c->w, c->r->host + off, (size_t)len);
}

static int save_locked(struct vmc_vm *vm, struct writer *w)
{
	const struct vmc_accel_ops *ops = vm->ops;
	struct vmc__ram_list l = {0};
	struct vmc__devstate ds = {0};
	uint8_t *blob = NULL;
	size_t blob_size = 0;
	uint64_t layout = 0;
	int r;

	if (!ops->vcpu_save || !ops->vcpu_load)
		return -EOPNOTSUPP;
	r = vmc__snapshot_check_stopped(vm);
	if (r == 0)
		r = vmc__ram_collect(vm, &l);
	if (r < 0)
		goto out;
	if (vm->nr_vcpus) {
		r = ops->vcpu_save(&vm->vcpus[0], NULL, 0);
		if (r <= 0) {
			r = r < 0 ? r : -EINVAL;
			goto out;
		}
		blob_size = (size_t)r;
		blob = malloc(blob_size);
		if (!blob) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = vmc__devstate_save(vm, &ds);
	if (r < 0)
		goto out;

	w_raw(w, FILE_MAGIC, 8);
	{
		uint8_t b[8];

		put32(b, FILE_VERSION);
		put32(b + 4, 0);
		w_raw(w, b, 8);
	}

	w_begin(w, "vmc.header", 0, 1, 40);
	w_u32(w, (uint32_t)vm->arch);
	w_u32(w, (uint32_t)ops->type);
	w_u32(w, vm->nr_vcpus);
	w_u32(w, (uint32_t)l.n);
	w_u32(w, PAGE);
	w_u32(w, (uint32_t)blob_size);
	{
		char name[16] = {0};

		strncpy(name, ops->name, sizeof(name) - 1);
		w_data(w, name, sizeof(name));
	}
	w_end(w);

	for (size_t i = 0; i < l.n; i++)
		layout += 20 + strlen(l.r[i]->name ? l.r[i]->name : "");
	w_begin(w, "vmc.layout", 0, 1, layout);
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.r[i]->name ? l.r[i]->name : "";

		w_u64(w, (uint64_t)l.r[i]->size);
		w_u64(w, region_addr(l.r[i]));
		w_u32(w, (uint32_t)strlen(name));
		w_data(w, name, strlen(name));
	}
	w_end(w);

	for (size_t i = 0; i < l.n && !w->err; i++) {
		struct run_ctx c = {.w = w, .r = l.r[i]};

		ram_runs(l.r[i], count_run, &c);
		w_begin(w, "vmc.ram", (uint32_t)i, 1, c.bytes);
		ram_runs(l.r[i], write_run, &c);
		w_end(w);
	}

	for (unsigned int i = 0; i < vm->nr_vcpus && !w->err; i++) {
		r = ops->vcpu_save(&vm->vcpus[i], blob, blob_size);
		if (r < 0)
			goto out;
		w_begin(w, "vmc.vcpu", i, 1, 8 + blob_size);
		w_u32(w, vm->vcpus[i].halted);
		w_u32(w, 0);
		w_data(w, blob, blob_size);
		w_end(w);
	}

	w_begin(w, "vmc.clock", 0, 1, 8);
	w_u64(w, (uint64_t)ds.clock_ns);
	w_end(w);

	for (size_t i = 0; i < ds.nr; i++) {
		const struct vmc__saved_section *s = &ds.sec[i];

		w_begin(w, s->name, s->instance, s->version, s->size);
		w_data(w, s->data, s->size);
		w_end(w);
	}
	w_begin(w, "vmc.end", 0, 1, 0);
	w_end(w);
	w_flush(w);
	r = w->err;
out:
	vmc__devstate_free(&ds);
	free(blob);
	free(l.r);
	return r;
}

VMC_EXPORT int vmc_vm_save_fd(struct vmc_vm *vm, int fd)
{
	struct writer *w;
	bool taken;
	int r;

	vmc_assert_return(vm && fd >= 0, -EINVAL);
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->err = 0;
	w->len = 0;
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	r = vmc__snapshot_begin(vm);
	if (r == 0) {
		r = save_locked(vm, w);
		vmc__sections_resume(vm);
	}
	vmc__lock_release_if(&vm->lock, taken);
	free(w);
	return r;
}

/* ------------------------------------------------------------------------
 * Reading
 */

struct parsed {
	uint32_t arch, accel, nr_vcpus, nr_ram, blob_size;
	bool have_header, have_layout, have_clock;
	const uint8_t *layout;
	uint64_t layout_len;
	const uint8_t **ram; /* nr_ram payloads */
	uint64_t *ram_len;
	const uint8_t **vcpu; /* nr_vcpus payloads */
	struct vmc__devstate ds;
	size_t ds_cap;
};

static void parsed_free(struct parsed *p)
{
	free(p->ram);
	free(p->ram_len);
	free(p->vcpu);
	vmc__devstate_free(&p->ds);
}

static int bad(const char *why)
{
	vmc__log(VMC_LOG_WARNING, "snapshot file: %s", why);
	return -EBADMSG;
}

static int mismatch(const char *why)
{
	vmc__log(VMC_LOG_WARNING, "snapshot file: %s", why);
	return -EINVAL;
}

static int parse_header(struct vmc_vm *vm, struct parsed *p, const uint8_t *d,
			uint64_t len, uint32_t version)
{
	if (p->have_header || version != 1 || len != 40)
		return bad("bad header section");
	p->arch = get32(d);
	p->accel = get32(d + 4);
	p->nr_vcpus = get32(d + 8);
	p->nr_ram = get32(d + 12);
	p->blob_size = get32(d + 20);
	if (get32(d + 16) != PAGE)
		return bad("unknown page size");
	if (p->arch != (uint32_t)vm->arch ||
	    p->accel != (uint32_t)vm->ops->type)
		return mismatch("saved on another architecture or accelerator");
	if (p->nr_vcpus != vm->nr_vcpus)
		return mismatch("vCPU count differs");
	if (p->nr_ram > 4096 || p->nr_vcpus > 4096)
		return bad("implausible counts");
	p->ram = calloc(p->nr_ram + 1, sizeof(*p->ram));
	p->ram_len = calloc(p->nr_ram + 1, sizeof(*p->ram_len));
	p->vcpu = calloc(p->nr_vcpus + 1, sizeof(*p->vcpu));
	if (!p->ram || !p->ram_len || !p->vcpu)
		return -ENOMEM;
	p->have_header = true;
	return 0;
}

static int add_device(struct parsed *p, const char *name, uint32_t instance,
		      uint32_t version, const uint8_t *d, uint64_t len)
{
	struct vmc__saved_section *s;

	for (size_t i = 0; i < p->ds.nr; i++)
		if (p->ds.sec[i].instance == instance &&
		    strcmp(p->ds.sec[i].name, name) == 0)
			return bad("duplicate section");
	if (p->ds.nr == p->ds_cap) {
		size_t cap = p->ds_cap ? 2 * p->ds_cap : 16;

		if (cap > 65536)
			return bad("too many sections");
		s = realloc(p->ds.sec, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		p->ds.sec = s;
		p->ds_cap = cap;
	}
	s = &p->ds.sec[p->ds.nr++];
	memset(s, 0, sizeof(*s));
	memcpy(s->name, name, strlen(name) + 1);
	s->instance = instance;
	s->version = version;
	s->size = (size_t)len;
	s->data = (uint8_t *)(uintptr_t)d;
	return 0;
}

/* Walk and verify every section of @buf. */
static int parse(struct vmc_vm *vm, struct parsed *p, const uint8_t *buf,
		 size_t size)
{
	size_t off = 16;
	bool end = false;
	int r;

	p->ds.borrowed = true;
	if (size < 16 || memcmp(buf, FILE_MAGIC, 8) != 0)
		return bad("not a libvmcore snapshot");
	if (get32(buf + 8) != FILE_VERSION || get32(buf + 12) != 0)
		return bad("unknown format version");
	while (!end) {
		const uint8_t *h = buf + off, *d;
		char name[SEC_NAME];
		uint32_t instance, version;
		uint64_t len;

		if (size - off < SEC_HDR)
			return bad("truncated section header");
		if (get32(h + 88) != crc32c(h, 88))
			return bad("section header checksum");
		memcpy(name, h, SEC_NAME);
		if (name[SEC_NAME - 1] || !name[0] || get32(h + 80) ||
		    get32(h + 84) || get32(h + 92))
			return bad("malformed section header");
		for (size_t i = strlen(name); i < SEC_NAME; i++)
			if (name[i])
				return bad("malformed section name");
		instance = get32(h + 64);
		version = get32(h + 68);
		len = get64(h + 72);
		off += SEC_HDR;
		if (len > size - off || size - off - len < 4)
			return bad("truncated section");
		d = buf + off;
		if (get32(d + len) != crc32c(d, (size_t)len))
			return bad("section checksum");
		off += (size_t)len + 4;

		if (!p->have_header && strcmp(name, "vmc.header") != 0)
			return bad("first section is not the header");
		if (strcmp(name, "vmc.header") == 0) {
			r = parse_header(vm, p, d, len, version);
		} else if (strcmp(name, "vmc.layout") == 0) {
			r = p->have_layout || version != 1
				    ? bad("bad layout section")
				    : 0;
			p->have_layout = true;
			p->layout = d;
			p->layout_len = len;
		} else if (strcmp(name, "vmc.ram") == 0) {
			r = version != 1 || instance >= p->nr_ram ||
					    p->ram[instance]
				    ? bad("bad RAM section")
				    : 0;
			if (r == 0) {
				p->ram[instance] = d;
				p->ram_len[instance] = len;
			}
		} else if (strcmp(name, "vmc.vcpu") == 0) {
			r = version != 1 || instance >= p->nr_vcpus ||
					    p->vcpu[instance] ||
					    len != 8 + (uint64_t)p->blob_size
				    ? bad("bad vCPU section")
				    : 0;
			if (r == 0)
				p->vcpu[instance] = d;
		} else if (strcmp(name, "vmc.clock") == 0) {
			r = p->have_clock || version != 1 || len != 8
				    ? bad("bad clock section")
				    : 0;
			p->have_clock = true;
			p->ds.clock_ns = (int64_t)get64(d);
		} else if (strcmp(name, "vmc.end") == 0) {
			r = len ? bad("bad end section") : 0;
			end = true;
		} else if (strncmp(name, "vmc.", 4) == 0) {
			r = bad("unknown library section");
		} else {
			r = add_device(p, name, instance, version, d, len);
		}
		if (r < 0)
			return r;
	}
	if (off != size)
		return bad("data after the end section");
	if (!p->have_layout || !p->have_clock)
		return bad("missing sections");
	for (uint32_t i = 0; i < p->nr_ram; i++)
		if (!p->ram[i])
			return bad("missing RAM section");
	for (uint32_t i = 0; i < p->nr_vcpus; i++)
		if (!p->vcpu[i])
			return bad("missing vCPU section");
	return 0;
}

/* The saved layout against the VM's RAM regions. */
static int check_layout(struct parsed *p, struct vmc__ram_list *l)
{
	const uint8_t *d = p->layout;
	uint64_t left = p->layout_len;

	if (l->n != p->nr_ram)
		return mismatch("RAM region count differs");
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->r[i]->name ? l->r[i]->name : "";
		uint32_t nlen;

		if (left < 20)
			return bad("truncated layout");
		nlen = get32(d + 16);
		if (left - 20 < nlen)
			return bad("truncated layout");
		if (get64(d) != (uint64_t)l->r[i]->size ||
		    get64(d + 8) != region_addr(l->r[i]) ||
		    nlen != strlen(name) || memcmp(d + 20, name, nlen) != 0)
			return mismatch("RAM layout differs");
		d += 20 + nlen;
		left -= 20 + nlen;
	}
	if (left)
		return bad("trailing layout bytes");
	/* Every run inside its region. */
	for (size_t i = 0; i < l->n; i++) {
		const uint8_t *q = p->ram[i];
		uint64_t n = p->ram_len[i], size = (uint64_t)l->r[i]->size;

		while (n) {
			uint64_t o, len;

			if (n < 16)
				return bad("truncated RAM run");
			o = get64(q);
			len = get64(q + 8);
			if (o > size || len > size - o || len > n - 16)
				return bad("RAM run out of bounds");
			q += 16 + len;
			n -= 16 + len;
		}
	}
	return 0;
}

static void ram_apply(struct vmc_region *r, const uint8_t *q, uint64_t n)
{
	uint64_t size = (uint64_t)r->size;

	/* Zero: a memfd drops its pages, caller memory is cleared. */
	if (r->fd < 0 ||
	    fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)size) < 0)
		memset(r->host, 0, (size_t)size);
	while (n) {
		uint64_t o = get64(q), len = get64(q + 8);

		memcpy(r->host + o, q + 16, (size_t)len);
		q += 16 + len;
		n -= 16 + len;
	}
}

/* vCPUs first, undone if one refuses (see the top). */
static int load_vcpus(struct vmc_vm *vm, struct parsed *p)
{
	const uint8_t **blobs;
	int r;

	if (!vm->nr_vcpus)
		return 0;
	blobs = calloc(vm->nr_vcpus, sizeof(*blobs));
	if (!blobs)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		blobs[i] = p->vcpu[i] + 8;
	r = vmc__vcpus_load(vm, blobs, p->blob_size);
	free(blobs);
	if (r == -EINVAL)
		return mismatch("a vCPU refused its state");
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].halted = get32(p->vcpu[i]) != 0;
	return 0;
}

static int load_locked(struct vmc_vm *vm, const uint8_t *buf, size_t size)
{
	struct parsed p = {0};
	struct vmc__ram_list l = {0};
	int r;

	if (!vm->ops->vcpu_save || !vm->ops->vcpu_load)
		return -EOPNOTSUPP;
	r = vmc__snapshot_check_stopped(vm);
	if (r == 0)
		r = parse(vm, &p, buf, size);
	if (r == 0)
		r = vmc__ram_collect(vm, &l);
	if (r == 0)
		r = check_layout(&p, &l);
	if (r == 0)
		r = vmc__devstate_check(vm, &p.ds);
	if (r == 0)
		r = load_vcpus(vm, &p);
	if (r < 0)
		goto out;
	/* Nothing below fails. */
	vmc__snapshot_untrack(vm);
	for (size_t i = 0; i < l.n; i++)
		ram_apply(l.r[i], p.ram[i], p.ram_len[i]);
	r = vmc__devstate_load(vm, &p.ds);
out:
	free(l.r);
	parsed_free(&p);
	return r;
}

VMC_EXPORT int vmc_vm_load_buffer(struct vmc_vm *vm, const void *buf,
				  size_t size)
{
	bool taken;
	int r;

	vmc_assert_return(vm && (buf || !size), -EINVAL);
	taken = vmc__lock_acquire_if_needed(&vm->lock);
	r = vmc__snapshot_begin(vm);
	if (r == 0) {
		r = load_locked(vm, buf ? buf : "", size);
		vmc__sections_resume(vm);
	}
	vmc__lock_release_if(&vm->lock, taken);
	return r;
}

VMC_EXPORT int vmc_vm_load_fd(struct vmc_vm *vm, int fd)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	vmc_assert_return(vm && fd >= 0, -EINVAL);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? 2 * cap : 1 << 20;
			uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = vmc_vm_load_buffer(vm, buf, len);
	free(buf);
	return r;
}
