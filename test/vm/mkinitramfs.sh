#!/bin/bash
# mkinitramfs.sh KEY OUT.cpio.gz [--ko FILE]... [--file SRC:DEST]... [--mod NAME]... [--case-dir DIR]
#
# Builds the test initramfs for kernel KEY (scripts/kernels.conf) as three concatenated gzip'd
# cpio archives (the kernel unpacks them in order):
#   1. base   host tools: busybox-static (+ applet links), iptables (legacy and nft, with the
#             xtables extensions), iproute2 (ip, tc, ss, bridge), util-linux (setpriv, unshare,
#             nsenter), capsh, kmod, curl, openssl (+ openssl.cnf), ethtool, and their shared
#             libraries. Cached by the tools' identity.
#   2. modules  the stock modules for netns/veth/iptables (closure by modprobe --show-depends,
#             decompressed: busybox cannot load .ko.xz) + each --ko under extra/ + depmod.
#             Decompressed stock modules are cached per kernel.
#   3. guest  /init, /test/lib.sh, /test/cases/*.sh, --file items, /dev/console.
# --mod NAME adds a stock module (and its dependencies); NFLUA_VM_MODULES="a b" does too.
set -eu

die() { echo "mkinitramfs: ERROR: $*" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

[ $# -ge 2 ] || die "usage: $0 KEY OUT.cpio.gz [--ko FILE]... [--file SRC:DEST]... [--mod NAME]... [--case-dir DIR]"
KEY=$1 OUTF=$2
shift 2
KOS=() XFILES=() XMODS=() CASEDIR=$HERE/cases
while [ $# -gt 0 ]; do
    case $1 in
        --ko) [ $# -ge 2 ] || die "--ko needs a file"; [ -f "$2" ] || die "--ko $2: no such file"; KOS+=("$(realpath "$2")"); shift 2 ;;
        --file) [ $# -ge 2 ] || die "--file needs SRC:DEST"; XFILES+=("$2"); shift 2 ;;
        --mod) [ $# -ge 2 ] || die "--mod needs a module name"; XMODS+=("$2"); shift 2 ;;
        --case-dir) [ $# -ge 2 ] || die "--case-dir needs a directory"; CASEDIR=$2; shift 2 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
[ -d "$CASEDIR" ] || die "case dir $CASEDIR does not exist"
for t in cpio gzip ldd depmod modprobe modinfo xz zstd busybox; do
    command -v "$t" >/dev/null || die "'$t' not found (run scripts/host-deps.sh)"
done

# Kernel (fetched and cached by fetch-kernel.sh; instant when already there).
ENVF=$ROOT/build/kernel/$KEY/env
"$ROOT/scripts/fetch-kernel.sh" "$KEY" >/dev/null
DEBARCH=
# shellcheck disable=SC1090
. "$ENVF"
MODDIR=$MODROOT/lib/modules/$KVER
# A kernel of another arch (DEBARCH in its env): the guest's tools come from Debian's packages of
# that arch, unpacked by fetch-rootfs.sh into the sysroot SYS, instead of from this host.
SYS='' QEMU_USER='' GUEST_MODULES='' TRIPLET=x86_64-linux-gnu
if [ -n "$DEBARCH" ]; then
    # shellcheck source=scripts/arch.sh
    . "$ROOT/scripts/arch.sh"
    nflua_arch "$DEBARCH" || die "kernel $KEY: unknown arch $DEBARCH"
    SYS=$("$HERE/fetch-rootfs.sh" "$DEBARCH")
    command -v "$QEMU_USER" >/dev/null || die "'$QEMU_USER' not found (scripts/test-arch.sh installs it)"
fi

# Stock modules for netns + veth + iptables legacy and nft. REQUIRED must exist (module or
# built-in); OPTIONAL are added when the kernel has them (virtio_pci, virtio_net: the NIC that
# run.sh --hostfwd gives the router tests).
REQUIRED="x_tables ip_tables ip6_tables iptable_filter ip6table_filter nf_tables nft_compat
 nf_conntrack veth xt_tcpudp xt_comment xt_multiport $GUEST_MODULES"
OPTIONAL="iptable_mangle ip6table_mangle iptable_raw ip6table_raw iptable_nat ip6table_nat
 xt_mark xt_connmark xt_CT xt_conntrack xt_state xt_string xt_u32 xt_length xt_limit
 nft_ct nft_counter nft_chain_nat nf_nat nf_reject_ipv4 nf_reject_ipv6 ipt_REJECT ip6t_REJECT
 nft_reject_inet dummy bridge virtio_pci virtio_net ${NFLUA_VM_MODULES:-}"

WORK=$ROOT/build/vm/cache${DEBARCH:+-$DEBARCH}
mkdir -p "$WORK" "$(dirname "$OUTF")"
TMP=$(mktemp -d "$WORK/tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

mkcpio() { # DIR OUT.gz LEVEL
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -n "-$3" >"$2.tmp$$"
    mv "$2.tmp$$" "$2"
}
# Parallel runs (one per kernel) share the caches: build each cache entry under a lock.
exec 8>"$WORK/.lock"
flock 8

# ------------------------------------------------------------------ 1. base layer
BASE_FORMAT=4   # bump when the base layout changes
real() { realpath -e "$1" 2>/dev/null || die "host file $1 missing (run scripts/host-deps.sh)"; }
if [ -n "$SYS" ]; then
    sysreal() { # PATH in the sysroot -> its host path, following the sysroot's own links
        local p=$1 n=0 t
        while [ -L "$SYS$p" ] && [ $n -lt 20 ]; do
            t=$(readlink "$SYS$p")
            case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
            n=$((n + 1))
        done
        realpath -e "$SYS$p" 2>/dev/null
    }
    real() { # the arch's file for guest path $1; bookworm's packages put some tools in /bin, /sbin
        local n=${1##*/} p
        for p in "$1" "/usr/sbin/$n" "/usr/bin/$n" "/sbin/$n" "/bin/$n"; do
            sysreal "$p" && return 0
        done
        die "$1 missing from the $DEBARCH sysroot $SYS"
    }
fi
BB=$(real /bin/busybox)
# guest path -> host file
declare -A BIN=(
    [/usr/bin/busybox]=$BB
    [/usr/sbin/ip]=$(real /usr/sbin/ip) [/usr/sbin/tc]=$(real /usr/sbin/tc)
    [/usr/bin/ss]=$(real /usr/bin/ss) [/usr/sbin/bridge]=$(real /usr/sbin/bridge)
    [/usr/bin/setpriv]=$(real /usr/bin/setpriv) [/usr/bin/unshare]=$(real /usr/bin/unshare)
    [/usr/bin/nsenter]=$(real /usr/bin/nsenter)
    [/usr/sbin/capsh]=$(real /usr/sbin/capsh)
    [/usr/bin/kmod]=$(real /usr/bin/kmod)
    [/usr/sbin/xtables-legacy-multi]=$(real /usr/sbin/xtables-legacy-multi)
    [/usr/sbin/xtables-nft-multi]=$(real /usr/sbin/xtables-nft-multi)
    # packet-path cases (p*.sh): real clients and servers
    [/usr/bin/curl]=$(real /usr/bin/curl) [/usr/bin/openssl]=$(real /usr/bin/openssl)
    [/usr/sbin/ethtool]=$(real /usr/sbin/ethtool)
)
XTDIR=/usr/lib/$TRIPLET/xtables XTSRC=$SYS/usr/lib/$TRIPLET/xtables
[ -d "$XTSRC" ] || die "$XTSRC missing (iptables not installed?)"
KMOD_LINKS="modprobe insmod rmmod lsmod depmod modinfo"
LEGACY_LINKS="iptables-legacy iptables-legacy-save iptables-legacy-restore ip6tables-legacy
 ip6tables-legacy-save ip6tables-legacy-restore"
NFT_LINKS="iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft ip6tables-nft-save
 ip6tables-nft-restore iptables iptables-save iptables-restore ip6tables ip6tables-save
 ip6tables-restore iptables-translate ip6tables-translate iptables-restore-translate
 ip6tables-restore-translate xtables-monitor ebtables-nft arptables-nft"
ETC="/etc/protocols /etc/services /etc/ethertypes /etc/iproute2"
# Names that must never resolve to a busybox applet link (the real tool is in the image).
REAL_NAMES=" ip tc ss bridge setpriv unshare nsenter capsh kmod $KMOD_LINKS init linuxrc "

base_key=$( {
    echo "format=$BASE_FORMAT"
    for g in "${!BIN[@]}"; do echo "$g $(stat -c '%n %s %Y' "${BIN[$g]}")"; done | sort
    stat -c '%n %s %Y' "$XTSRC"/* /etc/protocols /etc/services "$(real /usr/lib/ssl/openssl.cnf)"
    sha256sum "$0" | cut -c1-16
} | sha256sum | cut -c1-16)
BASE=$WORK/base-$base_key.cpio.gz

copy_libs() { # ROOTFS FILE...: copy the shared libraries (ldd) of FILEs into ROOTFS
    local rootfs=$1; shift
    local f lib
    for f in "$@"; do
        if [ -n "$SYS" ]; then elf_libs "$f"; continue; fi
        ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p'
    done | sort -u | while read -r lib; do
        case $lib in /lib/*|/lib64/*) g=/usr$lib ;; *) g=$lib ;; esac
        [ -e "$rootfs$g" ] && continue
        [ -z "${BASE_LIST:-}" ] || ! grep -qxF ".$g" "$BASE_LIST" || continue
        mkdir -p "$rootfs$(dirname "$g")"
        if [ -n "$SYS" ]; then cp "$(sysreal "$lib")" "$rootfs$g"; else cp -L "$lib" "$rootfs$g"; fi
    done
}
# elf_libs FILE: the loader and the libraries (closure) of a foreign-arch ELF file, as paths in
# the sysroot (what ldd does for host binaries; readelf reads any arch). A library found in the
# file's RUNPATH inside the guest layer being built (an earlier --file, e.g. OpenWrt's
# /usr/lib/openwrt) is not copied, but its own libraries are.
elf_libs() {
    local todo=("$1") seen=" " f n d
    while [ ${#todo[@]} -gt 0 ]; do
        f=${todo[0]}; todo=("${todo[@]:1}")
        readelf -lW "$f" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p'
        for n in $(readelf -dW "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            case $seen in *" $n "*) continue ;; esac
            seen="$seen$n "
            for d in $(readelf -dW "$f" 2>/dev/null | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p' | tr : ' '); do
                if [ -n "${G:-}" ] && [ -e "$G$d/$n" ]; then todo+=("$G$d/$n"); continue 2; fi
            done
            for d in "/lib/$TRIPLET" "/usr/lib/$TRIPLET" /lib /usr/lib; do
                if sysreal "$d/$n" >/dev/null; then echo "$d/$n"; todo+=("$(sysreal "$d/$n")"); continue 2; fi
            done
            die "$f needs $n, which is not in the $DEBARCH sysroot"
        done
    done
}

if [ ! -s "$BASE" ]; then
    t0=$(date +%s.%N)
    R=$TMP/base
    mkdir -p "$R"/{usr/bin,usr/sbin,usr/lib64,usr/lib/x86_64-linux-gnu,etc,proc,sys,dev,tmp,run,root,mnt,var,test/cases}
    ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
    ln -s ../run "$R/var/run"
    chmod 1777 "$R/tmp"; chmod 700 "$R/root"
    for g in "${!BIN[@]}"; do cp -L "${BIN[$g]}" "$R$g"; done
    # busybox applet links, except where the real tool is present
    ${QEMU_USER:+"$QEMU_USER"} "$BB" --list-full | while read -r p; do
        n=${p##*/}
        case "$REAL_NAMES" in *" $n "*) continue ;; esac
        case $p in bin/*|sbin/*) p=usr/$p ;; esac
        [ -e "$R/$p" ] || [ -L "$R/$p" ] || ln -s /usr/bin/busybox "$R/$p"
    done
    for n in $KMOD_LINKS; do ln -sf ../bin/kmod "$R/usr/sbin/$n"; done
    for n in $LEGACY_LINKS; do ln -sf xtables-legacy-multi "$R/usr/sbin/$n"; done
    for n in $NFT_LINKS; do ln -sf xtables-nft-multi "$R/usr/sbin/$n"; done
    mkdir -p "$R$(dirname "$XTDIR")"
    cp -a "$XTSRC" "$R$XTDIR"
    copy_libs "$R" "${BIN[@]}" "$XTSRC"/*.so
    for e in $ETC; do [ ! -e "$e" ] || cp -a "$e" "$R/etc/"; done
    # openssl reads OPENSSLDIR/openssl.cnf (req needs it)
    mkdir -p "$R/usr/lib/ssl" "$R/etc/ssl"
    cp -L "$(real /usr/lib/ssl/openssl.cnf)" "$R/etc/ssl/openssl.cnf"
    ln -s /etc/ssl/openssl.cnf "$R/usr/lib/ssl/openssl.cnf"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
    echo 'root:x:0:' >"$R/etc/group"
    echo '/bin/sh' >"$R/etc/shells"
    echo nflua-vm >"$R/etc/hostname"
    # sanity: every binary's loader and libraries resolve inside the rootfs
    for g in "${!BIN[@]}"; do
        [ "$g" = /usr/bin/busybox ] && continue
        if [ -n "$SYS" ]; then
            out=$(env -u LD_LIBRARY_PATH "$QEMU_USER" -L "$R" "$R$g" --version </dev/null 2>&1 || true)
        else
            out=$(chroot "$R" /usr/bin/env LD_LIBRARY_PATH= "$g" --version </dev/null 2>&1 || true)
        fi
        case $out in *"error while loading shared libraries"*|*"No such file"*) die "base rootfs: $g: $out" ;; esac
    done
    rm -f "$WORK"/base-*.cpio.gz "$WORK"/base-*.list
    (cd "$R" && find . -mindepth 1) >"${BASE%.cpio.gz}.list"
    mkcpio "$R" "$BASE" 9
    echo "mkinitramfs: base layer built ($(du -k "$BASE" | cut -f1) KiB, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s)" >&2
fi
BASE_LIST=${BASE%.cpio.gz}.list

# ------------------------------------------------------------------ 2. modules layer
# modules_closure NAME...: print the module files (relative to MODDIR) needed for NAMEs.
# Sets MISSING to the names modprobe does not know.
closure() { # TREE NAME -> relative paths on stdout; exit 1 if unknown
    local out
    out=$(modprobe -d "$MODROOT" -S "$KVER" --show-depends "$1" 2>&1) || return 1
    printf '%s\n' "$out" | sed -n "s|^insmod $MODDIR/\([^ ]*\).*|\1|p"
}
plain() { local p=${1%.xz}; p=${p%.zst}; printf '%s' "${p%.gz}"; }
uncompress_to() { # SRC DEST (DEST without compression suffix)
    mkdir -p "$(dirname "$2")"
    case $1 in
        *.ko.xz) xz -dc "$1" >"$2" ;;
        *.ko.zst) zstd -qdc "$1" >"$2" ;;
        *.ko.gz) gzip -dc "$1" >"$2" ;;
        *) cp "$1" "$2" ;;
    esac
}
mod_key=$( { cat "$ROOT/build/kernel/$KEY/.stamp"; echo "$KVER $REQUIRED $OPTIONAL ${XMODS[*]:-}"; } | sha256sum | cut -c1-16)
MODCACHE=$WORK/mods-$KEY-$mod_key
if [ ! -f "$MODCACHE/.done" ]; then
    rm -rf "$WORK/mods-$KEY-"*
    list=$TMP/modlist
    : >"$list"
    for m in $REQUIRED ${XMODS[@]+"${XMODS[@]}"}; do
        closure "$m" >>"$list" || die "kernel $KEY ($KVER) has no module or built-in '$m'"
    done
    for m in $OPTIONAL; do closure "$m" >>"$list" || true; done
    sort -u "$list" | while read -r rel; do
        uncompress_to "$MODDIR/$rel" "$MODCACHE/$(plain "$rel")"
    done
    touch "$MODCACHE/.done"
fi
flock -u 8
M=$TMP/mods
MD=$M/usr/lib/modules/$KVER
mkdir -p "$MD"
cp -a "$MODCACHE/." "$MD/"
rm -f "$MD/.done"
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ ! -f "$MODDIR/$f" ] || cp "$MODDIR/$f" "$MD/"
done
if [ ${#KOS[@]} -gt 0 ]; then
    mkdir -p "$MD/extra"
    kos_names=" "
    for ko in "${KOS[@]}"; do
        b=$(plain "$(basename "$ko")")
        uncompress_to "$ko" "$MD/extra/$b"
        kos_names="$kos_names${b%.ko} "
        v=$(modinfo -F vermagic "$MD/extra/$b" 2>/dev/null | cut -d' ' -f1)
        [ "$v" = "$KVER" ] || die "--ko $ko was built for '$v', not for kernel $KEY ($KVER)"
    done
    # dependencies of the --ko modules on stock modules
    for ko in "$MD"/extra/*.ko; do
        for d in $(modinfo -F depends "$ko" | tr ',' ' '); do
            case "$kos_names" in *" $d "*|*" ${d//_/-} "*) continue ;; esac
            closure "$d" >"$TMP/kodeps" || die "$(basename "$ko") depends on '$d', unknown to kernel $KEY"
            while read -r rel; do
                [ -e "$MD/$(plain "$rel")" ] || uncompress_to "$MODDIR/$rel" "$MD/$(plain "$rel")"
            done <"$TMP/kodeps"
        done
    done
fi
depmod -b "$M/usr" "$KVER" 2>"$TMP/depmod.err" || { cat "$TMP/depmod.err" >&2; die "depmod failed"; }
if grep -q . "$TMP/depmod.err"; then
    cat "$TMP/depmod.err" >&2
    die "depmod reported problems (missing symbols?) for kernel $KEY"
fi
mkcpio "$M" "$TMP/mods.cpio.gz" 1

# ------------------------------------------------------------------ 3. guest layer
G=$TMP/guest
mkdir -p "$G/test/cases" "$G/dev"
cp "$HERE/guest/init" "$G/init"; chmod 755 "$G/init"
cp "$HERE/guest/lib.sh" "$G/test/lib.sh"
n=0
for c in "$CASEDIR"/*.sh; do
    [ -f "$c" ] || continue
    cp "$c" "$G/test/cases/"; n=$((n + 1))
done
[ $n -gt 0 ] || echo "mkinitramfs: warning: no cases in $CASEDIR" >&2
for spec in ${XFILES[@]+"${XFILES[@]}"}; do
    src=${spec%%:*} dst=${spec#*:}
    [ "$src" != "$spec" ] && [ -n "$dst" ] || die "--file $spec: want SRC:DEST"
    [ -e "$src" ] || die "--file $spec: $src does not exist"
    case $dst in /*) ;; *) die "--file $spec: DEST must be absolute" ;; esac
    mkdir -p "$G$(dirname "$dst")"
    cp -a "$src" "$G$dst"
    # ELF files bring their libraries (those not already in the base layer get added here)
    if [ -f "$src" ] && head -c4 "$src" | grep -q 'ELF'; then copy_libs "$G" "$src"; fi
done
if [ "$(id -u)" = 0 ]; then mknod -m 600 "$G/dev/console" c 5 1; fi
mkcpio "$G" "$TMP/guest.cpio.gz" 1

cat "$BASE" "$TMP/mods.cpio.gz" "$TMP/guest.cpio.gz" >"$OUTF.tmp$$"
mv "$OUTF.tmp$$" "$OUTF"
echo "mkinitramfs: $OUTF ($(du -k "$OUTF" | cut -f1) KiB; kernel $KVER; $(find "$MD" -name '*.ko' | wc -l) modules; $n cases)" >&2
