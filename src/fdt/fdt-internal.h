/* SPDX-License-Identifier: MIT */
/*
 * The device-tree helpers are built with only include/ and this folder on
 * their include path, like the device models: what they share with the
 * rest of the library is the export marker and the way a bad argument is
 * reported.  Never installed.
 */
#ifndef VMC_FDT_INTERNAL_H
#define VMC_FDT_INTERNAL_H

#include <libvmcore/vmc-common.h>

/* Marks a definition as part of the ABI; the symbol map must list it. */
#ifndef VMC_EXPORT
#define VMC_EXPORT __attribute__((visibility("default")))
#endif

#endif
