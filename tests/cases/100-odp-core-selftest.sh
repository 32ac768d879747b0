#!/bin/bash
# rxe_odp_core self-test: load rxe_odp_core.ko and selftest/odpc_selftest.ko
# from the repository and run userspace/odpc-selftest/odpc_selftest, whose
# cases (fault/copy, invalidation, fault blocked by an open invalidation,
# retry on race, munmap, read-only, THP, teardown races, range checks, owner
# exit, dirty marking, atomics, prefetch, implicit regions, coherency
# stress...) become this case's test points.  See kernel-notifier/README.md.
# topology: one
# impl: none
# timeout: 300
. "$TESTS/lib/guest-lib.sh"

KN=$REPO/kernel-notifier
BIN=$REPO/userspace/odpc-selftest/odpc_selftest

if [ ! -f "$KN/rxe_odp_core.ko" ] || [ ! -f "$KN/selftest/odpc_selftest.ko" ]; then
	tap_skip_all "rxe_odp_core.ko or odpc_selftest.ko not built"
fi
[ -x "$BIN" ] || tap_skip_all "$BIN not built (make userspace)"

tap_check "insmod rxe_odp_core.ko odpc_selftest.ko" \
	sh -c "insmod '$KN/rxe_odp_core.ko' && insmod '$KN/selftest/odpc_selftest.ko'" ||
	tap_bail "cannot load the ODP core modules"

"$BIN" > "$RESULTS/odpc_selftest.tap" 2>&1
rc=$?

# Re-emit the program's test points as ours; its diagnostics follow them.
diags=()
while IFS= read -r line; do
	case $line in
	"not ok "*)
		tap_not_ok "${line#not ok * - }" "${diags[@]}"
		diags=()
		;;
	"ok "*" # SKIP "*)
		desc=${line#ok * - }
		tap_skip "${desc%% # SKIP *}" "${desc#* # SKIP }"
		diags=()
		;;
	"ok "*)
		tap_ok "${line#ok * - }"
		[ ${#diags[@]} -gt 0 ] && tap_diag "${diags[@]}"
		diags=()
		;;
	"# "*)
		diags+=("${line#\# }")
		;;
	esac
done < "$RESULTS/odpc_selftest.tap"

if [ $rc -eq 0 ]; then
	tap_ok "odpc_selftest exit status 0"
else
	tap_not_ok "odpc_selftest exit status 0" "exit status $rc"
fi
tap_check "rmmod odpc_selftest rxe_odp_core" rmmod odpc_selftest rxe_odp_core
tap_done
