#!/bin/sh
# test_oauth_authorize: the OAuth authorization pages against a real
# pdsd and a real PLC directory, driven like a browser without
# JavaScript: curl with one cookie jar per browser.  Pushed requests with
# prompt=consent come from the real POST /oauth/par (a loopback client,
# no DPoP proof).  The others, with no prompt, none or login, are ones a
# public client cannot push (the server turns its every prompt into
# consent), so tests/tools/oauthreq puts them, and one grant as the token
# endpoint would make it, into the database while pdsd is stopped.
T_NAME=test_oauth_authorize
. "$(dirname "$0")/lib.sh"

ROOT=$(pwd)
OAUTHREQ=$ROOT/$B/tests/oauthreq

if [ ! -x "$OAUTHREQ" ]; then
	not_ok "$OAUTHREQ is built (make tests)"
	t_done
	exit 1
fi
plc_start
NODE=$("$ROOT/scripts/node.sh")

pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false"
if ! pds_start; then
	not_ok "pdsd starts"
	t_done
	exit 1
fi
ISS=http://pds.example.com:$PORT
DB=$T_DIR/data/pds.sqlite

# ---- helpers ----

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
# The Location header of the last reply.
location() {
	tr -d '\r' <"$T_DIR/headers" | sed -n 's/^[Ll]ocation: //p'
}
# The csrf-token cookie of jar $1.
jar_csrf() {
	awk '$6 == "csrf-token" { print $7 }' "$1" | tail -n 1
}
# page JAR URI: GET the authorization page of request URI.
page() {
	req GET "/oauth/authorize?client_id=$CLIENT_ENC&request_uri=$(urlenc "$2")" \
	    -b "$1" -c "$1"
}
# form JAR PATH field=value...: POST a form with the jar's CSRF token.
form() {
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

# ---- accounts ----

post com.atproto.server.createAccount \
    '{"handle":"alice.test","email":"alice@example.com","password":"alice-pw-1"}'
check_status "alice's account is created" 200
ALICE=$(jstr did)
ACCESS=$(jstr accessJwt)
post com.atproto.server.createAppPassword '{"name":"phone"}' \
    -H "Authorization: Bearer $ACCESS"
check_status "alice gets an app password" 200
APPPW=$(jstr password)
post com.atproto.server.createAccount \
    '{"handle":"bob.test","email":"bob@example.com","password":"bob-pw-1"}'
check_status "bob's account is created" 200
BOB=$(jstr did)
post com.atproto.server.createAccount \
    '{"handle":"carol.test","email":"carol@example.com","password":"carol-pw-1"}'
check_status "carol's account is created" 200
req POST /xrpc/com.atproto.admin.updateSubjectStatus -u "admin:$ADMIN_PASSWORD" \
    -H 'Content-Type: application/json' \
    --data "{\"subject\":{\"\$type\":\"com.atproto.admin.defs#repoRef\",\"did\":\"$BOB\"},\"takedown\":{\"applied\":true,\"ref\":\"t-1\"}}"
check_status "bob is taken down" 200

# ---- pushed requests: POST /oauth/par, then oauthreq ----

CLIENT='http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&scope=atproto%20transition%3Ageneric'
CLIENT_ENC=$(urlenc "$CLIENT")
SCOPE='atproto transition:generic'
CHALLENGE=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
# par STATE [LOGIN_HINT]: push a prompt=consent request; its request_uri.
par() {
	req POST /oauth/par --data-urlencode "client_id=$CLIENT" \
	    --data-urlencode response_type=code \
	    --data-urlencode redirect_uri=http://127.0.0.1/cb \
	    --data-urlencode "scope=$SCOPE" --data-urlencode "state=$1" \
	    --data-urlencode "code_challenge=$CHALLENGE" \
	    --data-urlencode code_challenge_method=S256 \
	    --data-urlencode prompt=consent \
	    ${2:+--data-urlencode "login_hint=$2"}
	[ "$STATUS" = 201 ] && jstr request_uri
}
R1=$(par st-1)
R2=$(par "st 2&x=<y>")
R3=$(par st-3)
R7=$(par st-7 alice.test)
check "POST /oauth/par stores pushed requests" \
    test -n "$R1" -a -n "$R2" -a -n "$R3" -a -n "$R7"

check "pdsd stops" pds_stop
# params STATE MODE [PROMPT]: a request's stored parameters.
params() {
	printf '{"client_id":"%s","response_type":"code","redirect_uri":"http://127.0.0.1/cb","scope":"%s","state":"%s","code_challenge":"%s","code_challenge_method":"S256","response_mode":"%s"%s}' \
	    "$CLIENT" "$SCOPE" "$1" "$CHALLENGE" "$2" "${3:+,\"prompt\":\"$3\"}"
}
newreq() { "$OAUTHREQ" request "$DB" "$CLIENT" "$(params "$@")"; }
R4=$(newreq st-4 query)
R5=$(newreq st-5 query none)
R6=$(newreq st-6 form_post)
R8=$(newreq st-8 query login)
R9=$(newreq st-9 query none)
SCOPE='atproto transition:chat.bsky'
R10=$(newreq st-10 query none)
# A write permission padded with long collection names, which the consent
# page must still show.
SEG=$(printf '%060d' 0 | tr 0 a)
PAD=com.$SEG.$SEG.$SEG.$SEG
SCOPE="atproto repo?collection=app.bsky.graph.follow&collection=$PAD.one&collection=$PAD.two&collection=$PAD.three&collection=$PAD.four"
R11=$(newreq st-11 query)
SCOPE='atproto transition:generic'
check "oauthreq stores pushed requests" test -n "$R4" -a -n "$R10" -a -n "$R11"
GRANT=$("$OAUTHREQ" family "$DB" "$ALICE" "$CLIENT" "$SCOPE")
check "oauthreq stores a grant" test -n "$GRANT"
# A grant of more permissions than the account page lists one by one.
MANY=atproto
i=1
while [ $i -le 17 ]; do MANY="$MANY repo:com.example.c$i"; i=$((i + 1)); done
GRANT2=$("$OAUTHREQ" family "$DB" "$ALICE" 'http://localhost' "$MANY")
check "... and one of 18 permissions" test -n "$GRANT2"
if ! pds_start; then
	not_ok "pdsd starts again"
	t_done
	exit 1
fi

J1=$T_DIR/jar1 J2=$T_DIR/jar2 J3=$T_DIR/jar3

# ---- browsers without cookies leave nothing behind ----

i=0
while [ $i -lt 50 ]; do
	req GET "/oauth/authorize?client_id=$CLIENT_ENC&request_uri=urn:ietf:params:oauth:request_uri:req-$i"
	i=$((i + 1))
done
check_status "a bogus request_uri is refused" 400
J4=$T_DIR/jar4
req GET /account -b "$J4" -c "$J4"
check_status "/account without cookies answers the sign-in form" 200
form "$J4" /account/sign-in identifier=alice.test "password=wrong pw"
check_status "... and a wrong password there 401" 401
check "none of them stored a device" \
    test "$(sql "SELECT count(*) FROM oauth_devices")" = 0

# ---- the first authorization: sign-in, consent, code ----

page "$J1" "$R1"
check_status "the authorization page answers 200" 200
check "... as HTML" header_has '^content-type: text/html; charset=utf-8'
check "... with no-store" header_has '^cache-control: no-store'
check "... with a CSP" header_has "^content-security-policy: .*frame-ancestors 'none'"
check "... not in frames" header_has '^x-frame-options: DENY'
check "... with no referrer" header_has '^referrer-policy: no-referrer'
check "... with the device cookies (HttpOnly, SameSite=Lax, 10 years)" \
    header_has '^set-cookie: dev-id=dev-[0-9a-f]\{32\}; Path=/; Max-Age=315360000; SameSite=Lax; HttpOnly$'
check "... and ses-id" header_has '^set-cookie: ses-id=ses-[0-9a-f]\{32\};'
check "... not Secure over http" sh -c '! tr -d "\r" <"$1" | grep -qi "^set-cookie:.*Secure"' _ "$T_DIR/headers"
check "... the sign-in form" body_has 'name="password"'
CSRF=$(jar_csrf "$J1")
check "... whose CSRF field matches the csrf-token cookie" body_has "name=\"csrf_token\" value=\"$CSRF\""
check "the device is recorded" test "$(sql "SELECT count(*) FROM oauth_devices")" = 1

form "$J1" /oauth/authorize/sign-in "request_uri=$R1" identifier=alice.test "password=wrong pw"
check_status "a wrong password is refused" 401
check "... the form again, with the error" body_has 'Wrong identifier or password'
check "... and the identifier kept" body_has 'value="alice.test"'

req POST /oauth/authorize/sign-in -b "$J1" --data-urlencode "request_uri=$R1" \
    --data-urlencode identifier=alice.test --data-urlencode password=alice-pw-1
check_status "a sign-in without the CSRF token is refused" 403
req POST /oauth/authorize/sign-in -b "$J1" --data-urlencode "request_uri=$R1" \
    --data-urlencode csrf_token=0123456789abcdef01234567 \
    --data-urlencode identifier=alice.test --data-urlencode password=alice-pw-1
check_status "a sign-in with a wrong CSRF token is refused" 403

form "$J1" /oauth/authorize/sign-in "request_uri=$R1" identifier=alice.test \
    password=alice-pw-1 remember=1
check_status "the right password shows the consent page" 200
check "... with Allow" body_has 'value="allow"'
check "... the account" body_has "$ALICE"
check "... and transition:generic as a warning" body_has 'class="warn'
check "the browser remembers alice" \
    test "$(sql "SELECT count(*) FROM oauth_account_devices WHERE did = '$ALICE'")" = 1

form "$J1" /oauth/authorize/consent "request_uri=$R1" decision=allow
check_status "Allow answers 303" 303
LOC=$(location)
case $LOC in
"http://127.0.0.1/cb?state=st-1&iss=$(urlenc "$ISS")&code=cod-"*) ok "... to the redirect_uri with state, iss and code" ;;
*) not_ok "... to the redirect_uri with state, iss and code" "$LOC" ;;
esac
CODE=${LOC##*code=}
check "... a code of 68 characters" test ${#CODE} = 68
check "... stored on the request with the account" \
    test "$(sql "SELECT did FROM oauth_requests WHERE code = '$CODE'")" = "$ALICE"
check "the consent is stored" \
    test "$(sql "SELECT count(*) FROM oauth_authorized_clients WHERE did = '$ALICE'")" = 1
form "$J1" /oauth/authorize/consent "request_uri=$R1" decision=allow
check "a second Allow is refused (the code is single use)" \
    sh -c '[ "$1" = 303 ] && case "$2" in *error=access_denied*) true ;; *) false ;; esac' _ "$STATUS" "$(location)"
check "... and the request is gone" \
    test "$(sql "SELECT count(*) FROM oauth_requests WHERE code = '$CODE'")" = 0

# ---- the same browser again: no password; Deny ----

page "$J1" "$R2"
check_status "a remembered browser goes straight to consent" 200
check "... no password asked" sh -c '! grep -q "name=\"password\"" "$1"' _ "$T_DIR/body"
check "... the consent form" body_has 'value="deny"'
form "$J1" /oauth/authorize/consent "request_uri=$R2" decision=deny
check_status "Deny answers 303" 303
case $(location) in
"http://127.0.0.1/cb?state=st%202%26x%3D%3Cy%3E&iss=$(urlenc "$ISS")&error=access_denied&error_description=The%20user%20rejected%20the%20request") ok "... with access_denied, the encoded state and iss" ;;
*) not_ok "... with access_denied, the encoded state and iss" "$(location)" ;;
esac
page "$J1" "$R2"
check_status "a denied request is gone" 400
check "... an HTML error page" header_has '^content-type: text/html'
page "$J1" "$R11"
check_status "a request with a padded permission gets the consent page" 200
check "... which names the permission" \
    body_has 'Create, update and delete records (app.bsky.graph.follow'
check "... and counts the collections it leaves out" body_has 'more collections'

# ---- refusals at sign-in ----

page "$J2" "$R3"
check_status "another browser gets the sign-in form" 200
check "... (it remembers nobody)" body_has 'name="password"'
form "$J2" /oauth/authorize/sign-in "request_uri=$R3" identifier=alice.test "password=$APPPW"
check_status "an app password is refused" 403
check "... with the reason" body_has 'App passwords cannot be used to sign in to apps'
form "$J2" /oauth/authorize/sign-in "request_uri=$R3" identifier=bob.test password=bob-pw-1
check_status "a taken-down account is refused" 403
check "... with the reason" body_has 'taken down'
form "$J2" /oauth/authorize/sign-in "request_uri=$R3" identifier=alice@example.com password=alice-pw-1
check_status "signing in by email works" 200
check "... and shows the consent page" body_has 'value="allow"'
check "... without remembering the browser" \
    test "$(sql "SELECT count(*) FROM oauth_account_devices")" = 1

# ---- prompts and modes ----

page "$J1" "$R4"
check_status "no prompt, signed in and already authorized: code at once" 303
case $(location) in
"http://127.0.0.1/cb?state=st-4&iss="*"&code=cod-"*) ok "... with state, iss and code" ;;
*) not_ok "... with state, iss and code" "$(location)" ;;
esac
page "$J3" "$R5"
check_status "prompt=none on a new browser answers the client" 303
case $(location) in
*"state=st-5&"*"error=login_required"*) ok "... login_required" ;;
*) not_ok "... login_required" "$(location)" ;;
esac
page "$J1" "$R6"
check_status "response_mode=form_post answers a page" 200
check "... that posts to the redirect_uri" body_has 'action="http://127.0.0.1/cb"'
check "... the code" body_has 'name="code" value="cod-'
check "... state and iss" sh -c 'grep -q "name=\"state\" value=\"st-6\"" "$1" && grep -qF "value=\"$2\"" "$1"' _ "$T_DIR/body" "$ISS"
check "... with a CSP allowing that form" header_has '^content-security-policy: .*form-action.*http://127.0.0.1'
page "$J3" "$R3"
check_status "a request taken by another browser is refused" 303
case $(location) in
*error=access_denied*) ok "... access_denied to the client" ;;
*) not_ok "... access_denied to the client" "$(location)" ;;
esac
req GET "/oauth/authorize?client_id=$CLIENT_ENC&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb"
check_status "an authorization without request_uri is refused" 400
check "... with an HTML page" header_has '^content-type: text/html'

page "$J1" "$R9"
check_status "prompt=none, signed in and authorized: code at once" 303
case $(location) in
*"state=st-9&"*"&code=cod-"*) ok "... with the code" ;;
*) not_ok "... with the code" "$(location)" ;;
esac
page "$J1" "$R10"
check_status "prompt=none with a scope not yet granted answers the client" 303
case $(location) in
*"error=consent_required"*) ok "... consent_required" ;;
*) not_ok "... consent_required" "$(location)" ;;
esac
page "$J1" "$R8"
check_status "prompt=login on a remembered browser" 200
check "... asks for the password" body_has 'name="password"'
form "$J1" /oauth/authorize/sign-in "request_uri=$R8" identifier=alice.test password=alice-pw-1
check_status "... then, consent being on file, the code" 303
case $(location) in
*"state=st-8&"*"&code=cod-"*) ok "... in the redirect" ;;
*) not_ok "... in the redirect" "$(location)" ;;
esac

page "$J2" "$R7"
check_status "a login_hint request shows the sign-in form" 200
check "... with the identifier locked" sh -c 'grep -q "value=\"alice.test\" readonly" "$1"' _ "$T_DIR/body"
form "$J2" /oauth/authorize/sign-in "request_uri=$R7" identifier=carol.test password=carol-pw-1
check_status "another account than the hinted one is refused" 403
check "... with the reason" body_has 'The app asked for another account'
form "$J2" /oauth/authorize/sign-in "request_uri=$R7" identifier=alice.test password=alice-pw-1
check "... the hinted account gets consent" body_has 'value="allow"'
form "$J2" /oauth/authorize/switch "request_uri=$R7"
check_status "\"Not you?\" answers the sign-in form" 200
check "... with the password field" body_has 'name="password"'

# ---- the account page ----

req GET /account -b "$J1" -c "$J1"
check_status "/account answers 200" 200
check "... lists alice's grant" body_has "name=\"grant_id\" value=\"$GRANT\""
check "... with its permissions in words" body_has 'class="warn'
check "... and counts those past the first 16" body_has 'And 2 more permissions'
check "... and a CSP" header_has '^content-security-policy:'
form "$J1" /account/revoke "grant_id=$GRANT"
check_status "Revoke answers 303" 303
check "... back to /account" test "$(location)" = "/account?notice=revoked"
check "... and the grant is gone" \
    test "$(sql "SELECT count(*) FROM oauth_families WHERE id = $GRANT")" = 0
check "... with the app's consent, its last grant gone" \
    test "$(sql "SELECT count(*) FROM oauth_authorized_clients WHERE did = '$ALICE'")" = 0
req POST /account/sign-out -b "$J1" -c "$J1" --data-urlencode grant_id=1
check_status "a sign-out without the CSRF token is refused" 403
form "$J1" /account/sign-out
check_status "sign-out answers 303" 303
req GET /account -b "$J1" -c "$J1"
check "after sign-out /account asks to sign in" body_has 'name="password"'
check "... the browser forgot alice" \
    test "$(sql "SELECT count(*) FROM oauth_account_devices")" = 0
form "$J3" /account/sign-in identifier=alice.test password=alice-pw-1
check_status "signing in on /account answers 303" 303
req GET /account -b "$J3" -c "$J3"
check "... then the apps page" body_has 'action="/account/sign-out"'

# ---- the login limit (the buckets createSession spends too) ----

form "$J1" /account/sign-out
i=0
while [ $i -lt 10 ]; do
	form "$J1" /account/sign-in identifier=ghost.test "password=guess $i"
	i=$((i + 1))
done
check_status "ten wrong passwords for one name each get 401" 401
form "$J1" /account/sign-in identifier=ghost.test "password=guess 10"
check_status "the eleventh from the same client gets 429" 429
check "... the form again, saying why" body_has 'Too many failed sign-in attempts'
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' \
    --data-binary '{"identifier":"ghost.test","password":"guess 11"}'
check_status "createSession for that name is limited too (one set of buckets)" 429
form "$J1" /account/sign-in identifier=alice.test password=alice-pw-1
check_status "another name from the same client still signs in" 303

t_done
