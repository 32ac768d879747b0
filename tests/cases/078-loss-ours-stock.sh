#!/bin/bash
# RC under 1% packet loss (tc netem on both guests) between our driver
# (guest a) and the in-tree rdma_rxe (guest b): ibv_rc_pingpong -c and
# rping -V (RDMA READ and WRITE) in both directions complete with the data
# verified; the hw_counters show the recovery on each side.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 1800
# post-margin: 120
. "$TESTS/lib/loss-pair.sh"
