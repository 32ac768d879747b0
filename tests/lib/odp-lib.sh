# shellcheck shell=bash disable=SC2034 # variables for the sourcing case
# Helpers for the ODP verbs cases (tests/cases/115-119).  Source after
# guest-lib.sh.  The programs live in userspace/odp-verbs (make userspace).
#
# RXE_TEST_ODP_PINNED=1 runs the programs with --pinned (no ON_DEMAND) where
# a case allows it: a way to prove the programs and the case against a
# driver without ODP.  Final runs leave it unset.

ODPV_DIR=$REPO/userspace/odp-verbs
ODP_PINNED=${RXE_TEST_ODP_PINNED:-0}
# (--pinned) when RXE_TEST_ODP_PINNED=1, () otherwise: "$prog" "${ODP_MODE[@]}" ...
# ODP_DESC names the mode in test descriptions.
if [ "$ODP_PINNED" = 1 ]; then
	ODP_MODE=(--pinned) ODP_DESC="--pinned"
else
	ODP_MODE=() ODP_DESC="ON_DEMAND"
fi
HC_PORT=/sys/class/infiniband/rxe0/ports/1/hw_counters
HC_DEV=/sys/class/infiniband/rxe0/hw_counters

# odp_need_progs PROG...: bail out unless the programs are built
odp_need_progs() {
	local p
	for p in "$@"; do
		[ -x "$ODPV_DIR/$p" ] || tap_bail "$ODPV_DIR/$p is not built (make userspace)"
	done
}

# odp_setup: load ours, add rxe0 on $IFACE, wait for the RoCE v2 GID of
# $MY_IP; sets GIDX.  Three test points.
odp_setup() {
	tap_check "load our rdma_rxe" rxe_load || tap_bail "cannot load rdma_rxe"
	tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE" ||
		tap_bail "no rxe0"
	GIDX=
	for _ in $(seq 50); do
		GIDX=$(gid_index "$MY_IP") && break
		sleep 0.1
	done
	tap_check "RoCE v2 GID of $MY_IP on rxe0 (index ${GIDX:-none})" test -n "$GIDX" ||
		tap_bail "no GID"
}

# odp_caps: the device's ODP capabilities as ibv_devinfo -v prints them
odp_caps() { ibv_devinfo -d rxe0 -v 2>/dev/null | sed -n '/ODP/,/^[^ \t]/p' | head -n 20; }

# odp_hc NAME: a device counter (port hw_counters, else device hw_counters); -1 if absent
odp_hc() {
	local v
	for f in "$HC_PORT/$1" "$HC_DEV/$1"; do
		if [ -r "$f" ]; then read -r v <"$f" && echo "$v" && return 0; fi
	done
	echo -1
}

# odp_hc_all: every device counter as "name value" on one line
odp_hc_all() {
	local f
	for f in "$HC_PORT"/* "$HC_DEV"/*; do
		[ -f "$f" ] && printf '%s %s ' "${f##*/}" "$(cat "$f")"
	done
	echo
}

# odp_vmstat FIELD: a /proc/vmstat field
odp_vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# odp_run_prog LOG PROG ARGS...: run a program, output to LOG; returns its status
odp_run_prog() {
	local log=$1 rc
	shift
	"$@" >"$log" 2>&1
	rc=$?
	echo "$rc" >"$log.rc"
	return $rc
}

# odp_judge LOG: ok if the program in LOG exited 0 and said PASS; otherwise its
# failures (first lines) and summary
odp_judge() {
	local log=$1 rc
	rc=$(cat "$log.rc" 2>/dev/null)
	grep -E '^(odp-[a-z]+: |REG FAILED|SETUP ERROR)' "$log" | tail -n 6
	[ "$rc" = 0 ] && grep -qE '^odp-[a-z]+: PASS$' "$log" && return 0
	echo "exit status $rc; first failures:"
	grep -E '^(FAIL|REG FAILED|SETUP ERROR)' "$log" | head -n 12
	return 1
}
