#!/bin/bash
# Build (or reuse from the cache) everything a test guest boots from:
#   $GUEST_CACHE/kernel-<abi>/       Debian's current 6.1 kernel as a "kernel dir"
#   $GUEST_CACHE/rootfs-<suite>/     debootstrapped root, shared read-only over 9p
#   $GUEST_CACHE/initramfs/<...>.gz  busybox initramfs for one kernel dir
#
# Usage: tests/guest/build.sh [--kernel-dir DIR] [--rootfs-only]
#   --kernel-dir DIR  build the initramfs for DIR instead of the Debian kernel
#                     (DIR must follow the kernel-dir layout, see tests/README.md)
# On success prints, on stdout:  KERNEL_DIR=...  KERNEL=...  ROOTFS=...  INITRD=...
# (KERNEL is an uncompressed PVH-bootable vmlinux when one could be made,
# else the kernel dir's vmlinuz; GUEST_PVH=0 forces vmlinuz).
# Everything is cached; a second run with nothing changed takes about a second.
set -euo pipefail
export LOG_TAG=build
# shellcheck source=../lib/host-common.sh
. "$(dirname "$0")/../lib/host-common.sh"

kernel_dir=
rootfs_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel-dir) kernel_dir=${2:?}; shift 2 ;;
	--rootfs-only) rootfs_only=1; shift ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
done

# Packages of the root filesystem.  Changing this list rebuilds the rootfs.
ROOTFS_PKGS=(
	rdma-core ibverbs-utils ibverbs-providers perftest rdmacm-utils
	python3 python3-pyverbs
	iproute2 kmod procps iputils-ping ethtool tcpdump
	busybox util-linux coreutils zstd
	nvme-cli
)
# Bump when the post-processing below changes.
ROOTFS_RECIPE=1
# Modules the initramfs needs, in load order; missing ones are built in.
# virtio_net (with its dependencies) comes last so the initramfs can also
# bring the network up with the static busybox, which is quicker than doing it
# later with the rootfs's dynamically linked tools.
INITRD_MODS=(netfs fscache 9pnet 9p virtio_ring virtio virtio_pci_legacy_dev
	virtio_pci_modern_dev virtio_pci 9pnet_virtio overlay virtio_net)

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, dpkg -x ownership)"
ensure_pkgs qemu-system-x86 debootstrap busybox-static cpio kmod zstd xz-utils gzip \
	binutils util-linux
mkdir -p "$GUEST_CACHE"
exec 9>"$GUEST_CACHE/.lock"
flock 9

# --- Debian kernel dir -------------------------------------------------------
build_debian_kernel() {
	local abi dir tmp deb
	abi=$("$TESTS_DIR/lib/kabi.sh") || die "cannot resolve the kernel ABI"
	dir=$GUEST_CACHE/kernel-$abi
	if [ -f "$dir/.complete" ]; then
		printf '%s\n' "$dir"
		return
	fi
	log "fetching linux-image-$abi"
	tmp=$(mktemp -d "$GUEST_CACHE/.kernel-$abi.XXXXXX")
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$abi" >&2) ||
		{ apt-get update -qq >&2; (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$abi" >&2); } ||
		die "apt-get download linux-image-$abi failed"
	deb=$(ls "$tmp"/linux-image-*.deb)
	dpkg -x "$deb" "$tmp/x"
	mkdir -p "$tmp/k/modules/lib/modules"
	cp "$tmp/x/boot/vmlinuz-$abi" "$tmp/k/vmlinuz"
	if [ -d "$tmp/x/lib/modules/$abi" ]; then
		mv "$tmp/x/lib/modules/$abi" "$tmp/k/modules/lib/modules/"
	else
		mv "$tmp/x/usr/lib/modules/$abi" "$tmp/k/modules/lib/modules/"
	fi
	# The package's build/source links point at host paths; the guest has no use for them.
	rm -f "$tmp/k/modules/lib/modules/$abi/build" "$tmp/k/modules/lib/modules/$abi/source"
	cp "$tmp/x/boot/config-$abi" "$tmp/k/config" 2>/dev/null || true
	echo "$abi" >"$tmp/k/kver"
	depmod -b "$tmp/k/modules" "$abi"
	touch "$tmp/k/.complete"
	rm -rf "$dir"
	mv "$tmp/k" "$dir"
	rm -rf "$tmp"
	log "kernel dir ready: $dir"
	printf '%s\n' "$dir"
}

# --- root filesystem -----------------------------------------------------------
build_rootfs() {
	local dir=$GUEST_CACHE/rootfs-$GUEST_SUITE want mirror new inc
	want=$(printf '%s\n' "suite=$GUEST_SUITE" "recipe=$ROOTFS_RECIPE" "${ROOTFS_PKGS[@]}" |
		sha256sum | cut -c1-16)
	if [ -f "$dir/.harness-stamp" ] && [ "$(cat "$dir/.harness-stamp")" = "$want" ]; then
		return
	fi
	mirror=$(debian_mirror) || die "no Debian '$GUEST_SUITE' source found in the apt configuration"
	new=$dir.new
	rm -rf "$new"
	inc=$(IFS=,; echo "${ROOTFS_PKGS[*]}")
	log "debootstrap $GUEST_SUITE (minbase) from the host's apt source: $mirror"
	if ! debootstrap --variant=minbase --include="$inc" "$GUEST_SUITE" "$new" "$mirror" \
		>"$GUEST_CACHE/debootstrap.log" 2>&1; then
		tail -n 30 "$GUEST_CACHE/debootstrap.log" >&2
		die "debootstrap failed (full log: $GUEST_CACHE/debootstrap.log)"
	fi
	# rdma-core's pyverbs test suite ships compressed; make it runnable in place.
	if [ -d "$new/usr/share/doc/rdma-core/tests" ]; then
		find "$new/usr/share/doc/rdma-core/tests" -name '*.py.gz' -exec gunzip -f {} +
	fi
	echo rxe-guest >"$new/etc/hostname"
	printf '127.0.0.1 localhost rxe-guest\n::1 localhost\n10.0.0.1 guest-a\n10.0.0.2 guest-b\n' \
		>"$new/etc/hosts"
	: >"$new/etc/resolv.conf"
	mkdir -p "$new/lib/modules" "$new/rxe" "$new/results"
	rm -rf "$new"/var/cache/apt/archives/*.deb "$new"/var/lib/apt/lists/*_Packages
	echo "$want" >"$new/.harness-stamp"
	rm -rf "$dir"
	mv "$new" "$dir"
	log "rootfs ready: $dir ($(du -sh "$dir" | cut -f1))"
}

# --- PVH kernel image ------------------------------------------------------------
# QEMU can enter an uncompressed vmlinux directly through its PVH ELF note,
# which skips the real-mode setup and the in-guest decompression: under TCG
# that saves ~6 s per boot.  Extract vmlinux from the bzImage's payload; if
# that fails (or the kernel has no PVH entry) the runner boots vmlinuz.
build_pvh() {
	local kdir=$1 kver key out tmp off magic cmd
	[ "${GUEST_PVH:-1}" = 1 ] || return 0
	kver=$(cat "$kdir/kver")
	key=$(stat -c '%s %Y' "$kdir/vmlinuz" | sha256sum | cut -c1-16)
	out=$GUEST_CACHE/pvh/$kver-$key.vmlinux
	if [ -f "$out" ]; then
		printf '%s\n' "$out"
		return 0
	fi
	mkdir -p "$GUEST_CACHE/pvh"
	tmp=$out.tmp
	for magic in xz gzip zstd; do
		case $magic in
		xz) off=$(grep -abo $'\xfd7zXZ\x00' "$kdir/vmlinuz" | head -n 1 | cut -d: -f1)
			cmd="xz -dc --single-stream" ;;
		gzip) off=$(grep -abo $'\x1f\x8b\x08' "$kdir/vmlinuz" | head -n 1 | cut -d: -f1)
			cmd="gzip -dc" ;;
		zstd) off=$(grep -abo $'\x28\xb5\x2f\xfd' "$kdir/vmlinuz" | head -n 1 | cut -d: -f1)
			cmd="zstd -qdc" ;;
		esac
		[ -n "$off" ] || continue
		# shellcheck disable=SC2086 # $cmd is a command with arguments
		tail -c +"$((off + 1))" "$kdir/vmlinuz" | $cmd >"$tmp" 2>/dev/null
		# XEN_ELFNOTE_PHYS32_ENTRY (type 18) marks a PVH entry point.
		if [ "$(head -c 4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ] &&
			readelf -n "$tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
			mv "$tmp" "$out"
			ls -t "$GUEST_CACHE/pvh/$kver"-*.vmlinux | tail -n +3 | xargs -r rm -f
			log "PVH image: $out"
			printf '%s\n' "$out"
			return 0
		fi
	done
	rm -f "$tmp"
	log "no PVH image for $kdir (booting vmlinuz instead)"
}

# --- initramfs ---------------------------------------------------------------
# Print "name path" for each module to put in the initramfs, dependencies first.
initrd_module_list() {
	local mdir=$1 m seen=" "
	emit() {
		local name=$1 rel line d
		case $seen in *" $name "*) return ;; esac
		rel=$(awk -F: -v n="$name" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b);
			gsub(/-/, "_", b); if (b == n) { print; exit } }' "$mdir/modules.dep")
		if [ -z "$rel" ]; then
			if grep -q "/$name\.ko\$" "$mdir/modules.builtin" 2>/dev/null ||
				grep -q "/${name//_/-}\.ko\$" "$mdir/modules.builtin" 2>/dev/null; then
				log "initramfs: $name is built in"
			else
				log "initramfs: $name not found (assuming built in)"
			fi
			seen="$seen$name "
			return
		fi
		seen="$seen$name "
		# modules.dep lists a module's dependencies so that the last one loads first.
		line=${rel#*:}
		# shellcheck disable=SC2086 # split the dependency list on purpose
		for d in $(printf '%s\n' $line | tac); do
			d=${d##*/}; d=${d%%.ko*}; d=${d//-/_}
			emit "$d"
		done
		printf '%s %s\n' "$name" "$mdir/${rel%%:*}"
	}
	for m in "${INITRD_MODS[@]}"; do
		emit "$m"
	done
}

build_initrd() {
	local kdir=$1 kver mdir key out tmp name path list
	kver=$(cat "$kdir/kver")
	mdir=$kdir/modules/lib/modules/$kver
	[ -f "$mdir/modules.dep" ] || die "$mdir/modules.dep missing (run depmod for the kernel dir)"
	# The image depends on: the init script, busybox, the module list and
	# the kernel dir's module tree (its modules.dep changes with it).
	key=$( {
		echo "kver=$kver dir=$(realpath "$kdir") mods=${INITRD_MODS[*]}"
		cat "$TESTS_DIR/guest/initramfs-init"
		stat -L -c '%s %Y' /bin/busybox "$mdir/modules.dep"
	} | sha256sum | cut -c1-16)
	mkdir -p "$GUEST_CACHE/initramfs"
	out=$GUEST_CACHE/initramfs/$kver-$key.cpio.gz
	if [ -f "$out" ]; then
		printf '%s\n' "$out"
		return
	fi
	list=$(initrd_module_list "$mdir")
	tmp=$(mktemp -d "$GUEST_CACHE/.initrd.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,mnt,newroot,modules}
	cp /bin/busybox "$tmp/bin/busybox"
	cp "$TESTS_DIR/guest/initramfs-init" "$tmp/init"
	chmod 755 "$tmp/init"
	: >"$tmp/modules/order"
	while read -r name path; do
		[ -n "$name" ] || continue
		# A missing module must not give a cached image that cannot boot.
		case $path in
		*.ko) cp "$path" "$tmp/modules/$name.ko" ;;
		*.ko.xz) xz -dc "$path" >"$tmp/modules/$name.ko" ;;
		*.ko.zst) zstd -qdc "$path" >"$tmp/modules/$name.ko" ;;
		*.ko.gz) gzip -dc "$path" >"$tmp/modules/$name.ko" ;;
		*) die "unknown module file type: $path" ;;
		esac || { rm -rf "$tmp"; die "initramfs: cannot copy $path (kernel dir damaged? remove $kdir to rebuild it)"; }
		echo "$name" >>"$tmp/modules/order"
	done <<<"$list"
	(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
	# Keep only the newest few images per kernel release.
	ls -t "$GUEST_CACHE/initramfs/$kver"-*.cpio.gz 2>/dev/null | tail -n +4 | xargs -r rm -f
	rm -rf "$tmp"
	log "initramfs: $out (modules: $(cut -d' ' -f1 <<<"$list" | tr '\n' ' '))"
	printf '%s\n' "$out"
}

build_rootfs
[ "$rootfs_only" = 1 ] && { echo "ROOTFS=$GUEST_CACHE/rootfs-$GUEST_SUITE"; exit 0; }
if [ -z "$kernel_dir" ]; then
	kernel_dir=$(build_debian_kernel)
fi
kernel_dir=$(realpath "$kernel_dir")
for f in vmlinuz kver; do
	[ -f "$kernel_dir/$f" ] || die "kernel dir $kernel_dir has no '$f' (see tests/README.md)"
done
[ -d "$kernel_dir/modules/lib/modules/$(cat "$kernel_dir/kver")" ] ||
	die "kernel dir $kernel_dir has no modules/lib/modules/$(cat "$kernel_dir/kver")"
initrd=$(build_initrd "$kernel_dir")
pvh=$(build_pvh "$kernel_dir")
echo "KERNEL_DIR=$kernel_dir"
echo "KERNEL=${pvh:-$kernel_dir/vmlinuz}"
echo "ROOTFS=$GUEST_CACHE/rootfs-$GUEST_SUITE"
echo "INITRD=$initrd"
