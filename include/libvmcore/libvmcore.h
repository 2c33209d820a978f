/* SPDX-License-Identifier: MIT */
/**
 * @file libvmcore.h
 * @brief The whole public API of libvmcore (except the optional libuv and
 * libfdt interop headers, vmc-uv.h and vmc-fdt.h).
 */
#ifndef LIBVMCORE_LIBVMCORE_H
#define LIBVMCORE_LIBVMCORE_H

#include <libvmcore/vmc-common.h>
#include <libvmcore/vmc-loop.h>
#include <libvmcore/vmc-memory.h>
#include <libvmcore/vmc-vm.h>
#include <libvmcore/vmc-vcpu.h>
#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-kvm.h>
#include <libvmcore/vmc-x86.h>

#endif
