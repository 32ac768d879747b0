#!/bin/bash
# perftest between our driver (guest a) and the stock rdma_rxe (guest b)
# over the Ethernet link, in both directions: first b serves and our guest
# runs the clients (ours initiates: requester/completer on ours, responder
# on stock), then a serves (stock initiates).  The coverage set of 060
# each way, judged the same way on both guests: exit status on both ends,
# a non-zero result row, hw_counters moved.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 900
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/perftest-lib.sh"

PT_PAIR_SLOW=1
tap_plan 30
pt_setup
peer=$(peer_sync ready "$RXE_IMPL:$PT_GIDX")
tap_check "peer is up (${peer:-no answer})" test -n "$peer"
pt_suite srv-b pt_side b
pt_suite srv-a pt_side a
tap_check "no ICRC/header drops, no exhausted retries" pt_no_errors
tap_diag "$(pt_no_errors | tr '\n' ' ')"
peer_sync end "$RXE_IMPL" >/dev/null
tap_done
