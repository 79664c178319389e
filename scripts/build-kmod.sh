#!/bin/sh
# build-kmod.sh KEY: fetch test kernel KEY (scripts/kernels.conf) and build nflua.ko against its
# headers into build/kmod/KEY/nflua.ko. Extra arguments go to make (e.g. stack-usage).
set -eu
key=${1:?usage: build-kmod.sh KEY [make args]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/fetch-kernel.sh" "$key" >/dev/null
# shellcheck source=/dev/null
. "$root/build/kernel/$key/env"
make -s -C "$root/nflua-kmod" KDIR="$KDIR" BUILD="$root/build/kmod/$key" ${KMOD_MAKEFLAGS:-} "$@"
echo "build-kmod: $root/build/kmod/$key/nflua.ko (for $KVER)"
