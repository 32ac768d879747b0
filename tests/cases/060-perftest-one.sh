#!/bin/bash
# perftest on our driver in one guest: server and client on the same rxe0
# (the driver loops the packets back internally).  RC send/write/read/atomic
# bandwidth and latency, UD and UC send bandwidth and latency.  perftest
# verifies no payload: each run must exit 0 on both ends, print a result row
# with a non-zero figure, and move the hw_counters (on loopback every packet
# counts as sent and as received).  Iterations are few: under TCG one 64 KiB
# message takes milliseconds; figures are in $RESULTS/perftest.
# topology: one
# impl: ours
# timeout: 600
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/perftest-lib.sh"

tap_plan 16
pt_setup
tap_diag "path MTU 1024 (eth0 MTU 1500)"
pt_suite loop pt_loop
tap_check "no ICRC/header drops, no exhausted retries" pt_no_errors
tap_diag "$(pt_no_errors | tr '\n' ' ')"
tap_done
