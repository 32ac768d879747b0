// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: device, port, user context and protection domain verbs.
 */
#include <linux/netdevice.h>
#include <net/addrconf.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_mad.h>

#include "rxe.h"

/**
 * rxe_init_device_attr() - fill the device attributes once at creation
 * @rdev: device being created, not yet registered
 *
 * The core caches these at registration and hands the cached copy to the
 * legacy QUERY_DEVICE command and to ib_check_mr_access(), so everything
 * the device claims must be set before ib_register_device().
 */
void rxe_init_device_attr(struct rxe_dev *rdev)
{
	struct ib_device_attr *a = &rdev->attr;

	memset(a, 0, sizeof(*a));
	a->fw_ver = ((u64)RXE_ODP_VER_MAJOR << 32) |
		    ((u64)RXE_ODP_VER_MINOR << 16) | RXE_ODP_VER_SUB;
	a->vendor_id = RXE_VENDOR_ID;
	a->max_mr_size = RXE_MAX_MR_SIZE;
	a->page_size_cap = RXE_PAGE_SIZE_CAP;
	a->max_qp = RXE_MAX_QP;
	a->max_qp_wr = RXE_MAX_QP_WR;
	a->device_cap_flags = IB_DEVICE_BAD_PKEY_CNTR |
			      IB_DEVICE_BAD_QKEY_CNTR |
			      IB_DEVICE_AUTO_PATH_MIG |
			      IB_DEVICE_CHANGE_PHY_PORT |
			      IB_DEVICE_UD_AV_PORT_ENFORCE |
			      IB_DEVICE_PORT_ACTIVE_EVENT |
			      IB_DEVICE_SYS_IMAGE_GUID |
			      IB_DEVICE_RC_RNR_NAK_GEN |
			      IB_DEVICE_SRQ_RESIZE |
			      IB_DEVICE_MEM_MGT_EXTENSIONS |
			      IB_DEVICE_MEM_WINDOW |
			      IB_DEVICE_MEM_WINDOW_TYPE_2B;
	a->kernel_cap_flags = IBK_ALLOW_USER_UNREG;
	rxe_odp_init_caps(a);
	a->max_send_sge = RXE_MAX_SGE;
	a->max_recv_sge = RXE_MAX_SGE;
	a->max_sge_rd = RXE_MAX_SGE_RD;
	a->max_cq = RXE_MAX_CQ;
	a->max_cqe = RXE_MAX_CQE;
	a->max_mr = RXE_MAX_MR;
	a->max_mw = RXE_MAX_MW;
	a->max_pd = RXE_MAX_PD;
	a->max_qp_rd_atom = RXE_MAX_QP_RD_ATOM;
	a->max_qp_init_rd_atom = RXE_MAX_QP_RD_ATOM;
	a->max_res_rd_atom = RXE_MAX_RES_RD_ATOM;
	a->atomic_cap = IB_ATOMIC_HCA;
	a->max_mcast_grp = RXE_MAX_MCAST_GRP;
	a->max_mcast_qp_attach = RXE_MAX_MCAST_QP_ATTACH;
	a->max_total_mcast_qp_attach = RXE_MAX_TOT_MCAST_QP_ATTACH;
	a->max_ah = RXE_MAX_AH;
	a->max_srq = RXE_MAX_SRQ;
	a->max_srq_wr = RXE_MAX_SRQ_WR;
	a->max_srq_sge = RXE_MAX_SRQ_SGE;
	a->max_fast_reg_page_list_len = RXE_MAX_FMR_PAGE_LIST_LEN;
	a->max_pkeys = RXE_MAX_PKEYS;
	a->local_ca_ack_delay = RXE_LOCAL_CA_ACK_DELAY;
	addrconf_addr_eui48((unsigned char *)&a->sys_image_guid,
			    rdev->ndev->dev_addr);
}

/**
 * rxe_port_state() - the port state the netdev implies right now
 * @rdev: the device
 *
 * Return: IB_PORT_ACTIVE when the netdev is up with carrier, else
 * IB_PORT_DOWN.
 */
enum ib_port_state rxe_port_state(struct rxe_dev *rdev)
{
	struct net_device *ndev = rdev->ndev;

	return netif_running(ndev) && netif_carrier_ok(ndev) ?
	       IB_PORT_ACTIVE : IB_PORT_DOWN;
}

/**
 * rxe_active_mtu() - largest IB MTU whose packets fit the netdev MTU
 * @rdev: the device
 *
 * Return: an IB MTU between 256 and 4096 bytes.
 */
enum ib_mtu rxe_active_mtu(struct rxe_dev *rdev)
{
	int room = READ_ONCE(rdev->ndev->mtu) - RXE_WIRE_OVERHEAD;
	enum ib_mtu mtu;

	for (mtu = RXE_PORT_MAX_MTU; mtu > IB_MTU_256; mtu--)
		if (ib_mtu_enum_to_int(mtu) <= room)
			break;
	return mtu;
}

static int rxe_query_device(struct ib_device *ibdev,
			    struct ib_device_attr *attr,
			    struct ib_udata *udata)
{
	/* The rxe ABI has no driver data for this command. */
	if (udata && (udata->inlen || udata->outlen))
		return -EINVAL;
	*attr = to_rdev(ibdev)->attr;
	return 0;
}

static int rxe_modify_device(struct ib_device *ibdev, int mask,
			     struct ib_device_modify *attr)
{
	if (mask & ~(IB_DEVICE_MODIFY_SYS_IMAGE_GUID |
		     IB_DEVICE_MODIFY_NODE_DESC))
		return -EOPNOTSUPP;
	if (mask & IB_DEVICE_MODIFY_SYS_IMAGE_GUID)
		WRITE_ONCE(to_rdev(ibdev)->attr.sys_image_guid,
			   cpu_to_be64(attr->sys_image_guid));
	if (mask & IB_DEVICE_MODIFY_NODE_DESC)
		memcpy(ibdev->node_desc, attr->node_desc,
		       sizeof(ibdev->node_desc));
	return 0;
}

static int rxe_query_port(struct ib_device *ibdev, u32 port,
			  struct ib_port_attr *attr)
{
	struct rxe_dev *rdev = to_rdev(ibdev);
	int err;

	/* The core zeroes *attr before calling us. */
	attr->state = rxe_port_state(rdev);
	attr->phys_state = attr->state == IB_PORT_ACTIVE ?
			   IB_PORT_PHYS_STATE_LINK_UP :
			   netif_running(rdev->ndev) ?
			   IB_PORT_PHYS_STATE_POLLING :
			   IB_PORT_PHYS_STATE_DISABLED;
	attr->max_mtu = RXE_PORT_MAX_MTU;
	attr->active_mtu = rxe_active_mtu(rdev);
	attr->gid_tbl_len = RXE_PORT_GID_TBL_LEN;
	spin_lock(&rdev->port_lock);
	attr->port_cap_flags = rdev->port_cap_flags;
	spin_unlock(&rdev->port_lock);
	attr->max_msg_sz = RXE_PORT_MAX_MSG_SZ;
	attr->pkey_tbl_len = RXE_PORT_PKEY_TBL_LEN;
	attr->max_vl_num = 1;
	attr->init_type_reply = 0;

	err = ib_get_eth_speed(ibdev, port, &attr->active_speed,
			       &attr->active_width);
	return err;
}

static int rxe_modify_port(struct ib_device *ibdev, u32 port, int mask,
			   struct ib_port_modify *pm)
{
	struct rxe_dev *rdev = to_rdev(ibdev);

	if (mask & ~(IB_PORT_SHUTDOWN | IB_PORT_INIT_TYPE |
		     IB_PORT_RESET_QKEY_CNTR))
		return -EOPNOTSUPP;
	if (mask & IB_PORT_SHUTDOWN)
		return -EOPNOTSUPP;

	spin_lock(&rdev->port_lock);
	rdev->port_cap_flags |= pm->set_port_cap_mask;
	rdev->port_cap_flags &= ~pm->clr_port_cap_mask;
	spin_unlock(&rdev->port_lock);
	return 0;
}

static int rxe_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			  u16 *pkey)
{
	if (index >= RXE_PORT_PKEY_TBL_LEN)
		return -EINVAL;
	*pkey = RXE_DEFAULT_PKEY;
	return 0;
}

static enum rdma_link_layer rxe_get_link_layer(struct ib_device *ibdev,
					       u32 port)
{
	return IB_LINK_LAYER_ETHERNET;
}

static int rxe_get_port_immutable(struct ib_device *ibdev, u32 port,
				  struct ib_port_immutable *imm)
{
	struct ib_port_attr attr = {};
	int err;

	/* RoCEv2 only: this flag plus ib_device_set_netdev() makes the core
	 * keep the GID table from the netdev's (and its VLANs') addresses.
	 */
	imm->core_cap_flags = RDMA_CORE_PORT_IBA_ROCE_UDP_ENCAP;
	err = ib_query_port(ibdev, port, &attr);
	if (err)
		return err;
	imm->pkey_tbl_len = attr.pkey_tbl_len;
	imm->gid_tbl_len = attr.gid_tbl_len;
	imm->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

static void rxe_get_dev_fw_str(struct ib_device *ibdev, char *str)
{
	snprintf(str, IB_FW_VERSION_NAME_MAX, "rxe-odp %s",
		 RXE_ODP_VERSION_STR);
}

static int rxe_alloc_ucontext(struct ib_ucontext *ibuc,
			      struct ib_udata *udata)
{
	/* The rxe ABI passes no driver data either way here. */
	rxe_obj_get(to_rdev(ibuc->device), RXE_OBJ_UCONTEXT);
	return 0;
}

static void rxe_dealloc_ucontext(struct ib_ucontext *ibuc)
{
	rxe_obj_put(to_rdev(ibuc->device), RXE_OBJ_UCONTEXT);
}

static int rxe_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	rxe_obj_get(to_rdev(ibpd->device), RXE_OBJ_PD);
	return 0;
}

static int rxe_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	rxe_obj_put(to_rdev(ibpd->device), RXE_OBJ_PD);
	return 0;
}

const struct ib_device_ops rxe_device_ops = {
	.query_device = rxe_query_device,
	.modify_device = rxe_modify_device,
	.query_port = rxe_query_port,
	.modify_port = rxe_modify_port,
	.query_pkey = rxe_query_pkey,
	.get_link_layer = rxe_get_link_layer,
	.get_port_immutable = rxe_get_port_immutable,
	.get_dev_fw_str = rxe_get_dev_fw_str,
	.alloc_ucontext = rxe_alloc_ucontext,
	.dealloc_ucontext = rxe_dealloc_ucontext,
	.alloc_pd = rxe_alloc_pd,
	.dealloc_pd = rxe_dealloc_pd,

	INIT_RDMA_OBJ_SIZE(ib_ucontext, rxe_ucontext, ibuc),
	INIT_RDMA_OBJ_SIZE(ib_pd, rxe_pd, ibpd),
};
