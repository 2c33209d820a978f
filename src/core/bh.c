/* SPDX-License-Identifier: MIT */
/*
 * Bottom halves.
 *
 * Each bottom half has a flag word; the loop has a lock-free list of the
 * bottom halves that need a look, and its uv_async_t as the doorbell.
 *
 * Scheduling sets PENDING|SCHEDULED with one atomic fetch-or.  Only the
 * thread that turned PENDING on pushes the bottom half on the list (with a
 * release compare-and-swap) and rings the doorbell; later schedules before
 * it runs just find PENDING set, which is the coalescing.  The loop takes
 * the whole list at once (acquire exchange), and clears PENDING|SCHEDULED
 * of each entry (acq_rel) before its callback: a schedule from inside the
 * callback therefore pushes it on the new list, for the next iteration.
 * Either the scheduler's fetch-or comes before the loop's fetch-and, which
 * then sees and publishes its writes, or it comes after and the scheduler
 * pushes again, which publishes them through the list.
 *
 * Freeing is immediate unless the bottom half sits on a list that the loop
 * will walk; then it is marked DELETED and the walk frees it.
 */
#include <stdlib.h>

#include "loop-internal.h"

enum {
	BH_PENDING = 1u << 0,	/* on a list */
	BH_SCHEDULED = 1u << 1, /* run the callback */
	BH_DELETED = 1u << 2,	/* free, do not run */
};

struct vmc_bh {
	struct vmc_loop *loop;
	vmc_bh_cb cb;
	void *userdata;
	struct vmc__lock *lock;
	atomic_uint flags;
	struct vmc_bh *next;
};

int vmc__bh_new_locked(struct vmc_loop *loop, struct vmc__lock *lock,
		       vmc_bh_cb cb, void *userdata, struct vmc_bh **ret)
{
	struct vmc_bh *bh;

	vmc_assert_return(loop, -EINVAL);
	vmc_assert_return(cb, -EINVAL);
	vmc_assert_return(ret, -EINVAL);

	bh = calloc(1, sizeof(*bh));
	if (!bh)
		return -ENOMEM;
	bh->loop = vmc_loop_ref(loop);
	bh->cb = cb;
	bh->userdata = userdata;
	bh->lock = lock;
	atomic_init(&bh->flags, 0);
	vmc__loop_source_added(loop);
	*ret = bh;
	return 0;
}

VMC_EXPORT int vmc_bh_new(struct vmc_loop *loop, vmc_bh_cb cb, void *userdata,
			  struct vmc_bh **ret)
{
	return vmc__bh_new_locked(loop, NULL, cb, userdata, ret);
}

static void bh_push(struct vmc_loop *loop, struct vmc_bh *bh)
{
	struct vmc_bh *head =
		atomic_load_explicit(&loop->bh_head, memory_order_relaxed);

	do {
		bh->next = head;
	} while (!atomic_compare_exchange_weak_explicit(
		&loop->bh_head, &head, bh, memory_order_release,
		memory_order_relaxed));
}

VMC_EXPORT int vmc_bh_schedule(struct vmc_bh *bh)
{
	unsigned int old;

	vmc_assert_return(bh, -EINVAL);

	old = atomic_fetch_or_explicit(&bh->flags, BH_PENDING | BH_SCHEDULED,
				       memory_order_acq_rel);
	if (!(old & BH_PENDING)) {
		bh_push(bh->loop, bh);
		vmc__loop_wake(bh->loop);
	}
	return 0;
}

VMC_EXPORT int vmc_bh_cancel(struct vmc_bh *bh)
{
	vmc_assert_return(bh, -EINVAL);
	atomic_fetch_and_explicit(&bh->flags, ~(unsigned int)BH_SCHEDULED,
				  memory_order_relaxed);
	return 0;
}

VMC_EXPORT void vmc_bh_free(struct vmc_bh *bh)
{
	struct vmc_loop *loop;
	unsigned int old;

	if (!bh)
		return;
	loop = bh->loop;
	old = atomic_fetch_or_explicit(&bh->flags, BH_DELETED,
				       memory_order_acq_rel);
	if (!(old & BH_PENDING))
		free(bh);
	vmc__loop_source_removed(loop);
	vmc_loop_unref(loop);
}

/* Take the list, oldest first. */
static struct vmc_bh *bh_take_all(struct vmc_loop *loop)
{
	struct vmc_bh *bh, *rev = NULL;

	bh = atomic_exchange_explicit(&loop->bh_head, NULL,
				      memory_order_acquire);
	while (bh) {
		struct vmc_bh *next = bh->next;

		bh->next = rev;
		rev = bh;
		bh = next;
	}
	return rev;
}

void vmc__loop_run_bhs(struct vmc_loop *loop)
{
	struct vmc_bh *bh = bh_take_all(loop);

	while (bh) {
		/* The callback may push or free @bh: read its link first. */
		struct vmc_bh *next = bh->next;

		struct vmc__lock *lk = bh->lock;
		unsigned int old;
		bool taken;

		if (!lk || vmc__lock_held(lk)) {
			old = atomic_fetch_and_explicit(
				&bh->flags,
				~(unsigned int)(BH_PENDING | BH_SCHEDULED),
				memory_order_acq_rel);
			if (old & BH_DELETED)
				free(bh);
			else if (old & BH_SCHEDULED)
				bh->cb(bh, bh->userdata);
			bh = next;
			continue;
		}

		/*
		 * With a lock, the run is decided only once it is held, so
		 * that a cancel made under the lock is final.  PENDING is
		 * cleared first: a schedule from now on queues it again.
		 */
		old = atomic_fetch_and_explicit(&bh->flags,
						~(unsigned int)BH_PENDING,
						memory_order_acq_rel);
		if (old & BH_DELETED) {
			free(bh);
		} else if (old & BH_SCHEDULED) {
			taken = vmc__lock_acquire_if_needed(lk);
			old = atomic_fetch_and_explicit(
				&bh->flags, ~(unsigned int)BH_SCHEDULED,
				memory_order_acq_rel);
			if (old & BH_SCHEDULED)
				bh->cb(bh, bh->userdata);
			vmc__lock_release_if(lk, taken);
		}
		bh = next;
	}
}

void vmc__loop_drain_bhs(struct vmc_loop *loop)
{
	struct vmc_bh *bh = bh_take_all(loop);

	/* Only deleted ones remain: a live bottom half holds a reference. */
	while (bh) {
		struct vmc_bh *next = bh->next;

		free(bh);
		bh = next;
	}
}
