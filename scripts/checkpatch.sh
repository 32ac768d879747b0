#!/usr/bin/env bash
# Run the kernel's checkpatch.pl --strict over the project's kernel C.
# checkpatch comes from Debian's linux-source-6.1 tarball (installed on
# demand) and is cached outside the clone; pass files to check only those.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cache=${RXE_ODP_TOOLS:-/var/cache/rxe-odp/tools}
tarball=/usr/src/linux-source-6.1.tar.xz

if [[ ! -f $tarball ]]; then
	echo "checkpatch: installing linux-source-6.1" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-source-6.1 >&2
fi
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
dir=$cache/checkpatch-$ver
if [[ ! -x $dir/scripts/checkpatch.pl ]]; then
	mkdir -p "$dir.tmp"
	tar -C "$dir.tmp" --strip-components=1 -xJf "$tarball" \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi

cd "$root"
if (($#)); then
	files=("$@")
else
	mapfile -t files < <(git ls-files -co --exclude-standard \
		'drivers/*.[ch]' 'kernel-notifier/*.[ch]' |
		grep -v '\.mod\.c$' | sort -u)
fi
((${#files[@]})) || { echo "checkpatch: no files" >&2; exit 0; }

# FILE_PATH_CHANGES and SPDX placement are about patches to the kernel tree
# itself, not about this out-of-tree layout.
if "$dir/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES -f "${files[@]}"; then
	echo "checkpatch: ${#files[@]} files clean"
else
	echo "checkpatch: problems found (see above)" >&2
	exit 1
fi
