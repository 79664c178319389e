#!/bin/bash
# build-vm-tools.sh OUTDIR [CROSS_COMPILE]: build every test/vm/tools/*.c as a static program
# for the guest (the guest has busybox, not a compiler) into OUTDIR; test-kernel.sh and
# test-arch.sh put OUTDIR into the image as /test/tools. A tool is rebuilt when its source is
# newer than its binary.
set -eu
out=${1:?usage: build-vm-tools.sh OUTDIR [CROSS_COMPILE]}
cc=${2:-}gcc
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
for src in "$root"/test/vm/tools/*.c; do
	[ -e "$src" ] || continue
	bin=$out/$(basename "$src" .c)
	[ "$bin" -nt "$src" ] && continue
	"$cc" -static -O2 -Wall -Wextra -Werror -I"$root/nflua-kmod/include/uapi" -o "$bin.tmp" "$src"
	mv "$bin.tmp" "$bin"
done
