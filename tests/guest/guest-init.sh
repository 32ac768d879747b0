#!/bin/bash
# PID 1 of a test guest (started by the initramfs with switch_root).
#
# Reads /results/env (written by tests/run), prepares the system, loads the
# chosen RDMA implementation (RXE_IMPL=ours|stock|none), runs the case with a
# timeout, and leaves in /results:
#   started   written when the case starts (the host switches to the case timeout)
#   tap       the case's stdout (TAP)          stderr   the case's stderr
#   rc        the case's exit status            timeout  present if the guest timeout fired
#   dmesg     the kernel log after the case     kmemleak kmemleak report (debug kernels)
#   harness   notes from this script (setup/unload failures)
#   done      written last, right before power-off
# MODE=shell instead gives an interactive shell on the serial console.
# The whole script is one function, parsed completely before it runs.
main() {
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export HOME=/root LANG=C.UTF-8
	umask 022
	cd /

	R=/results
	note() { echo "harness: $*" | tee -a "$R/harness" >/dev/console; }

	poweroff_now() {
		sync
		echo o >/proc/sysrq-trigger
		# Never let PID 1 exit (that would panic the kernel).
		while :; do sleep 60; done
	}

	# The initramfs normally mounts /proc, /sys, /dev, /run, /tmp and friends.
	if [ ! -e /proc/self ]; then
		mount -t proc proc /proc
		mount -t sysfs sysfs /sys
		mount -t devtmpfs devtmpfs /dev 2>/dev/null
		mkdir -p /dev/pts /dev/shm
		mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
		mount -t tmpfs -o mode=1777 shm /dev/shm
		mount -t tmpfs -o mode=755 run /run
		mount -t tmpfs -o mode=1777 tmp /tmp
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
		mount -t configfs configfs /sys/kernel/config 2>/dev/null
		mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup 2>/dev/null
		ln -sf /proc/self/fd /dev/fd
	fi
	read -r cmdline </proc/cmdline
	if [[ " $cmdline " = *" rxe.trace=1 "* ]]; then
		PS4='+ ${EPOCHREALTIME} '
		set -x
	fi

	if [ ! -r "$R/env" ]; then
		echo "harness: $R/env missing; nothing to do" >/dev/console
		poweroff_now
	fi
	set -a
	# shellcheck source=/dev/null
	. "$R/env"
	set +a
	: "${MODE:=case}" "${ROLE:=a}" "${IFACE:=eth0}" "${RXE_IMPL:=none}" "${CASE_TIMEOUT:=180}"

	echo "guest-$ROLE" >/proc/sys/kernel/hostname
	# Report blocked tasks sooner than the default 120 s so that hangs show up
	# inside a case's timeout; a case may change it.
	echo "${HUNG_TASK_TIMEOUT:-60}" >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
	echo 1 >/proc/sys/kernel/sysrq
	ulimit -l unlimited
	ulimit -c 0

	# --- network -------------------------------------------------------------------
	# The initramfs normally configures lo and $IFACE (see initramfs-init).
	setup_network() {
		modprobe -q virtio_net 2>/dev/null
		for _ in {1..50}; do [ -e "/sys/class/net/$IFACE" ] && break; sleep 0.1; done
		if [ ! -e "/sys/class/net/$IFACE" ]; then
			ip link set lo up
			note "network interface $IFACE did not appear"
			return 1
		fi
		{
			echo "link set lo up"
			[ -n "${MY_IP:-}" ] && echo "addr add $MY_IP/24 dev $IFACE"
			[ -n "${MY_IP6:-}" ] && echo "addr add $MY_IP6/64 dev $IFACE nodad"
			echo "link set $IFACE up"
		} | ip -batch - || note "network setup of $IFACE failed"
	}
	[ -e /run/harness-net ] || setup_network

	# shellcheck source=../lib/guest-lib.sh
	if [ -r /run/harness/guest-lib.sh ]; then . /run/harness/guest-lib.sh; else . /rxe/tests/lib/guest-lib.sh; fi

	# --- interactive shell ---------------------------------------------------------------
	if [ "$MODE" = shell ]; then
		if [ "$RXE_IMPL" != none ]; then
			if rxe_load; then
				rxe_add rxe0 "$IFACE" && echo "harness: rxe0 on $IFACE ($RXE_IMPL)"
			else
				echo "harness: rxe_load ($RXE_IMPL) failed"
			fi
		fi
		[ -n "${TERM_ROWS:-}" ] && stty -F /dev/ttyS0 rows "$TERM_ROWS" cols "$TERM_COLS" 2>/dev/null
		export TERM=${TERM_NAME:-vt100} PS1='[guest-'"$ROLE"' \w]# '
		cat <<-MSG
		harness: interactive guest ($RXE_IMPL); project tree at /rxe (read-only),
		harness: /results is writable and kept on the host; 'exit' or Ctrl-D powers off,
		harness: Ctrl-A X kills QEMU.
		MSG
		cd /root || true
		setsid -c bash -i </dev/ttyS0 >/dev/ttyS0 2>&1
		poweroff_now
	fi

	# --- case ----------------------------------------------------------------------
	rc=0
	if [ "$RXE_IMPL" != none ] && [ "${RXE_AUTOLOAD:-yes}" = yes ]; then
		# The case may also call rxe_load itself; loading twice is harmless.
		rxe_load >>"$R/harness" 2>&1 || note "rxe_load ($RXE_IMPL) failed; the case decides what to do"
	fi
	# kmemleak (debug kernels): nothing is scanned before the case (a pair of
	# scans costs a minute or more there), so "echo clear" would be a no-op:
	# it only forgets objects an earlier scan reported.  The scans after the
	# case therefore report anything unreferenced since boot, and the host
	# fails the case on any report.

	# Two guests boot at different speeds: meet before either case starts, so
	# that the cases' own timeouts and peer_sync timeouts measure the cases.
	if [ -n "${PEER_IP:-}" ] && [ "$MODE" = case ]; then
		peer_sync harness-start "$ROLE" "${BOOT_SYNC_TIMEOUT:-180}" >/dev/null ||
			note "the peer guest did not show up within ${BOOT_SYNC_TIMEOUT:-180}s"
	fi
	mkdir -p /tmp/case
	cd /tmp/case || cd /
	printf '%(%s)T\n' -1 >"$R/started"
	echo "harness: running ${CASE} as role $ROLE (RXE_IMPL=$RXE_IMPL, timeout ${CASE_TIMEOUT}s)" >/dev/console
	# A private copy too, for the same reason as above.
	cp "/rxe/$CASE" /run/harness/case.sh
	timeout --kill-after=5 "$CASE_TIMEOUT" bash /run/harness/case.sh </dev/null \
		> >(tee "$R/tap" >/dev/console) 2> >(tee "$R/stderr" >/dev/console)
	rc=$?
	wait
	cd /
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "$CASE_TIMEOUT" >"$R/timeout"
		note "case timed out after ${CASE_TIMEOUT}s (exit $rc); blocked tasks follow in dmesg"
		echo w >/proc/sysrq-trigger
	fi
	echo "$rc" >"$R/rc"

	# Nothing of the case may outlive it (PID 1 is spared by kill -1).
	kill -TERM -1 2>/dev/null; sleep 0.3; kill -KILL -1 2>/dev/null; sleep 0.2

	# Our modules print their leak reports when they unload.  Keep a first dmesg
	# in case a wedged driver makes the unload hang (the host then kills us).
	if [ -e /run/rxe-ours-installed ] && [ "${RXE_UNLOAD:-yes}" = yes ]; then
		dmesg >"$R/dmesg" 2>&1
		if ! timeout 60 bash -c '. /run/harness/guest-lib.sh && rxe_unload' >>"$R/harness" 2>&1; then
			note "unloading our modules failed"
			echo unload >"$R/unload-failed"
		fi
	fi
	# A new leak needs two scans to be reported (the first one only records
	# each object's checksum).  kmemleak-scanned proves both scans ran and the
	# report was read; tests/run fails a kmemleak kernel's guest without it.
	if [ -e /sys/kernel/debug/kmemleak ]; then
		local kt0=$SECONDS
		if echo scan >/sys/kernel/debug/kmemleak && sleep 2 &&
		   echo scan >/sys/kernel/debug/kmemleak &&
		   cat /sys/kernel/debug/kmemleak >"$R/kmemleak"; then
			echo "$((SECONDS - kt0))" >"$R/kmemleak-scanned"
		else
			note "kmemleak: scan or read failed (detector disabled?)"
		fi
	fi
	dmesg >"$R/dmesg" 2>&1
	printf '%(%s)T\n' -1 >"$R/done"
	poweroff_now
}

main "$@"
# Not reached; PID 1 must never exit.
poweroff_now
