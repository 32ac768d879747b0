#!/bin/bash
# perftest across two guests, ours with ODP memory regions (--odp) <-> the
# stock in-tree rdma_rxe with pinned MRs: write/read/send bandwidth and
# latency, each with the server on either guest.  Body:
# tests/lib/odp-perftest-two.sh.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 1200
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-perftest-two.sh"
