#!/bin/bash
# RC under 1% packet loss (tc netem on both guests), both guests running
# our driver: ibv_rc_pingpong -c and rping -V (RDMA READ and WRITE) in both
# directions complete with the data verified; the hw_counters show the
# recovery (retransmission timeouts, sequence NAKs).
# topology: two
# impl-a: ours
# impl-b: ours
# timeout: 1800
# post-margin: 120
. "$TESTS/lib/loss-pair.sh"
