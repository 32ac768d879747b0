# Host-side helpers shared by tests/run and tests/guest/build.sh.
# Sourced, not executed.  Requires bash.

TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
REPO_DIR=${REPO_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
GUEST_CACHE=${GUEST_CACHE:-$REPO_DIR/.cache/guest}
GUEST_SUITE=${GUEST_SUITE:-bookworm}

log() { printf '[%s] %s\n' "${LOG_TAG:-harness}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Install Debian packages that are missing (checked with dpkg-query), quietly.
# Usage: ensure_pkgs pkg...
ensure_pkgs() {
	local missing=() p
	# One dpkg-query for all of them; anything not reported as installed is
	# missing.  dpkg-query exits 1 when it knows none of some names (a package
	# never installed here); under the callers' errexit+pipefail that would
	# end the subshell before the printf, inverting the answer, hence || true.
	mapfile -t missing < <(
		{ { dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || true; } |
			awk '/ install ok installed$/ { print $1 }'
		  printf '%s\n' "$@"; } | sort | uniq -u)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (need root to install): ${missing[*]}"
	log "installing: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2; then
		apt-get update -qq >&2 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
	fi
	for p in "${missing[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' ||
			die "package $p is still not installed after apt-get install"
	done
}

# Print the Debian archive URL that this host's apt uses for the main suite
# (not the security archive).  Read from deb822 .sources files and one-line
# sources.list entries; nothing is hard-coded.  GUEST_MIRROR overrides.
debian_mirror() {
	if [ -n "${GUEST_MIRROR:-}" ]; then
		printf '%s\n' "$GUEST_MIRROR"
		return 0
	fi
	local f
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			# One stanza per paragraph: emit "URI<TAB>suites<TAB>types".
			awk 'function flush() { if (uris != "") print uris "\t" suites "\t" types;
				   uris = ""; suites = ""; types = "" }
			     /^[ \t]*$/ { flush(); next }
			     /^[ \t]*#/ { next }
			     tolower($1) == "uris:"   { uris = $2 }
			     tolower($1) == "suites:" { $1 = ""; suites = $0 }
			     tolower($1) == "types:"  { $1 = ""; types = $0 }
			     END { flush() }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			# deb [options] URI suite components...
			sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\([^ \t]\+\).*/\2\t\3\t deb/p' "$f"
		done
	} | awk -F'\t' -v suite="$GUEST_SUITE" '
		# Prefer an entry for the wanted suite; else any main-archive entry
		# (a suite without "-security"/"-updates"): it serves every suite.
		$3 ~ /(^| )deb( |$)/ {
			n = split($2, s, " ")
			for (i = 1; i <= n; i++) {
				if (s[i] == suite) { print $1; found = 1; exit }
				if (fallback == "" && s[i] !~ /-/) fallback = $1
			}
		}
		END { if (!found && fallback != "") print fallback }' | sed 's#/*$##' | grep . || return 1
}
