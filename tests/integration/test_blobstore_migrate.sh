#!/bin/sh
# test_blobstore_migrate: `pdsctl blobstore migrate --to s3|disk' against a
# real S3 server (a throw-away Ceph RADOS Gateway on loopback).  Blobs
# uploaded to disk stay readable once S3 is configured; the move to S3 runs
# while a client keeps reading them, verifies each one, and leaves nothing
# on disk (a taken-down blob lands in quarantine/); the move back is killed
# (pdsd SIGKILLed) half-way, the blobs stay readable from both stores after
# the restart, and running the command again finishes the job.
T_NAME=test_blobstore_migrate
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../s3/lib.sh"

PDSCTL=$B/bin/pdsctl
case $PDSCTL in /*) ;; *) PDSCTL=$(pwd)/$PDSCTL ;; esac
N=120

rgw_start
plc_start
pds_env "PDS_DID_PLC_URL=$PLC_URL" "PDS_SERVICE_HANDLE_DOMAINS=.test" \
    "PDS_INVITE_REQUIRED=false" "PDS_HOSTNAME=localhost" \
    "PDS_BLOB_UPLOAD_LIMIT=20000000"
pds_start || { t_done; exit 1; }
ctl() { "$PDSCTL" --socket "$T_DIR/data/pdsd.sock" "$@"; }

req POST /xrpc/com.atproto.server.createAccount \
    -H 'Content-Type: application/json' \
    --data '{"handle":"mia.test","email":"mia@example.com","password":"mia-password-1"}'
check_status "createAccount" 200
DID=$(sed -n 's/.*"did":"\([^"]*\)".*/\1/p' "$T_DIR/body")
TOK=$(sed -n 's/.*"accessJwt":"\([^"]*\)".*/\1/p' "$T_DIR/body")
AUTH="Authorization: Bearer $TOK"
ctl_out=$(ctl blobstore migrate --to s3 2>&1)
check "migrate without S3 configured is refused" sh -c \
    "printf '%s' \"\$1\" | grep -q 'S3 is not configured'" - "$ctl_out"

# N blobs on disk (one of 9 MB: a multipart upload once on S3), each
# referenced by a record; their CIDs in $T_DIR/cids
mkdir -p "$T_DIR/blobs"
: >"$T_DIR/cids"
i=0
while [ $i -lt $N ]; do
	if [ $i = 0 ]; then n=9000000; else n=$((20000 + i * 997)); fi
	head -c $n /dev/urandom >"$T_DIR/blobs/$i"
	req POST /xrpc/com.atproto.repo.uploadBlob -H "$AUTH" \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary @"$T_DIR/blobs/$i"
	[ "$STATUS" = 200 ] || break
	cid=$(sed -n 's/.*"\$link":"\([^"]*\)".*/\1/p' "$T_DIR/body")
	blob=$(sed -n 's/^{"blob":\(.*\)}$/\1/p' "$T_DIR/body")
	req POST /xrpc/com.atproto.repo.createRecord -H "$AUTH" \
	    -H 'Content-Type: application/json' --data "{\"repo\":\"$DID\",
	    \"collection\":\"com.example.holder\",
	    \"record\":{\"\$type\":\"com.example.holder\",\"b\":$blob}}"
	[ "$STATUS" = 200 ] || break
	echo "$i $cid" >>"$T_DIR/cids"
	i=$((i + 1))
done
check "$N blobs uploaded to disk" [ "$(wc -l <"$T_DIR/cids")" = $N ]
TD=$(sed -n '2s/^[0-9]* //p' "$T_DIR/cids")
ctl takedown blob "$DID" "$TD" --reason test >/dev/null
check "one is taken down" [ $? = 0 ]

# read_all: every blob but the taken-down one, byte for byte
read_all() {
	while read -r _i _cid; do
		[ "$_cid" = "$TD" ] && continue
		curl -sf -o "$T_DIR/got" \
		    "$URL/xrpc/com.atproto.sync.getBlob?did=$DID&cid=$_cid" ||
		    return 1
		cmp -s "$T_DIR/got" "$T_DIR/blobs/$_i" || return 1
	done <"$T_DIR/cids"
}
disk_count() { find "$T_DIR/data/blocks/$DID" -type f 2>/dev/null | wc -l; }

# --- S3 configured: new uploads go there, old blobs still read from disk
pds_stop
s3_env >>"$T_DIR/pds.env"
pds_start || { t_done; exit 1; }
check "with S3 configured the disk blobs are still read" read_all

# --- to S3, with a reader running all along
( ok=0; while [ ! -f "$T_DIR/stop-reader" ]; do
	read_all || { echo fail >"$T_DIR/reader-failed"; break; }
	ok=$((ok + 1))
done; echo $ok >"$T_DIR/reader-rounds" ) &
READER=$!
ctl --json blobstore migrate --to s3 >"$T_DIR/mig.json" 2>"$T_DIR/mig.err"
check "migrate --to s3 succeeds" [ $? = 0 ]
touch "$T_DIR/stop-reader"
wait $READER
check "reads kept working during the move" [ ! -f "$T_DIR/reader-failed" ]
check "progress was reported" grep -q '"percent"' "$T_DIR/mig.err"
check "every blob was copied and verified" grep -q "\"copied\": *$N" \
    "$T_DIR/mig.json"
check "none failed" grep -q '"failed": *0' "$T_DIR/mig.json"
check "nothing is left on disk" [ "$(disk_count)" = 0 ]
check "the blobs are in the bucket" \
    [ "$(s3_keys "blocks/$DID/" | wc -l)" = $((N - 1)) ]
check "the taken-down one in quarantine/" \
    [ "$(s3_keys "quarantine/$DID/")" = "quarantine/$DID/$TD" ]
check "all of them read back from S3" read_all
req GET "/xrpc/com.atproto.sync.getBlob?did=$DID&cid=$TD"
check_status "the taken-down blob is still not served" 400

# --- back to disk, killed half-way
"$PDSCTL" --socket "$T_DIR/data/pdsd.sock" blobstore migrate --to disk \
    >"$T_DIR/mig2.out" 2>"$T_DIR/mig2.err" &
CTL=$!
i=0
while [ "$(disk_count)" -lt 3 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
pds_kill9
wait $CTL
moved=$(disk_count)
check "the move was cut short ($moved of $N on disk)" \
    [ "$moved" -gt 0 -a "$moved" -lt "$((N - 1))" ]
pds_start || { t_done; exit 1; }
check "after the restart every blob reads (from either store)" read_all
req POST /xrpc/com.atproto.repo.uploadBlob -H "$AUTH" \
    -H 'Content-Type: application/octet-stream' --data-binary @"$T_DIR/blobs/1"
check "a new upload goes to disk, the store chosen" \
    [ -f "$T_DIR/data/blocks/$DID/$(sed -n '2s/^[0-9]* //p' "$T_DIR/cids")" ]
ctl --json blobstore migrate --to disk >"$T_DIR/mig3.json" 2>/dev/null
check "migrate --to disk again finishes" [ $? = 0 ]
check "it resumed: some blobs were there already" \
    grep -q '"already": *[1-9]' "$T_DIR/mig3.json"
check "none failed" grep -q '"failed": *0' "$T_DIR/mig3.json"
check "every blob is on disk" [ "$(disk_count)" = $N ]
check "the bucket's blocks/ is empty" [ -z "$(s3_keys "blocks/$DID/")" ]
check "and its quarantine/" [ -z "$(s3_keys "quarantine/$DID/")" ]
check "every blob reads from disk" read_all
out=$(ctl blobstore migrate --to s3 2>&1 >/dev/null | tail -n 1)
check "the progress bar" sh -c "printf '%s' \"\$1\" | grep -q '\\[#*\\.*\\] *[0-9]*%'" - "$out"

pds_stop
t_done
