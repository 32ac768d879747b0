// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: UD multicast groups.
 *
 * A group is keyed by its multicast GID and lists the QPs attached to it.
 * While the group has members:
 *  - the netdev's multicast filter holds the group's Ethernet address, so
 *    that the NIC below us accepts its frames;
 *  - the netdev is a member of the group at the IP layer (IGMP for a
 *    v4-mapped group, MLD for IPv6), because our packets travel through
 *    the IP stack, which drops multicast datagrams for groups nobody
 *    joined before they reach the RoCEv2 socket.  The membership is
 *    counted by the IP layer, so it coexists with the IPv4 join rdma_cm
 *    makes for its own multicast ids; without ours, a group attached
 *    through plain verbs (and any IPv6 group) received nothing from the
 *    wire, nor from a sender on the same host.
 *
 * Locking: rdev->mcg_mutex serialises attach and detach (which may sleep in
 * allocation, in dev_mc_add and under RTNL for the IP membership; lock
 * order: mcg_mutex, then RTNL); rdev->mcg_lock (irqsave) additionally
 * guards the tree and the member lists, so the receive path can walk a
 * group without the mutex.  A QP's own list of attachments (qp->mcast) is
 * changed only under both.
 */
#include <linux/igmp.h>
#include <linux/inetdevice.h>
#include <linux/rbtree.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include <net/ip.h>

#include "rxe.h"

/**
 * struct rxe_mcg - one multicast group of a device
 * @node: in rdev->mcg_tree, ordered by @mgid.
 * @mgid: the group's GID.
 * @members: struct rxe_mca entries, one per attached QP.
 * @nmembers: entries in @members.
 * @mac: Ethernet multicast address added to the netdev filter.
 * @ip_joined: the netdev joined the group at the IP layer for us (and
 *	must leave it when the group goes away).
 */
struct rxe_mcg {
	struct rb_node node;
	union ib_gid mgid;
	struct list_head members;
	u32 nmembers;
	u8 mac[ETH_ALEN];
	bool ip_joined;
};

/**
 * struct rxe_mca - one QP's membership of one group
 * @group_entry: in rxe_mcg.members.
 * @qp_entry: in rxe_qp.mcast.
 * @qp: the member.
 * @mcg: the group.
 */
struct rxe_mca {
	struct list_head group_entry;
	struct list_head qp_entry;
	struct rxe_qp *qp;
	struct rxe_mcg *mcg;
};

static bool rxe_gid_is_mcast(const union ib_gid *gid)
{
	const struct in6_addr *a = (const struct in6_addr *)gid->raw;

	if (ipv6_addr_v4mapped(a))
		return ipv4_is_multicast(a->s6_addr32[3]);
	return ipv6_addr_is_multicast(a);
}

static void rxe_mgid_to_mac(const union ib_gid *gid, u8 *mac)
{
	const struct in6_addr *a = (const struct in6_addr *)gid->raw;

	if (ipv6_addr_v4mapped(a))
		ip_eth_mc_map(a->s6_addr32[3], mac);
	else
		ipv6_eth_mc_map(a, mac);
}

/*
 * Make the netdev a member of @g's group at the IP layer; mcg_mutex held.
 * A netdev without IPv4 (or IPv6) configuration cannot receive the group
 * anyway: nothing is joined then, and the attach still succeeds, as it
 * does on the stock driver.
 */
static void rxe_mcg_ip_join(struct rxe_dev *rdev, struct rxe_mcg *g)
{
	const struct in6_addr *a = (const struct in6_addr *)g->mgid.raw;
	struct in_device *in_dev;

	rtnl_lock();
	if (ipv6_addr_v4mapped(a)) {
		in_dev = __in_dev_get_rtnl(rdev->ndev);
		if (in_dev) {
			ip_mc_inc_group(in_dev, a->s6_addr32[3]);
			g->ip_joined = true;
		}
	} else if (IS_ENABLED(CONFIG_IPV6)) {
		g->ip_joined = !ipv6_dev_mc_inc(rdev->ndev, a);
	}
	rtnl_unlock();
}

/* Undo rxe_mcg_ip_join(); mcg_mutex held. */
static void rxe_mcg_ip_leave(struct rxe_dev *rdev, struct rxe_mcg *g)
{
	const struct in6_addr *a = (const struct in6_addr *)g->mgid.raw;
	struct in_device *in_dev;

	if (!g->ip_joined)
		return;
	rtnl_lock();
	if (ipv6_addr_v4mapped(a)) {
		/* Gone with the netdev's IPv4 setup: its groups went too. */
		in_dev = __in_dev_get_rtnl(rdev->ndev);
		if (in_dev)
			ip_mc_dec_group(in_dev, a->s6_addr32[3]);
	} else if (IS_ENABLED(CONFIG_IPV6)) {
		ipv6_dev_mc_dec(rdev->ndev, a);
	}
	rtnl_unlock();
	g->ip_joined = false;
}

/* Find a group; mcg_lock or mcg_mutex held. */
static struct rxe_mcg *rxe_mcg_find(struct rxe_dev *rdev,
				    const union ib_gid *mgid)
{
	struct rb_node *n = rdev->mcg_tree.rb_node;
	struct rxe_mcg *g;
	int c;

	while (n) {
		g = rb_entry(n, struct rxe_mcg, node);
		c = memcmp(mgid->raw, g->mgid.raw, sizeof(mgid->raw));
		if (!c)
			return g;
		n = c < 0 ? n->rb_left : n->rb_right;
	}
	return NULL;
}

/* Insert a new group; both locks held. */
static void rxe_mcg_insert(struct rxe_dev *rdev, struct rxe_mcg *new)
{
	struct rb_node **p = &rdev->mcg_tree.rb_node, *parent = NULL;
	struct rxe_mcg *g;

	while (*p) {
		parent = *p;
		g = rb_entry(parent, struct rxe_mcg, node);
		if (memcmp(new->mgid.raw, g->mgid.raw, sizeof(g->mgid.raw)) < 0)
			p = &parent->rb_left;
		else
			p = &parent->rb_right;
	}
	rb_link_node(&new->node, parent, p);
	rb_insert_color(&new->node, &rdev->mcg_tree);
}

static int rxe_attach_mcast(struct ib_qp *ibqp, union ib_gid *mgid, u16 lid)
{
	struct rxe_dev *rdev = to_rdev(ibqp->device);
	struct rxe_qp *qp = to_rqp(ibqp);
	struct rxe_mcg *g, *new_g = NULL;
	struct rxe_mca *a, *mca;
	unsigned long flags;
	int err = 0;

	if (ibqp->qp_type != IB_QPT_UD)
		return -EOPNOTSUPP;
	if (!rxe_gid_is_mcast(mgid))
		return -EINVAL;

	mca = kzalloc(sizeof(*mca), GFP_KERNEL);
	if (!mca)
		return -ENOMEM;

	mutex_lock(&rdev->mcg_mutex);
	g = rxe_mcg_find(rdev, mgid);
	if (g) {
		list_for_each_entry(a, &g->members, group_entry)
			if (a->qp == qp)
				goto out;	/* already a member: no-op */
		if (g->nmembers >= rdev->attr.max_mcast_qp_attach) {
			err = -ENOMEM;
			goto out;
		}
	} else {
		if (rdev->nmcg >= rdev->attr.max_mcast_grp) {
			err = -ENOMEM;
			goto out;
		}
		new_g = kzalloc(sizeof(*new_g), GFP_KERNEL);
		if (!new_g) {
			err = -ENOMEM;
			goto out;
		}
		new_g->mgid = *mgid;
		INIT_LIST_HEAD(&new_g->members);
		rxe_mgid_to_mac(mgid, new_g->mac);
		err = dev_mc_add(rdev->ndev, new_g->mac);
		if (err) {
			kfree(new_g);
			goto out;
		}
		g = new_g;
	}
	if (rdev->nmcast_attach >= rdev->attr.max_total_mcast_qp_attach) {
		err = -ENOMEM;
		if (new_g) {
			dev_mc_del(rdev->ndev, new_g->mac);
			kfree(new_g);
		}
		goto out;
	}
	if (new_g)
		rxe_mcg_ip_join(rdev, new_g);

	mca->qp = qp;
	mca->mcg = g;
	spin_lock_irqsave(&rdev->mcg_lock, flags);
	if (new_g) {
		rxe_mcg_insert(rdev, new_g);
		rdev->nmcg++;
	}
	list_add_tail(&mca->group_entry, &g->members);
	list_add_tail(&mca->qp_entry, &qp->mcast);
	g->nmembers++;
	rdev->nmcast_attach++;
	spin_unlock_irqrestore(&rdev->mcg_lock, flags);
	mca = NULL;
out:
	mutex_unlock(&rdev->mcg_mutex);
	kfree(mca);
	return err;
}

/* Remove one membership; mcg_mutex held. */
static void rxe_mca_remove(struct rxe_dev *rdev, struct rxe_mca *mca)
{
	struct rxe_mcg *g = mca->mcg;
	unsigned long flags;
	bool empty;

	spin_lock_irqsave(&rdev->mcg_lock, flags);
	list_del(&mca->group_entry);
	list_del(&mca->qp_entry);
	g->nmembers--;
	rdev->nmcast_attach--;
	empty = !g->nmembers;
	if (empty) {
		rb_erase(&g->node, &rdev->mcg_tree);
		rdev->nmcg--;
	}
	spin_unlock_irqrestore(&rdev->mcg_lock, flags);

	if (empty) {
		rxe_mcg_ip_leave(rdev, g);
		dev_mc_del(rdev->ndev, g->mac);
		kfree(g);
	}
	kfree(mca);
}

static int rxe_detach_mcast(struct ib_qp *ibqp, union ib_gid *mgid, u16 lid)
{
	struct rxe_dev *rdev = to_rdev(ibqp->device);
	struct rxe_qp *qp = to_rqp(ibqp);
	struct rxe_mca *a;
	int err = -EINVAL;

	mutex_lock(&rdev->mcg_mutex);
	list_for_each_entry(a, &qp->mcast, qp_entry) {
		if (!memcmp(a->mcg->mgid.raw, mgid->raw, sizeof(mgid->raw))) {
			rxe_mca_remove(rdev, a);
			err = 0;
			break;
		}
	}
	mutex_unlock(&rdev->mcg_mutex);
	return err;
}

/**
 * rxe_mcast_detach_all() - detach a QP that is being destroyed
 * @qp: the QP
 */
void rxe_mcast_detach_all(struct rxe_qp *qp)
{
	struct rxe_dev *rdev = to_rdev(qp->ibqp.device);
	struct rxe_mca *a, *tmp;

	mutex_lock(&rdev->mcg_mutex);
	list_for_each_entry_safe(a, tmp, &qp->mcast, qp_entry)
		rxe_mca_remove(rdev, a);
	mutex_unlock(&rdev->mcg_mutex);
}

/**
 * rxe_mcast_get_qps() - the QPs attached to a group, referenced
 * @rdev: device
 * @mgid: the group
 * @qps: array to fill
 * @max: its size
 *
 * Safe from any context.  The caller drops each reference with
 * rxe_qp_put().
 *
 * Return: the number of QPs stored.
 */
int rxe_mcast_get_qps(struct rxe_dev *rdev, const union ib_gid *mgid,
		      struct rxe_qp **qps, int max)
{
	struct rxe_mcg *g;
	struct rxe_mca *a;
	unsigned long flags;
	int n = 0;

	spin_lock_irqsave(&rdev->mcg_lock, flags);
	g = rxe_mcg_find(rdev, mgid);
	if (g) {
		list_for_each_entry(a, &g->members, group_entry) {
			if (n == max)
				break;
			if (kref_get_unless_zero(&a->qp->ref))
				qps[n++] = a->qp;
		}
	}
	spin_unlock_irqrestore(&rdev->mcg_lock, flags);
	return n;
}

const struct ib_device_ops rxe_mcast_ops = {
	.attach_mcast = rxe_attach_mcast,
	.detach_mcast = rxe_detach_mcast,
};
