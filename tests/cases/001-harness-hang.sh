#!/bin/bash
# Harness self-test: a guest that hangs for good must be killed from the host
# and the case failed, with its console shown.  The module
# tests/kmod/harness_hang.ko freezes every CPU (stop_machine with a busy-wait
# callback), so nothing in the guest, not even its own timeout, can run again.
# topology: one
# impl: none
# timeout: 5
# post-margin: 5
# needs: harness-kmod
# expect: fail
# expect-reason: host timeout
. "$TESTS/lib/guest-lib.sh"

ko=$HARNESS_KMOD_DIR/harness_hang.ko
[ -f "$ko" ] || tap_bail "$ko was not built"
tap_plan 2
tap_ok "about to hang the guest"
insmod "$ko"
tap_not_ok "insmod harness_hang returned (it should freeze the guest for an hour)"
tap_done
