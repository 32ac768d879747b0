#!/bin/bash
# Fixture for tests/cases/004: expected to fail with a non-zero exit, and does.
# topology: host
# timeout: 20
# expect: fail
# expect-reason: exited with status 3
echo "1..1"
echo "ok 1 - fine so far"
exit 3
