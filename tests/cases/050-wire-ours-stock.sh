#!/bin/bash
# Over the wire against the stock rdma_rxe: guest a runs ours, guest b the
# in-tree driver.  UD and RC pingpong with payload validation (-c), each
# in both directions (ours as client, then ours as server), over IPv4.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 300
. "$TESTS/lib/guest-lib.sh"

# Ours also asserts ack_deferred: ACKs from the wire are handed to the
# QP's work (no doorbell chain carries them).
if [ "$RXE_IMPL" = ours ]; then tap_plan 9; else tap_plan 8; fi
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
g=$(wait_gid "$MY_IP" 50 && gid_index "$MY_IP")
tap_check "IPv4 RoCE v2 GID present (index ${g:-none})" test -n "$g"
hc=$RXE_PORT_SYSFS/hw_counters

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
if [ "$RXE_IMPL" = ours ]; then
	tap_check "ours: ACKs from the wire went to the QP's work (ack_deferred $(cat $hc/ack_deferred))" \
		test "$(cat $hc/ack_deferred)" -ge 100
fi
peer_sync end "$RXE_IMPL" >/dev/null
tap_done
