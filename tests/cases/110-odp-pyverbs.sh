#!/bin/bash
# rdma-core's own ODP tests (pyverbs test_odp.py) on our rdma_rxe.  Stock
# rxe on 6.1 has no ODP and skips them all; on ours the explicit-MR cases
# of issue #5 must pass (not skip): RC traffic, RDMA write, RDMA read,
# compare-and-swap, fetch-and-add, SRQ and UD.  The other cases (implicit
# MRs, prefetch, huge pages) are run and reported; they belong to the next
# ODP issue and are asserted there.  The device must advertise ODP, and
# the ODP counters must have moved.
# topology: one
# impl: ours
# timeout: 900
# memory: 3G
. "$TESTS/lib/guest-lib.sh"

out=$RESULTS/pyverbs-odp
mkdir -p "$out"
hc=/sys/class/infiniband/rxe0/ports/1/hw_counters
must="test_odp_rc_traffic test_odp_rc_rdma_write test_odp_rc_rdma_read
test_odp_rc_atomic_cmp_and_swp test_odp_rc_atomic_fetch_and_add
test_odp_rc_srq_traffic test_odp_ud_traffic"

tap_plan 13
tap_check "load our rdma_rxe" rxe_load ours
tap_check "rdma link add rxe0" rxe_add rxe0 "$IFACE"

caps=$(ibv_devinfo -v -d rxe0 2>&1)
echo "$caps" >"$out/devinfo"
odp_caps() {
	grep -q 'general_odp_caps:' <<<"$caps" &&
	grep -A3 'general_odp_caps:' <<<"$caps" | grep -q 'ODP_SUPPORT$' &&
	grep -A8 'rc_odp_caps:' <<<"$caps" | grep -q 'SUPPORT_ATOMIC'
}
tap_check "ibv_devinfo -v advertises ODP (general, RC atomics)" odp_caps
tap_diag "$(grep -A30 'general_odp_caps' <<<"$caps" | head -30)"

faults0=$(cat "$hc/odp_page_faults" 2>/dev/null || echo missing)
tap_check "hw counter odp_page_faults exists" test "$faults0" != missing

timeout 780 python3 "$TESTS/lib/pyverbs_run.py" --dev rxe0 --poll-timeout 10 \
	--out "$out/ours.results" test_odp >"$out/ours.log" 2>&1
tap_diag "$(tail -n 4 "$out/ours.log")"
tap_diag "results:" "$(cat "$out/ours.results" 2>/dev/null)"
for t in $must; do
	st=$(awk -v t="$t" '$2 ~ "\\." t "$" { print $1 }' "$out/ours.results" 2>/dev/null)
	if [ "$st" = ok ]; then
		tap_ok "test_odp $t"
	else
		tap_not_ok "test_odp $t" "status: ${st:-not run}"
		grep -A25 "$t" "$out/ours.log" | head -40 | sed 's/^/#   /'
	fi
done
faults1=$(cat "$hc/odp_page_faults")
tap_diag "odp_page_faults $faults0 -> $faults1"
tap_check "the ODP tests faulted pages in (odp_page_faults grew)" test "$faults1" -gt "$faults0"
tap_check "unload ours cleanly" rxe_unload
tap_done
