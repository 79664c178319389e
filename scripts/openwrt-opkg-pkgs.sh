#!/bin/bash
# openwrt-opkg-pkgs.sh OUT: what test/vm/openwrt/o50-opkg.sh needs, into OUT: OUT/opkg, opkg-lede
# built from the pinned source (linked against scripts/openwrt-runtime.sh's libubox; cached in
# build/openwrt-opkg/KEY), nfluactl and nflua-policies 0.1.0-r1 as 24.10's packaging made them
# (scripts/feed-test.sh 24.10, run here if its tree is missing), nfluactl 0.1.0-r2 (the same
# package with PKG_RELEASE=2) in OUT/upgrade, and metadata-only stand-ins for kmod-nflua,
# iptables-mod-nflua (they need OpenWrt's SDK) and libc, made by 24.10's scripts/ipkg-build.
set -eu
out=${1:?usage: openwrt-opkg-pkgs.sh OUT}
root=$(cd "$(dirname "$0")/.." && pwd)
src=${NFLUA_OPENWRT_SRC:-$root/../shared/openwrt-src}
n=opkg-lede-38eccbb1
[ -f "$src/$n.tar.gz" ] || { echo "openwrt-opkg-pkgs: $src/$n.tar.gz is missing; set NFLUA_OPENWRT_SRC (see ../shared/openwrt-src/README.md)" >&2; exit 1; }
rt=$("$root/scripts/openwrt-runtime.sh" | tail -n 1)
key=$( { sha256sum "$src/$n.tar.gz"; echo "$rt"; sed -n '/^# --- opkg/,/^# ---$/p' "$0"; } | sha256sum | cut -c1-16)
ob=$root/build/openwrt-opkg/$key
# --- opkg
if [ ! -f "$ob/.done" ]; then
	rm -rf "$ob" && mkdir -p "$ob/src"
	tar -xzf "$src/$n.tar.gz" -C "$ob/src" --strip-components=1
	pfx=$rt/usr
	# (usign, which checks signed package lists, is left out: the case installs local files)
	{ cmake -S "$ob/src" -B "$ob/build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_PREFIX_PATH="$pfx" \
		-DCMAKE_C_FLAGS="-I$pfx/include" -DBUILD_TESTS=OFF -DENABLE_USIGN=OFF -DVERSION=38eccbb1 \
		-DCMAKE_EXE_LINKER_FLAGS="-L$pfx/lib" -DCMAKE_INSTALL_RPATH=/usr/lib/openwrt \
		-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON &&
	  make -C "$ob/build" -j2; } >"$ob/build.log" 2>&1 ||
		{ tail -n 30 "$ob/build.log" >&2; echo "openwrt-opkg-pkgs: opkg build failed, see $ob/build.log" >&2; exit 1; }
	touch "$ob/.done"
fi
# ---
tree=$root/build/feed/24.10
if [ ! -d "$tree/package/feeds/nflua/nfluactl" ]; then
	"$root/scripts/feed-test.sh" 24.10 >"$root/build/feed-test-24.10.log" 2>&1 ||
		{ tail -n 20 "$root/build/feed-test-24.10.log" >&2; exit 1; }
fi
pkgs=$tree/bin/packages/x86_64/nflua
pack() {	# $1 - package, $2 - PKG_RELEASE: OpenWrt's packaging of this worktree's files
	make --no-print-directory -C "$tree/package/feeds/nflua/$1" TOPDIR="$tree" PKG_RELEASE="$2" \
		clean compile >"$out/build-$1-$2.log" 2>&1 || { cat "$out/build-$1-$2.log" >&2; exit 1; }
}
rm -rf "$out" && mkdir -p "$out/upgrade"
cp "$ob/build/src/opkg-cl" "$out/opkg"
pack nfluactl 2
mv "$pkgs"/nfluactl_0.1.0-r2_*.ipk "$out/upgrade/"
pack nfluactl 1
pack nflua-policies 1
cp "$pkgs"/nfluactl_0.1.0-r1_*.ipk "$pkgs"/nflua-policies_0.1.0-r1_*.ipk "$out/"
for p in kmod-nflua iptables-mod-nflua libc; do
	d=$(mktemp -d)
	mkdir "$d/CONTROL"
	printf 'Package: %s\nVersion: 0.1.0-r1\nArchitecture: all\nMaintainer: test\nDescription: test stand-in (scripts/openwrt-opkg-pkgs.sh)\n' \
		"$p" >"$d/CONTROL/control"
	"$tree/scripts/ipkg-build" "$d" "$out" >/dev/null
	rm -rf "$d"
done
