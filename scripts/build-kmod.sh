#!/bin/sh
# build-kmod.sh KEY: fetch test kernel KEY (scripts/kernels.conf) and build nflua.ko against its
# headers into build/kmod/KEY/nflua.ko. Extra arguments go to make (e.g. stack-usage).
# A KEY of another arch (arm64-6.1, ...) is cross-built with scripts/arch.sh's toolchain.
set -eu
key=${1:?usage: build-kmod.sh KEY [make args]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/fetch-kernel.sh" "$key" >/dev/null
DEBARCH=
# shellcheck source=/dev/null
. "$root/build/kernel/$key/env"
if [ -n "$DEBARCH" ]; then
	# shellcheck source=scripts/arch.sh
	. "$root/scripts/arch.sh"
	nflua_arch "$DEBARCH"
	set -- ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" "$@"
fi
# shellcheck disable=SC2086 # KMOD_MAKEFLAGS is a list of make arguments
make -s -C "$root/nflua-kmod" KDIR="$KDIR" BUILD="$root/build/kmod/$key" ${KMOD_MAKEFLAGS:-} "$@"
echo "build-kmod: $root/build/kmod/$key/nflua.ko (for $KVER)"
