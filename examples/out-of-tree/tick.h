/* SPDX-License-Identifier: MIT */
/*
 * A countdown device, written outside libvmcore against its installed
 * headers only: the way to write a device model of your own.
 *
 * Registers (32-bit, little endian):
 *   0x0 COUNT   write N: fire after N microseconds of guest time
 *               (0 cancels); read: microseconds left
 *   0x4 STATUS  bit 0: fired (its interrupt line is up); write 1 to clear
 *   0x8 FIRED   read: how many times it fired
 */
#ifndef TICK_H
#define TICK_H

#include <libvmcore/libvmcore.h>

#define TICK_COUNT 0x0
#define TICK_STATUS 0x4
#define TICK_FIRED 0x8
#define TICK_SIZE 0x10

struct tick;

/*
 * Create the device on @vm, raising @irq (may be NULL) when it fires.
 * Map tick_get_region() to make it visible.  Loop thread.
 */
int tick_new(struct vmc_vm *vm, struct vmc_irq *irq, struct tick **ret);

/* The device's registers; owned by the device. */
struct vmc_region *tick_get_region(struct tick *t);

/*
 * Free the device (loop thread).  Its memory goes once no vCPU can still
 * be inside one of its callbacks; @released, if set, is called then.
 */
void tick_free(struct tick *t, void (*released)(void *), void *opaque);

#endif
