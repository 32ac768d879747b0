// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: verbs the IB core requires of every device but that this
 * version does not implement yet.  Each answers -EOPNOTSUPP (or NULL with
 * that error) so that callers see a clean failure, never a crash.  The
 * verbs-objects work replaces this file piece by piece.
 */
#include "rxe.h"

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
	.get_dma_mr = rxe_no_get_dma_mr,
	.reg_user_mr = rxe_no_reg_user_mr,
	.dereg_mr = rxe_no_dereg_mr,
};
