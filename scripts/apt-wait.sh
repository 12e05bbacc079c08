#!/bin/sh
# apt-wait: apt-get that waits while another apt or dpkg holds a lock.
#
#   scripts/apt-wait.sh [apt-get options and arguments]
#
# apt-get waits for dpkg's lock when given -o DPkg::Lock::Timeout=N
# (added here), but `apt-get update` gives up at once when another
# update (apt-daily, a second shell) holds the package lists' lock.
# This retries such a refusal every 2 s for up to APT_WAIT_SECONDS
# (300), and fails at once on any other error.  scripts/deps.sh uses it.
set -u
max=${APT_WAIT_SECONDS:-300}
waited=0
err=$(mktemp "${TMPDIR:-/tmp}/apt-wait.XXXXXX") || exit 1
trap 'rm -f "$err"' EXIT
while :; do
	apt-get -o DPkg::Lock::Timeout="$max" "$@" 2>"$err"
	rc=$?
	if [ "$rc" -eq 0 ] || ! grep -q "Could not get lock" "$err" ||
	    [ "$waited" -ge "$max" ]; then
		cat "$err" >&2
		exit "$rc"
	fi
	if [ "$waited" -eq 0 ]; then
		echo "apt-wait: another apt holds a lock; waiting up to" \
		    "${max} s:" >&2
		sed -n 's/^E: /  /p' "$err" | head -n 1 >&2
	fi
	sleep 2
	waited=$((waited + 2))
done
