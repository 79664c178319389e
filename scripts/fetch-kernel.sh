#!/bin/bash
# fetch-kernel.sh KEY: download (cached) and unpack a Debian test kernel described in
# scripts/kernels.conf: image, modules, and headers usable as an out-of-tree KDIR.
#
# Output, under build/kernel/KEY/ (repo-relative):
#   vmlinuz                         the kernel image
#   modroot/lib/modules/KVER/       the image's modules tree (depmod'ed; 6.12's .ko.xz kept)
#   kdir -> usr/src/linux-headers-KVER   KDIR for `make -C KDIR M=DIR modules`
#   usr/src/..., usr/lib/linux-kbuild-*  the extracted headers, -common and kbuild packages
#   env                             KDIR=, VMLINUZ=, MODROOT=, KVER= (sourceable)
# Downloads go to ${NFLUA_CACHE:-/var/cache/nflua} (private apt state, .debs); the machine's apt
# sources are never touched. Idempotent: a second run is offline and instant.
set -eu

die() { echo "fetch-kernel: ERROR: $*" >&2; exit 1; }
note() { echo "fetch-kernel: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF=${NFLUA_KERNELS_CONF:-$ROOT/scripts/kernels.conf}
[ $# -eq 1 ] || die "usage: $0 KEY   (KEY is one of: $(awk '!/^#/ && NF {printf "%s ", $1}' "$CONF"))"
KEY=$1

line=$(awk -v k="$KEY" '!/^#/ && $1 == k {print; exit}' "$CONF")
[ -n "$line" ] || die "unknown kernel KEY '$KEY' (not in $CONF)"
# shellcheck disable=SC2086
set -- $line
PIN_ABI=$2 PIN_VER=$3 SUITE=$4 ARCH=${5:-amd64}
# A kernel built here from a Debian source package (the debug kernel): scripts/build-kernel.sh.
[ "$SUITE" != build ] || exec "$ROOT/scripts/build-kernel.sh" "$KEY"
# Other arches (column 5): image and headers of ARCH, the amd64 linux-kbuild (host tools) of the
# same version; the cross toolchain and QEMU come from scripts/arch.sh's table.
# shellcheck source=scripts/arch.sh
. "$ROOT/scripts/arch.sh"
nflua_arch "$ARCH" || die "kernel $KEY: unknown arch '$ARCH' (see scripts/arch.sh)"
FLAVOUR=${PIN_ABI##*[0-9]-}   # cloud-amd64, arm64, armmp, 4kc-malta: the metapackages' suffix

for t in apt-get apt-cache dpkg-deb depmod flock; do
    command -v "$t" >/dev/null || die "'$t' not found (run scripts/host-deps.sh)"
done

CACHE=${NFLUA_CACHE:-/var/cache/nflua}
mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ] ||
    die "cache dir $CACHE is not writable (set NFLUA_CACHE to a writable directory)"
CACHE=$(cd "$CACHE" && pwd)
APTD=$CACHE/apt/$KEY
DEBS=$CACHE/debs
OUT=$ROOT/build/kernel/$KEY
mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial" "$DEBS" "$ROOT/build/kernel"

# One fetch per KEY at a time (CI may run several kernels in parallel).
exec 9>"$CACHE/.lock-$KEY"
flock 9

print_env() {
    cat "$OUT/env"
    [ ! -s "$OUT/warning" ] || cat "$OUT/warning" >&2
}

STAMP="pin=$PIN_ABI/$PIN_VER suite=$SUITE layout=3"  # bump layout when the extraction changes
[ "$ARCH" = amd64 ] || STAMP="$STAMP arch=$ARCH"
if [ -f "$OUT/env" ] && [ -f "$OUT/.stamp" ] && [ "$(head -n1 "$OUT/.stamp")" = "$STAMP" ] &&
   [ "$(sed -n 2p "$OUT/.stamp")" = "root=$OUT" ]; then
    print_env
    exit 0
fi

# ---------------------------------------------------------------- private apt state
case $SUITE in
    *-security) URI=http://deb.debian.org/debian-security ;;
    *) URI=http://deb.debian.org/debian ;;
esac
ARCHS=amd64 KBQ=
[ "$ARCH" = amd64 ] || ARCHS=$ARCH,amd64 KBQ=:amd64
echo "deb [arch=$ARCHS] $URI $SUITE main" >"$APTD/sources.list"
APTO=(-o Dir::Etc::SourceList="$APTD/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$APTD/lists" -o Dir::Cache="$APTD/cache"
      -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root
      -o APT::Architecture="$ARCH" -o APT::Architectures::=amd64 -o Acquire::Retries=3)
[ "$ARCH" = amd64 ] || APTO+=(-o APT::Architectures::="$ARCH")
UPDATED=0
apt_update() {
    note "apt-get update ($SUITE, private state in $APTD)"
    apt-get "${APTO[@]}" -q update >"$APTD/update.log" 2>&1 ||
        { cat "$APTD/update.log" >&2; die "apt-get update failed for $SUITE"; }
    UPDATED=1
}
have_lists() { ls "$APTD"/lists/*_Packages* >/dev/null 2>&1; }
# apt_has PKG VER: is PKG=VER in the (private) index?
apt_has() { apt-cache "${APTO[@]}" show "$1=$2" >/dev/null 2>&1; }
apt_depends() { apt-cache "${APTO[@]}" show "$1=$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1; }
deb_name() { printf '%s_%s_%s.deb' "$1" "$(printf %s "$2" | sed 's/:/%3a/')" "$3"; }

# resolve ABI VER: sets PKGS (pkg=ver list) and FILES (.deb names), from the headers' Depends.
resolve() {
    local abi=$1 ver=$2 dep common kbuild
    dep=$(apt_depends "linux-headers-$abi" "$ver")
    [ -n "$dep" ] || return 1
    common=$(printf '%s\n' "$dep" | grep -o 'linux-headers-[^ ,(]*-common' | head -n1)
    kbuild=$(printf '%s\n' "$dep" | grep -o 'linux-kbuild-[^ ,(]*' | head -n1)
    [ -n "$common" ] && [ -n "$kbuild" ] || die "cannot parse Depends of linux-headers-$abi=$ver: $dep"
    apt_has "linux-image-$abi" "$ver" && apt_has "$common" "$ver" && apt_has "$kbuild$KBQ" "$ver" || return 1
    PKGS=("linux-image-$abi=$ver" "linux-headers-$abi=$ver" "$common=$ver" "$kbuild$KBQ=$ver")
    FILES=("$(deb_name "linux-image-$abi" "$ver" "$ARCH")" "$(deb_name "linux-headers-$abi" "$ver" "$ARCH")"
           "$(deb_name "$common" "$ver" all)" "$(deb_name "$kbuild" "$ver" amd64)")
}
download() {
    local missing=() i
    for i in 0 1 2 3; do [ -s "$DEBS/${FILES[$i]}" ] || missing+=("${PKGS[$i]}"); done
    [ ${#missing[@]} -gt 0 ] || return 0
    note "downloading ${missing[*]}"
    (cd "$DEBS" && apt-get "${APTO[@]}" -q download "${missing[@]}") >"$APTD/download.log" 2>&1 ||
        { cat "$APTD/download.log" >&2; return 1; }
    for i in 0 1 2 3; do [ -s "$DEBS/${FILES[$i]}" ] || { note "expected ${FILES[$i]} after download"; return 1; }; done
}

MANIFEST=$DEBS/$PIN_ABI=$PIN_VER.manifest
ABI='' VER='' WARN=''
if [ -f "$MANIFEST" ]; then
    # Already resolved (possibly to a fallback) and downloaded earlier: stay offline.
    read -r ABI VER WARN_FLAG <"$MANIFEST" || true
    mapfile -t FILES < <(tail -n +2 "$MANIFEST")
    for f in "${FILES[@]}"; do [ -s "$DEBS/$f" ] || { ABI=; break; }; done
    if [ -n "$ABI" ] && [ "${WARN_FLAG:-}" = fallback ]; then
        WARN="WARNING: kernel $KEY: pinned $PIN_ABI $PIN_VER is not downloadable from $SUITE; using $ABI $VER (the $SUITE metapackage's): update scripts/kernels.conf"
    fi
fi
if [ -z "$ABI" ]; then
    have_lists || apt_update
    ok=0
    if resolve "$PIN_ABI" "$PIN_VER" || { [ $UPDATED = 0 ] && apt_update && resolve "$PIN_ABI" "$PIN_VER"; }; then
        if download || { [ $UPDATED = 0 ] && apt_update && resolve "$PIN_ABI" "$PIN_VER" && download; }; then
            ok=1 ABI=$PIN_ABI VER=$PIN_VER
        fi
    fi
    if [ $ok = 0 ]; then
        # Fallback: what the suite's metapackages point at.
        [ $UPDATED = 1 ] || apt_update
        meta_img=$(apt-cache "${APTO[@]}" show "linux-image-$FLAVOUR" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
        meta_hdr=$(apt-cache "${APTO[@]}" show "linux-headers-$FLAVOUR" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
        ABI=$(printf '%s\n' "$meta_img" | sed -n "s/.*linux-image-\([^ ,(]*-$FLAVOUR\) (= \([^)]*\)).*/\1/p" | head -n1)
        VER=$(printf '%s\n' "$meta_img" | sed -n "s/.*linux-image-\([^ ,(]*-$FLAVOUR\) (= \([^)]*\)).*/\2/p" | head -n1)
        [ -n "$ABI" ] && [ -n "$VER" ] ||
            die "pinned $PIN_ABI $PIN_VER is not downloadable and linux-image-$FLAVOUR in $SUITE gives no fallback ($meta_img)"
        case $meta_hdr in *"linux-headers-$ABI (= $VER)"*) ;;
            *) die "linux-headers-$FLAVOUR in $SUITE ($meta_hdr) does not match the image's $ABI $VER" ;; esac
        resolve "$ABI" "$VER" || die "fallback $ABI $VER: packages missing from $SUITE's index"
        download || die "fallback $ABI $VER: download failed"
        WARN="WARNING: kernel $KEY: pinned $PIN_ABI $PIN_VER is not downloadable from $SUITE; using $ABI $VER (the $SUITE metapackage's): update scripts/kernels.conf"
    fi
    { echo "$ABI $VER $([ -n "$WARN" ] && echo fallback || echo pinned)"; printf '%s\n' "${FILES[@]}"; } >"$MANIFEST"
fi

# ---------------------------------------------------------------- extract and fix up
NEW=$OUT.new
rm -rf "$NEW"
mkdir -p "$NEW"
note "extracting $ABI $VER into $OUT"
for f in "${FILES[@]}"; do dpkg-deb -x "$DEBS/$f" "$NEW/x" || die "dpkg-deb -x $f failed"; done

# kernel image (malta's is an ELF vmlinux; QEMU loads either; the name stays vmlinuz)
img=$NEW/x/boot/vmlinuz-$ABI
[ -f "$img" ] || img=$NEW/x/boot/vmlinux-$ABI
[ -f "$img" ] || die "no /boot/vmlinuz-$ABI in linux-image-$ABI"
mv "$img" "$NEW/vmlinuz"
[ ! -f "$NEW/x/boot/config-$ABI" ] || mv "$NEW/x/boot/config-$ABI" "$NEW/config"

# modules tree (bookworm: /lib/modules, merged-/usr packages: /usr/lib/modules)
mkdir -p "$NEW/modroot/lib/modules"
if [ -d "$NEW/x/lib/modules/$ABI" ]; then mv "$NEW/x/lib/modules/$ABI" "$NEW/modroot/lib/modules/"
elif [ -d "$NEW/x/usr/lib/modules/$ABI" ]; then mv "$NEW/x/usr/lib/modules/$ABI" "$NEW/modroot/lib/modules/"
else die "no modules directory for $ABI in linux-image-$ABI"; fi
# its build/source symlinks point at /usr/src: repoint them at the extracted headers
for l in build source; do
    [ ! -L "$NEW/modroot/lib/modules/$ABI/$l" ] || ln -sfn "../../../../usr/src/linux-headers-$ABI" "$NEW/modroot/lib/modules/$ABI/$l"
done
depmod -b "$NEW/modroot" "$ABI" || die "depmod -b $NEW/modroot $ABI failed"
KVER=$ABI

# headers: keep usr/src and usr/lib/linux-kbuild-* with their layout (the arch headers' scripts
# and tools symlinks are ../../lib/linux-kbuild-*/...; repoint any absolute /usr link).
mkdir -p "$NEW/usr/lib"
mv "$NEW/x/usr/src" "$NEW/usr/src"
for d in "$NEW"/x/usr/lib/linux-kbuild-*; do mv "$d" "$NEW/usr/lib/"; done
H=$NEW/usr/src/linux-headers-$ABI
[ -f "$H/Makefile" ] || die "no linux-headers-$ABI/Makefile"
find "$NEW/usr/src" "$NEW/usr/lib" -maxdepth 2 -type l | while read -r l; do
    t=$(readlink "$l")
    case $t in /usr/*) ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$NEW$t")" "$l" ;; esac
done
# The arch Makefile does `include /usr/src/linux-headers-X-common/Makefile`: make it relative to
# its own (physical) location so the tree works wherever the checkout is.
sed -i 's|^include /usr/src/\(linux-headers-[^/]*\)/Makefile$|include $(dir $(realpath $(lastword $(MAKEFILE_LIST))))../\1/Makefile|' "$H/Makefile"
grep -q '^include /usr/src' "$H/Makefile" && die "could not rewrite the include in $H/Makefile"
for l in scripts tools; do
    [ -d "$H/$l/" ] || die "$H/$l does not resolve into the extracted kbuild tree"
done
# Compiler: .kernelvariables names the kernel's gcc-N. bullseye's 5.10 wants gcc-10, which
# bookworm does not have: use the host's gcc (gcc-12) instead; vermagic does not record the
# compiler, and the Debian 5.10 Makefile has no compiler-version check that stops the build.
CCNOTE=
kcc=$(sed -n 's/^CC = .*\$(CROSS_COMPILE)\(gcc-[0-9]*\).*/\1/p' "$H/.kernelvariables" | head -n1)
if [ -n "$kcc" ] && [ -z "$CROSS_COMPILE" ] && ! command -v "$kcc" >/dev/null && ! command -v "x86_64-linux-gnu-$kcc" >/dev/null; then
    sed -i "s/\$(CROSS_COMPILE)$kcc\b/\$(CROSS_COMPILE)gcc/" "$H/.kernelvariables"
    CCNOTE="note: kernel $KEY was built with $kcc, not on this host; its KDIR is patched to use gcc ($(gcc -dumpversion 2>/dev/null || echo '?')); CC=gcc-12 works too"
fi
ln -sfn "usr/src/linux-headers-$ABI" "$NEW/kdir"
rm -rf "$NEW/x"

cat >"$NEW/env" <<EOF
KDIR=$OUT/kdir
VMLINUZ=$OUT/vmlinuz
MODROOT=$OUT/modroot
KVER=$KVER
EOF
[ "$ARCH" = amd64 ] || echo "DEBARCH=$ARCH" >>"$NEW/env"
if [ -n "$WARN" ]; then echo "$WARN" >"$NEW/warning"; fi
if [ -n "$CCNOTE" ]; then echo "# $CCNOTE" >>"$NEW/env"; echo "fetch-kernel: $CCNOTE" >&2; fi
printf '%s\nroot=%s\nresolved=%s/%s\n' "$STAMP" "$OUT" "$ABI" "$VER" >"$NEW/.stamp"

rm -rf "$OUT"
mv "$NEW" "$OUT"
# env holds absolute paths of the final location (written before the move, same paths).
print_env
