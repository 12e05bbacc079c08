#!/bin/sh
# test_lexicon_resolve: lexicon resolution against schemas published in
# a local account's repo.  pdsd runs with PDS_LEXICON_AUTHORITY_DID set
# to that account, so every NSID resolves through it (no DNS): the DID
# through the real PLC directory (Node 22), then the record and its
# proof from pdsd's own com.atproto.sync.getRecord.  Checked through
# `pdsctl lexicon show|refresh`: a first resolution, a cache hit, a
# stale document fetched again, a failed refresh that keeps serving the
# old document until it expires, the failure cache, and records that
# must be refused (an id that is not the NSID, not a lexicon document).
# Then the same through DNS: TXT records _lexicon.<authority> served by a
# local dnsmasq (Debian's dnsmasq-base) that pdsd asks instead of the
# system's name servers (PDS_DEV_DNS_SERVER, development mode only).
T_NAME=test_lexicon_resolve
. "$(dirname "$0")/lib.sh"

PDSCTL=${PDSCTL:-$B/bin/pdsctl}
case $PDSCTL in /*) ;; *) PDSCTL=$(pwd)/$PDSCTL ;; esac
SOCK=$T_DIR/pdsd.sock
OUT=$T_DIR/out
ERR=$T_DIR/err

[ -d tests/interop/node_modules/@did-plc/server ] || {
	echo "$T_NAME: skipped (tests/interop/setup.sh has not run)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
command -v sqlite3 >/dev/null 2>&1 || {
	echo "$T_NAME: needs sqlite3"
	echo "$T_NAME: 0 passed, 1 failed"
	exit 1
}

# want DESC PATH VALUE: a value of the last --json answer
want() {
	_v=$(jget "$2")
	if [ "$_v" = "$3" ]; then ok "$1"
	else not_ok "$1" "$2 is '$_v', want '$3'; out: $(head -c 400 "$OUT"); err: $(head -c 200 "$ERR")"
	fi
}

plc_start
BASE_ENV="PDS_DID_PLC_URL=$PLC_URL PDS_SERVICE_HANDLE_DOMAINS=.test PDS_INVITE_REQUIRED=false PDS_HOSTNAME=localhost PDS_ADMIN_SOCKET=$SOCK"
# shellcheck disable=SC2086
pds_env $BASE_ENV
pds_start || { t_done; exit 1; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"lexauth.test","email":"lexauth@example.com","password":"lexauth-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
AUTH="Authorization: Bearer $TOK"
JSON='Content-Type: application/json'

# publish RKEY DOC: putRecord of a com.atproto.lexicon.schema record.
publish() {
	printf '{"repo":"%s","collection":"com.atproto.lexicon.schema","rkey":"%s","record":%s}' \
	    "$DID" "$1" "$2" >"$T_DIR/in.json"
	req POST /xrpc/com.atproto.repo.putRecord -H "$AUTH" -H "$JSON" \
	    --data-binary "@$T_DIR/in.json"
	check_status "publish $1" 200
}
unpublish() {
	req POST /xrpc/com.atproto.repo.deleteRecord -H "$AUTH" -H "$JSON" \
	    --data "{\"repo\":\"$DID\",\"collection\":\"com.atproto.lexicon.schema\",\"rkey\":\"$1\"}"
	check_status "delete $1" 200
}
permset() {
	printf '{"$type":"com.atproto.lexicon.schema","lexicon":1,"id":"%s","defs":{"main":{"type":"permission-set","title":"%s","permissions":[{"type":"permission","resource":"repo","collection":["com.example.test.post"]}]}}}' "$1" "$2"
}

publish com.example.test.authBasic "$(permset com.example.test.authBasic "First title")"
publish com.example.test.wrongId "$(permset com.example.test.otherId "Wrong")"
publish com.example.test.note '{"$type":"com.atproto.lexicon.schema","lexicon":1,"id":"com.example.test.note","defs":{"main":{"type":"record","key":"tid","record":{"type":"object","required":["text"],"properties":{"text":{"type":"string","maxLength":10}}}}}}'
publish com.example.test.notLexicon '{"$type":"com.atproto.lexicon.schema","lexicon":1,"id":"com.example.test.notLexicon","defs":{"main":{"type":"no-such-type"}}}'

# Again with the account as the authority of every NSID, and short times.
pds_stop
# shellcheck disable=SC2086
pds_env $BASE_ENV "PDS_LEXICON_AUTHORITY_DID=$DID" \
    PDS_LEXICON_STALE_TTL=2000 PDS_LEXICON_FAILURE_TTL=3000 \
    PDS_LEXICON_EXPIRY_TTL=6000 PDS_LEXICON_RESOLVE_RECORDS=true
pds_start || { t_done; exit 1; }
"$PDSD" -c "$T_DIR/pds.env" --check-config >"$OUT" 2>&1
check "--check-config shows PDS_LEXICON_AUTHORITY_DID" \
    grep -q "PDS_LEXICON_AUTHORITY_DID=$DID" "$OUT"

N=com.example.test.authBasic
ctl --json lexicon show $N
want "first show resolves" '$.resolved' 1
want "  from the network" '$.cached' 0
want "  the record's at-uri" '$.uri' "at://$DID/com.atproto.lexicon.schema/$N"
want "  the permission set" '$.document.defs.main.title' "First title"
check "  a CID" sh -c "[ -n \"\$(sqlite3 :memory: \"SELECT json_extract(readfile('$OUT'), '\$.cid');\")\" ]"
ctl --json lexicon show $N
want "second show is a cache hit" '$.cached' 1
want "  same document" '$.document.defs.main.title' "First title"

publish $N "$(permset $N "Second title")"
ctl --json lexicon show $N
want "fresh entry: the old document until it is stale" \
    '$.document.defs.main.title' "First title"
sleep 2.2
ctl --json lexicon show $N
want "stale entry fetched again" '$.document.defs.main.title' "Second title"
want "  not from the cache" '$.cached' 0

unpublish $N
ctl --json lexicon refresh $N
want "failed refresh keeps the document" '$.resolved' 1
want "  marked stale" '$.stale' 1
want "  the old document" '$.document.defs.main.title' "Second title"
check "  says why" grep -q '"error":' "$OUT"
ctl --json lexicon show $N
want "  then served from the cache" '$.cached' 1
want "  still marked stale" '$.stale' 1
sleep 6.2
ctl --json lexicon refresh $N
want "past its expiry the document is gone" '$.resolved' 0

M=com.example.test.later
ctl --json lexicon show $M
want "unpublished NSID does not resolve" '$.resolved' 0
ctl --json lexicon show $M
want "  the failure is cached" '$.cached' 1
publish $M "$(permset $M "Later")"
ctl --json lexicon show $M
want "  still failing within the failure TTL" '$.resolved' 0
sleep 3.2
ctl --json lexicon show $M
want "  resolved after the failure TTL" '$.resolved' 1

ctl --json lexicon refresh com.example.test.wrongId
want "a document whose id is not its NSID is refused" '$.resolved' 0
check "  says why" grep -q "id is not com.example.test.wrongId" "$OUT"
ctl --json lexicon refresh com.example.test.notLexicon
want "an invalid lexicon document is refused" '$.resolved' 0
# PDS_LEXICON_RESOLVE_RECORDS: records of a resolved third-party lexicon.
# create COLLECTION RECORD: createRecord
create() {
	printf '{"repo":"%s","collection":"%s","record":%s}' "$DID" "$1" "$2" \
	    >"$T_DIR/in.json"
	req POST /xrpc/com.atproto.repo.createRecord -H "$AUTH" -H "$JSON" \
	    --data-binary "@$T_DIR/in.json"
}
ctl --json lexicon show com.example.test.note
want "a record lexicon resolves" '$.resolved' 1
create com.example.test.note '{"text":"short"}'
check_status "a record its resolved schema accepts" 200
check "  is valid" body_has '"validationStatus":"valid"'
create com.example.test.note '{"text":"far too long for it"}'
check_status "a record its resolved schema refuses" 400
check "  with the validator's message" \
    body_has '"message":"Record/text must not be longer than 10 characters"'
create com.example.test.note '{"nope":1}'
check_status "a record missing a required field" 400
# A collection nobody asked about yet: the first write may only start
# the resolution (an HTTP worker does not fetch); later ones are checked.
publish com.example.test.memo "$(printf '%s' '{"$type":"com.atproto.lexicon.schema","lexicon":1,"id":"com.example.test.memo","defs":{"main":{"type":"record","key":"tid","record":{"type":"object","properties":{"n":{"type":"integer","maximum":5}}}}}}')"
_i=0
while :; do
	create com.example.test.memo '{"n":1}'
	body_has '"validationStatus":"valid"' && break
	_i=$((_i + 1))
	[ $_i -lt 30 ] || break
	sleep 0.1
done
check "a first write resolves its lexicon, then records are checked" \
    body_has '"validationStatus":"valid"'
create com.example.test.memo '{"n":9}'
check_status "  and refused when they break it" 400
create com.example.test.unpublished '{"text":"x"}'
check_status "no lexicon: accepted" 200
check "  as unknown" body_has '"validationStatus":"unknown"'

ctl lexicon show 'not an nsid'
check "a malformed NSID is an error" [ "$RC" != 0 ]
ctl lexicon show $M
check "human output" grep -q '^status: *resolved' "$OUT"

pds_stop
check "pdsd exits cleanly" [ $? -eq 0 ]

# DNS: _lexicon.<authority> TXT records served by a local dnsmasq, to
# which pdsd sends its lookups (PDS_DEV_DNS_SERVER), with no override.
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
if [ ! -x "$DNSMASQ" ]; then
	echo "# dnsmasq is missing (scripts/deps.sh installs dnsmasq-base): DNS cases skipped"
	t_done
	exit $?
fi
DNS_PORT=$(pick_port)
"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv \
    --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
    --port="$DNS_PORT" --user="$(id -un)" --pid-file="$T_DIR/dnsmasq.pid" \
    --txt-record="_lexicon.test.example.com,did=$DID" \
    --txt-record="_lexicon.two.example.com,did=$DID" \
    --txt-record="_lexicon.two.example.com,did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa" \
    --txt-record="_lexicon.none.example.com,something else" \
    --txt-record="_lexicon.split.example.com,did=did:plc:,${DID#did:plc:}" \
    >"$T_DIR/dnsmasq.log" 2>&1 &
DNS_PID=$!
trap 'kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null; t_cleanup' EXIT
sleep 0.3
check "dnsmasq runs" kill -0 "$DNS_PID"
# shellcheck disable=SC2086
pds_env $BASE_ENV "PDS_DEV_DNS_SERVER=127.0.0.1:$DNS_PORT"
pds_start || { t_done; exit 1; }
ctl --json lexicon refresh $M
want "DNS: _lexicon TXT names the authority" '$.resolved' 1
want "  its record" '$.uri' "at://$DID/com.atproto.lexicon.schema/$M"
publish com.example.split.later "$(permset com.example.split.later "Split")"
ctl --json lexicon refresh com.example.split.later
want "DNS: a TXT record in two character-strings" '$.resolved' 1
ctl --json lexicon refresh com.example.two.thing
want "DNS: two did= records refused" '$.resolved' 0
check "  says why" grep -q "Multiple" "$OUT"
ctl --json lexicon refresh com.example.none.thing
want "DNS: no did= record" '$.resolved' 0
check "  says why" grep -q "No DID found for authority none.example.com" "$OUT"
ctl --json lexicon refresh com.example.absent.thing
want "DNS: no such name" '$.resolved' 0
pds_stop
check "pdsd exits cleanly" [ $? -eq 0 ]
t_done
