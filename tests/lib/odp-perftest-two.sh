# shellcheck shell=bash
# Body of the two-guest ODP perftest cases (112, 113).  Guest a runs ours
# with --odp; guest b runs $RXE_IMPL of its own ("ours": also --odp;
# "stock": the in-tree rdma_rxe with pinned MRs, it has no ODP).  Each tool
# runs twice: server on b then server on a.  Every run must exit 0 on both
# sides with a non-zero figure; ours must have faulted pages in.
. "$TESTS/lib/perftest-run.sh"

hc=/sys/class/infiniband/rxe0/ports/1/hw_counters
odp=()
if [ "$RXE_IMPL" = ours ]; then odp=(--odp); fi

# two_pt SERVER PORT TOOL COLUMN ARGS...: SERVER (a|b) listens on PORT and
# tells the other side once it does; the other connects.  Both check the
# exit status, the client the figure in COLUMN (a finite number > 0), and
# each side passes only if the other did too.
two_pt() {
	# A failed run whose timer calibration failed (see pt_retry_peer) is
	# run again; a run that passed despite the message is taken.
	pt_retry_peer "$3-$2-@TRY@" /tmp/two-pt.out _two_pt_once "$@"
}

_two_pt_once() {
	local server=$1 port=$2 tool=$3 col=$4 rc fig pid out=/tmp/two-pt.out
	local limit slimit slow=("${PT_SLOW[@]}")
	# The server outlives the client: killed first, it would take its
	# memory with it and the client's next requests would be NAKed.
	limit=$(tscale 150) slimit=$(tscale 180)
	# On the debug tier, 8 requests in flight instead of 128 (see
	# pt_add_window in guest-lib.sh).
	[ ${#slow[@]} -gt 0 ] && pt_add_window "$tool" slow
	shift 4
	echo "try ${PT_TRY:-1}: $tool ${odp[*]} ${slow[*]} $*"
	if [ "$ROLE" = "$server" ]; then
		timeout "$slimit" "$tool" -p "$port" -d rxe0 -x "$gidx" -F "${odp[@]}" "${slow[@]}" "$@" >"$out" 2>&1 &
		pid=$!
		for _ in $(seq "$(tscale 150)"); do
			ss -ltn 2>/dev/null | grep -q ":$port " && break
			sleep 0.2
		done
		peer_sync "$tool-$port" listening 90 >/dev/null
		wait "$pid"
		rc=$?
	else
		peer_sync "$tool-$port" connecting 90 >/dev/null
		timeout "$limit" "$tool" -p "$port" -d rxe0 -x "$gidx" -F "${odp[@]}" "${slow[@]}" "$@" "$PEER_IP" >"$out" 2>&1
		rc=$?
	fi
	cat "$out"
	# The client always prints the result row (a read_lat server does not).
	if [ "$ROLE" != "$server" ]; then
		fig=$(pt_figure "$out" "$col")
		echo "rc $rc, figure (column $col): ${fig:-none}"
		[ $rc -eq 0 ] && pt_fig_ok "$fig" || rc=1
	fi
	[ "$(peer_sync "$tool-$port-done" "$rc" 200)" = 0 ] && [ $rc -eq 0 ]
}

tap_plan 17
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
if [ "$RXE_IMPL" = ours ]; then
	# Every NAK our responder sends says why (rxe_resp.c).
	rxe_dyndbg 'format "NAK 0x" +p'
fi
tap_check "rdma link add rxe0" rxe_add rxe0 "$IFACE"
gidx=$(wait_gid "$MY_IP" 50 && gid_index "$MY_IP")
tap_check "IPv4 RoCE v2 GID (index ${gidx:-none})" test -n "$gidx"
f0=$(cat "$hc/odp_page_faults" 2>/dev/null || echo 0)
port=18800
for srv in b a; do
	for t in "ib_write_bw 4 -s 65536 -n 200" "ib_read_bw 4 -s 65536 -n 200" \
		 "ib_send_bw 4 -s 65536 -n 200" "ib_write_lat 6 -s 4096 -n 100" \
		 "ib_read_lat 6 -s 4096 -n 100" "ib_send_lat 6 -s 4096 -n 100"; do
		port=$((port + 1))
		set -- $t
		tap_check "$1, server $srv, $4 B x $6 (port $port)" two_pt "$srv" "$port" "$@"
	done
done
if [ "$RXE_IMPL" = ours ]; then
	f1=$(cat "$hc/odp_page_faults")
	tap_check "ODP pages were faulted in ($f0 -> $f1)" test "$f1" -gt "$f0"
else
	tap_ok "stock peer: pinned MRs, no ODP counters"
fi
tap_diag "$(dmesg | grep 'NAK 0x' | head -20)"
for c in "$hc"/*; do printf '%s %s  ' "${c##*/}" "$(cat "$c")"; done | fold -w 150 |
	while IFS= read -r l; do tap_diag "$l"; done
peer_sync end "$RXE_IMPL" >/dev/null
tap_check "unload cleanly" rxe_unload
tap_done
