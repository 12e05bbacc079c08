#!/bin/sh
# stress_getrepo: many getRepo downloads of a 20,000-record repo at once
# (issue 18).  NCLIENTS clients, half of them reading slowly, fetch the
# whole repo together on a server with 2 HTTP workers.  The getRepo
# producers are capped (no more than PRODUCERS_MAX threads named getRepo,
# where before there was one per download: each with its ring, its scan
# and its SQLite connection), no HTTP worker blocks on a producer (a
# reader with no bytes suspends its connection), so another client's
# request is answered quickly meanwhile; every download is complete and
# the same bytes, and pdsd's peak memory grows by less than
# PEAK_GROWTH_MAX_KB.  Before: 16 producer threads, peak RSS +36 MB, the
# other client's p50 3.8 ms and p99 119 ms; after: 4 threads, +16 MB,
# 0.4 and 29 ms (a busy 2-core machine).
#
# Then a repo past a scan's share of the budget (half of it), fetched by
# as many clients at once as there are producers.  Such a repo can be
# scanned by one producer at a time.  Before: the two producers that
# got a share each scanned, could not get more, and fell back to a
# lookup per block (three times the CPU), and the two that got none
# waited for a share and did the same: three of four downloads from
# lookups.  Now a scan that a share was not enough for waits for the
# whole budget; pdsctl stats counts getrepo.scans and getrepo.lookups.
T_NAME=stress_getrepo
. tests/integration/lib.sh
. tests/stress/lib.sh

NCLIENTS=16
PRODUCERS_MAX=4
PEAK_GROWTH_MAX_KB=28672
PROBE_P99_MAX_MS=500
BIG_RECORDS=30000	# a 10.6 MB CAR: past a share's 8 MiB, within 16
OUT=$T_DIR/out
ERR=$T_DIR/err
PDSCTL=$B/bin/pdsctl
SOCK=$T_DIR/data/pdsd.sock

# identical NAME N: how many of $T_DIR/NAME.0 .. NAME.(N-1) are the
# bytes of $T_DIR/NAME.ref
identical() {
	_same=0
	_i=0
	while [ $_i -lt "$2" ]; do
		cmp -s "$T_DIR/$1.ref" "$T_DIR/$1.$_i" && _same=$((_same + 1))
		_i=$((_i + 1))
	done
	echo $_same
}

skip() {
	echo "$T_NAME: skipped ($1)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
[ -x "$STRESS_BIN/probe" ] || skip "$STRESS_BIN/probe not built"
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
NODE=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"

plc_start
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
    PDS_LOG_LEVEL=warn PDS_THREADS=2
pds_start || { t_done; exit 1; }

out=$("$NODE" bench/seed.mjs --url "$URL" --accounts 1 --records 20000 \
    --name big --out "$T_DIR/seed.out" 2>"$T_DIR/seed.log")
echo "# seed: $out"
did=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/seed.out")
check "a 20,000-record repo" [ "$(json_num "$out" records)" = 20000 ]

# One download alone first: the reference bytes.
curl -s -o "$T_DIR/car.ref" "$URL/xrpc/com.atproto.sync.getRepo?did=$did"
size=$(stat -c %s "$T_DIR/car.ref")
check "getRepo alone: $size bytes" [ "$size" -gt 1000000 ]
peak0=$(peak_rss_kb "$PDSD_PID")

i=0
pids=
while [ $i -lt $NCLIENTS ]; do
	rate=
	[ $((i % 2)) -eq 1 ] && rate="--limit-rate 3M"
	# shellcheck disable=SC2086
	curl -s $rate -o "$T_DIR/car.$i" --max-time 60 \
	    "$URL/xrpc/com.atproto.sync.getRepo?did=$did" &
	pids="$pids $!"
	i=$((i + 1))
done
# Meanwhile: the threads named getRepo, and another client's requests.
PROBE_SRC=127.0.0.2 probe /xrpc/_health 3 50 >"$T_DIR/probe.out" &
probe_pid=$!
maxthr=0
while kill -0 $probe_pid 2>/dev/null; do
	n=$(cat /proc/"$PDSD_PID"/task/*/comm 2>/dev/null | grep -c '^getRepo')
	[ "$n" -gt "$maxthr" ] && maxthr=$n
	sleep 0.05
done
wait $probe_pid
for p in $pids; do
	wait "$p"
done
pr=$(cat "$T_DIR/probe.out")
echo "# probe: $pr; getRepo threads at most $maxthr"
check "at most $PRODUCERS_MAX getRepo producers ($maxthr)" \
    [ "$maxthr" -le $PRODUCERS_MAX ]
probe_ok() {
	[ "$(json_num "$pr" failed)" = 0 ] &&
	    awk -v p="$(json_num "$pr" p99_ms)" -v m=$PROBE_P99_MAX_MS \
	    'BEGIN { exit !(p < m) }'
}
check "another client answered meanwhile (p99 $(json_num "$pr" p99_ms) ms)" \
    probe_ok
same=$(identical car $NCLIENTS)
check "all $NCLIENTS downloads complete and identical ($same)" \
    [ $same -eq $NCLIENTS ]
peak1=$(peak_rss_kb "$PDSD_PID")
echo "# peak RSS ${peak0} KiB before the downloads, ${peak1} KiB after"
check "peak RSS grew by $((peak1 - peak0)) KiB < $PEAK_GROWTH_MAX_KB KiB" \
    [ $((peak1 - peak0)) -lt $PEAK_GROWTH_MAX_KB ]

# ---- a repo past a share, PRODUCERS_MAX downloads at once ----
out=$("$NODE" bench/seed.mjs --url "$URL" --accounts 1 \
    --records $BIG_RECORDS --max-per-account $BIG_RECORDS --name huge \
    --out "$T_DIR/seed-big.out" 2>"$T_DIR/seed-big.log")
echo "# seed: $out"
did=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/seed-big.out")
check "a $BIG_RECORDS-record repo" \
    [ "$(json_num "$out" records)" = $BIG_RECORDS ]
counter() {
	ctl --json stats
	jget "\$.counters.\"$1\".value"
}
both() { [ "$1" = "$2" ] && [ "$3" = "$4" ]; }
s0=$(counter getrepo.scans)
l0=$(counter getrepo.lookups)
# Alone: the reference bytes, from a scan of the whole budget.
curl -s -o "$T_DIR/big.ref" "$URL/xrpc/com.atproto.sync.getRepo?did=$did"
size=$(stat -c %s "$T_DIR/big.ref")
check "getRepo alone: $size bytes, more than a share's 8 MiB" \
    [ "$size" -gt 8388608 ]
s1=$(counter getrepo.scans)
l1=$(counter getrepo.lookups)
check "... walked from a scan (scans $s0 -> $s1, lookups $l0 -> $l1)" \
    both "$s1" $((s0 + 1)) "$l1" "$l0"
i=0
pids=
while [ $i -lt $PRODUCERS_MAX ]; do
	curl -s -o "$T_DIR/big.$i" --max-time 60 \
	    "$URL/xrpc/com.atproto.sync.getRepo?did=$did" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do
	wait "$p"
done
same=$(identical big $PRODUCERS_MAX)
check "$PRODUCERS_MAX at once: complete and identical ($same)" \
    [ $same -eq $PRODUCERS_MAX ]
s2=$(counter getrepo.scans)
l2=$(counter getrepo.lookups)
echo "# $PRODUCERS_MAX at once: scans $s1 -> $s2, lookups $l1 -> $l2"
check "... each walked from a scan, none from lookups" \
    both "$s2" $((s1 + PRODUCERS_MAX)) "$l2" "$l1"

check "pdsd stops cleanly" pds_stop
t_done
