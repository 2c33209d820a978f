/* SPDX-License-Identifier: MIT */
/*
 * Placeholder for notifier handlers on a loop, until the loop lands.
 */
#include "loop-internal.h"

void vmc__notifier_drop_handler(struct vmc_notifier *n)
{
	(void)n;
}
