#!/bin/bash
# make demo: boot a guest with our modules, create rxe0 on the virtual NIC
# and show what a verbs application sees.  Its output is shown as TAP
# diagnostics under the case.
# topology: one
# impl: ours
# timeout: 240
. "$TESTS/lib/guest-lib.sh"

show() { # TITLE CMD...: run CMD, show its output as diagnostics
	local title=$1
	shift
	tap_diag "" "\$ $*"
	"$@" 2>&1 | sed 's/^/  /' | while IFS= read -r l; do tap_diag "$l"; done
}

tap_plan 4
tap_check "load rxe-odp's rdma_rxe" rxe_load ours
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
show "kernel module" modinfo -F version rdma_rxe
show "links" rdma link show
show "devices" ibv_devices
show "device" ibv_devinfo -v -d rxe0
tap_check "ibv_devinfo sees rxe0 with an active port" sh -c 'ibv_devinfo -d rxe0 | grep -q PORT_ACTIVE'
tap_diag "" "perftest with ODP memory regions needs the data path (transport" \
	 "and ODP issues); it is not part of the demo yet."
tap_check "rdma link delete rxe0 and unload" rxe_unload
tap_done
