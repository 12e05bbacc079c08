#!/bin/sh
# test_metrics: the OpenMetrics endpoint (PDS_METRICS_ADDRESS), scraped
# like Prometheus would and parsed by the Prometheus project's own
# parsers (python3-prometheus-client), strict OpenMetrics and text 0.0.4.
T_NAME=test_metrics
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PARSE="$(dirname "$0")/parse_metrics.py"
if ! "$PY" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then
	not_ok "python3-prometheus-client is installed (scripts/deps.sh)"
	t_done
	exit 1
fi

# ---- configuration ----
pds_env "PDS_METRICS_ADDRESS=0.0.0.0:9999"
out=$("$PDSD" -c "$T_DIR/pds.env" --check-config 2>&1)
check "a non-loopback metrics address is refused" test $? -ne 0
check "... saying why and how to opt in" \
    sh -c 'printf "%s" "$1" | grep -q "PDS_METRICS_PUBLIC=true"' _ "$out"
pds_env "PDS_METRICS_ADDRESS=0.0.0.0:9999" "PDS_METRICS_PUBLIC=true"
"$PDSD" -c "$T_DIR/pds.env" --check-config >/dev/null 2>&1
check "... and accepted with PDS_METRICS_PUBLIC=true" test $? -eq 0
for bad in "127.0.0.1" "127.0.0.1:0" "::1:9100" "[::1]" "localhost:9100" \
    "127.0.0.1:70000"; do
	pds_env "PDS_METRICS_ADDRESS=$bad"
	"$PDSD" -c "$T_DIR/pds.env" --check-config >/dev/null 2>&1
	check "PDS_METRICS_ADDRESS=$bad is refused" test $? -ne 0
done
MPORT=$(pick_port)
pds_env "PDS_METRICS_ADDRESS=$MPORT"
check "--check-config shows PDS_METRICS_ADDRESS" \
    sh -c '"$1" -c "$2" --check-config | grep -qx "PDS_METRICS_ADDRESS=$3"' \
    _ "$PDSD" "$T_DIR/pds.env" "$MPORT"

# ---- off by default ----
pds_env
pds_start || { t_done; exit 1; }
if log_has "metrics on"; then not_ok "off by default"
else ok "off by default"; fi
pds_stop

# ---- on ----
pds_env "PDS_METRICS_ADDRESS=127.0.0.1:$MPORT"
pds_start || { t_done; exit 1; }
MURL=http://127.0.0.1:$MPORT
check "the log names the metrics URL" log_has "metrics on $MURL/metrics"

# scrape FILE [curl args]: GET /metrics, headers in FILE.h
scrape() {
	_f=$1
	shift
	curl -s -D "$_f.h" -o "$_f" "$@" "$MURL/metrics"
}
# parse FORMAT FILE: FILE.parsed gets the parser's sample lines
parse() {
	"$PY" "$PARSE" "$1" "$2" >"$2.parsed" 2>"$2.err" || {
		sed 's/^/#   /' "$2.err"
		return 1
	}
}
# value FILE SAMPLE: the parsed value of one sample line (0 if absent)
value() {
	_v=$(grep -F "$2 " "$1.parsed" | head -n 1 | sed 's/.* //')
	echo "${_v:-0}"
}

scrape "$T_DIR/m1"
check "OpenMetrics by default: its content type" \
    grep -qi '^Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8' \
    "$T_DIR/m1.h"
check "the first scrape parses as OpenMetrics 1.0" parse openmetrics "$T_DIR/m1"
check "it ends with # EOF" sh -c 'tail -n 1 "$1" | grep -qx "# EOF"' _ "$T_DIR/m1"
# the parser is strict: the same text without its # EOF is refused
head -n -1 "$T_DIR/m1" >"$T_DIR/m1-noeof"
check "the parser refuses the text cut short of # EOF" \
    sh -c '! "$1" "$2" openmetrics "$3" >/dev/null 2>&1' _ "$PY" "$PARSE" \
    "$T_DIR/m1-noeof"
for fam in "pds_uptime_seconds gauge" "pds_xrpc_requests counter" \
    "pds_xrpc_request_duration_seconds histogram" \
    "pds_repo_commits counter" "pds_sqlite_wal_bytes gauge" \
    "pds_firehose_lag_events gauge" "pds_ratelimit_limited counter"; do
	check "# TYPE $fam" grep -qx "# TYPE $fam" "$T_DIR/m1"
done
check "# UNIT for the latency histogram" \
    grep -qx "# UNIT pds_xrpc_request_duration_seconds seconds" "$T_DIR/m1"
check "the SQLite database has a size" \
    test "$(value "$T_DIR/m1" 'pds_sqlite_database_bytes{}')" -gt 0
check "the disk blob store is up" \
    test "$(value "$T_DIR/m1" 'pds_blobstore_up{backend="disk"}')" -eq 1
check "the disk blob store reports its free space" \
    test "$(value "$T_DIR/m1" 'pds_blobstore_available_bytes{backend="disk"}')" -gt 0

# requests: three describeServer, one bad createSession, one method
# pdsd does not have, and _health (not an XRPC method: not counted)
D=com.atproto.server.describeServer
for i in 1 2 3; do req GET /xrpc/$D; done
req POST /xrpc/com.atproto.server.createSession -H 'Content-Type: application/json' -d '{}'
check_status "a createSession without input is refused" 400
req GET /xrpc/com.example.nothing.here
req GET /xrpc/_health
scrape "$T_DIR/m2"
check "the second scrape parses as OpenMetrics 1.0" parse openmetrics "$T_DIR/m2"
a=$(value "$T_DIR/m1" "pds_xrpc_requests_total{method=\"$D\"}")
b=$(value "$T_DIR/m2" "pds_xrpc_requests_total{method=\"$D\"}")
check "describeServer requests went up by 3 ($a -> $b)" test $((b - a)) -eq 3
b=$(value "$T_DIR/m2" "pds_xrpc_request_duration_seconds_count{method=\"$D\"}")
check "its latency histogram counted them ($b)" test "$b" -eq 3
b=$(value "$T_DIR/m2" "pds_xrpc_request_duration_seconds_bucket{le=\"+Inf\",method=\"$D\"}")
check "... in its +Inf bucket" test "$b" -eq 3
b=$(value "$T_DIR/m2" 'pds_xrpc_errors_total{class="4xx",method="com.atproto.server.createSession"}')
check "the refused createSession is a 4xx error of its method ($b)" test "$b" -eq 1
b=$(value "$T_DIR/m2" 'pds_xrpc_requests_total{method="_other"}')
check "an unknown method counts under _other ($b)" test "$b" -eq 1
check "_health is not an XRPC method here" \
    sh -c '! grep -q "_health" "$1"' _ "$T_DIR/m2"
a=$(value "$T_DIR/m1" 'pds_http_requests_total{}')
b=$(value "$T_DIR/m2" 'pds_http_requests_total{}')
check "pds_http_requests_total moved ($a -> $b)" test "$b" -ge $((a + 6))

# the Prometheus text format, by Accept
scrape "$T_DIR/m3" -H 'Accept: text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
check "Accept: text/plain gets the 0.0.4 content type" \
    grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' \
    "$T_DIR/m3.h"
check "... which parses as the Prometheus text format" \
    parse prometheus "$T_DIR/m3"
check "... with no # EOF and no # UNIT" \
    sh -c '! grep -q "^# EOF\|^# UNIT" "$1"' _ "$T_DIR/m3"
check "... and counters typed by their _total name" \
    grep -qx "# TYPE pds_repo_commits_total counter" "$T_DIR/m3"
scrape "$T_DIR/m4" -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'
check "Prometheus' own Accept gets OpenMetrics" \
    grep -qi '^Content-Type: application/openmetrics-text' "$T_DIR/m4.h"

# only GET /metrics
s=$(curl -s -o /dev/null -w '%{http_code}' "$MURL/")
check "another path is 404 ($s)" test "$s" = 404
s=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$MURL/metrics")
check "POST is 405 ($s)" test "$s" = 405
s=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" "$MURL/metrics")
check "a request head over 4 KiB is refused ($s)" test "$s" = 431
# a client that sends nothing is dropped, and does not block the next
# scrape for more than the 2 s budget
"$PY" -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(5)' "$MPORT" &
SILENT=$!
sleep 0.3
t0=$(date +%s)
scrape "$T_DIR/m5"
t1=$(date +%s)
kill "$SILENT" 2>/dev/null
wait "$SILENT" 2>/dev/null
check "a silent client holds the listener at most ~2 s ($((t1 - t0)) s)" \
    test $((t1 - t0)) -le 4
check "... and the next scrape is answered" \
    sh -c 'tail -n 1 "$1" | grep -qx "# EOF"' _ "$T_DIR/m5"
check "the listener is on loopback only" \
    sh -c '! curl -s -m 2 -o /dev/null "http://$(hostname -I 2>/dev/null | cut -d" " -f1):$1/metrics"' _ "$MPORT"

check "pdsd stops cleanly with the listener running" pds_stop

# ---- on IPv6 loopback ----
if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	pds_env "PDS_METRICS_ADDRESS=[::1]:$MPORT"
	pds_start || { t_done; exit 1; }
	check "the log names the [::1] URL" \
	    log_has "metrics on http://[::1]:$MPORT/metrics"
	curl -s -g -o "$T_DIR/v6" "http://[::1]:$MPORT/metrics"
	check "a scrape on [::1] parses" parse openmetrics "$T_DIR/v6"
	pds_stop
else
	echo "# no IPv6 loopback here: [::1] not tried"
fi

# ---- commits, the firehose head and rate limits move ----
plc_start
pds_env "PDS_METRICS_ADDRESS=127.0.0.1:$MPORT" "PDS_DID_PLC_URL=$PLC_URL" \
    "PDS_SERVICE_HANDLE_DOMAINS=.test" "PDS_INVITE_REQUIRED=false" \
    "PDS_RATE_LIMITS_ENABLED=true" "PDS_RATE_LIMIT_BUDGETS=create-account=1/300"
pds_start || { t_done; exit 1; }
scrape "$T_DIR/r1"
check "a fresh server's scrape parses" parse openmetrics "$T_DIR/r1"
JSON='Content-Type: application/json'
req POST /xrpc/com.atproto.server.createAccount -H "$JSON" \
    --data '{"handle":"carol.test","email":"carol@example.com","password":"carol-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
for k in a b; do
	req POST /xrpc/com.atproto.repo.createRecord -H "$JSON" \
	    -H "Authorization: Bearer $TOK" \
	    --data "{\"repo\":\"$DID\",\"collection\":\"com.example.item\",\"rkey\":\"$k\",\"record\":{}}"
	check_status "createRecord $k" 200
done
req POST /xrpc/com.atproto.server.createAccount -H "$JSON" \
    --data '{"handle":"dave.test","email":"dave@example.com","password":"dave-password-1"}'
check_status "a second createAccount is over its budget" 429
sleep 5		# the database counts are read at most every 5 s
scrape "$T_DIR/r2"
check "the scrape after them parses" parse openmetrics "$T_DIR/r2"
a=$(value "$T_DIR/r1" 'pds_repo_commits_total{}')
b=$(value "$T_DIR/r2" 'pds_repo_commits_total{}')
check "pds_repo_commits_total: the two records ($a -> $b)" \
    test "$b" -eq $((a + 2))
a=$(value "$T_DIR/r1" 'pds_firehose_head_seq{}')
b=$(value "$T_DIR/r2" 'pds_firehose_head_seq{}')
check "pds_firehose_head_seq moved ($a -> $b)" test "$b" -gt "$a"
a=$(value "$T_DIR/r1" 'pds_ratelimit_limited_total{}')
b=$(value "$T_DIR/r2" 'pds_ratelimit_limited_total{}')
check "pds_ratelimit_limited_total counted the 429 ($a -> $b)" \
    test "$b" -eq $((a + 1))
b=$(value "$T_DIR/r2" 'pds_xrpc_errors_total{class="4xx",method="com.atproto.server.createAccount"}')
check "... which is a 4xx of createAccount ($b)" test "$b" -eq 1
b=$(value "$T_DIR/r2" 'pds_xrpc_request_duration_seconds_count{method="com.atproto.repo.createRecord"}')
check "createRecord has its latency histogram ($b)" test "$b" -eq 2
check "the database counts are up" \
    test "$(value "$T_DIR/r2" 'pds_store_up{}')" -eq 1
a=$(value "$T_DIR/r1" 'pds_accounts{status="active"}')
b=$(value "$T_DIR/r2" 'pds_accounts{status="active"}')
check "pds_accounts{status=active} went from 0 to 1 ($a -> $b)" \
    test "$a" -eq 0 -a "$b" -eq 1
b=$(value "$T_DIR/r2" 'pds_repo_records{}')
check "pds_repo_records counts the two records ($b)" test "$b" -eq 2
check "# UNIT pds_repo_size_bytes bytes" \
    grep -qx "# UNIT pds_repo_size_bytes bytes" "$T_DIR/r2"
check "pdsd stops cleanly" pds_stop
t_done
