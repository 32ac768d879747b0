#!/bin/bash
# ODP and fork() (userspace/odp-verbs/odp-fork): without ibv_fork_init and
# without MADV_DONTFORK (rdma-core does not set it on ON_DEMAND memory), a
# parent holding an ODP MR forks; the parent breaks COW on part of the
# buffer with the CPU, the child on another part, and RDMA WRITEs from
# another MR into all three kinds of pages (parent-written, still shared,
# child-written) must land in the parent's pages only: the parent sees the
# new data (CPU and RDMA READ), the child its old copy.  Several forks of
# one registration.  RXE_TEST_ODP_PINNED=1 runs it without ON_DEMAND.
# topology: one
# impl: ours
# timeout: 240
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-lib.sh"

OUT=$RESULTS/odp-fork
mkdir -p "$OUT"

tap_plan 9
odp_need_progs odp-fork
odp_setup

inv0=$(odp_hc odp_page_invalidations)
t0=$SECONDS
odp_run_prog "$OUT/fork.log" "$ODPV_DIR/odp-fork" -d rxe0 -g "$GIDX" -n 4 -s "$RANDOM" "${ODP_MODE[@]}"
tap_diag "odp-fork -n 4 (64 pages) $ODP_DESC took $((SECONDS - t0))s"
tap_check "odp-fork $ODP_DESC: parent and child each see their own pages" \
	odp_judge "$OUT/fork.log"
inv1=$(odp_hc odp_page_invalidations)
tap_check "all 4 iterations ok" sh -c "[ \$(grep -c 'iteration [0-9]: ok' '$OUT/fork.log') = 4 ]"
# Each fork write-protects P's pages, each COW break replaces some: the
# driver's mappings must have been invalidated.
if [ "$ODP_PINNED" = 1 ]; then
	tap_skip "odp_page_invalidations grew during the forks" "pinned run"
else
	tap_check "odp_page_invalidations grew during the forks ($inv0 -> $inv1)" test "$inv1" -gt "$inv0"
fi

# A bigger buffer (2 MiB regions) in one iteration: many packets per write,
# and an 8 MiB RDMA READ answered by the loopback responder, which must
# pause for the requester (loopback back-pressure) instead of overrunning
# its receive queue (before that, every response past 4096 was dropped and
# the READ crawled through retransmission timeouts).
qf0=$(odp_hc rcvd_queue_full)
odp_run_prog "$OUT/fork-big.log" "$ODPV_DIR/odp-fork" -d rxe0 -g "$GIDX" -n 1 -S 8M \
	-s "$RANDOM" "${ODP_MODE[@]}"
tap_check "odp-fork -S 8M $ODP_DESC" odp_judge "$OUT/fork-big.log"
qf1=$(odp_hc rcvd_queue_full)
tap_check "no receive queue overflowed ($qf0 -> $qf1 rcvd_queue_full)" test "$qf1" = "$qf0"

tap_check "our modules unload" rxe_unload
tap_done
