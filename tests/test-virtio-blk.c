/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk on the harness accelerator: the test is the driver (as in
 * test-virtio.c), the backing store a temporary file the test checks
 * with pread().
 *
 * Covered: negotiation and the configuration space, read/write round
 * trips checked against the file, flush, GET_ID, discard and write-zeroes
 * (the file's bytes), a read-only disk, sectors out of range, unknown
 * types and flags, malformed requests (DEVICE_NEEDS_RESET), many requests
 * in flight on two queues with both backends, and a reset (and a free)
 * with requests in flight.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvmcore/libvmcore.h>

#include "vmc-test.h"

#include "virtio-driver.h"

/* ------------------------------------------------------------------------
 * The disk
 */

#define DISK_SECTORS 2048		/* 1 MiB */
#define HDR_GPA (RAM_BASE + 0x20000)	/* 16 bytes per request */
#define SEG_GPA (RAM_BASE + 0x28000)	/* discard segments */
#define STATUS_GPA (RAM_BASE + 0x30000) /* one byte per request */
#define DATA_GPA (RAM_BASE + 0x40000)	/* up to 768 KiB of data */

#define F_RO (1ull << 5)
#define F_MQ (1ull << 12)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WZ 13

static int disk_fd;

static void disk_up_in(const char *dir)
{
	char path[128];
	uint8_t sec[512];

	snprintf(path, sizeof(path), "%s/vmc-test-blk-XXXXXX", dir);

	disk_fd = mkstemp(path);
	ASSERT_GE(disk_fd, 0);
	unlink(path);
	/* Every sector starts as its number's low byte, repeated. */
	for (unsigned int s = 0; s < DISK_SECTORS; s++) {
		memset(sec, (uint8_t)(s + 1), sizeof(sec));
		ASSERT_EQ(pwrite(disk_fd, sec, sizeof(sec), s * 512ll), 512);
	}
}

static void disk_up(void)
{
	disk_up_in("/tmp");
}

static void disk_down(void)
{
	close(disk_fd);
}

static void disk_read(uint64_t off, void *buf, size_t len)
{
	ASSERT_EQ(pread(disk_fd, buf, len, (off_t)off), (ssize_t)len);
}

static struct vmc_virtio_blk *blk_up_full(enum vmc_virtio_blk_aio aio,
					  unsigned int nq, bool ro, int fd)
{
	struct vmc_virtio_blk_config c;
	struct vmc_virtio_blk *blk;
	int r;

	vmc_virtio_blk_config_init(&c);

	c.iothread = drv_iot;
	c.vm = vm;
	c.irq = irq;
	c.fd = fd;
	c.read_only = ro;
	c.serial = "vmc-disk-0";
	c.num_queues = nq;
	c.aio = aio;
	c.threads = 2;
	r = vmc_virtio_blk_new(&c, &blk);
	if (r == -EOPNOTSUPP && aio == VMC_VIRTIO_BLK_AIO_IO_URING)
		return NULL;
	ASSERT_OK(r);
	if (aio != VMC_VIRTIO_BLK_AIO_AUTO)
		ASSERT_EQ(vmc_virtio_blk_get_aio(blk), aio);
	map_dev(vmc_virtio_blk_get_region(blk));
	return blk;
}

static struct vmc_virtio_blk *blk_up(enum vmc_virtio_blk_aio aio,
				     unsigned int nq, bool ro)
{
	return blk_up_full(aio, nq, ro, disk_fd);
}

static void blk_down(struct vmc_virtio_blk *blk)
{
	unmap_dev(vmc_virtio_blk_get_region(blk));
	vmc_virtio_blk_free(blk);
}

/*
 * Queue request @i on queue @qi: header, then @len data bytes at @data
 * (device-writable for IN and GET_ID, readable otherwise), then the status
 * byte; descriptors 3i..3i+2.  The status byte starts as 0xee.
 */
static void blk_request(unsigned int qi, unsigned int i, uint32_t type,
			uint64_t sector, uint64_t data, uint32_t len)
{
	uint64_t desc = q[qi].desc, hdr = HDR_GPA + 16 * (i + 64 * qi);
	uint64_t st = STATUS_GPA + i + 64 * qi;
	bool w = type == T_IN || type == T_GET_ID;
	unsigned int d = 3 * i;

	put32(hdr, type);
	put32(hdr + 4, 0);
	put64(hdr + 8, sector);
	*gpa(st) = 0xee;
	set_desc(desc, d, hdr, 16, D_NEXT, (uint16_t)(d + 1));
	if (len) {
		set_desc(desc, d + 1, data, len, D_NEXT | (w ? D_WRITE : 0),
			 (uint16_t)(d + 2));
		set_desc(desc, d + 2, st, 1, D_WRITE, 0);
	} else {
		set_desc(desc, d, hdr, 16, D_NEXT, (uint16_t)(d + 2));
		set_desc(desc, d + 2, st, 1, D_WRITE, 0);
	}
	make_avail(qi, (uint16_t)d);
}

static uint8_t req_status(unsigned int qi, unsigned int i)
{
	return *gpa(STATUS_GPA + i + 64 * qi);
}

/* Run the loop until queue @qi has @n used entries (5 s at most). */
static void wait_used(unsigned int qi, uint16_t n)
{
	for (int i = 0; i < 5000 && used_idx(qi) != n; i++) {
		ASSERT_OK(vmc_loop_run_once(loop, false));
		if (used_idx(qi) != n)
			usleep(1000);
	}
	ASSERT_EQ(used_idx(qi), n);
}

/* One request on queue 0 slot 0, waited for; returns its status. */
static uint8_t do_req(uint32_t type, uint64_t sector, uint64_t data,
		      uint32_t len)
{
	uint16_t n = used_idx(0);

	blk_request(0, 0, type, sector, data, len);
	kick(0);
	wait_used(0, (uint16_t)(n + 1));
	ASSERT_EQ(used_id(0, n), 0);
	return req_status(0, 0);
}

static uint8_t do_seg(uint32_t type, uint64_t sector, uint32_t num,
		      uint32_t flags)
{
	put64(SEG_GPA, sector);
	put32(SEG_GPA + 8, num);
	put32(SEG_GPA + 12, flags);
	return do_req(type, 0, SEG_GPA, 16);
}

static uint32_t cfg32(unsigned int off)
{
	return rd(R_CONFIG + off);
}

static uint64_t dev_features(void)
{
	uint64_t f;

	wr(R_DEV_FEAT_SEL, 0);
	f = rd(R_DEV_FEAT);
	wr(R_DEV_FEAT_SEL, 1);
	return f | (uint64_t)rd(R_DEV_FEAT) << 32;
}

/* ------------------------------------------------------------------------
 * Tests
 */

static void test_config(void)
{
	struct vmc_virtio_blk_config c;
	struct vmc_virtio_blk *blk = NULL;
	int rofd;

	vm_up();
	disk_up();
	vmc_virtio_blk_config_init(NULL);
	vmc_virtio_blk_config_init(&c);
	c.iothread = drv_iot;
	ASSERT_EQ(c.size, sizeof(c));
	ASSERT_EQ(c.fd, -1);
	ASSERT_EQ(c.num_queues, 1);
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EINVAL); /* no VM */
	c.vm = vm;
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EBADF);
	c.fd = 999;
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EBADF);
	c.fd = disk_fd;
	c.num_queues = 0;
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EINVAL);
	c.num_queues = 65;
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EINVAL);
	c.num_queues = 1;
	c.queue_size = 100;
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EINVAL);
	c.queue_size = 256;
	c.serial = "123456789012345678901"; /* 21 bytes */
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EINVAL);
	c.serial = NULL;
	c.aio = (enum vmc_virtio_blk_aio)7;
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EINVAL);
	c.aio = VMC_VIRTIO_BLK_AIO_AUTO;
	ASSERT_ERR(vmc_virtio_blk_new(&c, NULL), -EINVAL);
	ASSERT_ERR(vmc_virtio_blk_new(NULL, &blk), -EINVAL);
	/* A writable disk on a read-only fd. */
	rofd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(rofd, 0);
	c.fd = rofd;
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -EACCES);
	c.read_only = true; /* a character device is no disk */
	ASSERT_ERR(vmc_virtio_blk_new(&c, &blk), -ENODEV);
	close(rofd);
	ASSERT_NULL(blk);
	ASSERT_NULL(vmc_virtio_blk_get_region(NULL));
	ASSERT_NULL(vmc_virtio_blk_get_virtio(NULL));
	ASSERT_EQ(vmc_virtio_blk_get_capacity(NULL), 0);
	ASSERT_EQ(vmc_virtio_blk_get_aio(NULL), VMC_VIRTIO_BLK_AIO_AUTO);
	vmc_virtio_blk_free(NULL);

	/* Two queues: QEMU's features and configuration. */
	blk = blk_up(VMC_VIRTIO_BLK_AIO_AUTO, 2, false);
	ASSERT_EQ(vmc_virtio_blk_get_capacity(blk), DISK_SECTORS);
	ASSERT_EQ(rd(R_DEVICE_ID), 2);
	ASSERT_EQ(dev_features(), F_VERSION_1 | F_INDIRECT | F_EVENT_IDX |
					  F_MQ | 1ull << 2 | 1ull << 4 |
					  1ull << 6 | 1ull << 9 | 1ull << 10 |
					  1ull << 13 | 1ull << 14);
	ASSERT_EQ(cfg32(0), DISK_SECTORS); /* capacity */
	ASSERT_EQ(cfg32(4), 0);
	ASSERT_EQ(cfg32(8), 0);				/* size_max */
	ASSERT_EQ(cfg32(12), 254);			/* seg_max */
	ASSERT_EQ(cfg32(16), 2 | 16 << 16 | 63u << 24); /* geometry */
	ASSERT_EQ(cfg32(20), 512);			/* blk_size */
	ASSERT_EQ(cfg32(24), 0);			/* topology */
	ASSERT_EQ(cfg32(28), 0);
	ASSERT_EQ(cfg32(32), 1 | 2 << 16); /* writeback, num_queues */
	ASSERT_EQ(cfg32(36), 4194303);	   /* max_discard_sectors */
	ASSERT_EQ(cfg32(40), 1);	   /* max_discard_seg */
	ASSERT_EQ(cfg32(44), 1);	   /* discard_sector_alignment */
	ASSERT_EQ(cfg32(48), 4194303);	   /* max_write_zeroes_sectors */
	ASSERT_EQ(cfg32(52), 1);	   /* max_write_zeroes_seg */
	ASSERT_EQ(cfg32(56), 1);	   /* write_zeroes_may_unmap */
	drv_init(false, F_VERSION_1 | F_MQ, 2, 16);
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
	blk_down(blk);

	/* One queue, read-only: no MQ, RO instead. */
	blk = blk_up(VMC_VIRTIO_BLK_AIO_THREADS, 1, true);
	ASSERT_EQ(dev_features() & (F_MQ | F_RO), F_RO);
	ASSERT_EQ(cfg32(32) >> 16, 1);
	blk_down(blk);
	disk_down();
	vm_down();
}

static void check_rw(enum vmc_virtio_blk_aio aio, const char *dir)
{
	struct vmc_virtio_blk *blk;
	uint8_t buf[4096];
	char id[24];

	vm_up();
	disk_up_in(dir);
	blk = blk_up(aio, 1, false);
	if (!blk) {
		fprintf(stderr, "   io_uring unavailable here, skipped\n");
		goto out;
	}
	drv_init(false, F_VERSION_1, 1, 16);

	/* Write 8 sectors at sector 100, from a pattern. */
	for (int i = 0; i < 4096; i++)
		gpa(DATA_GPA)[i] = (uint8_t)(i * 7 + 3);
	ASSERT_EQ(do_req(T_OUT, 100, DATA_GPA, 4096), 0);
	ASSERT_EQ(used_len(0, 0), 1);
	ASSERT_TRUE(irq_level);
	ack_irq();
	disk_read(100 * 512, buf, sizeof(buf));
	ASSERT_EQ(memcmp(buf, gpa(DATA_GPA), 4096), 0);
	/* The neighbours are untouched. */
	disk_read(99 * 512, buf, 512);
	ASSERT_EQ(buf[0], 100 & 0xff);
	ASSERT_EQ(buf[511], 100 & 0xff);
	disk_read(108 * 512, buf, 512);
	ASSERT_EQ(buf[0], 109 & 0xff);

	/* Read them back, and a sector the test wrote to the file. */
	memset(gpa(DATA_GPA + 0x2000), 0, 4096);
	ASSERT_EQ(do_req(T_IN, 100, DATA_GPA + 0x2000, 4096), 0);
	ASSERT_EQ(used_len(0, 1), 4097);
	ASSERT_EQ(memcmp(gpa(DATA_GPA), gpa(DATA_GPA + 0x2000), 4096), 0);
	ASSERT_EQ(do_req(T_IN, DISK_SECTORS - 1, DATA_GPA, 512), 0);
	ASSERT_EQ(gpa(DATA_GPA)[0], DISK_SECTORS & 0xff);
	ASSERT_EQ(gpa(DATA_GPA)[511], DISK_SECTORS & 0xff);

	/* Flush; GET_ID (20 bytes, zero padded, as QEMU). */
	ASSERT_EQ(do_req(T_FLUSH, 0, 0, 0), 0);
	memset(gpa(DATA_GPA), 0xaa, 32);
	ASSERT_EQ(do_req(T_GET_ID, 0, DATA_GPA, 20), 0);
	memcpy(id, gpa(DATA_GPA), 20);
	ASSERT_EQ(memcmp(id, "vmc-disk-0\0\0\0\0\0\0\0\0\0\0", 20), 0);
	ASSERT_EQ(gpa(DATA_GPA)[20], 0xaa);

	/* Discard and write-zeroes: the file's bytes become zero. */
	ASSERT_EQ(do_seg(T_DISCARD, 200, 8, 0), 0);
	disk_read(200 * 512, buf, 4096);
	for (int i = 0; i < 4096; i++)
		ASSERT_EQ(buf[i], 0);
	disk_read(208 * 512, buf, 1);
	ASSERT_EQ(buf[0], 209 & 0xff);
	ASSERT_EQ(do_seg(T_WZ, 300, 3, 0), 0);
	ASSERT_EQ(do_seg(T_WZ, 310, 5, 1), 0); /* UNMAP */
	disk_read(300 * 512, buf, 3 * 512);
	for (int i = 0; i < 3 * 512; i++)
		ASSERT_EQ(buf[i], 0);
	disk_read(303 * 512, buf, 1);
	ASSERT_EQ(buf[0], 304 & 0xff);
	disk_read(310 * 512, buf, 5 * 512);
	for (int i = 0; i < 5 * 512; i++)
		ASSERT_EQ(buf[i], 0);
	disk_read(315 * 512, buf, 1);
	ASSERT_EQ(buf[0], 316 & 0xff);
	/* Unknown flags are unsupported; a range past the end an error. */
	ASSERT_EQ(do_seg(T_DISCARD, 200, 8, 1), 2);
	ASSERT_EQ(do_seg(T_WZ, 200, 8, 2), 2);
	ASSERT_EQ(do_seg(T_WZ, DISK_SECTORS - 1, 2, 0), 1);
	ASSERT_EQ(do_seg(T_DISCARD, ~0ull, 1, 0), 1);

	/* Out of range and misshapen transfers: IOERR, the file intact. */
	gpa(DATA_GPA)[0] = 0x5a;
	ASSERT_EQ(do_req(T_OUT, DISK_SECTORS, DATA_GPA, 512), 1);
	ASSERT_EQ(do_req(T_OUT, DISK_SECTORS - 1, DATA_GPA, 1024), 1);
	ASSERT_EQ(do_req(T_IN, DISK_SECTORS, DATA_GPA, 512), 1);
	ASSERT_EQ(do_req(T_IN, ~0ull, DATA_GPA, 512), 1);
	ASSERT_EQ(do_req(T_IN, ~0ull / 512 + 1, DATA_GPA, 512), 1);
	ASSERT_EQ(do_req(T_OUT, 10, DATA_GPA, 100), 1); /* not a sector */
	struct stat st;
	ASSERT_OK(fstat(disk_fd, &st));
	ASSERT_EQ(st.st_size, DISK_SECTORS * 512);
	disk_read(10 * 512, buf, 1);
	ASSERT_EQ(buf[0], 11);
	/* Unknown types are unsupported. */
	ASSERT_EQ(do_req(99, 0, DATA_GPA, 512), 2);
	ASSERT_EQ(rd(R_STATUS) & S_NEEDS_RESET, 0);
out:
	if (blk)
		blk_down(blk);
	disk_down();
	vm_down();
}

static void test_rw_threads(void)
{
	check_rw(VMC_VIRTIO_BLK_AIO_THREADS, "/tmp");
}

static void test_rw_io_uring(void)
{
	check_rw(VMC_VIRTIO_BLK_AIO_IO_URING, "/tmp");
}

/* tmpfs has holes but no FALLOC_FL_ZERO_RANGE: the zeros are written. */
static void test_rw_tmpfs(void)
{
	if (access("/dev/shm", W_OK) != 0) {
		fprintf(stderr, "   no /dev/shm, skipped\n");
		return;
	}
	check_rw(VMC_VIRTIO_BLK_AIO_THREADS, "/dev/shm");
	check_rw(VMC_VIRTIO_BLK_AIO_IO_URING, "/dev/shm");
}

static void test_read_only(void)
{
	struct vmc_virtio_blk *blk;
	uint8_t buf[512];
	int rofd;

	vm_up();
	disk_up();
	/* A read-only fd is enough for a read-only disk. */
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", disk_fd);
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(rofd, 0);
	blk = blk_up_full(VMC_VIRTIO_BLK_AIO_AUTO, 1, true, rofd);
	drv_init(false, F_VERSION_1 | F_RO, 1, 16);
	memset(gpa(DATA_GPA), 0x77, 512);
	ASSERT_EQ(do_req(T_OUT, 5, DATA_GPA, 512), 1);
	ASSERT_EQ(do_seg(T_DISCARD, 5, 1, 0), 1);
	ASSERT_EQ(do_seg(T_WZ, 5, 1, 0), 1);
	disk_read(5 * 512, buf, 512);
	for (int i = 0; i < 512; i++)
		ASSERT_EQ(buf[i], 6);
	ASSERT_EQ(do_req(T_IN, 5, DATA_GPA, 512), 0);
	ASSERT_EQ(gpa(DATA_GPA)[0], 6);
	ASSERT_EQ(do_req(T_FLUSH, 0, 0, 0), 0);
	blk_down(blk);
	close(rofd);
	disk_down();
	vm_down();
}

/* Malformed requests put the device in DEVICE_NEEDS_RESET. */
static void test_malformed(void)
{
	struct vmc_virtio_blk *blk;
	uint64_t desc;

	vm_up();
	disk_up();
	blk = blk_up(VMC_VIRTIO_BLK_AIO_THREADS, 1, false);
	for (int c = 0; c < 4; c++) {
		drv_init(false, F_VERSION_1, 1, 16);
		desc = q[0].desc;
		put32(HDR_GPA, T_OUT);
		put64(HDR_GPA + 8, 0);
		memset(gpa(DATA_GPA), 0x33, 512);
		switch (c) {
		case 0: /* a header of 8 bytes */
			set_desc(desc, 0, HDR_GPA, 8, D_NEXT, 1);
			set_desc(desc, 1, STATUS_GPA, 1, D_WRITE, 0);
			break;
		case 1: /* no device-writable status byte */
			set_desc(desc, 0, HDR_GPA, 16, D_NEXT, 1);
			set_desc(desc, 1, DATA_GPA, 512, 0, 0);
			break;
		case 2: /* the status in a device-readable descriptor */
			set_desc(desc, 0, HDR_GPA, 16, D_NEXT, 1);
			set_desc(desc, 1, STATUS_GPA, 1, 0, 0);
			break;
		case 3: /* no device-readable header at all */
			set_desc(desc, 0, DATA_GPA, 512, D_WRITE | D_NEXT, 1);
			set_desc(desc, 1, STATUS_GPA, 1, D_WRITE, 0);
			break;
		}
		*gpa(STATUS_GPA) = 0xee;
		log_warnings = 0;
		make_avail(0, 0);
		kick(0);
		ASSERT_TRUE(rd(R_STATUS) & S_NEEDS_RESET);
		ASSERT_EQ(used_idx(0), 0);
		ASSERT_EQ(*gpa(STATUS_GPA), 0xee);
		ASSERT_GE(log_warnings, 1);
		wr(R_STATUS, 0);
	}
	/* The file was never written; the device serves after a reset. */
	uint8_t b;
	disk_read(0, &b, 1);
	ASSERT_EQ(b, 1);
	drv_init(false, F_VERSION_1, 1, 16);
	ASSERT_EQ(do_req(T_IN, 0, DATA_GPA, 512), 0);
	blk_down(blk);
	disk_down();
	vm_down();
}

#define NREQ 32

static void check_many(enum vmc_virtio_blk_aio aio)
{
	struct vmc_virtio_blk *blk;
	uint8_t buf[4096];

	vm_up();
	disk_up();
	blk = blk_up(aio, 2, false);
	if (!blk) {
		fprintf(stderr, "   io_uring unavailable here, skipped\n");
		goto out;
	}
	drv_init(false, F_VERSION_1 | F_MQ | F_EVENT_IDX, 2, 128);
	/* 2 x 32 writes of 8 sectors each, at distinct places. */
	for (unsigned int qi = 0; qi < 2; qi++)
		for (unsigned int i = 0; i < NREQ; i++) {
			uint64_t data = DATA_GPA + 4096 * (i + NREQ * qi);
			unsigned int s = 8 * (i + NREQ * qi);

			memset(gpa(data), (int)(0x80 + i + NREQ * qi), 4096);
			blk_request(qi, i, T_OUT, s, data, 4096);
		}
	wr(R_NOTIFY, 0);
	wr(R_NOTIFY, 1);
	wait_used(0, NREQ);
	wait_used(1, NREQ);
	for (unsigned int qi = 0; qi < 2; qi++)
		for (unsigned int i = 0; i < NREQ; i++) {
			unsigned int s = 8 * (i + NREQ * qi);

			ASSERT_EQ(req_status(qi, i), 0);
			disk_read(s * 512ull, buf, 4096);
			ASSERT_EQ(buf[0], 0x80 + i + NREQ * qi);
			ASSERT_EQ(buf[4095], 0x80 + i + NREQ * qi);
		}
	/* And read back in flight the same way, reversed between queues. */
	memset(gpa(DATA_GPA), 0, 2 * NREQ * 4096);
	for (unsigned int qi = 0; qi < 2; qi++)
		for (unsigned int i = 0; i < NREQ; i++) {
			uint64_t data = DATA_GPA + 4096 * (i + NREQ * qi);
			unsigned int s = 8 * (i + NREQ * (1 - qi));

			blk_request(qi, i, T_IN, s, data, 4096);
		}
	wr(R_NOTIFY, 1);
	wr(R_NOTIFY, 0);
	wait_used(0, 2 * NREQ);
	wait_used(1, 2 * NREQ);
	for (unsigned int qi = 0; qi < 2; qi++)
		for (unsigned int i = 0; i < NREQ; i++) {
			uint64_t data = DATA_GPA + 4096 * (i + NREQ * qi);

			ASSERT_EQ(req_status(qi, i), 0);
			ASSERT_EQ(gpa(data)[0], 0x80 + i + NREQ * (1 - qi));
			ASSERT_EQ(gpa(data)[4095], 0x80 + i + NREQ * (1 - qi));
		}
out:
	if (blk)
		blk_down(blk);
	disk_down();
	vm_down();
}

static void test_many_threads(void)
{
	check_many(VMC_VIRTIO_BLK_AIO_THREADS);
}

static void test_many_io_uring(void)
{
	check_many(VMC_VIRTIO_BLK_AIO_IO_URING);
}

/*
 * A reset while requests are in flight: the device waits for them and
 * never writes the reset queues' used rings or status bytes; a free with
 * requests in flight is likewise safe.
 */
/* Requests of queue @qi whose status byte was written. */
static uint16_t answered(unsigned int qi)
{
	uint16_t n = 0;

	for (unsigned int i = 0; i < NREQ; i++)
		n += req_status(qi, i) != 0xee;
	return n;
}

static void check_reset_inflight(enum vmc_virtio_blk_aio aio)
{
	struct vmc_virtio_blk *blk;
	uint16_t done[2];

	vm_up();
	disk_up();
	blk = blk_up(aio, 2, false);
	if (!blk) {
		fprintf(stderr, "   io_uring unavailable here, skipped\n");
		goto out;
	}
	for (int round = 0; round < 20; round++) {
		drv_init(false, F_VERSION_1 | F_MQ, 2, 128);
		for (unsigned int qi = 0; qi < 2; qi++)
			for (unsigned int i = 0; i < NREQ; i++)
				blk_request(qi, i, i % 2 ? T_IN : T_OUT,
					    8 * (i + NREQ * qi),
					    DATA_GPA + 4096 * (i + NREQ * qi),
					    4096);
		/* The kicks run the device (the notifier is signalled). */
		wr(R_NOTIFY, 0);
		wr(R_NOTIFY, 1);
		ASSERT_OK(vmc_loop_run_once(loop, false));
		/* Reset from this thread, holding the VM lock as a vCPU. */
		wr(R_STATUS, 0);
		ASSERT_EQ(rd(R_STATUS), 0);
		/*
		 * On an I/O thread, requests may have completed before the
		 * reset: exactly those are published, nothing after it.
		 */
		for (unsigned int qi = 0; qi < 2; qi++) {
			done[qi] = used_idx(qi);
			if (!drv_iot)
				ASSERT_EQ(done[qi], 0);
			ASSERT_EQ(answered(qi), done[qi]);
		}
		/* Stale completions find nothing to publish. */
		usleep(2000);
		run_loop();
		for (unsigned int qi = 0; qi < 2; qi++) {
			ASSERT_EQ(used_idx(qi), done[qi]);
			ASSERT_EQ(answered(qi), done[qi]);
		}
	}
	/* One queue reset (QueueReady = 0) with its requests in flight. */
	drv_init(false, F_VERSION_1 | F_MQ, 2, 128);
	for (unsigned int i = 0; i < NREQ; i++)
		blk_request(1, i, T_IN, 8 * i, DATA_GPA + 4096 * i, 4096);
	wr(R_NOTIFY, 1);
	ASSERT_OK(vmc_loop_run_once(loop, false));
	wr(R_QSEL, 1);
	wr(R_QREADY, 0);
	done[1] = used_idx(1);
	if (!drv_iot)
		ASSERT_EQ(done[1], 0);
	for (int i = 0; i < 20; i++) {
		usleep(1000);
		run_loop();
	}
	ASSERT_EQ(used_idx(1), done[1]);
	ASSERT_EQ(answered(1), done[1]);
	/* The other queue serves on. */
	ASSERT_EQ(do_req(T_FLUSH, 0, 0, 0), 0);
	wr(R_STATUS, 0);

	/* After all that, the device still works. */
	drv_init(false, F_VERSION_1 | F_MQ, 2, 128);
	ASSERT_EQ(do_req(T_FLUSH, 0, 0, 0), 0);
	/* Free with requests in flight. */
	for (unsigned int i = 0; i < NREQ; i++)
		blk_request(1, i, T_OUT, 8 * i, DATA_GPA + 4096 * i, 4096);
	wr(R_NOTIFY, 1);
	ASSERT_OK(vmc_loop_run_once(loop, false));
out:
	if (blk)
		blk_down(blk);
	disk_down();
	vm_down();
}

static void test_reset_threads(void)
{
	check_reset_inflight(VMC_VIRTIO_BLK_AIO_THREADS);
}

static void test_reset_io_uring(void)
{
	check_reset_inflight(VMC_VIRTIO_BLK_AIO_IO_URING);
}

int main(void)
{
	RUN(test_config);
	RUN(test_rw_threads);
	RUN(test_rw_io_uring);
	RUN(test_rw_tmpfs);
	RUN(test_read_only);
	RUN(test_malformed);
	RUN(test_many_threads);
	RUN(test_many_io_uring);
	RUN(test_reset_threads);
	RUN(test_reset_io_uring);
	return 0;
}
