#!/bin/bash
# make bench: perftest on the stock rdma_rxe, then on ours, in one guest
# (same image, same kernel; server and client on the same rxe0, so the
# driver loops the packets back).  RC WRITE, READ and SEND at 64 B, 4 KiB
# and 64 KiB, and RC fetch-and-add at 8 B (the only atomic size), each as
# bandwidth (ib_*_bw: BW average, MB/s; atomics: message rate, Mpps) and
# latency (ib_*_lat: t_typical, usec).  The table with ours/stock per row
# goes to $RESULTS/bench.txt and into the TAP diagnostics.
# RXE_TEST_BENCH_REPEAT=N (default 1): run each point N times, keep the
# median.  Under TCG the figures say how the two drivers compare on this
# host at this moment, not what either does on real hardware.
# topology: one
# impl: none
# autoload: no
# timeout: 3000
. "$TESTS/lib/guest-lib.sh"
PT_OUT=$RESULTS/bench
. "$TESTS/lib/perftest-lib.sh"

repeat=${RXE_TEST_BENCH_REPEAT:-1}
case $repeat in [1-9]|[1-9][0-9]) ;; *) repeat=1 ;; esac

# op size kind tool args...
points=(
	"write 64 bw ib_write_bw -s 64 -n 2000"
	"write 4096 bw ib_write_bw -s 4096 -n 1000"
	"write 65536 bw ib_write_bw -s 65536 -n 200"
	"read 64 bw ib_read_bw -s 64 -n 2000"
	"read 4096 bw ib_read_bw -s 4096 -n 1000"
	"read 65536 bw ib_read_bw -s 65536 -n 200"
	"send 64 bw ib_send_bw -s 64 -n 2000"
	"send 4096 bw ib_send_bw -s 4096 -n 1000"
	"send 65536 bw ib_send_bw -s 65536 -n 200"
	"atomic 8 rate ib_atomic_bw -A FETCH_AND_ADD -n 1000"
	"write 64 lat ib_write_lat -s 64 -n 300"
	"write 4096 lat ib_write_lat -s 4096 -n 300"
	"write 65536 lat ib_write_lat -s 65536 -n 100"
	"read 64 lat ib_read_lat -s 64 -n 300"
	"read 4096 lat ib_read_lat -s 4096 -n 300"
	"read 65536 lat ib_read_lat -s 65536 -n 100"
	"send 64 lat ib_send_lat -s 64 -n 300"
	"send 4096 lat ib_send_lat -s 4096 -n 300"
	"send 65536 lat ib_send_lat -s 65536 -n 100"
	"atomic 8 lat ib_atomic_lat -A FETCH_AND_ADD -n 300"
)

# one_point IMPL OP SIZE KIND TOOL ARGS...: the median figure of $repeat
# runs on stdout ("-" if no run gave one); each run may be repeated twice
# when perftest's timer calibration fails (see _pt_judge).
one_point() {
	local impl=$1 op=$2 size=$3 kind=$4 name r verdict fig figs=()
	shift 4
	for r in $(seq "$repeat"); do
		name=$impl.$op-$size-$kind.$r
		for _ in 1 2 3; do
			pt_loop "$name" "$@" >"$PT_OUT/$name.err" 2>&1 || { verdict=bad; break; }
			{ read -r verdict; read -r fig; } < <(_pt_judge "$kind" "$size" "$name")
			[ "$verdict" = calib ] || break
		done
		[ "$verdict" = ok ] && figs+=("$fig")
	done
	[ ${#figs[@]} -gt 0 ] || { echo -; return 1; }
	printf '%s\n' "${figs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

run_impl() {
	local impl=$1 p f
	: >"$RESULTS/bench-$impl.tsv"
	tap_check "load $impl rdma_rxe" rxe_load "$impl" || return 1
	pt_setup "$impl" || return 1	# PT_GIDX, used by pt_loop
	for p in "${points[@]}"; do
		set -- $p
		if f=$(one_point "$impl" "$@"); then
			tap_ok "$impl: $1 $2 B ${3/rate/bw} ($4): $f"
		else
			tap_not_ok "$impl: $1 $2 B ${3/rate/bw} ($4)" "no figure; see $PT_OUT/$impl.$1-$2-$3.*"
		fi
		printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$f" >>"$RESULTS/bench-$impl.tsv"
	done
	tap_check "$impl: rdma link delete rxe0" rxe_del rxe0
}

# RXE_TEST_BENCH_ONLY=REGEX (extended, matched against "op size kind",
# e.g. 'send 64 lat' or '^(write|read) 64 '): run only the matching points,
# to chase one row with a high repeat count.
if [ -n "${RXE_TEST_BENCH_ONLY:-}" ]; then
	sel=()
	for p in "${points[@]}"; do
		set -- $p
		grep -Eq -- "$RXE_TEST_BENCH_ONLY" <<<"$1 $2 $3" && sel+=("$p")
	done
	[ ${#sel[@]} -gt 0 ] || tap_bail "RXE_TEST_BENCH_ONLY='$RXE_TEST_BENCH_ONLY' matches no point"
	points=("${sel[@]}")
fi
npoints=${#points[@]}
tap_plan $((2 * (npoints + 4) + 3))
tap_diag "perftest $(dpkg-query -W -f '${Version}' perftest 2>/dev/null), kernel $(uname -r), $(nproc) vCPU(s), median of $repeat run(s) per point${RXE_TEST_BENCH_ONLY:+, points matching '$RXE_TEST_BENCH_ONLY'}"
run_impl stock
tap_check "unload the stock rdma_rxe" modprobe -r rdma_rxe
run_impl ours
tap_check "unload ours" rxe_unload

table() {
	printf '%-7s %6s  %-10s %11s %11s %11s\n' op bytes metric stock ours ours/stock
	paste "$RESULTS/bench-stock.tsv" "$RESULTS/bench-ours.tsv" | awk -F'\t' '
		{
			m = $3 == "bw" ? "bw MB/s" : $3 == "rate" ? "bw Mpps" : "lat usec"
			r = ($4 + 0 > 0 && $8 + 0 > 0) ? sprintf("%.2f", $8 / $4) : "-"
			printf "%-7s %6s  %-10s %11s %11s %11s\n", $1, $2, m, $4, $8, r
		}'
	echo "bw: higher is better; lat (t_typical): lower is better.  atomic = fetch-and-add, 8 B only."
	echo "Loopback on one rxe0 in a TCG guest: relative figures, not absolute performance."
}
table >"$RESULTS/bench.txt"
tap_check "table written to bench.txt" test -s "$RESULTS/bench.txt"
tap_diag "" "$(cat "$RESULTS/bench.txt")"
tap_done
