/* SPDX-License-Identifier: MIT */
/*
 * Register access entry points of the device models, with the signatures
 * of I/O region callbacks: what their regions call, and what white-box
 * tests may call directly.  Offsets are relative to the device's region;
 * the VM lock is held.  They always return 0: an access to a hole, or of a
 * width the register does not take, is ignored and reads 0, as on QEMU's
 * models.  Never installed.
 */
#ifndef VMC_HW_INTERNAL_H
#define VMC_HW_INTERNAL_H

#include <stdint.h>

#include <libvmcore/vmc-memory.h>
#include <libvmcore/vmc-vm.h>

/* Marks a definition as part of the ABI; the symbol map must list it. */
#ifndef VMC_EXPORT
#define VMC_EXPORT __attribute__((visibility("default")))
/*
 * A device's I/O region (hw-region.c).  vmc__hw_region_kill() (under or
 * without the VM lock) makes the callbacks do nothing; the device's memory
 * goes with the region's last reference, through @destroy.  A device's
 * _free: kill, free its loop objects, unref.
 */
struct vmc__hw_region;
int vmc__hw_region_new(struct vmc_vm *vm, const char *name, uint64_t size,
		       unsigned int min_access, unsigned int max_access,
		       vmc_region_read_cb read, vmc_region_write_cb write,
		       void *dev, void (*destroy)(void *dev),
		       struct vmc__hw_region **ret);
struct vmc_region *vmc__hw_region_get(struct vmc__hw_region *hr);
void vmc__hw_region_kill(struct vmc__hw_region *hr);
void vmc__hw_region_unref(struct vmc__hw_region *hr);

#endif

int vmc__clint_read(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t *value);
int vmc__clint_write(void *opaque, uint64_t offset, unsigned int size,
		     uint64_t value);

int vmc__plic_read(void *opaque, uint64_t offset, unsigned int size,
		   uint64_t *value);
int vmc__plic_write(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t value);

int vmc__sifive_test_read(void *opaque, uint64_t offset, unsigned int size,
			  uint64_t *value);
int vmc__sifive_test_write(void *opaque, uint64_t offset, unsigned int size,
			   uint64_t value);

/*
 * A device's I/O region (hw-region.c).  vmc__hw_region_kill() (under or
 * without the VM lock) makes the callbacks do nothing; the device's memory
 * goes with the region's last reference, through @destroy.  A device's
 * _free: kill, free its loop objects, unref.
 */
struct vmc__hw_region;
int vmc__hw_region_new(struct vmc_vm *vm, const char *name, uint64_t size,
		       unsigned int min_access, unsigned int max_access,
		       vmc_region_read_cb read, vmc_region_write_cb write,
		       void *dev, void (*destroy)(void *dev),
		       struct vmc__hw_region **ret);
struct vmc_region *vmc__hw_region_get(struct vmc__hw_region *hr);
void vmc__hw_region_kill(struct vmc__hw_region *hr);
void vmc__hw_region_unref(struct vmc__hw_region *hr);

#endif
