#!/bin/sh
# setjmp-test.sh DEBARCH: build the module's setjmp/longjmp (nflua-kmod/port/setjmp-ARCH.S, the
# file itself) into the static user-space program setjmp-test.c with the arch's cross compiler
# and run it under qemu-user (test-arch.sh runs it before the VM suite). nflua_jmp_buf comes from
# the module's own header. arm64 only for now: the other arches' files include kernel-only
# assembler headers. Last line: "N passed, M failed".
set -eu
arch=${1:?usage: setjmp-test.sh DEBARCH}
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/arch.sh
. "$root/scripts/arch.sh"
nflua_arch "$arch" || { echo "setjmp-test: unknown arch '$arch'" >&2; exit 2; }
case $arch in
	arm64) flags="-ffixed-x18 -DCONFIG_ARM64" ;;	# -ffixed-x18: as on shadow-call-stack kernels
	*) echo "setjmp-test: no user-space build of setjmp-$KARCH.S yet"; echo "0 passed, 0 failed"; exit 0 ;;
esac
out=$root/build/port-test/$arch
mkdir -p "$out"
# the <setjmp.h> block of the module's libc header: the jmp_buf of each arch and the prototypes
sed -n '/^\/\* <setjmp.h>/,/^void nflua_longjmp/p' "$root/nflua-kmod/port/libc/nflua_libc.h" >"$out/nflua_libc_jmpbuf.h"
grep -q 'nflua_longjmp' "$out/nflua_libc_jmpbuf.h" || { echo "setjmp-test: no <setjmp.h> block in nflua_libc.h" >&2; exit 1; }
# shellcheck disable=SC2086 # flags is a list
"${CROSS_COMPILE}gcc" -static -O2 -Wall -Werror $flags -I"$out" -I"$root/test/port/include" \
	-o "$out/setjmp-test" "$root/test/port/setjmp-test.c" "$root/nflua-kmod/port/setjmp-$KARCH.S"
res=$("$QEMU_USER" "$out/setjmp-test") && rc=0 || rc=$?
printf '%s\n' "$res"
p=$(printf '%s\n' "$res" | grep -c '^ok' || true)
f=$(printf '%s\n' "$res" | grep -c '^FAIL' || true)
[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
echo "$p passed, $f failed"
[ "$f" = 0 ]
