/* SPDX-License-Identifier: MIT */
/*
 * The block cache of the RV64 hart: where translated blocks live, how they
 * are found, and how they die.
 *
 * A block is in two lists: the hash by virtual pc (rv_block_find() in
 * rv-exec.h) and the list of its physical page, through which a store to
 * translated code or a flush drops it.  The jump cache only remembers
 * blocks and forgets each one as it is freed.  Chains between blocks are
 * the interpreter's; they stay within one virtual page (see rv-internal.h),
 * so dropping a page's blocks leaves no dangling link.  Only the hart's own
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
			free(b);
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

void rv_blocks_invalidate_page(struct vmc__rv_hart *h, uint64_t ppage)
{
	struct rv_cpage **pp = &h->cpage_hash[cpage_hash(ppage)], *cp;
	struct rv_block *b, *next;

	for (; *pp && (*pp)->ppage != ppage; pp = &(*pp)->next)
		;
	cp = *pp;
	if (!cp)
		return;
	*pp = cp->next;
	/* Every chain into these blocks starts in the same page, so freeing
	 * them all leaves no dangling link. */
	for (b = cp->blocks; b; b = next) {
		struct rv_block **hp = &h->blk_hash[rv_blk_hash(b->vpc)];

		next = b->pnext;
		if (h->jc_blk[rv_jc_hash(b->vpc)] == b)
			h->jc_tag[rv_jc_hash(b->vpc)] = 0;
		for (; *hp && *hp != b; hp = &(*hp)->hnext)
			;
		if (*hp)
			*hp = b->hnext;
		rv_jit_block_free(b);
		free(b);
		h->nblocks--;
	}
	free(cp);
}

void vmc__rv_hart_flush_blocks(struct vmc__rv_hart *h)
{
	for (unsigned i = 0; i < (1u << CPAGE_HASH_BITS); i++) {
		struct rv_cpage *cp = h->cpage_hash[i], *ncp;

		for (; cp; cp = ncp) {
			struct rv_block *b = cp->blocks, *nb;

			for (; b; b = nb) {
				nb = b->pnext;
				rv_jit_block_free(b);
				free(b);
			}
			ncp = cp->next;
			free(cp);
		}
		h->cpage_hash[i] = NULL;
	}
	memset(h->blk_hash, 0, sizeof(h->blk_hash));
	memset(h->jc_tag, 0, sizeof(h->jc_tag));
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
		uint64_t pages[INVAL_RING];
		unsigned n = 0;

		for (uint64_t g = h->inval_seen; g != gen; g++)
			pages[n++] = sh->inval_ring[g % INVAL_RING];
		pthread_mutex_unlock(&sh->lock);
		for (unsigned k = 0; k < n; k++)
			rv_blocks_invalidate_page(h, pages[k]);
	}
	h->inval_seen = gen;
}
