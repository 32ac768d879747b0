// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: queue pairs: creation, the state machine, queries, destruction,
 * flushing, and the kernel post_send/post_recv entry points.
 *
 * Locking:
 *  - qp->state_lock (irqsave) guards qp->attr and the state; it is never
 *    held while completions are posted, because a kernel consumer's
 *    completion handler may call straight back into post_send/post_recv.
 *  - qp->sq_lock / qp->rq_lock (irqsave) serialise kernel producers of
 *    the rings and the flush that consumes them.
 *  - A QP found through rxe_qp_get() is pinned by qp->ref; destroy_qp
 *    unpublishes the QP number first and then waits for the last
 *    reference, so the core never frees a QP someone still uses.
 */
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_mad.h>
#include <rdma/restrack.h>
#include <rdma/uverbs_ioctl.h>

#include "rxe.h"

static void rxe_qp_release(struct kref *ref)
{
	struct rxe_qp *qp = container_of(ref, struct rxe_qp, ref);

	complete(&qp->released);
}

/**
 * rxe_qp_get() - find a QP by number and take a reference
 * @rdev: device
 * @qpn: QP number
 *
 * Safe from any context.
 *
 * Return: the QP, or NULL if there is none (or it is being destroyed).
 */
struct rxe_qp *rxe_qp_get(struct rxe_dev *rdev, u32 qpn)
{
	struct rxe_qp *qp;
	unsigned long flags;

	xa_lock_irqsave(&rdev->qps, flags);
	qp = xa_load(&rdev->qps, qpn);
	if (qp && !kref_get_unless_zero(&qp->ref))
		qp = NULL;
	xa_unlock_irqrestore(&rdev->qps, flags);
	return qp;
}

/**
 * rxe_qp_put() - drop a reference taken by rxe_qp_get()
 * @qp: the QP
 */
void rxe_qp_put(struct rxe_qp *qp)
{
	kref_put(&qp->ref, rxe_qp_release);
}

static enum ib_wc_opcode rxe_send_wc_opcode(u32 wr_opcode)
{
	switch (wr_opcode) {
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
		return IB_WC_RDMA_WRITE;
	case IB_WR_RDMA_READ:
		return IB_WC_RDMA_READ;
	case IB_WR_ATOMIC_CMP_AND_SWP:
		return IB_WC_COMP_SWAP;
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		return IB_WC_FETCH_ADD;
	case IB_WR_LOCAL_INV:
		return IB_WC_LOCAL_INV;
	case IB_WR_REG_MR:
		return IB_WC_REG_MR;
	case IB_WR_BIND_MW:
		return IB_WC_BIND_MW;
	default:
		return IB_WC_SEND;
	}
}

/*
 * Complete every WQE still in a ring with WR_FLUSH_ERR.  The ring lock is
 * dropped around each CQE: a kernel consumer's completion handler may post
 * new work to this QP from inside rxe_cq_post().  @from_run: called by
 * the transport (with run_mutex), which stops if the QP was moved to
 * RESET under it (RXE_RUN_RESET, tested under the ring lock): the ring
 * then holds the WQEs of a connection it knows nothing of.
 */
void rxe_qp_flush_sq(struct rxe_qp *qp, bool from_run)
{
	struct rxe_send_wqe *wqe;
	struct ib_wc wc;
	unsigned long flags;

	if (!qp->sq.buf)
		return;
	for (;;) {
		memset(&wc, 0, sizeof(wc));
		spin_lock_irqsave(&qp->sq_lock, flags);
		if (rxe_queue_empty(&qp->sq) ||
		    (from_run && rxe_qp_resetting(qp))) {
			spin_unlock_irqrestore(&qp->sq_lock, flags);
			return;
		}
		wqe = rxe_queue_consumer_slot(&qp->sq);
		wc.wr_id = READ_ONCE(wqe->wr.wr_id);
		wc.opcode = rxe_send_wc_opcode(READ_ONCE(wqe->wr.opcode));
		rxe_queue_advance_cons(&qp->sq);
		spin_unlock_irqrestore(&qp->sq_lock, flags);

		wc.status = IB_WC_WR_FLUSH_ERR;
		wc.qp = &qp->ibqp;
		if (rxe_cq_post(qp->scq, &wc, false))
			return;
	}
}

static void rxe_flush_rq(struct rxe_qp *qp, bool from_run)
{
	struct rxe_recv_wqe *wqe;
	struct ib_wc wc;
	unsigned long flags;

	if (qp->srq || !qp->rq.buf)
		return;
	for (;;) {
		memset(&wc, 0, sizeof(wc));
		spin_lock_irqsave(&qp->rq_lock, flags);
		if (rxe_queue_empty(&qp->rq) ||
		    (from_run && rxe_qp_resetting(qp))) {
			spin_unlock_irqrestore(&qp->rq_lock, flags);
			return;
		}
		wqe = rxe_queue_consumer_slot(&qp->rq);
		wc.wr_id = READ_ONCE(wqe->wr_id);
		rxe_queue_advance_cons(&qp->rq);
		spin_unlock_irqrestore(&qp->rq_lock, flags);

		wc.opcode = IB_WC_RECV;
		wc.status = IB_WC_WR_FLUSH_ERR;
		wc.qp = &qp->ibqp;
		if (rxe_cq_post(qp->rcq, &wc, false))
			return;
	}
}

/* Drop outstanding work without completions (transition to RESET). */
static void rxe_qp_discard(struct rxe_qp *qp)
{
	unsigned long flags;

	if (qp->sq.buf) {
		spin_lock_irqsave(&qp->sq_lock, flags);
		while (!rxe_queue_empty(&qp->sq))
			rxe_queue_advance_cons(&qp->sq);
		spin_unlock_irqrestore(&qp->sq_lock, flags);
	}
	if (!qp->srq && qp->rq.buf) {
		spin_lock_irqsave(&qp->rq_lock, flags);
		while (!rxe_queue_empty(&qp->rq))
			rxe_queue_advance_cons(&qp->rq);
		spin_unlock_irqrestore(&qp->rq_lock, flags);
	}
}

static void rxe_qp_event(struct rxe_qp *qp, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = qp->ibqp.device,
		.element.qp = &qp->ibqp,
		.event = type,
	};

	if (qp->ibqp.event_handler)
		qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
}

static int rxe_qp_check_cap(struct rxe_dev *rdev, struct ib_qp_cap *cap,
			    bool has_srq)
{
	if (cap->max_send_wr > rdev->attr.max_qp_wr ||
	    cap->max_send_sge > rdev->attr.max_send_sge ||
	    cap->max_inline_data > RXE_MAX_INLINE)
		return -EINVAL;
	if (!has_srq && (cap->max_recv_wr > rdev->attr.max_qp_wr ||
			 cap->max_recv_sge > rdev->attr.max_recv_sge))
		return -EINVAL;
	return 0;
}

/* Slot payload after the fixed WQE header decides the real capacities. */
static void rxe_qp_fit_caps(struct rxe_qp *qp, struct ib_qp_cap *cap)
{
	size_t area;

	if (qp->sq.buf) {
		area = (1UL << qp->sq.log2_elem) - sizeof(struct rxe_send_wqe);
		qp->sq_max_sge = min_t(size_t, area / sizeof(struct rxe_sge),
				       RXE_MAX_SGE);
		qp->sq_max_inline = min_t(size_t, area, RXE_MAX_INLINE);
		cap->max_send_sge = qp->sq_max_sge;
		cap->max_inline_data = qp->sq_max_inline;
	}
	if (!qp->srq && qp->rq.buf) {
		area = (1UL << qp->rq.log2_elem) - sizeof(struct rxe_recv_wqe);
		qp->rq_max_sge = min_t(size_t, area / sizeof(struct rxe_sge),
				       RXE_MAX_SGE);
		cap->max_recv_sge = qp->rq_max_sge;
	}
}

static int rxe_qp_alloc_qpn(struct rxe_dev *rdev, struct rxe_qp *qp)
{
	u32 qpn;
	int err;

	if (qp->ibqp.qp_type == IB_QPT_GSI) {
		err = xa_insert_irq(&rdev->qps, RXE_GSI_QPN, qp, GFP_KERNEL);
		qpn = RXE_GSI_QPN;
	} else {
		err = xa_alloc_cyclic_irq(&rdev->qps, &qpn, qp,
					  XA_LIMIT(RXE_MIN_QPN, RXE_MAX_QP),
					  &rdev->next_qpn, GFP_KERNEL);
		if (err > 0)
			err = 0;	/* wrapped around: fine */
	}
	if (err)
		return err == -EBUSY ? -ENOMEM : err;
	qp->ibqp.qp_num = qpn;
	/* Never 0, which means "no QP" in a window. */
	qp->serial = atomic64_inc_return(&rdev->qp_serial);
	return 0;
}

static int rxe_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
			 struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibqp->device);
	struct rxe_qp *qp = to_rqp(ibqp);
	struct rxe_create_qp_resp __user *uresp = NULL;
	u32 nsend, nrecv;
	size_t sq_elem, rq_elem;
	int err;

	switch (init->qp_type) {
	case IB_QPT_RC:
	case IB_QPT_UC:
	case IB_QPT_UD:
	case IB_QPT_GSI:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (init->create_flags)
		return -EOPNOTSUPP;
	if (init->port_num > 1)
		return -EINVAL;
	err = rxe_qp_check_cap(rdev, &init->cap, !!init->srq);
	if (err)
		return err;
	if (udata) {
		if (udata->outlen < sizeof(*uresp))
			return -EINVAL;
		uresp = udata->outbuf;
	}

	kref_init(&qp->ref);
	init_completion(&qp->released);
	INIT_LIST_HEAD(&qp->mcast);
	spin_lock_init(&qp->state_lock);
	spin_lock_init(&qp->sq_lock);
	spin_lock_init(&qp->rq_lock);
	qp->is_user = !!udata;
	qp->scq = to_rcq(init->send_cq);
	qp->rcq = to_rcq(init->recv_cq);
	qp->srq = init->srq ? to_rsrq(init->srq) : NULL;
	qp->sq_sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;

	nsend = max_t(u32, init->cap.max_send_wr, 1);
	sq_elem = sizeof(struct rxe_send_wqe) +
		  max_t(size_t, init->cap.max_send_sge * sizeof(struct rxe_sge),
			init->cap.max_inline_data);
	err = rxe_queue_init(rdev, &qp->sq, udata,
			     udata ? RXE_Q_USER_PRODUCES : RXE_Q_KERNEL_ONLY,
			     &nsend, sq_elem);
	if (err)
		return err;

	nrecv = 0;
	if (!qp->srq) {
		nrecv = max_t(u32, init->cap.max_recv_wr, 1);
		rq_elem = sizeof(struct rxe_recv_wqe) +
			  max_t(u32, init->cap.max_recv_sge, 1) *
			  sizeof(struct rxe_sge);
		err = rxe_queue_init(rdev, &qp->rq, udata,
				     udata ? RXE_Q_USER_PRODUCES :
					     RXE_Q_KERNEL_ONLY,
				     &nrecv, rq_elem);
		if (err)
			goto err_sq;
	}

	/* The transport exists before the QP number is published. */
	err = rxe_qp_task_init(qp);
	if (err)
		goto err_rq;
	err = rxe_qp_alloc_qpn(rdev, qp);
	if (err)
		goto err_task;

	if (uresp) {
		if (!qp->srq)
			err = rxe_queue_copy_mminfo(&qp->rq, &uresp->rq_mi);
		if (!err)
			err = rxe_queue_copy_mminfo(&qp->sq, &uresp->sq_mi);
		if (err)
			goto err_qpn;
	}

	init->cap.max_send_wr = nsend;
	init->cap.max_recv_wr = nrecv;
	rxe_qp_fit_caps(qp, &init->cap);

	qp->attr.qp_state = IB_QPS_RESET;
	qp->attr.cur_qp_state = IB_QPS_RESET;
	qp->attr.cap = init->cap;
	qp->attr.port_num = 1;
	qp->attr.path_mtu = IB_MTU_1024;
	qp->attr.sq_draining = 0;
	if (init->qp_type == IB_QPT_GSI)
		qp->attr.qkey = IB_QP1_QKEY;

	rxe_obj_get(rdev, RXE_OBJ_QP);
	return 0;

err_qpn:
	xa_erase_irq(&rdev->qps, qp->ibqp.qp_num);
err_task:
	rxe_qp_task_cleanup(qp);
err_rq:
	rxe_queue_cleanup(&qp->rq);
err_sq:
	rxe_queue_cleanup(&qp->sq);
	return err;
}

/* Validate the attributes of a modify; state_lock held. */
static int rxe_qp_check_attr(struct rxe_dev *rdev, struct rxe_qp *qp,
			     struct ib_qp_attr *attr, int mask,
			     enum ib_qp_state cur, enum ib_qp_state next)
{
	if (!ib_modify_qp_is_ok(cur, next, qp->ibqp.qp_type, mask))
		return -EINVAL;
	if ((mask & IB_QP_PORT) && attr->port_num != 1)
		return -EINVAL;
	if ((mask & IB_QP_PKEY_INDEX) &&
	    attr->pkey_index >= RXE_PORT_PKEY_TBL_LEN)
		return -EINVAL;
	if ((mask & IB_QP_MAX_QP_RD_ATOMIC) &&
	    attr->max_rd_atomic > rdev->attr.max_qp_rd_atom)
		return -EINVAL;
	if ((mask & IB_QP_MAX_DEST_RD_ATOMIC) &&
	    attr->max_dest_rd_atomic > rdev->attr.max_qp_rd_atom)
		return -EINVAL;
	if ((mask & IB_QP_PATH_MTU) &&
	    (attr->path_mtu < IB_MTU_256 || attr->path_mtu > RXE_PORT_MAX_MTU))
		return -EINVAL;
	if ((mask & IB_QP_TIMEOUT) && attr->timeout > 31)
		return -EINVAL;
	if ((mask & IB_QP_RETRY_CNT) && attr->retry_cnt > 7)
		return -EINVAL;
	if ((mask & IB_QP_RNR_RETRY) && attr->rnr_retry > 7)
		return -EINVAL;
	if ((mask & IB_QP_MIN_RNR_TIMER) && attr->min_rnr_timer > 31)
		return -EINVAL;
	if ((mask & IB_QP_CAP) &&
	    rxe_qp_check_cap(rdev, &attr->cap, !!qp->srq))
		return -EINVAL;
	if ((mask & IB_QP_ALT_PATH) &&
	    (attr->alt_port_num != 1 || attr->alt_timeout > 31 ||
	     attr->alt_pkey_index >= RXE_PORT_PKEY_TBL_LEN))
		return -EINVAL;
	return 0;
}

static void rxe_qp_apply_attr(struct rxe_qp *qp, struct ib_qp_attr *attr,
			      int mask)
{
	struct ib_qp_attr *a = &qp->attr;

	if (mask & IB_QP_EN_SQD_ASYNC_NOTIFY)
		a->en_sqd_async_notify = attr->en_sqd_async_notify;
	if (mask & IB_QP_ACCESS_FLAGS)
		a->qp_access_flags = attr->qp_access_flags;
	if (mask & IB_QP_PKEY_INDEX)
		a->pkey_index = attr->pkey_index;
	if (mask & IB_QP_PORT)
		a->port_num = attr->port_num;
	if (mask & IB_QP_QKEY)
		a->qkey = attr->qkey;
	if (mask & IB_QP_PATH_MTU)
		WRITE_ONCE(a->path_mtu, attr->path_mtu);
	if (mask & IB_QP_TIMEOUT)
		WRITE_ONCE(a->timeout, attr->timeout);
	if (mask & IB_QP_RETRY_CNT)
		a->retry_cnt = attr->retry_cnt;
	if (mask & IB_QP_RNR_RETRY)
		a->rnr_retry = attr->rnr_retry;
	if (mask & IB_QP_RQ_PSN)
		a->rq_psn = attr->rq_psn & 0xffffff;
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		WRITE_ONCE(a->max_rd_atomic, attr->max_rd_atomic);
	if (mask & IB_QP_ALT_PATH) {
		a->alt_port_num = attr->alt_port_num;
		a->alt_pkey_index = attr->alt_pkey_index;
		a->alt_timeout = attr->alt_timeout;
	}
	if (mask & IB_QP_MIN_RNR_TIMER)
		a->min_rnr_timer = attr->min_rnr_timer;
	if (mask & IB_QP_SQ_PSN)
		a->sq_psn = attr->sq_psn & 0xffffff;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC)
		WRITE_ONCE(a->max_dest_rd_atomic, attr->max_dest_rd_atomic);
	if (mask & IB_QP_PATH_MIG_STATE)
		a->path_mig_state = attr->path_mig_state;
	if (mask & IB_QP_DEST_QPN)
		a->dest_qp_num = attr->dest_qp_num & 0xffffff;
}

static int rxe_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			 int mask, struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibqp->device);
	struct rxe_qp *qp = to_rqp(ibqp);
	enum ib_qp_state cur, next, prev;
	struct rxe_av av;
	unsigned long flags;
	bool sq_drained = false;
	int err;

	if (mask & ~IB_QP_ATTR_STANDARD_BITS)
		return -EOPNOTSUPP;
	/* Resolve the path before taking the lock: it only reads attr. */
	if (mask & IB_QP_AV) {
		err = rxe_av_from_attr(rdev, &attr->ah_attr, &av);
		if (err)
			return err;
	}

	spin_lock_irqsave(&qp->state_lock, flags);
	/* What the QP really was (IB_QP_CUR_STATE is the caller's claim). */
	prev = qp->attr.qp_state;
	cur = (mask & IB_QP_CUR_STATE) ? attr->cur_qp_state : prev;
	next = (mask & IB_QP_STATE) ? attr->qp_state : cur;
	err = rxe_qp_check_attr(rdev, qp, attr, mask, cur, next);
	if (err) {
		spin_unlock_irqrestore(&qp->state_lock, flags);
		return err;
	}
	rxe_qp_apply_attr(qp, attr, mask);
	if (mask & IB_QP_AV)
		qp->av = av;
	/* The transport's copies first, then the state that lets it run. */
	rxe_qp_task_attr(qp, attr, mask, cur, next);
	/* Pairs with the acquire load in rxe_qp_state(). */
	smp_store_release(&qp->attr.qp_state, next);
	qp->attr.cur_qp_state = next;
	/*
	 * After the state (a part that starts now sees RESET), before the
	 * rings are emptied: rxe_qp_task_reset().
	 */
	if (next == IB_QPS_RESET && prev != IB_QPS_RESET)
		rxe_qp_task_reset(qp);
	if (next == IB_QPS_SQD) {
		/* Nothing is in flight until the transport runs the SQ. */
		qp->attr.sq_draining = 0;
		sq_drained = qp->attr.en_sqd_async_notify;
	} else {
		qp->attr.sq_draining = 0;
	}
	spin_unlock_irqrestore(&qp->state_lock, flags);

	if (next == IB_QPS_RESET && prev != IB_QPS_RESET)
		rxe_qp_discard(qp);
	/*
	 * Also ERR to ERR: user space posts receives without a system call,
	 * so receives posted after the QP went to ERR on its own are
	 * flushed here (as stock does).
	 */
	if (next == IB_QPS_ERR) {
		rxe_qp_flush_sq(qp, false);
		rxe_flush_rq(qp, false);
	}
	if (sq_drained && cur != IB_QPS_SQD)
		rxe_qp_event(qp, IB_EVENT_SQ_DRAINED);
	rxe_qp_task_modify(qp, prev, next);
	return 0;
}

/*
 * Only the transport calls this, from a run.  A QP in RESET stays there
 * (only its owner takes it out), and an error met while a reset is
 * pending comes from a part that was going when the owner reset the QP:
 * it belongs to the old connection, and the owner may already have
 * brought the QP up again (rxe_qp_reset_transport()).  RXE_RUN_RESET is
 * set in the state_lock section that publishes RESET, so the test under
 * the lock sees one or the other; the flushes test it again under the
 * ring locks.
 */
static void rxe_qp_move_to_error(struct rxe_qp *qp, bool fatal)
{
	unsigned long flags;
	bool was_err;

	spin_lock_irqsave(&qp->state_lock, flags);
	if (qp->attr.qp_state == IB_QPS_RESET ||
	    rxe_qp_resetting(qp)) {
		spin_unlock_irqrestore(&qp->state_lock, flags);
		return;
	}
	was_err = qp->attr.qp_state == IB_QPS_ERR;
	WRITE_ONCE(qp->attr.qp_state, IB_QPS_ERR);
	qp->attr.cur_qp_state = IB_QPS_ERR;
	spin_unlock_irqrestore(&qp->state_lock, flags);
	if (was_err)
		return;
	rxe_qp_flush_sq(qp, true);
	rxe_flush_rq(qp, true);
	if (fatal)
		rxe_qp_event(qp, IB_EVENT_QP_FATAL);
	rxe_qp_kick(qp);
}

/**
 * rxe_qp_set_error() - move a QP to the error state from the transport
 * @qp: the QP
 *
 * For an error the consumer learns from a completion (retries exhausted,
 * a NAK, a protection error): no asynchronous event, as stock rxe.
 * Flushes the rings and kicks the QP's work so that it drops queued
 * packets.  Any context; never sleeps.
 */
void rxe_qp_set_error(struct rxe_qp *qp)
{
	rxe_qp_move_to_error(qp, false);
}

/**
 * rxe_qp_set_fatal() - move a QP to the error state, with IB_EVENT_QP_FATAL
 * @qp: the QP
 *
 * For an error no completion can report: a completion was lost to a full
 * CQ (which raised IB_EVENT_CQ_ERR on the CQ).  Otherwise as
 * rxe_qp_set_error().
 */
void rxe_qp_set_fatal(struct rxe_qp *qp)
{
	rxe_qp_move_to_error(qp, true);
}

static int rxe_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			int mask, struct ib_qp_init_attr *init)
{
	struct rxe_qp *qp = to_rqp(ibqp);
	unsigned long flags;

	spin_lock_irqsave(&qp->state_lock, flags);
	*attr = qp->attr;
	rxe_av_to_attr(&qp->av, &attr->ah_attr);
	spin_unlock_irqrestore(&qp->state_lock, flags);

	memset(init, 0, sizeof(*init));
	init->qp_type = ibqp->qp_type;
	init->send_cq = &qp->scq->ibcq;
	init->recv_cq = &qp->rcq->ibcq;
	init->srq = qp->srq ? &qp->srq->ibsrq : NULL;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sq_sig_all ? IB_SIGNAL_ALL_WR :
					     IB_SIGNAL_REQ_WR;
	init->port_num = 1;
	return 0;
}

static int rxe_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibqp->device);
	struct rxe_qp *qp = to_rqp(ibqp);

	/* Stop the transport first: no kicks, no work running after this. */
	rxe_qp_task_stop(qp);
	rxe_mcast_detach_all(qp);
	/* No new lookups; then wait for the ones in progress. */
	xa_erase_irq(&rdev->qps, ibqp->qp_num);
	rxe_qp_put(qp);
	wait_for_completion(&qp->released);
	/* Packets queued by lookups that raced with the stop. */
	rxe_qp_task_cleanup(qp);

	rxe_queue_cleanup(&qp->rq);
	rxe_queue_cleanup(&qp->sq);
	rxe_obj_put(rdev, RXE_OBJ_QP);
	return 0;
}

/* Copy one kernel send WR into the SQ ring; sq_lock held. */
static int rxe_post_one_send(struct rxe_qp *qp, const struct ib_send_wr *wr)
{
	struct rxe_send_wqe *wqe;
	u64 total = 0;
	u8 *p;
	int i;

	if (wr->num_sge < 0 || wr->num_sge > qp->sq_max_sge)
		return -EINVAL;
	if (rxe_queue_full(&qp->sq))
		return -ENOMEM;

	wqe = rxe_queue_producer_slot(&qp->sq);
	memset(wqe, 0, sizeof(*wqe));
	wqe->wr.wr_id = wr->wr_id;
	wqe->wr.opcode = wr->opcode;
	wqe->wr.send_flags = wr->send_flags;
	if (wr->opcode == IB_WR_SEND_WITH_INV ||
	    wr->opcode == IB_WR_LOCAL_INV)
		wqe->wr.ex.invalidate_rkey = wr->ex.invalidate_rkey;
	else
		wqe->wr.ex.imm_data = wr->ex.imm_data;

	switch (wr->opcode) {
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
	case IB_WR_RDMA_READ:
		wqe->wr.wr.rdma.remote_addr = rdma_wr(wr)->remote_addr;
		wqe->wr.wr.rdma.rkey = rdma_wr(wr)->rkey;
		wqe->iova = rdma_wr(wr)->remote_addr;
		break;
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		wqe->wr.wr.atomic.remote_addr = atomic_wr(wr)->remote_addr;
		wqe->wr.wr.atomic.compare_add = atomic_wr(wr)->compare_add;
		wqe->wr.wr.atomic.swap = atomic_wr(wr)->swap;
		wqe->wr.wr.atomic.rkey = atomic_wr(wr)->rkey;
		wqe->iova = atomic_wr(wr)->remote_addr;
		break;
	case IB_WR_REG_MR:
		wqe->wr.wr.reg.mr = reg_wr(wr)->mr;
		wqe->wr.wr.reg.key = reg_wr(wr)->key;
		wqe->wr.wr.reg.access = reg_wr(wr)->access;
		break;
	default:
		break;
	}
	if (qp->ibqp.qp_type == IB_QPT_UD || qp->ibqp.qp_type == IB_QPT_GSI) {
		wqe->wr.wr.ud.remote_qpn = ud_wr(wr)->remote_qpn;
		wqe->wr.wr.ud.remote_qkey = ud_wr(wr)->remote_qkey;
		wqe->wr.wr.ud.pkey_index = ud_wr(wr)->pkey_index;
		wqe->wr.wr.ud.ah_num = to_rah(ud_wr(wr)->ah)->ah_num;
	}

	if (wr->send_flags & IB_SEND_INLINE) {
		p = wqe->dma.inline_data;
		for (i = 0; i < wr->num_sge; i++) {
			total += wr->sg_list[i].length;
			if (total > qp->sq_max_inline)
				return -EINVAL;
			/* Kernel SGEs of a virt-DMA device are kernel VAs. */
			memcpy(p, (void *)(uintptr_t)wr->sg_list[i].addr,
			       wr->sg_list[i].length);
			p += wr->sg_list[i].length;
		}
	} else {
		for (i = 0; i < wr->num_sge; i++) {
			wqe->dma.sge[i].addr = wr->sg_list[i].addr;
			wqe->dma.sge[i].length = wr->sg_list[i].length;
			wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
			total += wr->sg_list[i].length;
		}
		wqe->dma.num_sge = wr->num_sge;
	}
	if (total > U32_MAX)
		return -EINVAL;
	wqe->dma.length = total;
	wqe->dma.resid = total;
	rxe_queue_advance_prod(&qp->sq);
	return 0;
}

static int rxe_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
			 const struct ib_send_wr **bad)
{
	struct rxe_qp *qp = to_rqp(ibqp);
	enum ib_qp_state state = rxe_qp_state(qp);
	unsigned long flags;
	int err = 0;

	if (qp->is_user) {
		/* The doorbell: WQEs are already in the mapped ring. */
		if (state == IB_QPS_ERR) {
			rxe_qp_flush_sq(qp, false);
			return 0;
		}
		if (state < IB_QPS_RTS)
			return -EINVAL;
		rxe_qp_run_sync(qp);
		return 0;
	}
	if (state < IB_QPS_RTS) {
		*bad = wr;
		return -EINVAL;
	}

	spin_lock_irqsave(&qp->sq_lock, flags);
	for (; wr; wr = wr->next) {
		err = rxe_post_one_send(qp, wr);
		if (err)
			break;
	}
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (err)
		*bad = wr;
	if (state == IB_QPS_ERR)
		rxe_qp_flush_sq(qp, false);
	else
		rxe_qp_kick(qp);
	return err;
}

static int rxe_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
			 const struct ib_recv_wr **bad)
{
	struct rxe_qp *qp = to_rqp(ibqp);
	enum ib_qp_state state = rxe_qp_state(qp);
	int err;

	if (qp->srq || qp->is_user || state == IB_QPS_RESET) {
		*bad = wr;
		return -EINVAL;
	}

	err = rxe_post_recv_list(&qp->rq, &qp->rq_lock, qp->rq_max_sge, wr,
				 bad);
	if (state == IB_QPS_ERR)
		rxe_flush_rq(qp, false);
	return err;
}

/*
 * ib_device_ops.fill_res_qp_entry: a QP's transport state as the driver
 * attributes of "rdma res show qp -dd", to tell a stuck QP from a slow
 * one.  A snapshot read without the QP's locks (a wedged run must not
 * block the dump), so values may be caught mid-change.
 */
static int rxe_fill_res_qp_attrs(struct sk_buff *msg, struct rxe_qp *qp)
{
	if (qp->sq.buf &&
	    (rdma_nl_put_driver_u32(msg, "sq_prod", rxe_queue_prod(&qp->sq)) ||
	     rdma_nl_put_driver_u32(msg, "sq_cons", rxe_queue_cons(&qp->sq)) ||
	     rdma_nl_put_driver_u32(msg, "sq_next", READ_ONCE(qp->req_next))))
		return -EMSGSIZE;
	if (qp->rq.buf &&
	    (rdma_nl_put_driver_u32(msg, "rq_prod", rxe_queue_prod(&qp->rq)) ||
	     rdma_nl_put_driver_u32(msg, "rq_cons", rxe_queue_cons(&qp->rq))))
		return -EMSGSIZE;
	if (rdma_nl_put_driver_u32_hex(msg, "req_psn",
				       READ_ONCE(qp->req_psn)) ||
	    rdma_nl_put_driver_u32_hex(msg, "resp_psn",
				       READ_ONCE(qp->resp_psn)) ||
	    rdma_nl_put_driver_u32(msg, "retry_left",
				   READ_ONCE(qp->retry_left)) ||
	    rdma_nl_put_driver_u32(msg, "rnr_left", READ_ONCE(qp->rnr_left)) ||
	    rdma_nl_put_driver_u32(msg, "req_hold", READ_ONCE(qp->req_hold)) ||
	    rdma_nl_put_driver_u32(msg, "resp_busy",
				   READ_ONCE(qp->resp_busy)) ||
	    rdma_nl_put_driver_u32(msg, "req_pkts",
				   skb_queue_len_lockless(&qp->req_pkts)) ||
	    rdma_nl_put_driver_u32(msg, "resp_pkts",
				   skb_queue_len_lockless(&qp->resp_pkts)) ||
	    rdma_nl_put_driver_u32_hex(msg, "run_flags",
				       READ_ONCE(qp->run_flags)) ||
	    rdma_nl_put_driver_u32_hex(msg, "odp_defer",
				       READ_ONCE(qp->odp_defer)) ||
	    rdma_nl_put_driver_u32(msg, "timer",
				   timer_pending(&qp->retry_timer)) ||
	    rdma_nl_put_driver_u32(msg, "work_pending",
				   work_pending(&qp->work)) ||
	    rdma_nl_put_driver_u32(msg, "bulk_pending",
				   work_pending(&qp->bulk_work)) ||
	    rdma_nl_put_driver_u32(msg, "running",
				   mutex_is_locked(&qp->run_mutex)))
		return -EMSGSIZE;
	return 0;
}

static int rxe_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *ibqp)
{
	struct rxe_qp *qp = to_rqp(ibqp);
	struct nlattr *table;

	/* Driver attributes go in their own nested table. */
	table = nla_nest_start(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rxe_fill_res_qp_attrs(msg, qp)) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

const struct ib_device_ops rxe_qp_ops = {
	.fill_res_qp_entry = rxe_fill_res_qp_entry,
	.create_qp = rxe_create_qp,
	.modify_qp = rxe_modify_qp,
	.query_qp = rxe_query_qp,
	.destroy_qp = rxe_destroy_qp,
	.post_send = rxe_post_send,
	.post_recv = rxe_post_recv,

	INIT_RDMA_OBJ_SIZE(ib_qp, rxe_qp, ibqp),
};
