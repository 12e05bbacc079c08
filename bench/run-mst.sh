#!/bin/sh
# Build and run the MST / repo benchmark (bench/mst_bench.c), then measure
# the peak memory of importing a 100,000-record repo CAR with repotool.
#
#   B=build bench/run-mst.sh [N]
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
N=${1:-100000}
PKGS="libsodium libsecp256k1 jansson libcrypto libmicrohttpd sqlite3 libcurl"
make -s B="$B" "$B/libcommon.a" "$B/tests/repotool"
mkdir -p "$B/bench"
# shellcheck disable=SC2046
${CC:-cc} -O2 -g -std=c11 -D_GNU_SOURCE -Ilibcommon \
    $(pkg-config --cflags $PKGS) -o "$B/bench/mst_bench" bench/mst_bench.c \
    "$B/libcommon.a" $(pkg-config --libs $PKGS) -lwslay -lpthread
"$B/bench/mst_bench" "$N"

car=$(mktemp)
trap 'rm -f "$car"' EXIT
key=9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c
didkey=did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme
"$B/tests/repotool" build --seed 1 --records "$N" --deletes 0 --key $key \
    --did did:plc:ewvi7nxzyoun6zhxrhs64oiz >"$car" 2>/dev/null
size=$(wc -c <"$car")
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "  repotool import of $N records ($size bytes): %e s, peak RSS %M kB" \
	    "$B/tests/repotool" import --pubkey $didkey <"$car" >/dev/null
else
	start=$(date +%s)
	"$B/tests/repotool" import --pubkey $didkey <"$car" >/dev/null
	echo "  repotool import of $N records ($size bytes): $(( $(date +%s) - start )) s"
fi
