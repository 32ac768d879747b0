# shellcheck shell=bash
# Body of the two-guest NVMe over Fabrics cases (081 ours<->ours, 082
# ours<->stock): the nvmet target runs on guest a with the nvme-rdma host
# on guest b, then the other way round.  Each round: target up, discover,
# connect, $NVMF_MIB MiB O_DIRECT write-then-read verify (and the target's
# ramdisk checked against the host's pattern by sha256), 4 KiB commands,
# a buffered pass, counters, disconnect, teardown and module unload on
# both sides.  Sourced by the case after its header; prints TAP.
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"
. "$TESTS/lib/nvmeof-lib.sh"

A=10.0.0.1 B=10.0.0.2
# The host works for minutes between two rendezvous under TCG (peer_sync
# stretches it by TIMEOUT_SCALE).
W=900

tap_plan 20
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GID for $MY_IP" wait_gid "$MY_IP"
peer=$(peer_sync start "$RXE_IMPL" 300)
tap_check "peer ready (peer runs ${peer:-nothing})" test -n "$peer"
nvmf_qp_trace_start

for t in a b; do
	if [ "$t" = a ]; then tip=$A; else tip=$B; fi
	s0=$(hwc sent_pkts) r0=$(hwc rcvd_pkts) ss0=$(hwc rdma_sends) rr0=$(hwc rdma_recvs)
	if [ "$ROLE" = "$t" ]; then
		# --- target side ---
		tap_check "target ($RXE_IMPL): brd namespace, rdma port $tip:$NVMF_SVC listening" \
			nvmf_target_up "$tip"
		peer_sync "$t-target-up" $? $W >/dev/null
		# shellcheck disable=SC2034 # read inside the eval below
		hsum=$(peer_sync "$t-written" - $W)
		tap_check "the ramdisk holds the $NVMF_MIB MiB the host ($peer) wrote (sha256)" \
			eval '[ -n "$hsum" ] && [ "$hsum" = "$(nvmf_backing_sum 0 "$NVMF_MIB")" ]'
		peer_sync "$t-checked" $? $W >/dev/null
		hrc=$(peer_sync "$t-disconnected" - $W)
		tap_check "hw_counters moved on the target (packets, capsules), no receive errors" \
			nvmf_counters_moved "$s0" "$r0" "$ss0" "$rr0" $((NVMF_MIB * 256))
		tap_check "target torn down after the host's disconnect (rc ${hrc:-none}); nvmet-rdma nvmet brd unloaded" \
			nvmf_target_down
		peer_sync "$t-down" $? $W >/dev/null
	else
		# --- host side ---
		trc=$(peer_sync "$t-target-up" - $W)
		tap_check "host ($RXE_IMPL): load nvme-rdma (target up: rc ${trc:-none})" nvmf_host_load
		tap_check "nvme discover -t rdma -a $tip lists $NVMF_NQN" nvmf_discover "$tip"
		tap_check "nvme connect -t rdma -a $tip -n $NVMF_NQN: namespace appears" nvmf_connect "$tip"
		DEV=$(nvmf_dev)
		tap_check "$((NVMF_MIB + NVMF_BUF_MIB)) MiB random pattern" nvmf_make_pattern
		if tap_check "$NVMF_MIB MiB O_DIRECT write, O_DIRECT read back, compared (${DEV:-no device}, target $t)" \
			nvmf_verify_direct "$DEV"; then
			sum=$(nvmf_pattern_sum)
		else
			sum=failed
		fi
		peer_sync "$t-written" "$sum" $W >/dev/null
		peer_sync "$t-checked" - $W >/dev/null
		tap_check "512 x 4 KiB O_DIRECT writes and reads, compared" nvmf_verify_small "$DEV"
		tap_check "$NVMF_BUF_MIB MiB buffered write (fsync), cache dropped, O_DIRECT read, compared" \
			nvmf_verify_buffered "$DEV"
		tap_check "hw_counters moved on the host (packets, capsules), no receive errors" \
			nvmf_counters_moved "$s0" "$r0" "$ss0" "$rr0" $((NVMF_MIB * 256))
		tap_check "nvme disconnect -n $NVMF_NQN" nvmf_disconnect
		peer_sync "$t-disconnected" $? $W >/dev/null
		tap_check "nvme-rdma nvme-fabrics nvme-core unloaded" nvmf_host_unload
		peer_sync "$t-down" - $W >/dev/null
		rm -f "$NVMF_PAT"
	fi
done
nvmf_qp_trace_stop
tap_check "rdma link delete rxe0" rxe_del rxe0
tap_check "$(nvmf_unload_desc)" rxe_unload
tap_diag "$(cat "$RESULTS/nvmf-results" 2>/dev/null)"
peer_sync end "$RXE_IMPL" $W >/dev/null
tap_done
