#!/bin/sh
# The guest side of the host's nfluactl router tests (test/cli/router.test.mjs, booted by
# test/vm/router-vm.sh): the VM becomes an SSH-managed "router". eth0 on QEMU's user network,
# dropbear on :22 (root, key-only: /root/.ssh/authorized_keys, host key in /etc/dropbear) and
# busybox httpd on :80. It prints ROUTER-READY (the host polls result.log for it), then waits
# until the host creates /tmp/router-done over SSH. Whatever the host did must leave the router
# clean: no state, no rule calling Lua. The kernel log is judged by run.sh as for every case.
# timeout: 2700
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh

# no udev here: the NIC's driver is loaded by hand
run modprobe virtio_pci
run modprobe virtio_net
n=0
while [ ! -e /sys/class/net/eth0 ]; do
    n=$((n + 1))
    [ $n -le 50 ] || fail "no eth0 after virtio_net: $(ls /sys/class/net)"
    sleep 0.1
done
run ip link set eth0 up
run ip addr add 10.0.2.15/24 dev eth0
run ip route add default via 10.0.2.2

mkdir -p /www
echo "hello from the router" >/www/index.html
run httpd -p 80 -h /www

[ -x /usr/sbin/dropbear ] || fail "/usr/sbin/dropbear is not in the initramfs"
key=/etc/dropbear/dropbear_ed25519_host_key
[ -s "$key" ] || fail "no host key $key"
[ -s /root/.ssh/authorized_keys ] || fail "no /root/.ssh/authorized_keys"
# dropbear refuses keys in group- or world-writable places
chmod 700 /root /root/.ssh
chmod 600 /root/.ssh/authorized_keys "$key"
/usr/sbin/dropbear -F -E -s -p 22 -r "$key" -P /run/dropbear.pid 2>/tmp/dropbear.log &
n=0
until ss -ltn | grep -q ':22 '; do
    n=$((n + 1))
    [ $n -le 50 ] || { cat /tmp/dropbear.log; fail "dropbear does not listen on :22"; }
    sleep 0.1
done
# A fleet behind this router (when the host asks for one: /etc/nflua-fleet holds N): N routers
# as network namespaces f1..fN on a bridge, 10.98.I/16 seen from here, each with its own
# dropbear (the same host key and authorized_keys), its own nflua states and iptables. The host
# reaches them with this router as the jump host.
fleet=$(cat /etc/nflua-fleet 2>/dev/null || echo 0)
if [ "$fleet" -gt 0 ]; then
    mkdir -p /etc/config /etc/nflua /var/run/nflua /var/lock
    run ip link add fleet0 type bridge
    run ip addr add 10.98.0.1/16 dev fleet0
    run ip link set fleet0 up
    b=/tmp/fleet.batch
    : >"$b"
    i=1
    while [ "$i" -le "$fleet" ]; do
        echo "netns add f$i" >>"$b"
        echo "link add vf$i type veth peer name eth0 netns f$i" >>"$b"
        echo "link set vf$i master fleet0 up" >>"$b"
        i=$((i + 1))
    done
    run ip -batch "$b"
    i=1
    while [ "$i" -le "$fleet" ]; do
        # (a batch line cannot name a netns: one ip per router inside it)
        printf 'addr add 10.98.%s.%s/16 dev eth0\nlink set eth0 up\nlink set lo up\n' \
            $((i / 250)) $((i % 250 + 2)) | ip -n "f$i" -batch - || fail "fleet router f$i: addresses"
        # its own files too (nfluactl apply's config, Lua files, run state and lock): a mount
        # namespace where /tmp/fleet/fI/* are bound over those directories
        d=/tmp/fleet/f$i
        mkdir -p "$d/config" "$d/nflua" "$d/run" "$d/lock"
        /usr/bin/unshare -m --propagation private /bin/sh -c '
            for x in config:/etc/config nflua:/etc/nflua run:/var/run/nflua lock:/var/lock; do
                mount --bind "$1/${x%%:*}" "${x#*:}" || exit 1
            done
            exec /usr/bin/nsenter --net=/run/netns/$2 /usr/sbin/dropbear -F -E -s -p 22 -r "$3" -P "/run/dropbear-$2.pid"' \
            fleet "$d" "f$i" "$key" 2>>/tmp/fleet-dropbear.log &
        i=$((i + 1))
    done
    n=0
    until [ "$(ss -N f"$fleet" -ltn 2>/dev/null | grep -c ':22 ')" -ge 1 ]; do
        n=$((n + 1))
        [ $n -le 100 ] || { cat /tmp/fleet-dropbear.log; fail "fleet router f$fleet: dropbear does not listen"; }
        sleep 0.1
    done
    echo "FLEET-READY $fleet"
fi
echo "ROUTER-READY"

while [ ! -e /tmp/router-done ]; do sleep 0.2; done
echo "the host is done: $(cat /tmp/router-done)"

run nfluactl list
[ -z "$OUT" ] || fail "states left behind: $OUT"
i=1
while [ "$i" -le "$fleet" ]; do
    OUT=$(ip netns exec "f$i" nfluactl list) || fail "fleet router f$i: nfluactl list failed"
    [ -z "$OUT" ] || fail "fleet router f$i: states left behind: $OUT"
    i=$((i + 1))
done
for ipt in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
    run "$ipt" -S
    case $OUT in *" lua "*|*"-j LUA"*) fail "$ipt: rules left behind: $OUT" ;; esac
done
