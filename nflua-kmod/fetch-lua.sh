#!/bin/sh
# Fetch Lua's pristine source tarball and verify it. Lua's source is never committed.
# Usage: fetch-lua.sh OUT.tar.gz
# Tries, in order: $LUA_TARBALL (a file you give), the cache ($NFLUA_CACHE), lua.org, and
# Debian's source package (trixie's lua5.4 .orig.tar.gz is byte-identical), through a private
# apt configuration so the machine's apt sources stay untouched.
set -eu

LUA_VERSION=5.4.7
LUA_SHA256=9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30
out=${1:?usage: fetch-lua.sh OUT.tar.gz}
cache=${NFLUA_CACHE:-/var/cache/nflua}
cached=$cache/lua-$LUA_VERSION.tar.gz

verified() {
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$LUA_SHA256" ]
}

take() {	# $1 - a verified tarball: copy it to the cache and to $out
	mkdir -p "$(dirname "$out")"
	if [ "$1" != "$cached" ] && mkdir -p "$cache" 2>/dev/null; then
		cp "$1" "$cached.tmp" && mv "$cached.tmp" "$cached" || true
	fi
	cp "$1" "$out.tmp" && mv "$out.tmp" "$out"
	echo "lua: $out (sha256 ok, from $2)"
	exit 0
}

if [ -n "${LUA_TARBALL:-}" ]; then
	verified "$LUA_TARBALL" || { echo "lua: $LUA_TARBALL is not lua-$LUA_VERSION.tar.gz (sha256 mismatch)" >&2; exit 1; }
	take "$LUA_TARBALL" "LUA_TARBALL"
fi
verified "$out" && { echo "lua: $out (sha256 ok)"; exit 0; }
verified "$cached" && take "$cached" "cache"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if command -v curl >/dev/null 2>&1; then
	curl -fsSL --connect-timeout 10 --max-time 60 -o "$tmp/lua.tar.gz" \
		"https://www.lua.org/ftp/lua-$LUA_VERSION.tar.gz" 2>/dev/null || true
	verified "$tmp/lua.tar.gz" && take "$tmp/lua.tar.gz" "lua.org"
fi

# Debian's source package, with apt state of our own.
mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial"
echo "deb-src http://deb.debian.org/debian trixie main" > "$tmp/apt/sources.list"
set -- -o Dir::Etc::SourceList="$tmp/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
	-o Dir::State::Lists="$tmp/apt/lists" -o Dir::Cache="$tmp/apt/cache" -o Debug::NoLocking=1
if apt-get "$@" -qq update >"$tmp/apt.log" 2>&1 &&
   (cd "$tmp" && apt-get "$@" -qq source --download-only lua5.4 >>"$tmp/apt.log" 2>&1); then
	verified "$tmp/lua5.4_$LUA_VERSION.orig.tar.gz" && take "$tmp/lua5.4_$LUA_VERSION.orig.tar.gz" "Debian source package lua5.4"
fi
echo "lua: could not fetch lua-$LUA_VERSION.tar.gz with sha256 $LUA_SHA256" >&2
echo "lua: tried \$LUA_TARBALL, $cached, lua.org and Debian's lua5.4 source package" >&2
echo "lua: download it yourself and run again with LUA_TARBALL=/path/to/lua-$LUA_VERSION.tar.gz" >&2
sed 's/^/lua:   /' "$tmp/apt.log" >&2 || true
exit 1
