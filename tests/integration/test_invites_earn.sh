#!/bin/sh
# test_invites_earn: members earn invite codes over time, as with the
# reference PDS: com.atproto.server.getAccountInviteCodes with
# createAvailable (its default) makes one single-use code per whole
# PDS_INVITE_INTERVAL of the account's life, made by and for the
# account; asked again it makes no more; createAvailable=false makes
# none; includeUsed=false hides used codes and disabled codes never
# show; admin-given codes are listed but do not count; at most five
# earned codes are open at once; PDS_INVITE_EPOCH counts only the
# intervals after it; an account whose invites are disabled earns codes
# that are disabled at once; PDS_INVITE_REQUIRED=false earns nothing.
# The same rules are checked case by case in test_pdsd_invites and
# against the reference's own code in tests/interop/test_invites_ref.mjs.
T_NAME=test_invites_earn
. "$(dirname "$0")/lib.sh"

PDSCTL=${PDSCTL:-$B/bin/pdsctl}
case $PDSCTL in /*) ;; *) PDSCTL=$(pwd)/$PDSCTL ;; esac
SOCK=$T_DIR/pdsd.sock
OUT=$T_DIR/out
IV=2000		# the interval, in ms

if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "$T_NAME: needs sqlite3"
	echo "$T_NAME: 0 passed, 1 failed"
	exit 1
fi
ctl() { "$PDSCTL" --socket "$SOCK" "$@" >"$OUT" 2>&1 </dev/null; }
# jq PATH: a value of the last reply
jq_() { sqlite3 :memory: "SELECT json_extract(readfile('$T_DIR/body'), '$1');"; }
# ncodes [WHERE]: how many of the reply's codes match a condition
ncodes() {
	sqlite3 :memory: "SELECT count(*) FROM json_each(json_extract(
	    readfile('$T_DIR/body'), '\$.codes')) WHERE ${1:-1}"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# codes TOKEN [QUERY]: getAccountInviteCodes
codes() {
	req GET "/xrpc/com.atproto.server.getAccountInviteCodes${2:+?$2}" \
	    -H "Authorization: Bearer $1"
}
# account HANDLE CODE: createAccount; sets DID, ACCESS, BORN (ms)
account() {
	BORN=$(now_ms)
	req POST /xrpc/com.atproto.server.createAccount \
	    -H 'Content-Type: application/json' -d "{\"handle\":\"$1\",
	    \"email\":\"$1@example.com\",\"password\":\"pw-$1-long\",
	    \"inviteCode\":\"$2\"}"
	DID=$(jq_ '$.did')
	ACCESS=$(jq_ '$.accessJwt')
}
admin_code() {	# a single-use code from the admin
	req POST /xrpc/com.atproto.server.createInviteCode \
	    -u "admin:$ADMIN_PASSWORD" -H 'Content-Type: application/json' \
	    -d '{"useCount":1}'
	jq_ '$.code'
}
# wait_until MS: sleep until now_ms >= MS
wait_until() {
	while [ "$(now_ms)" -lt "$1" ]; do sleep 0.1; done
}

plc_start
pds_env "PDS_ADMIN_SOCKET=$SOCK" "PDS_DID_PLC_URL=$PLC_URL" \
    PDS_INVITE_REQUIRED=true "PDS_INVITE_INTERVAL=$IV"
pds_start || { t_done; exit 1; }

account alice.pds.example.com "$(admin_code)"
check_status "alice signs up with an admin code" 200
ALICE=$DID A_ACCESS=$ACCESS A_BORN=$BORN
codes "$A_ACCESS"
check_status "getAccountInviteCodes answers" 200
_age=$(($(now_ms) - A_BORN))
if [ "$_age" -lt $((IV - 300)) ]; then
	check "a new account has earned nothing yet" test "$(ncodes)" = 0
fi

# after 2.5 intervals: two codes, whatever the call
wait_until $((A_BORN + IV * 5 / 2))
codes "$A_ACCESS" createAvailable=false
check "createAvailable=false makes none" test "$(ncodes)" = 0
codes "$A_ACCESS"
check_status "getAccountInviteCodes (createAvailable by default)" 200
check "after 2.5 intervals: two codes" test "$(ncodes)" = 2
check "... single-use, for alice and made by her" test \
    "$(ncodes "json_extract(value, '\$.available') = 1 AND
    json_extract(value, '\$.forAccount') = '$ALICE' AND
    json_extract(value, '\$.createdBy') = '$ALICE' AND
    json_extract(value, '\$.disabled') = 0")" = 2
C1=$(jq_ '$.codes[0].code')
C2=$(jq_ '$.codes[1].code')
codes "$A_ACCESS" createAvailable=true
check "asked again: still two (nothing made twice)" test "$(ncodes)" = 2
ctl invite list --account "$ALICE" --all --json
check "pdsctl invite list: alice has the two" grep -q "$C1" "$OUT"

# one used, one disabled; an admin code given to her
account bob.pds.example.com "$C1"
check_status "bob signs up with alice's earned code" 200
BOB=$DID B_ACCESS=$ACCESS
codes "$A_ACCESS" "createAvailable=false&includeUsed=false"
check "includeUsed=false: the used code is hidden" test "$(ncodes)" = 1
codes "$A_ACCESS" createAvailable=false
check "includeUsed (default): the used code shows, with its use" test \
    "$(ncodes "json_extract(value, '\$.code') = '$C1' AND
    json_extract(value, '\$.uses[0].usedBy') = '$BOB'")" = 1
ctl invite disable "$C2" --reason test
ctl invite create --for "$ALICE" --uses 2
GIFT=$(head -n 1 "$OUT")
codes "$A_ACCESS" createAvailable=false
check "a disabled code never shows" test "$(ncodes "json_extract(value, '\$.code') = '$C2'")" = 0
check "the admin's gift shows (made by admin)" test \
    "$(ncodes "json_extract(value, '\$.code') = '$GIFT' AND
    json_extract(value, '\$.createdBy') = 'admin'")" = 1

# ---- the README's cron line for the membership secretary ----
_cron=$(sed -n 's/^# 0 7 \* \* 1  \(pdsctl .*\) | mail .*/\1/p' README.md)
check "README: a cron line mails codes with pdsctl" test -n "$_cron"
_cron=$(printf '%s\n' "$_cron" | sed "s|^pdsctl -c /pds/pds.env |\"$PDSCTL\" --socket \"$SOCK\" |")
sh -c "$_cron" >"$T_DIR/mail.txt" 2>&1
check "... its pdsctl part prints ten codes, one a line, ready to mail" \
    test "$(grep -cE '^pds-example-com-[a-z2-7]{5}-[a-z2-7]{5}$' "$T_DIR/mail.txt")" = 10
check "... and nothing else" test "$(wc -l <"$T_DIR/mail.txt")" = 10

# ---- at most five open, with a short interval ----
pds_stop
sed -i "s/^PDS_INVITE_INTERVAL=.*/PDS_INVITE_INTERVAL=50/" "$T_DIR/pds.env"
pds_start || { t_done; exit 1; }
codes "$A_ACCESS" includeUsed=false
check "many intervals later: five earned codes open, no more" test \
    "$(ncodes "json_extract(value, '\$.createdBy') = '$ALICE'")" = 5
check "... beside the admin's gift" test "$(ncodes)" = 6
codes "$A_ACCESS" includeUsed=false
check "... and asked again, still five" test \
    "$(ncodes "json_extract(value, '\$.createdBy') = '$ALICE'")" = 5

# ---- invites disabled: the codes are made disabled ----
ctl account disable-invites "$BOB" --reason test
codes "$B_ACCESS"
check "bob, invites disabled: no code shows" test "$(ncodes)" = 0
# (read beside the running pdsd: wait out a checkpoint's lock, and say
# what was found, which a failure in a loaded run did not)
_n=$(sqlite3 -cmd ".timeout 5000" "$T_DIR/data/pds.sqlite" "SELECT
    count(*) FROM invite_codes WHERE for_account = '$BOB' AND
    disabled = 1" 2>&1)
check "... yet they are made (disabled), as the reference keeps them ($_n)" \
    test "$_n" = 5

# ---- PDS_INVITE_EPOCH in the future: nothing earned before it ----
pds_stop
sed -i "s/^PDS_INVITE_INTERVAL=.*/PDS_INVITE_INTERVAL=$IV/" "$T_DIR/pds.env"
echo "PDS_INVITE_EPOCH=$(($(now_ms) + 3600000))" >>"$T_DIR/pds.env"
pds_start || { t_done; exit 1; }
account carol.pds.example.com "$(admin_code)"
CAROL_ACCESS=$ACCESS
wait_until $((BORN + IV * 3 / 2))
codes "$CAROL_ACCESS"
check "an epoch an hour ahead: carol earns nothing" test "$(ncodes)" = 0

# ---- invites not required: nothing is earned ----
pds_stop
sed -i -e "s/^PDS_INVITE_REQUIRED=.*/PDS_INVITE_REQUIRED=false/" \
    -e "/^PDS_INVITE_EPOCH=/d" "$T_DIR/pds.env"
pds_start || { t_done; exit 1; }
codes "$CAROL_ACCESS"
check "PDS_INVITE_REQUIRED=false: nothing earned" test "$(ncodes)" = 0
pds_stop
t_done
