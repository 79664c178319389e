#!/bin/sh
# lint.sh: run shellcheck on every shell script of the project. The router-side tool is checked
# as POSIX sh: Debian 12's shellcheck knows no busybox dialect.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v shellcheck >/dev/null 2>&1 || "$root/scripts/host-deps.sh" >/dev/null
n=0 bad=0
for f in $(git ls-files --cached --others --exclude-standard '*.sh' 'openwrt/utils/nfluactl/files/nfluactl' 'openwrt/utils/nfluactl/files/nflua.init' 'openwrt/utils/nfluactl/files/nflua.uci-defaults' 'openwrt/utils/nfluactl/files/nflua.fw4' 'test/vm/guest/init' '.ci/run'); do
	[ -f "$f" ] || continue
	n=$((n + 1))
	shellcheck -x -S warning "$f" || bad=$((bad + 1))
done
echo "lint: $n shell scripts, $bad with findings"
[ "$bad" = 0 ]
