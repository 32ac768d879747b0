// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rxe-odp: validation and demultiplexing of received packets.
 *
 * Runs in whatever context the packet arrived in: softirq for packets from
 * the network (the UDP hook), the sender's work item for loopback.  It
 * reads only the packet and the QP's state, never consumer memory, and
 * ends by queueing the skb to its QP and kicking the QP's work.  Every
 * packet that is dropped is counted under the reason (rxe_counters.c).
 */
#include <linux/skbuff.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_cache.h>

#include "rxe.h"
#include "rxe_wire.h"

/* Most QPs one multicast packet is delivered to. */
#define RXE_MCAST_FANOUT	RXE_MAX_MCAST_QP_ATTACH

/* The destination GID of a packet, from its IP header. */
static void rxe_pkt_dgid(struct sk_buff *skb, union ib_gid *dgid)
{
	if (rxe_pkt(skb)->ipv6)
		memcpy(dgid->raw, &ipv6_hdr(skb)->daddr, sizeof(dgid->raw));
	else
		ipv6_addr_set_v4mapped(ip_hdr(skb)->daddr,
				       (struct in6_addr *)dgid->raw);
}

static bool rxe_dgid_is_ours(struct rxe_dev *rdev, const union ib_gid *dgid)
{
	const struct ib_gid_attr *attr;

	attr = rdma_find_gid_by_port(&rdev->ib_dev, dgid,
				     IB_GID_TYPE_ROCE_UDP_ENCAP, 1, NULL);
	if (IS_ERR(attr))
		return false;
	rdma_put_gid_attr(attr);
	return true;
}

/* P_Key rule of the IBA: same partition, at least one full member. */
static bool rxe_pkey_ok(u16 pkey)
{
	return (pkey & 0x7fff) == (RXE_DEFAULT_PKEY & 0x7fff) &&
	       ((pkey | RXE_DEFAULT_PKEY) & 0x8000);
}

static bool rxe_class_ok(struct rxe_qp *qp, u8 opcode)
{
	switch (qp->ibqp.qp_type) {
	case IB_QPT_RC:
		return (opcode & RXE_OP_CLASS_MASK) == RXE_OP_CLASS_RC;
	case IB_QPT_UC:
		return (opcode & RXE_OP_CLASS_MASK) == RXE_OP_CLASS_UC;
	case IB_QPT_UD:
	case IB_QPT_GSI:
		return (opcode & RXE_OP_CLASS_MASK) == RXE_OP_CLASS_UD;
	default:
		return false;
	}
}

/*
 * Loopback back-pressure: tell the sending QP (NULL: from the wire) that
 * @qp's queue is long.  Runs inside the sender's rxe_net_xmit(), under its
 * run_mutex.
 */
static void rxe_rcv_sender_busy(struct rxe_qp *sender, struct rxe_qp *qp)
{
	if (sender)
		sender->xmit_busy |= sender == qp ? RXE_XMIT_BUSY_SELF :
						   RXE_XMIT_BUSY_PEER;
}

/*
 * A connected (RC/UC) QP takes packets only from its peer: IP source and
 * destination must be the addresses of its path (qp->av), as on stock.
 * Otherwise anyone who can reach UDP port 4791 and guess a QPN could
 * inject requests or acknowledge, NAK or fail the QP's sends.  With
 * qp->state_lock held (modify_qp writes qp->av under it).
 */
static bool rxe_rcv_addr_ok(const struct rxe_qp *qp, struct sk_buff *skb,
			    bool ipv6)
{
	const struct rxe_av *av = &qp->av;
	const struct ipv6hdr *ip6;
	const struct iphdr *ip4;

	if (ipv6) {
		ip6 = ipv6_hdr(skb);
		return av->network_type == RXE_NETWORK_TYPE_IPV6 &&
		       ipv6_addr_equal(&ip6->saddr,
				       &av->dgid_addr._sockaddr_in6.sin6_addr) &&
		       ipv6_addr_equal(&ip6->daddr,
				       &av->sgid_addr._sockaddr_in6.sin6_addr);
	}
	ip4 = ip_hdr(skb);
	return av->network_type == RXE_NETWORK_TYPE_IPV4 &&
	       ip4->saddr == av->dgid_addr._sockaddr_in.sin_addr.s_addr &&
	       ip4->daddr == av->sgid_addr._sockaddr_in.sin_addr.s_addr;
}

/*
 * Checks that depend on the QP; queue the packet if they pass.  Consumes
 * @skb either way.
 */
static void rxe_rcv_qp(struct rxe_dev *rdev, struct rxe_qp *qp,
		       struct sk_buff *skb)
{
	struct rxe_pkt *pkt = rxe_pkt(skb);
	u32 flags = rxe_op_flags(pkt->opcode);
	struct sk_buff_head *queue;
	struct rxe_qp *sender = pkt->sender;
	struct rxe_chain *chain;
	enum ib_qp_state state;
	unsigned long irqf;
	bool addr_ok = true;
	u32 qkey;
	const u8 *deth;

	if (!rxe_class_ok(qp, pkt->opcode)) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_STATE);
		goto drop;
	}
	spin_lock_irqsave(&qp->state_lock, irqf);
	state = qp->attr.qp_state;
	qkey = qp->attr.qkey;
	/* Before RTR there is no path yet; the state check drops those. */
	if ((qp->ibqp.qp_type == IB_QPT_RC || qp->ibqp.qp_type == IB_QPT_UC) &&
	    state >= IB_QPS_RTR)
		addr_ok = rxe_rcv_addr_ok(qp, skb, pkt->ipv6);
	spin_unlock_irqrestore(&qp->state_lock, irqf);
	if (!addr_ok) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_ADDR);
		goto drop;
	}

	if (flags & RXE_OPF_REQ) {
		if (state < IB_QPS_RTR || state == IB_QPS_ERR) {
			rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_STATE);
			goto drop;
		}
	} else if (state < IB_QPS_RTS || state == IB_QPS_ERR) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_STATE);
		goto drop;
	}
	if (flags & RXE_OPF_DETH) {
		deth = skb->data + rxe_op_hdr_off(pkt->opcode, RXE_HDR_DETH);
		if (qp->ibqp.qp_type == IB_QPT_GSI)
			qkey = RXE_GSI_QKEY;
		if (rxe_deth_qkey(deth) != qkey) {
			rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_KEY);
			goto drop;
		}
	}

	queue = (flags & RXE_OPF_REQ) ? &qp->req_pkts : &qp->resp_pkts;
	if (skb_queue_len(queue) >= RXE_MAX_QUEUED_PKTS) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_QUEUE_FULL);
		rxe_rcv_sender_busy(sender, qp);
		goto drop;
	}
	rxe_counter_inc(rdev, RXE_CNT_RCVD_PKTS);
	/*
	 * The chain lives on a doorbell's stack and the sender may go away:
	 * neither stays in the skb.  The sender is inside its rxe_net_xmit()
	 * (this is its thread), so its xmit_busy needs no lock.
	 */
	chain = pkt->chain;
	pkt->chain = NULL;
	pkt->sender = NULL;
	skb_queue_tail(queue, skb);
	if (skb_queue_len(queue) >= RXE_LOOPBACK_BUSY_PKTS)
		rxe_rcv_sender_busy(sender, qp);
	/*
	 * Stock's ack_deferred counts responses its completer left to the
	 * tasklet; ours, those left to the QP's work: every response from
	 * the wire and every loopback one sent outside a doorbell's chain.
	 */
	if (!(flags & RXE_OPF_REQ) && !chain)
		rxe_counter_inc(rdev, RXE_CNT_ACK_DEFERRED);
	rxe_qp_kick_chained(qp, chain);
	return;

drop:
	kfree_skb(skb);
}

static void rxe_rcv_mcast(struct rxe_dev *rdev, struct sk_buff *skb,
			  const union ib_gid *dgid)
{
	struct rxe_qp **qps;
	struct sk_buff *copy;
	int n, i;

	/* No memory for the fan-out: dropped as by a full receive buffer. */
	qps = kmalloc_array(RXE_MCAST_FANOUT, sizeof(*qps), GFP_ATOMIC);
	if (!qps) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_QUEUE_FULL);
		kfree_skb(skb);
		return;
	}
	n = rxe_mcast_get_qps(rdev, dgid, qps, RXE_MCAST_FANOUT);
	if (!n)
		rxe_counter_inc(rdev, RXE_CNT_RCVD_NO_QP);
	for (i = 0; i < n; i++) {
		/* The last member gets the original. */
		copy = i + 1 < n ? skb_clone(skb, GFP_ATOMIC) : skb;
		if (copy)
			rxe_rcv_qp(rdev, qps[i], copy);
		else
			rxe_counter_inc(rdev, RXE_CNT_RCVD_QUEUE_FULL);
		rxe_qp_put(qps[i]);
	}
	if (!n)
		kfree_skb(skb);
	kfree(qps);
}

/**
 * rxe_rcv() - validate a received RoCEv2 packet and queue it to its QP
 * @rdev: the device it arrived on
 * @skb: the packet; data at the BTH, network and transport headers set,
 *	rxe_pkt(skb)->ipv6 and ->loopback filled in.  Consumed.
 *
 * Context: any (softirq from the network, process for loopback).
 */
void rxe_rcv(struct rxe_dev *rdev, struct sk_buff *skb)
{
	struct rxe_pkt *pkt = rxe_pkt(skb);
	const u8 *bth = skb->data;
	union ib_gid dgid;
	struct rxe_qp *qp;
	bool mcast;
	int paylen;

	paylen = rxe_wire_payload_len(bth, skb->len);
	/* The ICRC covers a 20-byte IPv4 header: no options on RoCEv2. */
	if (paylen < 0 || (!pkt->ipv6 && ip_hdr(skb)->ihl != 5)) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_HDR);
		goto drop;
	}
	if (!rxe_icrc_check(skb_network_header(skb), pkt->ipv6,
			    skb_transport_header(skb), bth, skb->len)) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_ICRC);
		goto drop;
	}
	if (!rxe_pkey_ok(rxe_bth_pkey(bth))) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_KEY);
		goto drop;
	}
	pkt->opcode = rxe_bth_opcode(bth);
	pkt->qpn = rxe_bth_qpn(bth);
	pkt->psn = rxe_bth_psn(bth);
	pkt->paylen = paylen;

	rxe_pkt_dgid(skb, &dgid);
	mcast = rdma_is_multicast_addr((struct in6_addr *)dgid.raw);
	if (!mcast && !pkt->loopback && !rxe_dgid_is_ours(rdev, &dgid)) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_DGID);
		goto drop;
	}

	if (pkt->qpn == RXE_MCAST_QPN) {
		if (!mcast ||
		    (pkt->opcode & RXE_OP_CLASS_MASK) != RXE_OP_CLASS_UD) {
			rxe_counter_inc(rdev, RXE_CNT_RCVD_BAD_HDR);
			goto drop;
		}
		rxe_rcv_mcast(rdev, skb, &dgid);
		return;
	}
	qp = pkt->qpn ? rxe_qp_get(rdev, pkt->qpn) : NULL;
	if (!qp) {
		rxe_counter_inc(rdev, RXE_CNT_RCVD_NO_QP);
		goto drop;
	}
	rxe_rcv_qp(rdev, qp, skb);
	rxe_qp_put(qp);
	return;

drop:
	kfree_skb(skb);
}
