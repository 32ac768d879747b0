// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: module life cycle, "rdma link" glue and netdev tracking.
 *
 * A device is created by "rdma link add NAME type rxe netdev IFACE" and goes
 * away through "rdma link delete NAME", through the netdev being
 * unregistered, or at module unload.  The IB core serialises the last two
 * against each other and against user space through the device refcount;
 * we only have to make sure each path ends in ib_unregister_device*() and
 * that our private state is released in dealloc_driver.
 */
#include <linux/debugfs.h>
#include <linux/if_vlan.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <net/addrconf.h>
#include <rdma/ib_mad.h>
#include <rdma/rdma_netlink.h>

#include "rxe.h"

MODULE_AUTHOR("rxe-odp developers");
MODULE_DESCRIPTION("Soft-RoCE (RoCEv2 software RDMA NIC) with on-demand paging");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_VERSION(RXE_ODP_VERSION_STR);

/*
 * Module-wide count of live objects of every kind, summed over devices.
 * Checked at module exit: a leak there is reported, never hidden.
 */
static atomic_t rxe_total_obj[RXE_OBJ_KIND_MAX];

static const char *const rxe_obj_names[RXE_OBJ_KIND_MAX] = {
	[RXE_OBJ_UCONTEXT] = "ucontext",
	[RXE_OBJ_PD] = "pd",
	[RXE_OBJ_AH] = "ah",
	[RXE_OBJ_CQ] = "cq",
	[RXE_OBJ_SRQ] = "srq",
	[RXE_OBJ_QP] = "qp",
	[RXE_OBJ_MR] = "mr",
	[RXE_OBJ_MW] = "mw",
};

/*
 * Serialises "is there already a device on this netdev?" with the
 * registration that follows, so two racing "rdma link add" on one netdev
 * cannot both succeed.
 */
static DEFINE_MUTEX(rxe_link_mutex);

/*
 * One lockdep class per xarray of a device.  xa_init_flags() is inline, so
 * every xarray initialised in this file would otherwise share a single
 * class, and lockdep would take the keys lock (process context only, plain
 * spin_lock) and the QP lock (also taken in softirq, by receive) for one
 * lock: "inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage", seen on the
 * debug kernel as soon as packets arrive from the wire.
 */
static struct lock_class_key rxe_qps_lock_key;
static struct lock_class_key rxe_srqs_lock_key;
static struct lock_class_key rxe_ahs_lock_key;
static struct lock_class_key rxe_keys_lock_key;

void rxe_obj_get(struct rxe_dev *rdev, enum rxe_obj_kind kind)
{
	atomic_inc(&rdev->nobj[kind]);
	atomic_inc(&rxe_total_obj[kind]);
}

void rxe_obj_put(struct rxe_dev *rdev, enum rxe_obj_kind kind)
{
	atomic_dec(&rdev->nobj[kind]);
	atomic_dec(&rxe_total_obj[kind]);
}

/* Report objects still alive in @counts; the harness greps for "leak". */
static void rxe_audit(const char *who, atomic_t *counts)
{
	int i, n;

	for (i = 0; i < RXE_OBJ_KIND_MAX; i++) {
		n = atomic_read(&counts[i]);
		if (n)
			pr_err("rxe-odp: leak: %s still has %d %s object(s)\n",
			       who, n, rxe_obj_names[i]);
	}
}

/*
 * debugfs: <debugfs>/rdma_rxe/objects lists the module-wide count of live
 * objects of each kind ("pd 3"), for tests that prove nothing leaked.
 */
static struct dentry *rxe_debugfs_root;

static int rxe_objects_show(struct seq_file *m, void *unused)
{
	int i;

	for (i = 0; i < RXE_OBJ_KIND_MAX; i++)
		seq_printf(m, "%s %d\n", rxe_obj_names[i],
			   atomic_read(&rxe_total_obj[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(rxe_objects);

/* ib_device_ops.dealloc_driver: last call for a device, after unregister. */
static void rxe_dealloc_driver(struct ib_device *ibdev)
{
	struct rxe_dev *rdev = to_rdev(ibdev);

	rxe_audit(dev_name(&ibdev->dev), rdev->nobj);
	xa_destroy(&rdev->qps);
	xa_destroy(&rdev->srqs);
	xa_destroy(&rdev->ahs);
	xa_destroy(&rdev->keys);
	if (rdev->ndev) {
		netdev_put(rdev->ndev, &rdev->ndev_tracker);
		rdev->ndev = NULL;
	}
}

static ssize_t parent_show(struct device *device,
			   struct device_attribute *attr, char *buf)
{
	struct rxe_dev *rdev = rdma_device_to_drv_device(device, struct rxe_dev,
							 ib_dev);

	return sysfs_emit(buf, "%s\n", netdev_name(rdev->ndev));
}
static DEVICE_ATTR_RO(parent);

static struct attribute *rxe_dev_attributes[] = {
	&dev_attr_parent.attr,
	NULL
};

static const struct attribute_group rxe_dev_attr_group = {
	.attrs = rxe_dev_attributes,
};

static const struct ib_device_ops rxe_main_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_RXE,
	.uverbs_abi_ver = RXE_ODP_UVERBS_ABI,
	.device_group = &rxe_dev_attr_group,
	.dealloc_driver = rxe_dealloc_driver,
	.mmap = rxe_mmap,
	.mmap_free = rxe_mmap_free,
};

static int rxe_dev_create(const char *name, struct net_device *ndev)
{
	struct rxe_dev *rdev;
	struct ib_device *ibdev;
	int err;

	rdev = ib_alloc_device(rxe_dev, ib_dev);
	if (!rdev)
		return -ENOMEM;
	ibdev = &rdev->ib_dev;

	rdev->ndev = ndev;
	netdev_hold(ndev, &rdev->ndev_tracker, GFP_KERNEL);
	spin_lock_init(&rdev->port_lock);
	xa_init_flags(&rdev->qps, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_IRQ);
	lockdep_set_class(&rdev->qps.xa_lock, &rxe_qps_lock_key);
	xa_init_flags(&rdev->srqs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
	lockdep_set_class(&rdev->srqs.xa_lock, &rxe_srqs_lock_key);
	xa_init_flags(&rdev->ahs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
	lockdep_set_class(&rdev->ahs.xa_lock, &rxe_ahs_lock_key);
	xa_init_flags(&rdev->keys, XA_FLAGS_ALLOC1);
	lockdep_set_class(&rdev->keys.xa_lock, &rxe_keys_lock_key);
	mutex_init(&rdev->odp_mutex);
	INIT_LIST_HEAD(&rdev->odp_mrs);
	rdev->next_qpn = RXE_MIN_QPN;
	mutex_init(&rdev->mcg_mutex);
	spin_lock_init(&rdev->mcg_lock);
	rdev->mcg_tree = RB_ROOT;
	rdev->port_cap_flags = IB_PORT_CM_SUP;
	rdev->port_state = rxe_port_state(rdev);
	rxe_init_device_attr(rdev);

	ibdev->node_type = RDMA_NODE_IB_CA;
	ibdev->phys_port_cnt = 1;
	ibdev->num_comp_vectors = num_possible_cpus();
	ibdev->local_dma_lkey = 0;
	strscpy(ibdev->node_desc, "rxe", sizeof(ibdev->node_desc));
	addrconf_addr_eui48((unsigned char *)&ibdev->node_guid,
			    ndev->dev_addr);
	/* librxe rings the SQ doorbell with POST_SEND and arms CQs with
	 * REQ_NOTIFY_CQ; neither is in the core's default command mask.
	 */
	ibdev->uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND) |
				  BIT_ULL(IB_USER_VERBS_CMD_REQ_NOTIFY_CQ);

	ib_set_device_ops(ibdev, &rxe_main_ops);
	ib_set_device_ops(ibdev, &rxe_device_ops);
	ib_set_device_ops(ibdev, &rxe_cq_ops);
	ib_set_device_ops(ibdev, &rxe_srq_ops);
	ib_set_device_ops(ibdev, &rxe_ah_ops);
	ib_set_device_ops(ibdev, &rxe_qp_ops);
	ib_set_device_ops(ibdev, &rxe_mcast_ops);
	ib_set_device_ops(ibdev, &rxe_counter_ops);
	ib_set_device_ops(ibdev, &rxe_mr_ops);
	ib_set_device_ops(ibdev, &rxe_odp_ops);

	err = ib_device_set_netdev(ibdev, ndev, 1);
	if (err)
		goto err_dealloc;

	/* A NULL DMA device makes the core use kernel virtual addresses. */
	err = ib_register_device(ibdev, name, NULL);
	if (err)
		goto err_dealloc;

	dev_info(&ibdev->dev, "rxe-odp %s added on %s\n",
		 RXE_ODP_VERSION_STR, netdev_name(ndev));
	return 0;

err_dealloc:
	/* Calls rxe_dealloc_driver(), which drops the netdev reference. */
	ib_dealloc_device(ibdev);
	return err;
}

/* rdma_link_ops.newlink: "rdma link add NAME type rxe netdev IFACE". */
static int rxe_newlink(const char *name, struct net_device *ndev)
{
	struct ib_device *other;
	int err;

	if (is_vlan_dev(ndev)) {
		pr_warn("%s is a VLAN device; add rxe to its real device %s instead\n",
			netdev_name(ndev),
			netdev_name(vlan_dev_real_dev(ndev)));
		return -EPERM;
	}

	mutex_lock(&rxe_link_mutex);
	other = ib_device_get_by_netdev(ndev, RDMA_DRIVER_RXE);
	if (other) {
		pr_warn("%s already has rxe device %s\n", netdev_name(ndev),
			dev_name(&other->dev));
		ib_device_put(other);
		err = -EEXIST;
		goto out;
	}
	err = rxe_dev_create(name, ndev);
out:
	mutex_unlock(&rxe_link_mutex);
	return err;
}

static struct rdma_link_ops rxe_link_ops = {
	.type = "rxe",
	.newlink = rxe_newlink,
};

/* Tell the core (and so every consumer) when our port goes up or down. */
static void rxe_port_update(struct rxe_dev *rdev)
{
	enum ib_port_state state = rxe_port_state(rdev);
	struct ib_event ev = {
		.device = &rdev->ib_dev,
		.element.port_num = 1,
	};

	if (state == rdev->port_state)
		return;
	rdev->port_state = state;
	if (state != IB_PORT_ACTIVE)
		rxe_counter_inc(rdev, RXE_CNT_LINK_DOWNED);
	ev.event = state == IB_PORT_ACTIVE ? IB_EVENT_PORT_ACTIVE :
					     IB_EVENT_PORT_ERR;
	ib_dispatch_event(&ev);
	dev_info(&rdev->ib_dev.dev, "port %s\n",
		 state == IB_PORT_ACTIVE ? "active" : "down");
}

static int rxe_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *ndev = netdev_notifier_info_to_dev(ptr);
	struct ib_device *ibdev;

	ibdev = ib_device_get_by_netdev(ndev, RDMA_DRIVER_RXE);
	if (!ibdev)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UNREGISTER:
		/* Runs the unregistration from a work item: the core may
		 * need RTNL, which we hold here.
		 */
		ib_unregister_device_queued(ibdev);
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
	case NETDEV_GOING_DOWN:
		rxe_port_update(to_rdev(ibdev));
		break;
	default:
		/* MTU changes are read live by query_port. */
		break;
	}
	ib_device_put(ibdev);
	return NOTIFY_OK;
}

static struct notifier_block rxe_netdev_nb = {
	.notifier_call = rxe_netdev_event,
};

static int __init rxe_module_init(void)
{
	int err;

	err = rxe_task_init();
	if (err)
		return err;
	err = rxe_net_init();
	if (err)
		goto err_task;

	err = register_netdevice_notifier(&rxe_netdev_nb);
	if (err)
		goto err_net;

	rxe_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("objects", 0444, rxe_debugfs_root, NULL,
			    &rxe_objects_fops);
	rxe_odp_debugfs_init(rxe_debugfs_root);
	rxe_net_debugfs_init(rxe_debugfs_root);
	rxe_resp_debugfs_init(rxe_debugfs_root);
	rdma_link_register(&rxe_link_ops);
	pr_info("rxe-odp %s loaded\n", RXE_ODP_VERSION_STR);
	return 0;

err_net:
	rxe_net_exit();
err_task:
	rxe_task_exit();
	return err;
}

static void __exit rxe_module_exit(void)
{
	rdma_link_unregister(&rxe_link_ops);
	/* Unregisters (and waits for) every device with our driver id. */
	ib_unregister_driver(RDMA_DRIVER_RXE);
	unregister_netdevice_notifier(&rxe_netdev_nb);
	rxe_net_exit();
	rxe_task_exit();
	debugfs_remove_recursive(rxe_debugfs_root);
	rxe_audit("module", rxe_total_obj);
	pr_info("rxe-odp unloaded\n");
}

module_init(rxe_module_init);
module_exit(rxe_module_exit);

MODULE_ALIAS_RDMA_LINK("rxe");
