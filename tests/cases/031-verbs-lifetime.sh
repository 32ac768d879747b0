#!/bin/bash
# Device life cycle with a process holding the device open
# (userspace/verbsev "hold": PD, CQ, SRQ, RC and UD QPs, MR, AH alive).
# Our driver has no disassociate_ucontext, so (docs/DESIGN.md, "Device life
# cycle"):
#  - rmmod rdma_rxe is refused while the process has the device open;
#  - "rdma link delete" waits in the kernel until the process closes it, and
#    so does deleting the netdev under the device ("ip link del");
#  - once the process is killed both complete, the driver's object counts
#    (debugfs rdma_rxe/objects) go back to zero, the module unloads and no
#    "rxe-odp: leak" line appears.
# The device sits on a veth pair made for the test (eth0 is the guest's only
# link and stays untouched).  Hold times stay well under the 60 s hung-task
# timeout the harness sets, so a waiting "rdma"/"ip" is no hung task.
# topology: one
# impl: ours
# timeout: 300
. "$TESTS/lib/guest-lib.sh"

VE=$REPO/userspace/verbsev/verbsev
OBJ=/sys/kernel/debug/rdma_rxe/objects
OUT=$RESULTS/lifetime
DEV=rxl0
# How long a blocked "rdma link delete"/"ip link del" must still be waiting
# to count as blocked, and how long it may take to finish after the kill
# (KASAN + lockdep under TCG is several times slower than the Debian kernel).
BLOCKED_SECS=${RXE_TEST_BLOCKED_SECS:-6}
FINISH_SECS=${RXE_TEST_FINISH_SECS:-120}
mkdir -p "$OUT"

tap_plan 24

[ -x "$VE" ] || tap_bail "$VE is not built (make userspace)"
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug

objects() { tr '\n' ' ' <"$OBJ" | sed 's/ $//'; }
count() { awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' <<<"${2:-$(objects)}"; }
# all_zero SECONDS: every debugfs count reaches 0
all_zero() {
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -le "$1" ]; do
		grep -qv ' 0$' "$OBJ" || { echo "all zero after $((SECONDS - t0))s"; return 0; }
		sleep 0.5
	done
	echo "after ${1}s: $(objects)"
	return 1
}
# wait_line FILE REGEX SECONDS
wait_line() {
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -le "$3" ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	echo "no /$2/ in $1 after ${3}s:"
	tail -n 5 "$1"
	return 1
}
# bg NAME CMD...: run CMD in the background; its output goes to
# $OUT/NAME.log, its exit status to $OUT/NAME.rc; sets BGPID to CMD's pid.
bg() {
	local name=$1
	shift
	rm -f "$OUT/$name.rc"
	( "$@" >"$OUT/$name.log" 2>&1; echo $? >"$OUT/$name.rc" ) &
	local sub=$!
	BGPID=
	for _ in $(seq 50); do
		BGPID=$(pgrep -P "$sub" | head -n 1)
		[ -n "$BGPID" ] && return 0
		[ -e "$OUT/$name.rc" ] && return 0
		sleep 0.1
	done
}
# still_running NAME SECONDS: the command has not finished SECONDS later
still_running() {
	sleep "$2"
	[ ! -e "$OUT/$1.rc" ] && return 0
	echo "already finished, status $(cat "$OUT/$1.rc"): $(cat "$OUT/$1.log")"
	return 1
}
# stack PID: one line of its kernel stack
stack() { tr '\n' ' ' <"/proc/$1/stack" 2>/dev/null | cut -c1-400; }
# finishes NAME PID SECONDS: the command ends within SECONDS with status 0
finishes() {
	local t0=$SECONDS
	while [ ! -e "$OUT/$1.rc" ]; do
		if [ $((SECONDS - t0)) -ge "$3" ]; then
			echo "still running after ${3}s; kernel stack: $(stack "$2")"
			return 1
		fi
		sleep 0.5
	done
	echo "finished within $((SECONDS - t0))s of the kill, status $(cat "$OUT/$1.rc")"
	cat "$OUT/$1.log"
	[ "$(cat "$OUT/$1.rc")" = 0 ]
}
# rmmod_refused: rmmod fails and the module stays
rmmod_refused() {
	if timeout 30 rmmod rdma_rxe; then
		echo "rmmod rdma_rxe succeeded"
		return 1
	fi
	test -d /sys/module/rdma_rxe
}
# held: the holder's objects are counted on top of BASE
held() {
	local now k bad=
	now=$(objects)
	echo "counts: $now (idle device: $base)"
	for k in ucontext pd cq srq qp mr; do
		[ "$(count $k "$now")" -gt "$(count $k "$base")" ] || bad="$bad $k"
	done
	[ -z "$bad" ] || { echo "not above idle:$bad"; return 1; }
}
# start_holder LOG: verbsev hold in the background; sets HPID.  Call it
# from the main shell (not through tap_check, a subshell), then wait for
# its "holding" line.
start_holder() {
	"$VE" -d "$DEV" -T 600 hold >"$1" 2>&1 &
	HPID=$!
}
# kill_holder: SIGKILL it and reap it
kill_holder() {
	[ -n "${HPID:-}" ] || { tap_diag "no holder to kill"; return 0; }
	kill -9 "$HPID"
	wait "$HPID" 2>/dev/null
	HPID=
}

tap_check "load our rdma_rxe" rxe_load
tap_check "veth pair vlt0/vlt1 up with 10.77.0.1/24" ip -batch - <<-EOF
	link add vlt0 type veth peer name vlt1
	addr add 10.77.0.1/24 dev vlt0
	link set vlt0 up
	link set vlt1 up
EOF

# --- 1. rdma link delete while a process holds the device ----------------------
tap_check "rdma link add $DEV type rxe netdev vlt0" rxe_add "$DEV" vlt0
base=$(objects)
tap_diag "object counts with $DEV idle: $base"
start_holder "$OUT/hold1.log"
tap_check "a process holds $DEV open with objects of every kind" wait_line "$OUT/hold1.log" '^verbsev: holding' 90
tap_check "debugfs counts the held objects" held
tap_check "rmmod rdma_rxe is refused while the device is open" rmmod_refused

bg linkdel rdma link delete "$DEV"
dpid=$BGPID
tap_check "rdma link delete $DEV waits for the process (${BLOCKED_SECS}s)" still_running linkdel "$BLOCKED_SECS"
tap_diag "rdma link delete's kernel stack: $(stack "$dpid")"
tap_check "rmmod rdma_rxe is still refused while the delete waits" rmmod_refused
kill_holder
tap_check "rdma link delete completes once the process is killed" finishes linkdel "$dpid" "$FINISH_SECS"
tap_check "$DEV is gone" sh -c "! test -e /sys/class/infiniband/$DEV && ! rdma link show 2>/dev/null | grep -q '$DEV/'"
tap_check "every object count is back to zero" all_zero 30

# --- 2. the netdev goes away while a process holds the device -------------------
tap_check "rdma link add $DEV type rxe netdev vlt0 (again)" rxe_add "$DEV" vlt0
base=$(objects)
start_holder "$OUT/hold2.log"
tap_check "a second process holds $DEV open" wait_line "$OUT/hold2.log" '^verbsev: holding' 90
tap_check "debugfs counts its objects" held

bg ipdel ip link del vlt0
npid=$BGPID
tap_check "ip link del vlt0 waits for the process (${BLOCKED_SECS}s)" still_running ipdel "$BLOCKED_SECS"
tap_diag "ip link del's kernel stack: $(stack "$npid")"
tap_check "rmmod rdma_rxe is refused while the netdev deletion waits" rmmod_refused
kill_holder
tap_check "ip link del vlt0 completes once the process is killed" finishes ipdel "$npid" "$FINISH_SECS"
gone_all() {
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -le 30 ]; do
		! test -e /sys/class/infiniband/$DEV && ! test -e /sys/class/net/vlt0 &&
			! test -e /sys/class/net/vlt1 && return 0
		sleep 0.5
	done
	ls /sys/class/infiniband /sys/class/net
	return 1
}
tap_check "$DEV, vlt0 and vlt1 are gone" gone_all
tap_check "every object count is back to zero" all_zero 30
tap_check "eth0 was not touched (still up, 10.0.0.1)" sh -c "ip -4 addr show dev $IFACE | grep -q 'inet $MY_IP/'"

# --- 3. teardown ------------------------------------------------------------------------
tap_check "our modules unload" rxe_unload
tap_check "rdma_rxe is gone" test ! -d /sys/module/rdma_rxe
tap_check "dmesg has no 'rxe-odp: leak' line" sh -c '! dmesg | grep -F "rxe-odp: leak"'
tap_check "both holders said they were holding and were killed before exiting" sh -c "
	grep -q '^verbsev: holding' $OUT/hold1.log && grep -q '^verbsev: holding' $OUT/hold2.log &&
	! grep -q 'exiting without destroying' $OUT/hold1.log $OUT/hold2.log"
tap_done
