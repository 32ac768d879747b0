// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: per-port hardware counters (sysfs hw_counters, "rdma statistic").
 *
 * The names are the ones the in-tree Soft-RoCE driver exposes, so scripts
 * written against it keep working.  Counters are per device atomics bumped
 * from any context with rxe_counter_inc(); reads are lock-free snapshots,
 * except the ODP counters that the ODP core keeps per MR: a read sums them
 * under the device's odp_mutex (get_hw_stats runs in process context).
 */
#include "rxe.h"

static const struct rdma_stat_desc rxe_counter_descs[RXE_NUM_COUNTERS] = {
	[RXE_CNT_SENT_PKTS].name = "sent_pkts",
	[RXE_CNT_RCVD_PKTS].name = "rcvd_pkts",
	[RXE_CNT_DUP_REQ].name = "duplicate_request",
	[RXE_CNT_OUT_OF_SEQ_REQ].name = "out_of_seq_request",
	[RXE_CNT_RCV_RNR].name = "rcvd_rnr_err",
	[RXE_CNT_SND_RNR].name = "send_rnr_err",
	[RXE_CNT_RCV_SEQ_ERR].name = "rcvd_seq_err",
	[RXE_CNT_ACK_DEFERRED].name = "ack_deferred",
	[RXE_CNT_RETRY_EXCEEDED].name = "retry_exceeded_err",
	[RXE_CNT_RNR_RETRY_EXCEEDED].name = "retry_rnr_exceeded_err",
	[RXE_CNT_COMP_RETRY].name = "completer_retry_err",
	[RXE_CNT_SEND_ERR].name = "send_err",
	[RXE_CNT_LINK_DOWNED].name = "link_downed",
	[RXE_CNT_RDMA_SENDS].name = "rdma_sends",
	[RXE_CNT_RDMA_RECVS].name = "rdma_recvs",
	/* Ours: received packets dropped, by reason. */
	[RXE_CNT_RCVD_BAD_HDR].name = "rcvd_bad_hdr",
	[RXE_CNT_RCVD_BAD_ICRC].name = "rcvd_bad_icrc",
	[RXE_CNT_RCVD_BAD_DGID].name = "rcvd_bad_dgid",
	[RXE_CNT_RCVD_BAD_KEY].name = "rcvd_bad_key",
	[RXE_CNT_RCVD_NO_QP].name = "rcvd_no_qp",
	[RXE_CNT_RCVD_BAD_STATE].name = "rcvd_bad_state",
	[RXE_CNT_RCVD_NO_WQE].name = "rcvd_no_wqe",
	[RXE_CNT_RCVD_QUEUE_FULL].name = "rcvd_queue_full",
	[RXE_CNT_RCVD_UC_DROPPED].name = "rcvd_uc_dropped",
	/* Ours: duplicate READs not replayed (a later resend asks again). */
	[RXE_CNT_DUP_READ_SKIPPED].name = "dup_read_skipped",
	/* Ours: RC/UC packets not from the QP's peer address (dropped). */
	[RXE_CNT_RCVD_BAD_ADDR].name = "rcvd_bad_addr",
	/* Ours: RC responses for PSNs the requester never sent (dropped). */
	[RXE_CNT_RCVD_UNSENT_PSN].name = "rcvd_unsent_psn",
	/* Ours: on-demand paging (rxe_odp.c, rxe_task.c). */
	[RXE_CNT_ODP_PAGE_FAULTS].name = "odp_page_faults",
	[RXE_CNT_ODP_PAGE_INVALIDATIONS].name = "odp_page_invalidations",
	[RXE_CNT_ODP_PAGE_PREFETCH].name = "odp_page_prefetch",
	[RXE_CNT_ODP_FAULT_RETRIES].name = "odp_fault_retries",
	[RXE_CNT_ODP_DEFERRED].name = "odp_deferred",
	[RXE_CNT_ODP_DROPPED].name = "odp_dropped_pkts",
};

static struct rdma_hw_stats *rxe_alloc_hw_port_stats(struct ib_device *ibdev,
						     u32 port)
{
	return rdma_alloc_hw_stats_struct(rxe_counter_descs,
					  ARRAY_SIZE(rxe_counter_descs),
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

static int rxe_get_hw_stats(struct ib_device *ibdev,
			    struct rdma_hw_stats *stats, u32 port, int index)
{
	struct rxe_dev *rdev = to_rdev(ibdev);
	int i;

	for (i = 0; i < ARRAY_SIZE(rxe_counter_descs); i++)
		stats->value[i] = atomic64_read(&rdev->counters[i]);
	/* The ODP core counts these per MR; sum them now. */
	rxe_mr_odp_totals(rdev, &stats->value[RXE_CNT_ODP_FIRST]);
	return ARRAY_SIZE(rxe_counter_descs);
}

const struct ib_device_ops rxe_counter_ops = {
	.alloc_hw_port_stats = rxe_alloc_hw_port_stats,
	.get_hw_stats = rxe_get_hw_stats,
};
