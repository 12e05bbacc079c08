#!/bin/sh
# stress_login: Argon2 never runs on pdsd's HTTP workers (issue 16,
# finding 5).  100 correct logins (com.atproto.server.createSession) at
# once, from 10 loopback clients: /xrpc/_health, asked from another
# address meanwhile, must answer within 50 ms at the 99th percentile,
# and every login must either succeed or be refused at once with 503
# and Retry-After (the cpu pool's queue is bounded): none hangs, none
# gets a 500.
T_NAME=stress_login
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"


plc_start

pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false"
if ! pds_start; then
	not_ok "pdsd starts"
	t_done
	exit 1
fi

PW='correct horse battery staple'
req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' --data "{\"handle\":\"alice.test\",\
\"email\":\"a@example.com\",\"password\":\"$PW\"}"
check_status "the account is made" 200

field() {
	_v=$(json_num "$(cat "$1")" "$2")
	echo "${_v:-0}"
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

PROBE_SRC=127.0.0.2 probe /xrpc/_health 5 20 >"$T_DIR/probe" &
PP=$!
"$STRESS_BIN/flood" -s 10:10 -t 30000 \
    -b "{\"identifier\":\"alice.test\",\"password\":\"$PW\"}" \
    "$PORT" 100 POST /xrpc/com.atproto.server.createSession \
    >"$T_DIR/logins"
wait $PP
echo "# _health $(cat "$T_DIR/probe")"
echo "# logins $(cat "$T_DIR/logins")"
OK=$(sed -nE 's/.*"200":([0-9]+).*/\1/p' "$T_DIR/logins")
BUSY=$(sed -nE 's/.*"503":([0-9]+).*/\1/p' "$T_DIR/logins")

check "/xrpc/_health p99 < 50 ms during the logins" \
    lt "$(field "$T_DIR/probe" p99_ms)" 50
check "no /xrpc/_health probe failed" \
    [ "$(field "$T_DIR/probe" failed)" = 0 ]
check "every login answered" [ "$(field "$T_DIR/logins" unanswered)" = 0 ]
check "every login 200 or 503, none else" \
    [ "$(( ${OK:-0} + ${BUSY:-0} ))" = 100 ]
check "some logins succeed" [ "${OK:-0}" -gt 0 ]
check "every 503 carries Retry-After" \
    [ "$(field "$T_DIR/logins" refused_without_retry_after)" = 0 ]

check "pdsd stops cleanly" pds_stop
t_done
