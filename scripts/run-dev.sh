#!/bin/sh
# run-dev: a development PDS on this machine.  `make run` calls it.
#
#   B=build scripts/run-dev.sh
#
# Starts a local PLC directory (the real @did-plc/server, in memory,
# scripts/plc-server.mjs under Node 22 from scripts/node.sh) and pdsd in
# dev mode on 127.0.0.1, hostname localhost, handles under .test, no
# invite codes, data in .cache/dev.  Prints the URL and curl commands to
# try it; Ctrl-C stops both.
#
# The PLC directory forgets everything when it stops, so each run starts
# with an empty data directory too (RUN_DEV_KEEP=1 keeps the old one; its
# DIDs then no longer resolve).  Ports: PDS_PORT (2583) and PLC_PORT
# (2582).  Extra pdsd settings can go in .cache/dev/extra.env
# (RUN_DEV_DIR names another directory than .cache/dev).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
B=${B:-build}
case $B in /*) ;; *) B=$root/$B ;; esac
pdsd=$B/bin/pdsd
dev=${RUN_DEV_DIR:-$root/.cache/dev}
pds_port=${PDS_PORT:-2583}
plc_port=${PLC_PORT:-2582}

if [ ! -x "$pdsd" ]; then
	echo "run-dev: $pdsd is missing; run make first" >&2
	exit 1
fi

# in_use PORT: does anything accept connections on 127.0.0.1:PORT?
# (curl's exit 7 is "connection refused"; a listener that never
# answers HTTP times out instead, and is in use all the same.)
in_use() {
	_rc=0
	curl -s -o /dev/null --connect-timeout 2 -m 3 \
	    "http://127.0.0.1:$1/xrpc/_health" || _rc=$?
	[ "$_rc" -ne 7 ]
}
for p in "$pds_port" "$plc_port"; do
	if in_use "$p"; then
		echo "run-dev: 127.0.0.1:$p is already in use (another pdsd" \
		    "or make run?); stop it, or choose other ports with" \
		    "PDS_PORT and PLC_PORT" >&2
		exit 1
	fi
done
echo "run-dev: preparing Node 22 and the PLC directory's packages" >&2
"$root/tests/interop/setup.sh"
node=$("$root/scripts/node.sh")

mkdir -p "$dev"
chmod 700 "$dev"
if [ "${RUN_DEV_KEEP:-0}" != 1 ]; then
	rm -rf "$dev/data"
fi
mkdir -p "$dev/data"

hex() {	# hex N: N random bytes as hex
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# Secrets are made once and kept, so tokens survive a restart.
if [ ! -f "$dev/secrets.env" ]; then
	umask 077
	cat >"$dev/secrets.env" <<EOF
PDS_JWT_SECRET=$(hex 32)
PDS_ADMIN_PASSWORD=$(hex 16)
PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=$(hex 32)
EOF
	umask 022
fi
admin_pw=$(sed -n 's/^PDS_ADMIN_PASSWORD=//p' "$dev/secrets.env")

{
	echo "# written by scripts/run-dev.sh on each run"
	echo "PDS_HOSTNAME=localhost"
	echo "PDS_PORT=$pds_port"
	echo "PDS_BIND_ADDRESS=127.0.0.1"
	echo "PDS_DATA_DIRECTORY=$dev/data"
	echo "PDS_DEV_MODE=true"
	echo "PDS_DID_PLC_URL=http://127.0.0.1:$plc_port"
	echo "PDS_SERVICE_HANDLE_DOMAINS=.test"
	echo "PDS_INVITE_REQUIRED=false"
	echo "PDS_LOG_LEVEL=info"
	cat "$dev/secrets.env"
	[ -f "$dev/extra.env" ] && cat "$dev/extra.env"
} >"$dev/pds.env"
chmod 600 "$dev/pds.env"

plc_pid=
pds_pid=
stop() {
	trap - INT TERM EXIT
	[ -n "$pds_pid" ] && kill "$pds_pid" 2>/dev/null && wait "$pds_pid" 2>/dev/null
	[ -n "$plc_pid" ] && kill "$plc_pid" 2>/dev/null && wait "$plc_pid" 2>/dev/null
	echo "run-dev: stopped" >&2
}
trap stop EXIT
trap 'exit 130' INT TERM

"$node" "$root/scripts/plc-server.mjs" "$plc_port" >"$dev/plc.log" 2>&1 &
plc_pid=$!
i=0
until grep -q "PLC listening" "$dev/plc.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$plc_pid" 2>/dev/null; then
		echo "run-dev: the PLC directory did not start:" >&2
		cat "$dev/plc.log" >&2
		exit 1
	fi
	sleep 0.1
done

"$pdsd" -c "$dev/pds.env" &
pds_pid=$!
url=http://localhost:$pds_port
i=0
until kill -0 "$pds_pid" 2>/dev/null && curl -sf -o /dev/null \
    --connect-timeout 2 -m 3 "http://127.0.0.1:$pds_port/xrpc/_health"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pds_pid" 2>/dev/null; then
		echo "run-dev: pdsd did not start" >&2
		exit 1
	fi
	sleep 0.1
done
# the answer came from our pdsd only if it is still running
if ! kill -0 "$pds_pid" 2>/dev/null; then
	echo "run-dev: pdsd did not start" >&2
	exit 1
fi

cat <<EOF

  pdsd is running at $url (PLC directory: http://127.0.0.1:$plc_port)
  data: $dev/data   settings: $dev/pds.env   admin password: $admin_pw

  Create an account:
    curl -s -X POST $url/xrpc/com.atproto.server.createAccount \\
      -H 'Content-Type: application/json' \\
      -d '{"handle":"alice.test","email":"alice@example.com","password":"correct horse"}'

  Log in, keeping the access token in \$ACCESS:
    ACCESS=\$(curl -s -X POST $url/xrpc/com.atproto.server.createSession \\
      -H 'Content-Type: application/json' \\
      -d '{"identifier":"alice.test","password":"correct horse"}' |
      sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p')

  Use the access token:
    curl -s $url/xrpc/com.atproto.server.getSession -H "Authorization: Bearer \$ACCESS"
    curl -s "$url/xrpc/com.atproto.identity.resolveHandle?handle=alice.test"

  Invite codes (admin):
    curl -s -u admin:$admin_pw -X POST $url/xrpc/com.atproto.server.createInviteCode \\
      -H 'Content-Type: application/json' -d '{"useCount":1}'

  pdsctl and pdstui on this pdsd's admin socket:
    PDSCTL_SOCKET=$dev/data/pdsd.sock $B/bin/pdsctl account list
    PDSCTL_SOCKET=$dev/data/pdsd.sock $B/bin/pdstui
    (or export PDSCTL_SOCKET=$dev/data/pdsd.sock, or pdsctl -c $dev/pds.env)

  Ctrl-C stops pdsd and the PLC directory.

EOF
wait "$pds_pid"
