#!/bin/bash
# make bench: perftest on the stock rdma_rxe and on ours, in one guest
# (same image, same kernel; server and client on the same rxe0, so the
# driver loops the packets back).  RC WRITE, READ and SEND at 64 B, 4 KiB
# and 64 KiB, and RC fetch-and-add at 8 B (the only atomic size), each as
# bandwidth (ib_*_bw: BW average, MB/s; atomics: message rate, Mpps) and
# latency (ib_*_lat: t_typical, usec).  The table with ours/stock per row
# goes to $RESULTS/bench.txt and into the TAP diagnostics.
# RXE_TEST_BENCH_REPEAT=N (default 1): N passes over every point, the
# drivers taking turns, and the median per point.  Under TCG the figures
# say how the two drivers compare on this host at this moment, not what
# either does on real hardware.
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
	"write 64 bw ib_write_bw -s 64 -n 20000"
	"write 4096 bw ib_write_bw -s 4096 -n 5000"
	"write 65536 bw ib_write_bw -s 65536 -n 1000"
	"read 64 bw ib_read_bw -s 64 -n 20000"
	"read 4096 bw ib_read_bw -s 4096 -n 5000"
	"read 65536 bw ib_read_bw -s 65536 -n 1000"
	"send 64 bw ib_send_bw -s 64 -n 20000"
	"send 4096 bw ib_send_bw -s 4096 -n 5000"
	"send 65536 bw ib_send_bw -s 65536 -n 1000"
	"atomic 8 rate ib_atomic_bw -A FETCH_AND_ADD -n 20000"
	"write 64 lat ib_write_lat -s 64 -n 3000"
	"write 4096 lat ib_write_lat -s 4096 -n 2000"
	"write 65536 lat ib_write_lat -s 65536 -n 300"
	"read 64 lat ib_read_lat -s 64 -n 3000"
	"read 4096 lat ib_read_lat -s 4096 -n 2000"
	"read 65536 lat ib_read_lat -s 65536 -n 300"
	"send 64 lat ib_send_lat -s 64 -n 3000"
	"send 4096 lat ib_send_lat -s 4096 -n 2000"
	"send 65536 lat ib_send_lat -s 65536 -n 300"
	"atomic 8 lat ib_atomic_lat -A FETCH_AND_ADD -n 3000"
)

# one_run IMPL PASS OP SIZE KIND TOOL ARGS...: one perftest run of a point;
# its figure on stdout, nothing if it gave none.  A run is repeated (at
# most twice) when perftest's timer calibration fails (see _pt_judge).
one_run() {
	local impl=$1 pass=$2 op=$3 size=$4 kind=$5 name verdict fig
	shift 5
	name=$impl.$op-$size-$kind.$pass
	for _ in 1 2 3; do
		pt_loop "$name" "$@" >"$PT_OUT/$name.err" 2>&1 || return 0
		{ read -r verdict; read -r fig; } < <(_pt_judge "$kind" "$size" "$name")
		[ "$verdict" = calib ] || break
	done
	[ "$verdict" = ok ] && [ -n "$fig" ] && echo "$fig"
	return 0
}

# load_impl IMPL: rxe_load, except for stock once ours has been installed
# in this guest (after an earlier pass): modprobe would then pick ours from
# updates/, so the kernel's own rdma_rxe is inserted from its path.
load_impl() {
	local ko deps
	if [ "$1" != stock ] || [ ! -e /run/rxe-ours-installed ]; then
		rxe_load "$1"
		return
	fi
	ko=$(find "/lib/modules/$(uname -r)/kernel" -name 'rdma_rxe.ko*' | head -n 1)
	[ -n "$ko" ] || { echo "no stock rdma_rxe under /lib/modules/$(uname -r)/kernel" >&2; return 1; }
	deps=$(modinfo -F depends "$ko")
	# shellcheck disable=SC2086 # a word per module
	modprobe -a crc32_generic ${deps//,/ } ib_uverbs rdma_ucm || return 1
	insmod "$ko" && [ -d /sys/module/rdma_rxe ]
}

# unload_impl IMPL: rmmod, not modprobe -r, for stock: with ours indexed,
# modprobe -r would go by ours' dependencies.
unload_impl() {
	if [ "$1" = stock ]; then
		rmmod rdma_rxe
	else
		rxe_unload
	fi
}

# run_pass IMPL PASS: every point once on IMPL; figures appended to
# $RESULTS/bench-IMPL.runs as "op size kind figure" ("-" for none).
run_pass() {
	local impl=$1 pass=$2 p f
	tap_check "pass $pass: load $impl rdma_rxe" load_impl "$impl" || return 1
	if pt_setup "pass $pass: $impl"; then	# PT_GIDX, used by pt_loop
		for p in "${points[@]}"; do
			set -- $p
			f=$(one_run "$impl" "$pass" "$@")
			printf '%s %s %s %s\n' "$1" "$2" "$3" "${f:--}" >>"$RESULTS/bench-$impl.runs"
		done
		tap_check "pass $pass: $impl: rdma link delete rxe0" rxe_del rxe0
	else
		tap_not_ok "pass $pass: $impl: rdma link delete rxe0" "no device"
	fi
	tap_check "pass $pass: unload $impl" unload_impl "$impl"
}

# medians IMPL: one TAP point and one tsv row per point, with the median of
# the passes that gave a figure.
medians() {
	local impl=$1 p f
	: >"$RESULTS/bench-$impl.tsv"
	for p in "${points[@]}"; do
		set -- $p
		f=$(awk -v k="$1 $2 $3" '$1 " " $2 " " $3 == k && $4 != "-" { print $4 }' \
			"$RESULTS/bench-$impl.runs" | sort -g |
			awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
		if [ -n "$f" ]; then
			tap_ok "$impl: $1 $2 B ${3/rate/bw} ($4): $f"
		else
			f=-
			tap_not_ok "$impl: $1 $2 B ${3/rate/bw} ($4)" "no figure; see $PT_OUT/$impl.$1-$2-$3.*"
		fi
		printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$f" >>"$RESULTS/bench-$impl.tsv"
	done
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
tap_plan $((10 * repeat + 2 * npoints + 1))
tap_diag "perftest $(dpkg-query -W -f '${Version}' perftest 2>/dev/null), kernel $(uname -r), $(nproc) vCPU(s), median of $repeat run(s) per point${RXE_TEST_BENCH_ONLY:+, points matching '$RXE_TEST_BENCH_ONLY'}"
# Passes alternate between the drivers (stock first in odd passes, ours
# first in even ones), so that a host getting busier or quieter during the
# run weighs on both alike.
: >"$RESULTS/bench-stock.runs"
: >"$RESULTS/bench-ours.runs"
for pass in $(seq "$repeat"); do
	if [ $((pass % 2)) -eq 1 ]; then
		run_pass stock "$pass"
		run_pass ours "$pass"
	else
		run_pass ours "$pass"
		run_pass stock "$pass"
	fi
done
medians stock
medians ours

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
