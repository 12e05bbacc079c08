#!/bin/sh
# install.sh: install pds as a service on Debian 12 (or a derivative),
# or upgrade an installation in place.  Run it as root from a built
# tree (scripts/deps.sh && make):
#
#   scripts/install.sh --hostname pds.example.org --email ops@example.org
#   scripts/install.sh                  # later: upgrade, settings kept
#
# It installs the runtime packages (with Debian's caddy), pdsd (in
# PREFIX/sbin), pdsctl and pdstui (in PREFIX/bin, on the admins' PATH)
# and their manual pages; creates the system user `pds' and the admin
# group `pdsadmin' (whose members may use pdsctl and pdstui); makes the data directory /pds; writes /pds/pds.env with fresh
# secrets through `pdsd --init-config' (first run only: an existing
# env file and the data are never touched); installs the systemd unit
# pdsd.service and a Caddyfile for on-demand TLS on HOSTNAME and
# *.HOSTNAME; and starts both.  PDS_* variables in the environment of
# the first run go into the new env file (for example
# PDS_SERVICE_HANDLE_DOMAINS=.example.org).
#
# Options:
#   --hostname NAME  the public host name (first run)
#   --email ADDR     the operator's address: describeServer's contact
#                    and Let's Encrypt's notices (first run)
#   --admin USER     add the existing USER to the admin group (repeatable)
#   --prefix DIR     programs in DIR/sbin and DIR/bin (default /usr/local)
#   --data DIR       the data directory (default /pds)
#   --destdir DIR    install into DIR as if it were / (a staging tree or
#                    a test; DESTDIR in the environment does the same):
#                    no packages, users, ownership or services
#   --no-deps        do not install the runtime packages
#   --no-start       do not enable or start the services
#   --no-caddy       no Caddyfile and no caddy package (another proxy)
#   --print-runtime-packages   print the Debian packages needed, exit
# B names the build directory (default: build).
set -eu

RUNTIME_PKGS="libmicrohttpd12 libsqlite3-0 libsodium23 libsecp256k1-1
libjansson4 libssl3 zlib1g libdeflate0 libwslay1 libcurl4 libncursesw6 libicu72
ca-certificates"
USER_NAME=pds
ADMIN_GROUP=pdsadmin
MARK="# written by pds scripts/install.sh"

SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$SRC/$B ;; esac
D=${DESTDIR:-}
HOST=
EMAIL=
ADMINS=
PREFIX=/usr/local
DATA=/pds
DEPS=1
START=1
CADDY=1

say() { printf '* %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
# usage STATUS: the comment above, on stdout for --help
usage() {
	if [ "$1" -eq 0 ]; then _fd=1; else _fd=2; fi
	sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&$_fd
	exit "$1"
}

need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
	case $1 in
	--hostname)	need_arg "$@"; HOST=$2; shift ;;
	--email)	need_arg "$@"; EMAIL=$2; shift ;;
	--admin)	need_arg "$@"; ADMINS="$ADMINS $2"; shift ;;
	--prefix)	need_arg "$@"; PREFIX=$2; shift ;;
	--data)		need_arg "$@"; DATA=$2; shift ;;
	--destdir)	need_arg "$@"; D=$2; shift ;;
	--no-deps)	DEPS=0 ;;
	--no-start)	START=0 ;;
	--no-caddy)	CADDY=0 ;;
	--print-runtime-packages)
		echo $RUNTIME_PKGS caddy; exit 0 ;;
	-h|--help)	usage 0 ;;
	*)		warn "unknown argument: $1"; usage 64 ;;
	esac
	shift
done
case $PREFIX in /*) ;; *) die "--prefix must be an absolute path" ;; esac
case $DATA in /*) ;; *) die "--data must be an absolute path" ;; esac
if [ -n "$D" ]; then
	case $D in /*) ;; *) D=$(pwd)/$D ;; esac
	DEPS=0
	START=0
elif [ "$(id -u)" -ne 0 ]; then
	die "run me as root (or give --destdir DIR to stage an install)"
fi
[ "$CADDY" -eq 1 ] && RUNTIME_PKGS="$RUNTIME_PKGS caddy"
SBINDIR=$PREFIX/sbin
BINDIR=$PREFIX/bin
MANDIR=$PREFIX/share/man
ENVFILE=$DATA/pds.env
UNIT=/etc/systemd/system/pdsd.service

for p in pdsd pdsctl pdstui; do
	[ -x "$B/bin/$p" ] || die "$B/bin/$p is missing: build first (scripts/deps.sh && make)"
done
if [ -r "$D/etc/os-release" ] && ! grep -q '^ID=debian\|^ID_LIKE=.*debian' "$D/etc/os-release"; then
	warn "not Debian or a derivative: package names may differ"
fi

# own OWNER:GROUP MODE PATH: ownership only on a real install
own() {
	[ -z "$D" ] && chown "$1" "$3"
	chmod "$2" "$3"
}

# put MODE SRC DEST: replace DEST with SRC by a rename, so that a
# running program is never rewritten in place
put() {
	mkdir -p "$(dirname "$3")"
	cp "$2" "$3.new.$$"
	chmod "$1" "$3.new.$$"
	mv -f "$3.new.$$" "$3"
}

install_packages() {
	missing=
	for p in $RUNTIME_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	lock="-o DPkg::Lock::Timeout=300"
	apt-get $lock update -qq
	DEBIAN_FRONTEND=noninteractive apt-get $lock install -y -qq $missing
}

make_accounts() {
	getent group "$ADMIN_GROUP" >/dev/null ||
	    { say "creating group $ADMIN_GROUP"; groupadd --system "$ADMIN_GROUP"; }
	if ! getent passwd "$USER_NAME" >/dev/null; then
		say "creating system user $USER_NAME"
		useradd --system --user-group --home-dir "$DATA" \
		    --no-create-home --shell /usr/sbin/nologin \
		    --comment "AT Protocol PDS" "$USER_NAME"
	fi
	# pdsd gives its admin socket to the admin group: it must be in it
	id -nG "$USER_NAME" | tr ' ' '\n' | grep -qx "$ADMIN_GROUP" ||
	    usermod -a -G "$ADMIN_GROUP" "$USER_NAME"
	for u in $ADMINS; do
		getent passwd "$u" >/dev/null || die "--admin $u: no such user"
		say "adding $u to $ADMIN_GROUP"
		usermod -a -G "$ADMIN_GROUP" "$u"
	done
}

install_programs() {
	say "installing pdsd in $SBINDIR, pdsctl and pdstui in $BINDIR"
	put 755 "$B/bin/pdsd" "$D$SBINDIR/pdsd"
	put 755 "$B/bin/pdsctl" "$D$BINDIR/pdsctl"
	put 755 "$B/bin/pdstui" "$D$BINDIR/pdstui"
	for m in "$SRC"/man/*.1 "$SRC"/man/*.8; do
		[ -f "$m" ] || continue
		put 644 "$m" "$D$MANDIR/man${m##*.}/${m##*/}"
	done
}

# The data directory: reachable by the admin group (for the socket),
# everything in it the service user's.
make_data_dir() {
	if [ ! -d "$D$DATA" ]; then
		say "creating $DATA"
		mkdir -p "$D$DATA"
	fi
	own "$USER_NAME:$ADMIN_GROUP" 750 "$D$DATA"
	if [ ! -d "$D$DATA/blocks" ]; then
		mkdir "$D$DATA/blocks"
		own "$USER_NAME:$USER_NAME" 750 "$D$DATA/blocks"
	fi
}

make_env() {
	if [ -e "$D$ENVFILE" ]; then
		say "keeping $ENVFILE (its secrets and settings are not touched)"
		# the service must read it (a reference install left it 0600)
		if [ -z "$D" ] && [ "$(stat -c '%U:%G %a' "$ENVFILE")" != "root:$USER_NAME 640" ]; then
			say "making $ENVFILE root:$USER_NAME 640, readable by the service"
			own "root:$USER_NAME" 640 "$ENVFILE"
		fi
		return 0
	fi
	[ -n "$HOST" ] && [ -n "$EMAIL" ] ||
	    die "no $ENVFILE yet: give --hostname NAME and --email ADDR"
	say "writing $ENVFILE with fresh secrets"
	PDS_HOSTNAME=$HOST PDS_CONTACT_EMAIL_ADDRESS=$EMAIL \
	    PDS_DATA_DIRECTORY=$DATA PDS_ADMIN_SOCKET_GROUP=$ADMIN_GROUP \
	    PDS_ADMIN_GROUP=$ADMIN_GROUP \
	    "$D$SBINDIR/pdsd" -c "$D$ENVFILE" --init-config >/dev/null
	# the service reads it; only root changes it
	own "root:$USER_NAME" 640 "$D$ENVFILE"
}

# setting NAME: the effective value of NAME, as pdsd will see it
setting() {
	sed -n "s/^$1=\([^#]*\).*/\1/p" "$SETTINGS" | head -n 1
}

read_settings() {
	SETTINGS=$(mktemp)
	trap 'rm -f "$SETTINGS"' EXIT
	env -i "$D$SBINDIR/pdsd" -c "$D$ENVFILE" --check-config >"$SETTINGS" ||
	    die "$ENVFILE does not load (above); fix it and run me again"
	CUR_HOST=$(setting PDS_HOSTNAME)
	PORT=$(setting PDS_PORT)
	CONTACT=$(setting PDS_CONTACT_EMAIL_ADDRESS)
	BLOBS=$(setting PDS_BLOBSTORE_DISK_LOCATION)
	SOCKDIR=$(dirname "$(setting PDS_ADMIN_SOCKET)")
	[ -n "$HOST" ] && [ "$HOST" != "$CUR_HOST" ] &&
	    warn "--hostname $HOST ignored: $ENVFILE says $CUR_HOST"
	return 0
}

write_unit() {
	# what pdsd writes: the data, and the blobs and socket if elsewhere
	# ("-": a missing one is for pdsd to report, naming it)
	rw=$DATA
	for p in "$BLOBS" "$SOCKDIR"; do
		case $p in "$DATA"/*|"$DATA") ;; *) rw="$rw -$p" ;; esac
	done
	tmp=$(mktemp)
	cat >"$tmp" <<EOF
$MARK; re-running it rewrites this file.
# Local changes belong in: systemctl edit pdsd
[Unit]
Description=pds: AT Protocol Personal Data Server
Documentation=man:pdsd(8) man:pdsctl(8)
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
User=$USER_NAME
Group=$USER_NAME
SupplementaryGroups=$ADMIN_GROUP
ExecStart=$SBINDIR/pdsd -c $ENVFILE
WorkingDirectory=$DATA
Restart=on-failure
RestartSec=5s
TimeoutStopSec=30s
UMask=0027
LimitNOFILE=65536

# A capability-free user in a sandbox that may write $DATA only.
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$rw
ProtectHome=yes
PrivateTmp=yes
PrivateMounts=yes
PrivateDevices=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
KeyringMode=private
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallFilter=@chown
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
EOF
	if [ -f "$D$UNIT" ] && cmp -s "$tmp" "$D$UNIT"; then
		rm -f "$tmp"
		return 0
	fi
	say "installing $UNIT"
	put 644 "$tmp" "$D$UNIT"
	rm -f "$tmp"
}

# The Caddyfile: ours, or Debian's placeholder, is replaced; someone
# else's is left alone and ours goes beside it.
write_caddyfile() {
	cf=$D/etc/caddy/Caddyfile
	tmp=$(mktemp)
	acme=
	[ -n "$CONTACT" ] && acme="email $CONTACT"
	cat >"$tmp" <<EOF
$MARK; re-running it rewrites this file.
# TLS for $CUR_HOST and its handles (*.$CUR_HOST), certificates
# fetched when first asked for, only for names pdsd's /tls-check knows.
{
	$acme
	on_demand_tls {
		ask http://127.0.0.1:$PORT/tls-check
	}
}

$CUR_HOST, *.$CUR_HOST {
	tls {
		on_demand
	}
	reverse_proxy 127.0.0.1:$PORT
}
EOF
	if [ -f "$cf" ] && cmp -s "$tmp" "$cf"; then
		rm -f "$tmp"
		return 0
	fi
	if [ ! -f "$cf" ] || grep -qF "$MARK" "$cf" ||
	    grep -q '^# The Caddyfile is an easy way to configure' "$cf"; then
		say "installing /etc/caddy/Caddyfile"
		put 644 "$tmp" "$cf"
		CADDY_NEW=1
	else
		warn "/etc/caddy/Caddyfile is not ours: leaving it; see /etc/caddy/Caddyfile.pds"
		put 644 "$tmp" "$cf.pds"
	fi
	rm -f "$tmp"
}

start_services() {
	if [ "$START" -eq 0 ]; then
		return 0
	fi
	if [ ! -d /run/systemd/system ]; then
		warn "systemd is not running: start pdsd yourself (runuser -u $USER_NAME -- $SBINDIR/pdsd -c $ENVFILE)"
		return 0
	fi
	systemctl daemon-reload
	if systemctl is-active --quiet pdsd; then
		say "restarting pdsd"
		systemctl restart pdsd
	else
		say "starting pdsd"
		systemctl enable --now pdsd
	fi
	if [ "$CADDY" -eq 1 ]; then
		systemctl enable --quiet caddy
		systemctl reload-or-restart caddy
	fi
	if command -v ufw >/dev/null 2>&1 && ufw status | grep -q '^Status: active'; then
		say "opening ports 80 and 443 in ufw"
		ufw allow 80/tcp >/dev/null
		ufw allow 443/tcp >/dev/null
	fi
}

[ "$DEPS" -eq 1 ] && install_packages
[ -z "$D" ] && make_accounts
install_programs
make_data_dir
make_env
read_settings
write_unit
CADDY_NEW=0
[ "$CADDY" -eq 1 ] && write_caddyfile
start_services

cat <<EOF

pds is installed for $CUR_HOST.
  settings and secrets  $ENVFILE (root's; pdsd reads it; the admin password is in it)
  data                  $DATA (back up pds.sqlite with: pdsctl backup FILE)
  service               systemctl status pdsd; journalctl -u pdsd
  admin group           $ADMIN_GROUP (members run pdsctl and pdstui)

DNS records for this machine's public addresses:
  $CUR_HOST.      A/AAAA   <address>
  *.$CUR_HOST.    A/AAAA   <address>
Or, for handles on a domain whose apex is elsewhere, the TXT records
that \`pdsctl dns zone' prints.  Then: pdsctl account create alice.$CUR_HOST
EOF
