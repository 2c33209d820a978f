/* SPDX-License-Identifier: MIT */
/*
 * The I/O region of a device model, with a safe end of life.
 *
 * A device is freed on the loop thread after its region was removed from
 * the tree, but a vCPU may still be dispatching through an older flat view
 * that shows the region: the memory API keeps the region alive until every
 * reader has moved on.  So freeing a device happens in two steps: it is
 * marked dead under the VM lock (callbacks, which run under the same lock,
 * do nothing from then on), and its memory is released only when the
 * region's last reference goes.
 */
#include <errno.h>
#include <stdlib.h>

#include <libvmcore/libvmcore.h>

#include "hw-internal.h"

struct vmc__hw_region {
	struct vmc_vm *vm;
	struct vmc_region *region;
	bool dead;
	vmc_region_read_cb read;
	vmc_region_write_cb write;
	void (*destroy)(void *dev);
	void *dev;
};

static int hw_read(void *opaque, uint64_t offset, unsigned int size,
		   uint64_t *value)
{
	struct vmc__hw_region *hr = opaque;

	if (hr->dead) {
		*value = 0;
		return 0;
	}
	return hr->read(hr->dev, offset, size, value);
}

static int hw_write(void *opaque, uint64_t offset, unsigned int size,
		    uint64_t value)
{
	struct vmc__hw_region *hr = opaque;

	if (hr->dead)
		return 0;
	return hr->write(hr->dev, offset, size, value);
}

static void hw_release(void *opaque)
{
	struct vmc__hw_region *hr = opaque;

	hr->destroy(hr->dev);
	free(hr);
}

int vmc__hw_region_new(struct vmc_vm *vm, const char *name, uint64_t size,
		       unsigned int min_access, unsigned int max_access,
		       vmc_region_read_cb read, vmc_region_write_cb write,
		       void *dev, void (*destroy)(void *dev),
		       struct vmc__hw_region **ret)
{
	struct vmc_region_ops ops = {
		.struct_size = sizeof(ops),
		.read = hw_read,
		.write = hw_write,
		.release = hw_release,
		.min_access_size = min_access,
		.max_access_size = max_access,
		.endian = VMC_ENDIAN_LITTLE,
	};
	struct vmc__hw_region *hr;
	int r;

	hr = calloc(1, sizeof(*hr));
	if (!hr)
		return -ENOMEM;
	*hr = (struct vmc__hw_region){
		.vm = vm,
		.read = read,
		.write = write,
		.destroy = destroy,
		.dev = dev,
	};
	r = vmc_region_new_io(vmc_vm_get_memory(vm), name, size, &ops, hr, 0,
			      &hr->region);
	if (r < 0) {
		free(hr);
		return r;
	}
	*ret = hr;
	return 0;
}

struct vmc_region *vmc__hw_region_get(struct vmc__hw_region *hr)
{
	return hr ? hr->region : NULL;
}

void vmc__hw_region_kill(struct vmc__hw_region *hr)
{
	bool taken;

	if (!hr)
		return;
	taken = !vmc_vm_lock_held(hr->vm);
	if (taken)
		vmc_vm_lock(hr->vm);
	hr->dead = true;
	if (taken)
		vmc_vm_unlock(hr->vm);
}

void vmc__hw_region_unref(struct vmc__hw_region *hr)
{
	if (hr)
		vmc_region_unref(hr->region);
}
