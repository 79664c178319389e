#!/bin/bash
# openwrt-apk-pkgs.sh OUT: the packages test/vm/openwrt/o40-apk.sh installs with apk in the
# QEMU router, into OUT: nfluactl and nflua-policies 0.1.0-r1 as OpenWrt's packaging made them
# (scripts/feed-test.sh main), nfluactl 0.1.0-r2 (the same package with PKG_RELEASE=2, for the
# upgrade), and metadata-only stand-ins for nfluactl's other dependencies: kmod-nflua and
# iptables-mod-nflua need OpenWrt's SDK (not reachable here; the guest has the module and the
# extensions of `make`), libc is the image's own.
set -eu
out=${1:?usage: openwrt-apk-pkgs.sh OUT}
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$root/build/feed/main
pkgs=$tree/bin/packages/x86_64/nflua
apk=$(ls "$root"/build/feed/host/apk-*/apk | head -n 1)
rm -rf "$out" && mkdir -p "$out/upgrade"
cp "$pkgs/nfluactl-0.1.0-r1.apk" "$pkgs/nflua-policies-0.1.0-r1.apk" "$out/"
make --no-print-directory -C "$tree/package/feeds/nflua/nfluactl" TOPDIR="$tree" PKG_RELEASE=2 \
	clean compile >"$out/build-r2.log" 2>&1 || { cat "$out/build-r2.log" >&2; exit 1; }
mv "$pkgs/nfluactl-0.1.0-r2.apk" "$out/upgrade/"
# (release 1 back where scripts/test-openwrt-service.sh takes it from)
make --no-print-directory -C "$tree/package/feeds/nflua/nfluactl" TOPDIR="$tree" clean compile \
	>"$out/build-r1.log" 2>&1 || { cat "$out/build-r1.log" >&2; exit 1; }
for p in kmod-nflua iptables-mod-nflua libc; do
	d=$(mktemp -d)
	"$apk" mkpkg --info "name:$p" --info "version:0.1.0-r1" --info "arch:noarch" \
		--info "description:test stand-in (scripts/openwrt-apk-pkgs.sh)" \
		--info "license:GPL-2.0-only" --files "$d" --output "$out/stand-in-$p.apk"
	rmdir "$d"
done
