#!/bin/bash
# Harness self-test, on the host: "# expect: fail" must not turn a passing case
# (or one failing for a reason other than its expect-reason) into a pass.
# Runs tests/run on the fixtures in tests/selftest/cases and checks its verdicts.
# topology: host
# timeout: 120
. "$TESTS/lib/guest-lib.sh"

nested=$RESULTS/nested
"$TESTS/run" --cases-dir "$TESTS/selftest/cases" --out "$nested" >"$RESULTS/nested.tap" 2>"$RESULTS/nested.log"
rc=$?
tap_plan 5
tap_check "nested run exits non-zero" test "$rc" -ne 0
tap_check "a passing expect-fail case is not ok" \
	grep -q '^not ok [0-9]* - 900-expect-fail-but-passes # expected to fail, but passed' "$RESULTS/nested.tap"
tap_check "an expect-fail case failing for another reason is not ok" \
	grep -q '^not ok [0-9]* - 901-expect-fail-wrong-reason # expected to fail matching' "$RESULTS/nested.tap"
tap_check "an expect-fail case failing as expected is ok" \
	grep -q '^ok [0-9]* - 902-expect-fail-right-reason # expected failure' "$RESULTS/nested.tap"
tap_check "summary line is '1 passed, 2 failed'" grep -qx '1 passed, 2 failed' "$RESULTS/nested.tap"
[ "$_tap_failed" -eq 0 ] || sed 's/^/# nested: /' "$RESULTS/nested.tap"
tap_done
