/* SPDX-License-Identifier: MIT */
/* No work: run-suite.py subtracts the CPU time of a run of this guest
 * (each machine's start-up and teardown) from every workload's. */
#include "bench.h"

const char workload_name[] = "startup";

uint64_t workload(uint32_t iters)
{
	return iters;
}
