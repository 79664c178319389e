#!/bin/sh
# router-vm.sh KEY SSH_PORT HTTP_PORT KEYDIR [run.sh options]: boot test kernel KEY as a router
# that the host reaches over SSH (test/vm/router/r00-router.sh): nflua.ko, the iptables
# extensions, dropbear and busybox httpd in the guest; QEMU forwards 127.0.0.1:SSH_PORT to the
# guest's :22 and 127.0.0.1:HTTP_PORT to its :80.
# KEYDIR holds authorized_keys (root's, for the guest) and dropbear_ed25519_host_key (made with
# dropbearkey), so the host knows the host key before the VM boots.
# The VM runs until something creates /tmp/router-done in the guest (over SSH); then run.sh
# judges the case and the kernel log as usual. Logs: build/vm/router-KEY/ (or --out DIR).
set -eu
[ $# -ge 4 ] || { echo "usage: $0 KEY SSH_PORT HTTP_PORT KEYDIR [run.sh options]" >&2; exit 2; }
key=$1 ssh=$2 http=$3 keys=$4
shift 4
root=$(cd "$(dirname "$0")/../.." && pwd)
for f in authorized_keys dropbear_ed25519_host_key; do
	[ -s "$keys/$f" ] || { echo "router-vm: $keys/$f is missing" >&2; exit 2; }
done
if ! bin=$(command -v dropbear); then
	echo "router-vm: no dropbear on this host (apt-get install dropbear-bin)" >&2
	exit 2
fi
exec "$root/scripts/test-kernel.sh" "$key" --case-dir "$root/test/vm/router" \
	--out "$root/build/vm/router-$key" --timeout 3000 \
	--hostfwd "tcp:127.0.0.1:$ssh-:22" --hostfwd "tcp:127.0.0.1:$http-:80" \
	--file "$bin:/usr/sbin/dropbear" \
	--file "$keys/dropbear_ed25519_host_key:/etc/dropbear/dropbear_ed25519_host_key" \
	--file "$keys/authorized_keys:/root/.ssh/authorized_keys" "$@"
