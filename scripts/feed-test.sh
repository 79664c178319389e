#!/bin/bash
# feed-test.sh [main|24.10]...: the OpenWrt feed (openwrt/) on OpenWrt's own build system, from
# the pinned sources in $NFLUA_OPENWRT_SRC (default ../shared/openwrt-src beside the repo):
#   - scripts/feeds update/install of this feed as src-link;
#   - make defconfig for x86_64, ath79 and ramips/mt7621 (our packages selected, with the kmods
#     the module needs) and mpc85xx (powerpc: the module and what needs it are gated off);
#   - DUMP=1 metadata of every package: versions accepted by `apk version --check`, integer
#     PKG_RELEASE, license, maintainer, conflicts with xtables-addons' LUA; the kmod's DEPENDS
#     equal to `modinfo -F depends` of the built nflua.ko mapped through OpenWrt's netfilter.mk;
#   - the kmod's download/check/prepare: Lua's sha256 checked, a tampered tarball rejected, the
#     prepared tree equal to what nflua-kmod/Makefile makes;
#   - nfluactl and nflua-policies built by OpenWrt's packaging (.apk on main via apk mkpkg, .ipk
#     on 24.10 via ipkg-build) and inspected: control fields, files, conffiles.
# Work trees and host tools are cached in build/feed/, keyed by the tarballs' hashes.
# The last line is "N passed, M failed".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
src=${NFLUA_OPENWRT_SRC:-$root/../shared/openwrt-src}
work=$root/build/feed
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(main 24.10)
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
# $1 - description; the rest: a command whose success is the test
check() { local _desc=$1; shift; if "$@"; then ok "$_desc"; else bad "$_desc"; fi; }
# $1 - log file, the rest: a command whose output goes to the log
logged() { local l=$1; shift; "$@" >"$l" 2>&1; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }
die() { bad "$*"; finish; }

# ---------------------------------------------------------------- pinned sources

declare -A tarball=(
	[main]=openwrt-b67652969b.tar.gz [24.10]=openwrt-24.10-c52514bc39.tar.gz
	[apk]=apk-tools-2c027261.tar.gz
)
if [ ! -f "$src/SHA256SUMS" ]; then
	cat >&2 <<EOF
feed-test: the pinned OpenWrt sources are not in $src.
feed-test: give their directory as NFLUA_OPENWRT_SRC=/path (it holds SHA256SUMS and, made with
feed-test: git archive --prefix=NAME/ -o NAME.tar.gz COMMIT from the upstream repositories:
feed-test:   openwrt-b67652969b.tar.gz       openwrt/openwrt main b67652969b
feed-test:   openwrt-24.10-c52514bc39.tar.gz openwrt/openwrt openwrt-24.10 c52514bc39
feed-test:   apk-tools-2c027261.tar.gz       alpine/apk-tools 2c027261492169783f6aaa2b7731a4e90dc7a5b0
feed-test: (../shared/openwrt-src/README.md lists them all).
EOF
	die "pinned OpenWrt sources found (NFLUA_OPENWRT_SRC=$src)"
fi
for t in "${tarball[@]}"; do
	[ -f "$src/$t" ] || die "$src/$t exists (see the message above for how to make it)"
done
(cd "$src" && grep -E " (${tarball[main]}|${tarball[24.10]}|${tarball[apk]})\$" SHA256SUMS | sha256sum -c --quiet) ||
	die "the pinned tarballs match $src/SHA256SUMS"
ok "pinned sources in $src match SHA256SUMS"

"$root/scripts/host-deps.sh" rsync gawk meson ninja-build libssl-dev zlib1g-dev fakeroot \
	g++ libncurses-dev unzip bzip2 wget file python3 >/dev/null || die "host packages installed"

sha() { sha256sum "$1" | cut -c1-16; }
# lap WHAT: how long the step that just ended took
lap_t=$(date +%s)
lap() { local n; n=$(date +%s); echo "--- $1: $((n - lap_t)) s"; lap_t=$n; }

# $1 - tree key: unpacks the buildroot into $work/$1 once per tarball hash
unpack_tree() {
	local dir=$work/$1 key
	key=$(sha "$src/${tarball[$1]}")
	if [ "$(cat "$dir/.nflua-key" 2>/dev/null)" != "$key" ]; then
		rm -rf "$dir" && mkdir -p "$dir" &&
		tar -xzf "$src/${tarball[$1]}" -C "$dir" --strip-components=1 &&
		echo "$key" >"$dir/.nflua-key" || return 1
	fi
}

# apk (apk-tools v3 with main's patches, as OpenWrt's host build), cached by its inputs' hashes.
build_apk() {
	local key dir
	key=$( { sha "$src/${tarball[apk]}"; cat "$work/main/package/system/apk/patches/"*.patch; } | sha256sum | cut -c1-16)
	dir=$work/host/apk-$key
	APK=$dir/apk
	[ -x "$APK" ] && return 0
	rm -rf "$dir" && mkdir -p "$dir/src" || return 1
	tar -xzf "$src/${tarball[apk]}" -C "$dir/src" --strip-components=1 || return 1
	for p in "$work/main/package/system/apk/patches/"*.patch; do
		patch -s -p1 -d "$dir/src" <"$p" || return 1
	done
	(cd "$dir/src" && VERSION=3.0.0_pre20250101 meson setup build -Dcompressed-help=false \
		-Ddocs=disabled -Dhelp=disabled -Dlua=disabled -Ddefault_library=static \
		-Durl_backend=wget -Dzstd=false -Dpython=disabled -Dtests=disabled \
		-Dcrypto_backend=openssl && ninja -C build) >"$dir/build.log" 2>&1 || { tail "$dir/build.log"; return 1; }
	cp "$dir/src/build/src/apk" "$APK"
}

# ---------------------------------------------------------------- per tree

# $1 - tree dir; the rest: lines of .config; runs make defconfig
defconfig() {
	local d=$1; shift
	printf '%s\n' "$@" CONFIG_PACKAGE_kmod-nflua=y CONFIG_PACKAGE_iptables-mod-nflua=y \
		CONFIG_PACKAGE_nfluactl=y CONFIG_PACKAGE_nflua-policies=y >"$d/.config"
	make -C "$d" defconfig >"$d/defconfig.log" 2>&1
}
selected() { grep -qx "CONFIG_PACKAGE_$2=y" "$1/.config"; }
not_selected() { ! grep -q "^CONFIG_PACKAGE_$2=" "$1/.config"; }
all_selected() {
	local d=$1 p; shift
	for p in "$@"; do selected "$d" "$p" || { echo "  $p not selected"; return 1; }; done
}

# $1 - tree dir, $2 - package dir under package/feeds/nflua, the rest: goals
pkgmake() {
	local d=$1 p=$2; shift 2
	make --no-print-directory -C "$d/package/feeds/nflua/$p" TOPDIR="$d" "$@"
}

# kmod names of OpenWrt for kernel modules: include/netfilter.mk's nf_add VAR ... path/MOD, and
# the KernelPackage of netfilter.mk whose FILES use $(VAR-m). $1 - tree dir, $2 - module name
kmod_of() {
	local var
	var=$(grep -E "nf_add,[A-Z0-9_]+,[A-Z0-9_]+, *\\\$\\([A-Z0-9_]+\\)$2\\)" "$1/include/netfilter.mk" | head -n 1 |
		sed -E 's/.*nf_add,([A-Z0-9_]+),.*/\1/')
	[ -n "$var" ] || return 1
	awk -v v="\$($var-m)" '/^define KernelPackage\// { p = substr($2, 15) }
		/FILES:=/ && index($0, v) && p != "" { print "kmod-" p; exit }' \
		"$1/package/kernel/linux/modules/netfilter.mk"
}

# $1 - tree key
test_tree() {
	local t=$1 d=$work/$1 log dump v ver lv arch f
	echo "=== OpenWrt $t"
	unpack_tree "$t" || { bad "[$t] buildroot unpacked"; return; }
	mkdir -p "$d/staging_dir/host/bin"
	ln -sf "$(command -v fakeroot)" "$d/staging_dir/host/bin/fakeroot"
	[ "$t" = main ] && cp "$APK" "$d/staging_dir/host/bin/apk"

	# feeds: this feed only, as src-link
	echo "src-link nflua $root/openwrt" >"$d/feeds.conf"
	log=$d/feeds.log
	if (cd "$d" && ./scripts/feeds update -a && ./scripts/feeds install -a -p nflua) >"$log" 2>&1; then
		ok "[$t] scripts/feeds update/install of openwrt/ as src-link"
	else
		bad "[$t] scripts/feeds update/install of openwrt/ as src-link (see $log)"; return
	fi
	lap "[$t] feeds"
	check "[$t] feeds install took nflua, nfluactl, nflua-policies" \
		test -e "$d/package/feeds/nflua/nflua/Makefile" -a -e "$d/package/feeds/nflua/nfluactl/Makefile" \
		-a -e "$d/package/feeds/nflua/nflua-policies/Makefile"

	# defconfig per target
	local deps=(kmod-nf-ipt kmod-nf-conntrack kmod-nf-reject kmod-nf-reject6 libxtables)
	local ours=(kmod-nflua iptables-mod-nflua nfluactl nflua-policies)
	local tgt
	if defconfig "$d" CONFIG_TARGET_mpc85xx=y CONFIG_TARGET_mpc85xx_p1020=y; then
		check "[$t] defconfig mpc85xx (powerpc): kmod-nflua, iptables-mod-nflua, nfluactl gated off" \
			eval 'not_selected "$d" kmod-nflua && not_selected "$d" iptables-mod-nflua && not_selected "$d" nfluactl'
		check "[$t] defconfig mpc85xx: nflua-policies (arch all) still selectable" selected "$d" nflua-policies
	else
		bad "[$t] make defconfig mpc85xx (see $d/defconfig.log)"
	fi
	# x86_64 last: the package steps below use its configuration
	for tgt in "ath79 ath79_generic mips" "ramips ramips_mt7621 mipsel" "x86 x86_64 x86_64"; do
		set -- $tgt
		if defconfig "$d" "CONFIG_TARGET_$1=y" "CONFIG_TARGET_$2=y"; then
			arch=$(sed -n 's/^CONFIG_ARCH="\(.*\)"/\1/p' "$d/.config")
			check "[$t] defconfig $2 ($arch): ${ours[*]} selected, with ${deps[*]}" \
				all_selected "$d" "${ours[@]}" "${deps[@]}"
			check "[$t] defconfig $2: CONFIG_ARCH is $3" test "$arch" = "$3"
		else
			bad "[$t] make defconfig $2 (see $d/defconfig.log)"
		fi
	done
	lap "[$t] defconfig x4"
	# DUMP=1 metadata
	dump=$d/dump.txt
	: >"$dump"
	for p in nflua nfluactl nflua-policies; do
		pkgmake "$d" "$p" -s DUMP=1 >>"$dump" 2>&1 || bad "[$t] DUMP=1 of $p"
	done
	check "[$t] DUMP=1 lists the 4 packages" \
		test "$(grep -c '^Package: ' "$dump")" = 4
	lv=$(sed -n 's/^KERNEL_PATCHVER:=//p' "$d/target/linux/x86/Makefile")
	lv=$lv$(cat "$d/include/kernel-$lv" "$d/target/linux/generic/kernel-$lv" 2>/dev/null |
		sed -n "s/^LINUX_VERSION-$lv = //p" | head -n 1)
	while read -r v; do
		ver=${v//<LINUX_VERSION>/$lv}
		check "[$t] Version $v ($ver) accepted by apk version --check" "$APK" version --check "$ver"
	done < <(sed -n 's/^Version: //p' "$dump")
	for f in nflua/Makefile nfluactl/Makefile nflua-policies/Makefile; do
		check "[$t] $f: PKG_RELEASE an integer, PKG_LICENSE and PKG_MAINTAINER set" \
			grep -qE '^PKG_RELEASE:=[0-9]+$' "$d/package/feeds/nflua/$f"
	done
	check "[$t] every package has License: and Maintainer:" \
		test "$(grep -cE '^License: .+' "$dump")" = 4 -a "$(grep -cE '^Maintainer: .+<.+@.+>' "$dump")" = 4
	check "[$t] kmod-nflua Conflicts: kmod-ipt-lua (xtables-addons' LUA target)" \
		grep -qx 'Conflicts: kmod-ipt-lua' "$dump"
	check "[$t] iptables-mod-nflua Conflicts: iptables-mod-lua (same libxt_LUA.so)" \
		grep -qx 'Conflicts: iptables-mod-lua' "$dump"
	check "[$t] nfluactl and nflua-policies are architecture-independent (PKGARCH:=all)" \
		eval 'grep -q "^  PKGARCH:=all\$" "$d/package/feeds/nflua/nfluactl/Makefile" && grep -q "^  PKGARCH:=all\$" "$d/package/feeds/nflua/nflua-policies/Makefile"'

	# the kmod's DEPENDS from modinfo of the built module
	local want=() got m k
	for m in $(modinfo -F depends "$KO" | tr ',' ' '); do
		k=$(kmod_of "$d" "$m") || { bad "[$t] OpenWrt kmod package for $m"; continue; }
		want+=("+$k")
	done
	got=$(sed -n '/^Package: kmod-nflua$/,/^@@/s/^Depends: //p' "$dump" | tr ' ' '\n' | grep '^+' | sort | tr '\n' ' ')
	check "[$t] kmod-nflua DEPENDS ($got) = modinfo depends of nflua.ko via netfilter.mk ($(printf '%s\n' "${want[@]}" | sort | tr '\n' ' '))" \
		test "$got" = "$(printf '%s\n' "${want[@]}" | sort | tr '\n' ' ')"

	lap "[$t] metadata"
	# download / check / prepare of the kmod
	local dl=$d/dl/lua-5.4.7.tar.gz bd
	mkdir -p "$d/dl"
	cp "$LUA" "$dl.tmp" && printf 'x' >>"$dl.tmp" && mv "$dl.tmp" "$dl"
	log=$d/download-tampered.log
	if pkgmake "$d" nflua download >"$log" 2>&1; then
		bad "[$t] a tampered lua-5.4.7.tar.gz is rejected by download"
	else
		check "[$t] a tampered lua-5.4.7.tar.gz is rejected by download (hash mismatch)" \
			grep -q 'does not match' "$log"
	fi
	cp "$LUA" "$dl"
	log=$d/download.log
	check "[$t] download with Lua's pristine tarball" logged "$log" pkgmake "$d" nflua download V=s
	pkgmake "$d" nflua CHECK=1 check V=s >"$d/check.log" 2>&1
	check "[$t] check: PKG_HASH of lua-5.4.7.tar.gz verified (no warning)" \
		eval '! grep -q WARNING "$d/check.log"'
	bd=$(find "$d/build_dir" -maxdepth 3 -type d -name 'nflua-0*' 2>/dev/null | head -n 1)
	[ -z "$bd" ] || rm -rf "$bd"
	log=$d/prepare.log
	# (the goal "download" keeps package.mk's stamp checks active beside ".prepare")
	check "[$t] prepare of nflua (Lua unpacked and patched by nflua-kmod/Makefile)" \
		logged "$log" pkgmake "$d" nflua download .prepare V=s
	bd=$(find "$d/build_dir" -maxdepth 3 -type d -name 'nflua-0*' 2>/dev/null | head -n 1)
	check "[$t] prepared tree holds the repo's Kbuild, src, port, include unchanged" \
		eval 'for x in Kbuild src port include; do diff -r "$root/nflua-kmod/$x" "$bd/$x" || exit 1; done'
	check "[$t] prepared Lua carries the kernel patch" \
		eval 'diff -r -x "*.o" -x ".*" -x "*.mod*" "$root/build/kmod/6.1/lua/src" "$bd/lua/src"'

	lap "[$t] download, check, prepare"
	# the architecture-independent packages through OpenWrt's packaging
	rm -rf "$d/bin/packages"
	for p in nfluactl nflua-policies; do
		check "[$t] $p built by OpenWrt's packaging" logged "$d/build-$p.log" pkgmake "$d" "$p" clean compile V=s
	done
	if [ "$t" = main ]; then inspect_apk "$t" "$d"; else inspect_ipk "$t" "$d"; fi
	lap "[$t] packages"
}

expected_files() {	# $1 - package: the files it must carry
	case $1 in
	nfluactl) echo /usr/sbin/nfluactl /etc/init.d/nflua /etc/config/nflua /etc/uci-defaults/95-nflua \
		/usr/lib/nflua/nflua-functions.sh /usr/lib/nflua/firewall.include ;;
	nflua-policies) for n in http_ua http_host tls_sni dns_qname bittorrent; do
		echo "/usr/share/nflua/policies/$n.lua /etc/nflua/policies/$n.conf.lua"; done ;;
	esac
}
expected_conffiles() {
	case $1 in
	nfluactl) echo /etc/config/nflua ;;
	nflua-policies) for n in http_ua http_host tls_sni dns_qname bittorrent; do
		echo "/etc/nflua/policies/$n.conf.lua"; done ;;
	esac
}
has_all() {	# $1 - file list (one per line), the rest: names that must be in it
	local l=$1 x; shift
	for x in "$@"; do grep -qx -- "$x" <<<"$l" || { echo "  missing: $x"; return 1; }; done
}

inspect_apk() {
	local t=$1 d=$2 p f dump files
	for p in nfluactl nflua-policies; do
		f=$(ls "$d"/bin/packages/*/nflua/"$p"-[0-9]*.apk 2>/dev/null | head -n 1)
		check "[$t] $p: a .apk was made" test -n "$f"
		[ -n "$f" ] || continue
		dump=$("$APK" adbdump "$f" 2>&1)
		check "[$t] $p.apk: name, version 0.1.0-r1, arch noarch, license" \
			eval 'grep -q "name: $p\$" <<<"$dump" && grep -q "version: 0.1.0-r1\$" <<<"$dump" && grep -q "arch: noarch\$" <<<"$dump" && grep -q "license: GPL-2.0-only" <<<"$dump"'
		[ "$p" = nfluactl ] && check "[$t] nfluactl.apk depends on kmod-nflua and iptables-mod-nflua" \
			eval 'grep -A4 "depends:" <<<"$dump" | grep -q "kmod-nflua" && grep -A4 "depends:" <<<"$dump" | grep -q "iptables-mod-nflua"'
		files=$(mktemp -d)
		tar -xzf "$f" -C "$files" 2>/dev/null || "$APK" extract --allow-untrusted --destination "$files" "$f" >/dev/null 2>&1
		local list
		list=$(cd "$files" && find . -type f | sed 's/^\.//' | sort)
		# shellcheck disable=SC2046 # lists of paths
		check "[$t] $p.apk carries its files" has_all "$list" $(expected_files "$p")
		# shellcheck disable=SC2046
		check "[$t] $p.apk lists its conffiles (lib/apk/packages/$p.conffiles)" \
			has_all "$(cat "$files/lib/apk/packages/$p.conffiles" 2>/dev/null)" $(expected_conffiles "$p")
		[ "$p" = nfluactl ] && check "[$t] nfluactl.apk: nfluactl and the init script executable" \
			test -x "$files/usr/sbin/nfluactl" -a -x "$files/etc/init.d/nflua"
		rm -rf "$files"
	done
}

inspect_ipk() {
	local t=$1 d=$2 p f x ctl
	for p in nfluactl nflua-policies; do
		f=$(ls "$d"/bin/packages/*/nflua/"$p"_*.ipk 2>/dev/null | head -n 1)
		check "[$t] $p: a .ipk was made" test -n "$f"
		[ -n "$f" ] || continue
		x=$(mktemp -d)
		check "[$t] $p.ipk is a gzip'd tar of debian-binary, control.tar.gz, data.tar.gz" \
			eval 'tar -xzf "$f" -C "$x" && test "$(tar -tzf "$f" | sort | tr "\n" " ")" = "./control.tar.gz ./data.tar.gz ./debian-binary "'
		mkdir -p "$x/c" "$x/d"
		tar -xzf "$x/control.tar.gz" -C "$x/c" && tar -xzf "$x/data.tar.gz" -C "$x/d"
		# shellcheck disable=SC2034 # used in the eval strings below
		ctl=$(cat "$x/c/control" 2>/dev/null)
		check "[$t] $p.ipk control: Package, Version 0.1.0-r1, Architecture all, License" \
			eval 'grep -qx "Package: $p" <<<"$ctl" && grep -qx "Version: 0.1.0-r1" <<<"$ctl" && grep -qx "Architecture: all" <<<"$ctl" && grep -q "^License: GPL-2.0-only" <<<"$ctl"'
		[ "$p" = nfluactl ] && check "[$t] nfluactl.ipk Depends on kmod-nflua and iptables-mod-nflua" \
			eval 'grep "^Depends:" <<<"$ctl" | grep -q kmod-nflua && grep "^Depends:" <<<"$ctl" | grep -q iptables-mod-nflua'
		# shellcheck disable=SC2046
		check "[$t] $p.ipk carries its files" has_all "$(cd "$x/d" && find . -type f | sed 's/^\.//' | sort)" $(expected_files "$p")
		# shellcheck disable=SC2046
		check "[$t] $p.ipk conffiles" has_all "$(cat "$x/c/conffiles" 2>/dev/null)" $(expected_conffiles "$p")
		rm -rf "$x"
	done
}

# ---------------------------------------------------------------- main

start=$(date +%s)
mkdir -p "$work"
unpack_tree main || die "main buildroot unpacked into $work/main"
build_apk || die "apk-tools built from ${tarball[apk]}"
ok "apk $("$APK" --version | cut -d' ' -f2) from ${tarball[apk]} with OpenWrt's patches"
check "apk version --check rejects 0.1.0-1 (the checker can fail)" eval '! "$APK" version --check 0.1.0-1 >/dev/null'

# Lua's pristine tarball (verified) and the module built by `make` (for modinfo and the
# prepared-tree comparison)
LUA=$work/lua-5.4.7.tar.gz
"$root/nflua-kmod/fetch-lua.sh" "$LUA" >/dev/null || die "Lua's tarball fetched and verified"
KO=$root/build/kmod/6.1/nflua.ko
if [ ! -f "$KO" ] || [ -n "$(find "$root/nflua-kmod" -newer "$KO" -type f | head -n 1)" ]; then
	"$root/scripts/build-kmod.sh" 6.1 >"$work/build-kmod.log" 2>&1 || die "nflua.ko built for modinfo (see $work/build-kmod.log)"
fi
ok "nflua.ko built by make (modinfo depends: $(modinfo -F depends "$KO"))"

lap "setup"
for t in "${trees[@]}"; do
	[ -n "${tarball[$t]:-}" ] || { bad "unknown tree $t (main or 24.10)"; continue; }
	test_tree "$t"
done
echo "feed-test: $(($(date +%s) - start)) s"
finish
