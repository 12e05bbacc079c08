#!/bin/sh
# start.sh [DIR] - a throw-away single-node Ceph (1 mon + 1 memstore OSD, no
# mgr) with radosgw (beast) serving S3 on 127.0.0.1:$RGW_PORT: the real S3
# server the blob store tests run against (tests/s3/README.md).
# Debian 12 packages (scripts/deps.sh installs them):
#   apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw
# Everything (config, mon store, pid files, logs, admin sockets) lives in DIR
# (default: a new mktemp dir).  On success prints shell lines (also in DIR/env):
#   CEPH_RGW_DIR S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_BUCKET S3_REGION
# Stop with: stop.sh DIR   (kills only the PIDs in DIR/run/*.pid, removes DIR)
set -eu

RGW_PORT=${RGW_PORT:-5000}          # S3 endpoint
MON_PORT=${MON_PORT:-5001}          # monitor, msgr v2 only
S3_ACCESS_KEY=${S3_ACCESS_KEY:-PDSTESTACCESSKEY0001}
S3_SECRET_KEY=${S3_SECRET_KEY:-pdstestsecretkey0000000000000000000000001}
S3_BUCKET=${S3_BUCKET-pds-test}     # set to "" to skip bucket creation
START_TIMEOUT=${START_TIMEOUT:-60}  # seconds, whole start

D=${1:-${CEPH_RGW_DIR:-}}
if [ -z "$D" ]; then D=$(mktemp -d "${TMPDIR:-/tmp}/ceph-rgw-run.XXXXXX"); fi
mkdir -p "$D"
D=$(cd "$D" && pwd)
[ -e "$D/ceph.conf" ] && { echo "start.sh: $D already holds a cluster" >&2; exit 1; }
mkdir -p "$D/run" "$D/log" "$D/mon.a" "$D/osd.0"
C="$D/ceph.conf"
T0=$(date +%s)

log() { echo "start.sh: [$(( $(date +%s) - T0 ))s] $*" >&2; }
die() {
    trap - EXIT
    log "FAILED: $*"
    for f in "$D"/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
    "$(dirname "$0")/stop.sh" "$D" >&2 || true
    exit 1
}
# daemons fork before the child writes its pid file: wait for it
pid_of() {
    i=0
    while [ ! -s "$D/run/$1.pid" ]; do
        [ $i -lt 100 ] || return 1
        sleep 0.05; i=$((i + 1))
    done
    cat "$D/run/$1.pid"
}
trap 'die "unexpected error (exit $?)"' EXIT   # any set -e exit cleans up
left() { echo $(( START_TIMEOUT - ( $(date +%s) - T0 ) )); }
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }

for p in "$RGW_PORT" "$MON_PORT"; do port_free "$p" || die "port $p already in use"; done
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool uuidgen curl ss; do
    command -v "$b" >/dev/null || die "missing $b (run scripts/deps.sh)"
done

FSID=$(uuidgen)
cat > "$C" <<EOF
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_port_min = 6800
ms_bind_port_max = 7300
# no cephx: loopback-only throw-away cluster (S3 auth is separate, done by rgw)
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw defaults to 'secure' mode towards the mon, which needs cephx
ms_mon_client_mode = crc
client_mount_timeout = 30
run_dir = $D/run
admin_socket = $D/run/\$name.asok
pid_file = $D/run/\$name.pid
log_file = $D/log/\$name.log
mon_cluster_log_file = default=$D/log/\$cluster.\$channel.log cluster=$D/log/\$cluster.log
keyring = $D/keyring
crash_dir = $D/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_data_avail_crit = 0
mon_data_avail_warn = 0
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
# each mon map change (rgw creates 7 pools: ~20 of them) waits for this; default 1 s
paxos_propose_interval = 0.05

[mon]
mon_data = $D/mon.\$id

[osd]
osd_data = $D/osd.\$id
osd_objectstore = memstore
memstore_device_bytes = 4294967296

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_thread_pool_size = 64
rgw_init_timeout = 60
rgw_dynamic_resharding = false
EOF

# --- monitor
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
ceph-mon -c "$C" -i a --mkfs --monmap "$D/monmap" || die "ceph-mon --mkfs"
ceph-mon -c "$C" -i a || die "ceph-mon start"
MON_PID=$(pid_of mon.a) || die "no pid file for mon.a"
log "mon started (pid $MON_PID)"

# --- OSD (in-memory object store)
OSD_UUID=$(uuidgen)
OSD_ID=$(ceph -c "$C" --connect-timeout 15 osd new "$OSD_UUID") || die "ceph osd new"
[ "$OSD_ID" = 0 ] || die "unexpected osd id '$OSD_ID'"
ceph-osd -c "$C" -i 0 --mkfs --osd-uuid "$OSD_UUID" 2>"$D/log/osd-mkfs.err" || die "ceph-osd --mkfs"
ceph-osd -c "$C" -i 0 2>"$D/log/osd-start.err" || die "ceph-osd start"
OSD_PID=$(pid_of osd.0) || die "no pid file for osd.0"
log "osd started (pid $OSD_PID)"
until ceph -c "$C" osd stat 2>/dev/null | grep -q '1 up'; do
    [ "$(left)" -gt 0 ] || die "osd.0 not up"
    sleep 0.3
done
log "osd up"

# --- radosgw (creates its .rgw.root / default.rgw.* pools on first start)
radosgw -c "$C" -n client.rgw.a || die "radosgw start"
RGW_PID=$(pid_of client.rgw.a) || die "no pid file for radosgw"
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/")" = 200 ]; do
    kill -0 "$RGW_PID" 2>/dev/null || die "radosgw exited"
    [ "$(left)" -gt 0 ] || die "radosgw not serving"
    sleep 0.2
done
log "radosgw serving on 127.0.0.1:$RGW_PORT (pid $RGW_PID)"

# --- S3 user (fixed keys) and bucket
radosgw-admin -c "$C" user create --uid=pds-test --display-name="PDS test" \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >"$D/log/user.json" \
    || die "radosgw-admin user create"
if [ -n "$S3_BUCKET" ]; then
    # curl 7.88 signs the empty-body hash but does not send x-amz-content-sha256;
    # rgw then assumes UNSIGNED-PAYLOAD -> SignatureDoesNotMatch.  Send it explicitly.
    code=$(curl -s -o "$D/log/bucket.out" -w '%{http_code}' -X PUT \
        --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "http://127.0.0.1:$RGW_PORT/$S3_BUCKET")
    [ "$code" = 200 ] || die "create bucket $S3_BUCKET: HTTP $code $(cat "$D/log/bucket.out")"
fi

cat > "$D/env" <<EOF
CEPH_RGW_DIR=$D
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_REGION=us-east-1
S3_ACCESS_KEY=$S3_ACCESS_KEY
S3_SECRET_KEY=$S3_SECRET_KEY
S3_BUCKET=$S3_BUCKET
EOF
trap - EXIT
log "ready"
cat "$D/env"
