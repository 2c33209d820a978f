/* SPDX-License-Identifier: MIT */
/*
 * vmc-debug.h on KVM/x86: breakpoints and watchpoints in the four debug
 * registers, single-step, and int3 software breakpoints where the host
 * reports them (vmc_kvm_probe_sw_breakpoints()); elsewhere a software
 * breakpoint takes a debug register too.  Every hook runs on the vCPU's
 * thread with the VM lock held, outside KVM_RUN, so KVM_SET_GUEST_DEBUG is
 * issued directly.
 */
#include <sys/ioctl.h>

#include "kvm-internal.h"

static int push_debug(struct vmc_vcpu *vcpu)
{
	static const unsigned int len_bits[9] = {0, 0, 1, 0, 3, 0, 0, 0, 2};
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	struct kvm_guest_debug k = {0};
	uint64_t dr7 = 0x400;
	bool hw = false;
	int r;

	for (unsigned int i = 0; i < 4; i++) {
		uint64_t rw = 0, len = 0;

		if (!kc->dbg_slot[i].kind)
			continue;
		switch (kc->dbg_slot[i].kind - 1) {
		case VMC_DEBUG_WATCH_WRITE:
			rw = 1;
			len = len_bits[kc->dbg_slot[i].len];
			break;
		case VMC_DEBUG_WATCH_ACCESS:
			rw = 3;
			len = len_bits[kc->dbg_slot[i].len];
			break;
		default:
			break;
		}
		k.arch.debugreg[i] = kc->dbg_slot[i].addr;
		dr7 |= UINT64_C(2) << (i * 2);
		dr7 |= (rw | len << 2) << (16 + i * 4);
		hw = true;
	}
	if (hw) {
		k.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		k.arch.debugreg[7] = dr7;
	}
	if (kc->dbg_nr_sw)
		k.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	if (kc->dbg_step)
		k.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	r = vmc__kvm_vcpu_realize(vcpu);
	if (r == 0)
		r = vmc__kvm_ioctl(kc->fd, KVM_SET_GUEST_DEBUG, &k);
	if (r == 0)
		kc->debug = k;
	return r;
}

static int find_slot(struct kvm_vcpu *kc, unsigned int kind, uint64_t addr,
		     uint64_t len)
{
	bool bp = kind <= VMC_DEBUG_BREAK_HW;

	for (int i = 0; i < 4; i++) {
		unsigned int k = kc->dbg_slot[i].kind;

		if (!k || kc->dbg_slot[i].addr != addr)
			continue;
		if (bp ? k - 1 <= VMC_DEBUG_BREAK_HW
		       : (k - 1 == kind && kc->dbg_slot[i].len == len))
			return i;
	}
	return -1;
}

int vmc__kvm_debug_translate(struct vmc_vcpu *vcpu, uint64_t va, uint64_t *pa)
{
	struct kvm_translation t = {.linear_address = va};
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	int r;

	/* The kernel walks the tables of its own copy of CR3 and CR4. */
	r = vmc__kvm_vcpu_realize(vcpu);
	if (r == 0)
		r = vmc__kvm_regs_sync(kc);
	if (r < 0)
		return r;
	r = vmc__kvm_ioctl(kc->fd, KVM_TRANSLATE, &t);
	if (r < 0)
		return r;
	if (!t.valid)
		return -EFAULT;
	*pa = t.physical_address;
	return 0;
}

/*
 * int3 breakpoints: the first vCPU to insert one patches guest memory.
 * Like every debugger access that stores, the patch goes to RAM or ROM
 * only (vmc_as_write_rom()); the byte under it is read through a mapping,
 * so a breakpoint on a device's registers neither reads nor writes them:
 * it fails with -EFAULT.
 */
static int sw_insert(struct vmc_vcpu *vcpu, uint64_t addr)
{
	struct vmc_address_space *as =
		vmc_vm_get_address_space(vmc_vcpu_get_vm(vcpu), VMC_AS_MEMORY);
	struct kvm_vm *kv = kvm_vm_of(vmc_vcpu_get_vm(vcpu));
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	static const uint8_t int3 = 0xcc;
	struct kvm_sw_bp *b = NULL;
	int r;

	for (unsigned int i = 0; i < kc->dbg_nr_sw; i++)
		if (kc->dbg_sw[i] == addr)
			return -EEXIST;
	if (kc->dbg_nr_sw == KVM_MAX_SW_BPS)
		return -ENOSPC;
	for (unsigned int i = 0; i < kv->nr_sw_bps; i++)
		if (kv->sw_bps[i].addr == addr)
			b = &kv->sw_bps[i];
	if (!b) {
		uint64_t gpa;
		uint8_t orig;
		void *p;

		if (kv->nr_sw_bps == KVM_MAX_SW_BPS)
			return -ENOSPC;
		r = vmc__kvm_debug_translate(vcpu, addr, &gpa);
		if (r < 0)
			return r;
		r = vmc_as_map(as, gpa, 1, false, &p);
		if (r < 0)
			return r;
		orig = *(const uint8_t *)p;
		vmc_as_unmap(as, p);
		r = vmc_as_write_rom(as, gpa, &int3, 1);
		if (r < 0)
			return r;
		b = &kv->sw_bps[kv->nr_sw_bps++];
		*b = (struct kvm_sw_bp){.addr = addr, .gpa = gpa, .orig = orig};
	}
	b->refs++;
	kc->dbg_sw[kc->dbg_nr_sw++] = addr;
	return 0;
}

static int sw_remove(struct vmc_vcpu *vcpu, uint64_t addr)
{
	struct kvm_vm *kv = kvm_vm_of(vmc_vcpu_get_vm(vcpu));
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	unsigned int i;

	for (i = 0; i < kc->dbg_nr_sw && kc->dbg_sw[i] != addr; i++)
		;
	if (i == kc->dbg_nr_sw)
		return -ENOENT;
	kc->dbg_sw[i] = kc->dbg_sw[--kc->dbg_nr_sw];
	for (i = 0; i < kv->nr_sw_bps; i++) {
		struct kvm_sw_bp *b = &kv->sw_bps[i];

		if (b->addr != addr || --b->refs)
			continue;
		if (vmc_as_write_rom(
			    vmc_vm_get_address_space(vmc_vcpu_get_vm(vcpu),
						     VMC_AS_MEMORY),
			    b->gpa, &b->orig, 1) < 0)
			vmc__err("kvm: cannot restore the byte under a "
				 "breakpoint at 0x%llx",
				 (unsigned long long)addr);
		*b = kv->sw_bps[--kv->nr_sw_bps];
		break;
	}
	return 0;
}

int vmc__kvm_debug_insert(struct vmc_vcpu *vcpu, unsigned int kind,
			  uint64_t addr, uint64_t len)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	int r, i;

	if (kind == VMC_DEBUG_WATCH_READ)
		return -EOPNOTSUPP;
	if (kind >= VMC_DEBUG_WATCH_WRITE &&
	    ((len != 1 && len != 2 && len != 4 && len != 8) ||
	     (addr & (len - 1))))
		return -EINVAL;
	if (kind == VMC_DEBUG_BREAK_SW && vmc_kvm_probe_sw_breakpoints() == 1) {
		r = sw_insert(vcpu, addr);
		if (r == 0 && (r = push_debug(vcpu)) < 0)
			sw_remove(vcpu, addr);
		return r;
	}
	if (find_slot(kc, kind, addr, len) >= 0)
		return -EEXIST;
	for (i = 0; i < 4 && kc->dbg_slot[i].kind; i++)
		;
	if (i == 4)
		return -ENOSPC;
	kc->dbg_slot[i].kind = kind + 1;
	kc->dbg_slot[i].addr = addr;
	kc->dbg_slot[i].len = kind <= VMC_DEBUG_BREAK_HW ? 1 : len;
	r = push_debug(vcpu);
	if (r < 0)
		kc->dbg_slot[i].kind = 0;
	return r;
}

int vmc__kvm_debug_remove(struct vmc_vcpu *vcpu, unsigned int kind,
			  uint64_t addr, uint64_t len)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	int i;

	if (kind == VMC_DEBUG_BREAK_SW && sw_remove(vcpu, addr) == 0)
		return push_debug(vcpu);
	i = find_slot(kc, kind, addr, len);
	if (i < 0)
		return -ENOENT;
	kc->dbg_slot[i].kind = 0;
	return push_debug(vcpu);
}

int vmc__kvm_debug_step(struct vmc_vcpu *vcpu, bool on)
{
	kvm_vcpu_of(vcpu)->dbg_step = on;
	return push_debug(vcpu);
}

void vmc__kvm_debug_record(struct vmc_vcpu *vcpu, uint32_t exception,
			   uint64_t dr6)
{
	struct kvm_vcpu *kc = kvm_vcpu_of(vcpu);
	struct vmc_debug_stop st = {.reason = VMC_DEBUG_STOP_BREAK};

	if (exception == 1) {
		for (unsigned int i = 0; i < 4; i++) {
			unsigned int k = kc->dbg_slot[i].kind;

			if (!(dr6 & (1u << i)) || !k)
				continue;
			if (k - 1 >= VMC_DEBUG_WATCH_WRITE) {
				st.reason = VMC_DEBUG_STOP_WATCH;
				st.watch_kind = (enum vmc_debug_kind)(k - 1);
				st.watch_addr = kc->dbg_slot[i].addr;
			}
			break;
		}
		/* DR6.BS: a single step completed. */
		if (st.reason == VMC_DEBUG_STOP_BREAK && (dr6 & 0x4000))
			st.reason = VMC_DEBUG_STOP_STEP;
	}
	vmc__accel_vcpu(vcpu)->debug_stop = st;
}
