# lib.sh: helpers for the integration tests (POSIX sh).  Source it after
# setting T_NAME.  It runs a real pdsd ($B/bin/pdsd) on a free loopback
# port with a temporary data directory, and always kills it on exit.
#
#   pds_env [KEY=VALUE...]   write $T_DIR/pds.env (defaults plus overrides)
#   pds_start [pdsd args]    start pdsd, wait for /xrpc/_health
#   pds_stop                 SIGTERM, wait; returns pdsd's exit status
#   pds_kill9                SIGKILL, wait
#   plc_start                a local PLC directory (Node 22): sets PLC_URL;
#                            stopped on exit
#   req METHOD PATH [curl args]   sets $STATUS; body in $T_DIR/body,
#                                 headers in $T_DIR/headers
#   check DESC CMD...        count CMD's success as one case
#   t_done                   print "$T_NAME: N passed, M failed"
#   ctl ARGS...              $PDSCTL --socket $SOCK ARGS: output in $OUT,
#                            errors in $ERR, exit status in $RC (the test
#                            sets those four)
#   jget PATH [FILE]         one JSON value of $OUT (or FILE), by sqlite3

: "${B:=build}"
PDSD=${PDSD:-$B/bin/pdsd}
case $PDSD in /*) ;; *) PDSD=$(pwd)/$PDSD ;; esac
t_pass=0
t_fail=0
PDSD_PID=
PORT=
URL=
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pdsd-test.XXXXXX") || exit 1
ADMIN_PASSWORD=admin-pw-$$-secret
JWT_SECRET=jwt-secret-$$-value
ROTATION_KEY=4f1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0

pds_kill9() {
	if [ -n "$PDSD_PID" ]; then
		kill -9 "$PDSD_PID" 2>/dev/null
		wait "$PDSD_PID" 2>/dev/null
		PDSD_PID=
	fi
}

PLC_PID=
plc_stop() {
	if [ -n "$PLC_PID" ]; then
		kill "$PLC_PID" 2>/dev/null
		wait "$PLC_PID" 2>/dev/null
		PLC_PID=
	fi
}

t_cleanup() {
	pds_kill9
	plc_stop
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ ! -x "$PDSD" ]; then
	echo "$T_NAME: $PDSD is missing; build it first (make B=$B)"
	echo "$T_NAME: 0 passed, 1 failed"
	exit 1
fi

ok() {
	t_pass=$((t_pass + 1))
	echo "ok - $1"
}

not_ok() {
	t_fail=$((t_fail + 1))
	echo "not ok - $1"
	[ -n "${2:-}" ] && printf '  # %s\n' "$2"
	return 0
}

check() {
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}

# check_status DESC WANT: compare $STATUS
check_status() {
	if [ "$STATUS" = "$2" ]; then ok "$1"
	else not_ok "$1" "status $STATUS, want $2; body: $(head -c 300 "$T_DIR/body")"
	fi
}

body_has() { grep -qF -- "$1" "$T_DIR/body"; }
header_has() { tr -d '\r' <"$T_DIR/headers" | grep -qi -- "$1"; }
log_has() { grep -qF -- "$1" "$T_DIR/pdsd.log"; }

t_done() {
	echo "$T_NAME: $t_pass passed, $t_fail failed"
	[ "$t_fail" -eq 0 ]
}

# A random port from 10000 up to the kernel's ephemeral range that
# nothing listens on (best effort; pds_start retries when the bind fails
# anyway).  Not in the ephemeral range: a helper that listens on port 0
# (the PLC directory, node listeners) gets its port from there, and may
# get this one between the check below and the bind.
pick_port() {
	_lo=32768
	read -r _lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	case $_lo in ''|*[!0-9]*) _lo=32768 ;; esac
	[ "$_lo" -gt 12000 ] || _lo=32768
	while :; do
		_n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_p=$((10000 + _n % (_lo - 10000)))
		if command -v ss >/dev/null 2>&1 &&
		    ss -Hltn "sport = :$_p" 2>/dev/null | grep -q .; then
			continue
		fi
		echo "$_p"
		return
	done
}

ctl() {
	"$PDSCTL" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

jget() {
	sqlite3 :memory: "SELECT json_extract(readfile('${2:-$OUT}'), '$1');"
}

# pds_env [KEY=VALUE...]: the env file, with overrides appended.
pds_env() {
	[ -n "$PORT" ] || PORT=$(pick_port)
	URL=http://127.0.0.1:$PORT
	cat >"$T_DIR/pds.env" <<EOF
# written by tests/integration/lib.sh
PDS_HOSTNAME=pds.example.com
PDS_PORT=$PORT
PDS_BIND_ADDRESS=127.0.0.1
PDS_DATA_DIRECTORY=$T_DIR/data
PDS_ADMIN_PASSWORD="$ADMIN_PASSWORD"
PDS_JWT_SECRET='$JWT_SECRET'
PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=$ROTATION_KEY
PDS_DEV_MODE=true
PDS_THREADS=2
PDS_LOG_LEVEL=info
EOF
	for _kv in "$@"; do
		printf '%s\n' "$_kv" >>"$T_DIR/pds.env"
	done
}

# pds_start [extra pdsd args]: start and wait until healthy.
pds_start() {
	_try=0
	while [ $_try -lt 5 ]; do
		_try=$((_try + 1))
		[ -f "$T_DIR/pds.env" ] || pds_env
		"$PDSD" -c "$T_DIR/pds.env" "$@" >>"$T_DIR/pdsd.log" 2>&1 &
		PDSD_PID=$!
		_i=0
		while [ $_i -lt 100 ]; do
			if curl -sf -o /dev/null "$URL/xrpc/_health"; then
				return 0
			fi
			if ! kill -0 "$PDSD_PID" 2>/dev/null; then
				wait "$PDSD_PID" 2>/dev/null
				PDSD_PID=
				break
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		if [ -n "$PDSD_PID" ]; then
			echo "# pdsd did not become healthy"; pds_kill9
			break
		fi
		if grep -q "cannot listen" "$T_DIR/pdsd.log"; then
			PORT=$(pick_port)	# taken meanwhile: new port
			sed -i "s/^PDS_PORT=.*/PDS_PORT=$PORT/" "$T_DIR/pds.env"
			URL=http://127.0.0.1:$PORT
			continue
		fi
		break
	done
	echo "# pdsd failed to start; log:"
	sed 's/^/#   /' "$T_DIR/pdsd.log" | tail -n 20
	return 1
}

# pds_stop: SIGTERM and wait; returns pdsd's exit status.
pds_stop() {
	[ -n "$PDSD_PID" ] || return 1
	kill -TERM "$PDSD_PID"
	wait "$PDSD_PID"
	_rc=$?
	PDSD_PID=
	return $_rc
}

# plc_start: the real PLC directory (scripts/plc-server.mjs under Node
# 22, whose packages tests/interop/setup.sh installs) on a free port;
# sets PLC_URL.  If it cannot start, says why and ends the test.
plc_start() {
	_root=$(pwd)
	if ! "$_root/tests/interop/setup.sh" >"$T_DIR/setup.log" 2>&1; then
		sed 's/^/#   /' "$T_DIR/setup.log" | tail -n 20
		not_ok "Node 22 and the PLC directory's packages install"
		t_done
		exit 1
	fi
	"$("$_root/scripts/node.sh")" "$_root/scripts/plc-server.mjs" 0 \
	    >"$T_DIR/plc.log" 2>&1 &
	PLC_PID=$!
	_i=0
	while ! grep -q "PLC listening" "$T_DIR/plc.log" 2>/dev/null; do
		_i=$((_i + 1))
		if [ $_i -gt 300 ] || ! kill -0 "$PLC_PID" 2>/dev/null; then
			sed 's/^/#   /' "$T_DIR/plc.log"
			not_ok "the PLC directory starts"
			t_done
			exit 1
		fi
		sleep 0.1
	done
	PLC_URL=$(sed -n 's/.*PLC listening on \(http:[^ ]*\).*/\1/p' \
	    "$T_DIR/plc.log")
}

# req METHOD PATH [curl args...]
req() {
	_m=$1
	_p=$2
	shift 2
	STATUS=$(curl -s -X "$_m" -o "$T_DIR/body" -D "$T_DIR/headers" \
	    -w '%{http_code}' "$@" "$URL$_p")
}
