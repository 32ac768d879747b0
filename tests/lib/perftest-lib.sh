# shellcheck shell=bash
# perftest helpers for guest cases and the bench (source after guest-lib.sh).
#
# perftest checks no payload, so the cases judge a run by its exit status,
# by its result table (a row for the requested size with a non-zero figure)
# and by the rxe hw_counters moving.  Every tool runs under `timeout`, so a
# hung QP fails the subtest instead of the whole case.
#
#   pt_setup [PREFIX]        rxe0 on $IFACE, its GID index in PT_GIDX (2 TAP points)
#   pt_cnt NAME              an rxe0 port 1 hw counter (0 if absent)
#   pt_result KIND FILE SIZE the figure of FILE's result row for SIZE bytes:
#                            KIND bw -> BW average [MB/s], rate -> MsgRate
#                            [Mpps] (atomics: 8 B at TCG speed rounds to
#                            0.00 MB/s), lat -> t_typical [usec]; non-zero
#                            status without a row or if the figure is zero
#   pt_loop NAME TOOL ARGS   server and client of TOOL on the same rxe0
#                            (loopback); outputs in $PT_OUT/NAME.{srv,cli}
#   pt_side NAME SERVER_ROLE TOOL ARGS
#                            one side of a two-guest run: the guest whose
#                            ROLE is SERVER_ROLE serves, the other connects
#                            to $PEER_IP; output in $PT_OUT/NAME.{srv,cli}
# Settings: PT_GIDX (set by the caller, from gid_index of guest-lib.sh), PT_PORT (next TCP port, bumped by
# each run), PT_OUT (output dir), PT_TIMEOUT (seconds per tool, default 120).

PT_HC=/sys/class/infiniband/rxe0/ports/1/hw_counters
: "${PT_PORT:=18700}" "${PT_OUT:=$RESULTS/perftest}" "${PT_TIMEOUT:=120}"
mkdir -p "$PT_OUT"

# pt_setup [PREFIX]: rdma link add rxe0 on $IFACE and wait for the RoCE v2
# GID of $MY_IP: two TAP points (descriptions after "PREFIX: "); sets
# PT_GIDX.  Fails if either step does.
pt_setup() {
	local pre=${1:+$1: }
	tap_check "${pre}rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE" || return 1
	tap_check "${pre}RoCE v2 GID for $MY_IP" wait_gid "$MY_IP" || return 1
	PT_GIDX=$(gid_index "$MY_IP")
	tap_diag "GID index $PT_GIDX"
}

pt_cnt() {
	local v=0
	[ -r "$PT_HC/$1" ] && read -r v <"$PT_HC/$1"
	echo "$v"
}

# The result row: the size, the iteration count, then the figures (perftest
# prints "#bytes #iterations ..." as its header).  Only the figure we use
# must be a positive number; others may read nan (a stdev over too few
# samples) or inf.  Status 1: no row; 2: a row, but no positive figure.
pt_result() {
	local kind=$1 file=$2 size=$3 col
	case $kind in
	bw) col=4 ;;
	rate|lat) col=5 ;;
	*) return 3 ;;
	esac
	awk -v size="$size" -v col="$col" '
		$1 == size && $2 ~ /^[0-9]+$/ && NF >= col { fig = $col; found = 1 }
		END {
			if (!found) exit 1
			print fig
			exit (fig ~ /^[0-9]+(\.[0-9]+)?$/ && fig + 0 > 0) ? 0 : 2
		}' "$file"
}

_pt_wait_listen() {
	local _
	for _ in {1..150}; do
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.2
	done
	return 1
}

# pt_loop NAME TOOL ARGS...: server in the background, client to our own
# address; both must exit 0.  Prints both outputs' tails on failure.
pt_loop() {
	local name=$1 tool=$2 port=$PT_PORT spid rc_s rc_c
	shift 2
	PT_PORT=$((PT_PORT + 1))
	timeout "$PT_TIMEOUT" "$tool" -d rxe0 -x "$PT_GIDX" -p "$port" -F "$@" \
		>"$PT_OUT/$name.srv" 2>&1 &
	spid=$!
	if ! _pt_wait_listen "$port"; then
		echo "server of $tool never listened on $port"
		kill "$spid" 2>/dev/null
		wait "$spid"
		tail -n 20 "$PT_OUT/$name.srv"
		return 1
	fi
	timeout "$PT_TIMEOUT" "$tool" -d rxe0 -x "$PT_GIDX" -p "$port" -F "$@" "$MY_IP" \
		>"$PT_OUT/$name.cli" 2>&1
	rc_c=$?
	wait "$spid"
	rc_s=$?
	if [ "$rc_c" -ne 0 ] || [ "$rc_s" -ne 0 ]; then
		echo "client rc $rc_c, server rc $rc_s (124 = timed out)"
		echo "--- client:"; tail -n 15 "$PT_OUT/$name.cli"
		echo "--- server:"; tail -n 15 "$PT_OUT/$name.srv"
		return 1
	fi
	return 0
}

# pt_side NAME SERVER_ROLE TOOL ARGS...: both guests call it in step.
pt_side() {
	local name=$1 server=$2 tool=$3 port=$PT_PORT rc peer_rc out slow=()
	shift 3
	PT_PORT=$((PT_PORT + 1))
	# PT_PAIR_SLOW=1 (062) on the debug tier: QP timeout 18 (about 1 s)
	# and 8 requests in flight (pt_add_window in guest-lib.sh), as
	# odp-perftest-two.sh.  With perftest's 67 ms and 128 outstanding
	# 64 KiB READs, ours timed out 979 times against a stock responder
	# and ib_read_bw outlived its limit (session 13).
	if [ "${PT_PAIR_SLOW:-0}" = 1 ] && [ "${TIMEOUT_SCALE:-1}" -gt 1 ]; then
		slow=(-u 18)
		pt_add_window "$tool" slow
	fi
	if [ "$ROLE" = "$server" ]; then
		out=$PT_OUT/$name.srv
		timeout "$PT_TIMEOUT" "$tool" -d rxe0 -x "$PT_GIDX" -p "$port" -F "${slow[@]}" "$@" \
			>"$out" 2>&1 &
		local spid=$!
		_pt_wait_listen "$port"
		peer_sync "$name-go" listening >/dev/null
		wait "$spid"
		rc=$?
	else
		out=$PT_OUT/$name.cli
		peer_sync "$name-go" connecting >/dev/null
		timeout "$PT_TIMEOUT" "$tool" -d rxe0 -x "$PT_GIDX" -p "$port" -F "${slow[@]}" "$@" "$PEER_IP" \
			>"$out" 2>&1
		rc=$?
	fi
	peer_rc=$(peer_sync "$name-done" "$rc" $((PT_TIMEOUT + 30)))
	if [ "$rc" -ne 0 ] || [ "$peer_rc" != 0 ]; then
		echo "here ($ROLE, $RXE_IMPL) rc $rc, peer rc '${peer_rc:-no answer}' (124 = timed out)"
		tail -n 20 "$out"
		return 1
	fi
	return 0
}

# _pt_snap: every hw counter of rxe0 port 1 as "name value" lines.
_pt_snap() {
	local f v
	for f in "$PT_HC"/*; do
		read -r v <"$f" && echo "${f##*/} $v"
	done
}

# _pt_judge KIND SIZE NAME: this guest's verdict on one run's output, one
# word on stdout (ok, calib, bad) and the figure or reason on the next.
# The client's table must have the row; a server's is judged only where it
# printed a row (send tests do, the others print at most a header).
# "calib": no usable figure because perftest's timer calibration failed
# (it samples the TSC against gettimeofday and gives up below r^2 0.9,
# which a loaded TCG host causes now and then; the figures are then inf).
_pt_judge() {
	local kind=$1 size=$2 name=$3 f fig rc
	for f in "$PT_OUT/$name.cli" "$PT_OUT/$name.srv"; do
		[ -f "$f" ] || continue
		fig=$(pt_result "$kind" "$f" "$size")
		rc=$?
		[ $rc -eq 1 ] && [ "${f##*.}" = srv ] && continue
		if [ $rc -eq 0 ]; then
			printf 'ok\n%s\n' "$fig"
		elif pt_calib_failed "$f"; then
			printf 'calib\nperftest timer calibration failed in %s\n' "${f##*/}"
		else
			printf 'bad\nno result row for %s B with a positive figure in %s\n' "$size" "${f##*/}"
		fi
		return 0
	done
	printf 'ok\n\n'
}

# pt_tap KIND SIZE MIN_PKTS NAME pt_loop TOOL ARGS...
# pt_tap KIND SIZE MIN_PKTS NAME pt_side SERVER_ROLE TOOL ARGS...
# One TAP point for one perftest run: ok iff the run exits 0 on both ends,
# the result row for SIZE on this guest's side has a non-zero figure (the
# client always prints the table; a server only for some tests: where it
# prints one, it is checked too), and this guest's sent_pkts + rcvd_pkts
# grew by at least MIN_PKTS.  A run whose figures are lost to a failed
# timer calibration (see _pt_judge) is repeated, at most twice; in two
# guests both sides agree on that through peer_sync.  Counter deltas of
# each run are kept in $PT_OUT/NAME.hc.  Call from the case's main shell.
pt_tap() {
	local kind=$1 size=$2 min=$3 name=$4 runner=$5 out rc unit=MB/s desc
	local before after verdict fig peer try ds dr
	shift 5
	case $kind in lat) unit=usec ;; rate) unit=Mpps ;; esac
	desc="$name: $*"
	for try in 1 2 3; do
		before=$(_pt_snap)
		out=$("$runner" "$name" "$@" 2>&1)
		rc=$?
		after=$(_pt_snap)
		if [ $rc -ne 0 ]; then
			verdict=bad fig=$out
		else
			{ read -r verdict; read -r fig; } < <(_pt_judge "$kind" "$size" "$name")
		fi
		peer=
		[ "$runner" = pt_side ] &&
			peer=$(peer_sync "$name-verdict-$try" "$verdict" $((PT_TIMEOUT + 30)))
		# Both guests take the same decision from the same two words.
		[ "$verdict" = calib ] || [ "$peer" = calib ] || break
		[ $try -lt 3 ] || break
		tap_diag "$name: timer calibration failed (here: $verdict, peer: ${peer:--}); run $try of 3"
	done
	join <(sort <<<"$before") <(sort <<<"$after") |
		awk '$3 != $2 { print $1, "+" ($3 - $2) }' >"$PT_OUT/$name.hc"
	ds=$(awk '$1 == "sent_pkts" { print $2 + 0 }' "$PT_OUT/$name.hc")
	dr=$(awk '$1 == "rcvd_pkts" { print $2 + 0 }' "$PT_OUT/$name.hc")
	if [ "$verdict" = calib ]; then
		# Ran, completed and moved packets, but perftest could not time it.
		verdict=ok fig="no figure: $fig three times"
		unit=
	fi
	if [ "$verdict" != ok ]; then
		tap_not_ok "$desc" "$fig" "hw_counters moved: $(tr '\n' ' ' <"$PT_OUT/$name.hc")"
		return 1
	fi
	if [ $((ds + dr)) -lt "$min" ]; then
		tap_not_ok "$desc" "hw_counters: sent_pkts +$ds, rcvd_pkts +$dr; want a sum >= $min"
		return 1
	fi
	tap_ok "$desc -> ${fig:-no table on this side}${unit:+${fig:+ $unit}}"
	tap_diag "  hw_counters: $(tr '\n' ' ' <"$PT_OUT/$name.hc")"
}

# pt_suite PREFIX RUNNER [SERVER_ROLE]: the perftest coverage set, one TAP
# point per run (13 points): RC send/write/read bandwidth (64 KiB messages,
# 64 packets each at MTU 1024) and latency (2 KiB, 2 packets), RC atomics
# (fetch-and-add and compare-and-swap bandwidth, fetch-and-add latency;
# 8 B), UD send (1 KiB, one packet) and UC send (as RC send).  The packet
# minimums count one direction only, so they hold on loopback and on either
# guest of a pair.
pt_suite() {
	local p=$1 r=("${@:2}")
	pt_tap bw 65536 4096 "$p.rc-send-bw" "${r[@]}" ib_send_bw -s 65536 -n 64
	pt_tap lat 2048 400 "$p.rc-send-lat" "${r[@]}" ib_send_lat -s 2048 -n 100
	pt_tap bw 65536 4096 "$p.rc-write-bw" "${r[@]}" ib_write_bw -s 65536 -n 64
	pt_tap lat 2048 400 "$p.rc-write-lat" "${r[@]}" ib_write_lat -s 2048 -n 100
	pt_tap bw 65536 4096 "$p.rc-read-bw" "${r[@]}" ib_read_bw -s 65536 -n 64
	pt_tap lat 2048 200 "$p.rc-read-lat" "${r[@]}" ib_read_lat -s 2048 -n 100
	pt_tap rate 8 200 "$p.rc-atomic-fadd-bw" "${r[@]}" ib_atomic_bw -A FETCH_AND_ADD -n 200
	pt_tap rate 8 200 "$p.rc-atomic-cas-bw" "${r[@]}" ib_atomic_bw -A CMP_AND_SWAP -n 200
	pt_tap lat 8 100 "$p.rc-atomic-lat" "${r[@]}" ib_atomic_lat -n 100
	pt_tap bw 1024 200 "$p.ud-send-bw" "${r[@]}" ib_send_bw -c UD -s 1024 -n 200
	pt_tap lat 1024 100 "$p.ud-send-lat" "${r[@]}" ib_send_lat -c UD -s 1024 -n 100
	pt_tap bw 65536 4096 "$p.uc-send-bw" "${r[@]}" ib_send_bw -c UC -s 65536 -n 64
	pt_tap lat 2048 200 "$p.uc-send-lat" "${r[@]}" ib_send_lat -c UC -s 2048 -n 100
}

# pt_no_errors: no ICRC or header drops and no exhausted retries on this
# guest.  Retransmissions alone are not errors: perftest's default ACK
# timeout (4.096 us << 14, 67 ms) expires now and then under TCG, on the
# stock driver too; the duplicates they cause must be absorbed (ours skips
# a duplicate READ a later resend supersedes: dup_read_skipped, shown).
pt_no_errors() {
	local c v rc=0
	for c in rcvd_bad_icrc rcvd_bad_hdr retry_exceeded_err retry_rnr_exceeded_err \
		completer_retry_err duplicate_request dup_read_skipped; do
		v=$(pt_cnt "$c")
		echo "$c $v"
		case $c in completer_retry_err|duplicate_request|dup_read_skipped) continue ;; esac
		[ "$v" -eq 0 ] || rc=1
	done
	return $rc
}
