#!/bin/bash
# Profiling aid, not a test case (run it by path: tests/run tests/perf/fcount.sh):
# count the calls of selected kernel functions during one loopback
# perftest run, on the stock rdma_rxe and then on ours, in one guest, with
# the function tracer.  Under TCG `perf record` gets almost no samples;
# call counts per message are what showed ours taking 3x stock's irqsave
# spinlocks per round trip (session 8).
#   RXE_TEST_FCOUNT_TOOL  the perftest command (default ib_write_lat -s 64 -n 1000)
#   RXE_TEST_FCOUNT_FUNCS extra functions to count (space separated)
# Results: $RESULTS/fcount/{stock,ours}.{counts,comms,cli,srv}: counts is
# "calls function", sorted; every rdma_rxe and rxe_odp_core function is
# counted too.
# topology: one
# impl: none
# autoload: no
# timeout: 1500
. "$TESTS/lib/guest-lib.sh"
PT_OUT=$RESULTS/fcount
. "$TESTS/lib/perftest-lib.sh"
mkdir -p "$PT_OUT"
T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs nodev $T
tool=${RXE_TEST_FCOUNT_TOOL:-ib_write_lat -s 64 -n 1000}
funcs="__kmalloc kmalloc_trace kmem_cache_alloc kmem_cache_alloc_node
__kmalloc_node_track_caller kfree kmem_cache_free __alloc_skb
kfree_skb_reason consume_skb skb_clone mutex_lock mutex_unlock
mutex_trylock queue_work_on try_to_wake_up schedule raise_softirq
handle_softirqs mod_timer del_timer __local_bh_enable_ip
_raw_spin_lock_irqsave _raw_spin_lock _raw_spin_lock_bh
_raw_read_lock_irqsave __rcu_read_lock ${RXE_TEST_FCOUNT_FUNCS:-}"

tap_plan 12
# count IMPL: one traced run of $tool on IMPL
count() {
	local impl=$1 f
	tap_check "load $impl" rxe_load "$impl" || return 1
	pt_setup "$impl" || return 1
	echo 0 >$T/tracing_on
	echo nop >$T/current_tracer
	echo 40000 >$T/buffer_size_kb
	: >$T/set_ftrace_filter
	for f in $funcs; do echo "$f" >>$T/set_ftrace_filter 2>/dev/null; done
	echo ':mod:rdma_rxe' >>$T/set_ftrace_filter
	echo ':mod:rxe_odp_core' >>$T/set_ftrace_filter 2>/dev/null
	echo function >$T/current_tracer
	echo >$T/trace
	echo 1 >$T/tracing_on
	tap_check "$impl: $tool (traced)" pt_loop "$impl" $tool
	echo 0 >$T/tracing_on
	# the function name follows the "<secs>.<usecs>:" field
	grep -v '^#' $T/trace | awk '{ for (k = 1; k < NF; k++) if ($k ~ /^[0-9]+\.[0-9]+:$/) { print $(k + 1); break } }' |
		sort | uniq -c | sort -rn >"$PT_OUT/$impl.counts"
	grep -v '^#' $T/trace | awk '{ sub(/-[0-9]+$/, "", $1); print $1 }' | sort | uniq -c | sort -rn >"$PT_OUT/$impl.comms"
	tap_diag "$impl: $(grep -c . "$PT_OUT/$impl.counts") functions, $(grep -m1 'entries-in-buffer' $T/trace)"
	echo nop >$T/current_tracer
	tap_check "$impl: rdma link delete rxe0" rxe_del rxe0
}
count stock
tap_check "unload stock" modprobe -r rdma_rxe
count ours
tap_check "unload ours" rxe_unload
for f in _raw_spin_lock_irqsave mod_timer queue_work_on schedule mutex_lock; do
	tap_diag "$f: stock $(awk -v f=$f '$2 == f { print $1 }' "$PT_OUT/stock.counts") ours $(awk -v f=$f '$2 == f { print $1 }' "$PT_OUT/ours.counts")"
done
tap_done
