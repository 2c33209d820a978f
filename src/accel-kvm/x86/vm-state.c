/* SPDX-License-Identifier: MIT */
/*
 * The in-kernel devices of a KVM x86 VM in snapshots: the PICs and the I/O
 * APIC ("kvm-irqchip", KVM_GET_IRQCHIP) and the 8254 PIT ("kvm-pit",
 * KVM_GET_PIT2), registered as snapshot sections through the public API
 * like any device's, when the board asked for them.  The local APICs are
 * per vCPU and in vcpu_save's blob.  Not saved: kvmclock's offset (guest
 * time goes on across a restore, as with the TSC).
 */
#include <linux/kvm.h>
#include <string.h>

#include <libvmcore/vmc-snapshot.h>

#include "../kvm-internal.h"

/* The two PICs and the I/O APIC, in KVM's chip ids. */
#define NCHIPS 3

static int irqchip_save(void *opaque, void *buf, size_t size)
{
	struct kvm_vm *kv = kvm_vm_of(opaque);
	struct kvm_irqchip chip[NCHIPS];
	int r;

	if (!buf)
		return (int)sizeof(chip);
	if (size < sizeof(chip))
		return -EINVAL;
	memset(chip, 0, sizeof(chip));
	for (unsigned int i = 0; i < NCHIPS; i++) {
		chip[i].chip_id = i;
		r = vmc__kvm_ioctl(kv->fd, KVM_GET_IRQCHIP, &chip[i]);
		if (r < 0)
			return r;
	}
	memcpy(buf, chip, sizeof(chip));
	return (int)sizeof(chip);
}

static int irqchip_check(void *opaque, const void *buf, size_t size,
			 uint32_t version)
{
	struct kvm_irqchip chip[NCHIPS];

	if (version != 1 || size != sizeof(chip))
		return -EINVAL;
	memcpy(chip, buf, sizeof(chip));
	for (unsigned int i = 0; i < NCHIPS; i++)
		if (chip[i].chip_id != i)
			return -EINVAL;
	return 0;
}

static int irqchip_load(void *opaque, const void *buf, size_t size,
			uint32_t version)
{
	struct kvm_vm *kv = kvm_vm_of(opaque);
	struct kvm_irqchip chip[NCHIPS];
	int r = irqchip_check(opaque, buf, size, version);

	if (r < 0)
		return r;
	memcpy(chip, buf, sizeof(chip));
	for (unsigned int i = 0; i < NCHIPS; i++) {
		r = vmc__kvm_ioctl(kv->fd, KVM_SET_IRQCHIP, &chip[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int pit_save(void *opaque, void *buf, size_t size)
{
	struct kvm_vm *kv = kvm_vm_of(opaque);
	struct kvm_pit_state2 pit;
	int r;

	if (!buf)
		return (int)sizeof(pit);
	if (size < sizeof(pit))
		return -EINVAL;
	r = vmc__kvm_ioctl(kv->fd, KVM_GET_PIT2, &pit);
	if (r < 0)
		return r;
	memcpy(buf, &pit, sizeof(pit));
	return (int)sizeof(pit);
}

static int pit_check(void *opaque, const void *buf, size_t size,
		     uint32_t version)
{
	return version == 1 && size == sizeof(struct kvm_pit_state2) ? 0
								     : -EINVAL;
}

static int pit_load(void *opaque, const void *buf, size_t size,
		    uint32_t version)
{
	struct kvm_vm *kv = kvm_vm_of(opaque);
	struct kvm_pit_state2 pit;
	int r = pit_check(opaque, buf, size, version);

	if (r < 0)
		return r;
	memcpy(&pit, buf, sizeof(pit));
	return vmc__kvm_ioctl(kv->fd, KVM_SET_PIT2, &pit);
}

int vmc__kvm_x86_add_sections(struct vmc_vm *vm)
{
	static const struct vmc_snapshot_section_ops irqchip_ops = {
		.struct_size = sizeof(irqchip_ops),
		.save = irqchip_save,
		.check = irqchip_check,
		.load = irqchip_load,
	};
	static const struct vmc_snapshot_section_ops pit_ops = {
		.struct_size = sizeof(pit_ops),
		.save = pit_save,
		.check = pit_check,
		.load = pit_load,
	};
	struct kvm_vm *kv = kvm_vm_of(vm);
	struct vmc_snapshot_section *s;
	int r = 0;

	/* Freed with the VM (its sections go in vm_free). */
	if (kv->irqchip)
		r = vmc_vm_add_snapshot_section(vm, "kvm-irqchip", 1,
						&irqchip_ops, vm, &s);
	if (r == 0 && kv->pit)
		r = vmc_vm_add_snapshot_section(vm, "kvm-pit", 1, &pit_ops, vm,
						&s);
	return r;
}
