#!/bin/bash
# Profiling aid, not a test case (run it by path: tests/run tests/perf/gaps.sh):
# trace one loopback latency run on ours (or stock: RXE_TEST_GAPS_IMPL=stock)
# with the scheduler events and a few of our functions, and keep the raw
# trace for tests/perf/gaps.py on the host, which shows where the long gaps
# between two posts went.  It is how session 8 saw a lazily armed
# retransmission timer wake kworkers that pushed ib_write_lat into 4 ms
# steps.
#   RXE_TEST_GAPS_TOOL  the perftest command (default ib_write_lat -s 64 -n 500)
# Result: $RESULTS/gaps/trace.txt (+ the perftest output).
# topology: one
# impl: none
# autoload: no
# timeout: 1500
. "$TESTS/lib/guest-lib.sh"
PT_OUT=$RESULTS/gaps
. "$TESTS/lib/perftest-lib.sh"
mkdir -p "$PT_OUT"
T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs nodev $T
impl=${RXE_TEST_GAPS_IMPL:-ours}
tool=${RXE_TEST_GAPS_TOOL:-ib_write_lat -s 64 -n 500}

tap_plan 6
tap_check "load $impl" rxe_load "$impl" || tap_bail "cannot load $impl"
pt_setup "$impl" || tap_bail "no rxe0"
echo 0 >$T/tracing_on
echo 60000 >$T/buffer_size_kb
: >$T/set_ftrace_filter
for f in rxe_post_send rxe_qp_work rxe_qp_run_sync rxe_retry_timer_fn \
	 rxe_kick_timer_fn rxe_rcv rxe_cq_post rxe_do_task rxe_xmit_packet; do
	echo $f >>$T/set_ftrace_filter 2>/dev/null
done
echo function >$T/current_tracer
echo 1 >$T/events/sched/sched_switch/enable
echo 1 >$T/events/sched/sched_wakeup/enable
echo 1 >$T/events/irq/softirq_entry/enable
echo >$T/trace
echo 1 >$T/tracing_on
tap_check "$impl: $tool (traced)" pt_loop "$impl" $tool
echo 0 >$T/tracing_on
cp $T/trace "$PT_OUT/trace.txt"
echo 0 >$T/events/enable
echo nop >$T/current_tracer
tap_diag "$(grep -A1 t_typical "$PT_OUT/$impl.cli" | tail -n 1)"
tap_check "$impl: rdma link delete rxe0" rxe_del rxe0
if [ "$impl" = stock ]; then
	tap_check "unload stock" modprobe -r rdma_rxe
else
	tap_check "unload ours" rxe_unload
fi
tap_done
