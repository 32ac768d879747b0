#!/usr/bin/env bash
# make bench: perftest on the stock rdma_rxe and then on ours, in one guest
# boot (tests/bench/bench.sh), and the comparison table (ours/stock per row).
# The table is printed and kept as bench.txt in the run's output directory
# (tests/out/<run>/bench.txt, with every perftest output under
# tests/out/<run>/bench/a/bench/).  Extra arguments go to tests/run.
# RXE_TEST_BENCH_REPEAT=N takes the median of N runs per point.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/tests/out
status=0
"$root/tests/run" "$@" "$root/tests/bench/bench.sh" || status=$?
run=$(readlink -f "$out/latest")
table=$run/bench/a/bench.txt
if [ -s "$table" ]; then
	cp "$table" "$run/bench.txt"
	echo
	cat "$run/bench.txt"
	echo "(saved as $run/bench.txt)"
else
	echo "bench: no table produced; see $run" >&2
	[ $status -ne 0 ] || status=1
fi
exit $status
