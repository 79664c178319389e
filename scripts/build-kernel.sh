#!/bin/bash
# build-kernel.sh KEY: build a test kernel from Debian's kernel source package, for the keys of
# scripts/kernels.conf whose SUITE column is `build` (6.1-debug: KASAN, lockdep, kmemleak, ...;
# the options are in scripts/debug-kernel.config). scripts/fetch-kernel.sh calls it for such keys,
# so build-kmod.sh, test-kernel.sh, run.sh and mkinitramfs.sh use them like any other key.
#
# Line in kernels.conf:  KEY  CONFIG-FRAGMENT (in scripts/)  SOURCE-PACKAGE  build
# The source package (e.g. linux-source-6.1, bookworm) is installed with apt (host-deps.sh); the
# kernel is `make allnoconfig KCONFIG_ALLCONFIG=FRAGMENT`, and the build fails if any option of the
# fragment did not take effect. The build (image, modules tree, and the built source tree that is
# the KDIR for out-of-tree modules) is cached in ${NFLUA_CACHE:-/var/cache/nflua}/kernel-build/,
# keyed by the source package's version and a hash of the fragment (and LAYOUT below): it happens
# once per machine. Output, like fetch-kernel.sh's: build/kernel/KEY/{env,.stamp}.
# NFLUA_KBUILD_JOBS (default: the CPU count) sets make -j; the compile runs under nice -n 10.
set -eu

die() { echo "build-kernel: ERROR: $*" >&2; exit 1; }
note() { echo "build-kernel: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF=${NFLUA_KERNELS_CONF:-$ROOT/scripts/kernels.conf}
[ $# -eq 1 ] || die "usage: $0 KEY"
KEY=$1
line=$(awk -v k="$KEY" '!/^#/ && $1 == k {print; exit}' "$CONF")
[ -n "$line" ] || die "unknown kernel KEY '$KEY' (not in $CONF)"
# shellcheck disable=SC2086
set -- $line
FRAG=$ROOT/scripts/$2 SRCPKG=$3
[ "$4" = build ] || die "kernel $KEY is not built from source (SUITE column '$4')"
[ -f "$FRAG" ] || die "kernel $KEY: config fragment $FRAG missing"
# KASAN, lockdep and friends slow the guest down: run.sh scales the cases' time limits by this
TIMESCALE=3

# Build dependencies and the source itself (/usr/src/SRCPKG.tar.xz).
"$ROOT/scripts/host-deps.sh" "$SRCPKG" flex bison bc libelf-dev libssl-dev >/dev/null
TARBALL=/usr/src/$SRCPKG.tar.xz
[ -f "$TARBALL" ] || die "$TARBALL missing after installing $SRCPKG"
SRCVER=$(dpkg-query -W -f='${Version}' "$SRCPKG")

CACHE=${NFLUA_CACHE:-/var/cache/nflua}
mkdir -p "$CACHE/kernel-build" 2>/dev/null && [ -w "$CACHE" ] ||
    die "cache dir $CACHE is not writable (set NFLUA_CACHE to a writable directory)"
CACHE=$(cd "$CACHE" && pwd)
LAYOUT=1   # bump when the build or the cached layout changes
# the options only: comments do not change the kernel
HASH=$( { grep -E '^(CONFIG_|# CONFIG_.* is not set)' "$FRAG"; echo "layout=$LAYOUT"; } | sha256sum | cut -c1-12)
ID=$SRCPKG-$SRCVER-$HASH
DIR=$CACHE/kernel-build/$ID
OUT=$ROOT/build/kernel/$KEY
mkdir -p "$ROOT/build/kernel"

exec 9>"$CACHE/kernel-build/.lock-$SRCPKG"
flock 9

if [ ! -f "$DIR/.done" ]; then
    t0=$(date +%s)
    rm -rf "$DIR"
    mkdir -p "$DIR"
    note "building $SRCPKG $SRCVER with $(basename "$FRAG") into $DIR (once per machine)"
    tar -xJf "$TARBALL" -C "$DIR"
    src=$(find "$DIR" -mindepth 1 -maxdepth 1 -type d | head -n1)
    [ -f "$src/Makefile" ] || die "no kernel tree in $TARBALL"
    mv "$src" "$DIR/src"
    S=$DIR/src
    make -s -C "$S" KCONFIG_ALLCONFIG="$FRAG" allnoconfig >"$DIR/config.log" 2>&1 ||
        { cat "$DIR/config.log" >&2; die "allnoconfig failed"; }
    # every option of the fragment must have its value (a missing dependency silently drops one)
    bad=0
    while IFS= read -r l; do
        case $l in
            CONFIG_*=*) grep -qxF "$l" "$S/.config" || { note "option not taken: $l (got: $(grep -E "^(# )?${l%%=*}[= ]" "$S/.config" || echo absent))"; bad=1; } ;;
            "# CONFIG_"*" is not set") o=${l#\# }; o=${o%% *}; ! grep -q "^$o=" "$S/.config" || { note "option not off: $o"; bad=1; } ;;
        esac
    done <"$FRAG"
    [ $bad = 0 ] || die "the kernel config does not match $FRAG (dependencies missing?)"
    jobs=${NFLUA_KBUILD_JOBS:-$(nproc)}
    note "compiling (make -j$jobs under nice; log: $DIR/build.log)"
    nice -n 10 make -C "$S" -j"$jobs" bzImage modules >"$DIR/build.log" 2>&1 ||
        { tail -n 40 "$DIR/build.log" >&2; die "kernel build failed (log: $DIR/build.log)"; }
    KVER=$(make -s -C "$S" kernelrelease)
    make -s -C "$S" INSTALL_MOD_PATH="$DIR/modroot" modules_install >>"$DIR/build.log" 2>&1 ||
        die "modules_install failed (log: $DIR/build.log)"
    ln -sfn ../../../../src "$DIR/modroot/lib/modules/$KVER/build"
    rm -f "$DIR/modroot/lib/modules/$KVER/source"
    cp "$S/arch/x86/boot/bzImage" "$DIR/vmlinuz"
    cp "$S/.config" "$DIR/config"
    # the objects of the kernel itself are not needed for out-of-tree modules (KDIR keeps
    # .config, the headers, scripts/, tools/objtool and Module.symvers)
    find "$S" -name '*.o' ! -path "$S/scripts/*" ! -path "$S/tools/*" -delete
    rm -f "$S/vmlinux" "$S/vmlinux.a"
    [ -n "$KVER" ] || die "make kernelrelease printed nothing"
    printf '%s\n' "$KVER" >"$DIR/kver"
    touch "$DIR/.done"
    note "built $KVER in $(($(date +%s) - t0)) s"
fi
KVER=$(cat "$DIR/kver")

STAMP="build=$ID timescale=$TIMESCALE"
if [ ! -f "$OUT/.stamp" ] || [ "$(head -n1 "$OUT/.stamp")" != "$STAMP" ] ||
   [ "$(sed -n 2p "$OUT/.stamp")" != "root=$OUT" ]; then
    rm -rf "$OUT"
    mkdir -p "$OUT"
    ln -sfn "$DIR/src" "$OUT/kdir"
    cat >"$OUT/env" <<EOF
KDIR=$DIR/src
VMLINUZ=$DIR/vmlinuz
MODROOT=$DIR/modroot
KVER=$KVER
TIMESCALE=$TIMESCALE
EOF
    cp "$DIR/config" "$OUT/config"
    printf '%s\nroot=%s\nresolved=%s/%s\n' "$STAMP" "$OUT" "$SRCPKG" "$SRCVER" >"$OUT/.stamp"
fi
cat "$OUT/env"
