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
#include <libvmcore/vmc-debug.h>
#include <libvmcore/vmc-gdbstub.h>
#include <libvmcore/vmc-qmp.h>
#include <libvmcore/vmc-irq.h>
#include <libvmcore/vmc-loader.h>
#include <libvmcore/vmc-riscv.h>
#include <libvmcore/vmc-hw-clint.h>
#include <libvmcore/vmc-hw-plic.h>
#include <libvmcore/vmc-hw-sifive-test.h>
#include <libvmcore/vmc-hw-uart16550.h>
#include <libvmcore/vmc-iothread.h>
#include <libvmcore/vmc-virtio.h>
#include <libvmcore/vmc-virtio-blk.h>
#include <libvmcore/vmc-virtio-console.h>
#include <libvmcore/vmc-virtio-net.h>
#include <libvmcore/vmc-virtio-rng.h>
#include <libvmcore/vmc-virtio-vsock.h>
#include <libvmcore/vmc-kvm.h>
#include <libvmcore/vmc-x86.h>
#include <libvmcore/vmc-snapshot.h>
#include <libvmcore/vmc-sandbox.h>

#endif
