#!/bin/bash
# Over the wire against the stock rdma_rxe: guest a runs ours, guest b the
# in-tree driver.  UD and RC pingpong with payload validation (-c), each
# in both directions (ours as client, then ours as server), over IPv4.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 300
. "$TESTS/lib/guest-lib.sh"

tap_plan 8
# GID index of our IPv4 address (v4-mapped, RoCE v2)
gidx() {
	local want i
	want=$(printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x\n' ${MY_IP//./ })
	for i in $(seq 0 31); do
		[ "$(cat "/sys/class/infiniband/rxe0/ports/1/gids/$i" 2>/dev/null)" = "$want" ] &&
			{ echo "$i"; return 0; }
	done
	return 1
}
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
for _ in $(seq 50); do g=$(gidx) && break; sleep 0.1; done
tap_check "IPv4 RoCE v2 GID present (index ${g:-none})" test -n "$g"
hc=/sys/class/infiniband/rxe0/ports/1/hw_counters

# pingpong SERVER_ROLE TOOL ARGS...: the guest whose ROLE is SERVER_ROLE
# listens; the other connects after the barrier.
pingpong() {
	local server=$1 tool=$2 rc
	shift 2
	if [ "$ROLE" = "$server" ]; then
		peer_sync "$tool-$server" listening >/dev/null
		timeout "$(tscale 90)" "$tool" -d rxe0 -g "$g" "$@"
	else
		peer_sync "$tool-$server" connecting >/dev/null
		sleep 2
		timeout "$(tscale 90)" "$tool" -d rxe0 -g "$g" "$@" "$PEER_IP"
	fi
	rc=$?
	peer_sync "$tool-$server-done" "$rc" >/dev/null
	return $rc
}
tap_check "UD pingpong, server b (stock), 1024 B x 100, validated" \
	pingpong b ibv_ud_pingpong -s 1024 -n 100 -p 18600 -c
tap_check "UD pingpong, server a (ours), 1024 B x 100, validated" \
	pingpong a ibv_ud_pingpong -s 1024 -n 100 -p 18601 -c
tap_check "RC pingpong, server b (stock), 8 KiB in 1 KiB packets x 100, validated" \
	pingpong b ibv_rc_pingpong -s 8192 -n 100 -m 1024 -p 18602 -c
tap_check "RC pingpong, server a (ours), 8 KiB in 1 KiB packets x 100, validated" \
	pingpong a ibv_rc_pingpong -s 8192 -n 100 -m 1024 -p 18603 -c
tap_check "packets were sent and received (hw_counters)" \
	sh -c "s=\$(cat $hc/sent_pkts) r=\$(cat $hc/rcvd_pkts); echo \"sent \$s rcvd \$r\"; [ \$s -ge 1000 ] && [ \$r -ge 1000 ]"
peer_sync end "$RXE_IMPL" >/dev/null
tap_done
