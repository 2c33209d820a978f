/* SPDX-License-Identifier: MIT */
/*
 * The block cache of the RV64 hart: where translated blocks live, how they
 * are found, and how they die.
 *
 * A block is in two lists: the hash by virtual pc (rv_block_find() in
 * rv-exec.h) and the list of its physical page, through which a store to
 * the bytes it was decoded from or a flush drops it.  The jump cache only
 * remembers blocks and forgets each one as it is freed.  Chains between
 * blocks are the interpreter's; they stay within one virtual page (see
 * rv-internal.h), so unlinking the rest of a page's blocks when some are
 * dropped leaves no dangling link.  Only the hart's own
 * thread calls these, between blocks; other harts ask for a drop through
 * the shared invalidation log and a kick.
 */
#include <stdlib.h>
#include <string.h>

#include "rv-jit.h"

struct rv_block rv_no_link = {.n = UINT32_MAX};

static inline unsigned cpage_hash(uint64_t ppage)
{
	return (unsigned)((ppage >> RV_PAGE_SHIFT) * 2654435761u) >>
	       (32 - CPAGE_HASH_BITS);
}

/* The one place a cached block is freed (by a drop or a flush): a block
 * that owns translated host code releases it here. */
static void rv_block_release(struct rv_block *b)
{
	rv_jit_block_free(b);
	free(b);
}

bool rv_block_insert(struct vmc__rv_hart *h, struct rv_block *b)
{
	unsigned hv = rv_blk_hash(b->vpc);
	uint64_t ppage = b->ppc & RV_PAGE_MASK;
	struct rv_cpage **pp = &h->cpage_hash[cpage_hash(ppage)], *cp;

	b->hnext = h->blk_hash[hv];
	h->blk_hash[hv] = b;
	for (cp = *pp; cp && cp->ppage != ppage; cp = cp->next)
		;
	if (!cp) {
		cp = calloc(1, sizeof(*cp));
		if (!cp) {
			/* Without a page record the block cannot be found
			 * for invalidation: drop it from the hash again. */
			h->blk_hash[hv] = b->hnext;
			rv_block_release(b);
			return false;
		}
		cp->ppage = ppage;
		cp->next = *pp;
		*pp = cp;
	}
	b->pnext = cp->blocks;
	cp->blocks = b;
	h->nblocks++;
	return true;
}

/* Out of the hash and the jump cache, then released.  The caller has
 * taken b off its page list and sees to the chains into it. */
static void rv_block_drop(struct vmc__rv_hart *h, struct rv_block *b)
{
	struct rv_block **hp = &h->blk_hash[rv_blk_hash(b->vpc)];

	if (h->jc[rv_jc_hash(b->vpc)].blk == b)
		h->jc[rv_jc_hash(b->vpc)].tag = 0;
	for (; *hp && *hp != b; hp = &(*hp)->hnext)
		;
	if (*hp)
		*hp = b->hnext;
	rv_block_release(b);
	h->nblocks--;
}

void rv_blocks_invalidate_range(struct vmc__rv_hart *h, uint64_t ppage,
				unsigned lo, unsigned hi)
{
	struct rv_cpage **pp = &h->cpage_hash[cpage_hash(ppage)], *cp;
	struct rv_block **bp, *b;
	bool dropped = false;

	for (; *pp && (*pp)->ppage != ppage; pp = &(*pp)->next)
		;
	cp = *pp;
	if (!cp)
		return;
	for (bp = &cp->blocks; (b = *bp);) {
		unsigned start = (unsigned)(b->ppc & ~RV_PAGE_MASK);

		if (start < hi && lo < start + b->len) {
			*bp = b->pnext;
			rv_block_drop(h, b);
			dropped = true;
		} else {
			bp = &b->pnext;
		}
	}
	if (!cp->blocks) {
		*pp = cp->next;
		free(cp);
	} else if (dropped) {
		/* Every chain into the dropped blocks starts in this page:
		 * unlinking the survivors leaves no dangling link (they
		 * link again as they run). */
		for (b = cp->blocks; b; b = b->pnext)
			b->link[0] = b->link[1] = &rv_no_link;
	}
}

void vmc__rv_hart_flush_blocks(struct vmc__rv_hart *h)
{
	for (unsigned i = 0; i < (1u << CPAGE_HASH_BITS); i++) {
		struct rv_cpage *cp = h->cpage_hash[i], *ncp;

		for (; cp; cp = ncp) {
			struct rv_block *b = cp->blocks, *nb;

			for (; b; b = nb) {
				nb = b->pnext;
				rv_block_release(b);
			}
			ncp = cp->next;
			free(cp);
		}
		h->cpage_hash[i] = NULL;
	}
	memset(h->blk_hash, 0, sizeof(h->blk_hash));
	memset(h->jc, 0, sizeof(h->jc));
	h->nblocks = 0;
}

void rv_blocks_process_inval(struct vmc__rv_hart *h)
{
	struct vmc__rv_shared *sh = h->shared;
	uint64_t gen;

	pthread_mutex_lock(&sh->lock);
	gen = atomic_load(&sh->inval_gen);
	if (gen - h->inval_seen > INVAL_RING) {
		pthread_mutex_unlock(&sh->lock);
		vmc__rv_hart_flush_blocks(h);
	} else {
		struct rv_inval ranges[INVAL_RING];
		unsigned n = 0;

		for (uint64_t g = h->inval_seen; g != gen; g++)
			ranges[n++] = sh->inval_ring[g % INVAL_RING];
		pthread_mutex_unlock(&sh->lock);
		for (unsigned k = 0; k < n; k++)
			rv_blocks_invalidate_range(h, ranges[k].ppage,
						   ranges[k].lo, ranges[k].hi);
	}
	h->inval_seen = gen;
}
