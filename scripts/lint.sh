#!/bin/sh
# lint.sh: shellcheck every shell script of the project (the router-side tool as busybox sh).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v shellcheck >/dev/null 2>&1 || "$root/scripts/host-deps.sh" >/dev/null
n=0
for f in $(git ls-files --cached --others --exclude-standard '*.sh' 'openwrt/utils/nfluactl/files/nfluactl' 'test/vm/guest/init' '.ci/run'); do
	[ -f "$f" ] || continue
	shellcheck -x -S warning "$f"
	n=$((n + 1))
done
echo "lint: $n shell scripts clean"
