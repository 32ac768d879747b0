// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: verbs the IB core requires of every device but that this
 * version does not implement yet.  Each answers -EOPNOTSUPP (or NULL with
 * that error) so that callers see a clean failure, never a crash.  The
 * verbs-objects work replaces this file piece by piece.
 */
#include "rxe.h"

static int rxe_no_create_qp(struct ib_qp *ibqp,
			    struct ib_qp_init_attr *init,
			    struct ib_udata *udata)
{
	return -EOPNOTSUPP;
}

static int rxe_no_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			    int mask, struct ib_udata *udata)
{
	return -EOPNOTSUPP;
}

static int rxe_no_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	return 0;
}

static int rxe_no_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
			    const struct ib_send_wr **bad)
{
	*bad = wr;
	return -EOPNOTSUPP;
}

static int rxe_no_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
			    const struct ib_recv_wr **bad)
{
	*bad = wr;
	return -EOPNOTSUPP;
}

static int rxe_no_create_cq(struct ib_cq *ibcq,
			    const struct ib_cq_init_attr *attr,
			    struct ib_udata *udata)
{
	return -EOPNOTSUPP;
}

static int rxe_no_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	return 0;
}

static int rxe_no_poll_cq(struct ib_cq *ibcq, int n, struct ib_wc *wc)
{
	return 0;
}

static int rxe_no_req_notify_cq(struct ib_cq *ibcq,
				enum ib_cq_notify_flags flags)
{
	return -EOPNOTSUPP;
}

static struct ib_mr *rxe_no_get_dma_mr(struct ib_pd *ibpd, int access)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static struct ib_mr *rxe_no_reg_user_mr(struct ib_pd *ibpd, u64 start,
					u64 len, u64 iova, int access,
					struct ib_udata *udata)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static int rxe_no_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	return -EOPNOTSUPP;
}

const struct ib_device_ops rxe_pending_ops = {
	.create_qp = rxe_no_create_qp,
	.modify_qp = rxe_no_modify_qp,
	.destroy_qp = rxe_no_destroy_qp,
	.post_send = rxe_no_post_send,
	.post_recv = rxe_no_post_recv,
	.create_cq = rxe_no_create_cq,
	.destroy_cq = rxe_no_destroy_cq,
	.poll_cq = rxe_no_poll_cq,
	.req_notify_cq = rxe_no_req_notify_cq,
	.get_dma_mr = rxe_no_get_dma_mr,
	.reg_user_mr = rxe_no_reg_user_mr,
	.dereg_mr = rxe_no_dereg_mr,
};
