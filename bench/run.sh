#!/bin/sh
# The side-by-side benchmark of pdsd and the reference PDS: builds pdsd and
# the bench programs in $B, installs the reference (bench/setup.sh), runs
# bench/bench.mjs, and writes bench/results/<date>.{md,json}.
#
#   B=build bench/run.sh            every scenario, about 15 minutes
#   B=build bench/run.sh --quick    fewer, shorter runs, about 3 minutes
#   bench/run.sh --only getRecord,firehose --fh-subs 1,1000
#   bench/run.sh --targets pdsd --pdsd-url http://127.0.0.1:2583
#   bench/run.sh --help             every option and scenario name
#   B=build bench/run.sh --scale    the seeded server (bench/scale.mjs), hours
#
# Not part of "make check".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
B=${B:-build}
export B

case " $* " in
*" -h "*|*" --help "*) ;;
*)
	# bench/bench.mk is included from the Makefile; until it is, read it
	# alongside.
	if grep -q 'bench/bench.mk' Makefile; then
		mk="-f Makefile"
	else
		mk="-f Makefile -f bench/bench.mk"
	fi
	# shellcheck disable=SC2086
	make -s $mk B="$B" "$B/bin/pdsd" "$B/bench/fhsub" "$B/bench/micro" \
	    "$B/bench/dpopload" "$B/bin/pdsctl" \
	    >&2
	"$here/setup.sh"
	;;
esac
node=$("$root/scripts/node.sh")
# Enough descriptors for 1,000 subscribers on both ends (dash and bash
# have ulimit -n).
# shellcheck disable=SC3045
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
# --scale: the seeded server at coop scale (bench/scale.mjs)
case " $* " in
*" --scale "*) exec "$node" "$here/scale.mjs" "$@" ;;
esac
exec "$node" "$here/bench.mjs" "$@"
