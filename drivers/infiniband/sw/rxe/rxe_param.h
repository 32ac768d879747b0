/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rxe-odp: device limits and identity.
 *
 * The limits are chosen to be no weaker than what the in-tree Soft-RoCE
 * driver of Linux 6.1 reports, so that applications tuned for it keep
 * working.  They are facts of the interface, not of any implementation.
 */
#ifndef RXE_ODP_PARAM_H
#define RXE_ODP_PARAM_H

#include <linux/sizes.h>
#include <rdma/ib_verbs.h>

/* Version of this driver; also reported as the firmware version. */
#define RXE_ODP_VER_MAJOR		0
#define RXE_ODP_VER_MINOR		1
#define RXE_ODP_VER_SUB			0
#define RXE_ODP_VERSION_STR		"0.1.0"

/* rxe user ABI version understood by rdma-core's rxe provider. */
#define RXE_ODP_UVERBS_ABI		2

#define RXE_VENDOR_ID			0xffffff
#define RXE_PAGE_SIZE_CAP		0xfffff000u
#define RXE_MAX_MR_SIZE			(~0ull)

#define RXE_MAX_QP			(SZ_1M - 16)
#define RXE_MAX_QP_WR			SZ_1M
/*
 * Received packets a QP's transport may have waiting, per direction; more
 * are dropped and counted (rcvd_queue_full), as by a full NIC buffer, and
 * RC recovers them by retransmission.
 */
#define RXE_MAX_QUEUED_PKTS		4096
/*
 * Loopback back-pressure: a QP whose loopback packet leaves its
 * destination with this many packets queued stops sending for the rest of
 * its run and runs again after the destination (rxe_qp_run()), so that
 * inside one machine a fast sender never outruns its receiver into
 * RXE_MAX_QUEUED_PKTS (a long RDMA READ answered in one go would).
 */
#define RXE_LOOPBACK_BUSY_PKTS		512
#define RXE_MAX_SGE			32
#define RXE_MAX_SGE_RD			32
#define RXE_MAX_INLINE			(RXE_MAX_SGE * 16)
#define RXE_MAX_CQ			SZ_1M
#define RXE_MAX_CQE			32767
#define RXE_MAX_MR			0x7ffff
#define RXE_MAX_MW			0x7ffff
#define RXE_MAX_PD			SZ_1M
#define RXE_MAX_AH			32767
#define RXE_MAX_SRQ			(SZ_1M - 0x20001)
#define RXE_MAX_SRQ_WR			SZ_1M
#define RXE_MAX_SRQ_SGE			27
#define RXE_MAX_QP_RD_ATOM		128
#define RXE_MAX_RES_RD_ATOM		0x3f000
#define RXE_MAX_MCAST_GRP		8192
#define RXE_MAX_MCAST_QP_ATTACH		56
#define RXE_MAX_TOT_MCAST_QP_ATTACH	0x70000
#define RXE_MAX_FMR_PAGE_LIST_LEN	512
#define RXE_MAX_PKEYS			64
#define RXE_LOCAL_CA_ACK_DELAY		15

/* Port. */
#define RXE_PORT_GID_TBL_LEN		1024
#define RXE_PORT_PKEY_TBL_LEN		1
#define RXE_PORT_MAX_MSG_SZ		0x800000
#define RXE_PORT_MAX_MTU		IB_MTU_4096
#define RXE_DEFAULT_PKEY		0xffff

/*
 * Worst-case bytes a RoCEv2 packet adds on top of its payload, used to
 * fit the IB MTU into the netdev MTU: IPv6 header (40), UDP (8), BTH (12),
 * the largest extension header carried with a full payload (RETH, 16) and
 * the ICRC (4).
 */
#define RXE_WIRE_OVERHEAD		(40 + 8 + 12 + 16 + 4)

/*
 * On-demand paging.  A transient failure to reach ODP memory (the ODP core
 * lost its race against invalidations too often, or ran out of memory) is
 * retried after this back-off, never turned into an access error.  The
 * responder of an RC QP answers a request with an RNR NAK carrying
 * the QP's min_rnr_timer once the same request was deferred
 * RXE_ODP_MAX_DEFERS times, so the requester (ours or stock) resends it.
 */
#define RXE_ODP_BACKOFF_MS		2
#define RXE_ODP_MAX_DEFERS		16

/* RoCEv2 UDP destination port. */
#define RXE_ROCE_V2_PORT		4791

#endif /* RXE_ODP_PARAM_H */
