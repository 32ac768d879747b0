#!/bin/bash
# rdma_cm through our driver in one guest (loopback): connection setup runs
# as CM MADs over the GSI QP1 (Q_Key 0x80010000, GRH in the receive
# buffers, the AH built from the received GRH), address and route
# resolution through the netdev.  rping verifies the data it moves with
# RDMA READ and WRITE (-V), ucmatose runs several RC connections, udaddy
# UD over rdma_cm (the reply's AH comes from the GRH area of a receive),
# perftest with -R sets up its QPs through rdma_cm; IPv4, IPv6 global and
# link-local addresses.
# topology: one
# impl: ours
# timeout: 900
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"

tap_plan 13
tap_check "load our rdma_rxe" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
LL=$(link_local)
tap_check "RoCE v2 GIDs for $MY_IP, $MY_IP6 and $LL" \
	eval 'wait_gid "$MY_IP" && wait_gid "$MY_IP6" && wait_gid "$LL"'
tap_check "port advertises CM support (cap_mask has IB_PORT_CM_SUP)" \
	sh -c "m=\$(cat $RXE_PORT_SYSFS/cap_mask); echo cap_mask \$m; [ \$((m & 0x10000)) -ne 0 ]"
tap_check "the GSI QP (QP1) exists" sh -c "rdma resource show qp link rxe0/1 | grep -w 'lqpn 1'"
rcvd0=$(hwc rcvd_pkts)

tap_check "rping -V IPv4, 50 x 2000 B (RDMA READ+WRITE verified)" \
	local_pair rping4 cm rping -s -a "$MY_IP" -p 7471 -V -C 50 -S 2000 -- \
	rping -c -a "$MY_IP" -p 7471 -V -C 50 -S 2000
tap_check "ucmatose IPv4, 4 connections x 20 messages" \
	local_pair ucmatose4 cm ucmatose -b "$MY_IP" -c 4 -C 20 -S 1000 -- \
	ucmatose -s "$MY_IP" -c 4 -C 20 -S 1000
tap_check "udaddy IPv4 (UD through rdma_cm; AH from the received GRH)" \
	local_pair udaddy4 cm udaddy -b "$MY_IP" -c 2 -C 20 -S 500 -- \
	udaddy -s "$MY_IP" -c 2 -C 20 -S 500
tap_check "ib_send_bw -R (rdma_cm QPs), 4 KiB x 200" \
	local_pair_pt sendbw cm ib_send_bw -d rxe0 -R -n 200 -s 4096 -- \
	ib_send_bw -d rxe0 -R -n 200 -s 4096 "$MY_IP"
tap_check "ib_read_bw -R (rdma_cm QPs), 16 KiB x 100" \
	local_pair_pt readbw cm ib_read_bw -d rxe0 -R -n 100 -s 16384 -- \
	ib_read_bw -d rxe0 -R -n 100 -s 16384 "$MY_IP"
tap_check "rping -V IPv6 global $MY_IP6, 30 x 2000 B" \
	local_pair rping6 cm rping -s -a "$MY_IP6" -p 7472 -V -C 30 -S 2000 -- \
	rping -c -a "$MY_IP6" -p 7472 -V -C 30 -S 2000
tap_check "rping -V IPv6 link-local $LL%$IFACE, 30 x 2000 B" \
	local_pair rpingll cm rping -s -a "$LL%$IFACE" -p 7473 -V -C 30 -S 2000 -- \
	rping -c -a "$LL%$IFACE" -p 7473 -V -C 30 -S 2000
tap_check "traffic counted, no receive errors (hw_counters)" \
	sh -c "echo '$(hwc_all)'; [ $(hwc rcvd_pkts) -gt $((rcvd0 + 500)) ] && [ $(hwc_rx_errors) -eq 0 ]"
tap_diag "$(grep -h -A1 'BW average' "$RESULTS"/sendbw.client.log "$RESULTS"/readbw.client.log 2>/dev/null)"
tap_done
