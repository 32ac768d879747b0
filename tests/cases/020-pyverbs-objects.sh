#!/bin/bash
# rdma-core's pyverbs suite, the object tests (device, PD, CQ, MR, MW, AH,
# QP, SRQ), run on the stock rdma_rxe and then on ours in the same guest:
# every test that passes on stock must pass on ours.  Tests that move data
# wait for the transport issue and are listed in tests/lists/pyverbs-needs-transport;
# that list may only shrink, and any of them passing on ours is reported.
# topology: one
# impl: none
# timeout: 900
# memory: 3G
. "$TESTS/lib/guest-lib.sh"

suite=/usr/share/doc/rdma-core/tests
mods="test_device test_pd test_cq test_cq_events test_cqex test_mr test_mw test_addr test_qp test_qpex test_shared_pd test_parent_domain"
pending_list=$TESTS/lists/pyverbs-needs-transport
out=$RESULTS/pyverbs
mkdir -p "$out"

# run_suite IMPL: run the modules on rxe0, write "<status> <test id>" lines
run_suite() {
	local impl=$1 log=$out/$1.log
	(cd "$suite" && timeout 360 python3 run_tests.py --dev rxe0 -v $mods) >"$log" 2>&1
	# unittest verbose lines: "test_x (tests.test_mod.Class) ... ok"
	sed -n 's/^\(test[^ ]*\) (\([^)]*\)) \.\.\. \(ok\|FAIL\|ERROR\|skipped\|expected failure\|unexpected success\).*$/\3 \2.\1/p' \
		"$log" | sort -k2 > "$out/$impl.results"
}

tap_plan 7
tap_check "load stock rdma_rxe" rxe_load stock
tap_check "stock: rdma link add rxe0" rxe_add rxe0 "$IFACE"
run_suite stock
tap_check "stock: the suite ran" test -s "$out/stock.results"
rxe_del rxe0
modprobe -r rdma_rxe
tap_check "load our rdma_rxe" rxe_load ours
tap_check "ours: rdma link add rxe0" rxe_add rxe0 "$IFACE"
run_suite ours

pass_stock=$(awk '$1 == "ok" { print $2 }' "$out/stock.results")
pass_ours=$(awk '$1 == "ok" { print $2 }' "$out/ours.results")
regress=()
waiting=()
for t in $pass_stock; do
	grep -qx "$t" <<< "$pass_ours" && continue
	if grep -qx "$t" "$pending_list"; then
		waiting+=("$t")
	else
		regress+=("$t: $(awk -v t="$t" '$2 == t { print $1 }' "$out/ours.results")")
	fi
done
tap_diag "stock: $(grep -c '^ok' "$out/stock.results") passed of $(wc -l < "$out/stock.results")" \
	 "ours:  $(grep -c '^ok' "$out/ours.results") passed of $(wc -l < "$out/ours.results")" \
	 "waiting for the transport: ${#waiting[@]}"
now_ok=$(grep -vx '' "$pending_list" | grep -v '^#' | grep -xF "$pass_ours" | wc -l)
[ "$now_ok" -gt 0 ] && tap_diag "$now_ok test(s) in pyverbs-needs-transport pass on ours now: shrink the list"
if [ ${#regress[@]} -eq 0 ]; then
	tap_ok "every test passing on stock passes on ours (or needs the transport)"
else
	tap_not_ok "every test passing on stock passes on ours" "${regress[@]}"
	tail -n 60 "$out/ours.log" | sed 's/^/#   /'
fi
tap_check "unload ours cleanly" rxe_unload
tap_done
