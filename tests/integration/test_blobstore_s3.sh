#!/bin/sh
# test_blobstore_s3: the S3 blob store against a real S3 server (a
# throw-away Ceph RADOS Gateway, tests/s3/start.sh, on loopback): upload
# (one PUT, and multipart for 20 MB), read, byte ranges, the objects'
# keys and bytes in the bucket, delete when no record references a blob,
# the sweep of unreferenced uploads, takedown to the quarantine prefix
# and back, the health line in pdsctl stats, and the faults: radosgw
# killed during a 20 MB upload (503 with Retry-After, nothing recorded,
# nothing in the bucket; the same upload succeeds once it is back) and a
# wrong secret (a clear error, nothing stored).
T_NAME=test_blobstore_s3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../s3/lib.sh"

PDSCTL=$B/bin/pdsctl
case $PDSCTL in /*) ;; *) PDSCTL=$(pwd)/$PDSCTL ;; esac

rgw_start
plc_start
base_env() {
	pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
	    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
	    "PDS_BLOB_UPLOAD_LIMIT=100000000" \
	    "PDS_BLOB_TEMP_GRACE_SECONDS=2" \
	    "PDS_BLOBSTORE_S3_UPLOAD_TIMEOUT_MS=8000" \
	    "PDS_BLOBSTORE_S3_REQUEST_TIMEOUT_MS=3000" "$@"
}
# shellcheck disable=SC2046
base_env $(s3_env)
pds_start || { t_done; exit 1; }
"$PDSD" -c "$T_DIR/pds.env" --check-config >"$T_DIR/cfg" 2>&1
check "--check-config shows the S3 settings" \
    grep -q "^PDS_BLOBSTORE_S3_BUCKET=$S3_BUCKET\$" "$T_DIR/cfg"
check "with the secret masked" sh -c \
    "grep -q '^PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY=\*\**\$' '$T_DIR/cfg' &&
    ! grep -qF '$S3_SECRET_KEY' '$T_DIR/cfg'"
ctl() { "$PDSCTL" --socket "$T_DIR/data/pdsd.sock" "$@"; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"dana.test","email":"dana@example.com","password":"dana-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
AUTH="Authorization: Bearer $TOK"

# upload FILE: sets CID and BLOB (the blob's JSON)
upload() {
	req POST /xrpc/com.atproto.repo.uploadBlob -H "$AUTH" \
	    -H 'Content-Type: application/octet-stream' --data-binary @"$1"
	CID=$(sed -n 's/.*"\$link":"\([^"]*\)".*/\1/p' "$T_DIR/body")
	BLOB=$(sed -n 's/^{"blob":\(.*\)}$/\1/p' "$T_DIR/body")
}
# hold RKEY: a record referencing $BLOB
hold() {
	req POST /xrpc/com.atproto.repo.putRecord -H "$AUTH" \
	    -H 'Content-Type: application/json' --data "{\"repo\":\"$DID\",
	    \"collection\":\"com.example.holder\",\"rkey\":\"$1\",
	    \"record\":{\"\$type\":\"com.example.holder\",\"b\":$BLOB}}"
}
getblob() {
	_cid=$1
	shift
	req GET "/xrpc/com.atproto.sync.getBlob?did=$DID&cid=$_cid" "$@"
}
in_bucket() { s3_keys "$1/$DID/" | grep -qx "$1/$DID/$2"; }
rows() {
	sqlite3 "$T_DIR/data/pds.sqlite" \
	    "SELECT count(*) FROM blobs WHERE did='$DID' AND cid='$1'"
}

# --- upload and read: small (one PUT) and 20 MB (multipart)
head -c 3000 /dev/urandom >"$T_DIR/small"
upload "$T_DIR/small"
check_status "a small upload is stored" 200
SMALL=$CID
SMALL_BLOB=$BLOB
check "it is in the bucket under blocks/<did>/<cid>" in_bucket blocks "$SMALL"
s3_get "blocks/$DID/$SMALL" "$T_DIR/obj" >/dev/null
check "the object holds the uploaded bytes" cmp -s "$T_DIR/small" "$T_DIR/obj"
hold small
check_status "a record references it" 200

head -c 20000000 /dev/urandom >"$T_DIR/big"
upload "$T_DIR/big"
check_status "a 20 MB upload (multipart) is stored" 200
BIG=$CID
check "the 20 MB blob is in the bucket" in_bucket blocks "$BIG"
hold big
getblob "$BIG"
check_status "getBlob of the 20 MB blob" 200
check "getBlob gives the uploaded bytes" cmp -s "$T_DIR/big" "$T_DIR/body"
check "with Content-Length" header_has "^Content-Length: 20000000"
getblob "$BIG" -H 'Range: bytes=10000000-10000099'
check_status "a byte range is 206" 206
tail -c +10000001 "$T_DIR/big" | head -c 100 >"$T_DIR/want"
check "the range's bytes" cmp -s "$T_DIR/want" "$T_DIR/body"
check "its Content-Range" header_has "^Content-Range: bytes 10000000-10000099/20000000"
getblob "$BIG" -H 'Range: bytes=-10'
tail -c 10 "$T_DIR/big" >"$T_DIR/want"
check "a suffix range" cmp -s "$T_DIR/want" "$T_DIR/body"
getblob "$BIG" -H 'Range: bytes=20000000-'
check_status "a range past the end is 416" 416
getblob "$SMALL"
check "the small blob reads back" cmp -s "$T_DIR/small" "$T_DIR/body"

# --- delete: no record references it any more
req POST /xrpc/com.atproto.repo.deleteRecord -H "$AUTH" \
    -H 'Content-Type: application/json' \
    --data "{\"repo\":\"$DID\",\"collection\":\"com.example.holder\",\"rkey\":\"big\"}"
check_status "deleting the record" 200
check "the unreferenced blob leaves the bucket" \
    [ "$(s3_get "blocks/$DID/$BIG" "$T_DIR/obj")" = 404 ]
getblob "$BIG"
check_status "getBlob of the deleted blob" 400

# --- the sweep: an upload no record references, past the grace period
head -c 5000 /dev/urandom >"$T_DIR/orphan"
upload "$T_DIR/orphan"
ORPHAN=$CID
check "the orphan is in the bucket" in_bucket blocks "$ORPHAN"
i=0
while in_bucket blocks "$ORPHAN" && [ $i -lt 60 ]; do sleep 0.2; i=$((i + 1)); done
if in_bucket blocks "$ORPHAN"; then
	not_ok "the sweep removes the orphan from the bucket"
else
	ok "the sweep removes the orphan from the bucket"
fi
check "and its row" [ "$(rows "$ORPHAN")" = 0 ]

# --- the sweep also aborts a multipart upload a crash left behind
mp_uploads() {
	_s3_curl "$S3_ENDPOINT/$S3_BUCKET?prefix=blocks%2F&uploads=" |
	    grep -o '<UploadId>[^<]*</UploadId>' | wc -l
}
_s3_curl -X POST -o /dev/null \
    "$S3_ENDPOINT/$S3_BUCKET/blocks/$(printf '%s' "$DID" | sed 's/:/%3A/g')/left-behind?uploads="
check "an unfinished multipart upload is listed" [ "$(mp_uploads)" = 1 ]
i=0
while [ "$(mp_uploads)" != 0 ] && [ $i -lt 60 ]; do sleep 0.2; i=$((i + 1)); done
check "the sweep aborts it once past the grace period" [ "$(mp_uploads)" = 0 ]

# --- takedown: to quarantine/<did>/<cid>, unreadable; and back
ctl takedown blob "$DID" "$SMALL" --reason "test" >/dev/null
check "takedown moves the blob to the quarantine prefix" \
    in_bucket quarantine "$SMALL"
if in_bucket blocks "$SMALL"; then not_ok "takedown leaves blocks/"
else ok "takedown leaves blocks/"; fi
getblob "$SMALL"
check_status "a taken-down blob is not served" 400
check "as BlobNotFound" body_has '"BlobNotFound"'
ctl untakedown blob "$DID" "$SMALL" >/dev/null
check "untakedown moves it back" in_bucket blocks "$SMALL"
getblob "$SMALL"
check_status "and it is served again" 200
check "with its bytes" cmp -s "$T_DIR/small" "$T_DIR/body"

# --- the same through the admin XRPC (on the net pool with S3)
subject() {
	req POST /xrpc/com.atproto.admin.updateSubjectStatus \
	    -u "admin:$ADMIN_PASSWORD" -H 'Content-Type: application/json' \
	    --data "{\"subject\":{\"\$type\":\"com.atproto.admin.defs#repoBlobRef\",
	    \"did\":\"$DID\",\"cid\":\"$SMALL\"},
	    \"takedown\":{\"applied\":$1,\"ref\":\"t1\"}}"
}
subject true
check_status "updateSubjectStatus takes the blob down" 200
check "into quarantine/" in_bucket quarantine "$SMALL"
subject false
check_status "and back" 200
check "into blocks/" in_bucket blocks "$SMALL"
getblob "$SMALL"
check_status "served again" 200

# --- health in pdsctl stats
out=$(ctl stats)
check "pdsctl stats has the blob store's health line" sh -c \
    "printf '%s\n' \"\$1\" | grep -q '^blob store: *s3'" - "$out"
out=$(ctl --json stats)
check "and its numbers in --json" sh -c \
    "printf '%s' \"\$1\" | grep -q '\"ok\": *[1-9]'" - "$out"

# --- a backup keeps the database and names the bucket's objects
mkdir -p "$T_DIR/bk"
ctl backup "$T_DIR/bk/pds.sqlite" >/dev/null 2>&1
check "pdsctl backup with blobs on S3 succeeds" [ -s "$T_DIR/bk/pds.sqlite" ]
MF=$T_DIR/bk/pds.sqlite.manifest.json
check "its manifest says the store is s3" grep -q '"blobstore": "s3"' "$MF"
check "and lists the small blob among the bucket's objects" sh -c \
    "tr -d ' \n' <\"\$1\" | grep -q '\"bucketObjects\":\[.*\"cid\":\"$SMALL\"'" - "$MF"
check "no blob files are copied" [ ! -e "$T_DIR/bk/pds.sqlite.blobs/$DID/$SMALL" ]
ctl restore "$T_DIR/bk/pds.sqlite" "$T_DIR/restored" >"$T_DIR/rs.out" 2>&1
check "restore refuses it, saying why" grep -q "s3 blob store" "$T_DIR/rs.out"

# --- and on pdstui's overview (in a real terminal: tmux)
TX=pds-s3-$$
PDSTUI=$B/bin/pdstui
case $PDSTUI in /*) ;; *) PDSTUI=$(pwd)/$PDSTUI ;; esac
tmux -L "$TX" -f /dev/null new-session -d -s ov -x 160 -y 40 \
    "env LANG=C.UTF-8 $PDSTUI --socket $T_DIR/data/pdsd.sock --exit-after 30; sleep 60"
i=0
while [ $i -lt 100 ]; do
	tmux -L "$TX" -f /dev/null capture-pane -p -t ov >"$T_DIR/screen" \
	    2>/dev/null
	grep -q "store  s3 .*$S3_BUCKET: [0-9]* ok" "$T_DIR/screen" && break
	sleep 0.1
	i=$((i + 1))
done
tmux -L "$TX" -f /dev/null kill-server 2>/dev/null
check "pdstui's overview shows the S3 store's health" \
    grep -q "store  s3 .*$S3_BUCKET: [0-9]* ok" "$T_DIR/screen"

# --- fault: radosgw killed during a 20 MB upload
head -c 20000000 /dev/urandom >"$T_DIR/big2"
curl -s -o "$T_DIR/fault.body" -D "$T_DIR/fault.headers" \
    -w '%{http_code}' --limit-rate 8M -X POST -H "$AUTH" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$T_DIR/big2" \
    "$URL/xrpc/com.atproto.repo.uploadBlob" >"$T_DIR/fault.status" &
CURL_PID=$!
sleep 1
rgw_down
wait "$CURL_PID"
STATUS=$(cat "$T_DIR/fault.status")
cp "$T_DIR/fault.body" "$T_DIR/body"
cp "$T_DIR/fault.headers" "$T_DIR/headers"
check_status "an upload while S3 is down is refused" 503
check "with a retry hint" header_has "^Retry-After: [0-9]"
check "and a clear error" body_has "blob store is unavailable"
check "no blob is recorded" [ "$(sqlite3 "$T_DIR/data/pds.sqlite" \
    "SELECT count(*) FROM blobs WHERE did='$DID' AND size=20000000")" = 0 ]
getblob "$SMALL"
check_status "a read while S3 is down is 503" 503
check "with a retry hint" header_has "^Retry-After: [0-9]"
check "the health line names the failure" sh -c \
    "\"$PDSCTL\" --socket \"$T_DIR/data/pdsd.sock\" stats | grep -q 'last error'"
check "radosgw comes back" rgw_up
upload "$T_DIR/big2"
check_status "the same upload succeeds after the restart" 200
check "it is in the bucket" in_bucket blocks "$CID"
check "nothing half-written is left under tmp/" \
    [ -z "$(s3_keys tmp/)" ]

# --- a slow S3 (radosgw stopped, its socket still accepting): the
# upload gives up within PDS_BLOBSTORE_S3_UPLOAD_TIMEOUT_MS, a read
# within PDS_BLOBSTORE_S3_REQUEST_TIMEOUT_MS, both 503
RGW_PID=$(cat "$RGW_DIR/run/client.rgw.a.pid")
kill -STOP "$RGW_PID"
head -c 30000 /dev/urandom >"$T_DIR/slow"
t0=$(date +%s)
upload "$T_DIR/slow"
t1=$(date +%s)
check_status "an upload to a stalled S3 is refused" 503
check "within the upload timeout (8 s; took $((t1 - t0)) s)" \
    [ $((t1 - t0)) -le 12 ]
t0=$(date +%s)
getblob "$SMALL"
t1=$(date +%s)
check_status "a read from a stalled S3 is 503" 503
check "within the request timeout (3 s, two tries; took $((t1 - t0)) s)" \
    [ $((t1 - t0)) -le 8 ]
kill -CONT "$RGW_PID"
upload "$T_DIR/slow"
check_status "the same upload once S3 answers again" 200

# --- a wrong secret: a clear error, nothing stored
pds_stop
sed -i "s/^PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY=.*/PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY=wrong-secret/" \
    "$T_DIR/pds.env"
pds_start || { t_done; exit 1; }
head -c 4000 /dev/urandom >"$T_DIR/small2"
upload "$T_DIR/small2"
check_status "an upload with a wrong secret is refused" 502
check "it says the blob store refused it" body_has "blob store refused"
check "the log names the S3 error" log_has "SignatureDoesNotMatch"
check "pdsctl stats shows it" sh -c \
    "\"$PDSCTL\" --socket \"$T_DIR/data/pdsd.sock\" stats | grep -q SignatureDoesNotMatch"
check "nothing is recorded" [ "$(sqlite3 "$T_DIR/data/pds.sqlite" \
    "SELECT count(*) FROM blobs WHERE size=4000")" = 0 ]

pds_stop
t_done
