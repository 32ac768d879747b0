// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: the RoCEv2 UDP sockets.
 *
 * One kernel UDP tunnel socket per address family, bound to port 4791 in
 * the initial network namespace, serves every rxe device: the receive hook
 * finds the device from the packet's ingress netdev.  The hook runs in
 * softirq context, so it may only validate, demultiplex and queue; the
 * transport that consumes packets runs in process context.
 */
#include <linux/debugfs.h>
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_cache.h>

#include "rxe.h"
#include "rxe_wire.h"

/*
 * The sockets.  Written only at module init and exit, when no packet can
 * be in flight through them (setup_udp_tunnel_sock() publishes the hook,
 * udp_tunnel_sock_release() synchronises with readers).
 */
static struct socket *rxe_sock4;
static struct socket *rxe_sock6;

/* Packets that reached a socket but that nothing consumed. */
static atomic64_t rxe_rx_unclaimed = ATOMIC64_INIT(0);

/*
 * The UDP receive hook, in softirq context.  Only finds the device,
 * linearises and hands over to rxe_rcv(), which validates and queues the
 * packet to its QP; no memory registered by a consumer is touched here.
 */
static int rxe_udp_encap_recv(struct sock *sk, struct sk_buff *skb)
{
	struct net_device *ndev = skb->dev;
	struct ib_device *ibdev;
	struct udphdr *uh;
	unsigned int ulen;

	if (ndev && is_vlan_dev(ndev))
		ndev = vlan_dev_real_dev(ndev);
	ibdev = ndev ? ib_device_get_by_netdev(ndev, RDMA_DRIVER_RXE) : NULL;
	if (!ibdev) {
		pr_debug("rx on %s: no rxe device\n", ndev ? ndev->name : "?");
		atomic64_inc(&rxe_rx_unclaimed);
		kfree_skb(skb);
		return 0;
	}
	if (skb_linearize(skb))
		goto bad;
	/* The UDP layer hands us the datagram starting at its header. */
	uh = udp_hdr(skb);
	ulen = ntohs(uh->len);
	if ((u8 *)uh != skb->data || ulen < sizeof(*uh) + RXE_BTH_BYTES ||
	    ulen > skb->len)
		goto bad;
	if (ulen < skb->len && pskb_trim(skb, ulen))
		goto bad;
	skb_pull(skb, sizeof(*uh));
	memset(rxe_pkt(skb), 0, sizeof(struct rxe_pkt));
	rxe_pkt(skb)->ipv6 = ip_hdr(skb)->version == 6;
	rxe_rcv(to_rdev(ibdev), skb);
	ib_device_put(ibdev);
	return 0;

bad:
	rxe_counter_inc(to_rdev(ibdev), RXE_CNT_RCVD_BAD_HDR);
	kfree_skb(skb);
	ib_device_put(ibdev);
	return 0;
}

static struct socket *rxe_sock_open(int family)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.encap_type = 1,
		.encap_rcv = rxe_udp_encap_recv,
	};
	struct udp_port_cfg ucfg = {
		.family = family,
		.local_udp_port = htons(RXE_ROCE_V2_PORT),
	};
	struct socket *sock;
	int err;

	if (family == AF_INET6) {
		/* RoCEv2 sends a zero UDP checksum over IPv6 too. */
		ucfg.ipv6_v6only = 1;
		ucfg.use_udp6_rx_checksums = 0;
		ucfg.use_udp6_tx_checksums = 0;
	}
	err = udp_sock_create(&init_net, &ucfg, &sock);
	if (err)
		return ERR_PTR(err);
	setup_udp_tunnel_sock(&init_net, sock, &tcfg);
	/*
	 * The tunnel setup turns IPv4 multicast loopback off (IPv6 keeps
	 * it).  A RoCE port delivers a multicast send to the QPs of its own
	 * host that are attached to the group as well, so loop it back: the
	 * IP layer copies a datagram for a group this host joined (see
	 * rxe_mcast.c) back to our receive hook.
	 */
	if (family == AF_INET)
		inet_sk(sock->sk)->mc_loop = 1;
	return sock;
}

/**
 * rxe_net_init() - open the RoCEv2 sockets
 *
 * IPv4 is required.  IPv6 is optional: a kernel booted with IPv6 disabled
 * still gets a working IPv4-only device.
 *
 * Return: 0 or a negative errno (e.g. -EADDRINUSE when another RoCE
 * driver, such as the in-tree rdma_rxe, already owns the port).
 */
int rxe_net_init(void)
{
	struct socket *sock;

	sock = rxe_sock_open(AF_INET);
	if (IS_ERR(sock)) {
		pr_err("cannot bind UDP port %d for IPv4 (%ld); is another RoCE driver (stock rdma_rxe?) loaded?\n",
		       RXE_ROCE_V2_PORT, PTR_ERR(sock));
		return PTR_ERR(sock);
	}
	rxe_sock4 = sock;

	if (IS_ENABLED(CONFIG_IPV6)) {
		sock = rxe_sock_open(AF_INET6);
		if (IS_ERR(sock)) {
			if (PTR_ERR(sock) != -EAFNOSUPPORT) {
				pr_err("cannot bind UDP port %d for IPv6 (%ld)\n",
				       RXE_ROCE_V2_PORT, PTR_ERR(sock));
				udp_tunnel_sock_release(rxe_sock4);
				rxe_sock4 = NULL;
				return PTR_ERR(sock);
			}
			pr_info("IPv6 is disabled; RoCEv2 over IPv4 only\n");
			sock = NULL;
		}
		rxe_sock6 = sock;
	}
	return 0;
}

/**
 * rxe_net_exit() - close the RoCEv2 sockets
 */
void rxe_net_exit(void)
{
	if (rxe_sock6) {
		udp_tunnel_sock_release(rxe_sock6);
		rxe_sock6 = NULL;
	}
	if (rxe_sock4) {
		udp_tunnel_sock_release(rxe_sock4);
		rxe_sock4 = NULL;
	}
}

/* Room in front of the BTH: link layer, the larger IP header, UDP. */
static unsigned int rxe_net_headroom(struct rxe_dev *rdev)
{
	return LL_RESERVED_SPACE(rdev->ndev) + sizeof(struct ipv6hdr) +
	       sizeof(struct udphdr);
}

/**
 * rxe_net_alloc_skb() - a packet buffer for the transport to fill
 * @rdev: device
 * @av: the destination (unused for now; the headroom fits both families)
 * @len: bytes from the BTH up to the ICRC (headers, payload and pad)
 *
 * skb->data points at the BTH and @len bytes are put; the room for the
 * IP and UDP headers in front and the ICRC behind is reserved.
 *
 * Context: process (the QP's transport: its work or a user doorbell).
 * Return: the skb, or NULL.
 */
struct sk_buff *rxe_net_alloc_skb(struct rxe_dev *rdev,
				  const struct rxe_av *av, unsigned int len)
{
	unsigned int head = rxe_net_headroom(rdev);
	struct sk_buff *skb;

	skb = alloc_skb(head + len + RXE_ICRC_BYTES, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, head);
	skb_put(skb, len);
	return skb;
}

/* Is @av's destination this device itself? */
static bool rxe_net_is_local(struct rxe_dev *rdev, const struct rxe_av *av)
{
	const struct ib_gid_attr *attr;
	union ib_gid dgid;

	if (ether_addr_equal(av->dmac, rdev->ndev->dev_addr))
		return true;
	if (!is_zero_ether_addr(av->dmac))
		return false;
	/* No MAC resolved (e.g. an inline AV): ask the GID table. */
	memcpy(dgid.raw, av->grh.dgid.raw, sizeof(dgid.raw));
	attr = rdma_find_gid_by_port(&rdev->ib_dev, &dgid,
				     IB_GID_TYPE_ROCE_UDP_ENCAP, 1, NULL);
	if (IS_ERR(attr))
		return false;
	rdma_put_gid_attr(attr);
	return true;
}

static struct dst_entry *rxe_route4(struct rxe_dev *rdev, __be32 saddr,
				    __be32 daddr, u8 tos)
{
	struct flowi4 fl = {
		.flowi4_oif = rdev->ndev->ifindex,
		.flowi4_proto = IPPROTO_UDP,
		.flowi4_tos = RT_TOS(tos),
		.saddr = saddr,
		.daddr = daddr,
	};
	struct rtable *rt;

	rt = ip_route_output_key(&init_net, &fl);
	if (IS_ERR(rt))
		return NULL;
	return &rt->dst;
}

static struct dst_entry *rxe_route6(struct rxe_dev *rdev,
				    const struct in6_addr *saddr,
				    const struct in6_addr *daddr)
{
	struct flowi6 fl = {
		.flowi6_oif = rdev->ndev->ifindex,
		.flowi6_proto = IPPROTO_UDP,
		.saddr = *saddr,
		.daddr = *daddr,
	};
	struct dst_entry *dst;

	if (!IS_ENABLED(CONFIG_IPV6) || !rxe_sock6)
		return NULL;
	dst = ipv6_stub->ipv6_dst_lookup_flow(&init_net, rxe_sock6->sk, &fl,
					      NULL);
	if (IS_ERR(dst))
		return NULL;
	return dst;
}

/*
 * Fault injection for tests: <debugfs>/rdma_rxe/xmit_drop_opcode = a BTH
 * opcode (0-255; anything larger, the default, is off) and xmit_drop_every
 * = N make every Nth packet of that opcode we send vanish, as a lossy link
 * would lose it (loopback included, where netem cannot reach);
 * xmit_dropped counts them.  Tests use it to lose, say, every third atomic
 * acknowledge and check that the duplicate is answered from the responder
 * resources, never executed twice.
 */
static u32 rxe_xmit_drop_opcode = 0x100;
static u32 rxe_xmit_drop_every;
static atomic_t rxe_xmit_drop_seen = ATOMIC_INIT(0);
static atomic_t rxe_xmit_dropped = ATOMIC_INIT(0);

static bool rxe_xmit_inject_drop(const u8 *bth)
{
	u32 n = READ_ONCE(rxe_xmit_drop_every);

	if (!n || rxe_bth_opcode(bth) != READ_ONCE(rxe_xmit_drop_opcode))
		return false;
	if ((u32)atomic_inc_return(&rxe_xmit_drop_seen) % n)
		return false;
	atomic_inc(&rxe_xmit_dropped);
	return true;
}

/**
 * rxe_net_debugfs_init() - add the transmit test knobs
 * @root: <debugfs>/rdma_rxe
 */
void rxe_net_debugfs_init(struct dentry *root)
{
	debugfs_create_u32("xmit_drop_opcode", 0600, root,
			   &rxe_xmit_drop_opcode);
	debugfs_create_u32("xmit_drop_every", 0600, root, &rxe_xmit_drop_every);
	debugfs_create_atomic_t("xmit_dropped", 0400, root, &rxe_xmit_dropped);
}

/**
 * rxe_net_xmit() - put IP/UDP headers and the ICRC on a packet and send it
 * @rdev: device
 * @qp: the sending QP (UDP source port)
 * @av: the destination
 * @skb: from rxe_net_alloc_skb(), BTH through pad filled in; consumed
 *
 * A packet for one of our own GIDs is handed to our receive path without
 * touching the network (loopback); that runs the receive checks and queues
 * it to the destination QP, whose transport then runs on its own: in its
 * work, or inline after the sender's if a user doorbell runs the sender
 * (struct rxe_chain).
 *
 * Context: process (the QP's transport: its work or a user doorbell).
 * Return: 0, or a negative errno when the packet could not be sent (it is
 * freed either way).
 */
int rxe_net_xmit(struct rxe_dev *rdev, struct rxe_qp *qp,
		 const struct rxe_av *av, struct sk_buff *skb)
{
	bool ipv6 = av->network_type == RXE_NETWORK_TYPE_IPV6;
	bool local = rxe_net_is_local(rdev, av);
	struct dst_entry *dst = NULL;
	unsigned int covered = skb->len;
	struct udphdr *uh;
	void *bth = skb->data;
	u32 icrc;
	int err;

	if (!ipv6 && av->network_type != RXE_NETWORK_TYPE_IPV4) {
		err = -EINVAL;
		goto drop;
	}
	/*
	 * Built by a part that was going when modify_qp moved the QP to
	 * RESET: a packet of the old connection, which a reset NIC does not
	 * send (the QP may be connected again by now).
	 */
	if (unlikely(rxe_qp_resetting(qp))) {
		pr_debug("qp#%u reset: packet of the old connection dropped\n",
			 qp->ibqp.qp_num);
		kfree_skb(skb);
		return 0;
	}
	pr_debug("qp#%u xmit %s len %u dmac %pM\n", qp->ibqp.qp_num,
		 local ? "loopback" : "wire", skb->len, av->dmac);
	if (unlikely(rxe_xmit_inject_drop(bth))) {
		kfree_skb(skb);
		return 0;
	}
	if (!local) {
		if (ipv6)
			dst = rxe_route6(rdev, &av->sgid_addr._sockaddr_in6.sin6_addr,
					 &av->dgid_addr._sockaddr_in6.sin6_addr);
		else
			dst = rxe_route4(rdev,
					 av->sgid_addr._sockaddr_in.sin_addr.s_addr,
					 av->dgid_addr._sockaddr_in.sin_addr.s_addr,
					 av->grh.traffic_class);
		if (!dst) {
			err = -EHOSTUNREACH;
			goto drop;
		}
		skb_dst_set(skb, dst);
	}
	skb_put(skb, RXE_ICRC_BYTES);

	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = htons(READ_ONCE(qp->src_port));
	uh->dest = htons(RXE_ROCE_V2_PORT);
	uh->len = htons(skb->len);
	uh->check = 0;

	if (ipv6) {
		struct ipv6hdr *ip6 = skb_push(skb, sizeof(*ip6));

		skb_reset_network_header(skb);
		ip6_flow_hdr(ip6, av->grh.traffic_class, 0);
		ip6->payload_len = htons(skb->len - sizeof(*ip6));
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = av->grh.hop_limit;
		ip6->saddr = av->sgid_addr._sockaddr_in6.sin6_addr;
		ip6->daddr = av->dgid_addr._sockaddr_in6.sin6_addr;
		skb->protocol = htons(ETH_P_IPV6);
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
	} else {
		struct iphdr *iph = skb_push(skb, sizeof(*iph));

		skb_reset_network_header(skb);
		iph->version = 4;
		iph->ihl = sizeof(*iph) / 4;
		iph->tos = av->grh.traffic_class;
		iph->tot_len = htons(skb->len);
		iph->frag_off = htons(IP_DF);
		iph->ttl = av->grh.hop_limit;
		iph->protocol = IPPROTO_UDP;
		iph->saddr = av->sgid_addr._sockaddr_in.sin_addr.s_addr;
		iph->daddr = av->dgid_addr._sockaddr_in.sin_addr.s_addr;
		__ip_select_ident(&init_net, iph, 1);
		ip_send_check(iph);
		skb->protocol = htons(ETH_P_IP);
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	}

	icrc = rxe_icrc_compute(skb_network_header(skb), ipv6, uh, bth,
				covered);
	rxe_icrc_put((u8 *)bth + covered, icrc);
	skb->ip_summed = CHECKSUM_NONE;

	if (local) {
		/* As the UDP layer would hand it over: data at the BTH. */
		skb->dev = rdev->ndev;
		skb_pull(skb, skb_transport_offset(skb) + sizeof(*uh));
		memset(rxe_pkt(skb), 0, sizeof(struct rxe_pkt));
		rxe_pkt(skb)->ipv6 = ipv6;
		rxe_pkt(skb)->loopback = true;
		/* We run in qp's transport, under its run_mutex. */
		rxe_pkt(skb)->chain = qp->chain;
		rxe_pkt(skb)->sender = qp;
		rxe_counter_inc(rdev, RXE_CNT_SENT_PKTS);
		rxe_rcv(rdev, skb);
		return 0;
	}

	if (ipv6)
		err = ip6_local_out(&init_net, rxe_sock6->sk, skb);
	else
		err = ip_local_out(&init_net, rxe_sock4->sk, skb);
	if (err < 0 || net_xmit_eval(err)) {
		rxe_counter_inc(rdev, RXE_CNT_SEND_ERR);
		return -EAGAIN;
	}
	rxe_counter_inc(rdev, RXE_CNT_SENT_PKTS);
	return 0;

drop:
	rxe_counter_inc(rdev, RXE_CNT_SEND_ERR);
	kfree_skb(skb);
	return err;
}
