#!/bin/bash
# test-openwrt-service.sh [KEY]: /etc/init.d/nflua and `nfluactl apply` on OpenWrt's own runtime in
# the QEMU router (kernel KEY, default 6.1) with the real nflua.ko: test/vm/openwrt/o*.sh.
# The guest's files come from scripts/openwrt-guest-files.sh: procd, ubusd, ubus, uci,
# validate_data, jshn, jsonfilter built from the pinned sources, OpenWrt's rc.common,
# functions.sh, procd.sh, uci.sh, jshn.sh, reload_config from the pinned main buildroot, and the
# nfluactl and nflua-policies packages made by OpenWrt's packaging in scripts/feed-test.sh,
# unpacked with apk. NFLUA_GUEST_FILES=source takes nflua's files straight from the source tree
# instead (the same files, without the packaging step: see openwrt-guest-files.sh).
# Extra arguments go to run.sh (e.g. --cases o20-apply). The last line is "N passed, M failed".
set -eu
key=${1:-6.1}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
files=()
if [ "${NFLUA_GUEST_FILES:-packaged}" = source ]; then
	mapfile -t files < <("$root/scripts/openwrt-guest-files.sh")
else
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
	x=$(mktemp -d "$root/build/openwrt-pkgs.XXXXXX")
	trap 'rm -rf "$x"' EXIT
	for p in nfluactl nflua-policies; do
		"$apk" extract --allow-untrusted --destination "$x" "$pkgs/$p-"[0-9]*.apk >/dev/null
	done
	mapfile -t files < <("$root/scripts/openwrt-guest-files.sh" --packaged "$x")
fi
[ ${#files[@]} -gt 0 ] || { echo "openwrt-guest-files.sh failed"; echo "0 passed, 1 failed"; exit 1; }
files+=(--file "$root/test/vm/cases/p00-net.sh:/test/net.sh")
# bundles that `nfluactl apply` must refuse (o20-apply.sh)
hb=$root/build/openwrt-hostile-bundles
rm -rf "$hb" && mkdir -p "$hb" && python3 "$root/test/vm/openwrt/hostile-bundles.py" "$hb"
files+=(--file "$hb:/test/bundles")
# (paths under /usr: the image has a merged /usr, /bin, /sbin and /lib are links into it)
"$root/scripts/build-kmod.sh" "$key" >/dev/null
make -s -C "$root/libxt_lua" BUILD="$root/build/xt"
xtlib=/usr/lib/x86_64-linux-gnu/xtables
exec "$root/test/vm/run.sh" "$key" --timeout 2400 --ko "$root/build/kmod/$key/nflua.ko" \
	--file "$root/build/xt/libxt_lua.so:$xtlib/libxt_lua.so" \
	--file "$root/build/xt/libxt_LUA.so:$xtlib/libxt_LUA.so" \
	--case-dir "$root/test/vm/openwrt" --out "$root/build/vm/openwrt-$key" "${files[@]}" "$@"
