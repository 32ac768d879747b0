#!/usr/bin/env bash
# Run sparse (make C=2) over every kernel source file; any sparse
# warning or error in our files fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kdir=$1
"$root/scripts/kdir-stamp.sh" "$kdir"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make -C "$kdir" M="$root" C=2 CHECK="sparse" modules >"$log" 2>&1 || {
	cat "$log"
	exit 1
}
if grep -E "^$root/.*: (warning|error):" "$log" ||
   grep -E "^(drivers|kernel-notifier)/.*: (warning|error):" "$log"; then
	echo "sparse: problems found" >&2
	exit 1
fi
n=$(grep -c '^  CHECK' "$log" || true)
echo "sparse: $n files clean"
