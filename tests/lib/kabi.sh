#!/bin/bash
# Print the ABI name of Debian 12's current kernel (e.g. "6.1.0-56-amd64").
#
# Interface (used by the top-level Makefile and the guest harness):
#   no arguments; prints the ABI string on stdout; exits non-zero on failure.
# The answer comes from the archive's dependency of the linux-image-amd64
# metapackage, so a new kernel upload is picked up without editing anything.
# Set KABI to skip the lookup (e.g. to pin an older ABI while bisecting).
# The answer is cached in <repo>/.cache/kabi (KABI_CACHE) until apt's package
# lists change.
set -u

if [ -n "${KABI:-}" ]; then
	printf '%s\n' "$KABI"
	exit 0
fi

# apt-cache rebuilds its package cache on every call here (seconds on a busy
# host), so the answer is remembered until the package lists change.
cache=${KABI_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.cache/kabi}
if [ -s "$cache" ] &&
	[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$cache" -print -quit 2>/dev/null)" ]; then
	cat "$cache"
	exit 0
fi

lookup() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' |
		grep -v -e '-unsigned$' -e '-dbg$' | sort -V | tail -n 1
}

abi=$(lookup)
if [ -z "$abi" ]; then
	# Empty or stale package lists: refresh once and ask again.
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq >/dev/null 2>&1 || apt-get update >&2
	fi
	abi=$(lookup)
fi
if [ -z "$abi" ]; then
	echo "kabi.sh: cannot resolve the kernel ABI from 'apt-cache depends linux-image-amd64'" >&2
	exit 1
fi
mkdir -p "$(dirname "$cache")" 2>/dev/null && printf '%s\n' "$abi" >"$cache.$$" && mv "$cache.$$" "$cache"
printf '%s\n' "$abi"
