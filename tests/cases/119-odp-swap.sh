#!/bin/bash
# Swap under RDMA (userspace/odp-verbs/odp-swap), first version: zram
# swap, a cgroup v2 group with memory.max well below an ODP MR (default
# 64 MiB MR, memory.max 16 MiB: 105 s under TCG; 256 MiB / 64 MiB via
# RXE_TEST_ODP_SWAP_MR/_MAX took 317 s), the MR written through RDMA chunk
# by chunk, every other chunk overwritten (partially) through RDMA after
# its pages went to swap, then everything read back through RDMA READ into
# another MR and by the CPU, every byte checked: no page may revert to
# older data.  pswpout and pswpin in /proc/vmstat must grow, and the group
# must have hit its limit.  RXE_TEST_ODP_PINNED=1 instead runs odp-swap
# --pinned on a smaller MR outside the group (program logic only; no swap
# asserted).
# topology: one
# impl: ours
# timeout: 300
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-lib.sh"

OUT=$RESULTS/odp-swap
mkdir -p "$OUT"
MR=${RXE_TEST_ODP_SWAP_MR:-64M}
MAX=${RXE_TEST_ODP_SWAP_MAX:-16M}
ZRAM=${RXE_TEST_ODP_SWAP_ZRAM:-512M}
# eth0's MTU: 9000 gives a 4096-byte path MTU, a quarter of the packets of
# the default 1500 (1024) for the same bytes, which matters under TCG.
NETMTU=${RXE_TEST_ODP_SWAP_NETMTU:-9000}
CG=/sys/fs/cgroup
GRP=$CG/odp-swap

tap_plan 12
odp_need_progs odp-swap
ip link set "$IFACE" mtu "$NETMTU"
odp_setup
tap_check "path MTU 4096 on rxe0 (netdev MTU $NETMTU)" sh -c "
	ibv_devinfo -d rxe0 | grep -E 'active_mtu:[[:space:]]+4096'"

swap_setup() {
	modprobe zram num_devices=1 || return 1
	echo "$ZRAM" >/sys/block/zram0/disksize || return 1
	mkswap /dev/zram0 >/dev/null || return 1
	swapon /dev/zram0 || return 1
	cat /proc/swaps
	grep -q '^/dev/zram0 ' /proc/swaps
}
tap_check "zram swap of $ZRAM on" swap_setup

cg_setup() {
	mountpoint -q "$CG" || mount -t cgroup2 none "$CG" || return 1
	grep -qw memory "$CG/cgroup.controllers" || { echo "no memory controller"; return 1; }
	echo +memory >"$CG/cgroup.subtree_control" || return 1
	mkdir -p "$GRP" || return 1
	echo "$MAX" >"$GRP/memory.max" || return 1
	echo "memory.max $(cat "$GRP/memory.max"), memory.swap.max $(cat "$GRP/memory.swap.max")"
}
tap_check "cgroup v2 group with memory.max $MAX" cg_setup

pout0=$(odp_vmstat pswpout) pin0=$(odp_vmstat pswpin) inv0=$(odp_hc odp_page_invalidations)
t0=$SECONDS
if [ "$ODP_PINNED" = 1 ]; then
	odp_run_prog "$OUT/swap.log" "$ODPV_DIR/odp-swap" -d rxe0 -g "$GIDX" -S 32M \
		-s "$RANDOM" --pinned
else
	# shellcheck disable=SC2016 # expanded by the inner shell
	odp_run_prog "$OUT/swap.log" sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' \
		sh "$GRP" "$ODPV_DIR/odp-swap" -d rxe0 -g "$GIDX" -S "$MR" -s "$RANDOM" --expect-swap
fi
pout1=$(odp_vmstat pswpout) pin1=$(odp_vmstat pswpin) inv1=$(odp_hc odp_page_invalidations)
tap_diag "odp-swap $ODP_DESC took $((SECONDS - t0))s"
grep -E '^(pass|read|cpu|total)' "$OUT/swap.log" | while read -r l; do tap_diag "$l"; done
tap_diag "memory.events: $(tr '\n' ' ' <"$GRP/memory.events")" \
	"memory.peak: $(cat "$GRP/memory.peak" 2>/dev/null)" \
	"zram0 mm_stat: $(cat /sys/block/zram0/mm_stat)" \
	"odp_page_invalidations $inv0 -> $inv1" "hw counters: $(odp_hc_all)"
tap_check "odp-swap $ODP_DESC: every byte as written, through RDMA READ and the CPU" \
	odp_judge "$OUT/swap.log"

if [ "$ODP_PINNED" = 1 ]; then
	tap_skip "pswpout grew" "pinned run"
	tap_skip "pswpin grew" "pinned run"
	tap_skip "the group hit memory.max" "pinned run"
else
	tap_check "pswpout grew ($pout0 -> $pout1)" test "$pout1" -gt "$pout0"
	tap_check "pswpin grew ($pin0 -> $pin1)" test "$pin1" -gt "$pin0"
	tap_check "the group hit memory.max" sh -c "
		awk '\$1 == \"max\" && \$2 > 0 { f = 1 } END { exit !f }' '$GRP/memory.events'"
fi

tap_check "swapoff, zram reset, group removed" sh -c "
	swapoff /dev/zram0 && echo 1 >/sys/block/zram0/reset && rmdir '$GRP'"
tap_check "our modules unload" rxe_unload
tap_done
