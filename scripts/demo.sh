#!/bin/sh
# demo.sh: boot the QEMU router (Debian 6.1 kernel, busybox, nflua.ko) and run test/vm/demo/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
key=${NFLUA_DEMO_KERNEL:-6.1}
status=0
"$root/scripts/test-kernel.sh" "$key" --case-dir "$root/test/vm/demo" --out "$root/build/vm/demo" \
	--file "$root/test/vm/cases/p00-net.sh:/test/net.sh" || status=$?
echo
echo "=== what the router printed"
sed -n 's/^  | //p' "$root/build/vm/demo/result.log"
exit $status
