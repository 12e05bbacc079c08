#!/bin/sh
# Install the Debian packages pds needs to build and test, when missing.
# Run as root (or with sudo available) on Debian 12.  clang builds the
# fuzz harnesses (libclang-rt: libFuzzer) and is CI's second compiler.
# chromium is the browser of the OAuth pages' interop test.
# debootstrap, systemd (systemd-analyze), systemd-container (nspawn)
# and caddy check the installer (test_install); dnsmasq serves DNS
# records to test_dns and test_lexicon_resolve; named-checkzone
# (bind9-utils) reads test_dns's zone lines.
# python3-prometheus-client parses the metrics in test_metrics.sh.
set -eu
PKGS="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libsodium-dev
libsecp256k1-dev libncurses-dev libjansson-dev libcurl4-openssl-dev
libwslay-dev libssl-dev zlib1g-dev libdeflate-dev clang libclang-rt-14-dev mandoc tmux sqlite3
curl ca-certificates xz-utils wrk chromium python3-prometheus-client libicu-dev
debootstrap systemd systemd-container caddy dnsmasq-base bind9-utils"
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
	wait_apt=$(dirname "$0")/apt-wait.sh
	$SUDO "$wait_apt" update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive "$wait_apt" install -y \
	    -qq $missing
fi
# Ceph (one monitor, one in-memory OSD, radosgw): the real S3 server the
# blob store tests start on loopback (tests/s3/start.sh).  Without its
# recommends, which would pull in a whole cluster's tooling.
CEPH_PKGS="ceph-mon ceph-osd radosgw uuid-runtime iproute2"
missing=""
for p in $CEPH_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "installing:$missing"
	wait_apt=$(dirname "$0")/apt-wait.sh
	$SUDO "$wait_apt" update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive "$wait_apt" install -y \
	    -qq --no-install-recommends $missing
fi
