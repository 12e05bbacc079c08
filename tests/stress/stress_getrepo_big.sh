#!/bin/sh
# stress_getrepo_big: getRepo of a repo past a scan's share of the
# budget, by as many clients at once as there are producers (issue 18).
# A repo whose blocks need more than half of the producers' scan budget
# can be scanned by one producer at a time.  Before: the two producers
# that got a share each scanned, could not get more, and fell back to a
# lookup per block (three times the CPU), and the two that got none
# waited for a share and did the same.  Now a scan that a share was not
# enough for waits for the whole budget, and each download is walked
# from a scan: pdsctl stats counts getrepo.scans and getrepo.lookups.
T_NAME=stress_getrepo_big
. tests/integration/lib.sh
. tests/stress/lib.sh

NCLIENTS=4		# PRODUCERS_MAX: each download has its producer
RECORDS=30000		# a 10.6 MB CAR: past a share's 8 MiB, within 16
OUT=$T_DIR/out
ERR=$T_DIR/err
PDSCTL=$B/bin/pdsctl
SOCK=$T_DIR/data/pdsd.sock

skip() {
	echo "$T_NAME: skipped ($1)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
NODE=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"

plc_start
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
    PDS_LOG_LEVEL=warn PDS_THREADS=2
pds_start || { t_done; exit 1; }

out=$("$NODE" bench/seed.mjs --url "$URL" --accounts 1 \
    --records $RECORDS --max-per-account $RECORDS --name huge \
    --out "$T_DIR/seed.out" 2>"$T_DIR/seed.log")
echo "# seed: $out"
did=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/seed.out")
check "a $RECORDS-record repo" [ "$(json_num "$out" records)" = $RECORDS ]

# getrepo.scans and getrepo.lookups from pdsctl's counters
counter() {
	ctl --json stats
	jget "\$.counters.\"$1\".value"
}

# One download alone: the reference bytes, from a scan of the whole
# budget (no other download holds any of it).
curl -s -o "$T_DIR/car.ref" "$URL/xrpc/com.atproto.sync.getRepo?did=$did"
size=$(stat -c %s "$T_DIR/car.ref")
check "getRepo alone: $size bytes, more than a share's 8 MiB" \
    [ "$size" -gt 8388608 ]
s0=$(counter getrepo.scans)
l0=$(counter getrepo.lookups)
both() { [ "$1" = "$2" ] && [ "$3" = "$4" ]; }
check "... walked from a scan (scans $s0, lookups $l0)" both "$s0" 1 "$l0" 0

i=0
pids=
while [ $i -lt $NCLIENTS ]; do
	curl -s -o "$T_DIR/car.$i" --max-time 60 \
	    "$URL/xrpc/com.atproto.sync.getRepo?did=$did" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do
	wait "$p"
done
same=0
i=0
while [ $i -lt $NCLIENTS ]; do
	cmp -s "$T_DIR/car.ref" "$T_DIR/car.$i" && same=$((same + 1))
	i=$((i + 1))
done
check "all $NCLIENTS downloads complete and identical ($same)" \
    [ $same -eq $NCLIENTS ]
s1=$(counter getrepo.scans)
l1=$(counter getrepo.lookups)
echo "# $NCLIENTS at once: scans $s0 -> $s1, lookups $l0 -> $l1"
check "each of the $NCLIENTS at once walked from a scan, none from lookups" \
    both "$s1" $((s0 + NCLIENTS)) "$l1" "$l0"
check "pdsd stops cleanly" pds_stop
t_done
