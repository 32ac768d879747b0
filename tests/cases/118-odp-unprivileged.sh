#!/bin/bash
# ODP without privileges: user nobody, RLIMIT_MEMLOCK 64 KiB, no
# CAP_IPC_LOCK, runs odp-verify on two 8 MiB buffers registered ON_DEMAND
# (256 times the limit): it must pass, because ODP pins nothing.  The same
# run with --pinned must be refused at registration with ENOMEM (the limit
# is real), and --pinned as nobody with an unlimited RLIMIT_MEMLOCK must
# pass (the refusal was the limit, not the user).  Reaching the device
# needs /dev/infiniband/uverbs0 readable and writable by others (devtmpfs
# creates it 0600 here, no udev).
# topology: one
# impl: ours
# timeout: 300
. "$TESTS/lib/guest-lib.sh"
. "$TESTS/lib/odp-lib.sh"

OUT=$RESULTS/odp-unprivileged
mkdir -p "$OUT"
USER_ID=65534
LIMIT_KB=64

tap_plan 9
odp_need_progs odp-verify
odp_setup

tap_check "chmod 0666 /dev/infiniband/uverbs0" chmod 0666 /dev/infiniband/uverbs0
# as_nobody LOG MEMLOCK_KB ARGS...: odp-verify as nobody with RLIMIT_MEMLOCK
# (soft and hard) MEMLOCK_KB ("unlimited" allowed); the first lines of LOG
# are the identity, limits and capabilities it ran with.
as_nobody() {
	local log=$1 lim=$2 rc
	shift 2
	(
		ulimit -l "$lim" || exit 2
		# shellcheck disable=SC2016 # expanded by the inner shell
		exec setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups --inh-caps=-all \
			--bounding-set=-all -- /bin/sh -c '
			echo "id: $(id)"; echo "ulimit -l: $(ulimit -l)"
			grep -E "^Cap(Eff|Prm)" /proc/self/status
			exec "$@"' sh "$@"
	) >"$log" 2>&1
	rc=$?
	echo "$rc" >"$log.rc"
	return $rc
}
# shellcheck disable=SC2054 # the comma list is one argument
ARGS=(-d rxe0 -g "$GIDX" -n 1 -S 8M -t write,read,send,srq,imm,atomic,ud -s "$RANDOM")

as_nobody "$OUT/odp.log" "$LIMIT_KB" "$ODPV_DIR/odp-verify" "${ARGS[@]}" --odp both "${ODP_MODE[@]}"
tap_diag "$(head -n 4 "$OUT/odp.log")"
tap_check "ran as uid $USER_ID with ulimit -l $LIMIT_KB and no capabilities" sh -c "
	grep -q '^id: uid=$USER_ID' '$OUT/odp.log' && grep -qx 'ulimit -l: $LIMIT_KB' '$OUT/odp.log' &&
	grep -qE '^CapEff:[[:space:]]+0+$' '$OUT/odp.log'"
if [ "$ODP_PINNED" = 1 ]; then
	tap_skip "odp-verify --odp both (2 x 8 MiB ON_DEMAND) as nobody passes" \
		"RXE_TEST_ODP_PINNED=1: the ODP run is what is being proved here"
else
	tap_check "odp-verify --odp both (2 x 8 MiB ON_DEMAND) as nobody passes" \
		odp_judge "$OUT/odp.log"
fi

as_nobody "$OUT/pinned.log" "$LIMIT_KB" "$ODPV_DIR/odp-verify" "${ARGS[@]}" --pinned
tap_diag "$(grep -E '^(REG FAILED|odp-verify: [A-Z])' "$OUT/pinned.log")"
tap_check "the same with --pinned is refused at registration with ENOMEM (exit 3)" sh -c "
	[ \$(cat '$OUT/pinned.log.rc') = 3 ] && grep -q '^REG FAILED.*ENOMEM' '$OUT/pinned.log'"

as_nobody "$OUT/pinned-unlimited.log" unlimited "$ODPV_DIR/odp-verify" "${ARGS[@]}" --pinned
tap_check "--pinned as nobody with ulimit -l unlimited passes" odp_judge "$OUT/pinned-unlimited.log"

tap_check "our modules unload" rxe_unload
tap_done
