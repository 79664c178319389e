#!/bin/bash
# openwrt-runtime.sh [DEBARCH]: builds OpenWrt's runtime for DEBARCH (default amd64, the host's)
# from the pinned sources in $NFLUA_OPENWRT_SRC (default ../shared/openwrt-src): libubox (jshn),
# uci, ubus (ubusd, ubus), ubox (validate_data), jsonpath (jsonfilter), udebug, procd, ucode
# (with its fs, uci and ubus modules) and firewall4's files (fw4 runs on ucode), installed into
# build/openwrt-rt/KEY/root (KEY: a hash of the tarballs, of this script and of DEBARCH). Prints
# that root. Binaries look for these libraries in /usr/lib/openwrt (RPATH), where the guest image
# has them. The QEMU router image takes its binaries and libraries from there (test/vm/openwrt/).
# A router arch (arm64, armhf, mipsel: scripts/arch.sh) is cross-built with that arch's toolchain
# against its Debian sysroot (test/vm/fetch-rootfs.sh: json-c, libbsd), without ucode and fw4
# (the arch's service test runs the init script, not the firewall: test-openwrt-service.sh).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
src=${NFLUA_OPENWRT_SRC:-$root/../shared/openwrt-src}
arch=${1:-amd64}
names=(libubox-a75209f6 uci-5bea1357 ubus-2737da38 ubox-6f78fa49 jsonpath-f4fe702d udebug-75f39cd4 procd-3b3501ab
	ucode-48ed18d2 firewall4-b6e51575)
for n in "${names[@]}"; do
	[ -f "$src/$n.tar.gz" ] || { echo "openwrt-runtime: $src/$n.tar.gz is missing; set NFLUA_OPENWRT_SRC (see ../shared/openwrt-src/README.md: git archive of each upstream repository at its commit)" >&2; exit 1; }
done
"$root/scripts/host-deps.sh" cmake libjson-c-dev libbsd-dev pkg-config >/dev/null
cross=() bsd=-lbsd sys=
if [ "$arch" != amd64 ]; then
	# shellcheck source=scripts/arch.sh
	. "$root/scripts/arch.sh"
	nflua_arch "$arch" || { echo "openwrt-runtime: unknown arch '$arch' (see scripts/arch.sh)" >&2; exit 2; }
	# shellcheck disable=SC2086 # a list of package names
	"$root/scripts/host-deps.sh" $CROSS_PKGS >/dev/null
	sys=$("$root/test/vm/fetch-rootfs.sh" "$arch")
fi
key=$( { for n in "${names[@]}"; do sha256sum "$src/$n.tar.gz"; done; cat "$0"; echo "$arch"; } | sha256sum | cut -c1-16)
out=$root/build/openwrt-rt/$key
if [ -f "$out/.done" ]; then echo "$out/root"; exit 0; fi
rm -rf "$out" && mkdir -p "$out/src" "$out/root"
pfx=$out/root/usr
log=$out/build.log
libs="-L$pfx/lib -Wl,-rpath-link,$pfx/lib"
if [ "$arch" != amd64 ]; then
	# headers and libraries from the sysroot and from what was built before; pkg-config (json-c)
	# reads the sysroot's files only. Debian's libbsd.so is a linker script naming absolute host
	# paths: link the library itself.
	cross=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_C_COMPILER="${CROSS_COMPILE}gcc"
		-DCMAKE_FIND_ROOT_PATH="$out/root;$sys" -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER
		-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY
		-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY)
	libs="$libs -L$sys/usr/lib/$TRIPLET -Wl,-rpath-link,$sys/usr/lib/$TRIPLET:$sys/lib/$TRIPLET"
	bsd=-l:libbsd.so.0
	export PKG_CONFIG_LIBDIR=$sys/usr/lib/$TRIPLET/pkgconfig:$sys/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$sys
fi
build() {	# $1 - name, the rest: cmake options
	local n=$1; shift
	local b=$out/src/$n/build
	echo "=== $n" >>"$log"
	mkdir -p "$out/src/$n" && tar -xzf "$src/$n.tar.gz" -C "$out/src/$n" --strip-components=1 || return 1
	case $n in
	# udebug: its ucode module is left out (no ucode here; procd needs only libudebug)
	udebug-*) sed -i -e '/^INSTALL(TARGETS ucode_lib/,/^)/d' -e '/ucode_lib/d' -e 's/ \${ucode_include_dir}//' "$out/src/$n/CMakeLists.txt" ;;
	# procd: glibc 2.36 has no strlcpy (libbsd has), and newer GCC warnings are not errors
	procd-*) sed -i 's/-Werror//g' "$out/src/$n/CMakeLists.txt" ;;
	# jsonpath builds its lemon parser generator by a path relative to the build directory
	jsonpath-*) b=$out/src/$n ;;
	esac
	cmake -S "$out/src/$n" -B "$b" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib \
		-DCMAKE_INSTALL_RPATH=/usr/lib/openwrt ${cross[@]+"${cross[@]}"} \
		-DCMAKE_PREFIX_PATH="$pfx" -DCMAKE_C_FLAGS="-I$pfx/include${sys:+ -I$sys/usr/include} -Wno-error" \
		-DCMAKE_EXE_LINKER_FLAGS="$libs" \
		-DCMAKE_SHARED_LINKER_FLAGS="$libs" -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF "$@" >>"$log" 2>&1 &&
	make -C "$b" -j2 >>"$log" 2>&1 &&
	make -C "$b" install DESTDIR="$out/root" >>"$log" 2>&1
}
# fw4 and the ucode it runs on, for the host arch only
build_fw4() {
	# ucode: the modules fw4 uses (fs, uci, ubus, ...), looked for where the guest has them;
	# no libnl-tiny here, so no rtnl/nl80211 (fw4 does not use them)
	build ucode-48ed18d2 -DLIB_SEARCH_PATH='/usr/lib/openwrt/ucode/*.so:/usr/share/ucode/*.uc:./*.so:./*.uc' \
		-DNL80211_SUPPORT=OFF -DRTNL_SUPPORT=OFF -DZLIB_SUPPORT=OFF -DDIGEST_SUPPORT=OFF \
		-DDIGEST_SUPPORT_EXTENDED=OFF &&
	# firewall4: ucode sources and shell, nothing to compile (/sbin/fw4, /etc/init.d/firewall,
	# /usr/share/firewall4, /usr/share/ucode/fw4.uc, the default /etc/config/firewall)
	mkdir -p "$out/root/fw4" && tar -xzf "$src/firewall4-b6e51575.tar.gz" -C "$out/root/fw4" \
		--strip-components=2 --wildcards '*/root/*'
}
{
	build libubox-a75209f6 &&
	build uci-5bea1357 &&
	build ubus-2737da38 &&
	build udebug-75f39cd4 &&
	build ubox-6f78fa49 &&
	build jsonpath-f4fe702d &&
	build procd-3b3501ab -DCMAKE_C_FLAGS="-I$pfx/include${sys:+ -I$sys/usr/include} -Wno-error -include bsd/string.h" \
		-DCMAKE_C_STANDARD_LIBRARIES="$bsd" &&
	{ [ "$arch" != amd64 ] || build_fw4; }
} || { echo "openwrt-runtime: build failed, see $log" >&2; tail -n 30 "$log" >&2; exit 1; }
touch "$out/.done"
echo "$out/root"
