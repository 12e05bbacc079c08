#!/bin/sh
# test_deps: scripts/deps.sh waits for another apt instead of failing.
# `apt-get update` gives up at once when the package lists' lock is
# held, whatever DPkg::Lock::Timeout says, so deps.sh goes through
# scripts/apt-wait.sh.  Checked with the real apt-get on package lists
# and caches of its own (an empty source list: no network, nothing of
# the machine's touched), the lock held by a perl process as another
# apt-get would hold it (fcntl).
T_NAME=test_deps
. "$(dirname "$0")/lib.sh"

if ! command -v apt-get >/dev/null 2>&1 || ! command -v perl >/dev/null 2>&1 ||
    [ "$(id -u)" -ne 0 ]; then
	echo "$T_NAME: needs root, apt-get and perl (Debian)"
	echo "$T_NAME: 0 passed, 1 failed"
	exit 1
fi
A=$T_DIR/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts"
ISO="-o Dir::State::Lists=$A/lists -o Dir::Cache=$A/cache
-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$A/parts"

# hold FILE SECONDS: a write lock on FILE, as apt takes one
cat >"$T_DIR/hold.pl" <<'PERL'
use Fcntl;
open(my $f, '>', $ARGV[0]) or die "open $ARGV[0]: $!";
# struct flock on LP64 Linux: type, whence, start, len, pid
my $fl = pack('s s x4 q q i x4', F_WRLCK, 0, 0, 0, 0);
fcntl($f, F_SETLKW, $fl) or die "fcntl: $!";
$| = 1;
print "locked\n";
sleep($ARGV[1]);
PERL
perl "$T_DIR/hold.pl" "$A/lists/lock" 3 >"$T_DIR/hold.out" 2>&1 &
HOLD=$!
_i=0
while ! grep -q locked "$T_DIR/hold.out" && [ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
_t0=$(date +%s)
# shellcheck disable=SC2086
scripts/apt-wait.sh $ISO update -qq >"$T_DIR/out" 2>"$T_DIR/err"
RC=$?
_t=$(($(date +%s) - _t0))
wait "$HOLD"
check "apt-wait: update succeeds once the lists' lock is free" test "$RC" = 0
check "... having waited for it (${_t} s)" test "$_t" -ge 2
check "... and said why it waited" grep -q "another apt holds a lock" "$T_DIR/err"

# shellcheck disable=SC2086
scripts/apt-wait.sh $ISO no-such-operation >"$T_DIR/out" 2>"$T_DIR/err"
RC=$?
check "apt-wait: any other error fails at once, with apt's message" sh -c '[ "$1" != 0 ] && grep -q "E: " "$2" && ! grep -q "waiting" "$2"' _ "$RC" "$T_DIR/err"

# both package sets (the build's and Ceph's): update and install each
check "deps.sh installs through apt-wait.sh (update and install)" \
    test "$(grep -c '"\$wait_apt" \(update\|install\)' scripts/deps.sh)" = 4
check "deps.sh calls apt-get itself nowhere" \
    sh -c '! grep -v "^[[:space:]]*#" scripts/deps.sh | grep -q "apt-get"'
t_done
