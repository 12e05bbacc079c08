#!/bin/sh
# stress_blobstore_s3: a 100 MB blob through the S3 store (a real Ceph
# RADOS Gateway on loopback): uploaded (multipart, 8 MiB parts), read
# back whole and compared, with pdsd's peak resident memory growing by
# less than 16 MB over the whole round trip: nothing of the blob is held
# in memory, only fixed-size buffers.
T_NAME=stress_blobstore_s3
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../s3/lib.sh"

BOUND_KB=16384
SIZE=100000000

rgw_start
plc_start
# shellcheck disable=SC2046
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
    "PDS_BLOB_UPLOAD_LIMIT=$((SIZE + 1000))" \
    "PDS_BLOBSTORE_S3_UPLOAD_TIMEOUT_MS=120000" $(s3_env)
pds_start || { t_done; exit 1; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"rita.test","email":"rita@example.com","password":"rita-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
AUTH="Authorization: Bearer $(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' \
    "$T_DIR/body")"

# upload FILE, then a record that references it; sets CID
upload_held() {
	req POST /xrpc/com.atproto.repo.uploadBlob -H "$AUTH" \
	    -H 'Content-Type: application/octet-stream' --data-binary @"$1"
	[ "$STATUS" = 200 ] || return 1
	CID=$(sed -n 's/.*"\$link":"\([^"]*\)".*/\1/p' "$T_DIR/body")
	_b=$(sed -n 's/^{"blob":\(.*\)}$/\1/p' "$T_DIR/body")
	req POST /xrpc/com.atproto.repo.createRecord -H "$AUTH" \
	    -H 'Content-Type: application/json' --data "{\"repo\":\"$DID\",
	    \"collection\":\"com.example.holder\",
	    \"record\":{\"\$type\":\"com.example.holder\",\"b\":$_b}}"
	[ "$STATUS" = 200 ]
}

# warm-up: libcurl loaded, one multipart upload and one read done
echo "# peak RSS before the warm-up: $(peak_rss_kb "$PDSD_PID") KiB"
head -c 9000000 /dev/urandom >"$T_DIR/warm"
check "a 9 MB warm-up round trip" upload_held "$T_DIR/warm"
curl -sf -o /dev/null "$URL/xrpc/com.atproto.sync.getBlob?did=$DID&cid=$CID"

head -c $SIZE /dev/urandom >"$T_DIR/big"
# The peak so far may be above what the round trip needs (start-up):
# reset it (clear_refs 5: VmHWM back to VmRSS), so that the peak after
# the round trip is the round trip's.
if echo 5 2>/dev/null >"/proc/$PDSD_PID/clear_refs"; then
	ok "the peak memory counter is reset"
else
	not_ok "the peak memory counter is reset (/proc/PID/clear_refs)"
fi
BASE=$(rss_kb "$PDSD_PID")
echo "# after the reset: RSS $BASE KiB, peak $(peak_rss_kb "$PDSD_PID") KiB"
check "the 100 MB upload to S3" upload_held "$T_DIR/big"
curl -sf -o "$T_DIR/got" \
    "$URL/xrpc/com.atproto.sync.getBlob?did=$DID&cid=$CID"
check "the 100 MB download gives the same bytes" cmp -s "$T_DIR/big" \
    "$T_DIR/got"
check "the object is in the bucket" \
    [ -n "$(s3_keys "blocks/$DID/$CID")" ]
GROWTH=$(( $(peak_rss_kb "$PDSD_PID") - BASE ))
echo "# RSS before $BASE KiB, peak growth $GROWTH KiB (bound $BOUND_KB)"
check "pdsd's peak memory grew by less than 16 MB ($GROWTH KiB)" \
    [ "$GROWTH" -lt $BOUND_KB ]

pds_stop
t_done
