/* SPDX-License-Identifier: MIT */
/*
 * The harness accelerator: no guest code runs.
 *
 * vCPU threads exist and follow the whole lifecycle (work items, stop,
 * pause, reset, unplug), but a running harness vCPU behaves like a CPU that
 * halted and never takes an interrupt: it sleeps until it has work or a
 * stop request.  A test drives the machine from outside: guest-like
 * accesses through the memory API's dispatch, interrupt lines read with
 * vmc_vcpu_get_irqs(), time moved with vmc_clock_step() on the VM's
 * deterministic clock.  Snapshot files work (a vCPU's state is an empty
 * marker), so device models are saved and restored in unit tests; with no
 * dirty log, in-memory snapshots are not available.
 */
#include <string.h>

#include "vm-internal.h"

static int harness_probe(enum vmc_arch arch)
{
	/* No CPU runs, so any architecture's devices can be exercised. */
	return 0;
}

static int harness_vcpu_run(struct vmc_vcpu *vcpu)
{
	return VMC__EXIT_HALTED;
}

#define HARNESS_STATE "harness1"

static int harness_vcpu_save(struct vmc_vcpu *vcpu, void *buf, size_t size)
{
	if (buf && size < sizeof(HARNESS_STATE) - 1)
		return -EINVAL;
	if (buf)
		memcpy(buf, HARNESS_STATE, sizeof(HARNESS_STATE) - 1);
	return (int)sizeof(HARNESS_STATE) - 1;
}

static int harness_vcpu_load(struct vmc_vcpu *vcpu, const void *buf,
			     size_t size)
{
	if (size != sizeof(HARNESS_STATE) - 1 ||
	    memcmp(buf, HARNESS_STATE, size) != 0)
		return -EINVAL;
	return 0;
}

const struct vmc_accel_ops vmc__accel_harness = {
	.name = "harness",
	.type = VMC_ACCEL_HARNESS,
	.probe = harness_probe,
	.vcpu_run = harness_vcpu_run,
	.vcpu_save = harness_vcpu_save,
	.vcpu_load = harness_vcpu_load,
};
