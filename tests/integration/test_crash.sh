#!/bin/sh
# test_crash: repo writes survive SIGKILL.  Several writers (and a
# deleter) hammer one repo through pdsd while pdsd is killed with SIGKILL
# at random moments and restarted, round after round.  Afterwards:
#   - every write that was acknowledged (HTTP 200) is there, and every
#     acknowledged delete is gone;
#   - the repo from sync.getRepo verifies (repotool import: signature
#     against the account's key from the PLC directory, MST structure);
#   - the record index holds exactly the records of the signed repo;
#   - the event log holds one #commit per commit: a chain from the
#     genesis commit (since null) to the head, each since = the previous
#     rev, each body's seq = its row's seq.
# Needs Node 22 with the interop packages (a local PLC directory), the
# sqlite3 command and $B/tests/repotool; skips without them.
T_NAME=test_crash
. "$(dirname "$0")/lib.sh"

ROUNDS=${CRASH_ROUNDS:-8}
WRITERS=3
REPOTOOL=$B/tests/repotool
ROOT=$(pwd)

skip() {
	echo "$T_NAME: skipped ($1)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
[ -x "$REPOTOOL" ] || skip "$REPOTOOL not built"
command -v sqlite3 >/dev/null 2>&1 || skip "no sqlite3 command"
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
NODE=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"

# ---- a local PLC directory ----
: >"$T_DIR/plc.out"
"$NODE" scripts/plc-server.mjs 0 >"$T_DIR/plc.out" 2>&1 &
PLC_PID=$!
plc_stop() {
	kill "$PLC_PID" 2>/dev/null
	wait "$PLC_PID" 2>/dev/null
}
trap 'pds_kill9; plc_stop; rm -rf "$T_DIR"' EXIT
PLC=
i=0
while [ $i -lt 100 ] && [ -z "$PLC" ]; do
	PLC=$(sed -n 's/^PLC listening on \(http:[^ ]*\)$/\1/p' "$T_DIR/plc.out")
	sleep 0.1
	i=$((i + 1))
done
[ -n "$PLC" ] || { cat "$T_DIR/plc.out"; echo "$T_NAME: 0 passed, 1 failed"; exit 1; }

# A small repo_blocks_recent: blocks move to repo_blocks all the time,
# so kills land in those moves too, and deletes find blocks in both.
pds_env "PDS_DID_PLC_URL=$PLC" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
    "PDS_REPO_RECENT_BLOCKS=16"
pds_start || { t_done; exit 1; }

# ---- an account ----
req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"crash.test","email":"crash@example.com","password":"crash-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
[ -n "$DID" ] && [ -n "$TOK" ] || { t_done; exit 1; }
DIDKEY=$(curl -s "$PLC/$DID/data" |
    sed -n 's/.*"atproto":"\(did:key:[^"]*\)".*/\1/p')
check "the PLC directory names the account's key" test -n "$DIDKEY"

COLL=com.example.crash.item

writer() {	# round id: create until the server goes away
	_n=0
	while :; do
		_rk=$(printf 'r%02d-w%d-%06d' "$1" "$2" "$_n")
		_c=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST \
		    -H "Authorization: Bearer $TOK" \
		    -H 'Content-Type: application/json' \
		    --data "{\"repo\":\"$DID\",\"collection\":\"$COLL\",\"rkey\":\"$_rk\",\"record\":{\"n\":$_n,\"w\":$2}}" \
		    "$URL/xrpc/com.atproto.repo.createRecord")
		case $_c in
		200)	echo "$_rk" >>"$T_DIR/acked" ;;
		000)	return ;;
		*)	echo "$_rk $_c" >>"$T_DIR/refused" ;;
		esac
		_n=$((_n + 1))
	done
}

deleter() {	# delete records acknowledged in earlier rounds
	[ -f "$T_DIR/acked.prev" ] || return
	while read -r _rk; do
		echo "$_rk" >>"$T_DIR/tried"	# may be applied, unacknowledged
		_c=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST \
		    -H "Authorization: Bearer $TOK" \
		    -H 'Content-Type: application/json' \
		    --data "{\"repo\":\"$DID\",\"collection\":\"$COLL\",\"rkey\":\"$_rk\"}" \
		    "$URL/xrpc/com.atproto.repo.deleteRecord")
		case $_c in
		200)	echo "$_rk" >>"$T_DIR/deleted" ;;
		000)	return ;;
		esac
	done <"$T_DIR/acked.prev"
}

: >"$T_DIR/acked"
: >"$T_DIR/deleted"
: >"$T_DIR/tried"
round=1
while [ "$round" -le "$ROUNDS" ]; do
	# every 4th acknowledged record of earlier rounds gets deleted
	awk 'NR % 4 == 0' "$T_DIR/acked" >"$T_DIR/acked.prev"
	pids=
	w=1
	while [ $w -le $WRITERS ]; do
		writer "$round" "$w" &
		pids="$pids $!"
		w=$((w + 1))
	done
	deleter &
	pids="$pids $!"
	# let them run 0.3 to 1.5 s, then SIGKILL
	sleep "$(awk -v s="$$$round" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.2 }')"
	pds_kill9
	for p in $pids; do wait "$p"; done
	pds_start || { not_ok "restart after SIGKILL $round"; break; }
	round=$((round + 1))
done
NACK=$(wc -l <"$T_DIR/acked")
NDEL=$(wc -l <"$T_DIR/deleted")
echo "# $ROUNDS kills; $NACK creates and $NDEL deletes acknowledged"
check "writes were acknowledged between the kills" test "$NACK" -gt 50
check "deletes were acknowledged between the kills" test "$NDEL" -gt 0
if [ -f "$T_DIR/refused" ]; then
	not_ok "no write was refused" "$(head -3 "$T_DIR/refused")"
else
	ok "no write was refused"
fi

# ---- the signed repo ----
curl -s -o "$T_DIR/repo.car" "$URL/xrpc/com.atproto.sync.getRepo?did=$DID"
"$REPOTOOL" import --pubkey "$DIDKEY" --did "$DID" <"$T_DIR/repo.car" \
    >"$T_DIR/import.json" 2>"$T_DIR/import.err"
check "getRepo verifies against the account's PLC key" test $? -eq 0
tr ',{}' '\n\n\n' <"$T_DIR/import.json" |
    sed -n "s/^\"$COLL\/\([^\"]*\)\":.*/\1/p" | sort >"$T_DIR/in_repo"
sort -u "$T_DIR/acked" >"$T_DIR/acked.s"
sort -u "$T_DIR/deleted" >"$T_DIR/deleted.s"
sort -u "$T_DIR/tried" >"$T_DIR/tried.s"
# a delete killed in flight may have been applied without its answer
comm -23 "$T_DIR/acked.s" "$T_DIR/tried.s" >"$T_DIR/want"
missing=$(comm -23 "$T_DIR/want" "$T_DIR/in_repo" | wc -l)
check "every acknowledged create is in the repo ($missing missing)" \
    test "$missing" -eq 0
back=$(comm -12 "$T_DIR/deleted.s" "$T_DIR/in_repo" | wc -l)
check "every acknowledged delete is gone ($back back)" test "$back" -eq 0
stray=$(grep -cvE '^r[0-9]{2}-w[0-9]-[0-9]{6}$' "$T_DIR/in_repo")
check "the repo holds only records the writers sent" test "$stray" -eq 0

# ---- the record index and the blocks, read while pdsd is stopped ----
pds_stop
DB=$T_DIR/data/pds.sqlite
sqlite3 "$DB" "SELECT rkey FROM records WHERE did = '$DID' AND
    collection = '$COLL' ORDER BY rkey" | sort >"$T_DIR/indexed"
check "the record index equals the signed repo" \
    cmp -s "$T_DIR/indexed" "$T_DIR/in_repo"
# the tree's nodes and the commit; each record's bytes are in its row
nblocks=$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM repo_blocks WHERE did = '$DID') + (SELECT count(*) FROM repo_blocks_recent WHERE did = '$DID')")
nrec=$(sqlite3 "$DB" "SELECT count(DISTINCT cid) FROM records WHERE did = '$DID' AND content IS NOT NULL")
nnull=$(sqlite3 "$DB" "SELECT count(*) FROM records WHERE did = '$DID' AND content IS NULL")
check "every indexed record has its bytes ($nnull without)" test "$nnull" -eq 0
cat >"$T_DIR/car.mjs" <<'EOF'
// The number of distinct blocks in a CAR file.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
const { readCar } = await import(pathToFileURL(process.argv[2]).href);
const { blocks } = await readCar(fs.readFileSync(process.argv[3]));
console.log(blocks.size);
EOF
ncar=$("$NODE" "$T_DIR/car.mjs" \
    "$ROOT/tests/interop/node_modules/@atproto/repo/dist/index.js" \
    "$T_DIR/repo.car")
echo "# repo_blocks and repo_blocks_recent rows: $nblocks, distinct record values $nrec; distinct blocks in getRepo: $ncar"
check "no garbage blocks are kept ($nblocks + $nrec stored, $ncar live)" \
    test "$((nblocks + nrec))" -eq "$ncar"
nsettled=$(sqlite3 "$DB" "SELECT count(*) FROM repo_blocks WHERE did = '$DID'")
check "most of them were moved out of repo_blocks_recent ($nsettled)" \
    test "$nsettled" -gt $((nblocks / 2))

# ---- the event log ----
sqlite3 "$DB" "SELECT seq || ' ' || hex(event) || ' ' || encoding FROM events
    WHERE did = '$DID' AND type = 'commit' ORDER BY seq" >"$T_DIR/events"
head=$(sqlite3 "$DB" "SELECT cid || ' ' || rev FROM repo_root WHERE did = '$DID'")
cat >"$T_DIR/chain.cjs" <<'EOF'
// Check the #commit rows of one repo form one chain to the head.
const fs = require('fs');
const zlib = require('zlib');
const cbor = require(process.argv[2]);
const [headCid, headRev] = process.argv[4].split(' ');
const rows = fs.readFileSync(process.argv[3], 'utf8').trim().split('\n');
let prevRev = null, n = 0, problems = [];
const seen = new Set();
// A CBOR unsigned integer, shortest form.
function uint(n) {
	if (n < 24) return Buffer.from([n]);
	if (n < 0x100) return Buffer.from([0x18, n]);
	if (n < 0x10000) return Buffer.from([0x19, n >> 8, n & 0xff]);
	const x = Buffer.alloc(5); x[0] = 0x1a; x.writeUInt32BE(n, 1); return x;
}
// encoding 1: the body as a zlib stream; 2: a zlib stream of the head
// length (u32), the part before "seq" and the part after it
function body(enc, raw, seq) {
	if (enc === '1') return zlib.inflateSync(raw);
	if (enc !== '2') return raw;
	const p = zlib.inflateSync(raw);
	const h = p.readUInt32BE(0);
	return Buffer.concat([p.subarray(4, 4 + h), Buffer.from('63736571', 'hex'),
		uint(seq), p.subarray(4 + h)]);
}
for (const line of rows) {
	const [seq, hex, enc] = line.split(' ');
	const raw = Buffer.from(hex, 'hex');
	const b = cbor.decode(body(enc, raw, Number(seq)));
	if (b.seq !== Number(seq)) problems.push(`seq ${seq}: body seq ${b.seq}`);
	if (b.since !== prevRev) problems.push(`seq ${seq}: since ${b.since}, previous rev ${prevRev}`);
	if (prevRev !== null && !(b.rev > prevRev)) problems.push(`seq ${seq}: rev not increasing`);
	const c = b.commit.toString();
	if (seen.has(c)) problems.push(`seq ${seq}: commit ${c} twice`);
	seen.add(c);
	prevRev = b.rev;
	n++;
	var last = c;
}
if (last !== headCid || prevRev !== headRev) problems.push(`last event ${last}/${prevRev} is not the head ${headCid}/${headRev}`);
console.log(JSON.stringify({ events: n, problems: problems.slice(0, 5) }));
process.exit(problems.length ? 1 : 0);
EOF
out=$("$NODE" "$T_DIR/chain.cjs" \
    "$ROOT/tests/interop/node_modules/@ipld/dag-cbor" "$T_DIR/events" "$head")
rc=$?
echo "# event chain: $out"
check "the event log has one #commit per commit, chained to the head" \
    test $rc -eq 0

# ---- and pdsd still works ----
pds_start
req GET "/xrpc/com.atproto.repo.listRecords?repo=$DID&collection=$COLL&limit=1"
check_status "listRecords after the crashes" 200
t_done
