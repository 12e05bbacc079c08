#!/bin/sh
# stress_firehose_replay: 300 subscribeRepos clients replay from cursor=0
# and never read, over a log of 600 records of ~100 kB each (about 60 MB
# of frames).  pdsd must share the replayed frames, cap each queue in
# bytes and drop every stalled replayer with ConsumerTooSlow: its peak
# RSS (VmHWM) stays under 64 MB, the firehose.too_slow counter (pdsctl
# stats) and the log count 300 drops, and every connection is closed by
# the server while ws_idle holds it.  Then 300 more leave right after
# their upgrade: none may stay behind.  Before that fix each replayer
# built its own 500 frames (about 50 MB) and none was ever dropped.
#
# A watchdog kills pdsd past 512 MB, so that a regression fails the test
# instead of exhausting the machine.  Under AddressSanitizer the RSS
# bound is not checked (its shadow memory and quarantine are not pdsd's)
# and the watchdog allows three times as much.
# Needs Node 22 and tests/interop/setup.sh (for the local PLC directory
# the account is made in); skips without them.
T_NAME=stress_firehose_replay
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

NSUB=300
NREC=600
RSS_MAX_KB=65536
WATCHDOG_KB=524288
PDSCTL=$B/bin/pdsctl
SOCK=$T_DIR/admin.sock

skip() {
	echo "$T_NAME: skipped ($1)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
[ -x "$STRESS_BIN/ws_idle" ] || skip "$STRESS_BIN/ws_idle not built"
[ -x "$PDSCTL" ] || skip "$PDSCTL not built"
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
NODE=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"
SANITIZED=
if grep -q __asan_init "$PDSD" 2>/dev/null; then
	# freed memory waits in a quarantine (256 MB by default): keep it
	# small, and give the watchdog the shadow memory's room
	SANITIZED=1
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
	export ASAN_OPTIONS
	WATCHDOG_KB=$((WATCHDOG_KB * 3))
fi

"$NODE" scripts/plc-server.mjs 0 >"$T_DIR/plc.out" 2>&1 &
PLC_PID=$!
WD_PID=
trap 'pds_kill9; kill $PLC_PID $WD_PID 2>/dev/null; wait 2>/dev/null;
    rm -rf "$T_DIR"' EXIT
PLC=
i=0
while [ $i -lt 100 ] && [ -z "$PLC" ]; do
	PLC=$(sed -n 's/^PLC listening on \(http:[^ ]*\)$/\1/p' "$T_DIR/plc.out")
	sleep 0.1
	i=$((i + 1))
done
[ -n "$PLC" ] || { cat "$T_DIR/plc.out"; echo "$T_NAME: 0 passed, 1 failed"; exit 1; }

pds_env "PDS_DID_PLC_URL=$PLC" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
    "PDS_ADMIN_SOCKET=$SOCK" \
    "PDS_FIREHOSE_MAX_SUBSCRIBERS=1000" \
    "PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP=1000" \
    "PDS_MAX_CONNECTIONS_PER_IP=1000"
pds_start || { t_done; exit 1; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"big.test","email":"big@example.com","password":"big-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")

# ---- 600 records of ~100 kB: applyWrites of 8 (a body under 1 MB),
# two writers at a time ----
TEXT=$(head -c 75000 /dev/urandom | base64 -w 0)
BATCH=8
batch() {
	printf '{"repo":"%s","validate":false,"writes":[' "$DID"
	_k=0
	while [ $_k -lt $BATCH ]; do
		[ $_k -gt 0 ] && printf ','
		printf '{"$type":"com.atproto.repo.applyWrites#create",'\
'"collection":"com.example.blob.big","value":{"$type":'\
'"com.example.blob.big","i":%d,"text":"%s"}}' $(($1 + _k)) "$TEXT"
		_k=$((_k + 1))
	done
	printf ']}'
}
writer() {
	_i=$1
	while [ "$_i" -lt $NREC ]; do
		batch "$_i" | curl -s -o /dev/null -w '%{http_code}\n' \
		    -X POST -H "Authorization: Bearer $TOK" \
		    -H 'Content-Type: application/json' --data-binary @- \
		    "$URL/xrpc/com.atproto.repo.applyWrites"
		_i=$((_i + BATCH * 2))
	done
}
t0=$(date +%s)
wpids=
for w in 0 $BATCH; do
	writer $w >"$T_DIR/writer.$w" &
	wpids="$wpids $!"
done
wait $wpids
ok_writes=$(($(cat "$T_DIR"/writer.* | grep -c '^200$') * BATCH))
check "$NREC records of 100 kB written ($ok_writes in $(($(date +%s) - t0)) s)" \
    test "$ok_writes" -eq $NREC

# ---- 300 replayers that never read ----
base_kb=$(rss_kb "$PDSD_PID")
# the watchdog: the highest RSS it saw, and a kill past WATCHDOG_KB
(
	max=0
	while kill -0 "$PDSD_PID" 2>/dev/null; do
		r=$(rss_kb "$PDSD_PID" 2>/dev/null)
		[ -n "$r" ] || break
		[ "$r" -gt "$max" ] && { max=$r; echo "$max" >"$T_DIR/wd.max"; }
		if [ "$r" -gt $WATCHDOG_KB ]; then
			echo killed >"$T_DIR/wd.killed"
			kill -9 "$PDSD_PID"
			break
		fi
		sleep 0.1
	done
) &
WD_PID=$!
RES=$("$STRESS_BIN/ws_idle" "$PORT" $NSUB 50 '?cursor=0')
echo "# ws_idle: $RES"
if [ -f "$T_DIR/wd.killed" ]; then
	peak_kb=$(cat "$T_DIR/wd.max")
	not_ok "pdsd stayed alive" "killed by the watchdog at $peak_kb kB"
else
	peak_kb=$(peak_rss_kb "$PDSD_PID")
fi
kill "$WD_PID" 2>/dev/null
wait "$WD_PID" 2>/dev/null
WD_PID=
echo "# RSS before the subscribers $base_kb kB, peak $peak_kb kB"

check "all $NSUB upgraded" test "$(json_num "$RES" upgraded)" -eq $NSUB
if [ -n "$SANITIZED" ]; then
	echo "# sanitizer build: the RSS bound is not checked"
else
	check "peak RSS $peak_kb kB < $RSS_MAX_KB kB" \
	    test "$peak_kb" -lt $RSS_MAX_KB
fi
check "the server closed all $NSUB ($(json_num "$RES" closed) closed, last after $(json_num "$RES" last_closed_ms) ms)" \
    test "$(json_num "$RES" closed)" -eq $NSUB

if kill -0 "$PDSD_PID" 2>/dev/null; then
	"$PDSCTL" --socket "$SOCK" --json stats >"$T_DIR/stats.json" 2>&1
	slow=$(tr -d ' \n' <"$T_DIR/stats.json" |
	    sed -nE 's/.*"firehose\.too_slow":\{"value":([0-9]+).*/\1/p')
	subs=$(tr -d ' \n' <"$T_DIR/stats.json" |
	    sed -nE 's/.*"firehose\.subscribers":\{"value":([0-9]+).*/\1/p')
else
	slow=0 subs=-1
fi
logged=$(grep -c 'too slow at seq' "$T_DIR/pdsd.log")
echo "# firehose.too_slow $slow, logged $logged, subscribers left $subs"
check "firehose.too_slow counts the $NSUB drops (${slow:-none})" \
    test "${slow:-0}" -eq $NSUB
check "the log has $NSUB ConsumerTooSlow drops ($logged)" \
    test "$logged" -eq $NSUB
check "no subscriber is left (${subs:-none})" test "${subs:--1}" -eq 0

# ---- 300 more that leave right after the upgrade: no work kept for them ----
RES=$("$STRESS_BIN/ws_idle" "$PORT" $NSUB 0 '?cursor=0')
echo "# ws_idle (leaving at once): $RES"
i=0
subs=-1
while [ $i -lt 50 ] && [ "$subs" != 0 ]; do
	sleep 0.1
	"$PDSCTL" --socket "$SOCK" --json stats >"$T_DIR/stats.json" 2>&1
	subs=$(tr -d ' \n' <"$T_DIR/stats.json" |
	    sed -nE 's/.*"firehose\.subscribers":\{"value":([0-9]+).*/\1/p')
	i=$((i + 1))
done
check "all $NSUB that left are gone within 5 s (${subs:-none} left)" \
    test "${subs:--1}" -eq 0
if [ -z "$SANITIZED" ] && kill -0 "$PDSD_PID" 2>/dev/null; then
	peak_kb=$(peak_rss_kb "$PDSD_PID")
	check "peak RSS still $peak_kb kB < $RSS_MAX_KB kB" \
	    test "$peak_kb" -lt $RSS_MAX_KB
fi
check "pdsd still answers" curl -sf -o /dev/null "$URL/xrpc/_health"
pds_stop
check "pdsd exits cleanly" test $? -eq 0
t_done
