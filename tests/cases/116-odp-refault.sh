#!/bin/bash
# ODP re-faulting (userspace/odp-verbs/odp-refault): odp-verify's
# operations, but before every operation the ODP buffers are dropped with
# madvise(MADV_DONTNEED), so each one finds the driver's earlier mappings
# invalidated and its pages gone; destinations are left without pages,
# with zero pages mapped by CPU reads, or re-filled.  Every byte checked.
# The device's fault and invalidation counters (hw_counters) must grow in
# every iteration (combinations: local, remote, both, implicit), and at
# the end of each combination the per-MR counters
# (rdma statistic show mr) of the program's ODP MRs must show faults and
# invalidations, its pinned MRs none.  Control: the same program with
# --pinned must FAIL (a pinned MR keeps the pages it pinned, so after
# MADV_DONTNEED the device and the process see different memory), which
# shows that the checks catch stale mappings.  RXE_TEST_ODP_PINNED=1 is not
# meaningful here: the pinned run is the control.
# topology: one
# impl: ours
# timeout: 300
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-lib.sh"

OUT=$RESULTS/odp-refault
mkdir -p "$OUT"
ITERS=${RXE_TEST_ODP_ITERS:-2}
# Counter names (docs/DESIGN.md): device totals in hw_counters, per MR in
# rdma statistic show mr.
DEV_FAULTS=${ODP_DEV_FAULTS:-odp_page_faults}
DEV_INVALS=${ODP_DEV_INVALS:-odp_page_invalidations}
MR_FAULTS=page_faults
MR_INVALS=page_invalidations

tap_plan 10
odp_need_progs odp-refault
odp_setup

# The hook runs inside odp-refault at the end of each combination, while
# its MRs exist: the per-MR statistics and resources, as JSON.
hook=$OUT/at-end.sh
cat >"$hook" <<EOF
#!/bin/sh
rdma -j -d resource show mr >"$OUT/mr-res.\$ODPV_COMBO.json" 2>&1
rdma -j statistic show mr >"$OUT/mr-stat.\$ODPV_COMBO.json" 2>&1
rdma statistic show mr >"$OUT/mr-stat.\$ODPV_COMBO.txt" 2>&1
echo "\$ODPV_PID \$ODPV_MRS" >"$OUT/mr-keys.\$ODPV_COMBO"
EOF
chmod +x "$hook"

grow=()
[ "$ODP_PINNED" = 1 ] || grow=(--expect-grow "$DEV_FAULTS" --expect-grow "$DEV_INVALS")
f0=$(odp_hc "$DEV_FAULTS") i0=$(odp_hc "$DEV_INVALS")
t0=$SECONDS
odp_run_prog "$OUT/refault.log" "$ODPV_DIR/odp-refault" -d rxe0 -g "$GIDX" -n "$ITERS" \
	-s "$RANDOM" --at-end "$hook" "${grow[@]}" "${ODP_MODE[@]}"
f1=$(odp_hc "$DEV_FAULTS") i1=$(odp_hc "$DEV_INVALS")
tap_diag "odp-refault -n $ITERS $ODP_DESC took $((SECONDS - t0))s"
tap_diag "$DEV_FAULTS $f0 -> $f1, $DEV_INVALS $i0 -> $i1"
grep -E 'iteration [0-9]+: (odp|page|[a-z_]*fault|[a-z_]*inval)' "$OUT/refault.log" |
	while read -r l; do tap_diag "$l"; done
tap_check "odp-refault $ODP_DESC: every byte and completion as expected" \
	odp_judge "$OUT/refault.log"

combos="local remote both implicit"
grep -q 'implicit combination skipped' "$OUT/refault.log" && combos="local remote both"
ncombo=$(wc -w <<<"$combos")
if [ "$ODP_PINNED" = 1 ]; then
	tap_skip "$DEV_FAULTS grew in every iteration" "pinned run"
	tap_skip "$DEV_INVALS grew in every iteration" "pinned run"
	tap_skip "device totals grew over the run" "pinned run"
	tap_skip "per-MR counters: ODP MRs faulted and were invalidated, pinned MRs not" "pinned run"
else
	tap_check "$DEV_FAULTS grew in every iteration" sh -c "
		! grep -q 'FAIL.*counter $DEV_FAULTS' '$OUT/refault.log' &&
		[ \$(grep -c 'iteration [0-9]*: $DEV_FAULTS +' '$OUT/refault.log') = $((ITERS * ncombo)) ]"
	tap_check "$DEV_INVALS grew in every iteration" sh -c "
		! grep -q 'FAIL.*counter $DEV_INVALS' '$OUT/refault.log' &&
		[ \$(grep -c 'iteration [0-9]*: $DEV_INVALS +' '$OUT/refault.log') = $((ITERS * ncombo)) ]"
	tap_check "device totals grew over the run ($DEV_FAULTS +$((f1 - f0)), $DEV_INVALS +$((i1 - i0)))" \
		test "$f1" -gt "$f0" -a "$i1" -gt "$i0"
	# For each combination: our MRs by lkey -> mrn (resources) -> counters (statistics).
	mr_counters() {
		local c rc=0
		for c in $combos; do
			python3 - "$OUT" "$c" "$MR_FAULTS" "$MR_INVALS" <<'PY' || rc=1
import json, sys
out, combo, kf, ki = sys.argv[1:5]
pid, *mrs = open(f"{out}/mr-keys.{combo}").read().split()
res = json.load(open(f"{out}/mr-res.{combo}.json"))
stat = json.load(open(f"{out}/mr-stat.{combo}.json"))
ok = True
for m in mrs:
    name, lkey, kind = m.split(":")
    r = [x for x in res if int(str(x.get("lkey", "-1")), 16) == int(lkey, 0)
         and str(x.get("pid")) == pid]
    if len(r) != 1:
        print(f"{combo} {name}: lkey {lkey} of pid {pid}: {len(r)} resource entries")
        ok = False
        continue
    s = [x for x in stat if x.get("mrn") == r[0]["mrn"] and x.get("ifname", x.get("dev")) == r[0].get("ifname", r[0].get("dev"))]
    if len(s) != 1:
        print(f"{combo} {name}: mrn {r[0]['mrn']}: {len(s)} statistic entries")
        ok = False
        continue
    f, i = int(s[0].get(kf, -1)), int(s[0].get(ki, -1))
    good = (f > 0 and i > 0) if kind == "odp" else (f <= 0 and i <= 0)
    print(f"{combo} {name} ({kind}) mrn {r[0]['mrn']}: {kf} {f} {ki} {i}: {'ok' if good else 'WRONG'}")
    ok &= good
sys.exit(0 if ok else 1)
PY
		done
		return $rc
	}
	tap_check "per-MR counters: ODP MRs faulted and were invalidated, pinned MRs not" mr_counters
	mr_counters 2>&1 | while read -r l; do tap_diag "$l"; done
fi

odp_run_prog "$OUT/control.log" "$ODPV_DIR/odp-refault" -d rxe0 -g "$GIDX" -n 1 -t write,read \
	-s "$RANDOM" --pinned
tap_diag "control: $(grep -E '^odp-refault: [0-9]+ checks' "$OUT/control.log")"
tap_check "control: odp-refault --pinned sees the MR and the process diverge (exit 1, data FAILs)" sh -c "
	[ \$(cat '$OUT/control.log.rc') = 1 ] && grep -q '^FAIL combo pinned: .* data .*expected' '$OUT/control.log'"

tap_check "our modules unload" rxe_unload
tap_done
