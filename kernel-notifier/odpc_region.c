// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_odp_core: region lifetime and the invalidate callback.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/export.h>

#include "odpc_internal.h"
#include "odpc_trace.h"

static atomic_t odpc_next_id = ATOMIC_INIT(0);

/*
 * Drop the valid entries [first, last_excl) of the cache.  A page the NIC
 * wrote is marked dirty once more before its entry goes: the copy went
 * through the kernel mapping, so no PTE dirty bit records it, and without
 * PG_dirty a swapped, migrated or file-backed page would silently lose the
 * data.  set_page_dirty() and not set_page_dirty_lock(): the invalidation
 * may run with the page locked (reclaim, migration).  The page cannot be
 * freed under us: the entry is valid, so the CPU PTE is still in place
 * (invalidations precede PTE teardown and wait for r->lock).
 */
void odpc_drop_entries_locked(struct odpc_region *r, unsigned long first,
			      unsigned long last_excl, unsigned long *dropped)
{
	unsigned long i, n = 0;

	lockdep_assert_held(&r->lock);

	for (i = first; i < last_excl; i++) {
		unsigned long e = r->cache[i];

		if (!(e & ODPC_E_VALID))
			continue;
		if (e & ODPC_E_WRITTEN)
			set_page_dirty(pfn_to_page(odpc_entry_pfn(e)));
		r->cache[i] = 0;
		n++;
	}
	WRITE_ONCE(r->nvalid, r->nvalid - n);
	*dropped = n;
}

/*
 * The invalidate callback, called by the mmu notifier core inside
 * invalidate_range_start for every change of the owner's page tables that
 * overlaps [r->start, r->end), before the old PTEs go away.  Once it has
 * called mmu_interval_set_seq(), mmu_interval_read_begin() blocks until the
 * matching invalidate_range_end, so no fault can re-install a translation
 * for a page that is about to be unmapped.
 *
 * Constraints (this runs from reclaim, from migration, from the OOM reaper,
 * with mmap_lock, i_mmap_rwsem or the page lock held by the caller):
 *  - no memory allocation (reclaim could recurse into us),
 *  - no mmap_lock (the caller may hold it for write),
 *  - no waiting for NIC work or flushing work queues: a NIC thread may be
 *    blocked in a fault waiting for this very invalidation to end,
 *  - when the range is not blockable (OOM reaper), no sleeping at all: we
 *    only trylock and report failure if the lock is busy.
 * It only clears cache entries and marks written pages dirty, which is
 * bounded work and needs no allocation.
 */
static bool odpc_invalidate(struct mmu_interval_notifier *mni,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct odpc_region *r = container_of(mni, struct odpc_region, notifier);
	bool blockable = mmu_notifier_range_blockable(range);
	unsigned long start, end, dropped = 0;

	if (blockable)
		mutex_lock(&r->lock);
	else if (!mutex_trylock(&r->lock))
		return false;

	mmu_interval_set_seq(mni, cur_seq);

	start = max(range->start, r->start);
	end = min(range->end, r->end);
	if (start < end)
		odpc_drop_entries_locked(r, (start - r->start) >> PAGE_SHIFT,
					 (end - r->start + PAGE_SIZE - 1) >>
						PAGE_SHIFT,
					 &dropped);
	mutex_unlock(&r->lock);

	odpc_count(r, ODPC_C_INVALIDATIONS, 1);
	odpc_count(r, ODPC_C_PAGES_INVALIDATED, dropped);
	trace_odpc_invalidate(r->id, start, end, range->event, blockable,
			      dropped);
	return true;
}

static const struct mmu_interval_notifier_ops odpc_mni_ops = {
	.invalidate = odpc_invalidate,
};

/*
 * Teach lockdep that r->lock is taken inside reclaim, so that an
 * allocation under r->lock is reported even if reclaim never happens to
 * invalidate this region during the test run.
 */
static void odpc_lockdep_prime(struct odpc_region *r)
{
#ifdef CONFIG_LOCKDEP
	fs_reclaim_acquire(GFP_KERNEL);
	mutex_lock(&r->lock);
	mutex_unlock(&r->lock);
	fs_reclaim_release(GFP_KERNEL);
#endif
}

/*
 * Allocate and register a region over [start, end) (page aligned, already
 * validated) of @mm.  The caller holds a reference that keeps mm_users
 * above zero (current->mm, or mmget()).
 */
struct odpc_region *odpc_region_new(struct mm_struct *mm, unsigned long start,
				    unsigned long end, u32 flags, void *priv)
{
	struct odpc_region *r;
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->start = start;
	r->end = end;
	r->npages = (end - start) >> PAGE_SHIFT;
	r->flags = flags;
	r->priv = priv;
	mutex_init(&r->lock);
	INIT_LIST_HEAD(&r->node);

	/* One word per page; sizes the user picks must not WARN. */
	r->cache = kvcalloc(r->npages, sizeof(*r->cache),
			    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!r->cache) {
		ret = -ENOMEM;
		goto err_free;
	}

	r->mm = mm;
	mmgrab(mm);
	odpc_lockdep_prime(r);

	ret = mmu_interval_notifier_insert(&r->notifier, mm, r->start,
					   end - start, &odpc_mni_ops);
	if (ret)
		goto err_mm;

	r->id = atomic_inc_return(&odpc_next_id);
	odpc_region_list_add(r);
	return r;

err_mm:
	mmdrop(mm);
	kvfree(r->cache);
err_free:
	mutex_destroy(&r->lock);
	kfree(r);
	return ERR_PTR(ret);
}

/* An implicit parent: no cache, no notifier; children come on demand. */
static struct odpc_region *odpc_implicit_new(struct mm_struct *mm,
					     unsigned long limit, u32 flags,
					     void *priv)
{
	struct odpc_region *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->start = 0;
	r->end = limit;
	r->flags = flags;
	r->priv = priv;
	mutex_init(&r->lock);
	mutex_init(&r->child_lock);
	xa_init(&r->children);
	INIT_LIST_HEAD(&r->node);
	r->mm = mm;
	mmgrab(mm);
	r->id = atomic_inc_return(&odpc_next_id);
	odpc_region_list_add(r);
	return r;
}

/**
 * odpc_region_create() - mirror a range of the calling process's memory
 * @p: start, length and flags of the region
 *
 * The region belongs to the address space of the calling process (its
 * "owner"); later faults run against that address space from any thread,
 * and fail with -ESRCH once the owner has exited.  No page is faulted or
 * pinned here.
 *
 * With ODPC_REGION_IMPLICIT the region covers the owner's whole user
 * address space [0, TASK_SIZE) (@p->start and @p->length must be 0): it
 * is a parent that creates child regions, one per naturally aligned
 * ODPC_CHILD_SIZE chunk, the first time an access reaches a chunk that
 * overlaps a mapping.  The accessors take the parent like any region.
 *
 * Context: process context of the owner, may sleep; must not hold the
 * owner's mmap_lock.
 * Return: the region, or ERR_PTR(-EINVAL) for a bad range (zero length,
 * wrapping, beyond TASK_SIZE) or unknown flags or a caller without an mm,
 * ERR_PTR(-ENOMEM), or the error of mmu_interval_notifier_insert().
 */
struct odpc_region *odpc_region_create(const struct odpc_region_params *p)
{
	struct mm_struct *mm = current->mm;
	u64 start, end;
	int ret;

	if (!mm || (p->flags & ~(ODPC_REGION_WRITE | ODPC_REGION_IMPLICIT)))
		return ERR_PTR(-EINVAL);
	if (p->flags & ODPC_REGION_IMPLICIT) {
		if (p->start || p->length)
			return ERR_PTR(-EINVAL);
		return odpc_implicit_new(mm, TASK_SIZE, p->flags, p->priv);
	}
	ret = odpc_range_align(p->start, p->length, TASK_SIZE, &start, &end);
	if (ret)
		return ERR_PTR(ret);
	return odpc_region_new(mm, start, end, p->flags, p->priv);
}
EXPORT_SYMBOL_GPL(odpc_region_create);

/**
 * odpc_region_destroy() - stop mirroring and free a region
 * @region: the region (NULL or an ERR_PTR is ignored)
 *
 * Marks the pages the NIC wrote dirty, unregisters the notifier (waiting
 * for a running invalidate callback to finish; none runs afterwards), then
 * frees the translation cache and drops the owner mm.  Safe against
 * concurrent invalidations and against an owner that exited already.
 *
 * Context: process context, may sleep.  The caller guarantees that no other
 * thread uses @region any more, and holds no lock that an invalidation of
 * the owner's memory may need.
 */
void odpc_region_destroy(struct odpc_region *region)
{
	unsigned long dropped;

	if (IS_ERR_OR_NULL(region))
		return;

	odpc_region_list_del(region);
	if (region->flags & ODPC_REGION_IMPLICIT) {
		odpc_implicit_destroy(region);
		goto free;
	}

	/* Pages behind valid entries are still mapped: dirty them now. */
	mutex_lock(&region->lock);
	odpc_drop_entries_locked(region, 0, region->npages, &dropped);
	mutex_unlock(&region->lock);

	mmu_interval_notifier_remove(&region->notifier);
	kvfree(region->cache);
free:
	mmdrop(region->mm);
	mutex_destroy(&region->lock);
	kfree(region);
}
EXPORT_SYMBOL_GPL(odpc_region_destroy);

/**
 * odpc_region_start() - first address covered by a region
 * @region: the region
 *
 * Return: the page-aligned start of the mirrored range.
 */
u64 odpc_region_start(const struct odpc_region *region)
{
	return region->start;
}
EXPORT_SYMBOL_GPL(odpc_region_start);

/**
 * odpc_region_length() - size of a region
 * @region: the region
 *
 * Return: the length in bytes of the page-aligned mirrored range.
 */
u64 odpc_region_length(const struct odpc_region *region)
{
	return region->end - region->start;
}
EXPORT_SYMBOL_GPL(odpc_region_length);

/**
 * odpc_region_priv() - the caller's pointer given at creation
 * @region: the region
 *
 * Return: odpc_region_params.priv as passed to odpc_region_create().
 */
void *odpc_region_priv(const struct odpc_region *region)
{
	return region->priv;
}
EXPORT_SYMBOL_GPL(odpc_region_priv);

/**
 * odpc_region_set_test_hook() - install a fault-path hook (tests only)
 * @region: the region, idle (no access in progress)
 * @hook:   called at each &enum odpc_test_point, or NULL to remove
 * @priv:   passed to @hook
 *
 * On an implicit region the hook applies to its present and future
 * children (it is called with the child).  The hook runs in the faulting
 * thread, in process context, with no lock of the core held (neither
 * mmap_lock nor the region lock), so it may sleep or change the owner's
 * mappings to provoke races.
 */
void odpc_region_set_test_hook(struct odpc_region *region,
			       odpc_test_hook_t hook, void *priv)
{
	WRITE_ONCE(region->test_priv, priv);
	WRITE_ONCE(region->test_hook, hook);
	if (region->flags & ODPC_REGION_IMPLICIT)
		odpc_implicit_set_hook(region, hook, priv);
}
EXPORT_SYMBOL_GPL(odpc_region_set_test_hook);
