#!/bin/sh
# test_install: scripts/install.sh, first run and re-run, checked with
# the programs that will read what it writes: systemd-analyze verify (and
# its offline security review) on the unit, caddy validate on the
# Caddyfile, pdsd --check-config on the env file.
#
# Where it can, the installer runs as root in a Debian 12 chroot made by
# debootstrap (minbase, plus the runtime packages the installer names and
# systemd, whose units systemd-analyze --root needs).  The chroot is
# built once, about two minutes with the network to Debian's mirror
# (DEBIAN_MIRROR), and kept as a tar file under .cache/chroot/ named
# after its package list; later runs unpack it in about a second, and
# the whole test takes about 25 s.  In the
# chroot the test also starts the installed pdsd as the `pds' user, asks
# /tls-check, and uses pdsctl as a member and a non-member of the admin
# group.  Without root, debootstrap or the mirror it says why and checks
# a DESTDIR install only, which the chroot run also does.
# INSTALL_TEST_MODE=destdir skips the chroot.
#
# Last, the chroot is booted with systemd-nspawn (systemd as PID 1 in a
# container with its own loopback-only network), the installer runs
# again under it, and the service is checked as systemd runs it: user,
# capabilities, seccomp, restarts, and Caddy asking /tls-check.
T_NAME=test_install
. "$(dirname "$0")/lib.sh"

ROOT_SRC=$(pwd)
INSTALLER=$ROOT_SRC/scripts/install.sh
CACHE=$ROOT_SRC/.cache/chroot
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
HOSTNAME_=pds.example.com
EMAIL_=ops@example.com
export HOME="$T_DIR/home" XDG_DATA_HOME="$T_DIR/home/data" \
    XDG_CONFIG_HOME="$T_DIR/home/config"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"

for p in systemd-analyze caddy sqlite3 curl; do
	if ! command -v $p >/dev/null 2>&1; then
		echo "$T_NAME: $p is missing: run scripts/deps.sh"
		echo "$T_NAME: 0 passed, 1 failed"
		exit 1
	fi
done

same() { [ "$1" = "$2" ] || { echo "#   got '$1', want '$2'"; return 1; }; }
sum() { sha256sum "$1" | cut -c1-64; }

# check_unit FILE VERIFY_ARGS...: what the unit must say, and
# systemd-analyze verify's silence on it
check_unit() {
	_u=$1
	shift
	for _d in Type=notify Restart=on-failure NoNewPrivileges=yes \
	    ProtectSystem=strict ReadWritePaths=/pds PrivateTmp=yes \
	    ProtectHome=yes CapabilityBoundingSet= AmbientCapabilities= \
	    User=pds SupplementaryGroups=pdsadmin \
	    'ExecStart=/usr/local/sbin/pdsd -c /pds/pds.env'; do
		check "unit: $_d" grep -qx -- "$_d" "$_u"
	done
	systemd-analyze verify --man=no "$@" >"$T_DIR/verify" 2>&1
	_rc=$?
	if [ $_rc -eq 0 ] && [ ! -s "$T_DIR/verify" ]; then
		ok "systemd-analyze verify: the unit is clean"
	else
		not_ok "systemd-analyze verify: the unit is clean" \
		    "exit $_rc: $(cat "$T_DIR/verify")"
	fi
}

# check_caddy FILE
check_caddy() {
	if caddy validate --adapter caddyfile --config "$1" \
	    >"$T_DIR/caddy" 2>&1 && grep -q 'Valid configuration' "$T_DIR/caddy" &&
	    ! grep -q 'not formatted' "$T_DIR/caddy"; then
		ok "caddy validate: the Caddyfile is valid and formatted"
	else
		not_ok "caddy validate: the Caddyfile is valid and formatted" \
		    "$(tail -n 5 "$T_DIR/caddy")"
	fi
	check "Caddyfile: on-demand TLS asks pdsd's /tls-check" \
	    grep -q "ask http://127.0.0.1:2583/tls-check" "$1"
	check "Caddyfile: the host and its handles" \
	    grep -qx "$HOSTNAME_, \*.$HOSTNAME_ {" "$1"
}

# check_env JSON: pdsd --check-config --json's view of the new file
check_env() {
	for _kv in PDS_HOSTNAME=$HOSTNAME_ PDS_CONTACT_EMAIL_ADDRESS=$EMAIL_ \
	    PDS_DATA_DIRECTORY=/pds PDS_BLOBSTORE_DISK_LOCATION=/pds/blocks \
	    PDS_DID_PLC_URL=https://plc.directory \
	    PDS_BSKY_APP_VIEW_URL=https://api.bsky.app \
	    PDS_BSKY_APP_VIEW_DID=did:web:api.bsky.app \
	    PDS_REPORT_SERVICE_URL=https://mod.bsky.app \
	    PDS_CRAWLERS=https://bsky.network PDS_BIND_ADDRESS=127.0.0.1 \
	    PDS_ADMIN_SOCKET_GROUP=pdsadmin PDS_ADMIN_GROUP=pdsadmin \
	    PDS_INVITE_REQUIRED=true; do
		check "env file: ${_kv%%=*}" same \
		    "$(jget "\$.${_kv%%=*}.value" "$1")" "${_kv#*=}"
	done
	for _s in PDS_JWT_SECRET PDS_ADMIN_PASSWORD PDS_DPOP_SECRET \
	    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX; do
		check "env file: $_s set in the file" same \
		    "$(jget "\$.$_s.source" "$1")" file
	done
}

# ---- a DESTDIR install: no root needed, nothing outside the prefix ----
destdir_run() {
	_dd=$T_DIR/dest
	echo "# DESTDIR install into $_dd"
	if PDS_SERVICE_HANDLE_DOMAINS=.example.com sh "$INSTALLER" \
	    --destdir "$_dd" --hostname "$HOSTNAME_" --email "$EMAIL_" \
	    >"$T_DIR/dd.log" 2>&1; then
		ok "destdir: the installer succeeds"
	else
		not_ok "destdir: the installer succeeds" "$(tail -n 5 "$T_DIR/dd.log")"
		return
	fi
	for _f in usr/local/sbin/pdsd usr/local/bin/pdsctl usr/local/bin/pdstui \
	    usr/local/share/man/man8/pdsd.8 usr/local/share/man/man8/pdsctl.8 \
	    usr/local/share/man/man1/pdstui.1 pds/pds.env \
	    etc/systemd/system/pdsd.service etc/caddy/Caddyfile; do
		check "destdir: /$_f installed" test -f "$_dd/$_f"
	done
	check "destdir: the env file is mode 640" same \
	    "$(stat -c %a "$_dd/pds/pds.env")" 640
	check "destdir: the environment's PDS_* goes into the env file" \
	    grep -qx 'PDS_SERVICE_HANDLE_DOMAINS=.example.com' "$_dd/pds/pds.env"
	# the unit names /usr/local/sbin/pdsd: verify a copy naming the
	# staged one, on this machine's systemd
	mkdir -p "$T_DIR/ddunit"
	sed "s#^ExecStart=/usr/local/sbin/pdsd#ExecStart=$_dd/usr/local/sbin/pdsd#" \
	    "$_dd/etc/systemd/system/pdsd.service" >"$T_DIR/ddunit/pdsd.service"
	check_unit "$_dd/etc/systemd/system/pdsd.service" \
	    "$T_DIR/ddunit/pdsd.service"
	check_caddy "$_dd/etc/caddy/Caddyfile"
	if env -i "$_dd/usr/local/sbin/pdsd" -c "$_dd/pds/pds.env" \
	    --check-config --json >"$T_DIR/dd.json" 2>"$T_DIR/dd.err"; then
		ok "destdir: pdsd --check-config accepts the env file"
		check_env "$T_DIR/dd.json"
	else
		not_ok "destdir: pdsd --check-config accepts the env file" \
		    "$(cat "$T_DIR/dd.err")"
	fi
	_before=$(sum "$_dd/pds/pds.env")
	echo "upgrade marker" >"$_dd/pds/blocks/marker"
	if sh "$INSTALLER" --destdir "$_dd" >"$T_DIR/dd2.log" 2>&1; then
		ok "destdir: the re-run succeeds"
	else
		not_ok "destdir: the re-run succeeds" "$(tail -n 5 "$T_DIR/dd2.log")"
	fi
	check "destdir: the re-run keeps the secrets" same \
	    "$(sum "$_dd/pds/pds.env")" "$_before"
	check "destdir: the re-run keeps the data" \
	    grep -qx "upgrade marker" "$_dd/pds/blocks/marker"
	if sh "$INSTALLER" --destdir "$T_DIR/dest-bad" --hostname "$HOSTNAME_" \
	    >"$T_DIR/dd3.log" 2>&1; then
		not_ok "destdir: a first run without --email is refused"
	else
		check "destdir: a first run without --email is refused" \
		    grep -q "give --hostname NAME and --email ADDR" "$T_DIR/dd3.log"
	fi
}

# ---- pdsd --init-config alone ----
init_config() {
	_p=$B/bin/pdsd
	case $_p in /*) ;; *) _p=$ROOT_SRC/$_p ;; esac
	mkdir -p "$T_DIR/init"
	env -i "$_p" -c "$T_DIR/init/a.env" --init-config >"$T_DIR/init/out" 2>&1
	check "init-config: without the host name and email, exit 1" \
	    test $? -eq 1
	check "init-config: names both missing variables" grep -q \
	    "set PDS_HOSTNAME and PDS_CONTACT_EMAIL_ADDRESS" "$T_DIR/init/out"
	check "init-config: nothing written" test ! -e "$T_DIR/init/a.env"
	env -i PDS_HOSTNAME=$HOSTNAME_ PDS_CONTACT_EMAIL_ADDRESS=$EMAIL_ \
	    PDS_INVITE_REQUIRD=false "$_p" -c "$T_DIR/init/a.env" \
	    --init-config >"$T_DIR/init/out" 2>&1
	check "init-config: a misspelt variable is refused" grep -q \
	    "unknown variable in the environment: PDS_INVITE_REQUIRD" \
	    "$T_DIR/init/out"
	env -i PDS_HOSTNAME=$HOSTNAME_ PDS_CONTACT_EMAIL_ADDRESS=not-an-email \
	    "$_p" -c "$T_DIR/init/a.env" --init-config >"$T_DIR/init/out" 2>&1
	check "init-config: a bad value is refused by the loader" grep -q \
	    "would not load: PDS_CONTACT_EMAIL_ADDRESS" "$T_DIR/init/out"
	check "init-config: and nothing is left behind" same \
	    "$(ls "$T_DIR/init")" out
	for _f in a b; do
		env -i PDS_HOSTNAME=$HOSTNAME_ PDS_CONTACT_EMAIL_ADDRESS=$EMAIL_ \
		    "$_p" -c "$T_DIR/init/$_f.env" --init-config \
		    >"$T_DIR/init/out" 2>&1 ||
		    not_ok "init-config: writes $_f.env" "$(cat "$T_DIR/init/out")"
	done
	check "init-config: the file is mode 600" same \
	    "$(stat -c %a "$T_DIR/init/a.env")" 600
	for _s in PDS_JWT_SECRET PDS_ADMIN_PASSWORD PDS_DPOP_SECRET \
	    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX; do
		_va=$(sed -n "s/^$_s=//p" "$T_DIR/init/a.env")
		_vb=$(sed -n "s/^$_s=//p" "$T_DIR/init/b.env")
		check "init-config: $_s is fresh each time" \
		    test -n "$_va" -a "$_va" != "$_vb"
	done
	_before=$(sum "$T_DIR/init/a.env")
	env -i PDS_HOSTNAME=other.example.com PDS_CONTACT_EMAIL_ADDRESS=$EMAIL_ \
	    "$_p" -c "$T_DIR/init/a.env" --init-config >"$T_DIR/init/out" 2>&1
	check "init-config: an existing file is refused" grep -q \
	    "never overwrites" "$T_DIR/init/out"
	check "init-config: and left as it was" same \
	    "$(sum "$T_DIR/init/a.env")" "$_before"
}

# ---- the Debian 12 chroot ----
CHROOT_WHY=
# chroot_tar: set TAR to the cached chroot, building it if need be
chroot_tar() {
	if [ "${INSTALL_TEST_MODE:-}" = destdir ]; then
		CHROOT_WHY="INSTALL_TEST_MODE=destdir"; return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		CHROOT_WHY="not root (chroot, useradd)"; return 1
	fi
	# a sanitizer build needs its runtime (libasan), which a Debian
	# system the installer targets does not have
	if ldd "$B/bin/pdsd" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		CHROOT_WHY="a sanitizer build (SANITIZE=...) runs only here"
		return 1
	fi
	if ! command -v debootstrap >/dev/null 2>&1; then
		CHROOT_WHY="debootstrap is missing (scripts/deps.sh)"; return 1
	fi
	_pk="$(sh "$INSTALLER" --print-runtime-packages) systemd"
	_key=$(printf '%s %s' "$MIRROR" "$_pk" | sha256sum | cut -c1-12)
	TAR=$CACHE/bookworm-$_key.tar
	mkdir -p "$CACHE" || { CHROOT_WHY="cannot create $CACHE"; return 1; }
	(
		flock 9
		[ -f "$TAR" ] && exit 0
		echo "# building the Debian 12 chroot (once; cached as $TAR)"
		_tmp=$CACHE/build.$$
		rm -rf "$_tmp"
		if ! debootstrap --variant=minbase \
		    --include="$(echo $_pk | tr ' ' ,)" bookworm "$_tmp" \
		    "$MIRROR" >"$CACHE/build.log" 2>&1; then
			rm -rf "$_tmp"
			exit 1
		fi
		rm -rf "$_tmp"/var/cache/apt/archives/*.deb \
		    "$_tmp"/var/lib/apt/lists/* "$_tmp"/usr/share/doc \
		    "$_tmp"/usr/share/locale "$_tmp"/usr/share/man
		tar -C "$_tmp" -cf "$TAR.tmp" . && mv "$TAR.tmp" "$TAR"
		_rc=$?
		rm -rf "$_tmp"
		# images of older package lists are never used again
		[ $_rc -eq 0 ] && find "$CACHE" -name 'bookworm-*.tar' \
		    ! -name "${TAR##*/}" -delete
		exit $_rc
	) 9>"$CACHE/lock"
	if [ ! -f "$TAR" ]; then
		CHROOT_WHY="debootstrap failed (no network to $MIRROR?): $(tail -n 2 "$CACHE/build.log" 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
	return 0
}

R=
# in_root ARGS...: run a command in the chroot, as root, no environment
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
# as USER ARGS...: the same as USER with its groups and Debian's PATH
# for users, without the sbin directories (exec: in a subshell, its
# PID is the command's)
as() {
	_u=$1
	shift
	exec chroot --userspec="$(in_root id -u "$_u"):$(in_root id -g "$_u")" \
	    --groups="$(in_root id -G "$_u" | tr ' ' ,)" "$R" /usr/bin/env -i \
	    PATH=/usr/local/bin:/usr/bin:/bin "$@"
}

chroot_run() {
	R=$T_DIR/root
	mkdir -p "$R"
	_t0=$(date +%s)
	tar -C "$R" -xf "$TAR" || { not_ok "chroot: unpack $TAR"; return; }
	mkdir -p "$R/src/scripts" "$R/src/man" "$R/src/build/bin"
	cp "$INSTALLER" "$R/src/scripts/"
	cp "$ROOT_SRC"/man/*.[18] "$R/src/man/"
	cp "$B/bin/pdsd" "$B/bin/pdsctl" "$B/bin/pdstui" "$R/src/build/bin/"
	in_root useradd --create-home alice
	in_root useradd --create-home bob
	if in_root sh /src/scripts/install.sh --hostname "$HOSTNAME_" \
	    --email "$EMAIL_" --admin alice >"$T_DIR/ch.log" 2>&1; then
		ok "chroot: the installer succeeds as root"
	else
		not_ok "chroot: the installer succeeds as root" \
		    "$(tail -n 8 "$T_DIR/ch.log")"
		return
	fi
	check "chroot: no package to download (all in the image)" \
	    sh -c "! grep -q '^\* installing:' '$T_DIR/ch.log'"
	check "chroot: pds is a system user without a login shell" same \
	    "$(in_root getent passwd pds | cut -d: -f6,7)" "/pds:/usr/sbin/nologin"
	check "chroot: pds's uid is a system one" \
	    test "$(in_root id -u pds)" -lt 1000
	check "chroot: pds is in pdsadmin (it gives the socket that group)" \
	    sh -c "chroot '$R' id -nG pds | grep -qw pdsadmin"
	check "chroot: --admin alice puts alice in pdsadmin" \
	    sh -c "chroot '$R' id -nG alice | grep -qw pdsadmin"
	check "chroot: /pds is pds:pdsadmin 750" same \
	    "$(in_root stat -c '%U:%G %a' /pds)" "pds:pdsadmin 750"
	check "chroot: pds.env is root:pds 640" same \
	    "$(in_root stat -c '%U:%G %a' /pds/pds.env)" "root:pds 640"
	check "chroot: /pds/blocks is pds:pds 750" same \
	    "$(in_root stat -c '%U:%G %a' /pds/blocks)" "pds:pds 750"
	check "chroot: man pages installed" \
	    test -f "$R/usr/local/share/man/man8/pdsctl.8"

	check_unit "$R/etc/systemd/system/pdsd.service" --root="$R" \
	    /etc/systemd/system/pdsd.service
	systemd-analyze security --offline=yes --root="$R" --threshold=25 \
	    /etc/systemd/system/pdsd.service >"$T_DIR/sec" 2>&1
	_rc=$?
	_lvl=$(sed -n 's/.*Overall exposure level for pdsd.service: \([0-9.]*\).*/\1/p' "$T_DIR/sec")
	if [ $_rc -eq 0 ] && [ -n "$_lvl" ]; then
		ok "systemd-analyze security: exposure $_lvl, at most 2.5"
	else
		not_ok "systemd-analyze security: exposure at most 2.5" \
		    "exit $_rc: $(tail -n 3 "$T_DIR/sec")"
	fi
	check_caddy "$R/etc/caddy/Caddyfile"
	if in_root /usr/local/sbin/pdsd -c /pds/pds.env --check-config --json \
	    >"$T_DIR/ch.json" 2>"$T_DIR/ch.err"; then
		ok "chroot: pdsd --check-config accepts the env file"
		check_env "$T_DIR/ch.json"
	else
		not_ok "chroot: pdsd --check-config accepts the env file" \
		    "$(cat "$T_DIR/ch.err")"
	fi

	# first start, as the unit would: user pds with group pdsadmin
	PORT=$(pick_port)
	URL=http://127.0.0.1:$PORT
	(as pds PDS_PORT=$PORT PDS_CRAWLERS= /usr/local/sbin/pdsd \
	    -c /pds/pds.env >"$T_DIR/pdsd.log" 2>&1) &
	PDSD_PID=$!
	_i=0
	while ! curl -sf -o /dev/null "$URL/xrpc/_health"; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 "$PDSD_PID" 2>/dev/null; then
			not_ok "chroot: pdsd starts as pds" "$(tail -n 5 "$T_DIR/pdsd.log")"
			pds_kill9
			return
		fi
		sleep 0.1
	done
	ok "chroot: pdsd starts as pds with the new env file"
	req GET "/tls-check?domain=$HOSTNAME_"
	check_status "tls-check: the host name may have a certificate" 200
	req GET "/tls-check?domain=nobody.$HOSTNAME_"
	check_status "tls-check: an unknown handle may not" 404
	req GET "/tls-check?domain=example.org"
	check_status "tls-check: another domain may not" 400
	check "chroot: the admin socket is pds:pdsadmin 660" same \
	    "$(in_root stat -c '%U:%G %a' /pds/pdsd.sock)" "pds:pdsadmin 660"
	if (as alice pdsctl --json stats) >"$T_DIR/alice" 2>&1; then
		ok "chroot: alice (pdsadmin) runs pdsctl"
	else
		not_ok "chroot: alice (pdsadmin) runs pdsctl" "$(cat "$T_DIR/alice")"
	fi
	(as bob pdsctl stats) >"$T_DIR/bob" 2>&1
	_rc=$?
	if [ $_rc -ne 0 ] && grep -qi "permission" "$T_DIR/bob"; then
		ok "chroot: bob (not in pdsadmin) is refused"
	else
		not_ok "chroot: bob (not in pdsadmin) is refused" \
		    "exit $_rc: $(cat "$T_DIR/bob")"
	fi
	check "chroot: pdsd stops cleanly" pds_stop
	check "chroot: the database is pds's, mode 600" same \
	    "$(in_root stat -c '%U %a' /pds/pds.sqlite)" "pds 600"

	# re-run: an upgrade in place
	_env=$(sum "$R/pds/pds.env")
	_db=$(sum "$R/pds/pds.sqlite")
	_unit=$(sum "$R/etc/systemd/system/pdsd.service")
	_caddy=$(sum "$R/etc/caddy/Caddyfile")
	if in_root sh /src/scripts/install.sh --hostname other.example.com \
	    >"$T_DIR/ch2.log" 2>&1; then
		ok "chroot: the re-run succeeds"
	else
		not_ok "chroot: the re-run succeeds" "$(tail -n 5 "$T_DIR/ch2.log")"
	fi
	check "chroot: the re-run keeps the env file and its secrets" same \
	    "$(sum "$R/pds/pds.env")" "$_env"
	check "chroot: the re-run keeps the database" same \
	    "$(sum "$R/pds/pds.sqlite")" "$_db"
	check "chroot: the re-run says a new --hostname is ignored" \
	    grep -q "hostname other.example.com ignored" "$T_DIR/ch2.log"
	check "chroot: the re-run leaves the unit as it was" same \
	    "$(sum "$R/etc/systemd/system/pdsd.service")" "$_unit"
	check "chroot: the re-run leaves the Caddyfile as it was" same \
	    "$(sum "$R/etc/caddy/Caddyfile")" "$_caddy"
	check "chroot: the re-run keeps the ownership" same \
	    "$(in_root stat -c '%U:%G %a' /pds /pds/pds.env)" \
	    "$(printf 'pds:pdsadmin 750\nroot:pds 640')"
	# an env file the service cannot read (as a reference install
	# leaves it) is given to the service's group, its text untouched
	in_root chown root:root /pds/pds.env
	in_root chmod 600 /pds/pds.env
	in_root sh /src/scripts/install.sh >"$T_DIR/ch5.log" 2>&1
	check "chroot: a re-run makes a 600 env file root:pds 640" same \
	    "$(in_root stat -c '%U:%G %a' /pds/pds.env)" "root:pds 640"
	check "chroot: and keeps its text" same "$(sum "$R/pds/pds.env")" "$_env"

	# With systemd running, the installer enables and starts the
	# services, and restarts pdsd on an upgrade.  systemd is not PID 1
	# here: a systemctl that records its arguments stands in, to check
	# which commands the installer gives (not what systemd does).
	mkdir -p "$R/run/systemd/system"
	cat >"$R/usr/local/sbin/systemctl" <<'EOF2'
#!/bin/sh
echo "$*" >>/tmp/systemctl.log
case "$*" in "is-active --quiet pdsd") [ -f /tmp/pdsd-active ] ;; esac
EOF2
	chmod 755 "$R/usr/local/sbin/systemctl"
	in_root sh /src/scripts/install.sh >"$T_DIR/ch3.log" 2>&1
	check "chroot, systemd: the installer succeeds" test $? -eq 0
	check "chroot, systemd: it starts the services" same \
	    "$(cat "$R/tmp/systemctl.log")" "$(printf '%s\n' daemon-reload \
	    'is-active --quiet pdsd' 'enable --now pdsd' 'enable --quiet caddy' \
	    'reload-or-restart caddy')"
	rm -f "$R/tmp/systemctl.log"
	touch "$R/tmp/pdsd-active"
	in_root sh /src/scripts/install.sh --no-caddy >"$T_DIR/ch4.log" 2>&1
	check "chroot, systemd: an upgrade restarts pdsd, --no-caddy leaves caddy" \
	    same "$(cat "$R/tmp/systemctl.log")" "$(printf '%s\n' \
	    daemon-reload 'is-active --quiet pdsd' 'restart pdsd')"
	echo "# chroot part took $(($(date +%s) - _t0)) s"
	boot_run
}

# ---- the installed system booted: systemd as PID 1 in a container ----
NSPAWN_PID=
INIT=
boot_stop() {
	if [ -n "$NSPAWN_PID" ]; then
		kill -TERM "$NSPAWN_PID" 2>/dev/null	# a clean poweroff
		_i=0
		while kill -0 "$NSPAWN_PID" 2>/dev/null && [ $_i -lt 100 ]; do
			sleep 0.2
			_i=$((_i + 1))
		done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
		NSPAWN_PID=
	fi
}
trap 'boot_stop; t_cleanup' EXIT
in_boot() {
	nsenter -t "$INIT" -a /usr/bin/env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
# the container's network, this machine's programs (curl)
in_boot_net() { nsenter -t "$INIT" -n "$@"; }

# boot_run: boot the chroot with systemd-nspawn (its own network, only
# loopback in it), install again under a running systemd, and check
# the service as systemd runs it: sandbox, admin socket, restarts,
# Caddy in front asking /tls-check.  INSTALL_TEST_BOOT=0 skips it.
boot_run() {
	if [ "${INSTALL_TEST_BOOT:-1}" = 0 ]; then
		echo "# booting the chroot skipped: INSTALL_TEST_BOOT=0"
		return
	fi
	if ! command -v systemd-nspawn >/dev/null 2>&1; then
		not_ok "boot: systemd-nspawn is missing (scripts/deps.sh)"
		return
	fi
	_t1=$(date +%s)
	rm -f "$R/usr/local/sbin/systemctl" "$R/tmp/pdsd-active" \
	    "$R/tmp/systemctl.log"
	rm -rf "$R/run/systemd/system"
	# every installed Debian has it; debootstrap's minbase does not,
	# and Caddy resolves "localhost" for its admin endpoint
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost\n' >"$R/etc/hosts"
	systemd-nspawn -q -D "$R" --boot --private-network --register=no \
	    --keep-unit >"$T_DIR/boot.log" 2>&1 </dev/null &
	NSPAWN_PID=$!
	_i=0
	while :; do
		INIT=$(pgrep -P "$NSPAWN_PID" -x systemd | head -n 1)
		[ -n "$INIT" ] && timeout 60 nsenter -t "$INIT" -a \
		    systemctl is-system-running --wait >"$T_DIR/boot.state" \
		    2>&1 && break
		grep -qx degraded "$T_DIR/boot.state" 2>/dev/null && break
		_i=$((_i + 1))
		if [ $_i -gt 60 ] || ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
			not_ok "boot: systemd starts in the container" \
			    "$(tail -n 5 "$T_DIR/boot.log")"
			boot_stop
			return
		fi
		sleep 0.5
	done
	ok "boot: systemd runs the installed system ($(cat "$T_DIR/boot.state"))"

	if in_boot sh /src/scripts/install.sh >"$T_DIR/boot-inst.log" 2>&1; then
		ok "boot: the installer succeeds under systemd"
	else
		not_ok "boot: the installer succeeds under systemd" \
		    "$(tail -n 8 "$T_DIR/boot-inst.log")"
	fi
	check "boot: pdsd is active and enabled" same \
	    "$(in_boot systemctl is-active pdsd) $(in_boot systemctl is-enabled pdsd)" \
	    "active enabled"
	check "boot: caddy is active" same "$(in_boot systemctl is-active caddy)" \
	    active
	_pid=$(in_boot systemctl show -p MainPID --value pdsd)
	in_boot cat "/proc/$_pid/status" >"$T_DIR/boot.status" 2>&1
	check "boot: pdsd runs as pds" same \
	    "$(awk '/^Uid:/ { print $2 }' "$T_DIR/boot.status")" \
	    "$(in_root id -u pds)"
	check "boot: pdsd has the group pdsadmin" grep -qE \
	    "^Groups:.*(^|[[:space:]])$(in_root getent group pdsadmin | cut -d: -f3)([[:space:]]|$)" \
	    "$T_DIR/boot.status"
	check "boot: pdsd has no capabilities" \
	    grep -q '^CapEff:[[:space:]]*0000000000000000$' "$T_DIR/boot.status"
	check "boot: no new privileges" grep -q '^NoNewPrivs:[[:space:]]*1$' \
	    "$T_DIR/boot.status"
	check "boot: a system-call filter" grep -q '^Seccomp:[[:space:]]*2$' \
	    "$T_DIR/boot.status"
	in_boot runuser -u alice -- pdsctl stats >"$T_DIR/boot.alice" 2>&1
	check "boot: alice (pdsadmin) runs pdsctl against the service" \
	    grep -q '^uptime:' "$T_DIR/boot.alice"

	# Caddy in front: the site answers, and it asks pdsd before
	# getting a certificate (the ACME servers are out of reach here)
	check "boot: caddy serves the host (HTTP to HTTPS redirect)" same \
	    "$(in_boot_net curl -s -o /dev/null -w '%{http_code}' \
	    -H "Host: $HOSTNAME_" http://127.0.0.1/xrpc/_health)" 308
	for _n in "$HOSTNAME_" "nobody.$HOSTNAME_"; do
		in_boot_net curl -sk --max-time 3 -o /dev/null \
		    --resolve "$_n:443:127.0.0.1" "https://$_n/" 2>/dev/null
	done
	in_boot journalctl -u pdsd --no-pager >"$T_DIR/boot.journal" 2>&1
	check "boot: caddy asked /tls-check for the host: yes" \
	    grep -q 'GET /tls-check 200' "$T_DIR/boot.journal"
	check "boot: caddy asked /tls-check for an unknown handle: no" \
	    grep -q 'GET /tls-check 404' "$T_DIR/boot.journal"

	# Restart=on-failure: killed, it comes back
	in_boot systemctl kill -s KILL pdsd
	_i=0
	while [ $_i -lt 40 ]; do
		_new=$(in_boot systemctl show -p MainPID --value pdsd)
		[ "$_new" != 0 ] && [ "$_new" != "$_pid" ] &&
		    [ "$(in_boot systemctl is-active pdsd)" = active ] && break
		sleep 0.5
		_i=$((_i + 1))
	done
	check "boot: pdsd killed is restarted" test $_i -lt 40
	in_boot systemctl stop pdsd
	check "boot: pdsd stops cleanly" same \
	    "$(in_boot systemctl show -p ExecMainStatus --value pdsd) $(in_boot systemctl is-active pdsd)" \
	    "0 inactive"
	boot_stop
	echo "# booted part took $(($(date +%s) - _t1)) s"
}

if chroot_tar; then
	echo "# installer test in a Debian 12 chroot ($TAR)"
	chroot_run
else
	echo "# installer test in a DESTDIR prefix only: no chroot: $CHROOT_WHY"
fi
init_config
destdir_run
t_done
