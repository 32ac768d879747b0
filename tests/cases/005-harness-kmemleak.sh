#!/bin/bash
# Harness self-test: a kmemleak report after the case must fail it, even
# though the case's own TAP is clean and it exits 0.  The module
# tests/kmod/harness_leak.ko drops the only pointers to a few objects it
# allocates while loading and stays loaded; the harness's kmemleak scans
# after the case (tests/guest/guest-init.sh) must find them.  Runs only on a
# kernel with kmemleak (make check-debug); tests/run skips it elsewhere.
# topology: one
# impl: none
# timeout: 60
# needs: harness-kmod kmemleak
# expect: fail
# expect-reason: kmemleak: [0-9]+ unreferenced object.*harness_leak
. "$TESTS/lib/guest-lib.sh"

ko=$HARNESS_KMOD_DIR/harness_leak.ko
[ -f "$ko" ] || tap_bail "$ko was not built"
tap_plan 3
tap_check "kmemleak is active" test -w /sys/kernel/debug/kmemleak
tap_check "insmod harness_leak" insmod "$ko"
tap_check "it reports the lost objects" grep -q 'harness_leak: lost 8 objects' <(dmesg)
tap_done
