#!/bin/bash
# openwrt-guest-files.sh [--arch DEBARCH] [--packaged ROOT]: prints the test/vm/run.sh arguments, one per line
# ("--file" then "SRC:DST", alternately), that put OpenWrt's runtime and nflua's router-side
# files into a QEMU test guest. Used by scripts/test-openwrt-service.sh and by the CLI's router
# VM (test/cli/helpers/router-vm.mjs), so both run the same files. Read it with
# `mapfile -t args < <(scripts/openwrt-guest-files.sh)` (bash) or split the output on newlines.
#
# OpenWrt's runtime: procd, ubusd, ubus, uci, validate_data, jshn, jsonfilter built from the
# pinned sources (scripts/openwrt-runtime.sh, libraries in /usr/lib/openwrt), and rc.common,
# functions.sh, functions/*.sh, procd.sh, reload_config and uci.sh taken from the pinned main
# buildroot tarball (the files base-files, procd and uci install; extracted once into
# build/openwrt-guest/). Paths are under /usr: the image has a merged /usr.
#
# nflua's files: by default straight from openwrt/utils/nfluactl/files and policies/, installed
# with the paths and modes of the packages' install sections (openwrt/utils/nfluactl/Makefile and
# openwrt/utils/nflua-policies/Makefile: INSTALL_BIN 0755, INSTALL_DATA/INSTALL_CONF 0644). That
# is the same thing the packages install: their install sections copy these files unchanged,
# so no OpenWrt packaging step (scripts/feed-test.sh, minutes on a cold cache) is needed.
# --packaged ROOT takes them instead from ROOT, a tree where the built packages were unpacked
# (apk extract), which is how test-openwrt-service.sh proves the packages themselves.
# --arch DEBARCH: OpenWrt's runtime and flock for a router arch's guest (default amd64).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
src=${NFLUA_OPENWRT_SRC:-$root/../shared/openwrt-src}
packaged='' arch=amd64
while [ $# -gt 0 ]; do
	case $1 in
	--packaged) packaged=${2:?--packaged needs a directory}; shift 2 ;;
	--arch) arch=${2:?--arch needs a Debian arch}; shift 2 ;;
	*) echo "usage: openwrt-guest-files.sh [--arch DEBARCH] [--packaged ROOT]" >&2; exit 2 ;;
	esac
done

rt=$("$root/scripts/openwrt-runtime.sh" "$arch" | tail -n 1)
flock=/usr/bin/flock
[ "$arch" = amd64 ] || flock=$("$root/test/vm/fetch-rootfs.sh" "$arch")/usr/bin/flock
out=$root/build/openwrt-guest
tarball=$src/openwrt-b67652969b.tar.gz
tarball24=$src/openwrt-24.10-c52514bc39.tar.gz
for t in "$tarball" "$tarball24"; do
	[ -f "$t" ] || { echo "openwrt-guest-files: $t is missing (see scripts/feed-test.sh)" >&2; exit 1; }
done
key=$( { sha256sum "$tarball" "$tarball24"; cat "$0"; } | sha256sum | cut -c1-16)
base=$out/base-$key
if [ ! -f "$base/.done" ]; then
	rm -rf "$out"/base-* && mkdir -p "$base"
	top=${tarball##*/}
	top=${top%.tar.gz}
	tar -xzf "$tarball" -C "$base" --strip-components=2 \
		"$top/package/base-files/files/etc/rc.common" \
		"$top/package/base-files/files/lib/functions.sh" \
		"$top/package/base-files/files/lib/functions" \
		"$top/package/system/procd/files/procd.sh" \
		"$top/package/system/procd/files/reload_config" \
		"$top/package/system/uci/files/lib/config/uci.sh" \
		"$top/package/base-files/files/etc/inittab" \
		"$top/package/system/procd/files/hotplug.json"
	# (procd's package installs reload_config with INSTALL_BIN; the source file is 0644)
	chmod 0755 "$base/system/procd/files/reload_config"
	# 24.10's rc.common, functions.sh and procd.sh, for the opkg case (o50-opkg)
	top=${tarball24##*/}
	top=${top%.tar.gz}
	mkdir -p "$base/24.10"
	tar -xzf "$tarball24" -C "$base/24.10" --strip-components=2 \
		"$top/package/base-files/files/etc/rc.common" \
		"$top/package/base-files/files/lib/functions.sh" \
		"$top/package/system/procd/files/procd.sh"
	touch "$base/.done"
fi

f() { printf -- '--file\n%s:%s\n' "$1" "$2"; }

# OpenWrt's runtime
f "$rt/usr/lib" /usr/lib/openwrt
f "$rt/usr/sbin/procd" /usr/sbin/procd
f "$rt/usr/sbin/ubusd" /usr/sbin/ubusd
f "$rt/usr/bin/ubus" /usr/bin/ubus
f "$rt/usr/bin/uci" /usr/sbin/uci
f "$rt/usr/sbin/validate_data" /usr/sbin/validate_data
f "$rt/usr/bin/jshn" /usr/bin/jshn
f "$rt/usr/bin/jsonpath" /usr/bin/jsonfilter
f "$rt/usr/share/libubox/jshn.sh" /usr/share/libubox/jshn.sh
# procd.sh and nflua-functions.sh lock with flock (a busybox applet on OpenWrt, not in Debian's
# busybox-static)
f "$flock" /usr/bin/flock
f "$base/base-files/files/etc/rc.common" /etc/rc.common
f "$base/base-files/files/lib/functions.sh" /usr/lib/functions.sh
for x in "$base"/base-files/files/lib/functions/*.sh; do f "$x" "/usr/lib/functions/${x##*/}"; done
f "$base/system/procd/files/procd.sh" /usr/lib/functions/procd.sh
f "$base/system/procd/files/reload_config" /usr/sbin/reload_config
f "$base/system/uci/files/lib/config/uci.sh" /usr/lib/config/uci.sh
# procd as PID 1 (o35-boot): base-files' inittab and procd's hotplug rules, which the case puts
# in /etc, and udevtrigger, which procd runs for the coldplug
f "$base/base-files/files/etc/inittab" /usr/share/nflua-test/inittab
f "$base/system/procd/files/hotplug.json" /usr/share/nflua-test/hotplug.json
f "$rt/usr/sbin/udevtrigger" /usr/sbin/udevtrigger
# OpenWrt 24.10's versions of rc.common, functions.sh and procd.sh (o50-opkg runs on them)
f "$base/24.10/base-files/files/etc/rc.common" /usr/share/nflua-test/24.10/rc.common
f "$base/24.10/base-files/files/lib/functions.sh" /usr/share/nflua-test/24.10/functions.sh
f "$base/24.10/system/procd/files/procd.sh" /usr/share/nflua-test/24.10/procd.sh

# nflua's router-side files
if [ -n "$packaged" ]; then
	(cd "$packaged" && find . -type f ! -path './lib/apk/*' | sed 's/^\.//' | sort) | while read -r x; do
		case $x in /bin/* | /sbin/* | /lib/*) g=/usr$x ;; *) g=$x ;; esac
		f "$packaged$x" "$g"
	done
	exit 0
fi
ours=$out/ours
rm -rf "$ours" && mkdir -p "$ours"
files=$root/openwrt/utils/nfluactl/files
# Package/nfluactl/install
install -D -m 0755 "$files/nfluactl" "$ours/usr/sbin/nfluactl"
install -D -m 0755 "$files/nflua.init" "$ours/etc/init.d/nflua"
install -D -m 0644 "$files/nflua.config" "$ours/etc/config/nflua"
install -D -m 0755 "$files/nflua.uci-defaults" "$ours/etc/uci-defaults/95-nflua"
install -D -m 0644 "$files/nflua-functions.sh" "$ours/usr/lib/nflua/nflua-functions.sh"
install -D -m 0755 "$files/nflua.fw4" "$ours/usr/lib/nflua/firewall.include"
# Package/nflua-policies/install
for n in $(sed -n 's/^NFLUA_POLICY_NAMES:=//p' "$root/openwrt/utils/nflua-policies/Makefile"); do
	install -D -m 0644 "$root/policies/$n.lua" "$ours/usr/share/nflua/policies/$n.lua"
	install -D -m 0644 "$root/policies/$n.conf.lua" "$ours/etc/nflua/policies/$n.conf.lua"
done
(cd "$ours" && find . -type f | sed 's/^\.//' | sort) | while read -r x; do
	f "$ours$x" "$x"
done
