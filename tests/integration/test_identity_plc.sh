#!/bin/sh
# pdsd's PLC client and DID resolver against a real local PLC directory
# (scripts/plc-server.mjs, @did-plc/server in memory).  Skips (0 cases)
# when the identity_plc program, Node 22 or the interop packages are
# missing.
set -u
: "${B:=build}"
bin=$B/tests/identity_plc
skip() {
	echo "test_identity_plc: skipped ($1)"
	echo "test_identity_plc: 0 passed, 0 failed"
	exit 0
}
[ -x "$bin" ] || skip "$bin not built"
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
node=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"

out=$(mktemp "${TMPDIR:-/tmp}/plc-out.XXXXXX") || exit 1
"$node" scripts/plc-server.mjs 0 >"$out" 2>&1 &
plc_pid=$!
trap 'kill "$plc_pid" 2>/dev/null; wait "$plc_pid" 2>/dev/null; rm -f "$out"' EXIT
url=
i=0
while [ $i -lt 100 ]; do
	url=$(sed -n 's/^PLC listening on \(http:[^ ]*\)$/\1/p' "$out")
	[ -n "$url" ] && break
	kill -0 "$plc_pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$url" ]; then
	cat "$out"
	echo "test_identity_plc: 0 passed, 1 failed"
	exit 1
fi
"$bin" "$url"
