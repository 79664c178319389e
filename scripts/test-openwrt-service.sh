#!/bin/bash
# test-openwrt-service.sh [KEY]: /etc/init.d/nflua on OpenWrt's own runtime in the QEMU router
# (kernel KEY, default 6.1) with the real nflua.ko: test/vm/openwrt/o10-service.sh.
# The guest gets procd, ubusd, ubus, uci, validate_data, jshn, jsonfilter built from the pinned
# sources (scripts/openwrt-runtime.sh, into /usr/lib/openwrt and the usual paths), OpenWrt's
# rc.common, functions.sh, procd.sh, uci.sh, jshn.sh, reload_config from the pinned main
# buildroot, and the nfluactl and nflua-policies packages made by OpenWrt's packaging in
# scripts/feed-test.sh, unpacked with apk. The last line is "N passed, M failed".
# fw4 (test/vm/openwrt/o20-firewall.sh): ucode and firewall4 from the pinned sources, Debian's nft.
# Arguments after KEY go to test/vm/run.sh (e.g. --cases o20-firewall).
set -eu
key=${1:-6.1}
[ $# -eq 0 ] || shift
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$root/build/feed/main
pkgs=$tree/bin/packages/x86_64/nflua
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
rt=$("$root/scripts/openwrt-runtime.sh" | tail -n 1)
x=$(mktemp -d "$root/build/openwrt-pkgs.XXXXXX")
trap 'rm -rf "$x"' EXIT
for p in nfluactl nflua-policies; do
	"$apk" extract --allow-untrusted --destination "$x" "$pkgs/$p-"[0-9]*.apk >/dev/null
done
files=()
add() { files+=(--file "$1:$2"); }
# our packages' files (the image has a merged /usr: /bin, /sbin, /lib are links into /usr)
while read -r f; do
	case $f in /bin/*|/sbin/*|/lib/*) g=/usr$f ;; *) g=$f ;; esac
	add "$x$f" "$g"
done < <(cd "$x" && find . -type f ! -path './lib/apk/*' | sed 's/^\.//')
# OpenWrt's runtime
add "$rt/usr/lib" /usr/lib/openwrt
add "$rt/usr/sbin/procd" /usr/sbin/procd
add "$rt/usr/sbin/ubusd" /usr/sbin/ubusd
add "$rt/usr/bin/ubus" /usr/bin/ubus
add "$rt/usr/bin/uci" /usr/sbin/uci
add "$rt/usr/sbin/validate_data" /usr/sbin/validate_data
add "$rt/usr/bin/jshn" /usr/bin/jshn
add "$rt/usr/bin/jsonpath" /usr/bin/jsonfilter
add "$rt/usr/share/libubox/jshn.sh" /usr/share/libubox/jshn.sh
# procd.sh locks with flock (a busybox applet on OpenWrt, not in Debian's busybox-static)
add /usr/bin/flock /usr/bin/flock
# (Debian's libraries they need, json-c and libbsd, come with each ELF file: mkinitramfs)
bf=$tree/package/base-files/files
add "$bf/etc/rc.common" /etc/rc.common
add "$bf/lib/functions.sh" /usr/lib/functions.sh
for f in "$bf"/lib/functions/*.sh; do add "$f" "/usr/lib/functions/${f##*/}"; done
add "$tree/package/system/procd/files/procd.sh" /usr/lib/functions/procd.sh
# (procd's package installs reload_config with INSTALL_BIN; the source file is 0644)
install -m 0755 "$tree/package/system/procd/files/reload_config" "$x/reload_config"
add "$x/reload_config" /usr/sbin/reload_config
add "$tree/package/system/uci/files/lib/config/uci.sh" /usr/lib/config/uci.sh
add "$root/test/vm/cases/p00-net.sh" /test/net.sh
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
fw4mods=()	# the nft expressions of fw4's default ruleset that are not in the base image
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
# (paths under /usr: the image has a merged /usr, /bin, /sbin and /lib are links into it)
"$root/scripts/build-kmod.sh" "$key" >/dev/null
make -s -C "$root/libxt_lua" BUILD="$root/build/xt"
xtlib=/usr/lib/x86_64-linux-gnu/xtables
exec "$root/test/vm/run.sh" "$key" --timeout 1800 --ko "$root/build/kmod/$key/nflua.ko" \
	--file "$root/build/xt/libxt_lua.so:$xtlib/libxt_lua.so" \
	--file "$root/build/xt/libxt_LUA.so:$xtlib/libxt_LUA.so" \
	--case-dir "$root/test/vm/openwrt" --out "$root/build/vm/openwrt-$key" "${files[@]}" \
	"${fw4mods[@]}" "$@"
