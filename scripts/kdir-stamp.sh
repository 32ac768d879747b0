#!/usr/bin/env bash
# Remember which kernel tree the in-tree objects were built against; when
# it changes, clean them so nothing links against the wrong Module.symvers.
#   kdir-stamp.sh KDIR     record KDIR, cleaning first if it changed
#   kdir-stamp.sh --clean  remove the kbuild products and the stamp
#
# Never "make M=<repo> clean": kbuild's external-module clean deletes every
# *.ko, *.[aios], modules.order ... anywhere under M, and the repository
# holds the guest cache (.cache/guest: the guest kernel's modules) and
# test results.  Switching KDIR (make check-debug does it twice) used to
# wipe the Debian guest kernel's modules that way.  Only the directories
# that Kbuild builds are cleaned here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stamp=$root/.kdir-stamp

clean_objects() {
	find "$root/drivers" "$root/kernel-notifier" -type f \
		\( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		   -o -name '.*.cmd' -o -name '.*.d' -o -name 'modules.order' \
		   -o -name '*.symtypes' -o -name '*.dwo' -o -name '*.su' \) -delete
	rm -f "$root/Module.symvers" "$root/modules.order" \
		"$root/.Module.symvers.cmd" "$root/.modules.order.cmd"
}

if [[ ${1:-} == --clean ]]; then
	clean_objects
	rm -f "$stamp"
	exit 0
fi
kdir=${1:?usage: kdir-stamp.sh KDIR | --clean}
if [[ -f $stamp && $(cat "$stamp") != "$kdir" ]]; then
	echo "kernel tree changed ($(cat "$stamp") -> $kdir): cleaning" >&2
	clean_objects
fi
echo "$kdir" > "$stamp"
