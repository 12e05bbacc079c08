#!/bin/sh
# Run the test suite and print one closing line "N passed, N failed".
# Usage: scripts/run-tests.sh [unit|replay|integration|interop|stress]...
# With no argument, runs every part but stress (`make stress` runs it).
# B names the build directory.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
parts=${*:-unit replay integration interop}
pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Add up the "X: N passed, M failed" line a test program ends with.
tally() {
	name=$1; shift
	if "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
	cat "$log"
	line=$(grep -E '^[^ ].*: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/p')
	f=$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/p')
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exited with status $rc"
		f=1
	fi
	pass=$((pass + p)); fail=$((fail + f))
}

for part in $parts; do
	case $part in
	unit)
		for t in "$B"/tests/test_*; do
			[ -x "$t" ] || continue
			tally "$t" "$t"
		done ;;
	replay)
		for r in "$B"/tests/replay_*; do
			[ -x "$r" ] || continue
			n=${r##*/replay_}
			[ -d "tests/fuzz/corpus/$n" ] || continue
			tally "$r" "$r" "tests/fuzz/corpus/$n"
		done ;;
	integration)
		for t in tests/integration/test_*.sh; do
			[ -f "$t" ] || continue
			tally "$t" env B="$B" sh "$t"
		done ;;
	stress)
		for t in tests/stress/stress_*.sh; do
			[ -f "$t" ] || continue
			tally "$t" env B="$B" sh "$t"
		done ;;
	interop)
		if [ -x tests/interop/run.sh ]; then
			tally interop env B="$B" tests/interop/run.sh
		fi ;;
	*)	echo "unknown part: $part" >&2; exit 2 ;;
	esac
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
