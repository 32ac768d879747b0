/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pure logic of the ODP core: translation-cache entry encoding and range
 * checks.  No kernel objects, no locking: the same source compiles in
 * userspace (userspace/odpc-selftest/odpc_cache_test.c) so it can be unit
 * tested under ASan/UBSan.
 */
#ifndef ODPC_CACHE_H
#define ODPC_CACHE_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#include <asm/page.h>
#define ODPC_PAGE_SHIFT		PAGE_SHIFT
#define ODPC_PAGE_SIZE		PAGE_SIZE
#else
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#define ODPC_PAGE_SHIFT		12
#define ODPC_PAGE_SIZE		4096UL
typedef unsigned long long u64;
#endif

/*
 * One translation-cache entry per PAGE_SIZE page of a region, an unsigned
 * long:
 *
 *   bits 63..8  pfn of the page mapped at that address (4K granular, also
 *               for pages that are part of a huge mapping)
 *   bit  3      HUGE     the page came from a map of order > 0
 *   bit  2      WRITTEN  the NIC wrote the page (it was marked dirty)
 *   bit  1      WRITE    the CPU page table allowed writing
 *   bit  0      VALID    the entry may be used under the region lock
 *
 * 0 is an empty entry.  56 bits of pfn cover any physical address on
 * 64-bit; on 32-bit 24 bits cover 64 GiB of 4K pages.
 */
#define ODPC_E_VALID		0x1UL
#define ODPC_E_WRITE		0x2UL
#define ODPC_E_WRITTEN		0x4UL
#define ODPC_E_HUGE		0x8UL
#define ODPC_E_PFN_SHIFT	8

static inline unsigned long odpc_entry_make(unsigned long pfn, bool writable,
					    bool huge)
{
	return (pfn << ODPC_E_PFN_SHIFT) | ODPC_E_VALID |
	       (writable ? ODPC_E_WRITE : 0) | (huge ? ODPC_E_HUGE : 0);
}

static inline unsigned long odpc_entry_pfn(unsigned long e)
{
	return e >> ODPC_E_PFN_SHIFT;
}

/* The entry can serve an access; @write: the access stores to memory. */
static inline bool odpc_entry_usable(unsigned long e, bool write)
{
	if (!(e & ODPC_E_VALID))
		return false;
	return !write || (e & ODPC_E_WRITE);
}

/*
 * Validate and page-align a region [start, start + length) against the
 * user address-space @limit (TASK_SIZE).  Zero length, a wrapping end, and
 * an end above @limit are refused with -EINVAL.  On success *astart and *aend
 * hold the page-aligned bounds and 0 is returned.
 */
static inline int odpc_range_align(u64 start, u64 length, u64 limit,
				   u64 *astart, u64 *aend)
{
	u64 end;

	if (!length)
		return -EINVAL;
	end = start + length;
	if (end < start || end > limit)
		return -EINVAL;
	/* end <= limit < 2^64 - page, so rounding up cannot wrap */
	if (limit > ~(u64)0 - ODPC_PAGE_SIZE)
		return -EINVAL;
	*astart = start & ~(u64)(ODPC_PAGE_SIZE - 1);
	*aend = (end + ODPC_PAGE_SIZE - 1) & ~(u64)(ODPC_PAGE_SIZE - 1);
	return 0;
}

/*
 * Is the access [va, va + len) inside the region [rstart, rend)?  Zero
 * length accesses are inside iff va lies in [rstart, rend].
 */
static inline bool odpc_range_inside(u64 rstart, u64 rend, u64 va, u64 len)
{
	if (va < rstart || va > rend)
		return false;
	return len <= rend - va;
}

/* Index of the cache entry for @va; @va must be inside the region. */
static inline unsigned long odpc_page_index(u64 rstart, u64 va)
{
	return (unsigned long)((va - rstart) >> ODPC_PAGE_SHIFT);
}

#endif /* ODPC_CACHE_H */
