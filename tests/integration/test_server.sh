#!/bin/sh
# test_server: pdsd's HTTP/XRPC framework, configuration and lifecycle,
# driven from outside like a client and an operator would.
T_NAME=test_server
. "$(dirname "$0")/lib.sh"

VERSION=$("$PDSD" --version | sed -n 's/^pdsd //p')
check "--version names the program and a version" test -n "$VERSION"

# ---- configuration (no server needed) ----
pds_env "PDS_CONTACT_EMAIL_ADDRESS=ops@pds.example.com" \
    "PDS_PRIVACY_POLICY_URL=https://pds.example.com/privacy/"
out=$("$PDSD" -c "$T_DIR/pds.env" --check-config 2>&1)
check "--check-config accepts a good file" test $? -eq 0
check "--check-config masks the admin password" \
    sh -c 'printf "%s\n" "$1" | grep -qx "PDS_ADMIN_PASSWORD=\*\*\*\*\*\*\*\*"' \
    _ "$out"
case $out in
*"$ADMIN_PASSWORD"*|*"$JWT_SECRET"*|*"$ROTATION_KEY"*)
	not_ok "--check-config never prints a secret" ;;
*)	ok "--check-config never prints a secret" ;;
esac
check "--check-config derives the service DID from the hostname" \
    sh -c 'printf "%s\n" "$1" | grep -qx "PDS_SERVICE_DID=did:web:pds.example.com"' \
    _ "$out"
check "--check-config shows the public URL (dev mode: http with port)" \
    sh -c 'printf "%s\n" "$1" | grep -qF "public URL: http://pds.example.com:$2"' \
    _ "$out" "$PORT"
check "--check-config shows the email token lifetime (default 900 s)" \
    sh -c 'printf "%s\n" "$1" | grep -qx "PDS_EMAIL_TOKEN_TTL_SECONDS=900"' \
    _ "$out"
check "--check-config shows the blob grace period (default 6 h)" \
    sh -c 'printf "%s\n" "$1" | grep -qx "PDS_BLOB_TEMP_GRACE_SECONDS=21600"' \
    _ "$out"
out=$("$PDSD" -c "$T_DIR/pds.env" --check-config --json 2>&1)
check "--check-config --json is JSON with masked secrets" \
    sh -c 'printf "%s" "$1" | grep -q "\"PDS_JWT_SECRET\": {" &&
        printf "%s" "$1" | grep -qF "\"********\"" &&
        ! printf "%s" "$1" | grep -qF "$2"' _ "$out" "$JWT_SECRET"
out=$(PDS_PORT=3999 "$PDSD" -c "$T_DIR/pds.env" --check-config 2>&1)
check "the environment overrides the env file" \
    sh -c 'printf "%s\n" "$1" | grep -qx "PDS_PORT=3999"' _ "$out"

# A bad value is an error that names the variable.
cfg_err() {	# cfg_err DESC VAR LINE...
	_d=$1 _v=$2
	shift 2
	cp "$T_DIR/pds.env" "$T_DIR/bad.env"
	for _l in "$@"; do printf '%s\n' "$_l" >>"$T_DIR/bad.env"; done
	_o=$("$PDSD" -c "$T_DIR/bad.env" --check-config 2>&1)
	_rc=$?
	if [ $_rc -ne 0 ] && printf '%s' "$_o" | grep -qF "$_v"; then
		ok "$_d"
	else
		not_ok "$_d" "rc=$_rc output: $_o"
	fi
}
cfg_err "a malformed port is refused, naming PDS_PORT" PDS_PORT "PDS_PORT=80a"
cfg_err "an out-of-range port is refused" PDS_PORT "PDS_PORT=70000"
cfg_err "a malformed boolean is refused" PDS_INVITE_REQUIRED \
    "PDS_INVITE_REQUIRED=maybe"
cfg_err "a malformed URL is refused" PDS_DID_PLC_URL \
    "PDS_DID_PLC_URL=plc.directory"
cfg_err "a short rotation key is refused" \
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX \
    "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=abcd"
cfg_err "an unknown PDS_ variable in the file is refused" PDS_NO_SUCH_THING \
    "PDS_NO_SUCH_THING=1"
cfg_err "half an email configuration is refused" PDS_EMAIL_FROM_ADDRESS \
    "PDS_EMAIL_SMTP_URL=smtp://mail.example.com"
cfg_err "half a pair of S3 keys is refused" \
    PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY "PDS_BLOBSTORE_S3_ACCESS_KEY_ID=AKIA"
cfg_err "an email token lifetime of 0 s is refused" \
    PDS_EMAIL_TOKEN_TTL_SECONDS "PDS_EMAIL_TOKEN_TTL_SECONDS=0"
cfg_err "a malformed blob grace period is refused" \
    PDS_BLOB_TEMP_GRACE_SECONDS "PDS_BLOB_TEMP_GRACE_SECONDS=6h"
cfg_err "a handle domain without a leading dot is refused" \
    PDS_SERVICE_HANDLE_DOMAINS "PDS_SERVICE_HANDLE_DOMAINS=example.com"
grep -v '^PDS_JWT_SECRET' "$T_DIR/pds.env" >"$T_DIR/nojwt.env"
o=$(env -u PDS_JWT_SECRET "$PDSD" -c "$T_DIR/nojwt.env" --check-config 2>&1)
check "a missing required secret is refused, naming it" \
    sh -c '[ $1 -ne 0 ] && printf "%s" "$2" | grep -qF PDS_JWT_SECRET' \
    _ $? "$o"
o=$("$PDSD" --check-config -c "$T_DIR/missing.env" 2>&1)
check "a missing env file is an error" test $? -ne 0

# ---- the running server ----
if ! pds_start -p "$T_DIR/pdsd.pid"; then
	not_ok "pdsd starts"
	t_done
	exit 1
fi
ok "pdsd starts and answers /xrpc/_health"
check "the pidfile holds the daemon's pid" \
    test "$(cat "$T_DIR/pdsd.pid" 2>/dev/null)" = "$PDSD_PID"
check "the listening address is logged at start-up" \
    log_has "listening on 127.0.0.1:$PORT"

req GET /xrpc/_health
check_status "_health answers 200" 200
check "_health reports the version" body_has "{\"version\":\"$VERSION\"}"

req GET /xrpc/com.atproto.server.describeServer
check_status "describeServer answers 200" 200
check "describeServer is JSON" header_has '^content-type: application/json'
check "describeServer: did" body_has '"did":"did:web:pds.example.com"'
check "describeServer: availableUserDomains" \
    body_has '"availableUserDomains":[".pds.example.com"]'
check "describeServer: invites required by default" \
    body_has '"inviteCodeRequired":true'
check "describeServer: phoneVerificationRequired false" \
    body_has '"phoneVerificationRequired":false'
check "describeServer: links" \
    body_has '"links":{"privacyPolicy":"https://pds.example.com/privacy"}'
check "describeServer: contact" \
    body_has '"contact":{"email":"ops@pds.example.com"}'
check "replies carry Access-Control-Allow-Origin: *" \
    header_has '^access-control-allow-origin: \*'

req GET /robots.txt
check_status "robots.txt answers 200" 200
check "robots.txt allows every agent everything" \
    sh -c 'grep -qx "User-agent: \*" "$1" && grep -qx "Allow: /" "$1"' \
    _ "$T_DIR/body"
req GET /
check_status "/ answers 200" 200
check "/ is a plain-text banner pointing at /xrpc/" \
    sh -c 'grep -qF /xrpc/ "$1"' _ "$T_DIR/body"
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' "$URL/")
check_status "HEAD / answers 200" 200
req GET /no/such/path
check_status "an unknown path answers 404" 404
req POST /oauth/nowhere -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary 'client_id=x&scope=atproto'
check_status "an unknown path with a body answers 404, not 413" 404
check "... NotFound" body_has '"error":"NotFound"'
req POST /no/such/path -H 'Content-Type: text/plain' \
    -H 'Transfer-Encoding: chunked' --data-binary 'abc'
check_status "... also when the body is chunked" 404

req GET /xrpc/com.example.noSuchMethod
check_status "an unknown XRPC method answers 501" 501
check "... with a JSON MethodNotImplemented error" \
    body_has '"error":"MethodNotImplemented"'
check "... and a message" body_has '"message":'
req POST /xrpc/com.atproto.server.describeServer
check_status "POST to a query answers 400" 400
check "... InvalidRequest" body_has '"error":"InvalidRequest"'
req GET /xrpc/com.atproto.server.createSession
check_status "GET to a procedure answers 400" 400

head -c 204800 /dev/zero | tr '\0' 'a' >"$T_DIR/big"
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' --data-binary @"$T_DIR/big"
check_status "a 200 KiB body to a 150 KiB route answers 413" 413
check "... PayloadTooLarge" body_has '"error":"PayloadTooLarge"'
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T_DIR/big"
check_status "a chunked oversize body is cut off with 413" 413
head -c 150000 "$T_DIR/big" >"$T_DIR/fits"
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' --data-binary @"$T_DIR/fits"
check_status "a body under the limit is read (then fails as JSON: 400)" 400
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' --data-binary '{"identifier":'
check_status "malformed JSON answers 400" 400
check "... InvalidRequest" body_has '"error":"InvalidRequest"'
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' --data-binary '[1,2]'
check_status "a JSON body that is not an object answers 400" 400
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: text/plain' --data-binary '{}'
check_status "a wrong Content-Type answers 400" 400
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' \
    --data-binary '{"identifier":"a","password":"b"}'
check_status "a well-formed createSession with unknown credentials: 401" 401
check "... a JSON AuthenticationRequired error" \
    sh -c 'grep -qi "^content-type: application/json" "$1" &&
        jq -e ".error == \"AuthenticationRequired\" and
            (.message | type == \"string\")" "$2" >/dev/null' \
    _ "$T_DIR/headers" "$T_DIR/body"

req OPTIONS /xrpc/com.atproto.server.createSession \
    -H 'Origin: https://app.example' \
    -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: content-type,authorization'
check_status "CORS preflight answers 204" 204
check "preflight allows any origin" header_has '^access-control-allow-origin: \*'
check "preflight lists POST" header_has '^access-control-allow-methods:.*POST'
check "preflight allows the requested headers" \
    header_has '^access-control-allow-headers: content-type,authorization'
check "preflight has a max age" header_has '^access-control-max-age: 86400'

req GET /.well-known/atproto-did -H 'Host: alice.pds.example.com'
check_status ".well-known/atproto-did for an unknown handle answers 404" 404
check "... User not found" body_has 'User not found'
req GET /.well-known/atproto-did -H 'Host: elsewhere.org'
check_status ".well-known/atproto-did for a foreign host answers 404" 404

req GET '/tls-check?domain=pds.example.com'
check_status "tls-check for our host name answers 200" 200
req GET '/tls-check?domain=nobody.pds.example.com'
check_status "tls-check for an unknown handle answers 404" 404
req GET '/tls-check?domain=evil.example.org'
check_status "tls-check for a foreign domain answers 400" 400
req GET /tls-check
check_status "tls-check without a domain answers 400" 400

req POST /xrpc/com.atproto.server.createInviteCode \
    -H 'Content-Type: application/json' --data-binary '{"useCount":1}'
check_status "an admin route without credentials answers 401" 401
# the reference's name on admin routes
check "... AuthenticationRequired" body_has \
    '"error":"AuthenticationRequired"'
req POST /xrpc/com.atproto.server.createInviteCode -u "admin:wrong" \
    -H 'Content-Type: application/json' --data-binary '{"useCount":1}'
check_status "a wrong admin password answers 401" 401
req POST /xrpc/com.atproto.server.createInviteCode -u "admin:$ADMIN_PASSWORD" \
    -H 'Content-Type: application/json' --data-binary '{"useCount":1}'
check "the right admin password passes the auth check" \
    test "$STATUS" != 401 -a "$STATUS" != 403
req GET /xrpc/com.atproto.server.getSession
check_status "a user route without credentials answers 401" 401

req GET '/xrpc/com.atproto.server.describeServer?token=qs-secret-value'
check "requests are logged with method, path and status" \
    log_has "GET /xrpc/com.atproto.server.describeServer 200"
check "query strings are not logged" \
    sh -c '! grep -qF qs-secret-value "$1"' _ "$T_DIR/pdsd.log"
check "admin credentials are not logged" \
    sh -c '! grep -qF "$2" "$1"' _ "$T_DIR/pdsd.log" "$ADMIN_PASSWORD"

o=$(PDS_PORT=$PORT "$PDSD" -c "$T_DIR/pds.env" 2>&1)
check "a second pdsd on a taken port exits non-zero" test $? -ne 0

# ---- shutdown and the store ----
pds_stop
check "SIGTERM shuts down cleanly (exit 0)" test $? -eq 0
check "the shutdown is logged" log_has "stopped"
check "the pidfile is removed" test ! -e "$T_DIR/pdsd.pid"
DB=$T_DIR/data/pds.sqlite
check "the database is created mode 0600" \
    test "$(stat -c %a "$DB" 2>/dev/null)" = 600

if command -v sqlite3 >/dev/null 2>&1; then
	check "the database is in WAL mode" \
	    test "$(sqlite3 "$DB" 'PRAGMA journal_mode')" = wal
	v=$(sqlite3 "$DB" 'SELECT version FROM schema_version')
	check "migrations recorded in schema_version" test "${v:-0}" -ge 1
	n=$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_master WHERE type='table'
	    AND name IN ('accounts','refresh_tokens','app_passwords',
	    'invite_codes','invite_code_uses','repo_root','repo_blocks',
	    'records','blobs','record_blobs','events','preferences',
	    'email_tokens','audit_log','did_cache','login_attempts')")
	check "the initial schema has every table" test "$n" = 16
fi

# Crash safety: kill -9 a running daemon, then it must restart on the
# same database.  (An acknowledged-write check through the API belongs
# with the first write route, createAccount.)
if pds_start; then
	ok "pdsd restarts on an existing database"
	if command -v sqlite3 >/dev/null 2>&1; then
		sqlite3 "$DB" "INSERT INTO server_state VALUES ('crash-test', 42)"
	fi
	pds_kill9
	if pds_start; then
		ok "pdsd restarts after kill -9"
	else
		not_ok "pdsd restarts after kill -9"
	fi
	if command -v sqlite3 >/dev/null 2>&1; then
		check "the database is intact after kill -9" \
		    test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
		check "a committed row survives kill -9" \
		    test "$(sqlite3 "$DB" "SELECT value FROM server_state WHERE
		        key = 'crash-test'")" = 42
		check "the schema version is unchanged after restarts" \
		    test "$(sqlite3 "$DB" 'SELECT version FROM schema_version')" \
		    = "$v"
	fi
	pds_stop
	check "a restarted daemon also stops cleanly" test $? -eq 0
else
	not_ok "pdsd restarts on an existing database"
fi

# systemd readiness: READY=1 on NOTIFY_SOCKET (needs python3 to listen).
if command -v python3 >/dev/null 2>&1; then
	sock=$T_DIR/notify.sock
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(15)
open(sys.argv[2], "w").write(s.recv(256).decode())
' "$sock" "$T_DIR/notified" &
	npid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	NOTIFY_SOCKET=$sock
	export NOTIFY_SOCKET
	pds_start
	unset NOTIFY_SOCKET
	wait $npid
	check "READY=1 is sent to NOTIFY_SOCKET" \
	    test "$(cat "$T_DIR/notified" 2>/dev/null)" = READY=1
	pds_stop
fi

t_done
