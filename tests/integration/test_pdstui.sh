#!/bin/sh
# test_pdstui: drive pdstui in a real terminal (tmux: send-keys,
# capture-pane) against a running pdsd: every screen, a takedown with a
# reason seen in the audit screen and in pdsctl's output, invites,
# deactivation seen on the Migrations screen, the help screen, resizing
# (and "terminal too small"), a daemon restart (disconnected, then
# reconnected), an account's sessions, app passwords and OAuth grant
# (the grant put in by tests/tools/oauthreq while pdsd is stopped) and
# ending them, monochrome, read-only mode (as root: a user in the socket
# group only), and the command line.
#
# Accounts need a PLC directory (Node 22, tests/interop/setup.sh); without
# one those cases are skipped with a note.  With PDSTUI_SCREENS=FILE the
# screens are also written to FILE (docs/pdstui-screens.txt is made so).
T_NAME=test_pdstui
. "$(dirname "$0")/lib.sh"

PDSCTL=${PDSCTL:-$B/bin/pdsctl}
PDSTUI=${PDSTUI:-$B/bin/pdstui}
OAUTHREQ=${OAUTHREQ:-$B/tests/oauthreq}
case $PDSCTL in /*) ;; *) PDSCTL=$(pwd)/$PDSCTL ;; esac
case $PDSTUI in /*) ;; *) PDSTUI=$(pwd)/$PDSTUI ;; esac
SOCK=$T_DIR/pdsd.sock
OUT=$T_DIR/out
ERR=$T_DIR/err
SCREEN=$T_DIR/screen
TX=pdstui-test-$$

if [ ! -x "$PDSTUI" ] || [ ! -x "$PDSCTL" ] || ! command -v tmux >/dev/null 2>&1; then
	echo "$T_NAME: needs $PDSTUI, $PDSCTL and tmux (scripts/deps.sh)"
	echo "$T_NAME: 0 passed, 1 failed"
	exit 1
fi

tx() { tmux -L "$TX" -f /dev/null "$@"; }
PLC_PID=
RO_MADE_USER=
RO_MADE_GROUP=
tui_cleanup() {
	tx kill-server 2>/dev/null
	[ -n "$PLC_PID" ] && kill "$PLC_PID" 2>/dev/null
	[ -n "$RO_MADE_USER" ] && userdel "$RO_MADE_USER" 2>/dev/null
	[ -n "$RO_MADE_GROUP" ] && groupdel "$RO_MADE_GROUP" 2>/dev/null
	t_cleanup
}
trap tui_cleanup EXIT

# tui_start NAME COLS ROWS [env/args...]: pdstui in a detached tmux
# session; its exit status lands in $T_DIR/NAME.rc.
tui_start() {
	_n=$1 _c=$2 _r=$3
	shift 3
	rm -f "$T_DIR/$_n.rc"
	tx new-session -d -s "$_n" -x "$_c" -y "$_r" \
	    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 $* 2>$T_DIR/$_n.err; echo \$? >$T_DIR/$_n.rc; sleep 600"
}
# shot NAME: the pane's text into $SCREEN
shot() { tx capture-pane -p -t "$1" >"$SCREEN"; }
# wait_for NAME ERE [SECONDS]: until the screen matches (0) or time out
wait_for() {
	_i=0
	_max=$((${3:-10} * 10))
	while [ $_i -lt $_max ]; do
		shot "$1"
		grep -qE -- "$2" "$SCREEN" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# see DESC NAME ERE [SECONDS]: one case, the screen on failure
see() {
	if wait_for "$2" "$3" "${4:-10}"; then ok "$1"
	else not_ok "$1" "screen lacks /$3/:"; sed 's/^/  #| /' "$SCREEN"
	fi
}
# not_see DESC NAME ERE: the screen (now, after a short settle) lacks ERE
not_see() {
	sleep 0.3
	shot "$2"
	if grep -qE -- "$3" "$SCREEN"; then
		not_ok "$1" "screen has /$3/:"; sed 's/^/  #| /' "$SCREEN"
	else ok "$1"
	fi
}
keys() { _n=$1; shift; tx send-keys -t "$_n" "$@"; }
# type NAME TEXT: literal text
type_text() { tx send-keys -t "$1" -l "$2"; }
# record TITLE NAME: append the screen to $PDSTUI_SCREENS
record() {
	[ -n "${PDSTUI_SCREENS:-}" ] || return 0
	shot "$2"
	{
		printf '\n==== %s ====\n\n' "$1"
		sed -e 's/[[:space:]]*$//' "$SCREEN"
	} >>"$PDSTUI_SCREENS"
}

# ---- the command line, without a daemon ----
"$PDSTUI" --version >"$OUT" 2>&1
check "--version" grep -qE '^pdstui [0-9]' "$OUT"
"$PDSTUI" --bogus >"$OUT" 2>&1; RC=$?
check "an unknown flag is exit 64 with the usage" sh -c '[ "$1" = 64 ] && grep -q "usage: pdstui" "$2"' _ "$RC" "$OUT"
"$PDSTUI" --exit-after soon >"$OUT" 2>&1; RC=$?
check "--exit-after needs a number (64)" test "$RC" = 64
"$PDSTUI" --socket "$SOCK" </dev/null >"$OUT" 2>&1; RC=$?
check "without a terminal it refuses (64)" sh -c '[ "$1" = 64 ] && grep -q "needs a terminal" "$2"' _ "$RC" "$OUT"
"$PDSTUI" --screen nowhere >"$OUT" 2>&1; RC=$?
check "an unknown --screen is exit 64" test "$RC" = 64

# No daemon yet: it says so and keeps trying.
tui_start early 100 30 "$PDSTUI" --socket "$SOCK" --exit-after 60
see "with no daemon it shows disconnected" early "disconnected: .*pdsd is not running"

# ---- a PLC directory (Node), when available ----
PLC_URL=
if [ -d tests/interop/node_modules/@did-plc/server ] &&
    NODE=$(scripts/node.sh 2>/dev/null); then
	"$NODE" scripts/plc-server.mjs 0 >"$T_DIR/plc.out" 2>&1 &
	PLC_PID=$!
	_i=0
	while [ $_i -lt 100 ] && [ -z "$PLC_URL" ]; do
		PLC_URL=$(sed -n 's/^PLC listening on \(http:[^ ]*\)$/\1/p' "$T_DIR/plc.out")
		sleep 0.1
		_i=$((_i + 1))
	done
fi
[ -n "$PLC_URL" ] || echo "# no PLC directory (Node 22 / tests/interop/setup.sh): account cases skipped"

# Read-only mode needs a second user: as root, a user in the socket's
# group only (root itself may always change things).
RO_USER=
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    command -v useradd >/dev/null 2>&1; then
	# Names of this run's own, so that two runs at once (make check
	# and the sanitizer suite) never delete each other's group.
	G=pdstui_g$$ U=pdstui_r$$
	if ! getent group $G >/dev/null 2>&1; then
		groupadd $G && RO_MADE_GROUP=$G
	fi
	if ! getent passwd $U >/dev/null 2>&1; then
		useradd -M -N -d /nonexistent -s /usr/sbin/nologin -g $G $U &&
		    RO_MADE_USER=$U
	fi
	getent passwd $U >/dev/null 2>&1 && RO_USER=$U
fi

pds_env "PDS_ADMIN_SOCKET=$SOCK" ${PLC_URL:+"PDS_DID_PLC_URL=$PLC_URL"} \
    ${RO_USER:+"PDS_ADMIN_SOCKET_GROUP=$G"}
pds_start || { t_done; exit 1; }

see "it connects by itself once pdsd is up" early "connected .*$" 10
see "... and shows the overview" early "active 0 "
tx kill-session -t early

ADID=
if [ -n "$PLC_URL" ]; then
	ctl account create alice.pds.example.com --email alice@example.com
	ADID=$(sed -n 's/^did: *//p' "$OUT")
	APW=$(sed -n 's/^password: *//p' "$OUT")
	ctl account create bob.pds.example.com --email bob@example.com
	check "two accounts made with pdsctl" test -n "$ADID" -a "$RC" = 0
fi
ctl invite create --count 2 --uses 3
check "two invite codes made with pdsctl" test "$RC" = 0
CODE1=$(head -n 1 "$OUT")

# ---- every screen ----
tui_start main 120 36 "$PDSTUI" --socket "$SOCK" --exit-after 600
see "Overview: the tabs" main "1 Overview +2 Accounts +3 Invites +4 Moderation +5 Migrations +6 Firehose"
see "Overview: read-write for root" main "unix:root\(0\) \(read-write\)"
if [ -n "$ADID" ]; then
	see "Overview: account counts" main "active 2 +deactivated 0 +taken down 0 +total 2"
fi
see "Overview: storage" main "repos +[0-9.]+ (B|KiB|MiB)"
see "Overview: firehose events per second" main "firehose events/s +[0-9]+\.[0-9]"
see "Overview: seq head" main "seq head [0-9]+"
see "Overview: the daemon's uptime (it started under a minute ago)" main "uptime +00:00:[0-5][0-9]"
see "Overview: HTTP requests per second (stats counts them)" main "requests/s +[0-9]+\.[0-9]"
see "Overview: errors per second" main "errors/s[ (0-9.%)]* +[0-9]+\.[0-9]"
see "Overview: no relay crawl yet" main "last relay crawl +never"
see "Overview: rate-limit counters" main "rate limited +[0-9]+ requests, [0-9]+ admin passwords, [0-9]+ logins; bypassed [0-9]+"
sleep 2
see "Overview: sparklines draw" main "subscribers +[0-9]+ +[▁▂▃▄▅▆▇█]"
record "Overview (1)" main

keys main 2
see "Accounts: the list" main "HANDLE +DID +STATUS +CREATED +EMAIL"
if [ -n "$ADID" ]; then
	see "Accounts: both accounts" main "2 accounts"
	see "Accounts: alice with her DID" main "alice.pds.example.com +$ADID +active"
	keys main s
	see "Accounts: s sorts by newest" main "sort: newest"
	keys main s
	see "Accounts: s again sorts by status" main "sort: status"
	not_see "Accounts: ... never by (null)" main "sort: \(null\)"
	keys main s
	see "Accounts: ... back to handle" main "sort: handle"
	for _f in active deactivated takendown any; do
		keys main f
		see "Accounts: f filters by status: $_f" main "status: $_f +sort"
	done
	keys main /
	see "Accounts: / prompts" main "Search accounts"
	type_text main alice
	keys main Enter
	see "Accounts: the search narrows the list" main "1 account +search: alice"
	record "Accounts (2)" main
	keys main Enter
	see "Accounts: Enter shows the details" main "DID +$ADID"
	see "Accounts: ... email" main "email +alice@example.com \(not confirmed\)"
	see "Accounts: ... invites" main "invites +enabled, 0 codes"
	see "Accounts: ... the repo's size and records" main "repo +[0-9.]+ (B|KiB), 0 records"
	see "Accounts: ... the blobs" main "blobs +0, 0 B"
	keys main t
	see "Accounts: t asks for a reason" main "Reason to take down @alice.pds.example.com:"
	keys main Enter
	see "Accounts: an empty reason is refused" main "take down: a reason is required"
	keys main t
	type_text main "spam wave 42"
	keys main Enter
	see "Accounts: then asks to confirm" main "Take down @alice.pds.example.com\? Reason: spam wave 42"
	keys main n
	see "Accounts: n cancels" main "take down: cancelled"
	ctl account show "$ADID" --json
	check "... and nothing happened" grep -q '"status": *"active"' "$OUT"
	keys main t
	type_text main "spam wave 42"
	keys main Enter y
	see "Accounts: y takes the account down" main "take down: done for @alice.pds.example.com"
	see "Accounts: the details say taken down" main "status +taken down"
	record "Accounts: details (2, Enter)" main
	ctl account show "$ADID"
	check "pdsctl account show: takendown" grep -qE "^status: +takendown" "$OUT"
	ctl audit
	check "pdsctl audit: the takedown with its reason" grep -qE "ok +account.takedown +$ADID +spam wave 42" "$OUT"

	keys main 4
	see "Moderation: the audit log" main "TIME +ACTOR +OUTCOME +ACTION +SUBJECT +REASON"
	see "Moderation: the takedown, its account's handle and its reason" main "account.takedown +@alice.pds.example.com +spam wave 42"
	check "Moderation: newest first" sh -c 'grep -A1 "TIME  *ACTOR" "$1" | tail -n 1 | grep -q "account.takedown"' _ "$SCREEN"
	keys main /
	type_text main create
	keys main Enter
	see "Moderation: / filters" main "of [0-9]+ entries, newest first +filter: create"
	not_see "Moderation: ... the takedown is filtered out" main "account.takedown"
	keys main /
	keys main C-u Enter
	see "Moderation: an empty filter shows everything" main "account.takedown"
	record "Moderation (4)" main
	keys main Enter
	see "Moderation: Enter shows the whole entry" main "reason +spam wave 42"
	see "Moderation: ... with the DID and the handle" main "subject +$ADID \(@alice.pds.example.com\)"
	keys main q
	not_see "Moderation: a key closes the entry" main "Audit entry"
	tx resize-window -t main -x 150 -y 36
	see "Moderation: wide, a HANDLE column" main "SUBJECT +HANDLE +REASON"
	see "Moderation: ... DID and handle side by side" main "account.takedown +$ADID +@alice.pds.example.com +spam wave 42"
	tx resize-window -t main -x 120 -y 36
	keys main r
	sleep 2
	not_see "Moderation: r's \"refreshing\" goes once the reload is in" main "refreshing"
	# a long at-URI: the confirmation shows all of it, wrapped
	LURI="at://$ADID/app.bsky.feed.post/3kzzzzzzzzzz2"
	keys main T
	type_text main "$LURI"
	keys main Enter
	type_text main "long uri check"
	keys main Enter
	see "Moderation: the takedown asks to confirm" main "y: yes"
	shot main
	# the box's text, joined without the spaces the wrapping may eat
	sed -n 's/^.*| \(.*[^ ]\) *|.*$/\1/p' "$SCREEN" | tr -d '\n ' >"$T_DIR/box"
	if grep -qF "Takedownrecord$LURI?Reason:longuricheck" "$T_DIR/box"; then
		ok "Moderation: ... naming the whole at-URI"
	else
		not_ok "Moderation: ... naming the whole at-URI" "$(cat "$T_DIR/box")"
		sed 's/^/  #| /' "$SCREEN"
	fi
	keys main y
	see "Moderation: the (missing) record's takedown is logged, by handle" main "record.takedown +at://alice.pds.example.com/app"
	keys main Down	# an unselected row: clipped with an ellipsis
	sleep 0.5
	shot main
	if grep "record.takedown" "$SCREEN" | grep -q "… long uri check" &&
	    ! grep -q "…long uri" "$SCREEN"; then
		ok "Moderation: a clipped subject keeps a space before the reason"
	else
		not_ok "Moderation: a clipped subject keeps a space before the reason"
		sed 's/^/  #| /' "$SCREEN"
	fi

	keys main 2
	see "Accounts: back on the details" main "status +taken down"
	keys main u
	see "Accounts: u asks for an optional reason" main "Reason to restore .untakedown. @alice.pds.example.com .optional.:"
	type_text main "appeal granted"
	keys main Enter y
	see "Accounts: untakedown done" main "restore .untakedown.: done for"
	ctl account show "$ADID"
	check "pdsctl: active again" grep -qE "^status: +active" "$OUT"
	keys main Escape
	keys main /
	keys main C-u
	type_text main bob
	keys main Enter
	see "Accounts: search for bob" main "1 account +search: bob"
	keys main d y
	see "Accounts: d deactivates" main "deactivate: done for @bob.pds.example.com"
	keys main 5
	see "Migrations: the deactivated account shows" main "0 moving in, 1 moving out or deactivated"
	see "Migrations: ... with its state, blobs and where its DID points" main "bob.pds.example.com +out +deactivated .* [0-9]+/[0-9]+ +here"
	record "Migrations (5)" main
	keys main 2 a y
	see "Accounts: a activates" main "activate: done for @bob.pds.example.com"
	keys main p y
	see "Accounts: p resets the password and shows it once" main "new password: [a-z2-7]{24}"
	keys main q
	keys main i y
	see "Accounts: i disables invites" main "disable invites for: done"
	ctl account show bob.pds.example.com --json
	check "pdsctl: bob's invites are disabled" grep -q '"invitesDisabled": *true' "$OUT"
fi

keys main 3
see "Invites: the codes" main "CODE +AVAIL +USED +STATE +FOR +CREATED"
see "Invites: a code made by pdsctl" main "$CODE1 +3 +0 +enabled"
keys main Enter
see "Invites: Enter shows the code's uses" main "not used yet"
keys main Escape
keys main c
see "Invites: c asks how many" main "How many codes"
type_text main 2
keys main Enter
type_text main 5
keys main Enter
see "Invites: ... then to confirm" main "Create 2 invite codes of 5 uses each\?"
keys main y
see "Invites: the new codes pop up" main "New invite codes"
keys main Escape
see "Invites: four codes now" main "^4 codes"
not_see "Invites: Escape closed the popup" main "New invite codes"
record "Invites (3)" main
keys main x
see "Invites: x asks to confirm" main "Disable the invite code"
keys main y
see "Invites: x disables the code" main "^3 codes"
ctl audit --json
check "audit: invite.disable names whose codes they were" sh -c "grep -o '\"action\": *\"invite.disable\"[^}]*' \"\$1\" | grep -q '\"subject\": *\"admin\"'" _ "$OUT"
keys main 4
see "Moderation: invite.disable with its subject" main "invite.disable +admin"
keys main 3
keys main A
see "Invites: A shows disabled codes too" main "disabled"

keys main 6
see "Firehose: the subscriber list" main "ID +REMOTE +CURSOR +SEQ +LAG"
see "Firehose: the live tail section" main "Live tail"
see "Firehose: the tail is running" main "waiting for events"
if [ -n "$PLC_URL" ]; then
	ctl account create carol.pds.example.com --email carol@example.com
	CDID=$(sed -n 's/^did: *//p' "$OUT")
	see "Firehose: the tail shows the new account's #identity" main "^[0-9]+ +identity +$CDID"
	see "Firehose: ... and its genesis #commit" main "^[0-9]+ +commit +$CDID"
	keys main p
	see "Firehose: p pauses the tail" main "Live tail \(paused: p resumes\)"
	keys main p
	not_see "Firehose: p again resumes it" main "paused: p resumes"
fi
record "Firehose (6)" main

keys main '?'
see "help: this screen's keys" main "Keys on the Firehose screen"
see "help: the global keys" main "Everywhere"
keys main 2 '?'
see "help: the Accounts keys" main "take down, with a reason"
record "Help (?) on the Accounts screen" main
keys main x
not_see "help: any key closes it" main "Keys on the"
keys main Tab
see "Tab: the next screen" main "CODE +AVAIL"
keys main BTab
see "Shift-Tab: the previous one" main "HANDLE +DID"

# ---- resize ----
keys main 1
tx resize-window -t main -x 50 -y 12
see "resize: too small says so" main "terminal too small: 50x12"
tx resize-window -t main -x 100 -y 30
see "resize: back to the layout" main "1 Overview +2 Accounts"
shot main
check "resize: 30 rows, none wider than 100 columns" sh -c '[ "$(wc -l <"$1")" -eq 30 ] && [ "$(LC_ALL=C.UTF-8 wc -L <"$1")" -le 100 ]' _ "$SCREEN"
check "resize: the key bar is on the last row" sh -c 'tail -n 1 "$1" | grep -q "?:help q:quit"' _ "$SCREEN"
tx resize-window -t main -x 140 -y 45
see "resize: larger" main "1 Overview"

# ---- daemon restart ----
pds_stop
see "restart: disconnected" main "disconnected"
see "restart: the status line says it is reconnecting" main "reconnecting; the data shown is stale"
GRANT=
if [ -n "$ADID" ] && [ -x "$OAUTHREQ" ]; then
	GRANT=$("$OAUTHREQ" family "$T_DIR/data/pds.sqlite" "$ADID" \
	    http://localhost "atproto transition:generic")
	check "an OAuth grant of alice's put in while pdsd is stopped" test -n "$GRANT"
fi
pds_start || { t_done; exit 1; }
see "restart: reconnected" main " connected *$" 15
see "restart: numbers again" main "seq head [0-9]+"
keys main 4
see "restart: the audit log reloads" main "TIME +ACTOR"

# ---- an account's sessions ----
# xpost METHOD JSON [curl args]: an XRPC POST; the reply in $OUT
xpost() {
	_m=$1 _j=$2
	shift 2
	curl -s -o "$OUT" -X POST -H 'Content-Type: application/json' \
	    --data-binary "$_j" "$@" "$URL/xrpc/$_m"
}
if [ -n "$GRANT" ] && [ -n "$APW" ]; then
	tx resize-window -t main -x 120 -y 36
	xpost com.atproto.server.createSession \
	    "{\"identifier\":\"alice.pds.example.com\",\"password\":\"$APW\"}"
	AACC=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$OUT")
	xpost com.atproto.server.createAppPassword '{"name":"phone"}' \
	    -H "Authorization: Bearer $AACC"
	APP=$(sed -n 's/.*"password":"\([^"]*\)".*/\1/p' "$OUT")
	xpost com.atproto.server.createSession \
	    "{\"identifier\":\"alice.pds.example.com\",\"password\":\"$APP\"}"
	check "alice signs in with her password and with an app password" \
	    grep -q '"refreshJwt"' "$OUT"
	keys main 2 /
	keys main C-u
	type_text main alice
	keys main Enter
	see "Sessions: alice found" main "1 account +search: alice"
	keys main Enter
	see "Sessions: the details count them" main "signed in +2 password sessions, 1 app password, 1 OAuth grant"
	keys main S
	see "Sessions: S lists how alice is signed in" main "@alice.pds.example.com: how it is signed in"
	see "Sessions: ... the password session" main "session +[A-Za-z0-9_-]{20}\.\. .*with the password"
	see "Sessions: ... the app password's session" main "with app password phone"
	see "Sessions: ... the app password" main "app password +phone +[0-9-]+ [0-9:]+ +never"
	see "Sessions: ... the OAuth grant" main "OAuth grant +$GRANT +.* http://localhost +atproto transition"
	record "Accounts: sessions (2, S)" main
	keys main x
	see "Sessions: x asks for a reason" main "Reason to end session [A-Za-z0-9_-]{6}\.\. of @alice.pds.example.com:"
	keys main Enter
	see "Sessions: ... which is required" main "a reason is required"
	keys main x
	type_text main "lost laptop"
	keys main Enter
	see "Sessions: ... then to confirm" main "End session [A-Za-z0-9_-]{6}\.\. of @alice.pds.example.com\? Reason: lost laptop"
	keys main y
	see "Sessions: y ends it" main "ended for @alice.pds.example.com: 1 session, 0 app passwords, 0 OAuth grants"
	see "Sessions: ... and the list reloads" main "1 password session, 1 app password, 1 OAuth grant"
	ctl audit
	check "pdsctl audit: the session ended, with its reason" grep -qE "ok +account.revoke-session +$ADID +lost laptop" "$OUT"
	keys main G x
	see "Sessions: G x picks the OAuth grant" main "Reason to end OAuth grant $GRANT of @alice.pds.example.com:"
	type_text main "app misbehaves"
	keys main Enter y
	see "Sessions: ... and ends it" main "ended for @alice.pds.example.com: 0 sessions, 0 app passwords, 1 OAuth grant"
	ctl account sessions "$ADID" --json
	check "pdsctl: alice has no grant left" grep -q '"oauthGrants": *\[\]' "$OUT"
	keys main X
	see "Sessions: X asks to end them all" main "Reason to end every session and grant of @alice.pds.example.com:"
	keys main Escape
	see "Sessions: Esc cancels" main "cancelled"
	keys main Escape
	see "Sessions: Esc goes back to the details" main "signed in +1 password session, 1 app password, 0 OAuth grants"
fi
keys main q
sleep 0.5
check "q quits with status 0" test "$(cat "$T_DIR/main.rc" 2>/dev/null)" = 0

# ---- monochrome, --max-iterations, --screen ----
tui_start col 100 30 "$PDSTUI" --socket "$SOCK" --exit-after 30
wait_for col "seq head"
tx capture-pane -e -p -t col >"$T_DIR/col.esc"
check "colours: a colour terminal gets colours" grep -q '\[[0-9;]*4[0-7]m' "$T_DIR/col.esc"
tui_start mono 100 30 "$PDSTUI" --socket "$SOCK" --no-color --exit-after 30
see "monochrome: --no-color still shows everything" mono "seq head [0-9]+"
tx capture-pane -e -p -t mono >"$T_DIR/mono.esc"
check "monochrome: no colours, only attributes" sh -c '! grep -q "\[[0-9;]*[34][0-7]m" "$1" && grep -q "\[7m" "$1"' _ "$T_DIR/mono.esc"
tui_start vt 100 30 TERM=vt100 "$PDSTUI" --socket "$SOCK" --exit-after 30
see "monochrome: on a vt100" vt "seq head [0-9]+"
tui_start iter 100 30 "$PDSTUI" --socket "$SOCK" --screen invites --max-iterations 5
_i=0
while [ $_i -lt 100 ] && [ ! -f "$T_DIR/iter.rc" ]; do sleep 0.1; _i=$((_i + 1)); done
check "--max-iterations ends the UI by itself (status 0)" test "$(cat "$T_DIR/iter.rc" 2>/dev/null)" = 0
tui_start exa 100 30 "$PDSTUI" --socket "$SOCK" --screen firehose --exit-after 2
see "--screen starts on that screen" exa "Live tail"
sleep 2.5
check "--exit-after ends the UI by itself (status 0)" test "$(cat "$T_DIR/exa.rc" 2>/dev/null)" = 0
tui_start envs 100 30 "PDSCTL_SOCKET=$SOCK" "$PDSTUI" --exit-after 30
see "PDSCTL_SOCKET chooses the socket" envs " connected *$"

# ---- read-only ----
if [ -n "$RO_USER" ]; then
	chmod 0711 "$T_DIR"
	mkdir -m 0755 "$T_DIR/bin"
	cp "$PDSTUI" "$T_DIR/bin/pdstui" && chmod 0755 "$T_DIR/bin/pdstui"
	tui_start ro 120 36 setpriv --reuid "$RO_USER" --regid "$G" --init-groups \
	    "$T_DIR/bin/pdstui" --socket "$SOCK" --screen accounts --exit-after 60
	see "read-only: the title says so" ro "unix:$RO_USER\([0-9]+\) \(read-only\)"
	see "read-only: the action keys are still shown" ro "t:takedown u:restore"
	keys ro t
	see "read-only: an action is refused with a reason" ro "read-only: that needs the admin group"
	keys ro Escape
	keys ro S
	see "read-only: S lists an account's sessions" ro "how it is signed in"
	keys ro x
	see "read-only: x is refused" ro "read-only: that needs the admin group"
	keys ro '?'
	see "read-only: help marks the actions" ro "take down, with a reason +\(read-only\)"
	tx capture-pane -e -p -t ro >"$T_DIR/ro.esc"
	check "read-only: the actions are greyed (dim)" grep -q '\[2m' "$T_DIR/ro.esc"
	record "Read-only mode: the Accounts help" ro
else
	echo "# read-only cases skipped: need root, setpriv and useradd"
fi

# ---- nothing on stderr (sanitizer reports, leaks, warnings) ----
tx kill-server 2>/dev/null
sleep 0.5
for _e in "$T_DIR"/*.err; do
	[ -s "$_e" ] || continue
	not_ok "pdstui wrote to stderr: ${_e##*/}" "$(head -c 600 "$_e")"
done
ok "pdstui sessions ended"

# ---- the man page ----
if command -v mandoc >/dev/null 2>&1; then
	check "man/pdstui.1 is mandoc -Tlint clean" sh -c '[ -z "$(mandoc -Tlint -W warning man/pdstui.1 2>&1)" ]'
	mandoc -Tascii man/pdstui.1 | col -bx >"$T_DIR/man.txt"
	check "man/pdstui.1: no stray space before punctuation" sh -c '! grep -nE "[[:alnum:])] [.,;:]( |\$)" "$1"' _ "$T_DIR/man.txt"
fi

t_done
