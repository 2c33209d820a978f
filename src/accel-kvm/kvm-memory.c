/* SPDX-License-Identifier: MIT */
/*
 * KVM and the memory API: memslots from the flat view, ioeventfds,
 * dirty-page logging, and the dispatch of PIO and MMIO exits.
 *
 * The listener only queues region_add/region_del; commit applies them.
 * If a removed range overlaps an added one (a region moved, resized or
 * replaced in place), the vCPUs are kept out of KVM_RUN while the old
 * slots go and the new ones come, so that no vCPU can fault on the
 * transient hole (see the gate in kvm-internal.h).
 *
 * RAM and ROM ranges become slots (ROM and read-only RAM as read-only
 * slots, where the host supports them; otherwise they stay unmapped and
 * every access exits and is dispatched).  Slots cover whole pages; the
 * sub-page head or tail of a range stays unmapped and is dispatched.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libvmcore/vmc-loop.h>
#include <libvmcore/vmc-memory.h>

#include "kvm-internal.h"

#define PAGE 4096u

static bool ranges_overlap(const struct kvm_slot *a, const struct kvm_slot *b)
{
	return a->gpa < b->gpa + b->size && b->gpa < a->gpa + a->size;
}

static bool region_logged(struct kvm_vm *kv, const struct vmc_region *r)
{
	for (struct kvm_logged *l = kv->logged; l; l = l->next)
		if (l->region == r)
			return true;
	return false;
}

/* The page-aligned slot a section maps to; false if none. */
static bool section_to_slot(struct kvm_vm *kv,
			    const struct vmc_memory_section *s,
			    struct kvm_slot *ret)
{
	uint64_t start, end, skip;

	if (!s->ram || !s->host || s->size == 0)
		return false;
	if (s->readonly && !kv->readonly_mem)
		return false;
	start = (s->addr + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	end = (s->addr + s->size) & ~(uint64_t)(PAGE - 1);
	if (end <= start)
		return false;
	skip = start - s->addr;
	/* The host side must be page-aligned at the same offset. */
	if (((uintptr_t)s->host + skip) & (PAGE - 1))
		return false;
	*ret = (struct kvm_slot){
		.used = true,
		.flags = s->readonly ? KVM_MEM_READONLY : 0,
		.gpa = start,
		.size = end - start,
		.host = (char *)s->host + skip,
		.region = s->region,
		.region_offset = s->offset + skip,
	};
	return true;
}

static int slot_set(struct kvm_vm *kv, unsigned int id,
		    const struct kvm_slot *s, uint64_t size)
{
	struct kvm_userspace_memory_region m = {
		.slot = id,
		.flags = s->flags,
		.guest_phys_addr = s->gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)s->host,
	};

	return vmc__kvm_ioctl(kv->fd, KVM_SET_USER_MEMORY_REGION, &m);
}

static void slot_remove(struct kvm_vm *kv, const struct kvm_slot *d)
{
	for (unsigned int i = 0; i < kv->nr_slots; i++) {
		struct kvm_slot *s = &kv->slots[i];
		int r;

		if (!s->used || s->gpa != d->gpa || s->size != d->size)
			continue;
		r = slot_set(kv, i, s, 0);
		if (r < 0) {
			vmc__err("kvm: removing memslot %u at 0x%llx: %s", i,
				 (unsigned long long)s->gpa, strerror(-r));
			kv->listener_error = r;
		}
		s->used = false;
		return;
	}
}

static void slot_add(struct kvm_vm *kv, struct kvm_slot *a)
{
	int r;

	if (region_logged(kv, a->region))
		a->flags |= KVM_MEM_LOG_DIRTY_PAGES;
	for (unsigned int i = 0; i < kv->nr_slots; i++) {
		if (kv->slots[i].used)
			continue;
		r = slot_set(kv, i, a, a->size);
		if (r < 0) {
			vmc__err("kvm: adding memslot at 0x%llx size 0x%llx: "
				 "%s",
				 (unsigned long long)a->gpa,
				 (unsigned long long)a->size, strerror(-r));
			kv->listener_error = r;
			return;
		}
		kv->slots[i] = *a;
		return;
	}
	vmc__err("kvm: out of memslots (%u)", kv->nr_slots);
	kv->listener_error = -ENOSPC;
}

static int pend_push(struct kvm_slot **v, unsigned int *n, unsigned int *cap,
		     const struct kvm_slot *s)
{
	if (*n == *cap) {
		unsigned int nc = *cap ? *cap * 2 : 16;
		struct kvm_slot *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *s;
	return 0;
}

static void mem_region_add(void *opaque, const struct vmc_memory_section *s)
{
	struct vmc_vm *vm = opaque;
	struct kvm_vm *kv = kvm_vm_of(vm);
	struct kvm_slot slot;

	if (!section_to_slot(kv, s, &slot))
		return;
	if (pend_push(&kv->pend_add, &kv->nr_add, &kv->cap_add, &slot) < 0)
		kv->listener_error = -ENOMEM;
}

static void mem_region_del(void *opaque, const struct vmc_memory_section *s)
{
	struct vmc_vm *vm = opaque;
	struct kvm_vm *kv = kvm_vm_of(vm);
	struct kvm_slot slot;

	if (kv->closing || !section_to_slot(kv, s, &slot))
		return;
	if (pend_push(&kv->pend_del, &kv->nr_del, &kv->cap_del, &slot) < 0) {
		/* Remove at once rather than leave a stale slot behind. */
		vmc__kvm_inhibit_begin(vm);
		slot_remove(kv, &slot);
		vmc__kvm_inhibit_end(vm);
	}
}

static void mem_commit(void *opaque)
{
	struct vmc_vm *vm = opaque;
	struct kvm_vm *kv = kvm_vm_of(vm);
	bool overlap = false;

	if (kv->closing)
		return;
	for (unsigned int i = 0; i < kv->nr_del && !overlap; i++)
		for (unsigned int j = 0; j < kv->nr_add && !overlap; j++)
			overlap = ranges_overlap(&kv->pend_del[i],
						 &kv->pend_add[j]);
	if (overlap)
		vmc__kvm_inhibit_begin(vm);
	for (unsigned int i = 0; i < kv->nr_del; i++)
		slot_remove(kv, &kv->pend_del[i]);
	for (unsigned int i = 0; i < kv->nr_add; i++)
		slot_add(kv, &kv->pend_add[i]);
	if (overlap)
		vmc__kvm_inhibit_end(vm);
	kv->nr_del = kv->nr_add = 0;
}

static int ioeventfd_set(struct kvm_vm *kv, const struct vmc_ioeventfd_info *e,
			 bool assign)
{
	struct kvm_ioeventfd arg = {
		.datamatch = e->match_data ? e->data_host : 0,
		.addr = e->addr,
		.len = e->size,
		.fd = vmc_notifier_get_fd(e->notifier),
	};

	if (e->match_data)
		arg.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (e->kind == VMC_AS_IO)
		arg.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (!assign)
		arg.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (e->size == 0 && !kv->any_length_ioeventfd)
		return -EOPNOTSUPP;
	return vmc__kvm_ioctl(kv->fd, KVM_IOEVENTFD, &arg);
}

/*
 * A refused ioeventfd cannot be reported to whoever changed the layout (a
 * listener has no error path), so it is logged; guest writes to it then
 * reach the region.
 */
static void eventfd_add(void *opaque, const struct vmc_ioeventfd_info *e)
{
	struct kvm_vm *kv = kvm_vm_of(opaque);
	int r = ioeventfd_set(kv, e, true);

	if (r < 0)
		vmc__warn("kvm: KVM_IOEVENTFD at 0x%llx size %u: %s; "
			  "not installed",
			  (unsigned long long)e->addr, e->size, strerror(-r));
}

static void eventfd_del(void *opaque, const struct vmc_ioeventfd_info *e)
{
	struct kvm_vm *kv = kvm_vm_of(opaque);
	int r;

	if (kv->closing)
		return;
	r = ioeventfd_set(kv, e, false);
	if (r < 0 && r != -ENOENT && r != -EOPNOTSUPP)
		vmc__warn("kvm: removing KVM_IOEVENTFD at 0x%llx: %s",
			  (unsigned long long)e->addr, strerror(-r));
}

static const struct vmc_memory_listener_ops mem_ops = {
	.struct_size = sizeof(mem_ops),
	.commit = mem_commit,
	.region_add = mem_region_add,
	.region_del = mem_region_del,
	.eventfd_add = eventfd_add,
	.eventfd_del = eventfd_del,
};

static const struct vmc_memory_listener_ops io_ops = {
	.struct_size = sizeof(io_ops),
	.eventfd_add = eventfd_add,
	.eventfd_del = eventfd_del,
};

/* QEMU's accelerator listeners sit at priority 10; so do these. */
#define LISTENER_PRIORITY 10

int vmc__kvm_memory_init(struct vmc_vm *vm)
{
	struct kvm_vm *kv = kvm_vm_of(vm);
	struct vmc_address_space *as_memory =
		vmc_vm_get_address_space(vm, VMC_AS_MEMORY);
	struct vmc_address_space *as_io =
		vmc_vm_get_address_space(vm, VMC_AS_IO);
	int n, r;

	n = vmc__kvm_host()->nr_memslots;
	if (n <= 0)
		n = 32;
	if (n > 512)
		n = 512;
	kv->slots = calloc((size_t)n, sizeof(*kv->slots));
	if (!kv->slots)
		return -ENOMEM;
	kv->nr_slots = (unsigned int)n;

	/* The kernel matches ioeventfds; dispatch need not look again. */
	if (as_memory)
		vmc__accel_as_set_soft_ioeventfds(as_memory, false);
	if (as_io)
		vmc__accel_as_set_soft_ioeventfds(as_io, false);

	if (as_memory) {
		r = vmc_memory_listener_new(as_memory, &mem_ops,
					    LISTENER_PRIORITY, vm,
					    &kv->mem_listener);
		if (r < 0)
			goto fail;
	}
	if (as_io) {
		r = vmc_memory_listener_new(as_io, &io_ops, LISTENER_PRIORITY,
					    vm, &kv->io_listener);
		if (r < 0)
			goto fail;
	}
	if (kv->listener_error < 0) {
		r = kv->listener_error;
		goto fail;
	}
	return 0;
fail:
	vmc__kvm_memory_destroy(vm);
	return r;
}

void vmc__kvm_memory_destroy(struct vmc_vm *vm)
{
	struct kvm_vm *kv = kvm_vm_of(vm);
	struct kvm_logged *l;

	/* The VM fd goes next; the kernel drops slots and eventfds then. */
	kv->closing = true;
	vmc_memory_listener_free(kv->io_listener);
	vmc_memory_listener_free(kv->mem_listener);
	kv->io_listener = kv->mem_listener = NULL;
	while ((l = kv->logged)) {
		kv->logged = l->next;
		vmc_region_unref(l->region);
		free(l);
	}
	free(kv->slots);
	free(kv->pend_add);
	free(kv->pend_del);
	kv->slots = kv->pend_add = kv->pend_del = NULL;
	kv->nr_slots = kv->nr_add = kv->nr_del = 0;
	kv->cap_add = kv->cap_del = 0;
}

/* ------------------------------------------------------------------------
 * Exit dispatch (vCPU thread, hot)
 */

/*
 * One access from an exit, through core's one I/O entry (which looks the
 * address up with the vCPU's own hint: this path runs cache-cold after
 * every exit, so it touches as little as it can).  A failed read reads as
 * all ones.
 */
static inline void exit_access(struct vmc_address_space *as, size_t *hint,
			       uint64_t addr, uint8_t *p, unsigned int size,
			       bool write)
{
	if (unlikely(!as)) {
		if (!write)
			memset(p, 0xff, size);
		return;
	}
	if (vmc__accel_io(as, NULL, hint, addr, p, size, write) < 0 && !write)
		memset(p, 0xff, size);
}

void vmc__kvm_pio(struct vmc_vcpu *vcpu, struct kvm_run *run)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	unsigned int size = run->io.size;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep ins/outs) comes as `count` accesses to one port. */
	for (uint32_t i = 0; i < run->io.count; i++, p += size)
		exit_access(kc->as_io, &kc->pio_hint, run->io.port, p, size,
			    write);
}

void vmc__kvm_mmio(struct vmc_vcpu *vcpu, struct kvm_run *run)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	unsigned int len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	exit_access(
		vmc_vm_get_address_space(vmc_vcpu_get_vm(vcpu), VMC_AS_MEMORY),
		&kc->mmio_hint, run->mmio.phys_addr, run->mmio.data, len,
		run->mmio.is_write);
}

/* ------------------------------------------------------------------------
 * Dirty logging
 */

/* The dirty_log_set hook: core checked that @region is RAM/ROM of @vm. */
int vmc__kvm_dirty_log_set(struct vmc_vm *vm, struct vmc_region *region,
			   bool enable)
{
	struct kvm_vm *kv = kvm_vm_of(vm);
	struct kvm_logged **pp, *l;
	int r = 0;

	for (pp = &kv->logged; (l = *pp); pp = &l->next)
		if (l->region == region)
			break;
	if (enable == !!l)
		return 0;
	if (enable) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		l->region = vmc_region_ref(region);
		l->next = kv->logged;
		kv->logged = l;
	} else {
		*pp = l->next;
		vmc_region_unref(l->region);
		free(l);
	}

	/* Changing only the flags of a slot keeps its mappings. */
	for (unsigned int i = 0; i < kv->nr_slots; i++) {
		struct kvm_slot *s = &kv->slots[i];
		int e;

		if (!s->used || s->region != region)
			continue;
		if (enable)
			s->flags |= KVM_MEM_LOG_DIRTY_PAGES;
		else
			s->flags &= ~(uint32_t)KVM_MEM_LOG_DIRTY_PAGES;
		e = slot_set(kv, i, s, s->size);
		if (e < 0 && r == 0)
			r = e;
	}
	return r;
}

/* The dirty_log_get hook: core checked the region and the bitmap's size. */
int vmc__kvm_dirty_log_get(struct vmc_vm *vm, struct vmc_region *region,
			   uint64_t *bitmap, size_t words)
{
	struct kvm_vm *kv = kvm_vm_of(vm);

	(void)words;
	if (!region_logged(kv, region))
		return -ENOENT;

	for (unsigned int i = 0; i < kv->nr_slots; i++) {
		struct kvm_slot *s = &kv->slots[i];
		struct kvm_dirty_log log = {.slot = i};
		uint64_t n, first, *tmp;
		int r;

		if (!s->used || s->region != region)
			continue;
		n = s->size / PAGE;
		tmp = calloc((size_t)((n + 63) / 64), sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		log.dirty_bitmap = tmp;
		r = vmc__kvm_ioctl(kv->fd, KVM_GET_DIRTY_LOG, &log);
		if (r < 0) {
			free(tmp);
			return r;
		}
		first = s->region_offset / PAGE;
		/* Word by word: a reset's cost follows the dirty pages,
		 * not one test per page of the slot. */
		for (uint64_t w = 0; w < (n + 63) / 64; w++) {
			uint64_t bits = tmp[w];

			if (!bits)
				continue;
			if (first % 64 == 0) {
				bitmap[first / 64 + w] |= bits;
				continue;
			}
			while (bits) {
				uint64_t d = first + w * 64 +
					     (uint64_t)__builtin_ctzll(bits);

				bits &= bits - 1;
				bitmap[d / 64] |= UINT64_C(1) << (d % 64);
			}
		}
		free(tmp);
	}
	return 0;
}

/* The KVM-only names of 0.1, now the generic calls of vmc-vm.h. */
VMC_EXPORT int vmc_kvm_set_dirty_logging(struct vmc_vm *vm,
					 struct vmc_region *region, bool enable)
{
	vmc_assert_return(vm && region, -EINVAL);
	if (!vmc__kvm_is(vm))
		return -EOPNOTSUPP;
	return vmc_vm_set_dirty_logging(vm, region, enable);
}

VMC_EXPORT int vmc_kvm_get_dirty_log(struct vmc_vm *vm,
				     struct vmc_region *region,
				     uint64_t *bitmap, size_t words)
{
	vmc_assert_return(vm && region && bitmap, -EINVAL);
	if (!vmc__kvm_is(vm))
		return -EOPNOTSUPP;
	return vmc_vm_get_dirty_log(vm, region, bitmap, words);
}
