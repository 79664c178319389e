#!/bin/bash
# fetch-rootfs.sh DEBARCH: the guest's userland for a VM of another arch (arm64, armhf, mipsel),
# from Debian bookworm's packages of that arch: busybox-static, iptables (legacy and nft, with
# the xtables extensions), iproute2, util-linux, capsh, kmod, curl, openssl, ethtool, and the
# dependency closure apt computes for them, plus libxtables-dev (to cross-link libxt_lua) and
# libjson-c-dev, libbsd-dev (to cross-build OpenWrt's runtime: scripts/openwrt-runtime.sh).
# Downloaded with a private apt state (the machine's dpkg architectures and sources are never
# touched) into ${NFLUA_CACHE:-/var/cache/nflua}/rootfs/DEBARCH/ and unpacked with dpkg-deb -x
# into .../root, a sysroot that mkinitramfs.sh picks the guest's files from. Prints that path.
# Idempotent: a second run is offline and instant.
set -eu

die() { echo "fetch-rootfs: ERROR: $*" >&2; exit 1; }
note() { echo "fetch-rootfs: $*" >&2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] || die "usage: $0 DEBARCH"
ARCH=$1
# shellcheck source=scripts/arch.sh
. "$ROOT/scripts/arch.sh"
nflua_arch "$ARCH" || die "unknown arch '$ARCH' (see scripts/arch.sh)"
[ "$ARCH" != amd64 ] || die "amd64 guests use the host's own tools (mkinitramfs.sh)"

PKGS="busybox-static iptables iproute2 util-linux libcap2-bin kmod curl openssl ethtool netbase
 libxtables-dev libjson-c-dev libbsd-dev"
SUITE=bookworm
CACHE=${NFLUA_CACHE:-/var/cache/nflua}
D=$CACHE/rootfs/$ARCH
SYSROOT=$D/root
STAMP="suite=$SUITE pkgs=$(echo "$PKGS" | tr -s ' \n' ' ') format=1"
mkdir -p "$D"
exec 9>"$D/.lock"
flock 9
if [ -f "$SYSROOT/.stamp" ] && [ "$(cat "$SYSROOT/.stamp")" = "$STAMP" ]; then
    echo "$SYSROOT"
    exit 0
fi

A=$D/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$D/debs"
: >"$A/status"
echo "deb [arch=$ARCH] http://deb.debian.org/debian $SUITE main" >"$A/sources.list"
APTO=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o Dir::State::status="$A/status"
      -o Dir::Cache::archives="$D/debs" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
      -o APT::Architecture="$ARCH" -o APT::Architectures::="$ARCH" -o Acquire::Retries=3
      -o APT::Install-Recommends=0)
note "apt-get update ($SUITE $ARCH, private state in $A)"
apt-get "${APTO[@]}" -q update >"$A/update.log" 2>&1 || { cat "$A/update.log" >&2; die "apt-get update failed"; }
note "downloading $ARCH packages (with dependencies) into $D/debs"
# shellcheck disable=SC2086 # a list of package names
apt-get "${APTO[@]}" -q -y -d install $PKGS >"$A/install.log" 2>&1 ||
    { cat "$A/install.log" >&2; die "apt-get download failed"; }
NEW=$SYSROOT.new
rm -rf "$NEW"
mkdir -p "$NEW"
n=0
for f in $(apt-get "${APTO[@]}" -s -y install $PKGS 2>/dev/null | sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1_\2/p'); do
    pkg=${f%%_*} ver=${f#*_}
    deb=$(ls "$D/debs/${pkg}_$(printf %s "$ver" | sed 's/:/%3a/')_"*.deb 2>/dev/null | head -n1)
    [ -n "$deb" ] || die "no .deb for $pkg $ver in $D/debs"
    dpkg-deb -x "$deb" "$NEW"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || die "apt resolved no packages"
echo "$STAMP" >"$NEW/.stamp"
rm -rf "$SYSROOT"
mv "$NEW" "$SYSROOT"
note "$n packages unpacked into $SYSROOT"
echo "$SYSROOT"
