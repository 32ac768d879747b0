#!/usr/bin/env bash
# Remember which kernel tree the in-tree objects were built against; when
# it changes, clean them so nothing links against the wrong Module.symvers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kdir=$1
stamp=$root/.kdir-stamp
if [[ -f $stamp && $(cat "$stamp") != "$kdir" ]]; then
	echo "kernel tree changed ($(cat "$stamp") -> $kdir): cleaning" >&2
	make -s -C "$(cat "$stamp")" M="$root" clean >/dev/null 2>&1 ||
		find "$root/drivers" "$root/kernel-notifier" \
			\( -name '*.o' -o -name '*.ko' -o -name '*.mod*' \
			   -o -name '.*.cmd' \) -delete
fi
echo "$kdir" > "$stamp"
