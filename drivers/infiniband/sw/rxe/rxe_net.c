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
#include <linux/skbuff.h>
#include <net/udp_tunnel.h>

#include "rxe.h"

/*
 * The sockets.  Written only at module init and exit, when no packet can
 * be in flight through them (setup_udp_tunnel_sock() publishes the hook,
 * udp_tunnel_sock_release() synchronises with readers).
 */
static struct socket *rxe_sock4;
static struct socket *rxe_sock6;

/* Packets that reached a socket but that nothing consumed. */
static atomic64_t rxe_rx_unclaimed = ATOMIC64_INIT(0);

static int rxe_udp_encap_recv(struct sock *sk, struct sk_buff *skb)
{
	/* No transport is attached yet: account and drop. */
	atomic64_inc(&rxe_rx_unclaimed);
	kfree_skb(skb);
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
