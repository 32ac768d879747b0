#!/bin/bash
# perftest with on-demand-paging memory regions (--odp) in one guest:
# server and client on the same rxe0 (the driver loops packets back), both
# sides' MRs ODP.  ib_write_bw/lat, ib_read_bw/lat, ib_send_bw/lat must
# exit 0 with a non-zero figure, and the device's ODP counters must show
# that the NIC faulted the pages in (nothing was pinned).  When perftest's
# timer calibration fails on all three tries (a loaded TCG host, and on the
# debug kernel often), a run that exits 0 on both ends passes without a
# figure (tests/lib/perftest-run.sh).
# topology: one
# impl: ours
# timeout: 900
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/perftest-run.sh"

hc=/sys/class/infiniband/rxe0/ports/1/hw_counters
tap_plan 10
tap_check "load our rdma_rxe" rxe_load ours
tap_check "rdma link add rxe0" rxe_add rxe0 "$IFACE"
# Diagnostics for a failure: every NAK our responder sends says why
# (rxe_resp.c), and ODP faults that failed leave a trace event.
rxe_dyndbg 'format "NAK 0x" +p'
ev=/sys/kernel/debug/tracing/events/rxe_odp_core/odpc_fault
if [ -d "$ev" ]; then
	echo 'ret != 0' >"$ev/filter" && echo 1 >"$ev/enable"
fi
gidx=$(wait_gid "$MY_IP" 50 && gid_index "$MY_IP")
tap_diag "GID index $gidx"

port=18700
# run_pt TOOL COLUMN ARGS...: a figure in COLUMN of the result row > 0
run_pt() {
	local tool=$1 col=$2 fig
	shift 2
	port=$((port + 1))
	pt_pair "$tool" "$port" -d rxe0 -x "$gidx" -F --odp "${PT_SLOW[@]}" "$@" || return 1
	[ "$PT_NOFIG" = 1 ] && return 0
	fig=$(pt_figure "$PT_OUT" "$col")
	echo "figure (column $col): ${fig:-none}"
	pt_fig_ok "$fig"
}
f0=$(cat "$hc/odp_page_faults")
# bandwidth: column 4 = BW average; latency: column 6 = t_avg.
tap_check "ib_write_bw --odp, 64 KiB x 300" run_pt ib_write_bw 4 -s 65536 -n 300
tap_check "ib_read_bw --odp, 64 KiB x 300" run_pt ib_read_bw 4 -s 65536 -n 300
tap_check "ib_send_bw --odp, 64 KiB x 300" run_pt ib_send_bw 4 -s 65536 -n 300
tap_check "ib_write_lat --odp, 4 KiB x 200" run_pt ib_write_lat 6 -s 4096 -n 200
tap_check "ib_read_lat --odp, 4 KiB x 200" run_pt ib_read_lat 6 -s 4096 -n 200
tap_check "ib_send_lat --odp, 4 KiB x 200" run_pt ib_send_lat 6 -s 4096 -n 200
f1=$(cat "$hc/odp_page_faults")
for c in "$hc"/*; do printf '%s %s  ' "${c##*/}" "$(cat "$c")"; done | fold -w 150 |
	while IFS= read -r l; do tap_diag "$l"; done
dmesg | grep 'NAK 0x' | head -20 | while IFS= read -r l; do tap_diag "$l"; done
if [ -d "$ev" ]; then
	echo 0 >"$ev/enable"
	grep -v '^#' /sys/kernel/debug/tracing/trace | head -20 |
		while IFS= read -r l; do tap_diag "failed fault: $l"; done
fi
tap_check "pages were faulted in on demand (odp_page_faults $f0 -> $f1)" test "$f1" -gt "$f0"
tap_check "unload ours cleanly" rxe_unload
tap_done
