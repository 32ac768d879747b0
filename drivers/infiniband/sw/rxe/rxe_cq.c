// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: completion queues.
 *
 * The kernel is the only producer of a CQ's ring (the transport and the
 * flush paths, serialised by cq->lock).  A user CQ is consumed by
 * rdma-core in user space without system calls; a kernel CQ by poll_cq.
 */
#include <linux/slab.h>
#include <rdma/uverbs_ioctl.h>

#include "rxe.h"

static size_t rxe_cqe_size(bool is_user)
{
	return is_user ? sizeof(struct ib_uverbs_wc) : sizeof(struct ib_wc);
}

static void rxe_cq_event(struct rxe_cq *cq, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = cq->ibcq.device,
		.element.cq = &cq->ibcq,
		.event = type,
	};

	if (cq->ibcq.event_handler)
		cq->ibcq.event_handler(&ev, cq->ibcq.cq_context);
}

static void rxe_wc_to_uverbs(const struct ib_wc *wc, struct ib_uverbs_wc *u)
{
	memset(u, 0, sizeof(*u));
	u->wr_id = wc->wr_id;
	u->status = wc->status;
	u->opcode = wc->opcode;
	u->vendor_err = wc->vendor_err;
	u->byte_len = wc->byte_len;
	if (wc->wc_flags & IB_WC_WITH_INVALIDATE)
		u->ex.invalidate_rkey = wc->ex.invalidate_rkey;
	else
		u->ex.imm_data = wc->ex.imm_data;
	u->qp_num = wc->qp->qp_num;
	u->src_qp = wc->src_qp;
	u->wc_flags = wc->wc_flags;
	u->pkey_index = wc->pkey_index;
	u->slid = wc->slid;
	u->sl = wc->sl;
	u->dlid_path_bits = wc->dlid_path_bits;
	u->port_num = wc->port_num;
}

/**
 * rxe_cq_post() - add one completion to a CQ
 * @cq: the CQ
 * @wc: the completion, in kernel form (wc->qp must be set)
 * @solicited: the completion is for a solicited event
 *
 * Never sleeps.  Calls the completion handler when the CQ was armed for
 * this completion.  A full CQ is never overwritten: the entry is dropped,
 * IB_EVENT_CQ_ERR is raised and -EOVERFLOW returned so the caller can move
 * the QP to the error state.
 *
 * Return: 0 or -EOVERFLOW.
 */
int rxe_cq_post(struct rxe_cq *cq, const struct ib_wc *wc, bool solicited)
{
	unsigned long flags;
	bool fire = false;

	spin_lock_irqsave(&cq->lock, flags);
	if (rxe_queue_full(&cq->queue)) {
		spin_unlock_irqrestore(&cq->lock, flags);
		rxe_cq_event(cq, IB_EVENT_CQ_ERR);
		return -EOVERFLOW;
	}
	if (cq->is_user)
		rxe_wc_to_uverbs(wc, rxe_queue_producer_slot(&cq->queue));
	else
		memcpy(rxe_queue_producer_slot(&cq->queue), wc, sizeof(*wc));
	rxe_queue_advance_prod(&cq->queue);

	if (cq->notify == IB_CQ_NEXT_COMP ||
	    (cq->notify == IB_CQ_SOLICITED &&
	     (solicited || wc->status != IB_WC_SUCCESS))) {
		cq->notify = 0;
		fire = true;
	}
	spin_unlock_irqrestore(&cq->lock, flags);

	if (fire && cq->ibcq.comp_handler)
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
	return 0;
}

static int rxe_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
			 struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibcq->device);
	struct rxe_cq *cq = to_rcq(ibcq);
	struct rxe_create_cq_resp __user *uresp = NULL;
	u32 entries = attr->cqe;
	int err;

	if (attr->flags)
		return -EOPNOTSUPP;
	if (attr->cqe < 1 || attr->cqe > rdev->attr.max_cqe)
		return -EINVAL;
	if (udata) {
		if (udata->outlen < sizeof(*uresp))
			return -EINVAL;
		uresp = udata->outbuf;
	}

	spin_lock_init(&cq->lock);
	cq->is_user = !!udata;
	err = rxe_queue_init(rdev, &cq->queue, udata,
			     udata ? RXE_Q_USER_CONSUMES : RXE_Q_KERNEL_ONLY,
			     &entries, rxe_cqe_size(cq->is_user));
	if (err)
		return err;
	if (uresp) {
		err = rxe_queue_copy_mminfo(&cq->queue, &uresp->mi);
		if (err)
			goto err_queue;
	}
	ibcq->cqe = entries;
	rxe_obj_get(rdev, RXE_OBJ_CQ);
	return 0;

err_queue:
	rxe_queue_cleanup(&cq->queue);
	return err;
}

static int rxe_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct rxe_cq *cq = to_rcq(ibcq);

	/* The core refuses while QPs or SRQs use the CQ (usecnt), and QP
	 * destruction waits for the QP's work, so nothing posts here now.
	 */
	rxe_queue_cleanup(&cq->queue);
	rxe_obj_put(to_rdev(ibcq->device), RXE_OBJ_CQ);
	return 0;
}

static int rxe_resize_cq(struct ib_cq *ibcq, int cqe, struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibcq->device);
	struct rxe_cq *cq = to_rcq(ibcq);
	struct rxe_resize_cq_resp __user *uresp = NULL;
	u32 entries = cqe;
	int err;

	if (cqe < 1 || cqe > rdev->attr.max_cqe)
		return -EINVAL;
	if (udata) {
		if (udata->outlen < sizeof(*uresp))
			return -EINVAL;
		uresp = udata->outbuf;
	}
	err = rxe_queue_resize(rdev, &cq->queue, udata, &entries,
			       rxe_cqe_size(cq->is_user), &cq->lock);
	if (err)
		return err;
	if (uresp) {
		err = rxe_queue_copy_mminfo(&cq->queue, &uresp->mi);
		if (err)
			return err;
	}
	ibcq->cqe = entries;
	return 0;
}

static int rxe_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc)
{
	struct rxe_cq *cq = to_rcq(ibcq);
	unsigned long flags;
	int n = 0;

	/* User CQs are polled in user space, never here. */
	if (cq->is_user)
		return -EINVAL;

	spin_lock_irqsave(&cq->lock, flags);
	while (n < num && !rxe_queue_empty(&cq->queue)) {
		memcpy(&wc[n++], rxe_queue_consumer_slot(&cq->queue),
		       sizeof(*wc));
		rxe_queue_advance_cons(&cq->queue);
	}
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

static int rxe_peek_cq(struct ib_cq *ibcq, int wc_cnt)
{
	struct rxe_cq *cq = to_rcq(ibcq);
	unsigned long flags;
	int n;

	spin_lock_irqsave(&cq->lock, flags);
	n = rxe_queue_count(&cq->queue);
	spin_unlock_irqrestore(&cq->lock, flags);
	return min(n, wc_cnt);
}

static int rxe_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	struct rxe_cq *cq = to_rcq(ibcq);
	unsigned long irqf;
	int ret = 0;

	spin_lock_irqsave(&cq->lock, irqf);
	/* Arming for the next completion wins over solicited-only. */
	if (cq->notify != IB_CQ_NEXT_COMP)
		cq->notify = flags & IB_CQ_SOLICITED_MASK;
	if ((flags & IB_CQ_REPORT_MISSED_EVENTS) &&
	    !rxe_queue_empty(&cq->queue))
		ret = 1;
	spin_unlock_irqrestore(&cq->lock, irqf);
	return ret;
}

const struct ib_device_ops rxe_cq_ops = {
	.create_cq = rxe_create_cq,
	.destroy_cq = rxe_destroy_cq,
	.resize_cq = rxe_resize_cq,
	.poll_cq = rxe_poll_cq,
	.peek_cq = rxe_peek_cq,
	.req_notify_cq = rxe_req_notify_cq,

	INIT_RDMA_OBJ_SIZE(ib_cq, rxe_cq, ibcq),
};
