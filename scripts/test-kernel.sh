#!/bin/sh
# test-kernel.sh KEY [run.sh options]: build nflua.ko for test kernel KEY and run the VM suite
# (test/vm/cases) on that kernel with it and the router-side nfluactl.
set -eu
key=${1:?usage: test-kernel.sh KEY [run.sh options]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build-kmod.sh" "$key"
make -s -C "$root/libxt_lua" BUILD="$root/build/xt"
xtlib=/usr/lib/x86_64-linux-gnu/xtables
exec "$root/test/vm/run.sh" "$key" --timeout 2400 --ko "$root/build/kmod/$key/nflua.ko" \
	--file "$root/openwrt/utils/nfluactl/files/nfluactl:/usr/sbin/nfluactl" \
	--file "$root/build/xt/libxt_lua.so:$xtlib/libxt_lua.so" \
	--file "$root/build/xt/libxt_LUA.so:$xtlib/libxt_LUA.so" \
	--file "$root/libxt_lua:/libxt_lua" "$@"
