#!/bin/bash
# UD multicast on the wire between our driver (guest a) and the in-tree
# rdma_rxe (guest b).  rdma_cm multicast (mckey, IPv4) in both directions;
# plain verbs (userspace/mcast/mcast_ud): the receiving guest attaches three
# QPs with the group's Q_Key (RTR, RTS, RTS), one with another Q_Key and one
# left in INIT; the other guest sends 30 messages; each of the three must
# get every one intact, the other two nothing.  IPv4 and IPv6 groups.
# Ours joins the group at the IP layer on attach (so the IP stack lets the
# datagrams through); stock does not, so for the stock receiver a socket
# holds that membership instead.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 1200
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"

MCAST_UD=$REPO/userspace/mcast/mcast_ud
[ -x "$MCAST_UD" ] || tap_bail "$MCAST_UD is not built (make userspace)"

tap_plan 11
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GIDs for $MY_IP and $MY_IP6" eval 'wait_gid "$MY_IP" && wait_gid "$MY_IP6"'
G4=$(gid_index "$MY_IP") G6=$(gid_index "$MY_IP6")
tap_check "peer ready" peer_sync start "$RXE_IMPL" 200
# Ours counts a packet once per QP it is delivered to, stock once.
if [ "$RXE_IMPL" = stock ]; then rcv=rdma_recvs; else rcv=rcvd_pkts; fi
rcvd0=$(hwc $rcv)

for s in a b; do
	tap_check "mckey IPv4 239.6.7.10: receiver $s gets all 20" \
		peer_pair mckey-$s $s none mckey -m 239.6.7.10 -b "$MY_IP" -C 20 -S 500 -- \
		sh -c "sleep 8; mckey -m 239.6.7.10 -b $MY_IP -s -C 20 -S 500"
done

# ip_join GROUP: hold the IP-layer membership of GROUP on $IFACE (for the
# stock receiver) until killed; prints the holder's pid once the membership
# shows in "ip maddr" (python starts slowly on a loaded TCG guest, and a
# sender that began before the join lost its first datagrams in the IP
# layer: the CI flake of session 2).
ip_join() {
	python3 -c '
import socket, struct, sys, time
g, ifname = sys.argv[1], sys.argv[2]
idx = socket.if_nametoindex(ifname)
if ":" in g:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                 socket.inet_pton(socket.AF_INET6, g) + struct.pack("@I", idx))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 struct.pack("4s4si", socket.inet_aton(g), b"\0" * 4, idx))
time.sleep(3600)' "$1" "$IFACE" >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 1 120); do
		ip maddr show dev "$IFACE" | grep -qwF "$1" && break
		sleep 0.5
	done
	echo "$pid"
}

for r in a b; do
	for grp in 239.6.7.20 ff0e::6:7:20; do
		case $grp in *:*) g=$G6 ;; *) g=$G4 ;; esac
		holder=
		[ "$ROLE" = "$r" ] && [ "$RXE_IMPL" = stock ] && holder=$(ip_join "$grp")
		tap_check "mcast_ud $grp: receiver $r (3 QPs get 30 x 1000 B each; bad-Q_Key and INIT QPs none)" \
			peer_pair mcud-$r-$grp $r log:READY \
			"$MCAST_UD" -r -d rxe0 -g "$g" -m "$grp" -n 3 -b -i -c 30 -S 1000 -t 120 -- \
			"$MCAST_UD" -s -d rxe0 -g "$g" -m "$grp" -c 30 -S 1000 -p 20000
		[ -n "$holder" ] && kill "$holder"
	done
done
tap_check "multicast deliveries counted here ($rcv grew by >= 200)" \
	sh -c "echo '$(hwc_all)'; [ $(hwc $rcv) -ge $((rcvd0 + 200)) ]"
peer_sync end "$RXE_IMPL" 200 >/dev/null
tap_done
