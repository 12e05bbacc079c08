#!/bin/sh
# Install the Debian packages pds needs to build and test, when missing.
# Run as root (or with sudo available) on Debian 12.  clang builds the
# fuzz harnesses (libclang-rt: libFuzzer) and is CI's second compiler.
# chromium is the browser of the OAuth pages' interop test; dnsmasq-base
# is the DNS server of the lexicon resolution test.
set -eu
PKGS="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libsodium-dev
libsecp256k1-dev libncurses-dev libjansson-dev libcurl4-openssl-dev
libwslay-dev libssl-dev zlib1g-dev libdeflate-dev clang libclang-rt-14-dev mandoc tmux sqlite3
curl ca-certificates xz-utils wrk chromium libicu-dev
dnsmasq-base"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "installing:$missing"
	# wait for another apt or dpkg to finish rather than fail
	lock="-o DPkg::Lock::Timeout=300"
	$SUDO apt-get $lock update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get $lock install -y \
	    -qq $missing
fi
