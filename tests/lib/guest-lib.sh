# Helpers for test cases running inside a guest.  Source it from a case:
#     . "$TESTS/lib/guest-lib.sh"
# Environment given to every case (see tests/README.md):
#   ROLE (a|b)  RXE_IMPL (ours|stock|none)  IFACE  MY_IP PEER_IP MY_IP6 PEER_IP6
#   TESTS (=/rxe/tests)  REPO (=/rxe)  RESULTS (=/results)  HARNESS_KMOD_DIR  CASE_TIMEOUT
# The TAP helpers keep their counters in the calling shell: call them from the
# case's main shell, not from a subshell or a pipeline.

: "${TESTS:=/rxe/tests}" "${REPO:=/rxe}" "${RESULTS:=/results}"
: "${ROLE:=a}" "${RXE_IMPL:=none}" "${IFACE:=eth0}"

RXE_OURS_KO=$REPO/drivers/infiniband/sw/rxe/rdma_rxe.ko
RXE_NOTIFIER_DIR=$REPO/kernel-notifier

# --- TAP -----------------------------------------------------------------------
_tap_n=0
_tap_failed=0
_tap_planned=

# tscale SECONDS: SECONDS stretched by TIMEOUT_SCALE (tests/run passes it in;
# the debug tier's KASAN + lockdep kernel runs everything several times
# slower).  For every in-guest timeout a slow kernel can exceed.
tscale() { echo $(($1 * ${TIMEOUT_SCALE:-1})); }

# pt_add_window TOOL ARRAY: append to the array named ARRAY the perftest
# options that keep 8 of TOOL's requests in flight instead of 128 (-t 8
# for the *_bw tools, -o 8 as well for ib_read_bw).  For the debug tier
# only: after a timeout a requester resends everything outstanding, and
# stock rdma_rxe replays each duplicate READ in full in its softirq
# tasklet (128 outstanding 64 KiB READs under KASAN ran 24 s on a stock
# guest, a soft lockup in its responder; session 13 counted 979 timeouts
# of ours' READs against a stock server at perftest's 67 ms).
pt_add_window() {
	local -n _pt_win=$2
	case $1 in *_bw) _pt_win+=(-t 8) ;; esac
	[ "$1" = ib_read_bw ] && _pt_win+=(-o 8)
	return 0
}

# pt_calib_failed FILE...: perftest's timer calibration failed in a FILE
# ("Correlation coefficient r^2 < 0.9": its TSC-against-gettimeofday
# sampling gives up on a loaded TCG host; the run's figures are then lost).
pt_calib_failed() { grep -qs 'Correlation coefficient' "$@"; }

# pt_retry_peer KEY LOG CMD...: CMD is one perftest run across the two
# guests whose exit status both share (each passes only if the other did).
# A run that passed is done.  One that failed is run again, at most three
# tries, when perftest's timer calibration failed on either guest (LOG, this
# guest's output of the run; "@TRY@" in KEY or LOG stands for the try, and
# CMD finds it in $PT_TRY): its TSC-against-gettimeofday sampling on a
# loaded TCG host, not the transport.  Both guests decide together through
# peer_sync (KEY names the rendezvous).
pt_retry_peer() {
	local key=$1 log=$2 rc calib pcalib PT_TRY
	shift 2
	for PT_TRY in 1 2 3; do
		"$@"
		rc=$?
		[ $rc -eq 0 ] && return 0
		calib=0
		pt_calib_failed "${log//@TRY@/$PT_TRY}" && calib=1
		pcalib=$(peer_sync "${key//@TRY@/$PT_TRY}-calib" "$calib" 60) || return 1
		[ "$calib" = 0 ] && [ "$pcalib" = 0 ] && return $rc
		echo "perftest timer calibration failed (here $calib, peer $pcalib), again"
	done
	return 1
}

_tap_desc() { local d="$*"; printf '%s' "${d//#/\\#}"; }

# tap_plan N: announce N tests (or call tap_done at the end without a plan).
tap_plan() { _tap_planned=$1; echo "1..$1"; }
tap_diag() { local l; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
tap_ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $(_tap_desc "$@")"; }
# tap_not_ok DESC [DIAGNOSTIC...]
tap_not_ok() {
	_tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $(_tap_desc "$1")"
	shift
	[ $# -gt 0 ] && tap_diag "$@"
	return 0
}
# tap_check DESC CMD [ARG...]: ok if CMD succeeds; on failure its output
# (last 30 lines) and exit status become diagnostics.  Returns CMD's status.
tap_check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "command: $*" "exit status: $rc"
		[ -n "$out" ] && printf '%s\n' "$out" | tail -n 30 | sed 's/^/#   /'
	fi
	return $rc
}
# tap_skip DESC REASON: a skipped test point (counts as passed).
tap_skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $(_tap_desc "$1") # SKIP ${2:-}"; }
# tap_skip_all REASON: the whole case does not apply here; exits 0.
tap_skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# tap_bail REASON: abort the case (judged failed).
tap_bail() { echo "Bail out! $*"; exit 1; }
# tap_done: print the plan if none was given, exit 1 if anything failed.
tap_done() {
	[ -n "$_tap_planned" ] || echo "1..$_tap_n"
	if [ -n "$_tap_planned" ] && [ "$_tap_planned" != "$_tap_n" ]; then
		echo "# planned $_tap_planned tests but ran $_tap_n"
		exit 1
	fi
	[ "$_tap_failed" -eq 0 ] || exit 1
	exit 0
}

# --- addresses -----------------------------------------------------------------
my_ip() { echo "${MY_IP:-}"; }
peer_ip() { echo "${PEER_IP:-}"; }
my_ip6() { echo "${MY_IP6:-}"; }
peer_ip6() { echo "${PEER_IP6:-}"; }

# --- two-guest synchronisation ---------------------------------------------------
# peer_sync NAME [VALUE] [TIMEOUT]
# Rendezvous with the other guest: both sides must call peer_sync with the same
# NAME, in the same order.  Prints the VALUE the peer passed (one line).
# Guest A listens on TCP port $SYNC_PORT (default 7777), guest B connects.
# Fails (non-zero) after TIMEOUT seconds (default $SYNC_TIMEOUT or 60) or if
# the peer is at a different NAME.
peer_sync() {
	local name=$1 value=${2:-} to=${3:-${SYNC_TIMEOUT:-60}} port=${SYNC_PORT:-7777}
	to=$(tscale "$to")
	local line got_name got_value deadline
	[ -n "${PEER_IP:-}" ] || { echo "peer_sync: no peer in this topology" >&2; return 1; }
	case $name in *' '*|'') echo "peer_sync: bad name '$name'" >&2; return 1 ;; esac
	value=${value//$'\n'/ }
	if [ "$ROLE" = a ]; then
		line=$(printf 'SYNC %s %s\n' "$name" "$value" |
			timeout "$to" busybox nc -l -p "$port" 2>/dev/null | head -n 1)
	else
		deadline=$((SECONDS + to))
		line=
		while [ $SECONDS -lt $deadline ]; do
			if exec 3<>"/dev/tcp/$PEER_IP/$port"; then
				printf 'SYNC %s %s\n' "$name" "$value" >&3
				IFS= read -r -t "$((deadline - SECONDS + 1))" line <&3
				exec 3<&- 3>&-
				break
			fi 2>/dev/null
			sleep 0.2
		done
	fi
	line=${line%$'\r'}
	case $line in
	"SYNC $name "*) ;;
	"SYNC "*) got_name=${line#SYNC }; got_name=${got_name%% *}
		echo "peer_sync: out of step: here '$name', peer '$got_name'" >&2; return 1 ;;
	*) echo "peer_sync: '$name' timed out after ${to}s" >&2; return 1 ;;
	esac
	got_value=${line#"SYNC $name "}
	printf '%s\n' "$got_value"
}

# --- RDMA implementation -----------------------------------------------------------
# rxe_ours_present: is our driver built in the project tree?
rxe_ours_present() { [ -f "$RXE_OURS_KO" ]; }

# rxe_load [IMPL]: load an RDMA implementation (default $RXE_IMPL):
#   ours   install rdma_rxe.ko and kernel-notifier/**/*.ko into
#          /lib/modules/$(uname -r)/updates/rxe-odp with a fresh module index
#          (tests/run snapshots and indexes them on the host, in
#          /results/ours-modules; without that, copy from /rxe and depmod -a
#          here), then modprobe rdma_rxe.  The rdma-link-rxe alias then
#          autoloads ours too.
#   stock  the kernel's own rdma_rxe (crc32_generic first)
#   none   nothing
# The userspace access modules (ib_uverbs, rdma_ucm) are loaded for ours/stock.
rxe_load() {
	local impl=${1:-$RXE_IMPL} kver dst ko vm path mods
	read -r kver </proc/sys/kernel/osrelease
	case $impl in
	none) return 0 ;;
	ours)
		dst=/lib/modules/$kver/updates/rxe-odp
		if [ ! -e /run/rxe-ours-installed ]; then
			if [ -f "$RESULTS/ours-modules/updates/rxe-odp/rdma_rxe.ko" ]; then
				# Snapshot and module index prepared by tests/run on the host.
				cp -r "$RESULTS/ours-modules/." "/lib/modules/$kver/" || return 1
			else
				# No host help (e.g. rebuilt during --shell): copy and index
				# here; depmod -a takes a while under TCG.
				rxe_ours_present || { echo "rxe_load: $RXE_OURS_KO not built" >&2; return 1; }
				mkdir -p "$dst"
				for ko in "$RXE_OURS_KO" $(find "$RXE_NOTIFIER_DIR" -name '*.ko' 2>/dev/null); do
					vm=$(modinfo -F vermagic "$ko" 2>/dev/null)
					if [ "${vm%% *}" != "$kver" ]; then
						echo "rxe_load: $ko was built for '${vm%% *}', this kernel is '$kver'" >&2
						return 1
					fi
					cp "$ko" "$dst/"
				done
				echo "rxe_load: running depmod -a in the guest (slow)" >&2
				depmod -a || return 1
			fi
			touch /run/rxe-ours-installed
		fi
		path=$(modinfo -n rdma_rxe 2>/dev/null)
		case $path in
		*/updates/*) ;;
		*) echo "rxe_load: modprobe would pick '$path', not ours" >&2; return 1 ;;
		esac
		;;
	stock)
		if [ -e /run/rxe-ours-installed ]; then
			echo "rxe_load: ours is installed in this guest; cannot load stock" >&2
			return 1
		fi
		mods=crc32_generic
		;;
	*) echo "rxe_load: unknown implementation '$impl'" >&2; return 1 ;;
	esac
	# One modprobe for all: every exec costs a few hundred ms under TCG.
	modprobe -a $mods rdma_rxe ib_uverbs rdma_ucm || return 1
	[ -d /sys/module/rdma_rxe ] || { echo "rxe_load: rdma_rxe did not load" >&2; return 1; }
	return 0
}

# rxe_add NAME NETDEV: create a soft-RoCE device and wait for it to appear.
rxe_add() {
	local name=${1:?name} dev=${2:-$IFACE}
	rdma link add "$name" type rxe netdev "$dev" || return 1
	for _ in {1..50}; do
		[ -e "/sys/class/infiniband/$name" ] && return 0
		sleep 0.1
	done
	echo "rxe_add: /sys/class/infiniband/$name did not appear" >&2
	return 1
}

# rxe_del NAME
rxe_del() { rdma link delete "${1:?name}"; }

# rxe_unload: delete every RDMA device, then unload our modules (ours only;
# stock modules are left alone).  Non-zero if a module stays loaded.
rxe_unload() {
	local d m rc=0 mods=()
	for d in /sys/class/infiniband/*; do
		[ -e "$d" ] && rdma link delete "${d##*/}"
	done
	[ -d "/lib/modules/$(uname -r)/updates/rxe-odp" ] || return 0
	for m in "/lib/modules/$(uname -r)/updates/rxe-odp/"*.ko; do
		[ -e "$m" ] && mods+=("$(modinfo -F name "$m")")
	done
	# rdma_rxe first: it uses the notifier modules.
	for m in rdma_rxe "${mods[@]}"; do
		[ -d "/sys/module/$m" ] || continue
		modprobe -r "$m" 2>/dev/null || rmmod "$m" || { echo "rxe_unload: cannot unload $m" >&2; rc=1; }
	done
	return $rc
}

# rxe_dyndbg SPEC: turn on pr_debug sites (dynamic debug), e.g.
# 'format "NAK 0x" +p'.  A kernel without CONFIG_DYNAMIC_DEBUG (the debug
# tier's) has no control file: said on stderr, not an error.
rxe_dyndbg() {
	local c=/sys/kernel/debug/dynamic_debug/control
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	if [ -w "$c" ]; then
		echo "$1" >"$c"
	else
		echo "rxe_dyndbg: no dynamic debug in this kernel ($1)" >&2
	fi
}

# rxe_dev_list: names of the RDMA devices ibv_devices sees.
rxe_dev_list() { ibv_devices 2>/dev/null | awk 'NR > 2 { print $1 }'; }

# ---- RoCE GIDs of rxe0 ----------------------------------------------------
RXE_PORT_SYSFS=/sys/class/infiniband/rxe0/ports/1

# expand6 ADDR: an IPv6 address written out in full, as sysfs shows GIDs
# (fd00::1 -> fd00:0000:0000:0000:0000:0000:0000:0001).  Builtins only.
expand6() {
	local a=${1%%%*} head tail i n out=() h=() t=()
	if [[ $a == *::* ]]; then
		head=${a%%::*} tail=${a#*::}
	else
		head=$a tail=
	fi
	[ -n "$head" ] && IFS=: read -ra h <<<"$head"
	[ -n "$tail" ] && IFS=: read -ra t <<<"$tail"
	n=$((8 - ${#h[@]} - ${#t[@]}))
	for i in "${h[@]}"; do out+=("$(printf '%04x' "0x$i")"); done
	for ((i = 0; i < n; i++)); do out+=(0000); done
	for i in "${t[@]}"; do out+=("$(printf '%04x' "0x$i")"); done
	(IFS=:; echo "${out[*]}")
}

# gid_of ADDR: the GID an IPv4 or IPv6 address has in the GID table.
gid_of() {
	case $1 in
	*:*) expand6 "$1" ;;
	# shellcheck disable=SC2086 # one printf argument per octet
	*) printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x\n' ${1//./ } ;;
	esac
}

# gid_index ADDR: index of ADDR's RoCE v2 GID on rxe0 port 1 (one grep
# over the table, then the type of each match).
gid_index() {
	local want f i t
	want=$(gid_of "$1")
	for f in $(grep -l -x "$want" "$RXE_PORT_SYSFS"/gids/* 2>/dev/null); do
		i=${f##*/}
		read -r t <"$RXE_PORT_SYSFS/gid_attrs/types/$i" 2>/dev/null || continue
		[ "$t" = "RoCE v2" ] && { echo "$i"; return 0; }
	done
	return 1
}

# wait_gid ADDR [TENTHS]: until ADDR's RoCE v2 GID is in the table.
wait_gid() {
	local n=${2:-100}
	while [ "$n" -gt 0 ]; do
		gid_index "$1" >/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	echo "no RoCE v2 GID for $1" >&2
	return 1
}
