// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: the responder: executes received requests.
 *
 * Runs in the QP's transport context (rxe_task.c: its work item or a user
 * doorbell, under qp->run_mutex), in process context, on packets rxe_rcv()
 * validated and queued to qp->req_pkts.
 *
 * Receive WQEs: a WQE is copied out of the RQ or SRQ ring into
 * qp->resp_wqe once and only the copy is used.  An SRQ WQE is consumed
 * when it is taken (other QPs share the ring); an RQ WQE when its
 * completion is written, and only if no flush retired it in the meantime
 * (the consumer index is compared under rq_lock).  A responder that was
 * going when the QP was moved to RESET completes neither: an SRQ WQE it
 * holds is lost to the application, as the QP's own receives are
 * (rxe_resp_retire_wqe()).
 *
 * UD (and GSI): SEND_ONLY and SEND_ONLY_WITH_IMMEDIATE land in one receive
 * WQE: 40 bytes of GRH area first (IPv4: 20 zero bytes and the IPv4
 * header; IPv6: the IPv6 header), then the payload.  No WQE: dropped.
 *
 * RC and UC: requests are executed in PSN order (qp->resp_psn).  A
 * multi-packet SEND keeps its receive WQE in qp->resp_wqe until the last
 * packet; a multi-packet WRITE keeps its next address and rkey.  RC
 * answers: ACK when AckReq is set, read responses, atomic acknowledges,
 * a PSN sequence NAK once per gap, an RNR NAK when no receive WQE is
 * posted, and class C NAKs (invalid request, remote access, remote
 * operation), after which the QP is in error.  Duplicates are re-ACKed,
 * duplicate reads re-executed unless a later retransmission queued behind
 * them asks again (rxe_resp_read_superseded()); a duplicate atomic is
 * answered with the original value its first execution returned
 * (qp->atomic_res, the last RXE_ATOMIC_RES atomics, as many as the
 * deepest requester may have outstanding) and never executed twice; one
 * older than that is dropped.  A QP with max_dest_rd_atomic 0 NAKs READs
 * and atomics (invalid request).  UC drops what RC would NAK and
 * stays usable: the packet and the rest of its message are dropped
 * (rcvd_uc_dropped), a receive WQE the message had taken completes in
 * error, and the next message starts afresh.  A message that lost a packet
 * is dropped silently: the receive WQE it was filling completes nothing and
 * serves the next message (rxe_resp_uc_lost()).  Errors of the receive WQE
 * itself (a SEND longer than its buffer, a bad local key in it) complete
 * it in error and put a UC QP in error too, as on stock rxe.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <rdma/ib_addr.h>

#include "rxe.h"
#include "rxe_wire.h"

#define RXE_GRH_BYTES	40

/*
 * Step an SGE cursor past used-up (and empty) SGEs; return the bytes left
 * in the SGE it then names, 0 when the list is used up.
 */
static u32 rxe_sge_left(const struct rxe_sge *sge, u32 nsge, u32 *cur,
			u32 *off)
{
	while (*cur < nsge && *off >= sge[*cur].length) {
		(*cur)++;
		*off = 0;
	}
	return *cur < nsge ? sge[*cur].length - *off : 0;
}

/**
 * rxe_sge_copy() - copy between a buffer and the memory an SGE list names
 * @qp: the QP whose PD the lkeys must belong to
 * @sge: the SGEs (already bounded by the caller)
 * @nsge: how many
 * @cur: in/out: current SGE
 * @off: in/out: offset in it
 * @buf: kernel buffer
 * @len: bytes
 * @to_mem: true to write the SGEs' memory (needs local write access)
 *
 * Context: the QP's work (the memory may be on-demand paged: may sleep).
 * Return: 0, -ENOSPC when the SGEs are too short, -EACCES for a bad lkey
 * or range, -EAGAIN when on-demand-paged memory cannot be reached for now
 * (the cursor has moved: the caller restores it to retry).
 */
int rxe_sge_copy(struct rxe_qp *qp, const struct rxe_sge *sge, u32 nsge,
		 u32 *cur, u32 *off, void *buf, u32 len, bool to_mem)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	struct rxe_mr *mr;
	u8 *p = buf;
	u32 n;
	int err;

	while (len) {
		n = rxe_sge_left(sge, nsge, cur, off);
		if (!n)
			return -ENOSPC;
		n = min(len, n);
		mr = rxe_mr_lookup(rdev, sge[*cur].lkey, qp->ibqp.pd,
				   to_mem ? IB_ACCESS_LOCAL_WRITE : 0, false);
		if (!mr)
			return -EACCES;
		err = rxe_mr_copy(mr, sge[*cur].addr + *off, p, n, to_mem);
		rxe_mr_put(mr);
		if (err)
			return err == -EAGAIN ? -EAGAIN : -EACCES;
		p += n;
		len -= n;
		*off += n;
	}
	return 0;
}

/**
 * rxe_sge_skip() - advance an SGE cursor
 * @sge: the SGEs
 * @nsge: how many
 * @cur: in/out: current SGE
 * @off: in/out: offset in it
 * @skip: bytes to move forward
 *
 * Return: 0, or -ENOSPC if the SGEs end first.
 */
int rxe_sge_skip(const struct rxe_sge *sge, u32 nsge, u32 *cur, u32 *off,
		 u32 skip)
{
	u32 n;

	while (skip) {
		n = rxe_sge_left(sge, nsge, cur, off);
		if (!n)
			return -ENOSPC;
		n = min(skip, n);
		*off += n;
		skip -= n;
	}
	return 0;
}

static void rxe_srq_event(struct rxe_srq *srq, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = srq->ibsrq.device,
		.element.srq = &srq->ibsrq,
		.event = type,
	};

	if (srq->ibsrq.event_handler)
		srq->ibsrq.event_handler(&ev, srq->ibsrq.srq_context);
}

/*
 * Take the next receive WQE into qp->resp_wqe.  Return its RQ index in
 * @idx (meaningless for an SRQ) and the SGE bound in @max_sge.
 */
static bool rxe_resp_get_wqe(struct rxe_qp *qp, u32 *idx, u32 *max_sge)
{
	struct rxe_srq *srq = qp->srq;
	unsigned long flags;
	bool limit = false;
	size_t n;

	if (srq) {
		if (qp->resp_ud_held) {
			/* Taken for a packet whose placement was deferred. */
			qp->resp_ud_held = false;
			*max_sge = qp->resp_max_sge;
			return true;
		}
		spin_lock_irqsave(&srq->lock, flags);
		/* A stale part (RESET) takes nothing: see the RQ below. */
		if (rxe_queue_empty(&srq->rq) ||
		    rxe_qp_resetting(qp)) {
			spin_unlock_irqrestore(&srq->lock, flags);
			return false;
		}
		n = min_t(size_t, qp->resp_wqe_size, 1UL << srq->rq.log2_elem);
		memcpy(qp->resp_wqe, rxe_queue_consumer_slot(&srq->rq), n);
		*max_sge = min_t(size_t, srq->max_sge,
				 (n - sizeof(struct rxe_recv_wqe)) /
				 sizeof(struct rxe_sge));
		rxe_queue_advance_cons(&srq->rq);
		if (srq->limit && rxe_queue_count(&srq->rq) < srq->limit) {
			srq->limit = 0;
			limit = true;
		}
		spin_unlock_irqrestore(&srq->lock, flags);
		if (limit)
			rxe_srq_event(srq, IB_EVENT_SRQ_LIMIT_REACHED);
		return true;
	}

	spin_lock_irqsave(&qp->rq_lock, flags);
	/*
	 * A responder that was going when the QP was moved to RESET takes
	 * no receive of the connection that may follow.
	 */
	if (!qp->rq.buf || rxe_queue_empty(&qp->rq) ||
	    rxe_qp_resetting(qp)) {
		spin_unlock_irqrestore(&qp->rq_lock, flags);
		return false;
	}
	*idx = qp->rq.cons;
	memcpy(qp->resp_wqe, rxe_queue_consumer_slot(&qp->rq),
	       qp->resp_wqe_size);
	*max_sge = qp->rq_max_sge;
	spin_unlock_irqrestore(&qp->rq_lock, flags);
	return true;
}

/*
 * Retire a receive WQE (RQ or SRQ); false if a flush already did, or if
 * the QP was moved to RESET since the WQE was taken: a WQE of the old
 * connection completes nothing (an SRQ WQE it took is dropped, as RESET
 * removes work without completions).  modify_qp sets the bit before it
 * empties the RQ, and it is tested under rq_lock: without it, a discard
 * and flushes of the new connection could bring the consumer index round
 * to @idx again.
 */
static bool rxe_resp_retire_wqe(struct rxe_qp *qp, u32 idx)
{
	unsigned long flags;
	bool ok = false;

	if (qp->srq)
		return !rxe_qp_resetting(qp);
	spin_lock_irqsave(&qp->rq_lock, flags);
	if (qp->rq.cons == idx &&
	    !rxe_qp_resetting(qp)) {
		rxe_queue_advance_cons(&qp->rq);
		ok = true;
	}
	spin_unlock_irqrestore(&qp->rq_lock, flags);
	return ok;
}

static bool rxe_resp_rc(struct rxe_qp *qp, struct sk_buff *skb);

/* Execute a UD/GSI receive.  False: deferred, keep the packet. */
static bool rxe_resp_ud(struct rxe_qp *qp, struct sk_buff *skb)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	struct rxe_recv_wqe *wqe = qp->resp_wqe;
	struct rxe_pkt *pkt = rxe_pkt(skb);
	const u8 *bth = skb->data;
	u32 flags = rxe_op_flags(pkt->opcode);
	enum ib_wc_status status = IB_WC_SUCCESS;
	u8 grh[RXE_GRH_BYTES];
	struct ib_wc wc = {};
	u32 idx = 0, max_sge, i, cur = 0, off = 0;
	u64 room = 0;
	int err;

	if (!(flags & RXE_OPF_RWR) || !(flags & RXE_OPF_DETH)) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_HDR);
		return true;
	}
	if (!rxe_resp_get_wqe(qp, &idx, &max_sge)) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_NO_WQE);
		return true;
	}

	if (wqe->dma.num_sge > max_sge) {
		status = IB_WC_LOC_QP_OP_ERR;
		goto complete;
	}
	for (i = 0; i < wqe->dma.num_sge; i++)
		room += wqe->dma.sge[i].length;
	if (room < RXE_GRH_BYTES + (u64)pkt->paylen) {
		status = IB_WC_LOC_LEN_ERR;
		goto complete;
	}

	if (pkt->ipv6) {
		memcpy(grh, ipv6_hdr(skb), sizeof(grh));
	} else {
		memset(grh, 0, RXE_GRH_BYTES - RXE_IPV4_HDR_BYTES);
		memcpy(grh + RXE_GRH_BYTES - RXE_IPV4_HDR_BYTES, ip_hdr(skb),
		       RXE_IPV4_HDR_BYTES);
	}
	err = rxe_sge_copy(qp, wqe->dma.sge, wqe->dma.num_sge, &cur, &off, grh,
			   RXE_GRH_BYTES, true);
	if (!err)
		err = rxe_sge_copy(qp, wqe->dma.sge, wqe->dma.num_sge, &cur,
				   &off,
				   (void *)(bth + rxe_op_hdr_len(pkt->opcode)),
				   pkt->paylen, true);
	if (err == -EAGAIN) {
		/* Keep the (SRQ) WQE for this packet's next attempt. */
		if (qp->srq) {
			qp->resp_ud_held = true;
			qp->resp_max_sge = max_sge;
		}
		return false;
	}
	if (err) {
		status = IB_WC_LOC_PROT_ERR;
		goto complete;
	}

complete:
	pr_debug("qp#%u recv paylen %u: status %d\n", qp->ibqp.qp_num,
		 pkt->paylen, status);
	if (!rxe_resp_retire_wqe(qp, idx))
		return true;
	if (status == IB_WC_SUCCESS)
		rxe_counter_inc(rdev, RXE_CNT_RDMA_RECVS);
	wc.wr_id = wqe->wr_id;
	wc.status = status;
	wc.qp = &qp->ibqp;
	wc.opcode = IB_WC_RECV;
	if (status == IB_WC_SUCCESS) {
		wc.byte_len = RXE_GRH_BYTES + pkt->paylen;
		wc.wc_flags = IB_WC_GRH;
		if (flags & RXE_OPF_IMMDT) {
			wc.wc_flags |= IB_WC_WITH_IMM;
			wc.ex.imm_data = rxe_immdt_imm(bth +
					rxe_op_hdr_off(pkt->opcode,
						       RXE_HDR_IMMDT));
		}
		wc.src_qp = rxe_deth_sqp(bth + rxe_op_hdr_off(pkt->opcode,
							      RXE_HDR_DETH));
		wc.port_num = 1;
		if (!qp->is_user) {
			wc.wc_flags |= IB_WC_WITH_NETWORK_HDR_TYPE;
			wc.network_hdr_type = pkt->ipv6 ? RDMA_NETWORK_IPV6 :
							  RDMA_NETWORK_IPV4;
		}
	}
	if (rxe_cq_post(qp->rcq, &wc, rxe_bth_se(bth)))
		rxe_qp_set_fatal(qp);
	else if (status != IB_WC_SUCCESS && status != IB_WC_LOC_LEN_ERR)
		/* A malformed or unusable receive WQE is fatal (class A). */
		rxe_qp_set_error(qp);
	return true;
}

/*
 * Test knob: <debugfs>/rdma_rxe/resp_delay_us = N makes the responder
 * sleep N microseconds (at most 100 ms) between reading the QP state for a
 * request packet and acting on it, which widens the window in which a
 * modify_qp can change the QP under a running transport (verbsev rc-reset
 * resets a QP in the middle of a burst).  0, the default, is off.
 */
static u32 rxe_resp_delay_us;

static void rxe_resp_inject_delay(void)
{
	u32 us = min_t(u32, READ_ONCE(rxe_resp_delay_us), 100000);

	if (us)
		usleep_range(us, us + us / 8 + 1);
}

/**
 * rxe_resp_debugfs_init() - add the responder test knob
 * @root: <debugfs>/rdma_rxe
 */
void rxe_resp_debugfs_init(struct dentry *root)
{
	debugfs_create_u32("resp_delay_us", 0600, root, &rxe_resp_delay_us);
}

/*
 * An SRQ WQE is consumed when it is taken (other QPs share the ring), so
 * the flush of a QP that goes to ERR cannot complete the one its
 * responder holds (a SEND in progress, or a UD placement deferred): the
 * responder completes it with WR_FLUSH_ERR itself, as the flush does the
 * RQ's.  A QP reset instead (RXE_RUN_RESET) completes nothing.
 */
static void rxe_resp_flush_held(struct rxe_qp *qp)
{
	struct rxe_recv_wqe *wqe = qp->resp_wqe;
	struct ib_wc wc = {};

	qp->resp_busy = false;
	qp->resp_restart = false;
	qp->resp_ud_held = false;
	if (rxe_qp_resetting(qp))
		return;
	wc.wr_id = wqe->wr_id;
	wc.status = IB_WC_WR_FLUSH_ERR;
	wc.opcode = IB_WC_RECV;
	wc.qp = &qp->ibqp;
	if (rxe_cq_post(qp->rcq, &wc, false))
		rxe_qp_set_fatal(qp);
}

/**
 * rxe_responder() - execute the next queued request of a QP
 * @qp: the QP
 *
 * Return: true if there may be more to do.
 */
bool rxe_responder(struct rxe_qp *qp)
{
	struct sk_buff *skb;
	enum ib_qp_state state;
	bool done = true;

	if (unlikely(qp->srq && (qp->resp_busy || qp->resp_ud_held)) &&
	    rxe_qp_state(qp) == IB_QPS_ERR)
		rxe_resp_flush_held(qp);
	if (test_bit(RXE_DEFER_RESP, &qp->odp_defer))
		return false;
	/* Most rounds find nothing: look before taking the queue's lock. */
	if (skb_queue_empty_lockless(&qp->req_pkts))
		return false;
	skb = skb_dequeue(&qp->req_pkts);
	if (!skb)
		return false;
	state = rxe_qp_state(qp);
	rxe_resp_inject_delay();
	if (unlikely(rxe_qp_resetting(qp))) {
		/* Reset while we slept: a packet of the old connection. */
		kfree_skb(skb);
		return true;
	}
	if (state >= IB_QPS_RTR && state != IB_QPS_ERR && qp->resp_wqe) {
		if (qp->ibqp.qp_type == IB_QPT_UD ||
		    qp->ibqp.qp_type == IB_QPT_GSI)
			done = rxe_resp_ud(qp, skb);
		else
			done = rxe_resp_rc(qp, skb);
	}
	if (!done && qp->resp_paused) {
		/*
		 * A READ stopped for loopback back-pressure or after a burst:
		 * it goes on from the head of the queue once rxe_qp_run() has
		 * let the receiver (qp->xmit_busy is set) or the rest of the
		 * round run.
		 */
		qp->resp_paused = false;
		qp->resp_defers = 0;
		rxe_qp_requeue(qp, &qp->req_pkts, skb);
		return true;
	}
	if (!done) {
		/* On-demand paging: try the same packet again later. */
		if (++qp->resp_defers <= RXE_ODP_MAX_DEFERS) {
			if (rxe_qp_requeue(qp, &qp->req_pkts, skb))
				rxe_qp_kick_later(qp, RXE_DEFER_RESP);
			return false;
		}
		/* UD and UC may drop (RC answered with an RNR NAK). */
		rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_ODP_DROPPED);
	}
	qp->resp_defers = 0;
	kfree_skb(skb);
	return true;
}

/*
 * Build a response packet (ACK, NAK, read response, atomic ack) for PSN
 * @psn; the payload area of @paylen bytes is left for the caller.
 */
static struct sk_buff *rxe_resp_pkt(struct rxe_qp *qp, u8 opcode, u32 psn,
				    u8 syn, u32 paylen, struct rxe_av *av)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	u32 flags = rxe_op_flags(opcode);
	unsigned int hdr = rxe_op_hdr_len(opcode);
	u8 pad = rxe_pad_len(paylen);
	struct sk_buff *skb;
	u8 *bth, *aeth;

	if (rxe_qp_av(qp, av))
		return NULL;
	skb = rxe_net_alloc_skb(rdev, av, hdr + paylen + pad);
	if (!skb)
		return NULL;
	bth = skb->data;
	rxe_bth_init(bth, opcode, false, pad, RXE_DEFAULT_PKEY,
		     qp->attr.dest_qp_num, false, psn);
	if (flags & RXE_OPF_AETH) {
		aeth = bth + rxe_op_hdr_off(opcode, RXE_HDR_AETH);
		rxe_aeth_set_syn(aeth, syn);
		rxe_aeth_set_msn(aeth, qp->resp_msn);
	}
	memset(bth + hdr + paylen, 0, pad);
	return skb;
}

static void rxe_resp_ack(struct rxe_qp *qp, u32 psn, u8 syn)
{
	struct sk_buff *skb;
	struct rxe_av av;

	skb = rxe_resp_pkt(qp, RXE_OP_RC_ACK, psn, syn, 0, &av);
	if (skb)
		rxe_net_xmit(to_rdev(qp->ibqp.device), qp, &av, skb);
}

/* RC class C error: NAK it and put the QP in error. */
static void rxe_resp_fatal(struct rxe_qp *qp, u32 psn, u8 syn)
{
	rxe_resp_ack(qp, psn, syn);
	rxe_qp_set_error(qp);
}

static enum ib_wc_status rxe_syn_wc_status(int syn)
{
	switch (syn) {
	case RXE_AETH_NAK_REM_ACCESS:
		return IB_WC_REM_ACCESS_ERR;
	case RXE_AETH_NAK_REM_OP:
		return IB_WC_REM_OP_ERR;
	default:
		return IB_WC_REM_INV_REQ_ERR;
	}
}

static void rxe_resp_recv_cqe(struct rxe_qp *qp, struct sk_buff *skb,
			      enum ib_wc_status status, bool write_imm);

/*
 * UC: the packet @skb is dropped and the message in progress ends with
 * it: the expected PSN moves past the packet, a WRITE in progress is
 * forgotten, and a receive WQE the message had taken completes with
 * @status.  The message's later packets, which then find no message in
 * progress, are dropped the same way until a first packet starts the next
 * one.  No NAK (UC has none) and no QP error, as on stock rxe.  Used for a
 * lost packet, a packet RC would NAK (class C) and one finding no WQE.
 */
static void rxe_resp_uc_end_msg(struct rxe_qp *qp, struct sk_buff *skb,
				enum ib_wc_status status)
{
	qp->resp_psn = rxe_psn_next(rxe_pkt(skb)->psn);
	qp->resp_wr_active = false;
	if (qp->resp_busy && !qp->resp_restart)
		rxe_resp_recv_cqe(qp, skb, status, false);
}

/*
 * UC, a packet of the message in progress was lost (a PSN gap): the
 * message is dropped silently, as the IBTA has a UC responder do.  A
 * receive WQE that a SEND (or a WRITE with immediate) was filling is not
 * completed: it stays taken and the next message fills it from its start
 * (the resp_restart state the ODP path uses), over the bytes the lost one
 * had placed.  The packets left of the lost message find no message in
 * progress and are dropped one by one (rcvd_uc_dropped).
 */
static void rxe_resp_uc_lost(struct rxe_qp *qp, struct sk_buff *skb)
{
	qp->resp_psn = rxe_psn_next(rxe_pkt(skb)->psn);
	qp->resp_wr_active = false;
	if (qp->resp_busy) {
		qp->resp_restart = true;
		qp->resp_cur = 0;
		qp->resp_off = 0;
		qp->resp_len = 0;
	}
}

static bool rxe_qp_access(struct rxe_qp *qp, int access)
{
	unsigned long flags;
	int a;

	spin_lock_irqsave(&qp->state_lock, flags);
	a = qp->attr.qp_access_flags;
	spin_unlock_irqrestore(&qp->state_lock, flags);
	return (a & access) == access;
}

/*
 * Responses one call of rxe_resp_read() sends before it lets the rest of
 * the transport (and, after RXE_WORK_BUDGET rounds, other QPs) run: a
 * READ of up to 2^31 bytes is up to 2^23 packets at MTU 256, too many for
 * one go in a work item or a doorbell.
 */
#define RXE_READ_BURST		64

/* IBA's largest message: a longer READ is an invalid request. */
#define RXE_MAX_READ_LEN	0x80000000u

/*
 * Send the responses of an RDMA READ request (its PSN on).  Return 0, a NAK
 * syndrome, -EAGAIN (on-demand paging: run it again later) or -EBUSY
 * (loopback back-pressure, qp->xmit_busy, or RXE_READ_BURST responses
 * sent: run it again after the receiver or the rest of the round).
 * Either way the request keeps in rxe_pkt()->rd_sent how many responses
 * went out, and the next call goes on from there.
 */
static int rxe_resp_read(struct rxe_qp *qp, struct sk_buff *req, u32 *npsn)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	struct rxe_pkt *pkt = rxe_pkt(req);
	const u8 *reth = req->data + rxe_op_hdr_off(pkt->opcode,
						    RXE_HDR_RETH);
	u64 va = rxe_reth_va(reth), iova = 0;
	u32 rkey = rxe_reth_rkey(reth), len = rxe_reth_len(reth);
	u32 mtu = rxe_qp_mtu(qp), n, psn = pkt->psn, done, start;
	struct rxe_mr *mr = NULL;
	struct sk_buff *skb;
	struct rxe_av av;
	bool first, last;
	int err = 0;
	u8 op;

	if (!rxe_qp_access(qp, IB_ACCESS_REMOTE_READ) ||
	    len > RXE_MAX_READ_LEN)
		return RXE_AETH_NAK_INV_REQ;
	if (len) {
		mr = rxe_mr_from_rkey(rdev, qp, rkey, va, len,
				      IB_ACCESS_REMOTE_READ, &iova);
		if (!mr)
			return RXE_AETH_NAK_REM_ACCESS;
	}
	*npsn = rxe_msg_npsn(len, mtu);
	/* Go on where an earlier call stopped. */
	done = min(pkt->rd_sent, *npsn - 1);
	start = done;
	first = !done;
	iova += (u64)done * mtu;
	len -= done * mtu;
	psn = rxe_psn_add(psn, done);
	for (;;) {
		n = min(len, mtu);
		last = n == len;
		if (first)
			op = last ? RXE_OP_RC_READ_RESP_ONLY :
				    RXE_OP_RC_READ_RESP_FIRST;
		else
			op = last ? RXE_OP_RC_READ_RESP_LAST :
				    RXE_OP_RC_READ_RESP_MIDDLE;
		skb = rxe_resp_pkt(qp, op, psn, RXE_AETH_ACK, n, &av);
		if (!skb)
			break;
		err = n ? rxe_mr_copy(mr, iova, skb->data + rxe_op_hdr_len(op),
				      n, false) : 0;
		if (err) {
			kfree_skb(skb);
			if (err != -EAGAIN)
				err = RXE_AETH_NAK_REM_ACCESS;
			break;
		}
		rxe_net_xmit(rdev, qp, &av, skb);
		done++;
		if (last)
			break;
		iova += n;
		len -= n;
		psn = rxe_psn_next(psn);
		first = false;
		if (qp->xmit_busy || done - start >= RXE_READ_BURST) {
			err = -EBUSY;
			break;
		}
	}
	/*
	 * An ODP deferral after progress starts a new count: only a request
	 * that gets nowhere RXE_ODP_MAX_DEFERS times in a row is RNR NAKed.
	 */
	if (err == -EAGAIN && done > start)
		qp->resp_defers = 0;
	pkt->rd_sent = done;
	if (mr)
		rxe_mr_put(mr);
	return err;
}

static void rxe_resp_atomic_ack(struct rxe_qp *qp, u32 psn, u64 orig)
{
	struct sk_buff *skb;
	struct rxe_av av;

	skb = rxe_resp_pkt(qp, RXE_OP_RC_ATOMIC_ACK, psn, RXE_AETH_ACK, 0, &av);
	if (!skb)
		return;
	rxe_atmack_set_orig(skb->data +
			    rxe_op_hdr_off(RXE_OP_RC_ATOMIC_ACK, RXE_HDR_ATMACK),
			    orig);
	rxe_net_xmit(to_rdev(qp->ibqp.device), qp, &av, skb);
}

/* Execute an atomic.  Return 0, a NAK syndrome or -EAGAIN (nothing done). */
static int rxe_resp_atomic(struct rxe_qp *qp, struct sk_buff *req)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	struct rxe_pkt *pkt = rxe_pkt(req);
	const u8 *ah = req->data + rxe_op_hdr_off(pkt->opcode,
						  RXE_HDR_ATMETH);
	u64 va = rxe_atmeth_va(ah), iova, orig;
	struct rxe_atomic_res *res;
	struct rxe_mr *mr;
	int err;

	if (!rxe_qp_access(qp, IB_ACCESS_REMOTE_ATOMIC))
		return RXE_AETH_NAK_INV_REQ;
	if (va & 7)
		return RXE_AETH_NAK_INV_REQ;
	mr = rxe_mr_from_rkey(rdev, qp, rxe_atmeth_rkey(ah), va, 8,
			      IB_ACCESS_REMOTE_ATOMIC, &iova);
	if (!mr)
		return RXE_AETH_NAK_REM_ACCESS;
	err = rxe_mr_atomic64(mr, iova,
			      (pkt->opcode & RXE_OP_KIND_MASK) ==
			      RXE_OPK_CMP_SWAP, rxe_atmeth_compare(ah),
			      rxe_atmeth_swap_add(ah), &orig);
	rxe_mr_put(mr);
	/* A misaligned target is an invalid request, as for its iova. */
	if (err == -EINVAL)
		return RXE_AETH_NAK_INV_REQ;
	if (err)
		return err == -EAGAIN ? -EAGAIN : RXE_AETH_NAK_REM_ACCESS;

	qp->resp_msn = (qp->resp_msn + 1) & RXE_MSN_MASK;
	res = &qp->atomic_res[qp->atomic_res_next];
	qp->atomic_res_next = (qp->atomic_res_next + 1) % RXE_ATOMIC_RES;
	res->valid = true;
	res->psn = pkt->psn;
	res->orig = orig;
	rxe_resp_atomic_ack(qp, pkt->psn, orig);
	return 0;
}

/*
 * A duplicate atomic: answer it with the result its first execution
 * returned, if that is still kept; else drop it (the requester times out).
 */
static void rxe_resp_atomic_dup(struct rxe_qp *qp, u32 psn)
{
	unsigned int i = qp->atomic_res_next, n;
	struct rxe_atomic_res *res;

	/* Newest first: an old entry may carry the same PSN from a wrap. */
	for (n = 0; n < RXE_ATOMIC_RES; n++) {
		i = (i + RXE_ATOMIC_RES - 1) % RXE_ATOMIC_RES;
		res = &qp->atomic_res[i];
		if (!res->valid)
			return;
		if (res->psn == psn) {
			rxe_resp_atomic_ack(qp, psn, res->orig);
			return;
		}
	}
}

/* Write a receive completion for the WQE in qp->resp_wqe. */
static void rxe_resp_recv_cqe(struct rxe_qp *qp, struct sk_buff *skb,
			      enum ib_wc_status status, bool write_imm)
{
	struct rxe_recv_wqe *wqe = qp->resp_wqe;
	struct rxe_pkt *pkt = rxe_pkt(skb);
	u32 flags = rxe_op_flags(pkt->opcode);
	const u8 *bth = skb->data;
	bool inv_failed = false;
	struct ib_wc wc = {};
	u32 rkey = 0;

	qp->resp_busy = false;
	qp->resp_restart = false;
	if (!rxe_resp_retire_wqe(qp, qp->resp_idx))
		return;
	/*
	 * SEND with Invalidate whose R_Key cannot be invalidated (not a
	 * fast-registration MR or type 2 window of this PD, or a window
	 * bound through another QP): the receive completes in error and
	 * the QP goes to ERR, as stock does.
	 */
	if (status == IB_WC_SUCCESS && (flags & RXE_OPF_IETH)) {
		rkey = rxe_ieth_rkey(bth + rxe_op_hdr_off(pkt->opcode,
							  RXE_HDR_IETH));
		if (rxe_invalidate_key(to_rdev(qp->ibqp.device), qp, rkey,
				       true)) {
			status = IB_WC_REM_INV_REQ_ERR;
			inv_failed = true;
		}
	}
	/* Stock's rdma_recvs: receive WQEs consumed by a SEND. */
	if (status == IB_WC_SUCCESS && !write_imm)
		rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_RDMA_RECVS);
	wc.wr_id = wqe->wr_id;
	wc.status = status;
	wc.qp = &qp->ibqp;
	wc.opcode = write_imm ? IB_WC_RECV_RDMA_WITH_IMM : IB_WC_RECV;
	if (status == IB_WC_SUCCESS) {
		wc.byte_len = qp->resp_len;
		wc.wc_flags = IB_WC_GRH;
		if (flags & RXE_OPF_IMMDT) {
			wc.wc_flags |= IB_WC_WITH_IMM;
			wc.ex.imm_data = rxe_immdt_imm(bth +
					rxe_op_hdr_off(pkt->opcode,
						       RXE_HDR_IMMDT));
		}
		if (flags & RXE_OPF_IETH) {
			wc.wc_flags |= IB_WC_WITH_INVALIDATE;
			wc.ex.invalidate_rkey = rkey;
		}
		wc.src_qp = qp->attr.dest_qp_num;
		wc.port_num = 1;
		if (!qp->is_user) {
			wc.wc_flags |= IB_WC_WITH_NETWORK_HDR_TYPE;
			wc.network_hdr_type = pkt->ipv6 ? RDMA_NETWORK_IPV6 :
							  RDMA_NETWORK_IPV4;
		}
	}
	if (rxe_cq_post(qp->rcq, &wc, rxe_bth_se(bth)))
		rxe_qp_set_fatal(qp);
	else if (inv_failed)
		rxe_qp_set_error(qp);
}

/*
 * The MR under @len bytes at the RDMA WRITE's next address, with a
 * reference, or NULL: then the WRITE ends (remote access error).
 */
static struct rxe_mr *rxe_resp_write_mr(struct rxe_qp *qp, u64 len,
					u64 *iova)
{
	struct rxe_mr *mr;

	mr = rxe_mr_from_rkey(to_rdev(qp->ibqp.device), qp, qp->resp_rkey,
			      qp->resp_va, len, IB_ACCESS_REMOTE_WRITE, iova);
	if (!mr)
		qp->resp_wr_active = false;
	return mr;
}

/*
 * The receive WQE of the SEND in progress is unusable (too small, a bad
 * local key, too many SGEs): it completes with @status.  Such local errors
 * end a UC QP here; an RC QP goes to error after its NAK.
 */
static void rxe_resp_wqe_error(struct rxe_qp *qp, struct sk_buff *skb,
			       enum ib_wc_status status)
{
	rxe_resp_recv_cqe(qp, skb, status, false);
	if (qp->ibqp.qp_type != IB_QPT_RC)
		rxe_qp_set_error(qp);
}

/*
 * Responder resources: a QP that offers none (max_dest_rd_atomic 0) takes
 * no READ or atomic: a new one is NAKed invalid request, as stock rxe does,
 * and a duplicate is dropped.  Otherwise their number only sizes the
 * requester's depth (it may not exceed ours); duplicate atomics are
 * answered from RXE_ATOMIC_RES.
 */
static bool rxe_resp_no_resources(struct rxe_qp *qp, u32 flags)
{
	return (flags & (RXE_OPF_READ | RXE_OPF_ATOMIC)) &&
	       !READ_ONCE(qp->attr.max_dest_rd_atomic);
}

/*
 * Execute an in-order request.  Return 0, a NAK syndrome, or -EAGAIN when
 * on-demand-paged memory could not be reached for now: then the responder
 * state is as if the packet had not arrived (a SEND's first packet keeps
 * its receive WQE, see resp_restart), and the packet is tried again.
 */
static int rxe_resp_execute(struct rxe_qp *qp, struct sk_buff *skb,
			    u32 *npsn)
{
	struct rxe_pkt *pkt = rxe_pkt(skb);
	u32 flags = rxe_op_flags(pkt->opcode);
	const u8 *data = skb->data + rxe_op_hdr_len(pkt->opcode);
	struct rxe_recv_wqe *wqe = qp->resp_wqe;
	struct rxe_mr *mr;
	const u8 *reth = NULL;
	u32 cur, off;
	bool busy, fresh;
	u64 iova;
	int err;

	*npsn = 1;
	if (rxe_resp_no_resources(qp, flags))
		return RXE_AETH_NAK_INV_REQ;
	if (flags & RXE_OPF_READ)
		return rxe_resp_read(qp, skb, npsn);
	if (flags & RXE_OPF_ATOMIC)
		return rxe_resp_atomic(qp, skb);

	/*
	 * Opcode sequence.  A first packet at the expected PSN in the middle
	 * of an RC message is how the stock requester resends the
	 * unacknowledged rest of a message after a NAK or timeout (a new
	 * FIRST/ONLY, for a WRITE with a RETH for the rest): it continues the
	 * message.  Anything else out of sequence is an invalid request.
	 */
	busy = qp->resp_busy && !qp->resp_restart;
	if (flags & RXE_OPF_SEND) {
		if (!(flags & RXE_OPF_START) && !busy)
			return RXE_AETH_NAK_INV_REQ;
		if ((flags & RXE_OPF_START) && busy &&
		    qp->ibqp.qp_type != IB_QPT_RC)
			return RXE_AETH_NAK_INV_REQ;
	} else if (flags & RXE_OPF_START) {
		reth = skb->data + rxe_op_hdr_off(pkt->opcode, RXE_HDR_RETH);
		if (qp->resp_wr_active &&
		    (qp->ibqp.qp_type != IB_QPT_RC ||
		     rxe_reth_va(reth) != qp->resp_va ||
		     rxe_reth_rkey(reth) != qp->resp_rkey ||
		     rxe_reth_len(reth) != qp->resp_left))
			return RXE_AETH_NAK_INV_REQ;
	} else if (!qp->resp_wr_active) {
		return RXE_AETH_NAK_INV_REQ;
	}

	/* Take the receive WQE first: no WQE means RNR, nothing done. */
	if (flags & RXE_OPF_RWR && !qp->resp_busy) {
		if (!rxe_resp_get_wqe(qp, &qp->resp_idx, &qp->resp_max_sge))
			return RXE_AETH_TYPE_RNR_NAK;
		if (wqe->dma.num_sge > qp->resp_max_sge) {
			rxe_resp_wqe_error(qp, skb, IB_WC_LOC_QP_OP_ERR);
			return RXE_AETH_NAK_REM_OP;
		}
		qp->resp_busy = true;
		qp->resp_cur = 0;
		qp->resp_off = 0;
		if (flags & RXE_OPF_SEND)
			qp->resp_len = 0;
	}

	if (flags & RXE_OPF_SEND) {
		cur = qp->resp_cur;
		off = qp->resp_off;
		err = rxe_sge_copy(qp, wqe->dma.sge, wqe->dma.num_sge,
				   &qp->resp_cur, &qp->resp_off, (void *)data,
				   pkt->paylen, true);
		if (err == -EAGAIN) {
			qp->resp_cur = cur;
			qp->resp_off = off;
			if ((flags & RXE_OPF_START) && !busy)
				qp->resp_restart = true;
			return -EAGAIN;
		}
		qp->resp_restart = false;
		if (err) {
			rxe_resp_wqe_error(qp, skb, err == -ENOSPC ?
					   IB_WC_LOC_LEN_ERR :
					   IB_WC_LOC_PROT_ERR);
			return err == -ENOSPC ? RXE_AETH_NAK_INV_REQ :
						RXE_AETH_NAK_REM_OP;
		}
		qp->resp_len += pkt->paylen;
		if (flags & RXE_OPF_END) {
			qp->resp_msn = (qp->resp_msn + 1) & RXE_MSN_MASK;
			rxe_resp_recv_cqe(qp, skb, IB_WC_SUCCESS, false);
		}
		return 0;
	}

	/* RDMA WRITE */
	if (!rxe_qp_access(qp, IB_ACCESS_REMOTE_WRITE))
		return RXE_AETH_NAK_INV_REQ;
	fresh = (flags & RXE_OPF_START) && !qp->resp_wr_active;
	if (fresh) {
		qp->resp_va = rxe_reth_va(reth);
		qp->resp_rkey = rxe_reth_rkey(reth);
		qp->resp_left = rxe_reth_len(reth);
		qp->resp_wr_active = true;
		/* byte_len of a write with immediate: the RETH length. */
		qp->resp_len = qp->resp_left;
	}
	if (pkt->paylen > qp->resp_left ||
	    ((flags & RXE_OPF_END) && pkt->paylen != qp->resp_left)) {
		qp->resp_wr_active = false;
		return RXE_AETH_NAK_INV_REQ;
	}
	/*
	 * The R_Key must cover the whole RETH range before the first byte
	 * lands (as stock checks it): a WRITE running off the end of its MR
	 * writes nothing.  Each packet is checked again below, for the MR
	 * may be invalidated mid-message.
	 */
	if (fresh && !(flags & RXE_OPF_END)) {
		mr = rxe_resp_write_mr(qp, qp->resp_left, &iova);
		if (!mr)
			return RXE_AETH_NAK_REM_ACCESS;
		rxe_mr_put(mr);
	}
	if (pkt->paylen) {
		mr = rxe_resp_write_mr(qp, pkt->paylen, &iova);
		if (!mr)
			return RXE_AETH_NAK_REM_ACCESS;
		err = rxe_mr_copy(mr, iova, (void *)data, pkt->paylen, true);
		rxe_mr_put(mr);
		if (err == -EAGAIN) {
			/* Nothing advanced; a new message starts again. */
			if (fresh)
				qp->resp_wr_active = false;
			return -EAGAIN;
		}
		if (err) {
			qp->resp_wr_active = false;
			return RXE_AETH_NAK_REM_ACCESS;
		}
	}
	qp->resp_va += pkt->paylen;
	qp->resp_left -= pkt->paylen;
	if (flags & RXE_OPF_END) {
		qp->resp_wr_active = false;
		qp->resp_msn = (qp->resp_msn + 1) & RXE_MSN_MASK;
		if (flags & RXE_OPF_COMP)
			rxe_resp_recv_cqe(qp, skb, IB_WC_SUCCESS, true);
	}
	return 0;
}

static void rxe_resp_rnr_nak(struct rxe_qp *qp, u32 psn)
{
	unsigned long irqf;
	u8 rnr;

	rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_SND_RNR);
	spin_lock_irqsave(&qp->state_lock, irqf);
	rnr = qp->attr.min_rnr_timer;
	spin_unlock_irqrestore(&qp->state_lock, irqf);
	rxe_resp_ack(qp, psn, rxe_aeth_rnr_nak(rnr));
}

/* PSNs a request takes up: a READ one per response packet, others one. */
static u32 rxe_resp_req_span(struct rxe_qp *qp, struct sk_buff *skb)
{
	u8 op = rxe_pkt(skb)->opcode;

	if (!(rxe_op_flags(op) & RXE_OPF_READ))
		return 1;
	return rxe_msg_npsn(rxe_reth_len(skb->data +
					 rxe_op_hdr_off(op, RXE_HDR_RETH)),
			    rxe_qp_mtu(qp));
}

/*
 * Has the requester gone back again since it sent @skb, a duplicate READ
 * we are about to replay?  Its requests reach us in the order it sent
 * them, each starting where the one before ended; a request queued behind
 * @skb that starts short of that is a retransmission, so everything @skb
 * asks for that the requester still lacks has been asked for once more,
 * and replaying @skb would only send responses it drops.
 *
 * Without this, a requester that times out while we are busy replaying
 * the READs of its last timeout (a slow guest, a long READ) queues yet
 * another copy behind them; each copy delays the responses it waits for
 * past the next timeout, and no READ ever completes (060's 64 KiB
 * ib_read_bw under the debug kernel, session 7).
 *
 * Context: the QP's transport (qp->run_mutex held); @skb is off the queue.
 */
static bool rxe_resp_read_superseded(struct rxe_qp *qp, struct sk_buff *skb)
{
	u32 end = rxe_psn_add(rxe_pkt(skb)->psn, rxe_resp_req_span(qp, skb));
	struct sk_buff *next;
	unsigned long flags;
	bool ret = false;

	spin_lock_irqsave(&qp->req_pkts.lock, flags);
	skb_queue_walk(&qp->req_pkts, next) {
		if (rxe_psn_cmp(rxe_pkt(next)->psn, end) < 0) {
			ret = true;
			break;
		}
		end = rxe_psn_add(rxe_pkt(next)->psn,
				  rxe_resp_req_span(qp, next));
	}
	spin_unlock_irqrestore(&qp->req_pkts.lock, flags);
	return ret;
}

/* Execute an RC/UC packet.  False: deferred (ODP), keep the packet. */
static bool rxe_resp_rc(struct rxe_qp *qp, struct sk_buff *skb)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	struct rxe_pkt *pkt = rxe_pkt(skb);
	bool rc = qp->ibqp.qp_type == IB_QPT_RC;
	u32 flags = rxe_op_flags(pkt->opcode), npsn, exp = qp->resp_psn;
	s32 c = rxe_psn_cmp(pkt->psn, exp);
	int syn;

	if (c > 0) {
		rxe_counter_inc(rdev, RXE_CNT_OUT_OF_SEQ_REQ);
		if (!rc) {
			/* UC: a lost packet kills the message in progress. */
			rxe_resp_uc_lost(qp, skb);
			if (!(flags & RXE_OPF_START))
				return true;
			exp = pkt->psn;
		} else {
			if (!qp->resp_nak_sent) {
				qp->resp_nak_sent = true;
				rxe_resp_ack(qp, exp, RXE_AETH_NAK_PSN_SEQ);
			}
			return true;
		}
	} else if (c < 0) {
		/* Once per packet: a replayed READ resumed is not another. */
		if (!pkt->rd_sent)
			rxe_counter_inc(rdev, RXE_CNT_DUP_REQ);
		if (!rc)
			return true;
		/* Nothing to answer a replay from. */
		if (rxe_resp_no_resources(qp, flags))
			return true;
		if (flags & RXE_OPF_READ) {
			/* Reading again is harmless: replay it, if still wanted. */
			if (rxe_resp_read_superseded(qp, skb)) {
				rxe_counter_inc(rdev, RXE_CNT_DUP_READ_SKIPPED);
				return true;
			}
			if (rxe_resp_read(qp, skb, &npsn) == -EBUSY) {
				qp->resp_paused = true;
				return false;
			}
			return true;
		}
		if (flags & RXE_OPF_ATOMIC) {
			rxe_resp_atomic_dup(qp, pkt->psn);
			return true;
		}
		if (rxe_bth_ackreq(skb->data))
			rxe_resp_ack(qp, rxe_psn_add(exp, RXE_PSN_MASK),
				     RXE_AETH_ACK);
		return true;
	}

	syn = rxe_resp_execute(qp, skb, &npsn);
	if (syn == -EBUSY) {
		qp->resp_paused = true;
		return false;
	}
	if (syn == -EAGAIN) {
		/*
		 * On-demand paging could not reach the memory for now.  Try
		 * again shortly; after RXE_ODP_MAX_DEFERS tries an RC
		 * responder hands the back-off to the requester (RNR NAK).
		 */
		if (!rc || qp->resp_defers < RXE_ODP_MAX_DEFERS)
			return false;
		rxe_resp_rnr_nak(qp, pkt->psn);
		return true;
	}
	if (syn == RXE_AETH_TYPE_RNR_NAK) {
		if (rc) {
			rxe_resp_rnr_nak(qp, pkt->psn);
		} else {
			/* UC: dropped, and with it the rest of its message. */
			rxe_counter_inc(rdev, RXE_CNT_SND_RNR);
			rxe_resp_uc_end_msg(qp, skb, IB_WC_LOC_LEN_ERR);
		}
		return true;
	}
	if (syn && !rc) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_UC_DROPPED);
		rxe_resp_uc_end_msg(qp, skb, rxe_syn_wc_status(syn));
		return true;
	}
	if (syn) {
		pr_debug("qp#%u NAK 0x%x: op 0x%02x psn 0x%06x len %u; busy %d restart %d wr_active %d left %u\n",
			 qp->ibqp.qp_num, syn, pkt->opcode, pkt->psn,
			 pkt->paylen, qp->resp_busy, qp->resp_restart,
			 qp->resp_wr_active, qp->resp_left);
		rxe_resp_fatal(qp, pkt->psn, syn);
		return true;
	}
	qp->resp_nak_sent = false;
	qp->resp_psn = rxe_psn_add(pkt->psn, npsn);
	if (rc && rxe_bth_ackreq(skb->data) &&
	    !(flags & (RXE_OPF_READ | RXE_OPF_ATOMIC)))
		rxe_resp_ack(qp, pkt->psn, RXE_AETH_ACK);
	return true;
}
