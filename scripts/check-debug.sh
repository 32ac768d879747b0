#!/usr/bin/env bash
# make check-debug: build (or reuse) the KASAN/lockdep/kmemleak kernel from
# Debian's linux-source-6.1, build our modules against it, and run every
# guest case on it.  Any KASAN, lockdep or kmemleak report fails the run
# (the harness's dmesg patterns cover them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kdir_out=$("$root/tests/debug-kernel/build.sh" | tail -n 1)
[[ -d $kdir_out/build ]] || { echo "debug kernel build failed" >&2; exit 1; }
make -C "$root" KDIR="$kdir_out/build" modules userspace
# With 5-level paging under TCG, KASAN reports a false wild-memory-access
# at boot and lockdep then switches itself off.
export QEMU_CPU=${QEMU_CPU:-max,la57=off}
# The harness boots Debian's kernel through PVH (its uncompressed vmlinux);
# the debug kernel's extracted vmlinux stops at "Booting from ROM", so it
# boots as a bzImage.
export GUEST_PVH=${GUEST_PVH:-0}
# KASAN and lockdep make the guest several times slower (010 needed more
# than its 150 s at scale 1).
export TIMEOUT_SCALE=${TIMEOUT_SCALE:-4}
# The end-of-case kmemleak scans take 42-84 s on this kernel on a quiet
# host, 158 s measured at a host load of 13 (two guests scan at once).
export POST_MARGIN=${POST_MARGIN:-600}
# Booting this kernel to the case took up to 285 s under TCG with a host
# load of 13 (the harness default is 300 s).
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
# This kernel sometimes spins for good in early boot under TCG (the console
# stops after "Running RCU-tasks wait API self tests"; 2 of about 15 boots
# in sessions 7-8).  A healthy boot reaches init with no gap of more than a
# minute in its console, so 300 s of silence before init is a hang: the
# harness kills that guest and boots the case once more instead of waiting
# out BOOT_TIMEOUT.
export BOOT_STALL_TIMEOUT=${BOOT_STALL_TIMEOUT:-300}
status=0
"$root/tests/run" --kernel-dir "$kdir_out" "$@" || status=$?
# Leave the tree built for the Debian kernel again.
make -C "$root" KDIR="/usr/src/linux-headers-$("$root/tests/lib/kabi.sh")" modules >/dev/null
exit $status
