#!/bin/bash
# perftest between two guests, both on our driver, over the Ethernet link:
# guest b serves, guest a runs the clients.  The same coverage set as 060
# (RC send/write/read/atomic bandwidth and latency, UD and UC send), judged
# the same way on both guests: exit status on both ends, a non-zero result
# row, hw_counters moved.  The pair is symmetric, so one direction suffices.
# topology: two
# impl: ours
# timeout: 600
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/perftest-lib.sh"

tap_plan 17
pt_setup
peer=$(peer_sync ready "$RXE_IMPL:$PT_GIDX")
tap_check "peer is up (${peer:-no answer})" test -n "$peer"
pt_suite srv-b pt_side b
tap_check "no ICRC/header drops, no exhausted retries" pt_no_errors
tap_diag "$(pt_no_errors | tr '\n' ' ')"
peer_sync end "$RXE_IMPL" >/dev/null
tap_done
