# shellcheck shell=bash
# perftest helpers for guest cases (source after guest-lib.sh).
#
# pt_pair TOOL PORT ARGS...: run TOOL as server and client on this guest
#   (client to $MY_IP), both with ARGS; prints both outputs; fails unless
#   both exit 0.  The client's output is left in $PT_OUT; PT_NOFIG=1 when
#   it has no usable figures (see the function).
# pt_figure FILE COLUMN: the number in COLUMN of perftest's result row
#   (the line after the header that starts with "#bytes").
# pt_fig_ok FIG: FIG is a finite decimal number greater than 0 (not
#   "inf", "nan" or empty).
PT_OUT=/tmp/pt-client.out

# PT_SLOW: perftest options for a slow kernel (TIMEOUT_SCALE > 1, the debug
# tier).  perftest's RC timeout is 14 (67 ms); on the debug kernel, where
# one ODP fault can take longer than that, 128 outstanding 64 KiB READs
# were resent wholesale every 67 ms (901 timeouts, 8828 duplicate requests
# in one run of 111) and runs outlived their time limits: there, 18
# (about 1 s).
PT_SLOW=()
[ "${TIMEOUT_SCALE:-1}" -gt 1 ] && PT_SLOW=(-u 18)

pt_pair() {
	local tool=$1 port=$2 srv=/tmp/pt-server.out try rc
	shift 2
	# perftest's timer calibration fails now and then on a loaded TCG
	# host ("Correlation coefficient r^2 < 0.9"): the run then either
	# fails or prints 0.00 figures.  At most three tries.
	# It can fail every time (r^2 0.64 three times in a row under KASAN;
	# 0.87 three times in a row on CI's loaded host): a run whose both
	# ends exited 0 then counts as done, without figures (PT_NOFIG=1).
	PT_NOFIG=0
	for try in 1 2 3; do
		_pt_pair_once "$tool" "$port" "$@"
		rc=$?
		pt_calib_failed "$PT_OUT" "$srv" || return $rc
		echo "--- perftest timer calibration failed (try $try)"
	done
	if [ "$rc" = 0 ]; then
		echo "--- both ends exited 0; no figures (timer calibration)"
		PT_NOFIG=1
		return 0
	fi
	return 1
}

_pt_pair_once() {
	local tool=$1 port=$2 srv=/tmp/pt-server.out rc_s rc_c spid
	local scale=${TIMEOUT_SCALE:-1}
	shift 2
	# The server's limit is the longer one: killed first, it takes its
	# memory with it and the client's next requests are NAKed.
	timeout $((120 * scale)) "$tool" -p "$port" "$@" >"$srv" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		ss -ltn 2>/dev/null | grep -q ":$port " && break
		sleep 0.2
	done
	timeout $((100 * scale)) "$tool" -p "$port" "$@" "$MY_IP" >"$PT_OUT" 2>&1
	rc_c=$?
	wait "$spid"
	rc_s=$?
	echo "--- $tool $* (client rc $rc_c, server rc $rc_s)"
	cat "$PT_OUT"
	echo "--- server:"
	cat "$srv"
	[ "$rc_c" -eq 0 ] && [ "$rc_s" -eq 0 ]
}

pt_figure() {
	awk -v col="$2" '/^ *#bytes/ { hdr = 1; next } hdr && NF >= col && $1 ~ /^[0-9]+$/ { print $col; exit }' "$1"
}

pt_fig_ok() {
	[[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v f="$1" 'BEGIN { exit !(f + 0 > 0) }'
}
