#!/bin/sh
# test_pdsctl: every pdsctl command against a running pdsd, checking the
# human output, the --json output and the exit status; the admin socket's
# handling of malformed lines; and the com.atproto.admin XRPC methods
# (which share the admin service with the socket).
#
# Account commands need a PLC directory: scripts/plc-server.mjs under
# Node 22 (tests/interop/setup.sh installs it).  Without it those cases
# are skipped with a note; everything else still runs.  JSON is read with
# the sqlite3 shell's JSON functions (jq is not a dependency).
T_NAME=test_pdsctl
. "$(dirname "$0")/lib.sh"

PDSCTL=${PDSCTL:-$B/bin/pdsctl}
case $PDSCTL in /*) ;; *) PDSCTL=$(pwd)/$PDSCTL ;; esac
SOCK=$T_DIR/pdsd.sock
OUT=$T_DIR/out
ERR=$T_DIR/err
RC=0

if [ ! -x "$PDSCTL" ] || ! command -v sqlite3 >/dev/null 2>&1; then
	echo "$T_NAME: needs $PDSCTL and sqlite3"
	echo "$T_NAME: 0 passed, 1 failed"
	exit 1
fi

# ctl ARGS...: run pdsctl on our socket; $RC, $OUT, $ERR
# ctl_in INPUT ARGS...: the same with INPUT on standard input
ctl_in() {
	_in=$1
	shift
	printf '%s\n' "$_in" | "$PDSCTL" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}
# jget PATH [FILE]: a value out of a JSON file ($OUT by default)
jvalid() {
	[ "$(sqlite3 :memory: "SELECT json_valid(readfile('${1:-$OUT}'));")" = 1 ]
}
# expect DESC WANT_RC [grep pattern on stdout]
expect() {
	_d=$1 _w=$2 _p=${3:-}
	if [ "$RC" != "$_w" ]; then
		not_ok "$_d" "exit $RC, want $_w; stdout: $(head -c 300 "$OUT"); stderr: $(head -c 300 "$ERR")"
	elif [ -n "$_p" ] && ! grep -qE -- "$_p" "$OUT"; then
		not_ok "$_d" "stdout lacks /$_p/: $(head -c 300 "$OUT")"
	else
		ok "$_d"
	fi
}
# expect_err DESC WANT_RC PATTERN: the same, pattern on stderr
expect_err() {
	if [ "$RC" = "$2" ] && grep -qE -- "$3" "$ERR"; then ok "$1"
	else not_ok "$1" "exit $RC, want $2; stderr: $(head -c 300 "$ERR")"
	fi
}
# expect_json DESC PATH WANT: exit 0, valid JSON, and a value
expect_json() {
	if [ "$RC" != 0 ]; then
		not_ok "$1" "exit $RC; stderr: $(head -c 300 "$ERR")"
	elif ! jvalid; then
		not_ok "$1" "not JSON: $(head -c 300 "$OUT")"
	elif [ "$(jget "$2")" != "$3" ]; then
		not_ok "$1" "$2 is '$(jget "$2")', want '$3'"
	else
		ok "$1"
	fi
}
sql() { sqlite3 "$T_DIR/data/pds.sqlite" "$1"; }
# check_sql DESC SQL WANT: a query on pdsd's database
check_sql() {
	_got=$(sql "$2")
	if [ "$_got" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$_got', want '$3'"; fi
}
audit_has() {	# audit_has ACTION OUTCOME [ACTOR]
	[ "$(sql "SELECT count(*) FROM audit_log WHERE action = '$1' AND
	    json_extract(detail, '\$.outcome') = '$2' ${3:+AND actor = '$3'}")" -gt 0 ]
}

# ---- a PLC directory and a fake relay (Node), when available ----
PLC_URL=
RELAY_URL=
NODE=
if [ -d tests/interop/node_modules/@did-plc/server ] &&
    NODE=$(scripts/node.sh 2>/dev/null); then
	"$NODE" scripts/plc-server.mjs 0 >"$T_DIR/plc.out" 2>&1 &
	PLC_PID=$!
	cat >"$T_DIR/relay.mjs" <<'EOF'
import http from 'node:http';
import fs from 'node:fs';
const log = process.argv[2];
const s = http.createServer((req, res) => {
	let body = '';
	req.on('data', (d) => { body += d; });
	req.on('end', () => {
		fs.appendFileSync(log, `${req.method} ${req.url} ${body}\n`);
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end('{}');
	});
});
s.listen(0, '127.0.0.1', () => console.log(`RELAY http://127.0.0.1:${s.address().port}`));
EOF
	"$NODE" "$T_DIR/relay.mjs" "$T_DIR/relay.log" >"$T_DIR/relay.out" 2>&1 &
	RELAY_PID=$!
	trap 'kill "$PLC_PID" "$RELAY_PID" 2>/dev/null; t_cleanup' EXIT
	_i=0
	while [ $_i -lt 100 ]; do
		PLC_URL=$(sed -n 's/^PLC listening on \(http:[^ ]*\)$/\1/p' "$T_DIR/plc.out")
		RELAY_URL=$(sed -n 's/^RELAY \(http:[^ ]*\)$/\1/p' "$T_DIR/relay.out")
		[ -n "$PLC_URL" ] && [ -n "$RELAY_URL" ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
fi
[ -n "$PLC_URL" ] || echo "# no PLC directory (Node 22 / tests/interop/setup.sh): account cases skipped"

pds_env "PDS_ADMIN_SOCKET=$SOCK" ${PLC_URL:+"PDS_DID_PLC_URL=$PLC_URL"} \
    ${RELAY_URL:+"PDS_CRAWLERS=$RELAY_URL"}
pds_start || { t_done; exit 1; }

# ---- the socket itself ----
check "the socket exists with mode 0660" \
    sh -c '[ "$(stat -c %a "$1")" = 660 ] && [ -S "$1" ]' _ "$SOCK"
"$PDSD" -c "$T_DIR/pds.env" >"$T_DIR/second.log" 2>&1 &
_p2=$!
sleep 1
if kill -0 "$_p2" 2>/dev/null; then
	kill -9 "$_p2"; wait "$_p2" 2>/dev/null
	not_ok "a second pdsd refuses the live socket"
else
	wait "$_p2"; _rc=$?
	check "a second pdsd refuses the live socket" \
	    sh -c '[ "$1" -ne 0 ] && grep -q "another pdsd answers" "$2"' _ "$_rc" "$T_DIR/second.log"
fi

# ---- local commands and usage errors ----
ctl --version; expect "--version" 0 "^pdsctl [0-9]"
ctl help; expect "help lists every command" 0 "pdsctl account takedown ACCOUNT --reason"
ctl help acc tak; expect "help for one command (prefixes)" 0 "take an account down"
ctl acount list; expect_err "an unknown word lists the valid ones" 64 "valid here: account"
ctl a list; expect_err "an ambiguous prefix lists the candidates" 64 "valid here: account audit"
ctl account takedown did:plc:aaaaaaaaaaaaaaaaaaaaaaaa
expect_err "takedown without --reason is a usage error" 64 "missing option --reason"
ctl account show; expect_err "a missing argument is a usage error" 64 "missing argument ACCOUNT"
ctl invite create --uses many; expect_err "a non-number is a usage error" 64 "needs a number"
ctl account list extra; expect_err "an extra argument is a usage error" 64 "unexpected argument"
"$PDSCTL" --socket "$T_DIR/nowhere.sock" stats >"$OUT" 2>"$ERR"; RC=$?
expect_err "an unreachable daemon is exit 69" 69 "cannot reach pdsd"
PDSCTL_SOCKET=$SOCK "$PDSCTL" stats >"$OUT" 2>"$ERR"; RC=$?
expect "PDSCTL_SOCKET chooses the socket" 0 "^accounts:"
"$PDSCTL" -c "$T_DIR/pds.env" stats >"$OUT" 2>"$ERR"; RC=$?
expect "-c ENVFILE finds PDS_ADMIN_SOCKET" 0 "^accounts:"

# ---- stats, firehose, migration, audit ----
ctl stats; expect "stats (human)" 0 "^accounts: +0 "
ctl stats --json; expect_json "stats --json" '$.accounts.total' 0
check "stats --json: uptime in whole seconds" \
    test "$(sqlite3 :memory: "SELECT json_type(readfile('$OUT'), '\$.uptime')")" = integer
check "stats --json: http.requests counted (pds_start's health checks)" \
    test "$(jget '$.counters."http.requests".value')" -gt 0
check "stats --json: http.requests has a rate" \
    test "$(sqlite3 :memory: "SELECT json_type(readfile('$OUT'), '\$.counters.\"http.requests\".rate')")" = real
check "stats --json: http.errors (5xx) is there, none yet" \
    test "$(jget '$.counters."http.errors".value')" = 0
check "stats --json: no relay crawl yet (lastCrawl null)" \
    test "$(sqlite3 :memory: "SELECT json_type(readfile('$OUT'), '\$.lastCrawl')")" = null
ctl stats; expect "stats (human) shows the uptime" 0 "^uptime: +[0-9]+s$"
expect "stats (human) shows http requests and errors" 0 "^http: +[0-9]+ requests \([0-9.]+/s\), 0 errors"
expect "stats (human) says no crawl yet" 0 "^last crawl: +never"
ctl --json stats --watch --count 2 --interval 1
head -n 1 "$OUT" >"$T_DIR/first"
if [ "$RC" = 0 ] && [ "$(wc -l <"$OUT")" -eq 2 ] && jvalid "$T_DIR/first"; then
	ok "stats --watch --count 2 streams two samples"
else
	not_ok "stats --watch --count 2 streams two samples" "rc $RC: $(cat "$OUT" "$ERR")"
fi
ctl stats --count 2; expect_err "--count without --watch is a usage error" 64 "need --watch"
ctl firehose subscribers; expect "firehose subscribers (human)" 0 "subscribers|REMOTE"
ctl firehose subscribers --json
if [ "$RC" = 0 ] && [ "$(sqlite3 :memory: "SELECT json_type(readfile('$OUT'), '\$.subscribers')")" = array ]; then
	ok "firehose subscribers --json has the array"
else
	not_ok "firehose subscribers --json has the array" "$(cat "$OUT")"
fi
ctl firehose tail --count 0 --after -1; expect_err "firehose tail --after -1 is refused (65)" 65 "InvalidArgument"
ctl help firehose tail; expect "help firehose tail" 0 "--count N"
ctl migration status; expect "migration status (human)" 0 "no accounts in migration"
ctl migration status --json; expect_json "migration status --json: nothing inbound" '$.inbound' "[]"
expect_json "migration status --json: nothing outbound" '$.outbound' "[]"
ctl migration list --json; expect_json "migration list is migration status" '$.outbound' "[]"
ctl migration purge; expect_err "migration purge with neither ACCOUNT nor --all is exit 64" 64 "give either ACCOUNT or --all"
ctl migration purge did:plc:aaaaaaaaaaaaaaaaaaaaaaaa --all --yes
expect_err "migration purge with both ACCOUNT and --all is exit 64" 64 "give either ACCOUNT or --all"
ctl migration purge --all; expect_err "migration purge without --yes and no terminal is exit 64" 64 "needs --yes"
ctl migration purge --all --yes; expect "migration purge --all with nothing moved" 0 "^nothing to purge"
ctl migration purge did:plc:aaaaaaaaaaaaaaaaaaaaaaaa --yes
expect_err "migration purge of an unknown account is exit 3" 3 "NoSuchAccount"
ctl account token did:plc:aaaaaaaaaaaaaaaaaaaaaaaa plc_operation
expect_err "account token of an unknown account is exit 3" 3 "NoSuchAccount"
ctl account token did:plc:aaaaaaaaaaaaaaaaaaaaaaaa
expect_err "account token without a purpose is exit 64" 64 "missing argument PURPOSE"

# ---- invites ----
ctl invite create --count 2 --uses 3; expect "invite create prints codes" 0 "^pds-example-com-"
check "invite create --count 2 prints two" test "$(wc -l <"$OUT")" -eq 2
CODE1=$(head -n 1 "$OUT")
CODE2=$(sed -n 2p "$OUT")
ctl invite create --json; expect_json "invite create --json" '$.account' admin
CODE3=$(jget '$.codes[0]')
ctl invite list; expect "invite list (human)" 0 "^$CODE1 +0 +3 enabled"
ctl invite list --json; expect_json "invite list --json" '$.codes[2].available' 3
ctl invite disable "$CODE1" --reason "test"; expect "invite disable" 0 "^ok"
ctl invite list; expect "a disabled code leaves the list" 0 "$CODE2"
check "... and only that one" sh -c '! grep -q "^$1" "$2"' _ "$CODE1" "$OUT"
ctl invite list --all --json
# (found by its code: codes made in one batch may share created_at)
check "invite list --all shows it disabled" test "$RC" = 0 -a \
    "$(sqlite3 :memory: "SELECT json_extract(value, '\$.disabled') FROM \
    json_each(readfile('$OUT'), '\$.codes') WHERE \
    json_extract(value, '\$.code') = '$CODE1';")" = 1
ctl invite disable pds-example-com-nope0-nope0; expect_err "disabling an unknown code is exit 3" 3 "NoSuchInvite"
ctl invite create --uses 0; expect_err "invite create --uses 0 is refused (65)" 65 "InvalidArgument"

# ---- audit ----
ctl audit; expect "audit (human) lists invite.create" 0 "unix:[^ ]+ +ok +invite.create"
ctl audit --json --since 2000-01-01; expect_json "audit --json --since" '$.entries[0].action' invite.create
ctl audit --since yesterday; expect_err "audit --since with a bad date is exit 65" 65 "since must be"
ctl audit --since 2999-01-01 --json; expect_json "audit --since the future is empty" '$.entries[0]' ""

# ---- request-crawl ----
if [ -n "$RELAY_URL" ]; then
	ctl request-crawl; expect "request-crawl (PDS_CRAWLERS)" 0 "^$RELAY_URL: ok"
	check "the relay got requestCrawl with our hostname" grep -q \
	    'POST /xrpc/com.atproto.sync.requestCrawl {"hostname":"pds.example.com"}' "$T_DIR/relay.log"
	ctl request-crawl "$RELAY_URL" --json; expect_json "request-crawl RELAY --json" '$.relays[0].ok' 1
	ctl stats --json
	check "stats --json: lastCrawl is the time of that requestCrawl" \
	    sh -c 'case $1 in 20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*Z) exit 0;; esac; exit 1' _ "$(jget '$.lastCrawl')"
	ctl stats; expect "stats (human) shows the last crawl" 0 "^last crawl: +20[0-9-]+T[0-9:.]+Z"
else
	echo "# no relay stub: request-crawl success cases skipped"
fi
ctl request-crawl http://127.0.0.1:1; expect_err "request-crawl to a dead relay is exit 1" 1 "UpstreamFailure"

# ---- backup ----
mkdir "$T_DIR/bk"
ctl backup "$T_DIR/bk/one.sqlite"; expect "backup (human)" 0 "^backup written to $T_DIR/bk/one.sqlite"
check "backup printed progress" grep -q "backup: copy" "$ERR"
check "the backup is a consistent database" \
    sh -c '[ "$(sqlite3 "$1" "PRAGMA integrity_check")" = ok ]' _ "$T_DIR/bk/one.sqlite"
check "the backup holds the invite codes" \
    sh -c '[ "$(sqlite3 "$1" "SELECT count(*) FROM invite_codes")" -eq 3 ]' _ "$T_DIR/bk/one.sqlite"
check "the backup is mode 0600" test "$(stat -c %a "$T_DIR/bk/one.sqlite")" = 600
ctl backup "$T_DIR/bk/one.sqlite"; expect_err "backup never overwrites (exit 4)" 4 "AlreadyExists"
(cd "$T_DIR/bk" && "$PDSCTL" --socket "$SOCK" --json backup two.sqlite >"$OUT" 2>"$ERR" </dev/null); RC=$?
expect_json "backup --json with a relative DEST" '$.dest' "$T_DIR/bk/two.sqlite"
ctl backup "$T_DIR/no/such/dir/x.sqlite"; expect_err "backup into a missing directory fails" 1 "IOError"

# ---- malformed lines on the socket ----
if [ -n "$NODE" ]; then
	cat >"$T_DIR/raw.mjs" <<'EOF'
import net from 'node:net';
const [sock, ...lines] = process.argv.slice(2);
const c = net.createConnection(sock);
let buf = '';
c.on('data', (d) => { buf += d; });
c.on('end', () => { process.stdout.write(buf); });
c.on('connect', () => {
	for (const l of lines)
		c.write(l === 'BIG' ? 'x'.repeat(70000) + '\n' : l + '\n');
	setTimeout(() => c.end(), 500);
});
EOF
	"$NODE" "$T_DIR/raw.mjs" "$SOCK" 'not json' '{"v":2,"id":5,"cmd":"stats"}' \
	    '{"v":1,"id":6,"cmd":"no.such"}' BIG '{"v":1,"id":7,"cmd":"server.info"}' \
	    '{"v":1,"id":8,"cmd":"stats","extra":1}' '[1]' >"$OUT" 2>"$ERR"
	check "garbage gets InvalidRequest with id null" \
	    grep -q '^{"id":null,"ok":false,"error":"InvalidRequest"' "$OUT"
	check "a wrong version gets UnsupportedVersion" \
	    grep -q '^{"id":5,"ok":false,"error":"UnsupportedVersion"' "$OUT"
	check "an unknown command gets UnknownCommand" \
	    grep -q '^{"id":6,"ok":false,"error":"UnknownCommand"' "$OUT"
	check "an over-long line gets LineTooLong" \
	    grep -q '"error":"LineTooLong"' "$OUT"
	check "the connection still works after all that" \
	    grep -q '^{"id":7,"ok":true,"result":{"version"' "$OUT"
	check "server.info advertises firehose.tail as a stream" \
	    grep -q '{"name":"firehose.tail","mutating":false,"stream":true' "$OUT"
	check "an unknown key is refused" grep -q '^{"id":8,"ok":false,"error":"InvalidRequest"' "$OUT"
	check "pdsd is still healthy" curl -sf -o /dev/null "$URL/xrpc/_health"
else
	echo "# no Node: raw protocol cases skipped"
fi

# ---- accounts ----
if [ -z "$PLC_URL" ]; then
	t_done
	exit $?
fi
A=alice.pds.example.com
ctl stats --json
SEQ0=$(jget '$.firehose.lastSeq')
ctl account create "$A" --email alice@example.com --reason "new member"
expect "account create (human) shows a generated password" 0 "^password: +[a-z2-7]{24}"
ADID=$(sed -n 's/^did: *//p' "$OUT")

# ---- firehose tail: the account's creation, read back from the log ----
ctl --json firehose tail --after "$SEQ0" --count 4
if [ "$RC" = 0 ] && [ "$(wc -l <"$OUT")" -eq 4 ]; then
	ok "firehose tail --after --count 4 --json: four lines"
else
	not_ok "firehose tail --after --count 4 --json: four lines" "rc $RC: $(head -c 600 "$OUT") $(cat "$ERR")"
fi
sed -n 1p "$OUT" >"$T_DIR/ev1"
sed -n 3p "$OUT" >"$T_DIR/ev3"
check "firehose tail: the first event is #identity of the new account with its handle" \
    test "$(jget '$.seq' "$T_DIR/ev1") $(jget '$.type' "$T_DIR/ev1") $(jget '$.did' "$T_DIR/ev1") $(jget '$.handle' "$T_DIR/ev1")" = \
    "$((SEQ0 + 1)) identity $ADID $A"
check "firehose tail: events carry time and ops" \
    sh -c '[ "$(sqlite3 :memory: "SELECT json_type(readfile('"'"'$1'"'"'), '"'"'\$.ops'"'"')")" = array ] && grep -q "\"time\":\"20" "$1"' _ "$T_DIR/ev1"
check "firehose tail: then the genesis #commit (a rev, a commit CID)" \
    sh -c 'grep -q "\"type\":\"commit\"" "$1" && grep -q "\"commit\":\"bafyrei" "$1" && grep -q "\"rev\":\"" "$1"' _ "$T_DIR/ev3"
ctl firehose tail --after "$SEQ0" --count 4
expect "firehose tail (human): one line per event" 0 "^$((SEQ0 + 1)) +20[0-9-]+T[0-9:.]+Z +identity +$ADID handle=$A$"
expect "firehose tail (human): the #account event" 0 "^$((SEQ0 + 2)) .* account +$ADID active$"
# live: started before the write, it sees the new event
"$PDSCTL" --socket "$SOCK" --json firehose tail --count 1 >"$T_DIR/live.out" 2>"$T_DIR/live.err" </dev/null &
LIVE_PID=$!
sleep 1
ctl account set-handle "$A" alice1.pds.example.com
_i=0
while [ $_i -lt 100 ] && kill -0 "$LIVE_PID" 2>/dev/null; do sleep 0.1; _i=$((_i + 1)); done
if kill -0 "$LIVE_PID" 2>/dev/null; then
	kill "$LIVE_PID"; wait "$LIVE_PID" 2>/dev/null
	not_ok "firehose tail (live) shows the handle change" "still waiting: $(cat "$T_DIR/live.out" "$T_DIR/live.err")"
else
	wait "$LIVE_PID"
	check "firehose tail (live) shows the handle change" \
	    test "$?:$(jget '$.type' "$T_DIR/live.out"):$(jget '$.handle' "$T_DIR/live.out")" = "0:identity:alice1.pds.example.com"
fi
ctl account set-handle alice1.pds.example.com "$A"
ctl account show "$A" --json
expect_json "account show: repo.records (a new repo has none)" '$.repo.records' 0
check "account show: repo.blocks and repo.bytes (the genesis commit, at least)" \
    sh -c '[ "$1" -ge 1 ] && [ "$2" -gt 0 ]' _ "$(jget '$.repo.blocks')" "$(jget '$.repo.bytes')"
check "account show: repo.blocks and bytes agree with repo_blocks and the records' bytes" \
    test "$(jget '$.repo.blocks') $(jget '$.repo.bytes')" = "$(sql "SELECT ((SELECT count(*) FROM repo_blocks WHERE did = '$ADID') + (SELECT count(*) FROM repo_blocks_recent WHERE did = '$ADID') + (SELECT count(content) FROM records WHERE did = '$ADID')) || ' ' || ((SELECT coalesce(sum(size), 0) FROM repo_blocks WHERE did = '$ADID') + (SELECT coalesce(sum(size), 0) FROM repo_blocks_recent WHERE did = '$ADID') + (SELECT coalesce(sum(length(content)), 0) FROM records WHERE did = '$ADID'))")"
expect_json "account show: blobs.count" '$.blobs.count' 0
ctl account show "$A"; expect "account show (human): repo line" 0 "^repo: +0 records, [0-9]+ blocks, [0-9.]+ (B|KiB)"
expect "account show (human): blobs line" 0 "^blobs: +0 \(0 B\)"
check "account create printed a did:plc" sh -c 'case $1 in did:plc:*) exit 0;; esac; exit 1' _ "$ADID"
ctl_in "bob-password-1" account create bob.pds.example.com --email bob@example.com --password-stdin --json
expect_json "account create --password-stdin --json" '$.handle' bob.pds.example.com
BDID=$(jget '$.did')
check "no password is echoed when one was given" test -z "$(jget '$.password')"
ctl account create "$A" --email other@example.com; expect_err "a taken handle is exit 4" 4 "AlreadyExists"
ctl account create bad_handle --email x@example.com; expect_err "a bad handle is exit 65" 65 "InvalidArgument"
ctl account list; expect "account list (human)" 0 "^$A +active +$ADID"
ctl account list --json; expect_json "account list --json" '$.accounts[1].did' "$BDID"
ctl account list --limit 1 --json; expect_json "account list --limit 1 stops with a cursor" '$.accounts[1]' ""
CUR=$(jget '$.cursor')
ctl account list --cursor "$CUR" --limit 1 --json; expect_json "account list --cursor" '$.accounts[0].did' "$BDID"
ctl account list --search ali --json; expect_json "account list --search" '$.accounts[0].did' "$ADID"
ctl account list --status takendown; expect "account list --status" 0 "no accounts"
ctl account show "$A"; expect "account show by handle" 0 "^did: +$ADID"
ctl account show alice@example.com --json; expect_json "account show by email --json" '$.handle' "$A"
ctl account show did:plc:zzzzzzzzzzzzzzzzzzzzzzzz; expect_err "account show of nobody is exit 3" 3 "NoSuchAccount"

login() {	# login IDENT PASSWORD: sets $STATUS
	req POST /xrpc/com.atproto.server.createSession \
	    -H 'Content-Type: application/json' \
	    --data "{\"identifier\":\"$1\",\"password\":\"$2\"}"
}
ctl account reset-password "$A"; expect "account reset-password (human)" 0 "^new password: "
APW=$(sed -n 's/^new password: //p' "$OUT")
login "$A" "$APW"; check_status "login with the reset password" 200
ctl_in "alice-password-2" account reset-password "$A" --password-stdin --json
expect_json "account reset-password --password-stdin --json" '$.password' ""
APW=alice-password-2
login "$A" "$APW"; check_status "login with the password from stdin" 200

ctl account set-email "$A" alice2@example.com; expect "account set-email" 0 "^ok"
ctl account show "$A" --json; expect_json "... the email changed" '$.email' alice2@example.com
ctl account set-email "$A" alice3@example.com --json; expect_json "account set-email --json" '$' "{}"
ctl account set-email "$A" not-an-email; expect_err "account set-email with a bad address is exit 65" 65 "InvalidArgument"
ctl account set-handle "$A" alice2.pds.example.com; expect "account set-handle" 0 "^ok"
A=alice2.pds.example.com
ctl account show "$ADID" --json; expect_json "... the handle changed" '$.handle' "$A"
ctl account set-handle "$A" bob.pds.example.com; expect_err "account set-handle to a taken handle is exit 4" 4 "AlreadyExists"
ctl account disable-invites "$A" --json; expect_json "account disable-invites --json" '$' "{}"
ctl account show "$A" --json; expect_json "... invites disabled" '$.invitesDisabled' 1
ctl account enable-invites "$A"; expect "account enable-invites" 0 "^ok"

ctl account takedown "$A" --reason "spam" --ref "case-17"
expect "account takedown (human)" 0 "taken down \(ref case-17\)"
login "$A" "$APW"
check_status "a taken-down account cannot log in" 401
check "... with AccountTakedown" body_has '"error":"AccountTakedown"'
check_sql "the takedown wrote an #account takendown event" \
    "SELECT count(*) > 0 FROM events WHERE did = '$ADID' AND type = 'account' AND instr(event, 'takendown') > 0" 1
ctl takedown status account "$A" --json; expect_json "takedown status account --json" '$.takedown.ref' case-17
ctl account list --status takendown; expect "account list --status takendown" 0 "$ADID"
ctl account activate "$A"; expect_err "activating a taken-down account is exit 4" 4 "AccountTakendown"
ctl account untakedown "$A" --json; expect_json "account untakedown --json" '$.takedown.applied' 0
login "$A" "$APW"; check_status "login works again after untakedown" 200
ctl account deactivate "$A" --reason "moving"; expect "account deactivate" 0 "^ok"
ctl migration list; expect "migration list shows the deactivated account" 0 "^$ADID"
ctl account show "$A" --json; expect_json "... status deactivated" '$.status' deactivated
ctl account activate "$A" --json; expect_json "account activate --json" '$' "{}"
ctl stats --json; expect_json "stats counts the accounts" '$.accounts.total' 2

# ---- records and blobs (once the repo API exists) ----
login "$A" "$APW"
TOKEN=$(jget '$.accessJwt' "$T_DIR/body")
# post TEXT [EMBED-JSON]: create a post; $URI, $RKEY
post() {
	req POST /xrpc/com.atproto.repo.createRecord -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' \
	    --data "{\"repo\":\"$ADID\",\"collection\":\"app.bsky.feed.post\",\"record\":{\"\$type\":\"app.bsky.feed.post\",\"text\":\"$1\",\"createdAt\":\"2025-01-01T00:00:00.000Z\"${2:+,\"embed\":$2}}}"
	URI=$(jget '$.uri' "$T_DIR/body")
	RKEY=${URI##*/}
}
get_record() {
	req GET "/xrpc/com.atproto.repo.getRecord?repo=$ADID&collection=app.bsky.feed.post&rkey=$1"
}
"$PDSCTL" --socket "$SOCK" --json firehose tail --count 1 >"$T_DIR/live.out" 2>"$T_DIR/live.err" </dev/null &
LIVE_PID=$!
sleep 1
post "one"
if [ "$STATUS" = 200 ]; then
	URI1=$URI RKEY1=$RKEY
	_i=0
	while [ $_i -lt 100 ] && kill -0 "$LIVE_PID" 2>/dev/null; do sleep 0.1; _i=$((_i + 1)); done
	kill "$LIVE_PID" 2>/dev/null
	wait "$LIVE_PID" 2>/dev/null
	check "firehose tail (live): the post's #commit with its create op" \
	    test "$(jget '$.type' "$T_DIR/live.out") $(jget '$.did' "$T_DIR/live.out") $(jget '$.ops[0].action' "$T_DIR/live.out") $(jget '$.ops[0].path' "$T_DIR/live.out")" = \
	    "commit $ADID create app.bsky.feed.post/$RKEY1"
	post "two"
	RKEY2=$RKEY
	ctl account show "$A" --json
	expect_json "account show: repo.records counts the two posts" '$.repo.records' 2
	ctl takedown record "$URI1" --reason "abuse"; expect "takedown record (human)" 0 "^record $URI1: taken down"
	get_record "$RKEY1"
	check "a taken-down record is not served" test "$STATUS" != 200
	get_record "$RKEY2"
	check_status "... while the account's other record still is" 200
	req GET "/xrpc/com.atproto.repo.listRecords?repo=$ADID&collection=app.bsky.feed.post"
	check "listRecords leaves out exactly the taken-down record" \
	    sh -c '! grep -q "$1" "$2" && grep -q "$3" "$2"' _ "$RKEY1" "$T_DIR/body" "$RKEY2"
	ctl takedown status record "$URI1" --json; expect_json "takedown status record --json" '$.takedown.applied' 1
	ctl untakedown record "$URI1" --json; expect_json "untakedown record --json" '$.takedown.applied' 0
	get_record "$RKEY1"
	check_status "... and is served again" 200
else
	echo "# createRecord answered $STATUS: record takedown cases skipped"
fi
ctl takedown record "at://$ADID/app.bsky.feed.post/3zzzzzzzzzzzz" --reason x
expect_err "takedown of an unknown record is exit 3" 3 "NoSuchRecord"
ctl takedown record not-a-uri --reason x; expect_err "takedown record with a bad URI is exit 65" 65 "InvalidArgument"
# upload N: a distinct small GIF; $BLOB (the blob ref JSON), $BCID
upload() {
	printf 'GIF89a\001\000\001\000\000\000\000;%s' "$1" >"$T_DIR/blob.bin"
	req POST /xrpc/com.atproto.repo.uploadBlob -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: image/gif' --data-binary "@$T_DIR/blob.bin"
	BLOB=$(jget '$.blob' "$T_DIR/body")
	BCID=$(jget '$.blob.ref.$link' "$T_DIR/body")
}
get_blob() { req GET "/xrpc/com.atproto.sync.getBlob?did=$ADID&cid=$1"; }
upload 1
if [ "$STATUS" = 200 ]; then
	B1=$BCID
	post "pic one" "{\"\$type\":\"app.bsky.embed.images\",\"images\":[{\"alt\":\"\",\"image\":$BLOB}]}"
	upload 2
	B2=$BCID
	post "pic two" "{\"\$type\":\"app.bsky.embed.images\",\"images\":[{\"alt\":\"\",\"image\":$BLOB}]}"
	get_blob "$B1"; BEFORE=$STATUS
	ctl account show "$A" --json
	expect_json "account show: blobs.count counts the two uploads" '$.blobs.count' 2
	expect_json "account show: blobs.bytes is their size" '$.blobs.bytes' \
	    $(( $(printf 'GIF89a\001\000\001\000\000\000\000;1' | wc -c) * 2 ))
	ctl takedown blob "$ADID" "$B1" --reason "abuse"; expect "takedown blob (human)" 0 "^blob $ADID $B1: taken down"
	get_blob "$B1"
	check "a taken-down blob is not served" test "$STATUS" != 200
	get_blob "$B2"
	check "... while another blob of the account is (status $BEFORE before)" test "$STATUS" = "$BEFORE"
	ctl takedown status blob "$ADID" "$B1" --json; expect_json "takedown status blob --json" '$.takedown.applied' 1
	ctl untakedown blob "$ADID" "$B1"; expect "untakedown blob" 0 "not taken down"
	get_blob "$B1"
	check_status "... and is served as before" "$BEFORE"
else
	echo "# uploadBlob answered $STATUS: blob takedown cases skipped"
fi
ctl takedown blob "$ADID" bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku --reason x
expect_err "takedown of an unknown blob is exit 3" 3 "NoSuchBlob"

# ---- firehose tail: a reader that stops reading is dropped ----
# Two tails from the start of the log: one reads as it goes, one reads
# nothing while 16 applyWrites of 200 long-keyed records (~1.5 MiB of
# summaries) go in.  The first gets every commit; the second is dropped
# with ConsumerTooSlow and pdsd carries on.
if [ -n "$NODE" ] && [ -n "$TOKEN" ]; then
	cat >"$T_DIR/slow.mjs" <<'EOF2'
import net from 'node:net';
const [sock, url, token, did] = process.argv.slice(2);
// never hang the suite: the tails stream until closed
setTimeout(() => { console.log('timed out'); process.exit(2); }, 60000).unref();
function tail(paused) {
	const c = net.createConnection(sock);
	const st = { buf: '', events: 0, commits: 0, error: null, c };
	c.on('data', (d) => {
		st.buf += d;
		let i;
		while ((i = st.buf.indexOf('\n')) >= 0) {
			const m = JSON.parse(st.buf.slice(0, i));
			st.buf = st.buf.slice(i + 1);
			if (m.event) {
				st.events++;
				if (m.event.type === 'commit' && m.event.ops.length === 200)
					st.commits++;
			} else if (m.ok === false) st.error = m.error;
		}
	});
	c.on('connect', () => {
		c.write(JSON.stringify({ v: 1, id: 1, cmd: 'firehose.tail', args: { after: 0 } }) + '\n');
		if (paused) c.pause();
	});
	return st;
}
const fast = tail(false), slow = tail(true);
const pad = 'k'.repeat(400);
for (let n = 0; n < 16; n++) {
	const writes = [];
	for (let i = 0; i < 200; i++)
		writes.push({ $type: 'com.atproto.repo.applyWrites#create', collection: 'com.example.fill',
		    rkey: `${pad}-${n}-${i}`, value: { $type: 'com.example.fill', n, i } });
	const r = await fetch(`${url}/xrpc/com.atproto.repo.applyWrites`, { method: 'POST',
	    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
	    body: JSON.stringify({ repo: did, writes }) });
	if (r.status !== 200) { console.log(`applyWrites ${r.status} ${await r.text()}`); process.exit(1); }
}
await new Promise((r) => setTimeout(r, 3000));
slow.c.resume();
for (let i = 0; i < 100 && (fast.commits < 16 || slow.error === null); i++)
	await new Promise((r) => setTimeout(r, 100));
console.log(`fast commits=${fast.commits} error=${fast.error}`);
console.log(`slow events=${slow.events} error=${slow.error}`);
fast.c.destroy();
slow.c.destroy();
process.exit(0);
EOF2
	"$NODE" "$T_DIR/slow.mjs" "$SOCK" "$URL" "$TOKEN" "$ADID" >"$OUT" 2>"$ERR"
	check "firehose tail: a reader that keeps up gets all 16 big commits" grep -q "^fast commits=16 error=null$" "$OUT"
	check "firehose tail: one that stops reading is dropped with ConsumerTooSlow" grep -q "^slow events=[0-9]* error=ConsumerTooSlow$" "$OUT"
	check "... and pdsd is fine" curl -sf -o /dev/null "$URL/xrpc/_health"
	[ -s "$ERR" ] && echo "# slow.mjs: $(head -c 300 "$ERR")"
	grep -q "^fast" "$OUT" || echo "# slow.mjs: $(head -c 300 "$OUT")"
fi

# ---- the admin XRPC methods (same service, actor xrpc-admin) ----
AUTH="admin:$ADMIN_PASSWORD"
req GET "/xrpc/com.atproto.admin.getAccountInfo?did=$BDID" -u "$AUTH"
check_status "admin.getAccountInfo" 200
check "... is the accountView" body_has "\"handle\":\"bob.pds.example.com\""
req GET "/xrpc/com.atproto.admin.getAccountInfo?did=$BDID"
check_status "admin.getAccountInfo without credentials is refused" 401
req GET "/xrpc/com.atproto.admin.getAccountInfo?did=$BDID" -u "admin:wrong"
check_status "admin.getAccountInfo with a wrong password is refused" 401
req GET "/xrpc/com.atproto.admin.getAccountInfos?dids=$BDID&dids=$ADID&dids=did:plc:zzzzzzzzzzzzzzzzzzzzzzzz" -u "$AUTH"
check "admin.getAccountInfos skips unknown DIDs" \
    test "$STATUS:$(sqlite3 :memory: "SELECT json_array_length(readfile('$T_DIR/body'), '\$.infos')")" = 200:2
req GET "/xrpc/com.atproto.admin.searchAccounts?email=bob" -u "$AUTH"
check_status "admin.searchAccounts" 200
check "... finds bob" body_has "\"did\":\"$BDID\""
req POST /xrpc/com.atproto.admin.updateSubjectStatus -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"subject\":{\"\$type\":\"com.atproto.admin.defs#repoRef\",\"did\":\"$BDID\"},\"takedown\":{\"applied\":true,\"ref\":\"xrpc-1\"}}"
check_status "admin.updateSubjectStatus takes an account down" 200
check "... and echoes the takedown" body_has '"ref":"xrpc-1"'
check "... audited as xrpc-admin" audit_has account.takedown ok xrpc-admin
req GET "/xrpc/com.atproto.admin.getSubjectStatus?did=$BDID" -u "$AUTH"
check_status "admin.getSubjectStatus" 200
check "... shows the takedown" body_has '"applied":true,"ref":"xrpc-1"'
login bob.pds.example.com bob-password-1; check_status "bob cannot log in while taken down" 401
req POST /xrpc/com.atproto.admin.updateSubjectStatus -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"subject\":{\"\$type\":\"com.atproto.admin.defs#repoRef\",\"did\":\"$BDID\"},\"takedown\":{\"applied\":false}}"
check_status "admin.updateSubjectStatus reverses it" 200
login bob.pds.example.com bob-password-1; check_status "bob can log in again" 200
req GET "/xrpc/com.atproto.admin.getSubjectStatus?uri=at://$BDID/app.bsky.feed.post/3zzzzzzzzzzzz" -u "$AUTH"
check_status "admin.getSubjectStatus of an unknown record is 404" 404
req GET "/xrpc/com.atproto.admin.getInviteCodes?sort=usage&limit=2" -u "$AUTH"
check_status "admin.getInviteCodes" 200
check "... pages with a cursor" body_has '"cursor":"2"'
req POST /xrpc/com.atproto.admin.disableInviteCodes -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"codes\":[\"$CODE2\"]}"
check_status "admin.disableInviteCodes" 200
check "... the code is disabled" sh -c '"$1" --socket "$2" invite list --all | grep -q "^$3 .*disabled"' _ "$PDSCTL" "$SOCK" "$CODE2"
req POST /xrpc/com.atproto.admin.disableAccountInvites -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"account\":\"$BDID\"}"
check_status "admin.disableAccountInvites" 200
req POST /xrpc/com.atproto.admin.enableAccountInvites -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"account\":\"$BDID\"}"
check_status "admin.enableAccountInvites" 200
req POST /xrpc/com.atproto.admin.updateAccountEmail -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"account\":\"$BDID\",\"email\":\"bob2@example.com\"}"
check_status "admin.updateAccountEmail" 200
req POST /xrpc/com.atproto.admin.updateAccountHandle -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"did\":\"$BDID\",\"handle\":\"bobby.pds.example.com\"}"
check_status "admin.updateAccountHandle" 200
req POST /xrpc/com.atproto.admin.updateAccountPassword -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"did\":\"$BDID\",\"password\":\"bob-password-3\"}"
check_status "admin.updateAccountPassword" 200
login bobby.pds.example.com bob-password-3; check_status "... bob logs in with the new handle and password" 200
req POST /xrpc/com.atproto.admin.deleteAccount -u "$AUTH" -H 'Content-Type: application/json' \
    --data "{\"did\":\"$BDID\"}"
check_status "admin.deleteAccount" 200
ctl account show "$BDID"; expect_err "... bob is gone" 3 "NoSuchAccount"
check "... audited as xrpc-admin" audit_has account.delete ok xrpc-admin

# ---- email tokens without SMTP, and purging an account that moved ----
# carol asks for a PLC operation token; with no SMTP the operator reads it
# with `account token', carol signs an operation naming another server
# and it goes to the PLC directory; once she is deactivated here the
# operator may purge the local copy.
C=carol.pds.example.com
ctl_in carol-password-1 account create "$C" --email carol@example.com --password-stdin
expect "account create carol" 0 "^did: "
CDID=$(sed -n 's/^did: *//p' "$OUT")
login "$C" carol-password-1; check_status "carol logs in" 200
CTOKEN=$(jget '$.accessJwt' "$T_DIR/body")
ctl account token "$C" plc_operation
expect_err "account token before any request is exit 3" 3 "NoSuchToken"
req POST /xrpc/com.atproto.identity.requestPlcOperationSignature \
    -H "Authorization: Bearer $CTOKEN"
check_status "requestPlcOperationSignature without SMTP" 200
ctl account token "$C" plc_operation
expect "account token (human)" 0 "^token: +[A-Z2-7]{5}-[A-Z2-7]{5}$"
PTOK=$(sed -n 's/^token: *//p' "$OUT")
expect "... with its expiry" 0 "^expires: +20[0-9]{2}-"
check "... the token pdsd logged for lack of SMTP" \
    log_has "plc_operation token for $CDID ($C): $PTOK;"
ctl account token "$CDID" plc_operation --json
expect_json "account token --json" '$.token' "$PTOK"
expect_json "account token --json names the purpose" '$.purpose' plc_operation
ctl account token "$C" reset_password
expect_err "account token of a purpose never requested is exit 3" 3 "NoSuchToken"
ctl account token "$C" launch_codes
expect_err "account token with an unknown purpose is exit 65" 65 "InvalidArgument"
check "account token is audited" audit_has account.token ok
check_sql "... and the audit log never holds the token" \
    "SELECT count(*) FROM audit_log WHERE instr(coalesce(detail, '') || coalesce(reason, ''), '$PTOK') > 0" 0
req POST /xrpc/com.atproto.identity.signPlcOperation \
    -H "Authorization: Bearer $CTOKEN" -H 'Content-Type: application/json' \
    --data "{\"token\":\"$PTOK\",\"services\":{\"atproto_pds\":{\"type\":\"AtprotoPersonalDataServer\",\"endpoint\":\"https://elsewhere.example.net\"}}}"
check_status "signPlcOperation with the operator's token" 200
sqlite3 :memory: "SELECT json_extract(readfile('$T_DIR/body'), '\$.operation');" >"$T_DIR/op.json"
PLCST=$(curl -s -o "$T_DIR/plc.body" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary @"$T_DIR/op.json" "$PLC_URL/$CDID")
check "the PLC directory takes the operation moving carol away" test "$PLCST" = 200
ctl migration purge "$C" --yes
expect_err "migration purge of an active account is exit 65" 65 "has not moved"
check "... the refusal is audited" audit_has migration.purge refused
ctl account deactivate "$C" --reason "moved to elsewhere.example.net"
expect "carol deactivated" 0 "^ok"
ctl migration status
expect "migration status shows carol moved, with her new server" 0 \
    "^$CDID +$C +moved +https://elsewhere.example.net$"
ctl migration status --json
check "migration status --json: carol is outbound, state moved, completed" \
    test "$(sqlite3 :memory: "SELECT json_extract(value, '\$.state') || ',' || json_extract(value, '\$.completed') FROM json_each(readfile('$OUT'), '\$.outbound') WHERE json_extract(value, '\$.did') = '$CDID'")" = "moved,1"
ctl stats --json; SEQ1=$(jget '$.firehose.lastSeq')
ctl migration purge "$C" --reason "moved away"
expect_err "migration purge without --yes and no terminal is exit 64" 64 "needs --yes"
ctl migration purge "$C" --reason "moved away" --yes
expect "migration purge ACCOUNT (human)" 0 "^purged $CDID$"
ctl account show "$CDID"; expect_err "... carol's local copy is gone" 3 "NoSuchAccount"
check_sql "... her repository blocks and records are gone" \
    "SELECT (SELECT count(*) FROM repo_blocks WHERE did = '$CDID') + (SELECT count(*) FROM repo_blocks_recent WHERE did = '$CDID') + (SELECT count(*) FROM records WHERE did = '$CDID')" 0
check_sql "... and the purge announced nothing on the firehose" \
    "SELECT count(*) FROM events WHERE did = '$CDID' AND seq > $SEQ1" 0
check "... audited with its reason" \
    test "$(sql "SELECT count(*) FROM audit_log WHERE action = 'migration.purge' AND subject = '$CDID' AND reason = 'moved away' AND json_extract(detail, '\$.outcome') = 'ok'")" = 1
ctl migration purge --all --yes --json
expect_json "migration purge --all --json: nothing left to purge" '$.purged' "[]"

# ---- deletion over the socket ----
ctl account delete "$A" --reason "left"
expect_err "account delete without --yes and no terminal is exit 64" 64 "needs --yes"
ctl account delete "$A"; expect_err "account delete needs --reason" 64 "missing option --reason"
if [ -n "${B1:-}" ]; then
	check "before the deletion, alice's two blob files are on disk" \
	    test -f "$T_DIR/data/blocks/$ADID/$B1" -a -f "$T_DIR/data/blocks/$ADID/$B2"
fi
ctl account delete "$A" --reason "left the cooperative" --yes; expect "account delete --yes" 0 "^ok"
ctl account show "$ADID"; expect_err "... the account is gone" 3 "NoSuchAccount"
if [ -n "${B1:-}" ]; then
	check "... and so are its blob files, directory and all" \
	    test ! -e "$T_DIR/data/blocks/$ADID"
	check "... while the blob store itself remains" test -d "$T_DIR/data/blocks"
fi
check_sql "... its repository blocks and records are gone" \
    "SELECT (SELECT count(*) FROM repo_blocks WHERE did = '$ADID') + (SELECT count(*) FROM repo_blocks_recent WHERE did = '$ADID') + (SELECT count(*) FROM records WHERE did = '$ADID')" 0
check_sql "the deletion wrote an #account deleted event" \
    "SELECT count(*) > 0 FROM events WHERE did = '$ADID' AND type = 'account' AND instr(event, 'deleted') > 0" 1
ctl audit --json --limit 1000
expect "audit --json --limit 1000" 0 "account.delete"
check_sql "the audit log names the deletion, its reason and the unix actor" \
    "SELECT count(*) FROM audit_log WHERE action = 'account.delete' AND subject = '$ADID' AND reason = 'left the cooperative' AND actor LIKE 'unix:%'" 1

check "pdsd stops cleanly" pds_stop
check "pdsd removed its socket" test ! -e "$SOCK"
t_done
