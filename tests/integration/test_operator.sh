#!/bin/sh
# test_operator: the rough edges a new operator met in pdsctl and pdsd,
# each checked as they would meet it: a status filter that a search
# dropped, a watch that ended in an empty block, global options after
# the command, account create's email, every missing required variable
# named at error level, out-of-range numbers, a backup into a missing
# directory, float noise in --json, and help against the man page.
#
# Accounts need a PLC directory (Node 22, tests/interop/setup.sh).
T_NAME=test_operator
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

jvalid() {
	[ "$(sqlite3 :memory: "SELECT json_valid(readfile('${1:-$OUT}'));")" = 1 ]
}
# expect DESC WANT_RC [ERE on stdout]
expect() {
	if [ "$RC" != "$2" ]; then
		not_ok "$1" "exit $RC, want $2; stdout: $(head -c 300 "$OUT"); stderr: $(head -c 300 "$ERR")"
	elif [ -n "${3:-}" ] && ! grep -qE -- "$3" "$OUT"; then
		not_ok "$1" "stdout lacks /$3/: $(head -c 400 "$OUT")"
	else
		ok "$1"
	fi
}
# expect_err DESC WANT_RC ERE: the same, the pattern on stderr
expect_err() {
	if [ "$RC" = "$2" ] && grep -qE -- "$3" "$ERR"; then ok "$1"
	else not_ok "$1" "exit $RC, want $2; stderr: $(head -c 300 "$ERR")"
	fi
}

# ---- pdsd: every missing required variable, at error level ----
PORT=$(pick_port)
cat >"$T_DIR/bare.env" <<EOF
PDS_HOSTNAME=pds.example.com
PDS_PORT=$PORT
PDS_BIND_ADDRESS=127.0.0.1
PDS_DATA_DIRECTORY=$T_DIR/bare
EOF
"$PDSD" -c "$T_DIR/bare.env" >"$OUT" 2>"$ERR" </dev/null; RC=$?
check "pdsd without secrets exits 1" test "$RC" = 1
for _v in PDS_JWT_SECRET PDS_ADMIN_PASSWORD \
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX; do
	check "... and names $_v" grep -q "$_v" "$ERR"
done
check "... at error level, not warn" grep -qE ' pdsd error: configuration error: .*required but not set' "$ERR"
"$PDSD" -c "$T_DIR/bare.env" --check-config >"$OUT" 2>"$ERR"; RC=$?
check "--check-config names all three too" sh -c '[ "$1" = 1 ] && grep -q PDS_JWT_SECRET "$2" && grep -q PDS_ADMIN_PASSWORD "$2" && grep -q PDS_PLC_ROTATION_KEY "$2"' _ "$RC" "$ERR"
echo "PDS_JWT_SECRET=x" >>"$T_DIR/bare.env"
"$PDSD" -c "$T_DIR/bare.env" >"$OUT" 2>"$ERR" </dev/null
check "... one set, the other two named" sh -c '! grep -q PDS_JWT_SECRET "$1" && grep -q PDS_ADMIN_PASSWORD "$1" && grep -q PDS_PLC_ROTATION_KEY "$1"' _ "$ERR"
PORT=

# ---- a running pdsd ----
plc_start
pds_env "PDS_ADMIN_SOCKET=$SOCK" "PDS_DID_PLC_URL=$PLC_URL"
pds_start || { t_done; exit 1; }

# ---- account create: the email is required, and help says so ----
ctl help account create
expect "help account create: --email is not optional" 0 "^pdsctl account create HANDLE --email VALUE"
check "... and the man page agrees" grep -qx '\.Fl -email Ar address' man/pdsctl.8
check "... with no optional --email left in it" sh -c '! grep -qx "\.Op Fl -email Ar address" man/pdsctl.8'
ctl account create dave.pds.example.com
expect_err "account create without --email is a usage error" 64 "missing option --email"
ctl account create carol.pds.example.com --email carol@example.com
CDID=$(sed -n 's/^did: *//p' "$OUT")
expect "account create carol" 0 "^did: +did:plc:"
ctl account create carl.pds.example.com --email carl@example.com
expect "account create carl" 0 "^did: +did:plc:"
ctl account create bob.pds.example.com --email bob@example.com
expect "account create bob" 0 "^did: +did:plc:"

# ---- account list: --status with --search ----
ctl account takedown carol.pds.example.com --reason "spam"
expect "carol taken down" 0
ctl account list --status takendown --search car
expect "--status takendown --search car lists carol" 0 "^carol.pds.example.com +takendown"
check "... and not carl, who is active" sh -c '! grep -q "^carl" "$1"' _ "$OUT"
ctl account list --status active --search car --json
check "--status active --search car: carl only" sh -c 'grep -q "carl.pds.example.com" "$1" && ! grep -q "carol" "$1"' _ "$OUT"
ctl account list --status gone --search car
expect_err "a bad status with a search is refused" 65 "status must be"

# ---- global options after the command ----
"$PDSCTL" stats -j -s "$SOCK" >"$OUT" 2>"$ERR"; RC=$?
check "stats -j -s PATH (after the command) is JSON" sh -c '[ "$1" = 0 ]' _ "$RC"
check "... valid JSON" jvalid
"$PDSCTL" stats --socket "$SOCK" -j >"$OUT" 2>"$ERR"; RC=$?
check "stats --socket PATH -j works too" sh -c '[ "$1" = 0 ] && grep -q "\"accounts\"" "$2"' _ "$RC" "$OUT"
"$PDSCTL" account list -s "$SOCK" --status active -j >"$OUT" 2>"$ERR"; RC=$?
check "account list -s PATH --status active -j" sh -c '[ "$1" = 0 ] && grep -q "bob.pds.example.com" "$2"' _ "$RC" "$OUT"

# ---- stats --watch --count: the stream and nothing after it ----
ctl stats --watch --count 2 --interval 1
expect "stats --watch --count 2" 0 "accounts=3 "
check "... prints exactly two lines" test "$(wc -l <"$OUT")" = 2
check "... and no empty block after them" sh -c '! grep -qE "^(accounts|blobs|repos|uptime):" "$1"' _ "$OUT"

# ---- --json: doubles without binary noise ----
_end=$(($(date +%s) + 3))
while [ "$(date +%s)" -lt "$_end" ]; do
	curl -s -o /dev/null "$URL/xrpc/_health"
done
ctl stats --json
check "stats --json is valid JSON" jvalid
grep -oE '[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?' "$OUT" >"$T_DIR/reals"
check "stats --json has a non-zero rate" grep -qv '^0\.0*$' "$T_DIR/reals"
_long=$(sed -e 's/[eE].*//' -e 's/\.//' -e 's/^0*//' "$T_DIR/reals" |
    awk 'length($0) > 9' | head -n 3)
check "stats --json: at most 9 significant digits${_long:+ (got $_long)}" test -z "$_long"

# ---- invite create --count 0: the range, not "an integer" ----
ctl invite create --count 0
expect_err "invite create --count 0 names the range" 65 "count must be from 1 to [0-9]+"
check "... without calling 0 not an integer" sh -c '! grep -q "must be an integer" "$1"' _ "$ERR"
ctl invite create --count x
expect_err "invite create --count x: a number is needed" 64 "."

# ---- backup into a missing directory names it ----
ctl backup "$T_DIR/no-such-dir/pds.sqlite"
expect_err "backup into a missing directory fails" 1 "cannot open"
check "... naming the directory" grep -qF "$T_DIR/no-such-dir" "$ERR"
check "... and why" grep -q "No such file or directory" "$ERR"

# ---- takedown blob: help and pdsctl.8 agree ----
ctl help takedown blob
expect "help takedown blob: ACCOUNT CID, as pdsctl.8 says" 0 "^pdsctl takedown blob ACCOUNT CID --reason"
check "... pdsctl.8: takedown blob account cid" grep -q '^\.It Cm takedown blob Ar account cid' man/pdsctl.8
ctl help untakedown blob
expect "help untakedown blob: ACCOUNT CID" 0 "^pdsctl untakedown blob ACCOUNT CID"
ctl help takedown status blob
expect "help takedown status blob: ACCOUNT CID" 0 "^pdsctl takedown status blob ACCOUNT CID"
ctl takedown blob carl@example.com bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy --reason "x"
expect_err "takedown blob takes an account by email, as ACCOUNT says" 3 "blob"

pds_stop
t_done
