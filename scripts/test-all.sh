#!/bin/bash
# test-all.sh KEY...: every test suite: the CLI's (mocha, real dropbear, SEA binaries), the
# OpenWrt feed on OpenWrt's buildroot (scripts/feed-test.sh) and its service on OpenWrt's procd
# in QEMU (scripts/test-openwrt-service.sh), the VM suite on each test kernel KEY, then the
# harness's own self-test. Runs everything even after a failure; the last line sums them all up.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/build"
passed=0 failed=0 bad=()
tally() {	# $1 - label, $2 - a run's log; a log without a summary line counts as a failure
	local line p f
	line=$(grep -sE '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		p=0 f=1
	else
		p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	fi
	passed=$((passed + p)) failed=$((failed + f))
	[ "$f" = 0 ] || bad+=("$1")
}
echo "=== nfluactl (TypeScript)"
rm -f "$root/build/test-cli.log"
"$root/scripts/test-cli.sh" 2>&1 | tee "$root/build/test-cli.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "nfluactl" "$root/build/test-cli.log"
echo "=== OpenWrt feed"
start=$(date +%s)
rm -f "$root/build/test-feed.log"
"$root/scripts/feed-test.sh" 2>&1 | tee "$root/build/test-feed.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "OpenWrt feed" "$root/build/test-feed.log"
echo "=== OpenWrt feed: $(($(date +%s) - start)) s"
echo "=== OpenWrt service (/etc/init.d/nflua on procd, kernel 6.1)"
start=$(date +%s)
rm -f "$root/build/test-openwrt-service.log"
"$root/scripts/test-openwrt-service.sh" 6.1 2>&1 | tee "$root/build/test-openwrt-service.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "OpenWrt service" "$root/build/test-openwrt-service.log"
echo "=== OpenWrt service: $(($(date +%s) - start)) s"
for key in "$@"; do
	echo "=== kernel $key"
	start=$(date +%s)
	rm -f "$root/build/test-$key.log"
	"$root/scripts/test-kernel.sh" "$key" 2>&1 | tee "$root/build/test-$key.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	tally "kernel $key" "$root/build/test-$key.log"
	echo "=== kernel $key: $(($(date +%s) - start)) s"
done
# One router arch per run, in turn (arm64, armhf, mipsel by the commit count; NFLUA_CI_ARCH picks
# one, "none" skips), with the kernel-core cases and two packet-path ones: a whole arch suite
# takes 15-20 minutes of TCG time, `make test-arch ARCH=...` runs it all.
arch=${NFLUA_CI_ARCH:-}
if [ -z "$arch" ]; then
	n=$(git -C "$root" rev-list --count HEAD 2>/dev/null || echo 0)
	set -- arm64 armhf mipsel
	shift $((n % 3))
	arch=$1
fi
if [ "$arch" != none ]; then
	echo "=== router arch $arch (this run's turn)"
	start=$(date +%s)
	rm -f "$root/build/test-arch-$arch.log"
	"$root/scripts/test-arch.sh" "$arch" \
		--cases 00-harness,10-lifecycle,20-errors,30-budget,40-memory,50-recursion,60-kernel-lua,65-int64,70-control-input,p00-net,p10-http-ua,p20-tls-sni \
		2>&1 | tee "$root/build/test-arch-$arch.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	tally "arch $arch" "$root/build/test-arch-$arch.log"
	echo "=== router arch $arch: $(($(date +%s) - start)) s"
fi
echo "=== harness self-test"
rm -f "$root/build/test-selftest.log"
"$root/test/vm/selftest.sh" 2>&1 | tee "$root/build/test-selftest.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "harness self-test" "$root/build/test-selftest.log"
[ ${#bad[@]} -eq 0 ] || echo "failed: ${bad[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
