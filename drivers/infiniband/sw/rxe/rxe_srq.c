// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: shared receive queues.
 *
 * User space produces receive WQEs into the ring without system calls;
 * kernel ULPs produce through post_srq_recv.  The transport consumes them
 * under srq->lock, which also guards the limit and resizing.
 */
#include <rdma/uverbs_ioctl.h>

#include "rxe.h"

static size_t rxe_recv_wqe_size(u32 max_sge)
{
	return sizeof(struct rxe_recv_wqe) + max_sge * sizeof(struct rxe_sge);
}

/*
 * Validate a modify_srq (or the sizes of a create).  @cur_capacity and
 * @cur_limit describe the SRQ as it is; the limit, armed or not, must
 * never end up above the ring's capacity.
 */
static int rxe_srq_check(struct rxe_dev *rdev, struct ib_srq_attr *a,
			 enum ib_srq_attr_mask mask, u32 cur_capacity,
			 u32 cur_limit)
{
	u32 cap = cur_capacity, limit = cur_limit;

	if (mask & IB_SRQ_MAX_WR) {
		if (a->max_wr < 1 || a->max_wr > rdev->attr.max_srq_wr)
			return -EINVAL;
		cap = a->max_wr;
	}
	if (mask & IB_SRQ_LIMIT)
		limit = a->srq_limit;
	if (limit > cap)
		return -EINVAL;
	return 0;
}

static int rxe_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
			  struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibsrq->device);
	struct rxe_srq *srq = to_rsrq(ibsrq);
	struct rxe_create_srq_resp __user *uresp = NULL;
	u32 entries = init->attr.max_wr;
	u32 num;
	int err;

	if (init->srq_type != IB_SRQT_BASIC)
		return -EOPNOTSUPP;
	if (init->attr.max_sge > rdev->attr.max_srq_sge)
		return -EINVAL;
	/* srq_limit is irrelevant at creation (ibv_create_srq(3)): the SRQ
	 * starts disarmed and modify_srq arms it.
	 */
	err = rxe_srq_check(rdev, &init->attr, IB_SRQ_MAX_WR,
			    init->attr.max_wr, 0);
	if (err)
		return err;
	if (udata) {
		if (udata->outlen < sizeof(*uresp))
			return -EINVAL;
		uresp = udata->outbuf;
	}

	spin_lock_init(&srq->lock);
	srq->is_user = !!udata;
	srq->max_sge = max_t(u32, init->attr.max_sge, 1);
	srq->limit = 0;

	err = rxe_queue_init(rdev, &srq->rq, udata,
			     udata ? RXE_Q_USER_PRODUCES : RXE_Q_KERNEL_ONLY,
			     &entries, rxe_recv_wqe_size(srq->max_sge));
	if (err)
		return err;

	err = xa_alloc_irq(&rdev->srqs, &num, srq, XA_LIMIT(1, RXE_MAX_SRQ),
			   GFP_KERNEL);
	if (err)
		goto err_queue;
	srq->srq_num = num;

	if (uresp) {
		err = rxe_queue_copy_mminfo(&srq->rq, &uresp->mi);
		if (!err && put_user(srq->srq_num, &uresp->srq_num))
			err = -EFAULT;
		if (err)
			goto err_xa;
	}
	init->attr.max_wr = entries;
	init->attr.max_sge = srq->max_sge;
	rxe_obj_get(rdev, RXE_OBJ_SRQ);
	return 0;

err_xa:
	xa_erase_irq(&rdev->srqs, srq->srq_num);
err_queue:
	rxe_queue_cleanup(&srq->rq);
	return err;
}

static int rxe_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
			  enum ib_srq_attr_mask mask, struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibsrq->device);
	struct rxe_srq *srq = to_rsrq(ibsrq);
	struct rxe_modify_srq_cmd cmd = {};
	unsigned long flags;
	u32 entries;
	int err;

	if (mask & ~(IB_SRQ_MAX_WR | IB_SRQ_LIMIT))
		return -EOPNOTSUPP;
	spin_lock_irqsave(&srq->lock, flags);
	err = rxe_srq_check(rdev, attr, mask, rxe_queue_capacity(&srq->rq),
			    srq->limit);
	spin_unlock_irqrestore(&srq->lock, flags);
	if (err)
		return err;

	if (mask & IB_SRQ_MAX_WR) {
		if (udata) {
			if (udata->inlen < sizeof(cmd))
				return -EINVAL;
			err = ib_copy_from_udata(&cmd, udata, sizeof(cmd));
			if (err)
				return err;
		}
		entries = attr->max_wr;
		err = rxe_queue_resize(rdev, &srq->rq, udata, &entries,
				       rxe_recv_wqe_size(srq->max_sge),
				       &srq->lock);
		if (err)
			return err;
		attr->max_wr = entries;
		/* The provider reads the new ring's mminfo from here. */
		if (udata &&
		    rxe_queue_copy_mminfo(&srq->rq,
					  u64_to_user_ptr(cmd.mmap_info_addr)))
			return -EFAULT;
	}
	if (mask & IB_SRQ_LIMIT) {
		spin_lock_irqsave(&srq->lock, flags);
		srq->limit = attr->srq_limit;
		spin_unlock_irqrestore(&srq->lock, flags);
	}
	return 0;
}

static int rxe_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct rxe_srq *srq = to_rsrq(ibsrq);
	unsigned long flags;

	spin_lock_irqsave(&srq->lock, flags);
	attr->max_wr = rxe_queue_capacity(&srq->rq);
	attr->max_sge = srq->max_sge;
	attr->srq_limit = srq->limit;
	spin_unlock_irqrestore(&srq->lock, flags);
	return 0;
}

static int rxe_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibsrq->device);
	struct rxe_srq *srq = to_rsrq(ibsrq);

	/* The core refuses while QPs use the SRQ (usecnt). */
	xa_erase_irq(&rdev->srqs, srq->srq_num);
	rxe_queue_cleanup(&srq->rq);
	rxe_obj_put(rdev, RXE_OBJ_SRQ);
	return 0;
}

/* Copy one kernel receive WR into @q; the caller holds the ring's lock. */
static int rxe_post_recv_wqe(struct rxe_queue *q, u32 max_sge,
			     const struct ib_recv_wr *wr)
{
	struct rxe_recv_wqe *wqe;
	u64 total = 0;
	int i;

	if (wr->num_sge < 0 || wr->num_sge > max_sge)
		return -EINVAL;
	if (rxe_queue_full(q))
		return -ENOMEM;
	wqe = rxe_queue_producer_slot(q);
	wqe->wr_id = wr->wr_id;
	for (i = 0; i < wr->num_sge; i++) {
		wqe->dma.sge[i].addr = wr->sg_list[i].addr;
		wqe->dma.sge[i].length = wr->sg_list[i].length;
		wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
		total += wr->sg_list[i].length;
	}
	if (total > U32_MAX)
		return -EINVAL;
	wqe->dma.length = total;
	wqe->dma.resid = total;
	wqe->dma.num_sge = wr->num_sge;
	wqe->dma.cur_sge = 0;
	wqe->dma.sge_offset = 0;
	rxe_queue_advance_prod(q);
	return 0;
}

/**
 * rxe_post_recv_list() - post a chain of kernel receive WRs to a ring
 * @q: the RQ or SRQ ring (kernel produced)
 * @lock: the lock that serialises producers of @q
 * @max_sge: SGEs a slot holds
 * @wr: the first work request
 * @bad: set to the first WR not posted, on error
 *
 * Context: any (kernel verbs may be called under spinlocks).
 * Return: 0, -ENOMEM when the ring is full, -EINVAL for too many SGEs.
 */
int rxe_post_recv_list(struct rxe_queue *q, spinlock_t *lock, u32 max_sge,
		       const struct ib_recv_wr *wr,
		       const struct ib_recv_wr **bad)
{
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(lock, flags);
	for (; wr; wr = wr->next) {
		err = rxe_post_recv_wqe(q, max_sge, wr);
		if (err)
			break;
	}
	spin_unlock_irqrestore(lock, flags);
	if (err)
		*bad = wr;
	return err;
}

static int rxe_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
			     const struct ib_recv_wr **bad)
{
	struct rxe_srq *srq = to_rsrq(ibsrq);

	return rxe_post_recv_list(&srq->rq, &srq->lock, srq->max_sge, wr, bad);
}

const struct ib_device_ops rxe_srq_ops = {
	.create_srq = rxe_create_srq,
	.modify_srq = rxe_modify_srq,
	.query_srq = rxe_query_srq,
	.destroy_srq = rxe_destroy_srq,
	.post_srq_recv = rxe_post_srq_recv,

	INIT_RDMA_OBJ_SIZE(ib_srq, rxe_srq, ibsrq),
};
