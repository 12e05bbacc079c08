#!/bin/sh
# test_limits: what pdsd refuses from the request head alone, before it
# reads (or holds) a body, and that its refusals reach the client:
# credentials checked at headers time, unknown methods, the server-wide
# cap on bodies held in memory, 413 delivered to a client that writes
# its whole body first (with a Content-Length and chunked), and the
# deadline for a request head.  Raw requests go through
# $B/tests/stress/rawreq (see its header).
T_NAME=test_limits
. "$(dirname "$0")/lib.sh"

RAWREQ=$B/tests/stress/rawreq
raw() { "$RAWREQ" "$PORT" "$@"; }
# field LINE KEY: one key=value of rawreq's output
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# lt A B: A < B for (possibly fractional) numbers, A not negative
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= 0 && a < b) }'; }

pds_env PDS_HTTP_HEADERS_TIMEOUT=1500 PDS_MAX_BUFFERED_BODY_BYTES=1048576
pds_start || { t_done; exit 1; }

JSON='Content-Type: application/json'
CREATE=/xrpc/com.atproto.repo.createRecord
SESSION=/xrpc/com.atproto.server.createSession	# no credentials, 150 KiB

# 1. Credentials from the head: a 900 kB body (within createRecord's
# limit) announced, 16 bytes sent; the answer may not wait for the rest.
r=$(raw POST $CREATE -H "$JSON" -l 900000 -b 16 -w 3000)
check "no credentials: 401 before the body is read ($r)" \
    test "$(field "$r" status)" = 401
check "... at once" lt "$(field "$r" ms)" 1500
check "... AuthMissing" test "$(field "$r" error)" = AuthMissing
r=$(raw POST $CREATE -H "$JSON" -H "Authorization: Bearer not.a.jwt" \
    -l 900000 -b 16 -w 3000)
check "a malformed token: refused before the body ($r)" \
    test "$(field "$r" status)" = 400 -a "$(field "$r" error)" = InvalidToken
# an HS256 session token signed with another secret
BADSIG=eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6ImNvbS5hdHByb3RvLmFjY2VzcyIsInN1YiI6ImRpZDpwbGM6YWJjIiwiYXVkIjoiZGlkOndlYjpwZHMuZXhhbXBsZS5jb20iLCJleHAiOjQxMDI0NDQ4MDB9.ZmFrZXNpZ25hdHVyZWZha2VzaWduYXR1cmVmYWtlc2lnbmE
r=$(raw POST $CREATE -H "$JSON" -H "Authorization: Bearer $BADSIG" \
    -l 900000 -b 16 -w 3000)
check "a token with a bad signature: refused before the body ($r)" \
    test "$(field "$r" status)" = 400 -a "$(field "$r" error)" = InvalidToken
r=$(raw POST /xrpc/com.atproto.admin.updateSubjectStatus -H "$JSON" \
    -H "Authorization: Basic YWRtaW46d3Jvbmc=" -l 100000 -b 16 -w 3000)
check "a wrong admin password: refused before the body ($r)" \
    test "$(field "$r" status)" = 401
req POST $CREATE -H "$JSON" --data '{"repo":"x"}'
check_status "a small body without credentials: 401" 401

# 2. An unknown method: answered from the head, not read as a blob.
r=$(raw POST /xrpc/com.example.nothing.here -H "$JSON" -l 5000000 -b 16 \
    -w 3000)
check "unknown method with a body: MethodNotImplemented at once ($r)" \
    test "$(field "$r" status)" = 501 -a \
    "$(field "$r" error)" = MethodNotImplemented
check "... before the body" lt "$(field "$r" ms)" 1500
r=$(raw GET /xrpc/com.atproto.repo.createRecord -w 3000)
check "wrong HTTP method: 400 from the head ($r)" \
    test "$(field "$r" status)" = 400

# 3. 413 reaches a client that writes its whole body before reading.
r=$(raw POST $SESSION -H "$JSON" -l 5000000 -b 5000000 -w 10000)
check "5 MB JSON body: 413 PayloadTooLarge is read, no reset ($r)" \
    test "$(field "$r" status)" = 413 -a "$(field "$r" write)" = OK -a \
    "$(field "$r" error)" = PayloadTooLarge
r=$(raw POST $SESSION -H "$JSON" -C -b 5000000 -w 10000)
check "... and chunked ($r)" \
    test "$(field "$r" status)" = 413 -a "$(field "$r" write)" = OK
r=$(raw POST $SESSION -H "$JSON" -l 115343360 -b 115343360 -w 20000)
check "110 MB body with a Content-Length: 413 is read ($r)" \
    test "$(field "$r" status)" = 413 -a "$(field "$r" write)" = OK

# 4. The cap on bodies held in memory (1 MiB here): six 150 kB bodies in
# progress leave no room for a seventh; the allowance comes back.
PIDS=
for i in 1 2 3 4 5 6; do
	raw POST $SESSION -H "$JSON" -l 150000 -b 16 -w 3000 >/dev/null &
	PIDS="$PIDS $!"
done
sleep 0.5
r=$(raw POST $SESSION -H "$JSON" -l 150000 -b 16 -w 2000)
check "over the buffered-body cap: 503 at once ($r)" \
    test "$(field "$r" status)" = 503 -a \
    "$(field "$r" error)" = NotEnoughResources
check "... before the body" lt "$(field "$r" ms)" 1000
wait $PIDS
req POST $SESSION -H "$JSON" --data '{"identifier":"nobody.test","password":"x"}'
check_status "the allowance comes back when the requests end" 401

# 5. The head deadline (1.5 s here): a head sent one byte every 200 ms.
r=$(raw GET /xrpc/_health -d 200 -w 8000)
c=$(field "$r" closed_ms)
check "a dribbled head is cut off at the deadline ($r)" lt 1000 "$c"
check "... not much later" lt "$c" 4000

req GET /xrpc/_health
check_status "still healthy" 200
pds_stop
check "pdsd exits cleanly" test $? -eq 0
t_done
