#!/usr/bin/env bash
# Install the host packages a build needs, only those that are missing.
#   scripts/deps.sh build    compiler, kernel headers for the guest ABI, sparse,
#                            libibverbs for the userspace programs
# The guest harness installs its own (qemu, debootstrap, ...) in tests/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

want=(build-essential bc bison flex libelf-dev sparse pkg-config
      libibverbs-dev librdmacm-dev xz-utils)
abi=$("$root/tests/lib/kabi.sh")
want+=("linux-headers-$abi")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "${missing[@]}" >&2 || {
		apt-get update -q >&2
		apt-get install -y -q "${missing[@]}" >&2
	}
fi
