#!/bin/sh
# test_lexicon: records checked against the official lexicons end to end
# (createRecord, putRecord, applyWrites).  Each record of the issue's
# list, which pdsd used to store as "valid" and the reference refuses,
# gets 400 InvalidRequest with the reference's message naming the path;
# unknown collections are stored as "unknown" (refused with validate:
# true); validate:false skips the lexicon but not the data model or
# the $type.  Uses a local PLC directory (Node 22); skips without it.
T_NAME=test_lexicon
. "$(dirname "$0")/lib.sh"

[ -d tests/interop/node_modules/@did-plc/server ] || {
	echo "$T_NAME: skipped (tests/interop/setup.sh has not run)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
plc_start
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost"
pds_start || { t_done; exit 1; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"lex.test","email":"lex@example.com","password":"lex-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
AUTH="Authorization: Bearer $TOK"
JSON='Content-Type: application/json'
NOW=2024-05-01T12:00:00.000Z

# rep UNIT N: UNIT repeated N times.
rep() { _i=0; while [ $_i -lt "$2" ]; do printf '%s' "$1"; _i=$((_i + 1)); done; }

# create COLLECTION RECORD [EXTRA]: createRecord; EXTRA adds fields.
create() {
	printf '{"repo":"%s","collection":"%s","record":%s%s}' "$DID" "$1" \
	    "$2" "${3:+,$3}" >"$T_DIR/in.json"
	req POST /xrpc/com.atproto.repo.createRecord -H "$AUTH" -H "$JSON" \
	    --data-binary "@$T_DIR/in.json"
}

post() {
	printf '{"$type":"app.bsky.feed.post","text":"%s","createdAt":"%s"%s}' \
	    "$1" "$NOW" "${2:+,$2}"
}

# refused DESC MESSAGE: the last answer is 400 InvalidRequest saying MESSAGE.
refused() {
	if [ "$STATUS" = 400 ] && body_has '"error":"InvalidRequest"' &&
	    body_has "\"message\":\"$2\""; then
		ok "$1"
	else
		not_ok "$1" "status $STATUS; body: $(head -c 300 "$T_DIR/body")"
	fi
}

ZWJ=$(printf '\360\237\221\251\342\200\215\360\237\222\273')	# woman technologist
FLAG=$(printf '\360\237\207\253\360\237\207\267')		# FR
BLOB='{"$type":"blob","ref":{"$link":"bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},"mimeType":"%s","size":1000}'
img() { printf '{"alt":"","image":'"$BLOB"'}' "$1"; }
FACET='"facets":[{"index":{"byteStart":%s,"byteEnd":2},"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"x"}]}]'

# ---- the records of the issue: stored as "valid" before ----
create app.bsky.feed.post "$(post "$(rep a 300)")"
check_status "a post of 300 graphemes" 200
check "is valid" body_has '"validationStatus":"valid"'
create app.bsky.feed.post "$(post "$(rep a 301)")"
refused "a post of 301 ASCII graphemes" \
    "Record/text must not be longer than 300 graphemes"
create app.bsky.feed.post "$(post "$(rep "$ZWJ" 272)")"
check_status "272 ZWJ sequences (2992 bytes) are 272 graphemes" 200
create app.bsky.feed.post "$(post "$(rep "$ZWJ" 301)")"
refused "a post of 301 ZWJ sequences" \
    "Record/text must not be longer than 3000 characters"
create app.bsky.feed.post "$(post "$(rep "$FLAG" 301)")"
refused "a post of 301 flags" \
    "Record/text must not be longer than 300 graphemes"

printf '{"repo":"%s","collection":"app.bsky.actor.profile","rkey":"self","record":{"displayName":"%s"}}' \
    "$DID" "$(rep 'é' 65)" >"$T_DIR/in.json"
req POST /xrpc/com.atproto.repo.putRecord -H "$AUTH" -H "$JSON" \
    --data-binary "@$T_DIR/in.json"
refused "putRecord: a displayName of 65 graphemes" \
    "Record/displayName must not be longer than 64 graphemes"
printf '{"repo":"%s","collection":"app.bsky.actor.profile","rkey":"self","record":{"displayName":"%s"}}' \
    "$DID" "$(rep 'é' 64)" >"$T_DIR/in.json"
req POST /xrpc/com.atproto.repo.putRecord -H "$AUTH" -H "$JSON" \
    --data-binary "@$T_DIR/in.json"
check_status "putRecord: a displayName of 64 graphemes" 200

create app.bsky.feed.post "$(post hi '"langs":["en","not a tag"]')"
refused "an invalid language tag" \
    "Record/langs/1 must be a well-formed BCP 47 language tag"
create app.bsky.feed.post "$(post hi '"langs":["en","fr","de","ja"]')"
refused "four langs" "Record/langs must not have more than 3 elements"
create app.bsky.feed.post "$(post hi "$(printf "$FACET" '"0"')")"
refused "a facet byteStart given as a string" \
    "Record/facets/0/index/byteStart must be an integer"
create app.bsky.feed.post "$(post hi "$(printf "$FACET" -1)")"
refused "a negative facet byteStart" \
    "Record/facets/0/index/byteStart can not be less than 0"
create app.bsky.feed.post "$(post hi "\"embed\":{\"\$type\":\"app.bsky.embed.images\",\"images\":[$(img text/plain)]}")"
refused "an images embed holding a text/plain blob" \
    "Record/embed/images/0/image must be of an accepted type (image/*), not text/plain"
I=$(img image/png)
create app.bsky.feed.post "$(post hi "\"embed\":{\"\$type\":\"app.bsky.embed.images\",\"images\":[$I,$I,$I,$I,$I]}")"
refused "an images embed of 5 images" \
    "Record/embed/images must not have more than 4 elements"
create app.bsky.feed.post "$(post hi '"embed":{"images":[]}')"
refused "a union member without \$type" \
    "Record/embed must be an object which includes the \\\"\$type\\\" property"

# ---- validate modes and unknown collections ----
create com.example.unknown.thing '{"n":1}'
check_status "an unknown collection" 200
check "is stored as unknown" body_has '"validationStatus":"unknown"'
create com.example.unknown.thing '{"n":1}' '"validate":true'
refused "an unknown collection with validate:true" \
    "Lexicon not found: lex:com.example.unknown.thing"
create app.bsky.feed.post "$(post "$(rep a 301)")" '"validate":false'
check_status "validate:false skips the lexicon" 200
check "and gives no validationStatus" sh -c \
    "! grep -q validationStatus '$T_DIR/body'"
create app.bsky.feed.post '{"text":"x","createdAt":"'$NOW'","n":1.5}' \
    '"validate":false'
check_status "a float is refused even with validate:false" 400
create app.bsky.feed.post '{"$type":"app.bsky.feed.like"}' '"validate":false'
refused "a \$type other than the collection, even with validate:false" \
    "Invalid \$type: expected app.bsky.feed.post, got app.bsky.feed.like"

# ---- applyWrites: the same rules, every write checked ----
printf '{"repo":"%s","writes":[{"$type":"com.atproto.repo.applyWrites#create","collection":"app.bsky.feed.post","value":%s},{"$type":"com.atproto.repo.applyWrites#create","collection":"app.bsky.feed.post","value":%s}]}' \
    "$DID" "$(post ok)" "$(post "$(rep b 301)")" >"$T_DIR/in.json"
req POST /xrpc/com.atproto.repo.applyWrites -H "$AUTH" -H "$JSON" \
    --data-binary "@$T_DIR/in.json"
refused "applyWrites with one over-long post" \
    "Record/text must not be longer than 300 graphemes"
req GET "/xrpc/com.atproto.repo.listRecords?repo=$DID&collection=app.bsky.feed.post&limit=100"
n=$(grep -o '"uri":' "$T_DIR/body" | wc -l)
check "nothing of the refused batch was written ($n posts)" test "$n" -eq 3

pds_stop
t_done
