#!/bin/sh
# test_ratelimit: PDS_RATE_LIMITS_ENABLED=true against a real pdsd and a
# real PLC directory: password-reset mails, wrong admin passwords,
# createSession per identifier, repo write points (with small budgets
# from PDS_RATE_LIMIT_BUDGETS), the ratelimit-* headers, the bypass key
# and bypass addresses, the counters in `pdsctl stats --json', and the
# login limiter under guessing from many addresses (a correct password
# still logs in) with X-Forwarded-For believed only from
# PDS_TRUSTED_PROXIES.  Connections from 127.0.0.2 and 127.0.0.3 stand
# for a reverse proxy and a bypass address.
T_NAME=test_ratelimit
. "$(dirname "$0")/lib.sh"

ROOT=$(pwd)
PDSCTL=${PDSCTL:-$B/bin/pdsctl}
case $PDSCTL in /*) ;; *) PDSCTL=$ROOT/$PDSCTL ;; esac
SOCK=$T_DIR/pdsd.sock

plc_start

BYPASS=bypass-$$-key
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_ADMIN_SOCKET=$SOCK" \
    "PDS_RATE_LIMITS_ENABLED=true" "PDS_RATE_LIMIT_BYPASS_KEY=$BYPASS" \
    "PDS_RATE_LIMIT_BYPASS_IPS=127.0.0.3/32" \
    "PDS_TRUSTED_PROXIES=127.0.0.2" \
    "PDS_RATE_LIMIT_BUDGETS=repo-write-hour=30/3600,create-session=5/300"
if ! pds_start; then
	not_ok "pdsd starts"
	t_done
	exit 1
fi

# ---- helpers ----

jstr() {
	sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T_DIR/body" | head -n 1
}
post() {	# post NSID JSON [curl args]
	_n=$1 _j=$2
	shift 2
	req POST "/xrpc/$_n" -H 'Content-Type: application/json' \
	    --data-binary "$_j" "$@"
}
hdr() {		# hdr NAME: a header of the last reply
	tr -d '\r' <"$T_DIR/headers" | sed -n "s/^$1: //Ip" | head -n 1
}
check_429() {
	if [ "$STATUS" = 429 ] && body_has '"error":"RateLimitExceeded"'; then
		ok "$1"
	else
		not_ok "$1" "status $STATUS; body: $(head -c 300 "$T_DIR/body")"
	fi
}
account() {	# account HANDLE EMAIL PASSWORD -> sets DID ACCESS
	post com.atproto.server.createAccount \
	    "{\"handle\":\"$1\",\"email\":\"$2\",\"password\":\"$3\"}"
	DID=$(jstr did)
	ACCESS=$(jstr accessJwt)
}
login() {	# login ID PASSWORD [curl args]
	_i=$1 _p=$2
	shift 2
	post com.atproto.server.createSession \
	    "{\"identifier\":\"$_i\",\"password\":\"$_p\"}" "$@"
}
mails() { grep -c "reset_password token for" "$T_DIR/pdsd.log"; }

account alice.test alice@example.com 'alice pw'
check_status "createAccount (alice) answers 200" 200
ALICE=$DID A_ACCESS=$ACCESS
account bob.test bob@example.com 'bob pw'
check_status "createAccount (bob) answers 200" 200
B_ACCESS=$ACCESS

# ---- headers ----

# the second before the request: a reset that is "now" (the bucket
# refills within the second) may be a second before a later date(1)
before=$(date +%s)
req GET /xrpc/com.atproto.server.describeServer
check_status "describeServer answers 200" 200
check "a success carries ratelimit-limit (the global 3000)" \
    test "$(hdr ratelimit-limit)" = 3000
check "... ratelimit-policy 3000;w=300" \
    test "$(hdr ratelimit-policy)" = "3000;w=300"
check "... ratelimit-remaining below the limit" \
    test "$(hdr ratelimit-remaining)" -lt 3000
now=$(date +%s)
check "... and ratelimit-reset, unix seconds within 5 minutes" \
    test "$(hdr ratelimit-reset)" -ge "$before" -a \
    "$(hdr ratelimit-reset)" -le $((now + 301))

# ---- requestPasswordReset ----

n200=0 n429=0 i=0
while [ $i -lt 20 ]; do
	post com.atproto.server.requestPasswordReset \
	    '{"email":"alice@example.com"}'
	[ "$STATUS" = 200 ] && n200=$((n200 + 1))
	[ "$STATUS" = 429 ] && n429=$((n429 + 1))
	i=$((i + 1))
done
check "20 password resets for one address: 5 pass ($n200)" test $n200 -eq 5
check "... 15 get 429 ($n429)" test $n429 -eq 15
check "... and 5 mails went out ($(mails))" test "$(mails)" -eq 5
check_429 "the last is 429 RateLimitExceeded"
check "... with ratelimit-remaining 0" test "$(hdr ratelimit-remaining)" = 0
check "... ratelimit-policy 5;w=3600" test "$(hdr ratelimit-policy)" = "5;w=3600"
check "... ratelimit-limit 5" test "$(hdr ratelimit-limit)" = 5
check "... and Retry-After" test "$(hdr retry-after)" -gt 0
n200=0 i=0
while [ $i -lt 11 ]; do
	post com.atproto.server.requestPasswordReset \
	    "{\"email\":\"other$i@example.com\"}"
	[ "$STATUS" = 200 ] && n200=$((n200 + 1))
	i=$((i + 1))
done
check "other addresses from the same client: 10 more pass ($n200)" \
    test $n200 -eq 10
check_429 "... then the client's 15 an hour is spent"
post com.atproto.server.requestPasswordReset '{"email":"alice@example.com"}' \
    -H "x-ratelimit-bypass: $BYPASS"
check_status "the bypass key passes" 200
check "... without ratelimit headers" sh -c '! grep -qi "^ratelimit-" "$1"' \
    _ "$T_DIR/headers"
post com.atproto.server.requestPasswordReset '{"email":"alice@example.com"}' \
    -H "x-ratelimit-bypass: not-$BYPASS"
check_429 "a wrong bypass key does not"
post com.atproto.server.requestPasswordReset '{"email":"alice@example.com"}' \
    --interface 127.0.0.3
check_status "a bypass address passes" 200

# ---- admin passwords ----

n401=0 i=0
while [ $i -lt 10 ]; do
	req GET "/xrpc/com.atproto.admin.getAccountInfo?did=$ALICE" \
	    -u "admin:wrong$i"
	[ "$STATUS" = 401 ] && n401=$((n401 + 1))
	i=$((i + 1))
done
check "ten wrong admin passwords get 401 ($n401)" test $n401 -eq 10
req GET "/xrpc/com.atproto.admin.getAccountInfo?did=$ALICE" -u "admin:wrong"
check_429 "the eleventh gets 429"
req GET "/xrpc/com.atproto.admin.getAccountInfo?did=$ALICE" \
    -u "admin:$ADMIN_PASSWORD"
check_429 "... and so does the right one from that client"
req GET "/xrpc/com.atproto.admin.getAccountInfo?did=$ALICE" \
    -u "admin:$ADMIN_PASSWORD" --interface 127.0.0.2
check_status "the right one from another client passes" 200

# ---- createSession per identifier ----

n200=0 i=0
while [ $i -lt 5 ]; do
	login alice.test 'alice pw'
	[ "$STATUS" = 200 ] && n200=$((n200 + 1))
	i=$((i + 1))
done
check "five logins pass (budget create-session=5/300) ($n200)" test $n200 -eq 5
login alice.test 'alice pw'
check_429 "the sixth for that identifier gets 429"
check "... from the create-session budget" \
    test "$(hdr ratelimit-policy)" = "5;w=300"
login bob.test 'bob pw'
check_status "another identifier still logs in" 200

# ---- repo write points ----

n200=0 i=0
while [ $i -lt 10 ]; do
	post com.atproto.repo.createRecord "{\"repo\":\"$ALICE\",\"collection\":\"app.bsky.feed.post\",\"record\":{\"\$type\":\"app.bsky.feed.post\",\"text\":\"p$i\",\"createdAt\":\"2026-01-01T00:00:00Z\"}}" \
	    -H "Authorization: Bearer $A_ACCESS"
	[ "$STATUS" = 200 ] && n200=$((n200 + 1))
	i=$((i + 1))
done
check "ten creates (3 points each) fit 30 points ($n200)" test $n200 -eq 10
check "... ratelimit-remaining 0 after them" \
    test "$(hdr ratelimit-remaining)" = 0
post com.atproto.repo.deleteRecord "{\"repo\":\"$ALICE\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"none\"}" \
    -H "Authorization: Bearer $A_ACCESS"
check_429 "then even a delete (1 point) gets 429"
check "... from the repo-write-hour budget" \
    test "$(hdr ratelimit-policy)" = "30;w=3600"
post com.atproto.repo.createRecord "{\"repo\":\"$ALICE\",\"collection\":\"app.bsky.feed.post\",\"record\":{\"\$type\":\"app.bsky.feed.post\",\"text\":\"by\",\"createdAt\":\"2026-01-01T00:00:00Z\"}}" \
    -H "Authorization: Bearer $A_ACCESS" -H "x-ratelimit-bypass: $BYPASS"
check_status "the bypass key writes anyway" 200
w='{"$type":"com.atproto.repo.applyWrites#create","collection":"app.bsky.feed.post","value":{"$type":"app.bsky.feed.post","text":"a","createdAt":"2026-01-01T00:00:00Z"}}'
ws10=$w i=1
while [ $i -lt 10 ]; do ws10="$ws10,$w"; i=$((i + 1)); done
ws="$ws10,$w"
req GET /xrpc/com.atproto.server.getSession -H "Authorization: Bearer $B_ACCESS"
B_DID=$(jstr did)
post com.atproto.repo.applyWrites "{\"repo\":\"$B_DID\",\"writes\":[$ws]}" \
    -H "Authorization: Bearer $B_ACCESS"
check_429 "applyWrites of 11 creates (33 points) gets 429 on its own"
post com.atproto.repo.applyWrites "{\"repo\":\"$B_DID\",\"writes\":[$ws10]}" \
    -H "Authorization: Bearer $B_ACCESS"
check_status "applyWrites of 10 creates (30) passes" 200
check "... and leaves 0" test "$(hdr ratelimit-remaining)" = 0

# ---- the login limiter under guessing from many addresses ----

# bob is guessed at through the trusted proxy from 110 client addresses:
# more than the per-account bucket (100) holds.
n401=0 other=0 i=0
while [ $i -lt 110 ]; do
	login bob.test "guess $i" --interface 127.0.0.2 \
	    -H "X-Forwarded-For: 198.18.$((i / 200)).$((i % 200 + 1))"
	case $STATUS in 401) n401=$((n401 + 1)) ;; *) other=$((other + 1)) ;; esac
	i=$((i + 1))
done
check "110 guesses from 110 addresses each get 401 ($n401, $other other)" \
    test $n401 -eq 110
login bob.test 'bob pw' --interface 127.0.0.2 \
    -H "X-Forwarded-For: 203.0.113.50"
check_status "bob's right password still logs in" 200
login bob.test 'guess x' --interface 127.0.0.2 \
    -H "X-Forwarded-For: 198.18.9.9"
check_status "a new guesser is heard once" 401
login bob.test 'guess y' --interface 127.0.0.2 \
    -H "X-Forwarded-For: 198.18.9.9"
check_429 "... then slowed down while the account is under attack"
# one guesser behind the proxy spends its own budget, not bob's
i=0
while [ $i -lt 10 ]; do
	login alice.test "guess $i" --interface 127.0.0.2 \
	    -H "X-Forwarded-For: 198.51.100.66"
	i=$((i + 1))
done
login alice.test 'alice pw' --interface 127.0.0.2 \
    -H "X-Forwarded-For: 198.51.100.66"
check_429 "a guesser behind the proxy is stopped"
login alice.test 'alice pw' --interface 127.0.0.2 \
    -H "X-Forwarded-For: 198.51.100.67"
check_status "the member behind the same proxy still logs in" 200
# from a peer that is not a trusted proxy the header means nothing
i=0
while [ $i -lt 10 ]; do
	login ghost.test "guess $i" -H "X-Forwarded-For: 198.19.0.$i"
	i=$((i + 1))
done
login ghost.test "guess 10" -H "X-Forwarded-For: 198.19.0.10"
check_429 "X-Forwarded-For from an untrusted peer is ignored"

# ---- counters ----

"$PDSCTL" --socket "$SOCK" stats --json >"$T_DIR/stats.json" 2>"$T_DIR/err"
cval() {
	sqlite3 :memory: "SELECT json_extract(readfile('$T_DIR/stats.json'), '\$.counters.\"$1\".value');"
}
check "pdsctl stats --json counts limited requests ($(cval ratelimit.limited))" \
    test "$(cval ratelimit.limited)" -ge 20
check "... refused admin passwords ($(cval ratelimit.admin_limited))" \
    test "$(cval ratelimit.admin_limited)" -eq 2
check "... refused logins ($(cval ratelimit.login_limited))" \
    test "$(cval ratelimit.login_limited)" -ge 1
check "... and bypasses ($(cval ratelimit.bypassed))" \
    test "$(cval ratelimit.bypassed)" -ge 3

# ---- off by default ----

pds_stop
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false"
if ! pds_start; then
	not_ok "pdsd restarts without rate limits"
	t_done
	exit 1
fi
req GET /xrpc/com.atproto.server.describeServer
check "without PDS_RATE_LIMITS_ENABLED no ratelimit headers" \
    sh -c '! grep -qi "^ratelimit-" "$1"' _ "$T_DIR/headers"
n429=0 i=0
while [ $i -lt 20 ]; do
	post com.atproto.server.requestPasswordReset \
	    '{"email":"alice@example.com"}'
	[ "$STATUS" = 429 ] && n429=$((n429 + 1))
	i=$((i + 1))
done
check "... and no 429 for 20 password resets" test $n429 -eq 0

t_done
