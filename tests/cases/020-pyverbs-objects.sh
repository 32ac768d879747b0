#!/bin/bash
# rdma-core's pyverbs suite, the object tests (device, PD, CQ, MR, MW, AH,
# QP, SRQ), run on the stock rdma_rxe and then on ours in the same guest:
# every test that passes on stock must pass on ours.  Tests that move data
# wait for the transport issue: they are listed in
# tests/lists/pyverbs-needs-transport and not run on ours (several block
# without a timeout when no completion comes).  That list may only shrink.
# topology: one
# impl: none
# timeout: 900
# memory: 3G
. "$TESTS/lib/guest-lib.sh"

suite=/usr/share/doc/rdma-core/tests
mods="test_device test_pd test_cq test_cq_events test_cqex test_mr test_addr test_qp test_qpex test_shared_pd test_parent_domain"
pending_list=$TESTS/lists/pyverbs-needs-transport
out=$RESULTS/pyverbs
mkdir -p "$out"

# run_suite IMPL [ARGS]: run the modules on rxe0, write "<status> <test id>"
# lines.  A completion that has not come in 5 s will not come (stock needs
# far less).
run_suite() {
	local impl=$1
	shift
	timeout 600 python3 "$TESTS/lib/pyverbs_run.py" --dev rxe0 \
		--poll-timeout 5 --out "$out/$impl.results" "$@" $mods \
		>"$out/$impl.log" 2>&1
	tail -n 3 "$out/$impl.log" | while IFS= read -r l; do tap_diag "$impl: $l"; done
}

tap_plan 8
tap_check "load stock rdma_rxe" rxe_load stock
tap_check "stock: rdma link add rxe0" rxe_add rxe0 "$IFACE"
ibv_devinfo -v -d rxe0 > "$out/stock.devinfo" 2>&1
run_suite stock
tap_check "stock: the suite ran" test -s "$out/stock.results"
rxe_del rxe0
modprobe -r rdma_rxe
tap_check "load our rdma_rxe" rxe_load ours
tap_check "ours: rdma link add rxe0" rxe_add rxe0 "$IFACE"
ibv_devinfo -v -d rxe0 > "$out/ours.devinfo" 2>&1
run_suite ours --exclude "$pending_list"
# ibv_devinfo -v: same netdev, same guest; we may differ only where we are
# better: the firmware version string, and on-demand paging (stock 6.1 has
# none: "NO SUPPORT" under every *_odp_caps; ours lists its capabilities).
odp_lines='^[[:space:]]+(ODP_SUPPORT[A-Z_]*|SUPPORT_[A-Z_]+|NO SUPPORT)$'
devinfo_rest() { grep -v 'fw_ver:' "$1" | grep -Ev "$odp_lines"; }
dv=$(diff <(devinfo_rest "$out/stock.devinfo") <(devinfo_rest "$out/ours.devinfo"))
if [ -z "$dv" ] && [ -s "$out/ours.devinfo" ] &&
   ! diff -q <(grep 'fw_ver:' "$out/stock.devinfo") <(grep 'fw_ver:' "$out/ours.devinfo") >/dev/null &&
   grep -Eq '^[[:space:]]+ODP_SUPPORT$' "$out/ours.devinfo" &&
   ! grep -Eq '^[[:space:]]+ODP_SUPPORT$' "$out/stock.devinfo"; then
	tap_ok "ibv_devinfo -v: ours and stock differ only in fw_ver and ours' ODP capabilities"
else
	tap_not_ok "ibv_devinfo -v: ours and stock differ only in fw_ver and ours' ODP capabilities" "$dv" \
		"$(diff "$out/stock.devinfo" "$out/ours.devinfo")"
fi

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
if [ ${#regress[@]} -eq 0 ]; then
	tap_ok "every test passing on stock passes on ours (or needs the transport)"
else
	tap_not_ok "every test passing on stock passes on ours" "${regress[@]}"
	tail -n 60 "$out/ours.log" | sed 's/^/#   /'
fi
tap_check "unload ours cleanly" rxe_unload
tap_done
