#!/bin/sh
# build-standin.sh KEY: build test/vm/standin/xt_LUA_standin.ko (a test stand-in for
# xtables-addons' xt_LUA: an xt target LUA, revision 0, all families) against test kernel KEY's
# headers into build/standin/KEY/. Prints the module's path.
set -eu
key=${1:?usage: build-standin.sh KEY}
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/fetch-kernel.sh" "$key" >/dev/null
# shellcheck source=/dev/null
. "$root/build/kernel/$key/env"
out=$root/build/standin/$key
mkdir -p "$out"
cp "$root/test/vm/standin/Kbuild" "$root/test/vm/standin/xt_LUA_standin.c" "$out/"
make -s -C "$KDIR" M="$out" modules >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
# no warnings from our code (BTF is skipped without vmlinux: that line is kbuild's, not ours)
if grep -i 'warning' "$out/build.log" | grep -v 'Skipping BTF' >&2; then exit 1; fi
echo "$out/xt_LUA_standin.ko"
