#!/bin/sh
# stress_outbound: outbound calls never hold pdsd's HTTP workers
# (issue 16, finding 2).  A service JWT whose issuer is a did:web on a
# host that accepts connections and never answers makes pdsd wait the
# resolver's whole timeout; so does a handle that does not resolve.
# With 200 such requests and then 16 resolveHandle calls in flight at
# once (from 66 loopback clients), /xrpc/_health, asked from yet
# another address, must still answer within 50 ms at the 99th
# percentile; every hung service-JWT request must get a clear error
# within the timeout (the handles, queued behind them on the net pool,
# within twice that), and a second batch must fail at once from the
# resolver's failure cache.  One client alone is held to its cap (429
# with Retry-After past it).  A did:web document that is served lets its
# token through.  Last, pdsd stops promptly with slow requests queued.
T_NAME=stress_outbound
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

HANG_PID=
HANG2_PID=
HANG3_PID=
DOC_PID=
out_cleanup() {
	[ -n "$HANG_PID" ] && kill "$HANG_PID" 2>/dev/null
	[ -n "$HANG2_PID" ] && kill "$HANG2_PID" 2>/dev/null
	[ -n "$HANG3_PID" ] && kill "$HANG3_PID" 2>/dev/null
	[ -n "$DOC_PID" ] && kill "$DOC_PID" 2>/dev/null
	t_cleanup
}
trap out_cleanup EXIT

TIMEOUT_MS=3000		# PDS_ID_RESOLVER_TIMEOUT
AUD=did:web:pds.example.com
LXM=com.atproto.server.createAccount
KEY=8a4b2c0d1e2f30415263748596a7b8c9dae0f1021324354657687980a1b2c3d4

# hostport FILE: wait for a listener's port line
hostport() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	head -n 1 "$1"
}

"$STRESS_BIN/hang" >"$T_DIR/hang.port" &
HANG_PID=$!
HPORT=$(hostport "$T_DIR/hang.port")
ISS="did:web:localhost%3A$HPORT"
"$STRESS_BIN/svcjwt" "$ISS" $AUD $LXM $KEY 200 | tail -n +2 \
    >"$T_DIR/tokens"
i=0
: >"$T_DIR/paths"
while [ $i -lt 16 ]; do
	echo "/xrpc/com.atproto.identity.resolveHandle?handle=h$i.hung.test" \
	    >>"$T_DIR/paths"
	i=$((i + 1))
done

pds_env "PDS_ID_RESOLVER_TIMEOUT=$TIMEOUT_MS"
if ! pds_start; then
	not_ok "pdsd starts"
	t_done
	exit 1
fi

# flood_batch NAME: 200 service-JWT requests at once and 16 resolveHandle
# calls right after, with the probe running meanwhile.
flood_batch() {
	PROBE_SRC=127.0.0.2 probe /xrpc/_health 5 20 >"$T_DIR/$1.probe" &
	_pp=$!
	"$STRESS_BIN/flood" -s 10:50 -a "$T_DIR/tokens" -b '{}' \
	    -t $((TIMEOUT_MS * 3)) "$PORT" 200 POST "/xrpc/$LXM" \
	    >"$T_DIR/$1.jwt" &
	_fp=$!
	sleep 0.3
	"$STRESS_BIN/flood" -s 60:16 -f "$T_DIR/paths" \
	    -t $((TIMEOUT_MS * 3)) "$PORT" 16 GET /ignored \
	    >"$T_DIR/$1.handles"
	wait $_fp
	wait $_pp
	echo "# $1: _health $(cat "$T_DIR/$1.probe")"
	echo "# $1: service JWTs $(cat "$T_DIR/$1.jwt")"
	echo "# $1: resolveHandle $(cat "$T_DIR/$1.handles")"
}

# field FILE KEY: a number from a JSON line (0 when absent)
field() {
	_v=$(json_num "$(cat "$1")" "$2")
	echo "${_v:-0}"
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
within() {		# FILE MS: every request answered, in under MS
	[ "$(field "$1" unanswered)" = 0 ] && lt "$(field "$1" max_ms)" "$2"
}
only_status() {		# FILE CODE: every answer had that status
	[ "$(field "$1" answered)" = "$(field "$1" n)" ] &&
	    grep -q "\"status\":{\"$2\":$(field "$1" n)}" "$1"
}

flood_batch first
check "first batch: /xrpc/_health p99 < 50 ms" \
    lt "$(field "$T_DIR/first.probe" p99_ms)" 50
check "first batch: no /xrpc/_health probe failed" \
    [ "$(field "$T_DIR/first.probe" failed)" = 0 ]
check "first batch: every hung service-JWT request answered" \
    [ "$(field "$T_DIR/first.jwt" unanswered)" = 0 ]
check "first batch: each one 502 UpstreamFailure" \
    only_status "$T_DIR/first.jwt" 502
check "first batch: within the resolver's timeout (+1 s)" \
    within "$T_DIR/first.jwt" $((TIMEOUT_MS + 1000))
check "first batch: every resolveHandle answered (400)" \
    only_status "$T_DIR/first.handles" 400
check "first batch: resolveHandle within twice the timeout (+1 s)" \
    within "$T_DIR/first.handles" $((TIMEOUT_MS * 2 + 1000))
check "pdsd says why" log_has "localhost:$HPORT"

flood_batch second
check "second batch: /xrpc/_health p99 < 50 ms" \
    lt "$(field "$T_DIR/second.probe" p99_ms)" 50
check "second batch: every service-JWT request 502 again" \
    only_status "$T_DIR/second.jwt" 502
check "second batch: from the failure cache (all within 1 s)" \
    within "$T_DIR/second.jwt" 1000
check "second batch: resolveHandle from the failure cache (within 1 s)" \
    within "$T_DIR/second.handles" 1000

# One client past its cap (PDS_OFFLOAD_CLIENT_MAX, 16): 40 requests for
# an issuer on another hung host, all from one address.  16 wait for
# the resolver and get 502; the rest are refused at once with 429 and
# Retry-After; _health, from another address, does not notice.
"$STRESS_BIN/hang" >"$T_DIR/hang2.port" &
HANG2_PID=$!
H2=$(hostport "$T_DIR/hang2.port")
"$STRESS_BIN/svcjwt" "did:web:localhost%3A$H2" $AUD $LXM $KEY 40 |
    tail -n +2 >"$T_DIR/tokens2"
PROBE_SRC=127.0.0.2 probe /xrpc/_health 4 20 >"$T_DIR/one.probe" &
PP=$!
"$STRESS_BIN/flood" -s 200:1 -a "$T_DIR/tokens2" -b '{}' \
    -t $((TIMEOUT_MS * 3)) "$PORT" 40 POST "/xrpc/$LXM" >"$T_DIR/one.jwt"
wait $PP
kill "$HANG2_PID" 2>/dev/null
echo "# one client: _health $(cat "$T_DIR/one.probe")"
echo "# one client: $(cat "$T_DIR/one.jwt")"
check "one client: 16 resolutions (502), the rest refused with 429" \
    grep -q '"status":{"429":24,"502":16}' "$T_DIR/one.jwt"
check "one client: every 429 carries Retry-After" \
    [ "$(field "$T_DIR/one.jwt" refused_without_retry_after)" = 0 ]
check "one client: /xrpc/_health p99 < 50 ms" \
    lt "$(field "$T_DIR/one.probe" p99_ms)" 50

# The success path: a did:web document that is served.  The token
# passes; createAccount then refuses the empty body (400, not 502).
"$STRESS_BIN/hang" "$T_DIR/doc.json" >"$T_DIR/doc.port" &
DOC_PID=$!
DPORT=$(hostport "$T_DIR/doc.port")
DISS="did:web:localhost%3A$DPORT"
"$STRESS_BIN/svcjwt" "$DISS" $AUD $LXM $KEY 1 >"$T_DIR/ok"
MK=$(head -n 1 "$T_DIR/ok")
cat >"$T_DIR/doc.json" <<EOF
{"@context":["https://www.w3.org/ns/did/v1"],"id":"$DISS",
 "verificationMethod":[{"id":"$DISS#atproto","type":"Multikey",
  "controller":"$DISS","publicKeyMultibase":"$MK"}]}
EOF
req POST "/xrpc/$LXM" --max-time 10 \
    -H "Authorization: Bearer $(tail -n 1 "$T_DIR/ok")" \
    -H "Content-Type: application/json" --data '{}'
echo "# served document: $STATUS $(head -c 200 "$T_DIR/body")"
check "a served did:web document: the token passes (400, not 502)" \
    [ "$STATUS" = 400 ]

# Shutdown with slow requests queued: 64 requests, each for an issuer on
# a hung host of its own (so the failure cache cannot help), from 64
# clients: 16 run (the resolver's timeout), 48 wait.  On SIGTERM the
# waiting ones get 503 with Retry-After instead of each being served in
# turn (4 rounds, past pdsd's 10 s grace), so pdsd stops within about
# one timeout, having answered every request.
"$STRESS_BIN/hang" -n 64 >"$T_DIR/many.ports" &
HANG3_PID=$!
i=0
while [ "$(cat "$T_DIR/many.ports" 2>/dev/null | wc -l)" -lt 64 ] &&
    [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
: >"$T_DIR/tokens3"
while read -r p; do
	"$STRESS_BIN/svcjwt" "did:web:localhost%3A$p" $AUD $LXM $KEY 1 |
	    tail -n 1 >>"$T_DIR/tokens3"
done <"$T_DIR/many.ports"
"$STRESS_BIN/flood" -s 100:64 -a "$T_DIR/tokens3" -b '{}' -t 20000 \
    "$PORT" 64 POST "/xrpc/$LXM" >"$T_DIR/last.jwt" &
FP=$!
sleep 0.5
T0=$(date +%s%N)
pds_stop
RC=$?
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
wait $FP
kill "$HANG3_PID" 2>/dev/null
echo "# shutdown: $MS ms, status $RC; $(cat "$T_DIR/last.jwt")"
B502=$(sed -nE 's/.*"502":([0-9]+).*/\1/p' "$T_DIR/last.jwt")
B503=$(sed -nE 's/.*"503":([0-9]+).*/\1/p' "$T_DIR/last.jwt")
check "shutdown with slow requests queued: pdsd exits 0" [ "$RC" = 0 ]
check "shutdown: within 2 timeouts, not the whole queue" \
    [ "$MS" -lt $((TIMEOUT_MS * 2)) ]
check "shutdown: every request answered, 502 or 503" \
    [ "$(( ${B502:-0} + ${B503:-0} ))" = 64 ]
check "shutdown: every 503 carries Retry-After" \
    [ "$(field "$T_DIR/last.jwt" refused_without_retry_after)" = 0 ]
t_done
