#!/bin/sh
# test_dns: pdsctl dns zone and dns check against a running pdsd, a real
# PLC directory, Debian's dnsmasq serving _atproto TXT records on
# loopback, and named-checkzone (bind9-utils) reading the zone lines.
#
# dns check asks dnsmasq through --nameserver 127.0.0.1:PORT (the
# documented way to ask one server rather than resolv.conf's), and
# fetches /.well-known/atproto-did from the local pdsd through
# --via URL (with Host: HANDLE), as it would from https://HANDLE/.
# One case goes without --nameserver, through a resolv.conf of its own
# in a private mount and network namespace.
#
#   alice  a right TXT record; pdsd serves her well-known file too
#   bob    no TXT record: resolves by HTTPS
#   carol  a TXT record with dave's DID: DNS wins, so wrong
#   dave   two did= records: DNS fails, HTTPS resolves
T_NAME=test_dns
. "$(dirname "$0")/lib.sh"

PDSCTL=${PDSCTL:-$B/bin/pdsctl}
case $PDSCTL in /*) ;; *) PDSCTL=$(pwd)/$PDSCTL ;; esac
SOCK=$T_DIR/pdsd.sock
OUT=$T_DIR/out
ERR=$T_DIR/err
DNS_PID=
for p in dnsmasq named-checkzone sqlite3; do
	if ! command -v $p >/dev/null 2>&1 && [ ! -x /usr/sbin/$p ]; then
		echo "$T_NAME: $p is missing: run scripts/deps.sh"
		echo "$T_NAME: 0 passed, 1 failed"
		exit 1
	fi
done
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
NAMED_CHECKZONE=$(command -v named-checkzone || echo /usr/sbin/named-checkzone)

dns_stop() {
	if [ -n "$DNS_PID" ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=
	fi
}
trap 'dns_stop; t_cleanup' EXIT

same() { [ "$1" = "$2" ] || { echo "#   got '$1', want '$2'"; return 1; }; }
# expect DESC WANT_RC
expect() {
	if [ "$RC" = "$2" ]; then ok "$1"
	else not_ok "$1" "exit $RC, want $2; stdout: $(head -c 400 "$OUT"); stderr: $(head -c 300 "$ERR")"
	fi
}
# row HANDLE: its line of the dns check table
row() { grep "^$1 " "$OUT" | tr -s ' '; }

plc_start
pds_env "PDS_ADMIN_SOCKET=$SOCK" "PDS_DID_PLC_URL=$PLC_URL"
pds_start || { t_done; exit 1; }

D=pds.example.com
for u in alice bob carol dave; do
	ctl --json account create "$u.$D" --email "$u@example.com"
	if [ "$RC" != 0 ]; then
		not_ok "account $u created" "$(cat "$ERR")"
		t_done
		exit 1
	fi
	eval "${u}_did=\$(jget '\$.did')"
done
ok "four accounts created"

# ---- dns zone ----
ctl dns zone
expect "dns zone" 0
check "dns zone: a line per account" same "$(grep -c '^_atproto' "$OUT")" 4
check "dns zone: alice's record" \
    grep -qx "_atproto.alice.$D. TXT \"did=$alice_did\"" "$OUT"
check "dns zone: dave's record" \
    grep -qx "_atproto.dave.$D. TXT \"did=$dave_did\"" "$OUT"
ctl dns zone --origin "$D"
expect "dns zone --origin" 0
check "dns zone --origin: relative names" \
    grep -qx "_atproto.bob TXT \"did=$bob_did\"" "$OUT"
{
	printf '$TTL 300\n@ IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300\n@ IN NS ns.example.net.\n'
	cat "$OUT"
} >"$T_DIR/zone"
if "$NAMED_CHECKZONE" -D -o "$T_DIR/zone.out" "$D" "$T_DIR/zone" \
    >"$T_DIR/nc" 2>&1; then
	ok "named-checkzone loads the --origin lines"
else
	not_ok "named-checkzone loads the --origin lines" "$(cat "$T_DIR/nc")"
fi
check "named-checkzone reads carol's TXT record" grep -q \
    "^_atproto.carol.$D.[[:space:]]*300[[:space:]]*IN[[:space:]]*TXT[[:space:]]*\"did=$carol_did\"" \
    "$T_DIR/zone.out"
ctl dns zone --origin example.org
check "dns zone --origin elsewhere: no records" same \
    "$(grep -c '^_atproto' "$OUT")" 0
check "dns zone --origin elsewhere: says what was left out" \
    grep -q "4 handles not under example.org left out" "$ERR"
ctl --json dns zone
expect "dns zone --json" 0
check "dns zone --json: four records" same \
    "$(sqlite3 :memory: "SELECT json_array_length(readfile('$OUT'), '\$.records');")" 4
check "dns zone --json: names and values" same \
    "$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$OUT'), '\$.records') WHERE json_extract(value, '\$.type') = 'TXT' AND json_extract(value, '\$.value') = 'did=' || json_extract(value, '\$.did') AND json_extract(value, '\$.name') = '_atproto.' || json_extract(value, '\$.handle') || '.';")" 4
ctl dns zone --origin 'not a domain'
expect "dns zone --origin with a bad name is a usage error" 64

# ---- a DNS stand-in ----
DNS_PORT=$(pick_port)
"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv \
    --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
    --port="$DNS_PORT" --local=/example.com/ --pid-file= \
    --txt-record="_atproto.alice.$D,did=$alice_did" \
    --txt-record="_atproto.carol.$D,did=$dave_did" \
    --txt-record="_atproto.dave.$D,did=$dave_did" \
    --txt-record="_atproto.dave.$D,did=$carol_did" \
    --txt-record="_atproto.dave.$D,v=unrelated" \
    >"$T_DIR/dnsmasq.log" 2>&1 &
DNS_PID=$!
_i=0
while ! ss -Hlun "sport = :$DNS_PORT" 2>/dev/null | grep -q .; do
	_i=$((_i + 1))
	if [ $_i -gt 50 ] || ! kill -0 "$DNS_PID" 2>/dev/null; then
		not_ok "dnsmasq starts" "$(cat "$T_DIR/dnsmasq.log")"
		t_done
		exit 1
	fi
	sleep 0.1
done
ok "dnsmasq serves the TXT records on 127.0.0.1:$DNS_PORT"
NS=127.0.0.1:$DNS_PORT

# ---- dns check ----
ctl dns check --nameserver "$NS" --via "$URL"
expect "dns check: exit 1 when a handle does not resolve to its DID" 1
sed 's/^/# /' "$OUT"
check "dns check: alice by DNS and HTTPS" same "$(row "alice.$D")" \
    "alice.$D ok ok ok"
check "dns check: bob by HTTPS only" same "$(row "bob.$D")" \
    "bob.$D none ok ok"
check "dns check: carol's wrong TXT record wins over HTTPS" same \
    "$(row "carol.$D")" "carol.$D wrong ok wrong DID by DNS"
check "dns check: carol's line says which DID DNS gave" \
    grep -q "dns: $dave_did, want $carol_did" "$OUT"
check "dns check: dave's two records do not count" same \
    "$(row "dave.$D")" "dave.$D multiple ok ok"
check "dns check: the total" grep -qx "(3 of 4 handles resolve to their DID)" "$OUT"

ctl --json dns check --nameserver "$NS" --via "$URL"
expect "dns check --json" 1
check "dns check --json: counts" same \
    "$(jget '$.checked') $(jget '$.resolved')" "4 3"
q() {
	sqlite3 :memory: "SELECT json_extract(value, '$2') FROM json_each(readfile('$OUT'), '\$.handles') WHERE json_extract(value, '\$.handle') = '$1';"
}
check "dns check --json: alice resolved by DNS" same \
    "$(q "alice.$D" '$.resolvedBy') $(q "alice.$D" '$.ok')" "dns 1"
check "dns check --json: bob resolved by HTTPS, status 200" same \
    "$(q "bob.$D" '$.resolvedBy') $(q "bob.$D" '$.https.status')" "https 200"
check "dns check --json: carol's DNS DID" same \
    "$(q "carol.$D" '$.dns.result') $(q "carol.$D" '$.resolvedDid')" \
    "wrong $dave_did"
check "dns check --json: dave's DNS result" same \
    "$(q "dave.$D" '$.dns.result')" "multiple"

ctl dns check "alice.$D" --nameserver "$NS" --via "$URL"
expect "dns check HANDLE: one good handle is exit 0" 0
check "dns check HANDLE: one line" same "$(grep -c "$D" "$OUT")" 1
ctl dns check "carol.$D" --nameserver "$NS" --via "$URL"
expect "dns check HANDLE: a wrong one is exit 1" 1
ctl dns check "nobody.$D" --nameserver "$NS" --via "$URL"
expect "dns check HANDLE: an unknown handle is exit 3" 3

# no web server at all: DNS alone
CLOSED=http://127.0.0.1:$(pick_port)
ctl dns check --nameserver "$NS" --via "$CLOSED"
expect "dns check without a web server" 1
check "dns check: alice still resolves by DNS" same \
    "$(row "alice.$D" | cut -d' ' -f1,2,3,4)" "alice.$D ok error ok"
check "dns check: bob is unresolved" same "$(row "bob.$D")" \
    "bob.$D none error unresolved"
check "dns check: the web error is shown" grep -q "https: .*[Cc]onnect" "$OUT"

# without --nameserver: the system's resolver, as resolv.conf says.  In
# a private mount and network namespace, resolv.conf names 127.0.0.1,
# where a second dnsmasq answers on port 53; this machine's own
# resolv.conf and network are untouched.  The admin socket is a file,
# reachable from there.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1; then
	printf 'nameserver 127.0.0.1\n' >"$T_DIR/resolv.conf"
	unshare -mn sh -c '
		ip link set lo up && mount --bind "$1" /etc/resolv.conf || exit 90
		"$2" --keep-in-foreground --conf-file=/dev/null --no-resolv \
		    --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
		    --port=53 --local=/example.com/ --pid-file= \
		    --txt-record="$6" >/dev/null 2>&1 &
		d=$!
		i=0
		while ! ss -Hlun "sport = :53" | grep -q . && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		"$3" --socket "$4" dns check "$5" --via http://127.0.0.1:1
		rc=$?
		kill $d; wait $d
		exit $rc' _ "$T_DIR/resolv.conf" "$DNSMASQ" "$PDSCTL" "$SOCK" \
	    "alice.$D" "_atproto.alice.$D,did=$alice_did" >"$OUT" 2>"$ERR"
	RC=$?
	expect "dns check through resolv.conf's name server" 0
	check "dns check through resolv.conf: alice by DNS" same \
	    "$(row "alice.$D")" "alice.$D ok error ok"
else
	echo "# not root: the resolv.conf case needs a private namespace; skipped"
fi

# the DNS server gone: an error, not a crash or a hang
dns_stop
ctl dns check "alice.$D" --nameserver "$NS" --via "$URL"
expect "dns check with the name server down: alice still resolves by HTTPS" 0
check "dns check: the DNS error is shown" grep -q "dns: no answer" "$OUT"

ctl dns check --nameserver 127.0.0.1:99999
expect "dns check --nameserver with a bad port is a usage error" 64
ctl dns check --via ftp://example.com
expect "dns check --via with a non-HTTP URL is a usage error" 64

# what Caddy's on-demand TLS asks before a handle's certificate: the
# reference's answers (200 for a member, 404 for one who is not active)
req GET "/tls-check?domain=alice.$D"
check_status "tls-check: a member's handle may have a certificate" 200
req GET "/tls-check?domain=ALICE.PDS.Example.com"
check_status "tls-check: the name is compared without case" 200
ctl account deactivate "dave.$D"
expect "account deactivate dave" 0
req GET "/tls-check?domain=dave.$D"
check_status "tls-check: a deactivated member's handle may not" 404

pds_stop
t_done
