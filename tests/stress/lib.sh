# tests/stress/lib.sh: what the stress tests share, on top of
# tests/integration/lib.sh (source that first).
#
#   rss_kb PID          resident memory now, in KiB
#   peak_rss_kb PID     the highest resident memory so far (VmHWM), KiB
#   probe PATH SECONDS [INTERVAL_MS]   (PROBE_SRC=127.0.0.2: from there)
#                       latency of GET PATH on pdsd meanwhile: one JSON
#                       line (n, ok, failed, p50_ms, p99_ms, max_ms)
#   json_num JSON KEY   one number from such a line

STRESS_BIN=$B/tests/stress

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
probe() { "$STRESS_BIN/probe" "$PORT" "$@"; }
json_num() {
	printf '%s\n' "$1" | sed -nE "s/.*\"$2\":([0-9.]+).*/\\1/p"
}
