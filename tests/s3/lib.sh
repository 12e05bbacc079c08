# tests/s3/lib.sh: a real S3 server (Ceph RADOS Gateway, tests/s3/start.sh)
# for a test script.  Source it after tests/integration/lib.sh.
#
#   rgw_start            start a cluster on free loopback ports; sets
#                        S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_BUCKET
#                        S3_REGION RGW_DIR; stopped (by PID) on exit
#   rgw_stop             stop it now (tests/s3/stop.sh)
#   rgw_down / rgw_up    stop radosgw alone (SIGKILL: an S3 that vanishes)
#                        and start it again on the same port
#   s3_env               the PDS_BLOBSTORE_S3_* lines for pds_env
#   s3_keys PREFIX       the keys under PREFIX in the bucket, one a line
#   s3_get KEY FILE      an object's bytes into FILE; prints the status

S3_LIB_DIR=$(cd "$(dirname "${0}")/../s3" 2>/dev/null && pwd)
[ -x "$S3_LIB_DIR/start.sh" ] || S3_LIB_DIR=$(pwd)/tests/s3
RGW_DIR=

rgw_stop() {
	if [ -n "$RGW_DIR" ]; then
		"$S3_LIB_DIR/stop.sh" "$RGW_DIR" >/dev/null 2>&1
		RGW_DIR=
	fi
}

s3_cleanup() {
	rgw_stop
	t_cleanup
}
trap s3_cleanup EXIT

rgw_start() {
	for _b in ceph-mon ceph-osd radosgw; do
		if ! command -v "$_b" >/dev/null 2>&1; then
			not_ok "Ceph ($_b) is installed (run scripts/deps.sh)"
			t_done
			exit 1
		fi
	done
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		RGW_PORT=$(pick_port)
		MON_PORT=$(pick_port)
		[ "$RGW_PORT" != "$MON_PORT" ] || continue
		RGW_DIR=$T_DIR/rgw
		if RGW_PORT=$RGW_PORT MON_PORT=$MON_PORT \
		    "$S3_LIB_DIR/start.sh" "$RGW_DIR" >"$T_DIR/rgw-start.log" \
		    2>&1; then
			. "$RGW_DIR/env"
			return 0
		fi
		RGW_DIR=
		rm -rf "$T_DIR/rgw"
	done
	sed 's/^/#   /' "$T_DIR/rgw-start.log" | tail -n 30
	not_ok "the Ceph RADOS Gateway starts"
	t_done
	exit 1
}

rgw_down() {
	_p=$(cat "$RGW_DIR/run/client.rgw.a.pid")
	kill -9 "$_p" 2>/dev/null
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	rm -f "$RGW_DIR/run/client.rgw.a.pid"
}

rgw_up() {
	radosgw -c "$RGW_DIR/ceph.conf" -n client.rgw.a || return 1
	_i=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$S3_ENDPOINT/")" = 200 ]
	do
		_i=$((_i + 1))
		[ $_i -lt 300 ] || return 1
		sleep 0.2
	done
}

s3_env() {
	printf '%s\n' "PDS_BLOBSTORE_S3_BUCKET=$S3_BUCKET" \
	    "PDS_BLOBSTORE_S3_REGION=$S3_REGION" \
	    "PDS_BLOBSTORE_S3_ENDPOINT=$S3_ENDPOINT" \
	    "PDS_BLOBSTORE_S3_FORCE_PATH_STYLE=true" \
	    "PDS_BLOBSTORE_S3_ACCESS_KEY_ID=$S3_ACCESS_KEY" \
	    "PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY=$S3_SECRET_KEY"
}

_s3_curl() {
	curl -sS --aws-sigv4 "aws:amz:$S3_REGION:s3" \
	    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
	    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

s3_keys() {
	_pfx=$(printf '%s' "$1" | sed 's/:/%3A/g; s:/:%2F:g')
	_s3_curl "$S3_ENDPOINT/$S3_BUCKET?list-type=2&prefix=$_pfx" |
	    grep -o '<Key>[^<]*</Key>' | sed 's:<Key>\(.*\)</Key>:\1:'
}

s3_get() {
	_k=$(printf '%s' "$1" | sed 's/:/%3A/g')
	_s3_curl -o "$2" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/$_k"
}
