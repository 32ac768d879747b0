# Helpers for cases that run a server and a client: rdma_cm tools, perftest,
# the ibv_*_pingpong examples.  Source after guest-lib.sh:
#     . "$TESTS/lib/guest-lib.sh"; . "$TESTS/lib/pair-lib.sh"
# Logs of every run go to $RESULTS/<name>.<role>.log (kept with the case's
# results).  Like guest-lib.sh, nothing here prints TAP.

: "${PAIR_TIMEOUT:=150}"
PAIR_TIMEOUT=$(tscale "$PAIR_TIMEOUT")

# link_local: this guest's IPv6 link-local address on $IFACE.
link_local() {
	ip -6 -o addr show dev "$IFACE" scope link | awk '{ sub("/.*", "", $4); print $4; exit }'
}

# hwc NAME: one of rxe0's hw_counters (0 if absent).
hwc() { cat "$RXE_PORT_SYSFS/hw_counters/$1" 2>/dev/null || echo 0; }
# hwc_rx_errors: the sum of rxe0's receive-error hw_counters (bad header,
# ICRC, DGID, key; packets to no QP).  Packets to no QP are left out when a
# perftest try was abandoned and run again (a NAME-2 log exists): the side
# that gave up destroyed its QP while its peer still had packets for it in
# flight, which is what that counter is for; a line on stderr says so.
hwc_rx_errors() {
	local sum noqp retried
	sum=$(($(hwc rcvd_bad_hdr) + $(hwc rcvd_bad_icrc) + $(hwc rcvd_bad_dgid) + $(hwc rcvd_bad_key)))
	noqp=$(hwc rcvd_no_qp)
	retried=$(ls "$RESULTS"/*-2.*.log 2>/dev/null | head -n 1)
	if [ -n "$retried" ]; then
		echo "rcvd_no_qp $noqp not counted: a perftest try was abandoned (${retried##*/})" >&2
		echo "$sum"
	else
		echo $((sum + noqp))
	fi
}
# hwc_all: every non-zero hw_counter on one line.
hwc_all() {
	local c v
	for c in "$RXE_PORT_SYSFS"/hw_counters/*; do
		read -r v <"$c"
		[ "$v" != 0 ] && printf '%s=%s ' "${c##*/}" "$v"
	done
	echo
}

# wait_listen HOW: until the server side is listening.  HOW is "cm" (an
# rdma_cm id in LISTEN state, then 0.5 s more), "tcp:PORT", "log:WORD" (WORD
# in the server's log, $_plog) or "none".  Up to 60 s.
# The extra half second for "cm": rdma_listen() shows the id as LISTEN
# before the IB CM's own listener for its service ID is in place, and a
# REQ that arrives in between is rejected as for no listener (reason 8,
# "invalid service ID"); the client then gives up (perftest 4.5 even
# crashes in librdmacm) while the server waits for ever.  Seen once in CI
# (session 15, 070's ib_send_bw -R, server scheduled out in that window).
wait_listen() {
	local n=300
	while [ $n -gt 0 ]; do
		case $1 in
		cm)
			if rdma resource show cm_id 2>/dev/null | grep -q 'state LISTEN'; then
				sleep 0.5
				return 0
			fi
			;;
		tcp:*) ss -ltn 2>/dev/null | grep -q ":${1#tcp:} " && return 0 ;;
		log:*) grep -q -- "${1#log:}" "$_plog" 2>/dev/null && return 0 ;;
		*) return 0 ;;
		esac
		sleep 0.2
		n=$((n - 1))
	done
	echo "wait_listen $1: nothing listening after 60 s" >&2
	return 1
}

# _split_cmds ARGS: SERVER_CMD... -- CLIENT_CMD... into _scmd and _ccmd.
_split_cmds() {
	_scmd=() _ccmd=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do _scmd+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	_ccmd=("$@")
}

# local_pair NAME HOW SERVER_CMD... -- CLIENT_CMD...
# Both in this guest: the server in the background, the client once the
# server listens (HOW as for wait_listen).  Succeeds iff both exit 0.
local_pair() {
	local name=$1 how=$2 spid rc rcs slog=$RESULTS/$1.server.log clog=$RESULTS/$1.client.log
	shift 2
	_split_cmds "$@"
	timeout "$PAIR_TIMEOUT" "${_scmd[@]}" >"$slog" 2>&1 &
	spid=$!
	_plog=$slog
	wait_listen "$how"
	timeout "$PAIR_TIMEOUT" "${_ccmd[@]}" >"$clog" 2>&1
	rc=$?
	wait "$spid"
	rcs=$?
	echo "$name: client rc $rc, server rc $rcs"
	echo "--- client:"; tail -n 8 "$clog"
	echo "--- server:"; tail -n 8 "$slog"
	[ "$rc" = 0 ] && [ "$rcs" = 0 ]
}

# peer_pair NAME SERVER_ROLE HOW SERVER_CMD... -- CLIENT_CMD...
# Two guests: the guest whose ROLE is SERVER_ROLE runs the server, the
# other the client once the server listens.  Both guests call it with the
# same arguments.  Succeeds iff both sides exit 0.
peer_pair() {
	local name=$1 srole=$2 how=$3 pid rc prc log=$RESULTS/$1.$ROLE.log
	shift 3
	_split_cmds "$@"
	if [ "$ROLE" = "$srole" ]; then
		timeout "$PAIR_TIMEOUT" "${_scmd[@]}" >"$log" 2>&1 &
		pid=$!
		_plog=$log
		wait_listen "$how"
		peer_sync "$name-ready" ok 200 >/dev/null
		wait "$pid"
		rc=$?
	else
		peer_sync "$name-ready" ok 200 >/dev/null
		timeout "$PAIR_TIMEOUT" "${_ccmd[@]}" >"$log" 2>&1
		rc=$?
	fi
	prc=$(peer_sync "$name-done" "$rc" $((PAIR_TIMEOUT + 60)))
	echo "$name: rc here ($ROLE) $rc, peer ${prc:-none}"
	tail -n 8 "$log"
	[ "$rc" = 0 ] && [ "$prc" = 0 ]
}

# peer_pair_pt NAME SERVER_ROLE HOW SERVER_CMD... -- CLIENT_CMD...: peer_pair
# for a perftest pair; a pair that failed is run again (at most three
# tries, logs NAME-TRY) when perftest's timer calibration failed on either
# side ("Correlation coefficient r^2 < 0.9", then "Can't produce a report"
# and exit 1; see pt_retry_peer in guest-lib.sh).  A pair that passed
# despite the message is taken.
# local_pair_pt NAME HOW SERVER_CMD... -- CLIENT_CMD...: local_pair for a
# perftest pair, with the same retry (logs NAME-TRY).
local_pair_pt() {
	local name=$1 try rc
	shift
	for try in 1 2 3; do
		local_pair "$name-$try" "$@"
		rc=$?
		[ $rc -eq 0 ] && return 0
		pt_calib_failed "$RESULTS/$name-$try".*.log || return $rc
		echo "$name: perftest timer calibration failed, again"
	done
	return 1
}

peer_pair_pt() {
	local name=$1
	shift
	pt_retry_peer "$name-@TRY@" "$RESULTS/$name-@TRY@.$ROLE.log" _peer_pair_try "$name" "$@"
}

# _peer_pair_try NAME ARGS...: peer_pair as try $PT_TRY (logs NAME-TRY).
_peer_pair_try() {
	local name=$1
	shift
	peer_pair "$name-$PT_TRY" "$@"
}
