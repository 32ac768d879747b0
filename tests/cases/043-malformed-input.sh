#!/bin/bash
# Malformed and hostile RoCEv2 packets against our receive path
# (userspace/rocev2-inject): one process holds a loopback RC pair a <-> b on
# rxe0's RoCE v2 GID for $MY_IP and sends hand-built UDP payloads (BTH ...
# ICRC) from a plain UDP socket to $MY_IP:4791.  A datagram to one of our
# own addresses travels over lo, where our receive hook (which finds the
# device from the ingress netdev) would drop it unseen, so lo's UDP/4791
# egress is redirected to $IFACE's ingress (tc clsact + flower + mirred),
# with accept_local on $IFACE for the local source address.  A second
# address, 10.99.99.99/32, is added to $IFACE for the packets that must come
# from the wrong place.  Per group, the exact change of every receive
# counter is asserted (dropped packets counted once, under their reason),
# then QP states and a real SEND a -> b, payload compared, in the receive
# posted before the bad packets:
#   1 unknown/reserved opcodes -> rcvd_bad_hdr
#   2 too short for the opcode's headers, pad, ICRC -> rcvd_bad_hdr
#   3 PadCnt beyond the payload, TVer != 0 -> rcvd_bad_hdr
#   4 bad ICRC (10 ways) -> rcvd_bad_icrc
#   5 QPNs that do not exist (0, 2, 0xf, 0xfffffe, one just destroyed)
#     -> rcvd_no_qp
#   6 wrong transport class for the QP, wrong QP state -> rcvd_bad_state;
#     wrong Q_Key, foreign P_Key -> rcvd_bad_key
#   7 SEND far ahead of b's PSN -> out_of_seq_request, one sequence NAK;
#     behind -> duplicate_request, re-ACKed, nothing delivered; ACK, NAKs,
#     ATOMIC ACK, READ response to a for PSNs a never sent while its SEND
#     is outstanding (lost by the fault injection) -> rcvd_unsent_psn,
#     the SEND not completed until its resend lands
#   8 WRITE with an R_Key that does not exist -> NAK remote access (seen on
#     a WRITE of a's that our transmit fault injection lost), b in ERR,
#     nothing written; reset and reconnect
#   9 READ with RETH length 0x80000001 -> NAK invalid request, exactly one
#     response packet, b in ERR (0x80000000 is legal: remote access error);
#     also on a 2 GiB + 1 MiB read-only ODP MR that covers it, in order and
#     as a duplicate: never streamed (a b that streams is reset and must
#     answer its new connection within 5 s)
#  10 from 10.99.99.99: a SEND to b, a NAK and an ACK to a -> dropped,
#     rcvd_bad_addr, nothing delivered or completed
#  11 3000 random datagrams (garbage, and valid ICRC with random fields at
#     b and a) -> each counted exactly once, the pair reconnected when in
#     ERR, a real SEND still works, and no kernel warning.
# Asserted on ours only: the drop counters are ours (stock 6.1 has none of
# them).  Groups 1-7 run on the stock rdma_rxe first, leniently (-k: its
# missing counters unchecked, no reset/reconnect, which makes stock warn on
# destroy), and their results are only shown as diagnostics.
# topology: one
# impl: none
# timeout: 480
. "$TESTS/lib/guest-lib.sh"

INJ=$REPO/userspace/rocev2-inject/rocev2-inject
OUT=$RESULTS/malformed-input
LOG=$OUT/ours.log
SPOOF=10.99.99.99
SYSC=/proc/sys/net/ipv4/conf
mkdir -p "$OUT"

TITLES=(""
	"unknown and reserved opcodes: rcvd_bad_hdr"
	"too short for the opcode's headers, pad and ICRC: rcvd_bad_hdr"
	"PadCnt beyond the payload, TVer != 0: rcvd_bad_hdr"
	"bad ICRC: rcvd_bad_icrc"
	"QPNs that do not exist: rcvd_no_qp"
	"wrong transport class or QP state: rcvd_bad_state; bad Q_Key/P_Key: rcvd_bad_key"
	"SEND far ahead (out_of_seq_request, one NAK) and behind (duplicate_request, nothing delivered); responses for unsent PSNs dropped (rcvd_unsent_psn)"
	"WRITE with a dead R_Key: NAK remote access, b in ERR, nothing written"
	"READ of 0x80000001 bytes (64 KiB MR; 2 GiB ODP MR, in order and duplicate): NAK invalid request, never streamed"
	"from another source address: SEND to b, NAK and ACK to a dropped (rcvd_bad_addr)"
	"storm of 3000 malformed datagrams: all accounted for, a real SEND still works")

tap_plan 21
[ -x "$INJ" ] || tap_bail "$INJ is not built (make userspace)"

# inject_path on|off: deliver what this guest sends to its own addresses on
# UDP 4791 to $IFACE's receive path, and give $IFACE the second address.
# (tap_check runs it in a subshell: the settings to restore are read here.)
read -r saved_al <"$SYSC/$IFACE/accept_local"
read -r saved_rp <"$SYSC/$IFACE/rp_filter"
read -r saved_rpall <"$SYSC/all/rp_filter"
inject_path() {
	tc qdisc del dev lo clsact 2>/dev/null
	ip addr del "$SPOOF/32" dev "$IFACE" 2>/dev/null
	if [ "$1" = off ]; then
		echo "$saved_al" >"$SYSC/$IFACE/accept_local"
		echo "$saved_rp" >"$SYSC/$IFACE/rp_filter"
		echo "$saved_rpall" >"$SYSC/all/rp_filter"
		return 0
	fi
	modprobe -a sch_ingress cls_flower act_mirred || return 1
	tc qdisc add dev lo clsact || return 1
	tc filter add dev lo egress protocol ip flower ip_proto udp dst_port 4791 \
		action mirred ingress redirect dev "$IFACE" || return 1
	# The packets come in on $IFACE with a source address of this host.
	echo 1 >"$SYSC/$IFACE/accept_local" || return 1
	echo 0 >"$SYSC/$IFACE/rp_filter" || return 1
	echo 0 >"$SYSC/all/rp_filter" || return 1
	ip addr add "$SPOOF/32" dev "$IFACE" || return 1
	tc filter show dev lo egress
}

# group_ok N: the lines of group N in the log; ok iff it passed.
group_ok() {
	sed -n "/^== group $1:/,/^group $1: /p" "$LOG"
	grep -qx "group $1: PASS" "$LOG"
}

# selfcheck_ok: the ICRC vectors and the preflight packet.
selfcheck_ok() {
	grep -E '^(ok|FAIL|skip): (ICRC self-check|preflight)|^FAIL' "$LOG" | head -n 12
	[ "$(grep -c '^ok: ICRC self-check' "$LOG")" = 3 ] && grep -q '^ok: preflight' "$LOG"
}

# dmesg_clean: none of the harness's bad patterns in the kernel log.
dmesg_clean() {
	local pat=$OUT/dmesg-patterns
	grep -v -e '^#' -e '^[[:space:]]*$' "$TESTS/lib/dmesg-bad-patterns" >"$pat"
	dmesg >"$OUT/dmesg"
	! grep -F -f "$pat" "$OUT/dmesg"
}

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
tap_check "lo's UDP/4791 egress redirected to $IFACE's ingress, accept_local, $SPOOF/32 added" \
	inject_path on

# Stock, groups 1-7: diagnostics only.
if rxe_load stock && rxe_add rxe0 "$IFACE" && wait_gid "$MY_IP" 200; then
	timeout "$(tscale 120)" "$INJ" -k -d rxe0 -a "$MY_IP" -t "$(tscale 5)" 1 2 3 4 5 6 7 \
		>"$OUT/stock.log" 2>&1
	for g in {1..7}; do
		tap_diag "stock (not asserted): $(grep -m1 "^group $g: " "$OUT/stock.log" || echo "group $g: no result")"
		sed -n "/^== group $g:/,/^group $g: /p" "$OUT/stock.log" | grep -m3 '^FAIL' |
			while IFS= read -r l; do tap_diag "  $l"; done
	done
	tap_diag "stock (not asserted): $(tail -n 1 "$OUT/stock.log")"
	rxe_del rxe0
else
	tap_diag "stock: could not set up rxe0; no stock diagnostics"
fi
tap_check "stock: unloads" modprobe -r rdma_rxe

tap_check "ours: load rdma_rxe" rxe_load ours
tap_check "ours: rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "ours: RoCE v2 GID for $MY_IP" wait_gid "$MY_IP" 200

timeout "$(tscale 360)" "$INJ" -d rxe0 -a "$MY_IP" -s "$SPOOF" -t "$(tscale 10)" all \
	>"$LOG" 2>&1
rc=$?
tap_diag "rocev2-inject exit status $rc: $(tail -n 1 "$LOG")"
tap_check "ICRC matches ROCEV2_WIRE.md V1-V3; a packet to a QPN that cannot exist reaches rxe0 (rcvd_no_qp +1)" \
	selfcheck_ok
for g in {1..11}; do
	tap_check "group $g: ${TITLES[$g]}" group_ok "$g"
done
tap_check "rocev2-inject: PASS" grep -qx 'rocev2-inject: PASS' "$LOG"
tap_check "no kernel warning, BUG or lockup in dmesg" dmesg_clean
tap_check "redirect and second address removed" inject_path off
tap_check "ours: unloads cleanly" rxe_unload
tap_done
