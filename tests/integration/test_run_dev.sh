#!/bin/sh
# test_run_dev: `make run` (scripts/run-dev.sh) as a developer meets it:
# with its port held by a listener that never speaks HTTP, it must stop
# with a clear message rather than hang; with another pdsd on its port,
# it must not claim that its own pdsd is running; and on free ports its
# banner says how to reach the dev socket with pdsctl and pdstui and how
# to set $ACCESS, and those commands work.
#
# Needs Node 22 (scripts/node.sh, tests/interop/setup.sh) for the PLC
# directory run-dev starts.  Its data goes to a temporary RUN_DEV_DIR.
T_NAME=test_run_dev
. "$(dirname "$0")/lib.sh"

RUNDEV_PID=
HOLD_PID=
rd_cleanup() {
	[ -n "$RUNDEV_PID" ] && rd_stop
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null &&
	    wait "$HOLD_PID" 2>/dev/null
	t_cleanup
}
trap rd_cleanup EXIT

if ! command -v setsid >/dev/null 2>&1; then
	echo "$T_NAME: needs setsid (util-linux)"
	echo "$T_NAME: 0 passed, 1 failed"
	exit 1
fi
if ! tests/interop/setup.sh >"$T_DIR/setup.log" 2>&1 ||
    ! NODE=$(scripts/node.sh 2>/dev/null); then
	sed 's/^/#   /' "$T_DIR/setup.log" | tail -n 20
	not_ok "Node 22 and the PLC directory's packages install"
	t_done
	exit 1
fi
export B
export RUN_DEV_DIR="$T_DIR/dev"
LOG=$T_DIR/run-dev.log

# run_dev PDS_PORT PLC_PORT: start run-dev in the background
run_dev() {
	: >"$LOG"
	# its own process group, so that nothing it started outlives it
	PDS_PORT=$1 PLC_PORT=$2 setsid ${RUN_DEV:-scripts/run-dev.sh} \
	    >"$LOG" 2>&1 </dev/null &
	RUNDEV_PID=$!
}
# rd_wait SECONDS: until run-dev exits (0) or the time is up (1); $RD_RC
rd_wait() {
	_i=0
	while [ $_i -lt $(($1 * 10)) ]; do
		if ! kill -0 "$RUNDEV_PID" 2>/dev/null; then
			wait "$RUNDEV_PID"
			RD_RC=$?
			kill -9 "-$RUNDEV_PID" 2>/dev/null	# leftovers
			RUNDEV_PID=
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# log_wait ERE SECONDS: until the log matches
log_wait() {
	_i=0
	while [ $_i -lt $(($2 * 10)) ]; do
		grep -qE -- "$1" "$LOG" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
rd_stop() {
	if [ -n "$RUNDEV_PID" ]; then
		_g=$RUNDEV_PID
		kill "$RUNDEV_PID" 2>/dev/null
		rd_wait 20 || { kill -9 "$RUNDEV_PID"; RUNDEV_PID=; }
		kill -9 "-$_g" 2>/dev/null	# what it left behind
	fi
}

# ---- a listener that accepts and never answers ----
# It takes a port the kernel picks and names it, so no other process can
# take that port between a pick and the listen; run-dev starts only once
# the port is held (a slow start of node on a loaded machine waits).
"$NODE" -e "const s = require('net').createServer(() => {}); s.listen(0, '127.0.0.1', () => console.log('held ' + s.address().port))" >"$T_DIR/hold.log" 2>&1 &
HOLD_PID=$!
_i=0
while ! grep -q '^held [0-9]' "$T_DIR/hold.log" && [ $_i -lt 300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
HPORT=$(sed -n 's/^held \([0-9]*\)$/\1/p' "$T_DIR/hold.log")
if [ -z "$HPORT" ]; then
	not_ok "a port held by a non-HTTP listener: the listener" "no port after 30 s: $(tail -c 300 "$T_DIR/hold.log")"
else
	run_dev "$HPORT" "$(pick_port)"
	if rd_wait 30; then
		ok "a port held by a non-HTTP listener: run-dev stops by itself"
		check "... with a failure status" test "$RD_RC" != 0
		check "... naming the port" grep -q "127.0.0.1:$HPORT is already in use" "$LOG"
	else
		not_ok "a port held by a non-HTTP listener: run-dev stops by itself" "still waiting after 30 s: $(tail -c 300 "$LOG")"
		rd_stop
	fi
fi
kill "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null
HOLD_PID=

# ---- another pdsd on the port ----
pds_env
pds_start || { t_done; exit 1; }
run_dev "$PORT" "$(pick_port)"
if rd_wait 60; then
	check "another pdsd on the port: run-dev fails" test "$RD_RC" != 0
	check "... saying the port is in use" grep -q "127.0.0.1:$PORT is already in use" "$LOG"
	check "... and never that its pdsd is running" sh -c '! grep -q "pdsd is running" "$1"' _ "$LOG"
else
	not_ok "another pdsd on the port: run-dev fails" "still running after 60 s: $(tail -c 300 "$LOG")"
	rd_stop
fi
check "... and the other pdsd is untouched" curl -sf -o /dev/null "$URL/xrpc/_health"
pds_stop

# ---- free ports: the banner, and its commands work ----
DPORT=$(pick_port)
run_dev "$DPORT" "$(pick_port)"
if log_wait "Ctrl-C stops" 60; then
	ok "run-dev starts on free ports"
	check "the banner: pdsctl on the dev socket" grep -qF "PDSCTL_SOCKET=$RUN_DEV_DIR/data/pdsd.sock" "$LOG"
	check "the banner: pdstui too" grep -q "pdstui" "$LOG"
	check "the banner: how to set \$ACCESS" grep -q 'ACCESS=\$(curl' "$LOG"
	# run the banner's own lines: create an account, log in, use $ACCESS
	sed -n '/^  Create an account:/,/^$/p' "$LOG" | sed '1d' >"$T_DIR/create.sh"
	sh "$T_DIR/create.sh" >"$T_DIR/create.out" 2>&1
	check "the banner's createAccount works" grep -q '"did":"did:plc:' "$T_DIR/create.out"
	sed -n '/^  Log in/,/^$/p' "$LOG" | sed '1d' >"$T_DIR/login.sh"
	printf '%s\n' 'curl -s "'"http://127.0.0.1:$DPORT"'/xrpc/com.atproto.server.getSession" -H "Authorization: Bearer $ACCESS"' >>"$T_DIR/login.sh"
	sh "$T_DIR/login.sh" >"$T_DIR/login.out" 2>&1
	check "... its login sets \$ACCESS, which getSession takes" grep -q '"handle":"alice.test"' "$T_DIR/login.out"
	_ctl=$(sed -n 's/^ *\(PDSCTL_SOCKET=[^ ]* [^ ]*pdsctl\) account list$/\1/p' "$LOG" | head -n 1)
	if [ -n "$_ctl" ]; then
		sh -c "$_ctl account list" >"$T_DIR/ctl.out" 2>&1
		check "the banner's pdsctl line lists alice" grep -q "alice.test" "$T_DIR/ctl.out"
	else
		not_ok "the banner has a pdsctl line to run" "$(cat "$LOG")"
	fi
else
	not_ok "run-dev starts on free ports" "$(tail -c 600 "$LOG")"
fi
rd_stop
check "Ctrl-C (SIGTERM) stops it, and its pdsd" sh -c '! curl -s -o /dev/null -m 2 "http://127.0.0.1:$1/xrpc/_health"' _ "$DPORT"

t_done
