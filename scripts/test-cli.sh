#!/bin/sh
# test-cli.sh: the TypeScript nfluactl's tests (test/cli/, mocha): core unit tests, commands
# in-process, the SSH transport against a real dropbear on 127.0.0.1, the single
# executables (x64 directly, arm64 under qemu-aarch64-static), and the router tests: both builds
# over SSH to nflua.ko in a QEMU VM on kernel 6.1 (test/cli/router.test.mjs, test/vm/router-vm.sh).
#
# Installs what it needs, idempotently: dropbear-bin, qemu-user-static and ansible-core (apt), the npm
# dependencies and the build (scripts/node-deps.sh), an arm64 libc for qemu (downloaded with a
# private apt state into $NFLUA_CACHE/arm64-sysroot; the system's dpkg architectures are not
# touched), python3 (one test helper). Ends with the line "N passed, M failed".
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${NFLUA_CACHE:-/var/cache/nflua}
mkdir -p "$cache" build

need=
command -v dropbear >/dev/null 2>&1 || need="$need dropbear-bin"
command -v qemu-aarch64-static >/dev/null 2>&1 || need="$need qemu-user-static"
# the receive-interrupt test's blocking stand-in device is a pty made by a small Python helper
command -v python3 >/dev/null 2>&1 || need="$need python3"
# the inventory parser is compared with Ansible's own (test/cli/inventory.test.mjs)
command -v ansible-inventory >/dev/null 2>&1 || need="$need ansible-core"
if [ -n "$need" ]; then
	echo "test-cli: apt-get install$need"
	apt-get update -qq
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

echo "test-cli: build"
scripts/node-deps.sh
scripts/build-sea.sh

# An arm64 libc, libstdc++ and libgcc for qemu-aarch64-static -L, from Debian's archive.
sysroot=$cache/arm64-sysroot
if [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
	echo "test-cli: arm64 libc for qemu"
	st=$cache/apt-arm64
	rm -rf "$st" "$sysroot.tmp"
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/debs" "$sysroot.tmp"
	: >"$st/status"
	set -- -o "Dir::State=$st" -o "Dir::State::status=$st/status" -o "Dir::Cache=$st/cache" \
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1 \
		-o APT::Sandbox::User=root
	apt-get "$@" -qq update
	(cd "$st/debs" && apt-get "$@" -qq download libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)
	for deb in "$st"/debs/*.deb; do
		dpkg-deb -x "$deb" "$sysroot.tmp"
	done
	rm -rf "$sysroot" "$st"
	mv "$sysroot.tmp" "$sysroot"
fi
export NFLUA_ARM64_ROOT="$sysroot"

# the router tests boot QEMU and send traffic with curl (the kernel harness's host packages)
scripts/host-deps.sh >/dev/null

echo "test-cli: mocha"
log=build/test-cli.log
status=0
# --exit: a child a failed test left behind must not keep mocha waiting forever; 20 s default
# timeout: a loaded machine starts node processes slowly
CI=true FORCE_COLOR=0 node_modules/.bin/mocha --exit --timeout 20000 --reporter spec 'test/cli/*.test.mjs' >"$log" 2>&1 || status=$?
cat "$log"
passed=$(sed -n 's/^ *\([0-9][0-9]*\) passing.*/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/^ *\([0-9][0-9]*\) failing.*/\1/p' "$log" | tail -n 1)
passed=${passed:-0}
failed=${failed:-0}
# mocha failing before its summary (a load error) still counts as a failure
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ]
