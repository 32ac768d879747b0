// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: the completer: retires RC send WQEs from the responses.
 *
 * Runs in the QP's transport context (rxe_task.c: its work item or a user
 * doorbell, under qp->run_mutex), on packets rxe_rcv() queued to
 * qp->resp_pkts.  The WQEs between the SQ consumer index and
 * qp->req_next have been sent; qp->sq_meta holds the PSNs each used.
 *
 *  - An ACK for PSN p retires every SEND/WRITE WQE whose last PSN is at or
 *    before p (coalesced ACKs); reads and atomics need their own response.
 *  - Read responses land in the READ WQE's SGEs at (psn - first) * MTU,
 *    strictly in PSN order; a gap rewinds the requester to the first
 *    missing response.
 *  - An atomic acknowledge writes the original value to the WQE's SGE.
 *  - A PSN sequence NAK acknowledges what precedes it and rewinds the
 *    requester; an RNR NAK holds the requester for the advertised time;
 *    other NAKs fail the WQE and the QP.
 *  - A response whose on-demand-paged target cannot be reached for now
 *    stays at the head of resp_pkts while the completer backs off
 *    (rxe_qp_kick_later()).
 */
#include "rxe.h"
#include "rxe_wire.h"

/*
 * Load the oldest in-flight WQE into qp->req_wqe; false if none.  A WQE
 * that a rewind is sending again (at req_next) is still in flight if all
 * of it went out once: a late ACK for the first transmission retires it.
 * None either for a completer that was going when the QP was moved to
 * RESET (RXE_RUN_RESET): what is in the ring now is a new connection's.
 */
static bool rxe_comp_head(struct rxe_qp *qp, u32 *idx)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->sq_lock, flags);
	*idx = qp->sq.cons;
	if ((*idx == qp->req_next && !qp->sq_meta[*idx].sent) ||
	    rxe_queue_empty(&qp->sq) ||
	    rxe_qp_resetting(qp)) {
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		return false;
	}
	memcpy(qp->req_wqe, rxe_queue_slot(&qp->sq, *idx), qp->req_wqe_size);
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	return true;
}

static bool rxe_wqe_is_rd_atomic(const struct rxe_send_wqe *wqe)
{
	const struct rxe_wr_info *info = rxe_wr_info(wqe->wr.opcode);

	return info && (info->flags & (RXE_WRF_READ | RXE_WRF_ATOMIC));
}

/*
 * The peer answered: retry counters start again and the timeout counts
 * from now for what is left.
 */
static void rxe_comp_alive(struct rxe_qp *qp)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->state_lock, flags);
	qp->retry_left = qp->attr.retry_cnt;
	qp->rnr_left = qp->attr.rnr_retry;
	spin_unlock_irqrestore(&qp->state_lock, flags);
	/* mod_timer() re-arms a pending timer: no del_timer() first. */
	if (qp->sq.cons != qp->req_next)
		rxe_req_arm_timer(qp);
	else
		del_timer(&qp->retry_timer);
}

/*
 * A response retired SQ slot @idx (successfully).  If a rewind was sending
 * that WQE again, the requester moves on to the next one, at the PSN that
 * follows it.
 */
static void rxe_comp_progress(struct rxe_qp *qp, u32 idx)
{
	if (idx == qp->req_next) {
		qp->req_next = (idx + 1) & qp->sq.index_mask;
		qp->req_off = 0;
		qp->req_psn = rxe_psn_next(qp->sq_meta[idx].last_psn);
	}
	rxe_comp_alive(qp);
}

/* Retire the SEND/WRITE WQEs acknowledged by PSN @psn. */
static void rxe_comp_ack_upto(struct rxe_qp *qp, u32 psn, bool inclusive)
{
	struct rxe_send_wqe *wqe = qp->req_wqe;
	struct rxe_sq_meta *m;
	u32 idx;
	s32 c;

	while (rxe_comp_head(qp, &idx)) {
		m = &qp->sq_meta[idx];
		c = rxe_psn_cmp(psn, m->last_psn);
		if (c < 0 || (!inclusive && c == 0))
			return;
		if (rxe_wqe_is_rd_atomic(wqe)) {
			/* Its response was lost: resend the request. */
			rxe_req_rewind(qp, m->first_psn);
			return;
		}
		rxe_req_complete(qp, idx, wqe, IB_WC_SUCCESS);
		rxe_comp_progress(qp, idx);
	}
}

/**
 * rxe_comp_rd_tracks() - is qp->rd_next the placement point of a READ?
 * @qp: the QP (its transport runs here: qp->run_mutex held)
 * @idx: SQ index of the READ
 *
 * Return: true if @qp->rd_next tracks the READ at @idx and lies inside
 * its PSN range (the next response to place).
 */
bool rxe_comp_rd_tracks(struct rxe_qp *qp, u32 idx)
{
	const struct rxe_sq_meta *m = &qp->sq_meta[idx];

	return qp->rd_valid && qp->rd_idx == idx &&
	       rxe_psn_cmp(qp->rd_next, m->first_psn) >= 0 &&
	       rxe_psn_cmp(qp->rd_next, m->last_psn) <= 0;
}

/*
 * Place a read response.  Responses are placed strictly in PSN order
 * (qp->rd_next), so a lost one can never be skipped: an older PSN was
 * placed already (a resend) and is dropped; a newer one means a loss, and
 * the requester is rewound once to ask again from the first missing PSN.
 * Return false when on-demand-paged memory could not be reached for now
 * (keep the packet and try again).
 */
static bool rxe_comp_read_resp(struct rxe_qp *qp, struct sk_buff *skb)
{
	struct rxe_pkt *pkt = rxe_pkt(skb);
	struct rxe_send_wqe *wqe = qp->req_wqe;
	u32 idx, cur = 0, off = 0, skip;
	struct rxe_sq_meta *m;
	const u8 *data;
	s32 c;
	int err;

	rxe_comp_ack_upto(qp, pkt->psn, false);
	if (!rxe_comp_head(qp, &idx) || wqe->wr.opcode != IB_WR_RDMA_READ)
		return true;
	m = &qp->sq_meta[idx];
	if (rxe_psn_cmp(pkt->psn, m->first_psn) < 0 ||
	    rxe_psn_cmp(pkt->psn, m->last_psn) > 0)
		return true;
	if (!rxe_comp_rd_tracks(qp, idx)) {
		qp->rd_valid = true;
		qp->rd_idx = idx;
		qp->rd_next = m->first_psn;
		qp->rd_rewound = false;
	}
	c = rxe_psn_cmp(pkt->psn, qp->rd_next);
	if (c < 0)
		return true;
	if (c > 0) {
		if (!qp->rd_rewound) {
			qp->rd_rewound = true;
			rxe_req_rewind(qp, qp->rd_next);
		}
		return true;
	}
	if (wqe->dma.num_sge > qp->sq_max_sge)
		goto err;
	skip = rxe_psn_diff(pkt->psn, m->first_psn) * rxe_qp_mtu(qp);
	data = skb->data + rxe_op_hdr_len(pkt->opcode);
	err = rxe_sge_skip(wqe->dma.sge, wqe->dma.num_sge, &cur, &off, skip);
	if (!err)
		err = rxe_sge_copy(qp, wqe->dma.sge, wqe->dma.num_sge, &cur,
				   &off, (void *)data, pkt->paylen, true);
	if (err == -EAGAIN)
		return false;
	if (err)
		goto err;
	qp->rd_next = rxe_psn_next(pkt->psn);
	qp->rd_rewound = false;
	if (pkt->psn == m->last_psn) {
		qp->rd_valid = false;
		rxe_req_complete(qp, idx, wqe, IB_WC_SUCCESS);
		rxe_comp_progress(qp, idx);
	} else {
		/* A long READ streaming in is not a timeout. */
		rxe_comp_alive(qp);
	}
	return true;

err:
	qp->rd_valid = false;
	rxe_req_complete(qp, idx, wqe, IB_WC_LOC_PROT_ERR);
	rxe_qp_set_error(qp);
	return true;
}

/* Store an atomic's original value; false: deferred (keep the packet). */
static bool rxe_comp_atomic_ack(struct rxe_qp *qp, struct sk_buff *skb)
{
	struct rxe_pkt *pkt = rxe_pkt(skb);
	struct rxe_send_wqe *wqe = qp->req_wqe;
	u32 idx, cur = 0, off = 0;
	u64 orig;
	int err;

	rxe_comp_ack_upto(qp, pkt->psn, false);
	if (!rxe_comp_head(qp, &idx) || !rxe_wqe_is_rd_atomic(wqe) ||
	    wqe->wr.opcode == IB_WR_RDMA_READ ||
	    pkt->psn != qp->sq_meta[idx].first_psn)
		return true;
	orig = rxe_atmack_orig(skb->data +
			       rxe_op_hdr_off(pkt->opcode, RXE_HDR_ATMACK));
	err = wqe->dma.num_sge > qp->sq_max_sge ? -EACCES :
	      rxe_sge_copy(qp, wqe->dma.sge, wqe->dma.num_sge, &cur, &off,
			   &orig, sizeof(orig), true);
	if (err == -EAGAIN)
		return false;
	if (err) {
		rxe_req_complete(qp, idx, wqe, IB_WC_LOC_PROT_ERR);
		rxe_qp_set_error(qp);
		return true;
	}
	rxe_req_complete(qp, idx, wqe, IB_WC_SUCCESS);
	rxe_comp_progress(qp, idx);
	return true;
}

/*
 * The WQE a NAK for @psn refuses: the oldest in flight, if @psn lies in
 * it.  A NAK for an older PSN is stale (the request was answered or sent
 * again since, and the answer to that decides); one for a newer PSN names
 * no request we are waiting on.  Either is ignored rather than allowed to
 * fail a WQE it is not about.
 */
static bool rxe_comp_nak_head(struct rxe_qp *qp, u32 psn, u32 *idx)
{
	const struct rxe_sq_meta *m;

	if (!rxe_comp_head(qp, idx))
		return false;
	m = &qp->sq_meta[*idx];
	return rxe_psn_cmp(psn, m->first_psn) >= 0 &&
	       rxe_psn_cmp(psn, m->last_psn) <= 0;
}

static void rxe_comp_nak(struct rxe_qp *qp, u32 psn, u8 syn)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	enum ib_wc_status status;
	unsigned long delay;
	u32 idx;

	switch (rxe_aeth_syn_type(syn)) {
	case RXE_AETH_TYPE_RNR_NAK:
		rxe_counter_inc(rdev, RXE_CNT_RCV_RNR);
		rxe_comp_ack_upto(qp, psn, false);
		if (!rxe_comp_nak_head(qp, psn, &idx))
			return;
		if (!qp->rnr_left) {
			rxe_counter_inc(rdev, RXE_CNT_RNR_RETRY_EXCEEDED);
			rxe_req_complete(qp, idx, qp->req_wqe,
					 IB_WC_RNR_RETRY_EXC_ERR);
			rxe_qp_set_error(qp);
			return;
		}
		if (qp->rnr_left != 7)
			qp->rnr_left--;
		qp->req_hold = true;
		rxe_req_rewind(qp, psn);
		delay = usecs_to_jiffies(rxe_rnr_timer_usec(syn));
		mod_timer(&qp->retry_timer, jiffies + max(1UL, delay));
		return;
	case RXE_AETH_TYPE_NAK:
		break;
	default:
		return;
	}
	if (syn == RXE_AETH_NAK_PSN_SEQ) {
		rxe_counter_inc(rdev, RXE_CNT_RCV_SEQ_ERR);
		rxe_comp_ack_upto(qp, psn, false);
		if (rxe_req_use_retry(qp))
			rxe_req_rewind(qp, psn);
		return;
	}
	rxe_comp_ack_upto(qp, psn, false);
	if (!rxe_comp_nak_head(qp, psn, &idx))
		return;
	if (syn == RXE_AETH_NAK_INV_REQ)
		status = IB_WC_REM_INV_REQ_ERR;
	else if (syn == RXE_AETH_NAK_REM_ACCESS)
		status = IB_WC_REM_ACCESS_ERR;
	else
		status = IB_WC_REM_OP_ERR;
	rxe_req_complete(qp, idx, qp->req_wqe, status);
	rxe_qp_set_error(qp);
}

/**
 * rxe_completer() - handle the next queued response of a QP
 * @qp: the QP
 *
 * Return: true if there may be more to do.
 */
bool rxe_completer(struct rxe_qp *qp)
{
	struct sk_buff *skb;
	struct rxe_pkt *pkt;
	enum ib_qp_state state;
	bool done = true;
	u8 kind, syn;

	if (test_bit(RXE_DEFER_COMP, &qp->odp_defer))
		return false;
	/* Most rounds find nothing: look before taking the queue's lock. */
	if (skb_queue_empty_lockless(&qp->resp_pkts))
		return false;
	skb = skb_dequeue(&qp->resp_pkts);
	if (!skb)
		return false;
	state = rxe_qp_state(qp);
	if (qp->ibqp.qp_type != IB_QPT_RC || !qp->req_wqe ||
	    state < IB_QPS_RTS || state == IB_QPS_ERR)
		goto out;
	pkt = rxe_pkt(skb);
	if (rxe_psn_cmp(pkt->psn, qp->req_psn_end) >= 0) {
		/* A response to nothing we sent: it must not retire WQEs. */
		rxe_counter_inc(to_rdev(qp->ibqp.device),
				RXE_CNT_RCVD_UNSENT_PSN);
		goto out;
	}
	kind = pkt->opcode & RXE_OP_KIND_MASK;
	if (rxe_op_flags(pkt->opcode) & RXE_OPF_AETH) {
		syn = rxe_aeth_syn(skb->data +
				   rxe_op_hdr_off(pkt->opcode, RXE_HDR_AETH));
		if (rxe_aeth_syn_type(syn) != RXE_AETH_TYPE_ACK) {
			rxe_comp_nak(qp, pkt->psn, syn);
			goto out;
		}
	}
	switch (kind) {
	case RXE_OPK_ACK:
		rxe_comp_ack_upto(qp, pkt->psn, true);
		break;
	case RXE_OPK_ATOMIC_ACK:
		done = rxe_comp_atomic_ack(qp, skb);
		break;
	case RXE_OPK_READ_RESP_FIRST:
	case RXE_OPK_READ_RESP_MIDDLE:
	case RXE_OPK_READ_RESP_LAST:
	case RXE_OPK_READ_RESP_ONLY:
		done = rxe_comp_read_resp(qp, skb);
		break;
	default:
		break;
	}
	if (!done) {
		/* On-demand paging: place this response again later. */
		if (rxe_qp_requeue(qp, &qp->resp_pkts, skb))
			rxe_qp_kick_later(qp, RXE_DEFER_COMP);
		return false;
	}
	/* Progress may have opened the window. */
	if (qp->sq.cons != qp->req_next || !rxe_queue_empty(&qp->sq))
		rxe_qp_kick(qp);
out:
	kfree_skb(skb);
	return true;
}
