#!/bin/bash
# scratch: verbsev rc-reset on ours, 3 runs
# topology: one
# impl: none
# timeout: 900
. "$TESTS/lib/guest-lib.sh"
VE=$REPO/userspace/verbsev/verbsev
OUT=$RESULTS/rcreset
mkdir -p "$OUT"
tap_plan 7
ve() { timeout 300 "$VE" -d rxe0 -t 30 rc-reset >"$OUT/$1.log" 2>&1; rc=$?; cat "$OUT/$1.log"; [ $rc = 0 ]; }
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
tap_check "ours: load" rxe_load ours
tap_check "ours: add" rxe_add rxe0 "$IFACE"
tap_check "ours: wait gid" wait_gid "$MY_IP"
for i in 1 2 3; do tap_check "ours: rc-reset $i" ve ours$i; done
rxe_del rxe0
tap_check "unload" rxe_unload
tap_done
