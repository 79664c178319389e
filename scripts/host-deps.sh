#!/bin/bash
# host-deps.sh [EXTRA-PKG...]: install (idempotently) the Debian 12 host packages that the QEMU
# test harness (test/vm/) and out-of-tree kernel module builds need. Checks with dpkg-query first;
# runs `apt-get update` only when something is missing. Uses the machine's own apt sources.
set -eu

PKGS=(
    # harness: VM, initramfs contents and tools
    qemu-system-x86 busybox-static iptables iproute2 util-linux libcap2-bin kmod
    cpio gzip xz-utils zstd coreutils
    # packet-path cases (test/vm/cases/p*.sh): clients, servers and NIC settings in the guest
    curl openssl ethtool
    # trafgen: replays captures (p95-policies) and floods (make bench) in the guest
    netsniff-ng
    # fetch-kernel.sh
    apt dpkg
    # module build against the extracted Debian headers: compiler, and the runtime libraries of
    # the prebuilt kbuild tools (objtool, modpost, sign-file); pahole for 6.x module BTF
    gcc-12 gcc make libc6-dev binutils libelf1 libssl3 dwarves
    # nflua-kmod: unpacking and patching Lua's source
    tar patch
    # libxt_lua: the iptables extensions
    libxtables-dev pkg-config
    # scripts/lint.sh
    shellcheck git
)
PKGS+=("$@")

missing=()
for p in "${PKGS[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case $st in ii*) ;; *) missing+=("$p") ;; esac
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "host-deps: all ${#PKGS[@]} packages present"
    exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "host-deps: ERROR: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
echo "host-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
