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
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
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

/* ------------------------------------------------------------------------
 * Input while the VM is saved.  A host peer blasts console input at a
 * device on an I/O thread of its own while the VM is saved again and
 * again; every file is loaded back with the peer quiet, and the device's
 * section and the RAM must agree: the next input lands in the used ring's
 * next slot after the one the RAM shows, in the buffer after the last one
 * used, and no buffer past it holds input.  Were the I/O thread not held
 * still, a byte taken between the device's section and the RAM copy
 * would leave the RAM's used index ahead of the device's, and the next
 * input would go to a slot the guest had already seen.
 */

#define BLAST_NUM 128u
#define BLAST_MARK 0xffu

struct blaster {
	int fd;
	unsigned int spin;
	_Atomic bool stop;
	pthread_t thread;
};

static void *blast(void *arg)
{
	struct blaster *b = arg;
	uint8_t c = 1;

	while (!atomic_load(&b->stop)) {
		if (write(b->fd, &c, 1) == 1)
			c = (uint8_t)(c % 200 + 1); /* never 0 or the mark */
		else
			sched_yield();
		if (b->spin) {
			for (volatile unsigned int i = 0; i < b->spin; i++)
				;
		} else {
			nanosleep(&(struct timespec){.tv_nsec = 10000}, NULL);
		}
	}
	return NULL;
}

static void drain(int fd)
{
	uint8_t buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wait (1 s at most) until the used index is at least @n. */
static void wait_used(uint16_t n)
{
	uint64_t end = now_ns() + 1000000000u;

	while ((uint16_t)(used_idx(0) - n) > 0x8000u && now_ns() < end)
		sched_yield();
}

struct on_iot {
	uint8_t *file;
	size_t len;
	int save_r, load_r;
};

/* On the device's own I/O thread: both must refuse, not deadlock. */
static void snapshot_on_iot(void *arg)
{
	struct on_iot *o = arg;
	int fd = memfd_create("snap", MFD_CLOEXEC);

	o->save_r = fd < 0 ? -errno : vmc_vm_save_fd(vm, fd);
	o->load_r = vmc_vm_load_buffer(vm, o->file, o->len);
	if (fd >= 0)
		close(fd);
}

static void test_console_blast(void)
{
	struct vmc_virtio_console_config c;
	struct vmc_virtio_console *con;
	struct vmc_iothread *iot;
	struct blaster b = {0};
	struct on_iot o = {0};
	unsigned int rounds = 300, checked = 0, mid = 0;
	uint8_t *f0;
	size_t l0;
	int in[2], out[2];

	if (getenv("VT_BLAST_ROUNDS"))
		rounds = (unsigned int)atoi(getenv("VT_BLAST_ROUNDS"));
	ASSERT_OK(pipe2(in, O_CLOEXEC | O_NONBLOCK));
	ASSERT_OK(pipe2(out, O_CLOEXEC | O_NONBLOCK));
	ASSERT_OK(vmc_iothread_new("vt-blast", &iot));
	vm_up();
	vmc_virtio_console_config_init(&c);
	c.iothread = iot;
	c.vm = vm;
	c.irq = irq;
	c.in_fd = in[0];
	c.out_fd = out[1];
	c.legacy = false;
	c.cols = 80;
	c.rows = 25;
	ASSERT_OK(vmc_virtio_console_new(&c, &con));
	map_dev(vmc_virtio_console_get_region(con));
	drv_init(false, F_VERSION_1 | 1 | 4, 2, BLAST_NUM);
	/* One-byte receive buffers: every byte is a used element. */
	for (unsigned int i = 0; i < BLAST_NUM; i++) {
		set_desc(q[0].desc, i, BUF_GPA + i, 1, D_WRITE, 0);
		make_avail(0, (uint16_t)i);
	}
	kick(0);
	ASSERT_EQ(used_idx(0), 0);
	f0 = save(&l0);

	b.fd = in[1];
	for (unsigned int r = 0; r < rounds; r++) {
		uint16_t u;
		uint8_t *f;
		size_t l;

		ASSERT_OK(vmc_vm_load_buffer(vm, f0, l0));
		ASSERT_EQ(used_idx(0), 0);
		atomic_store(&b.stop, false);
		/* A byte every few microseconds, or every sleep. */
		b.spin = r % 4 == 3 ? 0 : 4000u << (r % 4);
		ASSERT_OK(pthread_create(&b.thread, NULL, blast, &b));
		wait_used((uint16_t)(1 + r % 48));
		f = save(&l);
		atomic_store(&b.stop, true);
		ASSERT_OK(pthread_join(b.thread, NULL));
		drain(in[0]);

		ASSERT_OK(vmc_vm_load_buffer(vm, f, l));
		free(f);
		u = used_idx(0);
		if (u >= BLAST_NUM)
			continue; /* every buffer used: nothing to check */
		checked++;
		if (u > 1 + r % 48)
			mid++; /* input arrived while the file was written */
		for (unsigned int i = 0; i < u; i++) {
			ASSERT_EQ(used_id(0, (uint16_t)i), i);
			ASSERT_EQ(used_len(0, (uint16_t)i), 1);
			ASSERT_NE(gpa(BUF_GPA + i)[0], 0);
		}
		for (unsigned int i = u; i < BLAST_NUM; i++)
			ASSERT_EQ(gpa(BUF_GPA + i)[0], 0);
		/*
		 * The device goes on from where the RAM says it was.  (The
		 * pipe orders the reads above before the device's write;
		 * for TSan, which does not see that, the device lock does.)
		 */
		vmc_virtio_lock(vmc_virtio_console_get_virtio(con));
		vmc_virtio_unlock(vmc_virtio_console_get_virtio(con));
		ASSERT_EQ(write(in[1], (uint8_t[]){BLAST_MARK}, 1), 1);
		wait_used((uint16_t)(u + 1));
		ASSERT_EQ(used_idx(0), u + 1);
		ASSERT_EQ(used_id(0, u), u);
		ASSERT_EQ(used_len(0, u), 1);
		ASSERT_EQ(gpa(BUF_GPA + u)[0], BLAST_MARK);
	}
	printf("  %u of %u rounds checked, %u with input past the wait\n",
	       checked, rounds, mid);
	ASSERT_GE(checked, rounds / 10);

	/* From the device's own I/O thread: a clear refusal. */
	o.file = f0;
	o.len = l0;
	ASSERT_OK(vmc_iothread_run_sync(iot, snapshot_on_iot, &o));
	ASSERT_ERR(o.save_r, -EDEADLK);
	ASSERT_ERR(o.load_r, -EDEADLK);
	ASSERT_OK(vmc_vm_load_buffer(vm, f0, l0));
	ASSERT_EQ(used_idx(0), 0);

	free(f0);
	unmap_dev(vmc_virtio_console_get_region(con));
	vmc_virtio_console_free(con);
	vm_down();
	vmc_iothread_free(iot);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	RUN(test_console_in_flight);
	RUN(test_console_blast);
	return 0;
}
