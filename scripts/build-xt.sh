#!/bin/sh
# build-xt.sh [DEBARCH]: build the iptables extensions (libxt_lua.so, libxt_LUA.so) for DEBARCH
# (default amd64, with the host's libxtables; a router arch: scripts/arch.sh, cross-built
# against that arch's libxtables in its Debian sysroot, the same one the guest's tools come from:
# test/vm/fetch-rootfs.sh). Prints the build directory. In the guest, the .so files go into
# /usr/lib/TRIPLET/xtables (the XTLIBDIR they are built for).
set -eu
arch=${1:-amd64}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/arch.sh
. "$root/scripts/arch.sh"
nflua_arch "$arch" || { echo "build-xt: unknown arch '$arch' (see scripts/arch.sh)" >&2; exit 2; }
xtlib=/usr/lib/$TRIPLET/xtables
if [ "$arch" = amd64 ]; then
	out=$root/build/xt
	make -s -C "$root/libxt_lua" BUILD="$out" >&2
else
	out=$root/build/xt-$arch
	# shellcheck disable=SC2086 # a list of package names
	"$root/scripts/host-deps.sh" $CROSS_PKGS >/dev/null
	sys=$("$root/test/vm/fetch-rootfs.sh" "$arch")
	make -s -C "$root/libxt_lua" BUILD="$out" CC="${CROSS_COMPILE}gcc" \
		XTABLES_CFLAGS="-I$sys/usr/include" XTLIBDIR="$xtlib" \
		XTABLES_LIBS="-L$sys/usr/lib/$TRIPLET -Wl,-rpath-link,$sys/usr/lib/$TRIPLET:$sys/lib/$TRIPLET -lxtables" >&2
fi
echo "$out"
