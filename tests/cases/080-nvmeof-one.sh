#!/bin/bash
# NVMe over Fabrics (RDMA transport) through our driver in one guest: an
# nvmet target (configfs, ramdisk namespace (nvmeof-lib.sh), rdma port on rxe0's
# IPv4 address) and the nvme-rdma host connected to it over loopback.
# 64 MiB of random data written and read back with O_DIRECT and compared,
# the ramdisk's own contents checked, then 4 KiB commands and a buffered
# pass; disconnect, configfs teardown, every module unloaded.  Exercises
# the kernel ULP paths: fast-reg MRs (IB_WR_REG_MR), LOCAL_INV and
# SEND_WITH_INV, kernel CQs, kernel rdma_cm, ib_drain_qp.
# topology: one
# impl: ours
# timeout: 900
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"
. "$TESTS/lib/nvmeof-lib.sh"

tap_plan 18
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GID for $MY_IP" wait_gid "$MY_IP"
nvmf_qp_trace_start
s0=$(hwc sent_pkts) r0=$(hwc rcvd_pkts) ss0=$(hwc rdma_sends) rr0=$(hwc rdma_recvs)
tap_check "nvmet target: $NVMF_DISK namespace, rdma port $MY_IP:$NVMF_SVC listening" nvmf_target_up "$MY_IP"
tap_check "load nvme-rdma (host)" nvmf_host_load
tap_check "nvme discover -t rdma -a $MY_IP lists $NVMF_NQN" nvmf_discover "$MY_IP"
tap_check "nvme connect -t rdma -a $MY_IP -n $NVMF_NQN: namespace appears" nvmf_connect "$MY_IP"
DEV=$(nvmf_dev)
tap_check "$((NVMF_MIB + NVMF_BUF_MIB)) MiB random pattern" nvmf_make_pattern
tap_check "$NVMF_MIB MiB O_DIRECT write, O_DIRECT read back, compared (${DEV:-no device})" \
	nvmf_verify_direct "$DEV"
tap_check "the target's ramdisk holds the same $NVMF_MIB MiB (sha256)" \
	eval '[ "$(nvmf_backing_sum 0 "$NVMF_MIB")" = "$(nvmf_pattern_sum)" ]'
tap_check "512 x 4 KiB O_DIRECT writes and reads, compared" nvmf_verify_small "$DEV"
tap_check "$NVMF_BUF_MIB MiB buffered write (fsync), cache dropped, O_DIRECT read, compared" \
	nvmf_verify_buffered "$DEV"
tap_check "hw_counters moved (packets, SEND/RECV capsules), no receive errors" \
	nvmf_counters_moved "$s0" "$r0" "$ss0" "$rr0" $((NVMF_MIB * 2 * 256))
tap_check "nvme disconnect -n $NVMF_NQN" nvmf_disconnect
tap_check "target torn down (configfs), nvmet-rdma nvmet $NVMF_DISK unloaded" nvmf_target_down
tap_check "nvme-rdma nvme-fabrics nvme-core unloaded" nvmf_host_unload
nvmf_qp_trace_stop
tap_check "rdma link delete rxe0" rxe_del rxe0
tap_check "$(nvmf_unload_desc)" rxe_unload
tap_diag "$(cat "$RESULTS/nvmf-results" 2>/dev/null)"
tap_done
