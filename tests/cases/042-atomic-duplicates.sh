#!/bin/bash
# RC atomics whose acknowledges are lost: the requester resends the atomic
# (same PSN) after its ACK timeout, and the responder must answer the
# duplicate with the original value its first execution returned, from its
# responder resources, without executing it a second time.  The driver's
# transmit fault injection (<debugfs>/rdma_rxe/xmit_drop_opcode and
# xmit_drop_every) loses every 3rd ATOMIC ACKNOWLEDGE (opcode 0x12) on
# rxe0's loopback.  userspace/odp-verbs/odp-verify -t atomic then checks
# every returned value and the target memory: a FETCH_ADD executed twice
# leaves the target off by the added value, a CAS executed twice returns
# the wrong original; a dropped duplicate runs out of retries.  Pinned
# memory, then ODP on both sides.
# topology: one
# impl: ours
# timeout: 600
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-lib.sh"

OUT=$RESULTS/atomic-dup
mkdir -p "$OUT"
DBG=/sys/kernel/debug/rdma_rxe

tap_plan 13
odp_need_progs odp-verify
odp_setup
tap_check "transmit fault injection knobs exist" \
	test -w "$DBG/xmit_drop_opcode" -a -w "$DBG/xmit_drop_every" -a -r "$DBG/xmit_dropped"

# inject OPCODE EVERY: lose every EVERYth packet of OPCODE we send (0: off)
inject() { echo "$1" >"$DBG/xmit_drop_opcode" && echo "$2" >"$DBG/xmit_drop_every"; }

drop0=$(cat "$DBG/xmit_dropped")
dup0=$(odp_hc duplicate_request) retry0=$(odp_hc completer_retry_err)
tap_check "lose every 3rd ATOMIC ACKNOWLEDGE (opcode 0x12)" inject 18 3
for mode in pinned both; do
	if [ "$mode" = pinned ]; then args=(--pinned); else args=(--odp both); fi
	odp_run_prog "$OUT/$mode.log" "$ODPV_DIR/odp-verify" -d rxe0 -g "$GIDX" -n 2 \
		-t atomic -s "$RANDOM" "${args[@]}"
	tap_check "odp-verify -t atomic ${args[*]}: every returned value and the target as expected" \
		odp_judge "$OUT/$mode.log"
done
tap_check "injection off" inject 256 0
drop=$(($(cat "$DBG/xmit_dropped") - drop0))
dup=$(($(odp_hc duplicate_request) - dup0))
retry=$(($(odp_hc completer_retry_err) - retry0))
tap_diag "atomic ACKs lost: $drop; duplicate requests seen: $dup; ACK timeouts: $retry"
tap_check "atomic acknowledges were lost ($drop)" test "$drop" -gt 0
tap_check "each loss was recovered by a resend the responder saw as a duplicate ($dup >= $drop)" \
	test "$dup" -ge "$drop"
tap_check "the requester timed out and resent ($retry timeouts)" test "$retry" -gt 0
tap_check "no retry counter ran out" test "$(odp_hc retry_exceeded_err)" = 0
tap_check "our modules unload" rxe_unload
tap_done
