#!/bin/bash
# test-openwrt-service.sh [KEY]: /etc/init.d/nflua and `nfluactl apply` on OpenWrt's own runtime in
# the QEMU router (kernel KEY, default 6.1) with the real nflua.ko: test/vm/openwrt/o*.sh.
# A KEY of a router arch (arm64-6.1, armhf-6.1, mipsel-6.1: scripts/kernels.conf) runs the
# service and the apply transaction (o10-service, o20-apply; --cases picks others) on that
# arch: OpenWrt's runtime, nflua.ko and the extensions cross-built, the guest's tools from the
# arch's Debian sysroot. fw4, apk, opkg and the xt_LUA stand-in are the host arch's only.
# The guest's files come from scripts/openwrt-guest-files.sh: procd, ubusd, ubus, uci,
# validate_data, jshn, jsonfilter built from the pinned sources, OpenWrt's rc.common,
# functions.sh, procd.sh, uci.sh, jshn.sh, reload_config from the pinned main buildroot, and the
# nfluactl and nflua-policies packages made by OpenWrt's packaging in scripts/feed-test.sh,
# unpacked with apk. fw4 (o20-firewall): ucode and firewall4 from the pinned sources, Debian's nft;
# o35-boot boots with procd as PID 1 (before o40-apk and o50-opkg, which install the packages
# with apk and opkg in place of the harness's copies); o30-xt-conflict loads a stand-in
# for xtables-addons' xt_LUA.
# Extra arguments go to run.sh (e.g. --cases o20-apply). The last line is "N passed, M failed".
set -eu
key=${1:-6.1}
[ $# -eq 0 ] || shift
root=$(cd "$(dirname "$0")/.." && pwd)
case $key in
arm64-* | armhf-* | mipsel-*) arch=${key%%-*} ;;
*) arch=amd64 ;;
esac
files=()
tree=$root/build/feed/main
pkgs=$tree/bin/packages/x86_64/nflua
mkdir -p "$root/build"
if [ ! -d "$tree/package/feeds/nflua/nfluactl" ]; then
	"$root/scripts/feed-test.sh" main >"$root/build/feed-test-main.log" 2>&1 ||
		{ tail -n 20 "$root/build/feed-test-main.log"; echo "0 passed, 1 failed"; exit 1; }
fi
# the packages of this worktree's files, made again by OpenWrt's packaging
for p in nfluactl nflua-policies; do
	make --no-print-directory -C "$tree/package/feeds/nflua/$p" TOPDIR="$tree" clean compile >"$tree/build-$p.log" 2>&1 ||
		{ echo "packaging $p failed: $tree/build-$p.log"; echo "0 passed, 1 failed"; exit 1; }
done
apk=$(ls "$root"/build/feed/host/apk-*/apk | head -n 1)
x=$(mktemp -d "$root/build/openwrt-pkgs.XXXXXX")
trap 'rm -rf "$x"' EXIT
for p in nfluactl nflua-policies; do
	"$apk" extract --allow-untrusted --destination "$x" "$pkgs/$p-"[0-9]*.apk >/dev/null
done
mapfile -t files < <("$root/scripts/openwrt-guest-files.sh" --arch "$arch" --packaged "$x")
[ ${#files[@]} -gt 0 ] || { echo "openwrt-guest-files.sh failed"; echo "0 passed, 1 failed"; exit 1; }
files+=(--file "$root/test/vm/cases/p00-net.sh:/test/net.sh")
files+=(--file "$root/test/vm/openwrt-lib.sh:/test/openwrt.sh")
# bundles that `nfluactl apply` must refuse (o20-apply.sh)
hb=$root/build/openwrt-hostile-bundles
rm -rf "$hb" && mkdir -p "$hb" && python3 "$root/test/vm/openwrt/hostile-bundles.py" "$hb"
files+=(--file "$hb:/test/bundles")
add() { files+=(--file "$1:$2"); }
fw4mods=()
if [ "$arch" = amd64 ]; then
	rt=$("$root/scripts/openwrt-runtime.sh" | tail -n 1)
	# fw4: ucode (its modules come with /usr/lib/openwrt), firewall4's files, Debian's nft
	"$root/scripts/host-deps.sh" nftables >/dev/null
	add "$rt/usr/bin/ucode" /usr/bin/ucode
	add "$rt/usr/bin/ucode" /usr/bin/utpl	# (a link to ucode upstream: it reads its name)
	add "$rt/fw4/sbin/fw4" /usr/sbin/fw4
	add "$rt/fw4/etc/init.d/firewall" /etc/init.d/firewall
	add "$rt/fw4/usr/share/firewall4" /usr/share/firewall4
	add "$rt/fw4/usr/share/ucode/fw4.uc" /usr/share/ucode/fw4.uc
	add "$rt/fw4/etc/config/firewall" /usr/share/nflua-test/firewall.default
	add /usr/sbin/nft /usr/sbin/nft
	# the nft expressions of fw4's default ruleset that are not in the base image
	for m in nft_limit nft_log nft_masq nft_nat nft_redir nft_fib_inet nft_reject_ipv4 nft_reject_ipv6; do
		fw4mods+=(--mod "$m")
	done
	# o40-apk: apk-tools (as OpenWrt main builds it) and the packages it installs
	"$root/scripts/openwrt-apk-pkgs.sh" "$x.apk"
	trap 'rm -rf "$x" "$x.apk"' EXIT
	add "$apk" /usr/bin/apk
	add "$x.apk" /test/apk
	# o50-opkg: opkg-lede and 24.10's packages (opkg is in the directory, with its library in rt)
	"$root/scripts/openwrt-opkg-pkgs.sh" "$x.ipk"
	trap 'rm -rf "$x" "$x.apk" "$x.ipk"' EXIT
	add "$x.ipk" /test/ipk
	# o30-xt-conflict: a stand-in for xtables-addons' xt_LUA (test/vm/standin)
	add "$("$root/scripts/build-standin.sh" "$key")" /test/standin/xt_LUA_standin.ko
else
	case " $* " in *" --cases "*) ;; *) set -- --cases o10-service,o20-apply "$@" ;; esac
fi
# (paths under /usr: the image has a merged /usr, /bin, /sbin and /lib are links into it)
"$root/scripts/build-kmod.sh" "$key" >/dev/null
xt=$("$root/scripts/build-xt.sh" "$arch")
# shellcheck source=scripts/arch.sh
. "$root/scripts/arch.sh"
nflua_arch "$arch"
xtlib=/usr/lib/$TRIPLET/xtables
exec "$root/test/vm/run.sh" "$key" --timeout 2400 --ko "$root/build/kmod/$key/nflua.ko" \
	--file "$xt/libxt_lua.so:$xtlib/libxt_lua.so" \
	--file "$xt/libxt_LUA.so:$xtlib/libxt_LUA.so" \
	--case-dir "$root/test/vm/openwrt" --out "$root/build/vm/openwrt-$key" "${files[@]}" \
	${fw4mods[@]+"${fw4mods[@]}"} "$@"
