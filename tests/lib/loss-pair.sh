# Body of the packet-loss cases (077 ours<->ours, 078 ours<->stock): tc
# netem drops 1% of what each guest sends (sch_netem from the guest
# kernel); RC transfers in both directions must still complete with their
# payload verified (RC ACKs are spared during ibv_rc_pingpong, see
# netem_on), and the hw_counters must show that lost packets were
# recovered (retransmission timeouts and/or PSN sequence NAKs).  Sourced by
# the case after its header; prints TAP.
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"
PAIR_TIMEOUT=$(tscale 400)

tap_plan 12
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GID for $MY_IP" wait_gid "$MY_IP"
G4=$(gid_index "$MY_IP")
# netem_on rc|data: drop 1% of what this guest sends -- every RC packet
# (all but those to QP 1, the CM's MADs), or also spare RC ACKs.  A prio
# band without netem takes the spared UDP 4791 packets (BTH opcode 0x11 at
# offset 28, destination QP at 33-35).
# - ibv_rc_pingpong needs its ACKs spared: when the ACK of its very last
#   message is lost after the peer has exited, the sender retransmits to a
#   QP that is gone, and with its retry count of 7 (infinite on stock rxe
#   and on ours) it never finishes.
# - rping takes the full RC loss, but its CM MADs are spared: the client
#   calls rdma_disconnect and exits at once, and destroying its cm_id ends
#   the DREQ's retransmission, so a lost DREQ leaves the server waiting for
#   a disconnect forever (078 hung so once: client exit 0, server killed by
#   the timeout, no kernel message).  That is the CM's teardown, not RC.
netem_on() {
	tc qdisc del dev "$IFACE" root 2>/dev/null
	modprobe -a sch_netem sch_prio cls_u32 || return 1
	tc qdisc add dev "$IFACE" root handle 1: prio bands 3 \
		priomap 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 || return 1
	tc qdisc add dev "$IFACE" parent 1:2 handle 20: netem loss 1% || return 1
	tc filter add dev "$IFACE" parent 1: protocol ip prio 1 u32 \
		match ip protocol 17 0xff match ip dport 4791 0xffff \
		match u32 0x00000001 0x00ffffff at 32 flowid 1:1 || return 1
	[ "$1" = rc ] && return
	tc filter add dev "$IFACE" parent 1: protocol ip prio 2 u32 \
		match ip protocol 17 0xff match ip dport 4791 0xffff \
		match u8 0x11 0xff at 28 flowid 1:1
}
# netem_dropped: packets netem dropped so far (this qdisc setup).
netem_dropped() {
	tc -s qdisc show dev "$IFACE" | awk '/^qdisc netem/ { n = 1 } n && /dropped/ { sub(",", "", $7); print $7; exit }'
}
tap_check "tc: netem 1% loss on RC packets but ACKs" netem_on data
tap_check "peer ready" peer_sync start "$RXE_IMPL" 200
A=10.0.0.1 B=10.0.0.2
srv_ip() { if [ "$1" = a ]; then echo $A; else echo $B; fi; }
retry0=$(hwc completer_retry_err) seq0=$(hwc rcvd_seq_err) dup0=$(hwc duplicate_request)

port=18900
for s in a b; do
	port=$((port + 1))
	tap_check "RC pingpong under 1% loss (ACKs spared), server $s, 16 KiB in 1 KiB packets x 100, -c" \
		peer_pair rcloss-$s $s tcp:$port ibv_rc_pingpong -d rxe0 -g "$G4" -s 16384 -m 1024 -n 100 -p $port -c -- \
		ibv_rc_pingpong -d rxe0 -g "$G4" -s 16384 -m 1024 -n 100 -p $port -c "$(srv_ip $s)"
done
dropped=$(netem_dropped)
tap_check "tc: netem 1% loss on every RC packet" netem_on rc
peer_sync loss-all "$RXE_IMPL" 200 >/dev/null
for s in a b; do
	tap_check "rping -V under 1% loss, server $s, 150 x 4000 B (READ+WRITE verified)" \
		peer_pair rpingloss-$s $s cm rping -s -a "$(srv_ip $s)" -p 7511 -V -C 150 -S 4000 -- \
		rping -c -a "$(srv_ip $s)" -p 7511 -V -C 150 -S 4000
done
dropped="${dropped:-0} + $(netem_dropped)"
tap_check "netem dropped packets here ($dropped)" test $((dropped)) -gt 0
retry=$(($(hwc completer_retry_err) - retry0)) seq=$(($(hwc rcvd_seq_err) - seq0))
dup=$(($(hwc duplicate_request) - dup0))
tap_check "losses recovered here: $retry retransmission timeouts, $seq sequence NAKs received, $dup duplicate requests answered" \
	test $((retry + seq)) -gt 0
tap_diag "hw_counters: $(hwc_all)"
tc qdisc del dev "$IFACE" root 2>/dev/null
peer_sync end "$RXE_IMPL" 300 >/dev/null
tap_done
