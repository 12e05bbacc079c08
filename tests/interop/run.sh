#!/bin/sh
# The interop tests: every tests/interop/test_*.mjs under Node 22's test
# runner (node --test).  Each test file starts what it needs (pdsd from
# $B/bin/pdsd, a PLC directory, ...) on loopback and stops it.  Ends with
# the line "interop: N passed, M failed"; exits non-zero on any failure.
#
#   B=build tests/interop/run.sh [test_x.mjs ...]
#
# INTEROP_CONCURRENCY sets how many test files run at once (default 2).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
B=${B:-build}
export B

if ! "$here/setup.sh"; then
	echo "interop: setup failed (Node 22 or npm ci)"
	echo "interop: 0 passed, 1 failed"
	exit 1
fi
# The reference PDS (@atproto/pds, under bench/) is the other side of
# the migration tests; the first install compiles better-sqlite3 (a few
# minutes).  Without it those tests report themselves skipped.
if ! "$root/bench/setup.sh" >&2; then
	echo "interop: the reference PDS could not be installed;" \
	    "test_migration_ref.mjs will be skipped"
fi
node=$("$root/scripts/node.sh")

if [ $# -gt 0 ]; then
	files=""
	for f in "$@"; do
		case $f in
		*/*)	files="$files $f" ;;
		*)	files="$files tests/interop/$f" ;;
		esac
	done
else
	files=$(ls tests/interop/test_*.mjs 2>/dev/null)
fi
if [ -z "$files" ]; then
	echo "interop: 0 passed, 0 failed"
	exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086
"$node" --test --test-reporter=tap \
    --test-concurrency="${INTEROP_CONCURRENCY:-2}" \
    --test-timeout="${INTEROP_TIMEOUT_MS:-300000}" $files >"$log" 2>&1
rc=$?
cat "$log"

# The TAP reporter closes with "# pass N", "# fail N", "# cancelled N".
count() {
	sed -nE "s/^# $1 ([0-9]+)\$/\\1/p" "$log" | tail -n 1
}
pass=$(count pass); fail=$(count fail); cancelled=$(count cancelled)
# Skipped tests and suites (a skipped suite is not in "# skipped").
skipped=$(grep -cE '^ *ok [0-9]+ - .* # SKIP' "$log")
pass=${pass:-0}; fail=${fail:-0}
fail=$((fail + ${cancelled:-0}))
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "interop: node --test exited with status $rc"
	fail=1
fi
[ "${skipped:-0}" -gt 0 ] && echo "interop: ${skipped} skipped"
echo "interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
