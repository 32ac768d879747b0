#!/bin/bash
# UD data path in one guest: ibv_ud_pingpong server and client on the same
# rxe0 (the driver's internal loopback), payload validated, hw counters
# moved, and a clean teardown.
# topology: one
# impl: ours
# timeout: 240
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"

tap_plan 8

tap_check "load our rdma_rxe" rxe_load
# Per-packet traces: RXE_TEST_DEBUG=1 tests/run 040
if [ -n "${RXE_TEST_DEBUG:-}" ]; then
	rxe_dyndbg 'module rdma_rxe +p'
fi
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GID for $MY_IP" wait_gid "$MY_IP"
gidx=$(gid_index "$MY_IP")
tap_diag "using GID index $gidx"

sent0=$(hwc sent_pkts)
rcvd0=$(hwc rcvd_pkts)

# pingpong SIZE ITERS PORT: server and client, payload validated (-c)
pingpong() {
	local args=(-d rxe0 -g "$gidx" -s "$1" -n "$2" -p "$3" -c)
	local_pair "ud-$1" "tcp:$3" ibv_ud_pingpong "${args[@]}" -- \
		ibv_ud_pingpong "${args[@]}" "$MY_IP" || { dmesg | tail -20; return 1; }
	hwc_all
}

tap_check "ibv_ud_pingpong -s 1024 -n 200 -c (loopback, validated)" pingpong 1024 200 18515
tap_check "ibv_ud_pingpong -s 1 -n 50 -c (odd size, pad)" pingpong 1 50 18516
sent1=$(hwc sent_pkts)
rcvd1=$(hwc rcvd_pkts)
tap_check "sent_pkts moved ($sent0 -> $sent1, >= 500)" test $((sent1 - sent0)) -ge 500
tap_check "rcvd_pkts moved ($rcvd0 -> $rcvd1, >= 500)" test $((rcvd1 - rcvd0)) -ge 500
tap_diag "$(for c in rcvd_bad_hdr rcvd_bad_icrc rcvd_bad_dgid rcvd_bad_key rcvd_no_qp rcvd_bad_state rcvd_no_wqe send_err; do echo "$c $(hwc $c)"; done)"
tap_check "no ICRC or header errors" test "$(hwc rcvd_bad_icrc)" -eq 0 -a "$(hwc rcvd_bad_hdr)" -eq 0
rxe_unload
tap_done
