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
 * deterministic clock.
 */
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

const struct vmc_accel_ops vmc__accel_harness = {
	.name = "harness",
	.type = VMC_ACCEL_HARNESS,
	.probe = harness_probe,
	.vcpu_run = harness_vcpu_run,
};
