/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport's snapshot section, on the harness (whose
 * VMs save to files: a vCPU's state is an empty marker).  A virtio-console
 * driver posts a receive buffer that the device takes and holds while no
 * input comes; the VM is saved then.  Input then fills the buffer; the
 * file is loaded back: the used ring is as it was (RAM), the transport
 * gives the held buffer back to the device (its queue rewound and
 * kicked), and new input fills the same buffer again, exactly once.  The
 * registers read as they did, and a file of another device's VM is
 * refused with the VM unchanged.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio-driver.h"

static uint8_t *save(size_t *len)
{
	int fd = memfd_create("snap", MFD_CLOEXEC);
	struct stat st;
	uint8_t *p;

	ASSERT_GE(fd, 0);
	ASSERT_OK(vmc_vm_save_fd(vm, fd));
	ASSERT_OK(fstat(fd, &st));
	p = malloc((size_t)st.st_size);
	ASSERT_NOT_NULL(p);
	ASSERT_EQ(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void test_console_in_flight(void)
{
	struct vmc_virtio_console_config c;
	struct vmc_virtio_console *con;
	struct vmc_virtio_rng_config rc;
	struct vmc_virtio_rng *rng;
	uint8_t *f1, *f2, *f3;
	size_t l1, l2, l3;
	int in[2], out[2];
	uint32_t status;

	ASSERT_OK(pipe2(in, O_CLOEXEC | O_NONBLOCK));
	ASSERT_OK(pipe2(out, O_CLOEXEC | O_NONBLOCK));
	vm_up();
	vmc_virtio_console_config_init(&c);
	c.iothread = drv_iot;
	c.vm = vm;
	c.irq = irq;
	c.in_fd = in[0];
	c.out_fd = out[1];
	c.legacy = false;
	c.cols = 80;
	c.rows = 25;
	ASSERT_OK(vmc_virtio_console_new(&c, &con));
	map_dev(vmc_virtio_console_get_region(con));
	drv_init(false, F_VERSION_1 | 1 | 4, 2, 16);
	status = rd(R_STATUS);

	/* A receive buffer, taken and held: no input yet. */
	set_desc(q[0].desc, 0, BUF_GPA, 64, D_WRITE, 0);
	make_avail(0, 0);
	kick(0);
	ASSERT_EQ(used_idx(0), 0);
	f1 = save(&l1);
	/*
	 * On an I/O thread the device writes RAM under its own mutex, not
	 * the VM lock the save held: taking the device lock orders the
	 * save's reads of RAM before the device's next write (for TSan).
	 */
	vmc_virtio_lock(vmc_virtio_console_get_virtio(con));
	vmc_virtio_unlock(vmc_virtio_console_get_virtio(con));

	/* Input fills it. */
	ASSERT_EQ(write(in[1], "abc", 3), 3);
	run_loop();
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(memcmp(gpa(BUF_GPA), "abc", 3), 0);
	ack_irq();

	/* Back: the buffer is empty and unused, and held again. */
	ASSERT_OK(vmc_vm_load_buffer(vm, f1, l1));
	ASSERT_EQ(used_idx(0), 0);
	ASSERT_EQ(gpa(BUF_GPA)[0], 0);
	ASSERT_EQ(rd(R_STATUS), status);
	run_loop();
	ASSERT_EQ(used_idx(0), 0);
	f2 = save(&l2);
	ASSERT_EQ(l1, l2);
	ASSERT_TRUE(memcmp(f1, f2, l1) == 0);
	ASSERT_EQ(write(in[1], "xyz!", 4), 4);
	run_loop();
	ASSERT_EQ(used_idx(0), 1);
	ASSERT_EQ(used_id(0, 0), 0);
	ASSERT_EQ(used_len(0, 0), 4);
	ASSERT_EQ(memcmp(gpa(BUF_GPA), "xyz!", 4), 0);
	ack_irq();

	/* Another device in the slot: refused, nothing changed. */
	unmap_dev(vmc_virtio_console_get_region(con));
	vmc_virtio_console_free(con);
	vmc_virtio_rng_config_init(&rc);
	rc.iothread = drv_iot;
	rc.vm = vm;
	rc.irq = irq;
	ASSERT_OK(vmc_virtio_rng_new(&rc, &rng));
	map_dev(vmc_virtio_rng_get_region(rng));
	free(f2);
	f2 = save(&l2);
	ASSERT_ERR(vmc_vm_load_buffer(vm, f1, l1), -EINVAL);
	f3 = save(&l3);
	ASSERT_EQ(l2, l3);
	ASSERT_TRUE(memcmp(f3, f2, l3) == 0);
	free(f3);
	unmap_dev(vmc_virtio_rng_get_region(rng));
	vmc_virtio_rng_free(rng);

	free(f1);
	free(f2);
	vm_down();
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	RUN(test_console_in_flight);
	return 0;
}
