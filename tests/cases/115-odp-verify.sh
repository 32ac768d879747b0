#!/bin/bash
# ODP data path (userspace/odp-verbs/odp-verify): RC and UD QP pairs in one
# process on rxe0 (loopback), buffers registered with IBV_ACCESS_ON_DEMAND on
# the local side, the remote side, both, and through one implicit ODP MR.  RDMA WRITE/READ, SEND/RECV on
# an RQ and an SRQ, WRITE with immediate, FETCH_ADD/CAS and UD SEND in
# one-byte, page-crossing, multi-page and 1 MiB (multi-packet) shapes at odd
# offsets with 1-3 SGEs; every byte of both buffers and every completion
# checked.  RXE_TEST_ODP_PINNED=1 runs the same without ON_DEMAND.
# topology: one
# impl: ours
# timeout: 300
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-lib.sh"

OUT=$RESULTS/odp-verify
mkdir -p "$OUT"
ITERS=${RXE_TEST_ODP_ITERS:-2}

tap_plan 11
odp_need_progs odp-verify
odp_setup
tap_diag "ODP caps: $(odp_caps | tr -s ' \t\n' ' ')"

hc0=$(odp_hc_all)
t0=$SECONDS
odp_run_prog "$OUT/verify.log" "$ODPV_DIR/odp-verify" -d rxe0 -g "$GIDX" -n "$ITERS" \
	-s "$RANDOM" "${ODP_MODE[@]}"
tap_diag "odp-verify -n $ITERS $ODP_DESC took $((SECONDS - t0))s"
tap_check "odp-verify $ODP_DESC (local, remote, both, implicit): every byte and completion as expected" \
	odp_judge "$OUT/verify.log"
grep -E '^odp-verify: .*caps' "$OUT/verify.log" | while read -r l; do tap_diag "$l"; done
hc1=$(odp_hc_all)
tap_diag "hw counters before: $hc0" "hw counters after:  $hc1"
hcval() { awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' <<<"$2"; }
if [ "$ODP_PINNED" = 1 ]; then
	tap_skip "odp_page_faults grew (the device faulted pages in)" "pinned run"
else
	tap_check "odp_page_faults grew (the device faulted pages in)" \
		test "$(hcval odp_page_faults "$hc1")" -gt "$(hcval odp_page_faults "$hc0")"
fi
# combinations: pinned only, or local, remote, both and (if the device
# advertises it) implicit
ncombo=4
[ "$ODP_PINNED" = 1 ] && ncombo=1
grep -q 'implicit combination skipped' "$OUT/verify.log" && ncombo=3 &&
	tap_diag "the device does not advertise implicit ODP: that combination was skipped"
tap_check "$ITERS iterations of each of $ncombo combinations reported ok" sh -c "
	n=\$(grep -cE 'iteration [0-9]+: [0-9]+ operations, ok' '$OUT/verify.log')
	echo \"\$n of $((ITERS * ncombo)) iterations ok\"; [ \"\$n\" = $((ITERS * ncombo)) ]"

# Tests one at a time on a bigger buffer, both sides ODP: a failure in one
# kind of operation shows by name.
for t in write,read send,srq,imm atomic,ud; do
	odp_run_prog "$OUT/only-$t.log" "$ODPV_DIR/odp-verify" -d rxe0 -g "$GIDX" -n 1 -S 3M \
		-t "$t" --odp both -s "$RANDOM" "${ODP_MODE[@]}"
	tap_check "odp-verify -t $t -S 3M --odp both" odp_judge "$OUT/only-$t.log"
done

# The checks themselves: one flipped byte must fail the run at its offset.
odp_run_prog "$OUT/inject.log" "$ODPV_DIR/odp-verify" -d rxe0 -g "$GIDX" -n 1 -t write \
	--odp both --inject-error "${ODP_MODE[@]}"
inj=$(sed -n 's/.*--inject-error: flipped bits of R at offset \([0-9]*\)$/\1/p' "$OUT/inject.log")
tap_check "--inject-error: the flipped byte at R offset ${inj:-?} fails the run (exit 1)" sh -c "
	grep -E '^FAIL' '$OUT/inject.log'
	[ -n '$inj' ] && [ \$(cat '$OUT/inject.log.rc') = 1 ] &&
	[ \$(grep -c '^FAIL' '$OUT/inject.log') = 1 ] &&
	grep -q '^FAIL .*: R data (piece 0 of 1): offset $inj ' '$OUT/inject.log'"

tap_check "our modules unload" rxe_unload
tap_done
