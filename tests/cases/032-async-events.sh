#!/bin/bash
# Asynchronous events a verbs program must get (userspace/verbsev), on the
# stock rdma_rxe first and then on ours, in the same guest:
#  - srq-limit: a UD QP on an SRQ sends to itself (loopback); with 16
#    receives posted and the limit armed at 8, consuming 8 raises nothing,
#    the 9th raises IBV_EVENT_SRQ_LIMIT_REACHED for that SRQ, the SRQ then
#    reads back disarmed and consuming more raises nothing; every payload
#    is compared;
#  - cq-overflow: more signalled sends than the send CQ holds raise
#    IBV_EVENT_CQ_ERR for that CQ, and the CQ then holds exactly the first C
#    completions in order: never overwritten, nothing turning up later;
#  - send-inv: on an RC loopback pair a plain SEND succeeds, then a SEND
#    with Invalidate naming an ordinary MR's R_Key completes the receive
#    with IBV_WC_REM_INV_REQ_ERR and leaves the receiving QP in ERR;
#  - uc-errors: on a UC loopback pair, remote errors the responder must
#    drop (a 4-packet WRITE running off the end of a 2048-byte MR, a
#    3-packet WRITE with a dead R_Key) change no byte, good WRITEs after
#    each land intact and the receiver stays in RTS (UC has no NAK: a
#    dropped message must not kill the QP); a local error (a SEND longer
#    than the receive buffer) completes that receive in error, flushes the
#    next and leaves the receiver in ERR, as on stock.  On ours
#    rcvd_uc_dropped grows by exactly the 8 packets dropped;
#  - uc-rnr (ours only; stock 6.1 fails it, so its result is only shown):
#    a UC WRITE with immediate that finds no receive is dropped and a good
#    WRITE after it lands.
#  - uc-loss (ours only: it loses packets with our transmit fault
#    injection): a UC SEND and a UC WRITE with immediate that lose their
#    middle packet complete nothing on the receiver; the receive the broken
#    SEND was filling serves the next SEND, which lands intact; the next
#    WRITE with immediate completes its receive; out_of_seq_request counts
#    the two gaps.
#  - rc-reset (ours only): an RC loopback pair, 100 times: the receiver is
#    moved to RESET at a random moment of a 16-SEND burst (the responder
#    sleeping 1 ms between its look at the QP state and each packet, so
#    the reset lands under a running transport), both QPs are connected
#    again with new PSNs, and two SENDs must then land in their own
#    receives, in order, with their bytes, with nothing else completing.
#    Stock 6.1 fails it: after a reset and reconnection its receives stop
#    completing (then post_recv reports ENOSPC), and destroying those QPs
#    warns "refcount_t: underflow; use-after-free" in its __rxe_cleanup,
#    which would fail this case on stock's account, so stock skips it.
#  - rc-reset-asleep (ours only: debugfs odp_copy_delay_ms makes an ODP
#    copy sleep 2 s, a slow fault): a one-packet SEND's responder sleeps
#    in the copy into its ODP receive buffer while both QPs are reset and
#    connected again, the sender from the same PSN, and a new SEND is
#    posted before its receive is: when the sleeper wakes, its ACK of the
#    old packet must not complete the new SEND (which RNR-retries until
#    the receive comes 0.5 s later, then lands there intact) and the old
#    receive must never complete.  4 rounds, every other one with the RQ
#    index first brought round to the sleeper's slot by flushes.
#  - srq-flush (ours only: transmit fault injection): an RC receiver on an
#    SRQ holds the receive a SEND's first packet took (its last packet is
#    lost); moved to ERR it must complete exactly that receive with
#    WR_FLUSH_ERR.
#  - rd-no-res (both): a READ, and a FETCH_ADD, towards an RC responder
#    with max_dest_rd_atomic 0 complete with a remote invalid request
#    error, nothing read or added.
#  - ack-coalesce (both): 4 RDMA WRITEs of 64 KiB at MTU 1024 posted
#    together land, and sent_pkts grows by their 256 packets plus 1-8
#    acknowledges;
#  - wc-errors (both): one RC pair per error: a SEND with a dead lkey,
#    a SEND longer than the receive, a receive with a dead lkey, a WRITE
#    with a dead rkey, no receive with rnr_retry 0, a peer in RESET with
#    retry_cnt 2: the requester completes with local protection, remote
#    invalid request, remote operation, remote access, RNR retry exceeded
#    and retry exceeded errors, and is in ERR; a receive involved completes
#    in error and its QP is in ERR.  Stock 6.1 reports local QP operation
#    error for the dead lkey, remote operation error for the long SEND and
#    local QP operation error on both receives (accepted for stock, shown);
#    ours must report what the IBTA says (local protection, remote invalid
#    request / local length, local protection);
#  - ours: "rdma -dd res show qp" shows the driver's transport state of
#    each QP (sq/rq indices, PSNs, packet queues, run state), for a QP
#    held by "verbsev hold";
#  - fence (both): a WRITE posted right after a READ, whose source the
#    READ fills, carries the READ's bytes when it has IBV_SEND_FENCE (5
#    rounds; unfenced rounds first as a control, shown only);
#  - local-inv (both): a BIND_MW and the SEND announcing its R_Key, posted
#    together: b's WRITE through the key lands; a long WRITE, a LOCAL_INV
#    and a SEND complete in that order, and b's WRITE through the key after
#    the SEND fails with a remote access error, changing nothing;
#  - fair (ours; stock's result only shown): three QPs stream 1024 WRITEs
#    of 32 KiB each while a fourth posts one 64-byte WRITE: it completes
#    before any stream is half done, and when the first stream ends the
#    others are at least a quarter done.  Stock 6.1 fails it: one stream
#    had nothing completed when another finished, and the small WRITE
#    could only be posted once every stream had started, at the end;
#  - rd-depth (ours only: transmit fault injection): with max_rd_atomic 3
#    exactly 3 of 8 READs (of 5 FETCH_ADDs) go out while their requests
#    are lost, all complete after the resend; max_rd_atomic 0 fails a READ
#    locally; 64 FETCH_ADDs outstanding with every 3rd atomic acknowledge
#    lost each execute exactly once (duplicates 63 deep answered from the
#    responder resources).
# Both implementations must pass every other check (stock is the
# reference).
# topology: one
# impl: none
# timeout: 420
. "$TESTS/lib/guest-lib.sh"

VE=$REPO/userspace/verbsev/verbsev
OUT=$RESULTS/async-events
mkdir -p "$OUT"

tap_plan 36
[ -x "$VE" ] || tap_bail "$VE is not built (make userspace)"

# verbsev IMPL MODE: run one check; its output is the diagnostics
verbsev() {
	local log=$OUT/$1-$2.log rc
	timeout "$(tscale 240)" "$VE" -d rxe0 -t "$(tscale 30)" "$2" >"$log" 2>&1
	rc=$?
	cat "$log"
	[ $rc = 0 ] && grep -qx 'verbsev: PASS' "$log"
}

for impl in stock ours; do
	tap_check "$impl: load rdma_rxe" rxe_load $impl
	tap_check "$impl: rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
	tap_check "$impl: RoCE v2 GID for $MY_IP" wait_gid "$MY_IP" 200
	tap_check "$impl: SRQ limit event (verbsev srq-limit)" verbsev $impl srq-limit
	tap_check "$impl: CQ overflow event, CQ never overwritten (verbsev cq-overflow)" \
		verbsev $impl cq-overflow
	grep -E '^verbsev: ' "$OUT/$impl-cq-overflow.log" | while IFS= read -r l; do tap_diag "$impl: $l"; done
	tap_check "$impl: SEND with Invalidate of an ordinary MR's R_Key fails the receive, QP in ERR (verbsev send-inv)" \
		verbsev $impl send-inv
	tap_check "$impl: a READ or atomic towards max_dest_rd_atomic 0 is NAKed invalid request (verbsev rd-no-res)" \
		verbsev $impl rd-no-res
	tap_check "$impl: 4 WRITEs of 64 packets draw a few acknowledges, not one per packet (verbsev ack-coalesce)" \
		verbsev $impl ack-coalesce
	grep -E '^acknowledges:' "$OUT/$impl-ack-coalesce.log" | while IFS= read -r l; do tap_diag "$impl: $l"; done
	tap_check "$impl: each RC error completes the requester with its status, both sides in ERR (verbsev wc-errors)" \
		verbsev $impl wc-errors
	grep -E '^re(quest|spond)er:' "$OUT/$impl-wc-errors.log" | while IFS= read -r l; do tap_diag "$impl: $l"; done
	if [ $impl = ours ]; then
		tap_check "ours: statuses as the IBTA says (dead lkey in a SEND: local protection error; too long: remote invalid request / local length error; dead lkey in a receive: local protection error)" \
			eval "grep -qx 'requester: send-bad-lkey local protection error' '$OUT/ours-wc-errors.log' && grep -qx 'requester: send-too-long remote invalid request error' '$OUT/ours-wc-errors.log' && grep -qx 'responder: send-too-long local length error' '$OUT/ours-wc-errors.log' && grep -qx 'responder: recv-bad-lkey local protection error' '$OUT/ours-wc-errors.log'"
	fi
	tap_check "$impl: a fenced WRITE carries the bytes of the READ before it (verbsev fence)" \
		verbsev $impl fence
	tap_check "$impl: BIND_MW and LOCAL_INV take effect in send queue order (verbsev local-inv)" \
		verbsev $impl local-inv
	if [ $impl = ours ]; then
		hw=$RXE_PORT_SYSFS/hw_counters
		to0=$(cat "$hw/completer_retry_err") dup0=$(cat "$hw/duplicate_request")
		tap_check "ours: a QP with one WRITE is not starved by three streaming QPs, nor are they by each other (verbsev fair)" \
			verbsev $impl fair
		tap_diag "ours: fair: $(($(cat "$hw/completer_retry_err") - to0)) retransmission timeouts, $(($(cat "$hw/duplicate_request") - dup0)) duplicate requests"
	elif [ "${TIMEOUT_SCALE:-1}" -gt 1 ]; then
		# On the debug kernel stock's tasklet soft-locked a CPU for 22 s
		# running one stream's backlog (session 11): a stock failure
		# that would fail this case, and stock is only shown here.
		: >"$OUT/stock-fair.log"
		tap_diag "stock: verbsev fair skipped on a slowed kernel (stock's tasklet soft-locks running one stream)"
	else
		verbsev $impl fair >/dev/null
		tap_diag "stock: verbsev fair: $(tail -n 1 "$OUT/stock-fair.log") (not asserted: stock 6.1 runs one QP's whole backlog before the next)"
	fi
	grep -hE '^(streams|control|stream [0-9]+):|^FAIL' "$OUT/$impl-fair.log" "$OUT/$impl-fence.log" | while IFS= read -r l; do tap_diag "$impl: $l"; done
	ucd0=$(cat "$RXE_PORT_SYSFS/hw_counters/rcvd_uc_dropped" 2>/dev/null)
	tap_check "$impl: UC drops bad WRITEs and stays in RTS, good WRITEs land; a too-long SEND ends the receiver (verbsev uc-errors)" \
		verbsev $impl uc-errors
	if [ $impl = ours ]; then
		ucd1=$(cat "$RXE_PORT_SYSFS/hw_counters/rcvd_uc_dropped" 2>/dev/null)
		tap_check "ours: rcvd_uc_dropped grew by the 8 packets dropped (${ucd0:-none} -> ${ucd1:-none})" \
			test "$((ucd1 - ucd0))" = 8
		tap_check "ours: a UC WRITE with immediate that finds no receive is dropped, the next WRITE lands (verbsev uc-rnr)" \
			verbsev $impl uc-rnr
		mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
		tap_check "ours: a UC message that lost a packet completes nothing, its receive serves the next message (verbsev uc-loss)" \
			verbsev $impl uc-loss
		tap_check "ours: an RC QP reset under a running transport and connected again starts clean (verbsev rc-reset)" \
			verbsev $impl rc-reset
		tap_check "ours: a responder asleep in an ODP fault across a reset and reconnection acts on nothing of the new connection (verbsev rc-reset-asleep)" \
			verbsev $impl rc-reset-asleep
		tap_check "ours: an SRQ receive held by a SEND in progress is flushed when the QP goes to ERR (verbsev srq-flush)" \
			verbsev $impl srq-flush
		"$VE" -d rxe0 -T 120 hold >"$OUT/hold.log" 2>&1 &
		hpid=$!
		for _ in $(seq 1 "$(tscale 60)"); do grep -q holding "$OUT/hold.log" && break; sleep 1; done
		rdma -dd res show qp link rxe0/1 >"$OUT/res-qp.txt" 2>&1
		sed 's/^/#   /' "$OUT/res-qp.txt"
		tap_check "ours: rdma -dd res show qp shows each QP's transport state (sq/rq indices, PSNs, packet queues, run state)" \
			eval "grep -q 'sq_prod' '$OUT/res-qp.txt' && grep -q 'rq_prod' '$OUT/res-qp.txt' && grep -q 'req_psn' '$OUT/res-qp.txt' && grep -q 'req_pkts' '$OUT/res-qp.txt' && grep -q 'running' '$OUT/res-qp.txt'"
		kill "$hpid" 2>/dev/null
		wait "$hpid" 2>/dev/null
		tap_check "ours: at most max_rd_atomic READs/atomics outstanding; 64 deep duplicates answered from the responder resources (verbsev rd-depth)" \
			verbsev $impl rd-depth
	else
		verbsev $impl uc-rnr >/dev/null
		tap_diag "stock: verbsev uc-rnr: $(tail -n 1 "$OUT/stock-uc-rnr.log") (not asserted: stock 6.1 drops the UC messages that follow)"
	fi
	rxe_del rxe0
	if [ $impl = stock ]; then
		tap_check "stock: unloads" modprobe -r rdma_rxe
	else
		tap_check "ours: unloads cleanly" rxe_unload
	fi
done
tap_done
