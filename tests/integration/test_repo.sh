#!/bin/sh
# test_repo: the repository and sync endpoints over plain HTTP (curl):
# concurrent writes through group commit, parameter errors, unknown
# repos, getRepo?since=, getBlocks, getBlob headers, listRepos, and data
# surviving a restart.  Uses a local PLC directory for the account (Node
# 22 and the interop packages); skips without them.
T_NAME=test_repo
. "$(dirname "$0")/lib.sh"

REPOTOOL=$B/tests/repotool
PDSCTL=$B/bin/pdsctl
SOCK=$T_DIR/pdsd.sock
OUT=$T_DIR/out
ERR=$T_DIR/err
skip() {
	echo "$T_NAME: skipped ($1)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
[ -x "$REPOTOOL" ] || skip "$REPOTOOL not built"
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
NODE=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"

: >"$T_DIR/plc.out"
"$NODE" scripts/plc-server.mjs 0 >"$T_DIR/plc.out" 2>&1 &
PLC_PID=$!
trap 'pds_kill9; kill "$PLC_PID" 2>/dev/null; wait "$PLC_PID" 2>/dev/null;
    rm -rf "$T_DIR"' EXIT
PLC=
i=0
while [ $i -lt 100 ] && [ -z "$PLC" ]; do
	PLC=$(sed -n 's/^PLC listening on \(http:[^ ]*\)$/\1/p' "$T_DIR/plc.out")
	sleep 0.1
	i=$((i + 1))
done
[ -n "$PLC" ] || { cat "$T_DIR/plc.out"; echo "$T_NAME: 0 passed, 1 failed"; exit 1; }

pds_env "PDS_DID_PLC_URL=$PLC" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_ADMIN_SOCKET=$SOCK" "PDS_REPO_RECENT_BLOCKS=16" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost"
pds_start || { t_done; exit 1; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"carol.test","email":"carol@example.com","password":"carol-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
AUTH="Authorization: Bearer $TOK"
JSON='Content-Type: application/json'
COLL=com.example.test.item
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T_DIR/body"; }

# ---- the genesis commit ----
req GET "/xrpc/com.atproto.sync.getLatestCommit?did=$DID"
check_status "getLatestCommit of a new repo" 200
REV0=$(field rev)
check "a new repo has a rev" test -n "$REV0"

# ---- 40 concurrent writes: every one answered, every one stored ----
n=1
pids=
while [ $n -le 40 ]; do
	curl -s -o "$T_DIR/w.$n" -w '%{http_code}\n' -X POST -H "$AUTH" \
	    -H "$JSON" --data "{\"repo\":\"$DID\",\"collection\":\"$COLL\",\"rkey\":\"k$n\",\"record\":{\"n\":$n}}" \
	    "$URL/xrpc/com.atproto.repo.createRecord" >"$T_DIR/code.$n" &
	pids="$pids $!"
	n=$((n + 1))
done
for p in $pids; do wait "$p"; done
ok200=$(cat "$T_DIR"/code.* | grep -c '^200$')
check "40 concurrent createRecord all succeed ($ok200)" test "$ok200" -eq 40
revs=$(for f in "$T_DIR"/w.*; do sed -n 's/.*"rev":"\([^"]*\)".*/\1/p' "$f";
    echo; done | grep . | sort -u | wc -l)
check "each got its own commit" test "$revs" -eq 40
req GET "/xrpc/com.atproto.repo.listRecords?repo=$DID&collection=$COLL&limit=100"
check_status "listRecords" 200
cnt=$(grep -o '"uri":' "$T_DIR/body" | wc -l)
check "listRecords shows the 40 records ($cnt)" test "$cnt" -eq 40
check "no cursor after the last page" sh -c "! grep -q '\"cursor\"' '$T_DIR/body'"

# The writer's page cache (16 MiB at most) goes back once it is idle.
i=0
while :; do
	ctl --json stats
	wc=$(jget '$.counters."repo.writer_cache_bytes".value')
	[ -n "$wc" ] && [ "$wc" -lt 65536 ] && break
	[ $i -ge 30 ] && break
	sleep 0.1
	i=$((i + 1))
done
check "the idle writer gives its page cache back ($wc bytes)" \
    test -n "$wc" -a "${wc:-1}" -lt 65536
# PDS_REPO_RECENT_BLOCKS=16: the reads below find blocks in both tables.
ns=$(jget '$.counters."repo.blocks_settled".value')
check "blocks moved out of repo_blocks_recent (${ns:-none})" \
    test "${ns:-0}" -gt 0

# ---- parameter errors and unknown repos ----
req GET "/xrpc/com.atproto.repo.listRecords?repo=$DID&collection=$COLL&limit=101"
check_status "limit above 100 is refused" 400
req GET "/xrpc/com.atproto.repo.getRecord?repo=$DID&collection=$COLL&rkey=a/b"
check_status "a bad rkey is refused" 400
req GET "/xrpc/com.atproto.repo.getRecord?repo=$DID&collection=$COLL&rkey=nope"
check_status "an absent record" 400
check "... is RecordNotFound" body_has '"RecordNotFound"'
req GET "/xrpc/com.atproto.sync.getRepo?did=$DID&since=notatid"
check_status "since must be a TID" 400
req GET "/xrpc/com.atproto.sync.getLatestCommit?did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
check_status "an unknown repo" 400
check "... is RepoNotFound" body_has '"RepoNotFound"'
req GET "/xrpc/com.atproto.repo.describeRepo?repo=nobody.test"
check "describeRepo of an unknown handle is RepoNotFound" body_has '"RepoNotFound"'
req POST /xrpc/com.atproto.repo.createRecord -H "$JSON" \
    --data "{\"repo\":\"$DID\",\"collection\":\"$COLL\",\"record\":{}}"
check_status "writing without credentials" 401
req POST /xrpc/com.atproto.repo.createRecord -H "$AUTH" -H "$JSON" \
    --data "{\"repo\":\"$DID\",\"collection\":\"$COLL\",\"rkey\":\"k1\",\"record\":{}}"
check_status "creating an existing rkey" 400

# ---- getRepo, since=, getBlocks ----
req GET "/xrpc/com.atproto.sync.getRepo?did=$DID"
check_status "getRepo" 200
check "getRepo is a CAR" header_has '^content-type: application/vnd.ipld.car'
cp "$T_DIR/body" "$T_DIR/full.car"
DIDKEY=$(curl -s "$PLC/$DID/data" |
    sed -n 's/.*"atproto":"\(did:key:[^"]*\)".*/\1/p')
"$REPOTOOL" import --pubkey "$DIDKEY" --did "$DID" <"$T_DIR/full.car" \
    >"$T_DIR/import.json" 2>&1
check "getRepo verifies" test $? -eq 0
nrec=$(grep -o "\"$COLL/k[0-9]*\"" "$T_DIR/import.json" | wc -l)
check "getRepo holds the 40 records ($nrec)" test "$nrec" -eq 40
req GET "/xrpc/com.atproto.sync.getRepo?did=$DID&since=$REV0"
check_status "getRepo since the genesis rev" 200
full=$(wc -c <"$T_DIR/full.car")
since=$(wc -c <"$T_DIR/body")
check "the diff is not bigger than the repo ($since <= $full)" \
    test "$since" -le "$full"
req GET "/xrpc/com.atproto.sync.getLatestCommit?did=$DID"
HEAD=$(field cid)
req GET "/xrpc/com.atproto.sync.getRepo?did=$DID&since=$(field rev)"
check "getRepo since the head has only the commit" \
    test "$(wc -c <"$T_DIR/body")" -lt 1000
req GET "/xrpc/com.atproto.sync.getBlocks?did=$DID&cids=$HEAD"
check_status "getBlocks of the head" 200
req GET "/xrpc/com.atproto.sync.getBlocks?did=$DID&cids=bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
check_status "getBlocks of a block the repo does not have" 400
check "... is BlockNotFound" body_has '"BlockNotFound"'
# Records keep their bytes in their rows, not beside the tree's nodes.
rcid() { sed -n 's/^{"uri":"[^"]*","cid":"\([^"]*\)".*/\1/p' "$T_DIR/w.$1"; }
R1=$(rcid 1) R2=$(rcid 2)
req GET "/xrpc/com.atproto.sync.getBlocks?did=$DID&cids=$R1&cids=$HEAD&cids=$R2"
check_status "getBlocks of two records and the head" 200
cat >"$T_DIR/blocks.mjs" <<'EOF'
// The CIDs of a CAR's blocks (readCar checks each against its bytes).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
const { readCar } = await import(pathToFileURL(process.argv[2]).href);
const { blocks } = await readCar(fs.readFileSync(process.argv[3]));
console.log([...blocks.entries()].map((e) => e.cid.toString()).join(' '));
EOF
cp "$T_DIR/body" "$T_DIR/blocks.car"
got=$("$NODE" "$T_DIR/blocks.mjs" \
    "$PWD/tests/interop/node_modules/@atproto/repo/dist/index.js" \
    "$T_DIR/blocks.car" 2>&1)
check "... holds exactly those three, their bytes hashing to their CIDs ($got)" \
    test "$(echo "$got" | tr ' ' '\n' | sort | tr '\n' ' ')" = \
    "$(printf '%s\n' "$R1" "$HEAD" "$R2" | sort | tr '\n' ' ')"
req GET "/xrpc/com.atproto.sync.getBlocks?did=$DID&cids=$R1&cids=bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
check_status "getBlocks of a record and a block the repo does not have" 400
check "... names the missing one" body_has 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'

# ---- a blob, served with its protective headers ----
printf 'GIF89a-some-bytes' >"$T_DIR/g.gif"
req POST /xrpc/com.atproto.repo.uploadBlob -H "$AUTH" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T_DIR/g.gif"
check_status "uploadBlob" 200
BLOB=$(sed -n 's/.*"\$link":"\([^"]*\)".*/\1/p' "$T_DIR/body")
check "the upload's type is sniffed" body_has '"mimeType":"image/gif"'
req POST /xrpc/com.atproto.repo.createRecord -H "$AUTH" -H "$JSON" \
    --data "{\"repo\":\"$DID\",\"collection\":\"$COLL\",\"rkey\":\"blob\",\"record\":{\"b\":{\"\$type\":\"blob\",\"ref\":{\"\$link\":\"$BLOB\"},\"mimeType\":\"image/gif\",\"size\":17}}}"
check_status "a record referencing it" 200
req GET "/xrpc/com.atproto.sync.getBlob?did=$DID&cid=$BLOB"
check_status "getBlob" 200
check "Content-Type" header_has '^content-type: image/gif'
check "Content-Length" header_has '^content-length: 17'
check "nosniff" header_has '^x-content-type-options: nosniff'
check "CSP" header_has "^content-security-policy: default-src 'none'; sandbox"
check "attachment" header_has "^content-disposition: attachment; filename=\"$BLOB\""
check "the bytes" cmp -s "$T_DIR/body" "$T_DIR/g.gif"
req GET "/xrpc/com.atproto.sync.listBlobs?did=$DID"
check "listBlobs names it" body_has "\"$BLOB\""
req GET "/xrpc/com.atproto.sync.listBlobs?did=$DID&since=$REV0"
check "listBlobs since the genesis names it" body_has "\"$BLOB\""

# ---- listRepos, and a restart keeps everything ----
req GET "/xrpc/com.atproto.sync.getLatestCommit?did=$DID"
HEAD=$(field cid)
req GET "/xrpc/com.atproto.sync.listRepos"
check "listRepos names the repo" body_has "\"did\":\"$DID\""
check "... with its head" body_has "\"head\":\"$HEAD\""
req GET "/xrpc/com.atproto.sync.getLatestCommit?did=$DID"
HEAD=$(field cid)
pds_stop
check "pdsd stops cleanly" test $? -eq 0
pds_start
req GET "/xrpc/com.atproto.sync.getLatestCommit?did=$DID"
check "the head survives a restart" body_has "\"cid\":\"$HEAD\""
req POST /xrpc/com.atproto.repo.createRecord -H "$AUTH" -H "$JSON" \
    --data "{\"repo\":\"$DID\",\"collection\":\"$COLL\",\"record\":{\"after\":true}}"
check_status "writes go on after a restart" 200
req GET "/xrpc/com.atproto.repo.listRecords?repo=$DID&collection=$COLL&limit=100"
cnt=$(grep -o '"uri":' "$T_DIR/body" | wc -l)
check "42 records after the restart ($cnt)" test "$cnt" -eq 42
t_done
