// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe_odp_core: the fault path and the data-path accessors.
 */
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "odpc_internal.h"
#include "odpc_trace.h"

/*
 * Pages an accessor handles per hold of the region lock: bounds how long an
 * invalidation (possibly reclaim) waits behind a long copy.
 */
#define ODPC_LOCK_BATCH		16

static void odpc_hook(struct odpc_region *r, enum odpc_test_point pt)
{
	odpc_test_hook_t hook = READ_ONCE(r->test_hook);

	if (unlikely(hook))
		hook(r, pt, READ_ONCE(r->test_priv));
}

/*
 * One pass of hmm_range_fault() against the owner's mm, starting a new
 * read section.  mmput() happens here, before the caller takes r->lock:
 * the last mmput() of a dying mm runs exit_mmap(), which calls our
 * invalidate callback, which takes r->lock.
 */
static int odpc_hmm_pass(struct odpc_region *r, struct hmm_range *range)
{
	struct mm_struct *mm = r->mm;
	int ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;

	odpc_hook(r, ODPC_TP_BEFORE_READ_BEGIN);
	/* Sleeps while an invalidation of this region is in progress. */
	range->notifier_seq = mmu_interval_read_begin(&r->notifier);
	odpc_hook(r, ODPC_TP_AFTER_READ_BEGIN);

	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	ret = hmm_range_fault(range);
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

/*
 * Copy the hmm result for @count pages into the cache.  The first @need
 * pages were required (faulted): if one is not there with the needed access
 * hmm broke its promise, and that is a hard -EFAULT rather than a loop.  The
 * others were a snapshot: absent ones are skipped.
 */
static int odpc_install_locked(struct odpc_region *r, unsigned long first,
			       unsigned long count, unsigned long need,
			       const unsigned long *pfns, unsigned int flags,
			       unsigned long *installed, unsigned long *huge)
{
	bool write = flags & ODPC_WRITE;
	unsigned long i, added = 0, nhuge = 0, nnew = 0;

	lockdep_assert_held(&r->lock);

	for (i = 0; i < count; i++) {
		unsigned long p = pfns[i];
		unsigned long pfn, old, e;
		unsigned int order;

		if (!(p & HMM_PFN_VALID) || (p & HMM_PFN_ERROR)) {
			if (i >= need)
				continue;
			return -EFAULT;
		}
		if (write && i < need && !(p & HMM_PFN_WRITE))
			return -EFAULT;

		pfn = page_to_pfn(hmm_pfn_to_page(p));
		order = hmm_pfn_to_map_order(p);
		e = odpc_entry_make(pfn, p & HMM_PFN_WRITE, order > 0);

		old = r->cache[first + i];
		if (old & ODPC_E_VALID) {
			/*
			 * Still valid: no invalidation ran since it was
			 * installed, so it maps the same page.  Keep the
			 * WRITTEN mark.
			 */
			if (odpc_entry_pfn(old) == pfn)
				e |= old & ODPC_E_WRITTEN;
		} else {
			nnew++;
		}
		r->cache[first + i] = e;
		added++;
		if (order) {
			nhuge++;
			odpc_note_order(r, order);
		}
	}
	WRITE_ONCE(r->nvalid, r->nvalid + nnew);
	*installed = added;
	*huge = nhuge;
	return 0;
}

/*
 * Request flags per page: fault (for write if asked) the first @need pages,
 * only look at the rest.  Rewritten before each pass: hmm overwrites them.
 */
static void odpc_prep_pfns(unsigned long *pfns, unsigned long need,
			   unsigned long total, unsigned int flags)
{
	unsigned long req = HMM_PFN_REQ_FAULT;
	unsigned long i;

	if (flags & ODPC_WRITE)
		req |= HMM_PFN_REQ_WRITE;
	for (i = 0; i < total; i++)
		pfns[i] = i < need ? req : 0;
}

/**
 * odpc_fault_and_lock() - fault pages into the cache
 * @r:     region
 * @first: index of the first page
 * @count: pages that must be faulted
 * @ahead: further pages to record if they are present (fault-around: no
 *         fault, no error for absent ones)
 * @flags: ODPC_WRITE for write access; ODPC_NOFAULT to only snapshot the
 *         pages that are present (no fault, no error for missing ones)
 *
 * At most ODPC_FAULT_MAX_PAGES pages are handled, never past the region.
 * The protocol: read_begin (waits out a running invalidation), fault under
 * mmap_read_lock, then under r->lock check that no invalidation ran since
 * read_begin; if one did, start again (bounded).  The pfns are installed
 * under r->lock, and the lock is kept so the caller can use them before
 * any invalidation can drop them.
 *
 * Return: 0 with r->lock held, or a negative errno without it.
 */
int odpc_fault_and_lock(struct odpc_region *r, unsigned long first,
			unsigned long count, unsigned long ahead,
			unsigned int flags)
{
	struct hmm_range range = {};
	unsigned long installed = 0, huge = 0, need, total;
	unsigned int retries = 0;
	unsigned long *pfns;
	u64 t0 = ktime_get_ns();
	u64 ns;
	int ret;

	total = min3(count + ahead, ODPC_FAULT_MAX_PAGES, r->npages - first);
	need = (flags & ODPC_NOFAULT) ? 0 : min(count, total);
	pfns = kmalloc_array(total, sizeof(*pfns), GFP_KERNEL);
	if (!pfns) {
		ret = -ENOMEM;
		goto out_err;
	}

	range.notifier = &r->notifier;
	range.start = r->start + (first << PAGE_SHIFT);
	range.end = range.start + (total << PAGE_SHIFT);
	range.hmm_pfns = pfns;
	range.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;

	for (;;) {
		odpc_prep_pfns(pfns, need, total, flags);
		ret = odpc_hmm_pass(r, &range);
		if (!ret) {
			odpc_hook(r, ODPC_TP_BEFORE_LOCK);
			mutex_lock(&r->lock);
			if (!mmu_interval_read_retry(&r->notifier,
						     range.notifier_seq))
				break;
			mutex_unlock(&r->lock);
		} else if (ret != -EBUSY) {
			goto out_free;
		}
		/* An invalidation overlapped this pass: start again. */
		if (retries >= READ_ONCE(odpc_fault_max_retries)) {
			ret = -EAGAIN;
			goto out_free;
		}
		retries++;
		odpc_count(r, ODPC_C_FAULT_RETRIES, 1);
		cond_resched();
	}

	ret = odpc_install_locked(r, first, total, need, pfns, flags,
				  &installed, &huge);
	if (ret) {
		mutex_unlock(&r->lock);
		goto out_free;
	}
	kfree(pfns);

	ns = ktime_get_ns() - t0;
	odpc_count(r, ODPC_C_FAULTS, 1);
	odpc_count(r, ODPC_C_PAGES_FAULTED, installed);
	odpc_count(r, ODPC_C_HUGE_PAGES, huge);
	odpc_count(r, ODPC_C_FAULT_NS, ns);
	trace_odpc_fault(r->id, range.start, total, flags, 0, retries, ns);
	return 0;

out_free:
	kfree(pfns);
out_err:
	odpc_count(r, ODPC_C_FAULT_ERRORS, 1);
	trace_odpc_fault(r->id, r->start + (first << PAGE_SHIFT), count,
			 flags, ret, retries, ktime_get_ns() - t0);
	return ret;
}

static int odpc_check_access(struct odpc_region *r, u64 va, size_t len,
			     unsigned int flags)
{
	if (flags & ~(ODPC_WRITE | ODPC_NOFAULT))
		return -EINVAL;
	if (!odpc_range_inside(r->start, r->end, va, len))
		return -EFAULT;
	if ((flags & ODPC_WRITE) && !(r->flags & ODPC_REGION_WRITE))
		return -EPERM;
	return 0;
}

/**
 * odpc_region_walk() - run a callback on region memory, page by page
 * @region: the region
 * @va:     first virtual address (owner's address space)
 * @len:    bytes
 * @flags:  ODPC_WRITE if @actor stores to the memory; ODPC_NOFAULT to fail
 *          with -EWOULDBLOCK instead of faulting a missing page
 * @actor:  called for each piece (at most one page), in address order,
 *          under the region lock with a valid translation; must not sleep
 * @priv:   passed to @actor
 *
 * Missing pages are faulted (with write access if ODPC_WRITE) and the walk
 * resumes.  With ODPC_WRITE the pages are marked dirty.  If an error is
 * returned, @actor may already have run on a prefix of the range.
 *
 * Context: process context, may sleep (even with ODPC_NOFAULT: it takes a
 * mutex).
 * Return: 0, the first non-zero @actor result, or a negative errno (see
 * odp_core.h).
 */
int odpc_region_walk(struct odpc_region *region, u64 va, size_t len,
		     unsigned int flags, odpc_actor_t actor, void *priv)
{
	bool write = flags & ODPC_WRITE;
	unsigned int batch = 0;
	size_t done = 0;
	int ret;

	might_sleep();
	ret = odpc_check_access(region, va, len, flags);
	if (ret || !len)
		return ret;
	if (region->flags & ODPC_REGION_IMPLICIT)
		return odpc_implicit_walk(region, va, len, flags, actor, priv);

	mutex_lock(&region->lock);
	while (done < len) {
		u64 cur = va + done;
		unsigned long idx = odpc_page_index(region->start, cur);
		size_t off = cur & ~PAGE_MASK;
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE - off);
		unsigned long e = region->cache[idx];
		struct page *page;
		void *kaddr;

		if (!odpc_entry_usable(e, write)) {
			unsigned long last;

			mutex_unlock(&region->lock);
			if (flags & ODPC_NOFAULT)
				return -EWOULDBLOCK;
			last = odpc_page_index(region->start, va + len - 1);
			ret = odpc_fault_and_lock(region, idx, last - idx + 1,
						  READ_ONCE(odpc_fault_around),
						  flags);
			if (ret)
				return ret;
			batch = 0;
			/* Installed under this very lock hold: usable. */
			e = region->cache[idx];
			if (!odpc_entry_usable(e, write)) {
				ret = -EFAULT;
				break;
			}
		}

		page = pfn_to_page(odpc_entry_pfn(e));
		if (write && !(e & ODPC_E_WRITTEN)) {
			/* The page is mapped (entry valid): no truncate race. */
			set_page_dirty(page);
			region->cache[idx] = e | ODPC_E_WRITTEN;
			odpc_count(region, ODPC_C_PAGES_DIRTIED, 1);
		}
		kaddr = kmap_local_page(page);
		ret = actor(priv, kaddr + off, chunk, done);
		kunmap_local(kaddr);
		if (ret)
			break;
		done += chunk;

		if (++batch >= ODPC_LOCK_BATCH && done < len) {
			mutex_unlock(&region->lock);
			cond_resched();
			mutex_lock(&region->lock);
			batch = 0;
		}
	}
	mutex_unlock(&region->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(odpc_region_walk);

struct odpc_copy_ctx {
	void *buf;
	bool to_region;
};

static int odpc_copy_actor(void *priv, void *kaddr, size_t len, size_t off)
{
	struct odpc_copy_ctx *c = priv;

	if (c->to_region)
		memcpy(kaddr, c->buf + off, len);
	else
		memcpy(c->buf + off, kaddr, len);
	return 0;
}

/**
 * odpc_region_copy() - copy between a kernel buffer and region memory
 * @region: the region
 * @va:     virtual address in the owner's address space
 * @buf:    kernel buffer of @len bytes
 * @len:    bytes to copy
 * @flags:  ODPC_WRITE: copy @buf into the region (else region into @buf);
 *          ODPC_NOFAULT: return -EWOULDBLOCK at the first page not in the
 *          translation cache instead of faulting it (the "fast path would
 *          not do" test; a prefix may have been copied)
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno (see odp_core.h).
 */
int odpc_region_copy(struct odpc_region *region, u64 va, void *buf,
		     size_t len, unsigned int flags)
{
	struct odpc_copy_ctx c = {
		.buf = buf,
		.to_region = flags & ODPC_WRITE,
	};

	return odpc_region_walk(region, va, len, flags, odpc_copy_actor, &c);
}
EXPORT_SYMBOL_GPL(odpc_region_copy);

struct odpc_atomic_ctx {
	enum odpc_atomic_op op;
	u64 compare;
	u64 operand;
	u64 orig;
};

static int odpc_atomic_actor(void *priv, void *kaddr, size_t len, size_t off)
{
	struct odpc_atomic_ctx *c = priv;
	u64 *p = kaddr;
	u64 old;

	/* 8-byte aligned: never split across pages. */
	if (len != sizeof(u64))
		return -EINVAL;

	if (c->op == ODPC_ATOMIC_CMP_SWAP) {
		c->orig = cmpxchg64(p, c->compare, c->operand);
		return 0;
	}
	old = READ_ONCE(*p);
	while (!try_cmpxchg64(p, &old, old + c->operand))
		;
	c->orig = old;
	return 0;
}

/**
 * odpc_region_atomic64() - 8-byte atomic read-modify-write in region memory
 * @region:      the region (must have been created with ODPC_REGION_WRITE)
 * @va:          8-byte aligned virtual address
 * @op:          ODPC_ATOMIC_CMP_SWAP or ODPC_ATOMIC_FETCH_ADD
 * @compare:     for CMP_SWAP, the expected value; ignored for FETCH_ADD
 * @swap_or_add: the new value (CMP_SWAP) or the addend (FETCH_ADD)
 * @orig:        receives the value before the operation
 *
 * The page is faulted writable and the operation is done with a locked
 * CPU instruction under the region lock, so it is atomic with respect to
 * other NIC atomics and to CPU atomics of the owner process.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL for a misaligned @va or unknown @op, or an error of
 * odpc_region_walk().
 */
int odpc_region_atomic64(struct odpc_region *region, u64 va,
			 enum odpc_atomic_op op, u64 compare, u64 swap_or_add,
			 u64 *orig)
{
	struct odpc_atomic_ctx c = {
		.op = op,
		.compare = compare,
		.operand = swap_or_add,
	};
	int ret;

	if (va & (sizeof(u64) - 1))
		return -EINVAL;
	if (op != ODPC_ATOMIC_CMP_SWAP && op != ODPC_ATOMIC_FETCH_ADD)
		return -EINVAL;
	ret = odpc_region_walk(region, va, sizeof(u64), ODPC_WRITE,
			       odpc_atomic_actor, &c);
	if (!ret)
		*orig = c.orig;
	return ret;
}
EXPORT_SYMBOL_GPL(odpc_region_atomic64);

/**
 * odpc_region_prefetch() - fill the translation cache ahead of use
 * @region: the region
 * @va:     first virtual address
 * @len:    bytes
 * @flags:  ODPC_WRITE to fault writable; ODPC_NOFAULT to only record the
 *          pages already present in the CPU page tables (a snapshot: never
 *          faults, missing pages are not an error)
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno (see odp_core.h).
 */
int odpc_region_prefetch(struct odpc_region *region, u64 va, size_t len,
			 unsigned int flags)
{
	unsigned long idx, last;
	int ret;

	might_sleep();
	ret = odpc_check_access(region, va, len, flags);
	if (ret || !len)
		return ret;
	if (region->flags & ODPC_REGION_IMPLICIT)
		return odpc_implicit_prefetch(region, va, len, flags);
	odpc_count(region, ODPC_C_PREFETCHES, 1);

	idx = odpc_page_index(region->start, va);
	last = odpc_page_index(region->start, va + len - 1);
	while (idx <= last) {
		unsigned long n = min(last - idx + 1, ODPC_FAULT_MAX_PAGES);

		ret = odpc_fault_and_lock(region, idx, n, 0, flags);
		if (ret)
			return ret;
		mutex_unlock(&region->lock);
		idx += n;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(odpc_region_prefetch);
