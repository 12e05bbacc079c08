#!/bin/sh
# stress_slowloris: issue 16 finding 7.  300 connections from 127.0.0.1
# send their request heads one byte a second and never finish them
# (slow_headers), against a pdsd with 256 connection slots.  A client
# at another address (127.0.0.2) must still be served: _health p99
# under 50 ms, no failures.  What keeps it so: the per-address
# connection limit (never more than three quarters of the slots) and
# the deadline for a request head, which closes the slow connections.
# 127.0.0.1 is made an ordinary client here (PDS_TRUSTED_PROXIES names
# 127.0.0.9 alone); a trusted proxy is not held to the per-address
# limit, since its connections carry every client's requests.
T_NAME=stress_slowloris
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"

pds_env PDS_MAX_CONNECTIONS=256 PDS_TRUSTED_PROXIES=127.0.0.9
pds_start || { t_done; exit 1; }

"$STRESS_BIN/slow_headers" "$PORT" 300 22 1000 >"$T_DIR/slow.out" &
SLOW=$!
sleep 4		# every slow connection is open (or refused) by now
out=$(PROBE_SRC=127.0.0.2 probe /xrpc/_health 15 100)
echo "# probe from 127.0.0.2 under 300 slow heads: $out"
wait $SLOW
echo "# slow_headers: $(cat "$T_DIR/slow.out")"
p99=$(json_num "$out" p99_ms)
failed=$(json_num "$out" failed)
n=$(json_num "$out" n)
check "_health answered from another address ($n probes, $failed failed)" \
    test "${failed:-1}" -eq 0 -a "${n:-0}" -gt 0
check "_health p99 under 50 ms ($p99 ms)" \
    awk -v p="${p99:-5000}" 'BEGIN { exit !(p < 50) }'
closed=$(json_num "$(cat "$T_DIR/slow.out")" closed_by_server)
check "slow heads were closed by the server ($closed)" \
    test "${closed:-0}" -gt 0
req GET /xrpc/_health
check_status "healthy after the load" 200

# 230 open heads, past the 192 (three quarters of 256) one client may
# hold: an ordinary client has the rest refused, the trusted proxy none.
for src in 127.0.0.1 127.0.0.9; do
	SLOW_SRC=$src "$STRESS_BIN/slow_headers" "$PORT" 230 3 1000 \
	    >"$T_DIR/slow_$src.out"
	echo "# slow_headers from $src: $(cat "$T_DIR/slow_$src.out")"
done
c1=$(json_num "$(cat "$T_DIR/slow_127.0.0.1.out")" closed_by_server)
o9=$(json_num "$(cat "$T_DIR/slow_127.0.0.9.out")" open_at_end)
c9=$(json_num "$(cat "$T_DIR/slow_127.0.0.9.out")" closed_by_server)
check "an ordinary client is held to 192 connections ($c1 refused)" \
    test "${c1:-0}" -ge 38
check "the trusted proxy is not ($o9 open, $c9 refused)" \
    test "${o9:-0}" -eq 230 -a "${c9:-1}" -eq 0
pds_stop
check "pdsd exits cleanly" test $? -eq 0
t_done
