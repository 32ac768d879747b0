/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_odp_core internals: region object, translation-cache entry format,
 * counters.  Not for the NIC driver (it includes include/odp_core.h only).
 */
#ifndef ODPC_INTERNAL_H
#define ODPC_INTERNAL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/xarray.h>

#include "odp_core.h"
#include "odpc_cache.h"

/*
 * Counter indices.  Each region keeps an atomic64_t per counter; the
 * global totals are per-CPU and summed when read.
 */
enum odpc_counter {
	ODPC_C_FAULTS,
	ODPC_C_PAGES_FAULTED,
	ODPC_C_HUGE_PAGES,
	ODPC_C_FAULT_RETRIES,
	ODPC_C_FAULT_ERRORS,
	ODPC_C_FAULT_NS,
	ODPC_C_INVALIDATIONS,
	ODPC_C_PAGES_INVALIDATED,
	ODPC_C_PAGES_DIRTIED,
	ODPC_C_PREFETCHES,
	ODPC_C_NR
};

struct odpc_region {
	/*
	 * Immutable after odpc_region_create() returns.
	 * @start/@end are page aligned; @npages = (end - start) >> PAGE_SHIFT.
	 * @mm is the owner's mm, held with mmgrab() (the struct stays, the
	 * address space may die: faults use mmget_not_zero()).
	 */
	unsigned long start;
	unsigned long end;
	unsigned long npages;
	struct mm_struct *mm;
	u32 flags;
	u32 id;
	void *priv;

	/* Registered on @mm for [start, end); see odpc_invalidate(). */
	struct mmu_interval_notifier notifier;

	/*
	 * @lock protects @cache (every entry), @nvalid, and the sequence
	 * recorded by mmu_interval_set_seq() (the notifier core requires that
	 * set_seq and read_retry run under one driver lock).
	 *
	 * The lock is taken by the invalidate callback, which runs from
	 * reclaim, from page migration, and from mm code that holds mmap_lock,
	 * i_mmap_rwsem or a page lock.  Therefore, while @lock is held:
	 * no memory allocation that can enter reclaim, no mmap_lock, no page
	 * lock, no user-memory access (copy_*_user), no mmput() (the last
	 * mmput runs exit_mmap() which calls the invalidate callback),
	 * no waiting for other work.  Only cache updates, kmap_local_page()
	 * copies and set_page_dirty().
	 */
	struct mutex lock;
	unsigned long *cache;		/* @npages entries, see odpc_cache.h */
	unsigned long nvalid;		/* valid entries in @cache */
	u8 max_order;			/* largest map order seen, under @lock */

	/*
	 * Implicit parent (ODPC_REGION_IMPLICIT) only: @children maps chunk
	 * number (va >> ODPC_CHILD_SHIFT) to a child region.  Lookups are
	 * lockless (xarray RCU); children are created under @child_lock and
	 * freed only by the parent's destroy, so a looked-up child stays
	 * valid while the parent is in use.  @nchildren is under @child_lock.
	 * A parent has no cache and no notifier; @lock is unused.
	 */
	struct xarray children;
	struct mutex child_lock;	/* child creation, @nchildren */
	unsigned long nchildren;

	/* Test hook; set while the region is idle, read without lock. */
	odpc_test_hook_t test_hook;
	void *test_priv;

	atomic64_t counters[ODPC_C_NR];

	/* On odpc_regions, under odpc_regions_lock (debugfs listing). */
	struct list_head node;
};

/* odpc_core.c */
extern unsigned int odpc_fault_max_retries;
extern unsigned int odpc_fault_around;
void odpc_count(struct odpc_region *r, enum odpc_counter c, u64 n);
void odpc_note_order(struct odpc_region *r, unsigned int order);
void odpc_region_list_add(struct odpc_region *r);
void odpc_region_list_del(struct odpc_region *r);

/* odpc_region.c */
struct odpc_region *odpc_region_new(struct mm_struct *mm, unsigned long start,
				    unsigned long end, u32 flags, void *priv);
void odpc_drop_entries_locked(struct odpc_region *r, unsigned long first,
			      unsigned long last_excl, unsigned long *dropped);

/* odpc_implicit.c */
extern unsigned int odpc_max_children;
int odpc_implicit_walk(struct odpc_region *p, u64 va, size_t len,
		       unsigned int flags, odpc_actor_t actor, void *priv);
int odpc_implicit_prefetch(struct odpc_region *p, u64 va, size_t len,
			   unsigned int flags);
void odpc_implicit_destroy(struct odpc_region *p);
void odpc_implicit_sum(struct odpc_region *p, u64 *c, u64 *max_order,
		       u64 *nchildren);
void odpc_implicit_set_hook(struct odpc_region *p, odpc_test_hook_t hook,
			    void *priv);

/* Most pages one hmm_range_fault() call covers (pfn array of 4 KiB). */
#define ODPC_FAULT_MAX_PAGES	512UL

/* odpc_fault.c */
int odpc_fault_and_lock(struct odpc_region *r, unsigned long first,
			unsigned long count, unsigned long ahead,
			unsigned int flags);

#endif /* ODPC_INTERNAL_H */
