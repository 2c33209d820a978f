/* SPDX-License-Identifier: MIT */
/* fd handlers: readiness, change and free from inside callbacks. */
#include <fcntl.h>
#include <sys/socket.h>

#include "loop-internal.h"
#include "loop-test-util.h"

struct fdrec {
	int pipe[2];
	atomic_int reads;
	atomic_int writes;
	atomic_int flag;
	int mode;
	struct vmc_fd_handler *h;
	struct vmc__lock *expect_lock;
	bool lock_held;
};

enum { MODE_DRAIN, MODE_SWITCH_TO_WRITE, MODE_FREE, MODE_NOTHING };

static void on_write(struct vmc_fd_handler *h, int fd, void *userdata);

static void on_read(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct fdrec *r = userdata;
	char buf[64];

	ASSERT_PTR_EQ(h, r->h);
	ASSERT_EQ(fd, r->pipe[0]);
	atomic_fetch_add(&r->reads, 1);
	atomic_store(&r->flag, 1);
	if (r->expect_lock)
		r->lock_held = vmc__lock_held(r->expect_lock);
	switch (r->mode) {
	case MODE_DRAIN:
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		break;
	case MODE_SWITCH_TO_WRITE:
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		ASSERT_OK(vmc_fd_handler_set(h, NULL, on_write, r));
		break;
	case MODE_FREE:
		vmc_fd_handler_free(h);
		r->h = NULL;
		break;
	default:
		break;
	}
}

static void on_write(struct vmc_fd_handler *h, int fd, void *userdata)
{
	struct fdrec *r = userdata;

	(void)fd;
	ASSERT_PTR_EQ(h, r->h);
	atomic_fetch_add(&r->writes, 1);
	atomic_store(&r->flag, 1);
	ASSERT_OK(vmc_fd_handler_set(h, NULL, NULL, r)); /* idle again */
}

static void rec_init(struct fdrec *r)
{
	*r = (struct fdrec){0};
	ASSERT_EQ(pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK), 0);
}

static void rec_fini(struct fdrec *r)
{
	close(r->pipe[0]);
	close(r->pipe[1]);
}

static void test_errors(void)
{
	struct vmc_fd_handler *h, *h2;
	struct vmc_loop *loop;
	struct fdrec r;
	char path[] = "/tmp/vmc-test-fd-XXXXXX";
	int file;

	rec_init(&r);
	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_ERR(vmc_loop_add_fd(NULL, r.pipe[0], on_read, NULL, &r, &h),
		   -EINVAL);
	ASSERT_ERR(vmc_loop_add_fd(loop, -1, on_read, NULL, &r, &h), -EINVAL);
	ASSERT_ERR(vmc_loop_add_fd(loop, r.pipe[0], on_read, NULL, &r, NULL),
		   -EINVAL);
	ASSERT_ERR(vmc_fd_handler_set(NULL, NULL, NULL, NULL), -EINVAL);
	vmc_fd_handler_free(NULL);

	ASSERT_OK(vmc_loop_add_fd(loop, r.pipe[0], on_read, NULL, &r, &h));
	ASSERT_ERR(vmc_loop_add_fd(loop, r.pipe[0], on_read, NULL, &r, &h2),
		   -EEXIST);
	vmc_fd_handler_free(h);
	/* The fd is free again once its handler is. */
	ASSERT_OK(vmc_loop_add_fd(loop, r.pipe[0], NULL, NULL, &r, &h));
	vmc_fd_handler_free(h);

	file = mkstemp(path);
	ASSERT_GE(file, 0);
	unlink(path);
	ASSERT_ERR(vmc_loop_add_fd(loop, file, on_read, NULL, &r, &h), -EPERM);
	close(file);
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);
	vmc_loop_unref(loop);
	rec_fini(&r);
}

static void test_read_write(void)
{
	struct vmc_loop *loop;
	struct fdrec r;

	rec_init(&r);
	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc_loop_add_fd(loop, r.pipe[0], on_read, NULL, &r, &r.h));
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.reads), 0);
	ASSERT_EQ(write(r.pipe[1], "x", 1), 1);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_EQ(atomic_load(&r.reads), 1);

	/* Idle handler: nothing runs; re-armed: it does. */
	ASSERT_OK(vmc_fd_handler_set(r.h, NULL, NULL, &r));
	ASSERT_EQ(write(r.pipe[1], "x", 1), 1);
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.reads), 1);
	ASSERT_OK(vmc_fd_handler_set(r.h, on_read, NULL, &r));
	atomic_store(&r.flag, 0);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_EQ(atomic_load(&r.reads), 2);

	/* Change from inside the read callback to a write callback. */
	r.mode = MODE_SWITCH_TO_WRITE;
	ASSERT_EQ(write(r.pipe[1], "x", 1), 1);
	atomic_store(&r.flag, 0);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_EQ(atomic_load(&r.reads), 3);
	vmc_fd_handler_free(r.h);

	/* The write end of the pipe is writable right away. */
	ASSERT_OK(vmc_loop_add_fd(loop, r.pipe[1], NULL, on_write, &r, &r.h));
	atomic_store(&r.flag, 0);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	run_for(loop, 10);
	ASSERT_GE(atomic_load(&r.writes), 1);
	vmc_fd_handler_free(r.h);
	vmc_loop_unref(loop);
	rec_fini(&r);
}

/* Freed inside its read callback: the write callback is not called. */
static void test_free_in_callback(void)
{
	struct vmc_loop *loop;
	struct fdrec r;
	int sv[2];

	rec_init(&r);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(r.pipe[0]);
	r.pipe[0] = sv[0];
	r.mode = MODE_FREE;
	ASSERT_OK(vmc_loop_new(&loop));
	/* Readable and writable at once. */
	ASSERT_OK(vmc_loop_add_fd(loop, sv[0], on_read, on_write, &r, &r.h));
	ASSERT_EQ(write(sv[1], "x", 1), 1);
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	run_for(loop, 10);
	ASSERT_EQ(atomic_load(&r.reads), 1);
	ASSERT_EQ(atomic_load(&r.writes), 0);
	ASSERT_NULL(r.h);
	ASSERT_EQ(vmc_loop_run_once(loop, false), 0);
	vmc_loop_unref(loop);
	close(sv[1]);
	rec_fini(&r);
}

static void test_hangup_and_lock(void)
{
	struct vmc__lock lock;
	struct vmc_loop *loop;
	struct fdrec r;

	rec_init(&r);
	vmc__lock_init(&lock);
	r.expect_lock = &lock;
	r.mode = MODE_NOTHING;
	ASSERT_OK(vmc_loop_new(&loop));
	ASSERT_OK(vmc__loop_add_fd_locked(loop, &lock, r.pipe[0], on_read, NULL,
					  &r, &r.h));
	/* A hang-up reaches the read callback. */
	close(r.pipe[1]);
	r.pipe[1] = -1;
	ASSERT_TRUE(run_until(loop, &r.flag, 2000));
	ASSERT_TRUE(r.lock_held);
	ASSERT_FALSE(vmc__lock_held(&lock));
	vmc_fd_handler_free(r.h);
	vmc_loop_unref(loop);
	close(r.pipe[0]);
	vmc__lock_destroy(&lock);
}

int main(void)
{
	RUN(test_errors);
	RUN(test_read_write);
	RUN(test_free_in_callback);
	RUN(test_hangup_and_lock);
	return 0;
}
