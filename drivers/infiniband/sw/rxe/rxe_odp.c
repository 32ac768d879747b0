// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: on-demand-paging memory regions.
 *
 * An MR registered with IB_ACCESS_ON_DEMAND pins nothing.  It owns a region
 * of the ODP core (kernel-notifier/, include/odp_core.h), which mirrors the
 * registering process's page tables for the MR's range: a translation
 * cache filled by faulting through hmm_range_fault() and emptied by the
 * region's mmu interval notifier.  Every access of the data path to an ODP
 * MR goes through the core (rxe_mr_copy(), rxe_mr_atomic64()), which
 * touches the page only under the region lock with a valid translation,
 * so a request that meets a range under invalidation waits for it to end
 * and then faults the new page in; it never sees a stale page.
 *
 * Context: the core may sleep, so ODP MRs are only accessed in process
 * context: the QP's transport (rxe_task.c: its work item or a user
 * doorbell), advise_mr's caller, reg/dereg; never from the receive
 * softirq or a kernel post_send (kernel ULPs cannot register ODP MRs).
 *
 * Errors: the core's fatal errors (unmapped address, write to a read-only
 * mapping, owner exited) become -EFAULT, which the transport turns into a
 * protection or remote access error.  Transient errors (an invalidation
 * storm beat the fault's retries, memory pressure) become -EAGAIN, which
 * the transport turns into a back-off (rxe_qp_kick_later()) or an RNR NAK,
 * never into an access error.
 *
 * An implicit ODP MR (start 0, length U64_MAX, iova 0) covers the whole
 * address space of the process; the core gives it lazily created children.
 *
 * Counters: the core counts per region.  `rdma stat show mr` reports them
 * per MR under mlx5's names; the device's hw_counters report the sum over
 * its live ODP MRs plus what its deregistered ones had counted.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <rdma/rdma_netlink.h>
#include <rdma/restrack.h>

#include "odp_core.h"
#include "rxe.h"

/* ODP capabilities advertised in query_device (see rxe_device.c). */
void rxe_odp_init_caps(struct ib_device_attr *a)
{
	u32 rc = IB_ODP_SUPPORT_SEND | IB_ODP_SUPPORT_RECV |
		 IB_ODP_SUPPORT_WRITE | IB_ODP_SUPPORT_READ |
		 IB_ODP_SUPPORT_ATOMIC | IB_ODP_SUPPORT_SRQ_RECV;

	a->kernel_cap_flags |= IBK_ON_DEMAND_PAGING;
	a->odp_caps.general_caps = IB_ODP_SUPPORT | IB_ODP_SUPPORT_IMPLICIT;
	a->odp_caps.per_transport_caps.rc_odp_caps = rc;
	a->odp_caps.per_transport_caps.uc_odp_caps = IB_ODP_SUPPORT_SEND |
						     IB_ODP_SUPPORT_RECV |
						     IB_ODP_SUPPORT_WRITE;
	a->odp_caps.per_transport_caps.ud_odp_caps = IB_ODP_SUPPORT_SEND |
						     IB_ODP_SUPPORT_RECV;
}

static bool rxe_odp_is_implicit(u64 start, u64 length)
{
	return !start && length == U64_MAX;
}

/**
 * rxe_odp_mr_init() - give a new MR its ODP region
 * @mr: the MR, not yet published (kind RXE_MR_ODP, access set)
 * @start: user virtual address of the first byte
 * @length: bytes; U64_MAX with @start 0 for an implicit MR
 * @iova: I/O virtual address of the first byte (0 for an implicit MR)
 *
 * Runs in the registering process: the region mirrors its address space.
 * Nothing is faulted or pinned here.
 *
 * Return: 0, -EINVAL for a bad range, -ENOMEM.
 */
int rxe_odp_mr_init(struct rxe_mr *mr, u64 start, u64 length, u64 iova)
{
	struct odpc_region_params params = {
		.start = start,
		.length = length,
		.priv = mr,
	};
	struct odpc_region *region;

	INIT_LIST_HEAD(&mr->odp_node);
	if (rxe_odp_is_implicit(start, length)) {
		if (iova)
			return -EINVAL;
		params.start = 0;
		params.length = 0;
		params.flags |= ODPC_REGION_IMPLICIT;
	} else if (!length || length > U64_MAX - start ||
		   length > U64_MAX - iova) {
		return -EINVAL;
	}
	if (ib_access_writable(mr->access))
		params.flags |= ODPC_REGION_WRITE;

	region = odpc_region_create(&params);
	if (IS_ERR(region))
		return PTR_ERR(region);
	mr->odp = region;
	mr->odp_va = start;
	mr->iova = iova;
	mr->length = length;
	mr->page_shift = PAGE_SHIFT;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	mr->ibmr.page_size = PAGE_SIZE;
	return 0;
}

/**
 * rxe_odp_mr_publish() - count a registered ODP MR in its device's totals
 * @rdev: the device
 * @mr: the MR, fully initialised by rxe_odp_mr_init()
 */
void rxe_odp_mr_publish(struct rxe_dev *rdev, struct rxe_mr *mr)
{
	mutex_lock(&rdev->odp_mutex);
	list_add_tail(&mr->odp_node, &rdev->odp_mrs);
	mutex_unlock(&rdev->odp_mutex);
}

static void rxe_odp_stats_to_counters(const struct odpc_stats *st, u64 *c)
{
	c[RXE_CNT_ODP_PAGE_FAULTS - RXE_CNT_ODP_FIRST] += st->pages_faulted;
	c[RXE_CNT_ODP_PAGE_INVALIDATIONS - RXE_CNT_ODP_FIRST] +=
		st->pages_invalidated;
	c[RXE_CNT_ODP_PAGE_PREFETCH - RXE_CNT_ODP_FIRST] += st->prefetches;
	c[RXE_CNT_ODP_FAULT_RETRIES - RXE_CNT_ODP_FIRST] += st->fault_retries;
}

/**
 * rxe_odp_mr_release() - destroy an ODP MR's region
 * @rdev: the device
 * @mr: the MR; no lookup holds it any more (or it was never published)
 *
 * Its counters are added to the device's retired totals first.
 */
void rxe_odp_mr_release(struct rxe_dev *rdev, struct rxe_mr *mr)
{
	struct odpc_stats st;
	u64 c[RXE_NUM_ODP_CORE_COUNTERS] = {};
	int i;

	if (!mr->odp)
		return;
	mutex_lock(&rdev->odp_mutex);
	if (!list_empty(&mr->odp_node)) {
		odpc_region_get_stats(mr->odp, &st);
		rxe_odp_stats_to_counters(&st, c);
		for (i = 0; i < RXE_NUM_ODP_CORE_COUNTERS; i++)
			rdev->odp_retired[i] += c[i];
		list_del_init(&mr->odp_node);
	}
	mutex_unlock(&rdev->odp_mutex);
	odpc_region_destroy(mr->odp);
	mr->odp = NULL;
}

/**
 * rxe_mr_odp_totals() - the device's ODP counters
 * @rdev: the device
 * @out: RXE_NUM_ODP_CORE_COUNTERS values, in enum rxe_counter order from
 *	RXE_CNT_ODP_FIRST
 *
 * Context: process context (takes odp_mutex).
 */
void rxe_mr_odp_totals(struct rxe_dev *rdev, u64 *out)
{
	struct odpc_stats st;
	struct rxe_mr *mr;

	mutex_lock(&rdev->odp_mutex);
	memcpy(out, rdev->odp_retired, sizeof(rdev->odp_retired));
	list_for_each_entry(mr, &rdev->odp_mrs, odp_node) {
		odpc_region_get_stats(mr->odp, &st);
		rxe_odp_stats_to_counters(&st, out);
	}
	mutex_unlock(&rdev->odp_mutex);
}

/*
 * Fault injection for tests: <debugfs>/rdma_rxe/odp_fail_every = N makes
 * every Nth ODP copy or atomic fail with -EAGAIN before touching memory,
 * as an invalidation storm that beat the ODP core's fault retries would
 * (0: off); with odp_fail_writes_only = 1 only accesses that store to
 * memory count (receive scatter, WRITE targets, read responses, atomics),
 * so a requester keeps sending while its peer's responder backs off.  It
 * exercises the transport's back-off and RNR paths, which real storms
 * reach too rarely to test.
 */
static u32 rxe_odp_fail_every;
static bool rxe_odp_fail_writes_only;
static atomic_t rxe_odp_fail_count = ATOMIC_INIT(0);

/*
 * Test knob: <debugfs>/rdma_rxe/odp_copy_delay_ms = N makes every ODP copy
 * sleep N milliseconds (at most 5 s) before it touches memory, as a slow
 * fault would (a page coming back from a busy swap device).  verbsev
 * rc-reset-asleep uses it to hold a responder asleep, with the QP's
 * run_mutex, while the QP is reset and connected again.  0: off.
 */
static u32 rxe_odp_copy_delay_ms;

static bool rxe_odp_inject_transient(bool write)
{
	u32 n = READ_ONCE(rxe_odp_fail_every);

	if (!n || (!write && READ_ONCE(rxe_odp_fail_writes_only)))
		return false;
	return (u32)atomic_inc_return(&rxe_odp_fail_count) % n == 0;
}

/**
 * rxe_odp_debugfs_init() - add the ODP test knobs to the driver's directory
 * @root: <debugfs>/rdma_rxe
 */
void rxe_odp_debugfs_init(struct dentry *root)
{
	debugfs_create_u32("odp_fail_every", 0600, root, &rxe_odp_fail_every);
	debugfs_create_bool("odp_fail_writes_only", 0600, root,
			    &rxe_odp_fail_writes_only);
	debugfs_create_u32("odp_copy_delay_ms", 0600, root,
			   &rxe_odp_copy_delay_ms);
}

/* Map the core's errors onto the two the transport distinguishes. */
static int rxe_odp_err(int err)
{
	if (!err)
		return 0;
	return odpc_error_is_transient(err) ? -EAGAIN : -EFAULT;
}

/**
 * rxe_odp_copy() - copy between a kernel buffer and ODP memory
 * @mr: an ODP MR the caller holds a reference on; the range is checked
 * @iova: first address
 * @buf: kernel buffer
 * @len: bytes
 * @to_mr: copy into the MR
 *
 * Context: process context; may sleep (faults).
 * Return: 0, -EFAULT (fatal) or -EAGAIN (transient: try again later).
 */
int rxe_odp_copy(struct rxe_mr *mr, u64 iova, void *buf, u64 len, bool to_mr)
{
	u64 va = mr->odp_va + (iova - mr->iova);
	u32 delay = READ_ONCE(rxe_odp_copy_delay_ms);

	if ((size_t)len != len)
		return -EFAULT;
	if (unlikely(delay))
		msleep(min_t(u32, delay, 5000));
	if (rxe_odp_inject_transient(to_mr))
		return -EAGAIN;
	return rxe_odp_err(odpc_region_copy(mr->odp, va, buf, len,
					    to_mr ? ODPC_WRITE : 0));
}

/**
 * rxe_odp_atomic64() - 8-byte atomic on ODP memory
 * @mr: an ODP MR the caller holds a reference on; the range is checked
 * @iova: 8-byte aligned address
 * @cmp_swap: compare-and-swap (else fetch-and-add)
 * @compare: value compared with (compare-and-swap)
 * @swap_add: value stored or added
 * @orig: out: the value before
 *
 * Context: process context; may sleep (faults).
 * Return: 0, -EINVAL (the user address @iova stands for is misaligned),
 * -EFAULT (fatal) or -EAGAIN (transient).
 */
int rxe_odp_atomic64(struct rxe_mr *mr, u64 iova, bool cmp_swap, u64 compare,
		     u64 swap_add, u64 *orig)
{
	u64 va = mr->odp_va + (iova - mr->iova);
	int err;

	if (rxe_odp_inject_transient(true))
		return -EAGAIN;
	err = odpc_region_atomic64(mr->odp, va,
				   cmp_swap ? ODPC_ATOMIC_CMP_SWAP :
					      ODPC_ATOMIC_FETCH_ADD,
				   compare, swap_add, orig);
	/*
	 * The core refuses a misaligned @va (defence in depth, see
	 * rxe_mr_atomic64()); the op and flags are always valid here.
	 */
	if (err == -EINVAL)
		return -EINVAL;
	return rxe_odp_err(err);
}

/*
 * ib_device_ops.advise_mr (ibv_advise_mr): prefetch ODP memory into the
 * translation cache.  Done synchronously whatever the flags say: it is as
 * fast as deferring it, and a caller asking for IB_UVERBS_ADVISE_MR_FLAG_FLUSH
 * gets what it asked.  PREFETCH_NO_FAULT only records pages already present.
 */
static int rxe_advise_mr(struct ib_pd *pd,
			 enum ib_uverbs_advise_mr_advice advice, u32 flags,
			 struct ib_sge *sg_list, u32 num_sge,
			 struct uverbs_attr_bundle *attrs)
{
	struct rxe_dev *rdev = to_rdev(pd->device);
	unsigned int oflags = 0;
	int access = 0, err = 0;
	struct rxe_mr *mr;
	u32 i;

	switch (advice) {
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH:
		break;
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE:
		access = IB_ACCESS_LOCAL_WRITE;
		oflags = ODPC_WRITE;
		break;
	case IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT:
		oflags = ODPC_NOFAULT;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (flags & ~IB_UVERBS_ADVISE_MR_FLAG_FLUSH)
		return -EOPNOTSUPP;

	for (i = 0; i < num_sge && !err; i++) {
		mr = rxe_mr_lookup(rdev, sg_list[i].lkey, pd, access, false);
		if (!mr)
			return -ENOENT;
		if (mr->kind != RXE_MR_ODP ||
		    rxe_mr_check_range(mr, sg_list[i].addr, sg_list[i].length)) {
			err = -EINVAL;
		} else {
			err = odpc_region_prefetch(mr->odp,
						   mr->odp_va +
						   (sg_list[i].addr - mr->iova),
						   sg_list[i].length, oflags);
			/* Missing pages are fine for a no-fault snapshot. */
			if (err == -EAGAIN && (oflags & ODPC_NOFAULT))
				err = 0;
		}
		rxe_mr_put(mr);
	}
	return err;
}

/* ib_device_ops.fill_stat_mr_entry: `rdma stat show mr`, mlx5's names. */
static int rxe_fill_stat_mr_entry(struct sk_buff *msg, struct ib_mr *ibmr)
{
	struct rxe_mr *mr = to_rmr(ibmr);
	struct odpc_stats st;
	struct nlattr *table;

	if (mr->kind != RXE_MR_ODP || !mr->odp)
		return 0;
	odpc_region_get_stats(mr->odp, &st);

	table = nla_nest_start(msg, RDMA_NLDEV_ATTR_STAT_HWCOUNTERS);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_stat_hwcounter_entry(msg, "page_faults",
					 st.pages_faulted) ||
	    rdma_nl_stat_hwcounter_entry(msg, "page_invalidations",
					 st.pages_invalidated) ||
	    rdma_nl_stat_hwcounter_entry(msg, "page_prefetch",
					 st.prefetches)) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

const struct ib_device_ops rxe_odp_ops = {
	.advise_mr = rxe_advise_mr,
	.fill_stat_mr_entry = rxe_fill_stat_mr_entry,
};
