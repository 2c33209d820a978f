/* SPDX-License-Identifier: MIT */
/*
 * Notifiers: an eventfd that one side signals and the other consumes.
 *
 * Signalling is a single write(2) of 1, which is async-signal-safe and needs
 * no lock; an eventfd counter that is already non-zero just grows, so signals
 * coalesce until a read drains them.
 */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop-internal.h"

VMC_EXPORT int vmc_notifier_new(struct vmc_notifier **ret)
{
	struct vmc_notifier *n;

	vmc_assert_return(ret, -EINVAL);

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->fd < 0) {
		int r = -errno;

		free(n);
		return r;
	}
	*ret = n;
	return 0;
}

VMC_EXPORT void vmc_notifier_free(struct vmc_notifier *n)
{
	if (!n)
		return;
	vmc__notifier_drop_handler(n);
	close(n->fd);
	free(n);
}

VMC_EXPORT int vmc_notifier_signal(struct vmc_notifier *n)
{
	uint64_t one = 1;
	ssize_t r;

	vmc_assert_return(n, -EINVAL);

	do {
		r = write(n->fd, &one, sizeof(one));
	} while (r < 0 && errno == EINTR);
	/* EAGAIN: the counter is at its maximum, so it is signalled already. */
	if (r < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

VMC_EXPORT int vmc_notifier_test_and_clear(struct vmc_notifier *n)
{
	uint64_t value;
	ssize_t r;

	vmc_assert_return(n, -EINVAL);

	do {
		r = read(n->fd, &value, sizeof(value));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? 0 : -errno;
	return 1;
}

VMC_EXPORT int vmc_notifier_get_fd(const struct vmc_notifier *n)
{
	vmc_assert_return(n, -EINVAL);
	return n->fd;
}
