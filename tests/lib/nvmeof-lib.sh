# shellcheck shell=bash
# NVMe over Fabrics (RDMA transport) helpers: an nvmet target configured
# through configfs on a ramdisk (brd, or a memory-backed null_blk where the
# kernel has no brd, as the debug kernel of make check-debug), and the
# nvme-rdma host through
# nvme-cli.  Source after guest-lib.sh and pair-lib.sh:
#     . "$TESTS/lib/guest-lib.sh"; . "$TESTS/lib/pair-lib.sh"
#     . "$TESTS/lib/nvmeof-lib.sh"
# Like guest-lib.sh, nothing here prints TAP: every function is meant to be
# the command of one tap_check, says what it saw on stdout and fails with a
# reason on stderr.
#
# The kernel ULPs exercise driver paths userspace never reaches: fast-reg
# MRs (alloc_mr, ib_map_mr_sg, IB_WR_REG_MR), local and remote invalidation
# (LOCAL_INV, SEND_WITH_INV), kernel CQs polled from softirq/workqueue,
# rdma_cm in the kernel and ib_drain_qp on teardown.

: "${NVMF_NQN:=nqn.2024-01.org.rxe-odp:nvmeof-test}"
: "${NVMF_SVC:=4420}"
# On a slowed kernel (TIMEOUT_SCALE > 1: the KASAN/lockdep/kmemleak kernel
# of make check-debug) the two-guest pair moved 0.12-0.17 MiB/s (081,
# session 11): 64 MiB took 500 s a direction, and the 16 MiB buffered
# pass blocked fsync for minutes (hung-task reports, I/O timeouts).  That
# tier looks for kernel reports, not volume, so it moves a quarter.
# RXE_TEST_NVMF_MIB and RXE_TEST_NVMF_BUF_MIB (set on the host; tests/run
# copies RXE_TEST_* into the guests) choose the sizes on either tier, e.g.
# the full 64 MiB on the debug tier.
[ -n "${RXE_TEST_NVMF_MIB:-}" ] && NVMF_MIB=$RXE_TEST_NVMF_MIB
[ -n "${RXE_TEST_NVMF_BUF_MIB:-}" ] && NVMF_BUF_MIB=$RXE_TEST_NVMF_BUF_MIB
if [ "${TIMEOUT_SCALE:-1}" -gt 1 ]; then
	: "${NVMF_MIB:=16}" "${NVMF_BUF_MIB:=4}"
fi
: "${NVMF_MIB:=64}"	# size of the O_DIRECT write-then-read verify
: "${NVMF_BUF_MIB:=16}"	# size of the buffered pass, written after it
: "${NVMF_RAM_MIB:=128}"	# ramdisk size (>= NVMF_MIB + NVMF_BUF_MIB)
[ "$NVMF_RAM_MIB" -ge $((NVMF_MIB + NVMF_BUF_MIB)) ] ||
	NVMF_RAM_MIB=$((NVMF_MIB + NVMF_BUF_MIB))
# Keep-alive timeout given to nvme connect.  The default (5 s) is tight for
# a TCG guest on a loaded host; a missed keep-alive there is not a driver
# fault, so allow more (and stretch it with the case timeouts).
: "${NVMF_KATO:=$(tscale 30)}"
# The same for the host's I/O timeout (nvme_core io_timeout, 30 s by
# default) and, on a slowed kernel only, the I/O queue depth.  Measured on
# the debug kernel (081, session 11): the pair moved about 0.1 MiB/s, and
# the buffered pass had the page cache queue up to 128 commands at once,
# so the oldest waited for more than 30 s: I/O timeouts and reconnections
# (after which every byte verified), not a stall.  With at most 16
# commands in flight and the timeout stretched, a command's wait stays
# bounded; Debian's kernel (TIMEOUT_SCALE 1) keeps both defaults.
: "${NVMF_IO_TIMEOUT:=$(tscale 30)}"
if [ "${TIMEOUT_SCALE:-1}" -gt 1 ]; then
	: "${NVMF_QUEUE_SIZE:=16}"
fi
NVMET_CFS=/sys/kernel/config/nvmet
# The namespace's backing device: a brd ramdisk, or, in a kernel built
# without brd, a null_blk device that keeps what is written (memory_backed;
# its size is in GiB, and it allocates pages only as they are written).
# NVMF_DISK_MIB is the size the namespace then has.
if modinfo brd >/dev/null 2>&1; then
	NVMF_DISK=brd
	NVMF_BDEV=/dev/ram0
	NVMF_DISK_MIB=$NVMF_RAM_MIB
	NVMF_DISK_ARGS="rd_nr=1 rd_size=$((NVMF_DISK_MIB * 1024))"
else
	NVMF_DISK=null_blk
	NVMF_BDEV=/dev/nullb0
	NVMF_DISK_MIB=$(((NVMF_RAM_MIB + 1023) / 1024 * 1024))
	NVMF_DISK_ARGS="nr_devices=1 gb=$((NVMF_DISK_MIB / 1024)) bs=4096 memory_backed=1"
fi
NVMF_PAT=$PWD/nvmf-pattern	# the case's working directory is a tmpfs

# _us: wall clock in microseconds.
_us() { echo "${EPOCHREALTIME/./}"; }
# _rate MIB US: "N.NN MiB/s" for MIB mebibytes moved in US microseconds.
_rate() { awk -v m="$1" -v u="$2" 'BEGIN { printf "%.2f MiB/s (%.1f s)", m * 1e6 / (u > 0 ? u : 1), u / 1e6 }'; }

# --- target ----------------------------------------------------------------------
# nvmf_target_up ADDR: the ramdisk, nvmet subsystem $NVMF_NQN (any host) with
# $NVMF_BDEV as namespace 1, port 1 (rdma, ipv4, ADDR:$NVMF_SVC) exporting it;
# waits until nvmet-rdma's rdma_cm id listens.
nvmf_target_up() {
	local addr=${1:?address} s p
	# shellcheck disable=SC2086 # NVMF_DISK_ARGS is a list of parameters
	modprobe "$NVMF_DISK" $NVMF_DISK_ARGS || return 1
	modprobe -a nvmet nvmet-rdma || return 1
	[ -b "$NVMF_BDEV" ] || { echo "no $NVMF_BDEV after modprobe $NVMF_DISK" >&2; return 1; }
	# configfs is a module in Debian's kernel: the guest's early mount of
	# /sys/kernel/config fails, nvmet has just loaded it.
	mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config || return 1
	[ -d "$NVMET_CFS" ] || { echo "no $NVMET_CFS (configfs not mounted?)" >&2; return 1; }
	s=$NVMET_CFS/subsystems/$NVMF_NQN
	p=$NVMET_CFS/ports/1
	mkdir "$s" || return 1
	echo 1 >"$s/attr_allow_any_host" || return 1
	mkdir "$s/namespaces/1" || return 1
	echo "$NVMF_BDEV" >"$s/namespaces/1/device_path" || return 1
	echo 1 >"$s/namespaces/1/enable" || return 1
	mkdir "$p" || return 1
	echo rdma >"$p/addr_trtype" && echo ipv4 >"$p/addr_adrfam" &&
		echo "$addr" >"$p/addr_traddr" && echo "$NVMF_SVC" >"$p/addr_trsvcid" || return 1
	# Linking the subsystem into the port enables the port: nvmet-rdma
	# creates its listening rdma_cm id here (and fails the link if the
	# address is not on an RDMA device).
	ln -s "$s" "$p/subsystems/$NVMF_NQN" || return 1
	wait_listen cm || return 1
	echo "target: $NVMF_NQN ns 1 = $NVMF_BDEV ($NVMF_DISK_MIB MiB) on rdma $addr:$NVMF_SVC"
	rdma resource show cm_id 2>/dev/null | grep LISTEN
}

# nvmf_target_down: undo nvmf_target_up (port link, port, namespace,
# subsystem) and unload nvmet-rdma, nvmet and the ramdisk's module.
nvmf_target_down() {
	local s=$NVMET_CFS/subsystems/$NVMF_NQN p=$NVMET_CFS/ports/1 rc=0 m
	if [ -d "$NVMET_CFS" ]; then
		[ -L "$p/subsystems/$NVMF_NQN" ] && { rm "$p/subsystems/$NVMF_NQN" || rc=1; }
		[ -d "$p" ] && { rmdir "$p" || rc=1; }
		if [ -d "$s/namespaces/1" ]; then
			echo 0 >"$s/namespaces/1/enable" || rc=1
			rmdir "$s/namespaces/1" || rc=1
		fi
		[ -d "$s" ] && { rmdir "$s" || rc=1; }
	fi
	modprobe -r -a nvmet-rdma nvmet "$NVMF_DISK" || rc=1
	for m in nvmet_rdma nvmet "$NVMF_DISK"; do
		[ -d "/sys/module/$m" ] && { echo "module $m still loaded" >&2; rc=1; }
	done
	return $rc
}

# nvmf_backing_sum OFFSET_MIB MIB: sha256 of MIB mebibytes of the ramdisk
# at OFFSET_MIB, read with O_DIRECT (what the target really stored).
nvmf_backing_sum() {
	dd if="$NVMF_BDEV" bs=1M skip="$1" count="$2" iflag=direct status=none |
		sha256sum | cut -d' ' -f1
}

# --- diagnosis -------------------------------------------------------------------
# nvmf_qp_trace_start / nvmf_qp_trace_stop: while the case runs, sample
# every QP's state ("rdma -dd res show qp": on ours the transport's ring
# indices, PSNs, packet queues and run state) every 15 s (times
# TIMEOUT_SCALE) into $RESULTS/qp-trace.txt, with the kernel's uptime, so
# an NVMe I/O timeout in dmesg can be matched with what each QP was doing.
nvmf_qp_trace_start() {
	(
		while :; do
			echo "== $(cut -d' ' -f1 /proc/uptime)"
			rdma -dd res show qp 2>&1
			sleep "$(tscale 15)"
		done
	) >>"$RESULTS/qp-trace.txt" 2>&1 &
	NVMF_TRACE_PID=$!
}
nvmf_qp_trace_stop() {
	[ -n "${NVMF_TRACE_PID:-}" ] || return 0
	kill "$NVMF_TRACE_PID" 2>/dev/null
	wait "$NVMF_TRACE_PID" 2>/dev/null
	NVMF_TRACE_PID=
	return 0
}

# --- host ------------------------------------------------------------------------
# nvmf_host_load: the nvme-rdma host driver (pulls nvme-fabrics, nvme-core).
nvmf_host_load() {
	modprobe nvme-core io_timeout="$NVMF_IO_TIMEOUT" || return 1
	# Loaded already (by an earlier pass): set it live.
	echo "$NVMF_IO_TIMEOUT" >/sys/module/nvme_core/parameters/io_timeout || return 1
	modprobe nvme-rdma && [ -e /dev/nvme-fabrics ]
}

# nvmf_discover ADDR: the discovery controller at ADDR lists $NVMF_NQN over
# rdma.
nvmf_discover() {
	local out
	out=$(timeout "$(tscale 120)" nvme discover -t rdma -a "${1:?address}" -s "$NVMF_SVC" 2>&1)
	printf '%s\n' "$out"
	grep -q "subnqn: *$NVMF_NQN\$" <<<"$out" || { echo "$NVMF_NQN not in the log page" >&2; return 1; }
	grep -q 'trtype: *rdma' <<<"$out" || { echo "no rdma entry" >&2; return 1; }
}

# nvmf_dev: the namespace block device (/dev/nvmeXnY) of $NVMF_NQN, if any.
nvmf_dev() {
	local b n
	for b in /sys/block/nvme*; do
		n=${b##*/}
		[[ $n =~ ^nvme[0-9]+n[0-9]+$ ]] || continue
		[ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$NVMF_NQN" ] && { echo "/dev/$n"; return 0; }
	done
	return 1
}

# nvmf_connect ADDR: nvme connect -t rdma to $NVMF_NQN at ADDR, then wait
# (up to 60 s, times TIMEOUT_SCALE) for its namespace's block device; checks its size.
nvmf_connect() {
	local addr=${1:?address} d n sz
	n=$(tscale 300)
	timeout "$(tscale 180)" nvme connect -t rdma -a "$addr" -s "$NVMF_SVC" -n "$NVMF_NQN" -k "$NVMF_KATO" \
		${NVMF_QUEUE_SIZE:+--queue-size="$NVMF_QUEUE_SIZE"} ||
		{ echo "nvme connect failed" >&2; return 1; }
	until d=$(nvmf_dev) && [ -b "$d" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "no block device for $NVMF_NQN after $(tscale 60) s" >&2; return 1; }
		sleep 0.2
	done
	sz=$(blockdev --getsize64 "$d") || return 1
	echo "connected: $d, $sz bytes"
	nvme list 2>/dev/null | grep -F "$d"
	[ "$sz" -eq $((NVMF_DISK_MIB << 20)) ] ||
		{ echo "$d has $sz bytes, expected $((NVMF_DISK_MIB << 20))" >&2; return 1; }
}

# nvmf_make_pattern: $NVMF_MIB + $NVMF_BUF_MIB MiB of random bytes in
# $NVMF_PAT (a fresh pattern per run, so stale data cannot pass).
nvmf_make_pattern() {
	head -c $(((NVMF_MIB + NVMF_BUF_MIB) << 20)) /dev/urandom >"$NVMF_PAT" &&
		[ "$(stat -c %s "$NVMF_PAT")" -eq $(((NVMF_MIB + NVMF_BUF_MIB) << 20)) ]
}

# nvmf_verify_direct DEV: write the first $NVMF_MIB MiB of the pattern to
# DEV with O_DIRECT (1 MiB writes), read it back with O_DIRECT and compare.
# Prints both rates; the result line is also kept in $RESULTS/nvmf-results.
nvmf_verify_direct() {
	local dev=${1:?device} t0 t1 t2 back=$PWD/nvmf-back line
	t0=$(_us)
	dd if="$NVMF_PAT" of="$dev" bs=1M count="$NVMF_MIB" oflag=direct conv=fsync status=none ||
		{ echo "O_DIRECT write failed" >&2; return 1; }
	t1=$(_us)
	dd if="$dev" of="$back" bs=1M count="$NVMF_MIB" iflag=direct status=none ||
		{ echo "O_DIRECT read failed" >&2; return 1; }
	t2=$(_us)
	line="$NVMF_MIB MiB O_DIRECT: write $(_rate "$NVMF_MIB" $((t1 - t0))), read $(_rate "$NVMF_MIB" $((t2 - t1)))"
	echo "$line"
	echo "${CASE_NAME:-nvmf} $ROLE ($RXE_IMPL): $line" >>"$RESULTS/nvmf-results"
	cmp -n $((NVMF_MIB << 20)) "$NVMF_PAT" "$back" || { rm -f "$back"; return 1; }
	rm -f "$back"
}

# nvmf_verify_small DEV: 512 x 4 KiB O_DIRECT writes of the pattern's
# first 2 MiB at the device's last 2 MiB, read back in 4 KiB O_DIRECT reads
# and compared: many small commands (in-capsule data for the writes).
nvmf_verify_small() {
	local dev=${1:?device} off=$(((NVMF_DISK_MIB - 2) * 256))
	dd if="$NVMF_PAT" of="$dev" bs=4k count=512 seek="$off" oflag=direct status=none ||
		{ echo "4 KiB O_DIRECT writes failed" >&2; return 1; }
	cmp -n $((2 << 20)) "$NVMF_PAT" \
		<(dd if="$dev" bs=4k count=512 skip="$off" iflag=direct status=none)
}

# nvmf_verify_buffered DEV: the pattern's last $NVMF_BUF_MIB MiB written
# through the page cache at offset $NVMF_MIB MiB (fsync'd), the cache
# dropped, read back with O_DIRECT and compared.
nvmf_verify_buffered() {
	local dev=${1:?device}
	dd if="$NVMF_PAT" of="$dev" bs=1M skip="$NVMF_MIB" seek="$NVMF_MIB" count="$NVMF_BUF_MIB" \
		conv=fsync status=none || { echo "buffered write failed" >&2; return 1; }
	blockdev --flushbufs "$dev" && echo 3 >/proc/sys/vm/drop_caches || return 1
	cmp -n $((NVMF_BUF_MIB << 20)) \
		<(dd if="$NVMF_PAT" bs=1M skip="$NVMF_MIB" count="$NVMF_BUF_MIB" status=none) \
		<(dd if="$dev" bs=1M skip="$NVMF_MIB" count="$NVMF_BUF_MIB" iflag=direct status=none)
}

# nvmf_pattern_sum: sha256 of the pattern's first $NVMF_MIB MiB (to compare
# with nvmf_backing_sum 0 $NVMF_MIB on the target).
nvmf_pattern_sum() { head -c $((NVMF_MIB << 20)) "$NVMF_PAT" | sha256sum | cut -d' ' -f1; }

# nvmf_disconnect: nvme disconnect $NVMF_NQN; exactly one controller goes
# and its block device disappears.
nvmf_disconnect() {
	local out n
	n=$(tscale 150)
	out=$(timeout "$(tscale 120)" nvme disconnect -n "$NVMF_NQN" 2>&1)
	printf '%s\n' "$out"
	grep -q 'disconnected 1 controller' <<<"$out" || { echo "expected 1 controller disconnected" >&2; return 1; }
	while nvmf_dev >/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "block device still there $(tscale 30) s after disconnect" >&2; return 1; }
		sleep 0.2
	done
}

# nvmf_host_unload: unload nvme-rdma, nvme-fabrics and nvme-core.
nvmf_host_unload() {
	local m rc=0
	modprobe -r -a nvme-rdma nvme-fabrics nvme-core || rc=1
	for m in nvme_rdma nvme_fabrics nvme_core; do
		[ -d "/sys/module/$m" ] && { echo "module $m still loaded" >&2; rc=1; }
	done
	return $rc
}

# nvmf_unload_desc: what rxe_unload does here, for a test point.
nvmf_unload_desc() {
	if [ "$RXE_IMPL" = ours ]; then
		echo "unload our rdma_rxe and the ODP core modules"
	else
		echo "rxe_unload ($RXE_IMPL rdma_rxe is left loaded)"
	fi
}

# nvmf_counters_moved SENT0 RCVD0 SENDS0 RECVS0 MIN_PKTS: rxe0's hw_counters
# grew: sent_pkts and rcvd_pkts each by at least MIN_PKTS, rdma_sends and
# rdma_recvs (SEND completions and consumed receives: the NVMe command and
# response capsules) by at least 64 each, no receive errors.
nvmf_counters_moved() {
	local s0=$1 r0=$2 ss0=$3 rr0=$4 min=$5 s r ss rr bad line
	s=$(hwc sent_pkts) r=$(hwc rcvd_pkts) ss=$(hwc rdma_sends) rr=$(hwc rdma_recvs)
	bad=$(($(hwc rcvd_bad_hdr) + $(hwc rcvd_bad_icrc) + $(hwc rcvd_bad_dgid) + $(hwc rcvd_bad_key) + $(hwc rcvd_no_qp)))
	line="sent_pkts +$((s - s0)) rcvd_pkts +$((r - r0)) rdma_sends +$((ss - ss0)) rdma_recvs +$((rr - rr0)) receive errors $bad"
	echo "$line"
	echo "${CASE_NAME:-nvmf} $ROLE ($RXE_IMPL): $line" >>"$RESULTS/nvmf-results"
	hwc_all
	[ $((s - s0)) -ge "$min" ] && [ $((r - r0)) -ge "$min" ] &&
		[ $((ss - ss0)) -ge 64 ] && [ $((rr - rr0)) -ge 64 ] && [ "$bad" -eq 0 ]
}
