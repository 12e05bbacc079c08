#!/bin/sh
# test_admin_perms: who may use the admin socket.  Needs root (to create
# test users and groups and to run pdsctl as them with setpriv); skips
# with a note otherwise.
#
#   pdst_none   in neither group: the kernel refuses the connection (mode
#               0660); with the mode loosened, pdsd refuses and audits it
#   pdst_read   in PDS_ADMIN_SOCKET_GROUP: read-only commands only; each
#               refused mutating command is answered PermissionDenied
#               (exit 77) and audited
#   pdst_admin  also in PDS_ADMIN_GROUP: everything
#
# Users and groups this script creates are removed at the end.
T_NAME=test_admin_perms
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "# skipped: not root (needs useradd/groupadd and setpriv)"
	t_done
	exit 0
fi
for tool in setpriv useradd groupadd sqlite3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "# skipped: $tool is missing"
		t_done
		exit 0
	fi
done

G_READ=pdst_read
G_ADMIN=pdst_admin
G_NONE=pdst_none
MADE_USERS=
MADE_GROUPS=
ensure_group() {
	getent group "$1" >/dev/null 2>&1 && return 0
	groupadd "$1" && MADE_GROUPS="$MADE_GROUPS $1"
}
ensure_user() {	# ensure_user NAME PRIMARY [SUPPLEMENTARY]
	if ! getent passwd "$1" >/dev/null 2>&1; then
		useradd -M -N -d /nonexistent -s /usr/sbin/nologin -g "$2" \
		    ${3:+-G "$3"} "$1" && MADE_USERS="$MADE_USERS $1"
	fi
}
perm_cleanup() {
	for u in $MADE_USERS; do userdel "$u" 2>/dev/null; done
	for g in $MADE_GROUPS; do groupdel "$g" 2>/dev/null; done
	t_cleanup
}
trap perm_cleanup EXIT
ensure_group $G_READ && ensure_group $G_ADMIN && ensure_group $G_NONE &&
    ensure_user pdst_none $G_NONE &&
    ensure_user pdst_read $G_NONE $G_READ &&
    ensure_user pdst_admin $G_NONE "$G_READ,$G_ADMIN" || {
	not_ok "create the test users and groups"
	t_done
	exit 1
}

# Everything the test users touch must be reachable by them.
chmod 0711 "$T_DIR"
mkdir -m 0755 "$T_DIR/run" "$T_DIR/bin"
cp "${PDSCTL:-$B/bin/pdsctl}" "$T_DIR/bin/pdsctl"
chmod 0755 "$T_DIR/bin/pdsctl"
PDSCTL=$T_DIR/bin/pdsctl
SOCK=$T_DIR/run/pdsd.sock
OUT=$T_DIR/out
ERR=$T_DIR/err

# as USER ARGS...: pdsctl as that user, with their groups; $RC
as() {
	_u=$1
	shift
	setpriv --reuid "$_u" --regid "$G_NONE" --init-groups \
	    "$PDSCTL" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}
expect_rc() {	# expect_rc DESC WANT [stderr pattern]
	if [ "$RC" = "$2" ] && { [ -z "${3:-}" ] || grep -qE -- "$3" "$ERR"; }; then
		ok "$1"
	else
		not_ok "$1" "exit $RC, want $2; stderr: $(head -c 300 "$ERR")"
	fi
}
sql() { sqlite3 "$T_DIR/data/pds.sqlite" "$1"; }
audited() {	# audited ACTION OUTCOME USER
	[ "$(sql "SELECT count(*) FROM audit_log WHERE action = '$1' AND
	    json_extract(detail, '\$.outcome') = '$2' AND
	    actor = 'unix:$3($(id -u "$3"))'")" -gt 0 ]
}

pds_env "PDS_ADMIN_SOCKET=$SOCK" "PDS_ADMIN_SOCKET_GROUP=$G_READ" \
    "PDS_ADMIN_GROUP=$G_ADMIN"
pds_start || { t_done; exit 1; }

check "the socket belongs to the socket group, mode 0660" \
    test "$(stat -c '%a %G' "$SOCK")" = "660 $G_READ"

# ---- outside the group ----
as pdst_none stats
expect_rc "a user outside the socket's group cannot connect (77)" 77 "permission denied"
chmod 0666 "$SOCK"
as pdst_none stats
expect_rc "with the mode loosened, pdsd itself refuses the peer (77)" 77 "PermissionDenied"
check "... and audits the refused connection" audited connect refused pdst_none
chmod 0660 "$SOCK"

# ---- read-only member ----
as pdst_read stats
expect_rc "a socket-group member may read stats" 0
as pdst_read account list
expect_rc "... and list accounts" 0
as pdst_read audit
expect_rc "... and read the audit log" 0
as pdst_read invite create
expect_rc "a read-only member cannot create invites (77)" 77 "PermissionDenied"
check "... and the refusal is audited" audited invite.create refused pdst_read
as pdst_read account takedown did:plc:aaaaaaaaaaaaaaaaaaaaaaaa --reason test
expect_rc "a read-only member cannot take an account down (77)" 77 "PermissionDenied"
check "... audited with its reason and subject" \
    test "$(sql "SELECT subject || '|' || reason FROM audit_log WHERE action = 'account.takedown' AND json_extract(detail, '\$.outcome') = 'refused'")" = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa|test"
as pdst_read account delete did:plc:aaaaaaaaaaaaaaaaaaaaaaaa --reason test --yes
expect_rc "a read-only member cannot delete accounts (77)" 77 "PermissionDenied"
check "... audited" audited account.delete refused pdst_read
mkdir -m 0700 "$T_DIR/rbk" && chown pdst_read "$T_DIR/rbk"
as pdst_read backup "$T_DIR/rbk/x.sqlite"
expect_rc "a read-only member cannot make backups (77)" 77 "PermissionDenied"
check "... audited" audited backup refused pdst_read
check "... and nothing was written" test ! -e "$T_DIR/rbk/x.sqlite"
as pdst_read request-crawl http://127.0.0.1:1
expect_rc "a read-only member cannot ask relays to crawl (77)" 77 "PermissionDenied"

# ---- admin member ----
as pdst_admin invite create --count 2
expect_rc "an admin-group member may create invites" 0
check "... audited as that user" audited invite.create ok pdst_admin
check "... two codes" test "$(wc -l <"$OUT")" -eq 2
cp "$OUT" "$T_DIR/codes"
as pdst_admin invite list --json
expect_rc "an admin may list invites" 0
check "... and sees the whole codes" grep -qF -f "$T_DIR/codes" "$OUT"
for cmd in "invite list" audit; do
	as pdst_read $cmd --json
	expect_rc "a read-only member may run $cmd" 0
	check "... but sees no whole invite code" sh -c '! grep -qF -f "$1" "$2"' _ "$T_DIR/codes" "$OUT"
done
as pdst_read invite list --json
check "... a masked one instead (host part and two characters)" \
    grep -qE '"[a-z0-9-]+-[a-z2-7]{2}\*{3}-\*{5}"' "$OUT"
mkdir -m 0700 "$T_DIR/abk" && chown pdst_admin "$T_DIR/abk"
as pdst_admin backup "$T_DIR/abk/db.sqlite"
expect_rc "an admin may back up into a directory they own" 0
check "... the file is theirs, mode 0600" \
    test "$(stat -c '%U %a' "$T_DIR/abk/db.sqlite")" = "pdst_admin 600"
as pdst_admin backup "$T_DIR/db.sqlite"
expect_rc "... but not into someone else's directory (77)" 77 "directory must be one you own"
check "... and nothing was written there" test ! -e "$T_DIR/db.sqlite"
as pdst_admin account takedown did:plc:aaaaaaaaaaaaaaaaaaaaaaaa --reason test
expect_rc "an admin's takedown of an unknown account is not found (3)" 3 "NoSuchAccount"
check "... audited as failed" audited account.takedown failed pdst_admin

# ---- root ----
"$PDSCTL" --socket "$SOCK" invite create >"$OUT" 2>"$ERR"; RC=$?
expect_rc "root may do everything" 0
check "... audited as root" audited invite.create ok root

# ---- the connection cap ----
NODE=$(scripts/node.sh 2>/dev/null) || NODE=
if [ -n "$NODE" ]; then
	cat >"$T_DIR/cap.mjs" <<'EOF'
import net from 'node:net';
const [sock, n] = [process.argv[2], Number(process.argv[3])];
let refused = 0, open = 0, done = 0;
const conns = [];
for (let i = 0; i < n; i++) {
	const c = net.createConnection(sock);
	conns.push(c);
	let buf = '';
	c.on('data', (d) => { buf += d; });
	c.on('close', () => {
		if (buf.includes('TooManyConnections')) refused++;
		if (++done === n) console.log(`refused ${refused}`);
	});
}
setTimeout(() => conns.forEach((c) => c.end()), 700);
EOF
	_r=$("$NODE" "$T_DIR/cap.mjs" "$SOCK" 10)
	check "at most 8 connections per user (10 tried: 2 refused)" test "$_r" = "refused 2"
	as pdst_read stats
	expect_rc "the daemon serves again once they close" 0
else
	echo "# no Node: connection cap case skipped"
fi
check "pdsd is still healthy" curl -sf -o /dev/null "$URL/xrpc/_health"
t_done
