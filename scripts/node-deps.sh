#!/bin/sh
# node-deps.sh [--no-build]: the npm dependencies (npm ci, when node_modules was not installed
# from this package-lock.json) and the TypeScript build of nfluactl (build/cli, when a source is
# newer than it). Idempotent; every target that runs node code calls it, so a clone with no
# node_modules and no build/ works with any target.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v npm >/dev/null 2>&1 || { echo "node-deps: ERROR: node and npm (20 or later) are needed" >&2; exit 1; }
# No install scripts: ssh2's native crypto is optional (its pure-JS fallback is what the SEA
# builds use anyway).
sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.nflua-lock-sum 2>/dev/null)" != "$sum" ]; then
	echo "node-deps: npm ci"
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	echo "$sum" >node_modules/.nflua-lock-sum
fi
[ "${1:-}" = --no-build ] && exit 0
stamp=build/cli/bin.js
if [ ! -e "$stamp" ] || [ -n "$(find cli/src tsconfig.json package-lock.json -newer "$stamp" -print -quit)" ]; then
	echo "node-deps: tsc"
	npm run --silent build
fi
