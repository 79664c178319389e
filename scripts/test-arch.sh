#!/bin/sh
# test-arch.sh DEBARCH [run.sh options]: cross-build nflua.ko and the iptables extensions for a
# router arch (arm64, armhf, mipsel; scripts/arch.sh) against Debian bookworm's kernel of that
# arch (KEY DEBARCH-6.1 in scripts/kernels.conf), and run the VM suite (test/vm/cases) on it in
# QEMU under TCG with a busybox initramfs of that arch. `make test-arch ARCH=arm64`.
#   NFLUA_ARCH_CASES=a,b   the cases to run when no --cases is given (default: all)
set -eu
arch=${1:?usage: test-arch.sh DEBARCH [run.sh options]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
key=$arch-6.1
# shellcheck source=scripts/arch.sh
. "$root/scripts/arch.sh"
nflua_arch "$arch" || { echo "test-arch: unknown arch '$arch' (arm64, armhf, mipsel)" >&2; exit 2; }
# shellcheck disable=SC2086 # a list of package names
"$root/scripts/host-deps.sh" $CROSS_PKGS >/dev/null
# The module's setjmp/longjmp, assembled into a user-space program and run under qemu-user
# (test/port/setjmp-test.sh: arm64's x18); counted with the VM's cases below.
mkdir -p "$root/build/vm/$key"
"$root/test/port/setjmp-test.sh" "$arch" >"$root/build/vm/$key/setjmp-test.out" 2>&1 || true
sed 's/^/setjmp-test: /' "$root/build/vm/$key/setjmp-test.out"
sj=$(tail -n 1 "$root/build/vm/$key/setjmp-test.out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
[ -n "$sj" ] || sj="0 1"
"$root/scripts/build-kmod.sh" "$key"
# The extensions link against that arch's libxtables, from the same sysroot as the guest's tools.
xt=$("$root/scripts/build-xt.sh" "$arch")
xtlib=/usr/lib/$TRIPLET/xtables
"$root/scripts/build-vm-tools.sh" "$root/build/vm-tools-$arch" "$CROSS_COMPILE"
set -- --file "$root/build/vm-tools-$arch:/test/tools" \
	--file "$xt/libxt_lua.so:$xtlib/libxt_lua.so" \
	--file "$xt/libxt_LUA.so:$xtlib/libxt_LUA.so" "$@"
case " $* " in *" --cases "*) ;; *) [ -z "${NFLUA_ARCH_CASES:-}" ] || set -- --cases "$NFLUA_ARCH_CASES" "$@" ;; esac
# The suite's cases plus the measurements for docs/platforms.md (test/vm/measure).
cases=$root/build/vm/$key/cases
rm -rf "$cases"
mkdir -p "$cases"
cp "$root"/test/vm/cases/*.sh "$root"/test/vm/measure/*.sh "$cases/"
# p95-policies replays inputs that scripts/test-kernel.sh prepares on the host (node, and an
# amd64 trafgen): not yet prepared for other arches
rm -f "$cases/p95-policies.sh"

"$root/test/vm/run.sh" "$key" --timeout 3600 --out "$root/build/vm/$key" --case-dir "$cases" \
	--ko "$root/build/kmod/$key/nflua.ko" \
	--file "$root/openwrt/utils/nfluactl/files/nfluactl:/usr/sbin/nfluactl" \
	--file "$root/libxt_lua:/libxt_lua" "$@" | tee "$root/build/vm/$key/run.out"
# run.sh's status through the pipe
rc=$(tail -n 1 "$root/build/vm/$key/run.out" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p')
ko=$root/build/kmod/$key/nflua.ko
# the guest's log is in run.sh's --out: ours, or the caller's when given (the last one counts)
res=$root/build/vm/$key prev=
for a in "$@"; do [ "$prev" != --out ] || res=$a; prev=$a; done
"${CROSS_COMPILE}strip" --strip-debug -o "$ko.stripped" "$ko"
m=$(sed -n 's/.*NFLUA-MEASURE //p' "$res/result.log" | tr -d '\r' | head -n 1)
echo "test-arch: $arch: nflua.ko $(stat -c %s "$ko.stripped") bytes stripped (--strip-debug)${m:+; $m}"
# the last line counts the VM's cases and the setjmp test together
vm=$(tail -n 1 "$root/build/vm/$key/run.out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
[ -n "$vm" ] || vm="0 1"
set -- $vm $sj
echo "$(($1 + $3)) passed, $(($2 + $4)) failed"
[ "${rc:-1}" = 0 ] && [ "$4" = 0 ]
