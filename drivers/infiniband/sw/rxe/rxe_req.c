// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: the requester: turns send WQEs into packets.
 *
 * Runs in the QP's transport context (rxe_task.c: its work item or a user
 * doorbell, under qp->run_mutex), in process context.  Each WQE is copied
 * out of the SQ ring into qp->req_wqe once, under sq_lock, and only the
 * copy is validated and used: user space can rewrite its ring at any time.
 *
 * UD (and GSI): a WQE is one packet; it completes as soon as the packet is
 * handed to the IP layer (or to our own receive path for loopback).  The
 * SQ consumer index moves when the WQE completes.  A flush (modify to
 * ERR, reset) may retire the WQE while we work on it; the completion then
 * notices that the consumer index moved and posts nothing.
 *
 * RC and UC: WQEs are sent packet by packet (one per call) from
 * qp->req_next, segmented at the path MTU; the PSN range of each is kept
 * in qp->sq_meta.  UC WQEs complete after their last packet; RC WQEs stay
 * in the ring until the completer (rxe_comp.c) sees them acknowledged, and
 * a NAK or the retransmission timer rewinds qp->req_next (rxe_req_rewind).
 */
#include "rxe.h"
#include "rxe_wire.h"

static bool rxe_req_signaled(struct rxe_qp *qp, const struct rxe_send_wqe *wqe)
{
	return qp->sq_sig_all || (wqe->wr.send_flags & IB_SEND_SIGNALED);
}

/**
 * rxe_req_complete() - retire the oldest send WQE
 * @qp: the QP
 * @idx: its SQ index (the consumer index when it was read)
 * @wqe: its private copy
 * @status: how it ended
 *
 * Posts a CQE if the WQE asks for one or failed.  Nothing happens if a
 * flush retired the WQE meanwhile, or if the QP was moved to RESET since
 * the WQE was read (a WQE of the old connection: see
 * rxe_resp_retire_wqe()).
 */
void rxe_req_complete(struct rxe_qp *qp, u32 idx,
		      const struct rxe_send_wqe *wqe, enum ib_wc_status status)
{
	struct ib_wc wc = {};
	unsigned long flags;

	spin_lock_irqsave(&qp->sq_lock, flags);
	if (qp->sq.cons != idx ||
	    rxe_qp_resetting(qp)) {
		/* Flushed, discarded or reset while we sent it. */
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		return;
	}
	rxe_queue_advance_cons(&qp->sq);
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (qp->sq_meta)
		qp->sq_meta[idx].sent = false;

	/* Stock's rdma_sends: SEND messages completed. */
	if (status == IB_WC_SUCCESS &&
	    (wqe->wr.opcode == IB_WR_SEND ||
	     wqe->wr.opcode == IB_WR_SEND_WITH_IMM ||
	     wqe->wr.opcode == IB_WR_SEND_WITH_INV))
		rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_RDMA_SENDS);
	if (status == IB_WC_SUCCESS && !rxe_req_signaled(qp, wqe))
		return;
	wc.wr_id = wqe->wr.wr_id;
	wc.status = status;
	wc.qp = &qp->ibqp;
	if (status == IB_WC_SUCCESS) {
		switch (wqe->wr.opcode) {
		case IB_WR_RDMA_WRITE:
		case IB_WR_RDMA_WRITE_WITH_IMM:
			wc.opcode = IB_WC_RDMA_WRITE;
			break;
		case IB_WR_RDMA_READ:
			wc.opcode = IB_WC_RDMA_READ;
			break;
		case IB_WR_ATOMIC_CMP_AND_SWP:
			wc.opcode = IB_WC_COMP_SWAP;
			break;
		case IB_WR_ATOMIC_FETCH_AND_ADD:
			wc.opcode = IB_WC_FETCH_ADD;
			break;
		case IB_WR_LOCAL_INV:
			wc.opcode = IB_WC_LOCAL_INV;
			break;
		case IB_WR_REG_MR:
			wc.opcode = IB_WC_REG_MR;
			break;
		case IB_WR_BIND_MW:
			wc.opcode = IB_WC_BIND_MW;
			break;
		default:
			wc.opcode = IB_WC_SEND;
			break;
		}
		wc.byte_len = wqe->dma.length;
		if (wqe->wr.opcode == IB_WR_SEND_WITH_IMM ||
		    wqe->wr.opcode == IB_WR_RDMA_WRITE_WITH_IMM)
			wc.wc_flags = IB_WC_WITH_IMM;
	}
	if (rxe_cq_post(qp->scq, &wc, false))
		rxe_qp_set_fatal(qp);
}

/* Total bytes a (validated) WQE sends. */
static int rxe_req_length(struct rxe_qp *qp, const struct rxe_send_wqe *wqe,
			  u32 *len)
{
	u64 total = 0;
	u32 i;

	if (wqe->wr.send_flags & IB_SEND_INLINE) {
		if (wqe->dma.length > qp->sq_max_inline)
			return -EINVAL;
		*len = wqe->dma.length;
		return 0;
	}
	if (wqe->dma.num_sge > qp->sq_max_sge)
		return -EINVAL;
	for (i = 0; i < wqe->dma.num_sge; i++)
		total += wqe->dma.sge[i].length;
	if (total > U32_MAX)
		return -EINVAL;
	*len = total;
	return 0;
}

/* The address vector a UD WQE names. */
static int rxe_req_ud_av(struct rxe_qp *qp, const struct rxe_send_wqe *wqe,
			 struct rxe_av *av)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);

	if (wqe->wr.wr.ud.ah_num)
		return rxe_ah_get_av(rdev, wqe->wr.wr.ud.ah_num, qp->ibqp.pd,
				     av);
	/* An old provider passes the AV inline. */
	if (!qp->is_user)
		return -EINVAL;
	*av = wqe->wr.wr.ud.av;
	if (av->network_type != RXE_NETWORK_TYPE_IPV4 &&
	    av->network_type != RXE_NETWORK_TYPE_IPV6)
		return -EINVAL;
	return 0;
}

/*
 * Send a UD WQE.  *@defer is set (and nothing sent) when on-demand-paged
 * memory could not be reached for now: the WQE is tried again later.
 */
static enum ib_wc_status rxe_req_ud(struct rxe_qp *qp,
				    struct rxe_send_wqe *wqe, bool *defer)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	u32 wr_opcode = wqe->wr.opcode;
	const struct rxe_wr_info *info = rxe_wr_info(wr_opcode);
	struct sk_buff *skb;
	struct rxe_av av;
	unsigned int hdr;
	u32 len, qkey, cur = 0, off = 0;
	u8 *bth, *deth, pad;
	int op, err;

	if (!info || !(info->flags & RXE_WRF_UD))
		return IB_WC_LOC_QP_OP_ERR;
	if (rxe_req_length(qp, wqe, &len))
		return IB_WC_LOC_QP_OP_ERR;
	if (rxe_req_ud_av(qp, wqe, &av))
		return IB_WC_LOC_QP_OP_ERR;
	/* Stock sends nothing for an oversized UD message and succeeds. */
	if (len > ib_mtu_enum_to_int(rxe_active_mtu(rdev)))
		return IB_WC_SUCCESS;
	op = rxe_wr_wire_opcode(wr_opcode, RXE_OP_CLASS_UD, RXE_SEG_ONLY);
	if (op < 0)
		return IB_WC_LOC_QP_OP_ERR;

	hdr = rxe_op_hdr_len(op);
	pad = rxe_pad_len(len);
	skb = rxe_net_alloc_skb(rdev, &av, hdr + len + pad);
	if (!skb)
		return IB_WC_LOC_QP_OP_ERR;
	bth = skb->data;
	rxe_bth_init(bth, op, wqe->wr.send_flags & IB_SEND_SOLICITED, pad,
		     RXE_DEFAULT_PKEY, wqe->wr.wr.ud.remote_qpn & RXE_QPN_MASK,
		     false, qp->req_psn);
	qp->req_psn = rxe_psn_next(qp->req_psn);

	deth = bth + rxe_op_hdr_off(op, RXE_HDR_DETH);
	qkey = qp->ibqp.qp_type == IB_QPT_GSI ? RXE_GSI_QKEY :
						wqe->wr.wr.ud.remote_qkey;
	rxe_deth_set_qkey(deth, qkey);
	deth[RXE_DETH_RESV] = 0;
	rxe_deth_set_sqp(deth, qp->ibqp.qp_num);
	if (rxe_op_flags(op) & RXE_OPF_IMMDT)
		rxe_immdt_set_imm(bth + rxe_op_hdr_off(op, RXE_HDR_IMMDT),
				  wqe->wr.ex.imm_data);

	if (wqe->wr.send_flags & IB_SEND_INLINE) {
		memcpy(bth + hdr, wqe->dma.inline_data, len);
	} else {
		err = rxe_sge_copy(qp, wqe->dma.sge, wqe->dma.num_sge, &cur,
				   &off, bth + hdr, len, false);
		if (err) {
			kfree_skb(skb);
			*defer = err == -EAGAIN;
			return *defer ? IB_WC_SUCCESS : IB_WC_LOC_PROT_ERR;
		}
	}
	memset(bth + hdr + len, 0, pad);

	/* Unreliable: a packet the IP layer refuses is just lost. */
	rxe_net_xmit(rdev, qp, &av, skb);
	return IB_WC_SUCCESS;
}

/* Bytes (RC/UC) per packet of this QP (a snapshot, see rxe_qp_state()). */
u32 rxe_qp_mtu(struct rxe_qp *qp)
{
	return ib_mtu_enum_to_int(READ_ONCE(qp->attr.path_mtu));
}

/* The connected QP's destination. */
int rxe_qp_av(struct rxe_qp *qp, struct rxe_av *av)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->state_lock, flags);
	*av = qp->av;
	spin_unlock_irqrestore(&qp->state_lock, flags);
	return av->network_type ? 0 : -EINVAL;
}

static bool rxe_sq_in_flight(struct rxe_qp *qp, u32 idx)
{
	u32 mask = qp->sq.index_mask;

	return ((idx - qp->sq.cons) & mask) < ((qp->req_next - qp->sq.cons) &
					       mask);
}

/*
 * May the READ or atomic at SQ index @idx go out?  The requester keeps at
 * most max_rd_atomic of them outstanding: the WQEs it has gone past
 * (cons..idx) are outstanding until the completer retires them, and a
 * retirement runs the requester again in the same round.  The walk covers
 * at most the 128-PSN send window.
 */
static bool rxe_req_rd_atomic_room(struct rxe_qp *qp, u32 idx, u32 limit)
{
	u32 i, n = 0;

	for (i = qp->sq.cons; i != idx; i = (i + 1) & qp->sq.index_mask) {
		if (qp->sq_meta[i].rd_atomic && ++n >= limit)
			return false;
	}
	return true;
}

/**
 * rxe_req_rewind() - resend from a PSN (NAK or timeout)
 * @qp: the QP
 * @psn: first PSN to send again; inside a sent WQE, else nothing happens
 */
void rxe_req_rewind(struct rxe_qp *qp, u32 psn)
{
	u32 idx = qp->sq.cons, mtu = rxe_qp_mtu(qp);
	struct rxe_sq_meta *m;

	for (; rxe_sq_in_flight(qp, idx);
	     idx = (idx + 1) & qp->sq.index_mask) {
		m = &qp->sq_meta[idx];
		if (rxe_psn_cmp(psn, m->first_psn) < 0 ||
		    rxe_psn_cmp(psn, m->last_psn) > 0)
			continue;
		qp->req_next = idx;
		qp->req_off = rxe_psn_diff(psn, m->first_psn) * mtu;
		qp->req_psn = psn;
		return;
	}
	/* Rewinding into a WQE being sent: restart the current one. */
	if (qp->req_off && qp->req_next != rxe_queue_prod(&qp->sq)) {
		m = &qp->sq_meta[qp->req_next];
		if (rxe_psn_cmp(psn, m->first_psn) >= 0 &&
		    rxe_psn_cmp(psn, qp->req_psn) < 0) {
			qp->req_off = rxe_psn_diff(psn, m->first_psn) * mtu;
			qp->req_psn = psn;
		}
	}
}

/* Execute a local operation WQE (nothing goes on the wire). */
static enum ib_wc_status rxe_req_local(struct rxe_qp *qp,
				       struct rxe_send_wqe *wqe)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);

	switch (wqe->wr.opcode) {
	case IB_WR_LOCAL_INV:
		return rxe_invalidate_key(rdev, qp, wqe->wr.ex.invalidate_rkey,
					  false) ? IB_WC_LOC_QP_OP_ERR :
						   IB_WC_SUCCESS;
	case IB_WR_REG_MR:
		if (qp->is_user)
			return IB_WC_LOC_QP_OP_ERR;
		return rxe_mr_fast_reg(qp, wqe->wr.wr.reg.mr,
				       wqe->wr.wr.reg.key,
				       wqe->wr.wr.reg.access) ?
		       IB_WC_LOC_PROT_ERR : IB_WC_SUCCESS;
	case IB_WR_BIND_MW:
		return rxe_mw_bind(rdev, qp, wqe->wr.wr.mw.mw_rkey,
				   wqe->wr.wr.mw.rkey, wqe->wr.wr.mw.mr_lkey,
				   wqe->wr.wr.mw.addr, wqe->wr.wr.mw.length,
				   wqe->wr.wr.mw.access) ?
		       IB_WC_MW_BIND_ERR : IB_WC_SUCCESS;
	default:
		return IB_WC_LOC_QP_OP_ERR;
	}
}

/*
 * (Re)start the retransmission timer (RC only): after each packet sent and
 * each response that made progress, so the timeout counts from the last
 * thing that happened.  A requester that is still sending (a rewind
 * resending a long message, slowed by on-demand paging) cannot time
 * itself out and start over forever.
 */
void rxe_req_arm_timer(struct rxe_qp *qp)
{
	u64 ns;

	if (qp->ibqp.qp_type != IB_QPT_RC)
		return;
	/* A snapshot, as rxe_qp_state(); modify_qp WRITE_ONCE()s it. */
	ns = rxe_ack_timeout_ns(READ_ONCE(qp->attr.timeout));
	if (ns)
		mod_timer(&qp->retry_timer,
			  jiffies + max_t(unsigned long, 1, nsecs_to_jiffies(ns)));
}

/**
 * rxe_req_use_retry() - charge a resend to the QP's retry count
 * @qp: the RC QP (its transport runs here: qp->run_mutex held)
 *
 * A retransmission timeout and a PSN sequence NAK each cost one of the
 * attr.retry_cnt retries (7: no limit, as on stock); an acknowledge that
 * retires a WQE restores them (rxe_comp_alive()).  With none left the
 * oldest WQE completes with IB_WC_RETRY_EXC_ERR and the QP goes to ERR.
 *
 * Return: true if the resend may go ahead; false if nothing was in flight
 * or no retry was left.
 */
bool rxe_req_use_retry(struct rxe_qp *qp)
{
	u32 cons = qp->sq.cons;
	unsigned long flags;

	if (!rxe_sq_in_flight(qp, cons) && !qp->req_off)
		return false;
	if (qp->retry_left) {
		if (qp->retry_left != 7)
			qp->retry_left--;
		return true;
	}
	/* Under the lock, as every copy-out (a flush may free it). */
	spin_lock_irqsave(&qp->sq_lock, flags);
	memcpy(qp->req_wqe, rxe_queue_slot(&qp->sq, cons), qp->req_wqe_size);
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_RETRY_EXCEEDED);
	rxe_req_complete(qp, cons, qp->req_wqe, IB_WC_RETRY_EXC_ERR);
	rxe_qp_set_error(qp);
	return false;
}

/* A retransmission timeout: rewind to the oldest unacknowledged PSN. */
static void rxe_req_timeout(struct rxe_qp *qp)
{
	u32 cons = qp->sq.cons, psn;

	if (qp->req_hold) {
		/* RNR back-off over: resend what was refused. */
		qp->req_hold = false;
		if (rxe_sq_in_flight(qp, cons))
			rxe_req_rewind(qp, qp->sq_meta[cons].first_psn);
		return;
	}
	if (!rxe_req_use_retry(qp))
		return;
	rxe_counter_inc(to_rdev(qp->ibqp.device), RXE_CNT_COMP_RETRY);
	if (rxe_sq_in_flight(qp, cons)) {
		psn = qp->sq_meta[cons].first_psn;
		/* A READ partly placed asks only for the rest. */
		if (rxe_comp_rd_tracks(qp, cons))
			psn = qp->rd_next;
		rxe_req_rewind(qp, psn);
	} else {
		rxe_req_rewind(qp, qp->sq_meta[qp->req_next].first_psn);
	}
}

/*
 * Build and send one RC/UC packet of the WQE at qp->req_next.  *@defer is
 * set (and nothing sent or advanced) when on-demand-paged memory could not
 * be reached for now.
 */
static enum ib_wc_status rxe_req_rc_packet(struct rxe_qp *qp,
					   struct rxe_send_wqe *wqe, u32 idx,
					   bool *done, bool *defer)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	u32 wr_opcode = wqe->wr.opcode, len, n, mtu = rxe_qp_mtu(qp);
	const struct rxe_wr_info *info = rxe_wr_info(wr_opcode);
	u8 tclass = qp->ibqp.qp_type == IB_QPT_RC ? RXE_OP_CLASS_RC :
						    RXE_OP_CLASS_UC;
	u32 off = qp->req_off, npsn = 1, cur = 0, soff = 0, opf;
	bool first, last;
	struct sk_buff *skb;
	struct rxe_av av;
	unsigned int hdr;
	u8 *bth, *h, pad;
	int op, err;

	if (rxe_req_length(qp, wqe, &len))
		return IB_WC_LOC_QP_OP_ERR;
	if (rxe_qp_av(qp, &av))
		return IB_WC_LOC_QP_OP_ERR;

	if (info->flags & (RXE_WRF_READ | RXE_WRF_ATOMIC)) {
		if (info->flags & RXE_WRF_ATOMIC && len < 8)
			return IB_WC_LOC_LEN_ERR;
		first = true;
		last = true;
		n = 0;
		if (info->flags & RXE_WRF_READ)
			npsn = rxe_msg_npsn(len - off, mtu);
	} else {
		n = min(mtu, len - off);
		first = off == 0;
		last = off + n == len;
	}
	op = rxe_wr_wire_opcode(wr_opcode, tclass, rxe_seg_of(first, last));
	if (op < 0)
		return IB_WC_LOC_QP_OP_ERR;
	opf = rxe_op_flags(op);
	hdr = rxe_op_hdr_len(op);
	pad = rxe_pad_len(n);
	skb = rxe_net_alloc_skb(rdev, &av, hdr + n + pad);
	if (!skb)
		return IB_WC_LOC_QP_OP_ERR;	/* TODO: back off instead */
	bth = skb->data;
	rxe_bth_init(bth, op, last && (wqe->wr.send_flags & IB_SEND_SOLICITED),
		     pad, RXE_DEFAULT_PKEY, qp->attr.dest_qp_num,
		     tclass == RXE_OP_CLASS_RC && last, qp->req_psn);
	if (opf & RXE_OPF_RETH) {
		h = bth + rxe_op_hdr_off(op, RXE_HDR_RETH);
		rxe_reth_set_va(h, wqe->wr.wr.rdma.remote_addr + off);
		rxe_reth_set_rkey(h, wqe->wr.wr.rdma.rkey);
		rxe_reth_set_len(h, len - off);
	}
	if (opf & RXE_OPF_ATMETH) {
		h = bth + rxe_op_hdr_off(op, RXE_HDR_ATMETH);
		rxe_atmeth_set_va(h, wqe->wr.wr.atomic.remote_addr);
		rxe_atmeth_set_rkey(h, wqe->wr.wr.atomic.rkey);
		if (wr_opcode == IB_WR_ATOMIC_CMP_AND_SWP) {
			rxe_atmeth_set_swap_add(h, wqe->wr.wr.atomic.swap);
			rxe_atmeth_set_compare(h,
					       wqe->wr.wr.atomic.compare_add);
		} else {
			rxe_atmeth_set_swap_add(h,
						wqe->wr.wr.atomic.compare_add);
			rxe_atmeth_set_compare(h, 0);
		}
	}
	if (opf & RXE_OPF_IMMDT)
		rxe_immdt_set_imm(bth + rxe_op_hdr_off(op, RXE_HDR_IMMDT),
				  wqe->wr.ex.imm_data);
	if (opf & RXE_OPF_IETH)
		rxe_ieth_set_rkey(bth + rxe_op_hdr_off(op, RXE_HDR_IETH),
				  wqe->wr.ex.invalidate_rkey);
	if (n) {
		if (wqe->wr.send_flags & IB_SEND_INLINE) {
			memcpy(bth + hdr, wqe->dma.inline_data + off, n);
		} else {
			err = rxe_sge_skip(wqe->dma.sge, wqe->dma.num_sge, &cur,
					   &soff, off);
			if (!err)
				err = rxe_sge_copy(qp, wqe->dma.sge,
						   wqe->dma.num_sge, &cur,
						   &soff, bth + hdr, n, false);
			if (err) {
				kfree_skb(skb);
				*defer = err == -EAGAIN;
				return *defer ? IB_WC_SUCCESS :
						IB_WC_LOC_PROT_ERR;
			}
		}
	}
	memset(bth + hdr + n, 0, pad);

	if (first && !off)
		qp->sq_meta[idx].first_psn = qp->req_psn;
	qp->req_psn = rxe_psn_add(qp->req_psn, npsn);
	if (rxe_psn_cmp(qp->req_psn, qp->req_psn_end) > 0)
		qp->req_psn_end = qp->req_psn;
	if (last) {
		qp->sq_meta[idx].last_psn = rxe_psn_add(qp->req_psn,
							RXE_PSN_MASK);
		qp->sq_meta[idx].sent = true;
		qp->req_off = 0;
		*done = true;
	} else {
		qp->req_off = off + n;
	}
	rxe_net_xmit(rdev, qp, &av, skb);
	rxe_req_arm_timer(qp);
	return IB_WC_SUCCESS;
}

/*
 * Execute the local operation WQE at @idx (RC/UC).  It waits for every
 * WQE before it to complete; false if it has to wait.
 */
static bool rxe_req_run_local(struct rxe_qp *qp, struct rxe_send_wqe *wqe,
			      u32 idx)
{
	enum ib_wc_status status;

	if (idx != qp->sq.cons)
		return false;
	status = rxe_req_local(qp, wqe);
	qp->req_next = (idx + 1) & qp->sq.index_mask;
	qp->req_off = 0;
	rxe_req_complete(qp, idx, wqe, status);
	if (status != IB_WC_SUCCESS)
		rxe_qp_set_error(qp);
	return true;
}

/* One step of an RC/UC requester; true if there may be more to do. */
static bool rxe_requester_rc(struct rxe_qp *qp)
{
	struct rxe_send_wqe *wqe = qp->req_wqe;
	const struct rxe_wr_info *info;
	enum ib_wc_status status;
	enum ib_qp_state state;
	unsigned long flags;
	bool done = false, defer = false;
	u32 idx, una, limit;

	state = rxe_qp_state(qp);
	if (state == IB_QPS_ERR) {
		rxe_qp_flush_sq(qp, true);
		qp->req_next = qp->sq.cons;
		qp->req_off = 0;
		return false;
	}
	if (state < IB_QPS_RTS)
		return false;
	/* A flush or reset may have retired WQEs under us. */
	if (((qp->req_next - qp->sq.cons) & qp->sq.index_mask) >
	    rxe_queue_count(&qp->sq)) {
		qp->req_next = qp->sq.cons;
		qp->req_off = 0;
	}
	if (test_and_clear_bit(0, &qp->retry_due))
		rxe_req_timeout(qp);
	if (qp->req_hold || state != IB_QPS_RTS)
		return false;
	/*
	 * Nothing posted beyond what went out: most rounds end here, without
	 * the lock.  A post after this look is followed by a doorbell or a
	 * kick, which runs the transport again.
	 */
	if (qp->req_next == rxe_queue_prod(&qp->sq))
		return false;

	spin_lock_irqsave(&qp->sq_lock, flags);
	idx = qp->req_next;
	/* Reset under us: the ring holds a new connection's WQEs. */
	if (idx == rxe_queue_prod(&qp->sq) ||
	    rxe_qp_resetting(qp)) {
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		return false;
	}
	memcpy(wqe, rxe_queue_slot(&qp->sq, idx), qp->req_wqe_size);
	spin_unlock_irqrestore(&qp->sq_lock, flags);

	/* Window: at most 128 PSNs beyond the oldest unacknowledged one. */
	if (idx != qp->sq.cons) {
		una = qp->sq_meta[qp->sq.cons].first_psn;
		if (rxe_psn_diff(qp->req_psn, una) >= 128)
			return false;
	}

	/*
	 * IB_WR_REG_MR is kernel-only and so has no entry in the opcode
	 * table; rxe_req_local() refuses it on a user QP.
	 */
	if (wqe->wr.opcode == IB_WR_REG_MR)
		return rxe_req_run_local(qp, wqe, idx);
	info = rxe_wr_info(wqe->wr.opcode);
	if (!info || !(info->flags & (qp->ibqp.qp_type == IB_QPT_RC ?
				      RXE_WRF_RC : RXE_WRF_UC))) {
		status = IB_WC_LOC_QP_OP_ERR;
		goto fail;
	}
	if (info->flags & RXE_WRF_LOCAL)
		return rxe_req_run_local(qp, wqe, idx);
	/*
	 * Fence: wait until every earlier WQE has completed (stronger than
	 * the IBTA's "every earlier READ and atomic").
	 */
	if ((wqe->wr.send_flags & IB_SEND_FENCE) && idx != qp->sq.cons &&
	    !qp->req_off)
		return false;
	qp->sq_meta[idx].rd_atomic = info->flags & (RXE_WRF_READ |
						    RXE_WRF_ATOMIC);
	if (qp->sq_meta[idx].rd_atomic) {
		/*
		 * Initiator depth: at most max_rd_atomic outstanding.  With
		 * 0 the QP may not issue any (stock rxe waits for ever; a
		 * local QP operation error tells the user why).
		 */
		limit = READ_ONCE(qp->attr.max_rd_atomic);
		if (!limit) {
			status = IB_WC_LOC_QP_OP_ERR;
			goto fail;
		}
		if (!rxe_req_rd_atomic_room(qp, idx, limit))
			return false;
	}

	status = rxe_req_rc_packet(qp, wqe, idx, &done, &defer);
	if (defer) {
		rxe_qp_kick_later(qp, RXE_DEFER_REQ);
		return false;
	}
	if (status != IB_WC_SUCCESS)
		goto fail;
	if (done) {
		qp->req_next = (idx + 1) & qp->sq.index_mask;
		if (qp->ibqp.qp_type == IB_QPT_UC)
			rxe_req_complete(qp, idx, wqe, IB_WC_SUCCESS);
	}
	return true;

fail:
	/* Everything before it must complete first: fail it in order. */
	if (idx != qp->sq.cons)
		return false;
	qp->req_next = (idx + 1) & qp->sq.index_mask;
	qp->req_off = 0;
	rxe_req_complete(qp, idx, wqe, status);
	rxe_qp_set_error(qp);
	return true;
}

/**
 * rxe_requester() - send the next WQE of a QP
 * @qp: the QP
 *
 * Return: true if there may be more to do.
 */
bool rxe_requester(struct rxe_qp *qp)
{
	struct rxe_send_wqe *wqe = qp->req_wqe;
	enum ib_wc_status status;
	enum ib_qp_state state;
	unsigned long flags;
	bool defer = false;
	u32 idx;

	if (!wqe || test_bit(RXE_DEFER_REQ, &qp->odp_defer))
		return false;
	if (qp->ibqp.qp_type == IB_QPT_RC || qp->ibqp.qp_type == IB_QPT_UC)
		return rxe_requester_rc(qp);
	state = rxe_qp_state(qp);
	if (state == IB_QPS_ERR) {
		rxe_qp_flush_sq(qp, true);
		return false;
	}
	if (state != IB_QPS_RTS || rxe_queue_empty(&qp->sq))
		return false;

	spin_lock_irqsave(&qp->sq_lock, flags);
	if (rxe_queue_empty(&qp->sq) ||
	    rxe_qp_resetting(qp)) {
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		return false;
	}
	idx = qp->sq.cons;
	memcpy(wqe, rxe_queue_consumer_slot(&qp->sq), qp->req_wqe_size);
	spin_unlock_irqrestore(&qp->sq_lock, flags);

	status = rxe_req_ud(qp, wqe, &defer);
	if (defer) {
		rxe_qp_kick_later(qp, RXE_DEFER_REQ);
		return false;
	}
	pr_debug("qp#%u sq[%u] wr %u: status %d\n", qp->ibqp.qp_num, idx,
		 wqe->wr.opcode, status);
	rxe_req_complete(qp, idx, wqe, status);
	if (status != IB_WC_SUCCESS)
		rxe_qp_set_error(qp);
	return true;
}
