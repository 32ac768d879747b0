// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: address handles and address vectors.
 *
 * An address vector is kept in the rxe ABI's own struct rxe_av, the form
 * in which old providers pass it inline in UD WQEs, so the transport has
 * one representation whatever the source.  AHs live in rxe_dev.ahs under
 * their AH number; create_ah may run in atomic context (no
 * RDMA_CREATE_AH_SLEEPABLE), so the xarray is irq-safe and allocation
 * honours the flag.
 */
#include <net/addrconf.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_cache.h>
#include <rdma/uverbs_ioctl.h>

#include "rxe.h"

/**
 * rxe_av_from_attr() - build an address vector from a RoCE AH attribute
 * @rdev: device
 * @attr: attribute with a GRH and a resolved sgid_attr and dmac
 * @av: filled in
 *
 * Return: 0, or -EINVAL when the attribute cannot describe a RoCEv2 path.
 */
int rxe_av_from_attr(struct rxe_dev *rdev, const struct rdma_ah_attr *attr,
		     struct rxe_av *av)
{
	const struct ib_global_route *grh;
	const struct ib_gid_attr *sgid_attr;

	if (attr->type != RDMA_AH_ATTR_TYPE_ROCE ||
	    !(rdma_ah_get_ah_flags(attr) & IB_AH_GRH))
		return -EINVAL;
	grh = rdma_ah_read_grh(attr);
	sgid_attr = grh->sgid_attr;
	if (!sgid_attr)
		return -EINVAL;

	memset(av, 0, sizeof(*av));
	av->port_num = rdma_ah_get_port_num(attr);
	switch (rdma_gid_attr_network_type(sgid_attr)) {
	case RDMA_NETWORK_IPV4:
		av->network_type = RXE_NETWORK_TYPE_IPV4;
		break;
	case RDMA_NETWORK_IPV6:
		av->network_type = RXE_NETWORK_TYPE_IPV6;
		break;
	default:
		/* RoCEv1 and IB GIDs: not something we can send to. */
		return -EINVAL;
	}
	memcpy(av->dmac, attr->roce.dmac, ETH_ALEN);
	memcpy(av->grh.dgid.raw, grh->dgid.raw, sizeof(av->grh.dgid.raw));
	av->grh.flow_label = grh->flow_label;
	av->grh.sgid_index = grh->sgid_index;
	av->grh.hop_limit = grh->hop_limit;
	av->grh.traffic_class = grh->traffic_class;
	rdma_gid2ip((struct sockaddr *)&av->sgid_addr, &sgid_attr->gid);
	rdma_gid2ip((struct sockaddr *)&av->dgid_addr, &grh->dgid);
	return 0;
}

/**
 * rxe_av_to_attr() - report an address vector as an AH attribute
 * @av: the address vector
 * @attr: filled in (its sgid_attr is left for the caller)
 */
void rxe_av_to_attr(const struct rxe_av *av, struct rdma_ah_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->type = RDMA_AH_ATTR_TYPE_ROCE;
	rdma_ah_set_port_num(attr, av->port_num);
	rdma_ah_set_grh(attr, NULL, av->grh.flow_label, av->grh.sgid_index,
			av->grh.hop_limit, av->grh.traffic_class);
	memcpy(attr->grh.dgid.raw, av->grh.dgid.raw, sizeof(attr->grh.dgid));
	memcpy(attr->roce.dmac, av->dmac, ETH_ALEN);
}

/**
 * rxe_ah_get_av() - copy the address vector of an AH named in a UD WQE
 * @rdev: device
 * @ah_num: the AH number
 * @pd: the PD the AH must belong to (that of the posting QP)
 * @av: filled in
 *
 * Safe from any context; the copy is made under the xarray lock, so a
 * racing destroy_ah cannot free the AH under us.
 *
 * Return: 0, or -EINVAL if no such AH exists in @pd.
 */
int rxe_ah_get_av(struct rxe_dev *rdev, u32 ah_num, struct ib_pd *pd,
		  struct rxe_av *av)
{
	struct rxe_ah *ah;
	unsigned long flags;
	int err = -EINVAL;

	xa_lock_irqsave(&rdev->ahs, flags);
	ah = xa_load(&rdev->ahs, ah_num);
	if (ah && ah->ibah.pd == pd) {
		*av = ah->av;
		err = 0;
	}
	xa_unlock_irqrestore(&rdev->ahs, flags);
	return err;
}

static int rxe_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
			 struct ib_udata *udata)
{
	struct rxe_dev *rdev = to_rdev(ibah->device);
	struct rxe_ah *ah = to_rah(ibah);
	struct rxe_create_ah_resp __user *uresp = NULL;
	unsigned long flags;
	u32 num;
	int err;

	if (udata && udata->outlen >= sizeof(*uresp))
		uresp = udata->outbuf;

	err = rxe_av_from_attr(rdev, init->ah_attr, &ah->av);
	if (err)
		return err;

	if (init->flags & RDMA_CREATE_AH_SLEEPABLE) {
		err = xa_alloc_irq(&rdev->ahs, &num, ah,
				   XA_LIMIT(1, RXE_MAX_AH), GFP_KERNEL);
	} else {
		/* Caller may hold a spinlock with interrupts off. */
		xa_lock_irqsave(&rdev->ahs, flags);
		err = __xa_alloc(&rdev->ahs, &num, ah,
				 XA_LIMIT(1, RXE_MAX_AH), GFP_ATOMIC);
		xa_unlock_irqrestore(&rdev->ahs, flags);
	}
	if (err)
		return err == -EBUSY ? -ENOMEM : err;
	ah->ah_num = num;

	if (uresp && put_user(ah->ah_num, &uresp->ah_num)) {
		xa_erase_irq(&rdev->ahs, ah->ah_num);	/* user: sleepable */
		return -EFAULT;
	}
	rxe_obj_get(rdev, RXE_OBJ_AH);
	return 0;
}

static int rxe_modify_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	struct rxe_dev *rdev = to_rdev(ibah->device);
	struct rxe_ah *ah = to_rah(ibah);
	struct rxe_av av;
	unsigned long flags;
	int err;

	err = rxe_av_from_attr(rdev, attr, &av);
	if (err)
		return err;
	xa_lock_irqsave(&rdev->ahs, flags);
	ah->av = av;
	xa_unlock_irqrestore(&rdev->ahs, flags);
	return 0;
}

static int rxe_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	struct rxe_dev *rdev = to_rdev(ibah->device);
	struct rxe_ah *ah = to_rah(ibah);
	struct rxe_av av;
	unsigned long flags;

	xa_lock_irqsave(&rdev->ahs, flags);
	av = ah->av;
	xa_unlock_irqrestore(&rdev->ahs, flags);
	rxe_av_to_attr(&av, attr);
	return 0;
}

static int rxe_destroy_ah(struct ib_ah *ibah, u32 destroy_flags)
{
	struct rxe_dev *rdev = to_rdev(ibah->device);
	struct rxe_ah *ah = to_rah(ibah);
	unsigned long flags;

	/* After this no reader can be copying the AV: they hold the lock.
	 * The caller may be atomic (no RDMA_DESTROY_AH_SLEEPABLE).
	 */
	xa_lock_irqsave(&rdev->ahs, flags);
	__xa_erase(&rdev->ahs, ah->ah_num);
	xa_unlock_irqrestore(&rdev->ahs, flags);
	rxe_obj_put(rdev, RXE_OBJ_AH);
	return 0;
}

const struct ib_device_ops rxe_ah_ops = {
	.create_ah = rxe_create_ah,
	.create_user_ah = rxe_create_ah,
	.modify_ah = rxe_modify_ah,
	.query_ah = rxe_query_ah,
	.destroy_ah = rxe_destroy_ah,

	INIT_RDMA_OBJ_SIZE(ib_ah, rxe_ah, ibah),
};
