#!/bin/sh
# test_sessions: an operator lists how an account is signed in and ends
# it, with pdsctl against a real pdsd and a real PLC directory.  Alice
# gets password sessions, an app password with a session of its own, and
# an OAuth grant through the real flow: POST /oauth/par, the sign-in and
# consent forms with curl and a cookie jar, then the token endpoint with
# a DPoP proof (made with Node's crypto, one key per client, as the
# client would).  Then each kind is revoked and the credential checked
# dead: the refresh token is refused, the app password no longer logs
# in, the grant no longer refreshes nor shows on /account.  The audit log
# has each action with its reason; a read-only socket user is refused
# (as root); and a takedown ends a fresh OAuth grant, its consent and
# the browser's sign-in.
T_NAME=test_sessions
. "$(dirname "$0")/lib.sh"

ROOT=$(pwd)
PDSCTL=${PDSCTL:-$B/bin/pdsctl}
case $PDSCTL in /*) ;; *) PDSCTL=$ROOT/$PDSCTL ;; esac
SOCK=$T_DIR/pdsd.sock
OUT=$T_DIR/out
ERR=$T_DIR/err
RO_MADE_USER=
RO_MADE_GROUP=
sess_cleanup() {
	[ -n "$RO_MADE_USER" ] && userdel "$RO_MADE_USER" 2>/dev/null
	[ -n "$RO_MADE_GROUP" ] && groupdel "$RO_MADE_GROUP" 2>/dev/null
	t_cleanup
}
trap sess_cleanup EXIT

if [ ! -x "$PDSCTL" ] || ! command -v sqlite3 >/dev/null 2>&1; then
	not_ok "needs $PDSCTL and sqlite3"
	t_done
	exit 1
fi
plc_start
NODE=$("$ROOT/scripts/node.sh")

# A socket reader who may not act, when we can make one (root).
# The names are this run's own, so that two runs at once never delete
# each other's group.
RO_USER= G=pdss_g$$ U=pdss_r$$
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    command -v useradd >/dev/null 2>&1; then
	if ! getent group $G >/dev/null 2>&1; then
		groupadd $G && RO_MADE_GROUP=$G
	fi
	if ! getent passwd $U >/dev/null 2>&1; then
		useradd -M -N -d /nonexistent -s /usr/sbin/nologin -g $G $U &&
		    RO_MADE_USER=$U
	fi
	getent passwd $U >/dev/null 2>&1 && RO_USER=$U
fi

pds_env "PDS_ADMIN_SOCKET=$SOCK" "PDS_DID_PLC_URL=$PLC_URL" \
    "PDS_SERVICE_HANDLE_DOMAINS=.test" "PDS_INVITE_REQUIRED=false" \
    ${RO_USER:+"PDS_ADMIN_SOCKET_GROUP=$G"}
if ! pds_start; then
	not_ok "pdsd starts"
	t_done
	exit 1
fi
ISS=http://pds.example.com:$PORT
DB=$T_DIR/data/pds.sqlite

# ---- helpers ----

expect() {	# expect DESC WANT_RC [stdout ERE]
	if [ "$RC" != "$2" ]; then
		not_ok "$1" "exit $RC, want $2; stdout: $(head -c 300 "$OUT"); stderr: $(head -c 300 "$ERR")"
	elif [ -n "${3:-}" ] && ! grep -qE -- "$3" "$OUT"; then
		not_ok "$1" "stdout lacks /$3/: $(head -c 400 "$OUT")"
	else
		ok "$1"
	fi
}
expect_err() {	# expect_err DESC WANT_RC STDERR_ERE
	if [ "$RC" = "$2" ] && grep -qE -- "$3" "$ERR"; then ok "$1"
	else not_ok "$1" "exit $RC, want $2; stderr: $(head -c 300 "$ERR")"
	fi
}
jstr() {
	sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T_DIR/body" | head -n 1
}
post() {
	_n=$1 _j=$2
	shift 2
	req POST "/xrpc/$_n" -H 'Content-Type: application/json' \
	    --data-binary "$_j" "$@"
}
urlenc() {
	"$NODE" -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1"
}
location() {
	tr -d '\r' <"$T_DIR/headers" | sed -n 's/^[Ll]ocation: //p'
}
jar_csrf() {
	awk '$6 == "csrf-token" { print $7 }' "$1" | tail -n 1
}
form() {	# form JAR PATH field=value...
	_jar=$1 _path=$2
	shift 2
	_n=$#
	for _f in "$@"; do
		set -- "$@" --data-urlencode "$_f"
	done
	shift "$_n"
	req POST "$_path" -b "$_jar" -c "$_jar" \
	    --data-urlencode "csrf_token=$(jar_csrf "$_jar")" "$@"
}
sql() { sqlite3 "$DB" "$1"; }

# proof KEYFILE HTU [NONCE]: an ES256 DPoP proof by the key in KEYFILE
# (made on first use).
proof() {
	"$NODE" -e '
const c = require("crypto"), fs = require("fs");
const [file, htu, nonce] = process.argv.slice(1);
let privateKey;
if (fs.existsSync(file))
	privateKey = c.createPrivateKey({ key: JSON.parse(fs.readFileSync(file)),
	    format: "jwk" });
else {
	privateKey = c.generateKeyPairSync("ec", { namedCurve: "P-256" })
	    .privateKey;
	fs.writeFileSync(file, JSON.stringify(privateKey.export({ format: "jwk" })));
}
const j = c.createPublicKey(privateKey).export({ format: "jwk" });
const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const claims = { jti: c.randomUUID(), htm: "POST", htu,
    iat: Math.floor(Date.now() / 1000) };
if (nonce) claims.nonce = nonce;
const input = b({ typ: "dpop+jwt", alg: "ES256",
    jwk: { kty: j.kty, crv: j.crv, x: j.x, y: j.y } }) + "." + b(claims);
const sig = c.sign("sha256", Buffer.from(input),
    { key: privateKey, dsaEncoding: "ieee-p1363" });
process.stdout.write(input + "." + sig.toString("base64url"));
' "$@"
}
NONCE=
# token KEYFILE field=value...: POST /oauth/token with a proof, retrying
# once with the nonce the server asks for.
token() {
	_key=$1
	shift
	_n=$#
	for _f in "$@"; do
		set -- "$@" --data-urlencode "$_f"
	done
	shift "$_n"
	req POST /oauth/token --data-urlencode "client_id=$CLIENT" "$@" \
	    -H "DPoP: $(proof "$_key" "$ISS/oauth/token" "$NONCE")"
	if grep -q '"use_dpop_nonce"' "$T_DIR/body"; then
		NONCE=$(tr -d '\r' <"$T_DIR/headers" | sed -n 's/^[Dd][Pp][Oo][Pp]-[Nn]once: //p')
		req POST /oauth/token --data-urlencode "client_id=$CLIENT" "$@" \
		    -H "DPoP: $(proof "$_key" "$ISS/oauth/token" "$NONCE")"
	fi
}

CLIENT='http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&scope=atproto%20transition%3Ageneric'
CLIENT_ENC=$(urlenc "$CLIENT")
SCOPE='atproto transition:generic'

# grant JAR KEYFILE IDENT PASSWORD: the whole authorization of one app;
# the token response in $T_DIR/body.
grant() {
	_jar=$1 _key=$2
	# PKCE: a challenge is good for one authorization only
	_pkce=$("$NODE" -e '
const c = require("crypto"), v = c.randomBytes(32).toString("base64url");
process.stdout.write(v + " " + c.createHash("sha256").update(v).digest("base64url"));
')
	VERIFIER=${_pkce% *} CHALLENGE=${_pkce#* }
	req POST /oauth/par --data-urlencode "client_id=$CLIENT" \
	    --data-urlencode response_type=code \
	    --data-urlencode redirect_uri=http://127.0.0.1/cb \
	    --data-urlencode "scope=$SCOPE" --data-urlencode state=s \
	    --data-urlencode "code_challenge=$CHALLENGE" \
	    --data-urlencode code_challenge_method=S256
	_r=$(jstr request_uri)
	req GET "/oauth/authorize?client_id=$CLIENT_ENC&request_uri=$(urlenc "$_r")" \
	    -b "$_jar" -c "$_jar"
	if grep -q 'name="password"' "$T_DIR/body"; then
		form "$_jar" /oauth/authorize/sign-in "request_uri=$_r" \
		    "identifier=$3" "password=$4" remember=1
	fi
	form "$_jar" /oauth/authorize/consent "request_uri=$_r" decision=allow
	_code=$(location)
	_code=${_code##*code=}
	token "$_key" grant_type=authorization_code "code=$_code" \
	    "code_verifier=$VERIFIER" redirect_uri=http://127.0.0.1/cb
}

# ---- alice signs in every way ----

post com.atproto.server.createAccount \
    '{"handle":"alice.test","email":"alice@example.com","password":"alice-pw-1"}'
check_status "alice's account is created" 200
ALICE=$(jstr did)
ACCESS=$(jstr accessJwt)
REFRESH1=$(jstr refreshJwt)
post com.atproto.server.createSession \
    '{"identifier":"alice.test","password":"alice-pw-1"}'
check_status "alice signs in a second time" 200
REFRESH2=$(jstr refreshJwt)
post com.atproto.server.createAppPassword '{"name":"phone"}' \
    -H "Authorization: Bearer $ACCESS"
check_status "alice makes an app password" 200
APPPW=$(jstr password)
post com.atproto.server.createSession \
    "{\"identifier\":\"alice.test\",\"password\":\"$APPPW\"}"
check_status "... and signs in with it" 200
REFRESH3=$(jstr refreshJwt)

J1=$T_DIR/jar1 K1=$T_DIR/key1
grant "$J1" "$K1" alice.test alice-pw-1
check_status "an app gets an OAuth grant through PAR, sign-in, consent and the token endpoint" 200
OAUTH_REFRESH=$(jstr refresh_token)
check "... with a refresh token" test -n "$OAUTH_REFRESH"

# ---- a restart keeps every grant ----

pds_stop
pds_start
token "$K1" grant_type=refresh_token "refresh_token=$OAUTH_REFRESH"
check_status "after a restart the grant still refreshes" 200
OAUTH_REFRESH=$(jstr refresh_token)
check "... rotating its refresh token" test -n "$OAUTH_REFRESH"

# ---- account sessions ----

ctl account sessions alice.test
expect "account sessions: exit 0 and the account" 0 "^alice.test \($ALICE\)"
check "... three password sessions" grep -q "^password sessions: 3" "$OUT"
check "... one of them made with the app password" grep -qE "^  [A-Za-z0-9_-]{43} +[0-9T:.Z-]+ +[0-9T:.Z-]+ +phone$" "$OUT"
check "... the app password, not privileged" grep -qE "^  phone +no +20" "$OUT"
check "... the OAuth grant, with its scope and client" grep -qE "^  [0-9]+ +20[^ ]+ +20[^ ]+ +atproto transition:generic +http://localhost" "$OUT"
check "... on a browser" grep -qE "^ +device dev-[0-9a-f]{32}, " "$OUT"
ctl account sessions "$ALICE" --json
expect "account sessions --json by DID" 0
check "... {did, handle, sessions, appPasswords, oauthGrants}" test \
    "$(jget '$.did')|$(jget '$.handle')|$(jget '$.sessions' | grep -o '"id"' | wc -l)|$(jget '$.appPasswords[0].name')|$(jget '$.appPasswords[0].privileged')|$(jget '$.oauthGrants[0].clientId')" = \
    "$ALICE|alice.test|3|phone|0|$CLIENT"
check "... a session's issuedAt, expiresAt and appPassword" \
    test -n "$(jget '$.sessions[0].issuedAt')" -a -n "$(jget '$.sessions[0].expiresAt')"
check "... the grant's scope, createdAt, updatedAt and device" test \
    "$(jget '$.oauthGrants[0].scope')" = "$SCOPE" -a -n "$(jget '$.oauthGrants[0].createdAt')" \
    -a -n "$(jget '$.oauthGrants[0].updatedAt')" -a -n "$(jget '$.oauthGrants[0].device.id')"
GRANT=$(jget '$.oauthGrants[0].id')
APPSESS=$(sqlite3 :memory: "SELECT json_extract(value, '\$.id') FROM json_each(json_extract(readfile('$OUT'), '\$.sessions')) WHERE json_extract(value, '\$.appPassword') = 'phone';")
SESS=$(sqlite3 :memory: "SELECT json_extract(value, '\$.id') FROM json_each(json_extract(readfile('$OUT'), '\$.sessions')) WHERE json_extract(value, '\$.appPassword') IS NULL LIMIT 1;")
check "... the ids to revoke" test -n "$GRANT" -a -n "$APPSESS" -a -n "$SESS"
ctl account sessions nobody.test
expect_err "account sessions of an unknown account is exit 3" 3 "NoSuchAccount"

# ---- usage ----

"$PDSCTL" help >"$OUT" 2>&1
check "pdsctl help lists account sessions" grep -q "^  pdsctl account sessions ACCOUNT$" "$OUT"
check "... and account revoke-session" grep -q "^  pdsctl account revoke-session ACCOUNT .*--reason VALUE$" "$OUT"

ctl account revoke-session alice.test --reason x
expect_err "revoke-session without a kind is exit 64" 64 "give one of --session, --app-password, --oauth and --all"
ctl account revoke-session alice.test --session a --oauth 1 --reason x
expect_err "... nor with two" 64 "give one of"
ctl account revoke-session alice.test --all
expect_err "... nor without a reason" 64 "missing option --reason"
ctl account revoke-session alice.test --session nope --reason "test"
expect_err "an unknown session is exit 3" 3 "NoSuchToken"
ctl account revoke-session alice.test --oauth 99999 --reason "test"
expect_err "an unknown grant is exit 3" 3 "NoSuchToken"
ctl account revoke-session alice.test --app-password tablet --reason "test"
expect_err "an unknown app password is exit 3" 3 "NoSuchToken"

if [ -n "$RO_USER" ]; then
	chmod 0711 "$T_DIR"
	mkdir -m 0755 "$T_DIR/bin"
	cp "$PDSCTL" "$T_DIR/bin/pdsctl" && chmod 0755 "$T_DIR/bin/pdsctl"
	ro() {
		setpriv --reuid "$RO_USER" --regid "$G" --init-groups \
		    "$T_DIR/bin/pdsctl" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR" </dev/null
		RC=$?
	}
	ro account sessions alice.test
	expect "read-only: may list the sessions" 0 "^password sessions: 3"
	ro account revoke-session alice.test --all --reason "not mine to do"
	expect_err "read-only: may not revoke (exit 77)" 77 "PermissionDenied"
	ctl account sessions alice.test --json
	check "... and nothing was revoked" test "$(jget '$.sessions' | grep -o '"id"' | wc -l)" = 3
else
	echo "# read-only cases skipped: need root, setpriv and useradd"
fi

# ---- revoking each kind ----

ctl account revoke-session alice.test --session "$SESS" --reason "lost laptop"
expect "revoke a password session" 0 "^ended for $ALICE: 1 session, 0 app passwords, 0 OAuth grants"
post com.atproto.server.refreshSession '' -H "Authorization: Bearer $REFRESH1"
S1=$STATUS
post com.atproto.server.refreshSession '' -H "Authorization: Bearer $REFRESH2"
S2=$STATUS
check "... one of the two password sessions no longer refreshes ($S1, $S2)" \
    sh -c '{ [ "$1" = 400 ] && [ "$2" = 200 ]; } || { [ "$1" = 200 ] && [ "$2" = 400 ]; }' _ "$S1" "$S2"

ctl account revoke-session alice.test --app-password phone --reason "phone stolen" --json
expect "revoke an app password (--json)" 0
check "... {did, revoked: {sessions, appPasswords, oauthGrants}}" test \
    "$(jget '$.did')|$(jget '$.revoked.appPasswords')|$(jget '$.revoked.sessions')" = "$ALICE|1|0"
post com.atproto.server.createSession \
    "{\"identifier\":\"alice.test\",\"password\":\"$APPPW\"}"
check_status "... the app password no longer logs in" 401
post com.atproto.server.refreshSession '' -H "Authorization: Bearer $REFRESH3"
check_status "... and its session no longer refreshes" 400

req GET /account -b "$J1" -c "$J1"
check "/account lists the grant before" body_has "name=\"grant_id\" value=\"$GRANT\""
ctl account revoke-session alice.test --oauth "$GRANT" --reason "app misbehaves"
expect "revoke an OAuth grant" 0 "0 sessions, 0 app passwords, 1 OAuth grant$"
req GET /account -b "$J1" -c "$J1"
check "... gone from /account" sh -c '! grep -q "name=\"grant_id\" value=\"$1\"" "$2"' _ "$GRANT" "$T_DIR/body"
token "$K1" grant_type=refresh_token "refresh_token=$OAUTH_REFRESH"
check_status "... its refresh token is refused" 400
check "... invalid_grant" body_has '"error":"invalid_grant"'
check "... the consent forgotten with the client's last grant" \
    test "$(sql "SELECT count(*) FROM oauth_authorized_clients WHERE did = '$ALICE'")" = 0

ctl account sessions alice.test --json
check "one password session left, no app password, no grant" test \
    "$(jget '$.sessions' | grep -o '"id"' | wc -l)|$(jget '$.appPasswords')|$(jget '$.oauthGrants')" = "1|[]|[]"

# ---- all at once ----

post com.atproto.server.createAppPassword '{"name":"tablet"}' \
    -H "Authorization: Bearer $ACCESS"
grant "$J1" "$K1" alice.test alice-pw-1
check_status "a new grant (the browser still signed in)" 200
ctl account revoke-session alice.test --all --reason "account compromised"
expect "revoke --all" 0 "^ended for $ALICE: 1 session, 1 app password, 1 OAuth grant$"
ctl account sessions alice.test
check "... nothing left" grep -qE "^password sessions: 0" "$OUT"
check "... no app passwords" grep -qE "^app passwords: 0" "$OUT"
check "... no grants" grep -qE "^OAuth grants: 0" "$OUT"
check "... the browser's sign-in ended too" \
    test "$(sql "SELECT count(*) FROM oauth_account_devices WHERE did = '$ALICE'")" = 0

# ---- the audit log ----

ctl audit --json
AUD=$T_DIR/audit
cp "$OUT" "$AUD"
aud() {
	sqlite3 :memory: "SELECT count(*) FROM json_each(json_extract(readfile('$AUD'), '\$.entries')) WHERE json_extract(value, '\$.action') = 'account.revoke-session' AND $1;"
}
check "audit: the session revoked, with its reason and kind" \
    test "$(aud "json_extract(value, '\$.reason') = 'lost laptop' AND json_extract(value, '\$.subject') = '$ALICE' AND json_extract(value, '\$.detail.kind') = 'session' AND json_extract(value, '\$.outcome') = 'ok'")" = 1
check "audit: the app password" \
    test "$(aud "json_extract(value, '\$.reason') = 'phone stolen' AND json_extract(value, '\$.detail.id') = 'phone'")" = 1
check "audit: the OAuth grant, its consent forgotten" \
    test "$(aud "json_extract(value, '\$.reason') = 'app misbehaves' AND json_extract(value, '\$.detail.consentForgotten') = 1")" = 1
check "audit: --all with its counts" \
    test "$(aud "json_extract(value, '\$.detail.all') = 1 AND json_extract(value, '\$.detail.revoked.oauthGrants') = 1")" = 1
check "audit: the unix user who did it" \
    test "$(aud "json_extract(value, '\$.actor') LIKE 'unix:%'")" -ge 4
check "audit: an unknown session is a failure" \
    test "$(aud "json_extract(value, '\$.outcome') = 'failed' AND json_extract(value, '\$.detail.error') = 'NoSuchToken'")" -ge 3
if [ -n "$RO_USER" ]; then
	check "audit: the read-only user's attempt, refused" \
	    test "$(aud "json_extract(value, '\$.outcome') = 'refused' AND json_extract(value, '\$.actor') LIKE 'unix:$RO_USER%'")" = 1
fi

# ---- a takedown ends the OAuth grants ----

grant "$J1" "$K1" alice.test alice-pw-1
check_status "a new grant after signing in again" 200
OAUTH_REFRESH=$(jstr refresh_token)
check "... alice's browser remembered, the consent kept" test \
    "$(sql "SELECT count(*) FROM oauth_account_devices WHERE did = '$ALICE'")|$(sql "SELECT count(*) FROM oauth_authorized_clients WHERE did = '$ALICE'")" = "1|1"
ctl account takedown alice.test --reason "abuse report 7"
expect "take alice down" 0 "taken down"
check "the takedown deleted the grant" \
    test "$(sql "SELECT count(*) FROM oauth_families WHERE did = '$ALICE'")" = 0
check "... the browser's sign-in and the consent" test \
    "$(sql "SELECT count(*) FROM oauth_account_devices WHERE did = '$ALICE'")|$(sql "SELECT count(*) FROM oauth_authorized_clients WHERE did = '$ALICE'")" = "0|0"
ctl account untakedown alice.test --reason "appeal granted"
token "$K1" grant_type=refresh_token "refresh_token=$OAUTH_REFRESH"
check_status "... so after the reversal the app's refresh token is still refused" 400
ctl account sessions alice.test
check "... and it has no grant" grep -qE "^OAuth grants: 0" "$OUT"

check "pdsd is still running" kill -0 "$PDSD_PID"
pds_stop
t_done
