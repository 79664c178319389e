#!/bin/sh
# test-kernel.sh KEY [run.sh options]: build nflua.ko for test kernel KEY and run the VM suite
# (test/vm/cases) on that kernel with it and the router-side nfluactl. Every image also gets
# trafgen (netsniff-ng, which run.sh installs with the other host packages before it builds the
# image; mkinitramfs adds its libraries), policies/ as /policies and the inputs of
# p95-policies (test/vm/policies/prepare.mjs: replay captures and the simulator's results) as
# /test/policies-data; the bench (scripts/bench.sh) uses trafgen and /policies too.
set -eu
key=${1:?usage: test-kernel.sh KEY [run.sh options]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build-kmod.sh" "$key"
make -s -C "$root/libxt_lua" BUILD="$root/build/xt"
"$root/scripts/build-vm-tools.sh" "$root/build/vm-tools"
xtlib=/usr/lib/x86_64-linux-gnu/xtables
"$root/scripts/node-deps.sh"
# a directory per run: runs for several kernels may overlap
mkdir -p "$root/build"
pdata=$(mktemp -d "$root/build/policies-vm.XXXXXX")
trap 'rm -rf "$pdata"' EXIT
trap 'exit 1' HUP INT TERM
node "$root/test/vm/policies/prepare.mjs" "$pdata"
"$root/test/vm/run.sh" "$key" --timeout 2400 --ko "$root/build/kmod/$key/nflua.ko" \
	--file "$root/openwrt/utils/nfluactl/files/nfluactl:/usr/sbin/nfluactl" \
	--file "$root/build/xt/libxt_lua.so:$xtlib/libxt_lua.so" \
	--file "$root/build/xt/libxt_LUA.so:$xtlib/libxt_LUA.so" \
	--file "$root/libxt_lua:/libxt_lua" \
	--file /usr/sbin/trafgen:/usr/sbin/trafgen --file "$root/policies:/policies" \
	--file "$pdata:/test/policies-data" --file "$root/build/vm-tools:/test/tools" "$@"
