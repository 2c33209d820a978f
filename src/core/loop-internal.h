/* SPDX-License-Identifier: MIT */
/*
 * Internal view of the loop objects, shared by the loop, the notifier and
 * the VM layer.  Never installed.
 */
#ifndef VMC_CORE_LOOP_INTERNAL_H
#define VMC_CORE_LOOP_INTERNAL_H

#include <libvmcore/vmc-loop.h>
#include "util.h"

struct vmc__notifier_handler;

struct vmc_notifier {
	int fd;
	/* The handler on a loop, if any (owned by the loop code). */
	struct vmc__notifier_handler *handler;
};

/* Remove the notifier's loop handler, if it has one. */
void vmc__notifier_drop_handler(struct vmc_notifier *n);

struct vmc__lock;
/* Take @lock around the callbacks of timers created on @clock from now on. */
void vmc__clock_set_lock(struct vmc_clock *clock, struct vmc__lock *lock);

#endif
