#!/bin/bash
# Fixture for tests/cases/004: expected to fail on a kernel warning, but fails
# because a test point fails.
# topology: host
# timeout: 20
# expect: fail
# expect-reason: bad kernel messages
echo "1..1"
echo "not ok 1 - an ordinary failure"
exit 1
