#!/bin/sh
# test_accounts: accounts, sessions, app passwords, invites and handles
# against a real pdsd and a real PLC directory (scripts/plc-server.mjs
# under Node 22, which scripts/node.sh provides).  Bad input must get a
# clear 4xx and change nothing.
T_NAME=test_accounts
. "$(dirname "$0")/lib.sh"

ROOT=$(pwd)

plc_start
NODE=$("$ROOT/scripts/node.sh")

pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false"
if ! pds_start; then
	not_ok "pdsd starts"
	t_done
	exit 1
fi
SERVICE_DID=did:web:pds.example.com

# ---- helpers ----

# jstr KEY: a string value of the last reply body (pdsd writes compact JSON).
jstr() {
	sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T_DIR/body" | head -n 1
}
# post NSID JSON [curl args]
post() {
	_n=$1 _j=$2
	shift 2
	req POST "/xrpc/$_n" -H 'Content-Type: application/json' \
	    --data-binary "$_j" "$@"
}
get() {
	_n=$1
	shift
	req GET "/xrpc/$_n" "$@"
}
bearer() { printf 'Authorization: Bearer %s' "$1"; }
# check_err DESC STATUS NAME: the reply is that status and error name
check_err() {
	if [ "$STATUS" = "$2" ] && body_has "\"error\":\"$3\""; then
		ok "$1"
	else
		not_ok "$1" "status $STATUS, want $2 $3; body: $(head -c 300 "$T_DIR/body")"
	fi
}
# A JWT signed with the server's secret (or $3), header $1, payload $2.
forge() {
	"$NODE" -e '
const c = require("crypto");
const [sec, hdr, pl] = process.argv.slice(1);
const b = (s) => Buffer.from(s).toString("base64url");
const d = b(hdr) + "." + b(pl);
process.stdout.write(d + "." +
    c.createHmac("sha256", sec).update(d).digest("base64url"));
' "${3:-$JWT_SECRET}" "$1" "$2"
}
now() { date +%s; }
# resolves HANDLE: whether resolveHandle finds it
resolves() {
	get "com.atproto.identity.resolveHandle?handle=$1"
	[ "$STATUS" = 200 ]
}
not_resolves() { ! resolves "$1"; }
# claim TOKEN NAME: a claim of a JWT's payload
claim() {
	"$NODE" -e '
const p = JSON.parse(Buffer.from(process.argv[1].split(".")[1],
    "base64url").toString());
process.stdout.write(String(p[process.argv[2]] ?? ""));
' "$1" "$2"
}
account() {	# account HANDLE EMAIL PASSWORD -> sets DID ACCESS REFRESH
	post com.atproto.server.createAccount \
	    "{\"handle\":\"$1\",\"email\":\"$2\",\"password\":\"$3\"}"
	DID=$(jstr did)
	ACCESS=$(jstr accessJwt)
	REFRESH=$(jstr refreshJwt)
}

# ---- createAccount ----

account alice.test alice@example.com 'correct horse battery'
check_status "createAccount answers 200" 200
ALICE=$DID
A_ACCESS=$ACCESS
A_REFRESH=$REFRESH
check "createAccount returns a did:plc" \
    sh -c 'printf %s "$1" | grep -qE "^did:plc:[a-z2-7]{24}$"' _ "$ALICE"
check "createAccount returns both tokens" \
    test -n "$A_ACCESS" -a -n "$A_REFRESH"
check "createAccount returns the DID document naming this PDS" \
    body_has "\"serviceEndpoint\":\"http://pds.example.com:$PORT\""
check "the normalised handle comes back" test "$(jstr handle)" = alice.test

out=$(curl -s "$PLC_URL/$ALICE")
case $out in
*"at://alice.test"*"http://pds.example.com:$PORT"*) ok "the PLC directory has the new DID with handle and endpoint" ;;
*) not_ok "the PLC directory has the new DID with handle and endpoint" "$out" ;;
esac
check "resolveHandle finds the new account" resolves alice.test
check "resolveHandle answers the DID" test "$(jstr did)" = "$ALICE"
req GET /.well-known/atproto-did -H 'Host: alice.test'
check "/.well-known/atproto-did answers the DID for the handle's host" \
    test "$STATUS" = 200 -a "$(cat "$T_DIR/body")" = "$ALICE"

# ---- bad input: clear 4xx, nothing changed ----

post com.atproto.server.createAccount '{"handle":"bob.test","email":'
check_err "malformed JSON is 400 InvalidRequest" 400 InvalidRequest
check "... and creates nothing" not_resolves bob.test
head -c 160000 /dev/zero | tr '\0' 'a' >"$T_DIR/big"
req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' --data-binary @"$T_DIR/big"
check_status "an oversize body is 413" 413
post com.atproto.server.createAccount '["handle"]'
check_err "a JSON array body is 400" 400 InvalidRequest
req POST /xrpc/com.atproto.server.createAccount -H 'Content-Type: text/plain' \
    --data-binary '{"handle":"bob.test","email":"b@example.com","password":"x"}'
check_err "a wrong Content-Type is 400" 400 InvalidRequest
post com.atproto.server.createAccount \
    '{"handle":"bob_1.test","email":"bob@example.com","password":"pw"}'
# The reference refuses it in its lexicon check, before the handler.
check_err "an invalid handle is 400 InvalidRequest" 400 InvalidRequest
check "... naming the handle as the reference does" body_has \
    'Invalid handle (got \"bob_1.test\") at $.handle'
post com.atproto.server.createAccount \
    '{"handle":"admin.test","email":"bob@example.com","password":"pw"}'
check_err "a reserved handle is 400 HandleNotAvailable" 400 HandleNotAvailable
check "... and creates nothing" not_resolves admin.test
post com.atproto.server.createAccount \
    '{"handle":"ab.test","email":"bob@example.com","password":"pw"}'
check_err "a too short handle is 400 InvalidHandle" 400 InvalidHandle
post com.atproto.server.createAccount \
    '{"handle":"bob.sub.test","email":"bob@example.com","password":"pw"}'
check_err "a dotted label under the domain is 400 InvalidHandle" 400 InvalidHandle
post com.atproto.server.createAccount \
    '{"handle":"bob.example.com","email":"bob@example.com","password":"pw"}'
check_err "a handle outside our domains is 400 UnsupportedDomain" 400 \
    UnsupportedDomain
post com.atproto.server.createAccount \
    '{"handle":"ALICE.Test","email":"other@example.com","password":"pw"}'
check_err "a duplicate handle (other case) is 400 HandleNotAvailable" 400 \
    HandleNotAvailable
post com.atproto.server.createAccount \
    '{"handle":"alice2.test","email":"Alice@Example.com","password":"pw"}'
check_err "a duplicate email (other case) is 400" 400 InvalidRequest
check "... and names the email" body_has "Email already taken"
check "... and creates nothing" not_resolves alice2.test
post com.atproto.server.createAccount \
    '{"handle":"bob.test","email":"not-an-email","password":"pw"}'
# The reference's name and words for it (InvalidRequest, not InvalidEmail).
check_err "an invalid email is 400 InvalidRequest" 400 InvalidRequest
check "... in the reference's words" body_has \
    "This email address is not supported, please use a different email."
post com.atproto.server.createAccount '{"handle":"bob.test","email":"b@example.com"}'
check_err "a missing password is 400 InvalidPassword" 400 InvalidPassword
long=$(head -c 257 /dev/zero | tr '\0' 'p')
post com.atproto.server.createAccount \
    "{\"handle\":\"bob.test\",\"email\":\"b@example.com\",\"password\":\"$long\"}"
check_err "a 257-character password is 400 InvalidPassword" 400 InvalidPassword
post com.atproto.server.createAccount \
    '{"handle":17,"email":"b@example.com","password":"pw"}'
check_err "a non-string handle is 400" 400 InvalidRequest
check "none of the refused requests created bob.test" not_resolves bob.test

# ---- sessions ----

post com.atproto.server.createSession \
    '{"identifier":"alice.test","password":"wrong"}'
check_err "a wrong password is 401 AuthenticationRequired" 401 \
    AuthenticationRequired
check "... with WWW-Authenticate" header_has '^WWW-Authenticate:'
post com.atproto.server.createSession \
    '{"identifier":"nobody.test","password":"wrong"}'
check_err "an unknown identifier is 401 too" 401 AuthenticationRequired
post com.atproto.server.createSession '{"identifier":"alice.test"}'
check_err "a login without password is 400" 400 InvalidRequest

t0=$(date +%s%N)
post com.atproto.server.createSession \
    '{"identifier":"alice.test","password":"correct horse battery"}'
t1=$(date +%s%N)
check_status "login with the handle" 200
echo "# login round trip: $(( (t1 - t0) / 1000000 )) ms"
check "the login names the account, active, email unconfirmed" \
    sh -c 'grep -qF "\"did\":\"$1\"" "$2" && grep -qF "\"active\":true" "$2" &&
    grep -qF "\"emailConfirmed\":false" "$2"' _ "$ALICE" "$T_DIR/body"
ACCESS=$(jstr accessJwt)
REFRESH=$(jstr refreshJwt)
post com.atproto.server.createSession \
    '{"identifier":"ALICE@example.com","password":"correct horse battery"}'
check_status "login with the email (any case)" 200
post com.atproto.server.createSession \
    "{\"identifier\":\"$ALICE\",\"password\":\"correct horse battery\"}"
check_status "login with the DID" 200

get com.atproto.server.getSession -H "$(bearer "$ACCESS")"
check_status "getSession with the access token" 200
check "getSession names the handle" test "$(jstr handle)" = alice.test
get com.atproto.server.getSession
check_err "getSession without a token is 401 AuthMissing" 401 AuthMissing
get com.atproto.server.getSession -H "$(bearer "$REFRESH")"
check_err "a refresh token used as access token is 400 InvalidToken" 400 \
    InvalidToken
post com.atproto.server.refreshSession '' -H "$(bearer "$ACCESS")"
check_err "an access token used as refresh token is 400 InvalidToken" 400 \
    InvalidToken
tampered=$(printf %s "$ACCESS" | sed 's/.$//')A
[ "$tampered" = "$ACCESS" ] && tampered=$(printf %s "$ACCESS" | sed 's/.$//')B
get com.atproto.server.getSession -H "$(bearer "$tampered")"
check_err "a tampered signature is 400 InvalidToken" 400 InvalidToken
t=$(now)
HDR='{"typ":"at+jwt","alg":"HS256"}'
tok=$(forge "$HDR" "{\"scope\":\"com.atproto.access\",\"aud\":\"$SERVICE_DID\",\"sub\":\"$ALICE\",\"iat\":$((t - 8000)),\"exp\":$((t - 800))}")
get com.atproto.server.getSession -H "$(bearer "$tok")"
check_err "an expired access token is 400 ExpiredToken" 400 ExpiredToken
tok=$(forge "$HDR" "{\"scope\":\"com.atproto.access\",\"aud\":\"$SERVICE_DID\",\"sub\":\"$ALICE\",\"iat\":$t,\"exp\":$((t + 600))}")
get com.atproto.server.getSession -H "$(bearer "$tok")"
check_status "a token made with the server's secret is accepted (the forge works)" 200
tok=$(forge "$HDR" "{\"scope\":\"com.atproto.access\",\"aud\":\"$SERVICE_DID\",\"sub\":\"$ALICE\",\"iat\":$t,\"exp\":$((t + 600))}" other-secret)
get com.atproto.server.getSession -H "$(bearer "$tok")"
check_err "a token signed with another secret is 400 InvalidToken" 400 InvalidToken
tok=$(forge "$HDR" "{\"scope\":\"com.atproto.access\",\"aud\":\"did:web:elsewhere.example\",\"sub\":\"$ALICE\",\"iat\":$t,\"exp\":$((t + 600))}")
get com.atproto.server.getSession -H "$(bearer "$tok")"
check_err "a token for another audience is 400 InvalidToken" 400 InvalidToken
tok=$(forge "$HDR" "{\"scope\":\"com.atproto.access\",\"aud\":\"$SERVICE_DID\",\"sub\":\"$ALICE\",\"lxm\":\"com.atproto.server.getSession\",\"iat\":$t,\"exp\":$((t + 600))}")
get com.atproto.server.getSession -H "$(bearer "$tok")"
check_err "an access token with lxm is 400 InvalidToken" 400 InvalidToken
tok=$(printf '%s' '{"alg":"none","typ":"at+jwt"}' | base64 | tr '+/' '-_' | tr -d '=\n').$(printf %s "{\"sub\":\"$ALICE\",\"exp\":$((t + 600))}" | base64 | tr '+/' '-_' | tr -d '=\n').
get com.atproto.server.getSession -H "$(bearer "$tok")"
check_err "an alg=none token is 400 InvalidToken" 400 InvalidToken
tok=$(forge '{"typ":"refresh+jwt","alg":"HS256"}' "{\"scope\":\"com.atproto.refresh\",\"aud\":\"$SERVICE_DID\",\"sub\":\"$ALICE\",\"jti\":\"x\",\"iat\":$((t - 9000)),\"exp\":$((t - 100))}")
post com.atproto.server.refreshSession '' -H "$(bearer "$tok")"
check_err "an expired refresh token is 400 ExpiredToken" 400 ExpiredToken
tok=$(forge '{"typ":"refresh+jwt","alg":"HS256"}' "{\"scope\":\"com.atproto.refresh\",\"aud\":\"$SERVICE_DID\",\"sub\":\"$ALICE\",\"jti\":\"never-issued\",\"iat\":$t,\"exp\":$((t + 600))}")
post com.atproto.server.refreshSession '' -H "$(bearer "$tok")"
check_err "a refresh token that was never issued is refused" 400 ExpiredToken
get com.atproto.server.getSession -H "Authorization: Basic YWRtaW46eA=="
check_err "Basic credentials on a user route are 401" 401 AuthenticationRequired

# refresh rotation, grace window, logout
post com.atproto.server.refreshSession '' -H "$(bearer "$REFRESH")"
check_status "refreshSession with the refresh token" 200
R2=$(jstr refreshJwt)
A2=$(jstr accessJwt)
check "refreshSession returns a new refresh token" test -n "$R2" -a "$R2" != "$REFRESH"
get com.atproto.server.getSession -H "$(bearer "$A2")"
check_status "the new access token works" 200
post com.atproto.server.refreshSession '' -H "$(bearer "$REFRESH")"
check_status "the used refresh token still works within the grace window" 200
check "... and gives the same next token id" \
    test "$(claim "$R2" jti)" = "$(claim "$(jstr refreshJwt)" jti)"
# two refreshes of one token at once: both succeed, with the same next token
post com.atproto.server.createSession \
    '{"identifier":"alice.test","password":"correct horse battery"}'
R3=$(jstr refreshJwt)
pids=
for n in 1 2 3; do
	curl -s -o "$T_DIR/par$n" -w '%{http_code}' -X POST \
	    -H "$(bearer "$R3")" "$URL/xrpc/com.atproto.server.refreshSession" \
	    >"$T_DIR/par$n.status" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
jtis=$(for n in 1 2 3; do
	t=$(sed -n 's/.*"refreshJwt":"\([^"]*\)".*/\1/p' "$T_DIR/par$n")
	claim "$t" jti </dev/null
	echo
done | sort -u | grep -c .)
check "three concurrent refreshes of one token all succeed" \
    test "$(cat "$T_DIR/par1.status" "$T_DIR/par2.status" "$T_DIR/par3.status")" = 200200200
check "... and hand out one and the same next token" test "$jtis" -eq 1
post com.atproto.server.deleteSession '' -H "$(bearer "$A2")"
check_err "deleteSession with an access token is 400 InvalidToken" 400 InvalidToken
post com.atproto.server.deleteSession '' -H "$(bearer "$R2")"
check_status "deleteSession with the refresh token" 200
post com.atproto.server.refreshSession '' -H "$(bearer "$R2")"
check_err "a logged-out refresh token is refused" 400 ExpiredToken
post com.atproto.server.refreshSession '' -H "$(bearer "$REFRESH")"
check_err "so is the token it was rotated from" 400 ExpiredToken

# ---- app passwords ----

post com.atproto.server.createAppPassword '{"name":"phone"}' \
    -H "$(bearer "$A_ACCESS")"
check_status "createAppPassword" 200
APP_PW=$(jstr password)
check "the app password looks like xxxx-xxxx-xxxx-xxxx" \
    sh -c 'printf %s "$1" | grep -qE "^[a-z2-7]{4}(-[a-z2-7]{4}){3}$"' _ "$APP_PW"
post com.atproto.server.createAppPassword '{"name":"phone"}' \
    -H "$(bearer "$A_ACCESS")"
check_err "a second app password of the same name is 400" 400 InvalidRequest
post com.atproto.server.createSession \
    "{\"identifier\":\"alice.test\",\"password\":\"$APP_PW\"}"
check_status "login with the app password" 200
APP_ACCESS=$(jstr accessJwt)
APP_REFRESH=$(jstr refreshJwt)
check "the app-password token has the appPass scope" \
    test "$(claim "$APP_ACCESS" scope)" = com.atproto.appPass
get com.atproto.server.getSession -H "$(bearer "$APP_ACCESS")"
check_status "an app-password session can getSession" 200
post com.atproto.server.createAppPassword '{"name":"evil"}' \
    -H "$(bearer "$APP_ACCESS")"
check_err "an app-password session cannot create app passwords" 400 InvalidToken
get com.atproto.server.listAppPasswords -H "$(bearer "$APP_ACCESS")"
check "listAppPasswords shows the name, not the password" sh -c '
	grep -qF "\"name\":\"phone\"" "$1" && ! grep -qF "$2" "$1"' _ \
    "$T_DIR/body" "$APP_PW"
post com.atproto.server.revokeAppPassword '{"name":"phone"}' \
    -H "$(bearer "$A_ACCESS")"
check_status "revokeAppPassword" 200
post com.atproto.server.createSession \
    "{\"identifier\":\"alice.test\",\"password\":\"$APP_PW\"}"
check_err "a revoked app password no longer logs in" 401 AuthenticationRequired
post com.atproto.server.refreshSession '' -H "$(bearer "$APP_REFRESH")"
check_err "its sessions cannot be refreshed" 400 ExpiredToken

# ---- handles ----

get com.atproto.identity.getRecommendedDidCredentials -H "$(bearer "$A_ACCESS")"
check_status "getRecommendedDidCredentials" 200
check "... names our endpoint and the handle" sh -c '
	grep -qF "\"endpoint\":\"http://pds.example.com:$2\"" "$1" &&
	grep -qF "at://alice.test" "$1" && grep -qF "\"rotationKeys\":[\"did:key:z" "$1"' _ \
    "$T_DIR/body" "$PORT"

account bobby.test bobby@example.com 'bobby password'
check_status "a second account" 200
BOB=$DID
B_ACCESS=$ACCESS
post com.atproto.identity.updateHandle '{"handle":"alice.test"}' \
    -H "$(bearer "$B_ACCESS")"
check_err "updateHandle to a taken handle is 400 HandleNotAvailable" 400 \
    HandleNotAvailable
post com.atproto.identity.updateHandle '{"handle":"no_pe.test"}' \
    -H "$(bearer "$B_ACCESS")"
check_err "updateHandle to an invalid handle is 400 InvalidRequest" 400 \
    InvalidRequest
post com.atproto.identity.updateHandle '{"handle":"robert.test"}' \
    -H "$(bearer "$B_ACCESS")"
check_status "updateHandle to a free handle" 200
check "resolveHandle finds the new handle" resolves robert.test
check "... for the same DID" test "$(jstr did)" = "$BOB"
check "the old handle no longer resolves" not_resolves bobby.test
get "com.atproto.identity.resolveHandle?handle=bobby.test"
check_err "... with 400 HandleNotFound" 400 HandleNotFound
out=$(curl -s "$PLC_URL/$BOB")
case $out in
*'"at://robert.test"'*) ok "the PLC document has the new handle" ;;
*) not_ok "the PLC document has the new handle" "$out" ;;
esac
req GET /.well-known/atproto-did -H 'Host: robert.test'
check "/.well-known/atproto-did follows the new handle" \
    test "$(cat "$T_DIR/body")" = "$BOB"

# ---- login limits ----

i=0
while [ $i -lt 10 ]; do
	post com.atproto.server.createSession \
	    '{"identifier":"robert.test","password":"guess"}'
	i=$((i + 1))
done
check_err "ten wrong passwords are each refused with 401" 401 \
    AuthenticationRequired
post com.atproto.server.createSession \
    '{"identifier":"robert.test","password":"guess"}'
check_err "the eleventh attempt is 429 RateLimitExceeded" 429 RateLimitExceeded
post com.atproto.server.createSession \
    '{"identifier":"robert.test","password":"bobby password"}'
check_err "... even with the right password" 429 RateLimitExceeded
post com.atproto.server.createSession \
    '{"identifier":"bobby@example.com","password":"bobby password"}'
check_err "... and so is the same account by its email" 429 RateLimitExceeded
post com.atproto.server.createSession \
    "{\"identifier\":\"$BOB\",\"password\":\"bobby password\"}"
check_err "... or by its DID" 429 RateLimitExceeded
post com.atproto.server.createSession \
    '{"identifier":"alice.test","password":"correct horse battery"}'
check_status "another account still logs in" 200
post com.atproto.server.createSession \
    '{"identifier":"robert.test","password":"bobby password"}' \
    -H 'X-Forwarded-For: 198.51.100.7, 203.0.113.9'
check_status "the locked account still logs in from another client (behind a local proxy)" 200
# from a client address of its own, past the local proxy
i=0
while [ $i -lt 70 ]; do
	post com.atproto.server.createSession \
	    '{"identifier":"alice.test","password":"correct horse battery"}' \
	    -H 'X-Forwarded-For: 198.51.100.99'
	[ "$STATUS" = 200 ] || break
	i=$((i + 1))
done
check "successful logins do not count against the per-account limits ($i)" \
    test $i -ge 12
check "... but do against the address's 50, then one per 2 s ($i, $STATUS)" \
    test $i -ge 50 -a $i -lt 60 -a "$STATUS" = 429

# ---- invites ----

post com.atproto.server.createInviteCode '{"useCount":1}'
# AuthenticationRequired, as the reference names it on admin routes
check_err "createInviteCode without admin credentials is 401" 401 \
    AuthenticationRequired
pds_stop
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=true"
if ! pds_start; then
	not_ok "pdsd restarts with invites required"
	t_done
	exit 1
fi
post com.atproto.server.createAccount \
    '{"handle":"carol.test","email":"carol@example.com","password":"pw carol"}'
check_err "with invites required, no code is 400 InvalidInviteCode" 400 \
    InvalidInviteCode
post com.atproto.server.createAccount \
    '{"handle":"carol.test","email":"carol@example.com","password":"pw carol","inviteCode":"nope"}'
check_err "an unknown code is 400 InvalidInviteCode" 400 InvalidInviteCode
post com.atproto.server.createInviteCode '{"useCount":1}' \
    -u "admin:$ADMIN_PASSWORD"
check_status "createInviteCode with admin credentials" 200
CODE=$(jstr code)
check "the code looks like host-xxxxx-xxxxx" sh -c '
	printf %s "$1" | grep -qE "^pds-example-com-[a-z2-7]{5}-[a-z2-7]{5}$"' _ "$CODE"
post com.atproto.server.createAccount \
    "{\"handle\":\"carol.test\",\"email\":\"carol@example.com\",\"password\":\"pw carol\",\"inviteCode\":\"$CODE\"}"
check_status "createAccount with the code" 200
CAROL_ACCESS=$(jstr accessJwt)
post com.atproto.server.createAccount \
    "{\"handle\":\"dave.test\",\"email\":\"dave@example.com\",\"password\":\"pw dave\",\"inviteCode\":\"$CODE\"}"
check_err "a used-up code is 400 InvalidInviteCode" 400 InvalidInviteCode
check "... and creates nothing" not_resolves dave.test
post com.atproto.server.createInviteCodes \
    "{\"useCount\":2,\"codeCount\":3,\"forAccounts\":[\"$ALICE\"]}" \
    -u "admin:$ADMIN_PASSWORD"
check_status "createInviteCodes for an account" 200
check "... makes three codes" test "$(grep -o 'pds-example-com-' "$T_DIR/body" | wc -l)" -eq 3
get com.atproto.server.getAccountInviteCodes -H "$(bearer "$A_ACCESS")"
check_status "getAccountInviteCodes" 200
check "... lists the account's three codes with their uses" sh -c '
	[ "$(grep -o "\"forAccount\":\"$2\"" "$1" | wc -l)" -eq 3 ] &&
	grep -qF "\"available\":2" "$1" && grep -qF "\"uses\":[]" "$1"' _ \
    "$T_DIR/body" "$ALICE"
get com.atproto.server.getAccountInviteCodes -H "$(bearer "$CAROL_ACCESS")"
check "an account without codes gets an empty list" body_has '{"codes":[]}'
post com.atproto.server.createInviteCode '{"useCount":0}' \
    -u "admin:$ADMIN_PASSWORD"
check_err "a useCount of 0 is 400" 400 InvalidRequest

# tokens survive the restart (they are stateless and the rows are stored)
get com.atproto.server.getSession -H "$(bearer "$A_ACCESS")"
check_status "an access token from before the restart still works" 200

check "pdsd logged no secret" sh -c '! grep -qF "correct horse" "$1" &&
    ! grep -qF "$2" "$1"' _ "$T_DIR/pdsd.log" "$A_REFRESH"
pds_stop
check "pdsd stops cleanly" test $? -eq 0
t_done
