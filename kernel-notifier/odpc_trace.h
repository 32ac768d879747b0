/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tracepoints of rxe_odp_core: events/rxe_odp_core/odpc_fault and
 * events/rxe_odp_core/odpc_invalidate.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rxe_odp_core

#if !defined(ODPC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define ODPC_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(odpc_fault,
	    TP_PROTO(u32 region_id, unsigned long start, unsigned long npages,
		     unsigned int flags, int ret, unsigned int retries, u64 ns),
	    TP_ARGS(region_id, start, npages, flags, ret, retries, ns),
	    TP_STRUCT__entry(__field(u32, region_id)
			     __field(unsigned long, start)
			     __field(unsigned long, npages)
			     __field(unsigned int, flags)
			     __field(int, ret)
			     __field(unsigned int, retries)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->region_id = region_id;
			   __entry->start = start;
			   __entry->npages = npages;
			   __entry->flags = flags;
			   __entry->ret = ret;
			   __entry->retries = retries;
			   __entry->ns = ns;),
	    TP_printk("region=%u va=0x%lx npages=%lu flags=0x%x ret=%d retries=%u ns=%llu",
		      __entry->region_id, __entry->start, __entry->npages,
		      __entry->flags, __entry->ret, __entry->retries,
		      __entry->ns)
);

TRACE_EVENT(odpc_invalidate,
	    TP_PROTO(u32 region_id, unsigned long start, unsigned long end,
		     unsigned int event, bool blockable, unsigned long dropped),
	    TP_ARGS(region_id, start, end, event, blockable, dropped),
	    TP_STRUCT__entry(__field(u32, region_id)
			     __field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(unsigned int, event)
			     __field(bool, blockable)
			     __field(unsigned long, dropped)),
	    TP_fast_assign(__entry->region_id = region_id;
			   __entry->start = start;
			   __entry->end = end;
			   __entry->event = event;
			   __entry->blockable = blockable;
			   __entry->dropped = dropped;),
	    TP_printk("region=%u [0x%lx, 0x%lx) event=%u blockable=%d dropped=%lu",
		      __entry->region_id, __entry->start, __entry->end,
		      __entry->event, __entry->blockable, __entry->dropped)
);

#endif /* ODPC_TRACE_H */

/* Out-of-tree build: the header is found through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE odpc_trace
#include <trace/define_trace.h>
