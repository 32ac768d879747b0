#!/bin/bash
# perftest with ODP memory regions across two guests, ours <-> ours, both
# sides --odp: write/read/send bandwidth and latency, each with the server
# on either guest.  Body: tests/lib/odp-perftest-two.sh.
# topology: two
# impl-a: ours
# impl-b: ours
# timeout: 1200
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-perftest-two.sh"
