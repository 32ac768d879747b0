#!/bin/bash
# Device removal under a live NVMe over Fabrics association (one guest,
# loopback, our driver): with the nvme-rdma host connected to the nvmet
# target and O_DIRECT reads in flight, 'rdma link delete rxe0' must
# complete; the RDMA core's client removal makes nvme-rdma delete its
# controller and nvmet-rdma drop its queues and listener.  Then rxe0 is
# added again, the nvmet port re-enabled, and the host reconnects and
# reads the data written before the removal.
# topology: one
# impl: ours
# timeout: 900
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/pair-lib.sh"
. "$TESTS/lib/nvmeof-lib.sh"

NVMF_MIB=16 NVMF_BUF_MIB=0

# reader DEV: O_DIRECT reads over the device until one fails.
reader() { while dd if="$1" of=/dev/null bs=64k count=256 iflag=direct status=none; do :; done; }

# link_del_under_io: rdma link delete with the reader running; the delete
# must return within 120 s (times TIMEOUT_SCALE), the namespace and the reader must go.
link_del_under_io() {
	local n
	n=$(tscale 300)
	timeout "$(tscale 120)" rdma link delete rxe0 || { echo "rdma link delete failed or hung" >&2; return 1; }
	echo "rdma link delete returned"
	while nvmf_dev >/dev/null || [ -d /proc/"$RPID" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "namespace or reader still there $(tscale 60) s after the delete" >&2; return 1; }
		sleep 0.2
	done
	echo "namespace gone, reader ended"
	if compgen -G '/sys/class/nvme/*' >/dev/null; then
		ls -l /sys/class/nvme/ >&2
		return 1
	fi
}

# port_reenable: nvmet-rdma drops a listener whose device goes away (it
# only repairs a port by itself after an address change), so unlink and
# relink the subsystem: the port is disabled and enabled again, with a new
# listener on the new rxe0.
port_reenable() {
	local l=$NVMET_CFS/ports/1/subsystems/$NVMF_NQN
	rm "$l" && ln -s "$NVMET_CFS/subsystems/$NVMF_NQN" "$l" && wait_listen cm &&
		rdma resource show cm_id | grep LISTEN
}

tap_plan 17
tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
tap_check "RoCE v2 GID for $MY_IP" wait_gid "$MY_IP"
tap_check "nvmet target: $NVMF_DISK namespace, rdma port $MY_IP:$NVMF_SVC listening" nvmf_target_up "$MY_IP"
tap_check "load nvme-rdma (host)" nvmf_host_load
tap_check "nvme connect -t rdma -a $MY_IP -n $NVMF_NQN: namespace appears" nvmf_connect "$MY_IP"
DEV=$(nvmf_dev)
tap_check "$NVMF_MIB MiB random pattern" nvmf_make_pattern
tap_check "$NVMF_MIB MiB O_DIRECT write, read back, compared (${DEV:-no device})" nvmf_verify_direct "$DEV"
reader "$DEV" &
RPID=$!
sleep 2
tap_check "O_DIRECT reads in flight (reader $RPID running)" test -d /proc/$RPID
tap_check "rdma link delete rxe0 under I/O: completes, controller deleted, reader ends" link_del_under_io
wait "$RPID" 2>/dev/null
tap_check "rdma link add rxe0 again" eval 'rxe_add rxe0 "$IFACE" && wait_gid "$MY_IP"'
tap_check "nvmet port re-enabled (subsystem unlinked, relinked): listens on the new rxe0" port_reenable
tap_check "nvme connect again: namespace appears" nvmf_connect "$MY_IP"
DEV=$(nvmf_dev)
tap_check "the $NVMF_MIB MiB written before the removal read back intact (${DEV:-no device})" \
	eval 'cmp -n $((NVMF_MIB << 20)) "$NVMF_PAT" <(dd if="$DEV" bs=1M count="$NVMF_MIB" iflag=direct status=none)'
tap_check "nvme disconnect -n $NVMF_NQN" nvmf_disconnect
tap_check "target torn down, nvmet/nvme modules unloaded" eval 'nvmf_target_down && nvmf_host_unload'
tap_check "rdma link delete rxe0, $(nvmf_unload_desc)" eval 'rxe_del rxe0 && rxe_unload'
tap_done
