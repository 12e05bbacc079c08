#!/bin/sh
# test_oauth_meta: the OAuth authorization server's public face against
# a real pdsd, as a client sees it with curl: both discovery documents
# (every required field, the exact issuer, CORS), the key set, PAR's
# method, its DPoP nonce challenge and its client errors.  DPoP proofs
# are made with Node's built-in crypto (no package); without Node 22
# those cases are skipped.
T_NAME=test_oauth_meta
. "$(dirname "$0")/lib.sh"

ROOT=$(pwd)
pds_start || { not_ok "pdsd starts"; t_done; exit 1; }
# dev mode: the public URL is http://PDS_HOSTNAME:PDS_PORT, whatever Host
ISSUER=http://pds.example.com:$PORT

# json_get FILE KEY: a top-level string value (good enough for our bodies)
json_get() {
	sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p" "$1"
}

# ---- protected resource metadata ----
req GET /.well-known/oauth-protected-resource
check_status "protected resource metadata answers 200" 200
check "its content type is JSON" header_has "^content-type: application/json"
check "resource is the issuer, without a trailing slash" \
    body_has "\"resource\":\"$ISSUER\""
check "one authorization server: ourselves" \
    body_has "\"authorization_servers\":[\"$ISSUER\"]"
check "bearer_methods_supported is header" \
    body_has '"bearer_methods_supported":["header"]'
check "CORS: any origin" header_has "^access-control-allow-origin: \*"

# ---- authorization server metadata ----
req GET /.well-known/oauth-authorization-server
check_status "authorization server metadata answers 200" 200
check "issuer is exactly the public origin" \
    test "$(json_get "$T_DIR/body" issuer)" = "$ISSUER"
for f in \
    "\"authorization_endpoint\":\"$ISSUER/oauth/authorize\"" \
    "\"token_endpoint\":\"$ISSUER/oauth/token\"" \
    "\"pushed_authorization_request_endpoint\":\"$ISSUER/oauth/par\"" \
    "\"revocation_endpoint\":\"$ISSUER/oauth/revoke\"" \
    "\"jwks_uri\":\"$ISSUER/oauth/jwks\"" \
    '"response_types_supported":["code"]' \
    '"grant_types_supported":["authorization_code","refresh_token"]' \
    '"code_challenge_methods_supported":["S256"]' \
    '"token_endpoint_auth_methods_supported":["none","private_key_jwt"]' \
    '"token_endpoint_auth_signing_alg_values_supported":["ES256","ES256K"]' \
    '"dpop_signing_alg_values_supported":["ES256","ES256K"]' \
    '"authorization_response_iss_parameter_supported":true' \
    '"require_pushed_authorization_requests":true' \
    '"require_request_uri_registration":true' \
    '"client_id_metadata_document_supported":true' \
    '"subject_types_supported":["public"]' \
    '"response_modes_supported":["query","fragment","form_post"]' \
    '"scopes_supported":["atproto","transition:email","transition:generic","transition:chat.bsky"]' \
    '"prompt_values_supported":["none","login","consent","select_account","create"]' \
    "\"protected_resources\":[\"$ISSUER\"]"; do
	check "metadata has $f" body_has "$f"
done
check "no algorithm none for client authentication" \
    sh -c '! grep -q "\"token_endpoint_auth_signing_alg_values_supported\":\[[^]]*\"none\"" "$1"' \
    _ "$T_DIR/body"
check "metadata is cached for 5 minutes" header_has "^cache-control: max-age=300"
check "metadata CORS allows the DPoP header" \
    header_has "^access-control-allow-headers: Content-Type,DPoP"
check "CORS: any origin" header_has "^access-control-allow-origin: \*"
req OPTIONS /.well-known/oauth-authorization-server \
    -H "Origin: https://app.example.org" \
    -H "Access-Control-Request-Method: GET"
check_status "a preflight answers 204" 204

# ---- key set ----
req GET /oauth/jwks
check_status "jwks answers 200" 200
check "jwks is the empty key set" test "$(cat "$T_DIR/body")" = '{"keys":[]}'

# ---- PAR ----
req GET /oauth/par
check_status "GET /oauth/par is 405" 405
check "405 is in the OAuth error shape" body_has '"error":"invalid_request"'

CLIENT='http://localhost?scope=atproto&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb'
CC=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
par() {	# par [curl args]: a good PAR for the loopback client
	req POST /oauth/par --data-urlencode "client_id=$CLIENT" \
	    -d response_type=code -d scope=atproto -d state=s1 \
	    --data-urlencode "redirect_uri=http://127.0.0.1/cb" \
	    -d code_challenge=$CC -d code_challenge_method=S256 "$@"
}
par
check_status "PAR without DPoP is accepted (201)" 201
check "PAR answers a request_uri" \
    body_has '"request_uri":"urn:ietf:params:oauth:request_uri:req-'
check "PAR answers expires_in 300" body_has '"expires_in":300'
check "PAR answers Cache-Control: no-store" header_has "^cache-control: no-store"
check "PAR answers Pragma: no-cache" header_has "^pragma: no-cache"
check "PAR answers a DPoP-Nonce" header_has "^dpop-nonce: "
check "DPoP-Nonce is exposed to browsers" \
    header_has "^access-control-expose-headers:.*dpop-nonce"

req POST /oauth/par --data-urlencode "client_id=https://unknown.invalid/client.json" \
    -d response_type=code -d scope=atproto \
    -d code_challenge=$CC -d code_challenge_method=S256
check_status "PAR of an unusable client is 400" 400
check "... invalid_client_metadata" body_has '"error":"invalid_client_metadata"'
req POST /oauth/par --data-urlencode "client_id=http://localhost:8080/" \
    -d response_type=code -d scope=atproto
check "a bad loopback client_id is invalid_client_metadata" \
    body_has '"error":"invalid_client_metadata"'
par -d code_challenge_method=plain
check_status "PAR with a repeated parameter is 400" 400
req POST /oauth/par --data-urlencode "client_id=$CLIENT" \
    -d response_type=code -d scope=atproto \
    --data-urlencode "redirect_uri=http://127.0.0.1/cb"
check "PAR without PKCE is invalid_request" \
    body_has '"error_description":"Use of PKCE is required"'
check "errors carry a DPoP-Nonce too" header_has "^dpop-nonce: "
check "errors are never XRPC-shaped" sh -c '! grep -q "\"message\"" "$1"' \
    _ "$T_DIR/body"

# ---- DPoP nonce challenge (needs Node for the proof) ----
NODE=$(PATH="$ROOT/.cache/node/bin:$PATH" command -v node 2>/dev/null) || NODE=
if [ -n "$NODE" ] && "$NODE" -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)'; then
	# proof HTU [NONCE]: a fresh ES256 DPoP proof on stdout
	proof() {
		"$NODE" -e '
const c = require("crypto");
const { privateKey, publicKey } = c.generateKeyPairSync("ec",
    { namedCurve: "P-256" });
const j = publicKey.export({ format: "jwk" });
const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const claims = { jti: c.randomUUID(), htm: "POST", htu: process.argv[1],
    iat: Math.floor(Date.now() / 1000) };
if (process.argv[2]) claims.nonce = process.argv[2];
const input = b({ typ: "dpop+jwt", alg: "ES256",
    jwk: { kty: j.kty, crv: j.crv, x: j.x, y: j.y } }) + "." + b(claims);
const sig = c.sign("sha256", Buffer.from(input),
    { key: privateKey, dsaEncoding: "ieee-p1363" });
process.stdout.write(input + "." + sig.toString("base64url"));
' "$1" "${2:-}"
	}
	par -H "DPoP: $(proof "$ISSUER/oauth/par")"
	check_status "a proof without nonce is 400" 400
	check "... use_dpop_nonce" body_has '"error":"use_dpop_nonce"'
	check "... with the nonce to use" header_has "^dpop-nonce: "
	NONCE=$(tr -d '\r' <"$T_DIR/headers" | sed -n 's/^[Dd][Pp][Oo][Pp]-[Nn]once: //p')
	par -H "DPoP: $(proof "$ISSUER/oauth/par" "$NONCE")"
	check_status "the retry with the nonce is 201" 201
	par -H "DPoP: $(proof "http://127.0.0.1:$PORT/oauth/par" "$NONCE")"
	check_status "htu is the public URL, not the Host used" 401
	check "... invalid_dpop_proof" body_has '"error":"invalid_dpop_proof"'
	check "... with WWW-Authenticate: DPoP" header_has "^www-authenticate: DPoP "
	req POST /oauth/token --data-urlencode "client_id=$CLIENT" \
	    -d grant_type=authorization_code
	check_status "the token endpoint requires a proof (401)" 401
	check "... DPoP proof required" \
	    body_has '"error_description":"DPoP proof required"'
else
	echo "# no Node 18+: DPoP nonce cases skipped"
fi

check "pdsd is still running" kill -0 "$PDSD_PID"
pds_stop
t_done
