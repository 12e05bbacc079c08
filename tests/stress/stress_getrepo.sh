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
T_NAME=stress_getrepo
. tests/integration/lib.sh
. tests/stress/lib.sh

NCLIENTS=16
PRODUCERS_MAX=4
PEAK_GROWTH_MAX_KB=28672
PROBE_P99_MAX_MS=500

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
same=0
i=0
while [ $i -lt $NCLIENTS ]; do
	cmp -s "$T_DIR/car.ref" "$T_DIR/car.$i" && same=$((same + 1))
	i=$((i + 1))
done
check "all $NCLIENTS downloads complete and identical ($same)" \
    [ $same -eq $NCLIENTS ]
peak1=$(peak_rss_kb "$PDSD_PID")
echo "# peak RSS ${peak0} KiB before the downloads, ${peak1} KiB after"
check "peak RSS grew by $((peak1 - peak0)) KiB < $PEAK_GROWTH_MAX_KB KiB" \
    [ $((peak1 - peak0)) -lt $PEAK_GROWTH_MAX_KB ]
check "pdsd stops cleanly" pds_stop
t_done
