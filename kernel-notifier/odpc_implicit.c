// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_odp_core: implicit regions (the owner's whole address space).
 *
 * An implicit parent owns no translation cache and no notifier.  The first
 * access to a naturally aligned ODPC_CHILD_SIZE chunk creates a child: an
 * ordinary region over that chunk, with its own cache, lock and interval
 * notifier, so invalidations and faults of unrelated chunks never contend.
 * The accessors split an access at chunk boundaries and run the ordinary
 * region code on each piece.
 *
 * A child is only created for a chunk that overlaps a mapping of the owner
 * at that time, and at most odpc_max_children exist per parent, so a peer
 * probing random addresses cannot make the parent allocate without bound.
 * Children live until the parent is destroyed.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>

#include "odpc_internal.h"

unsigned int odpc_max_children = 65536;
module_param_named(max_children, odpc_max_children, uint, 0644);
MODULE_PARM_DESC(max_children,
		 "Most child regions an implicit region creates (default 65536, 8 MiB each)");

static bool odpc_chunk_mapped(struct mm_struct *mm, unsigned long start,
			      unsigned long end, int *err)
{
	bool mapped;

	if (mmap_read_lock_killable(mm)) {
		*err = -EINTR;
		return false;
	}
	mapped = find_vma_intersection(mm, start, end);
	mmap_read_unlock(mm);
	*err = mapped ? 0 : -EFAULT;
	return mapped;
}

static struct odpc_region *odpc_child_create(struct odpc_region *p,
					     unsigned long idx)
{
	unsigned long start = idx << ODPC_CHILD_SHIFT;
	unsigned long end = min_t(unsigned long, start + ODPC_CHILD_SIZE,
				  p->end);
	struct mm_struct *mm = p->mm;
	struct odpc_region *c;
	int ret;

	/* The notifier insert needs a live address space. */
	if (!mmget_not_zero(mm))
		return ERR_PTR(-ESRCH);

	mutex_lock(&p->child_lock);
	c = xa_load(&p->children, idx);
	if (c)
		goto out;
	if (!odpc_chunk_mapped(mm, start, end, &ret)) {
		c = ERR_PTR(ret);
		goto out;
	}
	if (p->nchildren >= READ_ONCE(odpc_max_children)) {
		c = ERR_PTR(-ENOMEM);
		goto out;
	}
	c = odpc_region_new(mm, start, end, p->flags & ~ODPC_REGION_IMPLICIT,
			    p->priv);
	if (IS_ERR(c))
		goto out;
	c->test_priv = p->test_priv;
	c->test_hook = p->test_hook;
	ret = xa_err(xa_store(&p->children, idx, c, GFP_KERNEL));
	if (ret) {
		odpc_region_destroy(c);
		c = ERR_PTR(ret);
		goto out;
	}
	WRITE_ONCE(p->nchildren, p->nchildren + 1);
out:
	mutex_unlock(&p->child_lock);
	/* After the unlock: a last mmput() runs the invalidate callbacks. */
	mmput(mm);
	return c;
}

static struct odpc_region *odpc_child_get(struct odpc_region *p, u64 va,
					  bool create)
{
	unsigned long idx = va >> ODPC_CHILD_SHIFT;
	struct odpc_region *c = xa_load(&p->children, idx);

	if (c)
		return c;
	if (!create)
		return ERR_PTR(-EWOULDBLOCK);
	return odpc_child_create(p, idx);
}

/* Bytes from @va to the end of its chunk, at most @len. */
static size_t odpc_chunk_left(u64 va, size_t len)
{
	u64 left = ODPC_CHILD_SIZE - (va & (ODPC_CHILD_SIZE - 1));

	return min_t(u64, len, left);
}

struct odpc_piece_ctx {
	odpc_actor_t actor;
	void *priv;
	size_t base;
};

static int odpc_piece_actor(void *priv, void *kaddr, size_t len, size_t off)
{
	struct odpc_piece_ctx *pc = priv;

	return pc->actor(pc->priv, kaddr, len, pc->base + off);
}

/* odpc_region_walk() on an implicit parent; access already checked. */
int odpc_implicit_walk(struct odpc_region *p, u64 va, size_t len,
		       unsigned int flags, odpc_actor_t actor, void *priv)
{
	struct odpc_piece_ctx pc = { .actor = actor, .priv = priv };
	int ret;

	while (len) {
		size_t n = odpc_chunk_left(va, len);
		struct odpc_region *c;

		c = odpc_child_get(p, va, !(flags & ODPC_NOFAULT));
		if (IS_ERR(c))
			return PTR_ERR(c);
		ret = odpc_region_walk(c, va, n, flags, odpc_piece_actor, &pc);
		if (ret)
			return ret;
		pc.base += n;
		va += n;
		len -= n;
	}
	return 0;
}

/* odpc_region_prefetch() on an implicit parent; access already checked. */
int odpc_implicit_prefetch(struct odpc_region *p, u64 va, size_t len,
			   unsigned int flags)
{
	int ret;

	while (len) {
		size_t n = odpc_chunk_left(va, len);
		struct odpc_region *c;

		c = odpc_child_get(p, va, true);
		if (IS_ERR(c))
			return PTR_ERR(c);
		ret = odpc_region_prefetch(c, va, n, flags);
		if (ret)
			return ret;
		va += n;
		len -= n;
	}
	return 0;
}

/* Called by odpc_region_destroy(); no access is running. */
void odpc_implicit_destroy(struct odpc_region *p)
{
	struct odpc_region *c;
	unsigned long idx;

	xa_for_each(&p->children, idx, c) {
		xa_erase(&p->children, idx);
		odpc_region_destroy(c);
	}
	xa_destroy(&p->children);
	mutex_destroy(&p->child_lock);
}

/* Add the children's counters to @c (ODPC_C_NR entries). */
void odpc_implicit_sum(struct odpc_region *p, u64 *c, u64 *max_order,
		       u64 *nchildren)
{
	struct odpc_region *ch;
	unsigned long idx;
	int i;

	/* Lockless: children are not freed while the parent lives. */
	*max_order = 0;
	xa_for_each(&p->children, idx, ch) {
		for (i = 0; i < ODPC_C_NR; i++)
			c[i] += atomic64_read(&ch->counters[i]);
		*max_order = max_t(u64, *max_order, READ_ONCE(ch->max_order));
	}
	*nchildren = READ_ONCE(p->nchildren);
}

void odpc_implicit_set_hook(struct odpc_region *p, odpc_test_hook_t hook,
			    void *priv)
{
	struct odpc_region *c;
	unsigned long idx;

	mutex_lock(&p->child_lock);
	xa_for_each(&p->children, idx, c)
		odpc_region_set_test_hook(c, hook, priv);
	mutex_unlock(&p->child_lock);
}
