#!/usr/bin/env bash
# tests/debug-kernel/build.sh - build (or reuse) the rxe-odp debug kernel.
#
# Builds Debian's linux-source-6.1 with x86_64_defconfig + debug.config
# (KASAN, lockdep, kmemleak, ...) into a cache directory outside the repo
# and prints that directory as the LAST line on stdout; everything else goes
# to stderr:
#
#     KDIR_DEBUG=$(tests/debug-kernel/build.sh)
#
# Layout of the printed directory (contract with tests/run --kernel-dir):
#     vmlinuz                          the bzImage
#     kver                             `make kernelrelease`, e.g. 6.1.192-rxe-debug
#     modules/lib/modules/<kver>/      installed (stripped) modules, depmod run
#     build/                           configured+built kernel tree, KDIR for
#                                      `make -C build M=$PWD modules`
#     config, build.log, key.txt       for humans
#     .complete                        stamp, written last
#
# Options:
#     --check      print the directory and exit 0 if it is complete, exit 1
#                  (printing nothing on stdout) if a build would be needed
#     --print-key  print the cache key and exit
#     --rebuild    throw away this key's directory and build it from a fresh
#                  extraction (no seeding)
#     --prune      after success, delete the other keys' directories
#     -h|--help
#
# Environment:
#     RXE_ODP_DEBUG_CACHE  cache root (default /var/cache/rxe-odp/debug-kernel;
#                          falls back to ~/.cache/rxe-odp/debug-kernel when that
#                          cannot be created)
#     RXE_ODP_DEBUG_JOBS   make -j value (default: nproc)
#     RXE_ODP_DEBUG_SEED   1 (default): start a new key's tree as a copy of the
#                          newest complete tree of the same linux-source version
#                          so that kbuild only recompiles what changed; 0: always
#                          extract afresh
#
# The cache key is: linux-source-6.1 package version + sha256 of debug.config
# + sha256 of this script + the gcc version.  A directory without .complete is
# an unfinished build: the next run resumes it (extraction and configuration
# are done once per key, the kernel make is incremental).  A new key starts
# from a copy of the newest complete tree of the same source version (see
# RXE_ODP_DEBUG_SEED), so editing debug.config costs minutes, not a full build.

set -euo pipefail

# stdout is reserved for the result line.
exec 3>&1 1>&2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
FRAGMENT=$HERE/debug.config
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
SRC_PKG=linux-source-6.1
TARBALL=/usr/src/linux-source-6.1.tar.xz
DEFAULT_CACHE=/var/cache/rxe-odp/debug-kernel
JOBS=${RXE_ODP_DEBUG_JOBS:-$(nproc)}
SEED=${RXE_ODP_DEBUG_SEED:-1}

log() { printf '[debug-kernel %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$SELF" >&2; }

mode=build rebuild=0 prune=0
while [ $# -gt 0 ]; do
    case $1 in
        --check) mode=check ;;
        --print-key) mode=key ;;
        --rebuild) rebuild=1 SEED=0 ;;
        --prune) prune=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage; die "unknown argument: $1" ;;
    esac
    shift
done

[ "$(uname -m)" = x86_64 ] || die "only native x86_64 builds are supported"
[ -r "$FRAGMENT" ] || die "missing $FRAGMENT"

# Nothing from a calling make (MAKEFLAGS carries its command-line variables,
# e.g. M= or O=) or from the user's kernel-hacking environment may leak into
# the kernel build.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS \
      ARCH SUBARCH CROSS_COMPILE KBUILD_OUTPUT O M KCONFIG_CONFIG \
      LOCALVERSION KCFLAGS KCPPFLAGS KAFLAGS KBUILD_EXTRA_SYMBOLS \
      INSTALL_MOD_PATH INSTALL_MOD_DIR CC LD LLVM C_INCLUDE_PATH CPATH || true
export LC_ALL=C

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo -n "$@"
    else die "need root to run: $*"; fi
}

apt_install() {
    log "installing with apt-get: $*"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y --no-install-recommends "$@" >&2 ||
        { as_root apt-get update >&2 &&
          as_root apt-get install -y --no-install-recommends "$@" >&2; } ||
        die "apt-get install $* failed"
}

# ---------------------------------------------------------------- inputs --
ensure_inputs() {
    local missing=() c p
    for c in gcc:gcc make:make bc:bc bison:bison flex:flex perl:perl \
             xz:xz-utils tar:tar flock:util-linux sha256sum:coreutils; do
        command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
    done
    [ -e /usr/include/gelf.h ] || missing+=(libelf-dev)
    [ -e /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
    command -v depmod >/dev/null || [ -x /sbin/depmod ] || missing+=(kmod)
    if ! dpkg-query -W -f='${Status}' "$SRC_PKG" 2>/dev/null | grep -q 'ok installed'; then
        missing+=("$SRC_PKG")
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    if [ ! -r "$TARBALL" ]; then
        log "$TARBALL is missing although $SRC_PKG is installed; reinstalling"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get install -y --reinstall "$SRC_PKG" >&2 || die "reinstall of $SRC_PKG failed"
        [ -r "$TARBALL" ] || die "$TARBALL still missing"
    fi
}

compute_key() {
    local ver
    ver=$(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null) ||
        die "$SRC_PKG is not installed"
    KEY_TEXT=$(printf '%s=%s\ndebug.config=%s\nbuild.sh=%s\ncc=%s\n' \
        "$SRC_PKG" "$ver" \
        "$(sha256sum <"$FRAGMENT" | cut -d' ' -f1)" \
        "$(sha256sum <"$SELF" | cut -d' ' -f1)" \
        "$(gcc --version | head -n1)")
    KEY_VER=$(printf '%s' "$ver" | tr -c 'A-Za-z0-9.+_-' '_')
    KEY="$KEY_VER-$(printf '%s' "$KEY_TEXT" | sha256sum | cut -c1-16)"
}

pick_cache_root() {
    local root=${RXE_ODP_DEBUG_CACHE:-}
    if [ -z "$root" ]; then
        root=$DEFAULT_CACHE
        if ! mkdir -p "$root" 2>/dev/null || [ ! -w "$root" ]; then
            root=${XDG_CACHE_HOME:-$HOME/.cache}/rxe-odp/debug-kernel
            log "$DEFAULT_CACHE not writable; using $root (set RXE_ODP_DEBUG_CACHE to choose)"
        fi
    fi
    root=$(realpath -m "$root")
    local top
    if top=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null); then
        top=$(realpath "$top")
        case "$root/" in
            "$top"/*) die "cache root $root is inside the repository clone $top; point RXE_ODP_DEBUG_CACHE elsewhere" ;;
        esac
    fi
    mkdir -p "$root" || die "cannot create cache root $root"
    CACHE_ROOT=$root
}

is_complete() {    # $1 = key directory
    local d=$1 kver
    [ -f "$d/.complete" ] && [ -s "$d/kver" ] && [ -s "$d/vmlinuz" ] || return 1
    kver=$(cat "$d/kver")
    [ -s "$d/modules/lib/modules/$kver/modules.dep" ] &&
        [ -s "$d/build/Module.symvers" ] && [ -s "$d/build/.config" ]
}

# ------------------------------------------------------------------ config --
# Every assignment in the fragment must hold in the final .config; for
# "# CONFIG_X is not set" / "=n" absence counts as n.  Symbols that Kconfig
# does not know at all (typos) are errors too.
verify_config() {    # $1 = .config  $2 = fragment  $3 = kernel tree
    local bad
    bad=$(awk '
        FILENAME == ARGV[1] { isknown["CONFIG_" $2] = 1; next }
        FILENAME == ARGV[2] {
            if (match($0, /^CONFIG_[A-Za-z0-9_]+=/)) have[substr($0, 1, RLENGTH - 1)] = substr($0, RLENGTH + 1)
            next
        }
        {
            sym = ""
            if (match($0, /^CONFIG_[A-Za-z0-9_]+=/)) { sym = substr($0, 1, RLENGTH - 1); want = substr($0, RLENGTH + 1) }
            else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set/) { sym = $2; want = "n" }
            if (sym == "") next
            if (!(sym in isknown)) { printf "  %s: unknown to Kconfig (typo?)\n", sym; next }
            if (sym in seen && seen[sym] != want) printf "  %s: assigned twice in the fragment\n", sym
            seen[sym] = want
            got = (sym in have) ? have[sym] : "n"
            if (got != want) printf "  %s: wanted %s, got %s\n", sym, want, got
        }' <(grep -rhoE --include='Kconfig*' '^[[:space:]]*(menu)?config[[:space:]]+[A-Za-z0-9_]+' "$3") "$1" "$2")
    if [ -n "$bad" ]; then
        log "the following fragment options did not end up as requested:"
        printf '%s\n' "$bad" >&2
        return 1
    fi
    log "config verified: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$2") fragment assignments hold"
}

configure() {    # $1 = kernel tree, $2 = log file
    local k=$1 logf=$2
    log "configuring: x86_64_defconfig + $(basename "$FRAGMENT") (details in $logf)"
    {
        printf '==== %(%F %T)T configure\n' -1
        make -C "$k" x86_64_defconfig &&
        (cd "$k" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT") &&
        make -C "$k" olddefconfig
    } >>"$logf" 2>&1 || { tail -n 20 "$logf" >&2; die "kernel configuration failed"; }
    verify_config "$k/.config" "$FRAGMENT" "$k" ||
        die "config fragment not satisfied (see above); fix $FRAGMENT"
}

# ------------------------------------------------------------------- build --
MAKE_PID=
on_exit() {
    if [ -n "$MAKE_PID" ] && kill -0 "$MAKE_PID" 2>/dev/null; then
        log "interrupted: stopping the kernel build (pid $MAKE_PID); the next run resumes it"
        kill -TERM "$MAKE_PID" 2>/dev/null || true
        wait "$MAKE_PID" 2>/dev/null || true
    fi
}

run_kernel_make() {    # $1 = kernel tree, $2 = log file
    local k=$1 logf=$2 start=$SECONDS next=$((SECONDS + 60)) rc objs last
    log "make -j$JOBS bzImage modules (log: $logf)"
    printf '==== %(%F %T)T make -j%s bzImage modules\n' -1 "$JOBS" >>"$logf"
    make -C "$k" -j"$JOBS" bzImage modules >>"$logf" 2>&1 &
    MAKE_PID=$!
    while kill -0 "$MAKE_PID" 2>/dev/null; do
        sleep 5
        if (( SECONDS >= next )); then
            next=$((next + 60))
            objs=$(grep -cE '^  (CC|AS)( \[M\])? ' "$logf" || true)
            last=$(tail -n1 "$logf" | cut -c1-100)
            log "  ... $(( (SECONDS - start) / 60 )) min, $objs objects compiled; last: $last"
        fi
    done
    rc=0; wait "$MAKE_PID" || rc=$?
    MAKE_PID=
    if [ "$rc" -ne 0 ]; then
        log "kernel build FAILED (rc=$rc); errors / tail of $logf:"
        grep -E '(error|Error [0-9]+)' "$logf" | head -n 20 >&2 || true
        tail -n 30 "$logf" >&2
        exit 1
    fi
    log "kernel build done in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
}

build_key_dir() {    # $1 = key directory
    local d=$1 k=$1/build t0=$SECONDS kver depmod mods

    if [ -d "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ]; then
        log "resuming unfinished build in $d"
    fi
    mkdir -p "$d"
    rm -f "$d/.complete"
    printf '%s\n' "$KEY_TEXT" >"$d/key.txt"

    # 1. sources: a copy of a finished tree of the same source version (then
    #    kbuild rebuilds only what the config change touches), else a fresh
    #    extraction.  The rename makes either all-or-nothing.
    if [ ! -d "$k" ]; then
        rm -rf "$d/build.tmp"
        if [ "$SEED" = 1 ] && seed=$(find_seed "$d") && [ -n "$seed" ]; then
            log "seeding from $seed/build (incremental build; RXE_ODP_DEBUG_SEED=0 or --rebuild for a clean one)"
            (
                exec 7>"$CACHE_ROOT/.$(basename "$seed").lock"
                flock -w 900 7 || die "cannot lock $seed for copying"
                is_complete "$seed" || die "$seed vanished while seeding"
                cp -a "$seed/build" "$d/build.tmp"
            )
            relocate_tree "$d/build.tmp" "$seed/build" "$k"
            basename "$seed" >"$d/seeded-from"
        else
            log "extracting $TARBALL"
            mkdir "$d/build.tmp"
            tar -xJf "$TARBALL" -C "$d/build.tmp" --strip-components=1
        fi
        mv "$d/build.tmp" "$k"
    fi

    # 2. configuration, once per key (its inputs are part of the key)
    if [ ! -f "$d/.configured" ]; then
        configure "$k" "$d/build.log"
        cp "$k/.config" "$d/config"
        touch "$d/.configured"
    fi

    # 3. kernel + modules (incremental, so an interrupted build resumes)
    run_kernel_make "$k" "$d/build.log"
    # make must not have altered the verified configuration
    cmp -s "$k/.config" "$d/config" || die "$k/.config changed during the build"

    kver=$(make -C "$k" -s kernelrelease)
    case $kver in *-rxe-debug*) ;; *) die "unexpected kernelrelease '$kver'" ;; esac

    # 4. modules, installed aside and moved into place
    log "modules_install (stripped) for $kver"
    rm -rf "$d/modules.tmp"
    make -C "$k" -s modules_install INSTALL_MOD_PATH="$d/modules.tmp" INSTALL_MOD_STRIP=1 \
        >>"$d/build.log" 2>&1 || { tail -n 20 "$d/build.log" >&2; die "modules_install failed"; }
    mods=$d/modules.tmp/lib/modules/$kver
    # build/source point at absolute host paths: useless in a guest, and a
    # trap for `cp -L`.  KDIR is <dir>/build.
    rm -f "$mods/build" "$mods/source"
    depmod=$(command -v depmod || echo /sbin/depmod)
    "$depmod" -b "$d/modules.tmp" "$kver"
    [ -s "$mods/modules.dep" ] || die "depmod produced no modules.dep"
    [ -f "$mods/kernel/drivers/infiniband/sw/rxe/rdma_rxe.ko" ] || die "rdma_rxe.ko was not built"
    rm -rf "$d/modules"
    mv "$d/modules.tmp" "$d/modules"

    # 5. the rest of the contract
    cp "$k/arch/x86/boot/bzImage" "$d/vmlinuz.tmp" && mv "$d/vmlinuz.tmp" "$d/vmlinuz"
    printf '%s\n' "$kver" >"$d/kver.tmp" && mv "$d/kver.tmp" "$d/kver"
    [ -s "$k/Module.symvers" ] || die "Module.symvers missing"
    sync -f "$d/vmlinuz" 2>/dev/null || sync

    printf 'key=%s\nkver=%s\nfinished=%(%F %T %z)T\nseconds_this_run=%s\n' \
        "$KEY" "$kver" -1 "$(( SECONDS - t0 ))" >"$d/.complete"
    log "complete: $d ($kver, vmlinuz $(du -h "$d/vmlinuz" | cut -f1))"
}

# Kernel objects are tracked with relative paths, but the tools/ builds
# (objtool) record absolute ones; every kernel object depends on the objtool
# binary, so a relinked objtool means recompiling everything.  Point those
# records at the new location (keeping the files' mtimes).
relocate_tree() {    # $1 = copied tree, $2 = its original path, $3 = its final path
    local f t old_re
    old_re=$(printf '%s' "$2" | sed 's/[][\\.*^$|/]/\\&/g')
    grep -rlF --include='.*.cmd' --include='*.d' "$2" "$1/tools" 2>/dev/null |
    while IFS= read -r f; do
        t=$(stat -c %y "$f")
        sed -i "s/$old_re/$(printf '%s' "$3" | sed 's/[\\/&]/\\&/g')/g" "$f"
        touch -d "$t" "$f"
    done
}

# The newest complete cache entry built from the same linux-source version,
# if any (its tree differs from ours only in .config and build.sh details).
find_seed() {    # $1 = our key directory
    local c best= best_t=0 t
    for c in "$CACHE_ROOT/$KEY_VER"-????????????????; do
        [ "$c" != "$1" ] && is_complete "$c" || continue
        t=$(stat -c %Y "$c/.complete")
        if [ "$t" -gt "$best_t" ]; then best=$c best_t=$t; fi
    done
    printf '%s' "$best"
}

prune_others() {
    local other
    for other in "$CACHE_ROOT"/*/; do
        other=${other%/}
        [ "$(basename "$other")" = "$KEY" ] && continue
        [ -d "$other" ] || continue
        (
            exec 8>"$CACHE_ROOT/.$(basename "$other").lock"
            if flock -n 8; then
                log "pruning old cache entry $other"
                rm -rf "$other"
            else
                log "not pruning $other: in use"
            fi
        )
    done
}

# -------------------------------------------------------------------- main --
if [ "$mode" = key ] || [ "$mode" = check ]; then
    compute_key
    if [ "$mode" = key ]; then echo "$KEY" >&3; exit 0; fi
    pick_cache_root
    if is_complete "$CACHE_ROOT/$KEY"; then echo "$CACHE_ROOT/$KEY" >&3; exit 0; fi
    log "not built yet: $CACHE_ROOT/$KEY"
    exit 1
fi

ensure_inputs
compute_key
pick_cache_root
DIR=$CACHE_ROOT/$KEY

# One builder per key; other callers wait and then reuse the result.
exec 9>"$CACHE_ROOT/.$KEY.lock"
if ! flock -n 9; then
    log "another build of $KEY is running; waiting for it"
    flock 9
fi
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$rebuild" = 1 ] && [ -e "$DIR" ]; then
    log "--rebuild: removing $DIR"
    rm -rf "$DIR"
fi

if is_complete "$DIR"; then
    log "up to date: $DIR ($(cat "$DIR/kver"))"
else
    build_key_dir "$DIR"
fi

[ "$prune" = 1 ] && prune_others
echo "$DIR" >&3
