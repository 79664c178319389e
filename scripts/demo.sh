#!/bin/sh
# demo.sh: the product's main job in one command (make demo). A QEMU router boots (Debian 6.1
# kernel, nflua.ko, dropbear, busybox httpd) with a few routers behind it; this host's nfluactl
# applies the User-Agent policy to them over SSH; a browser's request is served and curl's is
# blocked by Lua in the router's kernel
# (scripts/demo.mjs, which checks every step). Installs what it needs: host packages, the
# kernel, Lua's source, the npm dependencies and the CLI build.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/host-deps.sh" >/dev/null
command -v dropbear >/dev/null 2>&1 && command -v dropbearkey >/dev/null 2>&1 || {
	echo "demo: apt-get install dropbear-bin"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dropbear-bin >/dev/null
}
"$root/scripts/node-deps.sh"
# the VM boots from this build; building first keeps its output out of the demo's
"$root/scripts/build-kmod.sh" "${NFLUA_DEMO_KERNEL:-6.1}" >/dev/null
make -s -C "$root/libxt_lua" BUILD="$root/build/xt"
# OpenWrt's runtime and the router-side nfluactl for the guest (built once)
"$root/scripts/openwrt-guest-files.sh" >/dev/null
exec node "$root/scripts/demo.mjs"
