#!/bin/bash
# make demo: boot a guest with our modules, create rxe0 on the virtual NIC
# and show what a verbs application sees, then run perftest's ib_write_bw
# between two processes over rxe0 with pinned and with on-demand-paging
# (--odp) memory regions.  Its output is shown as TAP diagnostics.
# topology: one
# impl: ours
# timeout: 480
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/perftest-run.sh"

show() { # TITLE CMD...: run CMD, show its output as diagnostics
	local title=$1
	shift
	tap_diag "" "\$ $*"
	"$@" 2>&1 | sed 's/^/  /' | while IFS= read -r l; do tap_diag "$l"; done
}

tap_plan 6
tap_check "load rxe-odp's rdma_rxe" rxe_load ours
tap_check "rdma link add rxe0 type rxe netdev $IFACE" rxe_add rxe0 "$IFACE"
show "kernel module" modinfo -F version rdma_rxe
show "links" rdma link show
show "devices" ibv_devices
show "device" ibv_devinfo -v -d rxe0
tap_check "ibv_devinfo sees rxe0 with an active port" sh -c 'ibv_devinfo -d rxe0 | grep -q PORT_ACTIVE'

gidx=$(wait_gid "$MY_IP" 50 && gid_index "$MY_IP")
hc=/sys/class/infiniband/rxe0/ports/1/hw_counters
bw_run() { # LABEL PORT EXTRA...: ib_write_bw, 64 KiB messages
	local label=$1 port=$2 log=$RESULTS/demo-$1.log
	shift 2
	pt_pair ib_write_bw "$port" -d rxe0 -x "$gidx" -F -s 65536 -n 400 "$@" >"$log" 2>&1
	local rc=$?
	sed -n '/^---/,$p' "$log" | head -40 | while IFS= read -r l; do tap_diag "  $l"; done
	printf -v "bw_$label" '%s' "$(pt_figure "$PT_OUT" 4)"
	return $rc
}
tap_diag "" "\$ ib_write_bw -d rxe0 -x $gidx -s 65536 -n 400 (pinned memory)"
if bw_run pinned 18515 && [ -n "$bw_pinned" ]; then tap_ok "ib_write_bw, pinned MRs"; else tap_not_ok "ib_write_bw, pinned MRs"; fi
f0=$(cat "$hc/odp_page_faults")
tap_diag "" "\$ ib_write_bw -d rxe0 -x $gidx -s 65536 -n 400 --odp (on-demand paging)"
if bw_run odp 18516 --odp && [ -n "$bw_odp" ]; then
	tap_ok "ib_write_bw --odp, ODP MRs on both sides"
else
	tap_not_ok "ib_write_bw --odp, ODP MRs on both sides"
fi
f1=$(cat "$hc/odp_page_faults")
tap_diag "" "ib_write_bw 64 KiB, average bandwidth over rxe0 in this guest (TCG):" \
	 "  pinned MRs: ${bw_pinned:-?} MB/s" \
	 "  ODP MRs:    ${bw_odp:-?} MB/s   (pages faulted in by the NIC: $((f1 - f0)))" \
	 "TCG figures are for comparison only; make bench has the full table."
tap_check "rdma link delete rxe0 and unload" rxe_unload
tap_done
