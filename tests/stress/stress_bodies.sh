#!/bin/sh
# stress_bodies: issue 16 finding 3.  100 connections at once, each
# sending a 5 MB com.atproto.repo.importRepo body (body_flood): without
# credentials every one is refused from its head, and with valid ones
# the bodies stream to temporary files, so pdsd's resident memory stays
# within 64 MB of where it started either way.  Uses a local PLC
# directory for the account (Node 22 and the interop packages); without
# them only the first half runs.
T_NAME=stress_bodies
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

BOUND_KB=65536
IMPORT=/xrpc/com.atproto.repo.importRepo

# flood [AUTH]: the load, and the growth of pdsd's peak memory, in KiB
flood() {
	_base=$(rss_kb "$PDSD_PID")
	FLOOD=$("$STRESS_BIN/body_flood" "$PORT" $IMPORT 100 5000000 30000 \
	    "$@")
	GROWTH=$(( $(peak_rss_kb "$PDSD_PID") - _base ))
}

PLC_PID=
NODE=$(scripts/node.sh 2>/dev/null)
if [ -n "$NODE" ] && [ -d tests/interop/node_modules/@did-plc/server ]; then
	: >"$T_DIR/plc.out"
	"$NODE" scripts/plc-server.mjs 0 >"$T_DIR/plc.out" 2>&1 &
	PLC_PID=$!
	trap 'pds_kill9; kill "$PLC_PID" 2>/dev/null
	    wait "$PLC_PID" 2>/dev/null; rm -rf "$T_DIR"' EXIT
	PLC=
	i=0
	while [ $i -lt 100 ] && [ -z "$PLC" ]; do
		PLC=$(sed -n 's/^PLC listening on \(http:[^ ]*\)$/\1/p' \
		    "$T_DIR/plc.out")
		sleep 0.1
		i=$((i + 1))
	done
	pds_env "PDS_DID_PLC_URL=$PLC" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
	    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost"
else
	echo "# no Node 22 or PLC server: the run without credentials only"
	pds_env
fi
pds_start || { t_done; exit 1; }

flood
echo "# without credentials: $FLOOD; peak RSS grew $GROWTH KiB"
check "100 x 5 MB importRepo without credentials: all refused" \
    test "$(json_num "$FLOOD" s4xx)" -eq 100 -o \
    "$(json_num "$FLOOD" refused)" -eq 100
check "... peak RSS grew less than 64 MB ($GROWTH KiB)" \
    test "$GROWTH" -lt $BOUND_KB

if [ -n "$PLC_PID" ]; then
	req POST /xrpc/com.atproto.server.createAccount \
	    -H 'Content-Type: application/json' \
	    --data '{"handle":"flood.test","email":"flood@example.com","password":"flood-password-1"}'
	check_status "createAccount" 200
	TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
	flood "Bearer $TOK"
	echo "# with credentials: $FLOOD; peak RSS grew $GROWTH KiB"
	check "100 x 5 MB importRepo with credentials: all read and answered" \
	    test "$(json_num "$FLOOD" answered)" -eq 100 -a \
	    "$(json_num "$FLOOD" refused)" -eq 0
	check "... (not a CAR file: 400)" \
	    test "$(json_num "$FLOOD" s4xx)" -eq 100
	check "... peak RSS grew less than 64 MB ($GROWTH KiB)" \
	    test "$GROWTH" -lt $BOUND_KB
	check "... no temporary body file left" \
	    test -z "$(ls -A "$T_DIR/data" | grep '^\.body-')"
fi
req GET /xrpc/_health
check_status "healthy after the floods" 200
pds_stop
check "pdsd exits cleanly" test $? -eq 0
t_done
