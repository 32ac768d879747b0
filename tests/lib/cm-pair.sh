# Body of the two-guest rdma_cm cases (071 ours<->ours, 072 ours<->stock):
# every tool in both directions, guest a being ours.  Sourced by the case
# after its header; prints TAP.
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"

tap_plan 15
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GID for $MY_IP" wait_gid "$MY_IP"
tap_check "peer ready" peer_sync start "$RXE_IMPL" 200
A=10.0.0.1 B=10.0.0.2
srv_ip() { if [ "$1" = a ]; then echo $A; else echo $B; fi; }
rcvd0=$(hwc rcvd_pkts)

for s in a b; do
	ip=$(srv_ip $s)
	tap_check "rping -V, server $s ($ip), 100 x 4000 B (RDMA READ+WRITE verified)" \
		peer_pair rping-$s $s cm rping -s -a "$ip" -p 7481 -V -C 100 -S 4000 -- \
		rping -c -a "$ip" -p 7481 -V -C 100 -S 4000
	tap_check "ucmatose, server $s, 4 connections x 20 messages" \
		peer_pair ucmatose-$s $s cm ucmatose -b "$ip" -c 4 -C 20 -S 1000 -- \
		ucmatose -s "$ip" -c 4 -C 20 -S 1000
	tap_check "udaddy, server $s (UD; AH from the received GRH)" \
		peer_pair udaddy-$s $s cm udaddy -b "$ip" -c 2 -C 20 -S 500 -- \
		udaddy -s "$ip" -c 2 -C 20 -S 500
	tap_check "ib_send_bw -R, server $s, 4 KiB x 300" \
		peer_pair_pt sendbw-$s $s cm ib_send_bw -d rxe0 -R -n 300 -s 4096 -- \
		ib_send_bw -d rxe0 -R -n 300 -s 4096 "$ip"
	tap_check "ib_read_bw -R, server $s, 16 KiB x 100" \
		peer_pair_pt readbw-$s $s cm ib_read_bw -d rxe0 -R -n 100 -s 16384 -- \
		ib_read_bw -d rxe0 -R -n 100 -s 16384 "$ip"
done
tap_check "traffic counted, no receive errors (hw_counters)" \
	sh -c "echo '$(hwc_all)'; [ $(hwc rcvd_pkts) -gt $((rcvd0 + 1000)) ] && [ $(hwc_rx_errors) -eq 0 ]"
for f in "$RESULTS"/sendbw-?-?."$ROLE".log "$RESULTS"/readbw-?-?."$ROLE".log; do
	[ -f "$f" ] && tap_diag "${f##*/}: $(grep -A1 'BW average' "$f" | tail -n 1)"
done
peer_sync end "$RXE_IMPL" 200 >/dev/null
tap_done
