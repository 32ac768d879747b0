#!/bin/bash
# Guest A runs our rdma_rxe, guest B the kernel's stock rdma_rxe; both create
# rxe0 on eth0, see it with ibv_devices and reach each other over the link.
# While drivers/infiniband/sw/rxe/rdma_rxe.ko is not built, A skips the steps
# that need it.
# topology: two
# impl-a: ours
# impl-b: stock
# timeout: 120
. "$TESTS/lib/guest-lib.sh"

tap_plan 7
skip=
if [ "$RXE_IMPL" = ours ] && ! rxe_ours_present; then
	skip="drivers/infiniband/sw/rxe/rdma_rxe.ko is not built"
fi

if [ -n "$skip" ]; then
	tap_skip "load rdma_rxe ($RXE_IMPL)" "$skip"
	tap_skip "rdma_rxe is the $RXE_IMPL one" "$skip"
	tap_skip "rdma link add rxe0 type rxe netdev $IFACE" "$skip"
	tap_skip "ibv_devices lists rxe0" "$skip"
else
	tap_check "load rdma_rxe ($RXE_IMPL)" rxe_load
	path=$(modinfo -n rdma_rxe 2>/dev/null)
	case $RXE_IMPL:$path in
	ours:*/updates/*|stock:*/kernel/drivers/infiniband/sw/rxe/*)
		tap_ok "rdma_rxe is the $RXE_IMPL one ($path)" ;;
	*)	tap_not_ok "rdma_rxe is the $RXE_IMPL one" "modinfo -n rdma_rxe: '$path'" ;;
	esac
	tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
	devs=$(rxe_dev_list)
	if grep -qx rxe0 <<<"$devs"; then
		tap_ok "ibv_devices lists rxe0"
	else
		tap_not_ok "ibv_devices lists rxe0" "ibv_devices: $(ibv_devices 2>&1 | tr '\n' ' ')"
	fi
fi
peer=$(peer_sync ready "$RXE_IMPL")
if [ -n "$peer" ]; then
	tap_ok "peer is up (it runs '$peer')"
else
	tap_not_ok "peer is up"
fi
tap_check "ping $PEER_IP" ping -c 3 -i 0.2 -W 3 "$PEER_IP"
tap_check "both guests finished" peer_sync end
tap_done
