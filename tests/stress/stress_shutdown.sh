#!/bin/sh
# stress_shutdown: SIGTERM while a request waits on a slow upstream for
# longer than pdsd's 10 s shutdown grace.  The AppView here accepts
# and never answers, and pdsd gives it 13 s.  pdsd must wait for the
# request (it holds a suspended connection, which libmicrohttpd must
# see resumed before it stops), answer it, and exit 0; it must neither
# abort nor leave the client without an answer.
T_NAME=stress_shutdown
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

HANG_PID=
trap '[ -n "$HANG_PID" ] && kill "$HANG_PID" 2>/dev/null; t_cleanup' EXIT

plc_start

"$STRESS_BIN/hang" >"$T_DIR/hang.port" &
HANG_PID=$!
i=0
while [ ! -s "$T_DIR/hang.port" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
HPORT=$(head -n 1 "$T_DIR/hang.port")

pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" \
    "PDS_BSKY_APP_VIEW_URL=http://127.0.0.1:$HPORT" \
    "PDS_BSKY_APP_VIEW_DID=did:web:127.0.0.1" \
    "PDS_PROXY_HEADERS_TIMEOUT=13000"
pds_start || { t_done; exit 1; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' --data '{"handle":"alice.test",
"email":"a@example.com","password":"correct horse battery staple"}'
check_status "the account is made" 200
TOKEN=$(sed -nE 's/.*"accessJwt":"([^"]*)".*/\1/p' "$T_DIR/body")

# getProfile goes to the AppView, which never answers.
: >"$T_DIR/body"
curl -s -o "$T_DIR/body" -w '%{http_code}' --max-time 40 \
    -H "Authorization: Bearer $TOKEN" \
    "$URL/xrpc/app.bsky.actor.getProfile?actor=alice.test" \
    >"$T_DIR/status" 2>/dev/null &
CURL=$!
sleep 1
t0=$(date +%s)
kill -TERM "$PDSD_PID"
wait "$PDSD_PID"
rc=$?
PDSD_PID=
t1=$(date +%s)
wait $CURL
status=$(cat "$T_DIR/status")
echo "# pdsd exit $rc after $((t1 - t0)) s; the client got $status"
check "pdsd exits 0 ($rc)" test "$rc" -eq 0
check "the waiting request is answered ($status)" \
    test "${status:-000}" != 000
check "pdsd waited for it past the grace ($((t1 - t0)) s)" \
    test $((t1 - t0)) -ge 10
t_done
