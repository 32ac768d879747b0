/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe_odp_core: NIC-agnostic on-demand-paging core.
 *
 * This is the only header a NIC driver includes from kernel-notifier/.
 *
 * A *region* mirrors the CPU page tables of one process (its "owner" mm)
 * for one virtual address range.  It holds a translation cache (one entry
 * per PAGE_SIZE page: pfn plus valid/writable/written bits) that is filled
 * on demand by faulting through hmm_range_fault() and emptied by an
 * mmu_interval_notifier whenever the kernel changes the mapping (munmap,
 * madvise, migration, reclaim, fork COW protection, exit...).  No page is
 * ever pinned.
 *
 * Locking and context contract (read this before calling anything):
 *
 *  - Every function here may sleep.  Call them from process context only
 *    (workqueue, kthread, syscall); never from softirq, tasklet, hardirq,
 *    or with a spinlock held or preemption disabled.
 *
 *  - Do not call them while holding the owner mm's mmap_lock, a page lock,
 *    or any lock that the kernel may hold while it invalidates a mapping
 *    (i_mmap_rwsem, anon_vma lock...), nor any lock that is also taken by
 *    code running inside memory reclaim: a fault waits for running
 *    invalidations of its range to finish, and those may need your lock.
 *
 *  - Data is only ever touched under the region's internal lock, with a
 *    valid translation-cache entry.  Callbacks passed to odpc_region_walk()
 *    run under that lock: they must not sleep, allocate memory, fault user
 *    memory (copy_{to,from}_user, get_user...) or take locks other than
 *    leaf spinlocks.
 *
 *  - A region may be used by several threads concurrently (accesses are
 *    serialised on the region lock).  odpc_region_destroy() must only be
 *    called once no other thread can use the region any more.
 *
 * Error conventions (every accessor returns 0 or a negative errno):
 *   -EFAULT      the address is outside the region, or not mapped in the
 *                owner's address space, or not backed by struct pages.
 *                Fatal for the request (remote access error / protection
 *                error).
 *   -EPERM       write to a page that is mapped read-only, or to a region
 *                created without ODPC_REGION_WRITE.  Fatal for the request.
 *   -EINVAL      bad argument (e.g. misaligned atomic).  Fatal.
 *   -ESRCH       the owner process has exited (its address space is gone).
 *                Fatal; the caller must answer with an error, never wait.
 *   -EAGAIN      transient: the fault lost the race against invalidations
 *                too many times in a row, or ODPC_NOFAULT was given and a
 *                page was not in the cache (-EWOULDBLOCK == -EAGAIN).
 *                Retry later (RNR NAK / backoff).
 *   -ENOMEM      transient: memory allocation or page fault ran out of
 *                memory.  Retry later.
 *   -EINTR       transient: a fatal signal interrupted the fault.
 *   odpc_error_is_transient() classifies these.
 */
#ifndef ODP_CORE_H
#define ODP_CORE_H

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/types.h>

struct odpc_region;

/* Flags of odpc_region_create() (odpc_region_params.flags). */
#define ODPC_REGION_WRITE	0x1u	/* writes through the region allowed */
#define ODPC_REGION_IMPLICIT	0x2u	/* whole address space, lazy children */

/* Implicit regions mirror memory in children of this size and alignment. */
#define ODPC_CHILD_SHIFT	23
#define ODPC_CHILD_SIZE		BIT_ULL(ODPC_CHILD_SHIFT)

/* Flags of the access functions. */
#define ODPC_WRITE		0x1u	/* write intent: data goes into memory */
#define ODPC_NOFAULT		0x2u	/* never fault: use the cache or fail */

/**
 * struct odpc_region_params - arguments of odpc_region_create()
 * @start:  first virtual address (in the calling process) to mirror.
 * @length: number of bytes to mirror; must be non-zero.  The region covers
 *          [@start, @start + @length) rounded out to page boundaries.
 *          Both 0 for an implicit region.
 * @flags:  ODPC_REGION_* flags.
 * @priv:   opaque pointer for the caller, returned by odpc_region_priv().
 */
struct odpc_region_params {
	u64 start;
	u64 length;
	u32 flags;
	void *priv;
};

/**
 * struct odpc_stats - event counters of a region, or global totals
 * @faults:            successful fault operations (each installs >= 1 page)
 * @pages_faulted:     translation-cache entries installed by faults
 * @huge_pages:        of those, entries that came from a huge (order > 0)
 *                     mapping
 * @max_order:         largest map order seen by a fault (9 = 2 MiB on x86)
 * @fault_retries:     fault restarts caused by a concurrent invalidation
 *                     (hmm -EBUSY or read_retry collision)
 * @fault_errors:      faults that failed (any error)
 * @fault_ns:          total time spent in successful faults, nanoseconds
 * @invalidations:     invalidate callbacks that touched the region
 * @pages_invalidated: valid entries dropped by invalidations
 * @pages_dirtied:     pages marked dirty because the NIC wrote them
 * @prefetches:        calls to odpc_region_prefetch()
 * @regions:           regions currently alive (global), or children
 *                     (implicit region), else 0
 *
 * For an implicit region the counters are the sums over its children.
 */
struct odpc_stats {
	u64 faults;
	u64 pages_faulted;
	u64 huge_pages;
	u64 max_order;
	u64 fault_retries;
	u64 fault_errors;
	u64 fault_ns;
	u64 invalidations;
	u64 pages_invalidated;
	u64 pages_dirtied;
	u64 prefetches;
	u64 regions;
};

/**
 * typedef odpc_actor_t - per-chunk callback of odpc_region_walk()
 * @priv:   the pointer given to odpc_region_walk()
 * @kaddr:  kernel address of the chunk (within one page)
 * @len:    bytes in the chunk
 * @offset: offset of the chunk from the start of the walk
 *
 * Runs under the region lock: must not sleep, allocate or fault.
 * Return 0 to continue, anything else stops the walk and is returned.
 */
typedef int (*odpc_actor_t)(void *priv, void *kaddr, size_t len,
			    size_t offset);

/**
 * enum odpc_atomic_op - operation of odpc_region_atomic64()
 * @ODPC_ATOMIC_CMP_SWAP:  store swap_or_add if the value equals compare
 * @ODPC_ATOMIC_FETCH_ADD: add swap_or_add (wrapping)
 */
enum odpc_atomic_op {
	ODPC_ATOMIC_CMP_SWAP,
	ODPC_ATOMIC_FETCH_ADD,
};

struct odpc_region *odpc_region_create(const struct odpc_region_params *p);
void odpc_region_destroy(struct odpc_region *region);

u64 odpc_region_start(const struct odpc_region *region);
u64 odpc_region_length(const struct odpc_region *region);
void *odpc_region_priv(const struct odpc_region *region);

int odpc_region_walk(struct odpc_region *region, u64 va, size_t len,
		     unsigned int flags, odpc_actor_t actor, void *priv);
int odpc_region_copy(struct odpc_region *region, u64 va, void *buf,
		     size_t len, unsigned int flags);
int odpc_region_atomic64(struct odpc_region *region, u64 va,
			 enum odpc_atomic_op op, u64 compare, u64 swap_or_add,
			 u64 *orig);
int odpc_region_prefetch(struct odpc_region *region, u64 va, size_t len,
			 unsigned int flags);

void odpc_region_get_stats(struct odpc_region *region,
			   struct odpc_stats *out);
void odpc_global_get_stats(struct odpc_stats *out);

/**
 * odpc_region_copy_to() - copy a kernel buffer into region memory
 * @region: the region
 * @va:     destination virtual address in the owner's address space
 * @src:    source kernel buffer
 * @len:    bytes to copy
 *
 * Faults missing pages writable as needed.  May sleep.
 * Return: 0 or a negative errno (see the error conventions above).
 */
static inline int odpc_region_copy_to(struct odpc_region *region, u64 va,
				      const void *src, size_t len)
{
	return odpc_region_copy(region, va, (void *)src, len, ODPC_WRITE);
}

/**
 * odpc_region_copy_from() - copy region memory into a kernel buffer
 * @region: the region
 * @va:     source virtual address in the owner's address space
 * @dst:    destination kernel buffer
 * @len:    bytes to copy
 *
 * Faults missing pages readable as needed.  May sleep.
 * Return: 0 or a negative errno (see the error conventions above).
 */
static inline int odpc_region_copy_from(struct odpc_region *region, u64 va,
					void *dst, size_t len)
{
	return odpc_region_copy(region, va, dst, len, 0);
}

/**
 * odpc_error_is_transient() - tell whether an access error is worth a retry
 * @err: a negative errno returned by an odpc_region_* accessor
 *
 * Return: true for errors that the NIC should turn into a retry later
 * (RNR NAK, backoff), false for errors that fail the request.
 */
static inline bool odpc_error_is_transient(int err)
{
	return err == -EAGAIN || err == -ENOMEM || err == -EINTR ||
	       err == -EBUSY;
}

/*
 * Test support.  A test module may install a hook that the fault path calls
 * at fixed points, in process context with no lock held, to provoke races
 * deterministically.  Production code never installs one; a region without
 * a hook pays one pointer test per fault.
 */

/**
 * enum odpc_test_point - where the fault path calls a test hook
 * @ODPC_TP_BEFORE_READ_BEGIN: about to call mmu_interval_read_begin()
 * @ODPC_TP_AFTER_READ_BEGIN:  it returned (no invalidation of the region
 *                             was running any more)
 * @ODPC_TP_BEFORE_LOCK:       hmm_range_fault() done, region lock not taken
 */
enum odpc_test_point {
	ODPC_TP_BEFORE_READ_BEGIN,
	ODPC_TP_AFTER_READ_BEGIN,
	ODPC_TP_BEFORE_LOCK,
};

typedef void (*odpc_test_hook_t)(struct odpc_region *region,
				 enum odpc_test_point point, void *priv);

void odpc_region_set_test_hook(struct odpc_region *region,
			       odpc_test_hook_t hook, void *priv);

#endif /* ODP_CORE_H */
