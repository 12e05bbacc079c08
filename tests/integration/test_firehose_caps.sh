#!/bin/sh
# test_firehose_caps: the firehose's limits on subscribers, with pdsd's
# caps set low (2 per client address, 3 in all, 64 kB of queue each).
# Two replayers from cursor=0 that never read (ws_idle, a load program of
# tests/stress) over ~10 MB of events: the next upgrade from their
# address is refused with 429 RateLimitExceeded before any 101; a third
# client address still gets in, a fourth gets 503 NotEnoughResources;
# the two stalled replayers are dropped with ConsumerTooSlow (log and
# firehose.too_slow) and their connections closed by the server, after
# which their address is let in again.  Needs Node 22 and
# tests/interop/setup.sh (the local PLC directory for the account).
T_NAME=test_firehose_caps
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../stress/lib.sh"	# json_num

WS_IDLE=$STRESS_BIN/ws_idle
PDSCTL=$B/bin/pdsctl
SOCK=$T_DIR/admin.sock
SUB=/xrpc/com.atproto.sync.subscribeRepos

skip() {
	echo "$T_NAME: skipped ($1)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
[ -x "$WS_IDLE" ] || skip "$WS_IDLE not built"
[ -x "$PDSCTL" ] || skip "$PDSCTL not built"
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
NODE=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"

"$NODE" scripts/plc-server.mjs 0 >"$T_DIR/plc.out" 2>&1 &
PLC_PID=$!
IDLE_PID=
trap 'pds_kill9; kill $PLC_PID $IDLE_PID 2>/dev/null; wait 2>/dev/null;
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
    "PDS_FIREHOSE_MAX_SUBSCRIBERS=3" \
    "PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP=2" \
    "PDS_FIREHOSE_MAX_SUBSCRIBER_BYTES=65536"
pds_start || { t_done; exit 1; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"caps.test","email":"caps@example.com","password":"caps-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")

# ~10 MB of events: far more than the sockets' buffers and 64 kB hold
TEXT=$(head -c 75000 /dev/urandom | base64 -w 0)
batch() {
	printf '{"repo":"%s","validate":false,"writes":[' "$DID"
	_k=0
	while [ $_k -lt 8 ]; do
		[ $_k -gt 0 ] && printf ','
		printf '{"$type":"com.atproto.repo.applyWrites#create",'\
'"collection":"com.example.blob.big","value":{"$type":'\
'"com.example.blob.big","i":%d,"text":"%s"}}' $(($1 * 8 + _k)) "$TEXT"
		_k=$((_k + 1))
	done
	printf ']}'
}
ok_writes=0
for b in 1 2 3 4 5 6 7 8 9 10 11 12; do
	s=$(batch $b | curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $TOK" \
	    -H 'Content-Type: application/json' --data-binary @- \
	    "$URL/xrpc/com.atproto.repo.applyWrites")
	[ "$s" = 200 ] && ok_writes=$((ok_writes + 1))
done
check "96 records of 100 kB written" test $ok_writes -eq 12

# an upgrade request as curl sends it; --max-time ends a 101 it got
upgrade() {
	_q=$1
	shift
	req GET "$SUB$_q" --max-time 3 -H 'Connection: Upgrade' \
	    -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
	    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$@"
}
fh_stat() {
	tr -d ' \n' <"$T_DIR/stats.json" |
	    sed -nE "s/.*\"firehose\\.$1\":\\{\"value\":([0-9]+).*/\\1/p"
}

# ---- two replayers from 127.0.0.1 that never read ----
"$WS_IDLE" "$PORT" 2 45 '?cursor=0' >"$T_DIR/idle.out" &
IDLE_PID=$!
i=0
while [ $i -lt 100 ] && [ "$(grep -c 'subscribed from cursor 0' \
    "$T_DIR/pdsd.log")" -lt 2 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "both replayers subscribed" \
    test "$(grep -c 'subscribed from cursor 0' "$T_DIR/pdsd.log")" -eq 2

# ---- the caps ----
upgrade '?cursor=0'
check_status "a third from 127.0.0.1: refused before the upgrade" 429
check "... with RateLimitExceeded" body_has '"error":"RateLimitExceeded"'
WS_IDLE_XFF=192.0.2.1 "$WS_IDLE" "$PORT" 1 4 >"$T_DIR/other.out" &
OTHER_PID=$!
i=0
while [ $i -lt 50 ] && [ "$(grep -c 'subscribed' "$T_DIR/pdsd.log")" -lt 3 ]
do
	sleep 0.1
	i=$((i + 1))
done
upgrade '' -H 'X-Forwarded-For: 192.0.2.2'
check_status "a fourth address past the total of 3: refused" 503
check "... with NotEnoughResources" body_has '"error":"NotEnoughResources"'
wait $OTHER_PID
check "another address got in meanwhile ($(cat "$T_DIR/other.out"))" \
    grep -q '"statuses":"101:1"' "$T_DIR/other.out"

# ---- the stalled replayers are dropped and closed ----
wait $IDLE_PID
IDLE_PID=
RES=$(cat "$T_DIR/idle.out")
echo "# ws_idle: $RES"
check "both upgraded" test "$(json_num "$RES" upgraded)" -eq 2
check "the server closed both ($(json_num "$RES" last_closed_ms) ms)" \
    test "$(json_num "$RES" closed)" -eq 2
check "the log names the drops" \
    test "$(grep -c 'too slow at seq .* (replay stalled)' \
    "$T_DIR/pdsd.log")" -eq 2
"$PDSCTL" --socket "$SOCK" --json stats >"$T_DIR/stats.json" 2>&1
check "firehose.too_slow is 2 ($(fh_stat too_slow))" test "$(fh_stat too_slow)" = 2
check "firehose.refused is 2 ($(fh_stat refused))" test "$(fh_stat refused)" = 2

# their slots are free again: a stalled replayer shows no HTTP error
upgrade '?cursor=0'
check_status "127.0.0.1 is let in again" 101
check "pdsd still answers" curl -sf -o /dev/null "$URL/xrpc/_health"
pds_stop
check "pdsd exits cleanly" test $? -eq 0
t_done
