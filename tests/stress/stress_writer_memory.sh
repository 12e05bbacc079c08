#!/bin/sh
# stress_writer_memory: the repo writer's memory is bounded by its budget,
# not by the number of members who wrote recently (issue 18).
# NACCTS accounts each write a long-tailed share of NRECS records
# (applyWrites batches, through bench/seed.mjs) within a minute, with
# PDS_REPO_CACHE_MB=$BUDGET_MB.  Before the budget, the writer kept every
# such repo's tree, blocks and key until a 5-minute sweep, and 4 KB per
# account that ever wrote for good: with 1,000 accounts here pdsd held
# 83 MB more after the writes than before (17 MB with the budget).
# Now the repo.state_bytes counter stays under the budget (with a few
# repos' worth of slack for writes in flight), and pdsd's resident memory
# grows by less than RSS_GROWTH_MAX_KB.
T_NAME=stress_writer_memory
. tests/integration/lib.sh
. tests/stress/lib.sh

NACCTS=${NACCTS:-1000}
NRECS=${NRECS:-40000}
BUDGET_MB=${BUDGET_MB:-2}
# Growth of VmRSS from before the accounts to after their writes: SQLite's
# page cache (2 MB per connection, a few connections), the account and
# session caches, and the budget.
RSS_GROWTH_MAX_KB=${RSS_GROWTH_MAX_KB:-40960}
PDSCTL=$B/bin/pdsctl
SOCK=$T_DIR/admin.sock

skip() {
	echo "$T_NAME: skipped ($1)"
	echo "$T_NAME: 0 passed, 0 failed"
	exit 0
}
[ -x "$PDSCTL" ] || skip "$PDSCTL not built"
[ -d tests/interop/node_modules/@did-plc/server ] ||
	skip "tests/interop/setup.sh has not run"
NODE=$(scripts/node.sh 2>/dev/null) || skip "no Node 22"

# A pdsd from before the budget refuses the variable: run it without.
budget="PDS_REPO_CACHE_MB=$BUDGET_MB"
grep -qa PDS_REPO_CACHE_MB "$PDSD" || budget=PDS_LOG_LEVEL=warn
plc_start
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
    "PDS_ADMIN_SOCKET=$SOCK" PDS_THREADS=4 PDS_LOG_LEVEL=warn "$budget"
pds_start || { t_done; exit 1; }

stat_of() {
	"$PDSCTL" --socket "$SOCK" --json stats 2>/dev/null |
	    sed -nE "s/.*\"$1\":\\{\"value\":([0-9]+).*/\\1/p"
}

rss0=$(rss_kb "$PDSD_PID")
out=$("$NODE" bench/seed.mjs --url "$URL" --accounts "$NACCTS" \
    --records "$NRECS" --conc 6 --name mem --out "$T_DIR/seed.out" \
    2>"$T_DIR/seed.log")
rc=$?
echo "# seed: $out"
[ $rc -eq 0 ] || sed 's/^/#   /' "$T_DIR/seed.log" | tail -n 5
check "every account seeded" [ "$(json_num "$out" accounts)" = "$NACCTS" ]
rss1=$(rss_kb "$PDSD_PID")
state=$(stat_of repo.state_bytes)
states=$(stat_of repo.states)
evicted=$(stat_of repo.states_evicted)
growth=$((rss1 - rss0))
echo "# RSS ${rss0} KiB before, ${rss1} KiB after (+${growth} KiB);" \
    "state ${state:-?} B over ${states:-?} repos, ${evicted:-?} given back"
check "writer state ${state:-?} B within the budget of $BUDGET_MB MiB" \
    [ "${state:-999999999}" -le $(((BUDGET_MB + 2) * 1048576)) ]
check "RSS growth ${growth} KiB < $RSS_GROWTH_MAX_KB KiB" \
    [ "$growth" -lt "$RSS_GROWTH_MAX_KB" ]

# A repo given back still takes writes: the first account signs in and
# writes again, and the record reads back.
line=$(head -n 1 "$T_DIR/seed.out")
handle=$(printf '%s' "$line" | sed -n 's/.*"handle":"\([^"]*\)".*/\1/p')
pw=$(printf '%s' "$line" | sed -n 's/.*"password":"\([^"]*\)".*/\1/p')
did=$(printf '%s' "$line" | sed -n 's/.*"did":"\([^"]*\)".*/\1/p')
req POST /xrpc/com.atproto.server.createSession \
    -H 'Content-Type: application/json' \
    --data "{\"identifier\":\"$handle\",\"password\":\"$pw\"}"
tok=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
req POST /xrpc/com.atproto.repo.createRecord \
    -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    --data "{\"repo\":\"$did\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"3jzfcijpj2z2a\",\"record\":{\"\$type\":\"app.bsky.feed.post\",\"text\":\"after\",\"createdAt\":\"2025-01-01T00:00:00.000Z\"}}"
check_status "a repo given back takes a write" 200
req GET "/xrpc/com.atproto.repo.getRecord?repo=$did&collection=app.bsky.feed.post&rkey=3jzfcijpj2z2a"
check "and reads it back" body_has '"text":"after"'
check "pdsd stops cleanly" pds_stop
t_done
