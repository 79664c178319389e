#!/bin/sh
# Forwarding rate through FORWARD rules, each configuration against the same baseline in the same
# VM (scripts/bench.sh turns the lines into ratios). trafgen in a client namespace sends TLS
# ClientHello segments (SNI www.example.net, never blocked: every packet is forwarded) at full
# speed through the router to a dummy interface (trafgen's sending also runs the router's
# softirq work); the rate is what the router forwarded per second while trafgen sent its
# NPKT packets. Configurations, in rounds (the median of the rounds is reported):
#   none        no rule (the baseline)
#   string1     one xt_string rule (-m string --algo bm)
#   string10    ten xt_string rules
#   lua-dport   a Lua match that only reads pkt.dport (the cost of a call)
#   lua-find    a Lua match that searches the payload (pkt:payload():find)
#   lua-sni     policies/tls_sni.lua with a 10-name list (parses the ClientHello)
#   lua-sni-cm  the same behind a connmark cache (the Lua rule sees only unmarked packets)
# Output lines: "BENCH <config> <round> <pps> <packets> <seconds>".
# timeout: 600
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/p00-net.sh	# the packet-path cases' helpers (scripts/bench.sh puts it there)

# nflua_bench_packets=N nflua_bench_rounds=N on the kernel command line (scripts/bench.sh)
opt() { tr " " "\n" </proc/cmdline | sed -n "s/^nflua_$1=//p"; }
NPKT=$(opt bench_packets) ROUNDS=$(opt bench_rounds)
NPKT=${NPKT:-60000} ROUNDS=${ROUNDS:-3}
CONFIGS="none string1 string10 lua-dport lua-find lua-sni lua-sni-cm"
command -v trafgen >/dev/null || fail "trafgen is not in the image"

net_init
run ip netns add c1
run ip link add rc1 type veth peer name eth0 netns c1
run ip addr add 10.1.1.1/24 dev rc1
run ip link set rc1 up
run ip -n c1 addr add 10.1.1.2/24 dev eth0
run ip -n c1 link set eth0 up
run ip -n c1 link set lo up
run ip link add sink type dummy
run ip link set sink up
run ip route add 10.99.0.0/16 dev sink

# A ClientHello: record(handshake) > ClientHello(TLS 1.2, 32-byte random, no session id,
# 2 suites, null compression) > extensions: server_name(www.example.net), supported_versions.
hex() { printf '%0*x' $(($2 * 2)) "$1"; }
name=www.example.net
sni_ext=$(hex 0 2)$(hex $((${#name} + 5)) 2)$(hex $((${#name} + 3)) 2)00$(hex ${#name} 2)$(printf %s "$name" | od -An -tx1 | tr -d ' \n')
sv_ext=002b0003020304
exts=$sni_ext$sv_ext
body=0303$(printf '%064d' 0)00$(hex 4 2)13011302$(hex 1 1)00$(hex $((${#exts} / 2)) 2)$exts
hs=01$(hex $((${#body} / 2)) 3)$body
rec=160301$(hex $((${#hs} / 2)) 2)$hs
payload=$(printf %s "$rec" | sed 's/../0x&, /g; s/, $//')
rmac=$(cat /sys/class/net/rc1/address)
cmac=$(ip netns exec c1 cat /sys/class/net/eth0/address)
cat >/tmp/hello.cfg <<EOF
{
  eth(da=$rmac, sa=$cmac),
  ipv4(sa=10.1.1.2, da=10.99.0.1, ttl=64, df),
  tcp(sp=40000, dp=443, seq=1, aseq=1, ack, psh, win=512),
  $payload
}
EOF
echo "packet: $((54 + ${#rec} / 2)) bytes on the wire, TLS record ${#rec} hex digits"

# The Lua state: the three functions the rules call.
run nfluactl create bench --budget 100000
run nfluactl execute bench /policies/tls_sni.lua
run nfluactl execute bench -e 'tls_sni.configure{ "blocked.example", "*.ads.example", "tracker.example",
    "a.example", "b.example", "c.example", "d.example", "e.example", "f.example", "g.example" }
function by_port(pkt) return pkt.dport == 1 end
function by_find(pkt) return pkt:payload():find("blocked.example", 1, true) ~= nil end'

rules() {
    iptables-legacy -F FORWARD
    iptables-legacy -t mangle -F FORWARD
    case $1 in
        none) ;;
        string1) iptables-legacy -A FORWARD -p tcp --dport 443 -m string --algo bm --string blocked.example -j DROP ;;
        string10)
            for n in 0 1 2 3 4 5 6 7 8 9; do
                iptables-legacy -A FORWARD -p tcp --dport 443 -m string --algo bm --string "blocked$n.example" -j DROP
            done ;;
        lua-dport) iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state bench --function by_port -j DROP ;;
        lua-find) iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state bench --function by_find -j DROP ;;
        lua-sni) iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state bench --function tls_sni_match --tcp-payload -j DROP ;;
        lua-sni-cm)
            # the first packet of the flow is classified (mark 2 = allowed), the rest skip Lua
            iptables-legacy -A FORWARD -p tcp --dport 443 -m connmark --mark 2 -j ACCEPT
            iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state bench --function classify --tcp-payload -j DROP ;;
    esac || fail "rules for $1"
}
run nfluactl execute bench -e 'function classify(pkt)
    local bad = tls_sni_match(pkt)
    pkt:connmark(bad and 1 or 2)
    return bad
end'

sent() { awk '{ print $1 }' /sys/class/net/sink/statistics/tx_packets; }
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for c in $CONFIGS; do
        rules "$c"
        a=$(sent) t0=$(cut -d' ' -f1 /proc/uptime)
        ip netns exec c1 trafgen -o eth0 -i /tmp/hello.cfg --cpus 1 -n "$NPKT" -q -C --no-sock-mem >/tmp/trafgen.log 2>&1 ||
            # its TX ring's last flush can fail with EAGAIN: what counts is what was forwarded
            echo "  ($c: trafgen: $(grep -v -e '^$' -e Running /tmp/trafgen.log | tail -n 1))"
        b=$(sent) t1=$(cut -d' ' -f1 /proc/uptime)
        awk -v c="$c" -v r="$r" -v n=$((b - a)) -v a="$t0" -v b="$t1" \
            'BEGIN { printf "BENCH %s %d %d %d %.2f\n", c, r, n / (b - a), n, b - a }'
        [ $((b - a)) -gt 0 ] || fail "$c: nothing was forwarded"
    done
    r=$((r + 1))
done
rules none
stats bench
echo "state: calls=$ST_calls matches=$ST_matches errors=$ST_errors budget_hits=$ST_budget_hits"
assert_eq "$ST_matches$ST_errors$ST_budget_hits" 000 "no packet matched, failed or ran out of budget"
