#!/bin/bash
# UD data path in one guest: ibv_ud_pingpong server and client on the same
# rxe0 (the driver's internal loopback), payload validated, hw counters
# moved, and a clean teardown.
# topology: one
# impl: ours
# timeout: 240
. "$TESTS/lib/guest-lib.sh"

tap_plan 8

hc=/sys/class/infiniband/rxe0/ports/1/hw_counters
cnt() { cat "$hc/$1" 2>/dev/null || echo 0; }
tap_check "load our rdma_rxe" rxe_load
# Per-packet traces: RXE_TEST_DEBUG=1 tests/run 040
if [ -n "${RXE_TEST_DEBUG:-}" ]; then
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	echo 'module rdma_rxe +p' >/sys/kernel/debug/dynamic_debug/control
fi
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GID for $MY_IP" wait_gid "$MY_IP"
gidx=$(gid_index "$MY_IP")
tap_diag "using GID index $gidx"

sent0=$(cnt sent_pkts)
rcvd0=$(cnt rcvd_pkts)

pingpong() { # SIZE ITERS PORT
	local srv_out=/tmp/ud-srv.$3 rc_s rc_c
	timeout 60 ibv_ud_pingpong -d rxe0 -g "$gidx" -s "$1" -n "$2" -p "$3" -c >"$srv_out" 2>&1 &
	local spid=$!
	# The client must not connect before the server listens.
	for _ in $(seq 100); do
		ss -ltn 2>/dev/null | grep -q ":$3 " && break
		sleep 0.2
	done
	timeout 45 ibv_ud_pingpong -d rxe0 -g "$gidx" -s "$1" -n "$2" -p "$3" -c "$MY_IP"
	rc_c=$?
	wait "$spid"
	rc_s=$?
	echo "--- server:"
	cat "$srv_out"
	echo "client rc $rc_c, server rc $rc_s"
	for c in "$hc"/*; do echo "${c##*/} $(cat "$c")"; done | tr '\n' ' '
	echo
	dmesg | grep -v 'speed is unknown' | tail -20
	[ "$rc_c" -eq 0 ] && [ "$rc_s" -eq 0 ]
}

tap_check "ibv_ud_pingpong -s 1024 -n 200 -c (loopback, validated)" pingpong 1024 200 18515
tap_check "ibv_ud_pingpong -s 1 -n 50 -c (odd size, pad)" pingpong 1 50 18516
sent1=$(cnt sent_pkts)
rcvd1=$(cnt rcvd_pkts)
tap_check "sent_pkts moved ($sent0 -> $sent1, >= 500)" test $((sent1 - sent0)) -ge 500
tap_check "rcvd_pkts moved ($rcvd0 -> $rcvd1, >= 500)" test $((rcvd1 - rcvd0)) -ge 500
tap_diag "$(for c in rcvd_bad_hdr rcvd_bad_icrc rcvd_bad_dgid rcvd_bad_key rcvd_no_qp rcvd_bad_state rcvd_no_wqe send_err; do echo "$c $(cnt $c)"; done)"
tap_check "no ICRC or header errors" sh -c "[ \$(cat $hc/rcvd_bad_icrc) -eq 0 ] && [ \$(cat $hc/rcvd_bad_hdr) -eq 0 ]"
rxe_unload
tap_done
