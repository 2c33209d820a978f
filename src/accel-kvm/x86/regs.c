/* SPDX-License-Identifier: MIT */
/*
 * x86-64 vCPU state under KVM: register access by number, MSRs, CPUID,
 * reset, guest debugging, the 64-bit-mode helper and the software
 * breakpoint probe.
 *
 * Register calls run on the vCPU's own thread with the vCPU outside
 * KVM_RUN (core's get_reg/set_reg contract, or a run_sync work item), so
 * they talk to the kernel directly and cache nothing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm-internal.h"

/* ------------------------------------------------------------------------
 * Register numbers
 */

static struct kvm_segment *seg_of(struct kvm_sregs *s, unsigned int i)
{
	struct kvm_segment *v[] = {&s->cs, &s->ds, &s->es, &s->fs,
				   &s->gs, &s->ss, &s->tr, &s->ldt};

	return v[i];
}

static uint64_t seg_attr(const struct kvm_segment *g)
{
	return (uint64_t)g->type | (uint64_t)g->s << 4 | (uint64_t)g->dpl << 5 |
	       (uint64_t)g->present << 7 | (uint64_t)g->avl << 12 |
	       (uint64_t)g->l << 13 | (uint64_t)g->db << 14 |
	       (uint64_t)g->g << 15 | (uint64_t)g->unusable << 16;
}

static void seg_set_attr(struct kvm_segment *g, uint64_t a)
{
	g->type = a & 15;
	g->s = (a >> 4) & 1;
	g->dpl = (a >> 5) & 3;
	g->present = (a >> 7) & 1;
	g->avl = (a >> 12) & 1;
	g->l = (a >> 13) & 1;
	g->db = (a >> 14) & 1;
	g->g = (a >> 15) & 1;
	g->unusable = (a >> 16) & 1;
}

/* Pointer to the sregs field of a CR-class register, or NULL. */
static uint64_t *sreg_field(struct kvm_sregs *s, unsigned int reg)
{
	switch (reg) {
	case VMC_X86_CR0:
		return (uint64_t *)&s->cr0;
	case VMC_X86_CR2:
		return (uint64_t *)&s->cr2;
	case VMC_X86_CR3:
		return (uint64_t *)&s->cr3;
	case VMC_X86_CR4:
		return (uint64_t *)&s->cr4;
	case VMC_X86_CR8:
		return (uint64_t *)&s->cr8;
	case VMC_X86_EFER:
		return (uint64_t *)&s->efer;
	case VMC_X86_APIC_BASE:
		return (uint64_t *)&s->apic_base;
	case VMC_X86_GDTR_BASE:
		return (uint64_t *)&s->gdt.base;
	case VMC_X86_IDTR_BASE:
		return (uint64_t *)&s->idt.base;
	default:
		return NULL;
	}
}

enum reg_class { RC_NONE, RC_GPR, RC_SREG, RC_FPU, RC_DEBUG };

static enum reg_class reg_class(unsigned int reg)
{
	if (reg <= VMC_X86_RFLAGS)
		return RC_GPR;
	if ((reg >= VMC_X86_CS && reg <= VMC_X86_LDTR_ATTR) ||
	    (reg >= VMC_X86_CR0 && reg <= VMC_X86_IDTR_LIMIT))
		return RC_SREG;
	if ((reg >= VMC_X86_FCW && reg <= VMC_X86_MXCSR) ||
	    (reg >= VMC_X86_XMM0_LO && reg <= VMC_X86_XMM15_HI))
		return RC_FPU;
	if (reg >= VMC_X86_DR0 && reg <= VMC_X86_DR7)
		return RC_DEBUG;
	return RC_NONE;
}

/* Read or write one register inside the fetched state. */
static void access_sreg(struct kvm_sregs *s, unsigned int reg, uint64_t *v,
			bool write)
{
	uint64_t *f;

	if (reg >= VMC_X86_CS && reg <= VMC_X86_LDTR_ATTR) {
		struct kvm_segment *g = seg_of(s, (reg - VMC_X86_CS) & 7);

		switch ((reg - VMC_X86_CS) >> 3) {
		case 0:
			if (write)
				g->selector = (uint16_t)*v;
			else
				*v = g->selector;
			break;
		case 1:
			if (write)
				g->base = *v;
			else
				*v = g->base;
			break;
		case 2:
			if (write)
				g->limit = (uint32_t)*v;
			else
				*v = g->limit;
			break;
		default:
			if (write)
				seg_set_attr(g, *v);
			else
				*v = seg_attr(g);
			break;
		}
		return;
	}
	if (reg == VMC_X86_GDTR_LIMIT || reg == VMC_X86_IDTR_LIMIT) {
		struct kvm_dtable *d =
			reg == VMC_X86_GDTR_LIMIT ? &s->gdt : &s->idt;

		if (write)
			d->limit = (uint16_t)*v;
		else
			*v = d->limit;
		return;
	}
	f = sreg_field(s, reg);
	if (write)
		*f = *v;
	else
		*v = *f;
}

static void access_fpu(struct kvm_fpu *f, unsigned int reg, uint64_t *v,
		       bool write)
{
	if (reg >= VMC_X86_XMM0_LO) {
		unsigned int i = reg - VMC_X86_XMM0_LO;
		uint8_t *p = &f->xmm[i / 2][(i & 1) * 8];

		if (write)
			memcpy(p, v, 8);
		else
			memcpy(v, p, 8);
		return;
	}
	switch (reg) {
	case VMC_X86_FCW:
		if (write)
			f->fcw = (uint16_t)*v;
		else
			*v = f->fcw;
		break;
	case VMC_X86_FSW:
		if (write)
			f->fsw = (uint16_t)*v;
		else
			*v = f->fsw;
		break;
	case VMC_X86_FTW:
		if (write)
			f->ftwx = (uint8_t)*v;
		else
			*v = f->ftwx;
		break;
	default:
		if (write)
			f->mxcsr = (uint32_t)*v;
		else
			*v = f->mxcsr;
		break;
	}
}

static void access_debug(struct kvm_debugregs *d, unsigned int reg, uint64_t *v,
			 bool write)
{
	uint64_t *f;

	if (reg <= VMC_X86_DR3)
		f = (uint64_t *)&d->db[reg - VMC_X86_DR0];
	else if (reg == VMC_X86_DR6)
		f = (uint64_t *)&d->dr6;
	else
		f = (uint64_t *)&d->dr7;

	if (write)
		*f = *v;
	else
		*v = *f;
}

int vmc__kvm_regs_sync(struct kvm_vcpu *kc)
{
	int r = 0;

	if (kc->regs_dirty)
		r = vmc__kvm_ioctl(kc->fd, KVM_SET_REGS, &kc->regs);
	if (kc->sregs_dirty && r >= 0)
		r = vmc__kvm_ioctl(kc->fd, KVM_SET_SREGS, &kc->sregs);
	if (kc->events_dirty && r >= 0)
		r = vmc__kvm_ioctl(kc->fd, KVM_SET_VCPU_EVENTS, &kc->events);
	kc->regs_valid = kc->regs_dirty = false;
	kc->sregs_valid = kc->sregs_dirty = false;
	kc->events_dirty = false;
	return r;
}

/*
 * With sync_regs the kernel loads what kvm_dirty_regs names at the start
 * of KVM_RUN, before anything else (a pending I/O completion included,
 * which then sees the new RIP), and stores the general registers into
 * kvm_run at every exit (kvm_valid_regs, set at realize).  That saves
 * the ioctls a register write and a read after an exit cost: on a nested
 * host each vCPU ioctl costs about what a whole KVM_RUN exit does, while
 * a KVM_RUN that loads regs and sregs this way costs no more than one
 * that loads nothing (6.95 against 6.98 us, AMD EPYC nested, 6.18).
 */
int vmc__kvm_regs_stage(struct kvm_vcpu *kc)
{
	struct kvm_run *run = kc->run;
	uint64_t d = 0;

	if (!vmc__kvm_host()->sync_regs)
		return vmc__kvm_regs_sync(kc);
	if (kc->regs_dirty) {
		run->s.regs.regs = kc->regs;
		d |= KVM_SYNC_X86_REGS;
	}
	if (kc->sregs_dirty) {
		run->s.regs.sregs = kc->sregs;
		d |= KVM_SYNC_X86_SREGS;
	}
	if (kc->events_dirty) {
		run->s.regs.events = kc->events;
		d |= KVM_SYNC_X86_EVENTS;
	}
	run->kvm_dirty_regs |= d;
	kc->regs_valid = kc->regs_dirty = false;
	kc->sregs_valid = kc->sregs_dirty = false;
	kc->events_dirty = false;
	return 0;
}

void vmc__kvm_regs_exited(struct kvm_vcpu *kc)
{
	if (!vmc__kvm_host()->sync_regs) {
		kc->regs_valid = false;
		return;
	}
	kc->regs = kc->run->s.regs.regs;
	kc->regs_valid = true;
}

static int reg_access(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t *v,
		      bool write)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	int fd = kc->fd;
	int r;

	switch (reg_class(reg)) {
	case RC_GPR: {
		uint64_t *a = (uint64_t *)&kc->regs;

		if (!kc->regs_valid) {
			r = vmc__kvm_ioctl(fd, KVM_GET_REGS, &kc->regs);
			if (r < 0)
				return r;
			kc->regs_valid = true;
		}
		if (!write) {
			*v = a[reg];
			return 0;
		}
		a[reg] = *v;
		kc->regs_dirty = true;
		return 0;
	}
	case RC_SREG:
		if (!kc->sregs_valid) {
			r = vmc__kvm_ioctl(fd, KVM_GET_SREGS, &kc->sregs);
			if (r < 0)
				return r;
			kc->sregs_valid = true;
		}
		access_sreg(&kc->sregs, reg, v, write);
		kc->sregs_dirty |= write;
		return 0;
	case RC_FPU: {
		struct kvm_fpu f;

		r = vmc__kvm_vcpu_realize(vcpu);
		if (r < 0)
			return r;
		fd = kc->fd;
		r = vmc__kvm_ioctl(fd, KVM_GET_FPU, &f);
		if (r < 0)
			return r;
		access_fpu(&f, reg, v, write);
		return write ? vmc__kvm_ioctl(fd, KVM_SET_FPU, &f) : 0;
	}
	case RC_DEBUG: {
		struct kvm_debugregs d;

		r = vmc__kvm_vcpu_realize(vcpu);
		if (r < 0)
			return r;
		fd = kc->fd;
		r = vmc__kvm_ioctl(fd, KVM_GET_DEBUGREGS, &d);
		if (r < 0)
			return r;
		access_debug(&d, reg, v, write);
		if (!write)
			return 0;
		kc->xstate_known = false; /* the snapshot's values no longer */
		return vmc__kvm_ioctl(fd, KVM_SET_DEBUGREGS, &d);
	}
	default:
		return -EINVAL;
	}
}

int vmc__kvm_get_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t *val)
{
	return reg_access(vcpu, reg, val, false);
}

int vmc__kvm_set_reg(struct vmc_vcpu *vcpu, unsigned int reg, uint64_t val)
{
	return reg_access(vcpu, reg, &val, true);
}

void vmc__kvm_vcpu_reset(struct vmc_vcpu *vcpu)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	struct kvm_regs regs = kc->init_regs;
	struct kvm_sregs sregs = kc->init_sregs;
	struct kvm_fpu fpu = kc->init_fpu;

	/* Pending register writes are void after a reset. */
	kc->regs_valid = kc->regs_dirty = false;
	kc->sregs_valid = kc->sregs_dirty = false;
	kc->events_dirty = false;
	atomic_store(&kc->nmi_pending, 0);
	if (kc->fd < 0) {
		/* Not built yet: the cache is the whole state. */
		kc->regs = regs;
		kc->sregs = sregs;
		kc->regs_valid = kc->sregs_valid = true;
		return;
	}
	if (vmc__kvm_ioctl(kc->fd, KVM_SET_REGS, &regs) < 0 ||
	    vmc__kvm_ioctl(kc->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    vmc__kvm_ioctl(kc->fd, KVM_SET_FPU, &fpu) < 0)
		vmc__err("kvm: vcpu %u: restoring the power-on state failed",
			 vmc_vcpu_get_index(vcpu));
	kc->run->request_interrupt_window = 0;
}

int vmc__kvm_x86_set_cpuid(struct vmc_vcpu *vcpu, const struct kvm_cpuid2 *c)
{
	int r = vmc__kvm_ioctl(kvm_vcpu_of(vcpu)->fd, KVM_SET_CPUID2,
			       (void *)c);

	return r == -EINVAL || r == -EFAULT ? r : r < 0 ? -EBUSY : r;
}

/* ------------------------------------------------------------------------
 * Public calls, run on the vCPU thread
 */

struct x86_call {
	int (*fn)(struct vmc_vcpu *vcpu, struct x86_call *c);
	uint32_t index, sub;
	uint64_t value;
	const void *in;
	size_t n;
	void *out;
	uint64_t a, b, d;
	int result;
};

static void x86_call_cb(struct vmc_vcpu *vcpu, void *userdata)
{
	struct x86_call *c = userdata;

	/* The calls below use the kernel's vCPU and registers directly. */
	c->result = vmc__kvm_vcpu_realize(vcpu);
	if (c->result >= 0)
		c->result = vmc__kvm_regs_sync(kvm_vcpu_of(vcpu));
	if (c->result >= 0)
		c->result = c->fn(vcpu, c);
}

static int x86_call(struct vmc_vcpu *vcpu, struct x86_call *c)
{
	int r;

	if (!vmc__kvm_is(vmc_vcpu_get_vm(vcpu)) ||
	    !vmc__accel_vcpu(vcpu)->state)
		return -EOPNOTSUPP;
	r = vmc_vcpu_run_sync(vcpu, x86_call_cb, c);
	return r < 0 ? r : c->result;
}

static int do_msr(struct vmc_vcpu *vcpu, struct x86_call *c, bool write)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e.index = c->index, .e.data = c->value};
	int r;

	r = vmc__kvm_ioctl(kvm_vcpu_of(vcpu)->fd,
			   write ? KVM_SET_MSRS : KVM_GET_MSRS, &m);
	if (r < 0)
		return r;
	if (r != 1)
		return -ENOENT;
	c->value = m.e.data;
	return 0;
}

static int get_msr_fn(struct vmc_vcpu *vcpu, struct x86_call *c)
{
	return do_msr(vcpu, c, false);
}

static int set_msr_fn(struct vmc_vcpu *vcpu, struct x86_call *c)
{
	/* The host's own write: the snapshot MSRs are no longer known. */
	kvm_vcpu_of(vcpu)->msrs_known = false;
	return do_msr(vcpu, c, true);
}

VMC_EXPORT int vmc_x86_vcpu_get_msr(struct vmc_vcpu *vcpu, uint32_t index,
				    uint64_t *ret)
{
	struct x86_call c = {.fn = get_msr_fn, .index = index};
	int r;

	vmc_assert_return(vcpu && ret, -EINVAL);
	r = x86_call(vcpu, &c);
	if (r >= 0)
		*ret = c.value;
	return r;
}

VMC_EXPORT int vmc_x86_vcpu_set_msr(struct vmc_vcpu *vcpu, uint32_t index,
				    uint64_t value)
{
	struct x86_call c = {.fn = set_msr_fn, .index = index, .value = value};

	vmc_assert_return(vcpu, -EINVAL);
	return x86_call(vcpu, &c);
}

static int set_cpuid_fn(struct vmc_vcpu *vcpu, struct x86_call *c)
{
	const struct vmc_x86_cpuid_entry *in = c->in;
	struct kvm_cpuid2 *k;
	int r;

	k = calloc(1, sizeof(*k) + c->n * sizeof(k->entries[0]));
	if (!k)
		return -ENOMEM;
	k->nent = (uint32_t)c->n;
	for (size_t i = 0; i < c->n; i++) {
		struct kvm_cpuid_entry2 *e = &k->entries[i];
		const struct kvm_cpuid2 *sup =
			kvm_vm_of(vmc_vcpu_get_vm(vcpu))->cpuid;

		e->function = in[i].function;
		e->index = in[i].index;
		e->eax = in[i].eax;
		e->ebx = in[i].ebx;
		e->ecx = in[i].ecx;
		e->edx = in[i].edx;
		/* Keep the kernel's idea of which leaves are indexed. */
		for (uint32_t j = 0; j < sup->nent; j++)
			if (sup->entries[j].function == e->function)
				e->flags = sup->entries[j].flags &
					   KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	}
	r = vmc__kvm_x86_set_cpuid(vcpu, k);
	free(k);
	return r;
}

VMC_EXPORT int vmc_x86_vcpu_set_cpuid(struct vmc_vcpu *vcpu,
				      const struct vmc_x86_cpuid_entry *entries,
				      size_t n)
{
	struct x86_call c = {.fn = set_cpuid_fn, .in = entries, .n = n};

	vmc_assert_return(vcpu && (entries || n == 0) && n <= 4096, -EINVAL);
	return x86_call(vcpu, &c);
}

static int get_cpuid_fn(struct vmc_vcpu *vcpu, struct x86_call *c)
{
	struct vmc_x86_cpuid_entry *out = c->out;
	unsigned int n = 256;
	int r;

	for (;;) {
		struct kvm_cpuid2 *k;

		k = calloc(1, sizeof(*k) + n * sizeof(k->entries[0]));
		if (!k)
			return -ENOMEM;
		k->nent = n;
		r = vmc__kvm_ioctl(kvm_vcpu_of(vcpu)->fd, KVM_GET_CPUID2, k);
		if (r == 0) {
			r = -ENOENT;
			for (uint32_t i = 0; i < k->nent; i++) {
				struct kvm_cpuid_entry2 *e = &k->entries[i];

				if (e->function != c->index ||
				    ((e->flags &
				      KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
				     e->index != c->sub))
					continue;
				*out = (struct vmc_x86_cpuid_entry){
					.function = c->index,
					.index = c->sub,
					.eax = e->eax,
					.ebx = e->ebx,
					.ecx = e->ecx,
					.edx = e->edx,
				};
				r = 0;
				break;
			}
		}
		free(k);
		if (r != -E2BIG || n >= 8192)
			return r;
		n *= 2;
	}
}

VMC_EXPORT int vmc_x86_vcpu_get_cpuid(struct vmc_vcpu *vcpu, uint32_t function,
				      uint32_t index,
				      struct vmc_x86_cpuid_entry *ret)
{
	struct vmc_x86_cpuid_entry e;
	struct x86_call c = {
		.fn = get_cpuid_fn, .index = function, .sub = index, .out = &e};
	int r;

	vmc_assert_return(vcpu && ret, -EINVAL);
	r = x86_call(vcpu, &c);
	if (r >= 0)
		*ret = e;
	return r;
}

/* ------------------------------------------------------------------------
 * 64-bit mode
 */

#define PTE_P 0x1u
#define PTE_RW 0x2u
#define PTE_PS 0x80u

/* PML4, PDPT, then @nr_pd page directories of 2 MiB pages. */
static void build_tables(uint64_t *t, uint64_t gpa, unsigned int nr_pd)
{
	uint64_t *pml4 = t, *pdpt = t + 512;

	memset(t, 0, (size_t)(2 + nr_pd) * 4096);
	pml4[0] = (gpa + 4096) | PTE_P | PTE_RW;
	for (unsigned int i = 0; i < nr_pd; i++) {
		uint64_t *pd = t + 512 * (2 + i);

		pdpt[i] = (gpa + 4096 * (2 + (uint64_t)i)) | PTE_P | PTE_RW;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((uint64_t)i << 30 | j << 21) | PTE_P | PTE_RW |
				PTE_PS;
	}
}

static int long_mode_state(int fd, uint64_t cr3, uint64_t entry, uint64_t stack)
{
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x8,
		.type = 11,
		.present = 1,
		.s = 1,
		.l = 1,
		.g = 1,
	};
	struct kvm_segment data = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x10,
		.type = 3,
		.present = 1,
		.s = 1,
		.db = 1,
		.g = 1,
	};
	struct kvm_regs regs = {.rip = entry, .rsp = stack, .rflags = 0x2};
	struct kvm_sregs s;
	int r;

	r = vmc__kvm_ioctl(fd, KVM_GET_SREGS, &s);
	if (r < 0)
		return r;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = 0x80010033; /* PG, WP, NE, ET, MP, PE */
	s.cr3 = cr3;
	s.cr4 = 0x620;	/* OSXMMEXCPT, OSFXSR, PAE */
	s.efer = 0x500; /* LMA, LME */
	r = vmc__kvm_ioctl(fd, KVM_SET_SREGS, &s);
	if (r < 0)
		return r;
	return vmc__kvm_ioctl(fd, KVM_SET_REGS, &regs);
}

static int long_mode_fn(struct vmc_vcpu *vcpu, struct x86_call *c)
{
	uint64_t *gdt = (uint64_t *)((char *)c->out + 6 * 4096);
	struct kvm_sregs s;
	int r;

	build_tables(c->out, c->a, 4);
	/*
	 * A GDT matching the loaded segments, for what reloads them behind
	 * the guest's back: interrupt and exception delivery, iretq.
	 */
	memset(gdt, 0, 4096);
	gdt[1] = UINT64_C(0x00af9a000000ffff); /* 0x08: 64-bit code */
	gdt[2] = UINT64_C(0x00cf92000000ffff); /* 0x10: data */
	r = long_mode_state(kvm_vcpu_of(vcpu)->fd, c->a, c->b, c->d);
	if (r < 0)
		return r;
	r = vmc__kvm_ioctl(kvm_vcpu_of(vcpu)->fd, KVM_GET_SREGS, &s);
	if (r < 0)
		return r;
	s.gdt.base = c->a + 6 * 4096;
	s.gdt.limit = 3 * 8 - 1;
	return vmc__kvm_ioctl(kvm_vcpu_of(vcpu)->fd, KVM_SET_SREGS, &s);
}

VMC_EXPORT int vmc_x86_vcpu_setup_long_mode(struct vmc_vcpu *vcpu, void *tables,
					    uint64_t tables_gpa, uint64_t entry,
					    uint64_t stack)
{
	struct x86_call c = {.fn = long_mode_fn,
			     .out = tables,
			     .a = tables_gpa,
			     .b = entry,
			     .d = stack};

	vmc_assert_return(vcpu && tables, -EINVAL);
	vmc_assert_return(!((uintptr_t)tables & 4095) && !(tables_gpa & 4095),
			  -EINVAL);
	return x86_call(vcpu, &c);
}

/* ------------------------------------------------------------------------
 * Guest debugging
 */

static _Atomic int sw_bp_works = -1;

/*
 * Run "int3; hlt" in 64-bit mode with software breakpoints on, in a VM of
 * its own: guest memory is 5 pages (tables at 0x1000, code at 0x4000).
 */
static int probe_sw_bp(void)
{
	struct kvm_guest_debug dbg = {.control = KVM_GUESTDBG_ENABLE |
						 KVM_GUESTDBG_USE_SW_BP};
	struct kvm_userspace_memory_region m = {.memory_size = 0x5000};
	struct kvm_cpuid2 *cpuid = NULL;
	struct kvm_run *run = MAP_FAILED;
	int sys_fd, vm_fd = -1, cpu_fd = -1, run_size, r;
	uint8_t *mem;

	mem = mmap(NULL, 0x5000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys_fd < 0) {
		r = -ENODEV;
		goto out;
	}
	r = -ENODEV;
	run_size = ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm_fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0 || run_size <= 0)
		goto out;
	build_tables((uint64_t *)(mem + 0x1000), 0x1000, 1);
	mem[0x4000] = 0xcc; /* int3 */
	mem[0x4001] = 0xf4; /* hlt */
	m.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		goto out;
	cpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (cpu_fd < 0)
		goto out;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   cpu_fd, 0);
	if (run == MAP_FAILED)
		goto out;
	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	if (!cpuid) {
		r = -ENOMEM;
		goto out;
	}
	cpuid->nent = 256;
	if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
	    ioctl(cpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		goto out;
	if (long_mode_state(cpu_fd, 0x1000, 0x4000, 0x4000) < 0 ||
	    ioctl(cpu_fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		goto out;
	do {
		r = ioctl(cpu_fd, KVM_RUN, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		r = -ENODEV;
		goto out;
	}
	r = run->exit_reason == KVM_EXIT_DEBUG &&
	    run->debug.arch.exception == 3;
	vmc__debug("kvm: software breakpoint probe: exit %u, %s",
		   run->exit_reason, r ? "works" : "broken");
out:
	free(cpuid);
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (cpu_fd >= 0)
		close(cpu_fd);
	if (vm_fd >= 0)
		close(vm_fd);
	if (sys_fd >= 0)
		close(sys_fd);
	munmap(mem, 0x5000);
	return r;
}

void vmc__kvm_sw_bp_override(int works)
{
	atomic_store(&sw_bp_works, works);
}

VMC_EXPORT int vmc_kvm_probe_sw_breakpoints(void)
{
	int r = atomic_load(&sw_bp_works);

	if (r >= 0)
		return r;
	r = probe_sw_bp();
	if (r >= 0)
		atomic_store(&sw_bp_works, r);
	return r;
}

static int set_debug_fn(struct vmc_vcpu *vcpu, struct x86_call *c)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	int r;

	r = vmc__kvm_ioctl(kc->fd, KVM_SET_GUEST_DEBUG, (void *)c->in);
	if (r == 0)
		kc->debug = *(const struct kvm_guest_debug *)c->in;
	return r;
}

VMC_EXPORT int
vmc_kvm_vcpu_set_guest_debug(struct vmc_vcpu *vcpu,
			     const struct vmc_kvm_guest_debug *dbg)
{
	static const unsigned int len_bits[9] = {0, 0, 1, 0, 3, 0, 0, 0, 2};
	struct kvm_guest_debug k = {0};
	struct x86_call c = {.fn = set_debug_fn, .in = &k};
	unsigned int f;

	vmc_assert_return(vcpu && dbg, -EINVAL);
	vmc_assert_return(dbg->size >= sizeof(*dbg), -EINVAL);
	f = dbg->flags;
	vmc_assert_return(!(f & ~(unsigned int)(VMC_KVM_DEBUG_SINGLESTEP |
						VMC_KVM_DEBUG_SW_BP |
						VMC_KVM_DEBUG_HW_BP |
						VMC_KVM_DEBUG_BLOCKIRQ)),
			  -EINVAL);
	if (!vmc__kvm_is(vmc_vcpu_get_vm(vcpu)))
		return -EOPNOTSUPP;
	if (f & VMC_KVM_DEBUG_SW_BP && vmc_kvm_probe_sw_breakpoints() != 1)
		return -EOPNOTSUPP;

	if (f)
		k.control = KVM_GUESTDBG_ENABLE;
	if (f & VMC_KVM_DEBUG_SINGLESTEP)
		k.control |= KVM_GUESTDBG_SINGLESTEP;
	if (f & VMC_KVM_DEBUG_SW_BP)
		k.control |= KVM_GUESTDBG_USE_SW_BP;
	if (f & VMC_KVM_DEBUG_BLOCKIRQ)
		k.control |= KVM_GUESTDBG_BLOCKIRQ;
	if (f & VMC_KVM_DEBUG_HW_BP) {
		uint64_t dr7 = 0x400; /* bit 10 reads as one */

		k.control |= KVM_GUESTDBG_USE_HW_BP;
		for (unsigned int i = 0; i < 4; i++) {
			const struct vmc_kvm_hw_bp *b = &dbg->hw[i];
			uint64_t rw, len;

			if (b->type == VMC_KVM_HW_BP_NONE)
				continue;
			vmc_assert_return(b->type <= VMC_KVM_HW_BP_RW, -EINVAL);
			if (b->type == VMC_KVM_HW_BP_EXEC) {
				rw = 0;
				len = 0;
			} else {
				vmc_assert_return(b->len == 1 || b->len == 2 ||
							  b->len == 4 ||
							  b->len == 8,
						  -EINVAL);
				vmc_assert_return(!(b->addr & (b->len - 1)),
						  -EINVAL);
				rw = b->type == VMC_KVM_HW_BP_WRITE ? 1 : 3;
				len = len_bits[b->len];
			}
			k.arch.debugreg[i] = b->addr;
			/* Global enable, and the slot's kind and length. */
			dr7 |= UINT64_C(2) << (i * 2);
			dr7 |= (rw | len << 2) << (16 + i * 4);
		}
		k.arch.debugreg[7] = dr7;
	}
	return x86_call(vcpu, &c);
}

/* ------------------------------------------------------------------------
 * Snapshots: general, segment/control, the whole XSAVE area (x87, SSE,
 * AVX, AVX-512: KVM_GET_XSAVE; KVM_GET_FPU where the 4 KiB struct cannot
 * hold the host's area) with XCR0, the debug registers, pending events,
 * the MSRs of the list below, and the local APIC with its TSC deadline
 * when the kernel emulates one.  Not in the blob: the TSC itself (below)
 * and nested state.
 *
 * What a load writes, and when (the reset hot path).  General, segment
 * and control registers and the pending events go through the register
 * cache, into kvm_run's sync_regs, which the next KVM_RUN loads at entry
 * at no measurable cost (vmc__kvm_regs_stage).  The XSAVE area is written
 * every time (KVM_SET_XSAVE): the guest changes it without exits, and a
 * reset must not hand one request's vector registers to the next.  The
 * MSRs are written only when they may differ from the blob's: a VM that
 * took a snapshot traps the guest's WRMSR to each of them (an MSR filter,
 * installed by the first vcpu_save, that exits to userspace; the exit
 * applies the write and records the value), so the values in the kernel
 * are known exactly after a save, a load and every such exit.  The one
 * path around the filter is SWAPGS, which exchanges GS.base with
 * KERNEL_GS_BASE without an exit: GS.base is restored with the segment
 * registers, but a guest that swaps in a new GS base and swaps back
 * (SWAPGS; MOV GS or WRGSBASE; SWAPGS) leaves a KERNEL_GS_BASE that a
 * load does not put back.  XCR0 and the debug registers are handled the
 * same way: written only when the blob's differ from the values the
 * kernel held at the last save or load.  A guest at CPL 0 changes them
 * without an exit (XSETBV, MOV to DR), and such a change is not put back.
 * Assumed: sandboxed code that does any of this gains only values its own
 * next request can read; a host that cannot accept it makes the guest
 * run at CPL 3, where SWAPGS, XSETBV and MOV to DR fault.  The TSC
 * deadline, written after the LAPIC whose timer mode it depends on, only
 * exists with the in-kernel irqchip, which a sandbox does not ask for.
 */

#define KVM_STATE_MAGIC 0x32783836u /* "68x2" */

/* Not the TSC: the guest's time goes on across a restore (and writing it
 * makes KVM resynchronise its clocks, tens of microseconds).  KVM_GET_MSRS
 * stops at the first MSR it does not know: the rarer ones come last.
 * msr_filter_install() traps the guest's writes of every one of them. */
static const uint32_t kvm_state_msrs[] = {
	0x00000174, /* SYSENTER_CS */
	0x00000175, /* SYSENTER_ESP */
	0x00000176, /* SYSENTER_EIP */
	0x00000277, /* PAT */
	0xc0000081, /* STAR */
	0xc0000082, /* LSTAR */
	0xc0000083, /* CSTAR */
	0xc0000084, /* SFMASK */
	0xc0000102, /* KERNEL_GS_BASE */
	0x000001a0, /* MISC_ENABLE */
	0xc0000103, /* TSC_AUX */
	0x4b564d00, /* KVM wall clock */
	0x4b564d01, /* KVM system time */
};
#define KVM_STATE_NMSR (sizeof(kvm_state_msrs) / sizeof(kvm_state_msrs[0]))
_Static_assert(KVM_STATE_NMSR == sizeof(((struct kvm_vcpu *)0)->msrs_known_e) /
					 sizeof(struct kvm_msr_entry),
	       "the known-MSR cache holds the list");
/* Written after the LAPIC, whose timer mode it depends on. */
#define KVM_MSR_TSC_DEADLINE 0x000006e0u

struct kvm_state {
	uint32_t magic;
	uint32_t nmsrs; /* MSRs the kernel answered, in list order */
	uint32_t has_lapic;
	uint32_t has_xsave; /* xsave and xcrs, else fpu */
	uint32_t has_debugregs;
	uint32_t has_deadline;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_vcpu_events events;
	struct kvm_msr_entry msrs[KVM_STATE_NMSR];
	struct kvm_msr_entry deadline;
	struct kvm_lapic_state lapic;
};

struct kvm_state_msrs {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[KVM_STATE_NMSR];
};

struct kvm_state_msr1 {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[1];
};

/* Trap the guest's writes of the list's MSRs (VM lock held).  Without
 * the capability nothing is trapped and loads always write the MSRs. */
static void msr_filter_install(struct vmc_vm *vm)
{
	static uint8_t deny[1]; /* a 0 bit denies: all of each range */
	struct kvm_vm *kv = kvm_vm_of(vm);
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER,
	};
	struct kvm_msr_filter f = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges =
			{
				{KVM_MSR_FILTER_WRITE, 3, 0x174, deny},
				{KVM_MSR_FILTER_WRITE, 1, 0x1a0, deny},
				{KVM_MSR_FILTER_WRITE, 1, 0x277, deny},
				{KVM_MSR_FILTER_WRITE, 4, 0xc0000081, deny},
				{KVM_MSR_FILTER_WRITE, 2, 0xc0000102, deny},
				{KVM_MSR_FILTER_WRITE, 2, 0x4b564d00, deny},
			},
	};

	if (kv->msr_filter || !vmc__kvm_host()->msr_filter)
		return;
	if (vmc__kvm_ioctl(kv->fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    vmc__kvm_ioctl(kv->fd, KVM_X86_SET_MSR_FILTER, &f) < 0) {
		vmc__debug("kvm: no MSR filter; restores write every MSR");
		return;
	}
	kv->msr_filter = true;
}

void vmc__kvm_wrmsr_exit(struct kvm_vcpu *kc, struct kvm_run *run)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1,
	       .e.index = run->msr.index,
	       .e.data = run->msr.data};
	int r;

	/* A host-initiated write is not filtered. */
	r = vmc__kvm_ioctl(kc->fd, KVM_SET_MSRS, &m);
	run->msr.error = r == 1 ? 0 : 1; /* 1: #GP, as the CPU would */
	if (r != 1)
		return;
	for (uint32_t i = 0; i < kc->msrs_known_n; i++)
		if (kc->msrs_known_e[i].index == m.e.index)
			kc->msrs_known_e[i].data = m.e.data;
}

int vmc__kvm_vcpu_save(struct vmc_vcpu *vcpu, void *buf, size_t size)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	struct kvm_state *st;
	struct kvm_state_msrs m = {.hdr.nmsrs = KVM_STATE_NMSR};
	int r;

	if (!buf)
		return (int)sizeof(*st);
	if (size < sizeof(*st))
		return -EINVAL;
	r = vmc__kvm_vcpu_realize(vcpu);
	if (r < 0)
		return r;
	/* Pending cached writes first, so the kernel's state is whole. */
	r = vmc__kvm_regs_sync(kc);
	if (r < 0)
		return r;
	/* From here on the guest's MSR writes are seen. */
	msr_filter_install(vmc_vcpu_get_vm(vcpu));
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->magic = KVM_STATE_MAGIC;
	st->has_xsave = vmc__kvm_host()->xsave;
	for (unsigned int i = 0; i < KVM_STATE_NMSR; i++)
		m.e[i].index = kvm_state_msrs[i];
	if ((r = vmc__kvm_ioctl(kc->fd, KVM_GET_REGS, &st->regs)) < 0 ||
	    (r = vmc__kvm_ioctl(kc->fd, KVM_GET_SREGS, &st->sregs)) < 0 ||
	    (r = st->has_xsave
			 ? vmc__kvm_ioctl(kc->fd, KVM_GET_XSAVE, &st->xsave)
			 : vmc__kvm_ioctl(kc->fd, KVM_GET_FPU, &st->fpu)) < 0 ||
	    (r = vmc__kvm_ioctl(kc->fd, KVM_GET_VCPU_EVENTS, &st->events)) <
		    0 ||
	    (r = vmc__kvm_ioctl(kc->fd, KVM_GET_MSRS, &m)) < 0)
		goto out;
	/* KVM_GET_MSRS stops at the first MSR it does not know. */
	st->nmsrs = (uint32_t)r;
	if (st->has_xsave &&
	    (r = vmc__kvm_ioctl(kc->fd, KVM_GET_XCRS, &st->xcrs)) < 0)
		goto out;
	memcpy(st->msrs, m.e, sizeof(m.e));
	kc->msrs_known_n = st->nmsrs;
	memcpy(kc->msrs_known_e, m.e, sizeof(m.e));
	kc->msrs_known = kvm_vm_of(vmc_vcpu_get_vm(vcpu))->msr_filter;
	/* What older kernels or hosts lack is left out, not an error. */
	st->has_debugregs =
		vmc__kvm_ioctl(kc->fd, KVM_GET_DEBUGREGS, &st->debugregs) >= 0;
	kc->xcrs_known = st->xcrs;
	kc->debugregs_known = st->debugregs;
	kc->xstate_known = true;
	st->has_lapic = vmc__kvm_ioctl(kc->fd, KVM_GET_LAPIC, &st->lapic) >= 0;
	if (st->has_lapic) {
		struct kvm_state_msr1 d = {.hdr.nmsrs = 1};

		d.e[0].index = KVM_MSR_TSC_DEADLINE;
		st->has_deadline =
			vmc__kvm_ioctl(kc->fd, KVM_GET_MSRS, &d) == 1;
		st->deadline = d.e[0];
	}
	memcpy(buf, st, sizeof(*st));
	r = (int)sizeof(*st);
out:
	free(st);
	return r;
}

/* Whether the kernel holds exactly the blob's MSRs already. */
static bool msrs_match(const struct kvm_vcpu *kc, const struct kvm_state *st)
{
	return kc->msrs_known && kc->msrs_known_n == st->nmsrs &&
	       !memcmp(kc->msrs_known_e, st->msrs,
		       st->nmsrs * sizeof(st->msrs[0]));
}

int vmc__kvm_vcpu_load(struct vmc_vcpu *vcpu, const void *buf, size_t size)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	const struct kvm_state *st = buf;
	struct kvm_state_msrs m;
	int r;

	if (size != sizeof(*st) || st->magic != KVM_STATE_MAGIC ||
	    st->nmsrs > KVM_STATE_NMSR || st->xcrs.nr_xcrs > KVM_MAX_XCRS ||
	    (st->has_xsave && !vmc__kvm_host()->xsave))
		return -EINVAL;
	r = vmc__kvm_vcpu_realize(vcpu);
	if (r < 0)
		return r;
	/*
	 * General and segment registers and the events go through the
	 * register cache, loaded at the next KVM_RUN (see above).  Only what
	 * the save could read of the events is written back.
	 */
	kc->regs = st->regs;
	kc->sregs = st->sregs;
	kc->regs_valid = kc->regs_dirty = true;
	kc->sregs_valid = kc->sregs_dirty = true;
	kc->events = st->events;
	kc->events.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING |
			    KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			    KVM_VCPUEVENT_VALID_SHADOW;
	kc->events_dirty = true;
	/* XCR0 before the XSAVE area, whose components it enables. */
	if (st->has_xsave &&
	    (!kc->xstate_known ||
	     memcmp(&kc->xcrs_known, &st->xcrs, sizeof(st->xcrs)))) {
		kc->xstate_known = false;
		r = vmc__kvm_ioctl(kc->fd, KVM_SET_XCRS, (void *)&st->xcrs);
		if (r < 0)
			return r;
		kc->xcrs_known = st->xcrs;
	}
	r = st->has_xsave
		    ? vmc__kvm_ioctl(kc->fd, KVM_SET_XSAVE, (void *)&st->xsave)
		    : vmc__kvm_ioctl(kc->fd, KVM_SET_FPU, (void *)&st->fpu);
	if (r < 0)
		return r;
	if (st->has_debugregs &&
	    (!kc->xstate_known || memcmp(&kc->debugregs_known, &st->debugregs,
					 sizeof(st->debugregs)))) {
		kc->xstate_known = false;
		r = vmc__kvm_ioctl(kc->fd, KVM_SET_DEBUGREGS,
				   (void *)&st->debugregs);
		if (r < 0)
			return r;
		kc->debugregs_known = st->debugregs;
	}
	kc->xcrs_known = st->xcrs;
	kc->debugregs_known = st->debugregs;
	kc->xstate_known = true;
	if (st->nmsrs && !msrs_match(kc, st)) {
		m.hdr = (struct kvm_msrs){.nmsrs = st->nmsrs};
		memcpy(m.e, st->msrs, sizeof(m.e));
		kc->msrs_known = false;
		r = vmc__kvm_ioctl(kc->fd, KVM_SET_MSRS, &m);
		if (r < 0)
			return r;
		kc->msrs_known_n = st->nmsrs;
		memcpy(kc->msrs_known_e, st->msrs, sizeof(st->msrs));
		kc->msrs_known = (uint32_t)r == st->nmsrs &&
				 kvm_vm_of(vmc_vcpu_get_vm(vcpu))->msr_filter;
	}
	if (st->has_lapic &&
	    (r = vmc__kvm_ioctl(kc->fd, KVM_SET_LAPIC, (void *)&st->lapic)) < 0)
		return r;
	if (st->has_deadline) {
		struct kvm_state_msr1 d = {.hdr.nmsrs = 1};

		d.e[0] = st->deadline;
		if ((r = vmc__kvm_ioctl(kc->fd, KVM_SET_MSRS, &d)) < 0)
			return r;
	}
	atomic_store(&kc->nmi_pending, 0);
	return 0;
}
