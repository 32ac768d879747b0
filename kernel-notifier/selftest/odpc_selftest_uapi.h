/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ioctl interface of the rxe_odp_core self-test device /dev/odpc_selftest.
 * Shared by selftest/odpc_selftest.c (kernel) and
 * userspace/odpc-selftest/odpc_selftest.c.  Test-only, no ABI promise.
 */
#ifndef ODPC_SELFTEST_UAPI_H
#define ODPC_SELFTEST_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ODPC_ST_DEVICE		"/dev/odpc_selftest"

/* odpc_st_create.flags */
#define ODPC_ST_REGION_WRITE	0x1u
#define ODPC_ST_REGION_IMPLICIT	0x2u	/* va and len must be 0 */

/* odpc_st_copy.flags, odpc_st_prefetch.flags, odpc_st_bench.flags */
#define ODPC_ST_WRITE		0x1u	/* into the region */
#define ODPC_ST_NOFAULT		0x2u
#define ODPC_ST_TRACE		0x4u	/* copy: log COPY_START/COPY_DONE */

#define ODPC_ST_MAX_COPY	(64u << 20)
#define ODPC_ST_MAX_EVENTS	64

struct odpc_st_create {
	__u64 va;
	__u64 len;
	__u32 flags;
	__u32 id;		/* out */
};

struct odpc_st_copy {
	__u32 id;
	__u32 flags;
	__u64 va;
	__u64 len;
	__u64 buf;		/* user pointer */
};

struct odpc_st_prefetch {
	__u32 id;
	__u32 flags;
	__u64 va;
	__u64 len;
};

/* odpc_st_atomic.op */
#define ODPC_ST_CMP_SWAP	0
#define ODPC_ST_FETCH_ADD	1

struct odpc_st_atomic {
	__u32 id;
	__u32 op;
	__u64 va;
	__u64 compare;
	__u64 swap_add;
	__u64 orig;		/* out */
};

/* Same order as struct odpc_stats in include/odp_core.h. */
struct odpc_st_counters {
	__u64 faults;
	__u64 pages_faulted;
	__u64 huge_pages;
	__u64 max_order;
	__u64 fault_retries;
	__u64 fault_errors;
	__u64 fault_ns;
	__u64 invalidations;
	__u64 pages_invalidated;
	__u64 pages_dirtied;
	__u64 prefetches;
	__u64 regions;
};

#define ODPC_ST_GLOBAL		0xffffffffu	/* odpc_st_stats.id */

struct odpc_st_stats {
	__u32 id;
	__u32 pad;
	struct odpc_st_counters c;	/* out */
};

/* Fault-path hook modes (odpc_st_hook.mode). */
#define ODPC_ST_HOOK_NONE	0
#define ODPC_ST_HOOK_TRACE	1	/* log read_begin enter/exit, lock */
#define ODPC_ST_HOOK_REMAP	2	/* before the region lock: replace the
					 * page at .va by a fresh anonymous
					 * page (an invalidation), .count times
					 */

struct odpc_st_hook {
	__u32 id;
	__u32 mode;
	__u32 count;
	__u32 pad;
	__u64 va;
};

/*
 * The invalidation window: a test mmu_notifier on the caller's mm whose
 * invalidate_range_start, once armed for [va, va + len), logs WINDOW_OPEN
 * and sleeps until WINDOW_RELEASE (or timeout_ms, then logs TIMEOUT).
 */
struct odpc_st_window {
	__u64 va;
	__u64 len;
	__u32 timeout_ms;
	__u32 wait_event;	/* RELEASE: first wait for this event type */
};

/* Event types in the log. */
#define ODPC_EV_WINDOW_OPEN	1
#define ODPC_EV_WINDOW_RELEASE	2
#define ODPC_EV_WINDOW_TIMEOUT	3
#define ODPC_EV_COPY_START	4
#define ODPC_EV_COPY_DONE	5
#define ODPC_EV_READ_BEGIN	6	/* about to call mmu_interval_read_begin */
#define ODPC_EV_READ_BEGUN	7	/* mmu_interval_read_begin returned */
#define ODPC_EV_BEFORE_LOCK	8
#define ODPC_EV_REMAP		9	/* the REMAP hook replaced the page */

struct odpc_st_event {
	__u32 seq;		/* 1, 2, 3... in recording order */
	__u32 type;
	__u64 arg;		/* type-specific (COPY_DONE: errno) */
};

struct odpc_st_events {
	__u32 count;		/* out */
	__u32 pad;
	struct odpc_st_event ev[ODPC_ST_MAX_EVENTS];
};

struct odpc_st_bench {
	__u32 id;
	__u32 flags;		/* ODPC_ST_WRITE / ODPC_ST_NOFAULT */
	__u64 va;
	__u64 len;
	__u32 iters;
	__u32 pad;
	__u64 ns;		/* out: total time of the copies */
};

struct odpc_st_page {
	__u64 va;
	__u32 dirty;		/* out: PG_dirty of the page mapped at va */
	__u32 pad;
};

#define ODPC_ST_MAGIC		0xd7
#define ODPC_ST_CREATE		_IOWR(ODPC_ST_MAGIC, 1, struct odpc_st_create)
#define ODPC_ST_DESTROY		_IOW(ODPC_ST_MAGIC, 2, __u32)
#define ODPC_ST_COPY		_IOW(ODPC_ST_MAGIC, 3, struct odpc_st_copy)
#define ODPC_ST_PREFETCH	_IOW(ODPC_ST_MAGIC, 4, struct odpc_st_prefetch)
#define ODPC_ST_ATOMIC		_IOWR(ODPC_ST_MAGIC, 5, struct odpc_st_atomic)
#define ODPC_ST_STATS		_IOWR(ODPC_ST_MAGIC, 6, struct odpc_st_stats)
#define ODPC_ST_HOOK		_IOW(ODPC_ST_MAGIC, 7, struct odpc_st_hook)
#define ODPC_ST_WINDOW_ARM	_IOW(ODPC_ST_MAGIC, 8, struct odpc_st_window)
#define ODPC_ST_WINDOW_WAIT	_IOW(ODPC_ST_MAGIC, 9, struct odpc_st_window)
#define ODPC_ST_WINDOW_RELEASE	_IOW(ODPC_ST_MAGIC, 10, struct odpc_st_window)
#define ODPC_ST_EVENTS		_IOR(ODPC_ST_MAGIC, 11, struct odpc_st_events)
#define ODPC_ST_EVENTS_RESET	_IO(ODPC_ST_MAGIC, 12)
#define ODPC_ST_BENCH		_IOWR(ODPC_ST_MAGIC, 13, struct odpc_st_bench)
#define ODPC_ST_PAGE_DIRTY	_IOWR(ODPC_ST_MAGIC, 14, struct odpc_st_page)
/* Wait (up to timeout_ms) until an event of type wait_event is logged. */
#define ODPC_ST_WAIT_EVENT	_IOW(ODPC_ST_MAGIC, 15, struct odpc_st_window)

#endif /* ODPC_SELFTEST_UAPI_H */
