#!/bin/bash
# Harness self-test: a real kernel WARNING in the guest must fail the case,
# even though the case's own TAP is clean and it exits 0.  The module
# tests/kmod/harness_warn.ko (built on the host by tests/run) warns in its
# init and then refuses to load.
# topology: one
# impl: none
# timeout: 60
# needs: harness-kmod
# expect: fail
# expect-reason: bad kernel messages.*WARNING
. "$TESTS/lib/guest-lib.sh"

ko=$HARNESS_KMOD_DIR/harness_warn.ko
[ -f "$ko" ] || tap_bail "$ko was not built"
tap_plan 2
if insmod "$ko" 2>/dev/null; then
	tap_not_ok "harness_warn refuses to load"
else
	tap_ok "harness_warn refuses to load"
fi
tap_check "the warning reached the kernel log" grep -q 'harness_warn: deliberate warning' <(dmesg)
tap_done
