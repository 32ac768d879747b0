#!/bin/bash
# Transient ODP failures never become errors.  The driver's fault-injection
# knob (<debugfs>/rdma_rxe/odp_fail_every = N: every Nth access to an ODP
# MR fails with -EAGAIN, as an invalidation storm that beat the ODP core's
# fault retries would) drives the back-off paths of the requester (send
# gather), responder (receive scatter) and completer: ibv_rc_pingpong with
# ODP MRs (-o, and implicit ODP -O) and payload validation (-c) must pass,
# and odp_deferred must grow.  Then every access that stores to memory
# fails for 3 s (N = 1, odp_fail_writes_only): the requester keeps sending,
# the responder must answer RNR NAKs (send_rnr_err grows) and the transfer
# must still complete, validated, once the storm ends.  Last, READs from
# an ODP MR through a 2 s outage of every ODP access, with the requester's
# ACK timeout at one jiffy: the responder holds the first READ while the
# requester times out again and again, so copies of the outstanding READs
# pile up behind it; once the outage ends the responder must skip every
# copy a later resend supersedes (dup_read_skipped grows) and the run
# must finish without exhausting any retry count.
# topology: one
# impl: ours
# timeout: 600
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/perftest-run.sh"

hc=/sys/class/infiniband/rxe0/ports/1/hw_counters
knob=/sys/kernel/debug/rdma_rxe/odp_fail_every
wknob=/sys/kernel/debug/rdma_rxe/odp_fail_writes_only
cnt() { cat "$hc/$1"; }

tap_plan 13
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
tap_check "load our rdma_rxe" rxe_load ours
tap_check "rdma link add rxe0" rxe_add rxe0 "$IFACE"
tap_check "fault-injection knob present" test -w "$knob"
gidx=$(wait_gid "$MY_IP" 50 && gid_index "$MY_IP")

# pingpong PORT ARGS...: server + client on rxe0, validated
pingpong() {
	local port=$1 srv=/tmp/pp-srv.out rc_s rc_c spid
	shift
	timeout 150 ibv_rc_pingpong -d rxe0 -g "$gidx" -p "$port" -c "$@" >"$srv" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		ss -ltn 2>/dev/null | grep -q ":$port " && break
		sleep 0.2
	done
	timeout 140 ibv_rc_pingpong -d rxe0 -g "$gidx" -p "$port" -c "$@" "$MY_IP"
	rc_c=$?
	wait "$spid"
	rc_s=$?
	echo "--- server:"
	cat "$srv"
	echo "client rc $rc_c, server rc $rc_s"
	[ "$rc_c" -eq 0 ] && [ "$rc_s" -eq 0 ]
}

d0=$(cnt odp_deferred)
echo 3 >"$knob"
tap_check "RC pingpong, ODP MRs, every 3rd ODP access fails transiently, 16 KiB x 30, validated" \
	pingpong 18901 -o -s 16384 -m 1024 -n 30
tap_check "RC pingpong, implicit ODP MRs, same injection, 16 KiB x 20, validated" \
	pingpong 18902 -O -s 16384 -m 1024 -n 20
echo 0 >"$knob"
d1=$(cnt odp_deferred)
tap_check "transport backed off (odp_deferred $d0 -> $d1)" test "$d1" -gt "$d0"

# outage PORT SECONDS WRITES_ONLY SERVER CLIENT: start SERVER (a command
# line) and wait until it listens on PORT; turn the injection on for every
# ODP access (WRITES_ONLY 0) or for stores only (1); start CLIENT; keep
# the outage for SECONDS after the two have connected, end it, and wait
# for both, which must exit 0.  The outage starts before the client does
# (connection setup goes over TCP and touches no ODP memory), so the
# traffic cannot finish before it (with the inline doorbell, 300 x 4 KiB
# of pingpong took less than one 0.2 s poll).
outage() {
	local port=$1 secs=$2 srv=$RESULTS/outage-$1.srv cli=$RESULTS/outage-$1.cli spid cpid rc_s rc_c
	# shellcheck disable=SC2086 # command lines
	stdbuf -oL timeout 150 $4 >"$srv" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		ss -ltn 2>/dev/null | grep -q ":$port " && break
		sleep 0.2
	done
	echo "$3" >"$wknob"
	echo 1 >"$knob"
	# shellcheck disable=SC2086
	stdbuf -oL timeout 140 $5 >"$cli" 2>&1 &
	cpid=$!
	for _ in $(seq 300); do
		grep -q "remote address" "$cli" && break
		sleep 0.2
	done
	sleep "$secs"
	echo 0 >"$knob"
	echo 0 >"$wknob"
	wait "$cpid"
	rc_c=$?
	wait "$spid"
	rc_s=$?
	echo "--- client:"; tail -n 20 "$cli"; echo "--- server:"; tail -n 20 "$srv"
	echo "client rc $rc_c, server rc $rc_s"
	[ "$rc_c" -eq 0 ] && [ "$rc_s" -eq 0 ]
}
pp="ibv_rc_pingpong -d rxe0 -g $gidx -p 18903 -c -o -s 4096 -n 300"
r0=$(cnt send_rnr_err)
tap_check "RC pingpong through a 3 s outage of ODP stores, 4 KiB x 300, validated" \
	outage 18903 3 1 "$pp" "$pp $MY_IP"
r1=$(cnt send_rnr_err)
tap_check "responder answered RNR NAKs during the outage (send_rnr_err $r0 -> $r1)" test "$r1" -gt "$r0"
tap_check "no retry or RNR-retry exhaustion" \
	sh -c "[ \$(cat $hc/retry_exceeded_err) -eq 0 ] && [ \$(cat $hc/retry_rnr_exceeded_err) -eq 0 ]"
for c in "$hc"/odp_* "$hc"/send_rnr_err "$hc"/rcvd_rnr_err; do tap_diag "${c##*/} $(cat "$c")"; done
# READs: the server's (responder's) MR on demand, the client's pinned (so
# only the responder's reads fail), the client's QP timeout 10 (4 ms: one
# jiffy); every ODP access fails for 2 s after connection.
rb="ib_read_bw -d rxe0 -x $gidx -p 18904 -F -s 65536 -n 100"
k0=$(cnt dup_read_skipped)
tap_check "64 KiB READs x 100 from an ODP MR through a 2 s outage, 4 ms timeout, complete" \
	outage 18904 2 0 "$rb --odp" "$rb -u 10 $MY_IP"
k1=$(cnt dup_read_skipped)
tap_diag "completer_retry_err $(cnt completer_retry_err) duplicate_request $(cnt duplicate_request) send_rnr_err $(cnt send_rnr_err)"
tap_check "superseded duplicate READs skipped (dup_read_skipped $k0 -> $k1), no retry exhaustion" \
	sh -c "[ $k1 -gt $k0 ] && [ \$(cat $hc/retry_exceeded_err) -eq 0 ] && [ \$(cat $hc/retry_rnr_exceeded_err) -eq 0 ]"
tap_check "knob off" sh -c "[ \$(cat $knob) = 0 ]"
tap_check "unload ours cleanly" rxe_unload
tap_done
