#!/bin/bash
# IPv6 on the wire between our driver (guest a) and the in-tree rdma_rxe
# (guest b): RC and UD pingpong (payload validated with -c) on the global
# and the link-local GIDs and rping -V over IPv6, each with the server on
# either side.  Then the ICRC masks: both guests rewrite the fields RoCEv2
# leaves out of the ICRC (IPv6 traffic class, flow label, hop limit; IPv4
# TOS and TTL, header checksum fixed up) on every RoCE packet they send
# (tc flower + pedit), and RC traffic in both directions must still pass
# without an ICRC error; finally guest b rewrites a covered field (the UDP
# source port) and our side must drop those packets as bad ICRC.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 1200
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"

tap_plan 21
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
LL=$(link_local)
tap_check "RoCE v2 GIDs for $MY_IP, $MY_IP6 and $LL" \
	eval 'wait_gid "$MY_IP" && wait_gid "$MY_IP6" && wait_gid "$LL"'
G4=$(gid_index "$MY_IP") G6=$(gid_index "$MY_IP6") GLL=$(gid_index "$LL")
tap_diag "GID index $G4 = $MY_IP, $G6 = $MY_IP6, $GLL = $LL"
PEER_LL=$(peer_sync ll "$LL" 200)
tap_check "peer ready (its link-local address: ${PEER_LL:-none})" test -n "$PEER_LL"
A=10.0.0.1 B=10.0.0.2
srv_ip() { if [ "$1" = a ]; then echo $A; else echo $B; fi; }
srv_ip6() {
	if [ "$1" = a ]; then echo fd00::1; else echo fd00::2; fi
}

port=18800
for s in a b; do
	ip=$(srv_ip $s)
	for g in "$G6:global" "$GLL:link-local"; do
		i=${g%%:*} what=${g#*:} port=$((port + 2))
		tap_check "RC pingpong IPv6 $what, server $s, 8 KiB in 1 KiB packets x 100, -c" \
			peer_pair rc6-$what-$s $s tcp:$port ibv_rc_pingpong -d rxe0 -g "$i" -s 8192 -m 1024 -n 100 -p $port -c -- \
			ibv_rc_pingpong -d rxe0 -g "$i" -s 8192 -m 1024 -n 100 -p $port -c "$ip"
		tap_check "UD pingpong IPv6 $what, server $s, 1000 B x 100, -c" \
			peer_pair ud6-$what-$s $s tcp:$((port + 1)) ibv_ud_pingpong -d rxe0 -g "$i" -s 1000 -n 100 -p $((port + 1)) -c -- \
			ibv_ud_pingpong -d rxe0 -g "$i" -s 1000 -n 100 -p $((port + 1)) -c "$ip"
	done
	ip6=$(srv_ip6 $s)
	tap_check "rping -V over IPv6, server $s ($ip6), 50 x 3000 B" \
		peer_pair rping6-$s $s cm rping -s -a "$ip6" -p 7501 -V -C 50 -S 3000 -- \
		rping -c -a "$ip6" -p 7501 -V -C 50 -S 3000
done

# mangle masked|sport|off: rewrite fields of the RoCE packets this guest sends.
mangle() {
	tc qdisc del dev "$IFACE" clsact 2>/dev/null
	[ "$1" = off ] && return 0
	modprobe -a sch_ingress cls_flower act_pedit act_csum || return 1
	tc qdisc add dev "$IFACE" clsact || return 1
	if [ "$1" = masked ]; then
		tc filter add dev "$IFACE" egress protocol ipv6 flower ip_proto udp dst_port 4791 \
			action pedit ex munge ip6 traffic_class set 0xba \
			munge ip6 flow_lbl set 0x5a5a5 munge ip6 hoplimit set 17 || return 1
		tc filter add dev "$IFACE" egress protocol ip flower ip_proto udp dst_port 4791 \
			action pedit ex munge ip tos set 0xba munge ip ttl set 17 pipe \
			action csum ip4h || return 1
	else
		tc filter add dev "$IFACE" egress protocol ipv6 flower ip_proto udp dst_port 4791 \
			action pedit ex munge udp sport set 4242 || return 1
	fi
	tc filter show dev "$IFACE" egress
}
# mangled_pkts: packets the pedit actions rewrote so far.
mangled_pkts() {
	tc -s filter show dev "$IFACE" egress | awk '/Sent .* pkt/ { n += $4 } END { print n + 0 }'
}

tap_check "tc: rewrite traffic class, flow label, hop limit (IPv6), TOS, TTL (IPv4) on egress" mangle masked
bad0=$(hwc rcvd_bad_icrc)
for s in a b; do
	port=$((port + 2))
	tap_check "RC pingpong IPv6, masked fields rewritten, server $s, 8 KiB x 50, -c" \
		peer_pair rc6-mangled-$s $s tcp:$port ibv_rc_pingpong -d rxe0 -g "$G6" -s 8192 -m 1024 -n 50 -p $port -c -- \
		ibv_rc_pingpong -d rxe0 -g "$G6" -s 8192 -m 1024 -n 50 -p $port -c "$(srv_ip $s)"
done
port=$((port + 2))
tap_check "RC pingpong IPv4, masked fields rewritten, server a, 8 KiB x 50, -c" \
	peer_pair rc4-mangled a tcp:$port ibv_rc_pingpong -d rxe0 -g "$G4" -s 8192 -m 1024 -n 50 -p $port -c -- \
	ibv_rc_pingpong -d rxe0 -g "$G4" -s 8192 -m 1024 -n 50 -p $port -c "$A"
n=$(mangled_pkts)
tap_check "the rewrite hit RoCE packets ($n), no ICRC error counted here" \
	sh -c "echo 'rcvd_bad_icrc $bad0 -> $(hwc rcvd_bad_icrc)'; [ $n -ge 300 ] && [ $(hwc rcvd_bad_icrc) -eq $bad0 ]"

# A covered field: guest b rewrites the UDP source port; ours must refuse.
if [ "$ROLE" = b ]; then mode=sport; else mode=off; fi
tap_check "tc: guest b rewrites the UDP source port (covered by the ICRC)" mangle $mode
bad0=$(hwc rcvd_bad_icrc)
port=$((port + 2))
PAIR_TIMEOUT=$(tscale 25) peer_pair ud6-badicrc a tcp:$port ibv_ud_pingpong -d rxe0 -g "$G6" -s 500 -n 20 -p $port -- \
	ibv_ud_pingpong -d rxe0 -g "$G6" -s 500 -n 20 -p $port "$A" >/dev/null
if [ "$ROLE" = a ]; then
	tap_check "those packets fail our ICRC check (rcvd_bad_icrc $bad0 -> $(hwc rcvd_bad_icrc))" \
		test "$(hwc rcvd_bad_icrc)" -gt "$bad0"
else
	tap_check "rewrote packets ($(mangled_pkts))" test "$(mangled_pkts)" -gt 0
fi
mangle off
peer_sync end "$RXE_IMPL" 200 >/dev/null
tap_done
