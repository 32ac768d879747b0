#!/bin/bash
# IPv6 in one guest: RC and UD pingpong (payload validated with -c) on the
# IPv6 global GID and on the link-local GID, and rping -V over both
# addresses.  Packets carry IPv6 headers end to end inside the driver
# (ICRC computed and checked with the IPv6 masks), no errors counted.
# topology: one
# impl: ours
# timeout: 600
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"

tap_plan 10
tap_check "load our rdma_rxe" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
LL=$(link_local)
tap_check "RoCE v2 GIDs for $MY_IP6 and $LL" eval 'wait_gid "$MY_IP6" && wait_gid "$LL"'
G6=$(gid_index "$MY_IP6") GLL=$(gid_index "$LL")
tap_diag "GID index $G6 = $MY_IP6, $GLL = $LL"
rcvd0=$(hwc rcvd_pkts)

port=18760
for g in "$G6:global" "$GLL:link-local"; do
	i=${g%%:*} what=${g#*:} port=$((port + 2))
	tap_check "ibv_rc_pingpong IPv6 $what (GID $i), 8 KiB in 1 KiB packets x 100, -c" \
		local_pair rc6-$what tcp:$port ibv_rc_pingpong -d rxe0 -g "$i" -s 8192 -m 1024 -n 100 -p $port -c -- \
		ibv_rc_pingpong -d rxe0 -g "$i" -s 8192 -m 1024 -n 100 -p $port -c "$MY_IP"
	tap_check "ibv_ud_pingpong IPv6 $what (GID $i), 1000 B x 100, -c" \
		local_pair ud6-$what tcp:$((port + 1)) ibv_ud_pingpong -d rxe0 -g "$i" -s 1000 -n 100 -p $((port + 1)) -c -- \
		ibv_ud_pingpong -d rxe0 -g "$i" -s 1000 -n 100 -p $((port + 1)) -c "$MY_IP"
done
tap_check "rping -V over $MY_IP6, 30 x 3000 B" \
	local_pair rping6 cm rping -s -a "$MY_IP6" -p 7491 -V -C 30 -S 3000 -- \
	rping -c -a "$MY_IP6" -p 7491 -V -C 30 -S 3000
tap_check "rping -V over $LL%$IFACE, 30 x 3000 B" \
	local_pair rpingll cm rping -s -a "$LL%$IFACE" -p 7492 -V -C 30 -S 3000 -- \
	rping -c -a "$LL%$IFACE" -p 7492 -V -C 30 -S 3000
tap_check "traffic counted, no ICRC/header/GID errors (hw_counters)" \
	sh -c "echo '$(hwc_all)'; [ $(hwc rcvd_pkts) -gt $((rcvd0 + 1000)) ] && [ $(($(hwc rcvd_bad_hdr) + $(hwc rcvd_bad_icrc) + $(hwc rcvd_bad_dgid))) -eq 0 ]"
tap_done
